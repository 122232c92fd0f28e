//! Byte classes of a block of up to 64 bytes as bit masks, eight bytes at a time.
//!
//! Two scans ask a question of every byte of an ad: where words start (the indicator step's
//! anchors) and where numbers may start (phone numbers). Answering a block at a time as a bit
//! mask, then visiting only the set bits, avoids a mispredicted branch per byte; building the
//! mask one bit at a time (`mask |= flag << k`) still cost several instructions per byte. Here
//! eight table lookups make one word, and a multiplication gathers each flag's eight bits.
//!
//! That still cost about four instructions a byte, and six scans read every byte of an ad
//! (13% of all instructions in session 10). A [`ByteClasses`] table whose classes can be read
//! off a byte's two nibbles (most can: each class is a few ranges of ASCII) also holds the two
//! 16-entry tables for that, and on a CPU with AVX2 its masks are found 32 bytes at a time: two
//! shuffles look up both nibbles of every byte, an AND and a compare give each class. A
//! class of bytes `{b : table[b] has flag f}` is read off the nibbles by splitting it into
//! *rectangles*: the high nibbles that share one set of low nibbles. Each rectangle takes one
//! bit of the two tables (at most 16), and a byte is in the class when its two nibbles' entries
//! share one of the class's bits.

/// Whether `b` is ASCII white space as the `regex` crate's `\s` has it: tab, line feed, vertical
/// tab, form feed, carriage return and space (`u8::is_ascii_whitespace` leaves out vertical tab).
/// The normaliser, the tokenizer's pre-tokeniser and the money scan all read spaces as the
/// patterns do.
#[inline]
pub(crate) const fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ')
}

/// `N` masks of `block` (at most 64 bytes): bit `k` of mask `f` is bit `f` of
/// `table[block[k]]`.
///
/// Always inlined: each caller's table and `N` are constants, and when a change elsewhere tipped
/// the compiler into calling it, the scans cost 1.6% more instructions.
#[inline(always)]
pub(crate) fn masks<const N: usize>(block: &[u8], table: &[u8; 256]) -> [u64; N] {
    debug_assert!(block.len() <= 64 && N <= 8);
    let mut out = [0u64; N];
    let mut gather = |group: &[u8], at: usize| {
        let mut x = 0u64;
        for (k, &b) in group.iter().enumerate() {
            x |= u64::from(table[usize::from(b)]) << (8 * k);
        }
        for (f, m) in out.iter_mut().enumerate() {
            *m |= eight_bits(x >> f) << at;
        }
    };
    let mut groups = block.chunks_exact(8);
    for (g, group) in groups.by_ref().enumerate() {
        gather(group, 8 * g);
    }
    let rest = groups.remainder();
    if !rest.is_empty() {
        // Never at 64: a shift by 64 overflows.
        gather(rest, block.len() - rest.len());
    }
    out
}

/// A byte-class table, and the nibble tables that answer it 32 bytes at a time where its
/// classes allow (see the module docs). Build it once: in a `static` (the constructor is a
/// `const fn`) or with the rest of a compiled catalogue.
#[derive(Debug, Clone)]
pub(crate) struct ByteClasses<const N: usize> {
    table: [u8; 256],
    nibbles: Option<Nibbles<N>>,
}

/// The rectangles of a table's classes (see the module docs), in two groups of 8 bits. The
/// 16-entry tables are stored twice over, as AVX2 shuffles look up within each 16-byte half of
/// a register.
#[derive(Debug, Clone, Copy)]
struct Nibbles<const N: usize> {
    lo: [[u8; 32]; 2],
    hi: [[u8; 32]; 2],
    /// Each class's rectangle bits, by group.
    class_bits: [[u8; 2]; N],
    /// Whether the second group holds any rectangle.
    wide: bool,
}

impl<const N: usize> ByteClasses<N> {
    /// Classes `0..N` of `table` (bit `f` of `table[b]`: byte `b` is in class `f`).
    pub(crate) const fn new(table: [u8; 256]) -> Self {
        ByteClasses {
            nibbles: rectangles(&table),
            table,
        }
    }

    /// The flags of one byte.
    #[inline]
    pub(crate) fn of(&self, b: u8) -> u8 {
        self.table[usize::from(b)]
    }

    /// The table itself.
    #[cfg(test)]
    pub(crate) fn table(&self) -> &[u8; 256] {
        &self.table
    }

    /// Whether the nibble tables are there (else masks are always found a byte at a time).
    #[cfg(test)]
    pub(crate) fn by_nibbles(&self) -> bool {
        self.nibbles.is_some()
    }

    /// [`masks`] of `block` (at most 64 bytes) for this table.
    #[inline(always)]
    pub(crate) fn masks(&self, block: &[u8]) -> [u64; N] {
        #[cfg(target_arch = "x86_64")]
        if let Some(nibbles) = &self.nibbles {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2, as just checked.
                return unsafe { avx2::masks(nibbles, block) };
            }
        }
        masks(block, &self.table)
    }
}

/// The nibble tables of classes `0..N` of `table`, or `None` when they need more than 16
/// rectangles.
const fn rectangles<const N: usize>(table: &[u8; 256]) -> Option<Nibbles<N>> {
    let mut n = Nibbles {
        lo: [[0; 32]; 2],
        hi: [[0; 32]; 2],
        class_bits: [[0; 2]; N],
        wide: false,
    };
    let mut next = 0; // the next free rectangle bit, 0..16
    let mut f = 0;
    while f < N {
        // This class's rectangles so far: their low-nibble sets and bits.
        let mut sets = [0u16; 16];
        let mut bits = [0usize; 16];
        let mut count = 0;
        let mut h = 0;
        while h < 16 {
            let mut lows = 0u16;
            let mut l = 0;
            while l < 16 {
                lows |= ((table[h * 16 + l] >> f & 1) as u16) << l;
                l += 1;
            }
            if lows != 0 {
                let mut r = 0;
                while r < count && sets[r] != lows {
                    r += 1;
                }
                if r == count {
                    if next == 16 {
                        return None;
                    }
                    sets[r] = lows;
                    bits[r] = next;
                    count += 1;
                    next += 1;
                    let mut l = 0;
                    while l < 16 {
                        if lows >> l & 1 == 1 {
                            n.lo[bits[r] / 8][l] |= 1 << (bits[r] % 8);
                            n.lo[bits[r] / 8][l + 16] |= 1 << (bits[r] % 8);
                        }
                        l += 1;
                    }
                }
                let bit = bits[r];
                n.hi[bit / 8][h] |= 1 << (bit % 8);
                n.hi[bit / 8][h + 16] |= 1 << (bit % 8);
                n.class_bits[f][bit / 8] |= 1 << (bit % 8);
            }
            h += 1;
        }
        f += 1;
    }
    n.wide = next > 8;
    Some(n)
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::Nibbles;

    /// [`super::masks`] by the nibble tables, 32 bytes at a time.
    #[target_feature(enable = "avx2")]
    pub(super) fn masks<const N: usize>(n: &Nibbles<N>, block: &[u8]) -> [u64; N] {
        let mut out = [0u64; N];
        if block.is_empty() || block.len() > 64 {
            return out;
        }
        // A short block (an ad's last) is read from a copy padded with zeros; the bits of the
        // padding are cleared at the end.
        let mut padded = [0u8; 64];
        let bytes: &[u8; 64] = match block.try_into() {
            Ok(full) => full,
            Err(_) => {
                padded[..block.len()].copy_from_slice(block);
                &padded
            }
        };
        let load = |bytes: &[u8; 32]| {
            // SAFETY: 32 readable bytes; `loadu` has no alignment requirement.
            unsafe { _mm256_loadu_si256(bytes.as_ptr().cast()) }
        };
        let low_nibbles = _mm256_set1_epi8(0x0f);
        let (lo0, hi0) = (load(&n.lo[0]), load(&n.hi[0]));
        let (lo1, hi1) = (load(&n.lo[1]), load(&n.hi[1]));
        for (half, bytes) in bytes.chunks_exact(32).enumerate() {
            let Ok(bytes) = <&[u8; 32]>::try_from(bytes) else {
                continue;
            };
            let v = load(bytes);
            let low = _mm256_and_si256(v, low_nibbles);
            let high = _mm256_and_si256(_mm256_srli_epi16::<4>(v), low_nibbles);
            let rect0 = _mm256_and_si256(
                _mm256_shuffle_epi8(lo0, low),
                _mm256_shuffle_epi8(hi0, high),
            );
            let rect1 = if n.wide {
                _mm256_and_si256(
                    _mm256_shuffle_epi8(lo1, low),
                    _mm256_shuffle_epi8(hi1, high),
                )
            } else {
                _mm256_setzero_si256()
            };
            for (m, bits) in out.iter_mut().zip(&n.class_bits) {
                let hit = _mm256_or_si256(
                    _mm256_and_si256(rect0, _mm256_set1_epi8(bits[0] as i8)),
                    _mm256_and_si256(rect1, _mm256_set1_epi8(bits[1] as i8)),
                );
                let none = _mm256_cmpeq_epi8(hit, _mm256_setzero_si256());
                let found = !(_mm256_movemask_epi8(none) as u32);
                *m |= u64::from(found) << (32 * half);
            }
        }
        let in_block = u64::MAX >> (64 - block.len());
        for m in &mut out {
            *m &= in_block;
        }
        out
    }
}

/// The places of the set bits of `mask`, lowest first: how each scan visits the bytes its
/// masks select.
#[inline]
pub(crate) fn set_bits(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let at = (mask != 0).then(|| mask.trailing_zeros() as usize)?;
        mask &= mask - 1;
        Some(at)
    })
}

/// Bit 0 of each byte of `x`, as the 8 low bits (byte `k` → bit `k`). Multiplying by
/// `GATHER` adds each byte's bit 0 into the top byte at its own place, with no carries.
#[inline]
fn eight_bits(x: u64) -> u64 {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const GATHER: u64 = 0x0102_0408_1020_4080;
    (x & LOW).wrapping_mul(GATHER) >> 56
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn blocks_of_every_length_to_64() {
        // Session 7: a full block once gathered an empty remainder at bit 64, a shift that
        // overflows (caught by the fuzz build, which checks overflow; release builds wrap it).
        let mut table = [0u8; 256];
        table[usize::from(b'x')] = 1;
        for len in 0..=64 {
            let block: Vec<u8> = (0..len)
                .map(|k| if k % 3 == 0 { b'x' } else { b'.' })
                .collect();
            let [mask] = masks(&block, &table);
            let want = (0..len)
                .filter(|k| k % 3 == 0)
                .fold(0u64, |m, k| m | 1 << k);
            assert_eq!(mask, want, "length {len}");
        }
    }

    /// A table of pseudo-random flags (from `seed`) in which each class holds about one byte
    /// in `1 << sparsity`, so that some tables fit the nibble tables and some do not.
    fn random_table(seed: u64, sparsity: u32) -> [u8; 256] {
        let mut t = [0u8; 256];
        let mut x = seed | 1;
        for v in t.iter_mut() {
            for f in 0..3 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *v |= u8::from(x.is_multiple_of(1 << sparsity)) << f;
            }
        }
        t
    }

    /// Random tables, some with nibble tables and some without (both are counted), and a table
    /// of ASCII ranges like the scans' give the table's own masks for every byte value.
    #[test]
    fn nibble_tables_hold_every_byte_class() {
        let check = |classes: &ByteClasses<3>| {
            let all: Vec<u8> = (0..=255).collect();
            for block in all.chunks(64) {
                assert_eq!(classes.masks(block), masks(block, classes.table()));
            }
        };
        let mut by_nibbles = 0;
        for sparsity in 1..8 {
            for seed in 0..50 {
                let classes = ByteClasses::new(random_table(seed, sparsity));
                by_nibbles += usize::from(classes.by_nibbles());
                check(&classes);
            }
        }
        // Both kinds of table were checked.
        assert!((1..350).contains(&by_nibbles), "{by_nibbles} of 350");
        // Ranges of ASCII, as the scans' classes are: within 16 rectangles.
        let mut t = [0u8; 256];
        for b in 0..=255u8 {
            t[usize::from(b)] = u8::from(b.is_ascii_alphanumeric() || b == b'_')
                | u8::from(b.is_ascii_whitespace()) << 1
                | u8::from(b >= 0x80) << 2;
        }
        let classes = ByteClasses::<3>::new(t);
        assert!(classes.by_nibbles());
        check(&classes);
    }

    proptest! {
        /// The nibble tables, where a table has them, give the table's masks on any block.
        #[test]
        fn classes_masks_are_the_tables_masks(
            block in proptest::collection::vec(any::<u8>(), 0..=64),
            seed in any::<u64>(),
            sparsity in 1u32..8,
        ) {
            let classes = ByteClasses::<3>::new(random_table(seed, sparsity));
            prop_assert_eq!(classes.masks(&block), masks(&block, classes.table()));
        }

        #[test]
        fn masks_hold_each_bytes_flags(
            block in proptest::collection::vec(any::<u8>(), 0..=64),
            seed in any::<u64>(),
        ) {
            let mut table = [0u8; 256];
            for (i, t) in table.iter_mut().enumerate() {
                *t = (seed.rotate_left(i as u32 % 64) ^ (i as u64).wrapping_mul(0x9E37_79B9)) as u8;
            }
            let got: [u64; 3] = masks(&block, &table);
            for (f, &mask) in got.iter().enumerate() {
                let mut want = 0u64;
                for (k, &b) in block.iter().enumerate() {
                    want |= u64::from(table[usize::from(b)] >> f & 1) << k;
                }
                prop_assert_eq!(mask, want, "flag {}", f);
            }
        }
    }
}
