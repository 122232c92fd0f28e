//! Which catalogue patterns can match an ad at all, found in one Aho–Corasick pass.
//!
//! A `RegexSet` over ~270 patterns answers the same question, but its lazy DFA has a huge state
//! space: on ads it keeps building states, and it was the largest single cost of screening. Most
//! patterns cannot match unless one of a few words occurs (`passport`, `deducted`, `visa`…), so
//! each pattern is given a *required literal set*, read from its syntax tree: every match of the
//! pattern contains at least one of those literals. One overlapping Aho–Corasick search over all
//! the literals marks the patterns whose literals occur (the *candidates*); only those run their
//! own regex. Patterns with no usable literal set (too short or unbounded) go to a small
//! `RegexSet` run on every ad.
//!
//! Soundness is the invariant: a pattern that matches is always a candidate, so the engine finds
//! exactly what running every pattern would (tested against the plain `RegexSet` on the corpora,
//! the shared datasets and random text).

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::bytes::{RegexSet, RegexSetBuilder};
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};
use regex_syntax::hir::{Hir, HirKind};

use crate::error::{Error, Result};

/// Literals shorter than this would make their pattern a candidate in nearly every ad.
const MIN_LITERAL_LEN: usize = 3;
/// A pattern whose required set needs more literals than this runs on every ad instead.
const MAX_LITERALS_PER_PATTERN: usize = 250;

/// The compiled prefilter of one view's patterns.
#[derive(Debug, Clone)]
pub(super) struct Prefilter {
    /// Every distinct required literal of every pattern.
    literals: AhoCorasick,
    /// Per literal: a bit mask of the patterns it makes candidates.
    owners: Vec<Box<[u64]>>,
    /// Patterns without a usable literal set, and the set that decides them.
    residual: Vec<usize>,
    residual_set: RegexSet,
    words: usize,
}

/// Candidate patterns of one ad, as a bit mask; reused from ad to ad.
#[derive(Debug, Default, Clone)]
pub(super) struct Candidates(Vec<u64>);

impl Candidates {
    /// Pattern indices in increasing order.
    pub(super) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &bits)| {
            let mut bits = bits;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(w * 64 + b)
            })
        })
    }
}

impl Prefilter {
    /// Builds the prefilter of `sources`, compiled as the engine compiles them (bytes, Unicode
    /// off).
    pub(super) fn new(sources: &[&str]) -> Result<Self> {
        let words = sources.len().div_ceil(64).max(1);
        let mut literal_ids: std::collections::HashMap<Vec<u8>, usize> = Default::default();
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut owners: Vec<Box<[u64]>> = Vec::new();
        let mut residual = Vec::new();
        for (p, src) in sources.iter().enumerate() {
            let hir = regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(src)
                .map_err(|e| Error::Catalogue(format!("pattern {src:?}: {e}")))?;
            let Some(set) = required(&hir) else {
                residual.push(p);
                continue;
            };
            for lit in minimal(set) {
                let id = *literal_ids.entry(lit.clone()).or_insert_with(|| {
                    literals.push(lit);
                    owners.push(vec![0; words].into_boxed_slice());
                    literals.len() - 1
                });
                owners[id][p / 64] |= 1 << (p % 64);
            }
        }
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&literals)
            .map_err(|e| Error::Catalogue(format!("literal prefilter: {e}")))?;
        let residual_set = RegexSetBuilder::new(residual.iter().map(|&p| sources[p]))
            .unicode(false)
            .size_limit(1 << 26)
            .dfa_size_limit(1 << 26)
            .build()
            .map_err(|e| Error::Catalogue(format!("pattern set: {e}")))?;
        Ok(Prefilter {
            literals: ac,
            owners,
            residual,
            residual_set,
            words,
        })
    }

    /// Marks in `out` every pattern that may match `text`.
    pub(super) fn candidates(&self, text: &[u8], out: &mut Candidates) {
        out.0.clear();
        out.0.resize(self.words, 0);
        for m in self.literals.find_overlapping_iter(text) {
            for (o, &bits) in out
                .0
                .iter_mut()
                .zip(self.owners[m.pattern().as_usize()].iter())
            {
                *o |= bits;
            }
        }
        if !self.residual.is_empty() {
            for r in self.residual_set.matches(text).iter() {
                let p = self.residual[r];
                out.0[p / 64] |= 1 << (p % 64);
            }
        }
    }

    /// Number of patterns decided by the residual set rather than by literals (for tests).
    #[cfg(test)]
    pub(super) fn residual_len(&self) -> usize {
        self.residual.len()
    }
}

/// A set of literals one of which every match of `hir` contains, if a useful one exists.
fn required(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => None,
        HirKind::Literal(_) | HirKind::Class(_) => usable(prefixes(hir)),
        HirKind::Capture(c) => required(&c.sub),
        // Zero repetitions match without the sub-expression's literals.
        HirKind::Repetition(r) if r.min == 0 => None,
        HirKind::Repetition(r) => required(&r.sub),
        // Every branch must contribute, or a match through the missing branch escapes.
        HirKind::Alternation(subs) => {
            let mut all = Vec::new();
            for s in subs {
                all.extend(required(s)?);
            }
            all.sort_unstable();
            all.dedup();
            (all.len() <= MAX_LITERALS_PER_PATTERN).then_some(all)
        }
        // A match contains a match of every part, and of every tail of the parts: take the
        // best of each part's set and each tail's prefixes (`organi[sz]e`, `(?:taken|deducted)
        // from` → `taken from`, `deducted from`).
        HirKind::Concat(subs) => {
            let tails = (0..subs.len()).map(|i| usable(prefixes(&Hir::concat(subs[i..].to_vec()))));
            subs.iter()
                .map(required)
                .chain(tails)
                .flatten()
                .max_by_key(|set| quality(set))
        }
    }
}

/// The prefix literals of `hir` (every match starts with one of them), if finite.
fn prefixes(hir: &Hir) -> Option<Seq> {
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(hir);
    seq.is_finite().then_some(seq)
}

/// A literal set worth searching for: finite, not too large, every literal long enough.
fn usable(seq: Option<Seq>) -> Option<Vec<Vec<u8>>> {
    let mut set: Vec<Vec<u8>> = seq?
        .literals()?
        .iter()
        .map(|l| l.as_bytes().to_vec())
        .collect();
    set.sort_unstable();
    set.dedup();
    let ok = !set.is_empty()
        && set.len() <= MAX_LITERALS_PER_PATTERN
        && set.iter().all(|l| l.len() >= MIN_LITERAL_LEN);
    ok.then_some(set)
}

/// The literals, sorted, without those that contain another one (`passports` is implied by
/// `passport`: requiring either is requiring `passport`).
fn minimal(lits: impl IntoIterator<Item = Vec<u8>>) -> Vec<Vec<u8>> {
    let mut lits: Vec<Vec<u8>> = lits.into_iter().collect();
    lits.sort_by_key(Vec::len);
    lits.dedup();
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(lits.len());
    for l in lits {
        if !kept.iter().any(|k| contains(&l, k)) {
            kept.push(l);
        }
    }
    kept.sort();
    kept
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Longer shortest literal first, then fewer literals.
fn quality(set: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
    (shortest.min(6), std::cmp::Reverse(set.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(p: &str) -> Option<Vec<String>> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(p)
            .unwrap();
        required(&hir).map(|s| {
            minimal(s)
                .into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect()
        })
    }

    #[test]
    fn required_literals_are_read_from_the_pattern() {
        assert_eq!(req(r"\bpassports?\b").unwrap(), ["passport"]);
        // The optional leading word is skipped; the alternation after it is required.
        assert_eq!(
            req(r"\b(?:\w+ )?(?:taken|deducted) from\b").unwrap(),
            ["deducted from", "taken from"]
        );
        assert_eq!(req(r"organi[sz]e").unwrap(), ["organise", "organize"]);
        // Nothing required: an optional part, or literals too short to be worth it.
        assert_eq!(req(r"(?:visa)?\d+"), None);
        assert_eq!(req(r"\b(?:we|i)\d"), None);
        // A branch with no literal leaves the whole alternation unconstrained.
        assert_eq!(req(r"(?:passport|\d+)"), None);
    }

    #[test]
    fn candidates_cover_every_match() {
        let sources = [r"\bpassports?\b", r"\d+", r"\b(?:we|i)\d"];
        let pf = Prefilter::new(&sources).unwrap();
        assert_eq!(pf.residual_len(), 2);
        let mut c = Candidates::default();
        pf.candidates(b"we keep your passport. 100 hours", &mut c);
        assert_eq!(c.iter().collect::<Vec<_>>(), [0, 1]);
        pf.candidates(b"nothing here", &mut c);
        assert_eq!(c.iter().count(), 0);
    }
}
