//! The ask's models: the refit schedule of the kept models (objective and
//! black-box constraints), the Kriging-believer fantasies and the
//! acquisition they feed.

use super::data::{constant, kind};
use super::{
    Cache, GpAcquisition, GpSampler, Key, Prepared, Slot, DETERMINISTIC_NOISE, NOISE_PRIOR,
    N_INCUMBENTS, REFIT_EVERY_ASK_UP_TO, REFIT_GROWTH,
};
use crate::error::Result;
use crate::history::History;
use crate::samplers::gp::acquisition::{srinivas_beta, Acquisition, Constrained};
use crate::samplers::gp::kernel::DimKind;
use crate::samplers::gp::model::{FitConfig, Gp, Noise, Priors};
use crate::space::Distribution;

impl GpSampler {
    fn slot_index(slot: Slot) -> usize {
        match slot {
            Slot::Objective => 0,
            Slot::Constraint(k) => k + 1,
        }
    }

    fn noise(&self) -> Noise {
        if self.cfg.deterministic_objective {
            Noise::Fixed(DETERMINISTIC_NOISE)
        } else {
            Noise::default()
        }
    }

    fn slot(&mut self, slot: Slot) -> &mut Option<Cache> {
        match slot {
            Slot::Objective => &mut self.cache,
            Slot::Constraint(k) => {
                if self.con_cache.len() <= k {
                    self.con_cache.resize(k + 1, None);
                }
                &mut self.con_cache[k]
            }
        }
    }

    /// The fit settings of a multi-start fit and of a warm single-start
    /// refit over `d` dimensions.
    fn fit_configs(&self, d: usize) -> (FitConfig, FitConfig) {
        let noise = self.noise();
        let priors = Some(Priors {
            noise: NOISE_PRIOR,
            ..Priors::two_sided(d)
        });
        let multi = FitConfig {
            noise,
            priors,
            ..FitConfig::default()
        };
        let warm = FitConfig {
            noise,
            priors,
            n_random_starts: 0,
            prior_mode_start: false,
            ..FitConfig::default()
        };
        (multi, warm)
    }

    /// The model on (x, y), following the refit schedule (module docs), warm
    /// started from the model of `slot` kept from earlier asks.
    fn model(
        &mut self,
        slot: Slot,
        key: Key,
        kinds: Vec<DimKind>,
        x: Vec<f64>,
        y: Vec<f64>,
        rows: Vec<usize>,
    ) -> Result<Gp> {
        let n = rows.len();
        let (multi, warm) = self.fit_configs(kinds.len());
        let cache = self.slot(slot).take().filter(|c| c.key == key);
        let restored = self
            .restored
            .get_mut(Self::slot_index(slot))
            .and_then(Option::take)
            .filter(|f| f.theta.len() == kinds.len() + 2 && f.theta.iter().all(|v| v.is_finite()));
        let (gp, n_fit, n_multi) = match (cache, restored) {
            (None, Some(f)) => {
                let gp = Gp::fit(kinds, x, &y, &warm, Some(&f.theta), &mut self.rng)?;
                (gp, n, f.n_multi.min(n))
            }
            (None, None) => (Gp::fit(kinds, x, &y, &multi, None, &mut self.rng)?, n, n),
            (Some(c), _) if c.rows == rows && c.y == y => (c.gp, c.n_fit, c.n_multi),
            (Some(c), _) => self.update_kept(c, kinds, x, &y, &rows, (&multi, &warm))?,
        };
        *self.slot(slot) = Some(Cache {
            key,
            rows,
            y,
            gp: gp.clone(),
            n_fit,
            n_multi,
        });
        Ok(gp)
    }

    /// The kept model `c` brought to the data (x, y) of `rows` by the refit
    /// schedule: a multi-start fit once n has doubled, a warm refit on every
    /// ask up to [`REFIT_EVERY_ASK_UP_TO`] observations and after growth by
    /// [`REFIT_GROWTH`], appends in between (a new factor with the kept
    /// hyperparameters when the old rows changed). Returns the model and
    /// its n at the last refit and multi-start fit.
    fn update_kept(
        &mut self,
        c: Cache,
        kinds: Vec<DimKind>,
        x: Vec<f64>,
        y: &[f64],
        rows: &[usize],
        (multi, warm): (&FitConfig, &FitConfig),
    ) -> Result<(Gp, usize, usize)> {
        let n = rows.len();
        let theta = c.gp.params();
        let prefix = rows.len() >= c.rows.len()
            && rows[..c.rows.len()] == c.rows[..]
            && y[..c.y.len()] == c.y[..];
        if n >= 2 * c.n_multi.max(1) {
            let gp = Gp::fit(kinds, x, y, multi, Some(&theta), &mut self.rng)?;
            Ok((gp, n, n))
        } else if n <= REFIT_EVERY_ASK_UP_TO || n as f64 >= c.n_fit as f64 * (1.0 + REFIT_GROWTH) {
            let gp = Gp::fit(kinds, x, y, warm, Some(&theta), &mut self.rng)?;
            Ok((gp, n, c.n_multi))
        } else if prefix {
            // O(n²) appends between refits.
            let mut gp = c.gp;
            let d = kinds.len();
            for i in c.rows.len()..n {
                gp.add_observation(&x[i * d..(i + 1) * d], y[i])?;
            }
            Ok((gp, c.n_fit, c.n_multi))
        } else {
            let gp = Gp::with_params(kinds, x, y, &theta, self.noise())?;
            Ok((gp, c.n_fit, c.n_multi))
        }
    }

    /// The models with Kriging-believer fantasies at the points of RUNNING
    /// trials, the acquisition and the incumbent; None when there is no data.
    pub(super) fn prepare(
        &mut self,
        h: &History,
        current: usize,
        dims: &[(Option<u32>, Distribution)],
        allow_inactive: bool,
    ) -> Result<Option<Prepared>> {
        let (x, y, rows, pending) = self.gather(h, current, dims, allow_inactive);
        // No data, or all observations equal: nothing to model (the posterior
        // would be flat and the acquisition decided by edge effects), so the
        // trial gets the seeded uniform draw.
        if rows.is_empty() || constant(&y) {
            return Ok(None);
        }
        let d = dims.len();
        let key = Key {
            params: dims.iter().map(|p| p.0).collect(),
            dists: dims.iter().map(|p| p.1.clone()).collect(),
        };
        let kinds: Vec<DimKind> = dims.iter().map(|p| kind(&p.1)).collect();
        let n = rows.len();
        let trials = h.trials();
        let violation: Vec<f64> = rows.iter().map(|&t| trials[t].violation()).collect();
        let mut cons = self.constraint_models(h, &rows, &x, &key, &kinds)?;
        let (x_obs, y_obs) = (x.clone(), y.clone());
        let mut gp = self.model(Slot::Objective, key.clone(), kinds, x, y, rows)?;
        let n_base: Vec<usize> = std::iter::once(gp.n())
            .chain(cons.iter().map(Gp::n))
            .collect();
        let order = incumbent_order(&y_obs, &violation);
        let best = if violation[order[0]] <= 0.0 {
            Some(y_obs[order[0]])
        } else if cons.is_empty() {
            // Nothing feasible and no constraint to model: the constraints
            // are left out.
            Some(y_obs.iter().copied().fold(f64::INFINITY, f64::min))
        } else {
            None
        };
        for p in pending.chunks(d) {
            add_fantasy(&mut gp, p)?;
            for c in cons.iter_mut() {
                add_fantasy(c, p)?;
            }
        }
        let inc: Vec<f64> = order
            .iter()
            .take(N_INCUMBENTS)
            .flat_map(|&i| x_obs[i * d..(i + 1) * d].iter().copied())
            .collect();
        Ok(Some(Prepared {
            scorer: Constrained {
                acq: self.acquisition(n, d)?,
                objective: gp,
                best,
                constraints: cons,
            },
            inc,
            key,
            n_base,
        }))
    }

    /// One GP per black-box constraint, on the rows (trials `rows`, inputs
    /// `x`) that report it; constraints with nothing to tell feasible
    /// points from infeasible ones are left out.
    fn constraint_models(
        &mut self,
        h: &History,
        rows: &[usize],
        x: &[f64],
        key: &Key,
        kinds: &[DimKind],
    ) -> Result<Vec<Gp>> {
        let d = kinds.len();
        let trials = h.trials();
        let n_con = rows
            .iter()
            .map(|&t| trials[t].constraints.len())
            .max()
            .unwrap_or(0);
        self.con_cache.truncate(n_con);
        let mut cons = Vec::with_capacity(n_con);
        for k in 0..n_con {
            let (mut xk, mut yk, mut rk) = (Vec::new(), Vec::new(), Vec::new());
            for (i, &t) in rows.iter().enumerate() {
                let c = &trials[t].constraints;
                // Values are ordered by constraint name; a trial that reported
                // fewer constraints cannot be aligned with the others.
                if c.len() == n_con && c[k].is_finite() {
                    xk.extend_from_slice(&x[i * d..(i + 1) * d]);
                    yk.push(c[k]);
                    rk.push(t);
                }
            }
            if rk.is_empty() || constant(&yk) {
                continue;
            }
            let slot = Slot::Constraint(k);
            cons.push(self.model(slot, key.clone(), kinds.to_vec(), xk, yk, rk)?);
        }
        Ok(cons)
    }

    /// The configured acquisition for n observations in d dimensions.
    fn acquisition(&self, n: usize, d: usize) -> Result<Acquisition> {
        Ok(match self.cfg.acquisition {
            GpAcquisition::LogEi => Acquisition::LogEi,
            GpAcquisition::Ei => Acquisition::Ei,
            GpAcquisition::Pi => Acquisition::Pi,
            GpAcquisition::Ucb { beta: Some(beta) } => Acquisition::Ucb { beta },
            GpAcquisition::Ucb { beta: None } => Acquisition::Ucb {
                beta: srinivas_beta(n + 1, d, 0.1)?,
            },
        })
    }
}

/// Rows in incumbent order: feasible ones (no positive `violation`) by
/// value `y`, then the others by violation.
fn incumbent_order(y: &[f64], violation: &[f64]) -> Vec<usize> {
    let feasible: Vec<bool> = violation.iter().map(|&v| v <= 0.0).collect();
    let mut order: Vec<usize> = (0..y.len()).collect();
    order.sort_by(|&a, &b| {
        feasible[b].cmp(&feasible[a]).then_with(|| {
            if feasible[a] {
                y[a].total_cmp(&y[b])
            } else {
                violation[a].total_cmp(&violation[b])
            }
        })
    });
    order
}

/// The Kriging believer: `p` observed at the posterior mean of `gp`.
fn add_fantasy(gp: &mut Gp, p: &[f64]) -> Result<()> {
    let (mean, _) = gp.predict(p)?;
    gp.add_observation(p, mean)
}
