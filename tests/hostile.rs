//! Robustness of `adscreen scan` against hostile and broken input, end to end through the
//! binary. Every case must finish without a panic (exit status 0), give exactly one output
//! record per input record — a verdict, or an error record naming the line and, where known,
//! the id — and print a summary that reconciles with the output (see `util::check_scan`).
//! Run-level failures (unreadable input, bad model) must exit non-zero with a clear message.

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

/// Writes `bytes` as `name` in a fresh temporary directory and scans it with `extra` flags.
fn scan_bytes(name: &str, bytes: &[u8], extra: &[&str]) -> (Run, Vec<Value>, Summary) {
    let dir = tempdir();
    let path = write_file(dir.path(), name, bytes);
    scan_path(&path, extra)
}

fn scan_path(path: &Path, extra: &[&str]) -> (Run, Vec<Value>, Summary) {
    let mut args: Vec<&std::ffi::OsStr> = vec!["scan".as_ref(), path.as_os_str()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let r = run(&args, b"");
    let (recs, s) = check_scan(&r);
    (r, recs, s)
}

/// What one output record must be.
#[derive(Debug, Clone)]
enum Want {
    /// A verdict for this id.
    Verdict(&'static str),
    /// An error record for this line; with `Some(id)` it must name that id.
    Error(u64, Option<&'static str>),
    /// Either a verdict for the id or an error record for the line naming the id (a judgement
    /// call of the reader, e.g. a number accepted as text).
    Either(&'static str, u64),
    /// A verdict for the id, or an error record for the line (id optional).
    VerdictOrError(&'static str, u64),
}

fn expect(recs: &[Value], want: &[Want], r: &Run) {
    assert_eq!(
        recs.len(),
        want.len(),
        "expected one output record per input record\n{}",
        r.describe()
    );
    for (i, (v, w)) in recs.iter().zip(want).enumerate() {
        let n = i + 1;
        let verdict_for = |id: &str| !is_error(v) && v["id"] == id;
        let error_at = |line: u64| is_error(v) && v["line"] == line;
        let ok = match w {
            Want::Verdict(id) => verdict_for(id),
            Want::Error(line, None) => error_at(*line),
            Want::Error(line, Some(id)) => error_at(*line) && v["id"] == *id,
            Want::Either(id, line) => verdict_for(id) || (error_at(*line) && v["id"] == *id),
            Want::VerdictOrError(id, line) => verdict_for(id) || error_at(*line),
        };
        assert!(
            ok,
            "output record {n}: expected {w:?}, got {v}\n{}",
            r.describe()
        );
    }
}

fn rec(id: &str, text: &str) -> String {
    jsonl_record(id, text) + "\n"
}

#[test]
fn malformed_json_lines_mixed_with_good_ones() {
    let input = [
        rec("g1", "Hiring waitresses, good pay"),
        "{bad json\n".into(),
        "{\"id\":\"t\",\"text\":\"unterminated\n".into(),
        rec("g2", "Room for rent"),
        "{\"id\":\"c\",\"text\":\"x\",}\n".into(),
        "{\"id\":\"d\" \"text\":\"x\"}\n".into(),
        "}{\n".into(),
        "{\"id\":\"g3\",\"text\":\"fine\"} trailing\n".into(),
        rec("g4", "Last one"),
    ]
    .concat();
    let (r, recs, s) = scan_bytes("mixed.jsonl", input.as_bytes(), &[]);
    use Want::*;
    expect(
        &recs,
        &[
            Verdict("g1"),
            Error(2, None),
            Error(3, None),
            Verdict("g2"),
            Error(5, None),
            Error(6, None),
            Error(7, None),
            Error(8, None),
            Verdict("g4"),
        ],
        &r,
    );
    assert_eq!(s.errors, 6);
    for v in recs.iter().filter(|v| is_error(v)) {
        let e = v["error"].as_str().unwrap();
        assert!(
            e.to_lowercase().contains("json"),
            "message should say the JSON is bad: {e}"
        );
    }
}

#[test]
fn json_values_that_are_not_objects() {
    let input = "[1,2]\n\"str\"\n42\nnull\ntrue\n{\"id\":\"ok\",\"text\":\"fine\"}\n[]\n";
    let (r, recs, _) = scan_bytes("values.jsonl", input.as_bytes(), &[]);
    use Want::*;
    expect(
        &recs,
        &[
            Error(1, None),
            Error(2, None),
            Error(3, None),
            Error(4, None),
            Error(5, None),
            Verdict("ok"),
            Error(7, None),
        ],
        &r,
    );
    for (i, kind) in [(0, "array"), (1, "string"), (2, "number"), (3, "null")] {
        let e = recs[i]["error"].as_str().unwrap();
        assert!(
            e.contains("object"),
            "message should say an object was expected: {e}"
        );
        assert!(
            e.contains(kind),
            "message should say what was found ({kind}): {e}"
        );
    }
}

#[test]
fn missing_text_field() {
    let input = "{\"id\":\"m1\"}\n{\"id\":\"m2\",\"body\":\"text elsewhere\"}\n{}\n{\"id\":\"m3\",\"text\":null}\n";
    let (r, recs, s) = scan_bytes("missing.jsonl", input.as_bytes(), &[]);
    use Want::*;
    expect(
        &recs,
        &[
            Error(1, Some("m1")),
            Error(2, Some("m2")),
            Error(3, None),
            Error(4, Some("m3")),
        ],
        &r,
    );
    assert_eq!(s.errors, 4);
    assert!(
        recs[0]["error"].as_str().unwrap().contains("text"),
        "{}",
        recs[0]
    );
}

#[test]
fn non_string_text() {
    let input = concat!(
        "{\"id\":\"n1\",\"text\":5}\n",
        "{\"id\":\"n2\",\"text\":{\"a\":1}}\n",
        "{\"id\":\"n3\",\"text\":[\"a\",\"b\"]}\n",
        "{\"id\":\"n4\",\"text\":true}\n",
        "{\"id\":{\"x\":1},\"text\":\"odd id\"}\n",
    );
    let (r, recs, _) = scan_bytes("nonstring.jsonl", input.as_bytes(), &[]);
    use Want::*;
    expect(
        &recs,
        &[
            Either("n1", 1),
            Error(2, Some("n2")),
            Error(3, Some("n3")),
            Either("n4", 4),
            // An id that is not a scalar falls back to the record's position.
            VerdictOrError("5", 5),
        ],
        &r,
    );
    let e = recs[1]["error"].as_str().unwrap();
    assert!(e.contains("text"), "message should name the field: {e}");
}

#[test]
fn invalid_utf8_bytes_in_a_line() {
    let mut input = Vec::new();
    input.extend_from_slice(rec("a", "before").as_bytes());
    input.extend_from_slice(b"{\"id\":\"u1\",\"text\":\"caf\xe9 \xff\xfe\"}\n");
    input.extend_from_slice(b"\xc3\x28\xa0\xa1\n");
    input.extend_from_slice(
        b"{\"id\":\"u3\",\"text\":\"overlong \xc0\xaf and surrogate \xed\xa0\x80\"}\n",
    );
    input.extend_from_slice(rec("b", "after").as_bytes());
    let (r, recs, _) = scan_bytes("utf8.jsonl", &input, &[]);
    use Want::*;
    expect(
        &recs,
        &[
            Verdict("a"),
            VerdictOrError("u1", 2),
            Error(3, None),
            VerdictOrError("u3", 4),
            Verdict("b"),
        ],
        &r,
    );
    // The same in CSV.
    let mut csv = b"id,text\nc1,ok\nc2,caf\xe9\n".to_vec();
    csv.extend_from_slice(b"c3,fine\n");
    let (r, recs, _) = scan_bytes("utf8.csv", &csv, &[]);
    expect(
        &recs,
        &[Verdict("c1"), VerdictOrError("c2", 3), Verdict("c3")],
        &r,
    );
}

#[test]
fn nul_bytes_inside_text() {
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"id\":\"esc\",\"text\":\"nul\\u0000inside and more \\u0000\"}\n");
    // A raw NUL is a control character JSON does not allow in strings.
    input.extend_from_slice(b"{\"id\":\"raw\",\"text\":\"nul\x00raw\"}\n");
    input.extend_from_slice(b"\x00\x00\x00\n");
    input.extend_from_slice(rec("after", "fine").as_bytes());
    let (r, recs, _) = scan_bytes("nul.jsonl", &input, &[]);
    use Want::*;
    expect(
        &recs,
        &[
            Verdict("esc"),
            VerdictOrError("raw", 2),
            Error(3, None),
            Verdict("after"),
        ],
        &r,
    );
    let (r, recs, _) = scan_bytes("nul.csv", b"id,text\nn1,a\x00b\x00\nn2,ok\n", &[]);
    expect(&recs, &[VerdictOrError("n1", 2), Verdict("n2")], &r);
}

#[test]
fn utf8_bom_at_file_start() {
    let mut input = b"\xEF\xBB\xBF".to_vec();
    input.extend_from_slice(rec("bom", "first record after a BOM").as_bytes());
    input.extend_from_slice(rec("second", "x").as_bytes());
    let (r, recs, s) = scan_bytes("bom.jsonl", &input, &[]);
    use Want::*;
    expect(&recs, &[Verdict("bom"), Verdict("second")], &r);
    assert_eq!(s.errors, 0);
    // A BOM followed by a blank line, then a record.
    let mut input = b"\xEF\xBB\xBF\n".to_vec();
    input.extend_from_slice(rec("after-blank", "x").as_bytes());
    let (r, recs, _) = scan_bytes("bom2.jsonl", &input, &[]);
    expect(&recs, &[Verdict("after-blank")], &r);
    // CSV: the BOM must not become part of the first column's name.
    let (r, recs, _) = scan_bytes("bom.csv", b"\xEF\xBB\xBFid,text\nb1,hello\n", &[]);
    expect(&recs, &[Verdict("b1")], &r);
    // From standard input.
    let mut input = b"\xEF\xBB\xBF".to_vec();
    input.extend_from_slice(rec("stdin-bom", "x").as_bytes());
    let r = run(["scan", "-"], &input);
    let (recs, _) = check_scan(&r);
    expect(&recs, &[Verdict("stdin-bom")], &r);
}

#[test]
fn crlf_line_ends() {
    let input = [
        rec("c1", "line one").replace('\n', "\r\n"),
        "\r\n".into(),
        "{broken\r\n".into(),
        rec("c2", "text with\r\ninner CRLF").replace("}\n", "}\r\n"),
        jsonl_record("c3", "no line end at EOF"),
    ]
    .concat();
    let (r, recs, _) = scan_bytes("crlf.jsonl", input.as_bytes(), &[]);
    use Want::*;
    expect(
        &recs,
        &[Verdict("c1"), Error(3, None), Verdict("c2"), Verdict("c3")],
        &r,
    );
}

#[test]
fn empty_inputs_give_no_records() {
    for (name, bytes) in [
        ("empty.jsonl", &b""[..]),
        ("empty.csv", b""),
        ("header-only.csv", b"id,text\n"),
        ("blank.jsonl", b"\n\n\r\n  \n"),
    ] {
        let (r, recs, s) = scan_bytes(name, bytes, &[]);
        assert!(
            recs.is_empty(),
            "{name}: records from an empty input\n{}",
            r.describe()
        );
        assert_eq!(s, Summary::default(), "{name}");
    }
    let r = run(["scan", "-"], b"");
    let (recs, _) = check_scan(&r);
    assert!(recs.is_empty());
}

#[test]
fn empty_text() {
    let input = [rec("e1", ""), rec("e2", "   "), rec("e3", "\n\t")].concat();
    let (r, recs, _) = scan_bytes("emptytext.jsonl", input.as_bytes(), &[]);
    use Want::*;
    expect(
        &recs,
        &[Either("e1", 1), Either("e2", 2), Either("e3", 3)],
        &r,
    );
    for v in recs.iter().filter(|v| !is_error(v)) {
        assert_eq!(
            v["indicators"],
            serde_json::json!([]),
            "indicators in an empty ad: {v}"
        );
    }
    let (r, recs, _) = scan_bytes("emptytext.csv", b"id,text\ne4,\ne5,\"\"\n", &[]);
    expect(&recs, &[Either("e4", 2), Either("e5", 3)], &r);
}

/// A text of at least `bytes` bytes made of the sample ads, so indicators fire throughout, and
/// its JSON Lines record `{"id":ID,"text":..}` (built without serialising the whole text).
fn long_text_record(id: &str, bytes: usize) -> (String, String) {
    let ads = read_jsonl_ads(&sample_jsonl());
    let pieces: Vec<(String, String)> = ads
        .iter()
        .map(|(_, t)| {
            let t = format!("{t} 😀 ");
            let quoted = serde_json::to_string(&t).unwrap();
            (t, quoted[1..quoted.len() - 1].to_string())
        })
        .collect();
    let mut text = String::with_capacity(bytes + 4096);
    let mut line = format!("{{\"id\":\"{id}\",\"text\":\"");
    for (t, escaped) in pieces.iter().cycle() {
        if text.len() >= bytes {
            break;
        }
        text.push_str(t);
        line.push_str(escaped);
    }
    line.push_str("\"}\n");
    (text, line)
}

/// Full size (50 MB, default --max-ad-bytes of 1 MiB): fine in debug mode, the binary screens
/// only the 1 MiB prefix and parsing 50 MB of JSON takes about a second.
#[test]
fn ad_of_50_mb_is_screened_on_a_prefix_and_marked_truncated() {
    let (text, line) = long_text_record("huge", 50_000_000);
    let input = [line, rec("after", "Short ad after the huge one")].concat();
    let (r, recs, s) = scan_bytes("huge.jsonl", input.as_bytes(), &[]);
    use Want::*;
    expect(&recs, &[Verdict("huge"), Verdict("after")], &r);
    assert_eq!(
        recs[0]["truncated"], true,
        "a 50 MB ad must be marked truncated"
    );
    assert_ne!(recs[1]["truncated"], true);
    assert_eq!(s.truncated, 1);
    let max = 1usize << 20;
    let mut n = 0;
    for i in recs[0]["indicators"].as_array().unwrap() {
        for e in i["evidence"].as_array().unwrap() {
            let (a, b) = (
                e["start"].as_u64().unwrap() as usize,
                e["end"].as_u64().unwrap() as usize,
            );
            assert!(b <= max, "evidence {e} beyond the 1 MiB screened prefix");
            assert_eq!(text.get(a..b), e["text"].as_str(), "evidence span {e}");
            n += 1;
        }
    }
    assert!(n > 0, "the prefix holds sample ads with indicators");
}

#[test]
fn long_ad_truncated_on_a_char_boundary() {
    // 3-byte and 4-byte characters; with the shifts, a bound of 1005 bytes falls on a boundary,
    // inside a 4-byte and inside a 3-byte character; a bound of 1 inside the first character.
    let body = "€😀".repeat(2_000);
    let texts = [
        body.clone(),
        format!("x{body}"),
        format!("xx{body}"),
        format!("xxx{body}"),
    ];
    let input: String = texts
        .iter()
        .enumerate()
        .map(|(i, t)| rec(&format!("c{i}"), t))
        .collect();
    for max in ["1005", "1"] {
        let (r, recs, s) = scan_bytes("chars.jsonl", input.as_bytes(), &["--max-ad-bytes", max]);
        use Want::*;
        expect(
            &recs,
            &[Verdict("c0"), Verdict("c1"), Verdict("c2"), Verdict("c3")],
            &r,
        );
        assert_eq!(s.truncated, 4, "--max-ad-bytes {max}");
    }
}

/// Writes `prefix` followed by `len` bytes of `b'a'` (no newline) to `path`, streaming.
fn write_long_line(path: &Path, prefix: &[u8], len: usize, suffix: &[u8]) {
    let mut w = BufWriter::new(std::fs::File::create(path).unwrap());
    w.write_all(prefix).unwrap();
    let block = vec![b'a'; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(block.len());
        w.write_all(&block[..n]).unwrap();
        left -= n;
    }
    w.write_all(suffix).unwrap();
    w.flush().unwrap();
}

/// Full size (100 MB): reading and discarding it takes well under a second in debug mode.
#[test]
fn line_of_100_mb_without_newline_with_max_record_bytes_10_mb() {
    let dir = tempdir();
    let path = dir.path().join("long.jsonl");
    write_long_line(&path, b"{\"id\":\"long\",\"text\":\"", 100_000_000, b"");
    let (r, recs, s) = scan_path(&path, &["--max-record-bytes", "10000000"]);
    expect(&recs, &[Want::Error(1, None)], &r);
    let e = recs[0]["error"].as_str().unwrap();
    assert!(
        e.contains("longer than") || e.contains("too long"),
        "message should say too long: {e}"
    );
    assert!(e.contains("10000000"), "message should give the limit: {e}");
    assert_eq!((s.read, s.errors), (1, 1));
}

/// With default settings (--max-record-bytes 64 MiB, src/io/read.rs) a 100 MB line is longer
/// than the limit: documented to become one error record, the rest of the line skipped.
#[test]
fn line_of_100_mb_without_newline_with_default_limit() {
    let dir = tempdir();
    let path = dir.path().join("long.jsonl");
    write_long_line(&path, b"{\"id\":\"long\",\"text\":\"", 100_000_000, b"");
    let (r, recs, _) = scan_path(&path, &[]);
    expect(&recs, &[Want::Error(1, None)], &r);
    let e = recs[0]["error"].as_str().unwrap();
    assert!(e.contains("longer than") || e.contains("too long"), "{e}");
}

#[test]
fn too_long_lines_are_skipped_to_the_next_line() {
    let dir = tempdir();
    let path = dir.path().join("mixed.jsonl");
    let mut w = BufWriter::new(std::fs::File::create(&path).unwrap());
    w.write_all(rec("a", "before").as_bytes()).unwrap();
    w.write_all(b"{\"id\":\"long1\",\"text\":\"").unwrap();
    w.write_all(&vec![b'x'; 300_000]).unwrap();
    w.write_all(b"\"}\n").unwrap();
    w.write_all(rec("b", "between").as_bytes()).unwrap();
    w.write_all(&vec![b'{'; 300_000]).unwrap(); // unterminated at EOF
    drop(w);
    let (r, recs, _) = scan_path(&path, &["--max-record-bytes", "100000"]);
    use Want::*;
    expect(
        &recs,
        &[Verdict("a"), Error(2, None), Verdict("b"), Error(4, None)],
        &r,
    );
}

#[test]
fn csv_ragged_rows() {
    let input =
        b"id,text\nr1,hello\nr2,a,b,c\nr3\nr4,\"quoted, with comma\"\nr5,x,\nr6,\"multi\nline\",\n";
    let (r, recs, s) = scan_bytes("ragged.csv", input, &[]);
    use Want::*;
    expect(
        &recs,
        &[
            Verdict("r1"),
            Error(3, Some("r2")),
            Error(4, Some("r3")),
            Verdict("r4"),
            Error(6, Some("r5")),
            Error(7, Some("r6")),
        ],
        &r,
    );
    assert_eq!(s.errors, 4);
    let e = recs[1]["error"].as_str().unwrap();
    assert!(
        e.contains('4') && e.contains('2'),
        "message should give the field counts: {e}"
    );
}

/// The CSV reader skips blank lines; the line numbers of the records after them must still be
/// the lines they are on.
#[test]
fn csv_blank_lines_do_not_shift_line_numbers() {
    let input = b"id,text\nr1,hello\n\nr2,a,b,c\n\n\nr3,ok\nr4\n";
    let (r, recs, _) = scan_bytes("blank.csv", input, &[]);
    use Want::*;
    expect(
        &recs,
        &[
            Verdict("r1"),
            Error(4, Some("r2")),
            Verdict("r3"),
            Error(8, Some("r4")),
        ],
        &r,
    );
}

/// Same as `csv_ragged_rows` with CRLF record ends (as in RFC 4180 and the sample CSV): the error
/// records must still name the line each row is on.
#[test]
fn csv_ragged_rows_with_crlf_name_the_right_line() {
    let input = b"id,text\r\nr1,hello\r\nr2,a,b,c\r\nr3\r\nr4,\"multi\r\nline\"\r\nr5,x,\r\n";
    let (r, recs, _) = scan_bytes("ragged-crlf.csv", input, &[]);
    use Want::*;
    expect(
        &recs,
        &[
            Verdict("r1"),
            Error(3, Some("r2")),
            Error(4, Some("r3")),
            Verdict("r4"),
            Error(7, Some("r5")),
        ],
        &r,
    );
}

/// An opening quote that never closes swallows the rest of the file into one field. The rows
/// after it must not vanish silently: either each gets its own output record, or the broken row
/// is reported as an error record.
#[test]
fn csv_unbalanced_quote() {
    let input = b"id,text\nq1,hello\nq2,\"unbalanced quote here\nq3,more\nq4,end\n";
    let (r, recs, _) = scan_bytes("quote.csv", input, &[]);
    assert_eq!(recs[0]["id"], "q1", "{}", r.describe());
    let all_rows = ["q1", "q2", "q3", "q4"]
        .iter()
        .all(|id| recs.iter().any(|v| v["id"] == *id));
    let reported = recs.iter().any(|v| is_error(v) && v["line"] == 3);
    assert!(
        all_rows || reported,
        "rows q3 and q4 were silently merged into q2's text: no error record for the unterminated \
         quote on line 3\n{}",
        r.describe()
    );
    // Stray quotes inside unquoted fields: lenient, one record per row.
    let input = b"id,text\ns1,bad \"quote\" inside\ns2,x\"y\ns3,ok\n";
    let (r, recs, _) = scan_bytes("stray.csv", input, &[]);
    assert_eq!(ids(&recs).len(), 3, "{}", r.describe());
    assert_eq!(recs[2]["id"], "s3", "{}", r.describe());
}

/// `--max-record-bytes` bounds every input record (src/io/mod.rs: "memory is bounded by
/// `max_record_bytes` per record"; the flag's help: "longer ones become error records"), CSV
/// rows included.
#[test]
fn csv_row_longer_than_max_record_bytes_is_an_error() {
    let mut input = b"id,text\nc1,ok\nc2,\"".to_vec();
    input.extend_from_slice(&vec![b'y'; 300_000]);
    input.extend_from_slice(b"\"\nc3,fine\n");
    let (r, recs, _) = scan_bytes("long.csv", &input, &["--max-record-bytes", "100000"]);
    use Want::*;
    expect(&recs, &[Verdict("c1"), Error(3, None), Verdict("c3")], &r);
    let e = recs[1]["error"].as_str().unwrap();
    assert!(e.contains("longer than") || e.contains("too long"), "{e}");
}

/// Pathological inputs must be screened in reasonable time (no quadratic blow-up) and give one
/// verdict each whose spans hold.
fn pathological(cases: &[(&'static str, String)]) {
    let mut input = String::new();
    for (id, t) in cases {
        input.push_str(&rec(id, t));
    }
    let start = Instant::now();
    let (r, recs, _) = scan_bytes("patho.jsonl", input.as_bytes(), &[]);
    let elapsed = start.elapsed();
    let want: Vec<Want> = cases.iter().map(|(id, _)| Want::Verdict(id)).collect();
    expect(&recs, &want, &r);
    assert!(
        elapsed < Duration::from_secs(30),
        "pathological input took {elapsed:?}"
    );
    for ((id, text), v) in cases.iter().zip(&recs) {
        let mut spans: Vec<&Value> = v["entities"].as_array().unwrap().iter().collect();
        for i in v["indicators"].as_array().unwrap() {
            spans.extend(i["evidence"].as_array().unwrap());
        }
        for e in spans {
            let (a, b) = (
                e["start"].as_u64().unwrap() as usize,
                e["end"].as_u64().unwrap() as usize,
            );
            assert_eq!(text.get(a..b), e["text"].as_str(), "{id}: span {e}");
        }
    }
}

#[test]
fn ten_thousand_emoji_in_one_ad() {
    pathological(&[
        ("emoji", "😀".repeat(10_000)),
        (
            "emoji-text",
            format!(
                "{} call 555 0123 {}",
                "💋🔥".repeat(5_000),
                "👩‍❤️‍👨".repeat(1_000)
            ),
        ),
        ("keycaps", "1️⃣2️⃣3️⃣".repeat(3_000)),
    ]);
}

#[test]
fn two_hundred_thousand_digits_with_separators() {
    let digits = |sep: &str| {
        (0..200_000)
            .map(|i| char::from(b'0' + (i % 10) as u8).to_string())
            .collect::<Vec<_>>()
            .join(sep)
    };
    pathological(&[
        ("dash", digits("-")),
        ("space", digits(" ")),
        ("dot", digits(".")),
        ("paren", digits(")(")),
        ("plain", digits("")),
    ]);
}

#[test]
fn hundred_thousand_at_signs_and_entities() {
    pathological(&[
        ("at", "@".repeat(100_000)),
        ("at-words", "a@b ".repeat(25_000)),
        ("amp", "&amp;".repeat(100_000)),
        ("amp-nested", format!("&{}", "amp;".repeat(100_000))),
        ("numeric", format!("&#{}", "1".repeat(100_000))),
        ("lt", "<".repeat(100_000)),
        ("tags", "<b".repeat(50_000)),
        ("zw", "a\u{200b}".repeat(50_000)),
        ("combining", format!("e{}", "\u{301}".repeat(100_000))),
    ]);
}

#[test]
fn deeply_nested_json() {
    let depth = 100_000;
    let array = format!("{}{}\n", "[".repeat(depth), "]".repeat(depth));
    let object = format!(
        "{{\"id\":\"deep\",\"text\":\"x\",\"a\":{}1{}}}\n",
        "{\"a\":".repeat(depth),
        "}".repeat(depth)
    );
    let unclosed = format!("{}\n", "[".repeat(depth));
    let input = [array, object, unclosed, rec("after", "fine")].concat();
    let (r, recs, _) = scan_bytes("deep.jsonl", input.as_bytes(), &[]);
    use Want::*;
    expect(
        &recs,
        &[
            Error(1, None),
            VerdictOrError("deep", 2),
            Error(3, None),
            Verdict("after"),
        ],
        &r,
    );
}

#[test]
fn blank_lines_are_not_records() {
    let input = [
        "\n\n",
        &rec("b1", "x"),
        "\n\n\n",
        "{oops\n",
        "\n",
        &rec("b2", "y"),
        "\n",
    ]
    .concat();
    let (r, recs, s) = scan_bytes("blank.jsonl", input.as_bytes(), &[]);
    use Want::*;
    // Line numbers still count the blank lines.
    expect(&recs, &[Verdict("b1"), Error(7, None), Verdict("b2")], &r);
    assert_eq!(s.read, 3);
}

#[test]
fn lines_with_only_whitespace_are_not_records() {
    let input = [
        "   \n",
        "\t\t\n",
        &rec("w1", "x"),
        " \r\n",
        "\x0c\n",
        "{oops\n",
    ]
    .concat();
    let (r, recs, _) = scan_bytes("ws.jsonl", input.as_bytes(), &[]);
    use Want::*;
    expect(&recs, &[Verdict("w1"), Error(6, None)], &r);
}

/// Tens of thousands of bad records across several chunks: every one accounted for, in order.
#[test]
fn many_bad_records_across_chunks() {
    let kinds: [&[u8]; 7] = [
        b"{bad",
        b"[1]",
        b"{\"id\":\"k\",\"text\":\"ok\"}",
        b"",
        b"   ",
        b"{\"id\":\"m\"}",
        b"\xff\xfe",
    ];
    let mut input = Vec::new();
    let mut want = Vec::new();
    for line in 1..=21_000u64 {
        let k = (line as usize) % kinds.len();
        input.extend_from_slice(kinds[k]);
        input.push(b'\n');
        match k {
            2 => want.push(Want::Verdict("k")),
            3 | 4 => {}
            5 => want.push(Want::Error(line, Some("m"))),
            _ => want.push(Want::Error(line, None)),
        }
    }
    for threads in ["1", "2"] {
        let (r, recs, s) = scan_bytes("many.jsonl", &input, &["--threads", threads]);
        expect(&recs, &want, &r);
        assert_eq!(s.read, want.len() as u64);
    }
}

#[test]
fn standard_input_with_hostile_records() {
    let input = b"{bad\n\xff\n{\"id\":\"s\",\"text\":\"ok\"}\n[1]\n";
    let r = run(["scan", "-"], input);
    let (recs, _) = check_scan(&r);
    use Want::*;
    expect(
        &recs,
        &[Error(1, None), Error(2, None), Verdict("s"), Error(4, None)],
        &r,
    );
    assert!(recs
        .iter()
        .filter(|v| is_error(v))
        .all(|v| v["input"] == "-"));
}

/// A run that cannot proceed: non-zero exit, one clear `adscreen: error:` message, no panic.
fn assert_run_error(r: &Run, must_mention: &[&str]) {
    assert_no_panic(r);
    assert!(!r.status.success(), "expected failure\n{}", r.describe());
    assert_eq!(
        r.status.code(),
        Some(1),
        "run errors exit with 1 (main.rs)\n{}",
        r.describe()
    );
    assert!(
        r.stderr.contains("adscreen: error:"),
        "no error message\n{}",
        r.describe()
    );
    for m in must_mention {
        assert!(
            r.stderr.contains(m),
            "error message should mention {m:?}\n{}",
            r.describe()
        );
    }
}

#[test]
fn unreadable_input_path() {
    let r = run(["scan", "/nonexistent/ads.jsonl"], b"");
    assert_run_error(&r, &["/nonexistent/ads.jsonl"]);
    assert!(r.stdout.is_empty());
    let dir = tempdir();
    let d = dir.path().to_str().unwrap();
    let r = run(["scan", d], b"");
    assert_run_error(&r, &[d]);
    let r = run(["scan", "--input-format", "csv", d], b"");
    assert_run_error(&r, &[d]);
}

fn model_copy(dir: &Path) -> (PathBuf, String) {
    let text = std::fs::read_to_string(repo_path("models/default/model.json")).unwrap();
    let p = dir.join("model.json");
    std::fs::write(&p, &text).unwrap();
    (p, text)
}

/// Scans one short ad from stdin with `--model MODEL`.
fn scan_with_model(model: &Path) -> Run {
    run(
        [
            "scan".as_ref(),
            "--model".as_ref(),
            model.as_os_str(),
            "-".as_ref(),
        ],
        b"{\"id\":\"m\",\"text\":\"Hiring dancers, travel paid\"}\n",
    )
}

#[test]
fn bad_model_path() {
    let r = scan_with_model(Path::new("/nonexistent"));
    assert_run_error(&r, &["/nonexistent"]);
    assert!(r.stdout.is_empty(), "no verdicts without a model");
    // A directory without model.json, and a JSON file that is not a model.
    let dir = tempdir();
    let r = scan_with_model(dir.path());
    assert_run_error(&r, &[dir.path().to_str().unwrap()]);
    let p = write_file(dir.path(), "other.json", b"{\"hello\":1}");
    let r = scan_with_model(&p);
    assert_run_error(&r, &["other.json"]);
    assert!(r.stdout.is_empty());
}

#[test]
fn untouched_model_copy_loads() {
    let dir = tempdir();
    let (p, _) = model_copy(dir.path());
    let r = scan_with_model(&p);
    let (recs, _) = check_scan(&r);
    assert_eq!(recs.len(), 1);
    let r = scan_with_model(dir.path());
    check_scan(&r);
}

#[test]
fn truncated_model_file() {
    let dir = tempdir();
    let (p, text) = model_copy(dir.path());
    std::fs::write(&p, &text.as_bytes()[..text.len() / 2]).unwrap();
    let r = scan_with_model(&p);
    assert_run_error(&r, &[p.to_str().unwrap()]);
    assert!(r.stdout.is_empty());
    // Cut at a few other places too, including inside a multi-byte character if any.
    for cut in [1, text.len() - 1] {
        std::fs::write(&p, &text.as_bytes()[..cut]).unwrap();
        let r = scan_with_model(&p);
        assert_run_error(&r, &[p.to_str().unwrap()]);
    }
    std::fs::write(&p, b"").unwrap();
    assert_run_error(&scan_with_model(&p), &[p.to_str().unwrap()]);
}

#[test]
fn tampered_model_file() {
    let dir = tempdir();
    let (p, text) = model_copy(dir.path());
    let key = "\"text_weights\":[";
    let at = text.find(key).expect("model has text weights") + key.len();
    let digit = at + text[at..].find(|c: char| c.is_ascii_digit()).unwrap();
    let old = text.as_bytes()[digit];
    let new = if old == b'7' { b'3' } else { b'7' };
    let mut bytes = text.into_bytes();
    bytes[digit] = new;
    std::fs::write(&p, &bytes).unwrap();
    let r = scan_with_model(&p);
    assert_run_error(&r, &[p.to_str().unwrap()]);
    let msg = r.stderr.to_lowercase();
    assert!(
        ["checksum", "modified", "damaged", "tamper"]
            .iter()
            .any(|w| msg.contains(w)),
        "message should say the file was altered\n{}",
        r.describe()
    );
    assert!(r.stdout.is_empty());
}

/// `adscreen scan big.jsonl | head -c 100`: the closed pipe ends the run quietly (status 0 per
/// main.rs) without a panic message.
#[test]
fn broken_pipe_ends_quietly() {
    // ~1,000 short ads: several hundred KB of output, more than a pipe buffer holds.
    let dir = tempdir();
    let mut input = String::new();
    for i in 0..1_000 {
        input.push_str(&rec(
            &format!("p{i}"),
            &format!("Hostess wanted {i}, call 555-0100"),
        ));
    }
    let path = write_file(dir.path(), "big.jsonl", input.as_bytes());
    for format in ["jsonl", "csv"] {
        let mut child = Command::new(bin())
            .args([
                "scan".as_ref(),
                path.as_os_str(),
                "--format".as_ref(),
                format.as_ref(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let mut buf = [0u8; 100];
        out.read_exact(&mut buf).unwrap();
        drop(out);
        let mut stderr = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let status = wait_with_timeout(&mut child, RUN_TIMEOUT);
        let stderr = reader.join().unwrap();
        assert!(
            !stderr.contains("panicked"),
            "--format {format}: panic on a closed pipe:\n{stderr}"
        );
        assert!(
            status.success(),
            "--format {format}: a closed stdout should end the run with status 0, got {status:?}\n{stderr}"
        );
    }
}
