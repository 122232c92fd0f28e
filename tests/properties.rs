//! Property tests for the invariants the crate documents:
//!
//! * `normalize` never panics, is idempotent on both views, and every byte range of a view (on
//!   char boundaries) maps back to a range of the original on char boundaries;
//! * `Screener::builtin()` never panics, gives a finite score in [0, 1], is deterministic, and
//!   every evidence / entity span is the exact slice of the ad it claims to be.
//!
//! Each property runs twice: once over arbitrary Unicode strings and once over adversarial text
//! (leetspeak, HTML fragments and entities, zero-width characters, combining marks, Cyrillic and
//! Greek look-alikes, fullwidth letters, emoji and keycaps). A failing case's minimal input goes
//! to `tests/data/regressions/` (see its README), where `tests/regressions.rs` replays it
//! forever; the property itself is never weakened.
//!
//! This file is compiled as `mod properties;` of `tests/tests.rs` and must also compile as a
//! crate of its own, so it only uses absolute paths.

use std::sync::OnceLock;

use adscreen::normalize::normalize;
use adscreen::{Ad, Screener, Verdict};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::Config;

/// Cases per property: enough to find the easy failures, small enough for debug-mode `cargo
/// test`. Raise locally with `PROPTEST_CASES=10000`.
const CASES: u32 = 512;

fn config() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(CASES),
        // Failures are kept by hand in tests/data/regressions/, replayed by tests/regressions.rs.
        failure_persistence: None,
        ..Config::default()
    }
}

fn screener() -> &'static Screener {
    static S: OnceLock<Screener> = OnceLock::new();
    S.get_or_init(|| Screener::builtin().expect("builtin screener"))
}

// ---------------------------------------------------------------------------------------------
// Strategies

/// One piece of adversarial text.
fn fragment() -> impl Strategy<Value = String> {
    let chars = |ranges: &'static [(char, char)]| {
        select(ranges).prop_flat_map(|(a, b)| proptest::char::range(a, b).prop_map(String::from))
    };
    prop_oneof![
        4 => "[a-zA-Z]{1,8}",
        2 => "[0-9]{1,4}",
        3 => select(&[
            "@", "$", "!", " ", ".", "-", "_", "*", "  ", "\n", "\r\n", "\t", "/", "|", "+", "~",
            "(", ")", ";", ":", ",", "&", "#", "<", ">", "'", "\"", "=", "\u{a0}",
        ][..]).prop_map(String::from),
        3 => select(&[
            "<b>", "</b>", "<br/>", "<!-- x -->", "<a href=\"x\">", "&amp;", "&#50;", "&lt;",
            "&gt;", "&nbsp;", "&#x41;", "&#X1F600;", "&amp;lt;", "&#8203;", "&zwj;", "&quot;",
            "&", "&#", "&#x", "&am", "amp;", "lt;", "&AMP;", "&#38;", "&#0;", "&#1114112;",
        ][..]).prop_map(String::from),
        2 => select(&["\u{200B}", "\u{200D}", "\u{FEFF}", "\u{00AD}", "\u{202E}", "\u{FE0F}"][..])
            .prop_map(String::from),
        2 => select(&["\u{0301}", "\u{0308}", "\u{0327}", "\u{20E3}", "\u{0307}"][..])
            .prop_map(String::from),
        3 => chars(&[('а', 'я'), ('А', 'Я'), ('α', 'ω'), ('Α', 'Ω'), ('ѐ', 'ӿ'), ('ԁ', 'ԝ')]),
        2 => chars(&[('Ａ', 'Ｚ'), ('ａ', 'ｚ'), ('０', '９'), ('①', '⑳'), ('𝐀', '𝐳')]),
        2 => select(&[
            "4\u{FE0F}\u{20E3}", "1\u{20E3}", "#\u{FE0F}\u{20E3}", "😀", "🔥", "💋", "👩\u{200D}💼",
            "🇺🇸", "🅰", "ﬁ", "Ⅻ", "ß", "ẞ", "İ", "ı", "ǅ", "Ω", "ℌ", "㎏", "…", "€", "£", "₹",
        ][..]).prop_map(String::from),
        3 => select(&[
            "passport", "p@ssp0rt", "whatsapp", "w h a t s a p p", "J.O.B.S", "four", "one",
            "five", "oh", "earn ", "$2,000 weekly", "5000 euro a month", "age 16", "17 yo",
            "i'm 15", "no experience", "visa", "flights paid", "+1 415 555 0123", "@handle",
            "a@b.com", "www.x.com", "http://", "kept safe", "fresh", "young", "incall",
        ][..]).prop_map(String::from),
    ]
}

/// Text built from adversarial fragments.
fn adversarial() -> impl Strategy<Value = String> {
    proptest::collection::vec(fragment(), 0..48).prop_map(|v| v.concat())
}

// ---------------------------------------------------------------------------------------------
// Checks (return Err with a message rather than panic, so proptest shrinks)

fn check_normalize(input: &str) -> Result<(), TestCaseError> {
    let n = normalize(input);
    let again = normalize(n.text());
    prop_assert_eq!(
        again.text(),
        n.text(),
        "text() not idempotent for {:?}",
        input
    );
    let again = normalize(n.folded());
    prop_assert_eq!(
        again.folded(),
        n.folded(),
        "folded() not idempotent for {:?}",
        input
    );
    check_map(
        input,
        n.text(),
        |r| n.text_to_original(r),
        "text_to_original",
    )?;
    check_map(
        input,
        n.folded(),
        |r| n.folded_to_original(r),
        "folded_to_original",
    )?;
    Ok(())
}

/// Every char-boundary range of `view` maps to a char-boundary range of `original`.
fn check_map(
    original: &str,
    view: &str,
    map: impl Fn(std::ops::Range<usize>) -> std::ops::Range<usize>,
    what: &str,
) -> Result<(), TestCaseError> {
    let bounds: Vec<usize> = view
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(view.len()))
        .collect();
    for (k, &a) in bounds.iter().enumerate() {
        for &b in &bounds[k..] {
            let o = map(a..b);
            prop_assert!(
                o.start <= o.end
                    && o.end <= original.len()
                    && original.is_char_boundary(o.start)
                    && original.is_char_boundary(o.end),
                "{}({}..{}) = {:?} is not a char-boundary range of {:?} (len {}), view {:?}",
                what,
                a,
                b,
                o,
                original,
                original.len(),
                view
            );
        }
    }
    Ok(())
}

fn check_screen(text: &str) -> Result<(), TestCaseError> {
    let ad = Ad::new("p", text);
    let v = screener().screen(&ad);
    check_verdict(text, &v)?;
    let again = screener().screen(&ad);
    prop_assert!(
        again == v,
        "screening {:?} twice gave different verdicts",
        text
    );
    Ok(())
}

fn check_verdict(text: &str, v: &Verdict) -> Result<(), TestCaseError> {
    prop_assert!(
        v.score.is_finite() && (0.0..=1.0).contains(&v.score),
        "score {} for {:?}",
        v.score,
        text
    );
    for ind in &v.indicators {
        for e in &ind.evidence {
            prop_assert_eq!(
                text.get(e.start..e.end),
                Some(e.text.as_str()),
                "evidence {}..{} of {} in {:?}",
                e.start,
                e.end,
                &ind.id,
                text
            );
        }
    }
    for e in &v.entities {
        prop_assert_eq!(
            text.get(e.start..e.end),
            Some(e.text.as_str()),
            "entity {:?} {}..{} in {:?}",
            e.kind,
            e.start,
            e.end,
            text
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(config())]

    #[test]
    fn normalize_any_unicode(s in any::<String>()) {
        check_normalize(&s)?;
    }

    #[test]
    fn normalize_adversarial(s in adversarial()) {
        check_normalize(&s)?;
    }

    #[test]
    fn screen_any_unicode(s in any::<String>()) {
        check_screen(&s)?;
    }

    #[test]
    fn screen_adversarial(s in adversarial()) {
        check_screen(&s)?;
    }

    /// A batch shares buffers across its ads (stage by stage): nothing may leak from one ad
    /// into the next, so a batch gives each ad the verdict it gets alone.
    #[test]
    fn batch_equals_one_at_a_time(
        texts in proptest::collection::vec(adversarial(), 1..80),
        cut in 0usize..80,
    ) {
        check_batch(&texts, cut)?;
    }

    #[test]
    fn batch_equals_one_at_a_time_any_unicode(
        texts in proptest::collection::vec(any::<String>(), 1..40),
        cut in 0usize..40,
    ) {
        check_batch(&texts, cut)?;
    }
}

/// `texts` screened as two batches cut at `cut` through one set of buffers (the second reuses
/// what the first left, sometimes in more slots than it had), and in parallel, each ad against
/// its verdict alone; and the analysis inside each verdict against `Analyzer::analyze`, the path
/// training takes.
fn check_batch(texts: &[String], cut: usize) -> Result<(), TestCaseError> {
    let ads: Vec<Ad> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| Ad::new(format!("ad-{i}"), t.as_str()))
        .collect();
    let refs: Vec<&Ad> = ads.iter().collect();
    let (first, second) = refs.split_at(cut.min(refs.len()));
    let mut scratch = adscreen::screener::Scratch::default();
    let mut reused = screener().screen_many(first, &mut scratch);
    reused.extend(screener().screen_many(second, &mut scratch));
    let parallel = screener().screen_batch(&ads);
    prop_assert_eq!(reused.len(), ads.len());
    prop_assert_eq!(parallel.len(), ads.len());
    for ((ad, a), b) in ads.iter().zip(&reused).zip(&parallel) {
        let alone = screener().screen_with(ad, &mut adscreen::screener::Scratch::default());
        prop_assert_eq!(a, &alone, "{:?}", ad.text);
        prop_assert_eq!(b, &alone, "{:?}", ad.text);
        let analysis = screener()
            .analyzer()
            .analyze(&ad.text, &mut adscreen::normalize::Normalized::default());
        prop_assert_eq!(&analysis.entities, &alone.entities, "{:?}", ad.text);
        let fired: Vec<&str> = alone.indicators.iter().map(|i| i.id.as_str()).collect();
        let defs = screener().analyzer().catalogue().indicators();
        let analysed: Vec<&str> = analysis
            .hits
            .iter()
            .map(|h| defs[h.indicator].id.as_str())
            .collect();
        prop_assert_eq!(fired, analysed, "{:?}", ad.text);
    }
    Ok(())
}
