//! NSGA-II (Deb, Pratap, Agarwal and Meyarivan, "A Fast and Elitist
//! Multiobjective Genetic Algorithm: NSGA-II", IEEE TEVC 6(2), 2002) and
//! NSGA-III (Deb and Jain, IEEE TEVC 18(4), 2014) as Optuna's
//! `NSGAIISampler` and `NSGAIIISampler`: one sampler, two elite selections
//! ([`selection::Selection`]).
//!
//! A trial is an individual. Each new trial joins the open generation `g`
//! (its tag, [`Sampler::take_tag`], is `[g, mark]`, `mark` telling NSGA-II
//! from NSGA-III tags). Generation 0 is drawn uniformly. A child of a later
//! generation is made from the parent population of `g`: with probability
//! `crossover_prob`, parents chosen by binary tournaments under
//! constrained domination (two, or three for UNDX and SPX; distinct while
//! the population allows) are recombined ([`crossover::Crossover`];
//! categorical parameters always by uniform crossover), otherwise one
//! random parent is copied; then each parameter is dropped with probability
//! `mutation_prob` (default `1 / n_params`) and drawn uniformly instead
//! (Optuna's default mutation). Parameters outside the intersection of the
//! finished trials' spaces are drawn uniformly too.
//!
//! Generation bookkeeping lives in the study (the tags), and every worker
//! rebuilds it from its history with a cursor over the finished trials
//! ([`History::finished_order`]), so the work per ask does not grow with the
//! number of trials:
//!
//! - generation `g` closes once `population_size` of its members are
//!   COMPLETE; the parents of `g + 1` are then selected once from the
//!   parents of `g`, the COMPLETE members of `g` and any late members of
//!   earlier generations (see below), and kept until `g + 1` closes;
//! - FAIL and PRUNED members do not count: more trials join `g` until
//!   enough are COMPLETE, so a failed individual never stalls a generation;
//! - members that complete after their generation closed (asked while it was
//!   open, by parallel workers) are not wasted: they join the pool of the
//!   next selection;
//! - trials without an NSGA tag of the same kind (enqueued before the
//!   sampler ran, or run by another sampler) belong to no generation;
//! - the selection depends only on the trials, not on the sampler's seed,
//!   so two samplers (threads or processes) sharing one study build one run.
//!   Workers that learn of finished trials in different orders may close a
//!   generation on different sets when more than `population_size` members
//!   complete at once; each is a valid NSGA selection.
//!
//! Declared spaces: the child is built for the space's parameters (parents'
//! values read by name, newly active parameters drawn uniformly) and
//! checked against the space's conditions and hard constraints; a child that
//! violates one is discarded and another is made, up to
//! [`SAMPLER_DRAWS`] children, after which the constrained uniform sampler
//! takes over. No infeasible row is ever returned.

pub mod crossover;
pub mod selection;
#[cfg(test)]
mod tests;

use super::{expect_words, rng_from_words, rng_words, Sampler, SamplerState};
use crate::constraints::{Accept, SearchSpace, SAMPLER_DRAWS};
use crate::error::{Error, Result};
use crate::history::{History, TrialState};
use crate::pareto::{constrained_dominates, minimised};
use crate::rng::Rng;
use crate::space::Distribution;
use std::collections::BTreeMap;

pub use crossover::Crossover;
pub use selection::{das_dennis, Selection};

/// Children whose numerical values leave their bounds are made again from
/// new parents (as Optuna does, which retries without limit) at most this
/// many times, then clipped to the bounds, so that an operator whose
/// children mostly fall outside (a wide SPX or UNDX near a bound) cannot
/// stall the ask.
const MAX_CROSSOVER_TRIES: usize = 64;

/// The second number of an NSGA-II trial's tag.
pub const NSGA2_MARK: f64 = 2002.0;
/// The second number of an NSGA-III trial's tag.
pub const NSGA3_MARK: f64 = 2014.0;

/// The configuration (Optuna's arguments and defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct NsgaConfig {
    /// Individuals (COMPLETE trials) per generation; 50.
    pub population_size: usize,
    /// Probability of drawing a parameter anew; None: `1 / n_params`.
    pub mutation_prob: Option<f64>,
    /// Recombination of numerical parameters; uniform.
    pub crossover: Crossover,
    /// Probability of a crossover (else a parent is copied); 0.9.
    pub crossover_prob: f64,
    /// Probability of taking a parameter from the second parent in uniform
    /// crossover; 0.5.
    pub swapping_prob: f64,
    /// NSGA-II (crowding) or NSGA-III (reference points).
    pub selection: Selection,
}

impl Default for NsgaConfig {
    fn default() -> Self {
        NsgaConfig {
            population_size: 50,
            mutation_prob: None,
            crossover: Crossover::Uniform,
            crossover_prob: 0.9,
            swapping_prob: 0.5,
            selection: Selection::Crowding,
        }
    }
}

impl NsgaConfig {
    /// Checks every argument (Optuna's ranges).
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidArgument(m));
        let k = self.crossover.n_parents();
        if self.population_size < k {
            return bad(format!(
                "population_size must be >= {k} (the crossover needs {k} parents), got {}",
                self.population_size
            ));
        }
        for (name, p) in [
            ("mutation_prob", self.mutation_prob.unwrap_or(0.0)),
            ("crossover_prob", self.crossover_prob),
            ("swapping_prob", self.swapping_prob),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return bad(format!("{name} must be in [0, 1], got {p}"));
            }
        }
        self.crossover.validate()?;
        if let Selection::ReferencePoints {
            points,
            dividing_parameter,
        } = &self.selection
        {
            if points.is_empty() && *dividing_parameter == 0 {
                return bad("dividing_parameter must be >= 1".into());
            }
            let m = points.first().map_or(0, Vec::len);
            if points.iter().any(|p| p.is_empty() || p.len() != m) {
                return bad("reference_points must be rows of the same, non-zero length".into());
            }
        }
        Ok(())
    }

    fn mark(&self) -> f64 {
        match self.selection {
            Selection::Crowding => NSGA2_MARK,
            Selection::ReferencePoints { .. } => NSGA3_MARK,
        }
    }
}

/// The generations as read from a history's tags (see the module's
/// documentation), kept up to date with a cursor.
#[derive(Debug, Clone, Default, PartialEq)]
struct Generations {
    /// Finished trials read so far (a position in `finished_order`).
    cursor: usize,
    /// The generation new trials join.
    open: u64,
    /// The parent population of `open` (trial numbers; empty for 0).
    parents: Vec<usize>,
    /// COMPLETE members of `open` and later generations, by generation.
    members: BTreeMap<u64, Vec<usize>>,
    /// COMPLETE members of closed generations, for the next selection.
    late: Vec<usize>,
}

/// NSGA-II or NSGA-III.
#[derive(Debug, Clone)]
pub struct NsgaSampler {
    cfg: NsgaConfig,
    rng: Rng,
    gens: Generations,
    tag: Vec<f64>,
}

impl NsgaSampler {
    /// A sampler with configuration `cfg`, its draws determined by `seed`.
    pub fn new(cfg: NsgaConfig, seed: u64) -> Result<Self> {
        cfg.validate()?;
        Ok(NsgaSampler {
            cfg,
            rng: Rng::new(seed),
            gens: Generations::default(),
            tag: Vec::new(),
        })
    }

    /// The generation new trials join and its parents, after reading the
    /// trials finished since the last call (for tests and inspection).
    pub fn generation(&mut self, h: &History) -> Result<(u64, &[usize])> {
        self.sync(h)?;
        Ok((self.gens.open, &self.gens.parents))
    }

    /// Reads the trials finished since the last call and closes each
    /// generation that has `population_size` COMPLETE members.
    /// Reference points of the wrong width for the study's objectives are
    /// refused at the first ask, not once a whole generation is evaluated.
    fn check_width(&self, h: &History) -> Result<()> {
        match &self.cfg.selection {
            Selection::ReferencePoints { points, .. } if !points.is_empty() => {
                selection::check_reference_points(points, h.n_objectives())
            }
            _ => Ok(()),
        }
    }

    fn sync(&mut self, h: &History) -> Result<()> {
        let order = h.finished_order();
        if self.gens.cursor > order.len() {
            // Another history: start again.
            self.gens = Generations::default();
        }
        let mark = self.cfg.mark();
        for &t in &order[self.gens.cursor..] {
            let t = t as usize;
            let rec = &h.trials()[t];
            let tag = rec.tag.as_slice();
            if rec.state != TrialState::Complete || tag.len() != 2 || tag[1] != mark {
                continue;
            }
            let g = tag[0] as u64;
            if g < self.gens.open {
                self.gens.late.push(t);
            } else {
                self.gens.members.entry(g).or_default().push(t);
            }
        }
        self.gens.cursor = order.len();
        while self
            .gens
            .members
            .get(&self.gens.open)
            .is_some_and(|m| m.len() >= self.cfg.population_size)
        {
            self.close(h)?;
        }
        Ok(())
    }

    /// Selects the parents of the next generation from the parents, the
    /// members and the late members of the open one (Deb et al. 2002,
    /// Section III-C: `R_t = P_t U Q_t`, the best `N` by front and crowding).
    fn close(&mut self, h: &History) -> Result<()> {
        let g = self.gens.open;
        let mut pool: Vec<usize> = std::mem::take(&mut self.gens.parents);
        pool.extend(self.gens.members.remove(&g).unwrap_or_default());
        pool.append(&mut self.gens.late);
        pool.sort_unstable();
        pool.dedup();
        // In a study with constraints, trials without constraint values
        // cannot be ranked against the others (Optuna leaves them out too).
        if pool.iter().any(|&t| !h.trials()[t].constraints.is_empty()) {
            pool.retain(|&t| !h.trials()[t].constraints.is_empty());
        }
        let points: Vec<Vec<f64>> = pool
            .iter()
            .map(|&t| minimised(&h.trials()[t].values, h.maximize()))
            .collect();
        let violation: Vec<f64> = pool.iter().map(|&t| h.trials()[t].violation()).collect();
        // Seeded by the generation, not the sampler: every worker selects alike.
        let mut rng = Rng::new(0x4e53_4741_0000_0000 ^ g);
        let keep = selection::select(
            &points,
            &violation,
            self.cfg.population_size,
            &self.cfg.selection,
            &mut rng,
        )?;
        self.gens.parents = keep.into_iter().map(|i| pool[i]).collect();
        self.gens.parents.sort_unstable();
        self.gens.open = g + 1;
        Ok(())
    }

    /// Binary tournament (Optuna's rule): of two parents drawn with
    /// replacement, the first if it constrained-dominates the second, else
    /// the second. `skip` (sorted positions in the parents, fewer than
    /// there are parents) are not drawn.
    fn tournament(&mut self, h: &History, skip: &[usize]) -> usize {
        let n = self.gens.parents.len() - skip.len();
        let draw = |rng: &mut Rng| {
            // The i-th position not skipped.
            let mut i = rng.below(n as u64) as usize;
            for &s in skip {
                if i >= s {
                    i += 1;
                }
            }
            i
        };
        let (a, b) = (draw(&mut self.rng), draw(&mut self.rng));
        let (ta, tb) = (
            &h.trials()[self.gens.parents[a]],
            &h.trials()[self.gens.parents[b]],
        );
        let (pa, pb) = (
            minimised(&ta.values, h.maximize()),
            minimised(&tb.values, h.maximize()),
        );
        if constrained_dominates(&pa, ta.violation(), &pb, tb.violation()) {
            a
        } else {
            b
        }
    }

    /// The operator's number of parents, each by a tournament among the
    /// parents not chosen yet (Optuna's parent selection); when there are
    /// fewer parents than that, the pool starts again once it is used up.
    fn choose_parents(&mut self, h: &History) -> Vec<usize> {
        let k = self.cfg.crossover.n_parents();
        let mut chosen: Vec<usize> = Vec::with_capacity(k);
        let mut skip: Vec<usize> = Vec::with_capacity(k);
        for _ in 0..k {
            if skip.len() == self.gens.parents.len() {
                skip.clear();
            }
            let p = self.tournament(h, &skip);
            chosen.push(p);
            let at = skip.partition_point(|&s| s < p);
            skip.insert(at, p);
        }
        chosen.into_iter().map(|p| self.gens.parents[p]).collect()
    }

    /// A child's values for `dists` (None: draw anew), `value(trial, i)`
    /// giving a parent's internal value of parameter `i` when it has one.
    fn child(
        &mut self,
        h: &History,
        dists: &[Distribution],
        value: &dyn Fn(usize, usize) -> Option<f64>,
    ) -> Vec<Option<f64>> {
        let parents = &self.gens.parents;
        // (A single parent, possible when constraint values are missing from
        // most of the pool, can only be copied.)
        let cross = self.rng.uniform() < self.cfg.crossover_prob && parents.len() >= 2;
        let mut out: Vec<Option<f64>> = if cross {
            self.crossover(h, dists, value)
        } else {
            let p = parents[self.rng.below(parents.len() as u64) as usize];
            (0..dists.len()).map(|i| value(p, i)).collect()
        };
        // Mutation (Optuna's default): each parameter drawn anew with
        // probability mutation_prob.
        let n = out.len().max(1) as f64;
        let prob = self.cfg.mutation_prob.unwrap_or(1.0 / n);
        for v in out.iter_mut() {
            if self.rng.uniform() < prob {
                *v = None;
            }
        }
        out
    }

    /// Crossover of tournament winners ([`Self::choose_parents`]):
    /// categorical parameters (every parameter with uniform crossover) by
    /// uniform crossover of the first and last parents' values (Optuna's
    /// pair), numerical ones by the configured operator in the unit cube,
    /// made again from newly chosen parents while a value leaves [0, 1]
    /// (Optuna's rule), clipped after [`MAX_CROSSOVER_TRIES`] tries. A numerical parameter that not
    /// every parent has is taken from that pair, as a categorical one.
    fn crossover(
        &mut self,
        h: &History,
        dists: &[Distribution],
        value: &dyn Fn(usize, usize) -> Option<f64>,
    ) -> Vec<Option<f64>> {
        let uniform = matches!(self.cfg.crossover, Crossover::Uniform);
        let numeric: Vec<usize> = (0..dists.len())
            .filter(|&i| !uniform && !matches!(dists[i], Distribution::Categorical { .. }))
            .collect();
        let multi = h.n_objectives() > 1;
        let mut out = vec![None; dists.len()];
        for attempt in 0..MAX_CROSSOVER_TRIES {
            let ps = self.choose_parents(h);
            // Optuna's pair for categorical parameters: the first and the last.
            let (pa, pb) = (ps[0], ps[ps.len() - 1]);
            for (i, o) in out.iter_mut().enumerate() {
                let from_b = self.rng.uniform() < self.cfg.swapping_prob;
                *o = match (value(pa, i), value(pb, i)) {
                    (Some(x), Some(y)) => Some(if from_b { y } else { x }),
                    (x, y) => x.or(y),
                };
            }
            let all: Vec<usize> = numeric
                .iter()
                .copied()
                .filter(|&i| ps.iter().all(|&p| value(p, i).is_some()))
                .collect();
            if all.is_empty() {
                break;
            }
            let units: Vec<Vec<f64>> = ps
                .iter()
                .map(|&t| {
                    all.iter()
                        .map(|&i| dists[i].to_unit(value(t, i).unwrap_or(f64::NAN)))
                        .collect()
                })
                .collect();
            let c = self
                .cfg
                .crossover
                .child(&units, self.cfg.swapping_prob, multi, &mut self.rng);
            if !c.iter().all(|u| (0.0..=1.0).contains(u)) && attempt + 1 < MAX_CROSSOVER_TRIES {
                continue;
            }
            for (&i, &u) in all.iter().zip(&c) {
                out[i] = Some(dists[i].from_unit(u.clamp(0.0, 1.0)));
            }
            break;
        }
        out
    }

    /// The tag of the trial being proposed.
    fn set_tag(&mut self) {
        self.tag = vec![self.gens.open as f64, self.cfg.mark()];
    }

    /// Uniform draw of one value.
    fn draw(&mut self, d: &Distribution) -> f64 {
        d.from_unit(self.rng.uniform())
    }
}

impl Sampler for NsgaSampler {
    /// A uniform draw: generation 0, mutated parameters and parameters
    /// outside the intersection space.
    fn sample_independent(
        &mut self,
        _: &History,
        _: usize,
        _: &str,
        dist: &Distribution,
    ) -> Result<f64> {
        Ok(self.draw(dist))
    }

    fn relative_values(&mut self, h: &History, _trial: usize) -> Result<Vec<(u32, u32, f64)>> {
        self.check_width(h)?;
        self.sync(h)?;
        self.set_tag();
        if self.gens.parents.is_empty() {
            return Ok(Vec::new());
        }
        let space: Vec<(u32, u32)> = h
            .intersection_space()
            .into_iter()
            .filter(|&(p, d)| !h.dist(p, d).is_single())
            .collect();
        if space.is_empty() {
            return Ok(Vec::new());
        }
        let dists: Vec<Distribution> = space.iter().map(|&(p, d)| h.dist(p, d).clone()).collect();
        let value = |t: usize, i: usize| {
            let v = h.value(space[i].0, t)?;
            (!v.is_nan() && dists[i].contains(v)).then_some(v)
        };
        let child = self.child(h, &dists, &value);
        Ok(space
            .iter()
            .zip(child)
            .filter_map(|(&(p, d), v)| v.map(|v| (p, d, v)))
            .collect())
    }

    fn sample_space(
        &mut self,
        h: &History,
        _trial: usize,
        space: &SearchSpace,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        self.check_width(h)?;
        self.sync(h)?;
        self.set_tag();
        if self.gens.parents.is_empty() {
            return space.sample_uniform(&mut self.rng, max_draws, accept);
        }
        let params = space.params();
        let dists: Vec<Distribution> = params.iter().map(|p| p.dist.clone()).collect();
        let cols: Vec<Option<u32>> = params.iter().map(|p| h.param_index(&p.name)).collect();
        let value = |t: usize, i: usize| {
            let v = h.value(cols[i]?, t)?;
            (!v.is_nan() && dists[i].contains(v)).then_some(v)
        };
        let tries = SAMPLER_DRAWS.min(max_draws.max(1));
        let mut x: Vec<f64> = Vec::with_capacity(params.len());
        for _ in 0..tries {
            let child = self.child(h, &dists, &value);
            x.clear();
            for (i, p) in params.iter().enumerate() {
                let active = match &p.condition {
                    None => true,
                    Some(c) => c.holds(params, &x),
                };
                let v = match (active, child[i]) {
                    (false, _) => f64::NAN,
                    (true, Some(v)) => v,
                    (true, None) => self.draw(&p.dist),
                };
                x.push(v);
            }
            if space.is_valid(&x) && accept(&x)? {
                return Ok(x);
            }
        }
        let left = max_draws.saturating_sub(tries).max(1);
        space.sample_uniform(&mut self.rng, left, accept)
    }

    fn take_tag(&mut self, _trial: usize) -> Vec<f64> {
        std::mem::take(&mut self.tag)
    }

    /// The generator's four words; the generations are rebuilt from the
    /// history's tags.
    fn state(&self) -> SamplerState {
        rng_words(&self.rng)
    }

    fn set_state(&mut self, state: &[u64]) -> Result<()> {
        expect_words(state, 4)?;
        self.rng = rng_from_words(state)?;
        self.gens = Generations::default();
        Ok(())
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }
}
