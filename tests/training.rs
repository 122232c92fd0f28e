//! Training and model files: determinism for a seed, linfa's label orientation, CV metrics
//! stored, and model files that fail loudly when truncated, tampered with or of another version.

use adscreen::ad::WeightSource;
use adscreen::indicators::Catalogue;
use adscreen::model::{ModelBody, TrainingInfo};
use adscreen::screener::Analyzer;
use adscreen::train::{fit, Example, ModelMeta, TrainParams};
use adscreen::{Ad, Screener};

fn sms(n: usize) -> Vec<Example> {
    std::fs::read_to_string("../shared/datasets/sms-spam/train.jsonl")
        .expect("shared SMS dataset")
        .lines()
        .take(n)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("line");
            Example {
                text: v["text"].as_str().unwrap_or_default().to_string(),
                label: v["label"].as_i64() == Some(1),
                meta: Vec::new(),
            }
        })
        .collect()
}

fn meta() -> ModelMeta {
    ModelMeta {
        name: "test".into(),
        version: "1".into(),
        description: String::new(),
        text_fields: vec!["text".into()],
        meta_fields: Vec::new(),
        info: TrainingInfo::default(),
    }
}

fn small_params(seed: u64) -> TrainParams {
    TrainParams {
        folds: 3,
        seed,
        max_features: 1000,
        vocab_size: 1000,
        alphas: vec![0.1, 1.0],
        ..TrainParams::default()
    }
}

fn train(examples: &[Example], seed: u64) -> ModelBody {
    let analyzer = Analyzer::new(Catalogue::builtin().expect("catalogue")).expect("engine");
    fit(&small_params(seed), &analyzer, examples, meta(), &|_| {}).expect("training")
}

#[test]
fn training_is_deterministic_for_a_seed() {
    let data = sms(800);
    let a = train(&data, 7);
    let b = train(&data, 7);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    let c = train(&data, 8);
    assert_ne!(
        a.training.cv.fold_roc_auc, c.training.cv.fold_roc_auc,
        "the seed changes the folds"
    );
}

#[test]
fn positive_class_scores_higher_whatever_linfa_calls_positive() {
    // Spam is the rarer class here; linfa makes the more frequent class its "positive" one.
    let data = sms(1500);
    let model = train(&data, 1);
    assert!(
        model.training.cv.roc_auc > 0.9,
        "CV ROC-AUC {}",
        model.training.cv.roc_auc
    );
    let screener = Screener::new(model, Catalogue::builtin().unwrap()).unwrap();
    let spam = screener.screen(&Ad::new(
        "s",
        "WINNER!! You have won a £1000 cash prize. Text CLAIM to 80062 now. T&C apply",
    ));
    let ham = screener.screen(&Ad::new(
        "h",
        "ok see you at home later, I'll pick up some bread",
    ));
    assert!(
        spam.score > ham.score,
        "spam {} vs ham {}",
        spam.score,
        ham.score
    );
}

#[test]
fn indicator_weights_say_where_they_came_from() {
    let model = ModelBody::builtin().expect("default model");
    let source = |id: &str| {
        model
            .indicators
            .iter()
            .find(|w| w.id == id)
            .map(|w| w.source)
    };
    // No escort ads in the training data: escort indicators must stay on their priors.
    assert_eq!(source("escort_ad"), Some(WeightSource::Prior));
    assert_eq!(source("minor_cue"), Some(WeightSource::Prior));
    assert!(model
        .indicators
        .iter()
        .any(|w| w.source == WeightSource::Learned));
    for w in &model.indicators {
        if w.source == WeightSource::Prior {
            let def = Catalogue::builtin().unwrap();
            let d = def.indicators().iter().find(|d| d.id == w.id).unwrap();
            assert_eq!(w.weight, d.prior_weight, "{} prior", w.id);
        }
    }
    let v = Screener::builtin()
        .unwrap()
        .screen(&Ad::new("e", "Incall only, GFE, 200 roses per hour"));
    let escort = v
        .indicators
        .iter()
        .find(|i| i.id == "escort_ad")
        .expect("escort_ad fires");
    assert_eq!(escort.weight_source, WeightSource::Prior);
}

#[test]
fn damaged_model_files_fail_loudly() {
    let good = adscreen::model::DEFAULT_MODEL_JSON;
    assert!(ModelBody::from_json(good, "good").is_ok());
    let truncated = &good[..good.len() / 2];
    let e = ModelBody::from_json(truncated, "t")
        .unwrap_err()
        .to_string();
    assert!(e.contains("truncated") || e.contains("JSON"), "{e}");
    // Change one weight digit inside the body.
    let at = good.find("\"intercept\":").expect("intercept") + "\"intercept\":".len();
    let mut tampered = good.to_string();
    let digit = tampered[at..].find(|c: char| c.is_ascii_digit()).unwrap() + at;
    let d = tampered.as_bytes()[digit];
    tampered.replace_range(digit..digit + 1, if d == b'9' { "8" } else { "9" });
    let e = ModelBody::from_json(&tampered, "x")
        .unwrap_err()
        .to_string();
    assert!(e.contains("checksum"), "{e}");
    let other = good.replacen("\"format_version\":1", "\"format_version\":99", 1);
    let e = ModelBody::from_json(&other, "v").unwrap_err().to_string();
    assert!(e.contains("version"), "{e}");
    let e = ModelBody::from_json("{\"hello\":1}", "h")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not an adscreen model"), "{e}");
    // Session 7 reads only the head fields first; other shapes still get these answers.
    for (text, want) in [
        ("[1, 2]", "not an adscreen model"),
        ("\"adscreen-model\"", "not an adscreen model"),
        ("{\"format\": 7}", "not an adscreen model"),
        ("{\"format\": \"adscreen-model\"", "not valid JSON"),
        (
            "{\"format\": \"adscreen-model\"} trailing",
            "not valid JSON",
        ),
    ] {
        let e = ModelBody::from_json(text, "h").unwrap_err().to_string();
        assert!(e.contains(want), "{text}: {e}");
    }
}

#[test]
fn bad_parameters_are_refused_before_fitting() {
    let analyzer = Analyzer::new(Catalogue::builtin().unwrap()).unwrap();
    let data = sms(100);
    let mut p = small_params(1);
    p.folds = 1;
    assert!(fit(&p, &analyzer, &data, meta(), &|_| {}).is_err());
    let mut p = small_params(1);
    p.prevalence = Some(1.5);
    assert!(fit(&p, &analyzer, &data, meta(), &|_| {}).is_err());
    let one_class: Vec<Example> = data.iter().filter(|e| !e.label).cloned().collect();
    let e = fit(&small_params(1), &analyzer, &one_class, meta(), &|_| {}).unwrap_err();
    assert!(e.to_string().contains("each class"), "{e}");
}
