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

use crate::bytemask::set_bits;

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

/// Bigram → column. Keyed by 32 bits when every token id of a bigram is below 2^16 (the
/// shipped vocabulary has 8,000 tokens): half the memory of 64-bit keys, so that the table
/// (over 40,000 bigrams in the default model) takes half as much of the cache: a scan of
/// NEW.jsonl was 1–6% faster in three sets of alternating runs (session 11).
#[derive(Debug, Clone)]
enum Bigrams {
    Narrow(FxHashMap<u32, u32>),
    Wide(FxHashMap<u64, u32>),
}

impl Bigrams {
    fn new(bigrams: impl Iterator<Item = ([u32; 2], u32)> + Clone) -> Self {
        if bigrams.clone().all(|([a, b], _)| (a | b) >> 16 == 0) {
            Bigrams::Narrow(bigrams.map(|([a, b], c)| (a << 16 | b, c)).collect())
        } else {
            Bigrams::Wide(bigrams.map(|([a, b], c)| (key(a, b), c)).collect())
        }
    }

    #[inline]
    fn get(&self, a: u32, b: u32) -> Option<u32> {
        match self {
            // An id of 2^16 or more is in no bigram.
            Bigrams::Narrow(m) if (a | b) >> 16 == 0 => m.get(&(a << 16 | b)).copied(),
            Bigrams::Narrow(_) => None,
            Bigrams::Wide(m) => m.get(&key(a, b)).copied(),
        }
    }
}

/// Maps token sequences to text-feature columns. Built once from [`TextFeatures`].
#[derive(Debug, Clone)]
pub struct TextVectorizer {
    index: Bigrams,
    /// Unigram column by token id (`NONE` when the token is not a feature): a direct index,
    /// since every token is looked up.
    unigrams: Vec<u32>,
    idf: Vec<f32>,
    /// `1 + ln count` for the counts most n-grams of an ad have, computed once as [`tf`] does.
    tf_table: [f32; TF_TABLE],
}

/// Counts below this take their sublinear TF from a table: `logf` was 0.9% of a scan.
const TF_TABLE: usize = 64;

/// Sublinear term frequency, `1 + ln count` (1 for a count of 1: ln 1 is exactly 0).
fn tf(count: u32) -> f32 {
    1.0 + (count as f32).ln()
}

impl TextVectorizer {
    /// Token ids in `spec` must lie in the vocabulary (`Screener::new` checks): unigram
    /// columns are a vector indexed by token id.
    pub fn new(spec: &TextFeatures) -> Self {
        let mut unigrams = Vec::new();
        for (i, &[a, b]) in spec.ngrams.iter().enumerate() {
            if b == NONE {
                let a = a as usize;
                if unigrams.len() <= a {
                    unigrams.resize(a + 1, NONE);
                }
                unigrams[a] = i as u32;
            }
        }
        let bigrams = spec
            .ngrams
            .iter()
            .zip(0..)
            .filter(|(&[_, b], _)| b != NONE)
            .map(|(&g, i)| (g, i));
        TextVectorizer {
            index: Bigrams::new(bigrams),
            unigrams,
            idf: spec.idf.clone(),
            tf_table: std::array::from_fn(|c| tf(c as u32)),
        }
    }

    pub fn len(&self) -> usize {
        self.idf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.idf.is_empty()
    }

    /// Appends the text block of a feature vector for `tokens` to `out` (columns `0..len()`, in
    /// increasing order), using `scratch` to count them.
    pub fn vectorize(
        &self,
        tokens: &[u32],
        scratch: &mut VectorScratch,
        out: &mut Vec<(u32, f32)>,
    ) {
        let n = self.idf.len();
        if scratch.counts.len() != n {
            scratch.counts = vec![0; n];
            scratch.seen = vec![0; n.div_ceil(64)];
        }
        let VectorScratch { counts, seen } = scratch;
        let mut add = |c: u32| {
            let c = c as usize;
            counts[c] += 1;
            seen[c / 64] |= 1 << (c % 64);
        };
        for (i, &a) in tokens.iter().enumerate() {
            match self.unigrams.get(a as usize) {
                Some(&c) if c != NONE => add(c),
                _ => {}
            }
            if let Some(&b) = tokens.get(i + 1) {
                if let Some(c) = self.index.get(a, b) {
                    add(c);
                }
            }
        }
        // The columns in increasing order, read off the bit set (and both left zeroed): the
        // order fixes the float sums below, so scores do not depend on how columns were found.
        let start = out.len();
        let mut norm = 0.0f32;
        for (w, word) in seen.iter_mut().enumerate() {
            for bit in set_bits(std::mem::take(word)) {
                let col = w * 64 + bit;
                let count = std::mem::take(&mut counts[col]);
                let tf = match self.tf_table.get(count as usize) {
                    Some(&t) => t,
                    None => tf(count),
                };
                let v = tf * self.idf[col];
                norm += v * v;
                out.push((col as u32, v));
            }
        }
        if norm > 0.0 {
            let inv = 1.0 / norm.sqrt();
            for p in &mut out[start..] {
                p.1 *= inv;
            }
        }
    }
}

/// Per-thread counting buffers of [`TextVectorizer::vectorize`]: a count per column and a bit
/// per column seen (sized on first use, left zeroed after each ad). Counting into them and
/// reading the bits in order replaced sorting the column list, which was half the stage.
#[derive(Debug, Clone, Default)]
pub struct VectorScratch {
    counts: Vec<u32>,
    seen: Vec<u64>,
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
        v.vectorize(&[1, 2, 1, 2], &mut VectorScratch::default(), &mut out);
        let norm: f32 = out.iter().map(|p| p.1 * p.1).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!(out.windows(2).all(|w| w[0].0 < w[1].0));
        // [1,2] appears in two docs, so it is kept; [2,3] only once, so it is not.
        assert!(spec.ngrams.contains(&[1, 2]));
        assert!(!spec.ngrams.contains(&[2, 3]));
    }

    /// The counting buffers give what counting afresh gives, ad after ad: each ad leaves them
    /// zeroed. Checked against a plain count of the columns.
    #[test]
    fn reused_scratch_counts_each_ad_afresh() {
        // Token ids below 2^16 (32-bit bigram keys), then some above (64-bit keys).
        for offset in [0, 65_500] {
            counts_each_ad_afresh(offset);
        }
    }

    fn counts_each_ad_afresh(offset: u32) {
        let docs: Vec<Vec<u32>> = (0..40u32)
            .map(|d| (0..30).map(|i| (i * 7 + d * 3) % 90 + offset).collect())
            .collect();
        let spec = fit_text_features(&docs, 500);
        let v = TextVectorizer::new(&spec);
        let mut scratch = VectorScratch::default();
        // Counts on both sides of the TF table's end, and far past it, beside a count of 1 (a
        // vector of one column is the same after its L2 norm whatever its count).
        let repeats = [0, 63, 64, 65, 1000].map(|n| {
            let mut tokens = vec![5 + offset; n];
            tokens.push(12 + offset);
            tokens
        });
        for tokens in docs.iter().chain(&repeats) {
            let mut expected = std::collections::BTreeMap::new();
            for (i, &a) in tokens.iter().enumerate() {
                for b in [Some(NONE), tokens.get(i + 1).copied()]
                    .into_iter()
                    .flatten()
                {
                    if let Some(c) = spec.ngrams.iter().position(|&g| g == [a, b]) {
                        *expected.entry(c as u32).or_insert(0u32) += 1;
                    }
                }
            }
            let mut out = Vec::new();
            v.vectorize(tokens, &mut scratch, &mut out);
            let counted: Vec<(u32, f32)> = expected
                .iter()
                .map(|(&c, &n)| (c, (1.0 + (n as f32).ln()) * spec.idf[c as usize]))
                .collect();
            // As the sort-based version computed it, in column order: the same floats, bit for
            // bit.
            let mut norm = 0.0f32;
            for p in &counted {
                norm += p.1 * p.1;
            }
            let inv = 1.0 / norm.sqrt();
            let want: Vec<(u32, f32)> = counted.iter().map(|&(c, v)| (c, v * inv)).collect();
            assert_eq!(out, want);
        }
    }
}
