//! `Ad` in, `Verdict` out: the types that cross the API and get serialised.

use serde::Serialize;

use crate::amp::Amp;
use crate::entities::Entity;

/// One advertisement to screen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ad {
    pub id: String,
    pub text: String,
    /// `field=value` metadata the model may use (for example EMSCAD's `has_company_logo`).
    pub meta: Vec<(String, String)>,
}

impl Ad {
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Self {
        Ad {
            id: id.into(),
            text: text.into(),
            meta: Vec::new(),
        }
    }
}

/// Where a weight came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightSource {
    /// Fitted on labelled data.
    Learned,
    /// The catalogue's documented prior: the training data did not support a learned weight.
    Prior,
}

/// A span of the original ad: byte offsets and the text they hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// One indicator found in an ad.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorFound {
    pub id: String,
    pub category: String,
    /// Log-odds this indicator added to the score.
    pub weight: f64,
    pub weight_source: WeightSource,
    pub evidence: Vec<Evidence>,
}

/// A text feature that pushed the score up, for the reviewer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Term {
    pub term: String,
    pub contribution: f64,
}

/// How worrying a score is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Below the model's decision threshold.
    Low,
    /// At or above the decision threshold.
    Elevated,
    /// At or above the model's high-precision threshold.
    High,
}

/// The model that produced a verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelRef {
    pub name: String,
    pub version: String,
}

/// The screening result of one ad.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub id: String,
    /// Probability-like score in [0, 1].
    pub score: f64,
    pub flagged: bool,
    pub band: Band,
    pub indicators: Vec<IndicatorFound>,
    pub entities: Vec<Entity>,
    pub amp: Amp,
    /// The text features that raised the score most.
    pub terms: Vec<Term>,
    /// Only the first `max_ad_bytes` of the ad were screened.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    pub model: ModelRef,
}
