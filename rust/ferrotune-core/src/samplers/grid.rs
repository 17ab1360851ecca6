//! Grid search order: every grid point once, in an order shuffled by the seed
//! (as Optuna's GridSampler, which picks unvisited points at random), in
//! memory independent of the grid's size.
//!
//! The order is a keyed pseudo-random permutation of `[0, n)` computed by
//! arithmetic, never stored: a balanced Feistel network on `2h`-bit integers
//! (`4^h >= n`, `h <= 64`, so grids of up to `2^128 - 1` points; a Feistel network is a bijection whatever its round function,
//! Luby and Rackoff 1988) restricted to `[0, n)` by cycle walking (apply the
//! network again until the value falls inside the range; Black and Rogaway
//! 2002, "Ciphers with arbitrary finite domains", section 2). Because
//! `4^h < 4n`, a walk takes fewer than 4 steps on average. The `c`-th point
//! handed out is `perm(c)`; points marked visited out of turn (trials from a
//! resumed study or another worker) are kept in a sparse set of positions.
//! An affine map `i -> (a i + b) mod n` would be cheaper but visits the grid in
//! arithmetic progressions, which a mixed-radix grid shows as regular stripes.

use std::collections::BTreeSet;

/// Feistel rounds: more than the four of Luby and Rackoff's construction.
const ROUNDS: usize = 6;

/// SplitMix64's output function (Steele, Lea and Flood 2014): a bijective mixer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seeded bijection of `[0, n)` onto itself, evaluated in O(1) expected time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permutation {
    n: u128,
    half_bits: u32,
    keys: [u64; ROUNDS],
}

impl Permutation {
    /// The permutation of `[0, n)` keyed by `seed`.
    pub fn new(n: u128, seed: u64) -> Self {
        // Smallest h >= 1 with 4^h >= n (h <= 64 for any u128).
        let bits = 128 - n.saturating_sub(1).leading_zeros();
        let half_bits = bits.div_ceil(2).max(1);
        let mut keys = [0u64; ROUNDS];
        let mut s = seed;
        for k in &mut keys {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            *k = mix(s);
        }
        Permutation { n, half_bits, keys }
    }

    /// Size of the domain.
    pub fn len(&self) -> u128 {
        self.n
    }

    /// True for the empty domain.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    fn mask(&self) -> u64 {
        u64::MAX >> (64 - self.half_bits)
    }

    fn round(&self, r: usize, half: u64) -> u64 {
        mix(half ^ self.keys[r]) & self.mask()
    }

    fn split(&self, x: u128) -> (u64, u64) {
        let h = self.half_bits;
        // Both halves have at most h <= 64 bits.
        ((x >> h) as u64, (x as u64) & self.mask())
    }

    fn join(&self, l: u64, r: u64) -> u128 {
        (u128::from(l) << self.half_bits) | u128::from(r)
    }

    fn feistel(&self, x: u128) -> u128 {
        let (mut l, mut r) = self.split(x);
        for k in 0..ROUNDS {
            (l, r) = (r, l ^ self.round(k, r));
        }
        self.join(l, r)
    }

    fn feistel_inv(&self, y: u128) -> u128 {
        let (mut l, mut r) = self.split(y);
        for k in (0..ROUNDS).rev() {
            (l, r) = (r ^ self.round(k, l), l);
        }
        self.join(l, r)
    }

    /// The image of `x < n`.
    pub fn apply(&self, x: u128) -> u128 {
        debug_assert!(x < self.n);
        let mut y = self.feistel(x);
        while y >= self.n {
            y = self.feistel(y);
        }
        y
    }

    /// The preimage of `y < n`.
    pub fn invert(&self, y: u128) -> u128 {
        debug_assert!(y < self.n);
        let mut x = self.feistel_inv(y);
        while x >= self.n {
            x = self.feistel_inv(x);
        }
        x
    }
}

/// Hands out each of `n` grid indices once, in a seeded random order.
#[derive(Debug, Clone, PartialEq)]
pub struct GridOrder {
    perm: Permutation,
    seed: u64,
    /// Positions `< cursor` of the order have been handed out.
    cursor: u128,
    /// Positions `>= cursor` already visited out of turn.
    skipped: BTreeSet<u128>,
}

impl GridOrder {
    /// A shuffled order of `0..n`.
    pub fn new(n: u128, seed: u64) -> Self {
        GridOrder {
            perm: Permutation::new(n, seed),
            seed,
            cursor: 0,
            skipped: BTreeSet::new(),
        }
    }

    /// The next unvisited index, or `None` when the grid is exhausted.
    pub fn next_index(&mut self) -> Option<u128> {
        while self.cursor < self.perm.len() {
            let pos = self.cursor;
            self.cursor += 1;
            if !self.skipped.remove(&pos) {
                return Some(self.perm.apply(pos));
            }
        }
        None
    }

    /// Marks index `i < n` as visited (a trial enqueued or loaded elsewhere);
    /// returns false when it already was.
    pub fn mark_visited(&mut self, i: u128) -> bool {
        let pos = self.perm.invert(i);
        pos >= self.cursor && self.skipped.insert(pos)
    }

    /// True when index `i < n` has been handed out or marked.
    pub fn is_visited(&self, i: u128) -> bool {
        let pos = self.perm.invert(i);
        pos < self.cursor || self.skipped.contains(&pos)
    }

    /// Number of indices not yet handed out.
    pub fn remaining(&self) -> u128 {
        self.perm.len() - self.cursor - self.skipped.len() as u128
    }

    /// Total number of grid points.
    pub fn len(&self) -> u128 {
        self.perm.len()
    }

    /// True for an empty grid.
    pub fn is_empty(&self) -> bool {
        self.perm.is_empty()
    }

    /// The state needed to continue the order: (n, seed, cursor, skipped positions).
    pub fn state(&self) -> (u128, u64, u128, Vec<u128>) {
        (
            self.perm.len(),
            self.seed,
            self.cursor,
            self.skipped.iter().copied().collect(),
        )
    }

    /// Restores a state from [`GridOrder::state`]; `None` when it is inconsistent.
    pub fn from_state(n: u128, seed: u64, cursor: u128, skipped: &[u128]) -> Option<Self> {
        if cursor > n || skipped.iter().any(|&p| p < cursor || p >= n) {
            return None;
        }
        Some(GridOrder {
            perm: Permutation::new(n, seed),
            seed,
            cursor,
            skipped: skipped.iter().copied().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The permutation checked against its definition: a bijection of [0, n)
    /// whose inverse undoes it, for sizes around the powers of four.
    #[test]
    fn permutation_is_a_bijection_with_its_inverse() {
        for n in [1u128, 2, 3, 4, 5, 15, 16, 17, 63, 64, 65, 1000, 4097] {
            for seed in [0u64, 7, u64::MAX] {
                let p = Permutation::new(n, seed);
                let mut seen = vec![false; n as usize];
                for x in 0..n {
                    let y = p.apply(x);
                    assert!(y < n);
                    assert!(!seen[y as usize], "n={n} seed={seed}: {y} twice");
                    seen[y as usize] = true;
                    assert_eq!(p.invert(y), x);
                }
            }
        }
    }

    #[test]
    fn huge_domains_need_no_memory() {
        for n in [u128::MAX, 1 << 64, u128::from(u64::MAX), 10u128.pow(20) + 7] {
            let mut g = GridOrder::new(n, 3);
            let first: Vec<u128> = (0..1000).map(|_| g.next_index().unwrap()).collect();
            let distinct: std::collections::HashSet<_> = first.iter().collect();
            assert_eq!(distinct.len(), 1000);
            assert!(first.iter().all(|&i| i < n));
            assert_eq!(g.remaining(), n - 1000);
            for &i in &first {
                assert!(g.is_visited(i));
            }
        }
    }

    #[test]
    fn every_index_once() {
        let mut g = GridOrder::new(50, 3);
        assert!(g.mark_visited(7));
        assert!(!g.mark_visited(7));
        assert_eq!(g.remaining(), 49);
        let mut seen: Vec<u128> = std::iter::from_fn(|| g.next_index()).collect();
        assert_eq!(seen.len(), 49);
        assert_eq!(g.remaining(), 0);
        seen.push(7);
        seen.sort_unstable();
        assert_eq!(seen, (0..50).collect::<Vec<_>>());
        // The seed sets the order.
        let order = |seed| {
            let mut g = GridOrder::new(50, seed);
            std::iter::from_fn(move || g.next_index()).collect::<Vec<_>>()
        };
        assert_eq!(order(3), order(3));
        assert_ne!(order(3), order(4));
    }

    #[test]
    fn state_round_trip_continues_the_order() {
        let mut g = GridOrder::new(100, 9);
        for _ in 0..30 {
            g.next_index();
        }
        let later = (0..100).find(|&i| !g.is_visited(i)).unwrap();
        g.mark_visited(later);
        let (n, seed, cursor, skipped) = g.state();
        let mut h = GridOrder::from_state(n, seed, cursor, &skipped).unwrap();
        assert_eq!(h, g);
        let rest_g: Vec<_> = std::iter::from_fn(|| g.next_index()).collect();
        let rest_h: Vec<_> = std::iter::from_fn(|| h.next_index()).collect();
        assert_eq!(rest_g, rest_h);
        assert!(!rest_h.contains(&later));
        assert!(GridOrder::from_state(10, 0, 11, &[]).is_none());
        assert!(GridOrder::from_state(10, 0, 5, &[4]).is_none());
    }
}
