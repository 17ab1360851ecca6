//! Textbook versions of the GP's numerics, for the tests to compare the fast
//! routines of [`super::linalg`], [`super::kernel`] and [`super::model`]
//! with: one formula a function, dense row-major matrices, plain loops, no
//! blocking, caches, packed storage or incremental updates.
//!
//! - Cholesky factor by the Cholesky–Banachiewicz recurrence (row by row;
//!   Golub & Van Loan, "Matrix Computations", 4th ed., Alg. 4.2.1);
//! - forward and back substitution (the same, §3.1);
//! - the Matérn 5/2 ARD kernel (Rasmussen & Williams 2006, "Gaussian
//!   Processes for Machine Learning", eq. 4.17, §5.1) times the Hamming term,
//!   with the inactive-dimension embedding of [`super::kernel`];
//! - the GP posterior mean and variance and the log marginal likelihood by
//!   Rasmussen & Williams, Algorithm 2.1.

use super::kernel::DimKind;

/// L with A = L Lᵀ (dense n×n, zero above the diagonal), or None when a
/// pivot is not positive:
/// L_ij = (A_ij - Σ_{k<j} L_ik L_jk) / L_jj, L_ii = sqrt(A_ii - Σ_{k<i} L_ik²).
pub fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if j < i {
                l[i * n + j] = s / l[j * n + j];
            } else if s > 0.0 {
                l[i * n + i] = s.sqrt();
            } else {
                return None;
            }
        }
    }
    Some(l)
}

/// Y with L Y = B, for a dense lower-triangular n×n L and an n×m B
/// (forward substitution, column by column).
pub fn forward(l: &[f64], n: usize, b: &[f64], m: usize) -> Vec<f64> {
    let mut y = b.to_vec();
    for c in 0..m {
        for i in 0..n {
            let mut s = y[i * m + c];
            for k in 0..i {
                s -= l[i * n + k] * y[k * m + c];
            }
            y[i * m + c] = s / l[i * n + i];
        }
    }
    y
}

/// X with Lᵀ X = B (back substitution, column by column).
pub fn backward(l: &[f64], n: usize, b: &[f64], m: usize) -> Vec<f64> {
    let mut x = b.to_vec();
    for c in 0..m {
        for i in (0..n).rev() {
            let mut s = x[i * m + c];
            for k in i + 1..n {
                s -= l[k * n + i] * x[k * m + c];
            }
            x[i * m + c] = s / l[i * n + i];
        }
    }
    x
}

/// A⁻¹ = L⁻ᵀ L⁻¹ I, by the two substitutions on the identity.
pub fn inverse(l: &[f64], n: usize) -> Vec<f64> {
    let mut eye = vec![0.0; n * n];
    for i in 0..n {
        eye[i * n + i] = 1.0;
    }
    backward(l, n, &forward(l, n, &eye, n), n)
}

/// log det A = 2 Σ log L_ii.
pub fn log_det(l: &[f64], n: usize) -> f64 {
    (0..n).map(|i| 2.0 * l[i * n + i].ln()).sum()
}

/// k(x, y) = σ_f² m(r) c(x, y) with ℓ = exp(`log_ls`), σ_f² = exp(`log_signal`):
/// r² = Σ_continuous d_i² / ℓ_i², m(r) = (1 + √5 r + 5r²/3) e^{-√5 r},
/// c = exp(-Σ_categorical δ_j / ℓ_j). A NaN coordinate is inactive: two
/// inactive coordinates are equal; against an active v a continuous one is
/// at d² = (v - 1/2)² + 1/4, a categorical one differs (δ = 1).
pub fn kernel(kinds: &[DimKind], log_ls: &[f64], log_signal: f64, x: &[f64], y: &[f64]) -> f64 {
    let mut r2 = 0.0;
    let mut hamming = 0.0;
    for i in 0..kinds.len() {
        let ls = log_ls[i].exp();
        let (a, b) = (x[i], y[i]);
        match kinds[i] {
            DimKind::Continuous => {
                let d2 = if a.is_nan() && b.is_nan() {
                    0.0
                } else if a.is_nan() {
                    (b - 0.5).powi(2) + 0.25
                } else if b.is_nan() {
                    (a - 0.5).powi(2) + 0.25
                } else {
                    (a - b).powi(2)
                };
                r2 += d2 / (ls * ls);
            }
            DimKind::Categorical => {
                let same = (a.is_nan() && b.is_nan()) || a == b;
                if !same {
                    hamming += 1.0 / ls;
                }
            }
        }
    }
    let r = r2.sqrt();
    let s5 = 5f64.sqrt();
    log_signal.exp() * (1.0 + s5 * r + 5.0 * r2 / 3.0) * (-s5 * r).exp() * (-hamming).exp()
}

/// The kernel between the rows of `a` (na×d) and of `b` (nb×d): na×nb.
pub fn kernel_matrix(
    kinds: &[DimKind],
    log_ls: &[f64],
    log_signal: f64,
    a: &[f64],
    b: &[f64],
) -> Vec<f64> {
    let d = kinds.len();
    let mut out = Vec::new();
    for x in a.chunks_exact(d) {
        for y in b.chunks_exact(d) {
            out.push(kernel(kinds, log_ls, log_signal, x, y));
        }
    }
    out
}

/// The posterior of a zero-mean GP at test points, and the log marginal
/// likelihood of the training targets.
pub struct Posterior {
    pub mean: Vec<f64>,
    pub var: Vec<f64>,
    pub log_ml: f64,
}

/// Rasmussen & Williams, Algorithm 2.1, for training inputs `x` (n×d),
/// targets `y` and test inputs `xs` (m×d), with θ = (log ℓ_1..d, log σ_f²,
/// log σ_n²):
///
/// ```text
/// L = cholesky(K + σ_n² I);  α = Lᵀ \ (L \ y)
/// f̄* = k*ᵀ α;  v = L \ k*;  V[f*] = k(x*, x*) - vᵀ v
/// log p(y | X) = -½ yᵀα - Σ_i log L_ii - (n/2) log 2π
/// ```
pub fn posterior(kinds: &[DimKind], theta: &[f64], x: &[f64], y: &[f64], xs: &[f64]) -> Posterior {
    let d = kinds.len();
    let (log_ls, log_signal, noise) = (&theta[..d], theta[d], theta[d + 1].exp());
    let n = y.len();
    let mut k = kernel_matrix(kinds, log_ls, log_signal, x, x);
    for i in 0..n {
        k[i * n + i] += noise;
    }
    let l = cholesky(&k, n).expect("K + σ_n² I is positive definite");
    let alpha = backward(&l, n, &forward(&l, n, y, 1), 1);
    let log_ml = -0.5 * y.iter().zip(&alpha).map(|(a, b)| a * b).sum::<f64>()
        - (0..n).map(|i| l[i * n + i].ln()).sum::<f64>()
        - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
    let (mut mean, mut var) = (Vec::new(), Vec::new());
    for p in xs.chunks_exact(d) {
        let ks = kernel_matrix(kinds, log_ls, log_signal, x, p);
        mean.push(ks.iter().zip(&alpha).map(|(a, b)| a * b).sum());
        let v = forward(&l, n, &ks, 1);
        var.push(kernel(kinds, log_ls, log_signal, p, p) - v.iter().map(|t| t * t).sum::<f64>());
    }
    Posterior { mean, var, log_ml }
}

/// `y` standardised to mean 0 and (population) standard deviation 1, with
/// the mean and standard deviation.
pub fn standardise(y: &[f64]) -> (Vec<f64>, f64, f64) {
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    (y.iter().map(|v| (v - mean) / sd).collect(), mean, sd)
}
