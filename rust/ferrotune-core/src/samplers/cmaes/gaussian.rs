//! The search distribution N(m, σ² C) and its update from one ranked
//! generation, as in Hansen's tutorial (arXiv:1604.00772, eq. 38-47), with a
//! diagonal C for sep-CMA-ES (Ros & Hansen 2008).

use super::eigen::{sym_eigen, sym_eigen_from};
use super::strategy::Strategy;
use crate::rng::Rng;

/// Floor of an eigenvalue of C (numerical noise can make one negative).
const EIG_FLOOR: f64 = 1e-300;
/// σ is kept below this, as the `cmaes` package does.
const SIGMA_MAX: f64 = 1e32;

/// A standard normal draw (Box-Muller; two uniforms per draw so that the
/// sampler's state stays its generator's four words).
pub fn std_normal(rng: &mut Rng) -> f64 {
    let u1 = 1.0 - rng.uniform(); // (0, 1]
    let u2 = rng.uniform();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Mean, step size, covariance, evolution paths and the eigendecomposition
/// C = B D² Bᵀ (tutorial, eq. 14-15) kept for sampling.
#[derive(Debug, Clone, PartialEq)]
pub struct Gaussian {
    pub n: usize,
    pub mean: Vec<f64>,
    pub sigma: f64,
    /// Full: n×n row-major; separable: the n diagonal entries.
    pub cov: Vec<f64>,
    pub separable: bool,
    pub p_sigma: Vec<f64>,
    pub p_c: Vec<f64>,
    /// Generations told so far (g in the tutorial).
    pub g: u64,
    /// Eigenvectors B (column k is `b[i * n + k]`; unused when separable).
    pub b: Vec<f64>,
    /// D: the square roots of the eigenvalues of C.
    pub d: Vec<f64>,
}

impl Gaussian {
    /// N(mean, σ² I).
    pub fn new(mean: Vec<f64>, sigma: f64, separable: bool) -> Self {
        let n = mean.len();
        let cov = if separable {
            vec![1.0; n]
        } else {
            (0..n * n)
                .map(|k| f64::from(u8::from(k / n == k % n)))
                .collect()
        };
        let mut g = Gaussian {
            n,
            mean,
            sigma,
            cov,
            separable,
            p_sigma: vec![0.0; n],
            p_c: vec![0.0; n],
            g: 0,
            b: Vec::new(),
            d: Vec::new(),
        };
        g.decompose();
        g
    }

    /// Diagonal entry C_ii.
    pub fn c_diag(&self, i: usize) -> f64 {
        if self.separable {
            self.cov[i]
        } else {
            self.cov[i * self.n + i]
        }
    }

    /// Symmetrises C, floors its eigenvalues and refreshes B and D.
    pub fn decompose(&mut self) {
        let n = self.n;
        if self.separable {
            for c in &mut self.cov {
                *c = c.max(EIG_FLOOR);
            }
            self.d = self.cov.iter().map(|c| c.sqrt()).collect();
            return;
        }
        // From the last eigenvectors when there are some (C moved little since).
        let (w, b) = if self.b.len() == n * n {
            sym_eigen_from(&self.cov, n, &self.b)
        } else {
            sym_eigen(&self.cov, n)
        };
        let w: Vec<f64> = w.into_iter().map(|v| v.max(EIG_FLOOR)).collect();
        // C = B diag(w) Bᵀ, exactly symmetric.
        for i in 0..n {
            for j in i..n {
                let v: f64 = (0..n).map(|k| b[i * n + k] * w[k] * b[j * n + k]).sum();
                self.cov[i * n + j] = v;
                self.cov[j * n + i] = v;
            }
        }
        self.d = w.iter().map(|v| v.sqrt()).collect();
        self.b = b;
    }

    /// y = B D z ~ N(0, C) (tutorial, eq. 39).
    pub fn scale(&self, z: &[f64]) -> Vec<f64> {
        let n = self.n;
        if self.separable {
            return z.iter().zip(&self.d).map(|(z, d)| z * d).collect();
        }
        (0..n)
            .map(|i| (0..n).map(|k| self.b[i * n + k] * self.d[k] * z[k]).sum())
            .collect()
    }

    /// C^(-1/2) y = B D⁻¹ Bᵀ y.
    pub fn inv_sqrt(&self, y: &[f64]) -> Vec<f64> {
        let n = self.n;
        if self.separable {
            return y.iter().zip(&self.d).map(|(y, d)| y / d).collect();
        }
        let t: Vec<f64> = (0..n)
            .map(|k| (0..n).map(|i| self.b[i * n + k] * y[i]).sum::<f64>() / self.d[k])
            .collect();
        (0..n)
            .map(|i| (0..n).map(|k| self.b[i * n + k] * t[k]).sum())
            .collect()
    }

    /// x = m + σ B D z for a fresh z ~ N(0, I) (tutorial, eq. 38-40).
    pub fn sample(&self, rng: &mut Rng) -> Vec<f64> {
        let z: Vec<f64> = (0..self.n).map(|_| std_normal(rng)).collect();
        let y = self.scale(&z);
        self.mean
            .iter()
            .zip(y)
            .map(|(m, y)| m + self.sigma * y)
            .collect()
    }

    /// One generation's update from its samples `xs`, ranked best first
    /// (tutorial, eq. 41-47). A sample marked `injected` was drawn from
    /// another distribution; its step is clipped to Mahalanobis length
    /// c_y = √n + 2n / (n + 2), as Hansen 2011 ("Injecting External
    /// Solutions Into CMA-ES", arXiv:1110.4181) proposes for injected steps.
    pub fn tell(&mut self, s: &Strategy, xs: &[Vec<f64>], injected: &[bool]) {
        let n = self.n;
        self.g += 1;
        let c_y = (n as f64).sqrt() + 2.0 * n as f64 / (n as f64 + 2.0);
        // y_i = (x_i - m) / σ (eq. 38)
        let ys: Vec<Vec<f64>> = xs
            .iter()
            .zip(injected.iter().chain(std::iter::repeat(&false)))
            .map(|(x, &inj)| {
                let y: Vec<f64> = x
                    .iter()
                    .zip(&self.mean)
                    .map(|(x, m)| (x - m) / self.sigma)
                    .collect();
                if !inj {
                    return y;
                }
                let norm = self.inv_sqrt(&y).iter().map(|v| v * v).sum::<f64>().sqrt();
                let f = if norm > c_y { c_y / norm } else { 1.0 };
                y.into_iter().map(|v| v * f).collect()
            })
            .collect();
        // ⟨y⟩_w = Σ_{i≤μ} w_i y_{i:λ} (eq. 41), m += c_m σ ⟨y⟩_w (eq. 42)
        let mut yw = vec![0.0; n];
        for (w, y) in s.weights[..s.mu].iter().zip(&ys) {
            for (a, b) in yw.iter_mut().zip(y) {
                *a += w * b;
            }
        }
        for (m, y) in self.mean.iter_mut().zip(&yw) {
            *m += s.cm * self.sigma * y;
        }
        // p_σ (eq. 43) and σ (eq. 44)
        let cs = s.c_sigma;
        let k = (cs * (2.0 - cs) * s.mu_eff).sqrt();
        let inv = self.inv_sqrt(&yw);
        for (p, v) in self.p_sigma.iter_mut().zip(&inv) {
            *p = (1.0 - cs) * *p + k * v;
        }
        let norm_ps = self.p_sigma.iter().map(|v| v * v).sum::<f64>().sqrt();
        self.sigma *= ((cs / s.d_sigma) * (norm_ps / s.chi_n - 1.0)).exp();
        self.sigma = self.sigma.min(SIGMA_MAX);
        // h_σ (p. 28) and p_c (eq. 45)
        let left = norm_ps / (1.0 - (1.0 - cs).powf(2.0 * (self.g as f64 + 1.0))).sqrt();
        let h_sigma = if left < (1.4 + 2.0 / (n as f64 + 1.0)) * s.chi_n {
            1.0
        } else {
            0.0
        };
        let kc = h_sigma * (s.cc * (2.0 - s.cc) * s.mu_eff).sqrt();
        for (p, y) in self.p_c.iter_mut().zip(&yw) {
            *p = (1.0 - s.cc) * *p + kc * y;
        }
        // w°_i (eq. 46): negative weights rescaled by n / ‖C^(-1/2) y_i‖²
        let w_io: Vec<f64> = s
            .weights
            .iter()
            .zip(&ys)
            .map(|(&w, y)| {
                if w >= 0.0 {
                    w
                } else {
                    let v = self.inv_sqrt(y);
                    w * n as f64 / (v.iter().map(|a| a * a).sum::<f64>() + 1e-300)
                }
            })
            .collect();
        self.update_cov(s, h_sigma, &ys, &w_io);
        self.decompose();
    }

    /// C ← (1 + c1 δ(h_σ) - c1 - cμ Σw) C + c1 p_c p_cᵀ + cμ Σ w°_i y_i y_iᵀ (eq. 47).
    fn update_cov(&mut self, s: &Strategy, h_sigma: f64, ys: &[Vec<f64>], w_io: &[f64]) {
        let n = self.n;
        let delta_h = (1.0 - h_sigma) * s.cc * (2.0 - s.cc);
        let wsum: f64 = s.weights.iter().sum();
        let decay = 1.0 + s.c1 * delta_h - s.c1 - s.cmu * wsum;
        if self.separable {
            for i in 0..n {
                let rank_mu: f64 = w_io.iter().zip(ys).map(|(w, y)| w * y[i] * y[i]).sum();
                self.cov[i] =
                    decay * self.cov[i] + s.c1 * self.p_c[i] * self.p_c[i] + s.cmu * rank_mu;
            }
            return;
        }
        for i in 0..n {
            for j in i..n {
                let rank_mu: f64 = w_io.iter().zip(ys).map(|(w, y)| w * y[i] * y[j]).sum();
                let v = decay * self.cov[i * n + j]
                    + s.c1 * self.p_c[i] * self.p_c[j]
                    + s.cmu * rank_mu;
                self.cov[i * n + j] = v;
                self.cov[j * n + i] = v;
            }
        }
    }
}
