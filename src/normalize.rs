//! Stage 1: text → normalised text, with an offset map back to the original bytes.
//!
//! Ads are written to dodge filters: `p@ssp0rt`, `w h a t s a p p`, Cyrillic `а` inside Latin
//! words, fullwidth letters, zero-width spaces, HTML entities. Every later stage matches against
//! normalised text, and every span it finds is mapped back to the exact bytes of the original ad,
//! so the evidence a reviewer sees is what the ad really says.
//!
//! Two views are produced, each with its own [`OffsetMap`]:
//!
//! 1. **folded** — HTML tags dropped and entities decoded; zero-width and control characters
//!    dropped; compatibility decomposition (NFKD: fullwidth, ligatures, Roman numerals,
//!    mathematical letters → plain letters); lower case; combining marks after Latin letters
//!    dropped (`pássport` → `passport`); every run of white space collapsed to one space; a space
//!    after a `!` that runs two sentences together (`passport!Will`), which lower-cased would
//!    read as leetspeak. Digits and symbols are kept, so entities (phones, money, e-mails) are
//!    read from this view.
//! 2. **text** — the folded view with obfuscation undone: letters spaced out (`w h a t s a p p`,
//!    `J.O.B.S`) joined; Cyrillic/Greek look-alikes inside words that also hold Latin letters
//!    mapped to Latin (mixed-script words only, so Russian or Greek text is left alone); leetspeak
//!    between letters (`p@ssp0rt`, `fr3sh`) mapped to letters. Indicators and tokens use this view.
//!
//! Invariants (property-tested): never panics; idempotent (`normalize(text) == text`); every
//! mapped span lands on character boundaries of the original.
//!
//! The whole stage is hand-written over one pass per view rather than built from
//! `decancer`/`unicode-security`, because those cure whole strings without a per-character map
//! back to the input; `unicode-normalization` supplies the Unicode tables.

use std::ops::Range;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

use crate::bytemask::{is_space, set_bits, ByteClasses};

/// For every byte of a normalised string, the original byte range of the character that produced
/// it, kept as segments: a *run* of bytes copied one for one from consecutive original bytes (most
/// of an ad: one segment per stretch between collapsed white space, dropped tags and the like),
/// or the bytes of one character from one original range. A map of one entry per byte cost 8
/// bytes written per byte of every ad, for the few spans an ad's evidence maps back.
#[derive(Debug, Default, Clone)]
pub struct OffsetMap {
    segments: Vec<Segment>,
    /// Bytes of the normalised string mapped so far (a `usize`: normalising can make a text
    /// longer, up to 11 times for U+FDFA, so a large ad may pass 4 GiB here).
    len: usize,
}

/// Part of an [`OffsetMap`], from normalised byte `at` to the next segment's `at`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    at: usize,
    /// A run: normalised byte `at + k` came from original byte `start + k`. Otherwise every
    /// byte came from `start..end`.
    run: bool,
    start: u32,
    end: u32,
}

impl OffsetMap {
    fn clear(&mut self) {
        self.segments.clear();
        self.len = 0;
    }

    /// Maps the next `n_bytes` normalised bytes (one character) to `src`.
    #[inline]
    fn push(&mut self, n_bytes: usize, src: (u32, u32)) {
        if n_bytes == 1 && src.1 == src.0.wrapping_add(1) {
            self.push_run(1, src.0);
            return;
        }
        self.segments.push(Segment {
            at: self.len,
            run: false,
            start: src.0,
            end: src.1,
        });
        self.len += n_bytes;
    }

    /// Maps the next `n` normalised bytes one for one to the original bytes from `start`.
    #[inline]
    fn push_run(&mut self, n: usize, start: u32) {
        let len = self.len;
        let continues = self
            .segments
            .last()
            .is_some_and(|s| s.run && s.start as usize + (len - s.at) == start as usize);
        if !continues {
            self.segments.push(Segment {
                at: len,
                run: true,
                start,
                end: start,
            });
        }
        self.len += n;
    }

    /// The original range of normalised byte `i` (below `len`).
    fn source(&self, i: usize) -> (usize, usize) {
        // The first segment starts at 0, so some segment starts at or before `i`.
        let k = self.segments.partition_point(|s| s.at <= i);
        let s = self.segments[k.saturating_sub(1)];
        if s.run {
            let b = s.start as usize + (i - s.at);
            (b, b + 1)
        } else {
            (s.start as usize, s.end as usize)
        }
    }

    /// The original byte range covered by the normalised byte range `r`. `r` must lie within the
    /// normalised string; an empty range maps to an empty range at its position.
    pub fn original(&self, r: Range<usize>) -> Range<usize> {
        let len = self.len;
        if len == 0 {
            return 0..0;
        }
        let a = r.start.min(len - 1);
        let start = self.source(a).0;
        if r.end <= r.start {
            return start..start;
        }
        let b = (r.end - 1).min(len - 1);
        start..self.source(b).1
    }
}

/// One character of the folded view: the character, its Latin look-alike (0 when none) and the
/// original bytes it came from.
#[derive(Debug, Clone, Copy)]
struct Unit {
    c: char,
    alt: u8,
    start: u32,
    end: u32,
}

/// The normalised views of one ad. Reuse one value per thread with [`normalize_into`]: the
/// buffers are kept, so steady-state normalisation does not allocate.
#[derive(Debug, Default, Clone)]
pub struct Normalized {
    folded: String,
    folded_map: OffsetMap,
    text: String,
    text_map: OffsetMap,
    /// The text view equals the folded view (nothing was spaced out or written in leetspeak,
    /// the common case): `text` and `text_map` are then left empty rather than copied.
    text_is_folded: bool,
    /// The text view only substitutes characters of the folded view one for one, byte for byte
    /// (leetspeak, as in most EMSCAD ads): `text` is its own string but `text_map` is left
    /// empty, since it would equal `folded_map`.
    text_map_is_folded: bool,
    work: Work,
}

/// The working buffers of one normalisation (16 bytes per character on the full path, 4 on the
/// fast path): needed only while normalising, so a batch of ads shares one set rather than
/// keeping one per ad.
#[derive(Debug, Default, Clone)]
pub struct Work {
    units: Vec<Unit>,
    out: Vec<Unit>,
    /// The folded view's characters, for the fast path's spaced-letter check on non-ASCII ads.
    chars: Vec<char>,
}

impl Normalized {
    /// The de-obfuscated view that indicators and tokens are matched against.
    pub fn text(&self) -> &str {
        if self.text_is_folded {
            &self.folded
        } else {
            &self.text
        }
    }
    /// The folded view (case, Unicode, HTML, white space) that keeps digits and symbols.
    pub fn folded(&self) -> &str {
        &self.folded
    }
    /// Original byte range of a byte range of [`Normalized::text`].
    pub fn text_to_original(&self, r: Range<usize>) -> Range<usize> {
        if self.text_is_folded || self.text_map_is_folded {
            self.folded_map.original(r)
        } else {
            self.text_map.original(r)
        }
    }
    /// Takes the working buffers out (for [`normalize_into_with`]); put them back with
    /// [`Normalized::restore_work`] so they are reused.
    pub fn take_work(&mut self) -> Work {
        std::mem::take(&mut self.work)
    }

    pub fn restore_work(&mut self, work: Work) {
        self.work = work;
    }

    /// Original byte range of a byte range of [`Normalized::folded`].
    pub fn folded_to_original(&self, r: Range<usize>) -> Range<usize> {
        self.folded_map.original(r)
    }
}

/// Normalise `input` into a fresh [`Normalized`].
pub fn normalize(input: &str) -> Normalized {
    let mut n = Normalized::default();
    normalize_into(input, &mut n);
    n
}

/// Normalise `input` into `out`, reusing its buffers.
pub fn normalize_into(input: &str, out: &mut Normalized) {
    let mut work = out.take_work();
    normalize_with(input, out, &mut work, Passes::SkipIdle);
    out.restore_work(work);
}

/// [`normalize_into`] with working buffers kept apart from `out`, for batches.
pub fn normalize_into_with(input: &str, out: &mut Normalized, work: &mut Work) {
    normalize_with(input, out, work, Passes::SkipIdle);
}

/// Which passes [`normalize_with`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Passes {
    /// Skip the passes that the cheap pre-checks show cannot change the ad (the scoring path).
    SkipIdle,
    /// Run every pass on every ad: the plain definition, which tests compare the fast path to.
    #[cfg(test)]
    All,
}

fn normalize_with(input: &str, out: &mut Normalized, work: &mut Work, passes: Passes) {
    if passes == Passes::SkipIdle && normalize_fast(input, out, work) {
        return;
    }
    let all = passes != Passes::SkipIdle;
    let mut units = std::mem::take(&mut work.units);
    units.clear();
    let special = fold(input, &mut units).0 || all;
    // Decoding and de-obfuscating can each make work for the other (`&#x432;` decodes to a
    // look-alike; `&аmp;` becomes an entity once its Cyrillic `а` is mapped): repeat to a
    // fixpoint, which idempotence needs. Each round shortens the text, so it ends. Most ads
    // have no look-alike letters: then the mapping pass is skipped (it would change nothing);
    // with no `&` either, neither pass has anything to do.
    if special {
        loop {
            decode_entities(&mut units);
            if units.iter().any(|u| u.alt != 0) && for_each_word(&mut units, map_confusables) {
                units.retain(|u| u.c != REMOVED);
            }
            if !decode_entities(&mut units) {
                break;
            }
        }
    }
    emit(&units, &mut out.folded, &mut out.folded_map);

    // The text view. Without spaced-out letters the words are those of the folded view, on
    // which look-alikes are already mapped, so only leetspeak can change anything; when it does
    // not either (most ads), the text view is the folded view and is not copied.
    out.text.clear();
    out.text_map.clear();
    let mut joined = std::mem::take(&mut work.out);
    joined.clear();
    // One pass for both questions.
    let (mut spaced, mut leety) = (false, false);
    for (i, w) in units.windows(2).enumerate() {
        leety |= leet_pair(w[0].c, w[1].c);
        if spaced_run(&units, i).is_some() {
            spaced = true;
            break;
        }
    }
    out.text_is_folded = false;
    out.text_map_is_folded = false;
    if spaced || all {
        join_spaced(&units, &mut joined);
    } else if leety {
        // The folded units are written out already: work on them in place.
        std::mem::swap(&mut units, &mut joined);
    } else {
        out.text_is_folded = true;
    }
    if !out.text_is_folded {
        let mut first = true;
        loop {
            let mut mapped_any = false;
            let changed = for_each_word(&mut joined, |w| {
                let mapped = map_confusables(w);
                mapped_any |= mapped;
                undo_leet(w) | mapped
            });
            if first && !changed && !spaced && !all {
                out.text_is_folded = true;
                break;
            }
            // Only leetspeak changed (ASCII for ASCII, one for one) and nothing is left to
            // remove or decode: the folded view's offsets hold for the text view too.
            let substituted_only = first && !spaced && !all && !mapped_any;
            first = false;
            let before = joined.len();
            joined.retain(|u| u.c != REMOVED);
            // A removed mark can bring a leet character next to a letter (`ё4` → `e4`):
            // another round maps it, as a second normalisation would (idempotence).
            let removed = joined.len() != before;
            if !decode_entities(&mut joined) && !removed {
                out.text_map_is_folded = substituted_only;
                break;
            }
        }
    }
    if out.text_map_is_folded {
        write_chars(&joined, &mut out.text);
    } else if !out.text_is_folded {
        emit(&joined, &mut out.text, &mut out.text_map);
    }
    work.units = units;
    work.out = joined;
}

/// The fast path, for ads with no look-alike letter, no HTML entity and no spaced-out letters
/// (most ads): folds straight into the folded view's bytes and offset map, through the same
/// [`Folder`] but with no [`Unit`]s, and undoes leetspeak on those bytes. For such an ad the
/// full path would decode nothing, map nothing and join nothing, so both give the same views
/// (property-tested against `Passes::All`). Whether it applied: when it did not, `out` holds
/// nothing of use and the full path runs from the start.
fn normalize_fast(input: &str, out: &mut Normalized, work: &mut Work) -> bool {
    out.folded_map.clear();
    let mut bytes = std::mem::take(&mut out.folded).into_bytes();
    bytes.clear();
    let mut sink = Direct {
        bytes,
        map: &mut out.folded_map,
        last: None,
    };
    let (special, alt) = fold(input, &mut sink);
    let bytes = sink.bytes;
    if alt || (special && has_entity_in_bytes(&bytes)) {
        // Keep the buffer for the next ad; the full path overwrites it.
        out.folded = String::from_utf8(bytes).unwrap_or_default();
        return false;
    }
    let Ok(folded) = String::from_utf8(bytes) else {
        return false;
    };
    let spaced = if folded.is_ascii() {
        // A run starts at `i` only with the same separator after characters `i` and `i + 2`
        // (the first test of `spaced_end`), checked here on plain bytes first, at the
        // separators only.
        let b = folded.as_bytes();
        let mut spaced = false;
        for_each_class(b, &SEPARATOR, |q| {
            spaced = q >= 1
                && b.get(q + 2) == Some(&b[q])
                && spaced_end(|k| b.get(k).map(|&c| char::from(c)), q - 1).is_some();
            spaced
        });
        spaced
    } else {
        // The same first tests, at the separators (all ASCII) of the string, decoding only the
        // characters around them: `spaced_end(i)` needs a separator after character `i` and
        // again two characters on, and character `i` alone in its token. Most ads with a `’`
        // pass them nowhere, and their characters are never all decoded.
        let b = folded.as_bytes();
        let mut candidate = false;
        for_each_class(b, &SEPARATOR, |q| {
            let is_alnum = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
            let mut after = folded[q + 1..].chars();
            let mut before = folded[..q].chars();
            candidate = after.next().is_some()
                && after.as_str().as_bytes().first() == Some(&b[q])
                && is_alnum(before.next_back())
                && !is_alnum(before.next_back());
            candidate
        });
        candidate && {
            let chars = &mut work.chars;
            chars.clear();
            chars.extend(folded.chars());
            (0..chars.len()).any(|i| spaced_end(|k| chars.get(k).copied(), i).is_some())
        }
    };
    out.folded = folded;
    if spaced {
        return false;
    }
    out.text_map.clear();
    out.text_is_folded = true;
    out.text_map_is_folded = false;
    let mut text = std::mem::take(&mut out.text).into_bytes();
    text.clear();
    // Leetspeak, undone as `normalize_with` does, but only in the words that hold a pair of
    // characters its check flags: `undo_leet` changes nothing in any other word. Its rules read
    // only ASCII (see [`Sym`]), so they run on the bytes.
    let folded = out.folded.as_bytes();
    let mut changed = false;
    let mut from = 0;
    while let Some(p) = next_leet_pair(folded, from) {
        // Neither character of a flagged pair is a space: both are in the word around `p`.
        let start = folded[..p]
            .iter()
            .rposition(|&b| b == b' ')
            .map_or(0, |s| s + 1);
        let end = folded[p..]
            .iter()
            .position(|&b| b == b' ')
            .map_or(folded.len(), |e| p + e);
        if text.is_empty() {
            text.extend_from_slice(folded);
        }
        changed |= undo_leet(&mut text[start..end]);
        from = end;
    }
    if changed {
        // Leetspeak made an entity (`&c0py;`): the full path decodes it.
        if has_entity_in_bytes(&text) {
            out.text = String::from_utf8(text).unwrap_or_default();
            return false;
        }
        out.text_is_folded = false;
        out.text_map_is_folded = true;
    } else {
        text.clear();
    }
    // Leetspeak replaces ASCII with ASCII, so the bytes are still UTF-8.
    match String::from_utf8(text) {
        Ok(t) => out.text = t,
        Err(_) => return false,
    }
    true
}

/// Writes the units' characters as `s`: one byte per unit when all are ASCII, in a plain
/// extend the compiler vectorises (a `char` extend encodes each one).
fn write_chars(units: &[Unit], s: &mut String) {
    s.clear();
    if units.iter().all(|u| u.c.is_ascii()) {
        let mut bytes = std::mem::take(s).into_bytes();
        bytes.extend(units.iter().map(|u| u.c as u8));
        *s = String::from_utf8(bytes).unwrap_or_default();
    } else {
        s.extend(units.iter().map(|u| u.c));
    }
}

/// Writes units as a string and its offset map.
fn emit(units: &[Unit], s: &mut String, map: &mut OffsetMap) {
    write_chars(units, s);
    map.clear();
    for u in units {
        map.push(u.c.len_utf8(), (u.start, u.end));
    }
}

// ---------------------------------------------------------------------------------------------
// The folded view

/// Where folded characters go: [`Unit`]s for the full path, or the folded view's bytes and
/// offset map directly in the fast path.
trait Sink {
    fn is_empty(&self) -> bool;
    fn last_char(&self) -> Option<char>;
    fn push_unit(&mut self, u: Unit);
    /// Pushes a run of printable ASCII (no tag brackets; single spaces inside it) starting at
    /// input byte `start`, lower case: one unit per byte, in bulk.
    fn push_ascii_run(&mut self, run: &[u8], start: u32);
}

impl Sink for Vec<Unit> {
    fn is_empty(&self) -> bool {
        <[Unit]>::is_empty(self)
    }
    fn last_char(&self) -> Option<char> {
        self.last().map(|u| u.c)
    }
    #[inline]
    fn push_unit(&mut self, u: Unit) {
        self.push(u);
    }
    fn push_ascii_run(&mut self, run: &[u8], start: u32) {
        self.extend(run.iter().zip(start..).map(|(&b, i)| Unit {
            c: char::from(b.to_ascii_lowercase()),
            alt: 0,
            start: i,
            end: i + 1,
        }));
    }
}

/// The fast path's sink: writes what [`emit`] would write for the same units.
struct Direct<'a> {
    bytes: Vec<u8>,
    map: &'a mut OffsetMap,
    last: Option<char>,
}

impl Sink for Direct<'_> {
    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
    fn last_char(&self) -> Option<char> {
        self.last
    }
    #[inline]
    fn push_unit(&mut self, u: Unit) {
        if u.c.is_ascii() {
            self.bytes.push(u.c as u8);
        } else {
            self.bytes
                .extend_from_slice(u.c.encode_utf8(&mut [0; 4]).as_bytes());
        }
        self.map.push(u.c.len_utf8(), (u.start, u.end));
        self.last = Some(u.c);
    }
    fn push_ascii_run(&mut self, run: &[u8], start: u32) {
        self.bytes.extend(run.iter().map(u8::to_ascii_lowercase));
        self.map.push_run(run.len(), start);
        if let Some(&b) = run.last() {
            self.last = Some(char::from(b.to_ascii_lowercase()));
        }
    }
}

/// Appends units, collapsing white space and never starting or ending with a space.
struct Folder<'a, S: Sink = Vec<Unit>> {
    units: &'a mut S,
    pending_space: Option<(u32, u32)>,
    /// Whether an `&` or a look-alike letter was pushed (else there is nothing to decode or
    /// map, and those passes are skipped).
    special: bool,
    /// Whether a look-alike letter was pushed.
    alt: bool,
}

impl<S: Sink> Folder<'_, S> {
    fn space(&mut self, src: (u32, u32)) {
        if self.units.is_empty() {
            return;
        }
        match &mut self.pending_space {
            Some(p) => p.1 = src.1,
            None => self.pending_space = Some(src),
        }
    }

    /// Writes the pending space, if any, as one unit.
    #[inline]
    fn flush_space(&mut self) {
        if let Some(sp) = self.pending_space.take() {
            self.units.push_unit(Unit {
                c: ' ',
                alt: 0,
                start: sp.0,
                end: sp.1,
            });
        }
    }

    #[inline]
    fn push(&mut self, c: char, alt: u8, src: (u32, u32)) {
        self.flush_space();
        self.special |= (c == '&') | (alt != 0);
        self.alt |= alt != 0;
        self.units.push_unit(Unit {
            c,
            alt,
            start: src.0,
            end: src.1,
        });
    }

    /// A run of printable ASCII without `<` or `>`, with single spaces inside it (most of an
    /// ad).
    fn ascii_run(&mut self, run: &[u8], start: u32) {
        // An `&` in a run is already in `special` (see [`fold`]).
        self.flush_space();
        self.units.push_ascii_run(run, start);
    }

    fn last_is_latin_or_none(&self) -> bool {
        self.pending_space.is_some() || self.units.last_char().is_none_or(|c| c.is_ascii())
    }

    /// Any character that is not ASCII, or ASCII produced by decoding an entity.
    fn char(&mut self, c: char, src: (u32, u32)) {
        if c.is_ascii() {
            self.ascii(c as u8, src);
            return;
        }
        if is_invisible(c) || (c.is_control() && !c.is_whitespace()) {
            return;
        }
        if c.is_whitespace() {
            self.space(src);
            return;
        }
        decompose_compatible(c, |d| {
            let alt = confusable(d);
            for l in d.to_lowercase() {
                decompose_compatible(l, |e| {
                    if e.is_ascii() {
                        self.ascii(e as u8, src);
                    } else if e.is_whitespace() || is_invisible(e) {
                        if e.is_whitespace() {
                            self.space(src);
                        }
                    } else if is_combining_mark(e) {
                        // Accents on Latin letters are decoration (`pássport`); on other
                        // scripts they carry meaning and are kept.
                        if !self.last_is_latin_or_none() {
                            self.push(e, 0, src);
                        }
                    } else {
                        self.push(e, alt, src);
                    }
                });
            }
        });
    }

    #[inline]
    fn ascii(&mut self, b: u8, src: (u32, u32)) {
        match b {
            b if is_space(b) => self.space(src),
            // `<` and `>` never reach the output, so no tag can appear after decoding and a
            // second pass has nothing left to strip (idempotence).
            b'<' | b'>' => self.space(src),
            0..=0x1f | 0x7f => {}
            b'A'..=b'Z' => self.push((b + 32) as char, 0, src),
            _ => self.push(b as char, 0, src),
        }
    }
}

/// The bytes of [`fold`]'s runs: printable ASCII but the tag brackets `<` and `>`.
static PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = b'!';
    while b <= b'~' {
        t[b as usize] = b != b'<' && b != b'>';
        b += 1;
    }
    t
};

/// [`PLAIN`] (bit 0) and the space (bit 1), as [`ByteClasses`].
static RUN_CLASS: ByteClasses<2> = ByteClasses::new({
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = PLAIN[b] as u8 | ((b == b' ' as usize) as u8) << 1;
        b += 1;
    }
    t
});

/// The end of the run of [`fold`] that starts at `i`: printable ASCII but the tag brackets,
/// with the single spaces between words, which fold to themselves (runs are then lines rather
/// than words). Found 64 bytes at a time, as bit masks.
fn run_end(bytes: &[u8], i: usize) -> usize {
    let mut base = i;
    while base < bytes.len() {
        let block = &bytes[base..bytes.len().min(base + 64)];
        let [plain, space] = RUN_CLASS.masks(block);
        // A space continues the run only before a plain byte, which may open the next block.
        let next_plain = bytes.get(base + 64).is_some_and(|&b| PLAIN[usize::from(b)]);
        let goes_on = plain | (space & (plain >> 1 | u64::from(next_plain) << 63));
        let stop = !goes_on & (u64::MAX >> (64 - block.len()));
        if stop != 0 {
            return base + stop.trailing_zeros() as usize;
        }
        base += 64;
    }
    bytes.len()
}

/// Folds `input` into `units`. Returns whether an `&` or a look-alike letter is among them (the
/// full path's cue to run its decoding and mapping passes), and whether a look-alike letter is.
fn fold<S: Sink>(input: &str, units: &mut S) -> (bool, bool) {
    let bytes = input.as_bytes();
    let mut f = Folder {
        units,
        pending_space: None,
        // Any `&` of the input, found in one search rather than one per run: one inside a tag
        // (dropped) only makes the caller look for an entity and find none.
        special: memchr::memchr(b'&', bytes).is_some(),
        alt: false,
    };
    // The `!`s that run two sentences together, in order: one search of the ad (most have none),
    // not one per run of printable bytes (most runs are a word).
    let mut breaks = memchr::memchr_iter(b'!', bytes)
        .filter(|&p| sentence_break(bytes, p))
        .peekable();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            let src = (i as u32, i as u32 + 1);
            match b {
                b'<' => {
                    if let Some(end) = html_tag_end(bytes, i) {
                        f.space((i as u32, end as u32));
                        i = end;
                        continue;
                    }
                    f.ascii(b, src);
                }
                // Printable and not a tag bracket (most bytes): the short path of `ascii`, a
                // run at a time.
                b'!'..=b';' | b'=' | b'?'..=b'~' => {
                    let end = run_end(bytes, i);
                    let mut from = i;
                    while let Some(p) = breaks.next_if(|&p| p < end) {
                        // A `!` before this run was inside a tag.
                        if p >= i {
                            f.ascii_run(&bytes[from..=p], from as u32);
                            f.space((p as u32, p as u32 + 1));
                            from = p + 1;
                        }
                    }
                    f.ascii_run(&bytes[from..end], from as u32);
                    i = end;
                    continue;
                }
                _ => f.ascii(b, src),
            }
            i += 1;
        } else {
            // `i` is on a char boundary: every other branch advances by whole characters.
            let c = input[i..].chars().next().unwrap_or('\u{fffd}');
            let end = i + c.len_utf8();
            f.char(c, (i as u32, end as u32));
            i = end;
        }
    }
    (f.special, f.alt)
}

/// Whether the `!` at `p` ends a sentence run into the next (`passport!Will`, `NOW!Call`): a
/// letter before it, a capitalised word after it. The folded view then has a space after it:
/// lower-cased, `passport!will` would read as leetspeak (`passportiwill`) and hide the words
/// from every pattern. Obfuscation keeps the case of the word (`g!rls`, `G!RLS`).
fn sentence_break(bytes: &[u8], p: usize) -> bool {
    p > 0
        && bytes[p - 1].is_ascii_alphabetic()
        && bytes.get(p + 1).is_some_and(u8::is_ascii_uppercase)
        && bytes.get(p + 2).is_some_and(u8::is_ascii_lowercase)
}

/// Format characters that only hide things: zero-width spaces and joiners, bidi controls, soft
/// hyphen, BOM, variation selectors.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
        | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{E0000}'..='\u{E007F}')
}

/// End (exclusive) of an HTML tag or comment starting at `i`, if one does: `<` followed by a
/// letter, `/` or `!`, closed by `>` within 512 bytes with no `<` in between.
fn html_tag_end(bytes: &[u8], i: usize) -> Option<usize> {
    let next = *bytes.get(i + 1)?;
    if !(next.is_ascii_alphabetic() || next == b'/' || next == b'!') {
        return None;
    }
    let limit = bytes.len().min(i + 512);
    for (j, &b) in bytes.iter().enumerate().take(limit).skip(i + 1) {
        match b {
            b'>' => return Some(j + 1),
            b'<' => return None,
            _ => {}
        }
    }
    None
}

/// Decodes HTML entities (`&amp;`, `&#39;`, `&#x27;`, `&AMP;`) in folded units, folding each
/// decoded character like any other. Entities are decoded after folding, and again until none
/// is left, so that nothing folding removes or rewrites (a zero-width space in `&am\u{200B}p;`,
/// fullwidth letters, a double escape `&amp;lt;`) can leave a decodable entity behind for a
/// second pass (idempotence).
fn decode_entities(units: &mut Vec<Unit>) -> bool {
    let mut any = false;
    let mut changed = true;
    // `&` in plain text (`R&D`, `Q&A`) is common; copy the units only when an entity is there.
    while changed && has_entity(units) {
        changed = false;
        let mut out: Vec<Unit> = Vec::with_capacity(units.len());
        let mut i = 0;
        while i < units.len() {
            if units[i].c == '&' {
                if let Some((c, end)) = entity_at(units, i + 1) {
                    let src = (units[i].start, units[end].end);
                    if c == '&' {
                        // A chain (`&amp;amp;lt;`): the decoded `&` may start the next entity;
                        // look again from it, in this pass (linear, however deep the chain).
                        units[end] = Unit {
                            c: '&',
                            alt: 0,
                            start: src.0,
                            end: src.1,
                        };
                        changed = true;
                        i = end;
                        continue;
                    }
                    let mut f = Folder {
                        units: &mut out,
                        pending_space: None,
                        special: false,
                        alt: false,
                    };
                    f.char(c, src);
                    f.flush_space();
                    changed = true;
                    i = end + 1;
                    continue;
                }
            }
            out.push(units[i]);
            i += 1;
        }
        *units = out;
        any |= changed;
    }
    if any {
        collapse_spaces(units);
    }
    any
}

/// Merges runs of spaces into one and drops leading and trailing spaces.
fn collapse_spaces(units: &mut Vec<Unit>) {
    let mut out: Vec<Unit> = Vec::with_capacity(units.len());
    for u in units.drain(..) {
        if u.c == ' ' {
            match out.last_mut() {
                None => continue,
                Some(last) if last.c == ' ' => {
                    last.end = last.end.max(u.end);
                    continue;
                }
                _ => {}
            }
        }
        out.push(u);
    }
    if out.last().is_some_and(|u| u.c == ' ') {
        out.pop();
    }
    *units = out;
}

/// Whether an `&` starts a decodable entity (`&amp;`, `&#39;`) anywhere in `units`.
fn has_entity<T: Sym>(units: &[T]) -> bool {
    (0..units.len()).any(|i| units[i].c() == '&' && entity_at(units, i + 1).is_some())
}

/// [`has_entity`] of bytes, finding the `&`s with `memchr` (the fast path asks it of every ad
/// with an `&`, and a test of every byte cost 1% of a scan).
fn has_entity_in_bytes(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'&', bytes).any(|i| entity_at(bytes, i + 1).is_some())
}

/// Parses an entity body (`amp;`, `#123;`, `#x1F;`) starting at unit `i`: the decoded character
/// and the index of the closing `;`.
fn entity_at<T: Sym>(units: &[T], i: usize) -> Option<(char, usize)> {
    let mut body = [0u8; 12];
    let mut len = 0;
    let mut semi = None;
    for (k, u) in units.iter().enumerate().skip(i).take(12) {
        if u.c() == ';' {
            semi = Some(k);
            break;
        }
        if !(u.c().is_ascii_alphanumeric() || u.c() == '#') {
            return None;
        }
        body[len] = u.c().to_ascii_lowercase() as u8;
        len += 1;
    }
    let semi = semi?;
    // ASCII by construction, so always valid UTF-8.
    let body = std::str::from_utf8(&body[..len]).ok()?;
    Some((entity_char(body)?, semi))
}

/// The character of an entity body (lower case, without `&` and `;`).
fn entity_char(body: &str) -> Option<char> {
    let c = if let Some(num) = body.strip_prefix('#') {
        let v = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        char::from_u32(v)?
    } else {
        match body {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            "nbsp" => ' ',
            "ndash" => '–',
            "mdash" => '—',
            "hellip" => '…',
            "rsquo" | "lsquo" => '\'',
            "rdquo" | "ldquo" => '"',
            "euro" => '€',
            "pound" => '£',
            "yen" => '¥',
            "cent" => '¢',
            "copy" => '©',
            "reg" => '®',
            "trade" => '™',
            "bull" | "middot" => '·',
            "zwj" | "zwnj" | "shy" => '\u{200B}',
            _ => return None,
        }
    };
    Some(c)
}

/// The Latin letter a Cyrillic or Greek letter is drawn like, or 0. Capitals are judged as
/// drawn (`Н` looks like `H`, `Η` like `H`); any other letter by its lower-case form. So a
/// letter without a look-alike never has a lower case that has one, which keeps
/// normalisation idempotent (the second pass sees only lower case).
fn confusable(c: char) -> u8 {
    let upper = match c {
        'А' => b'a',
        'В' => b'b',
        'Е' | 'Ё' => b'e',
        'Н' | 'Һ' => b'h',
        'І' | 'Ї' | 'Ӏ' => b'i',
        'Ј' => b'j',
        'К' => b'k',
        'М' => b'm',
        'О' => b'o',
        'Р' => b'p',
        'С' => b'c',
        'Т' => b't',
        'У' => b'y',
        'Х' => b'x',
        'Ѕ' => b's',
        'Ԛ' => b'q',
        'Ԝ' => b'w',
        'Α' => b'a',
        'Β' => b'b',
        'Ε' => b'e',
        'Ζ' => b'z',
        'Η' => b'h',
        'Ι' => b'i',
        'Κ' => b'k',
        'Μ' => b'm',
        'Ν' => b'n',
        'Ο' => b'o',
        'Ρ' => b'p',
        'Τ' => b't',
        'Υ' => b'y',
        'Χ' => b'x',
        _ => 0,
    };
    if upper != 0 {
        return upper;
    }
    let lower = c.to_lowercase().next().unwrap_or(c);
    match lower {
        // Cyrillic
        'а' => b'a',
        'в' | 'ь' => b'b',
        'с' => b'c',
        'ԁ' => b'd',
        'е' | 'ё' => b'e',
        'н' | 'һ' => b'h',
        'і' | 'ї' => b'i',
        'ј' => b'j',
        'к' => b'k',
        'ӏ' => b'l',
        'м' => b'm',
        'п' => b'n',
        'о' => b'o',
        'р' => b'p',
        'ԛ' => b'q',
        'ѕ' => b's',
        'т' => b't',
        'у' => b'y',
        'х' => b'x',
        'ԝ' => b'w',
        // Greek
        'α' => b'a',
        'β' => b'b',
        'γ' => b'y',
        'ε' => b'e',
        'ζ' => b'z',
        'η' => b'n',
        'ι' => b'i',
        'κ' => b'k',
        'ν' => b'v',
        'ο' => b'o',
        'ρ' => b'p',
        'τ' => b't',
        'υ' => b'u',
        'χ' => b'x',
        'ω' => b'w',
        // Latin letters outside ASCII that NFKD leaves alone
        'ı' => b'i',
        'ɡ' => b'g',
        'ɑ' => b'a',
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------------------
// The de-obfuscated view

/// The separators of spaced-out letters (a `match`, which compiles to a bit test).
const fn is_spaced_separator(c: char) -> bool {
    matches!(c, ' ' | '.' | '-' | '_' | '*' | '/' | '|' | '+' | '~')
}

/// Joins letters spelled out one by one (`w h a t s a p p`, `J.O.B.S`, `w-h-a-t`, `G.F.E.`):
/// single letters or digits, each followed by the same separator, the run ending at a token
/// boundary; at least four of them (three with dots). Where the original had a wider gap between
/// two letters (`n e w  i n  t o w n`) the words are kept apart, provided every word so made has
/// at least two letters; otherwise the whole run is joined, so that the output never holds a
/// joinable run again (idempotence).
fn join_spaced(units: &[Unit], out: &mut Vec<Unit>) {
    let mut i = 0;
    while i < units.len() {
        if let Some((j, keep_gaps)) = spaced_run(units, i) {
            out.push(units[i]);
            for k in (i + 1..j).step_by(2) {
                if keep_gaps && is_wide_gap(&units[k]) {
                    out.push(units[k]);
                }
                out.push(units[k + 1]);
            }
            i = j + 1;
            continue;
        }
        out.push(units[i]);
        i += 1;
    }
}

/// The spaced-out run of single letters starting at unit `i`, if one does: the index of its last
/// letter, and whether the wider gaps in it separate words (see [`join_spaced`]).
#[inline(always)]
fn spaced_run(units: &[Unit], i: usize) -> Option<(usize, bool)> {
    let j = spaced_end(|k| units.get(k).map(|u| u.c), i)?;
    // Word lengths between gaps: keep the gaps only if no word is a single letter.
    let mut len = 1;
    let mut ok = true;
    for k in (i + 1..j).step_by(2) {
        if is_wide_gap(&units[k]) {
            ok &= len >= 2;
            len = 0;
        }
        len += 1;
    }
    ok &= len >= 2;
    Some((j, ok))
}

/// The index of the last letter of the spaced-out run of single letters starting at character
/// `i`, if one does; `at` reads the characters (units, or the folded view's characters in the
/// fast path). Called at every character of every ad, so it is always inlined and its rarely
/// true test — a separator after character `i` — comes first (a plain `#[inline]` measured 8%
/// slower normalisation).
#[inline(always)]
fn spaced_end(at: impl Fn(usize) -> Option<char>, i: usize) -> Option<usize> {
    let sep = at(i + 1)?;
    // Three letters at least, so a separator two characters on too: tested first, as it
    // settles nearly every position in ordinary text.
    if !is_spaced_separator(sep) || at(i + 3) != Some(sep) {
        return None;
    }
    let is_alnum = |i: usize| at(i).is_some_and(|c| c.is_alphanumeric());
    let starts_token = i == 0 || !is_alnum(i - 1);
    if !(starts_token && is_alnum(i) && !is_alnum(i + 1)) {
        return None;
    }
    // Count single alphanumerics separated by `sep`.
    let mut n = 1;
    let mut j = i;
    while at(j + 1) == Some(sep) && is_alnum(j + 2) && !is_alnum(j + 3) {
        n += 1;
        j += 2;
    }
    let min = if sep == '.' { 3 } else { 4 };
    (n >= min).then_some(j)
}

/// A space that stands for two or more spaces of the original: between spaced-out letters, a
/// word break (`n e w  i n`).
fn is_wide_gap(u: &Unit) -> bool {
    u.c == ' ' && u.end - u.start >= 2
}

/// What the word rules read and write of a character: a [`Unit`] of the full path, or a byte of
/// the folded view in the fast path. The rules that run on bytes ([`for_each_word`],
/// [`undo_leet`]) test only ASCII properties, and a byte of a multi-byte character has none
/// (`0x80..` as a `char` is not an ASCII letter, digit, space or symbol), so on UTF-8 bytes they
/// act exactly as on characters.
trait Sym: Copy {
    fn c(&self) -> char;
    fn set(&mut self, c: char);
}

impl Sym for Unit {
    fn c(&self) -> char {
        self.c
    }
    fn set(&mut self, c: char) {
        self.c = c;
    }
}

impl Sym for u8 {
    fn c(&self) -> char {
        char::from(*self)
    }
    /// Only ever given an ASCII replacement for an ASCII byte.
    fn set(&mut self, c: char) {
        *self = c as u8;
    }
}

/// Applies `f` to each space-separated word; whether any call changed its word.
fn for_each_word<T: Sym>(units: &mut [T], mut f: impl FnMut(&mut [T]) -> bool) -> bool {
    let mut changed = false;
    let mut start = 0;
    while start < units.len() {
        let end = units[start..]
            .iter()
            .position(|u| u.c() == ' ')
            .map_or(units.len(), |p| start + p);
        changed |= f(&mut units[start..end]);
        start = end + 1;
    }
    changed
}

/// Marks a unit for removal. NUL never survives folding, so it cannot clash with input.
const REMOVED: char = '\0';

/// Maps Cyrillic/Greek look-alikes to Latin in a word that also holds Latin letters (a
/// mixed-script word is a disguise; a wholly Cyrillic word is Russian). Combining marks on a
/// mapped letter go too, as they do on Latin letters (`м́` → `m`). Whether anything changed.
fn map_confusables(word: &mut [Unit]) -> bool {
    if !word.iter().any(|u| u.alt != 0) || !word.iter().any(|u| u.c.is_ascii_alphabetic()) {
        return false;
    }
    let mut after_mapped = false;
    for u in word.iter_mut() {
        if u.alt != 0 {
            u.c = u.alt as char;
            u.alt = 0;
            after_mapped = true;
        } else if after_mapped && is_combining_mark(u.c) {
            u.c = REMOVED;
        } else {
            after_mapped = false;
        }
    }
    true
}

/// Maps leetspeak (`p@ssp0rt`, `fr3sh`) inside a word. Whether anything changed.
fn undo_leet<T: Sym>(word: &mut [T]) -> bool {
    if !word.iter().any(|u| u.c().is_ascii_alphabetic()) {
        return false;
    }
    let mut changed = false;
    // Leetspeak: runs of up to three leet characters with a Latin letter on both sides.
    fn email_like<T: Sym>(rest: &[T]) -> bool {
        rest.windows(2)
            .any(|w| w[0].c() == '.' && w[1].c().is_ascii_alphabetic())
    }
    let mut i = 1;
    while i < word.len() {
        if leet(word[i].c()).is_some() && word[i - 1].c().is_ascii_alphabetic() {
            let run_end = (i..word.len())
                .find(|&k| leet(word[k].c()).is_none())
                .unwrap_or(word.len());
            let bounded = run_end < word.len() && word[run_end].c().is_ascii_alphabetic();
            if bounded && run_end - i <= 3 {
                for k in i..run_end {
                    if word[k].c() == '@' && email_like(&word[k + 1..]) {
                        continue;
                    }
                    if let Some(l) = leet(word[k].c()) {
                        word[k].set(l);
                        changed = true;
                    }
                }
            }
            i = run_end;
        } else {
            i += 1;
        }
    }
    // A lone `0` for `o` at either end of a word: `n0`, `eur0`, `0nly`.
    let n = word.len();
    if n >= 2 && word[n - 1].c() == '0' && word[n - 2].c().is_ascii_alphabetic() {
        word[n - 1].set('o');
        changed = true;
    }
    if n >= 3
        && word[0].c() == '0'
        && word[1].c().is_ascii_alphabetic()
        && word[2].c().is_ascii_alphabetic()
    {
        word[0].set('o');
        changed = true;
    }
    changed
}

/// Byte classes of the leetspeak scan, as [`ByteClasses`]: a letter, a character that
/// [`leet`] maps, `0`.
const LETTER: u8 = 1;
const LEET: u8 = 2;
const ZERO: u8 = 4;
static LEET_CLASS: ByteClasses<3> = ByteClasses::new({
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8 as char;
        t[b] = flag(c.is_ascii_alphabetic(), LETTER)
            | flag(leet(c).is_some(), LEET)
            | flag(c == '0', ZERO);
        b += 1;
    }
    t
});

/// The spaced-letter separators ([`is_spaced_separator`]), as [`ByteClasses`].
static SEPARATOR: ByteClasses<1> = ByteClasses::new({
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = is_spaced_separator(b as u8 as char) as u8;
        b += 1;
    }
    t
});

const fn flag(on: bool, class: u8) -> u8 {
    if on {
        class
    } else {
        0
    }
}

/// Calls `f(p)` for each `p` in `b` whose byte has bit 0 in `table`, in order, until `f`
/// returns true: a block of 64 bytes at a time, as bit masks, so that only those bytes cost a
/// step.
fn for_each_class(b: &[u8], classes: &ByteClasses<1>, mut f: impl FnMut(usize) -> bool) {
    for (k, block) in b.chunks(64).enumerate() {
        let [bits] = classes.masks(block);
        if set_bits(bits).any(|at| f(k * 64 + at)) {
            return;
        }
    }
}

/// The first `p >= from` such that `b[p]`, `b[p + 1]` is a pair that [`leet_pair`] flags,
/// found 64 bytes at a time as bit masks.
fn next_leet_pair(b: &[u8], from: usize) -> Option<usize> {
    let mut base = from;
    while base + 1 < b.len() {
        let block = &b[base..b.len().min(base + 64)];
        let [letter, leet, zero] = LEET_CLASS.masks(block);
        // The classes of the byte after each byte: the block's shifted down, with the first
        // byte of the next block on top.
        let after = LEET_CLASS.of(b.get(base + 64).copied().unwrap_or(b' '));
        let top = |class: u8| u64::from(after & class != 0) << 63;
        let (leet_after, letter_after) = (leet >> 1 | top(LEET), letter >> 1 | top(LETTER));
        let pairs = (letter & leet_after) | (zero & letter_after);
        // Past the end, the byte after the last is no byte.
        let pairs = pairs
            & (u64::MAX >> (64 - block.len()))
            & !(u64::from(base + block.len() == b.len()) << (block.len() - 1));
        if pairs != 0 {
            return Some(base + pairs.trailing_zeros() as usize);
        }
        base += 64;
    }
    None
}

/// Whether `undo_leet` could change the pair of characters `a`, `b` of a word: a leet character
/// after a Latin letter, or a `0` before one (`0nly`). A word with no such pair is left as it is.
fn leet_pair(a: char, b: char) -> bool {
    (leet(b).is_some() && a.is_ascii_alphabetic()) || (a == '0' && b.is_ascii_alphabetic())
}

const fn leet(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' | '!' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> String {
        normalize(s).text().to_string()
    }

    /// The scans' byte classes are read 32 bytes at a time where the CPU can.
    #[test]
    fn byte_classes_have_nibble_tables() {
        assert!(RUN_CLASS.by_nibbles() && LEET_CLASS.by_nibbles() && SEPARATOR.by_nibbles());
    }

    #[test]
    fn folds_case_html_and_space() {
        assert_eq!(
            text("<b>URGENT</b>&nbsp;hiring &amp; more\r\n\n"),
            "urgent hiring & more"
        );
        assert_eq!(text("&amp;lt;b&amp;gt;"), "b");
    }

    #[test]
    fn an_exclamation_mark_between_sentences_is_not_leetspeak() {
        assert_eq!(
            text("Your passport!Will be kept"),
            "your passport! will be kept"
        );
        assert_eq!(text("NOW!Call me"), "now! call me");
        assert_eq!(text("new g!rls, G!RLS, G!rls"), "new girls, girls, girls");
        let n = normalize("ok!Then");
        assert_eq!(n.folded(), "ok! then");
        // A `!` inside a dropped tag is not one.
        assert_eq!(normalize("<b title=x!Yo>ok!Then</b>").folded(), "ok! then");
        // The space stands for the `!` in the original.
        assert_eq!(n.folded_to_original(3..4), 2..3);
        assert_eq!(n.folded_to_original(4..8), 3..7);
    }

    #[test]
    fn undoes_obfuscation() {
        assert_eq!(text("Keep your p@ssp0rt"), "keep your passport");
        assert_eq!(text("w h a t s a p p me"), "whatsapp me");
        assert_eq!(text("J.O.B.S abroad"), "jobs abroad");
        assert_eq!(text("n e w  i n  t o w n, G.F.E."), "new in town, gfe.");
        assert_eq!(text("a  b  c  d"), "abcd");
        assert_eq!(text("n0 exp3rience, 5000 eur0"), "no experience, 5000 euro");
        assert_eq!(text("w0rk abr0ad, fr3sh"), "work abroad, fresh");
        assert_eq!(text("ｗｈａｔｓａｐｐ"), "whatsapp");
        assert_eq!(text("pа\u{200B}ssport"), "passport"); // Cyrillic а
        assert_eq!(text("pássport"), "passport");
    }

    #[test]
    fn leaves_real_text_alone() {
        assert_eq!(text("работа в Москве"), "работа в москве");
        assert_eq!(text("$2,000 weekly at 5pm"), "$2,000 weekly at 5pm");
        assert_eq!(text("mail john3doe@mail.com"), "mail johnedoe@mail.com");
        assert_eq!(text("a b c"), "a b c");
    }

    /// The fast path (passes skipped when pre-checks say they would change nothing) gives the
    /// same views and offsets as running every pass.
    fn assert_same_as_all_passes(s: &str) {
        let (mut fast, mut all) = (Normalized::default(), Normalized::default());
        normalize_with(s, &mut fast, &mut Work::default(), Passes::SkipIdle);
        normalize_with(s, &mut all, &mut Work::default(), Passes::All);
        assert_eq!(fast.folded(), all.folded(), "{s:?}");
        assert_eq!(fast.text(), all.text(), "{s:?}");
        for i in 0..fast.text().len() {
            assert_eq!(
                fast.text_to_original(i..i + 1),
                all.text_to_original(i..i + 1),
                "{s:?}"
            );
        }
        for i in 0..fast.folded().len() {
            let r = i..i + 1;
            assert_eq!(
                fast.folded_to_original(r.clone()),
                all.folded_to_original(r),
                "{s:?}"
            );
        }
    }

    #[test]
    fn skipping_idle_passes_changes_nothing() {
        for s in [
            "plain ad, 5 years, $2,000 / week, R&D and Q&A",
            "p@ssp0rt w h a t s a p p 0nly eur0 covid19 1st &qu0t; &amp;lt;b&gt;",
            "pа\u{200B}ssport работа J.O.B.S n e w  i n  t o w n &#x432;ork",
        ] {
            assert_same_as_all_passes(s);
        }
    }

    proptest::proptest! {
        /// The segments map every range as a table of one entry per byte would (the map before
        /// session 12), whatever the characters pushed: runs that continue or jump, characters
        /// of several bytes, characters from wide or empty original ranges.
        #[test]
        fn offset_segments_map_as_a_table_of_bytes(
            pushes in proptest::collection::vec((0u32..3, 1usize..4, 0u32..3, 0u32..3), 0..40),
            ranges in proptest::collection::vec((0usize..80, 0usize..80), 1..10),
        ) {
            let mut map = OffsetMap::default();
            let (mut starts, mut ends) = (Vec::new(), Vec::new());
            let mut next = 0u32;
            for (gap, n, width, kind) in pushes {
                let start = next + gap;
                match kind {
                    // A run of `n` bytes.
                    0 => {
                        map.push_run(n, start);
                        starts.extend(start..start + n as u32);
                        ends.extend(start + 1..start + n as u32 + 1);
                        next = start + n as u32;
                    }
                    // One character of `n` bytes from `width` original bytes.
                    _ => {
                        let end = start + width;
                        map.push(n, (start, end));
                        starts.extend(std::iter::repeat_n(start, n));
                        ends.extend(std::iter::repeat_n(end, n));
                        next = end;
                    }
                }
            }
            for (a, b) in ranges {
                let expected = if starts.is_empty() {
                    0..0
                } else {
                    let a_ = a.min(starts.len() - 1);
                    if b <= a {
                        starts[a_] as usize..starts[a_] as usize
                    } else {
                        starts[a_] as usize..ends[(b - 1).min(ends.len() - 1)] as usize
                    }
                };
                proptest::prop_assert_eq!(map.original(a..b), expected, "{}..{}", a, b);
            }
        }

        /// The `memchr` search for entities finds what the test of every byte finds.
        #[test]
        fn entities_in_bytes_are_found_as_in_units(
            text in "([a&;#x0-9 ]|amp|lt|#39){0,40}",
        ) {
            let b = text.as_bytes();
            proptest::prop_assert_eq!(has_entity_in_bytes(b), has_entity(b));
        }

        #[test]
        fn skipping_idle_passes_changes_nothing_on_random_text(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "a", "b", "o", "p", "s", "w", "x", "0", "1", "3", "4", "5", "7", "9", "!", "@",
                "$", "&", ";", "#", ".", "-", " ", "  ", "\n", "<b>", "</i>", "&amp;", "&#x432;",
                "&qu", "0t;", "а", "о", "р", "е", "Α", "é", "\u{301}", "\u{200B}", "ｗ", "ﬁ",
                "w h a t", "p@ss", "0nly", "eur0", "ё", "ӏ", "һ", "A", "Z",
                "ж", "•", "–", "\u{a0}", "日", "™", "\u{ad}", "🙂", "ж ж ж ж", "x.y.z", "&c0py;",
            ]), 0..40)
        ) {
            assert_same_as_all_passes(&parts.concat());
        }

        /// The fast path's scans, 64 bytes at a time, find what a byte-by-byte scan finds,
        /// across block boundaries and from any place.
        #[test]
        fn block_scans_find_what_byte_scans_find(
            b in proptest::collection::vec(proptest::sample::select(b"a0z1!@$ .-x5 \n<".to_vec()), 0..300),
            from in 0usize..300,
        ) {
            let from = from.min(b.len());
            let want = b[from..]
                .windows(2)
                .position(|w| leet_pair(char::from(w[0]), char::from(w[1])))
                .map(|p| from + p);
            proptest::prop_assert_eq!(next_leet_pair(&b, from), want);
            let mut got = Vec::new();
            for_each_class(&b, &SEPARATOR, |q| {
                got.push(q);
                false
            });
            let want: Vec<usize> = (0..b.len())
                .filter(|&q| is_spaced_separator(char::from(b[q])))
                .collect();
            proptest::prop_assert_eq!(got, want);
            proptest::prop_assert_eq!(run_end(&b, from), run_end_by_bytes(&b, from));
        }
    }

    /// [`run_end`] a byte at a time: a run goes on over plain bytes, and over a space before a
    /// plain byte.
    fn run_end_by_bytes(b: &[u8], from: usize) -> usize {
        let plain = |k: usize| b.get(k).is_some_and(|&c| PLAIN[usize::from(c)]);
        let mut end = from;
        while end < b.len() {
            if plain(end) {
                end += 1;
            } else if b[end] == b' ' && plain(end + 1) {
                end += 2;
            } else {
                break;
            }
        }
        end
    }

    #[test]
    fn runs_go_on_across_blocks() {
        // A space that ends one 64-byte block, before a word that opens the next; and a space,
        // a word, a wide gap at the block edges.
        for edge in [62, 63, 64, 65] {
            let mut s = vec![b'x'; 130];
            s[edge] = b' ';
            assert_eq!(run_end(&s, 0), 130, "space at {edge}");
            s[edge + 1] = b' ';
            assert_eq!(run_end(&s, 0), edge, "two spaces at {edge}");
            assert_eq!(run_end(&s, 0), run_end_by_bytes(&s, 0));
        }
    }

    /// The fast path takes the common ad, non-ASCII or with leetspeak too, and leaves to the full
    /// path exactly what it cannot do.
    #[test]
    fn fast_path_takes_plain_ads_only() {
        let fast = |s: &str| normalize_fast(s, &mut Normalized::default(), &mut Work::default());
        for s in [
            "Cleaner wanted, 5 years, $2,000 / week. R&D team – call now • covid19",
            "Straße – café – 日本語 🙂 ＷｈａｔｓＡｐｐ &amp x;",
            "p@ssp0rt kept, eur0, 0nly",
            // Non-ASCII, with a lone letter between separators but no run of them.
            "It’s a job, a b, café – x.y apply",
        ] {
            assert!(fast(s), "{s:?}");
        }
        for s in [
            "&amp; more",
            "p\u{430}ssport",
            "w h a t s a p p",
            "ж ж ж ж",
            // Runs of ASCII letters in ads that are not all ASCII.
            "café w h a t s a p p",
            "it’s J.O.B.S",
            "ж w-h-a-t",
            "ж é-h-a-t",
            "&c0py; 2024",
        ] {
            assert!(!fast(s), "{s:?}");
        }
    }

    #[test]
    fn spans_map_to_original_bytes() {
        let src = "Call <b>ＷｈａｔｓＡｐｐ</b> now";
        let n = normalize(src);
        let at = n.text().find("whatsapp").unwrap();
        let r = n.text_to_original(at..at + "whatsapp".len());
        assert_eq!(&src[r], "ＷｈａｔｓＡｐｐ");
    }
}
