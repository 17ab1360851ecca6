//! Elite selection of the NSGA samplers: which `k` of the parents and
//! offspring survive into the next parent population.
//!
//! Both fill the population front by front under constrained domination
//! ([`crate::pareto::constrained_front_ranks`]); they differ on the front
//! that does not fit whole:
//!
//! - NSGA-II (Deb et al. 2002, Section III-C): its members with the largest
//!   crowding distance;
//! - NSGA-III (Deb and Jain, "An Evolutionary Many-Objective Optimization
//!   Algorithm Using Reference-Point-Based Nondominated Sorting Approach,
//!   Part I", IEEE TEVC 18(4), 2014, Section IV): objectives normalised by
//!   the ideal point and the intercepts of the hyperplane through the extreme
//!   points (Section IV-C, Algorithm 2), each member associated with the
//!   nearest reference line (Section IV-D, Algorithm 3), and members chosen
//!   for the least crowded reference points (niche preservation, Section
//!   IV-E, Algorithm 4).

use crate::error::{Error, Result};
use crate::pareto::{constrained_front_ranks, crowding_distances};
use crate::rng::Rng;

/// How the last front that does not fit whole is cut.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Selection {
    /// NSGA-II: by crowding distance.
    #[default]
    Crowding,
    /// NSGA-III: by niche count around `points` (rows of one number per
    /// objective); empty `points` means Das and Dennis's points with
    /// `dividing_parameter` divisions per objective.
    ReferencePoints {
        points: Vec<Vec<f64>>,
        dividing_parameter: usize,
    },
}

/// Das and Dennis's structured points on the unit simplex (Das and Dennis,
/// SIAM J. Optim. 8(3), 1998; NSGA-III Section IV-B): every vector of `m`
/// multiples of `1/p` summing to 1, `C(m + p - 1, p)` of them.
pub fn das_dennis(m: usize, p: usize) -> Vec<Vec<f64>> {
    fn fill(m: usize, left: usize, p: usize, cur: &mut Vec<f64>, out: &mut Vec<Vec<f64>>) {
        if cur.len() + 1 == m {
            cur.push(left as f64 / p as f64);
            out.push(cur.clone());
            cur.pop();
            return;
        }
        for k in 0..=left {
            cur.push(k as f64 / p as f64);
            fill(m, left - k, p, cur, out);
            cur.pop();
        }
    }
    let mut out = Vec::new();
    if m > 0 && p > 0 {
        fill(m, p, p, &mut Vec::with_capacity(m), &mut out);
    }
    out
}

/// Indices of the `k` members of `points` (minimised objectives, with
/// total constraint violations `violation`) that survive; `rng` breaks the
/// ties of NSGA-III's niching. All members when there are at most `k`.
pub fn select(
    points: &[Vec<f64>],
    violation: &[f64],
    k: usize,
    how: &Selection,
    rng: &mut Rng,
) -> Result<Vec<usize>> {
    if let (Some(p), Selection::ReferencePoints { points: refs, .. }) = (points.first(), how) {
        check_reference_points(refs, p.len())?;
    }
    if points.len() <= k {
        return Ok((0..points.len()).collect());
    }
    let ranks = constrained_front_ranks(points, violation);
    let n_fronts = ranks.iter().max().map_or(0, |r| r + 1);
    let mut fronts: Vec<Vec<usize>> = vec![Vec::new(); n_fronts];
    for (i, &r) in ranks.iter().enumerate() {
        fronts[r].push(i);
    }
    let mut chosen: Vec<usize> = Vec::with_capacity(k);
    for front in fronts {
        if chosen.len() + front.len() <= k {
            chosen.extend(front);
            if chosen.len() == k {
                break;
            }
            continue;
        }
        let n = k - chosen.len();
        let extra = match how {
            Selection::Crowding => by_crowding(points, &front, n),
            Selection::ReferencePoints {
                points: refs,
                dividing_parameter,
            } => {
                let m = points[0].len();
                let default;
                let refs = if refs.is_empty() {
                    default = das_dennis(m, *dividing_parameter);
                    &default
                } else {
                    refs
                };
                by_niche(points, &chosen, &front, n, refs, rng)?
            }
        };
        chosen.extend(extra);
        break;
    }
    Ok(chosen)
}

/// The `n` members of `front` with the largest crowding distance (ties in
/// the order of `front`).
fn by_crowding(points: &[Vec<f64>], front: &[usize], n: usize) -> Vec<usize> {
    let vecs: Vec<Vec<f64>> = front.iter().map(|&i| points[i].clone()).collect();
    let cd = crowding_distances(&vecs);
    let mut order: Vec<usize> = (0..front.len()).collect();
    order.sort_by(|&a, &b| cd[b].total_cmp(&cd[a]));
    order.into_iter().take(n).map(|j| front[j]).collect()
}

/// Rows of `pts` with infinite values brought to 3 ranges beyond the
/// finite ones of their objective (as Optuna's NSGA-III), so that the
/// normalisation stays finite.
fn finite_rows(pts: &[&Vec<f64>]) -> Vec<Vec<f64>> {
    let m = pts[0].len();
    let mut out: Vec<Vec<f64>> = pts.iter().map(|p| p.to_vec()).collect();
    for k in 0..m {
        let finite = pts.iter().map(|p| p[k]).filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        let (lo, hi) = if lo > hi { (0.0, 0.0) } else { (lo, hi) };
        let margin = 3.0 * (hi - lo);
        for r in &mut out {
            r[k] = r[k].clamp(lo - margin, hi + margin);
        }
    }
    out
}

/// NSGA-III's normalisation (Deb and Jain 2014, Section IV-C, Algorithm 2):
/// translate by the ideal point; the extreme point of each axis minimises
/// the achievement scalarising function `max_i f'_i / w_i` with weight 1 on
/// that axis and 1e-6 elsewhere (Eq. 4); the intercepts `a` of the
/// hyperplane through the extreme points scale each objective (Eq. 5).
/// When the hyperplane is degenerate or an intercept is not positive, the
/// largest translated value of each objective is used (the paper's
/// fallback, the nadir of the set).
fn normalise(rows: &mut [Vec<f64>]) {
    let m = rows[0].len();
    for k in 0..m {
        let ideal = rows.iter().map(|r| r[k]).fold(f64::INFINITY, f64::min);
        rows.iter_mut().for_each(|r| r[k] -= ideal);
    }
    let asf = |r: &Vec<f64>, axis: usize| {
        (0..m)
            .map(|i| r[i] / if i == axis { 1.0 } else { 1e-6 })
            .fold(f64::NEG_INFINITY, f64::max)
    };
    let extremes: Vec<Vec<f64>> = (0..m)
        .map(|axis| {
            let best = (0..rows.len())
                .min_by(|&a, &b| asf(&rows[a], axis).total_cmp(&asf(&rows[b], axis)))
                .expect("a non-empty set");
            rows[best].clone()
        })
        .collect();
    // Plane sum_i f_i / a_i = 1 through the extremes: E x = 1, a_i = 1 / x_i.
    let intercepts: Option<Vec<f64>> = solve(extremes, vec![1.0; m])
        .map(|x| x.iter().map(|v| 1.0 / v).collect::<Vec<f64>>())
        .filter(|a| a.iter().all(|v| v.is_finite() && *v > 1e-10));
    let scale = intercepts.unwrap_or_else(|| {
        (0..m)
            .map(|k| rows.iter().map(|r| r[k]).fold(0.0, f64::max))
            .collect()
    });
    for r in rows.iter_mut() {
        for (v, a) in r.iter_mut().zip(&scale) {
            if *a > 0.0 {
                *v /= a;
            }
        }
    }
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting; None
/// when `a` is (numerically) singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        // (NaN pivots count as singular too.)
        if a[p][c].abs().is_nan() || a[p][c].abs() <= 1e-12 {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        for r in c + 1..n {
            let f = a[r][c] / a[c][c];
            for k in c..n {
                a[r][k] -= f * a[c][k];
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for c in (0..n).rev() {
        let s: f64 = (c + 1..n).map(|k| a[c][k] * x[k]).sum();
        x[c] = (b[c] - s) / a[c][c];
    }
    Some(x)
}

/// The nearest reference line of a normalised row and its perpendicular
/// distance (Algorithm 3): `|f - (w.f / |w|^2) w|`.
fn associate(row: &[f64], refs: &[Vec<f64>]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (j, w) in refs.iter().enumerate() {
        let ww: f64 = w.iter().map(|v| v * v).sum();
        let t: f64 = row.iter().zip(w).map(|(f, w)| f * w).sum::<f64>() / ww;
        let d2: f64 = row.iter().zip(w).map(|(f, w)| (f - t * w).powi(2)).sum();
        if d2.sqrt() < best.1 {
            best = (j, d2.sqrt());
        }
    }
    best
}

/// Each reference point has one finite number per objective, not all 0.
pub(super) fn check_reference_points(refs: &[Vec<f64>], m: usize) -> Result<()> {
    match refs
        .iter()
        .find(|w| w.len() != m || w.iter().all(|v| *v == 0.0) || w.iter().any(|v| !v.is_finite()))
    {
        Some(bad) => Err(Error::InvalidArgument(format!(
            "reference_points: each point needs {m} finite numbers (one per objective), not all 0, got {bad:?}"
        ))),
        None => Ok(()),
    }
}

/// NSGA-III's niche-preserving choice of `n` members of `front` given the
/// `chosen` ones (Deb and Jain 2014, Algorithm 4).
fn by_niche(
    points: &[Vec<f64>],
    chosen: &[usize],
    front: &[usize],
    n: usize,
    refs: &[Vec<f64>],
    rng: &mut Rng,
) -> Result<Vec<usize>> {
    let all: Vec<&Vec<f64>> = chosen.iter().chain(front).map(|&i| &points[i]).collect();
    let mut rows = finite_rows(&all);
    normalise(&mut rows);
    let assoc: Vec<(usize, f64)> = rows.iter().map(|r| associate(r, refs)).collect();
    // Niche counts of the members already chosen.
    let mut rho = vec![0usize; refs.len()];
    for &(j, _) in &assoc[..chosen.len()] {
        rho[j] += 1;
    }
    // Members of the last front associated with each reference point.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); refs.len()];
    for (f, &(j, _)) in assoc[chosen.len()..].iter().enumerate() {
        members[j].push(f);
    }
    let mut open: Vec<usize> = (0..refs.len()).collect();
    let mut out = Vec::with_capacity(n);
    while out.len() < n && !open.is_empty() {
        let least = open
            .iter()
            .map(|&j| rho[j])
            .min()
            .expect("open is not empty");
        let ties: Vec<usize> = open.iter().copied().filter(|&j| rho[j] == least).collect();
        let j = ties[rng.below(ties.len() as u64) as usize];
        if members[j].is_empty() {
            open.retain(|&x| x != j);
            continue;
        }
        let pick = if rho[j] == 0 {
            // The member nearest the reference line.
            (0..members[j].len())
                .min_by(|&a, &b| {
                    let da = assoc[chosen.len() + members[j][a]].1;
                    let db = assoc[chosen.len() + members[j][b]].1;
                    da.total_cmp(&db)
                })
                .expect("members[j] is not empty")
        } else {
            rng.below(members[j].len() as u64) as usize
        };
        out.push(front[members[j].swap_remove(pick)]);
        rho[j] += 1;
    }
    Ok(out)
}
