//! Incremental reading of a history for population samplers: the trials
//! whose sampler tag has become known and the trials finished since the last
//! read, each delivered once, so an ask costs O(new trials + trials still
//! running without a tag), never O(all trials).

use crate::history::History;

/// A cursor over one history's trials and its finished-trial log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scan {
    /// Trials below this number have been looked at.
    cursor: usize,
    /// Trials looked at without a tag that had not finished: their tag may
    /// still arrive (the trial being asked for, another worker's trial).
    untagged: Vec<u32>,
    /// Entries of [`History::finished_order`] read.
    finished: usize,
    /// The last finished trial read and the bits of its completion time, to
    /// notice a different history.
    mark: Option<(u32, u64)>,
}

impl Scan {
    /// True when `h` is not the history read so far (the caller starts its
    /// state again, with a fresh [`Scan`]).
    pub fn is_other(&self, h: &History) -> bool {
        let order = h.finished_order();
        let mark = |t: u32| (t, h.trials()[t as usize].completed.to_bits());
        h.trials().len() < self.cursor
            || order.len() < self.finished
            || (self.finished > 0 && Some(mark(order[self.finished - 1])) != self.mark)
    }

    /// Calls `tagged(trial, tag)` once for each trial whose tag became known
    /// since the last call (a trial finished without a tag is never
    /// reported), in increasing trial number among the new ones.
    pub fn tags(&mut self, h: &History, mut tagged: impl FnMut(u32, &[f64])) {
        let n = h.trials().len();
        let mut keep = Vec::with_capacity(self.untagged.len());
        let old = std::mem::take(&mut self.untagged);
        let fresh = (self.cursor..n).map(|t| t as u32);
        for t in old.into_iter().chain(fresh) {
            let tag = h.tag(t as usize);
            if !tag.is_empty() {
                tagged(t, tag);
            } else if !h.trials()[t as usize].state.is_finished() {
                keep.push(t);
            }
        }
        self.untagged = keep;
        self.cursor = n;
    }

    /// The first trial seen running without a tag as of the last
    /// [`Scan::tags`]: in a shared storage a trial exists before its tag is
    /// written, so it may yet be a member of any open generation.
    pub fn first_untagged(&self) -> Option<u32> {
        self.untagged.iter().copied().min()
    }

    /// Calls `done(trial)` for each trial finished since the last call, in
    /// the order the history finished them.
    pub fn finished(&mut self, h: &History, mut done: impl FnMut(u32)) {
        let order = h.finished_order();
        for &t in &order[self.finished..] {
            done(t);
        }
        self.finished = order.len();
        self.mark = order
            .last()
            .map(|&t| (t, h.trials()[t as usize].completed.to_bits()));
    }
}
