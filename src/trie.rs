//! A byte trie in double-array form, built once at load time and read one array cell per byte.
//!
//! Two stages look strings up in one: sub-word [`tokens`](crate::tokens) (the longest
//! vocabulary entry that starts the rest of a word; the hash maps it replaced hashed and
//! compared every candidate piece, longest first: 12% of a scan in session 4) and the
//! [`indicators`](crate::indicators)' literal anchors (every pattern literal that starts at a
//! position of the text).

/// A set of byte strings, each with an id, as a trie in double-array form: the child of the
/// node in cell `s` on byte `b` is cell `t = base(s) + b` if `check(t) == s`, so following a
/// text down the trie reads one cell per byte.
#[derive(Debug, Clone)]
pub(crate) struct Trie {
    cells: Vec<Cell>,
}

#[derive(Debug, Clone, Copy)]
struct Cell {
    base: u32,
    /// The parent's cell, or [`Cell::FREE`].
    check: u32,
    /// The id of the entry ending here, or [`Cell::NO_ID`].
    id: u32,
}

impl Cell {
    const FREE: u32 = u32::MAX;
    const NO_ID: u32 = u32::MAX;
    const EMPTY: Cell = Cell {
        base: 0,
        check: Cell::FREE,
        id: Cell::NO_ID,
    };
}

impl Trie {
    pub(crate) fn new<'a>(entries: impl Iterator<Item = (&'a [u8], u32)>) -> Trie {
        Self::build(entries).0
    }

    /// The trie and how many bases it tried (at most [`Trie::MAX_TRIES`] + 1 per node).
    fn build<'a>(entries: impl Iterator<Item = (&'a [u8], u32)>) -> (Trie, usize) {
        // A plain trie first, then each node's children placed at the lowest base where all
        // their cells are free, breadth first from the root (cell 0). The keys are sorted first
        // (stably: of equal keys the last one given keeps its id), so a node's children arrive
        // in byte order and a child already made is the last one. Flat arrays and a bit set of
        // free cells, not a map per node and a tree set: loading the 30,000-entry vocabulary
        // was a third of start-up's model thread with those (session 7).
        let mut entries: Vec<(&[u8], u32)> = entries.collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        let mut nodes = PlainTrie::default();
        nodes.push();
        for (key, id) in entries {
            let mut n = 0;
            for &b in key {
                n = nodes.child(n, b);
            }
            nodes.id[n] = id;
        }
        let mut cells = vec![Cell::EMPTY];
        let mut tries = 0;
        // The free cells past the root, so that placing a node looks only at free cells.
        let mut free = FreeCells::default();
        let mut queue = std::collections::VecDeque::from([(0usize, 0usize)]);
        while let Some((node, cell)) = queue.pop_front() {
            cells[cell].id = nodes.id[node];
            let Some(first) = nodes.children(node).next().map(|(b, _)| b) else {
                continue;
            };
            // The first child goes to the lowest free cell past `first` where the others fit
            // too, among the first few free cells; else past the last cell, where everything
            // fits. Without the limit, free cells that fit no node's shape pile up in front,
            // and a vocabulary built for it takes quadratic time to load.
            let fits = |base: usize| {
                nodes.children(node).all(|(b, _)| {
                    let at = base + b as usize;
                    at >= cells.len() || free.contains(at)
                })
            };
            let base = free
                .from(first as usize + 1)
                .take(Self::MAX_TRIES)
                .map(|q| q - first as usize)
                .inspect(|_| tries += 1)
                .find(|&base| fits(base))
                .unwrap_or(cells.len().max(first as usize + 1) - first as usize);
            tries += 1;
            let end = base + 256;
            if cells.len() < end {
                free.insert_range(cells.len()..end);
                cells.resize(end, Cell::EMPTY);
            }
            cells[cell].base = base as u32;
            for (b, child) in nodes.children(node) {
                let at = base + b as usize;
                cells[at].check = cell as u32;
                free.remove(at);
                queue.push_back((child, at));
            }
        }
        // Trailing free cells are never reached: a lookup past the end is a miss.
        while cells.len() > 1 && cells.last().is_some_and(|c| c.check == Cell::FREE) {
            cells.pop();
        }
        (Trie { cells }, tries)
    }

    /// Calls `f(len, id)` for every entry that `s` starts with (its length in bytes and its
    /// id), shortest first.
    #[inline]
    pub(crate) fn prefixes(&self, s: &[u8], mut f: impl FnMut(usize, u32)) {
        let mut cell = 0usize;
        for (i, &b) in s.iter().enumerate() {
            let next = self.cells[cell].base as usize + b as usize;
            match self.cells.get(next) {
                Some(c) if c.check == cell as u32 => cell = next,
                _ => return,
            }
            let id = self.cells[cell].id;
            if id != Cell::NO_ID {
                f(i + 1, id);
            }
        }
    }

    /// Whether the trie holds no entry.
    pub(crate) fn is_empty(&self) -> bool {
        self.cells.len() <= 1 && self.cells.first().is_none_or(|c| c.id == Cell::NO_ID)
    }

    /// Free cells tried as the first child's place before placing a node past the end.
    const MAX_TRIES: usize = 64;

    /// The longest non-empty entry that `s` starts with: its length in bytes and its id.
    pub(crate) fn longest_prefix(&self, s: &[u8]) -> Option<(usize, u32)> {
        let mut best = None;
        self.prefixes(s, |len, id| best = Some((len, id)));
        best
    }
}

/// The trie before placement: per node its id and its children as a list in byte order.
#[derive(Default)]
struct PlainTrie {
    id: Vec<u32>,
    first_child: Vec<u32>,
    last_child: Vec<u32>,
    next_sibling: Vec<u32>,
    byte: Vec<u8>,
}

impl PlainTrie {
    const NONE: u32 = u32::MAX;

    fn push(&mut self) -> usize {
        self.id.push(Cell::NO_ID);
        self.first_child.push(Self::NONE);
        self.last_child.push(Self::NONE);
        self.next_sibling.push(Self::NONE);
        self.byte.push(0);
        self.id.len() - 1
    }

    /// The child of `n` on `b`, made if new. Keys come sorted, so a child on `b` made before is
    /// `n`'s last, and a new one comes after all the others.
    fn child(&mut self, n: usize, b: u8) -> usize {
        let last = self.last_child[n];
        if last != Self::NONE && self.byte[last as usize] == b {
            return last as usize;
        }
        let c = self.push();
        self.byte[c] = b;
        if last == Self::NONE {
            self.first_child[n] = c as u32;
        } else {
            self.next_sibling[last as usize] = c as u32;
        }
        self.last_child[n] = c as u32;
        c
    }

    /// The children of `n` in byte order: (byte, node).
    fn children(&self, n: usize) -> impl Iterator<Item = (u8, usize)> + '_ {
        let mut c = self.first_child[n];
        std::iter::from_fn(move || {
            let at = (c != Self::NONE).then_some(c as usize)?;
            c = self.next_sibling[at];
            Some((self.byte[at], at))
        })
    }
}

/// A set of cell indices as bits, remembering the first word that may hold one: cells are
/// only freed at the end of the array, so the words before it stay empty.
#[derive(Default)]
struct FreeCells {
    words: Vec<u64>,
    lowest: usize,
}

impl FreeCells {
    fn contains(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    fn remove(&mut self, i: usize) {
        if let Some(w) = self.words.get_mut(i / 64) {
            *w &= !(1 << (i % 64));
        }
        while self.words.get(self.lowest) == Some(&0) {
            self.lowest += 1;
        }
    }

    fn insert_range(&mut self, r: std::ops::Range<usize>) {
        if self.words.len() < r.end.div_ceil(64) {
            self.words.resize(r.end.div_ceil(64), 0);
        }
        for i in r.clone() {
            self.words[i / 64] |= 1 << (i % 64);
        }
        self.lowest = self.lowest.min(r.start / 64);
    }

    /// The cells in the set at or past `start`, in increasing order.
    fn from(&self, start: usize) -> impl Iterator<Item = usize> + '_ {
        let mut w = (start / 64).max(self.lowest);
        let mut bits = self.words.get(w).map_or(0, |&b| {
            if w == start / 64 {
                b & (u64::MAX << (start % 64))
            } else {
                b
            }
        });
        std::iter::from_fn(move || loop {
            if bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                return Some(i);
            }
            w += 1;
            bits = *self.words.get(w)?;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn free_cells_list_what_a_tree_set_would(
            ops in proptest::collection::vec((0usize..700, 0usize..300, proptest::bool::ANY), 1..60),
        ) {
            let mut cells = FreeCells::default();
            let mut model = std::collections::BTreeSet::new();
            for (at, len, insert) in ops {
                if insert {
                    cells.insert_range(at..at + len);
                    model.extend(at..at + len);
                } else {
                    cells.remove(at);
                    model.remove(&at);
                }
                for start in [0, at, at + 1, at + 63, at + 64] {
                    let got: Vec<usize> = cells.from(start).take(70).collect();
                    let want: Vec<usize> = model.range(start..).take(70).copied().collect();
                    proptest::prop_assert_eq!(got, want);
                }
                proptest::prop_assert_eq!(cells.contains(at), model.contains(&at));
            }
        }
    }

    #[test]
    fn trie_load_stays_linear_on_a_vocabulary_built_against_it() {
        // Review, session 5: distinct CJK prefixes each followed by three bytes, a shape that
        // leaves free cells no later node fits. Searching all free cells tried ~0.21·n² bases.
        let keys: Vec<Vec<u8>> = (0..8000u32)
            .flat_map(|k| {
                let prefix = char::from_u32(0x4E00 + k)
                    .map(String::from)
                    .unwrap_or_default();
                [0x01, 0x40 + (k % 63) as u8, 0x7F].map(|b| {
                    let mut key = prefix.clone().into_bytes();
                    key.push(b);
                    key
                })
            })
            .collect();
        let (trie, tries) = Trie::build(keys.iter().zip(0..).map(|(k, id)| (k.as_slice(), id)));
        let nodes = keys.len() * 2; // generous: the prefixes share their first bytes
        assert!(tries <= nodes * (Trie::MAX_TRIES + 1), "{tries} tries");
        for (key, id) in keys.iter().zip(0..) {
            assert_eq!(trie.longest_prefix(key), Some((key.len(), id)));
        }
    }

    #[test]
    fn trie_finds_the_longest_entry_a_text_starts_with() {
        let entries: [(&[u8], u32); 7] = [
            (b"a", 0),
            (b"ab", 1),
            (b"abcd", 2),
            (b"b", 3),
            (b"\x00", 4),
            (b"\xff\xfe", 5),
            ("жи".as_bytes(), 6),
        ];
        let trie = Trie::new(entries.iter().copied());
        for (text, want) in [
            (&b"abc"[..], Some((2, 1))),
            (b"abcde", Some((4, 2))),
            (b"a", Some((1, 0))),
            (b"ba", Some((1, 3))),
            (b"c", None),
            (b"", None),
            (b"\x00\x00", Some((1, 4))),
            (b"\xff", None),
            (b"\xff\xfe\xff", Some((2, 5))),
            ("жил".as_bytes(), Some((4, 6))),
            ("ж".as_bytes(), None),
        ] {
            assert_eq!(trie.longest_prefix(text), want, "{text:?}");
        }
    }
}
