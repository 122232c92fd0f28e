//! Which catalogue patterns can match an ad at all, found in one Aho–Corasick pass.
//!
//! A `RegexSet` over ~270 patterns answers the same question, but its lazy DFA has a huge state
//! space: on ads it keeps building states, and it was the largest single cost of screening. Most
//! patterns cannot match unless some words occur (`passport`, `deducted`, `visa`…), so each
//! pattern is given up to [`MAX_CONDITIONS`] *conditions*, read from its syntax tree: a condition
//! is a set of literals, and every match of the pattern contains at least one literal of each of
//! its conditions (`(?:we|they) (?:will )?keep (?:your )?passports?` has the conditions
//! {`keep `} and {`passport`}). One overlapping Aho–Corasick search over all the literals tells
//! which conditions hold; the patterns whose conditions all hold are the *candidates*, and only
//! those run their own regex. Patterns with no usable condition (literals too short, or none
//! required) go to a small `RegexSet` run on every ad.
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
/// A condition with more literals than this is not used.
const MAX_LITERALS_PER_PATTERN: usize = 250;
/// Conditions kept per pattern (the best ones): more cost more hits to record, fewer let more
/// patterns run for nothing.
const MAX_CONDITIONS: usize = 3;

/// The compiled prefilter of one view's patterns.
#[derive(Debug, Clone)]
pub(super) struct Prefilter {
    /// Every distinct literal of every condition.
    literals: AhoCorasick,
    /// Per literal: the conditions it satisfies.
    satisfies: Vec<Vec<u32>>,
    /// Per pattern: its conditions, all of which must hold (empty for residual patterns).
    conditions: Vec<Vec<u32>>,
    n_conditions: usize,
    /// Patterns without a usable condition, and the set that decides them.
    residual: Vec<usize>,
    residual_set: RegexSet,
}

/// Candidate patterns of one ad, as a bit mask, and the conditions that hold; reused from ad to
/// ad.
#[derive(Debug, Default, Clone)]
pub(super) struct Candidates {
    patterns: Vec<u64>,
    holds: Vec<u64>,
}

fn set_bit(bits: &mut [u64], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

fn bit(bits: &[u64], i: usize) -> bool {
    bits[i / 64] & (1 << (i % 64)) != 0
}

impl Candidates {
    /// Pattern indices in increasing order.
    pub(super) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.patterns.iter().enumerate().flat_map(|(w, &bits)| {
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
        let mut literal_ids: std::collections::HashMap<Vec<u8>, usize> = Default::default();
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut satisfies: Vec<Vec<u32>> = Vec::new();
        let mut condition_ids: std::collections::HashMap<Vec<Vec<u8>>, u32> = Default::default();
        let mut conditions = Vec::with_capacity(sources.len());
        let mut residual = Vec::new();
        for (p, src) in sources.iter().enumerate() {
            let hir = regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(src)
                .map_err(|e| Error::Catalogue(format!("pattern {src:?}: {e}")))?;
            let mut sets = Vec::new();
            conjuncts(&hir, &mut sets);
            sets.sort_by(|a, b| quality(b).cmp(&quality(a)).then(a.cmp(b)));
            sets.dedup();
            sets.truncate(MAX_CONDITIONS);
            // Only now (it is quadratic): drop literals implied by shorter ones.
            let sets: Vec<Vec<Vec<u8>>> = sets.into_iter().map(minimal).collect();
            if sets.is_empty() {
                residual.push(p);
            }
            let mut mine = Vec::new();
            for set in sets {
                let next = condition_ids.len() as u32;
                let c = *condition_ids.entry(set.clone()).or_insert(next);
                if c == next {
                    for lit in set {
                        let id = *literal_ids.entry(lit.clone()).or_insert_with(|| {
                            literals.push(lit);
                            satisfies.push(Vec::new());
                            literals.len() - 1
                        });
                        satisfies[id].push(c);
                    }
                }
                mine.push(c);
            }
            conditions.push(mine);
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
            satisfies,
            n_conditions: condition_ids.len(),
            conditions,
            residual,
            residual_set,
        })
    }

    /// Marks in `out` every pattern that may match `text`.
    pub(super) fn candidates(&self, text: &[u8], out: &mut Candidates) {
        out.holds.clear();
        out.holds.resize(self.n_conditions.div_ceil(64), 0);
        out.patterns.clear();
        out.patterns.resize(self.conditions.len().div_ceil(64), 0);
        for m in self.literals.find_overlapping_iter(text) {
            for &c in &self.satisfies[m.pattern().as_usize()] {
                set_bit(&mut out.holds, c as usize);
            }
        }
        for (p, conds) in self.conditions.iter().enumerate() {
            if !conds.is_empty() && conds.iter().all(|&c| bit(&out.holds, c as usize)) {
                set_bit(&mut out.patterns, p);
            }
        }
        if !self.residual.is_empty() {
            for r in self.residual_set.matches(text).iter() {
                set_bit(&mut out.patterns, self.residual[r]);
            }
        }
    }

    /// Number of patterns decided by the residual set rather than by literals (for tests).
    #[cfg(test)]
    pub(super) fn residual_len(&self) -> usize {
        self.residual.len()
    }
}

/// Appends to `out` literal sets each of which every match of `hir` has a literal of.
fn conjuncts(hir: &Hir, out: &mut Vec<Vec<Vec<u8>>>) {
    match hir.kind() {
        HirKind::Capture(c) => conjuncts(&c.sub, out),
        HirKind::Repetition(r) if r.min > 0 => conjuncts(&r.sub, out),
        // Every part is required, and so is every tail's set of prefixes.
        HirKind::Concat(subs) => {
            for s in subs {
                conjuncts(s, out);
            }
            for i in 0..subs.len() {
                out.extend(usable(prefixes(&Hir::concat(subs[i..].to_vec()))));
            }
        }
        _ => out.extend(required(hir)),
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

/// Sets whose literals all have four bytes or more first (shorter ones hold in most ads), then
/// fewer literals (a smaller automaton). Measured on the 50 MB EMSCAD scan: this order, three
/// conditions per pattern, was the fastest of the variants tried.
fn quality(set: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
    ((shortest >= 4) as usize, std::cmp::Reverse(set.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hir(p: &str) -> Hir {
        regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(p)
            .unwrap()
    }

    fn strings(set: Vec<Vec<u8>>) -> Vec<String> {
        minimal(set)
            .into_iter()
            .map(|l| String::from_utf8(l).unwrap())
            .collect()
    }

    fn req(p: &str) -> Option<Vec<String>> {
        required(&hir(p)).map(strings)
    }

    fn conditions(p: &str) -> Vec<Vec<String>> {
        let mut sets = Vec::new();
        conjuncts(&hir(p), &mut sets);
        sets.into_iter().map(strings).collect()
    }

    #[test]
    fn required_literals_are_read_from_the_pattern() {
        assert_eq!(req(r"\bpassports?\b").unwrap(), ["passport"]);
        assert_eq!(req(r"(?:taken|deducted)").unwrap(), ["deducted", "taken"]);
        assert_eq!(req(r"organi[sz]e").unwrap(), ["organi"]);
        // Nothing required: an optional part, or literals too short to be worth it.
        assert_eq!(req(r"(?:visa)?\d+"), None);
        assert_eq!(req(r"\b(?:we|i)\d"), None);
        // A branch with no literal leaves the whole alternation unconstrained.
        assert_eq!(req(r"(?:passport|\d+)"), None);
    }

    #[test]
    fn every_required_part_is_a_condition() {
        let c = conditions(r"\b(?:\w+ )?(?:taken|deducted) from (?:your )?(?:salary|wages?)\b");
        // The optional leading word and `your ` give no condition of their own; each required
        // part gives one, and so do the prefixes of each tail (`taken from salary`, …).
        assert!(
            c.contains(&vec!["deducted".into(), "taken".into()]),
            "{c:?}"
        );
        assert!(c.contains(&vec![" from ".into()]), "{c:?}");
        assert!(c.contains(&vec!["salary".into(), "wage".into()]), "{c:?}");
        assert!(
            c.iter()
                .any(|s| s.contains(&"taken from your wage".to_string())),
            "{c:?}"
        );
        assert!(!c.contains(&vec!["your ".into()]), "{c:?}");
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
