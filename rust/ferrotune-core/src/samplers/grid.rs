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

use std::cmp::Ordering;
use std::collections::BTreeSet;

use crate::constraints::{Accept, SearchSpace};
use crate::error::{Error, Result};

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

    /// The preimage of `y`, or None when `y >= n` (the walk would not end).
    pub fn invert(&self, y: u128) -> Option<u128> {
        if y >= self.n {
            return None;
        }
        let mut x = self.feistel_inv(y);
        while x >= self.n {
            x = self.feistel_inv(x);
        }
        Some(x)
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

    /// Marks index `i` as visited (a trial enqueued or loaded elsewhere);
    /// returns false when it already was or is not an index (`i >= n`).
    pub fn mark_visited(&mut self, i: u128) -> bool {
        let Some(pos) = self.perm.invert(i) else {
            return false;
        };
        pos >= self.cursor && self.skipped.insert(pos)
    }

    /// True when index `i` has been handed out or marked (false for `i >= n`).
    pub fn is_visited(&self, i: u128) -> bool {
        let Some(pos) = self.perm.invert(i) else {
            return false;
        };
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

    /// The next unvisited index that `fits` accepts, or `None` when the
    /// grid is exhausted; the indices it refuses are consumed. An error of
    /// `fits` is returned (the refused indices stay consumed).
    pub fn next_fitting(
        &mut self,
        mut fits: impl FnMut(u128) -> Result<bool>,
    ) -> Result<Option<u128>> {
        while let Some(i) = self.next_index() {
            if fits(i)? {
                return Ok(Some(i));
            }
        }
        Ok(None)
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

/// The mixed-radix numbering of a cartesian grid: the point whose
/// parameters take the values at positions `k_0, ..., k_{d-1}` (`k_j <
/// counts[j]`) has index `sum_j k_j prod_{l > j} counts[l]`, the first
/// parameter varying slowest. Grids of up to `2^128 - 1` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Radix {
    counts: Vec<u64>,
    len: u128,
}

impl Radix {
    /// The numbering of the grid with `counts[j]` values of parameter `j`;
    /// an error when a count is 0 or the grid has `2^128` points or more.
    pub fn new(counts: Vec<u64>) -> Result<Self> {
        if let Some(j) = counts.iter().position(|&c| c == 0) {
            return Err(Error::InvalidArgument(format!(
                "grid parameter {j} has no values"
            )));
        }
        let len = counts
            .iter()
            .try_fold(1u128, |acc, &c| acc.checked_mul(u128::from(c)))
            .ok_or_else(|| {
                Error::InvalidArgument(
                    "the grid has 2**128 points or more: use fewer values".into(),
                )
            })?;
        Ok(Radix { counts, len })
    }

    /// Number of grid points.
    pub fn len(&self) -> u128 {
        self.len
    }

    /// Always false: every count is at least 1 (a grid of no parameters has
    /// one point, the empty one).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The positions of point `index`, or None when `index >= len()`.
    pub fn decode(&self, mut index: u128) -> Option<Vec<u64>> {
        if index >= self.len {
            return None;
        }
        let mut out = vec![0; self.counts.len()];
        for (k, &c) in out.iter_mut().zip(&self.counts).rev() {
            let c = u128::from(c);
            // k < c <= u64::MAX.
            *k = (index % c) as u64;
            index /= c;
        }
        Some(out)
    }

    /// The index of the point at `positions`, or None when there is not one
    /// position per parameter, each below its count.
    pub fn encode(&self, positions: &[u64]) -> Option<u128> {
        if positions.len() != self.counts.len() {
            return None;
        }
        let mut i = 0u128;
        for (&k, &c) in positions.iter().zip(&self.counts) {
            if k >= c {
                return None;
            }
            // i < len / (product of the remaining counts), so no overflow.
            i = i * u128::from(c) + u128::from(k);
        }
        Some(i)
    }
}

/// The points of a grid, numbered from 0: a cartesian product (a point is
/// the positions of its values, as f64) or rows listed one after another (a
/// declared space's feasible configurations, sorted as
/// [`SearchSpace::enumerate_grid_with`] lists them; NaN = inactive).
#[derive(Debug, Clone, PartialEq)]
pub enum GridPoints {
    Product(Radix),
    Rows { width: usize, values: Vec<f64> },
}

/// Sort key of a grid row's value: inactive (NaN) before every value.
fn row_key(v: f64) -> f64 {
    if v.is_nan() {
        f64::NEG_INFINITY
    } else {
        v
    }
}

/// Lexicographic order of two rows by [`row_key`] (None when a key is
/// unordered, which `row_key` excludes).
fn compare_rows(a: &[f64], b: &[f64]) -> Option<Ordering> {
    for (&x, &y) in a.iter().zip(b) {
        match row_key(x).partial_cmp(&row_key(y))? {
            Ordering::Equal => continue,
            o => return Some(o),
        }
    }
    Some(a.len().cmp(&b.len()))
}

impl GridPoints {
    /// Number of points.
    pub fn len(&self) -> u128 {
        match self {
            GridPoints::Product(r) => r.len(),
            GridPoints::Rows { width: 0, .. } => 0,
            GridPoints::Rows { width, values } => (values.len() / width) as u128,
        }
    }

    /// True when there is no point.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Point `i`, or None when `i >= len()`.
    pub fn point(&self, i: u128) -> Option<Vec<f64>> {
        match self {
            GridPoints::Product(r) => Some(r.decode(i)?.into_iter().map(|k| k as f64).collect()),
            GridPoints::Rows { width, values } => {
                if i >= self.len() {
                    return None;
                }
                // i < len = values.len() / width: no overflow.
                let i = usize::try_from(i).ok()?;
                values.get(i * width..(i + 1) * width).map(<[f64]>::to_vec)
            }
        }
    }

    /// The number of `point`, or None when it is not a point of the grid.
    pub fn index_of(&self, point: &[f64]) -> Option<u128> {
        match self {
            GridPoints::Product(r) => {
                let mut k = Vec::with_capacity(point.len());
                for &p in point {
                    if !(p >= 0.0 && p.fract() == 0.0 && p < u64::MAX as f64) {
                        return None;
                    }
                    k.push(p as u64);
                }
                r.encode(&k)
            }
            GridPoints::Rows { width, values } => {
                if point.len() != *width || *width == 0 {
                    return None;
                }
                // The rows are sorted by `row_key`: binary search, comparing
                // the rows in place.
                let row = |i: usize| &values[i * width..(i + 1) * width];
                let (mut lo, mut hi) = (0, values.len() / width);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    match compare_rows(row(mid), point) {
                        Some(Ordering::Less) => lo = mid + 1,
                        Some(Ordering::Equal) => return Some(mid as u128),
                        Some(Ordering::Greater) => hi = mid,
                        // Never: `row_key` maps NaN to -inf.
                        None => return None,
                    }
                }
                None
            }
        }
    }
}

/// One parameter of a declared space as a grid holds it: the grid's column,
/// the column's values (sorted) and the space's internal value of each (NaN
/// where the space's distribution has no such value).
#[derive(Debug, Clone, PartialEq)]
pub struct FitColumn {
    pub column: usize,
    pub keys: Vec<f64>,
    pub values: Vec<f64>,
}

/// Reads grid points as configurations of a declared space (the space of
/// `study.ask(space)` with a grid sampler).
#[derive(Debug, Clone, PartialEq)]
pub struct GridFit {
    /// For each parameter of the space, where the grid holds it (None: the
    /// grid does not, and the parameter is sampled when the trial asks).
    pub columns: Vec<Option<FitColumn>>,
    /// Of the points that differ only in columns the space makes inactive,
    /// only the one whose inactive columns hold key 0 fits (a product grid's
    /// first values), so that each configuration is handed out once.
    pub dedup: bool,
}

impl GridFit {
    /// True when grid point `point` (NaN: the grid does not set that column)
    /// is a valid configuration of `space` that `accept` takes and no other
    /// point duplicates. A point that leaves an active parameter of the space
    /// to the ask fits without further checks. An error when a column is not
    /// one of the point's.
    pub fn fits(&self, space: &SearchSpace, point: &[f64], accept: Accept<'_>) -> Result<bool> {
        let mut row: Vec<f64> = Vec::with_capacity(self.columns.len());
        for (p, col) in space.params().iter().zip(&self.columns) {
            let active = match &p.condition {
                None => true,
                Some(c) => c.holds(space.params(), &row),
            };
            let key = match col {
                None => f64::NAN,
                Some(c) => *point.get(c.column).ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "grid column {} of parameter {:?} is not a column of a grid point of \
                         width {}",
                        c.column,
                        p.name,
                        point.len()
                    ))
                })?,
            };
            if !active {
                if self.dedup && !key.is_nan() && key != 0.0 {
                    return Ok(false);
                }
                row.push(f64::NAN);
                continue;
            }
            let Some(col) = col.as_ref().filter(|_| !key.is_nan()) else {
                return Ok(true);
            };
            let at = col.keys.partition_point(|&k| k < key);
            match col.keys.get(at) {
                Some(&k) if k == key && !col.values[at].is_nan() => row.push(col.values[at]),
                _ => return Ok(false),
            }
        }
        Ok(space.is_valid(&row) && accept(&row)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn radix_round_trips_on_random_grids() {
        let mut rng = Rng::new(12);
        for _ in 0..2000 {
            let d = 1 + rng.below(6) as usize;
            // Counts from 1 to 2^20, some of them huge.
            let counts: Vec<u64> = (0..d)
                .map(|_| {
                    let bits = 1 + rng.below(20);
                    1 + rng.below(1 << bits)
                })
                .collect();
            let r = Radix::new(counts.clone()).unwrap();
            assert_eq!(
                r.len(),
                counts.iter().map(|&c| u128::from(c)).product::<u128>()
            );
            for _ in 0..20 {
                let i = (u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64())) % r.len();
                let k = r.decode(i).unwrap();
                assert!(k.iter().zip(&counts).all(|(k, c)| k < c));
                assert_eq!(r.encode(&k), Some(i));
            }
            let k: Vec<u64> = counts.iter().map(|&c| rng.below(c)).collect();
            assert_eq!(r.decode(r.encode(&k).unwrap()).unwrap(), k);
            assert_eq!(r.decode(r.len()), None);
        }
    }

    #[test]
    fn radix_reaches_two_to_the_128_minus_one() {
        // 2^128 - 1 = (2^64 - 1)(2^64 + 1) = 3 * 5 * 17 * 257 * 641 * 65537 * 274177
        // * 6700417 * 67280421310721.
        let counts = vec![3, 5, 17, 257, 641, 65537, 274177, 6700417, 67280421310721];
        let r = Radix::new(counts.clone()).unwrap();
        assert_eq!(r.len(), u128::MAX);
        let last: Vec<u64> = counts.iter().map(|c| c - 1).collect();
        assert_eq!(r.decode(u128::MAX - 1), Some(last.clone()));
        assert_eq!(r.encode(&last), Some(u128::MAX - 1));
        assert_eq!(r.decode(u128::MAX), None);
        let mut rng = Rng::new(3);
        for _ in 0..1000 {
            let i = u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64());
            let i = i.min(u128::MAX - 1);
            assert_eq!(r.encode(&r.decode(i).unwrap()), Some(i));
        }
        // One more point overflows.
        let mut more = counts;
        more[0] = 4;
        assert!(matches!(Radix::new(more), Err(Error::InvalidArgument(_))));
        assert!(Radix::new(vec![2, 0]).is_err());
        assert_eq!(r.encode(&[0; 3]), None);
    }

    #[test]
    fn next_fitting_skips_and_consumes_refused_indices() {
        let mut g = GridOrder::new(100, 4);
        let mut seen = Vec::new();
        while let Some(i) = g.next_fitting(|i| Ok(i % 3 == 0)).unwrap() {
            seen.push(i);
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..100).filter(|i| i % 3 == 0).collect::<Vec<_>>());
        assert_eq!(g.remaining(), 0);
        let mut g = GridOrder::new(10, 4);
        let e = Error::InvalidArgument("x".into());
        assert_eq!(g.next_fitting(|_| Err(e.clone())), Err(e));
        assert_eq!(g.remaining(), 9);
    }

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
                    assert_eq!(p.invert(y), Some(x));
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

    #[test]
    fn grid_points_map_back_to_their_index() {
        let product = GridPoints::Product(Radix::new(vec![3, 1, 4]).unwrap());
        for i in 0..product.len() {
            assert_eq!(product.index_of(&product.point(i).unwrap()), Some(i));
        }
        assert_eq!(product.index_of(&[0.5, 0.0, 0.0]), None);
        assert_eq!(product.index_of(&[3.0, 0.0, 0.0]), None);
        let nan = f64::NAN;
        let rows = GridPoints::Rows {
            width: 2,
            values: vec![0.0, nan, 1.0, 2.0, 1.0, 3.0, 2.0, nan],
        };
        assert_eq!(rows.len(), 4);
        for i in 0..4 {
            assert_eq!(rows.index_of(&rows.point(i).unwrap()), Some(i));
        }
        assert_eq!(rows.index_of(&[1.0, nan]), None);
        assert_eq!(rows.point(4), None);
    }

    #[test]
    fn grid_fit_reads_points_as_configurations() {
        use crate::constraints::Constraint;
        use crate::space::{Condition, Distribution, Param};
        // kind in {0, 1}; x (int 0..3) only when kind = 0; x <= 2.
        let kind = Param {
            name: "kind".into(),
            dist: Distribution::categorical("kind", 2).unwrap(),
            condition: None,
            choice_values: Some(vec![None, None]),
        };
        let x = Param {
            name: "x".into(),
            dist: Distribution::int("x", 0, 3, 1, false).unwrap(),
            condition: Some(Condition {
                parent: 0,
                values: vec![0.0],
            }),
            choice_values: None,
        };
        let cons = vec![Constraint::Linear {
            terms: vec![(1, 1.0)],
            rhs: 2.0,
        }];
        let space = SearchSpace::new(vec![kind, x], cons).unwrap();
        // A product grid: column 0 = x with values [0, 1, 3, 7], column 1 = kind.
        let fit = GridFit {
            columns: vec![
                Some(FitColumn {
                    column: 1,
                    keys: vec![0.0, 1.0],
                    values: vec![0.0, 1.0],
                }),
                Some(FitColumn {
                    column: 0,
                    keys: vec![0.0, 1.0, 2.0, 3.0],
                    values: vec![0.0, 1.0, 3.0, f64::NAN],
                }),
            ],
            dedup: true,
        };
        let yes = &mut |_: &[f64]| Ok(true);
        let fits = |p: [f64; 2], a: Accept<'_>| fit.fits(&space, &p, a).unwrap();
        assert!(fits([0.0, 0.0], yes));
        assert!(fits([1.0, 0.0], yes));
        assert!(!fits([2.0, 0.0], yes), "x = 3 violates x <= 2");
        assert!(!fits([3.0, 0.0], yes), "7 is no value of x");
        assert!(
            fits([0.0, 1.0], yes),
            "kind = 1, x inactive at its first value"
        );
        assert!(!fits([1.0, 1.0], yes), "a duplicate of [0, 1]");
        assert!(!fits([0.0, 0.0], &mut |_| Ok(false)));
        let mut seen = Vec::new();
        let e = fit.fits(&space, &[0.0, 0.0], &mut |r| {
            seen.push(r.to_vec());
            Err(Error::InvalidArgument("stop".into()))
        });
        assert!(e.is_err());
        assert_eq!(seen, vec![vec![0.0, 0.0]]);
    }

    #[test]
    fn out_of_range_indices_are_refused_not_looped_on() {
        // n == 0: the inverse walk of any index would never end.
        let mut empty = GridOrder::new(0, 1);
        assert_eq!(Permutation::new(0, 1).invert(0), None);
        assert!(!empty.mark_visited(0));
        assert!(!empty.is_visited(0));
        let mut g = GridOrder::new(10, 3);
        assert_eq!(Permutation::new(10, 3).invert(10), None);
        assert!(!g.mark_visited(10));
        assert!(!g.is_visited(u128::MAX));
        assert_eq!(g.remaining(), 10);
    }

    #[test]
    fn rows_grid_points_out_of_range_are_none() {
        let rows = GridPoints::Rows {
            width: 2,
            values: vec![0.0, 1.0, 2.0, 3.0],
        };
        assert_eq!(rows.point(1), Some(vec![2.0, 3.0]));
        for i in [2, u64::MAX as u128, u128::MAX, usize::MAX as u128 / 2 + 1] {
            assert_eq!(rows.point(i), None, "point {i}");
        }
        let empty = GridPoints::Rows {
            width: 0,
            values: vec![],
        };
        assert_eq!(empty.len(), 0);
        assert_eq!(empty.point(0), None);
        assert_eq!(empty.point(5), None);
    }

    #[test]
    fn grid_fit_column_outside_the_point_is_an_error() {
        use crate::space::{Distribution, Param};
        let x = Param {
            name: "x".into(),
            dist: Distribution::int("x", 0, 3, 1, false).unwrap(),
            condition: None,
            choice_values: None,
        };
        let space = SearchSpace::new(vec![x], vec![]).unwrap();
        let fit = GridFit {
            columns: vec![Some(FitColumn {
                column: 2,
                keys: vec![0.0, 1.0],
                values: vec![0.0, 1.0],
            })],
            dedup: false,
        };
        let r = fit.fits(&space, &[0.0, 1.0], &mut |_: &[f64]| Ok(true));
        assert!(
            matches!(&r, Err(Error::InvalidArgument(m)) if m.contains("\"x\"")),
            "{r:?}"
        );
    }
}
