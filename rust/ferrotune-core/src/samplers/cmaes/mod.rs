//! CMA-ES (Hansen, "The CMA Evolution Strategy: A Tutorial",
//! arXiv:1604.00772) as Optuna's `CmaEsSampler`, with IPOP/BIPOP restarts,
//! sep-CMA-ES, the margin for integer and stepped parameters, learning-rate
//! adaptation and categorical parameters modelled by CatCMA.
//!
//! The search works in the unit space of [`Distribution::to_unit`] (each
//! parameter in [0, 1], log parameters in log space, integer and stepped
//! ones widened by half a step, as Optuna's transform). Bounds are handled
//! by resampling (up to 10 n draws) and then clipping, as Optuna does.
//!
//! Generation state lives in the study: every proposal is tagged with its
//! generation and its sample (see [`book`]), and the distribution is rebuilt
//! by replaying the told generations in order, deterministically and
//! independently of the seed, so that several samplers sharing a study build
//! one run of generations. The seed only decides the samples.
//!
//! One file a job: [`strategy`] (weights and learning rates), [`gaussian`]
//! (the update), [`eigen`] (Jacobi), [`terminate`] (stopping criteria),
//! [`run`] (restarts), [`margin`], [`lr_adapt`], [`catcma`], [`book`]
//! (generations from tags).

pub mod book;
pub mod catcma;
pub mod eigen;
pub mod gaussian;
pub mod lr_adapt;
pub mod margin;
pub mod run;
pub mod strategy;
pub mod terminate;
#[cfg(test)]
mod tests;

use super::{expect_words, rng_from_words, rng_words, Sampler, SamplerState};
use crate::constraints::{Accept, SearchSpace};
use crate::error::{Error, Result};
use crate::history::{History, TrialState};
use crate::rng::Rng;
use crate::space::Distribution;
use book::{closed, Book, TAG_HEAD, TAG_KIND};
pub use run::{RestartEvent, RestartStrategy, RunConfig, Search, Solution};
pub use terminate::Stop;

/// CMA-ES settings, with Optuna's names and defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct CmaEsConfig {
    /// Initial mean by parameter name (internal values); the centre of the
    /// space for parameters not named.
    pub x0: Vec<(String, f64)>,
    /// Initial step size in the unit space (default 1/6: a sixth of the
    /// unit range, Optuna's `min_range / 6`).
    pub sigma0: Option<f64>,
    pub n_startup_trials: usize,
    pub popsize: Option<usize>,
    pub consider_pruned_trials: bool,
    pub restart_strategy: RestartStrategy,
    pub inc_popsize: usize,
    pub use_separable_cma: bool,
    pub with_margin: bool,
    pub lr_adapt: bool,
    /// Model categorical parameters with CatCMA (default true); false leaves
    /// them to independent sampling, as Optuna does.
    pub model_categorical: bool,
}

impl Default for CmaEsConfig {
    fn default() -> Self {
        CmaEsConfig {
            x0: Vec::new(),
            sigma0: None,
            n_startup_trials: 1,
            popsize: None,
            consider_pruned_trials: false,
            restart_strategy: RestartStrategy::None,
            inc_popsize: 2,
            use_separable_cma: false,
            with_margin: false,
            lr_adapt: false,
            model_categorical: true,
        }
    }
}

/// The relative space: numeric dims then categorical dims, each sorted by
/// name, so that every worker (whatever order its history met the
/// parameters in) builds the same dims and fingerprint.
#[derive(Debug, Clone, PartialEq)]
struct Dims {
    num: Vec<(String, Distribution)>,
    cat: Vec<(String, Distribution)>,
    /// Fingerprint (52 bits, exact as a tag's f64).
    fp: f64,
}

impl Dims {
    fn new(params: impl Iterator<Item = (String, Distribution)>, model_cat: bool) -> Self {
        let (mut num, mut cat) = (Vec::new(), Vec::new());
        for (name, d) in params {
            if d.is_single() {
                continue;
            }
            match d {
                Distribution::Categorical { .. } if model_cat => cat.push((name, d)),
                Distribution::Categorical { .. } => {}
                _ => num.push((name, d)),
            }
        }
        num.sort_by(|a, b| a.0.cmp(&b.0));
        cat.sort_by(|a, b| a.0.cmp(&b.0));
        // FNV-1a (64 bits) over the names and distributions: stable across
        // processes and builds, unlike the standard library's hasher.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for (name, d) in num.iter().chain(&cat) {
            for b in format!("{name}\u{0}{d:?}\u{0}").bytes() {
                hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        let fp = (hash & ((1u64 << 52) - 1)) as f64;
        Dims { num, cat, fp }
    }
}

/// CMA-ES over the intersection search space (define-by-run) or the
/// unconditional parameters of a declared space.
#[derive(Debug, Clone)]
pub struct CmaEsSampler {
    cfg: CmaEsConfig,
    rng: Rng,
    dims: Option<Dims>,
    search: Option<Search>,
    book: Book,
    /// (COMPLETE trials counted, position in the history's finish order).
    n_complete: (usize, usize),
    /// The last finished trial read and its completion time's bits, to
    /// notice another history.
    last_read: Option<(u32, u64)>,
    /// The tag of the trial just proposed, until the study takes it.
    tag: Option<(usize, Vec<f64>)>,
    /// The members that entered the last told generation's update (sorted),
    /// and whether its other members join the current generation (not
    /// after a restart).
    prev_chosen: Vec<usize>,
    carry: bool,
    /// The intersection space of the last ask and where each dim of `dims`
    /// (numeric, then categorical) sits in the history: while it is the
    /// same, an ask skips rebuilding the dims and their fingerprint.
    space_key: Vec<(u32, u32)>,
    slots: Vec<(u32, u32)>,
}

impl CmaEsSampler {
    /// A sampler with `cfg`, its samples determined by `seed`.
    pub fn new(cfg: CmaEsConfig, seed: u64) -> Result<Self> {
        let bad = |m: String| Err(Error::InvalidArgument(m));
        if let Some(s) = cfg.sigma0 {
            if !(s.is_finite() && s > 0.0) {
                return bad(format!("sigma0 must be a positive number, got {s}"));
            }
        }
        if cfg.popsize.is_some_and(|p| p < 2) {
            return bad(format!("popsize must be at least 2, got {:?}", cfg.popsize));
        }
        if cfg.inc_popsize < 1 {
            return bad("inc_popsize must be at least 1, got 0".into());
        }
        if cfg.lr_adapt && (cfg.use_separable_cma || cfg.with_margin) {
            return bad("lr_adapt cannot be combined with use_separable_cma or with_margin".into());
        }
        if cfg.use_separable_cma && cfg.with_margin {
            return bad("use_separable_cma and with_margin cannot be combined".into());
        }
        Ok(CmaEsSampler {
            cfg,
            rng: Rng::new(seed),
            dims: None,
            search: None,
            book: Book::default(),
            n_complete: (0, 0),
            last_read: None,
            tag: None,
            prev_chosen: Vec::new(),
            carry: false,
            space_key: Vec::new(),
            slots: Vec::new(),
        })
    }

    /// Whether `space` is the space of the last ask, with the same names and
    /// distributions in the same history slots.
    fn space_unchanged(&self, h: &History, space: &[(u32, u32)]) -> bool {
        let Some(dims) = self.dims.as_ref() else {
            return false;
        };
        self.search.is_some()
            && self.space_key == space
            && self.slots.len() == dims.num.len() + dims.cat.len()
            && self.slots.iter().zip(dims.num.iter().chain(&dims.cat)).all(
                |(&(p, d), (name, dist))| {
                    let col = &h.params()[p as usize];
                    col.name == *name && col.dists[d as usize] == *dist
                },
            )
    }

    /// The current search (after the last ask), for inspection.
    pub fn search(&self) -> Option<&Search> {
        self.search.as_ref()
    }

    /// Forgets everything read from a history when `h` is not that history
    /// (the sampler moved to another study): fewer trials or finished trials
    /// than read, or another trial last in the finished order.
    fn forget_if_other(&mut self, h: &History) {
        let order = h.finished_order();
        let read = self.n_complete.1;
        let last = |k: usize| {
            let t = order[k - 1];
            (t, h.trials()[t as usize].completed.to_bits())
        };
        let other = h.trials().len() < self.book.cursor()
            || order.len() < read
            || (read > 0 && Some(last(read)) != self.last_read);
        if other {
            self.forget();
        }
    }

    /// The state read from a history, dropped (the search starts again).
    fn forget(&mut self) {
        self.dims = None;
        self.space_key.clear();
        self.search = None;
        self.book = Book::default();
        self.n_complete = (0, 0);
        self.last_read = None;
        self.tag = None;
        self.prev_chosen.clear();
        self.carry = false;
    }

    fn startup_done(&mut self, h: &History) -> bool {
        self.forget_if_other(h);
        let order = h.finished_order();
        let (mut count, pos) = self.n_complete;
        for &t in &order[pos..] {
            let counted = match h.trials()[t as usize].state {
                TrialState::Complete => true,
                TrialState::Pruned => self.cfg.consider_pruned_trials,
                _ => false,
            };
            count += usize::from(counted);
        }
        self.n_complete = (count, order.len());
        self.last_read = order
            .last()
            .map(|&t| (t, h.trials()[t as usize].completed.to_bits()));
        count >= self.cfg.n_startup_trials
    }

    /// Makes the search for `dims` current (a new one when the space changed).
    fn use_dims(&mut self, dims: Dims) {
        if self.dims.as_ref().is_some_and(|d| d.fp == dims.fp) && self.search.is_some() {
            return;
        }
        let x0: Vec<f64> = dims
            .num
            .iter()
            .map(|(name, d)| {
                self.cfg
                    .x0
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(0.5, |(_, v)| d.to_unit(*v).clamp(0.0, 1.0))
            })
            .collect();
        let cfg = RunConfig {
            popsize: self.cfg.popsize,
            sigma0: self.cfg.sigma0.unwrap_or(1.0 / 6.0),
            x0,
            separable: self.cfg.use_separable_cma,
            with_margin: self.cfg.with_margin,
            lr_adapt: self.cfg.lr_adapt,
            restart: self.cfg.restart_strategy,
            inc_popsize: self.cfg.inc_popsize,
        };
        let ks = dims
            .cat
            .iter()
            .map(|(_, d)| d.cardinality().unwrap_or(2) as usize)
            .collect();
        let dists = dims.num.iter().map(|(_, d)| d.clone()).collect();
        self.search = Some(Search::new(cfg, dists, ks));
        self.book = Book::default();
        self.prev_chosen.clear();
        self.carry = false;
        self.dims = Some(dims);
    }

    /// Tells every generation whose members are all in, in order.
    ///
    /// The members of generation g - 1 left out of its update (asked while
    /// its last member ran) also count as members of generation g, as
    /// injected solutions, so that parallel workers waste no evaluation; they
    /// are recomputed from the tags at each step (not kept from the moment
    /// g - 1 was told), so a worker that learns of one late still agrees with
    /// the others. None cross a restart, and a member left out twice is dropped.
    fn advance(&mut self, h: &History) {
        let (Some(dims), Some(search)) = (self.dims.as_ref(), self.search.as_mut()) else {
            return;
        };
        let len = TAG_HEAD + dims.num.len() + dims.cat.len();
        self.book
            .scan(h, dims.fp, len, search.generation.saturating_sub(1));
        loop {
            let g = search.generation;
            let own = self.book.members.get(&g).map_or(&[][..], |m| m.as_slice());
            let mut members: Vec<usize> = match (self.carry, g.checked_sub(1)) {
                (true, Some(p)) => self.book.members.get(&p).map_or_else(Vec::new, |m| {
                    m.iter()
                        .copied()
                        .filter(|t| self.prev_chosen.binary_search(t).is_err())
                        .collect()
                }),
                _ => Vec::new(),
            };
            let n_carried = members.len();
            members.extend(own);
            members.sort_unstable();
            let consider = self.cfg.consider_pruned_trials;
            // The only copy of a study waits for no untagged trial (see
            // `GaSampler`'s generations: its proposal reads this history).
            let untagged = self.book.first_untagged().filter(|_| h.is_mirror());
            let Some((chosen, _)) = closed(h, &members, search.popsize(), consider, untagged)
            else {
                return;
            };
            let sols = chosen
                .iter()
                .map(|&(t, value)| {
                    let injected = n_carried > 0 && own.binary_search(&t).is_err();
                    solution(h, dims, search, t, value, injected)
                })
                .collect();
            search.tell(sols);
            let restarted = search.restarts.last().map(|e| e.generation) == Some(search.generation);
            self.prev_chosen = chosen.iter().map(|c| c.0).collect();
            self.prev_chosen.sort_unstable();
            self.carry = !restarted;
            self.book.drop_before(g);
        }
    }

    /// A new individual of the current generation: its unit sample, the
    /// categories and the tag.
    fn propose(&mut self) -> (Vec<f64>, Vec<usize>, Vec<f64>) {
        let search = self
            .search
            .as_ref()
            .expect("a search exists once dims are set");
        let fp = self.dims.as_ref().map_or(0.0, |d| d.fp);
        let g = search.generation;
        let members = self.book.members.get(&g).map_or(&[][..], |m| m.as_slice());
        // Extras (asked while `popsize` members are running or done) keep
        // counting up: they replace a failed or pruned member before them, or
        // else join the next generation (see `advance`).
        let index = members.len();
        let (x, cats) = search.sample(&mut self.rng);
        let mut tag = vec![
            TAG_KIND,
            fp,
            g as f64,
            index as f64,
            search.restarts.len() as f64,
        ];
        tag.extend(&x);
        tag.extend(cats.iter().map(|&c| c as f64));
        (x, cats, tag)
    }
}

/// The solution trial `t` contributes: its tagged sample, except where a
/// value recorded for the trial differs from the sample's (a value fixed by
/// an enqueued trial), which is used instead.
fn solution(
    h: &History,
    dims: &Dims,
    search: &Search,
    t: usize,
    value: f64,
    injected: bool,
) -> Solution {
    let tag = h.tag(t);
    let n = dims.num.len();
    let mut x = tag[TAG_HEAD..TAG_HEAD + n].to_vec();
    let u = search.encode(&x);
    for (i, (name, d)) in dims.num.iter().enumerate() {
        let rec = h.param_index(name).and_then(|p| h.value(p, t));
        if let Some(v) = rec {
            if v != d.from_unit(u[i]) {
                x[i] = d.to_unit(v);
            }
        }
    }
    let cats = dims
        .cat
        .iter()
        .enumerate()
        .map(|(i, (name, d))| {
            let rec = h.param_index(name).and_then(|p| h.value(p, t));
            match rec.filter(|v| d.contains(*v)) {
                Some(v) => v as usize,
                None => tag.get(TAG_HEAD + n + i).map_or(0, |c| *c as usize),
            }
        })
        .collect();
    Solution {
        x,
        cats,
        value,
        injected,
    }
}

impl Sampler for CmaEsSampler {
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
        self.tag = None;
        if h.n_objectives() > 1 {
            return Err(Error::InvalidArgument(
                "CmaEsSampler supports single-objective studies only".into(),
            ));
        }
        if !self.startup_done(h) {
            return Ok(Vec::new());
        }
        let space = h.intersection_space();
        if !self.space_unchanged(h, &space) {
            let named = space.iter().map(|&(p, d)| {
                let col = &h.params()[p as usize];
                (col.name.clone(), col.dists[d as usize].clone())
            });
            let dims = Dims::new(named, self.cfg.model_categorical);
            if dims.num.is_empty() {
                self.space_key.clear();
                return Ok(Vec::new());
            }
            self.slots = dims
                .num
                .iter()
                .chain(&dims.cat)
                .map(|(name, _)| index_of(h, &space, name))
                .collect();
            self.space_key = space;
            self.use_dims(dims);
        }
        self.advance(h);
        let (x, cats, tag) = self.propose();
        let (dims, search) = (self.dims.as_ref().unwrap(), self.search.as_ref().unwrap());
        let u = search.encode(&x);
        let mut out = Vec::with_capacity(x.len() + cats.len());
        let (num_slots, cat_slots) = self.slots.split_at(dims.num.len());
        for (i, ((_, dist), &(p, d))) in dims.num.iter().zip(num_slots).enumerate() {
            out.push((p, d, dist.from_unit(u[i])));
        }
        for (c, &(p, d)) in cats.iter().zip(cat_slots) {
            out.push((p, d, *c as f64));
        }
        self.tag = Some((trial, tag));
        Ok(out)
    }

    fn take_tag(&mut self, trial: usize) -> Vec<f64> {
        match self.tag.take() {
            Some((t, tag)) if t == trial => tag,
            _ => Vec::new(),
        }
    }

    fn independent_is_cheap(&self) -> bool {
        true
    }

    fn sample_space(
        &mut self,
        h: &History,
        trial: usize,
        space: &SearchSpace,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        self.tag = None;
        self.space_key.clear();
        let params = space.params();
        let unconditional = params
            .iter()
            .filter(|p| p.condition.is_none())
            .map(|p| (p.name.clone(), p.dist.clone()));
        let dims = Dims::new(unconditional, self.cfg.model_categorical);
        if h.n_objectives() > 1 || dims.num.is_empty() || !self.startup_done(h) {
            return space.sample_uniform(&mut self.rng, max_draws, accept);
        }
        self.use_dims(dims);
        self.advance(h);
        let dims = self.dims.clone().expect("set by use_dims");
        let slot: Vec<Option<(bool, usize)>> = params
            .iter()
            .map(|p| {
                if p.condition.is_some() {
                    return None;
                }
                dims.num
                    .iter()
                    .position(|(n, _)| *n == p.name)
                    .map(|i| (true, i))
                    .or_else(|| {
                        dims.cat
                            .iter()
                            .position(|(n, _)| *n == p.name)
                            .map(|i| (false, i))
                    })
            })
            .collect();
        let mut row = Vec::with_capacity(params.len());
        for _ in 0..max_draws.max(1) {
            let (x, cats, tag) = self.propose();
            let u = self.search.as_ref().unwrap().encode(&x);
            row.clear();
            for (p, s) in params.iter().zip(&slot) {
                row.push(match s {
                    Some((true, i)) => p.dist.from_unit(u[*i]),
                    Some((false, i)) => cats[*i] as f64,
                    None => p.dist.from_unit(self.rng.uniform()),
                });
            }
            space.apply_conditions(&mut row);
            if space.is_valid(&row) && accept(&row)? {
                self.tag = Some((trial, tag));
                return Ok(row);
            }
        }
        // No valid draw from the Gaussian: uniform draws (untagged, so they
        // do not enter the update).
        space.sample_uniform(&mut self.rng, max_draws, accept)
    }

    /// The generator's four words (the search is rebuilt from the history).
    fn state(&self) -> SamplerState {
        rng_words(&self.rng)
    }

    fn set_state(&mut self, state: &[u64]) -> Result<()> {
        expect_words(state, 4)?;
        self.rng = rng_from_words(state)?;
        self.forget();
        Ok(())
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }
}

/// The (param, dist) indices of `name` in the intersection space.
fn index_of(h: &History, space: &[(u32, u32)], name: &str) -> (u32, u32) {
    let p = h
        .param_index(name)
        .expect("a parameter of the intersection space");
    *space.iter().find(|(q, _)| *q == p).expect("in the space")
}
