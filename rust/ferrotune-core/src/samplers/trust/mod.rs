//! Derivative-free trust-region search with quadratic interpolation models,
//! for local refinement of a continuous objective in few evaluations (the
//! family of Powell's NEWUOA and BOBYQA; the points come from the study's
//! history, as in ORBIT, rather than from a set the method maintains).
//!
//! Works in the unit cube of `de::encoding` (each parameter one coordinate
//! in `[0, 1]`, log parameters in log space, integers rounded when decoded, a
//! categorical as one continuous key). A *run* has a centre, the best point
//! it has seen, and a radius `Δ`. It starts with a design of `2d` probes,
//! two along each coordinate (`design_points`): the first `±Δ` from the
//! centre as it is then (COBYLA's initial simplex moves to each better
//! vertex), the second on the first's line, beyond it or behind its base
//! (NEWUOA's), so each coordinate has three points in a line; for a
//! categorical key, each other choice. From `DEFER_SECOND_PASS` (25)
//! parameters on, model steps start once every coordinate has its first
//! probe, a second probe follows each step's result, and a model without a
//! carried Hessian changes least from the design's curvature along its axes
//! (`axis_curvature`; once after the design is complete). Then each ask:
//!
//! 1. takes the complete trials within `4Δ` of the centre, or within half the
//!    initial radius when that is more (ORBIT's second neighbourhood), nearest
//!    first;
//! 2. chooses among them an affine basis greedily ([`model::affine_points`]):
//!    if it has fewer than `d` directions, or the last step failed and its
//!    model's basis was not all within `4Δ` (not *certified*), the ask
//!    proposes the centre plus `Δ` times the coordinate direction the trials
//!    within `4Δ` cover least (ORBIT's model-improvement step). The model
//!    moves only the coordinates with a value on either side within reach: an
//!    integer, stepped or categorical parameter whose next value lies beyond
//!    it keeps the centre's value, and only trials that share it count;
//! 3. otherwise fits the quadratic through the centre, the basis and the next
//!    nearest points up to `n_points` whose Hessian changes least from the
//!    last model's ([`model::least_change`], Powell's update; from zero after
//!    a failed step or at a run's start), and proposes its minimiser over the
//!    ball of radius `Δ` inside the box ([`model::trust_step`]).
//!
//! When a model step's trial finishes, the ratio `ρ` of the actual to the
//! predicted decrease sets the radius as BOBYQA does: `ρ > 0.7` widens it to
//! `max(Δ, 2‖step‖)` (at most 1), `ρ ≤ 0.1` halves it (a certified model's
//! step; else step 2 adds a point); the centre moves to
//! any better point. A step the model predicts no decrease for, or one that
//! rounds onto a point already evaluated, halves the radius without an
//! evaluation. When the radius falls below `radius_min`, a new run starts at
//! a uniform random point with the initial radius (random restarts). While a
//! step runs (parallel workers), an ask takes the model's best of random
//! points of the region away from the running trials instead. A finished
//! trial without a finite value (FAIL, PRUNED, NaN) counts as a running one
//! does, tried and worse than any value.

pub mod model;
#[cfg(test)]
mod tests;

use super::de::encoding::{coords, loss, Dims};
use super::de::relative_dims;
use super::{expect_words, rng_from_words, rng_words, Sampler, SamplerState};
use crate::constraints::{Accept, SearchSpace};
use crate::error::{Error, Result};
use crate::history::{History, TrialState};
use crate::rng::Rng;
use crate::space::Distribution;
use model::{affine_points, dot, least_change, trust_step, uncovered_direction};

/// Settings of [`TrustSampler`] (defaults in [`TrustConfig::default`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TrustConfig {
    /// The first run's start, by parameter name (internal values; the
    /// centre of the range for a parameter not named). Empty: the best
    /// complete trial when there are two or more, else the centre of the box.
    pub x0: Vec<(String, f64)>,
    /// The initial radius, in the unit cube.
    pub radius0: f64,
    /// The radius below which a run ends and a new one starts.
    pub radius_min: f64,
    /// Points a model interpolates (None: `(d + 1)(d + 2) / 2` up to 3
    /// dimensions, `2d + 1` from 4 on, NEWUOA's and BOBYQA's recommended
    /// number); at least `d + 1` are used whatever this says.
    pub n_points: Option<usize>,
}

impl Default for TrustConfig {
    /// Start radius 0.2, a fifth of each range (BOBYQA advises a tenth of
    /// the greatest expected change of a variable); end radius 1e-8.
    fn default() -> Self {
        TrustConfig {
            x0: Vec::new(),
            radius0: 0.2,
            radius_min: 1e-8,
            n_points: None,
        }
    }
}

/// The largest radius (the unit cube's side).
const RADIUS_MAX: f64 = 1.0;
/// The neighbourhood of a model, in radii: points within it enter the
/// affine basis and the model, which is then certified (fully linear).
const NEAR: f64 = 4.0;
/// The farther reach of a model, in initial radii: when the radius has
/// shrunk, points this far still enter it, uncertified (ORBIT's second
/// neighbourhood), so that a small radius does not cost `d` new points.
const FAR: f64 = 0.5;
/// Random candidates in place of a rejected proposal.
const ALTERNATIVES: usize = 32;
/// This sampler's proposals remembered until the study records them.
const MAX_IN_FLIGHT: usize = 256;
/// Attempts of one ask before it falls back to a random point in the region.
const ATTEMPTS: usize = 60;

/// A model step waiting for its trial's result.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Step {
    trial: usize,
    /// The centre's loss when the step was proposed.
    base: f64,
    /// The decrease the model predicted.
    pred: f64,
    /// The step's length in the unit cube.
    len: f64,
    /// Whether the model's affine basis lay within [`NEAR`] radii of the
    /// centre (ORBIT's "fully linear" model); else it reached out to
    /// [`FAR`] of the initial radius.
    certified: bool,
}

/// One run of the method.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Run {
    /// The trial the run started from.
    first: usize,
    /// Trials from this number on are the run's own.
    since: usize,
    radius: f64,
    pending: Option<Step>,
    /// The number of dimensions the run works in.
    dims: usize,
    /// Whether the run has taken a model step (its initial design is done).
    stepped: bool,
    /// Whether the next ask improves the geometry near the centre (a step
    /// of a model that was not certified failed).
    improve: bool,
    /// Whether a model has started from the curvature of the complete
    /// deferred design (see `DEFER_SECOND_PASS`).
    seeded: bool,
}

/// The trust-region sampler (see the module's documentation).
#[derive(Debug, Clone)]
pub struct TrustSampler {
    cfg: TrustConfig,
    rng: Rng,
    run: Option<Run>,
    /// Runs started so far.
    runs: usize,
    /// (trial, unit point) of this object's proposals whose trials do not
    /// show their values yet (threads sharing a study see a trial before
    /// its values are recorded). Not part of the state: empty whenever the
    /// study records each trial's values before the next ask.
    proposed: Vec<(usize, Vec<f64>)>,
    /// The Hessian of the last model step's model in the unit cube
    /// (row-major), from which the next model's changes least; dropped when
    /// a step fails and when a run starts.
    hess: Option<Vec<f64>>,
}

/// What one ask proposes: a point to evaluate, the model step it is (None:
/// a start, design or geometry point) and that step's model.
struct Proposal {
    u: Vec<f64>,
    step: Option<Step>,
    /// The model (in the step's scaled coordinates) and its value scale.
    model: Option<(model::Quadratic, f64)>,
}

impl Proposal {
    fn point(u: Vec<f64>) -> Self {
        Proposal {
            u,
            step: None,
            model: None,
        }
    }
}

impl TrustSampler {
    /// A sampler with `cfg`; `seed` decides its random choices.
    pub fn new(cfg: TrustConfig, seed: u64) -> Result<Self> {
        let bad = |m: String| Err(Error::InvalidArgument(m));
        if !(cfg.radius0.is_finite() && cfg.radius0 > 0.0 && cfg.radius0 <= RADIUS_MAX) {
            return bad(format!("radius0 must lie in (0, 1], got {}", cfg.radius0));
        }
        if !(cfg.radius_min.is_finite() && cfg.radius_min > 0.0 && cfg.radius_min < cfg.radius0) {
            return bad(format!(
                "radius_min must lie in (0, radius0), got {} (radius0 {})",
                cfg.radius_min, cfg.radius0
            ));
        }
        if cfg.n_points.is_some_and(|n| n < 2) {
            return bad(format!(
                "n_points must be at least 2, got {:?}",
                cfg.n_points
            ));
        }
        if let Some((name, v)) = cfg.x0.iter().find(|(_, v)| !v.is_finite()) {
            return bad(format!("x0[{name:?}] must be a finite number, got {v}"));
        }
        Ok(TrustSampler {
            cfg,
            rng: Rng::new(seed),
            run: None,
            runs: 0,
            proposed: Vec::new(),
            hess: None,
        })
    }

    /// The current run's radius (None before the first ask), for inspection.
    pub fn radius(&self) -> Option<f64> {
        self.run.map(|r| r.radius)
    }

    /// Runs started so far (restarts plus one).
    pub fn runs(&self) -> usize {
        self.runs
    }

    /// The unit point for trial `trial` over `dims`, avoiding candidates
    /// that `feasible` rejects; remembers it until the trial shows its values.
    /// `canon` maps a point to the one the history would record for it (a
    /// declared space's inactive parameters at the middle of their range, as
    /// [`coords`] reads them), so that a step along an inactive parameter is
    /// seen as the trial it repeats.
    fn ask(
        &mut self,
        h: &History,
        trial: usize,
        dims: &Dims,
        feasible: &mut dyn FnMut(&[f64]) -> Result<bool>,
        canon: &dyn Fn(&[f64]) -> Vec<f64>,
    ) -> Result<Vec<f64>> {
        let shown = |t: usize| {
            h.trials().get(t).is_none_or(|r| r.state.is_finished()) || has_values(h, t, dims)
        };
        self.proposed
            .retain(|(t, u)| *t != trial && u.len() == dims.len() && !shown(*t));
        let u = canon(&self.ask_inner(h, trial, dims, feasible, canon)?);
        self.proposed.push((trial, u.clone()));
        if self.proposed.len() > MAX_IN_FLIGHT {
            self.proposed.remove(0);
        }
        Ok(u)
    }

    fn ask_inner(
        &mut self,
        h: &History,
        trial: usize,
        dims: &Dims,
        feasible: &mut dyn FnMut(&[f64]) -> Result<bool>,
        canon: &dyn Fn(&[f64]) -> Vec<f64>,
    ) -> Result<Vec<f64>> {
        let d = dims.len();
        let n = h.trials().len();
        // Another history (fewer trials than the run knows) or another space.
        if self.run.is_some_and(|r| {
            r.first >= n
                || r.since > trial
                || r.dims != d
                || r.pending.is_some_and(|p| p.trial >= n)
        }) {
            self.run = None;
            self.hess = None;
        }
        let has_values = |t: usize| has_values(h, t, dims);
        let points: Vec<(usize, Vec<f64>, f64)> = (0..n)
            .filter(|&t| t != trial)
            .filter_map(|t| {
                let y = loss(h, t).filter(|y| y.is_finite())?;
                has_values(t).then(|| (t, coords(h, t, dims), y))
            })
            .collect();
        // Running trials: their recorded values, or this sampler's proposals
        // for them while the study has not recorded them yet (threads).
        let mut running: Vec<Vec<f64>> = (0..n)
            .filter(|&t| t != trial && h.trials()[t].state == TrialState::Running)
            .filter(|&t| has_values(t))
            .map(|t| coords(h, t, dims))
            .collect();
        running.extend(self.proposed.iter().map(|(_, u)| u.clone()));
        // Finished trials without a finite loss (FAIL, PRUNED, a NaN value):
        // tried, and worse than any value, as a running trial counts until
        // it ends. Left out, the design and the duplicate check never saw
        // them and proposed a failing probe again at every ask.
        running.extend(
            (0..n)
                .filter(|&t| t != trial && h.trials()[t].state.is_finished())
                .filter(|&t| loss(h, t).filter(|y| y.is_finite()).is_none())
                .filter(|&t| has_values(t))
                .map(|t| coords(h, t, dims)),
        );
        let unknown_in_flight = (0..n).any(|t| {
            t != trial
                && h.trials()[t].state == TrialState::Running
                && !has_values(t)
                && self.proposed.iter().all(|(p, _)| *p != t)
        });
        if self.run.is_none() {
            if let Some(u) = self.start(h, trial, dims, &points) {
                return Ok(u);
            }
        }
        let mut run = self.run.expect("a run exists after start");
        let defer = d >= DEFER_SECOND_PASS;
        let mut retry_second = false;
        let mut stepped_now = false;
        // The result of the last model step.
        if let Some(step) = run.pending {
            if h.trials()[step.trial].state.is_finished() {
                let rho = match loss(h, step.trial).filter(|y| y.is_finite()) {
                    Some(y) => (step.base - y) / step.pred,
                    None => f64::NEG_INFINITY,
                };
                if rho <= 0.1 {
                    self.hess = None;
                }
                // A failed step of a model built from far points blames the
                // points, not the radius: the next ask adds a point near the
                // centre instead (ORBIT's model-improvement step).
                run.improve = rho <= 0.1 && !step.certified;
                // Deferred design: a certified model's failed step first takes
                // a second probe, if one is left, before the radius halves.
                retry_second = defer && rho <= 0.1 && step.certified;
                stepped_now = true;
                run.radius = if rho > 0.7 {
                    run.radius.max(2.0 * step.len).min(RADIUS_MAX)
                } else if rho > 0.1 || run.improve || retry_second {
                    run.radius
                } else {
                    0.5 * run.radius
                };
                run.pending = None;
            }
        }
        // The centre: the best of the run's start and its own trials.
        let centre = points
            .iter()
            .filter(|(t, _, _)| *t == run.first || *t >= run.since)
            .min_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)));
        let Some((_, c, fc)) = centre.cloned() else {
            if h.trials()[run.first].state == TrialState::Running {
                // Its start is still running (parallel workers): spread around it.
                let c = coords(h, run.first, dims);
                self.run = Some(run);
                return Ok(self.spread(&c, run.radius, &running));
            }
            // The start failed: a new run.
            self.run = None;
            return Ok(self
                .start(h, trial, dims, &[])
                .expect("a restart proposes its start"));
        };
        for _ in 0..ATTEMPTS {
            if run.radius < self.cfg.radius_min {
                self.run = None;
                return Ok(self
                    .start(h, trial, dims, &[])
                    .expect("a restart proposes its start"));
            }
            let second = retry_second || (defer && (run.improve || stepped_now));
            let stage = match (run.stepped, defer) {
                (false, false) => Some(Stage::Both),
                (false, true) => Some(Stage::First),
                (true, _) if second => Some(Stage::Second),
                _ => None,
            };
            // The run's points, the design's first (bounded: the design is
            // among a run's first 4d + 2 trials); needed by the design and by
            // the deferred design's curvature only.
            let wants_prior = defer && self.hess.is_none() && !run.seeded;
            let own: Vec<(&[f64], f64)> = if stage.is_some() || wants_prior {
                points
                    .iter()
                    .filter(|(t, _, _)| *t == run.first || *t >= run.since)
                    .map(|(_, u, y)| (u.as_slice(), *y))
                    .chain(running.iter().map(|u| (u.as_slice(), f64::INFINITY)))
                    .take(4 * d + 2)
                    .collect()
            } else {
                Vec::new()
            };
            let design = stage.and_then(|stage| {
                let x0 = coords(h, run.first, dims);
                let left = design_points(&x0, &c, dims, run.radius, &own, &points, &running, stage);
                // In a random order, so that workers sharing a study rarely pick
                // the same point before either is recorded.
                (!left.is_empty()).then(|| left[self.rng.below(left.len() as u64) as usize].clone())
            });
            if second && design.is_some() {
                run.improve = false;
            }
            if std::mem::take(&mut retry_second) && design.is_none() {
                run.radius *= 0.5;
                continue;
            }
            let proposal = if let Some(u) = design {
                Proposal::point(u)
            } else {
                let improve = std::mem::take(&mut run.improve);
                // Deferred design: a model without a Hessian to change from
                // (a run's first, or after a failed step) changes least from the
                // design's curvature along the axes it has measured.
                let prior = match wants_prior.then(|| axis_curvature(&own, d)) {
                    Some((curvature, complete)) if !(complete && run.seeded) => {
                        run.seeded |= complete;
                        Some(curvature)
                    }
                    _ => None,
                };
                match self.model_step(
                    &c,
                    fc,
                    run.radius,
                    &points,
                    &running,
                    trial,
                    improve,
                    prior.as_deref(),
                    dims,
                ) {
                    Some(p) => p,
                    None => {
                        run.radius *= 0.5;
                        continue;
                    }
                }
            };
            // Busy: the last step is still running, or another worker's trial
            // whose values this history does not show yet may be this very step
            // (the same history gives the same model). Then the step gives way to
            // the point the model values lowest among the step pulled back and
            // random points of the region, at least a quarter radius from every
            // running trial (a Kriging believer's spread, without a believer).
            let busy = run.pending.is_some() || unknown_in_flight;
            let radius = run.radius;
            let spaced = |u: &[f64]| {
                running.iter().all(|r| {
                    let d2: f64 = r.iter().zip(u).map(|(a, b)| (a - b).powi(2)).sum();
                    d2.sqrt() >= 0.25 * radius
                })
            };
            let ok = |u: &[f64], feasible: &mut dyn FnMut(&[f64]) -> Result<bool>| {
                Ok::<bool, Error>(
                    !is_duplicate(&canon(u), dims, &points, &running)
                        && (!busy || spaced(u))
                        && feasible(u)?,
                )
            };
            let model_step = proposal.step.is_some();
            let proposal = if !(model_step && busy) && ok(&proposal.u, feasible)? {
                Some(proposal)
            } else {
                self.alternative(&c, run.radius, proposal, &mut |u| ok(u, feasible))?
            };
            let Some(Proposal { u, step, model }) = proposal else {
                if busy {
                    // Crowded by running trials, not a failure of the model.
                    self.run = Some(run);
                    return Ok(self.spread(&c, run.radius, &running));
                }
                run.radius *= 0.5;
                continue;
            };
            if let (Some(_), Some((q, fscale))) = (step, model.as_ref()) {
                let r2 = run.radius * run.radius;
                self.hess = Some(q.h.iter().map(|x| x * fscale / r2).collect());
            }
            run.stepped |= step.is_some();
            run.pending = step.or(run.pending);
            self.run = Some(run);
            return Ok(u);
        }
        // No acceptable candidate: a random point of the region.
        self.run = Some(run);
        Ok(self.spread(&c, run.radius, &running))
    }

    /// In place of a rejected proposal (a point already evaluated, or one
    /// that breaks a constraint): the candidate `ok` accepts that its model
    /// values lowest (the lowest predicting a decrease) among the proposal
    /// pulled back towards the centre by factors of 2 and [`ALTERNATIVES`]
    /// uniform points of the ball of radius `radius`; without a model, the
    /// first accepted. None when none is accepted.
    fn alternative(
        &mut self,
        c: &[f64],
        radius: f64,
        rejected: Proposal,
        ok: &mut dyn FnMut(&[f64]) -> Result<bool>,
    ) -> Result<Option<Proposal>> {
        let d = c.len();
        let mut candidates: Vec<Vec<f64>> = (1..=5)
            .map(|k| {
                let f = 0.5f64.powi(k);
                c.iter()
                    .zip(&rejected.u)
                    .map(|(ci, ui)| ci + f * (ui - ci))
                    .collect()
            })
            .collect();
        for _ in 0..ALTERNATIVES {
            let r = radius * self.rng.uniform().powf(1.0 / d as f64);
            candidates.push(self.random_on_sphere(c, r));
        }
        let Some((q, fscale)) = rejected.model.as_ref() else {
            for u in candidates {
                if ok(&u)? {
                    return Ok(Some(Proposal::point(u)));
                }
            }
            return Ok(None);
        };
        let scaled =
            |u: &[f64]| -> Vec<f64> { u.iter().zip(c).map(|(x, ci)| (x - ci) / radius).collect() };
        let mut best: Option<(f64, Vec<f64>)> = None;
        for u in candidates {
            let m = q.value(&scaled(&u));
            if m < q.c && best.as_ref().is_none_or(|b| m < b.0) && ok(&u)? {
                best = Some((m, u));
            }
        }
        Ok(best.map(|(m, u)| {
            let s = scaled(&u);
            let step = rejected.step.map(|st| Step {
                pred: (q.c - m) * fscale,
                len: dot(&s, &s).sqrt() * radius,
                ..st
            });
            Proposal {
                u,
                step,
                model: rejected.model.clone(),
            }
        }))
    }

    /// Starts a run; returns the point to evaluate first, or None when the
    /// run starts from a trial already evaluated.
    fn start(
        &mut self,
        h: &History,
        trial: usize,
        dims: &Dims,
        points: &[(usize, Vec<f64>, f64)],
    ) -> Option<Vec<f64>> {
        let d = dims.len();
        let first_run = self.runs == 0;
        self.hess = None;
        self.runs += 1;
        let mut run = Run {
            first: trial,
            since: trial,
            radius: self.cfg.radius0,
            pending: None,
            dims: d,
            stepped: false,
            improve: false,
            seeded: false,
        };
        let u = if first_run && !self.cfg.x0.is_empty() {
            dims.iter()
                .map(|(p, dist)| {
                    let name = p.map(|p| h.params()[p as usize].name.as_str());
                    self.cfg
                        .x0
                        .iter()
                        .find(|(n, _)| Some(n.as_str()) == name)
                        .map_or(0.5, |(_, v)| dist.to_unit(*v).clamp(0.0, 1.0))
                })
                .collect()
        } else if first_run && points.len() >= 2 {
            if let Some(best) = points
                .iter()
                .min_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)))
            {
                run.first = best.0;
                self.run = Some(run);
                return None;
            }
            vec![0.5; d]
        } else if first_run {
            vec![0.5; d]
        } else {
            (0..d).map(|_| self.rng.uniform()).collect()
        };
        // The first run's start already evaluated (a define-by-run study's
        // first trial is drawn there, its categorical choices at random): the
        // run starts from that trial.
        if first_run {
            let cell = |d: &Distribution, x: f64| d.to_unit(d.from_unit(x));
            let at_start = |v: &[f64]| {
                u.iter().zip(v).zip(dims).all(|((a, b), (_, d))| {
                    matches!(d, Distribution::Categorical { .. })
                        || (cell(d, *a) - cell(d, *b)).abs() <= 1e-12
                })
            };
            if let Some(same) = points.iter().find(|(_, v, _)| at_start(v)) {
                run.first = same.0;
                self.run = Some(run);
                return None;
            }
        }
        self.run = Some(run);
        Some(u)
    }

    /// A model step from centre `c` (loss `fc`), or a geometry point when
    /// the points near the centre do not span every direction (or, with
    /// `improve`, when only far points do); None when the model predicts no
    /// decrease in the region (the radius should shrink).
    #[allow(clippy::too_many_arguments)]
    fn model_step(
        &self,
        c: &[f64],
        fc: f64,
        radius: f64,
        points: &[(usize, Vec<f64>, f64)],
        running: &[Vec<f64>],
        trial: usize,
        improve: bool,
        prior: Option<&[f64]>,
        dims: &Dims,
    ) -> Option<Proposal> {
        let d = c.len();
        // Points within reach (the centre itself excepted), nearest first:
        // NEAR radii, or FAR of the initial radius when that is more.
        let reach = NEAR.max(FAR * self.cfg.radius0 / radius);
        // The coordinates the model moves: an integer, stepped or categorical
        // parameter whose next value on either side lies beyond the reach
        // keeps the centre's value (else no trial within reach could span
        // its direction, and the model would wait for one forever).
        let act: Vec<usize> = (0..d)
            .filter(|&i| {
                [1.0, -1.0].iter().any(|&sign| {
                    let gap = grid_gap(&dims[i].1, c[i], sign);
                    gap <= reach * radius && (gap > 0.0 || is_continuous(&dims[i].1))
                })
            })
            .collect();
        let da = act.len();
        if da == 0 {
            return None;
        }
        let mut moves = vec![false; d];
        for &i in &act {
            moves[i] = true;
        }
        let on_centre =
            |u: &[f64]| da == d || (0..d).all(|i| moves[i] || (u[i] - c[i]).abs() <= 1e-9);
        let scaled =
            |u: &[f64]| -> Vec<f64> { act.iter().map(|&i| (u[i] - c[i]) / radius).collect() };
        let embed = |v: &[f64]| -> Vec<f64> {
            let mut out = vec![0.0; d];
            for (k, &i) in act.iter().enumerate() {
                out[i] = v[k];
            }
            out
        };
        let mut near: Vec<(f64, Vec<f64>, f64)> = points
            .iter()
            .filter(|(_, u, _)| on_centre(u))
            .map(|(_, u, y)| (scaled(u), *y))
            .map(|(s, y)| (dot(&s, &s).sqrt(), s, y))
            .filter(|(r, _, _)| *r <= reach && *r > 1e-9)
            .collect();
        near.sort_by(|a, b| a.0.total_cmp(&b.0));
        let s_near: Vec<Vec<f64>> = near.iter().map(|n| n.1.clone()).collect();
        let (kept, _) = affine_points(&s_near, da);
        let certified = kept.iter().all(|&i| near[i].0 <= NEAR);
        if kept.len() < da || (improve && !certified) {
            // The directions the points within NEAR radii span.
            let within = near.iter().take_while(|n| n.0 <= NEAR).count();
            let mut basis = affine_points(&s_near[..within], da).1;
            // Running points near the centre count as covering their direction.
            for u in running.iter().filter(|u| on_centre(u)) {
                let s = scaled(u);
                if dot(&s, &s).sqrt() <= NEAR && basis.len() < da {
                    let r = model::residual(&s, &basis);
                    let n = dot(&r, &r).sqrt();
                    if n >= model::THETA {
                        basis.push(r.iter().map(|x| x / n).collect());
                    }
                }
            }
            if basis.len() >= da {
                // Covered by running trials: along the first axis the model moves.
                let mut dir = vec![0.0; da];
                dir[0] = 1.0;
                return Some(Proposal::point(geometry_point(c, &embed(&dir), radius)));
            }
            let dir = uncovered_direction(&basis, da);
            return Some(Proposal::point(geometry_point(c, &embed(&dir), radius)));
        }
        // The model's points: the centre, the affine basis, then the nearest others.
        let want = self.cfg.n_points.unwrap_or(default_points(da)).max(da + 1);
        let mut chosen: Vec<usize> = kept.clone();
        for i in 0..near.len() {
            if chosen.len() + 1 >= want {
                break;
            }
            if !kept.contains(&i) {
                chosen.push(i);
            }
        }
        let mut s: Vec<Vec<f64>> = vec![vec![0.0; da]];
        let mut f: Vec<f64> = vec![0.0];
        let spread = near.iter().map(|n| (n.2 - fc).abs()).fold(0.0, f64::max);
        let fscale = if spread > 0.0 { spread } else { 1.0 };
        for &i in &chosen {
            s.push(near[i].1.clone());
            f.push((near[i].2 - fc) / fscale);
        }
        // The last model's Hessian in these coordinates and units.
        // Else a diagonal `prior` (the deferred design's curvature).
        let diagonal = prior.filter(|p| p.len() == d).map(|p| {
            let mut h = vec![0.0; d * d];
            for (i, v) in p.iter().enumerate() {
                h[i * d + i] = *v;
            }
            h
        });
        // Its rows and columns of the moving coordinates.
        let h0: Option<Vec<f64>> = self
            .hess
            .as_ref()
            .or(diagonal.as_ref())
            .filter(|h| h.len() == d * d)
            .map(|h| {
                act.iter()
                    .flat_map(|&a| {
                        act.iter()
                            .map(move |&b| h[a * d + b] * radius * radius / fscale)
                    })
                    .collect()
            });
        // Extra points can make the system singular: drop them before giving up.
        let q = least_change(&s, &f, da, h0.as_deref())
            .or_else(|| least_change(&s[..=da], &f[..=da], da, h0.as_deref()))?;
        let lo: Vec<f64> = act.iter().map(|&i| -c[i] / radius).collect();
        let hi: Vec<f64> = act.iter().map(|&i| (1.0 - c[i]) / radius).collect();
        let step = trust_step(&q, &lo, &hi);
        let pred = (q.value(&vec![0.0; da]) - q.value(&step)) * fscale;
        let len = dot(&step, &step).sqrt();
        if !(pred > 0.0 && pred.is_finite()) || len < 1e-6 {
            return None;
        }
        let full = embed(&step);
        let u: Vec<f64> = c
            .iter()
            .zip(&full)
            .map(|(ci, si)| (ci + radius * si).clamp(0.0, 1.0))
            .collect();
        // The model over every coordinate (flat along the ones that stay).
        let mut h = vec![0.0; d * d];
        for (a, &i) in act.iter().enumerate() {
            for (b, &j) in act.iter().enumerate() {
                h[i * d + j] = q.h[a * da + b];
            }
        }
        let q = model::Quadratic {
            c: q.c,
            g: embed(&q.g),
            h,
        };
        let step = Step {
            trial,
            base: fc,
            pred,
            len: len * radius,
            certified,
        };
        Some(Proposal {
            u,
            step: Some(step),
            model: Some((q, fscale)),
        })
    }

    /// A point at distance `radius` from `c` in a random direction, the one
    /// of 8 farthest from the `running` points (clipped to the box).
    fn spread(&mut self, c: &[f64], radius: f64, running: &[Vec<f64>]) -> Vec<f64> {
        let mut best: Option<(f64, Vec<f64>)> = None;
        for _ in 0..8 {
            let u = self.random_on_sphere(c, radius);
            let gap = running
                .iter()
                .map(|r| r.iter().zip(&u).map(|(a, b)| (a - b).powi(2)).sum::<f64>())
                .fold(f64::INFINITY, f64::min);
            if best.as_ref().is_none_or(|b| gap > b.0) {
                best = Some((gap, u));
            }
        }
        best.expect("eight candidates").1
    }

    fn random_on_sphere(&mut self, c: &[f64], radius: f64) -> Vec<f64> {
        let mut z: Vec<f64> = (0..c.len())
            .map(|_| super::de::encoding::standard_normal(&mut self.rng))
            .collect();
        let n = dot(&z, &z).sqrt().max(1e-300);
        for (zi, ci) in z.iter_mut().zip(c) {
            *zi = (ci + radius * *zi / n).clamp(0.0, 1.0);
        }
        z
    }
}

/// The points the run's initial design may propose next: two probes along
/// each numeric coordinate `i`, the coordinates with fewer probes first. The
/// first is `c ± Δ e_i` from the run's *current* centre `c` (at least one
/// grid value away for an integer or stepped parameter), so that the
/// design moves its base to each better point as it goes (COBYLA's initial
/// simplex does; BOBYQA's design stays at `x0 ± Δ e_i`); the second lies on
/// the first's line, beyond it when it was better than its base (NEWUOA's
/// `2Δ`), else on the base's other side, so that each coordinate has three
/// points in a line and the first model its exact curvature on a separable
/// quadratic. A probe the box cuts to less than half is left out (the second
/// tries the line's other end), and so is one with an evaluated or running
/// point within `0.3 Δ` or that rounds onto one. A probe along `i` is a point
/// of the run (`own`, with its loss, infinite while running) that differs
/// from an earlier one in coordinate `i` only, its base. For a categorical
/// key, `x0` with each other choice.
fn design_points(
    x0: &[f64],
    c: &[f64],
    dims: &Dims,
    radius: f64,
    own: &[(&[f64], f64)],
    points: &[(usize, Vec<f64>, f64)],
    running: &[Vec<f64>],
    stage: Stage,
) -> Vec<Vec<f64>> {
    let discrete = dims.iter().any(|(_, dist)| !is_continuous(dist));
    let near = |u: &[f64]| {
        let close = |v: &[f64]| {
            v.iter()
                .zip(u)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                .sqrt()
                <= 0.3 * radius
        };
        points.iter().any(|(_, v, _)| close(v))
            || running.iter().any(|v| close(v))
            // An integer or stepped parameter can round a probe onto a trial.
            || (discrete && is_duplicate(u, dims, points, running))
    };
    let d = c.len();
    let AxisProbes { probes, first, .. } = axis_probes(own, d);
    let fits = |u: &[f64], from: &[f64], i: usize| (u[i] - from[i]).abs() >= 0.5 * radius;
    let along = |from: &[f64], i: usize, t: f64| {
        let mut u = from.to_vec();
        u[i] = (from[i] + t).clamp(0.0, 1.0);
        u
    };
    let mut left = Vec::new();
    let mut fewest = usize::MAX;
    for i in 0..d {
        if let Distribution::Categorical { n } = dims[i].1 {
            if stage == Stage::Second {
                continue;
            }
            // A categorical key: every other choice, at the centre of its cell.
            let own = dims[i].1.from_unit(x0[i]);
            for k in (0..n).filter(|&k| k as f64 != own) {
                let mut u = x0.to_vec();
                u[i] = (k as f64 + 0.5) / n as f64;
                if !near(&u) {
                    left.push((0, u));
                }
            }
            continue;
        }
        let candidates: Vec<Vec<f64>> = match (probes[i], first[i]) {
            (0, _) if stage == Stage::Second => Vec::new(),
            (1, _) if stage == Stage::First => Vec::new(),
            (0, _) => [1.0, -1.0]
                .iter()
                .map(|sign| along(c, i, sign * radius.max(grid_gap(&dims[i].1, c[i], *sign))))
                .filter(|u| fits(u, c, i))
                .collect(),
            (1, Some((b, p))) => {
                let ((base, fb), (probe, fp)) = (own[b], own[p]);
                let t = probe[i] - base[i];
                let beyond = along(probe, i, t);
                let behind = along(base, i, -t);
                let (one, other) = if fp < fb {
                    ((beyond, probe), (behind, base))
                } else {
                    ((behind, base), (beyond, probe))
                };
                [one, other]
                    .into_iter()
                    .find(|(u, from)| fits(u, from, i))
                    .map(|(u, _)| u)
                    .into_iter()
                    .collect()
            }
            _ => Vec::new(),
        };
        for u in candidates {
            if !near(&u) {
                fewest = fewest.min(probes[i]);
                left.push((probes[i], u));
            }
        }
    }
    left.into_iter()
        .filter(|(p, _)| *p <= fewest)
        .map(|(_, u)| u)
        .collect()
}

/// The design's probes along each coordinate among a run's points `own`
/// (see [`design_points`]).
struct AxisProbes {
    /// Probes along each coordinate.
    probes: Vec<usize>,
    /// The first probe along each coordinate: (base, probe) indices in `own`.
    first: Vec<Option<(usize, usize)>>,
    /// The second probe along each coordinate, when on the first's line.
    second: Vec<Option<usize>>,
}

fn axis_probes(own: &[(&[f64], f64)], d: usize) -> AxisProbes {
    let mut probes = vec![0usize; d];
    let mut first: Vec<Option<(usize, usize)>> = vec![None; d];
    let mut second: Vec<Option<usize>> = vec![None; d];
    for (k, (a, _)) in own.iter().enumerate() {
        // The lowest-loss earlier point that `a` differs from in one coordinate.
        let mut base: Vec<Option<usize>> = vec![None; d];
        for (j, (b, fb)) in own[..k].iter().enumerate() {
            let mut differs = (0..d).filter(|&i| (a[i] - b[i]).abs() > 1e-9);
            if let (Some(i), None) = (differs.next(), differs.next()) {
                if base[i].is_none_or(|m| *fb < own[m].1) {
                    base[i] = Some(j);
                }
            }
        }
        for i in 0..d {
            if let Some(j) = base[i] {
                probes[i] += 1;
                match first[i] {
                    None => first[i] = Some((j, k)),
                    Some((b, _)) => {
                        // On the first probe's line, not a probe from it sideways.
                        let line = (0..d).all(|m| m == i || (own[b].0[m] - a[m]).abs() <= 1e-9);
                        if second[i].is_none() && line {
                            second[i] = Some(k);
                        }
                    }
                }
            }
        }
    }
    AxisProbes {
        probes,
        first,
        second,
    }
}

/// The second derivative along each coordinate in the unit cube, from the
/// parabola through the design's three points on its axis (0 where there
/// are not three with finite losses), and whether every coordinate has its
/// three points.
fn axis_curvature(own: &[(&[f64], f64)], d: usize) -> (Vec<f64>, bool) {
    let AxisProbes { first, second, .. } = axis_probes(own, d);
    let complete = second.iter().all(Option::is_some);
    let curvature = (0..d)
        .map(|i| {
            let (Some((b, p)), Some(q)) = (first[i], second[i]) else {
                return 0.0;
            };
            let [(tb, fb), (tp, fp), (tq, fq)] = [b, p, q].map(|k| (own[k].0[i], own[k].1));
            let ok = [fb, fp, fq].iter().all(|f| f.is_finite())
                && (tp - tb).abs() > 1e-12
                && (tq - tp).abs() > 1e-12
                && (tq - tb).abs() > 1e-12;
            if !ok {
                return 0.0;
            }
            let (s1, s2) = ((fp - fb) / (tp - tb), (fq - fp) / (tq - tp));
            2.0 * (s2 - s1) / (tq - tb)
        })
        .collect();
    (curvature, complete)
}

/// Whether a parameter takes every value of its range (a float without a
/// step).
fn is_continuous(dist: &Distribution) -> bool {
    matches!(dist, Distribution::Float { step: None, .. })
}

/// The move in the unit cube from `u` to the centre of the next grid value
/// of an integer, stepped or categorical parameter in direction `sign` (0
/// for a continuous one, or at the end of the range): a probe shorter than
/// it would round back onto `u`'s value (a binary integer and `Δ = 0.2`).
fn grid_gap(dist: &Distribution, u: f64, sign: f64) -> f64 {
    let step = match *dist {
        Distribution::Int { step, .. } => step as f64,
        Distribution::Float { step: Some(s), .. } => s,
        Distribution::Categorical { .. } => 1.0,
        _ => return 0.0,
    };
    let x = dist.from_unit(u);
    let next = dist.from_unit(dist.to_unit(x + sign * step));
    if (next - x).abs() < 0.5 * step {
        return 0.0;
    }
    (dist.to_unit(next) - u).abs()
}

/// Which probes of the design [`design_points`] may propose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Both,
    First,
    Second,
}

/// From this many dimensions on (where the whole design is more than 50
/// trials), a run's model steps start after the design's first probes
/// (`d + 1` trials rather than `2d + 1`, COBYLA's number), and a second probe
/// follows the result of each step (in place of halving the radius after a
/// certified model's failed step) until the design is complete. A model
/// without a Hessian to change from (a run's first, or after a failed step)
/// changes least from the design's diagonal curvature (`axis_curvature`)
/// while the design is incomplete, and once when it is complete; later such
/// models start from zero, as below this many dimensions.
///
/// Measured on the suite (`benches/suite.py`, 10 seeds, median regret at
/// 50 / 200 trials against the whole design first): 30-D Rosenbrock 4.8e4 /
/// 641 against 1.9e5 / 969, 40-D Sum Squares 1,183 / 3e-20 against 2,425 /
/// 5e-19 (Nevergrad's COBYLA: 3.9e4 / 533 and 1,111 / 140). Without the
/// curvature prior, 40-D Sum Squares stalled (175 at 200 trials, 0.086 at
/// 1,000); with it after every failed step, 30-D Rosenbrock did (4,592 at
/// 200); from 10 parameters, the deferral lost on 7 of the 11 10-D problems
/// at 50 trials. On shifted problems outside the suite (10 seeds): in 30-D
/// (Ackley, Levy, Styblinski-Tang, Zakharov, Dixon-Price, Griewank,
/// Rastrigin) 6 wins, 1 tie at 50 trials and 4 ties, 3 losses at 200 (Levy,
/// Rastrigin, Griewank's precision); in 20-D (Rosenbrock, Sum Squares, Levy,
/// Styblinski-Tang) no win and 3 losses (Sum Squares at 50, whose whole
/// design of 41 trials solves it exactly, Levy at 50 and 200), hence 25.
const DEFER_SECOND_PASS: usize = 25;

/// The default number of model points: a full quadratic's `(d + 1)(d + 2)
/// / 2` up to 3 dimensions, NEWUOA's `2d + 1` from 4 on (measured on the
/// suite: the full quadratic was better on 2-D Rosenbrock and Hartmann-3,
/// worse on Michalewicz-5 and 10-D problems).
fn default_points(d: usize) -> usize {
    if d <= 3 {
        (d + 1) * (d + 2) / 2
    } else {
        2 * d + 1
    }
}

/// Whether trial `t` shows its values: a value (recorded, or pending from a
/// joint sampler) for some dimension. The others were inactive in a declared
/// space (whose rows are recorded whole) or never drawn, and [`coords`] reads
/// them at the middle; a joint sampler's values are pending for every
/// dimension at once. Requiring every dimension left a declared space's
/// trials with an inactive parameter invisible, finished or running, and the
/// run proposed them again and again.
fn has_values(h: &History, t: usize, dims: &Dims) -> bool {
    dims.iter()
        .any(|(p, _)| p.is_some_and(|p| h.value(p, t).is_some()))
}

/// The centre plus `radius` along `dir` or, when that leaves more of the step
/// outside the box, along `-dir`; clipped to the box.
fn geometry_point(c: &[f64], dir: &[f64], radius: f64) -> Vec<f64> {
    let at = |sign: f64| -> Vec<f64> {
        c.iter()
            .zip(dir)
            .map(|(ci, di)| (ci + sign * radius * di).clamp(0.0, 1.0))
            .collect()
    };
    let kept = |u: &[f64]| -> f64 { u.iter().zip(c).map(|(a, b)| (a - b).powi(2)).sum() };
    let (plus, minus) = (at(1.0), at(-1.0));
    if kept(&minus) > kept(&plus) {
        minus
    } else {
        plus
    }
}

/// Whether `u` decodes onto the values of a point already evaluated or
/// running (integer and stepped parameters round small steps away).
fn is_duplicate(
    u: &[f64],
    dims: &Dims,
    points: &[(usize, Vec<f64>, f64)],
    running: &[Vec<f64>],
) -> bool {
    let cell: Vec<f64> = u
        .iter()
        .zip(dims)
        .map(|(x, (_, d))| d.to_unit(d.from_unit(*x)))
        .collect();
    let same = |v: &[f64]| v.iter().zip(&cell).all(|(a, b)| (a - b).abs() <= 1e-12);
    let cells = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .zip(dims)
            .map(|(x, (_, d))| d.to_unit(d.from_unit(*x)))
            .collect()
    };
    points.iter().any(|(_, v, _)| same(&cells(v))) || running.iter().any(|v| same(&cells(v)))
}

const STATE_WORDS: usize = 4 + 11;

impl Sampler for TrustSampler {
    /// A study's first trial (a define-by-run space is not known before it)
    /// is drawn where the first run starts: `x0`'s value, else the centre of
    /// a numeric range and a uniform choice of a categorical; later
    /// parameters outside the model uniformly.
    fn sample_independent(
        &mut self,
        h: &History,
        _: usize,
        name: &str,
        dist: &Distribution,
    ) -> Result<f64> {
        let first = self.runs == 0 && h.trials().len() <= 1;
        let x0 = self.cfg.x0.iter().find(|(n, _)| n == name);
        let u = match (first, x0) {
            (true, Some((_, v))) => dist.to_unit(*v).clamp(0.0, 1.0),
            // Not the middle choice: the order of choices means nothing here
            // (a benchmark's middle choices can be its optimum).
            (true, None) if !matches!(dist, Distribution::Categorical { .. }) => 0.5,
            _ => self.rng.uniform(),
        };
        Ok(dist.from_unit(u))
    }

    fn relative_values(&mut self, h: &History, trial: usize) -> Result<Vec<(u32, u32, f64)>> {
        if h.n_objectives() > 1 {
            return Err(Error::InvalidArgument(
                "TrustRegionSampler supports single-objective studies only".into(),
            ));
        }
        let space = relative_dims(h);
        if space.is_empty() {
            return Ok(Vec::new());
        }
        let dims: Dims = space
            .iter()
            .map(|&(p, d)| (Some(p), h.dist(p, d).clone()))
            .collect();
        let u = self.ask(h, trial, &dims, &mut |_| Ok(true), &|u| u.to_vec())?;
        Ok(space
            .iter()
            .zip(&dims)
            .zip(&u)
            .map(|((&(p, d), (_, dist)), &x)| (p, d, dist.from_unit(x)))
            .collect())
    }

    /// Every parameter of the space is a dimension (an inactive one counts
    /// as the middle of its range); a candidate that breaks a hard
    /// constraint or `accept` is replaced as a duplicate is (see
    /// `alternative`), within `max_draws` candidates in all; when none is
    /// found, a uniform feasible draw.
    fn sample_space(
        &mut self,
        h: &History,
        trial: usize,
        space: &SearchSpace,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        if h.n_objectives() > 1 {
            return space.sample_uniform(&mut self.rng, max_draws, accept);
        }
        // Parameters held fixed for every trial (a partially fixed sampler) are
        // not dimensions: a constant coordinate would leave the model's geometry
        // flat along it, and every step along it would come back as the same
        // point. (A value fixed for one trial, an enqueued one, stays a
        // dimension: the run keeps its dimensions.)
        let params = space.params();
        let fixed: Vec<Option<f64>> = match h.space_fixed() {
            Some(f) if f.len() == params.len() => params
                .iter()
                .zip(f)
                .map(|(p, &v)| v.filter(|_| h.holds(&p.name)))
                .collect(),
            _ => vec![None; params.len()],
        };
        let free: Vec<usize> = (0..fixed.len()).filter(|&i| fixed[i].is_none()).collect();
        let dims: Dims = free
            .iter()
            .map(|&i| (h.param_index(&params[i].name), params[i].dist.clone()))
            .collect();
        let decode = |u: &[f64]| -> Vec<f64> {
            let mut row: Vec<f64> = fixed.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
            for ((&i, (_, d)), &x) in free.iter().zip(&dims).zip(u) {
                row[i] = d.from_unit(x);
            }
            space.apply_conditions(&mut row);
            row
        };
        let mut tries = 0usize;
        let mut check = |u: &[f64]| -> Result<bool> {
            tries += 1;
            if tries > max_draws {
                return Ok(false);
            }
            let row = decode(u);
            Ok(space.is_valid(&row) && accept(&row)?)
        };
        // Inactive parameters where the history reads them (the middle).
        let canon = |u: &[f64]| -> Vec<f64> {
            let row = decode(u);
            u.iter()
                .zip(&free)
                .map(|(&x, &i)| if row[i].is_nan() { 0.5 } else { x })
                .collect()
        };
        let u = self.ask(h, trial, &dims, &mut check, &canon)?;
        let row = decode(&u);
        if space.is_valid(&row) && accept(&row)? {
            return Ok(row);
        }
        space.sample_uniform(&mut self.rng, max_draws, accept)
    }

    /// The generator, then the run: whether there is one, its first and
    /// own trials, radius, dimensions (the top three bits: design done, next
    /// ask improves the geometry, the deferred design's curvature used), its
    /// pending step (0 none, 1 certified, 2 not; trial, base, prediction,
    /// length), and the number of runs.
    fn state(&self) -> SamplerState {
        let mut s = rng_words(&self.rng);
        let r = self.run;
        let p = r.and_then(|r| r.pending);
        s.extend([
            u64::from(r.is_some()),
            r.map_or(0, |r| r.first as u64),
            r.map_or(0, |r| r.since as u64),
            r.map_or(0.0, |r| r.radius).to_bits(),
            r.map_or(0, |r| {
                r.dims as u64
                    | (u64::from(r.stepped) << 63)
                    | (u64::from(r.improve) << 62)
                    | (u64::from(r.seeded) << 61)
            }),
            p.map_or(0, |p| if p.certified { 1 } else { 2 }),
            p.map_or(0, |p| p.trial as u64),
            p.map_or(0.0, |p| p.base).to_bits(),
            p.map_or(0.0, |p| p.pred).to_bits(),
            p.map_or(0.0, |p| p.len).to_bits(),
            self.runs as u64,
        ]);
        let hess = self.hess.as_deref().unwrap_or(&[]);
        s.push(hess.len() as u64);
        s.extend(hess.iter().map(|x| x.to_bits()));
        s
    }

    fn set_state(&mut self, state: &[u64]) -> Result<()> {
        let n_hess = state.get(STATE_WORDS).copied().unwrap_or(u64::MAX);
        expect_words(state, (STATE_WORDS + 1).saturating_add(n_hess as usize))?;
        let rng = rng_from_words(state)?;
        let w = &state[4..];
        let f = f64::from_bits;
        let radius = f(w[3]);
        if w[0] > 1 || w[5] > 2 || (w[0] == 1 && !(radius.is_finite() && radius > 0.0)) {
            return Err(Error::InvalidArgument(
                "a TrustRegionSampler state holds a run flag of 0 or 1, a step flag of 0 to 2 \
                 and a positive radius"
                    .into(),
            ));
        }
        let pending = (w[5] >= 1).then(|| Step {
            trial: w[6] as usize,
            base: f(w[7]),
            pred: f(w[8]),
            len: f(w[9]),
            certified: w[5] == 1,
        });
        self.rng = rng;
        self.run = (w[0] == 1).then_some(Run {
            first: w[1] as usize,
            since: w[2] as usize,
            radius,
            pending,
            dims: (w[4] & !(7 << 61)) as usize,
            stepped: w[4] >> 63 == 1,
            improve: (w[4] >> 62) & 1 == 1,
            seeded: (w[4] >> 61) & 1 == 1,
        });
        self.runs = w[10] as usize;
        let hess: Vec<f64> = state[STATE_WORDS + 1..].iter().map(|b| f(*b)).collect();
        self.hess = (!hess.is_empty()).then_some(hess);
        self.proposed.clear();
        Ok(())
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }
}
