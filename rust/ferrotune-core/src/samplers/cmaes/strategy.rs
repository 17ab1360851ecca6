//! CMA-ES's strategy parameters: population, recombination weights and
//! learning rates, as functions of the dimension and the population size
//! (Hansen, "The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772,
//! Appendix A, eq. 48-58; the separable variant from Ros & Hansen 2008; the
//! positive-weight variant of CatCMA, Hamano et al. 2024).

/// Which update the weights and learning rates are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Full covariance with negative (active) weights, as the tutorial.
    Full,
    /// Diagonal covariance (sep-CMA-ES, Ros & Hansen 2008).
    Separable,
    /// Positive weights only, as CatCMA's Gaussian part (Hamano et al. 2024).
    Positive,
}

/// The default population size 4 + ⌊3 ln n⌋ (tutorial, eq. 48).
pub fn default_popsize(n: usize) -> usize {
    4 + (3.0 * (n.max(1) as f64).ln()).floor() as usize
}

/// Weights and learning rates for dimension `n` and population `lambda`.
#[derive(Debug, Clone, PartialEq)]
pub struct Strategy {
    pub n: usize,
    pub lambda: usize,
    pub mu: usize,
    /// One weight per rank, best first (negative ones only for `Full`).
    pub weights: Vec<f64>,
    pub mu_eff: f64,
    pub c1: f64,
    pub cmu: f64,
    pub c_sigma: f64,
    pub d_sigma: f64,
    pub cc: f64,
    pub cm: f64,
    /// E‖N(0, I)‖ (tutorial, p. 28 / eq. 44's denominator).
    pub chi_n: f64,
}

impl Strategy {
    /// The tutorial's defaults (Appendix A) for `n` dimensions, population
    /// `lambda` (at least 2) and `variant`.
    pub fn new(n: usize, lambda: usize, variant: Variant) -> Self {
        let lambda = lambda.max(2);
        let nf = n as f64;
        let mu = lambda / 2;
        // (49) w'_i = ln((λ+1)/2) - ln i
        let wp: Vec<f64> = (1..=lambda)
            .map(|i| ((lambda as f64 + 1.0) / 2.0).ln() - (i as f64).ln())
            .collect();
        let pos_sum: f64 = wp[..mu].iter().sum();
        let mu_eff = pos_sum * pos_sum / wp[..mu].iter().map(|w| w * w).sum::<f64>();
        let alpha_cov = 2.0;
        // (57) rank-one and (58) rank-μ learning rates (58 as in the tutorial's
        // 2016 text and the `cmaes` package, without the later "+ 1/4" term)
        let c1 = alpha_cov / ((nf + 1.3).powi(2) + mu_eff);
        let cmu = (1.0 - c1).min(
            alpha_cov * (mu_eff - 2.0 + 1.0 / mu_eff)
                / ((nf + 2.0).powi(2) + alpha_cov * mu_eff / 2.0),
        );
        let mut weights: Vec<f64> = wp.iter().map(|w| w.max(0.0) / pos_sum).collect();
        let (c1, cmu) = match variant {
            Variant::Full => {
                // (50)-(53): negative weights scaled to the smallest of three bounds.
                let neg = &wp[mu..];
                let neg_abs: f64 = neg.iter().map(|w| w.abs()).sum();
                if neg_abs > 0.0 {
                    let mu_eff_m =
                        neg.iter().sum::<f64>().powi(2) / neg.iter().map(|w| w * w).sum::<f64>();
                    let alpha_mu = 1.0 + c1 / cmu; // (50)
                    let alpha_mueff = 1.0 + 2.0 * mu_eff_m / (mu_eff + 2.0); // (51)
                    let alpha_posdef = (1.0 - c1 - cmu) / (nf * cmu); // (52)
                    let a = alpha_mu.min(alpha_mueff).min(alpha_posdef);
                    for (w, p) in weights[mu..].iter_mut().zip(neg) {
                        *w = a * p / neg_abs; // (53)
                    }
                }
                (c1, cmu)
            }
            // Ros & Hansen 2008: the covariance learning rates times (n + 2) / 3.
            Variant::Separable => {
                let c1s = (c1 * (nf + 2.0) / 3.0).min(1.0);
                (c1s, (cmu * (nf + 2.0) / 3.0).min(1.0 - c1s))
            }
            Variant::Positive => (c1, cmu),
        };
        // (55) step-size control, (56) cumulation for the rank-one update
        let c_sigma = (mu_eff + 2.0) / (nf + mu_eff + 5.0);
        let d_sigma = 1.0 + 2.0 * (((mu_eff - 1.0) / (nf + 1.0)).sqrt() - 1.0).max(0.0) + c_sigma;
        let cc = (4.0 + mu_eff / nf) / (nf + 4.0 + 2.0 * mu_eff / nf);
        let chi_n = nf.sqrt() * (1.0 - 1.0 / (4.0 * nf) + 1.0 / (21.0 * nf * nf));
        Strategy {
            n,
            lambda,
            mu,
            weights,
            mu_eff,
            c1,
            cmu,
            c_sigma,
            d_sigma,
            cc,
            cm: 1.0, // (54)
            chi_n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_tutorial() {
        assert_eq!(default_popsize(10), 10);
        assert_eq!(default_popsize(2), 6);
        let s = Strategy::new(10, 10, Variant::Full);
        assert_eq!(s.mu, 5);
        let pos: f64 = s.weights[..5].iter().sum();
        assert!((pos - 1.0).abs() < 1e-12);
        assert!(s.weights[5..].iter().all(|&w| w <= 0.0));
        assert!(s.weights.windows(2).all(|w| w[0] >= w[1]));
        // The negative weights keep C positive definite: 1 - c1 - cμ Σw >= 0.
        let sum: f64 = s.weights.iter().sum();
        assert!(1.0 - s.c1 - s.cmu * sum >= -1e-12);
        let p = Strategy::new(10, 10, Variant::Positive);
        assert!(p.weights[5..].iter().all(|&w| w == 0.0));
        let sep = Strategy::new(10, 10, Variant::Separable);
        assert!((sep.c1 - s.c1 * 4.0).abs() < 1e-15 && sep.c1 + sep.cmu <= 1.0);
    }
}
