//! Generation bookkeeping from the trials' tags, so that every worker of a
//! study (each with its own sampler) builds the same run of generations.
//!
//! A trial the sampler proposes is tagged
//! `[TAG_KIND, space fingerprint, generation, index, restart, x..., c...]`
//! (x: the unit-space sample told to the update; c: the categories). The
//! book reads each trial's tag once when it appears and watches only the
//! trials that may still change (running ones without a tag yet, and the
//! members of generations not yet told), so the work per ask does not grow
//! with the number of trials.

use std::collections::{BTreeMap, BTreeSet};

use crate::history::{History, TrialState};

/// The first number of a CMA-ES tag ("CMAE" in ASCII).
pub const TAG_KIND: f64 = 1_129_136_453.0;
/// Tag entries before the sample.
pub const TAG_HEAD: usize = 5;

/// Members of the generations not yet told, by generation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Book {
    cursor: usize,
    watch: BTreeSet<usize>,
    pub members: BTreeMap<u64, Vec<usize>>,
}

impl Book {
    /// Reads the tags of the trials new since the last call and of the
    /// watched ones; keeps the members (for `fp`, with tags of `len` numbers)
    /// of generations >= `from`.
    pub fn scan(&mut self, h: &History, fp: f64, len: usize, from: u64) {
        let n = h.trials().len();
        let mut again: Vec<usize> = self.watch.iter().copied().collect();
        again.extend(self.cursor..n);
        self.cursor = n;
        for t in again {
            let tag = h.tag(t);
            let state = h.trials()[t].state;
            if tag.is_empty() {
                if state.is_finished() {
                    self.watch.remove(&t);
                } else {
                    self.watch.insert(t);
                }
                continue;
            }
            self.watch.remove(&t);
            if tag.len() != len || tag[0] != TAG_KIND || tag[1] != fp {
                continue;
            }
            let g = tag[2] as u64;
            if g >= from {
                let m = self.members.entry(g).or_default();
                if let Err(pos) = m.binary_search(&t) {
                    m.insert(pos, t);
                }
            }
        }
    }

    /// The first trial still running without a tag: in a shared storage a
    /// trial exists (running) before its proposal's tag is written, so it may
    /// yet turn out a member of any generation.
    pub fn first_untagged(&self) -> Option<usize> {
        self.watch.first().copied()
    }

    /// Trials below this number have been read.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Forgets the generations before `g`.
    pub fn drop_before(&mut self, g: u64) {
        self.members = self.members.split_off(&g);
    }
}

/// How a member counts: its value when it takes part in the update, or
/// whether it still may (running) or never will (failed, pruned).
pub enum Member {
    Value(f64),
    Pending,
    Out,
}

/// The status of trial `t` (values minimised: a maximised objective is negated).
pub fn member(h: &History, t: usize, consider_pruned: bool) -> Member {
    let tr = &h.trials()[t];
    let sign = if h.maximize()[0] { -1.0 } else { 1.0 };
    match tr.state {
        TrialState::Complete => Member::Value(sign * tr.values[0]),
        TrialState::Pruned if consider_pruned => match tr.last_intermediate() {
            Some((_, v)) if !v.is_nan() => Member::Value(sign * v),
            _ => Member::Out,
        },
        TrialState::Pruned | TrialState::Fail => Member::Out,
        TrialState::Running | TrialState::Waiting => Member::Pending,
    }
}

/// A told generation: the members that enter its update (trial, value) and
/// the later members that did not (running or with a value), which join the
/// next generation.
pub type Closed = (Vec<(usize, f64)>, Vec<usize>);

/// The members that make generation `members` (ascending trial numbers)
/// complete: the first `popsize` with a value in trial-number order, provided
/// no member before the last of them is still running and no trial before it
/// (`untagged`, the first) is still running without its tag; None while the
/// generation is open. Failed and pruned members are skipped (later members
/// replace them). The rule reads only what no later news can change, so every
/// worker, live or replaying a finished study, closes each generation with the
/// same members. The caller passes no `untagged` for a history that is the
/// study's only copy ([`History::is_mirror`] false): there, an untagged trial's
/// proposal is still to come from a sampler reading this history, which finds
/// the generation told too and tags the trial with a later one.
pub fn closed(
    h: &History,
    members: &[usize],
    popsize: usize,
    consider_pruned: bool,
    untagged: Option<usize>,
) -> Option<Closed> {
    let mut out = Vec::with_capacity(popsize);
    for (i, &t) in members.iter().enumerate() {
        match member(h, t, consider_pruned) {
            Member::Value(v) => out.push((t, v)),
            Member::Pending => return None,
            Member::Out => {}
        }
        if out.len() == popsize {
            if untagged.is_some_and(|u| u < t) {
                return None;
            }
            let rest = members[i + 1..]
                .iter()
                .copied()
                .filter(|&t| !matches!(member(h, t, consider_pruned), Member::Out))
                .collect();
            return Some((out, rest));
        }
    }
    None
}
