//! Policy-gradient search: a recurrent controller over the decisions of a
//! declared space, trained with REINFORCE (Williams 1992, "Simple
//! statistical gradient-following algorithms for connectionist
//! reinforcement learning", Machine Learning 8) as in Zoph and Le (2017,
//! "Neural Architecture Search with Reinforcement Learning", ICLR).
//!
//! **Decisions.** Each parameter of a declared [`SearchSpace`], in the
//! space's order (parents first), is one decision of the episode when it is
//! active (its condition holds) and has more than one value: a categorical,
//! int or stepped float with at most [`MAX_CHOICES`] values (or in the
//! space's enumerated constraint block) chooses among its values; any other
//! parameter (a continuous float, a wide int) chooses one of `n_bins` equal
//! cells of its unit scale (log scale for log parameters) and takes a
//! uniform value inside the cell. Inactive parameters are skipped, so the
//! controller's next input is the embedding of the last decision taken.
//!
//! **Policy** ([`policy::Policy`]): an Elman recurrent cell whose input is
//! the embedding of the previous choice, with one softmax classifier per
//! decision; its gradient is written by hand (backpropagation through
//! time) and checked against finite differences.
//!
//! **Hard constraints.** The space's enumerated block
//! ([`SearchSpace::feasible_block`]: the constraints over unconditional
//! discrete parameters) is enforced by masking: at each decision of the
//! block only choices that some feasible combination allows, given the
//! choices already made, keep probability, so every episode ends feasible.
//! Constraints outside the block and the caller's `accept` are enforced by
//! drawing the episode again (up to 32 times), then by the constrained
//! uniform sampler, so a proposal is never infeasible.
//!
//! **Training.** Each ask first reads the trials finished since the last
//! one ([`History::finished_order`]); every COMPLETE trial whose values form
//! an episode of the space is a sample, whoever proposed it (several
//! workers, enqueued trials). Its reward is its value (negated when
//! minimising), normalised: the advantage is `A = (r - b) / sigma` with `b`
//! an exponential moving average of the rewards (decay `baseline_decay`;
//! Zoph and Le 2017, section 3.2) taken before `r` joins it and `sigma` the
//! standard deviation of all rewards seen (1 until there are two), clipped
//! to +-10 (our guard: an outlier reward gave steps whose squares overflowed
//! Adam's second moment; rewards beyond +-1e300 are clamped there). Each
//! sample's loss `-A log pi(episode) - beta H(pi)`, with the entropy bonus
//! of Williams and Peng (1991) weighted
//! `beta = entropy_weight * entropy_decay^updates`, takes one Adam step
//! (Kingma and Ba 2015) of size `learning_rate`: a batch of one, in the
//! order the study learnt of the trials, so the controller does not depend
//! on when the asks came (a resumed study replays its trials one by one).
//! With `ppo_epochs` k > 1 each sample takes k Adam steps on PPO's clipped
//! surrogate (Schulman et al. 2017, eq. 7; clip range `ppo_clip`), the old
//! policy being the controller before the sample's first step (the one
//! that proposed the trial is not kept); the first step is REINFORCE's.
//! Each worker process trains its own copy of the controller on the same
//! trials; copies seeded alike and learning in the same order agree. A
//! study without a declared space gets uniform draws (the controller needs
//! the space's order).

pub mod policy;
#[cfg(test)]
mod tests;

use super::{rng_from_words, rng_words, Sampler, SamplerState};
use crate::constraints::{Accept, SearchSpace};
use crate::error::{Error, Result};
use crate::history::{History, TrialState};
use crate::rng::Rng;
use crate::space::{Distribution, Param};
use policy::{Adam, Policy, Step};

/// Largest number of values a discrete parameter chooses among exactly;
/// wider ones are binned.
pub const MAX_CHOICES: u64 = 64;
/// Episodes drawn before the constrained uniform sampler answers.
const EPISODE_DRAWS: usize = 32;

/// The controller's settings (see the module documentation). Defaults:
/// `learning_rate` 0.01, `baseline_decay` 0.9, `entropy_weight` 0.1,
/// `entropy_decay` 1 (constant), `hidden_size` 32, `embedding_size` 16,
/// `n_bins` 10, `ppo_epochs` 1 (plain REINFORCE), `ppo_clip` 0.2; tuned on NAS-Bench-201 (benches/nas_reinforce.py), where a
/// larger step or a smaller entropy weight commits early to one cell.
#[derive(Debug, Clone, PartialEq)]
pub struct ReinforceConfig {
    pub learning_rate: f64,
    pub baseline_decay: f64,
    pub entropy_weight: f64,
    pub entropy_decay: f64,
    pub hidden_size: usize,
    pub embedding_size: usize,
    pub n_bins: usize,
    /// Adam steps per sample; more than 1 takes PPO's clipped surrogate.
    pub ppo_epochs: usize,
    /// PPO's clip range epsilon.
    pub ppo_clip: f64,
}

impl Default for ReinforceConfig {
    fn default() -> Self {
        ReinforceConfig {
            learning_rate: 0.01,
            baseline_decay: 0.9,
            entropy_weight: 0.1,
            entropy_decay: 1.0,
            hidden_size: 32,
            embedding_size: 16,
            n_bins: 10,
            ppo_epochs: 1,
            ppo_clip: 0.2,
        }
    }
}

impl ReinforceConfig {
    fn check(&self) -> Result<()> {
        let bad = |name: &str, why: &str| Err(Error::InvalidArgument(format!("{name} {why}")));
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad("learning_rate", "must be a positive finite number");
        }
        if !(0.0..1.0).contains(&self.baseline_decay) {
            return bad("baseline_decay", "must be in [0, 1)");
        }
        if !(self.entropy_weight >= 0.0 && self.entropy_weight.is_finite()) {
            return bad("entropy_weight", "must be a finite number >= 0");
        }
        if !(self.entropy_decay > 0.0 && self.entropy_decay <= 1.0) {
            return bad("entropy_decay", "must be in (0, 1]");
        }
        if self.hidden_size == 0 || self.embedding_size == 0 {
            return bad("hidden_size and embedding_size", "must be at least 1");
        }
        if self.n_bins < 2 {
            return bad("n_bins", "must be at least 2");
        }
        if self.ppo_epochs == 0 || self.ppo_epochs > 1000 {
            return bad("ppo_epochs", "must be in [1, 1000]");
        }
        if !(self.ppo_clip > 0.0 && self.ppo_clip < 1.0) {
            return bad("ppo_clip", "must be in (0, 1)");
        }
        Ok(())
    }
}

/// One decision: the space's parameter, its number of choices, and whether
/// the choices are cells of the unit scale (true) or the parameter's values.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Decision {
    param: usize,
    card: usize,
    bins: bool,
}

/// The controller of one declared space and its training state.
#[derive(Debug, Clone, PartialEq)]
struct Model {
    names: u64,
    decisions: Vec<Decision>,
    /// Decision index of each parameter of the space (None: no decision).
    of_param: Vec<Option<usize>>,
    policy: Policy,
    adam: Adam,
    updates: u64,
    /// EMA baseline (NaN before the first reward).
    baseline: f64,
    /// Running count, mean and sum of squared deviations of the rewards
    /// (Welford 1962).
    n: f64,
    mean: f64,
    m2: f64,
}

/// REINFORCE over a declared space's decisions (see the module docs).
#[derive(Debug, Clone)]
pub struct ReinforceSampler {
    config: ReinforceConfig,
    rng: Rng,
    model: Option<Model>,
    /// Entries of the history's finished order already learnt from.
    cursor: usize,
}

/// FNV-1a over the parameter names, so a different space rebuilds the model.
fn names_hash(space: &SearchSpace) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in space.params() {
        for b in p.name.bytes().chain(std::iter::once(0)) {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn decisions_of(space: &SearchSpace, n_bins: usize) -> Vec<Decision> {
    let block: &[usize] = space.feasible_block().map_or(&[], |b| b.0);
    space
        .params()
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.dist.is_single())
        .map(|(i, p)| match p.dist.cardinality() {
            Some(c) if c <= MAX_CHOICES || block.contains(&i) => Decision {
                param: i,
                card: c as usize,
                bins: false,
            },
            _ => Decision {
                param: i,
                card: n_bins,
                bins: true,
            },
        })
        .collect()
}

/// The feasible rows of the space's block still consistent with the
/// choices made so far.
struct BlockMask<'a> {
    cols: &'a [usize],
    combos: &'a [f64],
    alive: Vec<usize>,
}

impl<'a> BlockMask<'a> {
    fn new(space: &'a SearchSpace) -> Self {
        let (cols, combos) = space.feasible_block().unwrap_or((&[], &[]));
        let n = if cols.is_empty() {
            0
        } else {
            combos.len() / cols.len()
        };
        BlockMask {
            cols,
            combos,
            alive: (0..n).collect(),
        }
    }

    /// The allowed choices of parameter `i` (empty when it is not in the
    /// block: all allowed).
    fn mask(&self, i: usize, dist: &Distribution, card: usize) -> Vec<bool> {
        let Some(j) = self.cols.iter().position(|&c| c == i) else {
            return Vec::new();
        };
        let w = self.cols.len();
        let mut m = vec![false; card];
        for &r in &self.alive {
            if let Some(k) = dist.position(self.combos[r * w + j]) {
                m[k as usize] = true;
            }
        }
        m
    }

    /// Keeps the rows that give parameter `i` the value `v`.
    fn fix(&mut self, i: usize, v: f64) {
        if let Some(j) = self.cols.iter().position(|&c| c == i) {
            let (w, combos) = (self.cols.len(), self.combos);
            self.alive.retain(|&r| combos[r * w + j] == v);
        }
    }
}

fn is_active(params: &[Param], p: &Param, x: &[f64]) -> bool {
    p.condition.as_ref().is_none_or(|c| c.holds(params, x))
}

impl ReinforceSampler {
    /// A sampler with `config`, its draws determined by `seed`; an
    /// out-of-range setting is an [`Error::InvalidArgument`] naming it.
    pub fn new(config: ReinforceConfig, seed: u64) -> Result<Self> {
        config.check()?;
        Ok(ReinforceSampler {
            config,
            rng: Rng::new(seed),
            model: None,
            cursor: 0,
        })
    }

    /// The controller's probability of the configuration `x` of `space` (for
    /// tests and diagnostics), or None before the model exists or when `x`
    /// is not an episode of the space.
    pub fn probability(&self, h: &History, t: usize, space: &SearchSpace) -> Option<f64> {
        let m = self.model.as_ref()?;
        let steps = episode(m, h, t, space)?;
        Some(m.policy.log_prob(&steps).exp())
    }

    fn ensure_model(&mut self, space: &SearchSpace) {
        let names = names_hash(space);
        let decisions = decisions_of(space, self.config.n_bins);
        if let Some(m) = &self.model {
            if m.names == names && m.decisions == decisions {
                return;
            }
        }
        let cards: Vec<usize> = decisions.iter().map(|d| d.card).collect();
        let policy = Policy::new(
            &cards,
            self.config.embedding_size,
            self.config.hidden_size,
            &mut self.rng,
        );
        self.model = Some(new_model(names, decisions, space.params().len(), policy));
    }

    /// Learns from the trials finished since the last ask: one Adam step per
    /// trial, in the order the study learnt of them.
    fn learn(&mut self, h: &History, space: &SearchSpace) -> Result<()> {
        let order = h.finished_order();
        let start = self.cursor.min(order.len());
        self.cursor = order.len();
        let Some(m) = self.model.as_mut() else {
            return Ok(());
        };
        let maximize = h.maximize().first().copied().unwrap_or(false);
        let mut grad = vec![0.0; m.policy.theta.len()];
        for &t in &order[start..] {
            let rec = h.trial(t as usize)?;
            let Some(&v) = rec.values.first() else {
                continue;
            };
            if rec.state != TrialState::Complete || !v.is_finite() {
                continue;
            }
            let Some(steps) = episode(m, h, t as usize, space) else {
                continue;
            };
            let cfg = &self.config;
            let beta = cfg.entropy_weight * cfg.entropy_decay.powf(m.updates.min(1 << 40) as f64);
            let a = m.advantage(if maximize { v } else { -v }, cfg.baseline_decay);
            if !a.is_finite() {
                continue;
            }
            // Epoch 1 is REINFORCE's step (rho = 1); later epochs follow the
            // clipped surrogate against the controller before this sample.
            let log_old = m.policy.log_prob(&steps);
            for _ in 0..cfg.ppo_epochs {
                grad.fill(0.0);
                let p = &m.policy;
                p.ppo_loss_grad(&steps, a, log_old, cfg.ppo_clip, beta, &mut grad);
                m.adam.step(&mut m.policy.theta, &grad, cfg.learning_rate);
            }
            m.updates += 1;
        }
        Ok(())
    }

    /// One episode drawn from the controller, as a configuration of `space`.
    fn propose(&mut self, space: &SearchSpace) -> Vec<f64> {
        let m = self.model.as_ref().expect("model built before proposing");
        let params = space.params();
        let mut x = vec![f64::NAN; params.len()];
        let mut block = BlockMask::new(space);
        let mut state = m.policy.start();
        let mut prev = None;
        for (i, p) in params.iter().enumerate() {
            if !is_active(params, p, &x) {
                continue;
            }
            let Some(d) = m.of_param.get(i).copied().flatten() else {
                x[i] = p.dist.from_unit(0.5);
                continue;
            };
            let dec = m.decisions[d];
            let mask = block.mask(i, &p.dist, dec.card);
            let probs = m.policy.step(&mut state, prev, d, &mask);
            let a = draw(&mut self.rng, &probs);
            x[i] = if dec.bins {
                let u = (a as f64 + self.rng.uniform()) / dec.card as f64;
                p.dist.from_unit(u)
            } else {
                p.dist.discrete_value(a as u64)
            };
            block.fix(i, x[i]);
            prev = Some((d, a));
        }
        x
    }
}

fn new_model(names: u64, decisions: Vec<Decision>, n_params: usize, policy: Policy) -> Model {
    let mut of_param = vec![None; n_params];
    for (d, dec) in decisions.iter().enumerate() {
        of_param[dec.param] = Some(d);
    }
    Model {
        names,
        decisions,
        of_param,
        adam: Adam::new(policy.theta.len()),
        policy,
        updates: 0,
        baseline: f64::NAN,
        n: 0.0,
        mean: 0.0,
        m2: 0.0,
    }
}

/// The largest reward magnitude the statistics take (see [`Model::advantage`]).
const REWARD_LIMIT: f64 = 1e300;
/// The largest normalised advantage (in reward standard deviations) a step takes.
const ADVANTAGE_LIMIT: f64 = 10.0;

impl Model {
    /// The normalised advantage of reward `r`, updating the reward
    /// statistics and the baseline.
    fn advantage(&mut self, r: f64, decay: f64) -> f64 {
        // Rewards near the float limit would overflow r - mean to ±inf and turn
        // the statistics (and the controller's weights) into NaN for good; at
        // ±1e300 every difference stays finite and m2 at worst +inf (sigma 1).
        let r = r.clamp(-REWARD_LIMIT, REWARD_LIMIT);
        self.n += 1.0;
        let delta = r - self.mean;
        self.mean += delta / self.n;
        self.m2 += delta * (r - self.mean);
        let sd = if self.n >= 2.0 {
            (self.m2 / (self.n - 1.0)).sqrt()
        } else {
            0.0
        };
        let sigma = if sd > 0.0 && sd.is_finite() { sd } else { 1.0 };
        let b = if self.baseline.is_nan() {
            r
        } else {
            self.baseline
        };
        self.baseline = decay * b + (1.0 - decay) * r;
        // Clipped: one outlier (a reward far beyond the others, whose variance
        // then stays dominated by it) would otherwise give a step whose square
        // overflows Adam's second moment and freezes the controller for good.
        ((r - b) / sigma).clamp(-ADVANTAGE_LIMIT, ADVANTAGE_LIMIT)
    }
}

/// Index drawn from probabilities `p`.
fn draw(rng: &mut Rng, p: &[f64]) -> usize {
    let u = rng.uniform();
    let mut acc = 0.0;
    let mut last = 0;
    for (j, &q) in p.iter().enumerate() {
        if q > 0.0 {
            acc += q;
            last = j;
            if u < acc {
                return j;
            }
        }
    }
    last
}

/// The episode trial `t` took in `space`, or None when its values are not
/// one (a parameter missing or outside its distribution, a masked choice).
fn episode(m: &Model, h: &History, t: usize, space: &SearchSpace) -> Option<Vec<Step>> {
    let params = space.params();
    let mut x = vec![f64::NAN; params.len()];
    let mut block = BlockMask::new(space);
    let mut steps = Vec::with_capacity(m.decisions.len());
    for (i, p) in params.iter().enumerate() {
        if !is_active(params, p, &x) {
            continue;
        }
        let v = h.value(h.param_index(&p.name)?, t)?;
        if !p.dist.contains(v) {
            return None;
        }
        x[i] = v;
        let Some(d) = m.of_param.get(i).copied().flatten() else {
            continue;
        };
        let dec = m.decisions[d];
        let a = if dec.bins {
            ((p.dist.to_unit(v) * dec.card as f64) as usize).min(dec.card - 1)
        } else {
            p.dist.position(v)? as usize
        };
        let mask = block.mask(i, &p.dist, dec.card);
        if !mask.is_empty() && !mask[a] {
            return None;
        }
        block.fix(i, v);
        steps.push(Step { d, a, mask });
    }
    Some(steps)
}

impl Sampler for ReinforceSampler {
    /// Outside a declared space: a uniform draw.
    fn sample_independent(
        &mut self,
        _: &History,
        _: usize,
        _: &str,
        dist: &Distribution,
    ) -> Result<f64> {
        Ok(dist.from_unit(self.rng.uniform()))
    }

    fn sample_space(
        &mut self,
        h: &History,
        _: usize,
        space: &SearchSpace,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        self.ensure_model(space);
        self.learn(h, space)?;
        for _ in 0..EPISODE_DRAWS.min(max_draws.max(1)) {
            let x = self.propose(space);
            if space.is_valid(&x) && accept(&x)? {
                return Ok(x);
            }
        }
        space.sample_uniform(&mut self.rng, max_draws, accept)
    }

    fn independent_is_cheap(&self) -> bool {
        true
    }

    /// The generator, the cursor, then the model (its decisions, training
    /// counters, parameters and Adam's moments), floats as bits.
    fn state(&self) -> SamplerState {
        let mut s = rng_words(&self.rng);
        s.push(self.cursor as u64);
        let Some(m) = &self.model else {
            s.push(0);
            return s;
        };
        s.extend([1, m.names, m.decisions.len() as u64]);
        for d in &m.decisions {
            s.extend([d.param as u64, d.card as u64, d.bins as u64]);
        }
        s.extend([m.updates, m.adam.t, m.policy.theta.len() as u64]);
        for f in [m.baseline, m.n, m.mean, m.m2] {
            s.push(f.to_bits());
        }
        for v in [&m.policy.theta, &m.adam.m, &m.adam.v] {
            s.extend(v.iter().map(|f| f.to_bits()));
        }
        s
    }

    fn set_state(&mut self, state: &[u64]) -> Result<()> {
        let bad = || Error::InvalidArgument("malformed ReinforceSampler state".into());
        let rng = rng_from_words(state)?;
        let mut it = state.get(4..).ok_or_else(bad)?.iter().copied();
        let mut next = || it.next().ok_or_else(bad);
        let cursor = next()? as usize;
        let model = if next()? == 0 {
            None
        } else {
            Some(read_model(&mut next, &self.config)?)
        };
        if it_rest_nonempty(state, &model) {
            return Err(bad());
        }
        self.rng = rng;
        self.cursor = cursor;
        self.model = model;
        Ok(())
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }
}

/// The number of words [`ReinforceSampler::state`] writes for `model`.
fn state_len(model: &Option<Model>) -> usize {
    match model {
        None => 6,
        Some(m) => 8 + 3 * m.decisions.len() + 3 + 4 + 3 * m.policy.theta.len(),
    }
}

fn it_rest_nonempty(state: &[u64], model: &Option<Model>) -> bool {
    state.len() != state_len(model)
}

fn read_model(next: &mut impl FnMut() -> Result<u64>, config: &ReinforceConfig) -> Result<Model> {
    let bad = || Error::InvalidArgument("malformed ReinforceSampler state".into());
    let names = next()?;
    let nd = next()? as usize;
    if nd > 1 << 20 {
        return Err(bad());
    }
    let mut decisions = Vec::with_capacity(nd);
    for _ in 0..nd {
        let (param, card, bins) = (next()? as usize, next()? as usize, next()? != 0);
        if card == 0 || card > 1 << 20 || param > 1 << 20 {
            return Err(bad());
        }
        decisions.push(Decision { param, card, bins });
    }
    let (updates, t, len) = (next()?, next()?, next()? as usize);
    let mut floats = [0.0; 4];
    for f in &mut floats {
        *f = f64::from_bits(next()?);
    }
    let cards: Vec<usize> = decisions.iter().map(|d| d.card).collect();
    let mut policy = Policy::new(
        &cards,
        config.embedding_size,
        config.hidden_size,
        &mut Rng::new(0),
    );
    if policy.theta.len() != len {
        return Err(bad());
    }
    let mut adam = Adam::new(len);
    adam.t = t;
    for v in [&mut policy.theta, &mut adam.m, &mut adam.v] {
        for x in v.iter_mut() {
            *x = f64::from_bits(next()?);
        }
    }
    let n_params = decisions.iter().map(|d| d.param + 1).max().unwrap_or(0);
    let mut m = new_model(names, decisions, n_params, policy);
    m.adam = adam;
    m.updates = updates;
    [m.baseline, m.n, m.mean, m.m2] = floats;
    Ok(m)
}
