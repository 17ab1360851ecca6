//! What the population samplers (differential evolution, particle swarm)
//! share: the mixed-type encoding in the unit cube and the incremental reader
//! of their trials' tags.
//!
//! **Encoding.** Every parameter is one coordinate in `[0, 1]`:
//! [`Distribution::to_unit`] / [`Distribution::from_unit`], so floats are
//! affine in their range (in log space for log parameters), integers and
//! stepped floats are rounded to their grid when decoded (each grid point owns
//! an equal cell of `[0, 1]`), and a categorical is one continuous key whose
//! cell picks the choice (`floor(u · n_choices)`, so the choices' order
//! matters). Both samplers keep each trial's continuous position in its tag,
//! so rounding only affects the evaluated value; a trial without one is read
//! back from its values at the centre of each value's cell ([`coords`]).

use crate::history::{History, TrialState};
use crate::rng::Rng;
use crate::space::Distribution;

/// The dimensions a population sampler works on: for each, the parameter's
/// index in the history (None when the history has not seen it yet) and its
/// distribution.
pub(crate) type Dims = Vec<(Option<u32>, Distribution)>;

/// The unit coordinates of trial `t` over `dims`: each recorded value's
/// [`Distribution::to_unit`], clipped to `[0, 1]`, or `0.5` (the middle of the
/// range) where the trial has no value (an inactive parameter).
pub(crate) fn coords(h: &History, t: usize, dims: &Dims) -> Vec<f64> {
    dims.iter()
        .map(|(p, d)| {
            p.and_then(|p| h.value(p, t))
                .filter(|v| !v.is_nan())
                .map_or(0.5, |v| d.to_unit(v).clamp(0.0, 1.0))
        })
        .collect()
}

/// A standard normal draw (Box and Muller 1958).
pub(crate) fn standard_normal(rng: &mut Rng) -> f64 {
    let u1 = 1.0 - rng.uniform(); // in (0, 1]: ln is finite
    let u2 = rng.uniform();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A Cauchy draw of location `loc` and scale `scale` (inverse CDF).
pub(crate) fn cauchy(rng: &mut Rng, loc: f64, scale: f64) -> f64 {
    loc + scale * (std::f64::consts::PI * (rng.uniform() - 0.5)).tan()
}

/// The objective of a COMPLETE single-objective trial as a value to
/// minimise, or None for any other trial.
pub(crate) fn loss(h: &History, t: usize) -> Option<f64> {
    let r = h.trials().get(t)?;
    (r.state == TrialState::Complete)
        .then(|| r.values.first().copied())
        .flatten()
        .map(|v| if h.maximize()[0] { -v } else { v })
}

/// What [`TagReader::update`] reports about one trial.
pub(crate) enum TagEvent<'a> {
    /// The trial's tag (starting with the reader's mark) became known.
    Tagged(usize, &'a [f64]),
    /// A trial reported as tagged has finished (COMPLETE, PRUNED or FAIL).
    Finished(usize),
}

/// Reads the trials a population sampler tagged (tag starting with `mark`)
/// incrementally: each call looks at new trials, the few RUNNING trials whose
/// tag was not known yet, and newly finished trials only, so the work per
/// ask does not grow with the number of trials.
///
/// A trial is reported `Tagged` once, before it is reported `Finished`. A
/// trial without a tag (enqueued, another sampler's, or one whose tag has
/// not reached this history) is looked at again while it runs; a trial that
/// finishes without a tag is never reported.
#[derive(Debug, Clone, Default)]
pub(crate) struct TagReader {
    mark: f64,
    next_trial: usize,
    untagged: Vec<usize>,
    next_finished: usize,
    known: Vec<bool>,
    /// The history read (`History::id`): one sampler object may serve several
    /// studies, whose trials must not mix.
    history: Option<u64>,
}

impl TagReader {
    pub(crate) fn new(mark: f64) -> Self {
        TagReader {
            mark,
            ..Default::default()
        }
    }

    /// True when `h` is not the history this reader has read: another study's
    /// (the sampler object serves several), or fewer trials or finished trials
    /// than already read.
    pub(crate) fn is_stale(&self, h: &History) -> bool {
        self.history.is_some_and(|id| id != h.id())
            || h.trials().len() < self.next_trial
            || h.finished_order().len() < self.next_finished
    }

    /// Reports what changed since the last call, in trial order within each
    /// kind: new tags first, then finishes.
    pub(crate) fn update(&mut self, h: &History, mut on: impl FnMut(TagEvent<'_>)) {
        self.history = Some(h.id());
        let n = h.trials().len();
        self.known.resize(n, false);
        let mut fresh: Vec<usize> = Vec::new();
        // Trials whose tag was unknown at the last call, then new trials.
        let mut still = Vec::with_capacity(self.untagged.len());
        for t in std::mem::take(&mut self.untagged)
            .into_iter()
            .chain(self.next_trial..n)
        {
            if self.is_mine(h, t) {
                fresh.push(t);
            } else if !h.trials()[t].state.is_finished() {
                still.push(t);
            }
        }
        self.untagged = still;
        self.next_trial = n;
        fresh.sort_unstable();
        for t in fresh {
            self.known[t] = true;
            on(TagEvent::Tagged(t, h.tag(t)));
        }
        let order = h.finished_order();
        for &t in &order[self.next_finished..] {
            if self.known.get(t as usize).copied().unwrap_or(false) {
                on(TagEvent::Finished(t as usize));
            }
        }
        self.next_finished = order.len();
    }

    fn is_mine(&self, h: &History, t: usize) -> bool {
        h.tag(t).first() == Some(&self.mark)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_reports_each_tag_once_and_finishes_after_tags() {
        let mut h = History::new(1);
        let mut r = TagReader::new(7.0);
        let a = h.create_trial(TrialState::Running);
        let b = h.create_trial(TrialState::Running);
        let c = h.create_trial(TrialState::Running);
        h.set_tag(a, vec![7.0, 1.0]).unwrap();
        h.set_tag(c, vec![8.0]).unwrap(); // another sampler's
        let mut seen = Vec::new();
        let mut log = |e: TagEvent<'_>| match e {
            TagEvent::Tagged(t, tag) => seen.push(format!("tag {t} {}", tag[1])),
            TagEvent::Finished(t) => seen.push(format!("fin {t}")),
        };
        r.update(&h, &mut log);
        // b's tag arrives later (another worker's trial), then b and a finish.
        h.set_tag(b, vec![7.0, 2.0]).unwrap();
        h.finish(b, TrialState::Fail, vec![]).unwrap();
        h.finish(a, TrialState::Complete, vec![1.0]).unwrap();
        h.finish(c, TrialState::Complete, vec![1.0]).unwrap();
        r.update(&h, &mut log);
        r.update(&h, &mut log);
        assert_eq!(seen, ["tag 0 1", "tag 1 2", "fin 1", "fin 0"]);
        assert!(!r.is_stale(&h));
        assert!(r.is_stale(&History::new(1)));
    }

    #[test]
    fn cauchy_and_normal_have_their_medians_and_spread() {
        let mut rng = Rng::new(3);
        let n = 20_000;
        let mut c: Vec<f64> = (0..n).map(|_| cauchy(&mut rng, 0.5, 0.1)).collect();
        c.sort_by(f64::total_cmp);
        // Quartiles of a Cauchy(0.5, 0.1) are 0.4 and 0.6.
        assert!((c[n / 4] - 0.4).abs() < 0.01 && (c[3 * n / 4] - 0.6).abs() < 0.01);
        let z: Vec<f64> = (0..n).map(|_| standard_normal(&mut rng)).collect();
        let mean = z.iter().sum::<f64>() / n as f64;
        let var = z.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.03 && (var - 1.0).abs() < 0.04);
    }
}
