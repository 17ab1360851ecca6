//! Candidate pools: the posterior at a fixed set of points, extended in
//! O(n m) per appended observation.

use super::Gp;
use crate::error::{Error, Result};
use crate::samplers::gp::kernel::Columns;
use crate::samplers::gp::linalg::{dot, Cholesky};

/// The posterior at a fixed set of m points, kept up to date as the model
/// gains observations by appends ([`Gp::add_observation`]): each new
/// observation costs O(n m) instead of the O(n² m) of scoring the points
/// afresh ([`Gp::predict_batch`]). With L the Cholesky factor of K and
/// C the points, it keeps V = L⁻¹ K(X, C) (n×m, one row per observation)
/// and Σ_j V_jc²; since appending observation n adds row
/// (k(x_n, C) - l_nᵀ V) / λ_n to V and leaves the other rows alone (the
/// bordering of [`crate::samplers::gp::linalg`]), the posterior variance
/// σ_f² - Σ_j V_jc² and the mean (L⁻¹y)ᵀ V follow.
#[derive(Debug, Clone)]
pub struct Pool {
    cands: Columns,
    /// V, n×m row-major.
    v: Vec<f64>,
    /// Σ_j V_jc² over the rows so far.
    sq: Vec<f64>,
    /// The factor the rows belong to and how many there are.
    factor_id: u64,
    n: usize,
}

impl Pool {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.cands.len()
    }

    /// True when the pool has no point.
    pub fn is_empty(&self) -> bool {
        self.cands.is_empty()
    }

    /// Number of observations whose rows the pool holds.
    pub fn rows(&self) -> usize {
        self.n
    }

    /// Keeps the rows of the first `n` observations only (the pool of the
    /// model before its last appends).
    pub fn truncate(&mut self, n: usize) {
        if n >= self.n {
            return;
        }
        let m = self.len();
        self.v.truncate(n * m);
        self.sq.iter_mut().for_each(|s| *s = 0.0);
        for row in self.v.chunks_exact(m.max(1)) {
            for (s, r) in self.sq.iter_mut().zip(row) {
                *s += r * r;
            }
        }
        self.n = n;
    }
}

impl Gp {
    /// A [`Pool`] of the m rows of `xs` (m×d row-major): O(n² m), as
    /// [`Gp::predict_batch`].
    pub fn pool(&self, xs: &[f64], m: usize) -> Result<Pool> {
        let d = self.dim();
        if Some(xs.len()) != m.checked_mul(d) || xs.iter().any(|v| v.is_infinite()) {
            return Err(Error::InvalidArgument(format!(
                "pool points must be {m} x {d} finite (or NaN) coordinates"
            )));
        }
        let cands = Columns::new(self.kernel.kinds(), &self.warped(xs), m)?;
        let n = self.n();
        let mut v = vec![0.0; n * m];
        self.kernel.cross_columns(&self.cols, &cands, &mut v)?;
        self.chol.solve_lower_matrix(&mut v, m)?;
        let mut sq = vec![0.0; m];
        for row in v.chunks_exact(m.max(1)) {
            for (s, r) in sq.iter_mut().zip(row) {
                *s += r * r;
            }
        }
        Ok(Pool {
            cands,
            v,
            sq,
            factor_id: self.factor_id,
            n,
        })
    }

    /// Brings `pool` up to this model's first `upto` observations (all when
    /// None), O(n m) per observation. Errors when the pool was built on
    /// another factor (a refit, or an append that had to refactorise) or
    /// already holds more observations; the caller then builds a new one.
    pub fn extend_pool(&self, pool: &mut Pool, upto: Option<usize>) -> Result<()> {
        let upto = upto.unwrap_or(self.n());
        if pool.factor_id != self.factor_id || pool.n > upto || upto > self.n() {
            return Err(Error::InvalidArgument(
                "the pool belongs to another factor of the model".into(),
            ));
        }
        let m = pool.len();
        let mut l = Vec::new();
        let mut row = vec![0.0; m];
        for i in pool.n..upto {
            // Row i of L: l_i (i entries) and λ_i.
            l.clear();
            l.extend((0..=i).map(|j| self.chol.get(i, j).unwrap_or(0.0)));
            let xi = self.warped(&self.x[i * self.dim()..(i + 1) * self.dim()]);
            let point = Columns::new(self.kernel.kinds(), &xi, 1)?;
            let k = {
                let mut k = vec![0.0; m];
                self.kernel.cross_columns(&point, &pool.cands, &mut k)?;
                k
            };
            row.copy_from_slice(&k);
            for (j, vj) in pool.v.chunks_exact(m.max(1)).enumerate().take(i) {
                let lij = l[j];
                for (r, v) in row.iter_mut().zip(vj) {
                    *r -= lij * v;
                }
            }
            let lam = l[i];
            for (r, s) in row.iter_mut().zip(pool.sq.iter_mut()) {
                *r /= lam;
                *s += *r * *r;
            }
            pool.v.extend_from_slice(&row);
            pool.n = i + 1;
        }
        Ok(())
    }

    /// The joint posterior of f at the m rows of `xs` (m×d): means (original
    /// units) and the m×m covariance, row-major, standardised units
    /// (multiply by [`Gp::standardisation`]'s sd² for original units):
    /// K(C, C) - Vᵀ V with V = L⁻¹ K(X, C) (Rasmussen & Williams 2006,
    /// eq. 2.24, between the points). O(n² m + n m² + m² d).
    pub fn joint_posterior(&self, xs: &[f64], m: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        let pool = self.pool(xs, m)?;
        let (mean, _) = self.pool_predict(&pool)?;
        let (mut cov, _) = self.kernel.matrix_columns(&pool.cands)?;
        // Vᵀ, one contiguous column of V per point, for the dot products.
        let n = pool.n;
        let mut vt = vec![0.0; m * n];
        for (r, vr) in pool.v.chunks_exact(m.max(1)).enumerate() {
            for (c, v) in vr.iter().enumerate() {
                vt[c * n + r] = *v;
            }
        }
        for i in 0..m {
            let vi = &vt[i * n..(i + 1) * n];
            for j in 0..=i {
                let c = cov[i * m + j] - dot(vi, &vt[j * n..(j + 1) * n]);
                cov[i * m + j] = c;
                cov[j * m + i] = c;
            }
        }
        Ok((mean, cov))
    }

    /// One joint draw of f at the m rows of `xs` from the posterior (original
    /// units): mean + sd L z, L the Cholesky factor of the covariance of
    /// [`Gp::joint_posterior`] (with a diagonal jitter when it is
    /// numerically singular), `normals` the m standard normal draws z.
    pub fn joint_sample(&self, xs: &[f64], m: usize, normals: &[f64]) -> Result<Vec<f64>> {
        if normals.len() != m {
            return Err(Error::InvalidArgument(format!(
                "{} normal draws for {m} points",
                normals.len()
            )));
        }
        let (mean, cov) = self.joint_posterior(xs, m)?;
        let l = Cholesky::factor_with_jitter(&cov, m)?.to_dense();
        let sd = self.y_std;
        Ok((0..m)
            .map(|i| {
                let row = &l[i * m..i * m + i + 1];
                mean[i] + sd * row.iter().zip(normals).map(|(a, b)| a * b).sum::<f64>()
            })
            .collect())
    }

    /// Posterior means and variances (as [`Gp::predict_batch`]) at the
    /// points of `pool`, which must hold exactly this model's observations
    /// ([`Gp::extend_pool`]).
    pub fn pool_predict(&self, pool: &Pool) -> Result<(Vec<f64>, Vec<f64>)> {
        let n = self.n();
        if pool.factor_id != self.factor_id || pool.n != n {
            return Err(Error::InvalidArgument(
                "the pool does not hold this model's observations".into(),
            ));
        }
        let m = pool.len();
        let mut z = self.y.clone();
        self.chol.solve_lower_in_place(&mut z)?;
        let mut mean = vec![0.0; m];
        for (zj, vj) in z.iter().zip(pool.v.chunks_exact(m.max(1))) {
            for (mc, v) in mean.iter_mut().zip(vj) {
                *mc += zj * v;
            }
        }
        let (sf, s2) = (self.kernel.signal_variance(), self.y_std * self.y_std);
        Ok((
            mean.iter().map(|v| self.y_mean + self.y_std * v).collect(),
            pool.sq.iter().map(|q| s2 * (sf - q).max(0.0)).collect(),
        ))
    }
}
