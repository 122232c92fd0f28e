//! Stage 4: tokens + indicators + metadata → one sparse feature vector.
//!
//! Layout of a vector (the same in training and scoring, recorded in the model file):
//!
//! 1. **text**: sub-word uni- and bi-grams chosen at training time (the `max_features` most
//!    frequent by document frequency, seen in at least two ads), valued
//!    `(1 + ln tf) · idf` and L2-normalised over the text block (sublinear TF-IDF);
//! 2. **indicators**: one 0/1 column per catalogue indicator;
//! 3. **metadata**: one 0/1 column per `field=value` seen at training time (for example
//!    `has_company_logo=0`), for the fields named with `--meta-fields`.
//!
//! A vector is a list of `(column, value)` pairs sorted by column, so scoring is a sparse dot
//! product and a dense training matrix is built only at training time.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// The n-gram key of a unigram (`b == NONE`) or bigram.
const NONE: u32 = u32::MAX;

fn key(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

/// The text n-gram vocabulary and IDF weights chosen at training time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TextFeatures {
    /// `[a, b]` token-id pairs; `b == 4294967295` marks a unigram.
    pub ngrams: Vec<[u32; 2]>,
    pub idf: Vec<f32>,
}

/// Maps token sequences to text-feature columns. Built once from [`TextFeatures`].
#[derive(Debug, Clone)]
pub struct TextVectorizer {
    /// Bigram → column.
    index: FxHashMap<u64, u32>,
    /// Unigram column by token id (`NONE` when the token is not a feature): a direct index,
    /// since every token is looked up.
    unigrams: Vec<u32>,
    idf: Vec<f32>,
}

impl TextVectorizer {
    /// Token ids in `spec` must lie in the vocabulary (`Screener::new` checks): unigram
    /// columns are a vector indexed by token id.
    pub fn new(spec: &TextFeatures) -> Self {
        let mut index = FxHashMap::default();
        let mut unigrams = Vec::new();
        for (i, &[a, b]) in spec.ngrams.iter().enumerate() {
            if b == NONE {
                let a = a as usize;
                if unigrams.len() <= a {
                    unigrams.resize(a + 1, NONE);
                }
                unigrams[a] = i as u32;
            } else {
                index.insert(key(a, b), i as u32);
            }
        }
        TextVectorizer {
            index,
            unigrams,
            idf: spec.idf.clone(),
        }
    }

    pub fn len(&self) -> usize {
        self.idf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.idf.is_empty()
    }

    /// Appends the text block of a feature vector for `tokens` to `out` (columns `0..len()`),
    /// using `scratch` for the column list.
    pub fn vectorize(&self, tokens: &[u32], scratch: &mut Vec<u32>, out: &mut Vec<(u32, f32)>) {
        scratch.clear();
        for (i, &a) in tokens.iter().enumerate() {
            match self.unigrams.get(a as usize) {
                Some(&c) if c != NONE => scratch.push(c),
                _ => {}
            }
            if let Some(&b) = tokens.get(i + 1) {
                if let Some(&c) = self.index.get(&key(a, b)) {
                    scratch.push(c);
                }
            }
        }
        scratch.sort_unstable();
        let start = out.len();
        let mut norm = 0.0f32;
        for run in scratch.chunk_by(|a, b| a == b) {
            let col = run[0];
            let v = (1.0 + (run.len() as f32).ln()) * self.idf[col as usize];
            norm += v * v;
            out.push((col, v));
        }
        if norm > 0.0 {
            let inv = 1.0 / norm.sqrt();
            for p in &mut out[start..] {
                p.1 *= inv;
            }
        }
    }
}

/// Chooses the text n-grams and their IDF from the token sequences of the training ads.
pub fn fit_text_features(docs: &[Vec<u32>], max_features: usize) -> TextFeatures {
    let mut df: FxHashMap<u64, u32> = FxHashMap::default();
    let mut seen: Vec<u64> = Vec::new();
    for tokens in docs {
        seen.clear();
        for (i, &a) in tokens.iter().enumerate() {
            seen.push(key(a, NONE));
            if let Some(&b) = tokens.get(i + 1) {
                seen.push(key(a, b));
            }
        }
        seen.sort_unstable();
        seen.dedup();
        for &k in &seen {
            *df.entry(k).or_default() += 1;
        }
    }
    let mut ranked: Vec<(u64, u32)> = df.into_iter().filter(|&(_, d)| d >= 2).collect();
    // Most frequent first; ties broken by key so the choice is deterministic.
    ranked.sort_unstable_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    ranked.truncate(max_features);
    ranked.sort_unstable_by_key(|&(k, _)| k);
    let n = docs.len() as f32;
    TextFeatures {
        ngrams: ranked
            .iter()
            .map(|&(k, _)| [(k >> 32) as u32, k as u32])
            .collect(),
        idf: ranked
            .iter()
            .map(|&(_, d)| ((1.0 + n) / (1.0 + d as f32)).ln() + 1.0)
            .collect(),
    }
}

/// Categorical metadata columns: `field=value` pairs seen at training time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct MetaFeatures {
    pub fields: Vec<String>,
    /// `field=value`, one column each.
    pub values: Vec<String>,
}

impl MetaFeatures {
    /// Keeps every `field=value` that occurs at least twice in the training ads.
    pub fn fit(fields: &[String], rows: &[Vec<(String, String)>]) -> Self {
        let mut counts: FxHashMap<String, u32> = FxHashMap::default();
        for row in rows {
            for (f, v) in row {
                if fields.contains(f) {
                    *counts.entry(format!("{f}={v}")).or_default() += 1;
                }
            }
        }
        let mut values: Vec<String> = counts
            .into_iter()
            .filter(|&(_, c)| c >= 2)
            .map(|(k, _)| k)
            .collect();
        values.sort();
        MetaFeatures {
            fields: fields.to_vec(),
            values,
        }
    }

    /// Columns (relative to the metadata block) set for one ad's metadata.
    pub fn columns(&self, meta: &[(String, String)]) -> Vec<u32> {
        let mut cols: Vec<u32> = Vec::new();
        for (f, v) in meta {
            let k = format!("{f}={v}");
            if let Ok(i) = self.values.binary_search(&k) {
                cols.push(i as u32);
            }
        }
        cols.sort_unstable();
        cols.dedup();
        cols
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tfidf_block_is_unit_length_and_sorted() {
        let docs = vec![vec![1, 2, 3, 1], vec![1, 2], vec![3, 4]];
        let spec = fit_text_features(&docs, 100);
        let v = TextVectorizer::new(&spec);
        let mut out = Vec::new();
        v.vectorize(&[1, 2, 1, 2], &mut Vec::new(), &mut out);
        let norm: f32 = out.iter().map(|p| p.1 * p.1).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!(out.windows(2).all(|w| w[0].0 < w[1].0));
        // [1,2] appears in two docs, so it is kept; [2,3] only once, so it is not.
        assert!(spec.ngrams.contains(&[1, 2]));
        assert!(!spec.ngrams.contains(&[2, 3]));
    }
}
