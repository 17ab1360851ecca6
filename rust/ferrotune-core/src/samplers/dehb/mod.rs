//! DEHB (Awad, Mallik and Hutter 2021, "DEHB: Evolutionary Hyperband for
//! Scalable, Robust and Efficient Hyperparameter Optimization", IJCAI,
//! Algorithms 1-3): differential evolution inside Hyperband's brackets, one
//! subpopulation per budget, run with [`crate::pruners::HyperbandPruner`].
//!
//! Budgets are the rungs of Hyperband: `b_i = min_resource * eta^i`,
//! `i = 0 .. n - 1` for its `n` brackets; bracket `s` starts at `b_s`. The
//! subpopulation of budget `b_i` has the size of the paper (and of the dehb
//! package's `_get_pop_sizes`): the largest number of configurations any
//! bracket evaluates at `b_i`, with bracket `s` (`s_max = n - 1`, `t = s_max
//! - s`) evaluating `n_0 = floor((s_max + 1) / (t + 1)) eta^t` configurations
//! at its first budget and `max(floor(n_0 eta^-j), 1)` at its `j`-th.
//!
//! **Synchronous brackets, asynchronous pruning.** DEHB runs each bracket's
//! successive halving synchronously and evaluates a new DE mutant at every
//! rung after its first iteration; here a trial is one training run that
//! `HyperbandPruner` stops or lets go on (asynchronous successive halving),
//! and the sampler chooses a configuration only when a trial starts. So:
//!
//! - a new trial is the mutant for the subpopulation of its bracket's lowest
//!   budget: the bracket is the pruner's (the same hash of the study's name
//!   and the trial's number, which is why the sampler takes the pruner's
//!   `min_resource`, `max_resource` and `reduction_factor`), its slot in the
//!   subpopulation is the next of a cycling counter (the dehb package's
//!   `parent_counter`), and its target is that slot's member;
//! - a trial promoted to budget `b` *is* the configuration evaluated at `b`
//!   (no new mutant is drawn for the higher rungs of a bracket, as in the
//!   first DEHB iteration, where the promoted configurations are evaluated).
//!
//! **Mutation** (rand/1, F = `mutation_factor` 0.5) and **binomial
//! crossover** (CR = `crossover_prob` 0.5, one coordinate always from the
//! mutant), the dehb package's defaults, on the unit cube (floats and ints
//! through [`Distribution::to_unit`], categoricals as cells of [0, 1) as the
//! package does); a coordinate outside [0, 1] is redrawn uniformly (the
//! package's `boundary_fix_type="random"`). The three parents come from the
//! parent pool: the best `n_0` members (of the trial's bracket) of the
//! subpopulation of the next lower budget, and of the budget's own
//! subpopulation for the lowest budget (Algorithm 2); when that pool has
//! fewer than three members, every member of every subpopulation (the global
//! population) joins it. A trial whose slot is still empty is uniform: it is
//! that slot's random initial member (the paper's initial population,
//! evaluated when the slot is first used); so is a trial with fewer than
//! three parents in all.
//!
//! **Selection** (Algorithm 3, one-to-one): when a trial finishes, its value
//! at its bracket's lowest budget (the intermediate value reported at that
//! step; a COMPLETE trial's return value replaces its value at its last
//! step) replaces its slot's member if it is not worse. Its values at higher
//! budgets (a promoted trial) join those subpopulations: into an empty slot,
//! else in place of the worst member when better. Trials without a DEHB tag
//! (enqueued, another sampler's, or proposed before Hyperband's brackets were
//! known) join every subpopulation they reached the same way. FAIL trials
//! and NaN values take no part.
//!
//! Deviations from the dehb package (0.1.2): promotions instead of new
//! mutants at the higher rungs (above); the parent pool of a bracket's lowest
//! budget is the next lower budget's subpopulation, as the paper's Algorithm
//! 2 (the package uses the budget's own); a too small pool is filled with
//! members of the global population (the package adds mutants of it); a
//! promoted configuration takes an empty or the worst slot (the package gives
//! it the next slot of the counter); subpopulations start empty (the
//! package's random initial members are the uniform trials that fill them).
//!
//! State in the study: every trial carries the tag `[3, i, slot]` (`[3, -1,
//! -1]` before the brackets are known); the subpopulations are rebuilt from
//! the trials' tags and values by every sampler reading the study, reading
//! each trial once. The sampler ranks one objective.

#[cfg(test)]
mod tests;

use super::ga::scan::Scan;
use super::{expect_words, rng_from_words, rng_words, Sampler, SamplerState};
use crate::constraints::{Accept, SearchSpace};
use crate::error::{Error, Result};
use crate::history::{sort_key, History, TrialState};
use crate::pruners::{HyperbandConfig, HyperbandPruner, Pruner};
use crate::rng::Rng;
use crate::space::Distribution;

/// The first number of a DEHB tag.
pub const TAG_DEHB: f64 = 3.0;
/// Children bred for a declared space before the uniform sampler answers.
const BREED_ATTEMPTS: usize = 32;

/// Settings of [`DehbSampler`]: Hyperband's (those of the study's
/// `HyperbandPruner`) and DE's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DehbConfig {
    /// The smallest budget (1).
    pub min_resource: i64,
    /// The largest; None for "auto", as `HyperbandPruner`.
    pub max_resource: Option<i64>,
    /// eta (3).
    pub reduction_factor: i64,
    /// F (0.5).
    pub mutation_factor: f64,
    /// CR (0.5).
    pub crossover_prob: f64,
}

impl Default for DehbConfig {
    fn default() -> Self {
        DehbConfig {
            min_resource: 1,
            max_resource: None,
            reduction_factor: 3,
            mutation_factor: 0.5,
            crossover_prob: 0.5,
        }
    }
}

impl DehbConfig {
    fn hyperband(&self) -> HyperbandConfig {
        HyperbandConfig {
            min_resource: self.min_resource,
            max_resource: self.max_resource,
            reduction_factor: self.reduction_factor,
            bootstrap_count: 0,
        }
    }

    fn check(&self) -> Result<()> {
        HyperbandPruner::new(self.hyperband())?;
        let f = self.mutation_factor;
        if !(f.is_finite() && f > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "mutation_factor must be a finite number > 0, got {f}"
            )));
        }
        if !(0.0..=1.0).contains(&self.crossover_prob) {
            return Err(Error::InvalidArgument(format!(
                "crossover_prob must be in [0, 1], got {}",
                self.crossover_prob
            )));
        }
        Ok(())
    }
}

/// Subpopulation sizes per budget for `n` budgets and `eta`, and the number
/// of configurations each bracket starts with (its parent pool's size): the
/// dehb package's `_get_pop_sizes` and `_get_next_iteration`.
pub fn subpopulation_sizes(n: usize, eta: i64) -> (Vec<usize>, Vec<usize>) {
    let s_max = n.saturating_sub(1);
    let pow = |k: usize| (eta as usize).saturating_pow(k as u32);
    let mut sizes = vec![0usize; n];
    let mut first = vec![0usize; n];
    for i in 0..n {
        let s = s_max - i;
        let n0 = ((s_max + 1) / (s + 1)).saturating_mul(pow(s));
        first[i] = n0;
        for j in 0..=s {
            sizes[i + j] = sizes[i + j].max((n0 / pow(j)).max(1));
        }
    }
    (sizes, first)
}

/// One member: (sort key of its loss, trial).
type Member = (u64, u32);

/// The subpopulations, rebuilt from the history.
#[derive(Debug, Clone, PartialEq)]
struct Subpops {
    /// Budget steps, ascending.
    steps: Vec<i64>,
    slots: Vec<Vec<Option<Member>>>,
    /// New trials tagged for each subpopulation.
    issued: Vec<usize>,
    /// Configurations each bracket starts with.
    first: Vec<usize>,
}

impl Subpops {
    fn new(cfg: &DehbConfig, n: usize) -> Self {
        let (sizes, first) = subpopulation_sizes(n, cfg.reduction_factor);
        let mut step = cfg.min_resource;
        let steps = (0..n)
            .map(|_| {
                let s = step;
                step = step.saturating_mul(cfg.reduction_factor);
                s
            })
            .collect();
        Subpops {
            steps,
            slots: sizes.iter().map(|&m| vec![None; m]).collect(),
            issued: vec![0; n],
            first,
        }
    }

    /// One-to-one selection into slot `k` of subpopulation `i`.
    fn select(&mut self, i: usize, k: usize, m: Member) {
        let slot = &mut self.slots[i][k];
        if slot.is_none_or(|old| m.0 <= old.0) {
            *slot = Some(m);
        }
    }

    /// A promoted (or untagged) trial: an empty slot, else the worst if better.
    fn promote(&mut self, i: usize, m: Member) {
        let slots = &mut self.slots[i];
        if let Some(s) = slots.iter_mut().find(|s| s.is_none()) {
            *s = Some(m);
            return;
        }
        if let Some(worst) = slots.iter_mut().max_by_key(|s| s.map(|w| w.0)) {
            if worst.is_some_and(|w| m.0 < w.0) {
                *worst = Some(m);
            }
        }
    }

    /// Takes in finished trial `t`.
    fn take_in(&mut self, h: &History, t: u32) {
        let rec = &h.trials()[t as usize];
        let finals = match rec.state {
            TrialState::Complete => rec.values.first().copied(),
            TrialState::Pruned => None,
            _ => return,
        };
        let sign = if h.maximize()[0] { -1.0 } else { 1.0 };
        let last = rec.last_intermediate().map(|s| s.0);
        let tag = h.tag(t as usize);
        let own = (tag.len() == 3 && tag[0] == TAG_DEHB && tag[1] >= 0.0)
            .then(|| (tag[1] as usize, tag[2] as usize));
        for &(step, v) in &rec.intermediate {
            let Some(i) = self.steps.iter().position(|&b| b == step) else {
                continue;
            };
            let v = match finals {
                Some(f) if Some(step) == last => f,
                _ => v,
            };
            if v.is_nan() {
                continue;
            }
            let m = (sort_key(v * sign), t);
            match own {
                Some((j, k)) if j == i && k < self.slots[i].len() => self.select(i, k, m),
                _ => self.promote(i, m),
            }
        }
    }

    /// The members of subpopulation `i`, best first.
    fn ranked(&self, i: usize) -> Vec<Member> {
        let mut v: Vec<Member> = self.slots[i].iter().flatten().copied().collect();
        v.sort_unstable();
        v
    }

    /// The parent pool of a new member of subpopulation `j` (Algorithm 2).
    fn parent_pool(&self, j: usize) -> Vec<u32> {
        let source = j.saturating_sub(1);
        let mut pool: Vec<u32> = self
            .ranked(source)
            .iter()
            .take(self.first[j])
            .map(|m| m.1)
            .collect();
        if pool.len() < 3 {
            for m in self.slots.iter().flatten().flatten() {
                if !pool.contains(&m.1) {
                    pool.push(m.1);
                }
            }
        }
        pool
    }
}

/// What a new trial is: its subpopulation and slot, target and parent pool.
struct Plan {
    tag: Vec<f64>,
    target: Option<u32>,
    pool: Vec<u32>,
}

/// The DEHB sampler.
#[derive(Debug, Clone)]
pub struct DehbSampler {
    pub cfg: DehbConfig,
    pub rng: Rng,
    study_name: String,
    hyperband: HyperbandPruner,
    scan: Scan,
    pops: Option<Subpops>,
    tag: Option<(usize, Vec<f64>)>,
}

impl DehbSampler {
    /// A sampler with `cfg`; `seed` drives every random choice.
    pub fn new(cfg: DehbConfig, seed: u64) -> Result<Self> {
        cfg.check()?;
        Ok(DehbSampler {
            cfg,
            rng: Rng::new(seed),
            study_name: String::new(),
            hyperband: HyperbandPruner::new(cfg.hyperband())?,
            scan: Scan::default(),
            pops: None,
            tag: None,
        })
    }

    /// Forgets everything read from a history.
    fn reset(&mut self) {
        let mut hb = HyperbandPruner::new(self.cfg.hyperband()).expect("checked arguments");
        hb.set_study_name(&self.study_name);
        self.hyperband = hb;
        self.scan = Scan::default();
        self.pops = None;
    }

    /// The subpopulations' trials, per budget (empty slots left out).
    pub fn subpopulations(&self) -> Vec<Vec<Option<u32>>> {
        self.pops.as_ref().map_or_else(Vec::new, |p| {
            p.slots
                .iter()
                .map(|s| s.iter().map(|m| m.map(|m| m.1)).collect())
                .collect()
        })
    }

    /// Reads the history and decides what trial `trial` is.
    fn plan(&mut self, h: &History, trial: usize) -> Result<Plan> {
        if h.n_objectives() > 1 {
            return Err(Error::InvalidArgument(format!(
                "DEHBSampler ranks one objective; this study has {}",
                h.n_objectives()
            )));
        }
        if self.scan.is_other(h) {
            self.reset();
        }
        let uniform = Plan {
            tag: vec![TAG_DEHB, -1.0, -1.0],
            target: None,
            pool: Vec::new(),
        };
        let Some(bracket) = self.hyperband.bracket_in(h, trial)? else {
            return Ok(uniform);
        };
        let n = self.hyperband.budgets().len();
        let pops = self.pops.get_or_insert_with(|| Subpops::new(&self.cfg, n));
        self.scan.tags(h, |_, tag| {
            if tag.len() == 3 && tag[0] == TAG_DEHB && tag[1] >= 0.0 {
                if let Some(c) = pops.issued.get_mut(tag[1] as usize) {
                    *c += 1;
                }
            }
        });
        self.scan.finished(h, |t| pops.take_in(h, t));
        let j = bracket.min(n - 1);
        let k = pops.issued[j] % pops.slots[j].len();
        Ok(Plan {
            tag: vec![TAG_DEHB, j as f64, k as f64],
            target: pops.slots[j][k].map(|m| m.1),
            pool: pops.parent_pool(j),
        })
    }

    /// A trial's unit vector over `dims` ((param index, distribution)),
    /// a missing or inactive value drawn uniformly.
    fn vector(&mut self, h: &History, t: u32, dims: &[(Option<u32>, Distribution)]) -> Vec<f64> {
        dims.iter()
            .map(|(p, d)| {
                let v = p
                    .and_then(|p| h.value(p, t as usize))
                    .filter(|&v| d.contains(v));
                match v {
                    Some(v) => d.to_unit(v).clamp(0.0, 1.0),
                    None => self.rng.uniform(),
                }
            })
            .collect()
    }

    /// rand/1/bin (Storn and Price 1997, as the dehb package): a unit vector
    /// over `dims`, or None when the plan has fewer than three parents.
    fn child(
        &mut self,
        h: &History,
        plan: &Plan,
        dims: &[(Option<u32>, Distribution)],
    ) -> Option<Vec<f64>> {
        // An empty slot: this trial is the slot's uniform initial member.
        plan.target?;
        let mut pool = plan.pool.clone();
        if pool.len() > 3 {
            pool.retain(|&t| Some(t) != plan.target);
        }
        if pool.len() < 3 {
            return None;
        }
        // Three distinct parents: a partial Fisher-Yates shuffle.
        for i in 0..3 {
            let j = i + self.rng.below((pool.len() - i) as u64) as usize;
            pool.swap(i, j);
        }
        let x: Vec<Vec<f64>> = pool[..3].iter().map(|&t| self.vector(h, t, dims)).collect();
        let target = self.vector(h, plan.target?, dims);
        let f = self.cfg.mutation_factor;
        let forced = self.rng.below(dims.len().max(1) as u64) as usize;
        let mut out = Vec::with_capacity(dims.len());
        for d in 0..dims.len() {
            // Mutation, rand/1: v = x_r1 + F (x_r2 - x_r3); out of range: redrawn.
            let mut v = x[0][d] + f * (x[1][d] - x[2][d]);
            if !(0.0..=1.0).contains(&v) {
                v = self.rng.uniform();
            }
            // Binomial crossover.
            let take = self.rng.uniform() < self.cfg.crossover_prob || d == forced;
            out.push(if take { v } else { target[d] });
        }
        Some(out)
    }
}

impl Sampler for DehbSampler {
    /// Uniform: parameters outside the evolved space, and uniform trials.
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
        let plan = self.plan(h, trial)?;
        self.tag = Some((trial, plan.tag.clone()));
        let space: Vec<(u32, u32)> = h
            .intersection_space()
            .into_iter()
            .filter(|&(p, d)| !h.dist(p, d).is_single())
            .collect();
        let dims: Vec<(Option<u32>, Distribution)> = space
            .iter()
            .map(|&(p, d)| (Some(p), h.dist(p, d).clone()))
            .collect();
        if dims.is_empty() {
            return Ok(Vec::new());
        }
        let Some(u) = self.child(h, &plan, &dims) else {
            return Ok(Vec::new());
        };
        Ok(space
            .iter()
            .zip(dims.iter().zip(u))
            .map(|(&(p, d), ((_, dist), u))| (p, d, dist.from_unit(u)))
            .collect())
    }

    fn sample_space(
        &mut self,
        h: &History,
        trial: usize,
        space: &SearchSpace,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        let plan = self.plan(h, trial)?;
        self.tag = Some((trial, plan.tag.clone()));
        let params = space.params();
        let dims: Vec<(Option<u32>, Distribution)> = params
            .iter()
            .map(|p| (h.param_index(&p.name), p.dist.clone()))
            .collect();
        for _ in 0..BREED_ATTEMPTS.min(max_draws.max(1)) {
            let Some(u) = self.child(h, &plan, &dims) else {
                break;
            };
            let mut x: Vec<f64> = Vec::with_capacity(params.len());
            for (p, &ui) in params.iter().zip(&u) {
                let active = match &p.condition {
                    None => true,
                    Some(c) => c.holds(params, &x),
                };
                x.push(if active {
                    p.dist.from_unit(ui)
                } else {
                    f64::NAN
                });
            }
            if space.is_valid(&x) && accept(&x)? {
                return Ok(x);
            }
        }
        space.sample_uniform(&mut self.rng, max_draws, accept)
    }

    fn take_tag(&mut self, trial: usize) -> Vec<f64> {
        match self.tag.take() {
            Some((t, tag)) if t == trial => tag,
            _ => Vec::new(),
        }
    }

    fn set_study_name(&mut self, name: &str) {
        if name != self.study_name {
            self.study_name = name.to_string();
            self.reset();
        }
    }

    /// The generator's four words (the subpopulations are rebuilt from the
    /// history).
    fn state(&self) -> SamplerState {
        rng_words(&self.rng)
    }

    fn set_state(&mut self, state: &[u64]) -> Result<()> {
        expect_words(state, 4)?;
        self.rng = rng_from_words(state)?;
        self.reset();
        self.tag = None;
        Ok(())
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }
}
