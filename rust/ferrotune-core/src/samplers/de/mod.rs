//! Differential evolution (Storn and Price 1997) with the strategies
//! rand/1/bin and current-to-pbest/1/bin with an archive (JADE, Zhang and
//! Sanderson 2009), and success-history adaptation of F and CR (SHADE,
//! Tanabe and Fukunaga 2013) or JADE's adaptation.
//!
//! The search runs in the unit cube of `encoding`. The population lives in
//! the study: each trial vector's tag is `[MARK, generation, slot, F, CR,
//! u_1..u_d]`, `u` the continuous trial vector (ints and categoricals are
//! rounded only when decoded);
//! a generation closes as soon as each of its slots has a finished trial
//! vector (in the order trials finish), and its greedy selection, archive
//! and memory update are a deterministic function of the history and its
//! order of finishing (`population::Population`), so workers sharing a
//! study build one population. Each trial vector takes a slot of the open
//! generation that has no finished trial vector and the fewest proposed,
//! drawn at random (so concurrent workers spread over the slots); asks
//! while a generation waits for its last results so propose extra trial
//! vectors for the slots still waiting. One that finishes after its
//! generation closed replaces its slot's member at once when not worse
//! (asynchronous selection), so no worker idles, no result is wasted and a
//! FAIL, PRUNED or never-finishing trial stalls nothing.

pub(crate) mod encoding;
pub(crate) mod population;

use encoding::{cauchy, coords, standard_normal, Dims, TagEvent, TagReader};
use population::{Population, MARK};

use super::{expect_words, rng_from_words, rng_words, Sampler, SamplerState};
use crate::constraints::{Accept, SearchSpace, SAMPLER_DRAWS};
use crate::error::{Error, Result};
use crate::history::History;
use crate::rng::Rng;
use crate::space::Distribution;

/// How a mutant vector is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeStrategy {
    /// `v = x_r1 + F (x_r2 - x_r3)` (Storn and Price 1997, eq. 1).
    Rand1Bin,
    /// `v = x_i + F (x_pbest - x_i) + F (x_r1 - x~_r2)`, `x~_r2` from the
    /// population and the archive (JADE, eq. 6).
    CurrentToPBest1,
}

/// How F and CR are chosen for each trial vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adaptation {
    /// SHADE: memories of H entries, Cauchy F and normal CR around an entry
    /// drawn at random, updated by weighted means of the successful values.
    Shade,
    /// JADE: one mean each, moved towards the successful values (c = 0.1).
    Jade,
    /// The configuration's `mutation_factor` and `crossover_rate`.
    Fixed,
}

/// The configuration of [`DeSampler`] (defaults in [`DeConfig::default`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeConfig {
    /// NP: slots of the population.
    pub population_size: usize,
    pub strategy: DeStrategy,
    pub adaptation: Adaptation,
    /// F with [`Adaptation::Fixed`].
    pub mutation_factor: f64,
    /// CR with [`Adaptation::Fixed`].
    pub crossover_rate: f64,
    /// SHADE's H; None: the population size (SHADE's setting).
    pub memory_size: Option<usize>,
    /// The greediness of current-to-pbest: SHADE draws p in `[2/NP, p_max]`
    /// for each trial vector (this is `p_max`); JADE and fixed F use `p`.
    pub p_best_rate: f64,
    /// The archive's size as a multiple of NP (0: no archive).
    pub archive_rate: f64,
}

impl Default for DeConfig {
    /// NP = 20, current-to-pbest/1/bin, SHADE with H = NP, p_max = 0.2 and
    /// an archive of NP (Tanabe and Fukunaga 2013); F = 0.5 and CR = 0.9 for
    /// fixed parameters (Storn and Price 1997).
    fn default() -> Self {
        DeConfig {
            population_size: 20,
            strategy: DeStrategy::CurrentToPBest1,
            adaptation: Adaptation::Shade,
            mutation_factor: 0.5,
            crossover_rate: 0.9,
            memory_size: None,
            p_best_rate: 0.2,
            archive_rate: 1.0,
        }
    }
}

impl DeConfig {
    fn check(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidArgument(msg));
        if self.population_size < 4 {
            return bad(format!(
                "population_size must be at least 4, got {}",
                self.population_size
            ));
        }
        if !(self.mutation_factor > 0.0 && self.mutation_factor <= 2.0) {
            return bad(format!(
                "mutation_factor must be in (0, 2], got {}",
                self.mutation_factor
            ));
        }
        if !(0.0..=1.0).contains(&self.crossover_rate) {
            return bad(format!(
                "crossover_rate must be in [0, 1], got {}",
                self.crossover_rate
            ));
        }
        if self.memory_size == Some(0) {
            return bad("memory_size must be at least 1, got 0".into());
        }
        if !(self.p_best_rate > 0.0 && self.p_best_rate <= 1.0) {
            return bad(format!(
                "p_best_rate must be in (0, 1], got {}",
                self.p_best_rate
            ));
        }
        if !(self.archive_rate >= 0.0 && self.archive_rate <= 100.0) {
            return bad(format!(
                "archive_rate must be in [0, 100], got {}",
                self.archive_rate
            ));
        }
        Ok(())
    }
}

/// Differential evolution over the study's trials (see the module's
/// documentation).
#[derive(Debug, Clone)]
pub struct DeSampler {
    cfg: DeConfig,
    rng: Rng,
    reader: TagReader,
    pop: Population,
    /// The tag of the trial vector just proposed, for [`Sampler::take_tag`].
    next_tag: Option<(usize, Vec<f64>)>,
}

/// One trial vector in the unit cube, with the F and CR that made it (0 and
/// 0 for a uniform draw).
pub(crate) struct Proposal {
    pub u: Vec<f64>,
    pub f: f64,
    pub cr: f64,
}

impl DeSampler {
    /// A sampler with configuration `cfg` whose own draws follow `seed`.
    pub fn new(cfg: DeConfig, seed: u64) -> Result<Self> {
        cfg.check()?;
        Ok(DeSampler {
            cfg,
            rng: Rng::new(seed),
            reader: TagReader::new(MARK),
            pop: Population::new(&cfg),
            next_tag: None,
        })
    }

    /// Brings the population up to date with the history.
    fn refresh(&mut self, h: &History) -> Result<()> {
        if h.n_objectives() > 1 {
            return Err(Error::InvalidArgument(format!(
                "DESampler optimises a single objective; this study has {}",
                h.n_objectives()
            )));
        }
        if self.reader.is_stale(h) {
            self.reader = TagReader::new(MARK);
            self.pop = Population::new(&self.cfg);
        }
        let pop = &mut self.pop;
        self.reader.update(h, |e| match e {
            TagEvent::Tagged(_, tag) => pop.on_tagged(tag),
            TagEvent::Finished(t) => pop.on_finished(h, t),
        });
        Ok(())
    }

    /// The open generation, its population and its memories (for tests).
    pub fn generation(&self) -> u64 {
        self.pop.generation
    }

    /// Per slot, the member's trial number.
    pub fn members(&self) -> Vec<Option<usize>> {
        self.pop.members.iter().map(|m| m.map(|m| m.0)).collect()
    }

    /// SHADE's (M_F, M_CR).
    pub fn memory(&self) -> (&[f64], &[f64]) {
        (&self.pop.m_f, &self.pop.m_cr)
    }

    /// F and CR for one trial vector: SHADE, Algorithm 1 (CR ~ N(M_CR[r],
    /// 0.1) clipped to [0, 1]; F ~ Cauchy(M_F[r], 0.1), drawn again while
    /// not positive, cut at 1), with r uniform in the memory.
    fn draw_f_cr(&mut self) -> (f64, f64) {
        if self.cfg.adaptation == Adaptation::Fixed {
            return (self.cfg.mutation_factor, self.cfg.crossover_rate);
        }
        let r = self.rng.below(self.pop.m_f.len() as u64) as usize;
        let (mf, mcr) = (self.pop.m_f[r], self.pop.m_cr[r]);
        let cr = (mcr + 0.1 * standard_normal(&mut self.rng)).clamp(0.0, 1.0);
        let mut f = cauchy(&mut self.rng, mf, 0.1);
        let mut tries = 0;
        while f <= 0.0 || !f.is_finite() {
            tries += 1;
            // A memory far below 0 could keep F non-positive: fall back to
            // the smallest useful step rather than loop.
            f = if tries < 100 {
                cauchy(&mut self.rng, mf, 0.1)
            } else {
                0.01
            };
        }
        (f.min(1.0), cr)
    }

    /// A trial vector for `slot` over `dims`, uniform when the slot has no
    /// member or the population is too small for the strategy.
    fn propose(&mut self, h: &History, slot: usize, dims: &Dims) -> Proposal {
        let d = dims.len();
        let filled = self.pop.filled();
        let target = self.pop.members[slot];
        let others = filled.iter().filter(|m| m.0 != slot).count();
        let enough = match self.cfg.strategy {
            DeStrategy::Rand1Bin => others >= 3,
            DeStrategy::CurrentToPBest1 => others >= 1 && others + self.pop.archive.len() >= 2,
        };
        let Some((ti, _)) = target.filter(|_| enough && d > 0) else {
            let u = (0..d).map(|_| self.rng.uniform()).collect();
            return Proposal { u, f: 0.0, cr: 0.0 };
        };
        let (f, cr) = self.draw_f_cr();
        let x = genotype(h, ti, dims);
        let v = match self.cfg.strategy {
            DeStrategy::Rand1Bin => self.rand1(h, slot, &filled, dims, f),
            DeStrategy::CurrentToPBest1 => self.current_to_pbest(h, slot, &filled, dims, &x, f),
        };
        let u = bounded_crossover(&mut self.rng, &x, &v, cr);
        Proposal { u, f, cr }
    }

    /// rand/1 (Storn and Price 1997, eq. 1): r1, r2, r3 distinct members
    /// other than the target.
    fn rand1(
        &mut self,
        h: &History,
        slot: usize,
        filled: &[(usize, usize, f64)],
        dims: &Dims,
        f: f64,
    ) -> Vec<f64> {
        let mut pool: Vec<usize> = filled.iter().filter(|m| m.0 != slot).map(|m| m.1).collect();
        let mut pick = || {
            let i = self.rng.below(pool.len() as u64) as usize;
            pool.swap_remove(i)
        };
        let (r1, r2, r3) = (pick(), pick(), pick());
        let (a, b, c) = (
            genotype(h, r1, dims),
            genotype(h, r2, dims),
            genotype(h, r3, dims),
        );
        (0..dims.len()).map(|j| a[j] + f * (b[j] - c[j])).collect()
    }

    /// current-to-pbest/1 (JADE, eq. 6): x_pbest drawn from the best
    /// `max(2, round(p · NP))` members (p from SHADE's `[2/NP, p_max]`),
    /// r1 a member other than the target, r2 from members and archive other
    /// than the target and r1.
    fn current_to_pbest(
        &mut self,
        h: &History,
        slot: usize,
        filled: &[(usize, usize, f64)],
        dims: &Dims,
        x: &[f64],
        f: f64,
    ) -> Vec<f64> {
        let np = self.cfg.population_size as f64;
        let p = match self.cfg.adaptation {
            Adaptation::Shade => {
                let p_min = (2.0 / np).min(self.cfg.p_best_rate);
                self.rng.uniform_in(p_min, self.cfg.p_best_rate)
            }
            _ => self.cfg.p_best_rate,
        };
        let mut ranked: Vec<&(usize, usize, f64)> = filled.iter().collect();
        ranked.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.1.cmp(&b.1)));
        let top = ((p * np).round() as usize).max(2).min(ranked.len());
        let pbest = ranked[self.rng.below(top as u64) as usize].1;
        let members: Vec<usize> = filled.iter().filter(|m| m.0 != slot).map(|m| m.1).collect();
        let r1 = members[self.rng.below(members.len() as u64) as usize];
        let pool: Vec<usize> = members
            .iter()
            .chain(&self.pop.archive)
            .copied()
            .filter(|&t| t != r1)
            .collect();
        let r2 = pool[self.rng.below(pool.len() as u64) as usize];
        let (xp, a, b) = (
            genotype(h, pbest, dims),
            genotype(h, r1, dims),
            genotype(h, r2, dims),
        );
        current_to_pbest_mutant(x, &xp, &a, &b, f)
    }

    fn tag(&mut self, trial: usize, slot: usize, f: f64, cr: f64, u: &[f64]) {
        let mut tag = vec![MARK, self.pop.generation as f64, slot as f64, f, cr];
        tag.extend_from_slice(u);
        self.next_tag = Some((trial, tag));
    }
}

/// The continuous position of trial `t` over `dims`: the trial vector its
/// tag holds (so rounded parameters keep their place within their cell and
/// members sharing a value still differ), or, for a trial without one of
/// this length, its values' unit coordinates.
pub(crate) fn genotype(h: &History, t: usize, dims: &Dims) -> Vec<f64> {
    match h.tag(t) {
        [m, _, _, _, _, u @ ..] if *m == MARK && u.len() == dims.len() && !u.is_empty() => {
            u.to_vec()
        }
        _ => coords(h, t, dims),
    }
}

/// JADE, eq. (6): `v = x + F (x_pbest - x) + F (x_r1 - x_r2)`.
pub(crate) fn current_to_pbest_mutant(
    x: &[f64],
    xp: &[f64],
    a: &[f64],
    b: &[f64],
    f: f64,
) -> Vec<f64> {
    (0..x.len())
        .map(|j| x[j] + f * (xp[j] - x[j]) + f * (a[j] - b[j]))
        .collect()
}

/// The mutant's components outside `[0, 1]` moved halfway between the
/// parent's and the bound (JADE, after eq. 6; SHADE), then binomial
/// crossover with the parent (Storn and Price 1997, eq. 4): each component
/// from the mutant with probability CR, and one chosen component always.
pub(crate) fn bounded_crossover(rng: &mut Rng, x: &[f64], v: &[f64], cr: f64) -> Vec<f64> {
    let j_rand = rng.below(x.len() as u64) as usize;
    (0..x.len())
        .map(|j| {
            let take = rng.uniform() < cr || j == j_rand;
            if !take {
                return x[j];
            }
            if v[j] < 0.0 {
                x[j] / 2.0
            } else if v[j] > 1.0 {
                (1.0 + x[j]) / 2.0
            } else {
                v[j]
            }
        })
        .collect()
}

/// The intersection search space without single-valued parameters.
pub(crate) fn relative_dims(h: &History) -> Vec<(u32, u32)> {
    h.intersection_space()
        .into_iter()
        .filter(|&(p, d)| !h.dist(p, d).is_single())
        .collect()
}

impl Sampler for DeSampler {
    fn sample_independent(
        &mut self,
        _: &History,
        _: usize,
        _: &str,
        dist: &Distribution,
    ) -> Result<f64> {
        Ok(dist.from_unit(self.rng.uniform()))
    }

    fn relative_values(&mut self, h: &History, trial: usize) -> Result<Vec<(u32, u32, f64)>> {
        self.refresh(h)?;
        let space = relative_dims(h);
        let dims: Dims = space
            .iter()
            .map(|&(p, d)| (Some(p), h.dist(p, d).clone()))
            .collect();
        let slot = self.pop.next_slot(&mut self.rng);
        let prop = self.propose(h, slot, &dims);
        self.tag(trial, slot, prop.f, prop.cr, &prop.u);
        Ok(space
            .iter()
            .zip(&dims)
            .zip(&prop.u)
            .map(|((&(p, d), (_, dist)), &u)| (p, d, dist.from_unit(u)))
            .collect())
    }

    /// Trial vectors over every parameter of the space (an inactive one
    /// counts as the middle of its range); a candidate that is not valid for
    /// the space or not accepted is replaced by a new trial vector (new
    /// random numbers), up to [`SAMPLER_DRAWS`] times, then by a uniform
    /// feasible draw.
    fn sample_space(
        &mut self,
        h: &History,
        trial: usize,
        space: &SearchSpace,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        self.refresh(h)?;
        let dims: Dims = space
            .params()
            .iter()
            .map(|p| (h.param_index(&p.name), p.dist.clone()))
            .collect();
        let slot = self.pop.next_slot(&mut self.rng);
        for _ in 0..SAMPLER_DRAWS.min(max_draws) {
            let prop = self.propose(h, slot, &dims);
            let mut x: Vec<f64> = dims
                .iter()
                .zip(&prop.u)
                .map(|((_, d), &u)| d.from_unit(u))
                .collect();
            space.apply_conditions(&mut x);
            if space.is_valid(&x) && accept(&x)? {
                self.tag(trial, slot, prop.f, prop.cr, &prop.u);
                return Ok(x);
            }
        }
        let x = space.sample_uniform(&mut self.rng, max_draws, accept)?;
        let u: Vec<f64> = dims
            .iter()
            .zip(&x)
            .map(|((_, d), &v)| {
                if v.is_nan() {
                    0.5
                } else {
                    d.to_unit(v).clamp(0.0, 1.0)
                }
            })
            .collect();
        self.tag(trial, slot, 0.0, 0.0, &u);
        Ok(x)
    }

    fn take_tag(&mut self, trial: usize) -> Vec<f64> {
        match self.next_tag.take() {
            Some((t, tag)) if t == trial => tag,
            _ => Vec::new(),
        }
    }

    /// The generator's four words: the population is rebuilt from the
    /// study's trials.
    fn state(&self) -> SamplerState {
        rng_words(&self.rng)
    }

    fn set_state(&mut self, state: &[u64]) -> Result<()> {
        expect_words(state, 4)?;
        self.rng = rng_from_words(state)?;
        self.reader = TagReader::new(MARK);
        self.pop = Population::new(&self.cfg);
        self.next_tag = None;
        Ok(())
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }
}

#[cfg(test)]
mod tests;
