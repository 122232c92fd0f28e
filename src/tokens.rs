//! Stage 3: sub-word tokens.
//!
//! The vocabulary is trained with the `tokenizers` crate (WordPiece, `Whitespace`
//! pre-tokenizer, no normaliser: the input is already [`normalize`](crate::normalize)d), and the
//! trained tokenizer is stored in the model file. `tokenizers` stays the reference: its `encode`
//! runs at a few MB/s per thread, far too slow for scanning dumps, so scoring uses
//! [`WordPieceMatcher`], a compiled equivalent of the same trained model: the same
//! pre-tokenisation (`\w+|[^\w\s]+`, written as one pass over character classes with the
//! `regex` crate's own Unicode `\w` table), then WordPiece greedy longest match over a byte trie
//! of the vocabulary (double-array form: one array read per byte). Tests prove the two produce
//! identical ids on the sample ads, the shared datasets and random input.

use std::str::FromStr;

use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::pre_tokenizers::whitespace::Whitespace;
use tokenizers::{
    AddedToken, Model, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer, Tokenizer,
    TokenizerImpl,
};

use crate::bytemask::{is_space, set_bits, ByteClasses};
use crate::error::{Error, Result};
use crate::trie::Trie;

/// The unknown-word token of every vocabulary adscreen trains.
pub const UNK: &str = "[UNK]";
const CONTINUATION: &str = "##";
/// WordPiece's default: longer words become one unknown token.
const MAX_INPUT_CHARS_PER_WORD: usize = 100;
/// The pre-tokenisation pattern of `tokenizers::pre_tokenizers::whitespace::Whitespace`, which
/// [`pre_tokenize`] implements (the tests compare the two).
#[cfg(test)]
const WORD_PATTERN: &str = r"\w+|[^\w\s]+";

/// Trains a WordPiece vocabulary of at most `vocab_size` tokens on normalised texts and returns
/// the tokenizer serialised as JSON (the form stored in model files).
///
/// This is `tokenizers`' own WordPiece training (its BPE trainer with the `##` prefix, then
/// `WordPiece::from_bpe`, as `WordPieceTrainer::train` does), fed deterministically: the
/// stock `feed` counts words into a hash map with a random seed, and the trainer numbers
/// sub-words in that map's order, so two runs on the same data pick different merges on ties.
/// Here the words are counted in a map with fixed seeds, filled in sorted order, so a seed and a
/// data set always give the same vocabulary (on a given build and CPU).
pub fn train_tokenizer<'a>(
    texts: impl Iterator<Item = &'a str> + Send,
    vocab_size: usize,
) -> Result<String> {
    let err = |e: tokenizers::Error| Error::Tokenizer(e.to_string());
    let mut counts: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for text in texts {
        let mut pre = PreTokenizedString::from(text);
        Whitespace.pre_tokenize(&mut pre).map_err(err)?;
        for (word, _, _) in pre.get_splits(OffsetReferential::Original, OffsetType::Byte) {
            *counts.entry(word.to_string()).or_default() += 1;
        }
    }
    let mut word_counts: ahash::AHashMap<compact_str::CompactString, u64> =
        ahash::AHashMap::with_capacity_and_hasher(
            counts.len(),
            ahash::RandomState::with_seeds(0x6164, 0x7363, 0x7265, 0x656e),
        );
    for (w, c) in counts {
        word_counts.insert(compact_str::CompactString::from(w), c);
    }
    let trainer = BpeTrainerBuilder::new()
        .vocab_size(vocab_size)
        .min_frequency(2)
        .show_progress(false)
        .continuing_subword_prefix(CONTINUATION.to_string())
        .special_tokens(vec![AddedToken::from(UNK, true)])
        .build();
    let mut bpe = BPE::default();
    let special = trainer.do_train(&word_counts, &mut bpe).map_err(err)?;
    let mut model = WordPiece::from_bpe(&bpe);
    model.unk_token = UNK.to_string();
    let mut tk: TokenizerImpl<
        WordPiece,
        tokenizers::NormalizerWrapper,
        Whitespace,
        tokenizers::PostProcessorWrapper,
        tokenizers::DecoderWrapper,
    > = TokenizerImpl::new(model);
    tk.with_pre_tokenizer(Some(Whitespace));
    tk.add_special_tokens(special).map_err(err)?;
    tk.to_string(false).map_err(err)
}

/// The reference tokenizer, loaded from its JSON. Slow; used by tests and `adscreen` checks,
/// never when scoring.
pub fn reference(json: &str) -> Result<Tokenizer> {
    Tokenizer::from_str(json).map_err(|e| Error::Tokenizer(e.to_string()))
}

/// Token ids of `text` according to the reference tokenizer.
pub fn reference_ids(tokenizer: &Tokenizer, text: &str) -> Result<Vec<u32>> {
    let enc = tokenizer
        .encode(text, false)
        .map_err(|e| Error::Tokenizer(e.to_string()))?;
    Ok(enc.get_ids().to_vec())
}

/// The fields of a serialised tokenizer that say what kind it is; the rest (the vocabulary) is
/// skipped unparsed.
#[derive(serde::Deserialize)]
struct Shape {
    #[serde(default)]
    model: ModelShape,
    #[serde(default)]
    pre_tokenizer: serde_json::Value,
    #[serde(default)]
    normalizer: serde_json::Value,
}

#[derive(serde::Deserialize, Default)]
struct ModelShape {
    #[serde(default, rename = "type")]
    kind: serde_json::Value,
    #[serde(default)]
    continuing_subword_prefix: serde_json::Value,
    #[serde(default)]
    unk_token: serde_json::Value,
    #[serde(default)]
    max_input_chars_per_word: serde_json::Value,
}

/// WordPiece compiled for speed; produces the same ids as the reference tokenizer it was built
/// from.
#[derive(Debug, Clone)]
pub struct WordPieceMatcher {
    /// Every vocabulary entry, for a word's first piece.
    first: Trie,
    /// The `##` entries without their prefix, for the pieces after the first.
    continuation: Trie,
    tokens: Vec<Box<str>>,
    unk: u32,
}

impl WordPieceMatcher {
    /// Compiles the WordPiece model of a tokenizer serialised by [`train_tokenizer`]. Fails when
    /// the tokenizer is not a WordPiece with the `Whitespace` pre-tokenizer, no normaliser, `##`
    /// continuation and an `[UNK]` token: anything else would not be reproduced exactly.
    pub fn from_tokenizer_json(json: &str) -> Result<Self> {
        let tk = reference(json)?;
        // Valid JSON, as `reference` parsed it: a parse failure here is a different shape.
        let ok = serde_json::from_str::<Shape>(json).is_ok_and(|v| {
            let (model, pre) = (&v.model, &v.pre_tokenizer["type"]);
            model.kind == "WordPiece"
                && model.continuing_subword_prefix == CONTINUATION
                && model.unk_token == UNK
                && model.max_input_chars_per_word == MAX_INPUT_CHARS_PER_WORD
                && pre == "Whitespace"
                && v.normalizer.is_null()
        });
        if !ok {
            return Err(Error::Tokenizer(
                "tokenizer is not a WordPiece/Whitespace tokenizer trained by adscreen".into(),
            ));
        }
        let vocab = tk.get_model().get_vocab();
        Self::from_vocab(vocab.into_iter())
    }

    fn from_vocab(vocab: impl Iterator<Item = (String, u32)>) -> Result<Self> {
        let vocab: Vec<(String, u32)> = vocab.collect();
        let mut tokens: Vec<Box<str>> = Vec::new();
        let mut unk = None;
        for (tok, id) in &vocab {
            let idx = *id as usize;
            if tokens.len() <= idx {
                tokens.resize(idx + 1, Box::from(""));
            }
            if tok == UNK {
                unk = Some(*id);
            }
            tokens[idx] = Box::from(tok.as_str());
        }
        let unk = unk.ok_or_else(|| Error::Tokenizer("vocabulary has no [UNK] token".into()))?;
        // The tries take every (entry, id) pair, as the reference's map does: two entries may
        // share an id, and `tokens` keeps only one string per id.
        let entries = || vocab.iter().map(|(t, id)| (t.as_bytes(), *id));
        let first = Trie::new(entries());
        let continuation = Trie::new(entries().filter_map(|(t, id)| {
            t.strip_prefix(CONTINUATION.as_bytes())
                .filter(|rest| !rest.is_empty())
                .map(|rest| (rest, id))
        }));
        Ok(WordPieceMatcher {
            first,
            continuation,
            tokens,
            unk,
        })
    }

    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    /// The token string of an id (`""` for an id outside the vocabulary).
    pub fn token(&self, id: u32) -> &str {
        self.tokens.get(id as usize).map_or("", |t| t)
    }

    /// Appends the token ids of `text` to `out`.
    pub fn encode_into(&self, text: &str, out: &mut Vec<u32>) {
        pre_tokenize(text, |w| self.word(w, out));
    }

    /// Greedy longest-match WordPiece over one pre-tokenised word, as `tokenizers` does it: the
    /// longest entry that starts the rest of the word, again and again; a word with a rest no
    /// entry starts is one unknown token.
    fn word(&self, w: &str, out: &mut Vec<u32>) {
        if w.len() > MAX_INPUT_CHARS_PER_WORD && w.chars().count() > MAX_INPUT_CHARS_PER_WORD {
            out.push(self.unk);
            return;
        }
        let mark = out.len();
        let bytes = w.as_bytes();
        let mut start = 0;
        while start < bytes.len() {
            let trie = if start == 0 {
                &self.first
            } else {
                &self.continuation
            };
            // Entries are whole UTF-8 strings, so a match ends on a character boundary.
            match trie.longest_prefix(&bytes[start..]) {
                Some((len, id)) => {
                    out.push(id);
                    start += len;
                }
                None => {
                    out.truncate(mark);
                    out.push(self.unk);
                    return;
                }
            }
        }
    }
}

/// What `\w+|[^\w\s]+` sees in a character.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CharClass {
    Word,
    Space,
    Other,
}

fn char_class(c: char) -> CharClass {
    if c.is_ascii() {
        if c.is_ascii_alphanumeric() || c == '_' {
            CharClass::Word
        } else if c.is_whitespace() {
            CharClass::Space
        } else {
            CharClass::Other
        }
    } else if regex_syntax::try_is_word_character(c).unwrap_or_else(|_| c.is_alphanumeric()) {
        // The table the `regex` crate's Unicode `\w` uses.
        CharClass::Word
    } else if c.is_whitespace() {
        // Rust's `is_whitespace` is Unicode White_Space, which is `regex`'s `\s`.
        CharClass::Space
    } else {
        CharClass::Other
    }
}

/// Calls `f` on each match of `\w+|[^\w\s]+` in `text`, in order: maximal runs of word
/// characters and maximal runs of characters that are neither word nor space (which is what
/// leftmost-first `\w+|[^\w\s]+` matches).
///
/// A block of 64 bytes that is all ASCII (most blocks, even of ads with a `’` or a `•`) is read
/// as bit masks of its classes, visiting only the places where the class changes; a block that
/// is not is read a character at a time.
fn pre_tokenize(text: &str, mut f: impl FnMut(&str)) {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut current = CharClass::Space;
    let mut i = 0;
    while i < bytes.len() {
        let end = (i + 64).min(bytes.len());
        let block = &bytes[i..end];
        if block.is_ascii() {
            let [word, space] = ASCII_CLASS.masks(block);
            let in_block = u64::MAX >> (64 - block.len());
            let other = !word & !space & in_block;
            // The class of the byte before the block is `current`.
            let word_before = u64::from(current == CharClass::Word);
            let other_before = u64::from(current == CharClass::Other);
            let changes = ((word ^ (word << 1 | word_before))
                | (other ^ (other << 1 | other_before)))
                & in_block;
            for bit in set_bits(changes) {
                let at = i + bit;
                if current != CharClass::Space {
                    f(&text[start..at]);
                }
                start = at;
                current = if word >> bit & 1 == 1 {
                    CharClass::Word
                } else if other >> bit & 1 == 1 {
                    CharClass::Other
                } else {
                    CharClass::Space
                };
            }
            i = end;
            continue;
        }
        // Character by character to the block's end, or just past it when a character
        // straddles it; the next block starts on a character boundary either way.
        while i < end {
            let (class, len) = if bytes[i] < 0x80 {
                (char_class(char::from(bytes[i])), 1)
            } else {
                let c = text.get(i..).and_then(|t| t.chars().next()).unwrap_or(' ');
                (char_class(c), c.len_utf8())
            };
            if class != current {
                if current != CharClass::Space {
                    f(&text[start..i]);
                }
                start = i;
                current = class;
            }
            i += len;
        }
    }
    if current != CharClass::Space {
        f(&text[start..]);
    }
}

/// ASCII word bytes (bit 0) and white space (bit 1), as [`char_class`] sees them, as
/// [`ByteClasses`].
static ASCII_CLASS: ByteClasses<2> = ByteClasses::new({
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'_' {
            t[b] = 1;
        } else if is_space(c) {
            t[b] = 2;
        }
        b += 1;
    }
    t
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_classes_are_char_classes() {
        assert!(ASCII_CLASS.by_nibbles());
        for b in 0..128u8 {
            let want = match char_class(char::from(b)) {
                CharClass::Word => 1,
                CharClass::Space => 2,
                CharClass::Other => 0,
            };
            assert_eq!(ASCII_CLASS.of(b), want, "{b:#x}");
        }
    }

    #[test]
    fn duplicate_ids_keep_every_entry() {
        let m = WordPieceMatcher::from_vocab(
            [("[UNK]", 0), ("ab", 1), ("xy", 1), ("##c", 2)]
                .into_iter()
                .map(|(t, id)| (t.to_string(), id)),
        )
        .unwrap();
        let mut ids = Vec::new();
        m.encode_into("ab xy xyc q", &mut ids);
        assert_eq!(ids, [1, 1, 1, 2, 0]);
    }

    #[test]
    fn pre_tokenize_splits_as_the_pattern_does() {
        let re = regex::Regex::new(WORD_PATTERN).unwrap();
        for t in [
            "earn $5,000/week!! w0rk_now\tстрой-ка  ٣٤ 日本語…ok",
            "",
            "   ",
            "a\u{00A0}b\u{2003}c\u{0085}d\u{200B}e",
            "x\u{0301}y ㄱ🙂🙂z",
        ] {
            let mut ours = Vec::new();
            pre_tokenize(t, |w| ours.push(w.to_string()));
            let theirs: Vec<String> = re.find_iter(t).map(|m| m.as_str().to_string()).collect();
            assert_eq!(ours, theirs, "{t:?}");
        }
    }

    proptest::proptest! {
        /// Blocks read as masks and blocks read a character at a time split as the pattern
        /// does, across block boundaries and characters that straddle them.
        #[test]
        fn pre_tokenize_splits_as_the_pattern_does_across_blocks(
            t in "[a-c0_ .,$/\t\n\r!-]{0,300}|[a-c0_ .,$/\t\n!-]{0,100}([é’•日\u{a0}\u{2003}🙂٣][a-c0 .,!]{0,90}){0,4}",
        ) {
            static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
            let re = RE.get_or_init(|| regex::Regex::new(WORD_PATTERN).unwrap());
            let mut ours = Vec::new();
            pre_tokenize(&t, |w| ours.push(w.to_string()));
            let theirs: Vec<String> = re.find_iter(&t).map(|m| m.as_str().to_string()).collect();
            proptest::prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn compiled_matches_reference_on_small_corpus() {
        let texts = [
            "earn big money working abroad, passport kept on arrival",
            "whatsapp only. new girls every week. incall/outcall 24/7",
            "software engineer, 5 years experience, salary $120,000 per year",
            "работа в москве, жильё предоставляется",
        ];
        let json = train_tokenizer(texts.iter().copied(), 200).unwrap();
        let reference = reference(&json).unwrap();
        let fast = WordPieceMatcher::from_tokenizer_json(&json).unwrap();
        for t in texts
            .iter()
            .chain(["unseen wordsxyz ##weird ☺☺ tokens", ""].iter())
        {
            let mut ids = Vec::new();
            fast.encode_into(t, &mut ids);
            assert_eq!(ids, reference_ids(&reference, t).unwrap(), "{t}");
        }
    }
}
