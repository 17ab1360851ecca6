//! Quasi-Monte Carlo sampling: Sobol (Joe & Kuo 2008 direction numbers, the
//! "new-joe-kuo-6" set, up to 1000 dimensions) and Halton sequences.
//!
//! Scrambling (on by default):
//! - Sobol: linear matrix scrambling plus a digital shift (Matoušek 1998,
//!   "On the L2-discrepancy for anchored boxes"; the scheme scipy.stats.qmc.Sobol
//!   uses): each dimension's direction numbers are multiplied by a random lower
//!   triangular binary matrix with unit diagonal, and the points XOR-ed with a
//!   random shift. The points are taken in Gray-code order, as in scipy.
//! - Halton: a random permutation of the digits 0..b-1 for every digit position
//!   of every dimension (Owen-type random-permutation scrambling), over as many
//!   digits as resolve 53 bits.
//!
//! Unscrambled Sobol starts with the all-zero point, as the sequence does.

use std::sync::OnceLock;

use sobol::params::JoeKuoD6;
use sobol::Sobol;

use super::{expect_words, rng_from_words, rng_words, Sampler, SamplerState};
use crate::constraints::{Accept, SearchSpace};
use crate::error::{Error, Result};
use crate::history::History;
use crate::rng::Rng;
use crate::space::Distribution;

/// Bits of resolution of the Sobol points.
const SOBOL_BITS: usize = 32;
/// Largest Sobol dimension with direction numbers.
pub const SOBOL_MAX_DIMS: usize = 1000;
/// Largest Halton dimension (its bases are the first primes, computed).
pub const HALTON_MAX_DIMS: usize = 10_000;
/// Largest scrambled Halton dimension: its digit permutations take memory
/// growing as the sum of the bases (about 280 MB at this size).
pub const HALTON_SCRAMBLED_MAX_DIMS: usize = 2_000;

fn joe_kuo() -> &'static JoeKuoD6 {
    static PARAMS: OnceLock<JoeKuoD6> = OnceLock::new();
    PARAMS.get_or_init(JoeKuoD6::standard)
}

/// Which low-discrepancy sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QmcKind {
    Sobol,
    Halton,
}

/// A low-discrepancy sequence generator over [0, 1)^d.
#[derive(Debug, Clone, PartialEq)]
pub struct QmcSequence {
    kind: QmcKind,
    dim: usize,
    /// Sobol: per dimension, the (scrambled) direction numbers.
    directions: Vec<[u32; SOBOL_BITS]>,
    /// Sobol: per dimension, the digital shift.
    shifts: Vec<u32>,
    /// Halton: per dimension, the base and (when scrambled) one permutation per digit.
    bases: Vec<u64>,
    perms: Vec<Vec<Vec<u32>>>,
}

fn first_primes(n: usize) -> Vec<u64> {
    let mut primes = Vec::with_capacity(n);
    let mut k = 2u64;
    while primes.len() < n {
        if primes
            .iter()
            .take_while(|&&p| p * p <= k)
            .all(|&p| k % p != 0)
        {
            primes.push(k);
        }
        k += 1;
    }
    primes
}

impl QmcSequence {
    /// A `dim`-dimensional sequence; `seed` drives the scrambling.
    pub fn new(kind: QmcKind, dim: usize, scramble: bool, seed: u64) -> Result<Self> {
        let mut rng = Rng::new(seed);
        let mut seq = QmcSequence {
            kind,
            dim,
            directions: Vec::new(),
            shifts: Vec::new(),
            bases: Vec::new(),
            perms: Vec::new(),
        };
        match kind {
            QmcKind::Sobol => {
                if dim > SOBOL_MAX_DIMS {
                    return Err(Error::InvalidArgument(format!(
                        "Sobol sequences support at most {SOBOL_MAX_DIMS} dimensions, got {dim}; use qmc_type=\"halton\""
                    )));
                }
                let raw = Sobol::<u32>::init_direction_vals::<u32>(dim, SOBOL_BITS, joe_kuo());
                for v in raw {
                    let mut d = [0u32; SOBOL_BITS];
                    d.copy_from_slice(&v[..SOBOL_BITS]);
                    if scramble {
                        // Rows of the lower-triangular matrix: output digit k (bit 31-k)
                        // is the parity of (row_k & v), where row_k has its own bit set
                        // and random bits at the more significant positions.
                        let mut rows = [0u32; SOBOL_BITS];
                        for (k, row) in rows.iter_mut().enumerate() {
                            let own = 1u32 << (31 - k);
                            let above = if k == 0 { 0 } else { !((1u32 << (32 - k)) - 1) };
                            *row = own | (rng.next_u64() as u32 & above);
                        }
                        for x in d.iter_mut() {
                            let mut y = 0u32;
                            for (k, row) in rows.iter().enumerate() {
                                y |= ((row & *x).count_ones() & 1) << (31 - k);
                            }
                            *x = y;
                        }
                        seq.shifts.push(rng.next_u64() as u32);
                    } else {
                        seq.shifts.push(0);
                    }
                    seq.directions.push(d);
                }
            }
            QmcKind::Halton => {
                let max = if scramble {
                    HALTON_SCRAMBLED_MAX_DIMS
                } else {
                    HALTON_MAX_DIMS
                };
                if dim > max {
                    return Err(Error::InvalidArgument(format!(
                        "{} Halton sequences support at most {max} dimensions, got {dim}",
                        if scramble { "scrambled" } else { "unscrambled" }
                    )));
                }
                seq.bases = first_primes(dim);
                if scramble {
                    for &b in &seq.bases {
                        let digits = (53.0 / (b as f64).log2()).ceil() as usize;
                        let perms = (0..digits)
                            .map(|_| {
                                let mut p: Vec<u32> = (0..b as u32).collect();
                                rng.shuffle(&mut p);
                                p
                            })
                            .collect();
                        seq.perms.push(perms);
                    }
                }
            }
        }
        Ok(seq)
    }

    /// Dimension of the points.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Writes point `index` of the sequence into `out` (length `dim`).
    pub fn point(&self, index: u64, out: &mut [f64]) {
        match self.kind {
            QmcKind::Sobol => {
                let g = index ^ (index >> 1);
                for (j, o) in out.iter_mut().enumerate().take(self.dim) {
                    let mut x = 0u32;
                    let mut bits = g;
                    let mut k = 0;
                    while bits != 0 && k < SOBOL_BITS {
                        if bits & 1 == 1 {
                            x ^= self.directions[j][k];
                        }
                        bits >>= 1;
                        k += 1;
                    }
                    x ^= self.shifts[j];
                    *o = x as f64 / 4_294_967_296.0;
                }
            }
            QmcKind::Halton => {
                for (j, o) in out.iter_mut().enumerate().take(self.dim) {
                    let b = self.bases[j];
                    let inv = 1.0 / b as f64;
                    let mut f = inv;
                    let mut x = 0.0;
                    let mut n = index;
                    if self.perms.is_empty() {
                        while n > 0 {
                            x += (n % b) as f64 * f;
                            n /= b;
                            f *= inv;
                        }
                    } else {
                        for perm in &self.perms[j] {
                            x += perm[(n % b) as usize] as f64 * f;
                            n /= b;
                            f *= inv;
                        }
                    }
                    *o = x.min(1.0 - f64::EPSILON);
                }
            }
        }
    }
}

/// QMC sampler: one sequence point per trial for the joint (relative or
/// declared) space; parameters outside it are drawn uniformly at random.
#[derive(Debug, Clone, PartialEq)]
pub struct QmcSampler {
    pub kind: QmcKind,
    pub scramble: bool,
    pub seed: u64,
    /// Index of the next sequence point.
    pub index: u64,
    pub rng: Rng,
    cached: Option<QmcSequence>,
}

/// The error of a sequence index that would pass `u64::MAX`.
fn exhausted() -> Error {
    Error::InvalidArgument("the QMC sequence index would pass 2**64 - 1 (set by its state)".into())
}

impl QmcSampler {
    /// A sampler; `seed` drives both the scrambling and the independent draws.
    pub fn new(kind: QmcKind, scramble: bool, seed: u64) -> Self {
        QmcSampler {
            kind,
            scramble,
            seed,
            index: 0,
            rng: Rng::new(seed ^ 0x005E_ED0F_0A11),
            cached: None,
        }
    }

    fn sequence(&mut self, dim: usize) -> Result<&QmcSequence> {
        if self.cached.as_ref().is_none_or(|s| s.dim() != dim) {
            self.cached = Some(QmcSequence::new(self.kind, dim, self.scramble, self.seed)?);
        }
        Ok(self.cached.as_ref().expect("just set"))
    }

    /// Point `index` of the `dim`-dimensional sequence; the sampler's own index
    /// does not move (a study that keeps the position passes it in).
    pub fn point_at(&mut self, index: u64, dim: usize) -> Result<Vec<f64>> {
        // The dimension is checked (by building the sequence) before the
        // point is allocated.
        let seq = self.sequence(dim)?;
        let mut out = vec![0.0; dim];
        seq.point(index, &mut out);
        Ok(out)
    }

    /// The next point of a `dim`-dimensional sequence; an error once the
    /// index has reached `u64::MAX`.
    pub fn next_point(&mut self, dim: usize) -> Result<Vec<f64>> {
        let next = self.index.checked_add(1).ok_or_else(exhausted)?;
        let out = self.point_at(self.index, dim)?;
        self.index = next;
        Ok(out)
    }
}

impl Sampler for QmcSampler {
    fn sample_independent(
        &mut self,
        _: &History,
        _: usize,
        _: &str,
        dist: &Distribution,
    ) -> Result<f64> {
        Ok(dist.from_unit(self.rng.uniform()))
    }

    fn sample_space(
        &mut self,
        _: &History,
        _: usize,
        space: &SearchSpace,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        let dim = space.params().len();
        // Each candidate takes one index.
        if self.index.checked_add(max_draws as u64).is_none() {
            return Err(exhausted());
        }
        self.sequence(dim)?;
        let seq = self.cached.as_ref().expect("built above");
        let index = &mut self.index;
        space.sample_feasible_with(
            max_draws,
            |u| {
                seq.point(*index, u);
                *index += 1;
            },
            accept,
        )
    }

    /// The seed of the scrambling, the index of the next sequence point,
    /// then the generator's four words.
    fn state(&self) -> SamplerState {
        let mut s = vec![self.seed, self.index];
        s.extend(rng_words(&self.rng));
        s
    }

    fn set_state(&mut self, state: &[u64]) -> Result<()> {
        expect_words(state, 6)?;
        self.rng = rng_from_words(&state[2..])?;
        if self.seed != state[0] {
            self.seed = state[0];
            self.cached = None;
        }
        self.index = state[1];
        Ok(())
    }

    /// Reseeds the independent draws; the sequence and its scrambling stay
    /// (as Optuna's `QMCSampler.reseed_rng`).
    fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Star-discrepancy proxy: the largest gap between the empirical and the
    /// uniform measure over anchored boxes on a coarse grid.
    fn box_error(points: &[Vec<f64>]) -> f64 {
        let n = points.len() as f64;
        let mut worst: f64 = 0.0;
        for a in 1..=8 {
            for b in 1..=8 {
                let (x, y) = (a as f64 / 8.0, b as f64 / 8.0);
                let inside = points.iter().filter(|p| p[0] < x && p[1] < y).count() as f64;
                worst = worst.max((inside / n - x * y).abs());
            }
        }
        worst
    }

    #[test]
    fn unscrambled_sobol_matches_the_classic_sequence() {
        let s = QmcSequence::new(QmcKind::Sobol, 2, false, 0).unwrap();
        let mut p = [0.0; 2];
        let expect = [[0.0, 0.0], [0.5, 0.5], [0.75, 0.25], [0.25, 0.75]];
        for (i, e) in expect.iter().enumerate() {
            s.point(i as u64, &mut p);
            assert_eq!(&p, e);
        }
    }

    #[test]
    fn halton_base_two_and_three() {
        let s = QmcSequence::new(QmcKind::Halton, 2, false, 0).unwrap();
        let mut p = [0.0; 2];
        s.point(1, &mut p);
        assert_eq!(p, [0.5, 1.0 / 3.0]);
        s.point(5, &mut p);
        assert!((p[0] - 0.625).abs() < 1e-12 && (p[1] - 7.0 / 9.0).abs() < 1e-12);
    }

    #[test]
    fn scrambled_sequences_are_more_uniform_than_random() {
        for kind in [QmcKind::Sobol, QmcKind::Halton] {
            let s = QmcSequence::new(kind, 2, true, 42).unwrap();
            let pts: Vec<Vec<f64>> = (0..256)
                .map(|i| {
                    let mut p = vec![0.0; 2];
                    s.point(i, &mut p);
                    assert!(p.iter().all(|v| (0.0..1.0).contains(v)));
                    p
                })
                .collect();
            // Random points have box errors around 1/sqrt(256) ~ 0.06.
            assert!(box_error(&pts) < 0.02, "{kind:?} {}", box_error(&pts));
        }
    }

    #[test]
    fn scrambled_sobol_balances_every_dyadic_interval() {
        // A (t,m,s)-net property: the first 2^k points put exactly one point in
        // each interval [j/2^k, (j+1)/2^k) of every single dimension.
        let s = QmcSequence::new(QmcKind::Sobol, 5, true, 7).unwrap();
        let mut p = [0.0; 5];
        for d in 0..5 {
            let mut hit = [false; 64];
            for i in 0..64 {
                s.point(i, &mut p);
                hit[(p[d] * 64.0) as usize] = true;
            }
            assert!(hit.iter().all(|&h| h), "dim {d}");
        }
    }

    #[test]
    fn too_many_sobol_dims_is_an_error() {
        assert!(QmcSequence::new(QmcKind::Sobol, 1001, true, 0).is_err());
    }

    #[test]
    fn huge_dimensions_and_indices_are_errors() {
        let mut s = QmcSampler::new(QmcKind::Sobol, true, 0);
        // Checked before `dim` floats are allocated.
        let r = s.point_at(0, 1 << 40);
        assert!(
            matches!(r, Err(Error::InvalidArgument(ref m)) if m.contains("1000")),
            "{r:?}"
        );
        for (scramble, max) in [(true, HALTON_SCRAMBLED_MAX_DIMS), (false, HALTON_MAX_DIMS)] {
            let mut h = QmcSampler::new(QmcKind::Halton, scramble, 0);
            let r = h.point_at(0, max + 1);
            assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
            assert!(h.next_point(1 << 40).is_err());
        }
        let mut state = s.state();
        state[1] = u64::MAX;
        s.set_state(&state).unwrap();
        assert!(matches!(s.next_point(2), Err(Error::InvalidArgument(_))));
        assert_eq!(s.index, u64::MAX, "a failed next_point moved the index");
        s.index = u64::MAX - 5;
        let space = SearchSpace::new(
            vec![crate::space::Param {
                name: "x".into(),
                dist: Distribution::float("x", 0.0, 1.0, None, false).unwrap(),
                condition: None,
                choice_values: None,
            }],
            vec![],
        )
        .unwrap();
        let h = History::new(1);
        let r = s.sample_space(&h, 0, &space, 100, &mut |_: &[f64]| Ok(true));
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
        s.index = 0;
        assert_eq!(s.next_point(2).unwrap().len(), 2);
        assert_eq!(s.index, 1);
    }
}
