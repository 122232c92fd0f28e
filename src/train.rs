//! Fitting a model: tokenizer training, feature selection, stratified k-fold cross-validation of
//! the L2 strength, threshold choice, and the final `linfa-logistic` fit.
//!
//! `linfa-logistic` takes a dense matrix and has no class weights, so:
//! - the feature count is bounded: `max_features` text columns (default 65,536), lowered so one
//!   dense `f32` matrix stays under `max_matrix_bytes` (default 1 GiB): 100,000 ads get ~1,300
//!   columns, 10,000 ads ~13,000;
//! - the matrix is built column-major, the layout its L-BFGS is several times faster on;
//! - class imbalance is handled by oversampling the minority class (seeded) in every fit;
//! - its loss is summed over rows, so `alpha` is chosen by cross-validation on the same data size
//!   it is then used with.
//!
//! Indicator columns are *learned* only when the indicator fired in at least
//! `min_indicator_support` training ads; the others keep the catalogue's prior weight, added to
//! the score as a fixed offset (in cross-validation too, so the CV metrics are those of the model
//! as it will score).

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, ShapeBuilder};
use rayon::prelude::*;

use crate::ad::WeightSource;
use crate::error::{Error, Result};
use crate::features::{fit_text_features, MetaFeatures, TextVectorizer, VectorScratch};
use crate::metrics::{self, Confusion, ThresholdRule};
use crate::model::{CvMetrics, IndicatorWeight, ModelBody, TrainingInfo, FEATURE_VERSION};
use crate::normalize::Normalized;
use crate::screener::{sigmoid, Analyzer};
use crate::tokens::{train_tokenizer, WordPieceMatcher};

/// Training parameters, checked before fitting (the `linfa` way).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainParams {
    pub folds: usize,
    pub seed: u64,
    pub max_features: usize,
    pub vocab_size: usize,
    /// L2 strengths tried by cross-validation.
    pub alphas: Vec<f64>,
    pub threshold_rule: ThresholdRule,
    /// Precision the `high` band aims for on cross-validation.
    pub high_precision: f64,
    pub min_indicator_support: usize,
    pub max_iterations: u64,
    /// Bound on one dense training matrix; `max_features` is lowered to respect it.
    pub max_matrix_bytes: usize,
    /// The share of positives where the model will be used, when it differs from the training
    /// sample's. Balanced fitting calibrates scores to a 50% prior; with a prevalence the
    /// intercept is shifted by its log-odds (prior-shift correction) and thresholds are chosen
    /// for precision and F1 at that prevalence.
    pub prevalence: Option<f64>,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            folds: 5,
            seed: 788,
            max_features: 65536,
            vocab_size: 8000,
            alphas: vec![0.001, 0.01, 0.1, 1.0],
            max_matrix_bytes: 1 << 30,
            prevalence: None,
            threshold_rule: ThresholdRule::BestF1,
            high_precision: 0.97,
            min_indicator_support: 10,
            max_iterations: 300,
        }
    }
}

impl TrainParams {
    /// Checks the parameters against the data they will be used on.
    pub fn check(&self, rows: usize, positives: usize) -> Result<()> {
        let bad = |m: String| Err(Error::Train(m));
        if self.folds < 2 {
            return bad(format!("folds must be at least 2, got {}", self.folds));
        }
        if self.alphas.is_empty() || self.alphas.iter().any(|a| !a.is_finite() || *a < 0.0) {
            return bad("alphas must be finite and non-negative".into());
        }
        if self.max_features == 0 || self.vocab_size < 10 {
            return bad("max_features must be positive and vocab_size at least 10".into());
        }
        let negatives = rows - positives;
        if positives < self.folds || negatives < self.folds {
            return bad(format!(
                "need at least {} examples of each class for {}-fold cross-validation; got {positives} positive, {negatives} negative",
                self.folds, self.folds
            ));
        }
        if let Some(p) = self.prevalence {
            if !(p > 0.0 && p < 1.0) {
                return bad(format!("prevalence must be within (0, 1), got {p}"));
            }
        }
        match self.threshold_rule {
            ThresholdRule::Precision(p) | ThresholdRule::Recall(p) if !(0.0..=1.0).contains(&p) => {
                bad(format!("target {p} is outside [0, 1]"))
            }
            _ => Ok(()),
        }
    }
}

/// One labelled training ad.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub text: String,
    pub label: bool,
    pub meta: Vec<(String, String)>,
}

/// What the model describes about itself (name, fields, provenance).
#[derive(Debug, Clone)]
pub struct ModelMeta {
    pub name: String,
    pub version: String,
    pub description: String,
    pub text_fields: Vec<String>,
    pub meta_fields: Vec<String>,
    pub info: TrainingInfo,
}

/// A small deterministic generator (SplitMix64) for fold assignment and oversampling.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// Stratified fold number of each row: rows of each class are shuffled and dealt round-robin.
pub fn stratified_folds(labels: &[bool], folds: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng(seed);
    let mut fold = vec![0; labels.len()];
    let mut k = 0;
    for class in [true, false] {
        let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rng.shuffle(&mut idx);
        for i in idx {
            fold[i] = k % folds;
            k += 1;
        }
    }
    fold
}

/// Rows to fit on: `rows`, plus random duplicates of the minority class until both classes are
/// equally represented.
fn balanced(rows: &[usize], labels: &[bool], seed: u64) -> Vec<usize> {
    let (pos, neg): (Vec<usize>, Vec<usize>) = rows.iter().partition(|&&r| labels[r]);
    let (minority, gap) = if pos.len() < neg.len() {
        (&pos, neg.len() - pos.len())
    } else {
        (&neg, pos.len() - neg.len())
    };
    let mut out = rows.to_vec();
    if minority.is_empty() {
        return out;
    }
    let mut rng = Rng(seed ^ 0xA5A5_5A5A);
    for _ in 0..gap {
        out.push(minority[rng.below(minority.len())]);
    }
    out
}

type SparseRow = Vec<(u32, f32)>;
/// One CV fit's result: alpha index, fold, and (row, held-out score) pairs.
type FoldScores = (usize, usize, Vec<(usize, f64)>);

/// Fitted weights: one per column, and the intercept.
struct Linear {
    w: Vec<f32>,
    b: f64,
}

impl Linear {
    fn logit(&self, row: &SparseRow) -> f64 {
        self.b
            + row
                .iter()
                .map(|&(c, v)| f64::from(self.w[c as usize] * v))
                .sum::<f64>()
    }
}

fn fit_linear(
    rows: &[SparseRow],
    labels: &[bool],
    train_rows: &[usize],
    n_cols: usize,
    alpha: f64,
    params: &TrainParams,
) -> Result<Linear> {
    let n = train_rows.len();
    // Column-major: linfa-logistic's gradient is ~7x faster on it than on row-major.
    let mut x = Array2::<f32>::zeros((n, n_cols).f());
    let mut y = Array1::from_elem(n, false);
    for (i, &r) in train_rows.iter().enumerate() {
        for &(c, v) in &rows[r] {
            x[[i, c as usize]] = v;
        }
        y[i] = labels[r];
    }
    let data = Dataset::new(x, y);
    let fitted = LogisticRegression::default()
        .alpha(alpha as f32)
        .max_iterations(params.max_iterations)
        .gradient_tolerance(1e-4)
        .fit(&data)
        .map_err(|e| Error::Train(format!("linfa-logistic: {e}")))?;
    // linfa picks which label is "positive" itself; orient the weights towards `true`.
    let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
    Ok(Linear {
        w: fitted.params().iter().map(|&w| w * sign).collect(),
        b: f64::from(fitted.intercept() * sign),
    })
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    (p / (1.0 - p)).ln()
}

/// Fits a model on `examples`. `progress` receives one line per step.
pub fn fit(
    params: &TrainParams,
    analyzer: &Analyzer,
    examples: &[Example],
    meta: ModelMeta,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<ModelBody> {
    let labels: Vec<bool> = examples.iter().map(|e| e.label).collect();
    let positives = labels.iter().filter(|&&l| l).count();
    params.check(labels.len(), positives)?;

    progress(&format!("analysing {} ads", examples.len()));
    let analysed: Vec<(String, Vec<usize>)> = examples
        .par_iter()
        .map_init(Normalized::default, |norm, e| {
            let a = analyzer.analyze(&e.text, norm);
            (
                norm.text().to_string(),
                a.hits.iter().map(|h| h.indicator).collect(),
            )
        })
        .collect();

    progress("training the WordPiece vocabulary (tokenizers)");
    let tokenizer_json =
        train_tokenizer(analysed.iter().map(|(t, _)| t.as_str()), params.vocab_size)?;
    let matcher = WordPieceMatcher::from_tokenizer_json(&tokenizer_json)?;
    let docs: Vec<Vec<u32>> = analysed
        .par_iter()
        .map(|(t, _)| {
            let mut ids = Vec::new();
            matcher.encode_into(t, &mut ids);
            ids
        })
        .collect();
    // Two fits run at once on two cores; each dense f32 matrix (rows doubled at worst by
    // balancing) must stay within `max_matrix_bytes`.
    let budget = params.max_matrix_bytes / (4 * 2 * examples.len().max(1));
    let max_features = params.max_features.min(budget.saturating_sub(64).max(256));
    let text_spec = fit_text_features(&docs, max_features);
    let vectorizer = TextVectorizer::new(&text_spec);
    let n_text = vectorizer.len();

    // Indicators: learned where the data supports them, priors elsewhere.
    let defs = analyzer.catalogue().indicators();
    let mut support = vec![0usize; defs.len()];
    for (_, hits) in &analysed {
        for &h in hits {
            support[h] += 1;
        }
    }
    let learned: Vec<usize> = (0..defs.len())
        .filter(|&i| support[i] >= params.min_indicator_support)
        .collect();
    let meta_spec = MetaFeatures::fit(
        &meta.meta_fields,
        &examples.iter().map(|e| e.meta.clone()).collect::<Vec<_>>(),
    );
    let n_cols = n_text + learned.len() + meta_spec.values.len();
    progress(&format!(
        "{} rows, {} columns ({} text, {} learned indicators, {} metadata); {} indicators on priors",
        examples.len(),
        n_cols,
        n_text,
        learned.len(),
        meta_spec.values.len(),
        defs.len() - learned.len()
    ));

    let mut offsets = vec![0.0f64; examples.len()];
    let mut scratch = VectorScratch::default();
    let rows: Vec<SparseRow> = docs
        .iter()
        .zip(&analysed)
        .zip(examples)
        .zip(&mut offsets)
        .map(|(((tokens, (_, hits)), e), offset)| {
            let mut row = Vec::new();
            vectorizer.vectorize(tokens, &mut scratch, &mut row);
            for &h in hits {
                match learned.iter().position(|&l| l == h) {
                    Some(k) => row.push(((n_text + k) as u32, 1.0)),
                    None => *offset += defs[h].prior_weight,
                }
            }
            for c in meta_spec.columns(&e.meta) {
                row.push(((n_text + learned.len()) as u32 + c, 1.0));
            }
            row
        })
        .collect();

    // Cross-validation over alphas: every (alpha, fold) fit is independent.
    let fold_of = stratified_folds(&labels, params.folds, params.seed);
    let jobs: Vec<(usize, usize)> = (0..params.alphas.len())
        .flat_map(|a| (0..params.folds).map(move |f| (a, f)))
        .collect();
    progress(&format!(
        "cross-validating {} alphas x {} folds",
        params.alphas.len(),
        params.folds
    ));
    let results: Vec<Result<FoldScores>> = jobs
        .par_iter()
        .map(|&(a, f)| {
            let train: Vec<usize> = (0..rows.len()).filter(|&r| fold_of[r] != f).collect();
            let train = balanced(&train, &labels, params.seed.wrapping_add(f as u64));
            let model = fit_linear(&rows, &labels, &train, n_cols, params.alphas[a], params)?;
            let held: Vec<(usize, f64)> = (0..rows.len())
                .filter(|&r| fold_of[r] == f)
                .map(|r| (r, sigmoid(model.logit(&rows[r]) + offsets[r])))
                .collect();
            Ok((a, f, held))
        })
        .collect();
    let mut oof = vec![vec![0.0f64; rows.len()]; params.alphas.len()];
    let mut fold_auc = vec![vec![0.0f64; params.folds]; params.alphas.len()];
    for r in results {
        let (a, f, held) = r?;
        let (s, l): (Vec<f64>, Vec<bool>) = held.iter().map(|&(r, s)| (s, labels[r])).unzip();
        fold_auc[a][f] = metrics::roc_auc(&s, &l).unwrap_or(0.5);
        for (r, s) in held {
            oof[a][r] = s;
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let best = (0..params.alphas.len())
        .max_by(|&x, &y| {
            mean(&fold_auc[x])
                .total_cmp(&mean(&fold_auc[y]))
                .then(y.cmp(&x))
        })
        .unwrap_or(0);
    let alpha = params.alphas[best];
    // Prior shift: balanced fits are calibrated to a 50% prior.
    let shift = params.prevalence.map_or(0.0, |p| (p / (1.0 - p)).ln());
    let scores: Vec<f64> = oof[best]
        .iter()
        .map(|&s| sigmoid(logit(s) + shift))
        .collect();
    let scores = &scores;
    let neg_weight = params.prevalence.map_or(1.0, |p| {
        metrics::negative_weight(positives, labels.len() - positives, p)
    });
    let threshold =
        metrics::choose_threshold_weighted(scores, &labels, params.threshold_rule, neg_weight);
    let high_threshold = metrics::choose_threshold_weighted(
        scores,
        &labels,
        ThresholdRule::Precision(params.high_precision),
        neg_weight,
    )
    .max(threshold);
    let c = Confusion::at(scores, &labels, threshold);
    let cv = CvMetrics {
        folds: params.folds,
        roc_auc: metrics::roc_auc(scores, &labels).unwrap_or(0.5),
        pr_auc: metrics::average_precision(scores, &labels).unwrap_or(0.0),
        precision: c.precision(),
        recall: c.recall(),
        f1: c.f1(),
        brier: metrics::brier(scores, &labels),
        fold_roc_auc: fold_auc[best].clone(),
        prevalence: params.prevalence,
        precision_at_prevalence: params.prevalence.map(|_| c.weighted_precision(neg_weight)),
        f1_at_prevalence: params.prevalence.map(|_| c.weighted_f1(neg_weight)),
    };
    progress(&format!(
        "alpha {alpha}: CV ROC-AUC {:.4}, PR-AUC {:.4}, F1 {:.4} at threshold {threshold:.4}",
        cv.roc_auc, cv.pr_auc, cv.f1
    ));

    progress("final fit on all rows");
    let all = balanced(&(0..rows.len()).collect::<Vec<_>>(), &labels, params.seed);
    let model = fit_linear(&rows, &labels, &all, n_cols, alpha, params)?;

    let indicators = defs
        .iter()
        .enumerate()
        .map(|(i, d)| match learned.iter().position(|&l| l == i) {
            Some(k) => IndicatorWeight {
                id: d.id.clone(),
                weight: f64::from(model.w[n_text + k]),
                source: WeightSource::Learned,
                support: support[i],
            },
            None => IndicatorWeight {
                id: d.id.clone(),
                weight: d.prior_weight,
                source: WeightSource::Prior,
                support: support[i],
            },
        })
        .collect();
    let mut info = meta.info;
    info.rows = examples.len();
    info.positives = positives;
    info.seed = params.seed;
    info.alpha = alpha;
    info.alphas_tried = params
        .alphas
        .iter()
        .enumerate()
        .map(|(a, &x)| (x, mean(&fold_auc[a])))
        .collect();
    info.cv = cv;
    info.threshold_rule = Some(params.threshold_rule);
    let tokenizer =
        serde_json::from_str(&tokenizer_json).map_err(|e| Error::Tokenizer(e.to_string()))?;
    Ok(ModelBody {
        name: meta.name,
        version: meta.version,
        description: meta.description,
        feature_version: FEATURE_VERSION,
        text_fields: meta.text_fields,
        tokenizer,
        text: text_spec,
        text_weights: model.w[..n_text].to_vec(),
        indicators,
        meta: meta_spec,
        meta_weights: model.w[n_text + learned.len()..].to_vec(),
        intercept: model.b + shift,
        threshold,
        high_threshold,
        training: info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_stratified_and_seeded() {
        let labels: Vec<bool> = (0..100).map(|i| i % 4 == 0).collect();
        let f = stratified_folds(&labels, 5, 1);
        assert_eq!(f, stratified_folds(&labels, 5, 1));
        assert_ne!(f, stratified_folds(&labels, 5, 2));
        for k in 0..5 {
            let pos = (0..100).filter(|&i| f[i] == k && labels[i]).count();
            assert_eq!(pos, 5);
        }
    }

    #[test]
    fn balancing_equalises_classes() {
        let labels = [true, false, false, false, false];
        let rows = balanced(&[0, 1, 2, 3, 4], &labels, 3);
        let pos = rows.iter().filter(|&&r| labels[r]).count();
        assert_eq!(pos, 4);
        assert_eq!(rows.len(), 8);
    }
}
