//! Checks shared by the fuzz targets. A failed check panics, which libFuzzer reports as a crash
//! and saves under `fuzz/artifacts/<target>/`.

#![allow(dead_code)]

use std::io::Cursor;
use std::ops::Range;
use std::sync::OnceLock;

use adscreen::io::{InputFormat, RawBody, RecordReader, RecordSpec};
use adscreen::normalize::normalize;
use adscreen::{Ad, Screener, Verdict};

/// Record size limit for the reader targets: small, so the `TooLong` path is reached often.
pub const MAX_RECORD_BYTES: usize = 4096;

/// The built-in screener, built once per process.
pub fn screener() -> &'static Screener {
    static S: OnceLock<Screener> = OnceLock::new();
    S.get_or_init(|| Screener::builtin().expect("Screener::builtin()"))
}

/// `ADSCREEN_FUZZ_IDEMPOTENCE=1` also asserts that `normalize` is idempotent. Off by default
/// while known idempotence bugs are open (tests/data/regressions/normalize-idempotence-*.txt,
/// caught by tests/properties.rs), so that the CI fuzz job fails only on new bugs and not,
/// at random, on a known one. Turn it on by default once those are fixed.
fn check_idempotence() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("ADSCREEN_FUZZ_IDEMPOTENCE").is_some_and(|v| v == "1"))
}

/// `normalize` on `text`: the offset maps land on char boundaries of the original (every
/// single-char range, every prefix and every suffix of each view: linear, and it touches every
/// map entry) and, when enabled, both views are idempotent.
pub fn check_normalize(text: &str) {
    let n = normalize(text);
    check_map(
        text,
        n.text(),
        |r| n.text_to_original(r),
        "text_to_original",
    );
    check_map(
        text,
        n.folded(),
        |r| n.folded_to_original(r),
        "folded_to_original",
    );
    if check_idempotence() {
        assert_eq!(
            normalize(n.text()).text(),
            n.text(),
            "text() not idempotent"
        );
        assert_eq!(
            normalize(n.folded()).folded(),
            n.folded(),
            "folded() not idempotent"
        );
    }
}

fn check_map(original: &str, view: &str, map: impl Fn(Range<usize>) -> Range<usize>, what: &str) {
    let bounds: Vec<usize> = view
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(view.len()))
        .collect();
    let last = *bounds.last().unwrap_or(&0);
    for w in bounds.windows(2) {
        for r in [w[0]..w[1], w[0]..w[0], 0..w[1], w[0]..last] {
            let o = map(r.clone());
            assert!(
                o.start <= o.end
                    && o.end <= original.len()
                    && original.is_char_boundary(o.start)
                    && original.is_char_boundary(o.end),
                "{what}({r:?}) = {o:?}: not a char-boundary range of the original (len {})",
                original.len()
            );
        }
    }
}

/// Screens `ad` twice: finite score in [0, 1], every span is the slice it names, same verdict.
pub fn check_screen(ad: &Ad) -> Verdict {
    let v = screener().screen(ad);
    check_verdict(&ad.text, &v);
    let again = screener().screen(ad);
    assert!(again == v, "screening twice gave different verdicts");
    v
}

pub fn check_verdict(text: &str, v: &Verdict) {
    assert!(
        v.score.is_finite() && (0.0..=1.0).contains(&v.score),
        "score {} outside [0, 1]",
        v.score
    );
    for ind in &v.indicators {
        for e in &ind.evidence {
            assert_eq!(
                text.get(e.start..e.end),
                Some(e.text.as_str()),
                "evidence {}..{} of {}",
                e.start,
                e.end,
                ind.id
            );
        }
    }
    for e in &v.entities {
        assert_eq!(
            text.get(e.start..e.end),
            Some(e.text.as_str()),
            "entity {:?} {}..{}",
            e.kind,
            e.start,
            e.end
        );
    }
}

/// A spec that reads more fields, so labels and metadata are parsed too.
fn rich_spec() -> &'static RecordSpec {
    static S: OnceLock<RecordSpec> = OnceLock::new();
    S.get_or_init(|| RecordSpec {
        text_fields: vec!["title".into(), "text".into(), "description".into()],
        id_field: "id".into(),
        label_field: Some("label".into()),
        meta_fields: vec!["has_company_logo".into(), "telecommuting".into()],
    })
}

/// Reads every record of `data`, parses it with the default and a richer spec, and screens the
/// ads the default spec yields. The reader must terminate (at most one record per line end, plus one)
/// and keep records within the size limit.
pub fn check_records(data: &[u8], format: InputFormat) {
    let Ok(mut reader) = RecordReader::new(Cursor::new(data), format, MAX_RECORD_BYTES) else {
        // An unreadable CSV header is an error for the whole input, not a crash.
        return;
    };
    let header = reader.header().cloned();
    let default = RecordSpec::default();
    // CSV also ends records at a lone `\r`, so both line ends count.
    let limit = data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64 + 1;
    let mut position = 0u64;
    while let Ok(Some(record)) = reader.next_record() {
        position += 1;
        assert!(
            position <= limit,
            "{format:?} reader yielded more than {limit} records"
        );
        match &record.body {
            RawBody::Json(b) => {
                assert!(
                    b.len() <= MAX_RECORD_BYTES,
                    "JSON record of {} bytes",
                    b.len()
                )
            }
            RawBody::Csv(r) => {
                let n = r.as_byte_record().as_slice().len();
                assert!(n <= MAX_RECORD_BYTES, "CSV record of {n} bytes");
            }
            RawBody::Error(_) => {}
        }
        let _ = rich_spec().parse(&record.body, header.as_ref(), position);
        let (_id, parsed) = default.parse(&record.body, header.as_ref(), position);
        if let Ok(p) = parsed {
            check_screen(&p.ad);
        }
    }
}
