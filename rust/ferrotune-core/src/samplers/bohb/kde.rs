//! The multivariate product-kernel density estimator of BOHB (Falkner, Klein
//! and Hutter 2018, section 4; statsmodels' `KDEMultivariate` as HpBandSter
//! uses it): a Gaussian kernel on each continuous dimension (values in the
//! unit interval) and an Aitchison-Aitken kernel on each categorical one,
//! with normal-reference bandwidths floored at a minimum.

use crate::rng::Rng;
use crate::samplers::tpe::truncnorm::truncnorm_sample;

/// ln(sqrt(2 pi)).
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// How one dimension is modelled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A value in [0, 1] (a float's or int's unit representation).
    Continuous,
    /// A choice index among `n` (n >= 2).
    Categorical(usize),
}

/// A fitted product-kernel density over rows of `kinds.len()` values.
#[derive(Debug, Clone, PartialEq)]
pub struct Kde {
    kinds: Vec<Kind>,
    /// Row-major data, one row per observation.
    data: Vec<f64>,
    /// Per dimension: the Gaussian's standard deviation, or the
    /// Aitchison-Aitken lambda.
    pub bw: Vec<f64>,
    /// Weight w of a uniform component, as if w more observations were
    /// spread uniformly (TPE's prior): the density is (n kde + w) / (n + w).
    pub prior_weight: f64,
}

impl Kde {
    /// Fits a density to `data` (row-major, at least one row of
    /// `kinds.len()` values). Bandwidths: the normal reference rule of
    /// statsmodels, 1.06 sd n^(-1/(4+d)) with the population standard
    /// deviation, for every dimension, floored at `min_bw`; a categorical's
    /// lambda is also capped at (c-1)/c (the uniform kernel), beyond which
    /// Aitchison-Aitken weights would favour the other choices. With
    /// `magic_clip` a continuous bandwidth is also floored at
    /// 1 / min(100, n + 1) of the unit range, n the number of rows (the floor
    /// of Optuna's TPE), so it narrows only as observations accumulate.
    pub fn fit(kinds: &[Kind], data: Vec<f64>, min_bw: f64, magic_clip: bool) -> Kde {
        let d = kinds.len();
        let n = data.len() / d.max(1);
        let factor = 1.06 * (n as f64).powf(-1.0 / (4.0 + d as f64));
        let clip = if magic_clip {
            min_bw.max(1.0 / (n as f64 + 1.0).min(100.0))
        } else {
            min_bw
        };
        let bw = kinds
            .iter()
            .enumerate()
            .map(|(j, k)| {
                let col = (0..n).map(|i| data[i * d + j]);
                let mean = col.clone().sum::<f64>() / n as f64;
                let var = col.map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
                let b = (factor * var.sqrt()).max(min_bw);
                match k {
                    Kind::Continuous => b.max(clip),
                    Kind::Categorical(c) => b.min((*c as f64 - 1.0) / *c as f64),
                }
            })
            .collect();
        Kde {
            kinds: kinds.to_vec(),
            data,
            bw,
            prior_weight: 0.0,
        }
    }

    /// The density mixed with a uniform component of weight `w` (>= 0).
    pub fn with_prior(mut self, w: f64) -> Kde {
        self.prior_weight = w;
        self
    }

    /// log of the uniform density over the model space at `x` (categoricals
    /// 1/c each, continuous 1 inside the unit interval).
    fn log_uniform(&self, x: &[f64]) -> f64 {
        let mut lp = 0.0;
        for (k, &v) in self.kinds.iter().zip(x) {
            match k {
                Kind::Continuous if !(0.0..=1.0).contains(&v) => return f64::NEG_INFINITY,
                Kind::Continuous => {}
                Kind::Categorical(c) => lp -= (*c as f64).ln(),
            }
        }
        lp
    }

    /// Number of observations.
    pub fn n(&self) -> usize {
        self.data.len() / self.kinds.len().max(1)
    }

    /// log density at `x`: log of (1/n) sum_i prod_j K_j(x_j, X_ij), with
    /// Gaussian kernels not truncated to the unit interval (as statsmodels).
    /// The kernels' constants are taken out of the loop over observations and
    /// the sum is a streaming log-sum-exp (checked against the plain double
    /// loop in the tests).
    pub fn log_pdf(&self, x: &[f64]) -> f64 {
        let kde = self.log_pdf_kernels(x);
        let w = self.prior_weight;
        if w <= 0.0 {
            return kde;
        }
        let n = self.n() as f64;
        let (a, b) = (n.ln() + kde, w.ln() + self.log_uniform(x));
        let m = a.max(b);
        if m == f64::NEG_INFINITY {
            return m;
        }
        m + ((a - m).exp() + (b - m).exp()).ln() - (n + w).ln()
    }

    /// log of the kernel sum alone, (1/n) sum_i prod_j K_j(x_j, X_ij).
    fn log_pdf_kernels(&self, x: &[f64]) -> f64 {
        let d = self.kinds.len();
        // Per dimension: 1/bw for a Gaussian; (log same, log other) for a categorical.
        let mut constant = -(self.n() as f64).ln();
        let mut per_dim: Vec<(f64, f64)> = Vec::with_capacity(d);
        for (k, &bw) in self.kinds.iter().zip(&self.bw) {
            match k {
                Kind::Continuous => {
                    constant -= HALF_LN_2PI + bw.ln();
                    per_dim.push((1.0 / bw, 0.0));
                }
                Kind::Categorical(c) => {
                    per_dim.push(((1.0 - bw).ln(), (bw / (*c as f64 - 1.0)).ln()))
                }
            }
        }
        let (mut max, mut sum) = (f64::NEG_INFINITY, 0.0);
        for row in self.data.chunks_exact(d.max(1)) {
            let mut s = 0.0;
            for (j, k) in self.kinds.iter().enumerate() {
                let (a, b) = per_dim[j];
                s += match k {
                    Kind::Continuous => {
                        let z = (x[j] - row[j]) * a;
                        -0.5 * z * z
                    }
                    Kind::Categorical(_) if x[j] == row[j] => a,
                    Kind::Categorical(_) => b,
                };
            }
            if s > max {
                sum = sum * (max - s).exp() + 1.0;
                max = s;
            } else {
                sum += (s - max).exp();
            }
        }
        if max == f64::NEG_INFINITY {
            return max;
        }
        constant + max + sum.ln()
    }

    /// One draw as HpBandSter's BOHB proposes a candidate: a random
    /// observation, each continuous value moved by a normal of standard
    /// deviation `factor` times its bandwidth truncated to [0, 1], each
    /// categorical kept with probability 1 - lambda and otherwise drawn
    /// uniformly. With a prior weight w the draw is uniform with probability
    /// w / (n + w).
    pub fn sample(&self, rng: &mut Rng, factor: f64, out: &mut Vec<f64>) {
        let d = self.kinds.len();
        let w = self.prior_weight;
        if w > 0.0 && rng.uniform() * (self.n() as f64 + w) < w {
            out.clear();
            for k in &self.kinds {
                out.push(match k {
                    Kind::Continuous => rng.uniform(),
                    Kind::Categorical(c) => rng.below(*c as u64) as f64,
                });
            }
            return;
        }
        let i = rng.below(self.n() as u64) as usize;
        let row = &self.data[i * d..(i + 1) * d];
        out.clear();
        for (j, k) in self.kinds.iter().enumerate() {
            out.push(match k {
                Kind::Continuous => truncnorm_sample(rng, row[j], factor * self.bw[j], 0.0, 1.0),
                Kind::Categorical(c) => {
                    if rng.uniform() < 1.0 - self.bw[j] {
                        row[j]
                    } else {
                        rng.below(*c as u64) as f64
                    }
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The density written as the textbook double loop, without log-sum-exp.
    fn plain_pdf(k: &Kde, x: &[f64]) -> f64 {
        let d = k.kinds.len();
        let mut total = 0.0;
        for i in 0..k.n() {
            let mut p = 1.0;
            for j in 0..d {
                let xi = k.data[i * d + j];
                p *= match k.kinds[j] {
                    Kind::Continuous => {
                        let z = (x[j] - xi) / k.bw[j];
                        (-0.5 * z * z).exp() / (k.bw[j] * (2.0 * std::f64::consts::PI).sqrt())
                    }
                    Kind::Categorical(_) if x[j] == xi => 1.0 - k.bw[j],
                    Kind::Categorical(c) => k.bw[j] / (c as f64 - 1.0),
                };
            }
            total += p;
        }
        total / k.n() as f64
    }

    #[test]
    fn log_pdf_equals_the_plain_product_kernel_sum() {
        let mut rng = Rng::new(5);
        let kinds = [Kind::Continuous, Kind::Categorical(3), Kind::Continuous];
        for n in [1, 2, 7, 30] {
            let data: Vec<f64> = (0..n)
                .flat_map(|_| [rng.uniform(), rng.below(3) as f64, rng.uniform()])
                .collect();
            let k = Kde::fit(&kinds, data, 1e-3, false);
            for _ in 0..20 {
                let x = [rng.uniform(), rng.below(3) as f64, rng.uniform()];
                let p = plain_pdf(&k, &x);
                if p < 1e-250 {
                    continue; // the plain sum underflows; log-sum-exp does not
                }
                let (a, b) = (k.log_pdf(&x), p.ln());
                assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn the_prior_mixes_a_uniform_density_in() {
        let mut rng = Rng::new(6);
        let kinds = [Kind::Continuous, Kind::Categorical(4)];
        let data: Vec<f64> = (0..6)
            .flat_map(|_| [rng.uniform(), rng.below(4) as f64])
            .collect();
        let plain = Kde::fit(&kinds, data.clone(), 1e-3, false);
        let mixed = plain.clone().with_prior(2.0);
        for _ in 0..20 {
            let x = [rng.uniform(), rng.below(4) as f64];
            let want = (6.0 * plain_pdf(&plain, &x) + 2.0 * 0.25) / 8.0;
            assert!((mixed.log_pdf(&x) - want.ln()).abs() < 1e-9);
        }
        // Outside the unit interval only the kernels count.
        let x = [1.5, 0.0];
        let want = 6.0 * plain_pdf(&plain, &x) / 8.0;
        assert!((mixed.log_pdf(&x) - want.ln()).abs() < 1e-9);
        // A quarter of the draws (w / (n + w)) are uniform: with all data at
        // 0.5 and tiny bandwidths, those are the draws away from 0.5.
        let k = Kde::fit(&[Kind::Continuous], vec![0.5; 6], 1e-6, false).with_prior(2.0);
        let mut v = Vec::new();
        let far = (0..20000)
            .filter(|_| {
                k.sample(&mut rng, 1.0, &mut v);
                (v[0] - 0.5).abs() > 1e-3
            })
            .count() as f64;
        assert!((far / 20000.0 - 0.25 * 0.998).abs() < 0.015, "{far}");
    }

    #[test]
    fn bandwidths_follow_the_normal_reference_rule_and_the_floor() {
        // Column 0: 0.2, 0.4, 0.6, 0.8 (sd sqrt(0.05)); column 1 constant.
        let data = vec![0.2, 0.5, 0.4, 0.5, 0.6, 0.5, 0.8, 0.5];
        let k = Kde::fit(&[Kind::Continuous, Kind::Continuous], data, 1e-3, false);
        let want = 1.06 * 0.05f64.sqrt() * 4f64.powf(-1.0 / 6.0);
        assert!((k.bw[0] - want).abs() < 1e-12);
        assert_eq!(k.bw[1], 1e-3);
        // Categorical: capped at (c-1)/c.
        let data = vec![0.0, 1.0, 0.0, 1.0];
        let k = Kde::fit(&[Kind::Categorical(2)], data, 1e-3, false);
        assert!(k.bw[0] <= 0.5);
        let k = Kde::fit(&[Kind::Continuous], vec![0.3; 5], 0.25, false);
        assert_eq!(k.bw[0], 0.25);
        // The magic clip: 1 / min(100, n + 1) unless min_bw is larger.
        let k = Kde::fit(&[Kind::Continuous], vec![0.3; 5], 1e-3, true);
        assert_eq!(k.bw[0], 1.0 / 6.0);
        let k = Kde::fit(&[Kind::Continuous], vec![0.3; 500], 1e-3, true);
        assert_eq!(k.bw[0], 0.01);
        let k = Kde::fit(&[Kind::Continuous], vec![0.3; 5], 0.25, true);
        assert_eq!(k.bw[0], 0.25);
        // Categoricals keep the plain floor.
        let k = Kde::fit(&[Kind::Categorical(3)], vec![1.0; 5], 1e-3, true);
        assert_eq!(k.bw[0], 1e-3);
    }

    #[test]
    fn samples_stay_in_the_unit_interval_and_among_the_choices() {
        let mut rng = Rng::new(9);
        let kinds = [Kind::Continuous, Kind::Categorical(4)];
        let k = Kde::fit(&kinds, vec![0.0, 0.0, 1.0, 3.0, 0.999, 2.0], 1e-3, false);
        let mut v = Vec::new();
        for _ in 0..5000 {
            k.sample(&mut rng, 3.0, &mut v);
            assert!((0.0..=1.0).contains(&v[0]), "{v:?}");
            assert!(v[1].fract() == 0.0 && (0.0..4.0).contains(&v[1]));
        }
    }
}
