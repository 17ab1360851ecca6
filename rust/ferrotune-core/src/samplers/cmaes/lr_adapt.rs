//! Learning-rate adaptation (Nomura, Akimoto & Ono 2023, "CMA-ES with
//! Learning Rate Adaptation: Can CMA-ES with Default Population Size Solve
//! Multimodal and Noisy Problems?", GECCO; Algorithm 1 and its defaults
//! α = 1.4, β_m = 0.1, β_Σ = 0.03, γ = 0.1): the learning rates η_m of the
//! mean and η_Σ of the covariance σ²C follow the signal-to-noise ratio of
//! their updates, measured in the local coordinates of the old distribution.

use super::eigen::sym_eigen;
use super::gaussian::Gaussian;

const ALPHA: f64 = 1.4;
const BETA_M: f64 = 0.1;
const BETA_S: f64 = 0.03;
const GAMMA: f64 = 0.1;

/// The moving averages and the current learning rates.
#[derive(Debug, Clone, PartialEq)]
pub struct LrAdapt {
    e_mean: Vec<f64>,
    e_sigma: Vec<f64>,
    v_mean: f64,
    v_sigma: f64,
    pub eta_mean: f64,
    pub eta_sigma: f64,
}

impl LrAdapt {
    /// Zero averages and unit learning rates for `n` dimensions.
    pub fn new(n: usize) -> Self {
        LrAdapt {
            e_mean: vec![0.0; n],
            e_sigma: vec![0.0; n * n],
            v_mean: 0.0,
            v_sigma: 0.0,
            eta_mean: 1.0,
            eta_sigma: 1.0,
        }
    }

    /// Rescales the step from `old` to `new` (a full-covariance Gaussian
    /// just updated by CMA) by the adapted learning rates.
    pub fn adapt(&mut self, old: &Gaussian, new: &mut Gaussian) {
        let n = new.n;
        let dm: Vec<f64> = new.mean.iter().zip(&old.mean).map(|(a, b)| a - b).collect();
        let s_old: Vec<f64> = old.cov.iter().map(|c| c * old.sigma * old.sigma).collect();
        let d_s: Vec<f64> = new
            .cov
            .iter()
            .zip(&s_old)
            .map(|(c, so)| c * new.sigma * new.sigma - so)
            .collect();
        // Local coordinates: Σ_old^(-1/2) Δm and Σ_old^(-1/2) ΔΣ Σ_old^(-1/2) / √2.
        let loc_m: Vec<f64> = old.inv_sqrt(&dm).iter().map(|v| v / old.sigma).collect();
        let mut half = vec![0.0; n * n]; // Σ_old^(-1/2) ΔΣ, row by row
        for j in 0..n {
            let col: Vec<f64> = (0..n).map(|i| d_s[i * n + j]).collect();
            for (i, v) in old.inv_sqrt(&col).into_iter().enumerate() {
                half[i * n + j] = v / old.sigma;
            }
        }
        let mut loc_s = vec![0.0; n * n];
        for i in 0..n {
            let row: Vec<f64> = half[i * n..(i + 1) * n].to_vec();
            for (j, v) in old.inv_sqrt(&row).into_iter().enumerate() {
                loc_s[i * n + j] = v / old.sigma / std::f64::consts::SQRT_2;
            }
        }
        let sq = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>();
        // Moving averages of the updates and of their squared norms.
        for (e, l) in self.e_mean.iter_mut().zip(&loc_m) {
            *e = (1.0 - BETA_M) * *e + BETA_M * l;
        }
        for (e, l) in self.e_sigma.iter_mut().zip(&loc_s) {
            *e = (1.0 - BETA_S) * *e + BETA_S * l;
        }
        self.v_mean = (1.0 - BETA_M) * self.v_mean + BETA_M * sq(&loc_m);
        self.v_sigma = (1.0 - BETA_S) * self.v_sigma + BETA_S * sq(&loc_s);
        // Estimated signal-to-noise ratios and the learning-rate updates.
        let snr = |e: f64, v: f64, beta: f64| (e - beta / (2.0 - beta) * v) / (v - e);
        let snr_m = snr(sq(&self.e_mean), self.v_mean, BETA_M);
        let snr_s = snr(sq(&self.e_sigma), self.v_sigma, BETA_S);
        let step = |eta: f64, snr: f64, beta: f64| {
            let rel = (snr / ALPHA / eta - 1.0).clamp(-1.0, 1.0);
            (eta * ((GAMMA * eta).min(beta) * rel).exp()).min(1.0)
        };
        let eta_m_before = self.eta_mean;
        if snr_m.is_finite() {
            self.eta_mean = step(self.eta_mean, snr_m, BETA_M);
        }
        if snr_s.is_finite() {
            self.eta_sigma = step(self.eta_sigma, snr_s, BETA_S);
        }
        // m = m_old + η_m Δm, Σ = Σ_old + η_Σ ΔΣ, then Σ split into σ² C.
        for (m, (o, d)) in new.mean.iter_mut().zip(old.mean.iter().zip(&dm)) {
            *m = o + self.eta_mean * d;
        }
        let sigma_mat: Vec<f64> = s_old
            .iter()
            .zip(&d_s)
            .map(|(s, d)| s + self.eta_sigma * d)
            .collect();
        let (w, _) = sym_eigen(&sigma_mat, n);
        let log_sum: f64 = w.iter().map(|v| v.max(1e-300).ln()).sum();
        let sigma = (log_sum / 2.0 / n as f64).exp().min(1e32);
        new.cov = sigma_mat.iter().map(|s| s / (sigma * sigma)).collect();
        // Step-size correction for the change of η_m.
        new.sigma = sigma * eta_m_before / self.eta_mean;
        new.decompose();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_rates_leave_the_update_unchanged_in_the_first_step() {
        // With η = 1 and a first estimate of SNR that raises η above 1 (capped),
        // the adapted Gaussian equals the plain update.
        let old = Gaussian::new(vec![0.5, 0.5], 0.2, false);
        let mut new = old.clone();
        new.mean = vec![0.6, 0.45];
        new.sigma = 0.18;
        new.cov = vec![1.2, 0.1, 0.1, 0.9];
        new.decompose();
        let plain = new.clone();
        let mut lr = LrAdapt::new(2);
        lr.adapt(&old, &mut new);
        assert!(lr.eta_mean <= 1.0 && lr.eta_sigma <= 1.0);
        for i in 0..2 {
            let dm_plain = plain.mean[i] - old.mean[i];
            let dm = new.mean[i] - old.mean[i];
            assert!((dm - lr.eta_mean * dm_plain).abs() < 1e-12);
        }
        // σ²C after adaptation = Σ_old + η_Σ ΔΣ (before the step-size correction).
        let corr = new.sigma * lr.eta_mean; // eta_mean_before = 1
        for k in 0..4 {
            let s_old = old.cov[k] * old.sigma * old.sigma;
            let s_plain = plain.cov[k] * plain.sigma * plain.sigma;
            let want = s_old + lr.eta_sigma * (s_plain - s_old);
            assert!((new.cov[k] * corr * corr - want).abs() < 1e-12, "{k}");
        }
    }
}
