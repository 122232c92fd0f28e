//! Replays every input in `tests/data/regressions/`: inputs that once broke a property test
//! (`tests/properties.rs`) or a fuzz target (`fuzz/`). Each file, as raw bytes, goes through
//!
//! * `normalize` (lossy UTF-8): idempotence of both views, every char-boundary range of a view
//!   maps to a char-boundary range of the original;
//! * `Screener::builtin()`: no panic, finite score in [0, 1], deterministic, every evidence and
//!   entity span is the slice of the ad it claims to be;
//! * the JSON Lines and CSV readers and `RecordSpec::parse`, both on the raw bytes and on the
//!   text wrapped as one valid record: no panic, the reader terminates, parsed ads screen cleanly.
//!
//! All files are checked and all failures reported together, each with its file name.
//!
//! This file is compiled as `mod regressions;` of `tests/tests.rs` and must also compile as a
//! crate of its own, so it only uses absolute paths.

use std::io::Cursor;
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use adscreen::io::{InputFormat, RawBody, RecordReader, RecordSpec};
use adscreen::normalize::normalize;
use adscreen::{Ad, Screener};

fn screener() -> &'static Screener {
    static S: OnceLock<Screener> = OnceLock::new();
    S.get_or_init(|| Screener::builtin().expect("builtin screener"))
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/regressions")
}

/// The regression inputs: every file of the folder but its README.
fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir())
        .expect("tests/data/regressions/ exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.eq_ignore_ascii_case("README.md") && !name.starts_with('.')
        })
        .map(|p| {
            let bytes = std::fs::read(&p).expect("readable regression input");
            (p.file_name().unwrap().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    files
}

/// Runs `check` on every input, catching panics, and fails with the list of broken files.
fn each(what: &str, check: impl Fn(&[u8]) -> Result<(), String>) {
    let mut failures = Vec::new();
    for (name, bytes) in inputs() {
        match catch_unwind(AssertUnwindSafe(|| check(&bytes))) {
            Ok(Ok(())) => {}
            Ok(Err(msg)) => failures.push(format!("{name}: {msg}")),
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{name}: panicked: {msg}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{what}: {} regression input(s) fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Checks

fn check_map(
    original: &str,
    view: &str,
    map: impl Fn(Range<usize>) -> Range<usize>,
    what: &str,
) -> Result<(), String> {
    let bounds: Vec<usize> = view
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(view.len()))
        .collect();
    // All pairs for short views; for long ones every range from/to a boundary near the ends and
    // every single char, which covers each map entry while staying linear.
    let pairs: Box<dyn Iterator<Item = (usize, usize)>> = if bounds.len() <= 600 {
        Box::new((0..bounds.len()).flat_map(|i| (i..bounds.len()).map(move |j| (i, j))))
    } else {
        let n = bounds.len();
        Box::new((0..n).flat_map(move |i| [(0, i), (i, n - 1), (i, i), (i, (i + 1).min(n - 1))]))
    };
    for (i, j) in pairs {
        let (a, b) = (bounds[i], bounds[j]);
        let o = map(a..b);
        let ok = o.start <= o.end
            && o.end <= original.len()
            && original.is_char_boundary(o.start)
            && original.is_char_boundary(o.end);
        if !ok {
            return Err(format!(
                "{what}({a}..{b}) = {o:?} is not a char-boundary range of the original (len {})",
                original.len()
            ));
        }
    }
    Ok(())
}

fn check_normalize(text: &str) -> Result<(), String> {
    let n = normalize(text);
    let again = normalize(n.text());
    if again.text() != n.text() {
        return Err(format!(
            "text() not idempotent: {:?} -> {:?} -> {:?}",
            text,
            n.text(),
            again.text()
        ));
    }
    let again = normalize(n.folded());
    if again.folded() != n.folded() {
        return Err(format!(
            "folded() not idempotent: {:?} -> {:?} -> {:?}",
            text,
            n.folded(),
            again.folded()
        ));
    }
    check_map(
        text,
        n.text(),
        |r| n.text_to_original(r),
        "text_to_original",
    )?;
    check_map(
        text,
        n.folded(),
        |r| n.folded_to_original(r),
        "folded_to_original",
    )
}

fn check_screen(ad: &Ad) -> Result<(), String> {
    let text = ad.text.as_str();
    let v = screener().screen(ad);
    if !(v.score.is_finite() && (0.0..=1.0).contains(&v.score)) {
        return Err(format!("score {} outside [0, 1]", v.score));
    }
    for ind in &v.indicators {
        for e in &ind.evidence {
            if text.get(e.start..e.end) != Some(e.text.as_str()) {
                return Err(format!(
                    "evidence {}..{} of {} is {:?}, the ad holds {:?}",
                    e.start,
                    e.end,
                    ind.id,
                    e.text,
                    text.get(e.start..e.end)
                ));
            }
        }
    }
    for e in &v.entities {
        if text.get(e.start..e.end) != Some(e.text.as_str()) {
            return Err(format!(
                "entity {:?} {}..{} is {:?}, the ad holds {:?}",
                e.kind,
                e.start,
                e.end,
                e.text,
                text.get(e.start..e.end)
            ));
        }
    }
    if screener().screen(ad) != v {
        return Err("screening twice gave different verdicts".into());
    }
    Ok(())
}

/// Reads every record of `input`, parses it with the default spec and screens the ads. The reader
/// must end: it can yield at most one record per line end (`\n` or `\r`) plus one.
fn check_records(input: &[u8], format: InputFormat) -> Result<(), String> {
    let mut reader = match RecordReader::new(Cursor::new(input), format, 4096) {
        Ok(r) => r,
        // An unreadable CSV header is an error for the whole input, not a panic.
        Err(_) => return Ok(()),
    };
    let header = reader.header().cloned();
    let spec = RecordSpec::default();
    // CSV also ends records at a lone `\r`, so both line ends count.
    let limit = input.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64 + 1;
    let mut position = 0u64;
    loop {
        let record = match reader.next_record() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(_) => break,
        };
        position += 1;
        if position > limit {
            return Err(format!(
                "{format:?} reader yielded more than {limit} records"
            ));
        }
        let size = match &record.body {
            RawBody::Json(b) => b.len(),
            RawBody::Csv(r) => r.as_byte_record().as_slice().len(),
            RawBody::Error(_) => 0,
        };
        if size > 4096 {
            return Err(format!(
                "{format:?} record of {size} bytes > max_record_bytes 4096"
            ));
        }
        let (_id, parsed) = spec.parse(&record.body, header.as_ref(), position);
        if let Ok(p) = parsed {
            check_screen(&p.ad).map_err(|e| format!("{format:?} record {position}: {e}"))?;
        }
    }
    Ok(())
}

fn as_jsonl(text: &str) -> Vec<u8> {
    let mut out = serde_json_line(text);
    out.push(b'\n');
    out
}

/// `{"id":"r","text":<text>}` without pulling serde_json into the test's imports.
fn serde_json_line(text: &str) -> Vec<u8> {
    let mut s = String::from("{\"id\":\"r\",\"text\":\"");
    for c in text.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if (c as u32) < 0x20 => s.push_str(&format!("\\u{:04x}", c as u32)),
            c => s.push(c),
        }
    }
    s.push_str("\"}");
    s.into_bytes()
}

fn as_csv(text: &str) -> Vec<u8> {
    format!("id,text\nr,\"{}\"\n", text.replace('"', "\"\"")).into_bytes()
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn regression_folder_is_present() {
    assert!(
        dir().join("README.md").is_file(),
        "tests/data/regressions/README.md is missing"
    );
}

#[test]
fn regressions_normalize() {
    each("normalize", |b| {
        check_normalize(&String::from_utf8_lossy(b))
    });
}

#[test]
fn regressions_screen() {
    each("screen", |b| {
        check_screen(&Ad::new("r", String::from_utf8_lossy(b)))
    });
}

#[test]
fn regressions_jsonl_raw() {
    each("jsonl (raw bytes)", |b| {
        check_records(b, InputFormat::Jsonl)
    });
}

#[test]
fn regressions_csv_raw() {
    each("csv (raw bytes)", |b| check_records(b, InputFormat::Csv));
}

#[test]
fn regressions_as_records() {
    each("as one record", |b| {
        let text = String::from_utf8_lossy(b);
        check_records(&as_jsonl(&text), InputFormat::Jsonl)?;
        check_records(&as_csv(&text), InputFormat::Csv)
    });
}
