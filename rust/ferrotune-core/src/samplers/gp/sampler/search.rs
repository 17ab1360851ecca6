//! Acquisition optimisation on the box of an intersection space: scrambled
//! Sobol candidates (kept between refits through
//! [`Pool`](crate::samplers::gp::model::Pool)s) and perturbations
//! of the incumbents scored in batches, then local searches (projected
//! L-BFGS on the continuous dimensions, a coordinate search on the discrete
//! ones) from the best candidate and from candidates drawn by their score.

use super::data::encode;
use super::{
    Candidates, GpSampler, Prepared, Region, GRID_NEIGHBOURS, LOCAL_SD, MASK_DIMS,
    MAX_CHOICES_SCANNED, N_LOCAL, N_REFINE, N_SOBOL, REFINE_THREADS, REFINE_THREADS_FROM,
    THOMPSON_MAX, THOMPSON_MIN, THOMPSON_PER_DIM,
};
use crate::error::Result;
use crate::rng::Rng;
use crate::samplers::gp::acquisition::{Acquisition, Constrained};
use crate::samplers::gp::lbfgs::{minimize, LbfgsConfig};
use crate::samplers::gp::model::Gp;
use crate::samplers::qmc::{QmcKind, QmcSequence};
use crate::samplers::tpe::truncnorm::ndtri;
use crate::space::Distribution;

/// True for floats without a step: refined by gradient.
fn is_continuous(dist: &Distribution) -> bool {
    matches!(dist, Distribution::Float { step: None, .. }) && !dist.is_single()
}

/// Values tried by the coordinate search of a discrete dimension around `v`.
fn neighbours(dist: &Distribution, v: f64, rng: &mut Rng) -> Vec<f64> {
    match *dist {
        Distribution::Categorical { n } if n <= MAX_CHOICES_SCANNED => {
            (0..n).map(|k| k as f64).collect()
        }
        Distribution::Categorical { n } => (0..MAX_CHOICES_SCANNED)
            .map(|_| rng.below(n as u64) as f64)
            .collect(),
        Distribution::Int { low, step, .. } => {
            let card = dist.cardinality().unwrap_or(1) as i64;
            let k = ((v - low as f64) / step as f64).round() as i64;
            (k.saturating_sub(GRID_NEIGHBOURS)..=k.saturating_add(GRID_NEIGHBOURS))
                .filter(|&j| j >= 0 && j < card)
                .map(|j| dist.discrete_value(j as u64))
                .collect()
        }
        Distribution::Float {
            low, step: Some(s), ..
        } => {
            let card = dist.cardinality().unwrap_or(1) as i64;
            let k = ((v - low) / s).round() as i64;
            (k.saturating_sub(GRID_NEIGHBOURS)..=k.saturating_add(GRID_NEIGHBOURS))
                .filter(|&j| j >= 0 && j < card)
                .map(|j| dist.discrete_value(j as u64))
                .collect()
        }
        Distribution::Float { .. } => Vec::new(),
    }
}

/// Index of the largest score (the first on ties; NaN never wins).
pub(super) fn argmax(scores: &[f64]) -> usize {
    let mut best = 0;
    for (i, s) in scores.iter().enumerate() {
        if *s > scores[best] || scores[best].is_nan() {
            best = i;
        }
    }
    best
}

/// Weights of the candidates' `scores` for drawing local-search starts: the
/// acquisition relative to the best score `top` — exp(s - top) for scores on
/// a log scale (LogEI, or log probability of feasibility), the ratio s / top
/// for EI and PI (0 when `top` is not positive), and exp(s - top) for UCB,
/// whose values are in standard deviations. Undefined scores weigh 0.
pub(super) fn selection_weights(scores: &[f64], top: f64, log_scale: bool) -> Vec<f64> {
    scores
        .iter()
        .map(|&s| {
            let w = if log_scale {
                (s - top).exp()
            } else if top > 0.0 {
                s / top
            } else {
                0.0
            };
            if w.is_finite() {
                w.max(0.0)
            } else {
                0.0
            }
        })
        .collect()
}

/// Candidates (the best by acquisition) joining the local maxima in the
/// Thompson draw of [`GpSampler::optimise_box`] with `diversify`.
const N_DIVERSE: usize = 64;

impl GpSampler {
    /// Optimises the acquisition over the box of `dists` (no constraints):
    /// internal values of the best point found. With `diversify` (another
    /// worker's trial runs with none of its values known yet, so the
    /// acquisition's maximiser would be its point too), the point is chosen
    /// by one posterior draw (Thompson sampling, as asynchronous parallel BO
    /// does: Kandasamy, Krishnamurthy, Schneider & Poczos 2018) among the
    /// local maxima found and the [`N_DIVERSE`] best candidates, so that
    /// workers with their own generators part.
    pub(super) fn optimise_box(
        &mut self,
        prep: &Prepared,
        dists: &[Distribution],
        diversify: bool,
    ) -> Result<Vec<f64>> {
        let (scorer, inc) = (&prep.scorer, &prep.inc[..]);
        let region = prep.region.as_ref();
        let d = dists.len();
        if let (Some(r), true) = (region, self.cfg.thompson) {
            return self.thompson_box(prep, dists, r);
        }
        let (mut vals, mut scores) = match region {
            Some(r) => self.region_candidates(prep, dists, r)?,
            None => self.sobol_candidates(prep, dists)?,
        };
        let n_sobol = scores.len();
        self.perturb_incumbents(inc, dists, region, &mut vals);
        let m = vals.len() / d;
        let enc: Vec<f64> = vals[n_sobol * d..]
            .iter()
            .enumerate()
            .map(|(i, &v)| encode(&dists[i % d], v))
            .collect();
        scores.extend(scorer.value_batch(&enc, m - n_sobol)?);
        let cont: Vec<usize> = (0..d).filter(|&j| is_continuous(&dists[j])).collect();
        let mut starts = self.local_search_starts(scorer, &vals, &scores, d);
        let mut pool: Vec<Vec<f64>> = Vec::new();
        if diversify {
            let mut idx: Vec<usize> = (0..scores.len()).collect();
            idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
            pool = idx
                .iter()
                .take(N_DIVERSE)
                .map(|&i| vals[i * d..(i + 1) * d].to_vec())
                .collect();
        }
        if !cont.is_empty() {
            let (lo, hi) = match region {
                Some(r) => (r.lo.clone(), r.hi.clone()),
                None => (vec![0.0; d], vec![1.0; d]),
            };
            Self::refine_all(scorer, dists, &cont, (&lo, &hi), &mut starts);
        }
        let mut finals: Vec<(f64, Vec<f64>)> = Vec::new();
        for mut v in starts {
            self.coordinate_search(scorer, dists, region, &mut v)?;
            let e: Vec<f64> = (0..d).map(|j| encode(&dists[j], v[j])).collect();
            let s = scorer.value_batch(&e, 1)?[0];
            finals.push((s, v));
        }
        if diversify {
            pool.extend(finals.into_iter().map(|f| f.1));
            let m = pool.len();
            let enc: Vec<f64> = pool
                .iter()
                .flat_map(|v| (0..d).map(move |j| encode(&dists[j], v[j])))
                .collect();
            let k = self.thompson_choice(scorer, &enc, m)?;
            return Ok(pool.swap_remove(k));
        }
        let scores: Vec<f64> = finals.iter().map(|f| f.0).collect();
        Ok(finals.swap_remove(argmax(&scores)).1)
    }

    /// Appends to `vals` (internal values, m×d) [`N_LOCAL`] perturbations of
    /// the incumbents `inc` taken in turn: a normal step of [`LOCAL_SD`] in
    /// the unit cube on numeric dimensions, a new random choice with
    /// probability 1/d on categorical ones. In a trust region the step is
    /// [`LOCAL_SD`] times the box's side, and the point is clipped to the
    /// box (and snapped to an admitted grid value).
    fn perturb_incumbents(
        &mut self,
        inc: &[f64],
        dists: &[Distribution],
        region: Option<&Region>,
        vals: &mut Vec<f64>,
    ) {
        let d = dists.len();
        let n_inc = inc.len() / d.max(1);
        for i in 0..N_LOCAL.min(N_LOCAL * n_inc) {
            let base = &inc[(i % n_inc) * d..(i % n_inc + 1) * d];
            for (j, dist) in dists.iter().enumerate() {
                let v = match dist {
                    Distribution::Categorical { n } => {
                        if self.rng.uniform() < 1.0 / d as f64 {
                            self.rng.below(*n as u64) as f64
                        } else {
                            base[j]
                        }
                    }
                    _ => {
                        let z = ndtri(self.rng.uniform().max(1e-12));
                        let (lo, hi) = region.map_or((0.0, 1.0), |r| (r.lo[j], r.hi[j]));
                        let v = dist.from_unit((base[j] + LOCAL_SD * (hi - lo) * z).clamp(lo, hi));
                        region.map_or(v, |r| r.snap(dist, j, v))
                    }
                };
                vals.push(v);
            }
        }
    }

    /// Up to [`N_REFINE`] starts for the local searches among the candidates
    /// `vals` (m×d) with `scores`: the best candidate, then draws weighted by
    /// the acquisition (a mix of exploitation and diversity: the LogEI
    /// surface is multimodal in several dimensions). The perturbations of
    /// the best observed points are among the candidates; the observed
    /// points themselves are not started from, where PI is about 1/2 and UCB
    /// has no exploration term, so a local search could stall there.
    fn local_search_starts(
        &mut self,
        scorer: &Constrained,
        vals: &[f64],
        scores: &[f64],
        d: usize,
    ) -> Vec<Vec<f64>> {
        let mut idx: Vec<usize> = (0..scores.len()).collect();
        idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
        let mut starts: Vec<Vec<f64>> = vec![vals[idx[0] * d..(idx[0] + 1) * d].to_vec()];
        let top = scores[idx[0]];
        let log_scale = matches!(scorer.acq, Acquisition::LogEi | Acquisition::Ucb { .. })
            || scorer.best.is_none();
        let mut w = selection_weights(scores, top, log_scale);
        w[idx[0]] = 0.0;
        while starts.len() < N_REFINE {
            let total: f64 = w.iter().sum();
            if !(total > 0.0 && total.is_finite()) {
                break;
            }
            let mut r = self.rng.uniform() * total;
            let mut pick = None;
            for (i, &wi) in w.iter().enumerate() {
                if wi > 0.0 {
                    pick = Some(i);
                    if r < wi {
                        break;
                    }
                    r -= wi;
                }
            }
            let Some(c) = pick else { break };
            w[c] = 0.0;
            starts.push(vals[c * d..(c + 1) * d].to_vec());
        }
        starts
    }

    /// The scrambled Sobol candidates on the box and their acquisition
    /// values: those of the last ask while every model has only gained
    /// observations by appends since (their [`Pool`](crate::samplers::gp::model::Pool)s are extended), new ones
    /// otherwise. Returns internal values (m×d) and scores.
    fn sobol_candidates(
        &mut self,
        prep: &Prepared,
        dists: &[Distribution],
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let scorer = &prep.scorer;
        let models: Vec<&Gp> = std::iter::once(&scorer.objective)
            .chain(&scorer.constraints)
            .collect();
        let kept = self.candidates.take().and_then(|mut c| {
            let same = c.key == prep.key && c.pools.len() == models.len();
            let extended = same
                && c.pools
                    .iter_mut()
                    .zip(&models)
                    .zip(&prep.n_base)
                    .all(|((p, gp), &nb)| gp.extend_pool(p, Some(nb)).is_ok());
            extended.then_some(c)
        });
        let mut c = match kept {
            Some(c) => c,
            None => self.new_candidates(prep, dists, &models)?,
        };
        // Predictions with the fantasies: a copy of the pool extended by them.
        let mut preds = Vec::with_capacity(models.len());
        for (p, gp) in c.pools.iter_mut().zip(&models) {
            let pred = if p.rows() < gp.n() {
                let mut q = p.clone();
                gp.extend_pool(&mut q, None)?;
                gp.pool_predict(&q)?
            } else {
                gp.pool_predict(p)?
            };
            preds.push(pred);
        }
        for (p, &nb) in c.pools.iter_mut().zip(&prep.n_base) {
            p.truncate(nb);
        }
        let cons = preds.split_off(1);
        let scores = scorer.values_from(N_SOBOL, preds.first(), &cons);
        let vals = c.vals.clone();
        self.candidates = Some(c);
        Ok((vals, scores))
    }

    /// [`N_SOBOL`] candidates in the trust region `r` and their acquisition
    /// values (never kept between asks: the box moves). Each is a scrambled
    /// Sobol point of the box in a random subset of the dimensions (each
    /// with probability `min(1, 20 / d)`, at least one) and the centre's
    /// value in the others: TuRBO's perturbation mask (Eriksson et al.
    /// 2019), which keeps candidates near the centre in many dimensions.
    /// Returns internal values (m×d) and scores.
    fn region_candidates(
        &mut self,
        prep: &Prepared,
        dists: &[Distribution],
        r: &Region,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let vals = self.region_points(dists, r, N_SOBOL)?;
        let d = dists.len();
        let enc: Vec<f64> = vals
            .iter()
            .enumerate()
            .map(|(i, &v)| encode(&dists[i % d], v))
            .collect();
        let scores = prep.scorer.value_batch(&enc, N_SOBOL)?;
        Ok((vals, scores))
    }

    /// TuRBO's own choice in the box (Eriksson et al. 2019, section 2):
    /// one joint posterior draw of f (and of each constraint) at
    /// `THOMPSON_PER_DIM * d` candidates of [`GpSampler::region_points`];
    /// the candidate with the smallest drawn f among those drawn feasible,
    /// or with the smallest drawn violation when none is.
    fn thompson_box(
        &mut self,
        prep: &Prepared,
        dists: &[Distribution],
        r: &Region,
    ) -> Result<Vec<f64>> {
        let d = dists.len();
        let m = (THOMPSON_PER_DIM * d).clamp(THOMPSON_MIN, THOMPSON_MAX);
        let vals = self.region_points(dists, r, m)?;
        let enc: Vec<f64> = vals
            .iter()
            .enumerate()
            .map(|(i, &v)| encode(&dists[i % d], v))
            .collect();
        let k = self.thompson_choice(&prep.scorer, &enc, m)?;
        Ok(vals[k * d..(k + 1) * d].to_vec())
    }

    /// Index of the point chosen by one joint posterior draw at the m
    /// points `enc` (kernel coordinates): the smallest drawn objective among
    /// the points whose drawn constraints are all `<= 0`, else the smallest
    /// drawn total violation (as SCBO, Eriksson & Poloczek 2021).
    pub(super) fn thompson_choice(
        &mut self,
        scorer: &Constrained,
        enc: &[f64],
        m: usize,
    ) -> Result<usize> {
        let normals = |rng: &mut Rng| -> Vec<f64> {
            (0..m).map(|_| ndtri(rng.uniform().max(1e-300))).collect()
        };
        let z = normals(&mut self.rng);
        let f = scorer.objective.joint_sample(enc, m, &z)?;
        let mut violation = vec![0.0; m];
        for c in &scorer.constraints {
            let z = normals(&mut self.rng);
            for (v, s) in violation.iter_mut().zip(c.joint_sample(enc, m, &z)?) {
                *v += s.max(0.0);
            }
        }
        let key: Vec<f64> = if violation.contains(&0.0) {
            f.iter()
                .zip(&violation)
                .map(|(&y, &v)| if v == 0.0 { -y } else { f64::NEG_INFINITY })
                .collect()
        } else {
            violation.iter().map(|v| -v).collect()
        };
        Ok(argmax(&key))
    }

    /// `count` points (internal values, row-major) in the trust region `r`:
    /// scrambled Sobol points of the box under TuRBO's perturbation mask.
    fn region_points(
        &mut self,
        dists: &[Distribution],
        r: &Region,
        count: usize,
    ) -> Result<Vec<f64>> {
        self.candidates = None;
        let d = dists.len();
        let seq = QmcSequence::new(QmcKind::Sobol, d, true, self.rng.next_u64())?;
        let p_mask = (MASK_DIMS / d as f64).min(1.0);
        let mut vals: Vec<f64> = Vec::with_capacity((count + N_LOCAL) * d);
        let mut u = vec![0.0; d];
        let mut mask = vec![true; d];
        for i in 0..count {
            seq.point(i as u64, &mut u);
            if p_mask < 1.0 {
                mask.iter_mut()
                    .for_each(|m| *m = self.rng.uniform() < p_mask);
                if !mask.contains(&true) {
                    mask[self.rng.below(d as u64) as usize] = true;
                }
            }
            for (j, dist) in dists.iter().enumerate() {
                vals.push(if mask[j] {
                    r.place(dist, j, u[j])
                } else {
                    r.centre[j]
                });
            }
        }
        Ok(vals)
    }

    /// A new scrambled Sobol batch of [`N_SOBOL`] points on the box of
    /// `dists` with a pool per model, built on the models as they are
    /// (fantasies included) and cut back to the observations by the caller.
    fn new_candidates(
        &mut self,
        prep: &Prepared,
        dists: &[Distribution],
        models: &[&Gp],
    ) -> Result<Candidates> {
        let d = dists.len();
        let seq = QmcSequence::new(QmcKind::Sobol, d, true, self.rng.next_u64())?;
        let mut vals: Vec<f64> = Vec::with_capacity((N_SOBOL + N_LOCAL) * d);
        let mut u = vec![0.0; d];
        for i in 0..N_SOBOL {
            seq.point(i as u64, &mut u);
            vals.extend(dists.iter().zip(&u).map(|(dist, &ui)| dist.from_unit(ui)));
        }
        let enc: Vec<f64> = vals
            .iter()
            .enumerate()
            .map(|(i, &v)| encode(&dists[i % d], v))
            .collect();
        let pools = models
            .iter()
            .map(|gp| gp.pool(&enc, N_SOBOL))
            .collect::<Result<Vec<_>>>()?;
        Ok(Candidates {
            key: prep.key.clone(),
            vals,
            pools,
        })
    }

    /// [`GpSampler::refine`] of every start, split over up to
    /// [`REFINE_THREADS`] threads when the model is large enough for it to
    /// pay (each start's search is the same either way).
    fn refine_all(
        scorer: &Constrained,
        dists: &[Distribution],
        cont: &[usize],
        bounds: (&[f64], &[f64]),
        starts: &mut [Vec<f64>],
    ) {
        let threads = std::thread::available_parallelism()
            .map_or(1, |t| t.get())
            .min(REFINE_THREADS)
            .min(starts.len());
        if threads <= 1 || scorer.objective.n() < REFINE_THREADS_FROM {
            for v in starts.iter_mut() {
                Self::refine(scorer, dists, cont, bounds, v);
            }
            return;
        }
        let per = starts.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = starts
                .chunks_mut(per)
                .map(|chunk| {
                    scope.spawn(move || {
                        for v in chunk.iter_mut() {
                            Self::refine(scorer, dists, cont, bounds, v);
                        }
                    })
                })
                .collect();
            for h in handles {
                // A panic goes on in this thread, as without threads.
                h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            }
        });
    }

    /// Projected L-BFGS on the continuous dimensions `cont` of `v` (internal
    /// values) inside `bounds` (kernel coordinates of every dimension),
    /// maximising the acquisition with discrete dimensions held. Keeps `v`
    /// when the refinement fails.
    fn refine(
        scorer: &Constrained,
        dists: &[Distribution],
        cont: &[usize],
        bounds: (&[f64], &[f64]),
        v: &mut [f64],
    ) {
        let d = dists.len();
        let mut full: Vec<f64> = (0..d).map(|j| encode(&dists[j], v[j])).collect();
        let lo: Vec<f64> = cont.iter().map(|&j| bounds.0[j]).collect();
        let hi: Vec<f64> = cont.iter().map(|&j| bounds.1[j]).collect();
        let z0: Vec<f64> = cont
            .iter()
            .enumerate()
            .map(|(k, &j)| full[j].clamp(lo[k], hi[k]))
            .collect();
        let cfg = LbfgsConfig {
            max_iter: 50,
            gtol: 1e-6,
            ftol: 1e-10,
            ..LbfgsConfig::default()
        };
        let objective = |z: &[f64], g: &mut [f64]| -> f64 {
            for (k, &j) in cont.iter().enumerate() {
                full[j] = z[k];
            }
            match scorer.at(&full) {
                Ok((val, grad)) if val.is_finite() => {
                    for (k, &j) in cont.iter().enumerate() {
                        g[k] = -grad[j];
                    }
                    -val
                }
                _ => f64::INFINITY,
            }
        };
        if let Ok(r) = minimize(objective, &z0, Some((&lo, &hi)), &cfg) {
            for (k, &j) in cont.iter().enumerate() {
                v[j] = dists[j].from_unit(r.x[k]);
            }
        }
    }

    /// One pass of coordinate-wise search over the discrete dimensions of `v`:
    /// each takes the neighbouring grid value (or choice) that maximises the
    /// acquisition with the others held (among the values a trust region
    /// admits).
    fn coordinate_search(
        &mut self,
        scorer: &Constrained,
        dists: &[Distribution],
        region: Option<&Region>,
        v: &mut [f64],
    ) -> Result<()> {
        let d = dists.len();
        for j in 0..d {
            if is_continuous(&dists[j]) || dists[j].is_single() {
                continue;
            }
            let mut opts = neighbours(&dists[j], v[j], &mut self.rng);
            opts.retain(|&o| {
                dists[j].contains(o) && region.is_none_or(|r| r.admits(&dists[j], j, o))
            });
            if opts.is_empty() {
                continue;
            }
            let base: Vec<f64> = (0..d).map(|k| encode(&dists[k], v[k])).collect();
            let mut pts = Vec::with_capacity(opts.len() * d);
            for &o in &opts {
                let mut p = base.clone();
                p[j] = encode(&dists[j], o);
                pts.extend_from_slice(&p);
            }
            let s = scorer.value_batch(&pts, opts.len())?;
            let cur = scorer.value_batch(&base, 1)?[0];
            let k = argmax(&s);
            if s[k] > cur {
                v[j] = opts[k];
            }
        }
        Ok(())
    }
}
