//! The compiled WordPiece matcher against the `tokenizers` reference: identical ids on the sample
//! ads, on both shared datasets and on random text, with the tokenizer shipped in the default
//! model and with one trained here on another corpus.

use adscreen::model::ModelBody;
use adscreen::normalize::normalize;
use adscreen::tokens::{reference, reference_ids, train_tokenizer, WordPieceMatcher};
use proptest::prelude::*;

use crate::util::shared_texts;

fn sample_texts() -> Vec<String> {
    std::fs::read_to_string("datasets/sample/ads.jsonl")
        .expect("sample ads")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("sample line");
            v["text"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

fn assert_identical(json: &str, texts: &[String]) {
    let slow = reference(json).expect("reference tokenizer");
    let fast = WordPieceMatcher::from_tokenizer_json(json).expect("compiled tokenizer");
    let mut ids = Vec::new();
    for t in texts {
        // Both see the normalised text, as in scoring; also the raw text, as a harder input.
        for input in [normalize(t).text().to_string(), t.clone()] {
            ids.clear();
            fast.encode_into(&input, &mut ids);
            assert_eq!(
                ids,
                reference_ids(&slow, &input).expect("reference encode"),
                "token ids differ on {input:?}"
            );
        }
    }
}

#[test]
fn shipped_tokenizer_matches_reference_on_all_data() {
    let model = ModelBody::builtin().expect("default model");
    let mut texts = sample_texts();
    texts.extend(shared_texts());
    assert!(texts.len() > 4000, "the shared datasets are missing");
    assert_identical(&model.tokenizer_json(), &texts);
}

#[test]
fn tokenizer_trained_on_sms_matches_reference_on_job_ads() {
    let all = shared_texts();
    let sms: Vec<String> = all
        .iter()
        .skip(737)
        .map(|t| normalize(t).text().to_string())
        .collect();
    let json = train_tokenizer(sms.iter().map(String::as_str), 2000).expect("training");
    assert_identical(&json, &all[..737]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn compiled_matches_reference_on_random_text(s in "\\PC{0,200}", t in "[a-z0-9 #.,!@'-]{0,200}") {
        static JSON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let json = JSON.get_or_init(|| ModelBody::builtin().expect("default model").tokenizer_json());
        assert_identical(json, &[s, t]);
    }
}
