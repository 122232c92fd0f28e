//! The indicator engine's literal prefilter is sound: every catalogue pattern that matches a
//! text (decided by a plain `RegexSet` of all patterns, the engine's previous design) is among
//! the candidates the prefilter lets run. Checked on both views of the sample ads, the indicator
//! corpora, both shared datasets and random text made of the catalogue's own words.

use adscreen::indicators::{Catalogue, IndicatorEngine};
use adscreen::normalize::normalize;
use proptest::prelude::*;
use regex::bytes::{RegexSet, RegexSetBuilder};

use crate::util::{read_jsonl_ads, sample_jsonl, shared_texts};

struct Check {
    engine: IndicatorEngine,
    text_set: RegexSet,
    folded_set: RegexSet,
}

impl Check {
    fn new() -> Self {
        let catalogue = Catalogue::builtin().expect("catalogue");
        let set = |folded: bool| {
            let sources = catalogue.indicators().iter().flat_map(|d| {
                if folded {
                    d.folded_patterns.clone()
                } else {
                    d.patterns.clone()
                }
            });
            RegexSetBuilder::new(sources)
                .unicode(false)
                .size_limit(1 << 26)
                .dfa_size_limit(1 << 28)
                .build()
                .expect("pattern set")
        };
        Check {
            text_set: set(false),
            folded_set: set(true),
            engine: IndicatorEngine::new(catalogue).expect("engine"),
        }
    }

    fn assert_sound(&self, original: &str) {
        let n = normalize(original);
        for (set, view, folded) in [
            (&self.text_set, n.text(), false),
            (&self.folded_set, n.folded(), true),
        ] {
            let cands = self.engine.candidate_patterns(view.as_bytes(), folded);
            for p in set.matches(view.as_bytes()).iter() {
                assert!(
                    cands.binary_search(&p).is_ok(),
                    "pattern {p} (folded: {folded}) matches but was not a candidate in {view:?}"
                );
            }
        }
    }
}

fn corpus_texts() -> Vec<String> {
    let mut out = Vec::new();
    for file in [
        "indicators.toml",
        "indicators-2.toml",
        "indicators-holdout2.toml",
    ] {
        let path = format!("tests/data/{file}");
        let text = std::fs::read_to_string(&path).expect("corpus file");
        let v: toml::Value = toml::from_str(&text).expect("corpus toml");
        for case in v["case"].as_array().expect("cases") {
            out.push(case["text"].as_str().expect("case text").to_string());
        }
    }
    out
}

#[test]
fn prefilter_is_sound_on_all_data() {
    let check = Check::new();
    let mut texts: Vec<String> = read_jsonl_ads(&sample_jsonl())
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    texts.extend(corpus_texts());
    let corpus = texts.len();
    texts.extend(shared_texts());
    assert!(
        corpus > 700 && texts.len() > 5000,
        "corpora or shared data missing"
    );
    for t in &texts {
        check.assert_sound(t);
    }
}

/// Words and fragments the patterns are built from, so random text often comes close to a match.
const WORDS: &[&str] = &[
    "passport",
    "visa",
    "paid",
    "free",
    "flights",
    "we",
    "will",
    "pay",
    "your",
    "deducted",
    "from",
    "salary",
    "taken",
    "fee",
    "no",
    "experience",
    "needed",
    "whatsapp",
    "girls",
    "new",
    "in",
    "town",
    "young",
    "18",
    "hours",
    "a",
    "day",
    "7",
    "days",
    "week",
    "keep",
    "documents",
    "accommodation",
    "provided",
    "agency",
    "abroad",
    "urgent",
    "hiring",
    "$",
    "5000",
    "euro",
    "cash",
    "loan",
    "debt",
    "owe",
    "us",
    ".",
    ",",
    "!",
    "-",
    "the",
    "of",
    "to",
    "and",
    "work",
];

proptest! {
    #[test]
    fn prefilter_is_sound_on_random_text(words in prop::collection::vec(0..WORDS.len(), 1..60),
                                         glue in prop::collection::vec(prop::sample::select(vec![" ", "", "  ", "\n", "-"]), 60)) {
        thread_local!(static CHECK: Check = Check::new());
        let text: String = words.iter().zip(glue.iter().cycle()).map(|(&w, g)| format!("{}{g}", WORDS[w])).collect();
        CHECK.with(|c| c.assert_sound(&text));
    }
}
