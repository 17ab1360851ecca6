//! The priors of the MAP fit on the log-hyperparameters (see the docs of
//! [`super`]): lengthscales, signal variance and noise variance.

use crate::samplers::gp::kernel::DimKind;

/// Prior of every lengthscale (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LengthscalePrior {
    /// log ℓ ~ N(mean, sd²).
    LogNormal { mean: f64, sd: f64 },
    /// -log p(ℓ) = a (ℓ² + ℓ⁻²) + const (a > 0): mode ℓ = 1.
    TwoSided { a: f64 },
}

impl LengthscalePrior {
    /// -log p at log ℓ = t up to a constant, and its derivative in t.
    pub(in crate::samplers::gp) fn neg_log_density(&self, t: f64) -> (f64, f64) {
        match *self {
            LengthscalePrior::LogNormal { mean, sd } => {
                let z = (t - mean) / sd;
                (0.5 * z * z, z / sd)
            }
            LengthscalePrior::TwoSided { a } => {
                let (up, down) = ((2.0 * t).exp(), (-2.0 * t).exp());
                (a * (up + down), 2.0 * a * (up - down))
            }
        }
    }

    /// Mode of log ℓ.
    pub fn mode(&self) -> f64 {
        match *self {
            LengthscalePrior::LogNormal { mean, .. } => mean,
            LengthscalePrior::TwoSided { .. } => 0.0,
        }
    }

    /// Normal approximation of log ℓ used to draw random starts: the prior
    /// itself, or for [`LengthscalePrior::TwoSided`] the Laplace
    /// approximation at the mode (curvature 8a, so sd = 1/√(8a)).
    pub fn start_distribution(&self) -> (f64, f64) {
        match *self {
            LengthscalePrior::LogNormal { mean, sd } => (mean, sd),
            LengthscalePrior::TwoSided { a } => (0.0, 1.0 / (8.0 * a).sqrt()),
        }
    }
}

/// Prior of the log noise variance t = log σ_n².
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NoisePrior {
    /// t ~ N(mean, sd²).
    LogNormal { mean: f64, sd: f64 },
    /// t = log X with X ~ Gamma(shape, rate), so that -log p(t) is
    /// rate·eᵗ - shape·t up to a constant; mode eᵗ = shape / rate. Below the
    /// mode it rises only linearly in t (shape 0.1: 1 nat per factor e^10
    /// less noise), above it exponentially. With shape 0.1 and rate 30 it is
    /// Optuna's noise prior, Gamma(1.1, 30) on σ_n², as Optuna applies it to
    /// its log-parametrised fit (the density of σ_n², without the change of
    /// variables). Shape and rate must be positive.
    Gamma { shape: f64, rate: f64 },
}

impl NoisePrior {
    /// -log p at t up to a constant, and its derivative in t.
    pub(in crate::samplers::gp) fn neg_log_density(&self, t: f64) -> (f64, f64) {
        match *self {
            NoisePrior::LogNormal { mean, sd } => {
                let z = (t - mean) / sd;
                (0.5 * z * z, z / sd)
            }
            NoisePrior::Gamma { shape, rate } => {
                let e = t.exp();
                (-shape * t + rate * e, -shape + rate * e)
            }
        }
    }

    /// Mode of t.
    pub fn mode(&self) -> f64 {
        match *self {
            NoisePrior::LogNormal { mean, .. } => mean,
            NoisePrior::Gamma { shape, rate } => (shape / rate).ln(),
        }
    }

    /// Normal approximation of t used to draw random starts: the prior
    /// itself, or the Laplace approximation at the mode (curvature = shape).
    pub fn start_distribution(&self) -> (f64, f64) {
        match *self {
            NoisePrior::LogNormal { mean, sd } => (mean, sd),
            NoisePrior::Gamma { shape, .. } => (self.mode(), 1.0 / shape.sqrt()),
        }
    }
}

/// Priors of the hyperparameters: the lengthscales', a normal prior on the
/// log signal variance, (mean, standard deviation), and the noise prior.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Priors {
    /// Prior of every lengthscale of a continuous dimension.
    pub lengthscale: LengthscalePrior,
    /// Prior of every lengthscale of a categorical dimension (Hamming term).
    pub categorical_lengthscale: LengthscalePrior,
    /// Prior of the log signal variance.
    pub log_signal: (f64, f64),
    /// Prior of the log noise variance (ignored when the noise is fixed).
    pub noise: NoisePrior,
}

impl Priors {
    /// The log-normal priors of Hvarfner et al. documented in the module docs
    /// for `d` input dimensions; the default of [`super::FitConfig`].
    pub fn hvarfner(d: usize) -> Self {
        let d = d.max(1) as f64;
        let lengthscale = LengthscalePrior::LogNormal {
            mean: std::f64::consts::SQRT_2 + 0.5 * d.ln(),
            sd: 3f64.sqrt(),
        };
        Priors {
            lengthscale,
            categorical_lengthscale: lengthscale,
            log_signal: (0.0, 1.0),
            noise: NoisePrior::LogNormal {
                mean: -4.0,
                sd: 1.0,
            },
        }
    }

    /// [`LengthscalePrior::TwoSided`] with a = 0.1 on continuous dimensions,
    /// and the other priors of [`Priors::hvarfner`] for `d` dimensions. The
    /// Hamming term keeps the log-normal prior: exp(-δ/ℓ) needs ℓ ≫ 1 to
    /// ignore an irrelevant categorical, which the two-sided prior forbids.
    pub fn two_sided(d: usize) -> Self {
        Priors {
            lengthscale: LengthscalePrior::TwoSided { a: 0.1 },
            ..Priors::hvarfner(d)
        }
    }

    /// The prior of a dimension of kind `kind`.
    pub fn for_kind(&self, kind: DimKind) -> LengthscalePrior {
        match kind {
            DimKind::Continuous => self.lengthscale,
            DimKind::Categorical => self.categorical_lengthscale,
        }
    }

    /// -log p(θ) up to a constant, and its gradient (written into `g`, added).
    pub(in crate::samplers::gp) fn neg_log_density(
        &self,
        kinds: &[DimKind],
        theta: &[f64],
        g: &mut [f64],
        fixed_noise: bool,
    ) -> f64 {
        let d = theta.len() - 2;
        let mut v = 0.0;
        for (i, &kind) in kinds.iter().enumerate().take(d) {
            let (val, dval) = self.for_kind(kind).neg_log_density(theta[i]);
            v += val;
            g[i] += dval;
        }
        let (m, s) = self.log_signal;
        let z = (theta[d] - m) / s;
        g[d] += z / s;
        v += 0.5 * z * z;
        if !fixed_noise {
            let (val, dval) = self.noise.neg_log_density(theta[d + 1]);
            v += val;
            g[d + 1] += dval;
        }
        v
    }
}
