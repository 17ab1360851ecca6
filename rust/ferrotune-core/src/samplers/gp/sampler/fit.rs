//! The ask's models: the refit schedule of the kept models (objective and
//! black-box constraints), the Kriging-believer fantasies and the
//! acquisition they feed.

use super::data::{constant, kind, Data};
use super::{
    transforms_apply, Cache, GpAcquisition, GpInputWarping, GpOutputTransform, GpSampler, Key,
    Prepared, Slot, DETERMINISTIC_NOISE, NOISE_PRIOR, N_INCUMBENTS, REFIT_EVERY_ASK_UP_TO,
    REFIT_GROWTH,
};
use crate::error::Result;
use crate::history::History;
use crate::samplers::gp::acquisition::{srinivas_beta, Acquisition, Constrained};
use crate::samplers::gp::kernel::DimKind;
use crate::samplers::gp::model::{FitConfig, Gp, Noise, Priors};
use crate::samplers::gp::power::PowerTransform;
use crate::samplers::gp::warp::warped_dims;
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
    /// refit over `d` dimensions for the model of `slot` (input warping on
    /// the objective's only).
    fn fit_configs(&self, slot: Slot, d: usize) -> (FitConfig, FitConfig) {
        let noise = self.noise();
        let priors = Some(Priors {
            noise: NOISE_PRIOR,
            ..Priors::two_sided(d)
        });
        let input_warping = self.warp_now && slot == Slot::Objective;
        let multi = FitConfig {
            noise,
            priors,
            input_warping,
            ..FitConfig::default()
        };
        let warm = FitConfig {
            noise,
            priors,
            input_warping,
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
        let (multi, warm) = self.fit_configs(slot, kinds.len());
        let cache = self.slot(slot).take().filter(|c| c.key == key);
        let restored = self
            .restored
            .get_mut(Self::slot_index(slot))
            .and_then(Option::take)
            .filter(|f| {
                let (d, n_warp) = (kinds.len(), 2 * warped_dims(&kinds).len());
                (f.theta.len() == d + 2 || f.theta.len() == d + 2 + n_warp)
                    && f.theta.iter().all(|v| v.is_finite())
            });
        let (gp, tf, n_fit, n_multi) = match (cache, restored) {
            (None, Some(f)) => {
                let (tf, yt) = self.fit_transform(slot, &y);
                let gp = Gp::fit(kinds, x, &yt, &warm, Some(&f.theta), &mut self.rng)?;
                (gp, tf, n, f.n_multi.min(n))
            }
            (None, None) => {
                let (tf, yt) = self.fit_transform(slot, &y);
                let gp = Gp::fit(kinds, x, &yt, &multi, None, &mut self.rng)?;
                (gp, tf, n, n)
            }
            (Some(c), _) if c.rows == rows && c.y == y => (c.gp, c.tf, c.n_fit, c.n_multi),
            (Some(c), _) => self.update_kept(slot, c, kinds, x, &y, &rows, (&multi, &warm))?,
        };
        *self.slot(slot) = Some(Cache {
            key,
            rows,
            y,
            gp: gp.clone(),
            tf,
            n_fit,
            n_multi,
        });
        Ok(gp)
    }

    /// The output transform of `slot` fitted to `y` (None when there is
    /// none: the option is off, a constraint model, several objectives, or a
    /// degenerate fit) and the values the model is fitted on.
    fn fit_transform(&self, slot: Slot, y: &[f64]) -> (Option<PowerTransform>, Vec<f64>) {
        let tf = (slot == Slot::Objective && self.power_now)
            .then(|| PowerTransform::fit(y))
            .flatten();
        match tf.and_then(|t| t.apply_all(y)) {
            Some(yt) => (tf, yt),
            None => (None, y.to_vec()),
        }
    }

    /// The kept model `c` of `slot` brought to the data (x, y) of `rows` by
    /// the refit schedule: a multi-start fit once n has doubled, a warm refit
    /// on every ask up to [`REFIT_EVERY_ASK_UP_TO`] observations and after
    /// growth by [`REFIT_GROWTH`], appends in between (a new factor with the
    /// kept hyperparameters when the old rows changed). The output transform
    /// is estimated afresh at each fit and kept in between; a value the kept
    /// one cannot map (≤ 0 under Box-Cox) brings the refit forward. Returns
    /// the model, its transform and its n at the last refit and multi-start
    /// fit.
    #[allow(clippy::too_many_arguments)]
    fn update_kept(
        &mut self,
        slot: Slot,
        c: Cache,
        kinds: Vec<DimKind>,
        x: Vec<f64>,
        y: &[f64],
        rows: &[usize],
        (multi, warm): (&FitConfig, &FitConfig),
    ) -> Result<(Gp, Option<PowerTransform>, usize, usize)> {
        let n = rows.len();
        let theta = c.gp.params();
        let prefix = rows.len() >= c.rows.len()
            && rows[..c.rows.len()] == c.rows[..]
            && y[..c.y.len()] == c.y[..];
        // The values under the kept transform (the option may only have
        // changed with the number of objectives, which refits).
        let kept = match c.tf {
            Some(t) if self.power_now && slot == Slot::Objective => t.apply_all(y),
            Some(_) => None,
            None => Some(y.to_vec()),
        };
        if n >= 2 * c.n_multi.max(1) {
            let (tf, yt) = self.fit_transform(slot, y);
            let gp = Gp::fit(kinds, x, &yt, multi, Some(&theta), &mut self.rng)?;
            return Ok((gp, tf, n, n));
        }
        let due = n <= REFIT_EVERY_ASK_UP_TO || n as f64 >= c.n_fit as f64 * (1.0 + REFIT_GROWTH);
        match kept {
            Some(yt) if !due && prefix => {
                // O(n²) appends between refits.
                let mut gp = c.gp;
                let d = kinds.len();
                for i in c.rows.len()..n {
                    gp.add_observation(&x[i * d..(i + 1) * d], yt[i])?;
                }
                Ok((gp, c.tf, c.n_fit, c.n_multi))
            }
            Some(yt) if !due => {
                let gp = Gp::with_params(kinds, x, &yt, &theta, self.noise())?;
                Ok((gp, c.tf, c.n_fit, c.n_multi))
            }
            _ => {
                let (tf, yt) = self.fit_transform(slot, y);
                let gp = Gp::fit(kinds, x, &yt, warm, Some(&theta), &mut self.rng)?;
                Ok((gp, tf, n, c.n_multi))
            }
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
        let mut data = self.gather(h, current, dims, allow_inactive);
        let d = dims.len();
        let tr = if self.cfg.trust_region && h.maximize().len() == 1 {
            let tr = self.current_run(h, d, &mut data);
            self.last_region = Some(tr.clone());
            // The run's initial design: uniform draws.
            if tr.run_len < self.cfg.n_startup_trials {
                return Ok(None);
            }
            Some(tr)
        } else {
            None
        };
        let Data {
            x,
            y,
            rows,
            pending,
            ..
        } = data;
        // No data, or all observations equal: nothing to model (the posterior
        // would be flat and the acquisition decided by edge effects), so the
        // trial gets the seeded uniform draw.
        if rows.is_empty() || constant(&y) {
            return Ok(None);
        }
        let kinds: Vec<DimKind> = dims.iter().map(|p| kind(&p.1)).collect();
        let numeric: Vec<bool> = kinds.iter().map(|k| *k != DimKind::Categorical).collect();
        let n = rows.len();
        let trials = h.trials();
        let n_objectives = h.maximize().len();
        let constrained = rows.iter().any(|&t| !trials[t].constraints.is_empty());
        let auto = transforms_apply(n_objectives, &kinds, &x, constrained, self.cfg.trust_region);
        self.power_now = n_objectives == 1
            && match self.cfg.output_transform {
                GpOutputTransform::None => false,
                GpOutputTransform::Power => true,
                GpOutputTransform::Auto => auto,
            };
        self.warp_now = match self.cfg.input_warping {
            GpInputWarping::Off => false,
            GpInputWarping::On => true,
            GpInputWarping::Auto => auto,
        };
        let key = Key {
            params: dims.iter().map(|p| p.0).collect(),
            dists: dims.iter().map(|p| p.1.clone()).collect(),
            transforms: (self.power_now, self.warp_now),
        };
        let violation: Vec<f64> = rows.iter().map(|&t| trials[t].violation()).collect();
        let mut cons = self.constraint_models(h, &rows, &x, &key, &kinds)?;
        let (x_obs, y_obs) = (x.clone(), y.clone());
        let mut gp = self.model(Slot::Objective, key.clone(), kinds, x, y, rows)?;
        let n_base: Vec<usize> = std::iter::once(gp.n())
            .chain(cons.iter().map(Gp::n))
            .collect();
        let order = incumbent_order(&y_obs, &violation);
        // The incumbent on the model's scale (the transform is increasing, so
        // the order is the same).
        let tf = self.cache.as_ref().and_then(|c| c.tf);
        let y_model = tf.and_then(|t| t.apply_all(&y_obs)).unwrap_or(y_obs);
        let mut best = if violation[order[0]] <= 0.0 {
            Some(y_model[order[0]])
        } else if cons.is_empty() {
            // Nothing feasible and no constraint to model: the constraints
            // are left out.
            Some(y_model.iter().copied().fold(f64::INFINITY, f64::min))
        } else {
            None
        };
        let region = tr.map(|tr| {
            let c = &x_obs[order[0] * d..(order[0] + 1) * d];
            Self::region(&tr, c, &gp.lengthscales(), &numeric, dims)
        });
        for p in pending.chunks(d) {
            let mean = add_fantasy(&mut gp, p)?;
            let mut feasible = true;
            for c in cons.iter_mut() {
                feasible &= add_fantasy(c, p)? <= 0.0;
            }
            // The believer takes the fantasy as an observation, for the
            // incumbent too: otherwise a pending point whose mean improves on
            // the best keeps its expected improvement (the mean's, with the
            // variance gone) and the next proposal lands on it again.
            if let (true, Some(b)) = (feasible, best.as_mut()) {
                *b = b.min(mean);
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
            region,
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
/// Returns that mean.
fn add_fantasy(gp: &mut Gp, p: &[f64]) -> Result<f64> {
    let (mean, _) = gp.predict(p)?;
    gp.add_observation(p, mean)?;
    Ok(mean)
}
