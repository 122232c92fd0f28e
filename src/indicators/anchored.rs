//! Which patterns of one view match anywhere in an ad, found from their literal anchors.
//!
//! Most catalogue patterns begin with one of a few literal strings: `\b(?:free|paid) (?:flights?
//! |visas?)` can only match where `free flight`, `free visa`, `paid flight` or `paid visa` starts.
//! Those strings (the pattern's *prefix literals*, read from its syntax tree by `regex-syntax`'s
//! extractor) go into one byte [`Trie`]; a pass over the ad follows the trie from each place a
//! match could start, and each literal found there nominates its patterns; each nominee is then
//! tried once at that place by an anchored lazy DFA that holds only that pattern's states.
//!
//! Why not one `RegexSet` over all patterns: its lazy DFA builds a state for each combination
//! of partial matches in flight, so on text it has not seen it keeps building states (half its
//! cost on new text, and each thread builds its own), while here each state belongs to one
//! pattern and is reached only from its anchor.
//!
//! Exactness: every match of a pattern starts with one of its prefix literals, so a pattern
//! that matches somewhere is nominated where that match starts, and the anchored search there
//! finds it. Patterns whose matches can start with no literal of three bytes or more (a class
//! such as `[a-z0-9._]+`) are left to a small [`PatternSets`] as before, and so are patterns a
//! try could read on from without bound ([`non_word_bound`]): the step stays linear in the ad. A nominee the anchored
//! search cannot decide counts as matching: the caller's own regex then finds its spans, or
//! none, so nominating too much costs time and never changes a verdict.

use std::sync::Arc;

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::util::pool::Pool;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, PatternID};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind, Look};

use super::PatternSets;
use crate::bytemask::masks;
use crate::error::{Error, Result};
use crate::trie::Trie;

/// Prefix literals shorter than this nominate too often (`i`, `we`): such patterns stay in the
/// pattern set. Literals that begin with a digit are exempt, since few words do.
const MIN_LITERAL: usize = 3;

/// Prefix literals are cut to this many bytes. A shorter literal only nominates a pattern more
/// often (its try decides), and the extractor's literals are long and many: 7,526 of 15 bytes
/// on average for the built-in text view, a 5.7 ms trie to build at start-up.
const MAX_LITERAL: usize = 8;

/// The anchored patterns' NFA size limit per [`super::MAX_PATTERNS_PER_SET`] of them, as the
/// pattern sets' limit per set. Past it, no pattern is anchored (see [`AnchoredPatterns::new`]).
const NFA_SIZE_LIMIT: usize = 1 << 26;

/// Most non-word bytes an anchored pattern's matches may hold ([`non_word_bound`]; 41 in the
/// built-in catalogue): a try reads at most this many word gaps, so a larger bound makes every
/// ad cost more for that pattern than the one pass of a pattern set.
const MAX_NON_WORD: usize = 64;

/// Longest match of an anchored pattern tried from inside words (not led by `\b`), for the
/// same reason.
const MAX_ANYWHERE_LEN: usize = 1024;

/// The anchored patterns' lazy-DFA cache limit per thread (it grows only as states are built).
const CACHE_LIMIT: usize = 1 << 26;

/// As the `regex` crate's own pools: unwind-safe, so that a [`crate::Screener`] stays usable
/// under `catch_unwind`.
type CachePool = Pool<
    Scratch,
    Box<dyn Fn() -> Scratch + Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>,
>;

/// Per-thread state of [`AnchoredPatterns::matches`].
struct Scratch {
    cache: Cache,
    /// Per pattern: found in the current text.
    found: Vec<bool>,
    /// Per pattern: the last place (plus one) it was tried, so that two literals of one
    /// pattern at one place try it once.
    tried_at: Vec<usize>,
}

/// A view's patterns: the anchored ones and the rest in pattern sets. Clones share the
/// per-thread caches' pool.
#[derive(Clone)]
pub(crate) struct AnchoredPatterns {
    /// Literals followed from where a word starts: those beginning with a word byte, of
    /// patterns whose every match starts at a word boundary (`\b`).
    word_start: Trie,
    /// The other literals of such patterns (`\b\$?\d`), followed from where a word ends.
    word_end: Trie,
    /// Literals of the other anchored patterns, followed from every byte they start with.
    anywhere: Trie,
    /// Literal id → the range of `nominees` it nominates.
    literal_nominees: Vec<(u32, u32)>,
    /// Anchored pattern indices (the DFA's pattern ids).
    nominees: Vec<u32>,
    dfa: DFA,
    scratch: Arc<CachePool>,
    /// Anchored pattern → the caller's pattern index.
    anchored_index: Vec<usize>,
    /// The patterns without usable literals, and their indices.
    rest: Option<(PatternSets, Vec<usize>)>,
}

impl std::fmt::Debug for AnchoredPatterns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnchoredPatterns")
            .field("anchored", &self.anchored_index.len())
            .field("rest", &self.rest.as_ref().map_or(0, |r| r.1.len()))
            .finish()
    }
}

/// Whether every match of `hir` starts at a word boundary.
fn starts_with_word_boundary(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Look(Look::WordAscii | Look::WordUnicode) => true,
        HirKind::Concat(parts) => parts.first().is_some_and(starts_with_word_boundary),
        HirKind::Alternation(alts) => alts.iter().all(starts_with_word_boundary),
        HirKind::Capture(c) => starts_with_word_boundary(&c.sub),
        _ => false,
    }
}

fn is_word_byte(b: u8) -> bool {
    WORD_BYTE[b as usize] == 1
}

/// ASCII `\w`, as `\b` sees it with Unicode off, as a table (1 for a word byte): the scan in
/// [`AnchoredPatterns::matches`] reads it for every byte, as a [`masks`] table.
static WORD_BYTE: [u8; 256] = {
    let mut t = [0; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = ((b as u8).is_ascii_alphanumeric() || b == b'_' as usize) as u8;
        b += 1;
    }
    t
};

/// The most non-word bytes a match of `hir` can hold, counting a repetition of word bytes
/// (`\w+`, `[a-z]+`) as none however long; `None` when unbounded (`.*`, `[\d,.]*`).
///
/// An anchored try reads from its place to where the pattern can no longer match, which for
/// `\bfee\b.*x` is the end of the ad: tried at every `fee` of a hostile ad, that is quadratic.
/// A pattern whose matches hold at most `k` non-word bytes reads at most `k` word gaps from each
/// place, so each byte is read by the tries of at most `k` words before it: linear. Patterns
/// without such a bound stay in the pattern sets, which are one pass.
fn non_word_bound(hir: &Hir) -> Option<usize> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(0),
        HirKind::Literal(l) => Some(l.0.iter().filter(|&&b| !is_word_byte(b)).count()),
        HirKind::Class(c) => {
            let any_non_word = match c {
                regex_syntax::hir::Class::Bytes(c) => c
                    .iter()
                    .any(|r| (r.start()..=r.end()).any(|b| !is_word_byte(b))),
                // A range past ASCII holds non-word bytes; an ASCII one is at most 128 chars.
                regex_syntax::hir::Class::Unicode(c) => c.iter().any(|r| {
                    !r.end().is_ascii() || (r.start()..=r.end()).any(|ch| !is_word_byte(ch as u8))
                }),
            };
            Some(usize::from(any_non_word))
        }
        HirKind::Repetition(r) => match (non_word_bound(&r.sub)?, r.max) {
            (0, _) => Some(0),
            (k, Some(max)) => k.checked_mul(max as usize),
            (_, None) => None,
        },
        HirKind::Capture(c) => non_word_bound(&c.sub),
        HirKind::Concat(parts) => parts
            .iter()
            .try_fold(0usize, |sum, p| sum.checked_add(non_word_bound(p)?)),
        HirKind::Alternation(alts) => alts
            .iter()
            .try_fold(0usize, |most, a| Some(most.max(non_word_bound(a)?))),
    }
}

/// The literals every match of `hir` starts with, if they are few and long enough to anchor on.
fn anchor_literals(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    // A Unicode word boundary makes the lazy DFA give up on non-ASCII text.
    if hir.properties().look_set().contains_word_unicode() {
        return None;
    }
    non_word_bound(hir).filter(|&k| k <= MAX_NON_WORD)?;
    let mut extractor = Extractor::new();
    extractor.kind(ExtractKind::Prefix);
    let seq = extractor.extract(hir);
    let literals = seq.literals()?;
    let usable = |l: &[u8]| l.len() >= MIN_LITERAL || l.first().is_some_and(u8::is_ascii_digit);
    if literals.is_empty() || !literals.iter().all(|l| usable(l.as_bytes())) {
        return None;
    }
    Some(
        literals
            .iter()
            .map(|l| l.as_bytes()[..l.len().min(MAX_LITERAL)].to_vec())
            .collect(),
    )
}

impl AnchoredPatterns {
    /// Compiles `sources` (regex syntax, Unicode off, as the catalogue's); `indicator[i]` groups
    /// patterns for the pattern sets of the rest. When the anchored patterns are too large to
    /// compile together (a user catalogue), all go to pattern sets, as before session 6.
    pub(crate) fn new(sources: &[&str], indicator: &[usize]) -> Result<Self> {
        Self::build(sources, indicator, true).or_else(|_| Self::build(sources, indicator, false))
    }

    fn build(sources: &[&str], indicator: &[usize], anchor: bool) -> Result<Self> {
        let bad = |e: &dyn std::fmt::Display| Error::Catalogue(format!("pattern set: {e}"));
        let mut parser = regex_syntax::ParserBuilder::new();
        parser.unicode(false).utf8(false);
        let mut word_start = Vec::new();
        let mut word_end = Vec::new();
        let mut anywhere = Vec::new();
        let mut anchored_index = Vec::new();
        let mut anchored_sources = Vec::new();
        let mut rest = Vec::new();
        for (i, source) in sources.iter().enumerate() {
            let hir = parser.build().parse(source).map_err(|e| bad(&e))?;
            let boundary = starts_with_word_boundary(&hir);
            // Tried from inside words too, so a try may not read on unboundedly even within a
            // word (`passport\w*x` in one long word of `passport`s): see [`non_word_bound`].
            let bounded = boundary
                || hir
                    .properties()
                    .maximum_len()
                    .is_some_and(|n| n <= MAX_ANYWHERE_LEN);
            let Some(literals) = anchor_literals(&hir).filter(|_| anchor && bounded) else {
                rest.push(i);
                continue;
            };
            let local = anchored_index.len() as u32;
            anchored_index.push(i);
            anchored_sources.push(*source);
            for literal in literals {
                let into = match literal.first() {
                    Some(&b) if boundary && is_word_byte(b) => &mut word_start,
                    Some(_) if boundary => &mut word_end,
                    _ => &mut anywhere,
                };
                into.push((literal, local));
            }
        }
        // One id per distinct literal (the same literal may start several patterns).
        let mut literal_nominees = Vec::new();
        let mut nominees = Vec::new();
        let mut trie = |mut pairs: Vec<(Vec<u8>, u32)>| {
            pairs.sort();
            pairs.dedup();
            let mut entries: Vec<(Vec<u8>, u32)> = Vec::new();
            for (literal, pattern) in pairs {
                if entries.last().is_none_or(|(l, _)| *l != literal) {
                    let id = literal_nominees.len() as u32;
                    let at = nominees.len() as u32;
                    literal_nominees.push((at, at));
                    entries.push((literal, id));
                }
                nominees.push(pattern);
                if let Some(last) = literal_nominees.last_mut() {
                    last.1 += 1;
                }
            }
            Trie::new(entries.iter().map(|(l, id)| (l.as_slice(), *id)))
        };
        let word_start = trie(word_start);
        let word_end = trie(word_end);
        let anywhere = trie(anywhere);
        let dfa = DFA::builder()
            .syntax(syntax::Config::new().unicode(false).utf8(false))
            .thompson(
                regex_automata::nfa::thompson::Config::new()
                    .utf8(false)
                    .nfa_size_limit(Some(
                        NFA_SIZE_LIMIT.saturating_mul(
                            anchored_sources
                                .len()
                                .div_ceil(super::MAX_PATTERNS_PER_SET)
                                .max(1),
                        ),
                    )),
            )
            .configure(
                DFA::config()
                    .starts_for_each_pattern(true)
                    .cache_capacity(CACHE_LIMIT),
            )
            .build_many(&anchored_sources)
            .map_err(|e| bad(&e))?;
        let patterns = anchored_index.len();
        let for_pool = dfa.clone();
        let scratch: CachePool = Pool::new(Box::new(move || Scratch {
            cache: for_pool.create_cache(),
            found: vec![false; patterns],
            tried_at: vec![0; patterns],
        }));
        let rest = if rest.is_empty() {
            None
        } else {
            let rest_sources: Vec<&str> = rest.iter().map(|&i| sources[i]).collect();
            let rest_indicator: Vec<usize> = rest.iter().map(|&i| indicator[i]).collect();
            Some((PatternSets::new(&rest_sources, &rest_indicator)?, rest))
        };
        Ok(AnchoredPatterns {
            word_start,
            word_end,
            anywhere,
            literal_nominees,
            nominees,
            dfa,
            scratch: Arc::new(scratch),
            anchored_index,
            rest,
        })
    }

    /// How many patterns are anchored, and how many are left to the pattern sets.
    #[cfg(test)]
    pub(crate) fn split(&self) -> (usize, usize) {
        let rest = self.rest.as_ref().map_or(0, |(_, index)| index.len());
        (self.anchored_index.len(), rest)
    }

    /// Follows `trie` from `at` and tries each pattern its literals there nominate.
    #[inline]
    fn follow(&self, trie: &Trie, text: &[u8], at: usize, scratch: &mut Scratch) {
        trie.prefixes(&text[at..], |_, literal| {
            let (from, to) = self.literal_nominees[literal as usize];
            for &p in &self.nominees[from as usize..to as usize] {
                self.try_pattern(p as usize, text, at, scratch);
            }
        });
    }

    /// Whether pattern `p` matches at `at`, once per pattern and place, into `scratch.found`.
    #[inline(never)]
    fn try_pattern(&self, p: usize, text: &[u8], at: usize, scratch: &mut Scratch) {
        if scratch.found[p] || scratch.tried_at[p] == at + 1 {
            return;
        }
        scratch.tried_at[p] = at + 1;
        let input = Input::new(text)
            .range(at..)
            .anchored(Anchored::Pattern(PatternID::new_unchecked(p)))
            .earliest(true);
        // An error (none is expected: no Unicode word boundaries here, and the cache never
        // gives up) nominates the pattern; its own regex decides.
        scratch.found[p] = !matches!(
            self.dfa.try_search_fwd(&mut scratch.cache, &input),
            Ok(None)
        );
    }

    /// Indices of the patterns that match `text`, in increasing order.
    pub(crate) fn matches(&self, text: &[u8]) -> Vec<usize> {
        let mut guard = self.scratch.get();
        let scratch = &mut *guard;
        scratch.found.fill(false);
        scratch.tried_at.fill(0);
        if !self.anchored_index.is_empty() {
            let ends = !self.word_end.is_empty();
            let anywhere = !self.anywhere.is_empty();
            // Word starts and ends 64 bytes at a time, as bit masks: a branch per byte would
            // be mispredicted at most word boundaries.
            let mut before = 0u64; // whether the byte before the block is a word byte
            for (k, block) in text.chunks(64).enumerate() {
                let base = k * 64;
                let [word] = masks(block, &WORD_BYTE);
                let prev = (word << 1) | before;
                let in_block = u64::MAX >> (64 - block.len());
                let mut starts = word & !prev;
                while starts != 0 {
                    let at = base + starts.trailing_zeros() as usize;
                    starts &= starts - 1;
                    self.follow(&self.word_start, text, at, scratch);
                }
                if ends {
                    let mut ends = !word & prev & in_block;
                    while ends != 0 {
                        let at = base + ends.trailing_zeros() as usize;
                        ends &= ends - 1;
                        if self.word_end.has_first(text[at]) {
                            self.follow(&self.word_end, text, at, scratch);
                        }
                    }
                }
                before = word >> (block.len() - 1) & 1;
            }
            if anywhere {
                for at in 0..text.len() {
                    if self.anywhere.has_first(text[at]) {
                        self.follow(&self.anywhere, text, at, scratch);
                    }
                }
            }
        }
        let found = &scratch.found;
        let mut out: Vec<usize> = found
            .iter()
            .zip(&self.anchored_index)
            .filter(|(&f, _)| f)
            .map(|(_, &i)| i)
            .collect();
        if let Some((sets, index)) = &self.rest {
            out.extend(sets.matches(text).into_iter().map(|k| index[k]));
            out.sort_unstable();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::sample::select;

    use super::*;
    use crate::indicators::{view_sources, Catalogue};
    use crate::normalize::normalize;

    /// The reference: every pattern in plain pattern sets, as before session 6.
    struct Both {
        anchored: AnchoredPatterns,
        sets: PatternSets,
    }

    impl Both {
        fn new(sources: &[&str]) -> Both {
            let groups: Vec<usize> = (0..sources.len()).collect();
            Both {
                anchored: AnchoredPatterns::new(sources, &groups).unwrap(),
                sets: PatternSets::new(sources, &groups).unwrap(),
            }
        }

        fn check(&self, text: &[u8]) -> std::result::Result<(), String> {
            let (got, want) = (self.anchored.matches(text), self.sets.matches(text));
            if got == want {
                Ok(())
            } else {
                Err(format!(
                    "{:?}: anchored {got:?}, sets {want:?}",
                    String::from_utf8_lossy(text)
                ))
            }
        }
    }

    fn builtin_views() -> [Both; 2] {
        let catalogue = Catalogue::builtin().unwrap();
        view_sources(&catalogue.defs).map(|(sources, _)| Both::new(&sources))
    }

    fn shared_and_sample_texts() -> Vec<String> {
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

    #[test]
    fn the_builtin_catalogue_is_mostly_anchored() {
        let [text, folded] = builtin_views();
        let (anchored, rest) = text.anchored.split();
        assert!(
            anchored >= 200 && rest <= 16,
            "{anchored} anchored, {rest} left"
        );
        assert_eq!(folded.anchored.split().0 + folded.anchored.split().1, 4);
    }

    #[test]
    fn anchored_patterns_agree_with_pattern_sets_on_real_ads() {
        let views = builtin_views();
        let texts = shared_and_sample_texts();
        assert!(texts.len() > 4000, "the shared datasets are missing");
        let mut matched = 0;
        for text in &texts {
            let norm = normalize(text);
            for (both, view) in views.iter().zip([norm.text(), norm.folded()]) {
                both.check(view.as_bytes()).unwrap();
                matched += both.sets.matches(view.as_bytes()).len();
            }
        }
        // Not vacuous: the ads match hundreds of patterns between them.
        assert!(matched > 1000, "{matched}");
    }

    #[test]
    fn each_kind_of_pattern_is_found_where_it_starts() {
        let both = Both::new(&[
            r"\bpassports? (?:kept|held)\b",          // word start
            r"\b\$?\d{2,4} ?(?:/|per)? ?(?:hh|hr)\b", // word start and, with `$`, word end
            r"\b\$\d\d cash",                         // word end only: `\b` then `$`
            r"passports?\b",                          // anywhere: inside a word too
            r"(?m)^apply now",                        // line start
            r"(?i)\bFREE VISA",                       // case-insensitive literals
            r"\b[a-z0-9._]+ ?\[at\] ?[a-z]+\b",       // no usable literal: left to the sets
            r"x*",                                    // matches everywhere, even empty
            r"(?u)\bcafé\b",                          // Unicode word boundary: left to the sets
            r"\bno (?:\w+ ){0,3}fees?\b",
        ]);
        assert_eq!(both.anchored.split(), (7, 3));
        for text in [
            "",
            "passport kept",
            "your passports held by us",
            "mypassport",
            "thepassports",
            "200/hh",
            "x$150 per hr",
            " $150 per hr",
            "150hr",
            "x$20 cash",
            " $20 cash",
            "$20 cash",
            "line\napply now",
            "apply now",
            "xapply now",
            "get a free visa",
            "anna [at] mail",
            "le café du coin",
            "no hidden agency fees",
            "no fee",
            "nope",
            "passport",
            "passport kep",
            "\u{e9}passport kept",
            "_passport kept",
        ] {
            both.check(text.as_bytes()).unwrap();
        }
    }

    #[test]
    fn patterns_that_could_read_to_the_end_of_the_ad_from_every_place_are_not_anchored() {
        let bound = |p: &str| {
            let hir = regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(p)
                .unwrap();
            non_word_bound(&hir)
        };
        assert_eq!(bound(r"\bfee\b(?: \w+){0,3} x"), Some(4));
        assert_eq!(bound(r"\bno [a-z]+ needed"), Some(2));
        assert_eq!(bound(r"\bfee\b.*x"), None);
        assert_eq!(bound(r"\bfee \d[\d,.]*"), None);
        assert_eq!(bound(r"\bfee(?: \w+)+"), None);
        // Unicode `\w` holds bytes that are not ASCII word bytes: counted as unbounded.
        assert_eq!(bound(r"(?u)fee\w+"), None);
        assert_eq!(bound(r"fee\w+"), Some(0));
        assert_eq!(bound(r"(?u)\bfee[^x]+"), None);
        let both = Both::new(&[
            r"\bfee\b.*x",
            r"\bfee\b(?: \w+){0,3} x",
            r"\bfee \d[\d,.]*",
            r"passport\w*x", // tried inside words: must be bounded outright
            r"passports?\b",
        ]);
        assert_eq!(both.anchored.split(), (2, 3));
        // Bounded, but past the caps: one set pass costs less than such tries.
        let capped = Both::new(&[
            r"\bfoo(?: [a-z]+){0,300}y",
            r"foo[a-z]{0,3000}q",
            r"\bfoo(?: \w+){0,9} y",
        ]);
        assert_eq!(capped.anchored.split(), (1, 2));
        both.check("passport".repeat(10_000).as_bytes()).unwrap();
        // The hostile case: a try at every `fee` would each read to the end.
        let hostile = "fee ".repeat(20_000);
        both.check(hostile.as_bytes()).unwrap();
        both.check(format!("{hostile}x").as_bytes()).unwrap();
    }

    #[test]
    fn a_catalogue_too_large_to_anchor_together_still_loads() {
        // Review, session 6: ten patterns this large fit the pattern sets (two of at most 128
        // patterns, each with its own size limit) but not one anchored automaton with the limit
        // of one set.
        let sources: Vec<String> = (0..130)
            .map(|i| match i {
                0..=4 | 65..=69 => r"\babc[a-z]{0,100000}d".to_string(),
                _ => format!(r"\bw{i}x"),
            })
            .collect();
        let refs: Vec<&str> = sources.iter().map(String::as_str).collect();
        let groups: Vec<usize> = (0..refs.len()).collect();
        let anchored = AnchoredPatterns::new(&refs, &groups).unwrap();
        let sets = PatternSets::new(&refs, &groups).unwrap();
        for text in ["w7x abcd", "abcxyzd w100x", "nothing", "w129x"] {
            assert_eq!(
                anchored.matches(text.as_bytes()),
                sets.matches(text.as_bytes())
            );
        }
        // And with nothing anchored, the answers are the sets'.
        let unanchored = AnchoredPatterns::build(&refs, &groups, false).unwrap();
        assert_eq!(unanchored.split(), (0, 130));
        assert_eq!(
            unanchored.matches(b"w7x abcd w8x"),
            [0, 1, 2, 3, 4, 7, 8, 65, 66, 67, 68, 69]
        );
    }

    /// Text made of the catalogue's own words and pieces of them, with digits, symbols and
    /// non-ASCII letters between: where anchors start, almost start, or start inside a word.
    fn catalogue_text() -> impl Strategy<Value = String> {
        let catalogue = Catalogue::builtin().unwrap();
        let mut words: Vec<String> = catalogue
            .indicators()
            .iter()
            .flat_map(|d| d.patterns.iter().chain(&d.folded_patterns))
            .flat_map(|p| {
                p.split(|c: char| !c.is_ascii_alphanumeric())
                    .filter(|w| w.len() > 1)
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        words.sort();
        words.dedup();
        let word = select(words);
        let piece = prop_oneof![
            8 => word.clone(),
            2 => word.prop_map(|w| w[..w.len() / 2].to_string()),
            2 => "[0-9]{1,4}",
            3 => select(&[" ", " ", " ", ", ", ". ", "\n", "$", "€", "@", "-", "/", ":", "'", "é", "_"][..])
                .prop_map(String::from),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn anchored_patterns_agree_with_pattern_sets_on_generated_text(text in catalogue_text()) {
            static VIEWS: std::sync::OnceLock<[Both; 2]> = std::sync::OnceLock::new();
            let views = VIEWS.get_or_init(builtin_views);
            for both in views {
                both.check(text.as_bytes()).map_err(TestCaseError::fail)?;
            }
        }
    }
}
