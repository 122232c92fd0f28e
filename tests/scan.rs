//! End-to-end tests of the scan pipeline (`adscreen scan`) on the sample ads: one output per
//! input in order, determinism across thread counts, JSONL/CSV parity, the CSV output, evidence
//! spans, `--out`, stdin and multiple inputs, thresholds, and the summary line.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::util::*;

/// Records of the large input: three internal chunks of 2048 records (the last one partial).
const LARGE_RECORDS: usize = 4200;

fn scan_ok<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (Run, Vec<Value>, Summary) {
    let mut all: Vec<&std::ffi::OsStr> = vec!["scan".as_ref()];
    all.extend(args.iter().map(|a| a.as_ref()));
    let r = run(&all, b"");
    let (recs, s) = check_scan(&r);
    (r, recs, s)
}

/// The memoised default run on a sample file, checked and parsed.
fn scan_sample(path: &Path) -> (Arc<Run>, Vec<Value>, Summary) {
    let r = sample_scan(path);
    let (recs, s) = check_scan(&r);
    (r, recs, s)
}

fn sample_ids() -> Vec<Option<String>> {
    read_jsonl_ads(&sample_jsonl())
        .into_iter()
        .map(|(id, _)| Some(id))
        .collect()
}

/// `n` records as JSON Lines with unique ids: every eighth is a sample ad (`s001-0`, `s002-0`, …,
/// cycling through the 40), the others short filler ads (`f1`, …) that are cheap to screen in
/// debug builds. Returns the path and the ids in order.
fn large_input(dir: &Path, n: usize) -> (PathBuf, Vec<Option<String>>) {
    let ads = read_jsonl_ads(&sample_jsonl());
    let mut out = String::new();
    let mut ids = Vec::new();
    for i in 0..n {
        let (id, text) = if i % 8 == 0 {
            let (id, text) = &ads[(i / 8) % ads.len()];
            (format!("{id}-{}", i / 8 / ads.len()), text.clone())
        } else {
            (
                format!("f{i}"),
                format!(
                    "Filler ad {i}: cleaning job, call 555-01{:02}, no experience",
                    i % 100
                ),
            )
        };
        out.push_str(&jsonl_record(&id, &text));
        out.push('\n');
        ids.push(Some(id));
    }
    (write_file(dir, "large.jsonl", out.as_bytes()), ids)
}

#[test]
fn jsonl_one_output_per_input_in_order() {
    let (_, recs, s) = scan_sample(&sample_jsonl());
    assert_eq!(recs.len(), 40);
    assert_eq!(
        ids(&recs),
        sample_ids(),
        "output ids differ from input ids/order"
    );
    assert_eq!(s.errors, 0, "the sample has no bad records");
    assert_eq!(s.screened, 40);
}

#[test]
fn csv_one_output_per_input_in_order() {
    let (_, recs, s) = scan_sample(&sample_csv());
    let want: Vec<Option<String>> = read_csv_ads(&sample_csv())
        .into_iter()
        .map(|(id, _)| Some(id))
        .collect();
    assert_eq!(want.len(), 40);
    assert_eq!(ids(&recs), want, "output ids differ from input ids/order");
    assert_eq!(
        want,
        sample_ids(),
        "the sample CSV holds the JSONL ads in order"
    );
    assert_eq!(s.errors, 0);
}

#[test]
fn serial_and_parallel_outputs_identical_on_sample() {
    // --threads 2 and 4 are compared on the larger input below; here --threads 1 against the
    // default (one thread per core).
    let input = sample_jsonl();
    let (serial, _, _) = scan_ok(&[input.as_os_str(), "--threads".as_ref(), "1".as_ref()]);
    assert!(
        sample_scan(&input).stdout == serial.stdout,
        "default --threads output differs from --threads 1"
    );
    // CSV input, serial, gives the same bytes (the verdicts do not depend on the input format).
    let (csv, _, _) = scan_ok(&[sample_csv().as_os_str(), "--threads".as_ref(), "1".as_ref()]);
    assert!(
        csv.stdout == serial.stdout,
        "CSV --threads 1 differs from JSONL --threads 1"
    );
    assert!(
        sample_scan(&sample_csv()).stdout == serial.stdout,
        "CSV default --threads differs"
    );
}

#[test]
fn serial_and_parallel_outputs_identical_on_several_chunks() {
    let dir = tempdir();
    let (input, want) = large_input(dir.path(), LARGE_RECORDS);
    assert!(want.len() > 2 * 2048, "input must span several chunks");
    let (serial, recs, s) = scan_ok(&[input.as_os_str(), "--threads".as_ref(), "1".as_ref()]);
    assert_eq!(
        ids(&recs),
        want,
        "serial output order/ids differ from input"
    );
    assert_eq!(s.read, want.len() as u64);
    for t in ["2", "4"] {
        // Byte comparison only: re-parsing megabytes of identical JSON is slow in debug builds.
        let par = run(
            [
                "scan".as_ref(),
                input.as_os_str(),
                "--threads".as_ref(),
                t.as_ref(),
            ],
            b"",
        );
        assert_no_panic(&par);
        assert!(par.status.success(), "{}", par.describe());
        let ps = parse_summary(&par.stderr).expect("summary");
        assert!(
            par.stdout == serial.stdout,
            "--threads {t} output differs from --threads 1 on {} records",
            want.len()
        );
        assert_eq!(ps, s, "--threads {t} summary differs");
    }
    // Each repetition of a sample ad gets the same verdict as its first (only the id differs),
    // wherever it falls in the chunks.
    let (_, sample, _) = scan_sample(&sample_jsonl());
    for (i, v) in recs.iter().enumerate().step_by(8) {
        let mut a = v.clone();
        let mut b = sample[(i / 8) % 40].clone();
        a["id"] = Value::Null;
        b["id"] = Value::Null;
        assert_eq!(
            a,
            b,
            "record {} differs from the verdict for the same sample ad",
            i + 1
        );
    }
}

/// Records of ~600 KB fill the 8 MiB byte bound of a chunk long before its 2048-record bound.
#[test]
fn chunks_split_by_bytes_keep_order_and_determinism() {
    let dir = tempdir();
    let ads = read_jsonl_ads(&sample_jsonl());
    let mut out = String::new();
    let mut want = Vec::new();
    for (i, (id, text)) in ads.iter().cycle().take(36).enumerate() {
        let mut long = text.clone();
        while long.len() < 600_000 {
            long.push(' ');
            long.push_str(text);
        }
        let id = format!("{id}-{i}");
        out.push_str(&jsonl_record(&id, &long));
        out.push('\n');
        want.push(Some(id));
    }
    let input = write_file(dir.path(), "long.jsonl", out.as_bytes());
    // A small --max-ad-bytes keeps screening fast in debug builds.
    let args = |t: &'static str| {
        vec![
            input.clone().into_os_string(),
            "--max-ad-bytes".into(),
            "2000".into(),
            "--threads".into(),
            t.into(),
        ]
    };
    let (serial, recs, s) = scan_ok(&args("1")[..]);
    assert_eq!(ids(&recs), want);
    assert_eq!(s.truncated, 36, "every ad is longer than --max-ad-bytes");
    let (par, _, _) = scan_ok(&args("2")[..]);
    assert!(
        par.stdout == serial.stdout,
        "--threads 2 differs from --threads 1"
    );
}

#[test]
fn jsonl_and_csv_inputs_give_identical_verdicts() {
    let (_, j, _) = scan_sample(&sample_jsonl());
    let (_, c, _) = scan_sample(&sample_csv());
    assert_eq!(j.len(), c.len());
    for (a, b) in j.iter().zip(&c) {
        // JSON Lines verdicts carry no line number or input name: nothing may differ.
        assert_eq!(
            a, b,
            "verdict for {} differs between JSONL and CSV input",
            a["id"]
        );
    }
}

/// `adscreen scan --format csv` output parsed with the `csv` crate.
/// `cached`: memoise the run (only for the sample files, which do not change).
fn csv_output(args: &[&std::ffi::OsStr], cached: bool) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut all: Vec<&std::ffi::OsStr> = vec!["scan".as_ref(), "--format".as_ref(), "csv".as_ref()];
    all.extend_from_slice(args);
    let r = if cached {
        run_cached(&all)
    } else {
        Arc::new(run(&all, b""))
    };
    assert_no_panic(&r);
    assert!(r.status.success(), "{}", r.describe());
    let mut rdr = csv::ReaderBuilder::new().from_reader(r.stdout.as_slice());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let rows: Vec<csv::StringRecord> = rdr
        .records()
        .map(|r| r.expect("CSV output row parses"))
        .collect();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(
            row.len(),
            header.len(),
            "CSV output row {} is ragged",
            i + 1
        );
    }
    let s = parse_summary(&r.stderr).expect("summary");
    assert_eq!(s.read, rows.len() as u64, "summary read != CSV rows");
    (header, rows)
}

#[test]
fn csv_output_has_header_and_matches_jsonl() {
    let (_, j, _) = scan_sample(&sample_jsonl());
    for input in [sample_jsonl(), sample_csv()] {
        let (header, rows) = csv_output(&[input.as_os_str()], true);
        for col in [
            "id",
            "line",
            "score",
            "flagged",
            "band",
            "indicators",
            "evidence",
            "error",
        ] {
            assert!(
                header.iter().any(|h| h == col),
                "CSV header lacks {col}: {header:?}"
            );
        }
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(
            rows.len(),
            j.len(),
            "{}: one CSV row per record",
            input.display()
        );
        for (row, v) in rows.iter().zip(&j) {
            let id = v["id"].as_str().unwrap();
            assert_eq!(&row[col("id")], id);
            let score: f64 = row[col("score")].parse().expect("score parses");
            assert!(
                (score - v["score"].as_f64().unwrap()).abs() < 1e-6,
                "{id}: CSV score {score} vs JSONL {}",
                v["score"]
            );
            assert_eq!(row[col("flagged")], v["flagged"].to_string(), "{id}");
            assert_eq!(&row[col("band")], v["band"].as_str().unwrap(), "{id}");
            let inds: Vec<&str> = v["indicators"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap())
                .collect();
            assert_eq!(row[col("indicators")], inds.join(";"), "{id}");
            assert_eq!(&row[col("error")], "", "{id}: verdict rows have no error");
            let ev: Value = serde_json::from_str(&row[col("evidence")]).expect("evidence is JSON");
            let n_ev: usize = v["indicators"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["evidence"].as_array().unwrap().len())
                .sum();
            assert_eq!(
                ev.as_array().map(Vec::len),
                Some(n_ev),
                "{id}: evidence count"
            );
        }
    }
}

#[test]
fn csv_output_of_jsonl_input_has_physical_line_numbers() {
    // Blank lines in between: line numbers count them, record numbers do not.
    let dir = tempdir();
    let ads = read_jsonl_ads(&sample_jsonl());
    let mut text = String::from("\n");
    let mut lines = Vec::new();
    let mut line = 1;
    for (i, (id, t)) in ads.iter().take(6).enumerate() {
        if i % 2 == 1 {
            text.push('\n');
            line += 1;
        }
        text.push_str(&jsonl_record(id, t));
        text.push('\n');
        line += 1;
        lines.push(line.to_string());
    }
    text.push_str("{not json\n");
    lines.push((line + 1).to_string());
    let input = write_file(dir.path(), "gaps.jsonl", text.as_bytes());
    let (header, rows) = csv_output(&[input.as_os_str()], false);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let got: Vec<&str> = rows.iter().map(|r| &r[col("line")]).collect();
    assert_eq!(got, lines);
    assert!(
        !rows.last().unwrap()[col("error")].is_empty(),
        "error row has its message"
    );
}

/// 1-based line on which each CSV record (after the header) starts, found by a plain RFC 4180
/// scan of the bytes (quotes toggle; a newline outside quotes ends a record).
fn csv_record_start_lines(bytes: &[u8]) -> Vec<u64> {
    let mut starts = Vec::new();
    let mut line = 1u64;
    let mut in_quotes = false;
    let mut at_start = true;
    for &b in bytes {
        if at_start && b != b'\n' && b != b'\r' {
            at_start = false;
            starts.push(line);
        }
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' => {
                line += 1;
                if !in_quotes {
                    at_start = true;
                }
            }
            _ => {}
        }
    }
    starts.remove(0); // the header
    starts
}

#[test]
fn csv_input_line_numbers_are_record_start_lines() {
    let dir = tempdir();
    let crlf = std::fs::read(sample_csv()).unwrap();
    assert!(
        crlf.windows(2).any(|w| w == b"\r\n"),
        "the sample CSV uses CRLF"
    );
    let lf = String::from_utf8(crlf.clone())
        .unwrap()
        .replace("\r\n", "\n");
    let lf = write_file(dir.path(), "lf.csv", lf.as_bytes());
    for (input, cached) in [(sample_csv(), true), (lf, false)] {
        let bytes = std::fs::read(&input).unwrap();
        let want: Vec<String> = csv_record_start_lines(&bytes)
            .iter()
            .map(u64::to_string)
            .collect();
        assert_eq!(want.len(), 40);
        let (header, rows) = csv_output(&[input.as_os_str()], cached);
        let col = header.iter().position(|h| h == "line").unwrap();
        let got: Vec<&str> = rows.iter().map(|r| &r[col]).collect();
        assert_eq!(
            got,
            want,
            "{}: `line` must be the line each CSV record starts on",
            input.display()
        );
    }
}

/// Checks `text[start..end] == span text` (byte offsets into the ad's original text) for every
/// indicator evidence (`entities == false`) or every entity (`entities == true`). Returns how
/// many spans were checked.
fn check_spans(ads: &[(String, String)], recs: &[Value], entities: bool) -> usize {
    assert_eq!(ads.len(), recs.len());
    let mut n = 0;
    for ((id, text), v) in ads.iter().zip(recs) {
        assert_eq!(v["id"].as_str(), Some(id.as_str()), "verdict order");
        let spans: Vec<&Value> = if entities {
            v["entities"].as_array().unwrap().iter().collect()
        } else {
            v["indicators"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|i| i["evidence"].as_array().unwrap().iter())
                .collect()
        };
        for e in spans {
            let (start, end) = (
                e["start"].as_u64().unwrap() as usize,
                e["end"].as_u64().unwrap() as usize,
            );
            let said = e["text"].as_str().unwrap();
            assert!(start < end, "{id}: empty or reversed span {e}");
            let slice = text.get(start..end).unwrap_or_else(|| {
                panic!("{id}: span {start}..{end} is out of bounds or not on a char boundary (text is {} bytes): {e}", text.len())
            });
            assert_eq!(
                slice, said,
                "{id}: input[{start}..{end}] differs from the span text"
            );
            n += 1;
        }
    }
    n
}

/// The sample ads rewritten in ways the normaliser must see through (entities, homoglyphs,
/// zero-width and combining characters, case changes that change byte lengths, CRLF…).
fn mutated_ads() -> Vec<(String, String)> {
    type Mutation = fn(&str) -> String;
    let muts: &[Mutation] = &[
        |t| t.replace(' ', "&nbsp;"),
        |t| t.replace('a', "\u{200b}a"),
        |t| t.to_uppercase(),
        |t| t.replace('i', "İ"),
        |t| t.replace("fi", "ﬁ"),
        |t| t.replace('e', "e\u{301}"),
        |t| {
            t.chars()
                .enumerate()
                .map(|(i, c)| match c {
                    '!'..='~' if i % 3 == 0 => char::from_u32(c as u32 + 0xFEE0).unwrap(),
                    _ => c,
                })
                .collect()
        },
        |t| t.replace(' ', "\u{a0}"),
        |t| t.replace('s', "ſ"),
        |t| t.replace('.', ".<br/>"),
        |t| t.replace('o', "&#111;"),
        |t| t.replace("ss", "ß"),
        |t| format!("\u{feff}{t}"),
        |t| t.replace('\n', "\r\n"),
        |t| t.replace('a', "а").replace('o', "о").replace('p', "р"),
        |t| t.replace('a', "@").replace('o', "0").replace('s', "$"),
        |t| t.replace(' ', "  \u{1F600} "),
    ];
    let ads = read_jsonl_ads(&sample_jsonl());
    let mut out = Vec::new();
    for (k, m) in muts.iter().enumerate() {
        for (id, text) in &ads {
            out.push((format!("{id}-m{k}"), m(text)));
        }
    }
    out
}

/// Ads (id, text) and the verdicts for them.
type Scanned = (Vec<(String, String)>, Vec<Value>);

/// The scan of [`mutated_ads`], run once for the evidence and entity tests.
fn mutated_scan() -> &'static Scanned {
    static SCAN: OnceLock<Scanned> = OnceLock::new();
    SCAN.get_or_init(|| {
        let dir = tempdir();
        let ads = mutated_ads();
        let input = write_ads(dir.path(), "mutated.jsonl", &ads);
        let (_, recs, _) = scan_ok(&[input]);
        (ads, recs)
    })
}

fn write_ads(dir: &Path, name: &str, ads: &[(String, String)]) -> PathBuf {
    let mut s = String::new();
    for (id, t) in ads {
        s.push_str(&jsonl_record(id, t));
        s.push('\n');
    }
    write_file(dir, name, s.as_bytes())
}

#[test]
fn evidence_spans_match_input_text() {
    let (_, j, _) = scan_sample(&sample_jsonl());
    let n = check_spans(&read_jsonl_ads(&sample_jsonl()), &j, false);
    assert!(
        n > 20,
        "the sample should produce plenty of evidence, got {n}"
    );
    let (_, c, _) = scan_sample(&sample_csv());
    check_spans(&read_csv_ads(&sample_csv()), &c, false);

    let (ads, m) = mutated_scan();
    let n = check_spans(ads, m, false);
    assert!(
        n > 100,
        "mutated ads should still produce evidence, got {n}"
    );
}

#[test]
fn entity_spans_match_input_text() {
    let (_, j, _) = scan_sample(&sample_jsonl());
    let n = check_spans(&read_jsonl_ads(&sample_jsonl()), &j, true);
    assert!(n > 10, "the sample should produce entities, got {n}");
    let (_, c, _) = scan_sample(&sample_csv());
    check_spans(&read_csv_ads(&sample_csv()), &c, true);
    let (ads, m) = mutated_scan();
    check_spans(ads, m, true);
}

#[test]
fn evidence_spans_of_truncated_ads_lie_in_the_screened_prefix() {
    let dir = tempdir();
    let ads: Vec<(String, String)> = read_jsonl_ads(&sample_jsonl())
        .into_iter()
        .map(|(id, t)| (id, format!("{t} é€😀 {t}")))
        .collect();
    let input = write_ads(dir.path(), "t.jsonl", &ads);
    // An odd bound so that some cuts fall inside multi-byte characters.
    let max = 301usize;
    let (_, recs, s) = scan_ok(&[input.as_os_str(), "--max-ad-bytes".as_ref(), "301".as_ref()]);
    assert_eq!(s.truncated, 40);
    check_spans(&ads, &recs, false);
    check_spans(&ads, &recs, true);
    for v in &recs {
        assert_eq!(v["truncated"], Value::Bool(true), "{}", v["id"]);
        for i in v["indicators"].as_array().unwrap() {
            for e in i["evidence"].as_array().unwrap() {
                assert!(
                    e["end"].as_u64().unwrap() as usize <= max,
                    "{}: {e} beyond --max-ad-bytes",
                    v["id"]
                );
            }
        }
    }
}

#[test]
fn out_file_equals_stdout_and_leaves_no_temporary_files() {
    let dir = tempdir();
    let out = dir.path().join("verdicts.jsonl");
    let stdout_run = sample_scan(&sample_jsonl());
    let r = run(
        [
            "scan".as_ref(),
            sample_jsonl().as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
        b"",
    );
    assert_no_panic(&r);
    assert!(r.status.success(), "{}", r.describe());
    assert!(r.stdout.is_empty(), "nothing on stdout with --out");
    let written = std::fs::read(&out).unwrap();
    assert!(
        written == stdout_run.stdout,
        "--out file differs from stdout"
    );
    let entries: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        entries,
        vec!["verdicts.jsonl".to_string()],
        "stray files left behind"
    );

    // Overwriting, relative to the working directory, and in CSV.
    let r = run_in(
        Some(dir.path()),
        [
            "scan".as_ref(),
            sample_csv().as_os_str(),
            "--format".as_ref(),
            "csv".as_ref(),
            "-o".as_ref(),
            "verdicts.jsonl".as_ref(),
        ],
        b"",
    );
    assert!(r.status.success(), "{}", r.describe());
    let csv_stdout = run_cached(&[
        "scan".as_ref(),
        "--format".as_ref(),
        "csv".as_ref(),
        sample_csv().as_os_str(),
    ]);
    assert!(
        std::fs::read(&out).unwrap() == csv_stdout.stdout,
        "overwritten --out differs"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "stray files left behind"
    );
}

#[test]
fn out_file_untouched_when_the_run_fails() {
    let dir = tempdir();
    let out = dir.path().join("verdicts.jsonl");
    // Fails before writing anything: no file, no temporary.
    let r = run(
        [
            "scan",
            "/nonexistent/input.jsonl",
            "--out",
            out.to_str().unwrap(),
        ],
        b"",
    );
    assert_no_panic(&r);
    assert_eq!(r.status.code(), Some(1), "{}", r.describe());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "files left behind"
    );
    // Fails half way (the second input is missing): an existing file keeps its content.
    std::fs::write(&out, b"previous\n").unwrap();
    let r = run(
        [
            "scan".as_ref(),
            sample_jsonl().as_os_str(),
            "/nonexistent/input.jsonl".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
        b"",
    );
    assert_no_panic(&r);
    assert_eq!(r.status.code(), Some(1), "{}", r.describe());
    assert_eq!(
        std::fs::read(&out).unwrap(),
        b"previous\n",
        "--out clobbered on failure"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "stray files left behind"
    );
}

/// On standard output, an input that cannot be read stops the scan after everything read before
/// it has been written: the sample ads (40 records, then a large file of three chunks) come out
/// in full and in order, then the run fails naming the missing input.
#[test]
fn records_read_before_an_unreadable_input_are_written() {
    let dir = tempdir();
    let (large, large_ids) = large_input(dir.path(), LARGE_RECORDS);
    let r = run(
        [
            "scan".as_ref(),
            sample_jsonl().as_os_str(),
            large.as_os_str(),
            "/nonexistent/input.jsonl".as_ref(),
        ],
        b"",
    );
    assert_no_panic(&r);
    assert_eq!(r.status.code(), Some(1), "{}", r.describe());
    assert!(
        r.stderr.contains("/nonexistent/input.jsonl"),
        "{}",
        r.describe()
    );
    let recs = parse_jsonl(&r.stdout);
    let ids: Vec<Option<String>> = recs
        .iter()
        .map(|v| v["id"].as_str().map(String::from))
        .collect();
    let mut expected = sample_ids();
    expected.extend(large_ids);
    assert_eq!(ids, expected);
}

/// `--out` goes through a temporary file; the result should still get the permissions any newly
/// created file gets (umask), not the temporary file's private 0600.
#[cfg(unix)]
#[test]
fn out_file_has_ordinary_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let reference = dir.path().join("reference");
    std::fs::File::create(&reference).unwrap();
    let want = std::fs::metadata(&reference).unwrap().permissions().mode() & 0o777;
    let out = dir.path().join("verdicts.jsonl");
    let r = run(
        [
            "scan".as_ref(),
            "-".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
        b"{\"id\":\"p\",\"text\":\"x\"}\n",
    );
    assert!(r.status.success(), "{}", r.describe());
    let got = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        got, want,
        "--out file mode is {got:o}, a newly created file gets {want:o}"
    );
}

#[test]
fn dash_reads_standard_input() {
    let file_run = sample_scan(&sample_jsonl());
    let input = std::fs::read(sample_jsonl()).unwrap();
    let r = run(["scan", "-"], &input);
    let (recs, _) = check_scan(&r);
    assert_eq!(recs.len(), 40);
    assert!(
        r.stdout == file_run.stdout,
        "stdin output differs from file output"
    );
    // Error records name `-` as their input.
    let r = run(["scan", "-"], b"{\"id\":\"a\",\"text\":\"x\"}\n{oops\n");
    let (recs, _) = check_scan(&r);
    assert_eq!(recs[1]["input"], "-");
    assert_eq!(recs[1]["line"], 2);
}

#[test]
fn multiple_inputs_are_concatenated_in_order() {
    let dir = tempdir();
    let extra = write_file(
        dir.path(),
        "extra.jsonl",
        b"{\"id\":\"x1\",\"text\":\"Hiring now\"}\n{broken\n",
    );
    let stdin = b"{\"id\":\"in1\",\"text\":\"from stdin\"}\n";
    let parts = [
        sample_scan(&sample_jsonl()).stdout.clone(),
        sample_scan(&sample_csv()).stdout.clone(),
        run(["scan", "-"], stdin).stdout,
        run(["scan".as_ref(), extra.as_os_str()], b"").stdout,
    ];
    let r = run(
        [
            "scan".as_ref(),
            sample_jsonl().as_os_str(),
            sample_csv().as_os_str(),
            "-".as_ref(),
            extra.as_os_str(),
        ],
        stdin,
    );
    let (recs, s) = check_scan(&r);
    assert_eq!(
        r.stdout,
        parts.concat(),
        "output is not the concatenation of each input's"
    );
    assert_eq!(recs.len(), 40 + 40 + 1 + 2);
    assert_eq!(s.errors, 1);
    let err = recs.last().unwrap();
    assert_eq!(
        err["input"].as_str(),
        extra.to_str(),
        "error names its input: {err}"
    );
    assert_eq!(err["line"], 2);
}

#[test]
fn records_without_id_are_numbered_within_each_input() {
    let dir = tempdir();
    let a = write_file(
        dir.path(),
        "a.jsonl",
        b"{\"text\":\"one\"}\n\n{\"text\":\"two\"}\n{\"id\":\"named\",\"text\":\"three\"}\n{\"text\":\"four\"}\n",
    );
    let b = write_file(dir.path(), "b.csv", b"text\nfirst\nsecond\n");
    let (_, recs, _) = scan_ok(&[a, b]);
    let got: Vec<Option<String>> = ids(&recs);
    let want: Vec<Option<String>> = ["1", "2", "named", "4", "1", "2"]
        .iter()
        .map(|s| Some(s.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn threshold_zero_flags_everything() {
    let (_, recs, s) = scan_ok(&[
        sample_jsonl().as_os_str(),
        "--threads".as_ref(),
        "1".as_ref(),
        "--threshold".as_ref(),
        "0".as_ref(),
    ]);
    assert_eq!(s.flagged, 40);
    for v in &recs {
        assert_eq!(v["flagged"], true, "{}", v["id"]);
        assert_ne!(v["band"], "low", "{}", v["id"]);
    }
}

#[test]
fn threshold_one_flags_only_certain_scores() {
    let (_, recs, s) = scan_ok(&[
        sample_jsonl().as_os_str(),
        "--threads".as_ref(),
        "1".as_ref(),
        "--threshold".as_ref(),
        "1.0".as_ref(),
    ]);
    for v in &recs {
        let score = v["score"].as_f64().unwrap();
        assert_eq!(
            v["flagged"].as_bool().unwrap(),
            score >= 1.0,
            "{}: score {score}",
            v["id"]
        );
    }
    assert!(
        s.flagged <= 1,
        "--threshold 1.0 should flag (almost) nothing, flagged {}",
        s.flagged
    );
}

#[test]
fn explicit_threshold_flags_exactly_scores_at_or_above_it() {
    for t in ["0.5", "0.9"] {
        let (_, recs, s) = scan_ok(&[
            sample_jsonl().as_os_str(),
            "--threads".as_ref(),
            "1".as_ref(),
            "--threshold".as_ref(),
            t.as_ref(),
        ]);
        let t: f64 = t.parse().unwrap();
        let mut flagged = 0;
        for v in &recs {
            let score = v["score"].as_f64().unwrap();
            let f = v["flagged"].as_bool().unwrap();
            assert_eq!(
                f,
                score >= t,
                "threshold {t}: {} score {score} flagged {f}",
                v["id"]
            );
            if v["band"] == "high" {
                assert!(f, "high band must be flagged");
            }
            flagged += u64::from(f);
        }
        assert_eq!(s.flagged, flagged);
    }
}

#[test]
fn threshold_out_of_range_is_a_usage_error() {
    for t in ["2", "1.5", "-0.5", "NaN"] {
        let r = run(
            [
                "scan".as_ref(),
                sample_jsonl().as_os_str(),
                format!("--threshold={t}").as_ref(),
            ],
            b"",
        );
        assert_no_panic(&r);
        assert!(
            !r.status.success(),
            "--threshold {t} accepted\n{}",
            r.describe()
        );
        assert!(
            r.stdout.is_empty(),
            "--threshold {t}: output written anyway"
        );
        assert!(
            r.stderr.contains("threshold"),
            "--threshold {t}: message does not name the option\n{}",
            r.describe()
        );
        // main.rs documents: "2 for command-line usage errors".
        assert_eq!(
            r.status.code(),
            Some(2),
            "--threshold {t}: usage errors exit with 2\n{}",
            r.describe()
        );
    }
}

#[test]
fn zero_threads_is_a_usage_error() {
    let r = run(
        [
            "scan".as_ref(),
            sample_jsonl().as_os_str(),
            "--threads".as_ref(),
            "0".as_ref(),
        ],
        b"",
    );
    assert_no_panic(&r);
    assert!(!r.status.success(), "--threads 0 accepted");
    assert!(r.stderr.contains("threads"), "{}", r.describe());
    assert!(r.stdout.is_empty());
    assert_eq!(
        r.status.code(),
        Some(2),
        "usage errors exit with 2 (main.rs)\n{}",
        r.describe()
    );
}

#[test]
fn scores_bands_and_flags_are_consistent() {
    for input in [sample_jsonl(), sample_csv()] {
        let (_, recs, _) = scan_sample(&input);
        // check_scan checked score ∈ [0,1] and flagged ⇔ band != low; here: one threshold
        // separates flagged from unflagged, and high scores rank above elevated ones.
        let max_unflagged = recs
            .iter()
            .filter(|v| v["flagged"] == false)
            .map(|v| v["score"].as_f64().unwrap())
            .fold(f64::NEG_INFINITY, f64::max);
        let min_flagged = recs
            .iter()
            .filter(|v| v["flagged"] == true)
            .map(|v| v["score"].as_f64().unwrap())
            .fold(f64::INFINITY, f64::min);
        assert!(
            max_unflagged < min_flagged,
            "no single threshold separates flagged ads"
        );
        let max_elevated = recs
            .iter()
            .filter(|v| v["band"] == "elevated")
            .map(|v| v["score"].as_f64().unwrap())
            .fold(f64::NEG_INFINITY, f64::max);
        let min_high = recs
            .iter()
            .filter(|v| v["band"] == "high")
            .map(|v| v["score"].as_f64().unwrap())
            .fold(f64::INFINITY, f64::min);
        assert!(max_elevated < min_high, "elevated scores above high ones");
    }
}

#[test]
fn summary_reconciles_with_output() {
    let dir = tempdir();
    let mut bytes = std::fs::read(sample_jsonl()).unwrap();
    bytes.extend_from_slice(b"{bad\n[1]\n{\"id\":\"nt\"}\n");
    let input = write_file(dir.path(), "mixed.jsonl", &bytes);
    let (_, recs, s) = scan_ok(&[input]);
    assert_eq!(s.read, 43);
    assert_eq!(s.errors, 3);
    assert_eq!(s.screened, 40);
    assert_eq!(recs.len(), 43);
}

#[test]
fn quiet_suppresses_the_summary() {
    let input = b"{\"id\":\"q1\",\"text\":\"x\"}\n{bad\n";
    for flag in ["--quiet", "-q"] {
        let r = run(["scan", "-", flag], input);
        assert!(r.status.success(), "{}", r.describe());
        assert!(
            parse_summary(&r.stderr).is_none(),
            "summary printed with {flag}"
        );
        assert!(
            r.stderr.is_empty(),
            "{flag}: stderr not empty: {}",
            r.stderr
        );
        assert_eq!(parse_jsonl(&r.stdout).len(), 2);
    }
}

#[test]
fn a_bad_model_is_reported_before_a_bad_catalogue() {
    // Session 6 reads the model while the catalogue compiles; the model's error still comes
    // first, as when it was read first.
    let dir = tempdir();
    let catalogue = dir.path().join("bad.toml");
    std::fs::write(&catalogue, "[[indicator]]\nid = 1\n").unwrap();
    let model = dir.path().join("missing-model.json");
    let both = run(
        [
            "scan".as_ref(),
            sample_jsonl().as_os_str(),
            "--model".as_ref(),
            model.as_os_str(),
            "--indicators".as_ref(),
            catalogue.as_os_str(),
        ],
        b"",
    );
    assert_no_panic(&both);
    assert!(!both.status.success(), "{}", both.describe());
    assert!(
        both.stderr.contains("missing-model.json"),
        "{}",
        both.describe()
    );
    let catalogue_only = run(
        [
            "scan".as_ref(),
            sample_jsonl().as_os_str(),
            "--indicators".as_ref(),
            catalogue.as_os_str(),
        ],
        b"",
    );
    assert!(!catalogue_only.status.success());
    assert!(
        catalogue_only.stderr.contains("indicator catalogue"),
        "{}",
        catalogue_only.describe()
    );
}
