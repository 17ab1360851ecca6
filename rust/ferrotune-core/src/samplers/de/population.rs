//! The population of differential evolution as the study's trials define it:
//! generations of tagged trial vectors, greedy selection when a generation
//! closes, the archive of replaced parents (JADE) and the success-history
//! memory of F and CR (SHADE). Every update here is a deterministic function
//! of the history, so samplers of several workers sharing one study build the
//! same population.

use std::collections::BTreeMap;

use super::{Adaptation, DeConfig};
use crate::history::History;
use crate::rng::Rng;

/// The first number of a differential-evolution tag: `[MARK, generation,
/// slot, F, CR, u_1..u_d]`.
pub(crate) const MARK: f64 = 17_477.0; // "DE" in ASCII, 0x4445

/// The trial vectors of one generation.
#[derive(Debug, Clone, Default)]
struct Generation {
    /// Per slot, the trial vectors known so far (they pick the next slot).
    proposed: Vec<usize>,
    /// (trial, slot, F, CR) of the finished ones, in the order they finished.
    finished: Vec<(usize, usize, f64, f64)>,
    /// Whether each slot has a finished trial vector.
    done: Vec<bool>,
    n_done: usize,
}

/// One success of SHADE's selection: the trial's F and CR and the
/// improvement `|f(u) - f(x)|` it brought.
pub(crate) type Success = (f64, f64, f64);

/// The population state rebuilt from the history (see the module's
/// documentation).
#[derive(Debug, Clone)]
pub(crate) struct Population {
    np: usize,
    /// The open generation: new trial vectors belong to it.
    pub(crate) generation: u64,
    /// Per slot, the member (trial, loss), None until one COMPLETE trial
    /// has filled the slot.
    pub(crate) members: Vec<Option<(usize, f64)>>,
    /// Trials of replaced parents (JADE's archive A).
    pub(crate) archive: Vec<usize>,
    archive_cap: usize,
    /// SHADE's memories M_F and M_CR and the next position to write, k.
    pub(crate) m_f: Vec<f64>,
    pub(crate) m_cr: Vec<f64>,
    k: usize,
    adaptation: Adaptation,
    open: BTreeMap<u64, Generation>,
    /// Successes of late trial vectors, for the next memory update.
    late_successes: Vec<Success>,
}

impl Population {
    pub(crate) fn new(cfg: &DeConfig) -> Self {
        let np = cfg.population_size;
        let h = match cfg.adaptation {
            Adaptation::Shade => cfg.memory_size.unwrap_or(np),
            Adaptation::Jade | Adaptation::Fixed => 1,
        };
        let (f0, cr0) = match cfg.adaptation {
            // SHADE, Algorithm 1: every M_F and M_CR entry starts at 0.5;
            // JADE: mu_F = mu_CR = 0.5.
            Adaptation::Shade | Adaptation::Jade => (0.5, 0.5),
            Adaptation::Fixed => (cfg.mutation_factor, cfg.crossover_rate),
        };
        Population {
            np,
            generation: 0,
            members: vec![None; np],
            archive: Vec::new(),
            archive_cap: (cfg.archive_rate * np as f64).round() as usize,
            m_f: vec![f0; h],
            m_cr: vec![cr0; h],
            k: 0,
            adaptation: cfg.adaptation,
            open: BTreeMap::new(),
            late_successes: Vec::new(),
        }
    }

    fn generation_mut(&mut self, g: u64) -> &mut Generation {
        let np = self.np;
        self.open.entry(g).or_insert_with(|| Generation {
            proposed: vec![0; np],
            done: vec![false; np],
            ..Default::default()
        })
    }

    /// Takes in a trial whose tag became known: it counts towards its
    /// generation's slots.
    pub(crate) fn on_tagged(&mut self, tag: &[f64]) {
        if let Some((g, slot, ..)) = parse(tag, self.np) {
            if g >= self.generation {
                self.generation_mut(g).proposed[slot] += 1;
            }
        }
    }

    /// Takes in a tagged trial that has finished, in the order trials
    /// finish. The open generation closes as soon as each of its slots has
    /// a finished trial vector; a trial vector of a closed generation that
    /// finishes later (an extra one) replaces its slot's member at once if
    /// it is not worse.
    pub(crate) fn on_finished(&mut self, h: &History, t: usize) {
        let Some((g, slot, f, cr)) = parse(h.tag(t), self.np) else {
            return;
        };
        if g < self.generation {
            self.select(h, slot, (t, f, cr), true);
            return;
        }
        let gen = self.generation_mut(g);
        gen.finished.push((t, slot, f, cr));
        if !gen.done[slot] {
            gen.done[slot] = true;
            gen.n_done += 1;
        }
        while self
            .open
            .get(&self.generation)
            .is_some_and(|gen| gen.n_done == self.np)
        {
            let gen = self.open.remove(&self.generation).unwrap_or_default();
            self.close(h, &gen);
            self.generation += 1;
        }
    }

    /// The slot of the next trial vector of the open generation: one of the
    /// slots without a finished trial vector that have the fewest trial
    /// vectors known, drawn at random. A lone sampler so proposes each slot
    /// once, then extra trial vectors for the slots still waiting; workers
    /// that ask at the same moment (each seeing the same history) spread
    /// over the slots instead of repeating one another's, which a fixed
    /// turn made them do: in step, they covered every other slot only and
    /// held the generation open for dozens of trials.
    pub(crate) fn next_slot(&self, rng: &mut Rng) -> usize {
        let Some(gen) = self.open.get(&self.generation) else {
            return rng.below(self.np as u64) as usize;
        };
        let waiting = || (0..self.np).filter(|&s| !gen.done[s]);
        let fewest = waiting().map(|s| gen.proposed[s]).min().unwrap_or(0);
        let candidates: Vec<usize> = waiting().filter(|&s| gen.proposed[s] == fewest).collect();
        match candidates.len() {
            0 => 0,
            n => candidates[rng.below(n as u64) as usize],
        }
    }

    /// Greedy selection of trial vector `(t, F, CR)` against the member of
    /// `slot` (Storn and Price 1997, eq. 5; ties go to the trial vector, as
    /// SHADE's `f(u) <= f(x)`); a FAIL or PRUNED trial vector loses. True
    /// when it replaced the member. A strictly better trial vector made by
    /// mutation is a success of SHADE; `late` ones are kept for the next
    /// memory update.
    fn select(&mut self, h: &History, slot: usize, (t, f, cr): (usize, f64, f64), late: bool) {
        let Some(y) = super::encoding::loss(h, t) else {
            return;
        };
        match self.members[slot] {
            None => self.members[slot] = Some((t, y)),
            Some((parent, fx)) if y <= fx => {
                if y < fx && f > 0.0 {
                    let s = (f, cr, fx - y);
                    if late {
                        self.late_successes.push(s);
                    }
                }
                if self.archive_cap > 0 {
                    self.archive.push(parent);
                }
                self.members[slot] = Some((t, y));
            }
            Some(_) => {}
        }
    }

    /// Closes a generation: each slot keeps the best of its member and
    /// the generation's COMPLETE trial vectors for it (the earliest trial on
    /// a tie), then the archive and the parameter memory are updated
    /// (SHADE, Algorithm 1), with the successes of late trial vectors too.
    fn close(&mut self, h: &History, gen: &Generation) {
        let mut successes = std::mem::take(&mut self.late_successes);
        for slot in 0..self.np {
            let best = gen
                .finished
                .iter()
                .filter(|e| e.1 == slot)
                .filter_map(|&(t, _, f, cr)| super::encoding::loss(h, t).map(|y| (y, t, f, cr)))
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let Some((y, t, f, cr)) = best else { continue };
            if let Some((_, fx)) = self.members[slot] {
                if y < fx && f > 0.0 {
                    successes.push((f, cr, fx - y));
                }
            }
            self.select(h, slot, (t, f, cr), false);
        }
        self.trim_archive();
        self.update_memory(&successes);
    }

    /// JADE: while the archive exceeds its size, randomly chosen entries are
    /// removed. The generator is seeded by the generation number, so every
    /// worker removes the same entries.
    fn trim_archive(&mut self) {
        let mut rng = Rng::new(self.generation ^ 0xA5C1_1DE5_0000_0000);
        while self.archive.len() > self.archive_cap {
            let i = rng.below(self.archive.len() as u64) as usize;
            self.archive.swap_remove(i);
        }
    }

    pub(crate) fn update_memory(&mut self, s: &[Success]) {
        if s.is_empty() {
            return;
        }
        match self.adaptation {
            Adaptation::Fixed => {}
            Adaptation::Shade => {
                let (mf, mcr) = shade_means(s);
                self.m_f[self.k] = mf;
                self.m_cr[self.k] = mcr;
                self.k = (self.k + 1) % self.m_f.len();
            }
            Adaptation::Jade => {
                // JADE, eqs. (8)-(10) with c = 0.1: unweighted arithmetic
                // mean of S_CR, Lehmer mean of S_F.
                let c = 0.1;
                let n = s.len() as f64;
                let mean_cr = s.iter().map(|e| e.1).sum::<f64>() / n;
                let lehmer =
                    s.iter().map(|e| e.0 * e.0).sum::<f64>() / s.iter().map(|e| e.0).sum::<f64>();
                self.m_cr[0] = (1.0 - c) * self.m_cr[0] + c * mean_cr;
                self.m_f[0] = (1.0 - c) * self.m_f[0] + c * lehmer;
            }
        }
    }

    /// The COMPLETE members: (slot, trial, loss).
    pub(crate) fn filled(&self) -> Vec<(usize, usize, f64)> {
        self.members
            .iter()
            .enumerate()
            .filter_map(|(s, m)| m.map(|(t, y)| (s, t, y)))
            .collect()
    }
}

/// SHADE's memory update (Tanabe and Fukunaga 2013, eqs. 7-9): weights
/// `w_k = Δf_k / Σ Δf`, `M_CR = Σ w_k S_CR,k` (weighted arithmetic mean) and
/// `M_F = Σ w_k S_F,k² / Σ w_k S_F,k` (weighted Lehmer mean). Improvements
/// that are not finite (from an infinite objective value) share the whole
/// weight equally.
pub(crate) fn shade_means(s: &[Success]) -> (f64, f64) {
    let total: f64 = s.iter().map(|e| e.2).sum();
    let w: Vec<f64> = if total.is_finite() && total > 0.0 {
        s.iter().map(|e| e.2 / total).collect()
    } else {
        let inf = s.iter().filter(|e| !e.2.is_finite()).count();
        s.iter()
            .map(|e| match (inf, e.2.is_finite()) {
                (0, _) => 1.0 / s.len() as f64,
                (n, false) => 1.0 / n as f64,
                (_, true) => 0.0,
            })
            .collect()
    };
    let m_cr = s.iter().zip(&w).map(|(e, w)| w * e.1).sum();
    let num: f64 = s.iter().zip(&w).map(|(e, w)| w * e.0 * e.0).sum();
    let den: f64 = s.iter().zip(&w).map(|(e, w)| w * e.0).sum();
    (num / den, m_cr)
}

/// (generation, slot, F, CR) of a differential-evolution tag for a
/// population of `np`, or None when the tag is not one.
fn parse(tag: &[f64], np: usize) -> Option<(u64, usize, f64, f64)> {
    match *tag {
        [m, g, slot, f, cr, ..] if m == MARK && g >= 0.0 && slot >= 0.0 && (slot as usize) < np => {
            Some((g as u64, slot as usize, f, cr))
        }
        _ => None,
    }
}
