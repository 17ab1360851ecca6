//! A genetic algorithm on mixed and conditional spaces, and regularized
//! (aging) evolution.
//!
//! **Generational mode** (the default): a population of `population_size`
//! (50) individuals a generation. Parents are chosen by tournament selection
//! (`tournament_size` 2, with replacement; Goldberg and Deb 1991) from the
//! breeding pool of the previous generation; a pair is recombined with
//! probability `crossover_prob` (0.9): floats and ints by simulated binary
//! crossover (Deb and Agrawal 1995; distribution index `eta_c` 15, each
//! variable crossed with probability 1/2, as pymoo's SBX), categoricals by
//! uniform crossover (each swapped with probability `swapping_prob`, 0.5);
//! each crossed float or int takes one of SBX's two children at random (the
//! exchange of pymoo's SBX, which mixes the two sides variable by variable).
//! The child is mutated: each parameter
//! with probability `mutation_prob` (1/d for d parameters of the child),
//! floats and ints by polynomial mutation (Deb and Goyal 1996, bounded form
//! of Deb and Deb 2014; distribution index `eta_m` 20, pymoo's), categoricals
//! by random reset (a uniform choice). An int or stepped float whose
//! mutation would round back onto its value moves one grid step in the
//! direction of the perturbation (a deviation from pymoo, whose rounding
//! leaves a parameter of a few values almost never mutated). Survival: the
//! breeding pool of generation g + 1 is the best P of the pool of generation
//! g and the P members of g ((mu + lambda), pymoo's `FitnessSurvival`), or
//! with `n_elites` = k the k best of the pool of g (carried without
//! re-evaluation) and the P members of g (generational replacement with
//! elitism). With (mu + lambda) and the per-variable exchange the median
//! regret is below random search's on all six regret problems at their
//! budgets (100 to 300 trials; significantly on four, 20 seeds), where
//! replacement with 2 elites and one side per child was indistinguishable
//! from random search on all six (benches/README.md). Generation 0 is uniform.
//!
//! **Aging mode** (Real, Aggarwal, Huang and Le 2019, "Regularized Evolution
//! for Image Classifier Architecture Search", AAAI, Algorithm 1): the
//! population is the `population_size` (P = 100) most recently finished
//! individuals; each new individual samples `tournament_size` (S = 25)
//! members uniformly with replacement, copies the best and mutates one
//! parameter chosen uniformly (a float or int by polynomial mutation, a
//! categorical by a uniform choice among the other choices); the oldest
//! member leaves when a new one arrives. The first P individuals are
//! uniform. P and S are the paper's values for its CIFAR-10 search.
//!
//! Genes are unit values ([`Distribution::to_unit`]: log-scaled in log
//! space, ints, stepped floats and categoricals as cells of [0, 1)), mapped
//! back with [`Distribution::from_unit`], so every value lies on its grid.
//! Conditional parameters: a child takes a parameter that both parents have
//! through crossover, one that only one parent has from that parent, and
//! draws one neither has uniformly (define-by-run: the objective's suggest
//! draws it). A declared space's hard constraints are never violated: an
//! infeasible child is bred again, up to 32 times, and then the constrained
//! uniform sampler answers.
//!
//! **Generation state in the study.** Every proposal carries a tag,
//! `[1, generation, members proposed before]` (generational) or `[2, 0 | 1,
//! parent]` (aging: initial or child, and the parent's trial number or -1),
//! read back from the history by every sampler, so samplers sharing a study
//! (threads, worker processes, a resumed study) build one population:
//!
//! - Generational: generation g closes with its first P COMPLETE members in
//!   trial-number order, once no member before the last of them is still
//!   running and no trial before it is running without its tag yet (a trial
//!   exists in a shared storage before its tag is written, and a lagging
//!   worker may yet tag it g). The rule reads only what later news cannot
//!   change, so every worker, live or replaying a finished study, closes g
//!   with the same members. A history that is the study's only copy (the
//!   in-memory storage, [`History::is_mirror`] false) waits for no untagged
//!   trial: its proposal is still to come from a sampler that reads this
//!   history, which finds g closed too and tags it g + 1 or later, so
//!   `n_jobs` threads never hold a generation for a thread slow to reach
//!   its ask (the other threads would run all their trials into the open
//!   generation meanwhile). FAIL and PRUNED
//!   members do not count (later members replace them); a running member
//!   holds its generation, as in CMA-ES. While generation g is open every
//!   new trial is a member of g bred from the pool of g - 1; the members
//!   after the P chosen (asked while g waited) compete in generation g + 1
//!   before its own members, as CMA-ES's extras do, so parallel workers
//!   waste few evaluations; one left out twice is dropped.
//! - Aging: the population is the last P COMPLETE aging trials in the
//!   study's finishing order ([`History::finished_order`]); P initial
//!   uniform individuals are proposed (a FAIL or PRUNED one is replaced).
//!   Aging evolution is asynchronous by design (Real et al. 2019): workers
//!   that learn of finished trials in a different order may hold slightly
//!   different populations.
//!
//! Trials without this sampler's tag (enqueued trials, another sampler's)
//! are not members of any generation. The bookkeeping reads new trials only
//! (a cursor over the history and its finished-trial log), so an ask costs
//! O(P + d), flat in the number of trials.
//!
//! The algorithm ranks one objective: a study with several is refused.

pub mod ops;
pub mod scan;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};

use super::{expect_words, rng_from_words, rng_words, Sampler, SamplerState};
use crate::constraints::{Accept, SearchSpace};
use crate::error::{Error, Result};
use crate::history::{sort_key, History, TrialState};
use crate::rng::Rng;
use crate::space::Distribution;
use scan::Scan;

/// The first number of a generational tag.
pub const TAG_GENERATIONAL: f64 = 1.0;
/// The first number of an aging tag.
pub const TAG_AGING: f64 = 2.0;
/// Children bred for a declared space before the uniform sampler answers.
const BREED_ATTEMPTS: usize = 32;

/// Which evolution loop runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GaMode {
    /// Generations with tournament selection, SBX, polynomial mutation and
    /// elitism.
    Generational,
    /// Regularized (aging) evolution.
    Aging,
}

/// Settings of [`GaSampler`] (see the module documentation for defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaConfig {
    pub mode: GaMode,
    /// P; None for 50 (generational) or 100 (aging).
    pub population_size: Option<usize>,
    /// Tournament size; None for 2 (generational) or S = 25 (aging).
    pub tournament_size: Option<usize>,
    /// None: (mu + lambda) survival; k: the k best of a pool carried into
    /// the next one with the new generation (generational replacement).
    pub n_elites: Option<usize>,
    /// Probability that a pair is recombined (0.9).
    pub crossover_prob: f64,
    /// Probability that uniform crossover swaps a categorical (0.5).
    pub swapping_prob: f64,
    /// SBX distribution index (15).
    pub eta_c: f64,
    /// Polynomial mutation distribution index (20).
    pub eta_m: f64,
    /// Per-parameter mutation probability; None for 1/d.
    pub mutation_prob: Option<f64>,
}

impl Default for GaConfig {
    fn default() -> Self {
        GaConfig {
            mode: GaMode::Generational,
            population_size: None,
            tournament_size: None,
            n_elites: None,
            crossover_prob: 0.9,
            swapping_prob: 0.5,
            eta_c: 15.0,
            eta_m: 20.0,
            mutation_prob: None,
        }
    }
}

impl GaConfig {
    /// P.
    pub fn population(&self) -> usize {
        self.population_size.unwrap_or(match self.mode {
            GaMode::Generational => 50,
            GaMode::Aging => 100,
        })
    }

    /// The tournament size (S in aging mode).
    pub fn tournament(&self) -> usize {
        self.tournament_size.unwrap_or(match self.mode {
            GaMode::Generational => 2,
            GaMode::Aging => 25,
        })
    }

    fn check(&self) -> Result<()> {
        let bad = |what: String| Err(Error::InvalidArgument(what));
        if self.population() < 2 {
            return bad(format!(
                "population_size must be >= 2, got {}",
                self.population()
            ));
        }
        if self.tournament() < 1 {
            return bad("tournament_size must be >= 1, got 0".into());
        }
        for (name, p) in [
            ("crossover_prob", Some(self.crossover_prob)),
            ("swapping_prob", Some(self.swapping_prob)),
            ("mutation_prob", self.mutation_prob),
        ] {
            if let Some(p) = p {
                if !(0.0..=1.0).contains(&p) {
                    return bad(format!("{name} must be in [0, 1], got {p}"));
                }
            }
        }
        for (name, eta) in [("eta_c", self.eta_c), ("eta_m", self.eta_m)] {
            if !(eta.is_finite() && eta >= 0.0) {
                return bad(format!("{name} must be a finite number >= 0, got {eta}"));
            }
        }
        Ok(())
    }
}

/// One gene: a unit value of a parameter, with the distribution it maps
/// back through.
#[derive(Debug, Clone, PartialEq)]
struct Gene {
    dist: Distribution,
    /// The value in each parent (unit scale), None when the parent lacks it.
    parents: [Option<f64>; 2],
    /// The child's value (unit scale), None when neither parent has it.
    child: Option<f64>,
}

impl Gene {
    fn categorical(&self) -> bool {
        matches!(self.dist, Distribution::Categorical { .. })
    }
}

/// A unit gene of `v` in `dist`, None when `v` is not one of its values.
fn unit(dist: &Distribution, v: f64) -> Option<f64> {
    dist.contains(v).then(|| dist.to_unit(v).clamp(0.0, 1.0))
}

/// A mutated gene `y` of `x` for an int or stepped float: when `y` maps
/// onto the same grid point as `x` (a perturbation below half a step), the
/// adjacent point in the direction of the perturbation (the other one at an
/// end of the range), so that a mutation changes the value; `y` itself for
/// continuous floats or when it already moves.
fn discrete_step(dist: &Distribution, x: f64, y: f64) -> f64 {
    let (Some(n), v) = (dist.cardinality(), dist.from_unit(x)) else {
        return y;
    };
    if n < 2 || y == x || dist.from_unit(y) != v {
        return y;
    }
    let Some(k) = dist.position(v) else { return y };
    let up = (y > x && k + 1 < n) || k == 0;
    let k = if up { k + 1 } else { k - 1 };
    dist.to_unit(dist.discrete_value(k)).clamp(0.0, 1.0)
}

/// The generational bookkeeping.
#[derive(Debug, Clone, Default, PartialEq)]
struct Generations {
    open: u64,
    /// Members (tagged trials in any state) of generation `open - 1` and
    /// later, by trial number.
    members: BTreeMap<u64, Vec<u32>>,
    /// The last member generation `open - 1` chose: its members after it
    /// (kept in `members` until `open` closes) compete in generation `open`.
    prev_last: Option<u32>,
    /// Breeding pool of generation `open`: (sort key of the loss, trial),
    /// best first, the newest first among equal losses.
    pool: Vec<(u64, u32)>,
}

/// The aging bookkeeping.
#[derive(Debug, Clone, Default, PartialEq)]
struct Aging {
    /// (sort key of the loss, trial), oldest first.
    population: VecDeque<(u64, u32)>,
    /// Initial individuals proposed and initial individuals FAIL or PRUNED.
    n_initial: usize,
    n_initial_lost: usize,
}

/// The genetic algorithm sampler.
#[derive(Debug, Clone)]
pub struct GaSampler {
    pub cfg: GaConfig,
    pub rng: Rng,
    scan: Scan,
    gens: Generations,
    aging: Aging,
    /// The tag of the last proposal: (trial, tag).
    tag: Option<(usize, Vec<f64>)>,
}

/// The first `p` COMPLETE trials of `members` (ascending trial numbers)
/// when no member before the last of them is running and no trial before it
/// (`untagged`, the first) is running without its tag; None while the
/// generation is open.
fn closed(h: &History, members: &[u32], p: usize, untagged: Option<u32>) -> Option<Vec<u32>> {
    let mut out = Vec::with_capacity(p);
    for &t in members {
        match h.trials()[t as usize].state {
            TrialState::Complete => out.push(t),
            TrialState::Running | TrialState::Waiting => return None,
            TrialState::Fail | TrialState::Pruned => {}
        }
        if out.len() == p {
            return untagged.is_none_or(|u| u >= t).then_some(out);
        }
    }
    None
}

/// The loss of a COMPLETE trial as a sort key (first objective, negated
/// when maximised).
fn loss_key(h: &History, t: u32) -> u64 {
    let sign = if h.maximize()[0] { -1.0 } else { 1.0 };
    sort_key(h.trials()[t as usize].values[0] * sign)
}

impl GaSampler {
    /// A sampler with `cfg`; `seed` drives every random choice.
    pub fn new(cfg: GaConfig, seed: u64) -> Result<Self> {
        cfg.check()?;
        Ok(GaSampler {
            cfg,
            rng: Rng::new(seed),
            scan: Scan::default(),
            gens: Generations::default(),
            aging: Aging::default(),
            tag: None,
        })
    }

    /// The generation new trials join (generational mode).
    pub fn generation(&self) -> u64 {
        self.gens.open
    }

    /// The breeding pool's trials, best first (generational), or the
    /// population's, oldest first (aging).
    pub fn population(&self) -> Vec<u32> {
        match self.cfg.mode {
            GaMode::Generational => self.gens.pool.iter().map(|e| e.1).collect(),
            GaMode::Aging => self.aging.population.iter().map(|e| e.1).collect(),
        }
    }

    /// Reads the trials new since the last call into the bookkeeping.
    fn update(&mut self, h: &History) -> Result<()> {
        if h.n_objectives() > 1 {
            return Err(Error::InvalidArgument(format!(
                "GASampler ranks one objective; this study has {}",
                h.n_objectives()
            )));
        }
        if self.scan.is_other(h) {
            self.scan = Scan::default();
            self.gens = Generations::default();
            self.aging = Aging::default();
        }
        match self.cfg.mode {
            GaMode::Generational => self.update_generations(h),
            GaMode::Aging => self.update_aging(h),
        }
        Ok(())
    }

    fn update_generations(&mut self, h: &History) {
        let g = &mut self.gens;
        let p = self.cfg.population();
        self.scan.tags(h, |t, tag| {
            let from = g.open.saturating_sub(1) as f64;
            if tag.len() == 3 && tag[0] == TAG_GENERATIONAL && tag[1] >= from {
                let m = g.members.entry(tag[1] as u64).or_default();
                if let Err(pos) = m.binary_search(&t) {
                    m.insert(pos, t);
                }
            }
        });
        // Read to the end, so that `Scan::is_other` knows this history.
        self.scan.finished(h, |_| {});
        let untagged = self.scan.first_untagged().filter(|_| h.is_mirror());
        loop {
            // The members of g - 1 after the ones it chose compete in g (they
            // were asked while g - 1 waited), and then g's own: one list by
            // trial number, whenever each tag became known.
            let empty = Vec::new();
            let own = g.members.get(&g.open).unwrap_or(&empty);
            let mut candidates: Vec<u32> = match (g.open.checked_sub(1), g.prev_last) {
                (Some(prev), Some(last)) => g.members.get(&prev).map_or_else(Vec::new, |m| {
                    m.iter().copied().filter(|&t| t > last).collect()
                }),
                _ => Vec::new(),
            };
            candidates.extend(own);
            candidates.sort_unstable();
            let Some(done) = closed(h, &candidates, p, untagged) else {
                break;
            };
            g.prev_last = done.last().copied();
            if let Some(prev) = g.open.checked_sub(1) {
                g.members.remove(&prev);
            }
            let carried = self.cfg.n_elites.unwrap_or(g.pool.len());
            let mut pool: Vec<(u64, u32)> = g.pool.iter().copied().take(carried).collect();
            pool.extend(done.iter().map(|&t| (loss_key(h, t), t)));
            // Best first; among equal losses the newest first, so that a flat
            // landscape drifts instead of breeding from the oldest forever.
            pool.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            if self.cfg.n_elites.is_none() {
                pool.truncate(p);
            }
            g.pool = pool;
            g.open += 1;
        }
    }

    fn update_aging(&mut self, h: &History) {
        let a = &mut self.aging;
        self.scan.tags(h, |_, tag| {
            if tag.len() == 3 && tag[0] == TAG_AGING && tag[1] == 0.0 {
                a.n_initial += 1;
            }
        });
        let p = self.cfg.population();
        self.scan.finished(h, |t| {
            let tag = h.tag(t as usize);
            if !(tag.len() == 3 && tag[0] == TAG_AGING) {
                return;
            }
            match h.trials()[t as usize].state {
                TrialState::Complete => {
                    a.population.push_back((loss_key(h, t), t));
                    if a.population.len() > p {
                        a.population.pop_front();
                    }
                }
                _ if tag[1] == 0.0 => a.n_initial_lost += 1,
                _ => {}
            }
        });
    }

    /// The parents of the next child and its tag, or None for a uniform
    /// individual (with its tag).
    fn choose_parents(&mut self) -> (Vec<u32>, Vec<f64>) {
        let k = self.cfg.tournament();
        match self.cfg.mode {
            GaMode::Generational => {
                let g = &self.gens;
                // The generation's members proposed so far.
                let index = g.members.get(&g.open).map_or(0, Vec::len) as f64;
                let tag = vec![TAG_GENERATIONAL, g.open as f64, index];
                if g.pool.is_empty() {
                    return (Vec::new(), tag);
                }
                let a = g.pool[ops::tournament(&mut self.rng, g.pool.len(), k)].1;
                let b = g.pool[ops::tournament(&mut self.rng, g.pool.len(), k)].1;
                (vec![a, b], tag)
            }
            GaMode::Aging => {
                let a = &self.aging;
                let initial_left = a.n_initial - a.n_initial_lost.min(a.n_initial);
                if initial_left < self.cfg.population() || a.population.is_empty() {
                    return (Vec::new(), vec![TAG_AGING, 0.0, -1.0]);
                }
                // Algorithm 1: S members with replacement, the best is the parent.
                let n = a.population.len() as u64;
                let best = (0..k)
                    .map(|_| a.population[self.rng.below(n) as usize])
                    .min()
                    .expect("k >= 1");
                (vec![best.1], vec![TAG_AGING, 1.0, f64::from(best.1)])
            }
        }
    }

    /// Recombines and mutates `genes` in place (their `child` values).
    fn vary(&mut self, genes: &mut [Gene], two_parents: bool) {
        let side = self.rng.below(2) as usize;
        let cross = two_parents && self.rng.uniform() < self.cfg.crossover_prob;
        for g in genes.iter_mut() {
            g.child = match g.parents {
                [Some(a), Some(b)] if cross => Some(self.cross(g.categorical(), a, b, side)),
                [Some(a), Some(b)] => Some(if side == 0 { a } else { b }),
                [Some(a), None] => Some(a),
                [None, Some(b)] => Some(b),
                [None, None] => None,
            };
        }
        let free: Vec<usize> = (0..genes.len())
            .filter(|&i| genes[i].child.is_some() && !genes[i].dist.is_single())
            .collect();
        if free.is_empty() {
            return;
        }
        if !two_parents {
            // Aging: exactly one parameter changes.
            let i = free[self.rng.below(free.len() as u64) as usize];
            self.mutate(&mut genes[i], true);
            return;
        }
        let pm = self.cfg.mutation_prob.unwrap_or(1.0 / free.len() as f64);
        for i in free {
            if self.rng.uniform() < pm {
                self.mutate(&mut genes[i], false);
            }
        }
    }

    /// One variable of the child on `side` of a recombined pair.
    fn cross(&mut self, categorical: bool, a: f64, b: f64, side: usize) -> f64 {
        if categorical {
            let swap = self.rng.uniform() < self.cfg.swapping_prob;
            return if (side == 1) != swap { b } else { a };
        }
        // pymoo's SBX crosses each variable with probability 1/2, and not
        // two (nearly) equal values.
        if self.rng.uniform() >= 0.5 || (a - b).abs() < 1e-14 {
            return if side == 0 { a } else { b };
        }
        let (c1, c2) = ops::sbx(a, b, self.rng.uniform(), self.cfg.eta_c);
        // pymoo's exchange: either child's value, whichever side the child is.
        (if self.rng.uniform() < 0.5 { c1 } else { c2 }).clamp(0.0, 1.0)
    }

    /// Mutates one gene: polynomial mutation, or a new choice (a different
    /// one when `different`).
    fn mutate(&mut self, g: &mut Gene, different: bool) {
        let Some(x) = g.child else { return };
        g.child = Some(match g.dist {
            Distribution::Categorical { n } => {
                let cur = g.dist.from_unit(x) as u64;
                let k = if different && n > 1 {
                    let k = self.rng.below(n as u64 - 1);
                    k + u64::from(k >= cur)
                } else {
                    self.rng.below(n as u64)
                };
                (k as f64 + 0.5) / n as f64
            }
            _ => {
                let y = ops::polynomial_mutation(x, self.rng.uniform(), self.cfg.eta_m);
                discrete_step(&g.dist, x, y)
            }
        });
    }

    /// The genes over the union of the parents' define-by-run parameters:
    /// (param, dist index, gene).
    fn genes_of_trials(h: &History, parents: &[u32]) -> Vec<(u32, u32, Gene)> {
        let mut out: Vec<(u32, u32, Gene)> = Vec::new();
        for (side, &t) in parents.iter().enumerate() {
            for pv in &h.trials()[t as usize].params {
                let pos = out.iter().position(|e| e.0 == pv.param);
                let i = pos.unwrap_or_else(|| {
                    let dist = h.dist(pv.param, pv.dist).clone();
                    let gene = Gene {
                        dist,
                        parents: [None, None],
                        child: None,
                    };
                    out.push((pv.param, pv.dist, gene));
                    out.len() - 1
                });
                let own = h.dist(pv.param, pv.dist);
                let u = unit(own, pv.value).filter(|_| own.same_kind(&out[i].2.dist));
                out[i].2.parents[side] = u;
            }
        }
        if parents.len() == 1 {
            for e in &mut out {
                e.2.parents[1] = None;
            }
        }
        out
    }
}

impl Sampler for GaSampler {
    /// Uniform: a parameter no parent has (or a uniform individual's).
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
        self.update(h)?;
        let (parents, tag) = self.choose_parents();
        self.tag = Some((trial, tag));
        if parents.is_empty() {
            return Ok(Vec::new());
        }
        let mut genes = Self::genes_of_trials(h, &parents);
        let mut g: Vec<Gene> = genes.iter().map(|e| e.2.clone()).collect();
        self.vary(&mut g, parents.len() == 2);
        for (e, gene) in genes.iter_mut().zip(g) {
            e.2 = gene;
        }
        Ok(genes
            .into_iter()
            .filter_map(|(p, d, g)| g.child.map(|u| (p, d, g.dist.from_unit(u))))
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
        self.update(h)?;
        let params = space.params();
        let index: Vec<Option<u32>> = params.iter().map(|p| h.param_index(&p.name)).collect();
        let mut tag = Vec::new();
        for _ in 0..BREED_ATTEMPTS.min(max_draws.max(1)) {
            let (parents, t) = self.choose_parents();
            tag = t;
            if parents.is_empty() {
                break;
            }
            let mut genes: Vec<Gene> = params
                .iter()
                .zip(&index)
                .map(|(p, &pi)| {
                    let mut parent_genes = [None, None];
                    for (side, &t) in parents.iter().enumerate() {
                        let v = pi.and_then(|pi| h.value(pi, t as usize));
                        parent_genes[side] = v.and_then(|v| unit(&p.dist, v));
                    }
                    Gene {
                        dist: p.dist.clone(),
                        parents: parent_genes,
                        child: None,
                    }
                })
                .collect();
            self.vary(&mut genes, parents.len() == 2);
            let x = self.realise(space, &genes);
            if space.is_valid(&x) && accept(&x)? {
                self.tag = Some((trial, tag));
                return Ok(x);
            }
        }
        self.tag = Some((trial, tag));
        space.sample_uniform(&mut self.rng, max_draws, accept)
    }

    fn take_tag(&mut self, trial: usize) -> Vec<f64> {
        match self.tag.take() {
            Some((t, tag)) if t == trial => tag,
            _ => Vec::new(),
        }
    }

    /// The generator's four words (the population is rebuilt from the
    /// history's tags).
    fn state(&self) -> SamplerState {
        rng_words(&self.rng)
    }

    fn set_state(&mut self, state: &[u64]) -> Result<()> {
        expect_words(state, 4)?;
        self.rng = rng_from_words(state)?;
        self.scan = Scan::default();
        self.gens = Generations::default();
        self.aging = Aging::default();
        self.tag = None;
        Ok(())
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }
}

impl GaSampler {
    /// A row of `space` from a child's genes: conditions applied in order,
    /// a gene no parent had drawn uniformly.
    fn realise(&mut self, space: &SearchSpace, genes: &[Gene]) -> Vec<f64> {
        let mut x: Vec<f64> = Vec::with_capacity(genes.len());
        for (p, g) in space.params().iter().zip(genes) {
            let active = match &p.condition {
                None => true,
                Some(c) => c.holds(space.params(), &x),
            };
            let v = if !active {
                f64::NAN
            } else if p.dist.is_single() {
                p.dist.from_unit(0.5)
            } else {
                let u = g.child.unwrap_or_else(|| self.rng.uniform());
                p.dist.from_unit(u)
            };
            x.push(v);
        }
        x
    }
}
