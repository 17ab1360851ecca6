//! Pareto dominance for several objectives, shared by the multi-objective
//! pruners ([`crate::pruners`]), the NSGA samplers ([`crate::samplers::nsga`])
//! and [`crate::History::pareto_front`]: dominance, fast non-dominated
//! sorting and crowding distance (Deb, Pratap, Agarwal and Meyarivan, "A Fast
//! and Elitist Multiobjective Genetic Algorithm: NSGA-II", IEEE TEVC 6(2),
//! 2002, Sections III-A and III-B), and constrained domination (Deb, "An
//! efficient constraint handling method for genetic algorithms", CMAME 186,
//! 2000; NSGA-II paper, Section VI).
//!
//! Every function takes minimised objectives ([`minimised`] turns a study's
//! values into that form).

use std::cmp::Ordering;

/// True when `a` dominates `b` (both minimised): no worse in every
/// objective and better in at least one.
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y) && a.iter().zip(b).any(|(x, y)| x < y)
}

/// The front of each vector (0 for the non-dominated ones), all objectives
/// minimised: Deb et al. 2002's fast non-dominated sort (Section III-A),
/// `O(m n^2)` for `n` vectors of `m` objectives.
pub fn front_ranks(points: &[Vec<f64>]) -> Vec<usize> {
    let n = points.len();
    // Per vector: how many vectors dominate it (n_p), and which it dominates (S_p).
    let mut dominated_by = vec![0usize; n];
    let mut dominated: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in (i + 1)..n {
            if dominates(&points[i], &points[j]) {
                dominated[i].push(j);
                dominated_by[j] += 1;
            } else if dominates(&points[j], &points[i]) {
                dominated[j].push(i);
                dominated_by[i] += 1;
            }
        }
    }
    let mut rank = vec![0usize; n];
    let mut front: Vec<usize> = (0..n).filter(|&i| dominated_by[i] == 0).collect();
    let mut r = 0;
    while !front.is_empty() {
        let mut next = Vec::new();
        for &i in &front {
            rank[i] = r;
            for &j in &dominated[i] {
                dominated_by[j] -= 1;
                if dominated_by[j] == 0 {
                    next.push(j);
                }
            }
        }
        front = next;
        r += 1;
    }
    rank
}

/// The front of each vector under constrained domination (Deb 2000; Deb et
/// al. 2002, Section VI): `violation[i]` is the total violation of vector `i`
/// (0 when feasible). Feasible vectors are sorted by [`front_ranks`]; every
/// infeasible vector comes after all of them, a smaller violation first
/// (vectors with equal violation share a front), whatever its objectives.
pub fn constrained_front_ranks(points: &[Vec<f64>], violation: &[f64]) -> Vec<usize> {
    let feasible: Vec<usize> = (0..points.len()).filter(|&i| violation[i] <= 0.0).collect();
    let fp: Vec<Vec<f64>> = feasible.iter().map(|&i| points[i].clone()).collect();
    let mut rank = vec![0usize; points.len()];
    let fr = front_ranks(&fp);
    for (&i, &r) in feasible.iter().zip(&fr) {
        rank[i] = r;
    }
    let first = fr.iter().max().map_or(0, |m| m + 1);
    let mut infeasible: Vec<usize> = (0..points.len()).filter(|&i| violation[i] > 0.0).collect();
    infeasible.sort_by(|&a, &b| violation[a].total_cmp(&violation[b]));
    let mut r = first;
    for (k, &i) in infeasible.iter().enumerate() {
        if k > 0 && violation[i] > violation[infeasible[k - 1]] {
            r += 1;
        }
        rank[i] = r;
    }
    rank
}

/// True when (a, violation va) constrained-dominates (b, vb) (Deb 2000): a is
/// feasible and b is not; both are infeasible and a violates less; or both
/// are feasible and a dominates b.
pub fn constrained_dominates(a: &[f64], va: f64, b: &[f64], vb: f64) -> bool {
    match (va <= 0.0, vb <= 0.0) {
        (true, true) => dominates(a, b),
        (true, false) => true,
        (false, true) => false,
        (false, false) => va < vb,
    }
}

/// Which vectors are non-dominated (front 0), in `O(n log n + n f m)` for a
/// front of `f` vectors: after a lexicographic sort, a vector can only be
/// dominated by an earlier one, and then by an earlier non-dominated one.
pub fn non_dominated(points: &[Vec<f64>]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| lex(&points[a], &points[b]));
    let mut front: Vec<usize> = Vec::new();
    let mut out = vec![false; points.len()];
    for &i in &order {
        if !front.iter().any(|&j| dominates(&points[j], &points[i])) {
            front.push(i);
            out[i] = true;
        }
    }
    out
}

/// Total order on vectors (lexicographic, IEEE total order per value), to
/// break ties deterministically.
pub(crate) fn lex(a: &[f64], b: &[f64]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.total_cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// Crowding distance of each vector of one front (Deb et al. 2002,
/// Section III-B), computed on the distinct vectors: identical vectors get
/// the same distance. An objective constant over the front adds nothing; a
/// term that is not a number (infinite values) adds nothing either.
pub fn crowding_distances(front: &[Vec<f64>]) -> Vec<f64> {
    let mut distinct: Vec<&Vec<f64>> = front.iter().collect();
    distinct.sort_by(|a, b| lex(a, b));
    distinct.dedup_by(|a, b| lex(a, b).is_eq());
    let d = distinct.len();
    let mut dist = vec![0.0f64; d];
    let m = front.first().map_or(0, Vec::len);
    for k in 0..m {
        let mut order: Vec<usize> = (0..d).collect();
        // Stable on the lexicographic order: ties on objective k are resolved
        // by the whole vector, not by arrival.
        order.sort_by(|&a, &b| distinct[a][k].total_cmp(&distinct[b][k]));
        let (lo, hi) = (distinct[order[0]][k], distinct[order[d - 1]][k]);
        if lo.total_cmp(&hi).is_eq() {
            continue;
        }
        dist[order[0]] = f64::INFINITY;
        dist[order[d - 1]] = f64::INFINITY;
        for w in order.windows(3) {
            // The distance between the two neighbours, normalised by the range.
            let term = (distinct[w[2]][k] - distinct[w[0]][k]) / (hi - lo);
            if !term.is_nan() {
                dist[w[1]] += term;
            }
        }
    }
    front
        .iter()
        .map(|p| {
            let i = distinct.partition_point(|q| lex(q, p).is_lt());
            dist[i]
        })
        .collect()
}

/// `values` as minimised objectives: maximised ones negated.
pub fn minimised(values: &[f64], maximize: &[bool]) -> Vec<f64> {
    values
        .iter()
        .zip(maximize)
        // + 0.0 turns -0.0 into 0.0, so both are one value.
        .map(|(v, &m)| (if m { -v } else { *v }) + 0.0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// `n` random vectors of `m` objectives on a grid of `grid` values
    /// (coarse grids give ties and duplicates).
    fn random_set(rng: &mut Rng, n: usize, m: usize, grid: f64) -> Vec<Vec<f64>> {
        (0..n)
            .map(|_| (0..m).map(|_| (rng.uniform() * grid).floor()).collect())
            .collect()
    }

    /// Fronts by their definition: front r is the non-dominated vectors once
    /// fronts 0..r are removed (quadratic per front, no bookkeeping).
    fn brute_ranks(points: &[Vec<f64>]) -> Vec<usize> {
        let mut rank = vec![usize::MAX; points.len()];
        let mut r = 0;
        while rank.contains(&usize::MAX) {
            let left: Vec<usize> = (0..points.len())
                .filter(|&i| rank[i] == usize::MAX)
                .collect();
            let front: Vec<usize> = left
                .iter()
                .copied()
                .filter(|&i| !left.iter().any(|&j| dominates(&points[j], &points[i])))
                .collect();
            for i in front {
                rank[i] = r;
            }
            r += 1;
        }
        rank
    }

    /// Crowding by its definition, without sorting: for each distinct vector
    /// and objective, the nearest neighbours below and above in the order
    /// (value, whole vector), found by a scan.
    fn brute_crowding(front: &[Vec<f64>]) -> Vec<f64> {
        let m = front[0].len();
        let key = |p: &[f64], q: &[f64], k: usize| p[k].total_cmp(&q[k]).then(lex(p, q));
        front
            .iter()
            .map(|p| {
                let mut d = 0.0;
                for k in 0..m {
                    let lo = front.iter().map(|q| q[k]).fold(f64::INFINITY, f64::min);
                    let hi = front.iter().map(|q| q[k]).fold(f64::NEG_INFINITY, f64::max);
                    if lo == hi {
                        continue;
                    }
                    let below = front.iter().filter(|q| key(q, p, k).is_lt());
                    let above = front.iter().filter(|q| key(q, p, k).is_gt());
                    let prev = below.max_by(|a, b| key(a, b, k));
                    let next = above.min_by(|a, b| key(a, b, k));
                    match (prev, next) {
                        (Some(a), Some(b)) => d += (b[k] - a[k]) / (hi - lo),
                        _ => d = f64::INFINITY,
                    }
                }
                d
            })
            .collect()
    }

    #[test]
    fn sorting_and_crowding_agree_with_their_definitions() {
        for seed in 0..60u64 {
            let mut rng = Rng::new(seed);
            let m = 2 + (seed % 4) as usize;
            let grid = [4.0, 10.0, 1e9][(seed % 3) as usize];
            let n = 1 + rng.below(80) as usize;
            let p = random_set(&mut rng, n, m, grid);
            let ranks = front_ranks(&p);
            assert_eq!(ranks, brute_ranks(&p), "seed {seed}");
            let nd = non_dominated(&p);
            assert_eq!(nd, ranks.iter().map(|&r| r == 0).collect::<Vec<_>>());
            for r in 0..=*ranks.iter().max().unwrap() {
                let f: Vec<Vec<f64>> = (0..n)
                    .filter(|&i| ranks[i] == r)
                    .map(|i| p[i].clone())
                    .collect();
                let got = crowding_distances(&f);
                // The brute force on distinct vectors: identical vectors share one.
                let mut distinct = f.clone();
                distinct.sort_by(|a, b| lex(a, b));
                distinct.dedup();
                let want = brute_crowding(&distinct);
                for (q, g) in f.iter().zip(&got) {
                    let w = want[distinct.iter().position(|d| d == q).unwrap()];
                    assert!(
                        (g == &w) || (g - w).abs() < 1e-12,
                        "seed {seed}: {g} vs {w}"
                    );
                }
            }
        }
    }

    #[test]
    fn constrained_domination_ranks_feasible_first_then_by_violation() {
        let p = vec![
            vec![5.0, 5.0], // feasible, dominated by (1, 1)
            vec![0.0, 0.0], // infeasible: dominates everything, ranked after all feasible
            vec![1.0, 1.0], // feasible, front 0
            vec![9.0, 9.0], // infeasible, smaller violation than (0, 0)
            vec![3.0, 0.5], // feasible, front 0
            vec![2.0, 2.0], // infeasible, same violation as (9, 9)
        ];
        let v = [0.0, 2.0, -1.0, 0.5, 0.0, 0.5];
        assert_eq!(constrained_front_ranks(&p, &v), [1, 3, 0, 2, 0, 2]);
        assert!(constrained_dominates(&p[0], 0.0, &p[1], 2.0));
        assert!(!constrained_dominates(&p[1], 2.0, &p[0], 0.0));
        assert!(constrained_dominates(&p[3], 0.5, &p[1], 2.0));
        assert!(!constrained_dominates(&p[3], 0.5, &p[5], 0.5));
        assert!(constrained_dominates(&p[2], 0.0, &p[0], 0.0));
        // Without violations it is plain domination.
        let none = vec![0.0; p.len()];
        assert_eq!(constrained_front_ranks(&p, &none), front_ranks(&p));
    }
}
