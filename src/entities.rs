//! Entities: phone numbers (plain and obscured), e-mails, URLs, messaging handles, money amounts
//! and stated ages, each with its byte span in the original ad.
//!
//! Entities are read from the *folded* view of [`Normalized`] (case, Unicode and HTML undone, but
//! digits and symbols kept), because the de-obfuscated view turns `john3doe` into `johnedoe`.
//! Phone numbers are found by a linear scanner rather than a regex so that spelled-out digits
//! (`four one five`), letters for digits (`2O2`, `55five`), emoji keycaps and odd separators are
//! read as digits, and a run of ten thousand digits costs one pass, not a backtracking search.

use regex::bytes::{Regex, RegexBuilder};
use serde::Serialize;

use crate::bytemask::{is_space, set_bits, ByteClasses};
use crate::normalize::Normalized;

/// What kind of thing an [`Entity`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Phone,
    Email,
    Url,
    Handle,
    Money,
    Age,
}

/// A money amount, as stated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Money {
    pub amount: f64,
    /// ISO 4217 code where the symbol or word was recognised (`USD`, `EUR`…).
    pub currency: &'static str,
    /// `hour`, `day`, `week`, `month` or `year`, when the ad says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<&'static str>,
}

/// One entity found in an ad. `start..end` are byte offsets into the original text and `text` is
/// that slice; `value` is the normalised form (digits of a phone, lower-case e-mail, handle
/// without `@`, age in years, amount as a decimal).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity {
    pub kind: EntityKind,
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub money: Option<Money>,
    /// For phones: written so as to dodge filters (spelled digits, letters or emoji for digits,
    /// one digit per group).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub obscured: bool,
}

/// Which of the gated entity searches ([`URL`], [`PLATFORM_HANDLE`], [`AGE`]) can find
/// anything in one ad: their patterns also run in the indicator engine's first step (which
/// patterns match), which reads the ad anyway, and a pattern it did not find has nothing to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EntityGates {
    pub url: bool,
    pub platform_handle: bool,
    pub age: bool,
}

impl EntityGates {
    /// Search for everything.
    pub const ALL: EntityGates = EntityGates {
        url: true,
        platform_handle: true,
        age: true,
    };
}

/// Compiled entity patterns. Build once ([`EntityExtractor::new`]) and share: it is
/// `Send + Sync` and extraction takes `&self`.
#[derive(Debug, Clone)]
pub struct EntityExtractor {
    email: Regex,
    url: Regex,
    handle: Regex,
    platform_handle: Regex,
    money: Regex,
    age: Regex,
}

const PLATFORMS: &[(&str, &str)] = &[
    ("whatsapp", "whatsapp"),
    ("whats app", "whatsapp"),
    ("wa", "whatsapp"),
    ("telegram", "telegram"),
    ("tg", "telegram"),
    ("snapchat", "snapchat"),
    ("snap", "snapchat"),
    ("kik", "kik"),
    ("wechat", "wechat"),
    ("viber", "viber"),
    ("signal", "signal"),
    ("instagram", "instagram"),
    ("insta", "instagram"),
    ("ig", "instagram"),
    ("skype", "skype"),
    ("line", "line"),
    ("twitter", "twitter"),
    ("onlyfans", "onlyfans"),
];

/// URLs, over the folded view. Also run in the indicator engine's first step over the folded
/// view, which tells [`EntityExtractor::extract_gated`] whether to search for them at all.
pub(crate) const URL: &str = r"\b(?:https?://[^\s<>\x22']{1,300}|www\.[a-z0-9\-]{1,63}(?:\.[a-z0-9\-]{1,63}){1,4}(?:/[^\s<>\x22']{0,300})?|[a-z0-9\-]{2,63}\.(?:com|net|org|info|biz|io|co|me|xyz|ru|uk|de|fr|nl|in|ae|qa|my|sg|ph|cn)\b(?:/[^\s<>\x22']{0,300})?)";

/// A platform name with a handle (`whatsapp: anna_22`), over the folded view; gated as [`URL`].
pub(crate) const PLATFORM_HANDLE: &str = r"\b(whatsapp|whats app|telegram|snapchat|snap|kik|wechat|viber|signal|instagram|insta|ig|skype|line|tg|wa)\s?(?:id|name|user|username|handle)?\s?(?:[:=\-]|is|at|me at)\s?@?([a-z][a-z0-9_.]{2,31})";

/// A stated age, over the text view; gated as [`URL`], by the first step over the text view.
pub(crate) const AGE: &str = r"(?x)\b(?:(?P<a1>\d{1,2})\s?(?:yo|y/o|y\.o\.?|yrs?\s?old|years?\s?old|years?\s?of\s?age)\b
                  |(?:age|aged)\s?:?\s?(?P<a2>\d{1,2})\b
                  |(?:i'?m|i\sam|just\sturned|turned)\s(?P<a3>\d{1,2})\b)";

/// A money amount, over the text view: a currency before or after an amount, then an optional
/// range, currency, net/gross and period. A currency added here must be added to
/// `CURRENCY_BEFORE` or `CURRENCY_AFTER` too (a test reads both groups' literals from this
/// pattern), or `money_search_start` would skip ads that state it.
const MONEY: &str = r"(?x)
            (?:(?P<c1>\$|us\$|usd|€|eur|£|gbp|aed|sgd|cad|aud|rm|myr|₹|inr|rs\.?|qar|sar)\s?
               (?P<n1>\d{1,3}(?:[,.\x20]\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)(?P<k1>k\b)?
             |(?P<n2>\d{1,3}(?:[,.\x20]\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)(?P<k2>k\b)?\s?
               (?P<c2>\$|€|£|usd|dollars?|euros?|eur|gbp|pounds?|dirhams?|aed|sgd|cad|aud|ringgit|myr|rm|rupees?|inr|riyals?|qar|sar))
            (?:\s?(?:-|to)\s?(?:\$|€|£)?\s?\d[\d,.]*k?)?
            (?:\s?(?:usd|eur|gbp|aed))?
            (?:\s?(?:net|gross|netto|brutto|nett|after\stax|before\stax))?
            (?:\s?(?:/|per|a|an|each|every)?\s?(?P<p>hours?|hrs?|hourly|days?|daily|nights?|weeks?|wk|weekly|months?|mo|monthly|years?|yr|yearly|annum|annually|p\.?a\.?)\b)?";

fn build(pattern: &str) -> Regex {
    // The patterns are constants of this module, covered by its tests.
    RegexBuilder::new(pattern)
        .unicode(false)
        .dfa_size_limit(crate::indicators::DFA_CACHE_LIMIT)
        .build()
        .unwrap_or_else(|e| panic!("built-in entity pattern {pattern:?}: {e}"))
}

impl Default for EntityExtractor {
    fn default() -> Self {
        Self::new()
    }
}

impl EntityExtractor {
    pub fn new() -> Self {
        EntityExtractor {
            email: build(
                r"[a-z0-9][a-z0-9._%+\-]{0,63}@[a-z0-9][a-z0-9\-]{0,62}(?:\.[a-z0-9\-]{1,63}){0,4}\.[a-z]{2,12}\b",
            ),
            url: build(URL),
            handle: build(r"(?:^|[^a-z0-9_.@])@([a-z0-9_][a-z0-9_.]{1,31})"),
            platform_handle: build(PLATFORM_HANDLE),
            money: build(MONEY),
            age: build(AGE),
        }
    }

    /// All entities of one ad, in order of their start offset.
    pub fn extract(&self, original: &str, norm: &Normalized) -> Vec<Entity> {
        self.extract_gated(original, norm, EntityGates::ALL)
    }

    /// The money pattern's matches in `text`, as `captures_iter` finds them, each searched for
    /// from where the next one may start ([`money_search_start`]).
    fn money_captures<'t>(
        &'t self,
        text: &'t [u8],
    ) -> impl Iterator<Item = regex::bytes::Captures<'t>> + 't {
        let mut from = money_search_start(text, 0);
        std::iter::from_fn(move || {
            let c = self.money.captures_at(text, from?)?;
            from = c
                .get(0)
                .and_then(|m| money_search_start(text, m.end().max(m.start() + 1)));
            Some(c)
        })
    }

    /// [`EntityExtractor::extract`], skipping the searches that `gates` shows cannot find
    /// anything in this ad.
    pub(crate) fn extract_gated(
        &self,
        original: &str,
        norm: &Normalized,
        gates: EntityGates,
    ) -> Vec<Entity> {
        let folded = norm.folded().as_bytes();
        let mut out = Vec::new();
        // An entity at an original byte range.
        let at = |kind, o: std::ops::Range<usize>, value: String| Entity {
            kind,
            start: o.start,
            end: o.end,
            text: original.get(o.clone()).unwrap_or_default().to_string(),
            value,
            platform: None,
            money: None,
            obscured: false,
        };
        let mk = |kind, r, value| at(kind, norm.folded_to_original(r), value);
        // E-mail addresses and `@handles` hold an `@`, which most ads lack: one search for it
        // spares both their searches.
        let at_sign = memchr::memchr(b'@', folded).is_some();
        for m in at_sign
            .then(|| self.email.find_iter(folded))
            .into_iter()
            .flatten()
        {
            out.push(mk(EntityKind::Email, m.range(), lossy(m.as_bytes())));
        }
        let emails: Vec<_> = out.iter().map(|e| (e.start, e.end)).collect();
        let inside_email = |s: usize, e: usize| emails.iter().any(|&(a, b)| s < b && a < e);
        let urls = gates.url.then(|| self.url.find_iter(folded));
        for m in urls.into_iter().flatten() {
            let e = mk(EntityKind::Url, m.range(), lossy(m.as_bytes()));
            if !inside_email(e.start, e.end) {
                out.push(e);
            }
        }
        let platform_handles = gates
            .platform_handle
            .then(|| self.platform_handle.captures_iter(folded));
        for c in platform_handles.into_iter().flatten() {
            let (Some(p), Some(h)) = (c.get(1), c.get(2)) else {
                continue;
            };
            let mut e = mk(EntityKind::Handle, p.start()..h.end(), lossy(h.as_bytes()));
            e.platform = platform_name(p.as_bytes());
            if !inside_email(e.start, e.end) {
                out.push(e);
            }
        }
        for c in at_sign
            .then(|| self.handle.captures_iter(folded))
            .into_iter()
            .flatten()
        {
            let Some(h) = c.get(1) else { continue };
            let r = h.start() - 1..h.end();
            let mut e = mk(EntityKind::Handle, r, lossy(h.as_bytes()));
            let before = &folded[h.start().saturating_sub(40)..h.start()];
            e.platform = nearest_platform(before);
            let dup = out
                .iter()
                .any(|x| x.kind == EntityKind::Handle && x.value == e.value);
            if !dup && !inside_email(e.start, e.end) {
                out.push(e);
            }
        }
        // Money and ages are read from the de-obfuscated view (`5000 eur0 a m0nth`).
        let text = norm.text().as_bytes();
        let mk_text = |kind, r, value| at(kind, norm.text_to_original(r), value);
        for c in self.money_captures(text) {
            let Some(whole) = c.get(0) else { continue };
            let num = c.name("n1").or(c.name("n2"));
            let cur = c.name("c1").or(c.name("c2"));
            let (Some(num), Some(cur)) = (num, cur) else {
                continue;
            };
            let Some(mut amount) = parse_amount(num.as_bytes()) else {
                continue;
            };
            if c.name("k1").or(c.name("k2")).is_some() {
                amount *= 1000.0;
            }
            let money = Money {
                amount,
                currency: currency_code(cur.as_bytes()),
                period: c.name("p").map(|p| period_name(p.as_bytes())),
            };
            let mut e = mk_text(EntityKind::Money, whole.range(), format!("{amount}"));
            e.money = Some(money);
            out.push(e);
        }
        let ages = gates.age.then(|| self.age.captures_iter(text));
        for c in ages.into_iter().flatten() {
            let Some(whole) = c.get(0) else { continue };
            let Some(a) = c.name("a1").or(c.name("a2")).or(c.name("a3")) else {
                continue;
            };
            let value = lossy(a.as_bytes());
            if value.parse::<u8>().is_ok_and(|v| (10..=99).contains(&v)) {
                out.push(mk_text(EntityKind::Age, whole.range(), value));
            }
        }
        for p in scan_phones(norm.folded()) {
            let mut e = mk(EntityKind::Phone, p.range, p.digits);
            // Digits that were not plain ASCII digits in the original (emoji keycaps, fullwidth,
            // circled) are obscured even when the folded text looks ordinary.
            let odd_digits = e
                .text
                .chars()
                .any(|c| !c.is_ascii() && !c.is_whitespace() && c != '\u{00a0}');
            e.obscured = p.obscured || odd_digits;
            if !inside_email(e.start, e.end) {
                out.push(e);
            }
        }
        out.sort_by_key(|e| (e.start, e.end));
        out
    }
}

/// Currencies the money pattern reads before an amount (its `c1`), as they end.
const CURRENCY_BEFORE: &[&str] = &[
    "$", "€", "£", "₹", "usd", "eur", "gbp", "aed", "sgd", "cad", "aud", "rm", "myr", "inr", "rs",
    "rs.", "qar", "sar",
];

/// Currencies the money pattern reads after an amount (its `c2`), as they begin.
const CURRENCY_AFTER: &[&str] = &[
    "$", "€", "£", "usd", "dollar", "eur", "gbp", "pound", "dirham", "aed", "sgd", "cad", "aud",
    "ringgit", "myr", "rm", "rupee", "inr", "riyal", "qar", "sar",
];

/// Where the money pattern's search from `from` may start in `text` (`from` or later), or
/// `None` when no match starts at or after `from`.
///
/// A match needs a run of digits with a currency just before it (`$ 500`) or just after it
/// (`500k eur`), with at most one white-space byte between, and a `k` after the digits. Two ads
/// in three have no such run, and the pattern's own search, which stops at every digit, cost
/// more than every other entity search together (56 k instructions an ad). No match starts
/// before the first such run, less the longest currency before it and a space (4 bytes), or
/// less the digits, commas, points and spaces an amount (`1 000,000`) may run back over. Never
/// skips a match (tested on the shared data and on random text). Asked again after each match,
/// it spares the search that would read on to the end of the ad to find no other.
fn money_search_start(text: &[u8], from: usize) -> Option<usize> {
    let before = |end: usize| {
        let ends = |at: usize| {
            CURRENCY_BEFORE
                .iter()
                .any(|c| text[..at].ends_with(c.as_bytes()))
        };
        ends(end) || (end > 0 && is_space(text[end - 1]) && ends(end - 1))
    };
    let after = |start: usize| {
        let begins = |at: usize| {
            let rest = text.get(at..).unwrap_or_default();
            CURRENCY_AFTER
                .iter()
                .any(|c| rest.starts_with(c.as_bytes()))
        };
        let spaced = |at: usize| {
            begins(at) || (text.get(at).is_some_and(|&c| is_space(c)) && begins(at + 1))
        };
        spaced(start) || (text.get(start) == Some(&b'k') && spaced(start + 1))
    };
    let mut i = from;
    while let Some(start) = next_digit(text, i) {
        let end = start
            + text[start..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
        if before(start) || after(end) {
            let amount = text[..start]
                .iter()
                .rposition(|&c| !(c.is_ascii_digit() || matches!(c, b',' | b'.' | b' ')))
                .map_or(0, |k| k + 1);
            return Some(amount.min(start.saturating_sub(4)).max(from));
        }
        i = end;
    }
    None
}

/// The first ASCII digit of `b` at or after `from`, looked for eight bytes at a time: most of an
/// ad is letters.
fn next_digit(b: &[u8], mut from: usize) -> Option<usize> {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(&word) = b.get(from..).and_then(|rest| rest.first_chunk::<8>()) {
        let x = u64::from_le_bytes(word);
        // Per byte, with no carry between bytes (each low-7-bit sum stays below 0x100): the high
        // bit is set where the byte is at least b'0', not above b'9', and ASCII.
        let low7 = x & !HIGH;
        let at_least_0 = low7 + (0x80 - u64::from(b'0')) * LOW;
        let above_9 = low7 + (0x80 - u64::from(b'9') - 1) * LOW;
        let digits = at_least_0 & !above_9 & !x & HIGH;
        if digits != 0 {
            return Some(from + digits.trailing_zeros() as usize / 8);
        }
        from += 8;
    }
    let rest = b.get(from..)?;
    rest.iter().position(u8::is_ascii_digit).map(|k| from + k)
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn platform_name(word: &[u8]) -> Option<&'static str> {
    PLATFORMS
        .iter()
        .find(|(w, _)| w.as_bytes() == word)
        .map(|&(_, p)| p)
}

/// The platform named last in `before` (the 40 bytes ahead of an `@handle`), if any.
fn nearest_platform(before: &[u8]) -> Option<&'static str> {
    let text = String::from_utf8_lossy(before);
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .rev()
        .find_map(|w| platform_name(w.as_bytes()).filter(|_| w.len() > 2))
}

/// Parses `2,000`, `3.500` (European thousands), `1,500.50`, `2 000`, `18.50`.
fn parse_amount(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    let groups: Vec<&str> = s.split([',', '.', ' ']).collect();
    let seps: Vec<char> = s.chars().filter(|c| matches!(c, ',' | '.' | ' ')).collect();
    let v = if seps.is_empty() {
        s.parse().ok()?
    } else {
        let last = groups.last()?;
        let last_sep = *seps.last()?;
        let decimal_tail = last.len() <= 2 && (last_sep == '.' || last_sep == ',');
        if decimal_tail {
            let int: String = groups[..groups.len() - 1].concat();
            format!("{int}.{last}").parse().ok()?
        } else {
            groups.concat().parse().ok()?
        }
    };
    Some(v)
}

fn currency_code(b: &[u8]) -> &'static str {
    match b {
        b"$" | b"usd" | b"us$" | b"dollar" | b"dollars" => "USD",
        b"\xe2\x82\xac" | b"eur" | b"euro" | b"euros" => "EUR",
        b"\xc2\xa3" | b"gbp" | b"pound" | b"pounds" => "GBP",
        b"aed" | b"dirham" | b"dirhams" => "AED",
        b"sgd" => "SGD",
        b"cad" => "CAD",
        b"aud" => "AUD",
        b"rm" | b"myr" | b"ringgit" => "MYR",
        b"\xe2\x82\xb9" | b"inr" | b"rs" | b"rs." | b"rupee" | b"rupees" => "INR",
        b"qar" | b"riyal" | b"riyals" => "QAR",
        b"sar" => "SAR",
        _ => "XXX",
    }
}

fn period_name(b: &[u8]) -> &'static str {
    match b.first() {
        Some(b'h') => "hour",
        Some(b'd') | Some(b'n') => "day",
        Some(b'w') => "week",
        Some(b'm') => "month",
        _ => "year",
    }
}

/// US dollars per unit of `currency`: rough 2024 rates, used only to put lure amounts on one
/// scale (a factor of 1.2 either way changes no verdict the thresholds care about).
pub fn usd_rate(currency: &str) -> Option<f64> {
    Some(match currency {
        "USD" => 1.0,
        "EUR" => 1.08,
        "GBP" => 1.27,
        "AED" => 0.27,
        "SGD" => 0.74,
        "CAD" => 0.73,
        "AUD" => 0.66,
        "MYR" => 0.21,
        "INR" => 0.012,
        "QAR" => 0.27,
        "SAR" => 0.27,
        _ => return None,
    })
}

impl Money {
    /// The amount as US dollars per week (40-hour weeks, 5-day weeks), when the period and
    /// currency are known.
    pub fn usd_per_week(&self) -> Option<f64> {
        let per_week = match self.period? {
            "hour" => 40.0,
            "day" => 5.0,
            "week" => 1.0,
            "month" => 12.0 / 52.0,
            _ => 1.0 / 52.0,
        };
        Some(self.amount * usd_rate(self.currency)? * per_week)
    }
}

/// A phone number found by [`scan_phones`], as a range of the folded text.
#[derive(Debug, Clone, PartialEq)]
pub struct PhoneHit {
    pub range: std::ops::Range<usize>,
    pub digits: String,
    pub obscured: bool,
}

const NUMBER_WORDS: &[(&str, u8)] = &[
    ("zero", b'0'),
    ("oh", b'0'),
    ("one", b'1'),
    ("two", b'2'),
    ("three", b'3'),
    ("four", b'4'),
    ("five", b'5'),
    ("six", b'6'),
    ("seven", b'7'),
    ("eight", b'8'),
    ("nine", b'9'),
];

/// What the phone scanner's first test needs of a byte, as [`ByteClasses`]: bit 0 a digit, bit
/// 1 a letter that may start a number word (`zero`, `oh`, `one`, `two`, … `nine`), bit 2 a digit
/// or an ASCII letter.
static START_FLAGS: ByteClasses<3> = ByteClasses::new({
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = if b.is_ascii_digit() {
            0b101
        } else if matches!(b, b'z' | b'o' | b't' | b'f' | b's' | b'e' | b'n') {
            0b110
        } else if b.is_ascii_alphabetic() {
            0b100
        } else {
            0
        };
        c += 1;
    }
    t
});

/// Finds phone numbers: 10 to 15 digits written as digits, number words or letters standing for
/// digits, with up to three separator characters between groups. Linear in the input.
pub fn scan_phones(folded: &str) -> Vec<PhoneHit> {
    let b = folded.as_bytes();
    let is_alpha = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_alphabetic());
    // One digit-like item at `i`: (digit, length, obscured).
    let item = |i: usize, in_run: bool| -> Option<(u8, usize, bool)> {
        let c = *b.get(i)?;
        if c.is_ascii_digit() {
            return Some((c, 1, false));
        }
        let after_digit_letter =
            i > 0 && matches!(b[i - 1], b'o' | b'l' | b'i') && matches!(c, b'o' | b'l' | b'i');
        if i > 0 && is_alpha(i - 1) && !(in_run && after_digit_letter) {
            // Inside a word: number words only start a word (`55five` is fine: `5` is no letter).
            return None;
        }
        for (w, d) in NUMBER_WORDS {
            if b[i..].starts_with(w.as_bytes()) {
                let end = i + w.len();
                if !is_alpha(end) && (in_run || *w != "oh") {
                    return Some((*d, w.len(), true));
                }
            }
        }
        // `O`, `l`, `I` standing for digits (`2O2`, `4l5`, `Ol88`): a run of at most three
        // of them, not followed by another letter, inside a number.
        if in_run && matches!(c, b'o' | b'l' | b'i') {
            let run = b[i..]
                .iter()
                .take_while(|x| matches!(x, b'o' | b'l' | b'i'))
                .count();
            if run <= 3 && !is_alpha(i + run) {
                return Some((if c == b'o' { b'0' } else { b'1' }, 1, true));
            }
        }
        None
    };
    let is_sep = |c: u8| {
        matches!(
            c,
            b' ' | b'-' | b'.' | b'(' | b')' | b'+' | b'*' | b'_' | b'|'
        )
    };
    let plain_sep = |c: u8| matches!(c, b' ' | b'-' | b'.' | b'(' | b')' | b'+');
    let mut hits = Vec::new();
    let mut i = 0; // the first byte not yet read by a number
    for_each_number_start(b, |at| {
        if at < i {
            return;
        }
        i = at;
        let Some(first) = item(i, false) else {
            return;
        };
        let start = if i > 0 && b[i - 1] == b'+' { i - 1 } else { i };
        // At most 16 digits are read (the loop stops past 15); no allocation unless a phone.
        let mut digits = [0u8; 16];
        let mut n_digits = 0;
        let mut obscured = false;
        // Groups of one digit so far, and the size of the current group.
        let (mut single_groups, mut group) = (0, 0);
        let (mut j, mut cur) = (i, first);
        let end = loop {
            let (d, len, obs) = cur;
            digits[n_digits] = d;
            n_digits += 1;
            obscured |= obs;
            group += 1;
            j += len;
            // Up to three separators, then the next item.
            let mut k = j;
            let mut odd = false;
            while k < b.len() && k - j < 3 && is_sep(b[k]) {
                odd |= !plain_sep(b[k]);
                k += 1;
            }
            match item(k, true) {
                Some(next) if n_digits <= 15 => {
                    if k > j {
                        single_groups += usize::from(group == 1);
                        group = 0;
                        obscured |= odd;
                    }
                    j = k;
                    cur = next;
                }
                _ => break j,
            }
        };
        single_groups += usize::from(group == 1);
        if single_groups >= 4 {
            obscured = true;
        }
        if (10..=15).contains(&n_digits) {
            hits.push(PhoneHit {
                range: start..end,
                // ASCII digits only.
                digits: String::from_utf8_lossy(&digits[..n_digits]).into_owned(),
                obscured,
            });
        }
        i = end.max(i + 1);
    });
    hits
}

/// Calls `f` with each place a number may start, in increasing order: a digit not after a
/// digit, or a number word's first letter at the start of a word (after neither a letter nor
/// a digit). Found 64 bytes at a time as bit masks: a branch per byte was most of
/// [`scan_phones`]' time.
fn for_each_number_start(b: &[u8], mut f: impl FnMut(usize)) {
    let (mut digit_before, mut alnum_before) = (0u64, 0u64);
    for (block_at, block) in b.chunks(64).enumerate() {
        let [digit, word_letter, alnum] = START_FLAGS.masks(block);
        let starts = (digit & !((digit << 1) | digit_before))
            | (word_letter & !((alnum << 1) | alnum_before));
        digit_before = digit >> (block.len() - 1) & 1;
        alnum_before = alnum >> (block.len() - 1) & 1;
        for at in set_bits(starts) {
            f(block_at * 64 + at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    /// The number starts are read 32 bytes at a time where the CPU can.
    #[test]
    fn start_flags_have_nibble_tables() {
        assert!(START_FLAGS.by_nibbles());
    }

    fn phones(s: &str) -> Vec<(String, bool)> {
        scan_phones(normalize(s).folded())
            .into_iter()
            .map(|p| (p.digits, p.obscured))
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn number_starts_are_where_the_rule_says(
            text in proptest::collection::vec(proptest::sample::select(
                b"0123456789zotfsenabxy .-+\xc3\xa9".to_vec()), 0..300),
        ) {
            // The rule byte by byte, as the scanner applied it before session 7.
            let digit = |i: usize| text[i].is_ascii_digit();
            let word_letter = |i: usize| b"zotfsen".contains(&text[i]);
            let alnum = |i: usize| text[i].is_ascii_alphanumeric();
            let want: Vec<usize> = (0..text.len())
                .filter(|&i| {
                    (digit(i) && (i == 0 || !digit(i - 1)))
                        || (word_letter(i) && (i == 0 || !alnum(i - 1)))
                })
                .collect();
            let mut got = Vec::new();
            for_each_number_start(&text, |at| got.push(at));
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn every_number_word_is_read() {
        // Each number word is found, `oh` only inside a number.
        assert_eq!(
            phones("zero one two three four five six seven eight nine"),
            [("0123456789".into(), true)]
        );
        assert_eq!(
            phones("nine eight seven six five four three two one oh"),
            [("9876543210".into(), true)]
        );
        assert!(phones("oh nine eight seven six five four three two one").is_empty());
    }

    #[test]
    fn plain_and_obscured_phones() {
        assert_eq!(
            phones("call (415) 555-0123"),
            [("4155550123".into(), false)]
        );
        assert_eq!(
            phones("four one five 555 O1 23"),
            [("4155550123".into(), true)]
        );
        assert_eq!(phones("2O2-55five-0199"), [("2025550199".into(), true)]);
        assert_eq!(phones("4.1.5.5.5.5.0.1.2.3"), [("4155550123".into(), true)]);
        assert_eq!(
            phones("Call 4l5 555 Ol88 now"),
            [("4155550188".into(), true)]
        );
        assert!(phones("born 2014-2016, 40 hours").is_empty());
    }

    /// Every group of every money match, searched over the whole text.
    fn money_everywhere(x: &EntityExtractor, text: &[u8]) -> Vec<Vec<Option<(usize, usize)>>> {
        let groups =
            |c: regex::bytes::Captures| c.iter().map(|m| m.map(|m| (m.start(), m.end()))).collect();
        x.money.captures_iter(text).map(groups).collect()
    }

    /// The same, searched as `extract_gated` does, from `money_search_start`.
    fn money_from_start(x: &EntityExtractor, text: &[u8]) -> Vec<Vec<Option<(usize, usize)>>> {
        x.money_captures(text)
            .map(|c| c.iter().map(|m| m.map(|m| (m.start(), m.end()))).collect())
            .collect()
    }

    #[test]
    fn the_currency_lists_cover_every_currency_of_the_pattern() {
        use regex_syntax::hir::{literal::Extractor, Hir, HirKind};
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(MONEY)
            .unwrap();
        fn group<'h>(h: &'h Hir, name: &str) -> Option<&'h Hir> {
            match h.kind() {
                HirKind::Capture(c) if c.name.as_deref() == Some(name) => Some(&c.sub),
                HirKind::Capture(c) => group(&c.sub, name),
                HirKind::Concat(hs) | HirKind::Alternation(hs) => {
                    hs.iter().find_map(|h| group(h, name))
                }
                HirKind::Repetition(r) => group(&r.sub, name),
                _ => None,
            }
        }
        for (name, listed, covers) in [
            (
                "c1",
                CURRENCY_BEFORE,
                <[u8]>::ends_with as fn(&[u8], &[u8]) -> bool,
            ),
            ("c2", CURRENCY_AFTER, <[u8]>::starts_with),
        ] {
            let sub = group(&hir, name).unwrap();
            let seq = Extractor::new().extract(sub);
            let literals = seq.literals().expect("a finite set of currencies");
            assert!(literals.len() > 15, "{name}: {literals:?}");
            for l in literals {
                assert!(l.is_exact(), "{name}: {l:?}");
                assert!(
                    listed.iter().any(|c| covers(l.as_bytes(), c.as_bytes())),
                    "{name}: {:?} is in the pattern but not in its list",
                    String::from_utf8_lossy(l.as_bytes())
                );
            }
        }
    }

    #[test]
    fn money_search_starts_for_every_currency_on_either_side() {
        let x = EntityExtractor::new();
        // Every currency of the pattern, as written there, before and after an amount.
        let before = "$ us$ usd € eur £ gbp aed sgd cad aud rm myr ₹ inr rs rs. qar sar";
        let after = "$ € £ usd dollar dollars euro euros eur gbp pound pounds dirham dirhams aed \
                     sgd cad aud ringgit myr rm rupee rupees inr riyal riyals qar sar";
        let texts = before
            .split_whitespace()
            .flat_map(|c| [format!("pay {c}500 now"), format!("pay {c} 1,500.50")])
            .chain(after.split_whitespace().flat_map(|c| {
                [
                    format!("pay 500{c}"),
                    format!("3k {c} a week"),
                    format!("9\t{c}"),
                    format!("was 1 000 000.50 {c}"),
                ]
            }));
        for text in texts {
            let found = money_from_start(&x, text.as_bytes());
            assert!(!found.is_empty(), "{text}");
            assert_eq!(found, money_everywhere(&x, text.as_bytes()), "{text}");
        }
        for text in [
            "2 years, 40 hours",
            "item 12a",
            "$ x5",
            "5 x $",
            "",
            "room 5 area",
        ] {
            assert_eq!(money_search_start(text.as_bytes(), 0), None, "{text}");
        }
    }

    #[test]
    fn money_search_finds_every_amount_in_real_ads() {
        let x = EntityExtractor::new();
        let (mut stated, mut searched) = (0, 0);
        for text in crate::test_data::shared_and_sample_texts() {
            let view = normalize(&text);
            let view = view.text().as_bytes();
            let all = money_everywhere(&x, view);
            assert_eq!(money_from_start(&x, view), all, "{text}");
            stated += usize::from(!all.is_empty());
            searched += usize::from(money_search_start(view, 0).is_some());
        }
        // The scan is worth its cost only if it turns most ads away.
        assert!(
            stated > 100 && searched < 2 * stated,
            "{stated} stated, {searched} searched"
        );
    }

    proptest::proptest! {
        #[test]
        fn money_search_finds_every_amount(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "0", "1", "12", "500", "k", " ", "  ", "\t", ",", ".", "-", "to", "a", "x", "s",
                "per", "/", "$", "us$", "usd", "€", "eur", "euros", "£", "gbp", "pounds", "₹",
                "rs", "rs.", "rm", "aed", "dirham", "sar", "riyal", "ringgit", "rupee", "cad",
                "dollar", "month", "net",
            ]), 0..16),
        ) {
            let text = parts.concat();
            let x = EntityExtractor::new();
            proptest::prop_assert_eq!(
                money_from_start(&x, text.as_bytes()),
                money_everywhere(&x, text.as_bytes()),
                "{:?}", text
            );
        }

        #[test]
        fn next_digit_finds_the_first_digit(
            text in proptest::collection::vec(proptest::sample::select(
                b"09/:az \x80\xb0\xb9\xff".to_vec()), 0..40),
            from in 0usize..45,
        ) {
            let want = (from..text.len()).find(|&i| text[i].is_ascii_digit());
            proptest::prop_assert_eq!(next_digit(&text, from), want);
        }
    }

    #[test]
    fn money_amounts() {
        let x = EntityExtractor::new();
        let src = "Earn $2,000 weekly or 5000 euro a month";
        let n = normalize(src);
        let m: Vec<_> = x
            .extract(src, &n)
            .into_iter()
            .filter_map(|e| e.money)
            .collect();
        assert_eq!(m[0].amount, 2000.0);
        assert_eq!(m[0].period, Some("week"));
        assert_eq!(m[1].currency, "EUR");
        assert_eq!(m[1].period, Some("month"));
    }
}
