//! The good set for several objectives (MOTPE; Ozaki et al. 2020, 2022, as
//! Optuna 5): whole non-dominated fronts, the last one tie-broken by greedy
//! hypervolume subset selection.

use crate::pareto::dominates;
use std::collections::HashMap;

/// Chooses `k` of the (minimised) loss vectors for the good set: whole
/// non-dominated fronts, the last one tie-broken by greedy hypervolume subset
/// selection.
pub(crate) fn split_multi(lvals: &[Vec<f64>], k: usize) -> Vec<bool> {
    let n = lvals.len();
    let mut chosen = vec![false; n];
    if k == 0 {
        return chosen;
    }
    if k >= n {
        return vec![true; n];
    }
    let mut remaining: Vec<usize> = (0..n).collect();
    let mut taken = 0;
    while taken < k {
        let front: Vec<usize> = remaining
            .iter()
            .copied()
            .filter(|&i| !remaining.iter().any(|&j| dominates(&lvals[j], &lvals[i])))
            .collect();
        if taken + front.len() <= k {
            for &i in &front {
                chosen[i] = true;
            }
            taken += front.len();
            remaining.retain(|i| !front.contains(i));
            continue;
        }
        for i in hssp_greedy(lvals, &front, k - taken) {
            chosen[i] = true;
        }
        break;
    }
    chosen
}

/// Greedy hypervolume subset selection of `k` points of `front`.
fn hssp_greedy(lvals: &[Vec<f64>], front: &[usize], k: usize) -> Vec<usize> {
    if front
        .iter()
        .any(|&i| lvals[i].iter().any(|v| !v.is_finite()))
    {
        // Hypervolumes of infinite losses are infinite or NaN: select on a copy
        // whose infinite losses sit one span beyond the finite ones, which keeps
        // every comparison between the points of the front.
        let clamped = clamp_infinite_losses(lvals, front);
        let order: Vec<usize> = (0..front.len()).collect();
        return hssp_greedy(&clamped, &order, k)
            .into_iter()
            .map(|i| front[i])
            .collect();
    }
    let d = lvals[front[0]].len();
    // Optuna's reference point: 1.1 x the worst value (0.9 x when negative).
    let reference: Vec<f64> = (0..d)
        .map(|j| {
            let worst = front
                .iter()
                .map(|&i| lvals[i][j])
                .fold(f64::NEG_INFINITY, f64::max);
            let r = (1.1 * worst).max(0.9 * worst);
            if r == 0.0 {
                1e-12
            } else {
                r
            }
        })
        .collect();
    let mut selected: Vec<usize> = Vec::with_capacity(k);
    let mut pool: Vec<usize> = front.to_vec();
    // Exact hypervolumes are cheap for small fronts; beyond, use a crowding
    // distance ordering (NSGA-II), which also spreads the selection.
    if pool.len() > 64 && d > 2 {
        let mut crowd: HashMap<usize, f64> = pool.iter().map(|&i| (i, 0.0)).collect();
        for j in 0..d {
            let mut s = pool.clone();
            s.sort_by(|&a, &b| lvals[a][j].total_cmp(&lvals[b][j]));
            let span = (lvals[s[s.len() - 1]][j] - lvals[s[0]][j]).max(1e-300);
            *crowd.get_mut(&s[0]).expect("in pool") = f64::INFINITY;
            *crowd.get_mut(&s[s.len() - 1]).expect("in pool") = f64::INFINITY;
            for w in 1..s.len() - 1 {
                *crowd.get_mut(&s[w]).expect("in pool") +=
                    (lvals[s[w + 1]][j] - lvals[s[w - 1]][j]) / span;
            }
        }
        pool.sort_by(|a, b| crowd[b].total_cmp(&crowd[a]).then(a.cmp(b)));
        return pool.into_iter().take(k).collect();
    }
    let mut base = 0.0;
    for _ in 0..k {
        let mut best = (0, f64::NEG_INFINITY);
        for (pi, &i) in pool.iter().enumerate() {
            let mut pts: Vec<&[f64]> = selected.iter().map(|&s| lvals[s].as_slice()).collect();
            pts.push(&lvals[i]);
            let gain = hypervolume(&pts, &reference) - base;
            if gain > best.1 {
                best = (pi, gain);
            }
        }
        let i = pool.swap_remove(best.0);
        selected.push(i);
        base += best.1;
    }
    selected
}

/// The losses of `front` with each infinite coordinate replaced by a finite one
/// one span (plus one) beyond the finite values of its objective, in the same
/// direction; the order of the points along every objective is kept.
fn clamp_infinite_losses(lvals: &[Vec<f64>], front: &[usize]) -> Vec<Vec<f64>> {
    let d = lvals[front[0]].len();
    let mut out: Vec<Vec<f64>> = front.iter().map(|&i| lvals[i].clone()).collect();
    for j in 0..d {
        let finite = out.iter().map(|r| r[j]).filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let (lo, hi) = if lo > hi { (0.0, 0.0) } else { (lo, hi) };
        let span = (hi - lo) + 1.0;
        for r in &mut out {
            if r[j] == f64::INFINITY {
                r[j] = hi + span;
            } else if r[j] == f64::NEG_INFINITY {
                r[j] = lo - span;
            }
        }
    }
    out
}

/// Hypervolume dominated by `points` (minimisation) up to `reference`:
/// [`crate::hypervolume::hypervolume`] on borrowed rows (NaN for rows it
/// refuses, which the finite losses here never are).
pub fn hypervolume(points: &[&[f64]], reference: &[f64]) -> f64 {
    let pts: Vec<Vec<f64>> = points.iter().map(|p| p.to_vec()).collect();
    crate::hypervolume::hypervolume(&pts, reference).unwrap_or(f64::NAN)
}
