//! The GP covariance: Matérn 5/2 with ARD lengthscales on the continuous
//! dimensions, times a Hamming-distance term on the categorical dimensions,
//! times a signal variance.
//!
//! For inputs x, y (continuous dimensions in [0, 1], categorical dimensions as
//! choice indices, NaN where a parameter is inactive):
//!
//! ```text
//! r²      = Σ_{i continuous} d_i(x, y)² / ℓ_i²
//! m(r)    = (1 + √5 r + 5r²/3) exp(-√5 r)                (Matérn ν = 5/2)
//! c(x, y) = exp(-Σ_{j categorical} δ_j(x, y) / ℓ_j)      (Hamming term)
//! k(x, y) = σ_f² · m(r) · c(x, y)
//! ```
//!
//! The Matérn 5/2 form is Rasmussen & Williams 2006, "Gaussian Processes for
//! Machine Learning", eq. (4.17), with ARD lengthscales as in their §5.1. The
//! categorical term is the exponentiated weighted Hamming distance (the
//! "overlap" kernel of CoCaBO, Ru et al. 2020, and of Optuna's GPSampler):
//! each factor exp(-[x_j ≠ y_j]/ℓ_j) is a valid kernel on a finite set
//! (ρ·11ᵀ + (1 - ρ)·I up to relabelling, ρ = e^{-1/ℓ_j} ∈ (0, 1)), so the
//! product with the Matérn term is positive semi-definite. Parametrising its
//! weights as 1/ℓ_j lets one lengthscale vector (and one prior) serve all
//! dimensions.
//!
//! Inactive dimensions (conditional spaces). A NaN coordinate means "this
//! parameter does not exist for this trial". Two inactive values are equal
//! (d = 0, δ = 0): the kernel ignores the dimension for such pairs. An active
//! value v against an inactive one must still give a positive semi-definite
//! kernel, which "distance 0 when either is missing" does not. We therefore
//! embed each continuous dimension in the plane: v ↦ (v, 0) and inactive ↦
//! (1/2, 1/2), so d² = (v - 1/2)² + 1/4 between active and inactive (an
//! isometric embedding, hence a Matérn kernel of a Euclidean distance and
//! positive semi-definite; the idea of Hutter & Osborne 2013, "A Kernel for
//! Hierarchical Parameter Spaces", in its simplest form). For categorical
//! dimensions "inactive" is one more category (δ = 1 against any choice).
//!
//! Hyperparameters are handled in log space, in the order
//! θ = (log ℓ_1, ..., log ℓ_d, log σ_f²); derivatives below are w.r.t. these.
//! With u_i = d_i²/ℓ_i² and ∂m/∂(r²) = -(5/6)(1 + √5 r) e^{-√5 r}:
//!
//! ```text
//! ∂k/∂log ℓ_i   = σ_f² c · (5/3)(1 + √5 r) e^{-√5 r} · u_i      (continuous i)
//! ∂k/∂log ℓ_j   = k · δ_j / ℓ_j                                 (categorical j)
//! ∂k/∂log σ_f²  = k
//! ∂k/∂x_i       = σ_f² c · ∂m/∂(r²) · 2 (x_i - y_i*) / ℓ_i²      (x_i active)
//! ```
//!
//! where y_i* is y_i, or 1/2 when y_i is inactive; the x-gradient is zero on
//! categorical and inactive dimensions.

use crate::error::{Error, Result};

/// Where an inactive continuous coordinate sits along its dimension.
pub const INACTIVE_CENTRE: f64 = 0.5;
/// Squared distance of an inactive coordinate off the dimension's axis.
pub const INACTIVE_OFFSET2: f64 = 0.25;

const SQRT5: f64 = 2.236_067_977_499_79;

/// How the kernel treats one input dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DimKind {
    /// A float or integer parameter mapped to [0, 1].
    Continuous,
    /// A categorical parameter given by its choice index.
    Categorical,
}

/// Matérn 5/2 × Hamming kernel with ARD lengthscales and a signal variance.
#[derive(Debug, Clone, PartialEq)]
pub struct Kernel {
    kinds: Vec<DimKind>,
    log_ls: Vec<f64>,
    log_signal: f64,
    /// 1/ℓ² for continuous dimensions and 1/ℓ for categorical ones.
    inv: Vec<f64>,
    signal: f64,
}

/// Per-pair quantities shared by the value and the derivatives.
struct Pair {
    /// σ_f² m(r) c.
    k: f64,
    /// σ_f² c ∂m/∂(r²).
    dk_dr2: f64,
}

impl Kernel {
    /// A kernel over dimensions `kinds` with log-lengthscales `log_ls` and log
    /// signal variance `log_signal`.
    pub fn new(kinds: Vec<DimKind>, log_ls: Vec<f64>, log_signal: f64) -> Result<Self> {
        if kinds.len() != log_ls.len() {
            return Err(Error::InvalidArgument(format!(
                "{} lengthscales for {} dimensions",
                log_ls.len(),
                kinds.len()
            )));
        }
        let mut k = Kernel {
            inv: vec![0.0; kinds.len()],
            kinds,
            log_ls: Vec::new(),
            log_signal: 0.0,
            signal: 1.0,
        };
        let mut theta = log_ls;
        theta.push(log_signal);
        k.set_params(&theta)?;
        Ok(k)
    }

    /// Number of input dimensions.
    pub fn dim(&self) -> usize {
        self.kinds.len()
    }

    /// The kind of each dimension.
    pub fn kinds(&self) -> &[DimKind] {
        &self.kinds
    }

    /// Number of hyperparameters: d lengthscales and the signal variance.
    pub fn n_params(&self) -> usize {
        self.kinds.len() + 1
    }

    /// θ = (log ℓ_1..d, log σ_f²).
    pub fn params(&self) -> Vec<f64> {
        let mut p = self.log_ls.clone();
        p.push(self.log_signal);
        p
    }

    /// Lengthscales ℓ.
    pub fn lengthscales(&self) -> Vec<f64> {
        self.log_ls.iter().map(|v| v.exp()).collect()
    }

    /// Signal variance σ_f².
    pub fn signal_variance(&self) -> f64 {
        self.signal
    }

    /// Sets θ = (log ℓ_1..d, log σ_f²); errors on a wrong length or on values
    /// whose exponentials are not finite and positive.
    pub fn set_params(&mut self, theta: &[f64]) -> Result<()> {
        let d = self.kinds.len();
        if theta.len() != d + 1 {
            return Err(Error::InvalidArgument(format!(
                "kernel takes {} hyperparameters, got {}",
                d + 1,
                theta.len()
            )));
        }
        let mut inv = vec![0.0; d];
        for i in 0..d {
            let ls = theta[i].exp();
            let v = match self.kinds[i] {
                DimKind::Continuous => 1.0 / (ls * ls),
                DimKind::Categorical => 1.0 / ls,
            };
            if !(ls.is_finite() && ls > 0.0 && v.is_finite()) {
                return Err(Error::InvalidArgument(format!(
                    "log-lengthscale {} of dimension {i} is out of range",
                    theta[i]
                )));
            }
            inv[i] = v;
        }
        let signal = theta[d].exp();
        if !(signal.is_finite() && signal > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "log signal variance {} is out of range",
                theta[d]
            )));
        }
        self.log_ls = theta[..d].to_vec();
        self.log_signal = theta[d];
        self.inv = inv;
        self.signal = signal;
        Ok(())
    }

    fn check_point(&self, x: &[f64]) -> Result<()> {
        if x.len() != self.kinds.len() {
            return Err(Error::InvalidArgument(format!(
                "point has {} coordinates, expected {}",
                x.len(),
                self.kinds.len()
            )));
        }
        Ok(())
    }

    fn check_rows(&self, xs: &[f64], n: usize) -> Result<()> {
        if Some(xs.len()) != n.checked_mul(self.kinds.len()) {
            return Err(Error::InvalidArgument(format!(
                "inputs have {} entries, expected {n} rows x {} dimensions",
                xs.len(),
                self.kinds.len()
            )));
        }
        Ok(())
    }

    /// Squared distance of a continuous coordinate pair (see module docs).
    #[inline]
    fn cont_sq(a: f64, b: f64) -> f64 {
        match (a.is_nan(), b.is_nan()) {
            (false, false) => (a - b) * (a - b),
            (true, true) => 0.0,
            (false, true) => (a - INACTIVE_CENTRE) * (a - INACTIVE_CENTRE) + INACTIVE_OFFSET2,
            (true, false) => (b - INACTIVE_CENTRE) * (b - INACTIVE_CENTRE) + INACTIVE_OFFSET2,
        }
    }

    /// Hamming indicator of a categorical coordinate pair.
    #[inline]
    fn cat_diff(a: f64, b: f64) -> f64 {
        match (a.is_nan(), b.is_nan()) {
            (false, false) => f64::from(u8::from(a != b)),
            (true, true) => 0.0,
            _ => 1.0,
        }
    }

    #[inline]
    fn pair(&self, x: &[f64], y: &[f64]) -> Pair {
        let mut r2 = 0.0;
        let mut h = 0.0;
        for i in 0..self.kinds.len() {
            match self.kinds[i] {
                DimKind::Continuous => r2 += Self::cont_sq(x[i], y[i]) * self.inv[i],
                DimKind::Categorical => h += Self::cat_diff(x[i], y[i]) * self.inv[i],
            }
        }
        let r = r2.sqrt();
        let e = (-SQRT5 * r).exp();
        let sc = self.signal * (-h).exp();
        Pair {
            k: sc * (1.0 + SQRT5 * r + 5.0 / 3.0 * r2) * e,
            dk_dr2: -sc * 5.0 / 6.0 * (1.0 + SQRT5 * r) * e,
        }
    }

    /// k(x, y).
    pub fn eval(&self, x: &[f64], y: &[f64]) -> Result<f64> {
        self.check_point(x)?;
        self.check_point(y)?;
        Ok(self.pair(x, y).k)
    }

    /// The n×n kernel matrix of the rows of `xs` (n×d row-major).
    pub fn matrix(&self, xs: &[f64], n: usize) -> Result<Vec<f64>> {
        self.check_rows(xs, n)?;
        let d = self.dim();
        let mut k = vec![0.0; n * n];
        for i in 0..n {
            let xi = &xs[i * d..(i + 1) * d];
            for j in 0..=i {
                let v = self.pair(xi, &xs[j * d..(j + 1) * d]).k;
                k[i * n + j] = v;
                k[j * n + i] = v;
            }
        }
        Ok(k)
    }

    /// k(x, X_j) for the n rows X_j of `xs`.
    pub fn cross(&self, x: &[f64], xs: &[f64], n: usize) -> Result<Vec<f64>> {
        self.check_point(x)?;
        self.check_rows(xs, n)?;
        let d = self.dim();
        Ok((0..n)
            .map(|j| self.pair(x, &xs[j * d..(j + 1) * d]).k)
            .collect())
    }

    /// k(x, X_j) and its gradient w.r.t. x: returns (k, dk) with
    /// dk[j·d + i] = ∂k(x, X_j)/∂x_i (zero on categorical and inactive dims).
    pub fn cross_with_grad(&self, x: &[f64], xs: &[f64], n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        self.check_point(x)?;
        self.check_rows(xs, n)?;
        let d = self.dim();
        let mut k = vec![0.0; n];
        let mut dk = vec![0.0; n * d];
        for j in 0..n {
            let y = &xs[j * d..(j + 1) * d];
            let p = self.pair(x, y);
            k[j] = p.k;
            for i in 0..d {
                if self.kinds[i] == DimKind::Continuous && !x[i].is_nan() {
                    let yi = if y[i].is_nan() { INACTIVE_CENTRE } else { y[i] };
                    dk[j * d + i] = p.dk_dr2 * 2.0 * (x[i] - yi) * self.inv[i];
                }
            }
        }
        Ok((k, dk))
    }

    /// Adds ∂k(x, y)/∂θ_p (times `scale`) to `out[p]`; returns k(x, y).
    #[inline]
    fn add_param_grad(&self, x: &[f64], y: &[f64], scale: f64, out: &mut [f64]) -> f64 {
        let p = self.pair(x, y);
        let d = self.dim();
        for i in 0..d {
            out[i] += scale
                * match self.kinds[i] {
                    // -2 u_i · ∂k/∂(r²)
                    DimKind::Continuous => {
                        -2.0 * Self::cont_sq(x[i], y[i]) * self.inv[i] * p.dk_dr2
                    }
                    DimKind::Categorical => p.k * Self::cat_diff(x[i], y[i]) * self.inv[i],
                };
        }
        out[d] += scale * p.k;
        p.k
    }

    /// ∂k(x, y)/∂θ for θ = (log ℓ_1..d, log σ_f²).
    pub fn param_grad(&self, x: &[f64], y: &[f64]) -> Result<Vec<f64>> {
        self.check_point(x)?;
        self.check_point(y)?;
        let mut g = vec![0.0; self.n_params()];
        self.add_param_grad(x, y, 1.0, &mut g);
        Ok(g)
    }

    /// ∂K/∂θ_p as n×n matrices, one per hyperparameter (O(n² d) memory: for
    /// checks and small n; the model uses [`Kernel::contract_param_grad`]).
    pub fn param_grad_matrices(&self, xs: &[f64], n: usize) -> Result<Vec<Vec<f64>>> {
        self.check_rows(xs, n)?;
        let d = self.dim();
        let np = self.n_params();
        let mut out = vec![vec![0.0; n * n]; np];
        let mut g = vec![0.0; np];
        for i in 0..n {
            for j in 0..=i {
                g.iter_mut().for_each(|v| *v = 0.0);
                self.add_param_grad(
                    &xs[i * d..(i + 1) * d],
                    &xs[j * d..(j + 1) * d],
                    1.0,
                    &mut g,
                );
                for p in 0..np {
                    out[p][i * n + j] = g[p];
                    out[p][j * n + i] = g[p];
                }
            }
        }
        Ok(out)
    }

    /// Σ_ij W_ij ∂K_ij/∂θ_p for a symmetric n×n W, without forming ∂K/∂θ:
    /// O(n² d) time, O(d) extra memory. This is the trace tr(W ∂K/∂θ_p) in the
    /// marginal-likelihood gradient (Rasmussen & Williams 2006, eq. (5.9)).
    pub fn contract_param_grad(&self, xs: &[f64], n: usize, w: &[f64]) -> Result<Vec<f64>> {
        self.check_rows(xs, n)?;
        if w.len() != n * n {
            return Err(Error::InvalidArgument(format!(
                "weight matrix has {} entries, expected {n}x{n}",
                w.len()
            )));
        }
        let d = self.dim();
        let mut g = vec![0.0; self.n_params()];
        for i in 0..n {
            let xi = &xs[i * d..(i + 1) * d];
            for j in 0..i {
                self.add_param_grad(xi, &xs[j * d..(j + 1) * d], 2.0 * w[i * n + j], &mut g);
            }
            // On the diagonal only the signal variance acts: k(x, x) = σ_f².
            g[d] += w[i * n + i] * self.signal;
        }
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn kinds() -> Vec<DimKind> {
        vec![
            DimKind::Continuous,
            DimKind::Categorical,
            DimKind::Continuous,
            DimKind::Continuous,
        ]
    }

    /// Random inputs with some categorical values and some inactive entries.
    fn inputs(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        let mut xs = Vec::new();
        for i in 0..n {
            xs.push(rng.uniform());
            xs.push(rng.below(3) as f64);
            xs.push(rng.uniform());
            // The last dimension is inactive for every third point.
            xs.push(if i % 3 == 0 { f64::NAN } else { rng.uniform() });
        }
        xs
    }

    fn kernel() -> Kernel {
        Kernel::new(kinds(), vec![-0.7, 0.2, 0.4, -1.1], 0.3).unwrap()
    }

    #[test]
    fn matern_values_and_symmetry() {
        let k = Kernel::new(vec![DimKind::Continuous], vec![0.0], 0.0).unwrap();
        assert!((k.eval(&[0.3], &[0.3]).unwrap() - 1.0).abs() < 1e-15);
        // r = 1: (1 + √5 + 5/3) e^{-√5}.
        let want = (1.0 + SQRT5 + 5.0 / 3.0) * (-SQRT5).exp();
        assert!((k.eval(&[0.0], &[1.0]).unwrap() - want).abs() < 1e-15);
        let k = kernel();
        let xs = inputs(7, 1);
        let m = k.matrix(&xs, 7).unwrap();
        for i in 0..7 {
            assert!((m[i * 7 + i] - k.signal_variance()).abs() < 1e-14);
            for j in 0..7 {
                assert_eq!(m[i * 7 + j], m[j * 7 + i]);
            }
        }
        // The matrix with inactive entries is positive definite.
        let mut a = m.clone();
        for i in 0..7 {
            a[i * 7 + i] += 1e-9;
        }
        assert!(crate::samplers::gp::linalg::Cholesky::factor(&a, 7).is_ok());
    }

    #[test]
    fn inactive_embedding_is_positive_semidefinite() {
        // The counterexample to "distance 0 when either is missing": 0, NaN, 1.
        let k = Kernel::new(vec![DimKind::Continuous], vec![-1.0], 0.0).unwrap();
        let xs = [0.0, f64::NAN, 1.0];
        let a = k.matrix(&xs, 3).unwrap();
        assert!(crate::samplers::gp::linalg::Cholesky::factor(&a, 3).is_ok());
    }

    #[test]
    fn param_gradients_match_finite_differences() {
        let k = kernel();
        let n = 9;
        let xs = inputs(n, 2);
        let g = k.param_grad_matrices(&xs, n).unwrap();
        let theta = k.params();
        let h = 1e-6;
        for p in 0..theta.len() {
            let mut tp = theta.clone();
            tp[p] += h;
            let mut tm = theta.clone();
            tm[p] -= h;
            let mut kp = k.clone();
            kp.set_params(&tp).unwrap();
            let mut km = k.clone();
            km.set_params(&tm).unwrap();
            let (mp, mm) = (kp.matrix(&xs, n).unwrap(), km.matrix(&xs, n).unwrap());
            for e in 0..n * n {
                let fd = (mp[e] - mm[e]) / (2.0 * h);
                assert!(
                    (fd - g[p][e]).abs() < 1e-7 * (1.0 + fd.abs()),
                    "param {p} entry {e}: fd {fd} vs {}",
                    g[p][e]
                );
            }
        }
        // The contraction agrees with the explicit matrices.
        let w: Vec<f64> = (0..n * n)
            .map(|e| {
                let (i, j) = (e / n, e % n);
                ((i + j) as f64 * 0.37).cos()
            })
            .collect();
        let c = k.contract_param_grad(&xs, n, &w).unwrap();
        for p in 0..theta.len() {
            let want: f64 = (0..n * n).map(|e| w[e] * g[p][e]).sum();
            assert!((c[p] - want).abs() < 1e-10 * (1.0 + want.abs()));
        }
    }

    #[test]
    fn input_gradient_matches_finite_differences() {
        let k = kernel();
        let n = 8;
        let xs = inputs(n, 3);
        for x in [vec![0.31, 1.0, 0.77, 0.12], vec![0.9, 2.0, 0.05, f64::NAN]] {
            let (kv, dk) = k.cross_with_grad(&x, &xs, n).unwrap();
            assert_eq!(kv, k.cross(&x, &xs, n).unwrap());
            let h = 1e-6;
            for i in [0usize, 2, 3] {
                if x[i].is_nan() {
                    assert!((0..n).all(|j| dk[j * 4 + i] == 0.0));
                    continue;
                }
                let mut xp = x.clone();
                xp[i] += h;
                let mut xm = x.clone();
                xm[i] -= h;
                let (kp, km) = (k.cross(&xp, &xs, n).unwrap(), k.cross(&xm, &xs, n).unwrap());
                for j in 0..n {
                    let fd = (kp[j] - km[j]) / (2.0 * h);
                    assert!(
                        (fd - dk[j * 4 + i]).abs() < 1e-7,
                        "dim {i} point {j}: {fd} vs {}",
                        dk[j * 4 + i]
                    );
                }
            }
            assert!((0..n).all(|j| dk[j * 4 + 1] == 0.0));
        }
    }

    #[test]
    fn bad_hyperparameters_are_errors() {
        assert!(Kernel::new(kinds(), vec![0.0; 3], 0.0).is_err());
        assert!(Kernel::new(kinds(), vec![0.0, 0.0, 0.0, 1e4], 0.0).is_err());
        assert!(Kernel::new(kinds(), vec![0.0; 4], f64::NAN).is_err());
        let mut k = kernel();
        assert!(k.matrix(&[0.0; 7], 2).is_err());
        assert!(k.cross(&[0.0; 3], &[0.0; 8], 2).is_err());
        assert!(k.cross_with_grad(&[0.0; 4], &[0.0; 7], 2).is_err());
        assert!(k.contract_param_grad(&[0.0; 8], 2, &[0.0; 3]).is_err());
        assert!(k.eval(&[0.0; 4], &[0.0; 5]).is_err());
        assert!(k.param_grad(&[0.0; 4], &[0.0; 4]).is_ok());
        assert!(k.set_params(&[0.0; 5]).is_ok());
        assert!(k.set_params(&[f64::INFINITY, 0.0, 0.0, 0.0, 0.0]).is_err());
    }
}
