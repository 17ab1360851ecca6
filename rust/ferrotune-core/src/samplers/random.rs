//! Uniform random search (Bergstra & Bengio 2012), as Optuna's RandomSampler:
//! uniform in the range (in log space for log parameters); stepped and integer
//! parameters give each grid point an equal share.

use super::{expect_words, rng_from_words, rng_words, Sampler, SamplerState};
use crate::constraints::{Accept, SearchSpace};
use crate::error::Result;
use crate::history::History;
use crate::rng::Rng;
use crate::space::Distribution;

/// Independent uniform sampling from a seeded [`Rng`].
#[derive(Debug, Clone, PartialEq)]
pub struct RandomSampler {
    pub rng: Rng,
}

impl RandomSampler {
    /// A sampler whose draws are determined by `seed`.
    pub fn new(seed: u64) -> Self {
        RandomSampler {
            rng: Rng::new(seed),
        }
    }

    /// One draw from `dist`.
    #[inline]
    pub fn draw(&mut self, dist: &Distribution) -> f64 {
        dist.from_unit(self.rng.uniform())
    }
}

impl Sampler for RandomSampler {
    fn sample_independent(
        &mut self,
        _: &History,
        _: usize,
        _: &str,
        dist: &Distribution,
    ) -> Result<f64> {
        Ok(self.draw(dist))
    }

    fn sample_space(
        &mut self,
        _: &History,
        _: usize,
        space: &SearchSpace,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        space.sample_uniform(&mut self.rng, max_draws, accept)
    }

    /// The generator's four words.
    fn state(&self) -> SamplerState {
        rng_words(&self.rng)
    }

    fn set_state(&mut self, state: &[u64]) -> Result<()> {
        expect_words(state, 4)?;
        self.rng = rng_from_words(state)?;
        Ok(())
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_reproduce_and_values_stay_in_range() {
        let d = Distribution::int("n", 1, 1024, 1, true).unwrap();
        let mut a = RandomSampler::new(11);
        let mut b = RandomSampler::new(11);
        for _ in 0..1000 {
            let x = a.draw(&d);
            assert_eq!(x, b.draw(&d));
            assert!(d.contains(x));
        }
    }

    #[test]
    fn log_float_is_uniform_in_log_space() {
        let d = Distribution::float("lr", 1e-5, 1e-1, None, true).unwrap();
        let mut s = RandomSampler::new(2);
        let n = 40_000;
        let below = (0..n).filter(|_| s.draw(&d) < 1e-3).count();
        // Half of the log range lies below 1e-3.
        assert!((below as f64 / n as f64 - 0.5).abs() < 0.02);
    }
}
