//! Byte classes of a block of up to 64 bytes as bit masks, eight bytes at a time.
//!
//! Two scans ask a question of every byte of an ad: where words start (the indicator step's
//! anchors) and where numbers may start (phone numbers). Answering a block at a time as a bit
//! mask, then visiting only the set bits, avoids a mispredicted branch per byte; building the
//! mask one bit at a time (`mask |= flag << k`) still cost several instructions per byte. Here
//! eight table lookups make one word, and a multiplication gathers each flag's eight bits.

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

    proptest! {
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
