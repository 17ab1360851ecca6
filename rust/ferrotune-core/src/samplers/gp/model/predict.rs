//! Posterior means and variances (Rasmussen & Williams 2006, eqs.
//! 2.25-2.26): at one point, with gradients in x, and at batches of
//! candidates by blocked triangular solves.

use super::{check_point, Gp, Prediction};
use crate::error::{Error, Result};
use crate::samplers::gp::kernel::{Columns, DimKind};
use crate::samplers::gp::linalg::dot;

/// Candidates per block of right-hand sides in [`Gp::predict_batch`].
const PREDICT_BLOCK: usize = 64;
/// Threads [`Gp::predict_batch`] uses at most on large batches.
const PREDICT_THREADS: usize = 2;

impl Gp {
    /// Posterior mean and variance of f at `x` (original units).
    pub fn predict(&self, x: &[f64]) -> Result<(f64, f64)> {
        check_point(self.dim(), x)?;
        let point = Columns::new(self.kernel.kinds(), &self.warped(x), 1)?;
        let (mut k, _) = self.kernel.cross_point(&point, &self.cols)?;
        let mean: f64 = k.iter().zip(&self.alpha).map(|(a, b)| a * b).sum();
        self.chol.solve_lower_in_place(&mut k)?;
        let var = (self.kernel.signal_variance() - dot(&k, &k)).max(0.0);
        Ok((
            self.y_mean + self.y_std * mean,
            self.y_std * self.y_std * var,
        ))
    }

    /// Posterior means and variances at the m rows of `xs` (m×d row-major),
    /// e.g. to score a batch of candidates: triangular solves with 64
    /// right-hand sides at a time, which read L once per block.
    pub fn predict_batch(&self, xs: &[f64], m: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        let d = self.dim();
        if Some(xs.len()) != m.checked_mul(d) {
            return Err(Error::InvalidArgument(format!(
                "points have {} entries, expected {m} x {d}",
                xs.len()
            )));
        }
        if xs.iter().any(|v| v.is_infinite()) {
            return Err(Error::InvalidArgument(
                "point coordinates must be finite or NaN (inactive)".into(),
            ));
        }
        let mut mean = vec![0.0; m];
        let mut var = vec![self.kernel.signal_variance(); m];
        // Large batches are split over up to PREDICT_THREADS threads (each
        // candidate's arithmetic is the same either way: results do not
        // depend on the split).
        let threads = std::thread::available_parallelism()
            .map_or(1, |t| t.get())
            .min(PREDICT_THREADS)
            .min(m / PREDICT_BLOCK)
            .max(1);
        if threads == 1 || self.n() < 64 {
            self.predict_rows(xs, &mut mean, &mut var)?;
        } else {
            let per = m.div_ceil(threads).div_ceil(PREDICT_BLOCK) * PREDICT_BLOCK;
            std::thread::scope(|scope| -> Result<()> {
                let handles: Vec<_> = mean
                    .chunks_mut(per)
                    .zip(var.chunks_mut(per))
                    .zip(xs.chunks(per * d))
                    .map(|((mc, vc), xc)| scope.spawn(move || self.predict_rows(xc, mc, vc)))
                    .collect();
                for h in handles {
                    // A panic goes on in this thread, as without threads.
                    h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))?;
                }
                Ok(())
            })?;
        }
        let s2 = self.y_std * self.y_std;
        Ok((
            mean.iter().map(|v| self.y_mean + self.y_std * v).collect(),
            var.iter().map(|v| s2 * v.max(0.0)).collect(),
        ))
    }

    /// Standardised posterior means (added to `mean`, zeros on entry) and
    /// variances (subtracted from `var`, the signal variance on entry) at the
    /// rows of `xs`, in blocks of candidates whose n×block right-hand side
    /// stays in cache: triangular solves with a block of right-hand sides
    /// read L once per block.
    fn predict_rows(&self, xs: &[f64], mean: &mut [f64], var: &mut [f64]) -> Result<()> {
        let (n, d, m) = (self.n(), self.dim(), mean.len());
        let mut b = Vec::with_capacity(n * PREDICT_BLOCK);
        for c0 in (0..m).step_by(PREDICT_BLOCK) {
            let w = PREDICT_BLOCK.min(m - c0);
            // B[j][c] = k(X_j, x_{c0+c}): n×w, row-major.
            b.clear();
            b.resize(n * w, 0.0);
            let block = self.warped(&xs[c0 * d..(c0 + w) * d]);
            let cands = Columns::new(self.kernel.kinds(), &block, w)?;
            self.kernel.cross_columns(&self.cols, &cands, &mut b)?;
            let (mb, vb) = (&mut mean[c0..c0 + w], &mut var[c0..c0 + w]);
            for j in 0..n {
                let a = self.alpha[j];
                for (mc, bc) in mb.iter_mut().zip(&b[j * w..(j + 1) * w]) {
                    *mc += a * bc;
                }
            }
            self.chol.solve_lower_matrix(&mut b, w)?;
            for j in 0..n {
                for (vc, bc) in vb.iter_mut().zip(&b[j * w..(j + 1) * w]) {
                    *vc -= bc * bc;
                }
            }
        }
        Ok(())
    }

    /// Posterior mean and variance at `x` with their gradients w.r.t. x:
    /// ∂μ/∂x = (∂k*/∂x)ᵀα and ∂s²/∂x = -2 (∂k*/∂x)ᵀK⁻¹k* (R&W eqs. 2.25-2.26
    /// differentiated; k(x, x) = σ_f² does not depend on x). With an input
    /// warp the gradients are taken in the warped coordinates w(x) and
    /// chained by ∂w_i/∂x_i ([`super::super::warp`]), so they are in x.
    pub fn predict_with_grad(&self, x_raw: &[f64]) -> Result<Prediction> {
        let d = self.dim();
        check_point(d, x_raw)?;
        let x = self.warped(x_raw);
        let point = Columns::new(self.kernel.kinds(), &x, 1)?;
        let (k, dk_dr2) = self.kernel.cross_point(&point, &self.cols)?;
        let mean: f64 = k.iter().zip(&self.alpha).map(|(a, b)| a * b).sum();
        let mut v = k;
        self.chol.solve_lower_in_place(&mut v)?;
        let raw_var = self.kernel.signal_variance() - dot(&v, &v);
        self.chol.solve_upper_in_place(&mut v)?;
        // ∂k(x, X_j)/∂x_i = ∂k/∂(r²) · 2 (x_i - X_ji) / ℓ_i² on active
        // continuous dimensions (X_ji = 1/2 where X_j is inactive), so
        // Σ_j a_j ∂k_j/∂x_i = 2/ℓ_i² (x_i Σ_j a_j ∂k_j/∂r² - Σ_j a_j ∂k_j/∂r² X_ji).
        let a: Vec<f64> = dk_dr2.iter().zip(&self.alpha).map(|(g, a)| g * a).collect();
        let b: Vec<f64> = dk_dr2.iter().zip(&v).map(|(g, v)| -2.0 * g * v).collect();
        let (sa, sb) = (a.iter().sum::<f64>(), b.iter().sum::<f64>());
        let mut d_mean = vec![0.0; d];
        let mut d_var = vec![0.0; d];
        for i in 0..d {
            if self.kernel.kinds()[i] != DimKind::Continuous || x[i].is_nan() {
                continue;
            }
            let col = self.cols.column(i);
            let s = 2.0 * self.kernel.inv_scale(i);
            d_mean[i] = s * (x[i] * sa - dot(&a, col));
            d_var[i] = s * (x[i] * sb - dot(&b, col));
        }
        if let Some(w) = &self.warp {
            for (i, j) in w.jacobian_diag(x_raw).into_iter().enumerate() {
                d_mean[i] *= j;
                d_var[i] *= j;
            }
        }
        let s2 = self.y_std * self.y_std;
        let clamped = raw_var <= 0.0;
        Ok(Prediction {
            mean: self.y_mean + self.y_std * mean,
            var: s2 * raw_var.max(0.0),
            d_mean: d_mean.iter().map(|g| g * self.y_std).collect(),
            d_var: d_var
                .iter()
                .map(|g| if clamped { 0.0 } else { g * s2 })
                .collect(),
        })
    }
}
