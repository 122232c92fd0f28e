//! Stage 5: the linear model — its file format, loading and checking, and the weights used for
//! scoring. Fitting lives in [`crate::train`].
//!
//! A model is a directory `models/NAME/` holding `model.json` (and a README). The file is
//! self-describing: format and version, the feature layout, the trained tokenizer, every weight,
//! which indicator weights were learned and which are the catalogue's priors, the thresholds, and
//! how it was trained (data SHA-256, rows, CV metrics, date, command). A SHA-256 of the body is
//! stored beside it, so a truncated or edited file fails to load instead of scoring wrongly.

use std::path::{Path, PathBuf};

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ad::WeightSource;
use crate::error::{Error, Result};
use crate::features::{MetaFeatures, TextFeatures};
use crate::metrics::ThresholdRule;

/// The `format` string of every adscreen model file.
pub const FORMAT: &str = "adscreen-model";
/// Version of the file layout. Files of another version are refused.
pub const FORMAT_VERSION: u32 = 1;
/// Version of everything that turns text into features (normalisation, tokenisation, feature
/// layout). Bumped when a change would make an old model's weights mean something else; a model
/// trained under another version is refused.
pub const FEATURE_VERSION: u32 = 1;

/// The default model, embedded so that the binary and the library work without any file.
pub const DEFAULT_MODEL_JSON: &str = include_str!("../models/default/model.json");

/// One indicator's weight in a model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IndicatorWeight {
    pub id: String,
    pub weight: f64,
    pub source: WeightSource,
    /// Training ads in which the indicator fired.
    pub support: usize,
}

/// Cross-validated metrics stored with a model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct CvMetrics {
    pub folds: usize,
    pub roc_auc: f64,
    pub pr_auc: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub brier: f64,
    /// Per-fold ROC-AUC.
    pub fold_roc_auc: Vec<f64>,
    /// The deployment prevalence the thresholds were chosen for (`--prevalence`), if any.
    #[serde(default)]
    pub prevalence: Option<f64>,
    /// CV precision and F1 re-weighted to that prevalence.
    #[serde(default)]
    pub precision_at_prevalence: Option<f64>,
    #[serde(default)]
    pub f1_at_prevalence: Option<f64>,
}

/// One training data file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DataFile {
    pub path: String,
    pub sha256: String,
    pub records: usize,
}

/// How a model was trained.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct TrainingInfo {
    pub data: Vec<DataFile>,
    pub rows: usize,
    pub positives: usize,
    /// Records skipped because they could not be read (bad JSON, no label…).
    pub skipped: usize,
    pub seed: u64,
    pub alpha: f64,
    pub alphas_tried: Vec<(f64, f64)>,
    pub cv: CvMetrics,
    pub threshold_rule: Option<ThresholdRule>,
    pub date: String,
    pub command: String,
    pub adscreen_version: String,
    pub catalogue_sha256: String,
}

/// Everything in a model file but the checksum.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelBody {
    pub name: String,
    pub version: String,
    pub description: String,
    pub feature_version: u32,
    pub text_fields: Vec<String>,
    /// The trained `tokenizers` tokenizer, as its own JSON.
    pub tokenizer: serde_json::Value,
    pub text: TextFeatures,
    pub text_weights: Vec<f32>,
    pub indicators: Vec<IndicatorWeight>,
    pub meta: MetaFeatures,
    pub meta_weights: Vec<f32>,
    pub intercept: f64,
    /// Scores at or above this are flagged (band `elevated`).
    pub threshold: f64,
    /// Scores at or above this are band `high` (chosen for precision on cross-validation).
    pub high_threshold: f64,
    pub training: TrainingInfo,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile<'a> {
    format: String,
    format_version: u32,
    body_sha256: String,
    /// Kept as the exact text that was hashed.
    #[serde(borrow)]
    body: &'a serde_json::value::RawValue,
}

/// What a file says it is, read before the rest. Every other field is skipped unparsed: read
/// as a `serde_json::Value`, the 1.7 MB default model took a third of the model's load time.
#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    format: serde_json::Value,
    #[serde(default)]
    format_version: serde_json::Value,
}

/// The path of the model file of a model directory (or the file itself).
pub fn model_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("model.json")
    } else {
        path.to_path_buf()
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

impl ModelBody {
    /// Parses and checks a model file's text; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Self> {
        let Ok(head) = serde_json::from_str::<Head>(text) else {
            // Not even shaped like an object: say whether it is JSON at all.
            return Err(match serde_json::from_str::<IgnoredAny>(text) {
                Err(e) => Error::model(origin, format!("not valid JSON (truncated?): {e}")),
                Ok(_) => Error::model(origin, "not an adscreen model file"),
            });
        };
        if head.format.as_str() != Some(FORMAT) {
            return Err(Error::model(origin, "not an adscreen model file"));
        }
        let version = head.format_version.as_u64();
        if version != Some(u64::from(FORMAT_VERSION)) {
            return Err(Error::model(
                origin,
                format!("format version {version:?}, this adscreen reads version {FORMAT_VERSION}"),
            ));
        }
        let file: ModelFile = serde_json::from_str(text)
            .map_err(|e| Error::model(origin, format!("malformed: {e}")))?;
        if sha256_hex(file.body.get().as_bytes()) != file.body_sha256 {
            return Err(Error::model(
                origin,
                "checksum mismatch: the file was modified or damaged",
            ));
        }
        let body: ModelBody = serde_json::from_str(file.body.get())
            .map_err(|e| Error::model(origin, format!("malformed body: {e}")))?;
        body.check(origin)?;
        Ok(body)
    }

    /// Reads a model from a directory or file.
    pub fn load(path: &Path) -> Result<Self> {
        let file = model_path(path);
        let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
        Self::from_json(&text, &file.display().to_string())
    }

    /// The embedded default model.
    pub fn builtin() -> Result<Self> {
        Self::from_json(DEFAULT_MODEL_JSON, "<builtin default model>")
    }

    /// Shape checks that hold for every valid model.
    fn check(&self, origin: &str) -> Result<()> {
        if self.feature_version != FEATURE_VERSION {
            return Err(Error::model(
                origin,
                format!(
                    "trained with feature version {}, this adscreen computes version {FEATURE_VERSION}; retrain it",
                    self.feature_version
                ),
            ));
        }
        let bad = |what: &str| Err(Error::model(origin, what.to_string()));
        if self.text.ngrams.len() != self.text.idf.len()
            || self.text.idf.len() != self.text_weights.len()
        {
            return bad("text feature and weight counts differ");
        }
        if self.meta.values.len() != self.meta_weights.len() {
            return bad("metadata feature and weight counts differ");
        }
        let finite = self.text_weights.iter().all(|w| w.is_finite())
            && self.meta_weights.iter().all(|w| w.is_finite())
            && self.text.idf.iter().all(|w| w.is_finite())
            && self.indicators.iter().all(|w| w.weight.is_finite())
            && self.intercept.is_finite();
        if !finite {
            return bad("non-finite weight");
        }
        if !(0.0..=1.0).contains(&self.threshold) || !(0.0..=1.0).contains(&self.high_threshold) {
            return bad("threshold outside [0, 1]");
        }
        Ok(())
    }

    /// Writes `DIR/model.json`, creating the directory.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let body_json = serde_json::to_string(self)
            .map_err(|e| Error::model(dir.display().to_string(), e.to_string()))?;
        let raw = serde_json::value::RawValue::from_string(body_json)
            .map_err(|e| Error::model(dir.display().to_string(), e.to_string()))?;
        let file = ModelFile {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            body_sha256: sha256_hex(raw.get().as_bytes()),
            body: &raw,
        };
        let text = serde_json::to_string(&file)
            .map_err(|e| Error::model(dir.display().to_string(), e.to_string()))?;
        let path = dir.join("model.json");
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
    }

    /// The tokenizer JSON as text.
    pub fn tokenizer_json(&self) -> String {
        self.tokenizer.to_string()
    }
}

/// SHA-256 of a file, hex.
pub fn file_sha256(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|e| Error::io(path, e))?;
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// SHA-256 of a string, hex.
pub fn text_sha256(text: &str) -> String {
    sha256_hex(text.as_bytes())
}
