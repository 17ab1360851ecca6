//! Gradient-based hyperparameter optimisation: bounded first-order steps on
//! continuous hyperparameters from the hypergradients that trials report
//! (Bengio 2000; Maclaurin, Duvenaud & Adams 2015; Pedregosa 2016; Lorraine,
//! Vicol & Duvenaud 2020).
//!
//! The iterate lives in the unit cube of each parameter's transformed space
//! (`Distribution::to_unit`: affine in the value, or in its logarithm for
//! `log=True`), so one learning rate suits every range and log-scaled
//! parameters are stepped in log space. A gradient reported with respect to a
//! value `x` as suggested becomes `dL/dz = dL/dx * dx/dz`, with
//! `dx/dz = high - low` (linear) or `x ln(high / low)` (log), the chain rule.
//!
//! Each batch of new gradients (all the reports a worker learns of at one
//! ask, from finished and still-running trials) is averaged per parameter and
//! taken as one step of Adam (Kingma & Ba 2015, Algorithm 1) or of plain
//! gradient descent, from the newest iterate, then projected onto the cube
//! (clipping is the Euclidean projection onto a box; Bertsekas 1999, §2.3).
//! Adam's step counter is kept per parameter, since parameters can join later.
//! An ask that finds no new gradient while other trials are still out takes
//! one more step with the last averaged gradient, so parallel workers do not
//! all evaluate the same point (a gradient "constant liar", after Ginsbourger,
//! Le Riche & Carraro 2010).
//!
//! Parameters that are not continuous floats, and continuous floats that the
//! caller marks as receiving no gradient, are drawn uniformly (the fallback).
//! A declared search space is drawn uniformly too: its constraints are kept by
//! the space's constrained sampler, which a gradient step cannot guarantee.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{rng_from_words, rng_words, Sampler, SamplerState};
use crate::constraints::{Accept, SearchSpace};
use crate::error::{Error, Result};
use crate::history::History;
use crate::rng::Rng;
use crate::space::Distribution;

/// The first-order method of the steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Optimizer {
    /// Adam (Kingma & Ba 2015), bias-corrected moments.
    Adam,
    /// Projected gradient descent, `z <- z - lr * g`.
    Sgd,
}

/// Where the iterate starts, for a parameter without a value in `x0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The centre of the transformed range (the geometric mean for log).
    Centre,
    /// A uniform draw in the transformed range (from the sampler's seed).
    Random,
}

/// Settings of [`HypergradientSampler`].
#[derive(Debug, Clone, PartialEq)]
pub struct HypergradientConfig {
    /// Step size in the unit cube (Adam: about the largest move of one step).
    pub lr: f64,
    /// Adam's decay of the first moment.
    pub beta1: f64,
    /// Adam's decay of the second moment.
    pub beta2: f64,
    /// Adam's epsilon.
    pub eps: f64,
    pub optimizer: Optimizer,
    /// Initial values by parameter name (their internal representation).
    pub x0: Vec<(String, f64)>,
    /// Start of the parameters not in `x0`.
    pub start: Start,
}

impl Default for HypergradientConfig {
    fn default() -> Self {
        HypergradientConfig {
            lr: 0.05,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            optimizer: Optimizer::Adam,
            x0: Vec::new(),
            start: Start::Centre,
        }
    }
}

/// One reported derivative: trial, parameter, the trial's distribution of
/// it, the value it was evaluated at, and `dL/dx` there.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientEntry {
    pub trial: usize,
    pub name: String,
    pub dist: Distribution,
    pub x: f64,
    pub grad: f64,
}

/// One stepped parameter.
#[derive(Debug, Clone, PartialEq)]
struct Dim {
    name: String,
    /// The continuous float distribution the iterate is expressed in.
    dist: Distribution,
    z: f64,
    m: f64,
    v: f64,
    t: u64,
    /// The last averaged gradient in z (NaN before the first).
    last: f64,
}

/// Bounded gradient steps on continuous hyperparameters (see the module).
#[derive(Debug, Clone, PartialEq)]
pub struct HypergradientSampler {
    config: HypergradientConfig,
    rng: Rng,
    dims: Vec<Dim>,
    index: HashMap<String, usize>,
    /// Continuous floats that receive no gradient: drawn uniformly.
    no_gradient: HashSet<String>,
    /// The iterate handed to each trial still out (z per dim, in dim order;
    /// dims created later take the iterate of when they are first asked).
    proposals: BTreeMap<usize, Vec<f64>>,
    /// A step was taken since the last proposal.
    fresh: bool,
}

/// The most trials whose proposal is kept (older ones are dropped first).
const MAX_PROPOSALS: usize = 4096;

fn is_continuous(dist: &Distribution) -> bool {
    matches!(dist, Distribution::Float { step: None, .. })
}

/// `dx/dz` at `x` for the unit-cube map of a continuous float.
fn dx_dz(dist: &Distribution, x: f64) -> f64 {
    match *dist {
        Distribution::Float {
            low,
            high,
            log: true,
            ..
        } => x * crate::space::log_ratio(low, high), // finite past exp's range too
        Distribution::Float { low, high, .. } => high - low,
        _ => 0.0,
    }
}

impl HypergradientSampler {
    /// A sampler with `config`; `seed` drives the fallback draws and a random start.
    pub fn new(config: HypergradientConfig, seed: u64) -> Result<Self> {
        let bad = |what: &str, v: f64| {
            Err(Error::InvalidArgument(format!(
                "{what} must be {}, got {v}",
                if what == "lr" || what == "eps" {
                    "a finite number > 0"
                } else {
                    "in [0, 1)"
                }
            )))
        };
        if !(config.lr.is_finite() && config.lr > 0.0) {
            return bad("lr", config.lr);
        }
        if !(config.eps.is_finite() && config.eps > 0.0) {
            return bad("eps", config.eps);
        }
        for (what, b) in [("beta1", config.beta1), ("beta2", config.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return bad(what, b);
            }
        }
        if let Some((name, v)) = config.x0.iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "x0[{name:?}] must be a finite number, got {v}"
            )));
        }
        Ok(HypergradientSampler {
            config,
            rng: Rng::new(seed),
            dims: Vec::new(),
            index: HashMap::new(),
            no_gradient: HashSet::new(),
            proposals: BTreeMap::new(),
            fresh: false,
        })
    }

    /// The current iterate: (name, internal value) of every stepped parameter.
    pub fn iterate(&self) -> Vec<(String, f64)> {
        self.dims
            .iter()
            .map(|d| (d.name.clone(), d.dist.from_unit(d.z)))
            .collect()
    }

    /// The dim of `name` in `dist`, created at the start point, or re-expressed
    /// in a changed range (the same value, clipped to the new range).
    fn dim(&mut self, name: &str, dist: &Distribution) -> usize {
        if let Some(&i) = self.index.get(name) {
            let d = &mut self.dims[i];
            if d.dist != *dist {
                let x = d.dist.from_unit(d.z);
                d.z = dist.to_unit(x).clamp(0.0, 1.0);
                d.dist = dist.clone();
            }
            return i;
        }
        let given = self.config.x0.iter().find(|(n, _)| n == name);
        let z = match (given, self.config.start) {
            (Some(&(_, x)), _) => dist.to_unit(x).clamp(0.0, 1.0),
            (None, Start::Centre) => 0.5,
            (None, Start::Random) => self.rng.uniform(),
        };
        self.index.insert(name.to_string(), self.dims.len());
        self.dims.push(Dim {
            name: name.to_string(),
            dist: dist.clone(),
            z,
            m: 0.0,
            v: 0.0,
            t: 0,
            last: f64::NAN,
        });
        self.dims.len() - 1
    }

    /// One step on dim `i` with gradient `g` (in z): Adam's update (Kingma &
    /// Ba 2015, Algorithm 1: m, v, bias corrections, z -= lr m^ / (sqrt(v^) +
    /// eps)) or plain descent, then the projection onto [0, 1].
    fn step(&mut self, i: usize, g: f64) {
        let c = &self.config;
        let d = &mut self.dims[i];
        let delta = match c.optimizer {
            Optimizer::Sgd => c.lr * g,
            Optimizer::Adam => {
                d.t += 1;
                d.m = c.beta1 * d.m + (1.0 - c.beta1) * g;
                d.v = c.beta2 * d.v + (1.0 - c.beta2) * g * g;
                let m_hat = d.m / (1.0 - c.beta1.powf(d.t as f64));
                let v_hat = d.v / (1.0 - c.beta2.powf(d.t as f64));
                c.lr * m_hat / (v_hat.sqrt() + c.eps)
            }
        };
        d.z = (d.z - delta).clamp(0.0, 1.0);
        d.last = g;
    }

    /// Takes in new reports and prepares trial `trial`'s proposal.
    ///
    /// `entries` are the gradients learnt since the last call (`maximize`
    /// flips their sign); `no_gradient` names continuous floats to draw by the
    /// fallback from now on (unless they have received a gradient); `done`
    /// are trials whose proposal is no longer needed; `pending` says that
    /// other trials are still out without a gradient.
    pub fn prepare(
        &mut self,
        trial: usize,
        entries: &[GradientEntry],
        maximize: bool,
        no_gradient: &[String],
        done: &[usize],
        pending: bool,
    ) -> Result<()> {
        let sign = if maximize { -1.0 } else { 1.0 };
        // Per dim: (sum of dL/dz, count) over the batch.
        let mut sums: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
        for e in entries {
            if !is_continuous(&e.dist) || !e.x.is_finite() || !e.grad.is_finite() {
                return Err(Error::InvalidArgument(format!(
                    "gradient of {:?} in trial {}: a continuous float with finite x and gradient \
                     is needed",
                    e.name, e.trial
                )));
            }
            let i = self.dim(&e.name, &e.dist);
            // The chain rule in the trial's own range, then into the dim's z.
            let dz = dx_dz(&self.dims[i].dist, e.x.max(f64::MIN_POSITIVE));
            let s = sums.entry(i).or_insert((0.0, 0.0));
            s.0 += sign * e.grad * dz;
            s.1 += 1.0;
        }
        for (&i, &(total, n)) in &sums {
            self.step(i, total / n);
        }
        if !sums.is_empty() {
            self.fresh = true;
        } else if pending && !self.fresh {
            // No news while trials are out: one more step along the last gradient.
            for i in 0..self.dims.len() {
                let last = self.dims[i].last;
                if last.is_finite() {
                    self.step(i, last);
                }
            }
        }
        for n in no_gradient {
            self.no_gradient.insert(n.clone());
        }
        for t in done {
            self.proposals.remove(t);
        }
        while self.proposals.len() >= MAX_PROPOSALS {
            self.proposals.pop_first();
        }
        self.proposals
            .insert(trial, self.dims.iter().map(|d| d.z).collect());
        self.fresh = false;
        Ok(())
    }

    /// Whether `name` is drawn by the fallback: not a continuous float, or
    /// marked as receiving no gradient and never stepped.
    fn falls_back(&self, name: &str, dist: &Distribution) -> bool {
        if !is_continuous(dist) || dist.is_single() {
            return true;
        }
        self.no_gradient.contains(name)
            && self
                .index
                .get(name)
                .is_none_or(|&i| self.dims[i].t == 0 && self.dims[i].last.is_nan())
    }
}

impl Sampler for HypergradientSampler {
    /// The trial's iterate for a stepped parameter (the current one when the
    /// trial has none yet), a uniform draw for the others.
    fn sample_independent(
        &mut self,
        _: &History,
        trial: usize,
        name: &str,
        dist: &Distribution,
    ) -> Result<f64> {
        if self.falls_back(name, dist) {
            return Ok(dist.from_unit(self.rng.uniform()));
        }
        let i = self.dim(name, dist);
        let z_now = self.dims[i].z;
        let z = match self.proposals.get_mut(&trial) {
            Some(zs) => {
                // Dims created after the proposal take the iterate of now.
                while zs.len() <= i {
                    zs.push(self.dims[zs.len()].z);
                }
                zs[i]
            }
            None => z_now,
        };
        Ok(dist.from_unit(z))
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

    /// The generator, then every dim, the marked names and the proposals
    /// (see `StateWriter`).
    fn state(&self) -> SamplerState {
        let mut w = StateWriter(rng_words(&self.rng));
        w.0.push(self.fresh as u64);
        w.0.push(self.dims.len() as u64);
        for d in &self.dims {
            w.text(&d.name);
            let (low, high, log) = match d.dist {
                Distribution::Float { low, high, log, .. } => (low, high, log),
                _ => unreachable!("only continuous floats are stepped"),
            };
            w.floats(&[low, high, d.z, d.m, d.v, d.last]);
            w.0.extend([log as u64, d.t]);
        }
        let mut marked: Vec<&String> = self.no_gradient.iter().collect();
        marked.sort();
        w.0.push(marked.len() as u64);
        for n in marked {
            w.text(n);
        }
        w.0.push(self.proposals.len() as u64);
        for (&t, zs) in &self.proposals {
            w.0.extend([t as u64, zs.len() as u64]);
            w.floats(zs);
        }
        w.0
    }

    fn set_state(&mut self, state: &[u64]) -> Result<()> {
        let rng = rng_from_words(state)?;
        let mut r = StateReader {
            words: state,
            at: 4,
        };
        let fresh = r.word()? != 0;
        let mut dims = Vec::new();
        for _ in 0..r.word()? {
            let name = r.text()?;
            let f = r.floats(6)?;
            let (log, t) = (r.word()? != 0, r.word()?);
            let dist = Distribution::float(&name, f[0], f[1], None, log)?;
            let (z, m, v, last) = (f[2], f[3], f[4], f[5]);
            dims.push(Dim {
                name,
                dist,
                z,
                m,
                v,
                t,
                last,
            });
        }
        let mut no_gradient = HashSet::new();
        for _ in 0..r.word()? {
            no_gradient.insert(r.text()?);
        }
        let mut proposals = BTreeMap::new();
        for _ in 0..r.word()? {
            let t = r.word()? as usize;
            let n = r.word()? as usize;
            proposals.insert(t, r.floats(n)?);
        }
        if r.at != state.len() {
            return Err(Error::InvalidArgument(
                "a hypergradient sampler's state has trailing words".into(),
            ));
        }
        self.index = dims
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.clone(), i))
            .collect();
        (self.rng, self.fresh, self.dims) = (rng, fresh, dims);
        (self.no_gradient, self.proposals) = (no_gradient, proposals);
        Ok(())
    }

    /// A new stream; parameters not stepped yet are forgotten, so a random
    /// start is drawn again from the new stream (a given or centred start
    /// comes back unchanged).
    fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
        let kept: Vec<Dim> = self
            .dims
            .drain(..)
            .filter(|d| d.t > 0 || d.last.is_finite())
            .collect();
        self.index = kept
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.clone(), i))
            .collect();
        self.dims = kept;
        self.proposals.clear();
    }
}

/// Appends floats (their bits) and strings (length, then UTF-8 bytes packed
/// eight to a word) to a state.
struct StateWriter(Vec<u64>);

impl StateWriter {
    fn floats(&mut self, v: &[f64]) {
        self.0.extend(v.iter().map(|x| x.to_bits()));
    }

    fn text(&mut self, s: &str) {
        self.0.push(s.len() as u64);
        for chunk in s.as_bytes().chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0.push(u64::from_le_bytes(b));
        }
    }
}

/// Reads what [`StateWriter`] wrote, with an error for a short or bad state.
struct StateReader<'a> {
    words: &'a [u64],
    at: usize,
}

impl StateReader<'_> {
    fn word(&mut self) -> Result<u64> {
        let w = self.words.get(self.at).copied().ok_or_else(|| {
            Error::InvalidArgument("a hypergradient sampler's state is cut short".into())
        })?;
        self.at += 1;
        Ok(w)
    }

    fn floats(&mut self, n: usize) -> Result<Vec<f64>> {
        (0..n).map(|_| self.word().map(f64::from_bits)).collect()
    }

    fn text(&mut self) -> Result<String> {
        let len = self.word()? as usize;
        if len > 8 * (self.words.len() - self.at) {
            return Err(Error::InvalidArgument(
                "a hypergradient sampler's state is cut short".into(),
            ));
        }
        let mut bytes = Vec::with_capacity(len);
        for _ in 0..len.div_ceil(8) {
            bytes.extend_from_slice(&self.word()?.to_le_bytes());
        }
        bytes.truncate(len);
        String::from_utf8(bytes).map_err(|_| {
            Error::InvalidArgument("a hypergradient sampler's state holds a bad name".into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dx_dz_is_finite_for_log_ranges_past_exps_range() {
        // ln(high / low) overflowed to infinity for a range wider than ~1.8e308.
        let d = Distribution::float("x", 1e-300, 1e300, None, true).unwrap();
        let want = 600.0 * std::f64::consts::LN_10;
        assert!(
            (dx_dz(&d, 1.0) - want).abs() < 1e-9 * want,
            "{}",
            dx_dz(&d, 1.0)
        );
    }
    use crate::history::TrialState;

    fn float(low: f64, high: f64, log: bool) -> Distribution {
        Distribution::float("x", low, high, None, log).unwrap()
    }

    /// Minimises `sum_i (x_i - opt_i)^2` (for a `log` parameter, `(ln x_i -
    /// ln opt_i)^2`, whose gradient in `x_i` is `2 (ln x_i - ln opt_i) / x_i`)
    /// for `n` trials, one worker, reporting exact gradients.
    fn descend(
        s: &mut HypergradientSampler,
        dists: &[Distribution],
        opt: &[f64],
        n: usize,
    ) -> Vec<f64> {
        let mut h = History::new(1);
        let names: Vec<String> = (0..dists.len()).map(|i| format!("x{i}")).collect();
        let mut entries = Vec::new();
        let mut x = Vec::new();
        for _ in 0..n {
            let t = h.create_trial(TrialState::Running);
            s.prepare(t, &entries, false, &[], &[], false).unwrap();
            x = names
                .iter()
                .zip(dists)
                .map(|(name, d)| s.sample_independent(&h, t, name, d).unwrap())
                .collect();
            entries = (0..x.len())
                .map(|i| GradientEntry {
                    trial: t,
                    name: names[i].clone(),
                    dist: dists[i].clone(),
                    x: x[i],
                    grad: match dists[i] {
                        Distribution::Float { log: true, .. } => {
                            2.0 * (x[i].ln() - opt[i].ln()) / x[i]
                        }
                        _ => 2.0 * (x[i] - opt[i]),
                    },
                })
                .collect();
            h.finish(t, TrialState::Complete, vec![0.0]).unwrap();
        }
        x
    }

    #[test]
    fn adam_converges_on_a_quadratic_with_linear_and_log_parameters() {
        let dists = [
            float(-10.0, 10.0, false),
            float(1e-4, 1e2, true),
            float(0.0, 1.0, false),
        ];
        let opt = [3.0, 0.01, 1.0]; // the last optimum on the bound
        let mut s = HypergradientSampler::new(HypergradientConfig::default(), 0).unwrap();
        let x = descend(&mut s, &dists, &opt, 200);
        assert!((x[0] - 3.0).abs() < 0.05, "{x:?}");
        assert!((x[1].ln() - 0.01f64.ln()).abs() < 0.05, "{x:?}");
        assert_eq!(x[2], 1.0, "the projection keeps the bound");
    }

    #[test]
    fn sgd_step_is_the_chain_rule_in_the_unit_cube() {
        let config = HypergradientConfig {
            optimizer: Optimizer::Sgd,
            lr: 0.1,
            ..Default::default()
        };
        let d = float(1.0, 100.0, true);
        let mut s = HypergradientSampler::new(config, 0).unwrap();
        let h = {
            let mut h = History::new(1);
            h.create_trial(TrialState::Running);
            h.create_trial(TrialState::Running);
            h
        };
        s.prepare(0, &[], false, &[], &[], false).unwrap();
        let x = s.sample_independent(&h, 0, "x", &d).unwrap();
        assert!(
            (x - 10.0).abs() < 1e-9,
            "the centre in log space is the geometric mean"
        );
        let e = GradientEntry {
            trial: 0,
            name: "x".into(),
            dist: d.clone(),
            x,
            grad: 0.5,
        };
        s.prepare(1, &[e], false, &[], &[0], false).unwrap();
        let x1 = s.sample_independent(&h, 1, "x", &d).unwrap();
        // z = 0.5 - lr * g * x ln(100) / ... : dL/dz = 0.5 * 10 * ln(100).
        let z1 = 0.5 - 0.1 * 0.5 * 10.0 * 100f64.ln();
        let expect = d.from_unit(z1.clamp(0.0, 1.0));
        assert!((x1 - expect).abs() < 1e-12, "{x1} vs {expect}");
    }

    #[test]
    fn maximising_steps_uphill_and_unmarked_names_fall_back_uniformly() {
        let d = float(0.0, 1.0, false);
        let mut s = HypergradientSampler::new(HypergradientConfig::default(), 1).unwrap();
        let mut h = History::new(1);
        let t0 = h.create_trial(TrialState::Running);
        s.prepare(t0, &[], true, &[], &[], false).unwrap();
        let x0 = s.sample_independent(&h, t0, "x", &d).unwrap();
        let e = GradientEntry {
            trial: t0,
            name: "x".into(),
            dist: d.clone(),
            x: x0,
            grad: 1.0,
        };
        let t1 = h.create_trial(TrialState::Running);
        s.prepare(t1, &[e], true, &["y".into()], &[t0], false)
            .unwrap();
        assert!(s.sample_independent(&h, t1, "x", &d).unwrap() > x0);
        let ys: Vec<f64> = (0..20)
            .map(|_| s.sample_independent(&h, t1, "y", &d).unwrap())
            .collect();
        assert!(
            ys.iter().any(|&y| (y - ys[0]).abs() > 1e-6),
            "y is drawn, not stepped"
        );
        let n = Distribution::int("n", 0, 9, 1, false).unwrap();
        let v = s.sample_independent(&h, t1, "n", &n).unwrap();
        assert!(n.contains(v));
    }

    #[test]
    fn a_pending_trial_without_news_gets_a_look_ahead_step() {
        let d = float(0.0, 1.0, false);
        let mut s = HypergradientSampler::new(HypergradientConfig::default(), 1).unwrap();
        let mut h = History::new(1);
        for _ in 0..4 {
            h.create_trial(TrialState::Running);
        }
        s.prepare(0, &[], false, &[], &[], false).unwrap();
        let e = GradientEntry {
            trial: 0,
            name: "x".into(),
            dist: d.clone(),
            x: 0.5,
            grad: 1.0,
        };
        s.prepare(1, &[e], false, &[], &[0], false).unwrap();
        s.prepare(2, &[], false, &[], &[], true).unwrap();
        let (a, b) = (
            s.sample_independent(&h, 1, "x", &d).unwrap(),
            s.sample_independent(&h, 2, "x", &d).unwrap(),
        );
        assert!(
            b < a,
            "the second worker's point is one step further: {a} {b}"
        );
        // Without trials out, no extra step.
        s.prepare(3, &[], false, &[], &[1, 2], false).unwrap();
        assert_eq!(s.sample_independent(&h, 3, "x", &d).unwrap(), b);
    }

    #[test]
    fn bad_settings_and_states_are_errors() {
        for config in [
            HypergradientConfig {
                lr: 0.0,
                ..Default::default()
            },
            HypergradientConfig {
                beta1: 1.0,
                ..Default::default()
            },
            HypergradientConfig {
                x0: vec![("x".into(), f64::NAN)],
                ..Default::default()
            },
        ] {
            assert!(HypergradientSampler::new(config, 0).is_err());
        }
        let mut s = HypergradientSampler::new(HypergradientConfig::default(), 0).unwrap();
        let mut st = s.state();
        st.push(1);
        assert!(s.set_state(&st).is_err());
        assert!(s.set_state(&st[..5]).is_err());
    }

    #[test]
    fn state_round_trips_with_names_and_proposals() {
        let dists = [float(-1.0, 1.0, false), float(1e-3, 1.0, true)];
        let mut s = HypergradientSampler::new(HypergradientConfig::default(), 4).unwrap();
        descend(&mut s, &dists, &[0.3, 0.1], 5);
        s.no_gradient
            .insert("ünïcode name, longer than eight bytes".into());
        let mut r = HypergradientSampler::new(HypergradientConfig::default(), 9).unwrap();
        r.set_state(&s.state()).unwrap();
        assert_eq!(r, s);
    }
}
