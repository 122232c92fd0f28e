//! Stage 2: the indicator catalogue and the engine that finds indicators, with evidence spans.
//!
//! The catalogue is data ([`catalogue.toml`](https://docs.rs/adscreen), embedded in the binary
//! and replaceable with `--indicators FILE`): each indicator has an id, a category, its source,
//! its Action–Means–Purpose column, a documented prior weight, and regex patterns over the
//! normalised text. Three indicators also use built-in detectors that need more than a pattern:
//! `wage_too_good` (money amounts judged by period, currency and experience), `obscured_contact`
//! (phone numbers written to dodge filters) and `minor_cue` (a stated age under 18).
//!
//! Finding indicators takes two steps, both compiled once:
//!
//! 1. Which patterns match an ad at all, per view (the private `anchored` module): each
//!    pattern's prefix literals in one byte trie, followed from each word start; a literal
//!    found nominates its patterns, and an anchored lazy DFA tries each nominee there. A
//!    pattern without usable literals is anchored on a looser one (since session 8; every
//!    built-in pattern is anchored), and one that cannot be anchored at all goes to a small
//!    [`RegexSet`]. This replaced one
//!    `RegexSet` over all patterns in session 6: on new text a set's lazy DFA keeps building
//!    states for combinations of partial matches in flight, and each thread builds its own.
//! 2. One [`Regex`] per matching pattern collects its spans as evidence.

use std::ops::Range;
use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::{Deserialize, Serialize};

use crate::entities::{self, Entity, EntityGates, EntityKind};
use crate::error::{Error, Result};
use crate::normalize::Normalized;

mod anchored;

use anchored::AnchoredPatterns;

/// The catalogue that ships with adscreen.
pub const BUILTIN_CATALOGUE: &str = include_str!("catalogue.toml");

/// Most evidence spans kept per indicator per ad: enough for a reviewer, bounded for hostile ads.
const MAX_EVIDENCE: usize = 8;
/// Bytes either side of a hit searched for an `exclude` pattern.
const EXCLUDE_WINDOW: usize = 80;

/// One indicator as the catalogue file describes it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorDef {
    pub id: String,
    pub category: String,
    /// `action:recruit`, `means:debt`, `purpose:forced_labour`, … or `none`.
    pub amp: String,
    pub description: String,
    pub source: String,
    pub prior_class: String,
    pub prior_weight: f64,
    #[serde(default)]
    pub requires: Vec<String>,
    #[serde(default)]
    pub detector: Option<Detector>,
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Patterns matched against the folded view instead (digits, symbols and spacing kept):
    /// for obfuscation that de-obfuscation would erase, such as a handle spelled out letter by
    /// letter.
    #[serde(default)]
    pub folded_patterns: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// Built-in detectors an indicator may add to its patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    /// Money amounts judged by period, currency, pitch and experience.
    Wage,
    /// Phone numbers written to dodge filters.
    ObscuredPhone,
    /// A stated age under 18.
    MinorAge,
    /// A working day of 12 hours or more, read from a time range (`6am to 9pm`).
    LongDay,
    /// A job ad that names no organisation: no legal suffix (Ltd, LLC…), no street address, no
    /// employer web domain, no named institution (`Riverside Community Hospital`).
    AnonymousEmployer,
}

/// An organisation's name in the original text: `Job title - Acme Ltd,` on a line, or capitalised
/// words ending in a kind of organisation (`Riverside Community Hospital`).
const ORG_NAME: &str = r"(?m)^[^\n]{3,80} (?:-|–|—|\||@|at) (?:The )?[A-Z][A-Za-z&'\-]+(?: [A-Z][A-Za-z&'\-]+)*(?:,|$)|\b[A-Z][A-Za-z&'\-]+(?: (?:[A-Z][A-Za-z&'\-]+|of|and|&))* (?:Inn|Pub|Freight|Steel|Hospital|School|University|College|Council|Clinic|Hotel|Restaurant|Bank|Farms?|Resort|Group|Foundation|Trust|Centre|Center|Academy|Services|Solutions|Systems|Technologies|Industries|Construction|Logistics|Agency|Grocers|Daycare|Store|Stores|Company|Corporation|Partners|Associates|Institute|Authority|Ministry|Department|Museum|Library|Church|Society|Association|Cooperative|Co-op|Bakery|Cafe|Café|Pharmacy|Dental|Medical|Health|Healthcare|Care|Studios?|Labs?|Motors|Airlines?|Airways|Shipping|Mining|Energy|Foods?|Brewery|Winery|Market|Supermarket|Mall|Salon|Spa|Gym|Fitness)\b";

/// [`ORG_NAME`] over the *shadow* of the original text ([`org_shadow`]): one byte per character,
/// so the lazy DFA runs with ASCII classes, which keeps it small and fast (with Unicode classes it
/// cost 10–40 µs on a non-ASCII ad of new text), while the pattern keeps its Unicode meaning: the
/// counted `[^\n]{3,80}` still counts characters, and the two word boundaries are written as the
/// shadow bytes of word and non-word characters around them. Returned as the pattern's two
/// alternatives: a line `Job title - Employer,`, and a name ending in a kind of organisation.
fn org_name_for_shadow() -> Result<[String; 2]> {
    let bad = || Error::Catalogue("anonymous_employer: organisation pattern changed shape".into());
    let replace = |s: &str, from: &str, to: &str| {
        if s.matches(from).count() == 1 {
            Ok(s.replacen(from, to, 1))
        } else {
            Err(bad())
        }
    };
    const NOT_WORD: &str = r"[^0-9A-Za-z_\x82\x83]";
    let (head, tail) = ORG_NAME.split_once(r"|\b[A-Z]").ok_or_else(bad)?;
    let head = replace(head, "–", r"\x80")?;
    let head = replace(&head, "—", r"\x81")?;
    let tail = replace(tail, "Café", r"Caf\x82")?;
    let tail = tail.strip_suffix(r")\b").ok_or_else(bad)?;
    let tail = format!("(?:^|{NOT_WORD})[A-Z]{tail})(?:{NOT_WORD}|$)");
    if !head.is_ascii() || !tail.is_ascii() {
        return Err(bad());
    }
    Ok([head, tail])
}

/// The shadow of `original` for [`org_name_for_shadow`]: ASCII as it is; the pattern's non-ASCII
/// characters `–`, `—` and `é` as bytes 0x80, 0x81, 0x82; any other word character (Unicode
/// `\w`, the table the `regex` crate uses) as 0x83 and anything else as 0x84.
fn org_shadow(original: &str, out: &mut Vec<u8>) {
    out.clear();
    // ASCII runs are copied as they are, in bulk; the characters between them are mapped.
    let mut rest = original;
    while !rest.is_empty() {
        let ascii = rest
            .bytes()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        out.extend_from_slice(&rest.as_bytes()[..ascii]);
        rest = &rest[ascii..];
        let mut chars = rest.chars();
        let Some(c) = chars.next() else { break };
        out.push(match c {
            '–' => 0x80,
            '—' => 0x81,
            'é' => 0x82,
            c if regex_syntax::try_is_word_character(c).unwrap_or_else(|_| c.is_alphanumeric()) => {
                0x83
            }
            _ => 0x84,
        });
        rest = chars.as_str();
    }
}

/// A time range (`6am to 9pm`), over the text view: the long-day detector's search, gated by the
/// first step over the text view.
const TIME_RANGE: &str = r"\b(1[0-2]|0?[1-9])(?::([0-5]\d))? ?(am|pm|a\.m\.|p\.m\.) ?(?:-|–|to|till|until) ?(1[0-2]|0?[1-9])(?::([0-5]\d))? ?(am|pm|a\.m\.|p\.m\.)";

/// Words of a job ad, over the text view: the anonymous-employer detector judges only job ads.
/// Only whether it matches is asked, so the first step over the text view answers it.
const JOB_CONTEXT: &str = r"\b(?:hiring|wanted|needed|vacanc(?:y|ies)|jobs?|recruit(?:ing|ment)?|salary|wages?|workers|staff|employment|apply|positions?|work|contract|experience)\b";

/// Signs of a named organisation in the folded view: a legal suffix, a street address, an
/// e-mail or web domain, a licence number. Answered by the first step over the folded view, as
/// [`JOB_CONTEXT`].
const ORG_FOLDED: &str = r"(?x)\b(?:ltd|llc|l\.l\.c|inc|plc|gmbh|pty|corp|pvt|limited|llp|s\.a|b\.v|sdn\ bhd|co\.)\b
                  |\b\d{1,5}\ [a-z]+(?:\ [a-z]+)?\ (?:st|street|rd|road|ave|avenue|blvd|boulevard|lane|ln|drive|dr|way|highway|hwy|place|pl|square|sq|parkway|pkwy|court|ct)\b
                  |@(?:[a-z0-9\-]+\.)+[a-z]{2,}
                  |\b(?:https?://|www\.)?[a-z0-9\-]{3,}\.(?:com|org|net|co\.uk|example|gov|edu|ac\.uk|nhs\.uk|ca|com\.au|de|ie|in|co\.za|ph|sg|ae)(?:/|\b)
                  |\b(?:license|licence|registration|reg\.?)\ (?:no\.?|number|\#)\ ?[a-z0-9\-]{4,}";

/// Built-in searches whose patterns run in the first step too ([`AnchoredPatterns`]), after the
/// catalogue's: an ad where it finds no match for one skips it (the first step reads every ad
/// anyway; the separate searches each cost a pass over the ad, about 4 µs on a 2.4 KB ad). Text
/// view, in this order.
const TEXT_GATES: [&str; 3] = [JOB_CONTEXT, TIME_RANGE, entities::AGE];
/// The same over the folded view.
const FOLDED_GATES: [&str; 3] = [ORG_FOLDED, entities::URL, entities::PLATFORM_HANDLE];

/// What the first step found in one ad: the catalogue patterns that match (per view, in
/// increasing order) and which gated searches can find anything.
#[derive(Debug, Clone)]
pub(crate) struct Matched {
    /// Catalogue patterns matching the text view, then the folded view, each with a place no
    /// match of it starts before.
    patterns: [Vec<(usize, usize)>; 2],
    pub(crate) entities: EntityGates,
    job_context: bool,
    time_range: bool,
    org_folded: bool,
}

/// Fixed patterns of the built-in detectors.
#[derive(Debug, Clone)]
struct DetectorPatterns {
    time_range: Regex,
    /// Organisation names in the original text, over its shadow ([`org_name_for_shadow`]): the
    /// pattern's two alternatives apart, the cheap one (a name ending in a kind of
    /// organisation, in most ads that get this far) tried first.
    org_shadow: [Regex; 2],
}

impl DetectorPatterns {
    fn new() -> Result<Self> {
        Ok(DetectorPatterns {
            time_range: compile(TIME_RANGE, "long_day")?,
            org_shadow: {
                let [head, tail] = org_name_for_shadow()?;
                let build = |p: &str| {
                    RegexBuilder::new(p)
                        .unicode(false)
                        .size_limit(1 << 22)
                        .dfa_size_limit(DFA_CACHE_LIMIT)
                        .build()
                        .map_err(|e| Error::Catalogue(format!("anonymous_employer: {e}")))
                };
                [build(&tail)?, build(&head)?]
            },
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    indicator: Vec<IndicatorDef>,
}

/// A parsed, validated indicator catalogue.
#[derive(Debug, Clone)]
pub struct Catalogue {
    defs: Vec<IndicatorDef>,
}

impl Catalogue {
    /// The catalogue embedded in the binary.
    pub fn builtin() -> Result<Self> {
        Self::from_toml(BUILTIN_CATALOGUE)
    }

    /// Parses and validates a catalogue: unique ids, known `requires` ids and AMP columns, finite
    /// prior weights.
    pub fn from_toml(text: &str) -> Result<Self> {
        let file: CatalogueFile =
            toml::from_str(text).map_err(|e| Error::Catalogue(e.to_string()))?;
        let defs = file.indicator;
        for (i, d) in defs.iter().enumerate() {
            if defs[..i].iter().any(|e| e.id == d.id) {
                return Err(Error::Catalogue(format!(
                    "duplicate indicator id {:?}",
                    d.id
                )));
            }
            if !d.prior_weight.is_finite() {
                return Err(Error::Catalogue(format!(
                    "{}: prior_weight must be finite",
                    d.id
                )));
            }
            if crate::amp::Column::parse(&d.amp).is_none() {
                return Err(Error::Catalogue(format!(
                    "{}: unknown amp {:?}",
                    d.id, d.amp
                )));
            }
            if d.patterns.is_empty() && d.folded_patterns.is_empty() && d.detector.is_none() {
                return Err(Error::Catalogue(format!(
                    "{}: no patterns and no detector",
                    d.id
                )));
            }
        }
        for d in &defs {
            for r in &d.requires {
                if !defs.iter().any(|e| &e.id == r) {
                    return Err(Error::Catalogue(format!(
                        "{}: requires unknown id {r:?}",
                        d.id
                    )));
                }
            }
        }
        Ok(Catalogue { defs })
    }

    pub fn from_path(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_toml(&text)
    }

    pub fn indicators(&self) -> &[IndicatorDef] {
        &self.defs
    }

    pub fn len(&self) -> usize {
        self.defs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.defs.iter().position(|d| d.id == id)
    }
}

/// One indicator found in one ad, with its evidence as byte ranges of the original text.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Index into [`Catalogue::indicators`].
    pub indicator: usize,
    pub evidence: Vec<Range<usize>>,
}

/// The compiled catalogue. Build once, share across threads.
#[derive(Debug, Clone)]
pub struct IndicatorEngine {
    catalogue: Catalogue,
    /// Which `patterns` and text-view gates match an ad's text view.
    text_anchors: AnchoredPatterns,
    /// For each catalogue pattern of the text view: its indicator and its own regex.
    patterns: Vec<SpanRegex>,
    /// Which `folded_patterns` and folded-view gates match an ad's folded view.
    folded_anchors: AnchoredPatterns,
    folded_patterns: Vec<SpanRegex>,
    excludes: Vec<Vec<Regex>>,
    requires: Vec<Vec<usize>>,
    wage: Option<usize>,
    obscured_phone: Option<usize>,
    minor_age: Option<usize>,
    long_day: Option<usize>,
    anonymous_employer: Option<usize>,
    no_experience: Option<usize>,
    escort: Option<usize>,
    detectors: DetectorPatterns,
}

/// The lazy-DFA cache each single regex may grow to (per thread; it grows only as states are
/// built). The `regex` default, 2 MiB, is too small for the larger patterns on new text: the
/// organisation-name pattern, when it was one Unicode automaton, cleared and rebuilt its cache
/// over and over (27 µs per non-ASCII ad of new text against 10 µs with this limit).
pub(crate) const DFA_CACHE_LIMIT: usize = 1 << 26;
/// The same for each [`RegexSet`] of [`PatternSets`], whose automata are far larger (session 1:
/// 16 MiB made the indicator stage 15 times slower).
const SET_DFA_CACHE_LIMIT: usize = 1 << 28;

fn compile(pattern: &str, id: &str) -> Result<Regex> {
    compile_within(pattern, SIZE_LIMIT)
        .map_err(|e| Error::Catalogue(format!("{id}: bad pattern {pattern:?}: {e}")))
}

/// The compiled size allowed a catalogue pattern's own regex.
const SIZE_LIMIT: usize = 1 << 24;

fn compile_within(pattern: &str, size_limit: usize) -> std::result::Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(size_limit)
        .dfa_size_limit(DFA_CACHE_LIMIT)
        .build()
}

/// A catalogue pattern's own [`Regex`], which finds the spans of its matches for evidence,
/// compiled on first use: the first step ([`AnchoredPatterns`]) says which patterns match, and
/// most ads match few. Compiling all of them was 40% of start-up on the catalogue's thread
/// (session 7); a scan now compiles each once, on the worker that first needs it.
///
/// Its compile cannot fail: [`IndicatorEngine::new`] has parsed every pattern, and the first
/// step has compiled it into automata whose size limits are larger than [`SIZE_LIMIT`]. So a
/// pattern over that limit compiles without one, within the size the first step accepted.
#[derive(Debug, Clone)]
struct SpanRegex {
    indicator: usize,
    source: String,
    regex: OnceLock<Option<Regex>>,
}

impl SpanRegex {
    fn new(indicator: usize, source: &str) -> Self {
        SpanRegex {
            indicator,
            source: source.to_string(),
            regex: OnceLock::new(),
        }
    }

    /// The compiled regex (`None` only if it failed to compile, which the checks at load rule
    /// out).
    fn get(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| {
                compile_within(&self.source, SIZE_LIMIT)
                    .or_else(|_| compile_within(&self.source, usize::MAX))
                    .ok()
            })
            .as_ref()
    }
}

/// The first pattern of `defs` that does not parse, as an error naming its indicator.
fn first_bad_pattern(defs: &[IndicatorDef]) -> Option<Error> {
    let mut parser = regex_syntax::ParserBuilder::new();
    parser.unicode(false).utf8(false);
    defs.iter().find_map(|d| {
        d.patterns
            .iter()
            .chain(&d.folded_patterns)
            .find_map(|p| parser.build().parse(p).err().map(|e| (p, e)))
            .map(|(p, e)| Error::Catalogue(format!("{}: bad pattern {p:?}: {e}", d.id)))
    })
}

/// Most patterns per [`RegexSet`] (since session 6 only the patterns [`AnchoredPatterns`] cannot
/// anchor are in sets). A set's lazy DFA builds a state for each combination of
/// partial matches in flight, so on text it has not seen the number of states grows much
/// faster than the number of patterns: on 4,000 ads of new text (BENCHMARKS.md, session 3) the
/// 218 built-in patterns cost 333 µs per ad in the first 1,000 ads as one set and 159 µs as two
/// sets of about 110, 56 against 30 µs in the fourth 1,000, for 13 against 15 µs on ads seen
/// before.
const MAX_PATTERNS_PER_SET: usize = 128;

/// Each view's pattern sources, the catalogue's then its gates ([`TEXT_GATES`],
/// [`FOLDED_GATES`]), with the group of each: its indicator, or one group per gate past the
/// catalogue's, so that no set split separates an indicator's patterns.
fn view_sources(defs: &[IndicatorDef]) -> [(Vec<&str>, Vec<usize>); 2] {
    let view = |patterns: &dyn Fn(&IndicatorDef) -> &[String], gates: [&'static str; 3]| {
        let mut sources = Vec::new();
        let mut groups = Vec::new();
        for (i, d) in defs.iter().enumerate() {
            for p in patterns(d) {
                sources.push(p.as_str());
                groups.push(i);
            }
        }
        for (k, g) in gates.into_iter().enumerate() {
            sources.push(g);
            groups.push(defs.len() + k);
        }
        (sources, groups)
    };
    [
        view(&|d| &d.patterns, TEXT_GATES),
        view(&|d| &d.folded_patterns, FOLDED_GATES),
    ]
}

/// One view's patterns as a few [`RegexSet`]s of consecutive patterns, each at most
/// [`MAX_PATTERNS_PER_SET`] and as equal in size as the indicator boundaries allow (an
/// indicator's patterns stay in one set, even an indicator with more patterns than the cap).
#[derive(Debug, Clone)]
struct PatternSets {
    /// Each set and the index of its first pattern.
    sets: Vec<(RegexSet, usize)>,
}

impl PatternSets {
    fn new(sources: &[&str], indicator: &[usize]) -> Result<Self> {
        let target = sources
            .len()
            .div_ceil(sources.len().div_ceil(MAX_PATTERNS_PER_SET).max(1));
        let mut sets = Vec::new();
        let mut start = 0;
        while start < sources.len() {
            // Close the set at the first indicator boundary at or past the target size, or at
            // the last one before it if that would pass the cap (an indicator with more
            // patterns than the cap gets a set of its own).
            let boundary = |i: usize| i == sources.len() || indicator[i] != indicator[i - 1];
            let mut end = (start + target).min(sources.len());
            while !boundary(end) {
                end += 1;
            }
            if end - start > MAX_PATTERNS_PER_SET {
                end = (start + 1..=start + MAX_PATTERNS_PER_SET)
                    .rev()
                    .find(|&i| boundary(i))
                    .unwrap_or(end);
            }
            let set = RegexSetBuilder::new(&sources[start..end])
                .unicode(false)
                .size_limit(1 << 26)
                .dfa_size_limit(SET_DFA_CACHE_LIMIT)
                .build()
                .map_err(|e| Error::Catalogue(format!("pattern set: {e}")))?;
            sets.push((set, start));
            start = end;
        }
        Ok(PatternSets { sets })
    }

    /// How many patterns the sets hold.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.sets.iter().map(|(set, _)| set.len()).sum()
    }

    /// Indices of the patterns that match `text`, in increasing order.
    fn matches(&self, text: &[u8]) -> Vec<usize> {
        let mut out = Vec::new();
        for (set, first) in &self.sets {
            out.extend(set.matches(text).iter().map(|p| first + p));
        }
        out
    }
}

impl IndicatorEngine {
    pub fn new(catalogue: Catalogue) -> Result<Self> {
        let mut patterns = Vec::new();
        let mut folded_patterns = Vec::new();
        let mut excludes = Vec::new();
        for (i, d) in catalogue.defs.iter().enumerate() {
            patterns.extend(d.patterns.iter().map(|p| SpanRegex::new(i, p)));
            folded_patterns.extend(d.folded_patterns.iter().map(|p| SpanRegex::new(i, p)));
            let ex = d
                .exclude
                .iter()
                .map(|p| compile(p, &d.id))
                .collect::<Result<Vec<_>>>()?;
            excludes.push(ex);
        }
        let [(sources, indicator), (folded_sources, folded_indicator)] =
            view_sources(&catalogue.defs);
        // A pattern that does not parse fails these; the error then names it and its indicator.
        let named = |e: Error| first_bad_pattern(&catalogue.defs).unwrap_or(e);
        // The first step's answers need only be exact for the first gate of each view
        // (`JOB_CONTEXT`, `ORG_FOLDED`), which are read as facts; every other pattern it names
        // is searched again by its own regex, which finds nothing if it was named in excess.
        let text_gate = sources.len() - TEXT_GATES.len();
        let folded_gate = folded_sources.len() - FOLDED_GATES.len();
        let text_anchors =
            AnchoredPatterns::new(&sources, &indicator, &|i| i == text_gate).map_err(named)?;
        let folded_anchors =
            AnchoredPatterns::new(&folded_sources, &folded_indicator, &|i| i == folded_gate)
                .map_err(named)?;
        let requires = catalogue
            .defs
            .iter()
            .map(|d| {
                d.requires
                    .iter()
                    .filter_map(|r| catalogue.index_of(r))
                    .collect()
            })
            .collect();
        let with_detector = |det| catalogue.defs.iter().position(|d| d.detector == Some(det));
        Ok(IndicatorEngine {
            wage: with_detector(Detector::Wage),
            obscured_phone: with_detector(Detector::ObscuredPhone),
            minor_age: with_detector(Detector::MinorAge),
            long_day: with_detector(Detector::LongDay),
            anonymous_employer: with_detector(Detector::AnonymousEmployer),
            no_experience: catalogue.index_of("no_experience_needed"),
            escort: catalogue.index_of("escort_ad"),
            detectors: DetectorPatterns::new()?,
            catalogue,
            text_anchors,
            patterns,
            folded_anchors,
            folded_patterns,
            excludes,
            requires,
        })
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// Finds the indicators of one ad. `entities` are the ad's entities (the detectors read
    /// money amounts, phones and ages from them). Hits come back ordered by catalogue index.
    pub fn find(&self, original: &str, norm: &Normalized, entities: &[Entity]) -> Vec<Hit> {
        let matched = self.matching_patterns(norm);
        self.find_with(original, norm, entities, &matched)
    }

    /// Which patterns match anywhere in the ad, and which gated searches can find anything:
    /// the first step of [`IndicatorEngine::find`], separate so a batch can run it over every
    /// ad before the rest (its automata then stay in the CPU cache), and before the entities,
    /// whose gated searches it answers.
    pub(crate) fn matching_patterns(&self, norm: &Normalized) -> Matched {
        let mut text = self.text_anchors.matches_from(norm.text().as_bytes());
        let mut folded = self.folded_anchors.matches_from(norm.folded().as_bytes());
        // The gates' indices follow the catalogue's patterns; `matches` is in increasing order.
        let gates = |found: &mut Vec<(usize, usize)>, catalogue_len: usize| {
            let mut on = [false; 3];
            for p in found
                .iter()
                .filter_map(|&(p, _)| p.checked_sub(catalogue_len))
            {
                if let Some(g) = on.get_mut(p) {
                    *g = true;
                }
            }
            found.retain(|&(p, _)| p < catalogue_len);
            on
        };
        let [job_context, time_range, age] = gates(&mut text, self.patterns.len());
        let [org_folded, url, platform_handle] = gates(&mut folded, self.folded_patterns.len());
        Matched {
            patterns: [text, folded],
            entities: EntityGates {
                url,
                platform_handle,
                age,
            },
            job_context,
            time_range,
            org_folded,
        }
    }

    /// [`IndicatorEngine::find`] given [`IndicatorEngine::matching_patterns`] of the same ad.
    pub(crate) fn find_with(
        &self,
        original: &str,
        norm: &Normalized,
        entities: &[Entity],
        matched: &Matched,
    ) -> Vec<Hit> {
        let n = self.catalogue.defs.len();
        let mut evidence: Vec<Vec<Range<usize>>> = vec![Vec::new(); n];
        let views = [
            (&self.patterns, norm.text().as_bytes(), false),
            (&self.folded_patterns, norm.folded().as_bytes(), true),
        ];
        for ((patterns, text, folded), matched) in views.into_iter().zip(&matched.patterns) {
            if patterns.is_empty() {
                continue;
            }
            for (pattern, from) in matched
                .iter()
                .filter_map(|&(p, from)| Some((patterns.get(p)?, from)))
            {
                let Some(re) = pattern.get() else { continue };
                let ind = &pattern.indicator;
                // Each match as evidence; false when the indicator has enough.
                let mut take = |m: regex::bytes::Match| {
                    if evidence[*ind].len() >= MAX_EVIDENCE {
                        return false;
                    }
                    if !self.excluded(*ind, text, m.range()) {
                        evidence[*ind].push(if folded {
                            norm.folded_to_original(m.range())
                        } else {
                            norm.text_to_original(m.range())
                        });
                    }
                    true
                };
                if from == 0 {
                    for m in re.find_iter(text) {
                        if !take(m) {
                            break;
                        }
                    }
                } else {
                    // No match starts before `from`, and none is empty (`matches_from` says
                    // so only then): these are the matches `find_iter` finds.
                    let mut at = from;
                    while let Some(m) = re.find_at(text, at) {
                        at = m.end().max(m.start() + 1);
                        if !take(m) {
                            break;
                        }
                    }
                }
            }
        }
        self.run_detectors(original, norm, entities, matched, &mut evidence);
        // Context: an indicator that requires another counts only when that one fired too.
        // `requires` chains are one level deep in practice; loop until nothing changes.
        loop {
            let mut changed = false;
            for i in 0..n {
                if !evidence[i].is_empty()
                    && self.requires[i].iter().any(|&r| evidence[r].is_empty())
                {
                    evidence[i].clear();
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        evidence
            .into_iter()
            .enumerate()
            .filter(|(_, e)| !e.is_empty())
            .map(|(indicator, e)| Hit {
                indicator,
                evidence: merge_overlapping(e),
            })
            .collect()
    }

    fn org_in_original(&self, original: &str) -> bool {
        let mut shadow = Vec::new();
        let text = if original.is_ascii() {
            // An ASCII text is its own shadow.
            original.as_bytes()
        } else {
            org_shadow(original, &mut shadow);
            &shadow
        };
        self.detectors.org_shadow.iter().any(|re| re.is_match(text))
    }

    fn excluded(&self, ind: usize, text: &[u8], r: Range<usize>) -> bool {
        let ex = &self.excludes[ind];
        if ex.is_empty() {
            return false;
        }
        let start = r.start.saturating_sub(EXCLUDE_WINDOW);
        let end = (r.end + EXCLUDE_WINDOW).min(text.len());
        let window = &text[start..end];
        ex.iter().any(|re| re.is_match(window))
    }

    fn run_detectors(
        &self,
        original: &str,
        norm: &Normalized,
        entities: &[Entity],
        matched: &Matched,
        evidence: &mut [Vec<Range<usize>>],
    ) {
        let no_experience = self.no_experience.is_some_and(|i| !evidence[i].is_empty());
        if let Some(i) = self.long_day.filter(|_| matched.time_range) {
            let text = norm.text().as_bytes();
            for c in self.detectors.time_range.captures_iter(text) {
                if evidence[i].len() >= MAX_EVIDENCE {
                    break;
                }
                if let (Some(whole), Some(hours)) = (c.get(0), span_hours(&c)) {
                    // Opening hours ("open 6am to 11pm") are not a working day.
                    let before = &text[whole.start().saturating_sub(24)..whole.start()];
                    let opening = before.windows(4).any(|w| w == b"open");
                    if hours >= LONG_DAY_HOURS && !opening {
                        evidence[i].push(norm.text_to_original(whole.range()));
                    }
                }
            }
        }
        if let Some(i) = self.anonymous_employer {
            let escort = self.escort.is_some_and(|e| !evidence[e].is_empty());
            // Too short to judge what is missing: a one-line ad fragment.
            let anonymous = !escort
                && evidence[i].is_empty()
                && original.len() >= ANONYMOUS_MIN_BYTES
                && matched.job_context
                && !matched.org_folded
                && !self.org_in_original(original);
            if anonymous {
                // The evidence of an absence: how the ad can be reached instead (its contact
                // details), else its first line.
                let contacts: Vec<Range<usize>> = entities
                    .iter()
                    .filter(|e| {
                        matches!(
                            e.kind,
                            EntityKind::Phone | EntityKind::Handle | EntityKind::Email
                        )
                    })
                    .map(|e| e.start..e.end)
                    .take(MAX_EVIDENCE)
                    .collect();
                if contacts.is_empty() {
                    let first_line = original.find('\n').unwrap_or(original.len()).min(120);
                    let mut end = first_line;
                    while !original.is_char_boundary(end) {
                        end -= 1;
                    }
                    if end > 0 {
                        evidence[i].push(0..end);
                    }
                } else {
                    evidence[i].extend(contacts);
                }
            }
        }
        for e in entities {
            let target = match e.kind {
                EntityKind::Money if is_lure_wage(original, e, no_experience) => self.wage,
                EntityKind::Phone if e.obscured => self.obscured_phone,
                EntityKind::Age if e.value.parse::<u8>().is_ok_and(|a| a < 18) => self.minor_age,
                _ => None,
            };
            if let Some(i) = target {
                if evidence[i].len() < MAX_EVIDENCE {
                    evidence[i].push(e.start..e.end);
                }
            }
        }
    }
}

/// Shorter ads are not judged by the anonymous-employer detector: a one-line fragment has no
/// room for an employer's name, and its absence says nothing.
const ANONYMOUS_MIN_BYTES: usize = 120;

/// Hours in one stated working day that make it excessive (ILO-11: excessive overtime).
const LONG_DAY_HOURS: f64 = 12.0;

/// Length in hours of a captured time range (`6am to 9pm` → 15); ranges ending past midnight
/// wrap.
fn span_hours(c: &regex::bytes::Captures) -> Option<f64> {
    let num =
        |i: usize| -> Option<f64> { std::str::from_utf8(c.get(i)?.as_bytes()).ok()?.parse().ok() };
    let minutes = |i: usize| c.get(i).map_or(Some(0.0), |_| num(i));
    let pm = |i: usize| c.get(i).is_some_and(|m| m.as_bytes().starts_with(b"p"));
    let clock =
        |h: f64, m: f64, is_pm: bool| (h % 12.0 + if is_pm { 12.0 } else { 0.0 }) + m / 60.0;
    let start = clock(num(1)?, minutes(2)?, pm(3));
    let end = clock(num(4)?, minutes(5)?, pm(6));
    Some(if end > start {
        end - start
    } else {
        end + 24.0 - start
    })
}

/// Pay per week (US dollars) above which an offer is a lure when it is pitched ("earn…", "up
/// to…") or needs no experience: about $52,000 a year, above the US median full-time wage
/// (BLS 2024: ~$1,150 a week) for jobs that ask for nothing.
const LURE_WEEKLY_USD: f64 = 1000.0;
/// Pay per week stated by the hour, day or week that is a lure whatever the pitch: $100 an
/// hour, $800 a day, $4,000 a week.
const ABSURD_WEEKLY_USD: f64 = 4000.0;
/// A pitched lump sum without a period ("earn $5,000!").
const LURE_LUMP_USD: f64 = 2000.0;

/// The `wage_too_good` detector: judges one money amount in its context.
fn is_lure_wage(original: &str, e: &Entity, no_experience: bool) -> bool {
    let Some(m) = &e.money else { return false };
    let mut from = e.start.saturating_sub(40);
    while !original.is_char_boundary(from) {
        from -= 1;
    }
    let before = original[from..e.start].to_lowercase();
    let pitched = [
        "earn",
        "make",
        "up to",
        "income",
        "guarantee",
        "paid",
        "salary of",
    ]
    .iter()
    .any(|w| before.contains(w));
    match m.usd_per_week() {
        Some(w) => {
            let short_period = matches!(m.period, Some("hour" | "day" | "week"));
            ((pitched || no_experience) && w >= LURE_WEEKLY_USD)
                || (short_period && w >= ABSURD_WEEKLY_USD)
        }
        None => {
            let usd = crate::entities::usd_rate(m.currency).map(|r| r * m.amount);
            pitched && m.period.is_none() && usd.is_some_and(|u| u >= LURE_LUMP_USD)
        }
    }
}

/// Spans in order, each pair that overlaps made one: two patterns of an indicator often match
/// the same words (`passport kept`, `passport kept by the agency`), and a reviewer should see
/// them once, not as nested highlights. Spans that only touch stay apart.
fn merge_overlapping(mut spans: Vec<Range<usize>>) -> Vec<Range<usize>> {
    spans.sort_by_key(|r| (r.start, r.end));
    // In place: a span that overlaps (or repeats) the last one kept widens it and is dropped.
    spans.dedup_by(|r, last| {
        let joins = r.start < last.end || r == last;
        if joins {
            last.end = last.end.max(r.end);
        }
        joins
    });
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::EntityExtractor;
    use crate::normalize::normalize;
    use proptest::strategy::Strategy;

    fn ids(text: &str) -> Vec<String> {
        let engine = IndicatorEngine::new(Catalogue::builtin().unwrap()).unwrap();
        let n = normalize(text);
        let ents = EntityExtractor::new().extract(text, &n);
        engine
            .find(text, &n, &ents)
            .into_iter()
            .map(|h| engine.catalogue().indicators()[h.indicator].id.clone())
            .collect()
    }

    #[test]
    fn overlapping_evidence_is_one_span() {
        assert_eq!(
            merge_overlapping(vec![
                0..13,
                0..16,
                0..27,
                40..45,
                30..35,
                44..50,
                50..52,
                60..60,
                60..60
            ]),
            vec![0..27, 30..35, 40..50, 50..52, 60..60]
        );
        assert!(merge_overlapping(Vec::new()).is_empty());
        // In an ad: three patterns of `document_retention` match nested spans.
        let engine = IndicatorEngine::new(Catalogue::builtin().unwrap()).unwrap();
        let text = "Apply today. Passport kept by the agency.";
        let n = normalize(text);
        let hits = engine.find(text, &n, &EntityExtractor::new().extract(text, &n));
        let defs = engine.catalogue().indicators();
        let retention = hits
            .iter()
            .find(|h| defs[h.indicator].id == "document_retention")
            .unwrap();
        let spans: Vec<&str> = retention
            .evidence
            .iter()
            .map(|r| &text[r.clone()])
            .collect();
        assert_eq!(spans, ["Passport kept by the agency"]);
    }

    #[test]
    fn builtin_catalogue_compiles() {
        let c = Catalogue::builtin().unwrap();
        assert!(c.len() >= 22);
        IndicatorEngine::new(c).unwrap();
    }

    /// A catalogue of one indicator with these patterns.
    fn one_indicator(patterns: &[&str]) -> Catalogue {
        let patterns: Vec<String> = patterns.iter().map(|p| format!("'{p}'")).collect();
        Catalogue::from_toml(&format!(
            "[[indicator]]\nid = \"odd\"\ncategory = \"c\"\namp = \"none\"\n\
             description = \"d\"\nsource = \"s\"\nprior_class = \"C\"\n\
             prior_weight = 0.25\n\
             patterns = [{}]\n",
            patterns.join(", ")
        ))
        .unwrap()
    }

    #[test]
    fn a_pattern_that_does_not_parse_is_named_with_its_indicator() {
        // Session 7 compiles each pattern's own regex on first use; its syntax is still
        // checked at load, and the error still names the indicator and the pattern.
        let err = IndicatorEngine::new(one_indicator(&[r"\bfine\b", "(unclosed"])).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Catalogue(_)), "{msg}");
        assert!(msg.contains("odd: bad pattern \"(unclosed\""), "{msg}");
    }

    #[test]
    fn a_pattern_over_its_own_size_limit_still_finds_its_spans() {
        // Alone over `SIZE_LIMIT` (16 MiB), within the first step's automaton (64 MiB): its
        // regex, compiled on first use, falls back to no limit rather than losing the hit.
        let big = r"\bzq[a-z]{0,200000}x";
        assert!(compile_within(big, SIZE_LIMIT).is_err());
        let engine = IndicatorEngine::new(one_indicator(&[big])).unwrap();
        let text = "call zqabcx now";
        let n = normalize(text);
        let hits = engine.find(text, &n, &[]);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].evidence, vec![5..11]);
        assert!(engine.find("zqabc", &normalize("zqabc"), &[]).is_empty());
    }

    #[test]
    fn pattern_sets_split_on_indicator_boundaries_and_match_as_one_set() {
        // 300 patterns, 7 per indicator: three sets, none splitting an indicator.
        let sources: Vec<String> = (0..300).map(|i| format!(r"\bw{i}x\b")).collect();
        let refs: Vec<&str> = sources.iter().map(String::as_str).collect();
        let indicator: Vec<usize> = (0..300).map(|i| i / 7).collect();
        let sets = PatternSets::new(&refs, &indicator).unwrap();
        assert_eq!(sets.sets.len(), 3);
        for (_, first) in &sets.sets[1..] {
            assert_ne!(indicator[*first], indicator[first - 1]);
        }
        let one = RegexSetBuilder::new(&refs).build().unwrap();
        for text in [
            "w0x w150x w299x",
            "w7x",
            "nothing",
            "w99x w100x w101x w200x",
        ] {
            let expected: Vec<usize> = one.matches(text.as_bytes()).iter().collect();
            assert_eq!(sets.matches(text.as_bytes()), expected, "{text}");
        }
        assert!(PatternSets::new(&[], &[]).unwrap().matches(b"x").is_empty());

        // An indicator across the target size that would pass the cap closes the set before it.
        let sources: Vec<String> = (0..250).map(|i| format!("w{i}x")).collect();
        let refs: Vec<&str> = sources.iter().map(String::as_str).collect();
        let indicator: Vec<usize> = (0..250)
            .map(|i| if (120..150).contains(&i) { 120 } else { i })
            .collect();
        let sets = PatternSets::new(&refs, &indicator).unwrap();
        let firsts: Vec<usize> = sets.sets.iter().map(|(_, f)| *f).collect();
        assert_eq!(firsts, [0, 120, 245]);
        // One indicator with more patterns than the cap keeps them together.
        let sets = PatternSets::new(&refs[..200], &[7; 200]).unwrap();
        assert_eq!(sets.sets.len(), 1);
        assert_eq!(sets.matches(b"w0x w199x"), [0, 199]);
    }

    /// Every gate the first step reports is exactly "this search finds something", so the gated
    /// entity searches and detectors give what the ungated ones give.
    #[test]
    fn gates_answer_as_their_searches_do() {
        let engine = org_engine();
        let extractor = EntityExtractor::new();
        let sample = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/datasets/sample/ads.jsonl"
        ))
        .unwrap();
        let mut texts: Vec<String> = sample
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        texts.extend(
            [
                "",
                "open 6am to 11pm; shifts 6am - 9pm, hiring now",
                "I'm 17, new in town. whatsapp: anna_22 or snap id lily.x",
                "Visit www.example.com or jobs.example.org/apply, Acme Ltd, 12 High Street",
                "aged: 16 years old, 5 y/o, turned 19",
                "no digits, no links, nothing: a plain sentence about gardens",
            ]
            .map(String::from),
        );
        let mut seen = [[0usize; 2]; 6];
        for t in &texts {
            let n = normalize(t);
            let m = engine.matching_patterns(&n);
            let (found, truth) = (gate_answers(&m), gate_searches_find(&n));
            assert_eq!(found, truth, "{t}");
            for (k, &f) in found.iter().enumerate() {
                seen[k][usize::from(f)] += 1;
            }

            let all = extractor.extract(t, &n);
            assert_eq!(extractor.extract_gated(t, &n, m.entities), all, "{t}");
            let ungated = Matched {
                entities: EntityGates::ALL,
                job_context: truth[0],
                time_range: true,
                org_folded: truth[3],
                ..m.clone()
            };
            let hits = |m: &Matched| {
                engine
                    .find_with(t, &n, &all, m)
                    .into_iter()
                    .map(|h| (h.indicator, h.evidence))
                    .collect::<Vec<_>>()
            };
            assert_eq!(hits(&m), hits(&ungated), "{t}");
        }
        // Each gate was both open and shut somewhere, so the checks above were not idle.
        for (k, s) in seen.iter().enumerate() {
            assert!(s[0] > 0 && s[1] > 0, "gate {k}: {s:?}");
        }
    }

    #[test]
    fn context_is_required() {
        assert!(
            !ids("Youth football coach wanted for young team").contains(&"youth_language".into())
        );
        assert!(ids("young fresh girl, incall only").contains(&"youth_language".into()));
    }

    #[test]
    fn org_names_match_as_the_unicode_pattern_does() {
        let engine = IndicatorEngine::new(Catalogue::builtin().unwrap()).unwrap();
        let unicode = regex::Regex::new(ORG_NAME).unwrap();
        for text in [
            "Work at Joe's Café today",
            "Joe's Cafés",
            "éGrand Hotel",
            "Grand Hotelé",
            "Стабильная работа с хорошей зарплатой и жильём - Acme,",
            "日 - Acme,",
            "Cleaner wanted - Acme Cleaning,",
            "Cooks needed at Riverside Community Hospital",
            "Riverside_Community Hospital",
            "staff wanted, good pay, call now",
            "Barista – Joe's Café\nCook — Grand Hotel,",
            "Работа за границей — Acme,",
            "ééé - Acme,",
            "日本語の仕事 at Tokyo Bank",
            "Joe's Cafe\u{301} now",
            "x\u{301}Grand Hotel",
            "\u{1F600}Grand Hotel\u{1F600}",
        ] {
            assert_eq!(
                engine.org_in_original(text),
                unicode.is_match(text),
                "{text}"
            );
        }
    }

    proptest::proptest! {
        /// The shadow keeps the Unicode pattern's meaning on any mix of ASCII, the pattern's own
        /// non-ASCII characters, other letters, marks, symbols and line breaks; the 80-character
        /// line limit is crossed with runs of multi-byte characters.
        #[test]
        fn org_names_over_the_shadow_match_as_the_unicode_pattern_does(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "Acme", "Grand", "Hotel", "Café", "Cafe", "Bank", "of", "and", "&", "The ",
                " ", " - ", " – ", " — ", " | ", " @ ", " at ", ",", "\n", "é", "ж", "日本",
                "\u{301}", "\u{1F600}", "_", "x", "Ёлка", "ééééééééééééééééééééééééééééééééééééééé",
                "жжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжж", "9", "\r", "\u{2028}", "\u{85}",
                "\u{200D}", "\u{200C}", "٣", "Ⅻ", "ⓐ",
            ]), 0..24)
        ) {
            let engine = org_engine();
            let text = parts.concat();
            let unicode = regex::Regex::new(ORG_NAME).unwrap();
            proptest::prop_assert_eq!(engine.org_in_original(&text), unicode.is_match(&text), "{:?}", text);
        }

        /// Each gate read as a fact (`JOB_CONTEXT`, `ORG_FOLDED`) is its search's `is_match`,
        /// every other gate is open wherever its search finds something, and gated extraction
        /// is full extraction, on random mixes of the gated searches' triggers, other text and
        /// other scripts.
        #[test]
        fn gates_answer_as_their_searches_do_on_random_text(
            parts in proptest::collection::vec(proptest::prop_oneof![
                proptest::sample::select(vec![
                    " ", "\n", "Ltd", "Acme Inc.", "www.x.com", "jobs.example.org/apply",
                    "6am to 9pm", "6 am - 11 pm", "hiring", "work", "whatsapp: anna_22",
                    "snap id lily.x", "I'm 17", "aged 16", "19 years old", "12 high street",
                    "reg no 12345", "@mail.com", "p@ss", "w h a t", "ж", "é", "&amp;", "5",
                ]).prop_map(String::from),
                "[ -~]{0,6}",
                "\\PC{0,3}",
            ], 0..16)
        ) {
            let engine = org_engine();
            let text = parts.concat();
            let n = normalize(&text);
            let m = engine.matching_patterns(&n);
            let (open, find) = (gate_answers(&m), gate_searches_find(&n));
            for k in [0, 3] {
                proptest::prop_assert_eq!(open[k], find[k], "gate {}: {:?}", k, text);
            }
            for k in 0..6 {
                proptest::prop_assert!(open[k] || !find[k], "gate {}: {:?}", k, text);
            }
            let extractor = EntityExtractor::new();
            proptest::prop_assert_eq!(
                extractor.extract_gated(&text, &n, m.entities),
                extractor.extract(&text, &n)
            );
        }
    }

    /// The gates of `m`, in the order of [`TEXT_GATES`] then [`FOLDED_GATES`].
    fn gate_answers(m: &Matched) -> [bool; 6] {
        [
            m.job_context,
            m.time_range,
            m.entities.age,
            m.org_folded,
            m.entities.url,
            m.entities.platform_handle,
        ]
    }

    /// Whether each gated search, compiled on its own, finds something in `n`, in the order of
    /// [`gate_answers`].
    fn gate_searches_find(n: &Normalized) -> [bool; 6] {
        static SEARCHES: std::sync::OnceLock<[Regex; 6]> = std::sync::OnceLock::new();
        let searches = SEARCHES.get_or_init(|| {
            let [a, b, c] = TEXT_GATES;
            let [d, e, f] = FOLDED_GATES;
            [a, b, c, d, e, f].map(|p| RegexBuilder::new(p).unicode(false).build().unwrap())
        });
        let (t, f) = (n.text().as_bytes(), n.folded().as_bytes());
        let views = [t, t, t, f, f, f];
        std::array::from_fn(|k| searches[k].is_match(views[k]))
    }

    fn org_engine() -> &'static IndicatorEngine {
        static ENGINE: std::sync::OnceLock<IndicatorEngine> = std::sync::OnceLock::new();
        ENGINE.get_or_init(|| IndicatorEngine::new(Catalogue::builtin().unwrap()).unwrap())
    }

    #[test]
    fn sentences_run_together_at_an_exclamation_mark_still_match() {
        // Ads with their line breaks stripped (116 of the 737 EMSCAD ads): until session 7 the
        // `!` read as leetspeak for `i`, and these found nothing.
        assert!(ids("Your passport!Will be kept by the employer")
            .contains(&"document_retention".to_string()));
        assert!(ids("Amazing venture!We pay for your flights!Apply now")
            .contains(&"travel_paid".to_string()));
    }

    #[test]
    fn wage_lures() {
        assert!(ids("Earn $2,000 weekly!").contains(&"wage_too_good".into()));
        assert!(ids("5000 euro a month, no experience").contains(&"wage_too_good".into()));
        assert!(
            !ids("Salary $65,000 per year, 5 years experience").contains(&"wage_too_good".into())
        );
    }
}
