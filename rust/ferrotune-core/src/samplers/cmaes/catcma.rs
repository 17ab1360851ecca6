//! The categorical half of CatCMA (Hamano, Saito, Nomura, Uchida &
//! Shirakawa 2024, "CatCMA: Stochastic Optimization for Mixed-Category
//! Problems", GECCO): one categorical distribution q per parameter, updated
//! jointly with the Gaussian from the same ranking by the natural gradient
//! with the adaptive step of ASNG (Akimoto et al. 2019; the paper's eq. 12-16)
//! and a margin q_min = (1 - 0.73^(1/N_ca)) / (K - 1) on every category
//! (the paper's Section 4.3), so no category's probability goes to zero.

use crate::rng::Rng;

/// The categorical distributions and the step-size state of their update.
#[derive(Debug, Clone, PartialEq)]
pub struct CatDist {
    /// `q[i][k]`: probability of category k of parameter i.
    pub q: Vec<Vec<f64>>,
    q_min: Vec<f64>,
    /// Δ, the accumulation s and γ of the adaptive step (ASNG).
    delta_big: f64,
    s: Vec<f64>,
    gamma: f64,
}

const ASNG_ALPHA: f64 = 1.5;

impl CatDist {
    /// Uniform distributions over `ks[i]` categories (each at least 2).
    pub fn new(ks: &[usize]) -> Self {
        let n_ca = ks.len() as f64;
        let free: usize = ks.iter().map(|k| k - 1).sum();
        CatDist {
            q: ks.iter().map(|&k| vec![1.0 / k as f64; k]).collect(),
            q_min: ks
                .iter()
                .map(|&k| (1.0 - 0.73f64.powf(1.0 / n_ca)) / (k as f64 - 1.0))
                .collect(),
            delta_big: 1.0,
            s: vec![0.0; free],
            gamma: 0.0,
        }
    }

    /// One category per parameter, drawn from q.
    pub fn sample(&self, rng: &mut Rng) -> Vec<usize> {
        self.q
            .iter()
            .map(|q| {
                let u = rng.uniform();
                let mut acc = 0.0;
                for (k, p) in q.iter().enumerate() {
                    acc += p;
                    if u < acc {
                        return k;
                    }
                }
                q.len() - 1
            })
            .collect()
    }

    /// The update from the ranked samples `cs` (best first) and the
    /// recombination weights (non-negative, summing to 1).
    pub fn tell(&mut self, weights: &[f64], cs: &[Vec<usize>]) {
        // Natural gradient Σ w_i (c_i - q) (eq. 12).
        let mut grad: Vec<Vec<f64>> = self.q.iter().map(|q| vec![0.0; q.len()]).collect();
        for (w, c) in weights.iter().zip(cs) {
            for ((g, q), &ci) in grad.iter_mut().zip(&self.q).zip(c) {
                for (k, (gk, qk)) in g.iter_mut().zip(q).enumerate() {
                    *gk += w * (f64::from(u8::from(k == ci)) - qk);
                }
            }
        }
        // Its norm in the Fisher metric, over the K - 1 free coordinates.
        let mut sq_f = Vec::with_capacity(self.s.len());
        for (g, q) in grad.iter().zip(&self.q) {
            let kl = q.len() - 1;
            let (q_last, g_sum) = (q[kl], g[..kl].iter().sum::<f64>());
            for k in 0..kl {
                sq_f.push(g[k] / q[k].sqrt() + q[k].sqrt() * g_sum / (q_last + q_last.sqrt()));
            }
        }
        let pnorm = sq_f.iter().map(|v| v * v).sum::<f64>().sqrt() + 1e-30;
        let delta = 1.0 / self.delta_big;
        let eps = delta / pnorm;
        for (q, g) in self.q.iter_mut().zip(&grad) {
            for (qk, gk) in q.iter_mut().zip(g) {
                *qk += eps * gk;
            }
        }
        // Adaptive step: accumulate the normalised gradient (ASNG).
        let beta = delta / (self.s.len() as f64).sqrt();
        for (s, v) in self.s.iter_mut().zip(&sq_f) {
            *s = (1.0 - beta) * *s + (beta * (2.0 - beta)).sqrt() * v / pnorm;
        }
        self.gamma = (1.0 - beta).powi(2) * self.gamma + beta * (2.0 - beta);
        let ss: f64 = self.s.iter().map(|v| v * v).sum();
        self.delta_big *= (beta * (self.gamma - ss / ASNG_ALPHA)).exp();
        self.apply_margin();
    }

    /// Lifts every probability to at least q_min and renormalises.
    fn apply_margin(&mut self) {
        for (q, &qm) in self.q.iter_mut().zip(&self.q_min) {
            for p in q.iter_mut() {
                *p = p.max(qm);
            }
            let sum: f64 = q.iter().sum();
            let spare = sum - qm * q.len() as f64;
            if spare > 0.0 {
                for p in q.iter_mut() {
                    *p -= (sum - 1.0) * (*p - qm) / spare;
                }
            }
            let sum: f64 = q.iter().sum();
            for p in q.iter_mut() {
                *p /= sum;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rewarded_category_gains_and_none_falls_below_the_margin() {
        let mut d = CatDist::new(&[3, 2]);
        let w = [0.6, 0.4, 0.0, 0.0];
        for _ in 0..200 {
            // Category 2 of parameter 0 and category 0 of parameter 1 rank first.
            let cs = vec![vec![2, 0], vec![2, 0], vec![0, 1], vec![1, 1]];
            d.tell(&w, &cs);
        }
        assert!(d.q[0][2] > 0.8 && d.q[1][0] > 0.8, "{:?}", d.q);
        for (q, &m) in d.q.iter().zip(&d.q_min) {
            assert!((q.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert!(q.iter().all(|&p| p >= m * (1.0 - 1e-9)));
        }
    }
}
