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
//!    dropped (`pássport` → `passport`); every run of white space collapsed to one space.
//!    Digits and symbols are kept, so entities (phones, money, e-mails) are read from this view.
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

/// For every byte of a normalised string, the original byte range of the character that produced
/// it.
#[derive(Debug, Default, Clone)]
pub struct OffsetMap {
    start: Vec<u32>,
    end: Vec<u32>,
}

impl OffsetMap {
    fn clear(&mut self) {
        self.start.clear();
        self.end.clear();
    }

    fn push(&mut self, n_bytes: usize, src: (u32, u32)) {
        for _ in 0..n_bytes {
            self.start.push(src.0);
            self.end.push(src.1);
        }
    }

    /// The original byte range covered by the normalised byte range `r`. `r` must lie within the
    /// normalised string; an empty range maps to an empty range at its position.
    pub fn original(&self, r: Range<usize>) -> Range<usize> {
        if self.start.is_empty() {
            return 0..0;
        }
        let a = r.start.min(self.start.len() - 1);
        if r.end <= r.start {
            let s = self.start[a] as usize;
            return s..s;
        }
        let b = (r.end - 1).min(self.end.len() - 1);
        self.start[a] as usize..self.end[b] as usize
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
    units: Vec<Unit>,
    out: Vec<Unit>,
}

impl Normalized {
    /// The de-obfuscated view that indicators and tokens are matched against.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The folded view (case, Unicode, HTML, white space) that keeps digits and symbols.
    pub fn folded(&self) -> &str {
        &self.folded
    }
    /// Original byte range of a byte range of [`Normalized::text`].
    pub fn text_to_original(&self, r: Range<usize>) -> Range<usize> {
        self.text_map.original(r)
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
    let mut units = std::mem::take(&mut out.units);
    units.clear();
    fold(input, &mut units);
    // Look-alikes are undone in both views: a Cyrillic `а` in `snаp` or an e-mail address is
    // as much a disguise as in `pаssport`.
    for_each_word(&mut units, map_confusables);
    out.folded.clear();
    out.folded_map.clear();
    for u in &units {
        push_char(&mut out.folded, &mut out.folded_map, u);
    }
    let mut joined = std::mem::take(&mut out.out);
    joined.clear();
    join_spaced(&units, &mut joined);
    for_each_word(&mut joined, |w| {
        map_confusables(w);
        undo_leet(w);
    });
    out.text.clear();
    out.text_map.clear();
    for u in &joined {
        push_char(&mut out.text, &mut out.text_map, u);
    }
    out.units = units;
    out.out = joined;
}

fn push_char(s: &mut String, map: &mut OffsetMap, u: &Unit) {
    s.push(u.c);
    map.push(u.c.len_utf8(), (u.start, u.end));
}

// ---------------------------------------------------------------------------------------------
// The folded view

/// Appends units, collapsing white space and never starting or ending with a space.
struct Folder<'a> {
    units: &'a mut Vec<Unit>,
    pending_space: Option<(u32, u32)>,
}

impl Folder<'_> {
    fn space(&mut self, src: (u32, u32)) {
        if self.units.is_empty() {
            return;
        }
        match &mut self.pending_space {
            Some(p) => p.1 = src.1,
            None => self.pending_space = Some(src),
        }
    }

    fn push(&mut self, c: char, alt: u8, src: (u32, u32)) {
        if let Some(sp) = self.pending_space.take() {
            self.units.push(Unit {
                c: ' ',
                alt: 0,
                start: sp.0,
                end: sp.1,
            });
        }
        self.units.push(Unit {
            c,
            alt,
            start: src.0,
            end: src.1,
        });
    }

    fn last_is_latin_or_none(&self) -> bool {
        self.pending_space.is_some() || self.units.last().is_none_or(|u| u.c.is_ascii())
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

    fn ascii(&mut self, b: u8, src: (u32, u32)) {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => self.space(src),
            // `<` and `>` never reach the output, so no tag can appear after decoding and a
            // second pass has nothing left to strip (idempotence).
            b'<' | b'>' => self.space(src),
            0..=0x1f | 0x7f => {}
            b'A'..=b'Z' => self.push((b + 32) as char, 0, src),
            _ => self.push(b as char, 0, src),
        }
    }
}

fn fold(input: &str, units: &mut Vec<Unit>) {
    let bytes = input.as_bytes();
    let mut f = Folder {
        units,
        pending_space: None,
    };
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
                b'&' => {
                    if let Some((c, end)) = html_entity(bytes, i) {
                        f.char(c, (i as u32, end as u32));
                        i = end;
                        continue;
                    }
                    f.ascii(b, src);
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

/// Decodes an HTML entity at `i` (`&amp;`, `&#39;`, `&#x27;`). A chain such as `&amp;lt;`
/// (double-escaped) is decoded in one go, so a second pass finds nothing to decode.
fn html_entity(bytes: &[u8], i: usize) -> Option<(char, usize)> {
    let (mut c, mut end) = entity_body(bytes, i + 1)?;
    while c == '&' {
        match entity_body(bytes, end) {
            Some((c2, e2)) => {
                c = c2;
                end = e2;
            }
            None => break,
        }
    }
    Some((c, end))
}

/// Parses `name;`, `#123;` or `#x1F;` at `i` (just after a `&`).
fn entity_body(bytes: &[u8], i: usize) -> Option<(char, usize)> {
    let semi = bytes
        .iter()
        .skip(i)
        .take(12)
        .position(|&b| b == b';')
        .map(|p| i + p)?;
    let body = std::str::from_utf8(&bytes[i..semi]).ok()?;
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
    Some((c, semi + 1))
}

/// The Latin letter a Cyrillic or Greek letter is drawn like (as written, before lower-casing:
/// Cyrillic `Н` looks like `H` but `н` does not), or 0.
fn confusable(c: char) -> u8 {
    match c {
        // Cyrillic
        'а' | 'А' => b'a',
        'В' | 'в' | 'Ь' | 'ь' => b'b',
        'с' | 'С' => b'c',
        'ԁ' => b'd',
        'е' | 'Е' | 'ё' | 'Ё' => b'e',
        'Н' | 'һ' | 'Һ' => b'h',
        'і' | 'І' | 'ї' | 'Ї' | 'ӏ' | 'Ӏ' => b'i',
        'ј' | 'Ј' => b'j',
        'к' | 'К' => b'k',
        'М' | 'м' => b'm',
        'п' => b'n',
        'о' | 'О' => b'o',
        'р' | 'Р' => b'p',
        'ԛ' | 'Ԛ' => b'q',
        'ѕ' | 'Ѕ' => b's',
        'Т' | 'т' => b't',
        'у' | 'У' => b'y',
        'х' | 'Х' => b'x',
        'ԝ' | 'Ԝ' => b'w',
        // Greek
        'α' | 'Α' => b'a',
        'β' | 'Β' => b'b',
        'ε' | 'Ε' => b'e',
        'Ζ' => b'z',
        'Η' => b'h',
        'η' => b'n',
        'ι' | 'Ι' => b'i',
        'κ' | 'Κ' => b'k',
        'Μ' => b'm',
        'Ν' => b'n',
        'ν' => b'v',
        'ο' | 'Ο' => b'o',
        'ρ' | 'Ρ' => b'p',
        'τ' | 'Τ' => b't',
        'υ' | 'Υ' | 'γ' => b'y',
        'χ' | 'Χ' => b'x',
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

const SPACED_SEPARATORS: &[char] = &[' ', '.', '-', '_', '*', '/', '|', '+', '~'];

/// Joins letters spelled out one by one (`w h a t s a p p`, `J.O.B.S`, `w-h-a-t`, `G.F.E.`):
/// single letters or digits, each followed by the same separator, the run ending at a token
/// boundary; at least four of them (three with dots). Where the original had a wider gap between
/// two letters (`n e w  i n  t o w n`) the words are kept apart, provided every word so made has
/// at least two letters; otherwise the whole run is joined, so that the output never holds a
/// joinable run again (idempotence).
fn join_spaced(units: &[Unit], out: &mut Vec<Unit>) {
    let is_alnum = |i: usize| units.get(i).is_some_and(|u| u.c.is_alphanumeric());
    let mut i = 0;
    while i < units.len() {
        let starts_token = i == 0 || !is_alnum(i - 1);
        if starts_token && is_alnum(i) && !is_alnum(i + 1) {
            if let Some(sep) = units.get(i + 1).map(|u| u.c) {
                if SPACED_SEPARATORS.contains(&sep) {
                    // Count single alphanumerics separated by `sep`.
                    let mut n = 1;
                    let mut j = i;
                    while units.get(j + 1).is_some_and(|u| u.c == sep)
                        && is_alnum(j + 2)
                        && !is_alnum(j + 3)
                    {
                        n += 1;
                        j += 2;
                    }
                    let min = if sep == '.' { 3 } else { 4 };
                    if n >= min {
                        let gap = |k: usize| sep == ' ' && units[k].end - units[k].start >= 2;
                        // Word lengths between gaps: keep the gaps only if no word is a single letter.
                        let mut len = 1;
                        let mut ok = true;
                        for k in (i + 1..j).step_by(2) {
                            if gap(k) {
                                ok &= len >= 2;
                                len = 0;
                            }
                            len += 1;
                        }
                        ok &= len >= 2;
                        out.push(units[i]);
                        for k in (i + 1..j).step_by(2) {
                            if ok && gap(k) {
                                out.push(units[k]);
                            }
                            out.push(units[k + 1]);
                        }
                        i = j + 1;
                        continue;
                    }
                }
            }
        }
        out.push(units[i]);
        i += 1;
    }
}

/// Applies `f` to each space-separated word.
fn for_each_word(units: &mut [Unit], mut f: impl FnMut(&mut [Unit])) {
    let mut start = 0;
    while start < units.len() {
        let end = units[start..]
            .iter()
            .position(|u| u.c == ' ')
            .map_or(units.len(), |p| start + p);
        f(&mut units[start..end]);
        start = end + 1;
    }
}

/// Maps Cyrillic/Greek look-alikes to Latin in a word that also holds Latin letters (a
/// mixed-script word is a disguise; a wholly Cyrillic word is Russian).
fn map_confusables(word: &mut [Unit]) {
    if !word.iter().any(|u| u.c.is_ascii_alphabetic()) {
        return;
    }
    for u in word.iter_mut() {
        if u.alt != 0 {
            u.c = u.alt as char;
            u.alt = 0;
        }
    }
}

/// Maps leetspeak (`p@ssp0rt`, `fr3sh`) inside a word.
fn undo_leet(word: &mut [Unit]) {
    if !word.iter().any(|u| u.c.is_ascii_alphabetic()) {
        return;
    }
    // Leetspeak: runs of up to three leet characters with a Latin letter on both sides.
    fn email_like(rest: &[Unit]) -> bool {
        rest.windows(2)
            .any(|w| w[0].c == '.' && w[1].c.is_ascii_alphabetic())
    }
    let mut i = 1;
    while i < word.len() {
        if leet(word[i].c).is_some() && word[i - 1].c.is_ascii_alphabetic() {
            let run_end = (i..word.len())
                .find(|&k| leet(word[k].c).is_none())
                .unwrap_or(word.len());
            let bounded = run_end < word.len() && word[run_end].c.is_ascii_alphabetic();
            if bounded && run_end - i <= 3 {
                for k in i..run_end {
                    if word[k].c == '@' && email_like(&word[k + 1..]) {
                        continue;
                    }
                    if let Some(l) = leet(word[k].c) {
                        word[k].c = l;
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
    if n >= 2 && word[n - 1].c == '0' && word[n - 2].c.is_ascii_alphabetic() {
        word[n - 1].c = 'o';
    }
    if n >= 3 && word[0].c == '0' && word[1].c.is_ascii_alphabetic() && word[2].c.is_ascii_alphabetic() {
        word[0].c = 'o';
    }
}

fn leet(c: char) -> Option<char> {
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

    #[test]
    fn folds_case_html_and_space() {
        assert_eq!(
            text("<b>URGENT</b>&nbsp;hiring &amp; more\r\n\n"),
            "urgent hiring & more"
        );
        assert_eq!(text("&amp;lt;b&amp;gt;"), "b");
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

    #[test]
    fn spans_map_to_original_bytes() {
        let src = "Call <b>ＷｈａｔｓＡｐｐ</b> now";
        let n = normalize(src);
        let at = n.text().find("whatsapp").unwrap();
        let r = n.text_to_original(at..at + "whatsapp".len());
        assert_eq!(&src[r], "ＷｈａｔｓＡｐｐ");
    }
}
