//! Real texts for the library's unit tests: every ad of the shared datasets
//! (`../shared/datasets/`, beside the repository) and of the repository's sample.

/// The texts of the EMSCAD subset's dev split (its four text fields joined), the SMS train
/// split and `datasets/sample/ads.jsonl`.
pub(crate) fn shared_and_sample_texts() -> Vec<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut texts = Vec::new();
    for path in [
        "../shared/datasets/emscad-subset/dev.jsonl",
        "../shared/datasets/sms-spam/train.jsonl",
        "datasets/sample/ads.jsonl",
    ] {
        let path = format!("{root}/{path}");
        let data = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        for line in data.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let fields = ["title", "company_profile", "description", "requirements"];
            let text = match v["text"].as_str() {
                Some(t) => t.to_string(),
                None => fields.map(|f| v[f].as_str().unwrap_or("")).join("\n"),
            };
            texts.push(text);
        }
    }
    texts
}
