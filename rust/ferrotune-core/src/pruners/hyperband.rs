//! Hyperband (Li, Jamieson, DeSalvo, Rostamizadeh and Talwalkar, "Hyperband:
//! A Novel Bandit-Based Approach to Hyperparameter Optimization", JMLR 18,
//! 2018, Algorithm 1) run asynchronously as Optuna's `HyperbandPruner` does:
//! one [`SuccessiveHalvingPruner`] per bracket, bracket `b` with minimum
//! early-stopping rate `b`, and each trial assigned to a bracket
//! deterministically from the study's name and its number. With several
//! objectives each bracket promotes by non-dominated rank (see
//! [`super::pareto_rank`]).

use super::successive_halving::{HalvingConfig, SuccessiveHalvingPruner};
use super::{at_least, Check, Pruner, RungRecord};
use crate::error::{Error, Result};
use crate::history::{History, TrialState};

/// Arguments of [`HyperbandPruner`], with Optuna's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HyperbandConfig {
    /// Steps before the first rung of bracket 0 (default 1).
    pub min_resource: i64,
    /// The largest step; None is Optuna's "auto": the largest last step of
    /// the COMPLETE trials plus one, once such a trial exists.
    pub max_resource: Option<i64>,
    /// `eta` (default 3).
    pub reduction_factor: i64,
    /// Passed to every bracket's successive halving (default 0).
    pub bootstrap_count: i64,
}

impl Default for HyperbandConfig {
    fn default() -> Self {
        HyperbandConfig {
            min_resource: 1,
            max_resource: None,
            reduction_factor: 3,
            bootstrap_count: 0,
        }
    }
}

/// Brackets of successive halving, set up once the maximum resource is known.
#[derive(Debug, Clone, PartialEq)]
pub struct HyperbandPruner {
    config: HyperbandConfig,
    study_name: String,
    brackets: Vec<SuccessiveHalvingPruner>,
    /// Per bracket, its share of trials (`n` of Algorithm 1, as a ratio).
    budgets: Vec<u64>,
    initialised: bool,
    /// For "auto": the largest last step of the COMPLETE trials read so far,
    /// and how many entries of [`History::finished_order`] have been read.
    max_complete_step: Option<i64>,
    cursor: usize,
    /// Records taken in before the brackets were set up (their bracket is not
    /// known yet), given to their brackets once it is.
    early_records: Vec<RungRecord>,
}

impl HyperbandPruner {
    /// Checks the arguments (each error names its parameter).
    pub fn new(config: HyperbandConfig) -> Result<Self> {
        at_least("min_resource", config.min_resource, 1)?;
        if let Some(m) = config.max_resource {
            at_least("max_resource", m, 1)?;
        }
        at_least("reduction_factor", config.reduction_factor, 2)?;
        at_least("bootstrap_count", config.bootstrap_count, 0)?;
        if config.bootstrap_count > 0 && config.max_resource.is_none() {
            return Err(Error::InvalidArgument(
                "bootstrap_count > 0 needs an explicit max_resource, not \"auto\"".into(),
            ));
        }
        Ok(HyperbandPruner {
            config,
            study_name: String::new(),
            brackets: Vec::new(),
            budgets: Vec::new(),
            initialised: false,
            max_complete_step: None,
            cursor: 0,
            early_records: Vec::new(),
        })
    }

    /// Number of brackets: `floor(log_eta(max / min)) + 1` (`s_max + 1` of
    /// Algorithm 1); none when the maximum is below the minimum.
    fn n_brackets(&self, max_resource: i64) -> usize {
        let c = &self.config;
        let ratio = (max_resource as f64 / c.min_resource as f64).ln();
        let n = (ratio / (c.reduction_factor as f64).ln()).floor() + 1.0;
        if n >= 1.0 {
            n as usize
        } else {
            0
        }
    }

    /// Sets up the brackets once the maximum resource is known.
    fn initialise(&mut self, history: &History) -> Result<()> {
        let max_resource = match self.config.max_resource {
            Some(m) => m,
            None => {
                // The trials finished since the last call only.
                let order = history.finished_order();
                for &n in &order[self.cursor.min(order.len())..] {
                    let t = &history.trials()[n as usize];
                    if t.state == TrialState::Complete {
                        let last = t.last_intermediate().map(|s| s.0);
                        self.max_complete_step = self.max_complete_step.max(last);
                    }
                }
                self.cursor = order.len();
                match self.max_complete_step {
                    Some(s) => s.saturating_add(1),
                    None => return Ok(()),
                }
            }
        };
        let n = self.n_brackets(max_resource);
        let eta = self.config.reduction_factor as f64;
        for b in 0..n {
            // Trials per bracket, `ceil((s_max + 1) eta^s / (s + 1))` with s = s_max - b.
            let s = (n - 1 - b) as i32;
            let budget = (n as f64 * eta.powi(s) / f64::from(s + 1)).ceil();
            self.budgets.push(budget.min(u32::MAX as f64) as u64);
            let sh = HalvingConfig {
                min_resource: Some(self.config.min_resource),
                reduction_factor: self.config.reduction_factor,
                min_early_stopping_rate: b as i64,
                bootstrap_count: self.config.bootstrap_count,
            };
            self.brackets.push(SuccessiveHalvingPruner::new(sh)?);
        }
        self.initialised = true;
        for record in std::mem::take(&mut self.early_records) {
            self.add_record(history, &record)?;
        }
        Ok(())
    }

    /// The bracket of trial `number`: CRC-32 of `"{study_name}_{number}"`
    /// modulo the total budget, walked through the brackets' budgets (the
    /// assignment Optuna uses, so the same study gives the same brackets).
    pub fn bracket_of(&self, number: usize) -> Option<usize> {
        let total: u64 = self.budgets.iter().sum();
        if total == 0 {
            return None;
        }
        let key = format!("{}_{number}", self.study_name);
        let mut n = u64::from(crc32(key.as_bytes())) % total;
        for (b, &budget) in self.budgets.iter().enumerate() {
            if n < budget {
                return Some(b);
            }
            n -= budget;
        }
        None
    }

    /// The bracket of trial `number`, setting the brackets up first when the
    /// maximum resource is known (for "auto", from `history`'s COMPLETE
    /// trials); None while it is not. For samplers that follow the pruner's
    /// brackets (DEHB).
    pub fn bracket_in(&mut self, history: &History, number: usize) -> Result<Option<usize>> {
        if !self.initialised {
            self.initialise(history)?;
        }
        Ok(if self.initialised {
            self.bracket_of(number)
        } else {
            None
        })
    }

    /// Per bracket, its share of trials (empty until the brackets are set up).
    pub fn budgets(&self) -> &[u64] {
        &self.budgets
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zlib computes it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

impl Pruner for HyperbandPruner {
    fn prune(&mut self, history: &History, trial: usize) -> Result<bool> {
        history.trial(trial)?;
        if !self.initialised {
            self.initialise(history)?;
        }
        match self.bracket_of(trial) {
            Some(b) => self.brackets[b].prune(history, trial),
            None => Ok(false),
        }
    }

    fn check(&mut self, history: &History, trial: usize) -> Result<Check> {
        history.trial(trial)?;
        if !self.initialised {
            self.initialise(history)?;
        }
        if !self.initialised {
            return Ok(Check::Sync);
        }
        match self.bracket_of(trial) {
            Some(b) => self.brackets[b].check(history, trial),
            None => Ok(Check::Local),
        }
    }

    fn take_records(&mut self) -> Vec<RungRecord> {
        self.brackets
            .iter_mut()
            .flat_map(|b| b.take_records())
            .collect()
    }

    fn add_record(&mut self, history: &History, record: &RungRecord) -> Result<()> {
        if !self.initialised {
            self.initialise(history)?;
        }
        if !self.initialised {
            self.early_records.push(record.clone());
            return Ok(());
        }
        match self.bracket_of(record.trial) {
            Some(b) => self.brackets[b].add_record(history, record),
            None => Ok(()),
        }
    }

    fn boxed_clone(&self) -> Box<dyn Pruner> {
        let mut p = HyperbandPruner::new(self.config).expect("checked arguments");
        p.study_name.clone_from(&self.study_name);
        Box::new(p)
    }

    fn set_study_name(&mut self, name: &str) {
        self.study_name = name.to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_zlib() {
        // zlib.crc32(b"") == 0, zlib.crc32(b"123456789") == 0xCBF43926.
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn brackets_and_budgets_by_hand() {
        // min 1, max 27, eta 3: s_max = 3, four brackets; budgets
        // ceil(4 * 27 / 4) = 27, ceil(4 * 9 / 3) = 12, ceil(4 * 3 / 2) = 6, ceil(4 / 1) = 4.
        let c = HyperbandConfig {
            max_resource: Some(27),
            ..Default::default()
        };
        let mut p = HyperbandPruner::new(c).unwrap();
        p.set_study_name("s");
        let mut h = History::new(1);
        let t = h.create_trial(TrialState::Running);
        assert!(!p.prune(&h, t).unwrap());
        assert_eq!(p.budgets(), [27, 12, 6, 4]);
        // Assignments are deterministic and spread over the brackets by budget.
        let mut counts = [0usize; 4];
        for n in 0..4900 {
            counts[p.bracket_of(n).unwrap()] += 1;
        }
        assert_eq!(p.bracket_of(17), p.clone().bracket_of(17));
        for (b, share) in [27.0, 12.0, 6.0, 4.0].iter().enumerate() {
            let want = 4900.0 * share / 49.0;
            assert!((counts[b] as f64 - want).abs() < 0.15 * want, "{counts:?}");
        }
    }

    #[test]
    fn records_taken_in_before_the_brackets_exist_reach_them_later() {
        let c = HyperbandConfig {
            max_resource: Some(27),
            ..Default::default()
        };
        let mut p = HyperbandPruner::new(c).unwrap();
        p.set_study_name("s");
        let mut h = History::new(1);
        let mut records = Vec::new();
        for i in 0..40 {
            let t = h.create_trial(TrialState::Running);
            for s in 1..=27 {
                h.report(t, s, f64::from(i % 7) + 1.0 / s as f64).unwrap();
                if p.prune(&h, t).unwrap() {
                    break;
                }
            }
            h.finish(t, TrialState::Complete, vec![0.0]).unwrap();
            records.extend(p.take_records());
        }
        assert!(records.iter().any(|r| !r.promoted) && records.iter().any(|r| r.rung > 0));
        // "auto" max_resource: the brackets wait for a COMPLETE trial, the records too.
        let mut q = HyperbandPruner::new(HyperbandConfig::default()).unwrap();
        q.set_study_name("s");
        let empty = History::new(1);
        for r in &records {
            q.add_record(&empty, r).unwrap();
        }
        assert!(q.budgets().is_empty());
        let mut h2 = History::new(1);
        let t = h2.create_trial(TrialState::Running);
        h2.report(t, 26, 0.0).unwrap();
        h2.finish(t, TrialState::Complete, vec![0.0]).unwrap();
        q.check(&h2, t).unwrap(); // max 27: the same brackets as `p`
        for (a, b) in p.brackets.iter().zip(&q.brackets) {
            assert_eq!(a.rung_values(), b.rung_values());
        }
    }

    #[test]
    fn auto_waits_for_a_complete_trial_and_arguments_are_checked() {
        let mut p = HyperbandPruner::new(HyperbandConfig::default()).unwrap();
        let mut h = History::new(1);
        let t = h.create_trial(TrialState::Running);
        h.report(t, 8, 1.0).unwrap();
        assert!(!p.prune(&h, t).unwrap());
        assert!(p.budgets().is_empty());
        h.finish(t, TrialState::Complete, vec![1.0]).unwrap();
        let t = h.create_trial(TrialState::Running);
        h.report(t, 0, 1.0).unwrap();
        p.prune(&h, t).unwrap();
        // max 9, eta 3: brackets s_max = 2: ceil(3*9/3) = 9, ceil(3*3/2) = 5, 3.
        assert_eq!(p.budgets(), [9, 5, 3]);
        let bad = |c: HyperbandConfig| HyperbandPruner::new(c).unwrap_err().to_string();
        let d = HyperbandConfig::default();
        assert!(bad(HyperbandConfig {
            min_resource: 0,
            ..d
        })
        .contains("min_resource"));
        assert!(bad(HyperbandConfig {
            reduction_factor: 1,
            ..d
        })
        .contains("reduction_factor"));
        assert!(bad(HyperbandConfig {
            bootstrap_count: 1,
            ..d
        })
        .contains("bootstrap_count"));
    }
}
