//! Evaluation metrics for scores against labels: ROC-AUC, PR-AUC (average precision), precision,
//! recall and F1 at a threshold, Brier score, a reliability table, and threshold selection.

use serde::Serialize;

/// Area under the ROC curve (ties count one half). `None` without both classes.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let pos = labels.iter().filter(|&&l| l).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Mann–Whitney U with average ranks for ties.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if labels[k] {
                rank_sum += avg;
            }
        }
        i = j + 1;
    }
    let (p, n) = (pos as f64, neg as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Average precision (the step-wise area under the precision–recall curve, as scikit-learn
/// computes it). `None` without positives.
pub fn average_precision(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let pos = labels.iter().filter(|&&l| l).count();
    if pos == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp, mut ap, mut last_recall) = (0.0, 0.0, 0.0, 0.0);
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j < idx.len() && scores[idx[j]] == scores[idx[i]] {
            if labels[idx[j]] {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            j += 1;
        }
        let recall = tp / pos as f64;
        let precision = tp / (tp + fp);
        ap += (recall - last_recall) * precision;
        last_recall = recall;
        i = j;
    }
    Some(ap)
}

/// Confusion counts at a threshold (`score >= threshold` is positive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Confusion {
    pub tp: usize,
    pub fp: usize,
    pub tn: usize,
    pub fn_: usize,
}

impl Confusion {
    pub fn at(scores: &[f64], labels: &[bool], threshold: f64) -> Self {
        let mut c = Confusion {
            tp: 0,
            fp: 0,
            tn: 0,
            fn_: 0,
        };
        for (&s, &l) in scores.iter().zip(labels) {
            match (s >= threshold, l) {
                (true, true) => c.tp += 1,
                (true, false) => c.fp += 1,
                (false, false) => c.tn += 1,
                (false, true) => c.fn_ += 1,
            }
        }
        c
    }
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    pub fn f1(&self) -> f64 {
        f1(self.precision(), self.recall())
    }
    /// Precision if every negative counted `neg_weight` times: the precision expected at another
    /// prevalence than the sample's (see [`negative_weight`]).
    pub fn weighted_precision(&self, neg_weight: f64) -> f64 {
        let tp = self.tp as f64;
        let denom = tp + neg_weight * self.fp as f64;
        if denom == 0.0 {
            0.0
        } else {
            tp / denom
        }
    }
    /// F1 with negatives counted `neg_weight` times.
    pub fn weighted_f1(&self, neg_weight: f64) -> f64 {
        f1(self.weighted_precision(neg_weight), self.recall())
    }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

/// The weight that makes a sample with `positives` and `negatives` look like one with prevalence
/// `prevalence`: each negative stands for this many.
pub fn negative_weight(positives: usize, negatives: usize, prevalence: f64) -> f64 {
    if positives == 0 || negatives == 0 || !(0.0..1.0).contains(&prevalence) || prevalence == 0.0 {
        return 1.0;
    }
    ((1.0 - prevalence) / prevalence) * (positives as f64 / negatives as f64)
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Mean squared error of the scores as probabilities.
pub fn brier(scores: &[f64], labels: &[bool]) -> f64 {
    if scores.is_empty() {
        return 0.0;
    }
    let sum: f64 = scores
        .iter()
        .zip(labels)
        .map(|(&s, &l)| (s - f64::from(u8::from(l))).powi(2))
        .sum();
    sum / scores.len() as f64
}

/// One row of a reliability table: ads whose score fell in `[lo, hi)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReliabilityBin {
    pub lo: f64,
    pub hi: f64,
    pub count: usize,
    pub mean_score: f64,
    pub positive_rate: f64,
}

/// Ten equal-width score bins: how often ads scored about `p` were really positive.
pub fn reliability(scores: &[f64], labels: &[bool]) -> Vec<ReliabilityBin> {
    (0..10)
        .map(|b| {
            let lo = b as f64 / 10.0;
            let hi = lo + 0.1;
            let inside: Vec<(f64, bool)> = scores
                .iter()
                .zip(labels)
                .filter(|(&s, _)| s >= lo && (s < hi || (b == 9 && s <= 1.0)))
                .map(|(&s, &l)| (s, l))
                .collect();
            let n = inside.len();
            let mean = |f: &dyn Fn(&(f64, bool)) -> f64| {
                if n == 0 {
                    0.0
                } else {
                    inside.iter().map(f).sum::<f64>() / n as f64
                }
            };
            ReliabilityBin {
                lo,
                hi,
                count: n,
                mean_score: mean(&|x| x.0),
                positive_rate: mean(&|x| f64::from(u8::from(x.1))),
            }
        })
        .collect()
}

/// How the decision threshold is chosen from cross-validated scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule", content = "target")]
pub enum ThresholdRule {
    /// The threshold with the best F1.
    BestF1,
    /// The lowest threshold whose precision reaches the target (most recall at that precision).
    Precision(f64),
    /// The highest threshold whose recall reaches the target (most precision at that recall).
    Recall(f64),
}

/// Chooses a threshold among the observed scores. Falls back to the best-F1 threshold when a
/// precision or recall target cannot be met.
pub fn choose_threshold(scores: &[f64], labels: &[bool], rule: ThresholdRule) -> f64 {
    choose_threshold_weighted(scores, labels, rule, 1.0)
}

/// [`choose_threshold`] with each negative counted `neg_weight` times (precision and F1 as they
/// would be at another prevalence).
pub fn choose_threshold_weighted(
    scores: &[f64],
    labels: &[bool],
    rule: ThresholdRule,
    neg_weight: f64,
) -> f64 {
    let mut cands: Vec<f64> = scores.to_vec();
    cands.sort_by(f64::total_cmp);
    cands.dedup();
    let best_f1 = || {
        cands
            .iter()
            .map(|&t| (t, Confusion::at(scores, labels, t).weighted_f1(neg_weight)))
            .fold((0.5, -1.0), |acc, x| if x.1 > acc.1 { x } else { acc })
            .0
    };
    match rule {
        ThresholdRule::BestF1 => best_f1(),
        ThresholdRule::Precision(p) => cands
            .iter()
            .copied()
            .find(|&t| Confusion::at(scores, labels, t).weighted_precision(neg_weight) >= p)
            .unwrap_or_else(best_f1),
        ThresholdRule::Recall(r) => cands
            .iter()
            .rev()
            .copied()
            .find(|&t| Confusion::at(scores, labels, t).recall() >= r)
            .unwrap_or_else(best_f1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_and_ap_on_known_cases() {
        let labels = [false, false, true, true];
        assert_eq!(roc_auc(&[0.1, 0.2, 0.8, 0.9], &labels), Some(1.0));
        assert_eq!(roc_auc(&[0.9, 0.8, 0.2, 0.1], &labels), Some(0.0));
        assert_eq!(roc_auc(&[0.5; 4], &labels), Some(0.5));
        // scikit-learn: average_precision_score([0,0,1,1],[0.1,0.4,0.35,0.8]) == 0.8333…
        let ap = average_precision(&[0.1, 0.4, 0.35, 0.8], &labels).unwrap();
        assert!((ap - 0.833_333).abs() < 1e-5);
    }

    #[test]
    fn thresholds() {
        let labels = [false, false, true, true, false, true];
        let scores = [0.1, 0.3, 0.35, 0.8, 0.6, 0.9];
        let t = choose_threshold(&scores, &labels, ThresholdRule::BestF1);
        assert_eq!(t, 0.35);
        let t = choose_threshold(&scores, &labels, ThresholdRule::Precision(1.0));
        assert_eq!(t, 0.8);
        assert!((brier(&[1.0, 0.0], &[true, false])).abs() < 1e-12);
    }
}
