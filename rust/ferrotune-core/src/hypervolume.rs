//! The exact hypervolume of a set of points (all objectives minimised): the
//! measure of the region the points dominate and the reference point bounds,
//! `HV(S, r) = vol( U_{p in S} [p_1, r_1] x ... x [p_m, r_m] )` (Zitzler and
//! Thiele 1998). A point that does not strictly dominate the reference point
//! in every objective bounds no volume and is ignored.
//!
//! - 1 objective: `r - min p`.
//! - 2 objectives: sort by the first objective and sweep, `O(n log n)`.
//! - 3 objectives: the sweep of Beume, Fonseca, Lopez-Ibanez, Paquete and
//!   Vahrenhold ("On the Complexity of Computing the Hypervolume Indicator",
//!   IEEE TEVC 13(5), 2009, Section III, "HV3D"): points in increasing third
//!   objective; the 2-D staircase of the points seen so far is kept in a
//!   balanced search tree with its area, each insertion updating the area by
//!   the region the new point adds; the volume adds `area * (z_next - z)`.
//!   `O(n log n)`.
//! - 4 or more objectives: WFG (While, Bradstreet and Barone, "A Fast Way of
//!   Calculating Exact Hypervolumes", IEEE TEVC 16(1), 2012): with the points
//!   sorted by the first objective, `HV(S) = sum_i exclhv(p_i, {p_j: j > i})`
//!   and `exclhv(p, S') = inclhv(p) - HV(nds(limitset(p, S')))`, where the
//!   limit set holds `max(p, q)` (componentwise, the part of q's box inside
//!   p's) and `nds` keeps its non-dominated points (Eqs. 6 and 7 of the
//!   paper). The recursion stays in the same dimension and ends at limit
//!   sets of one point; exponential in the worst case, as every exact
//!   algorithm beyond 3-D.

use crate::error::{Error, Result};
use crate::pareto::{lex, non_dominated};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The hypervolume of `points` (each a slice of `reference.len()`
/// minimised objectives) with respect to `reference`.
///
/// Points that do not strictly dominate `reference` in every objective are
/// ignored (they bound no volume); with none left the result is 0. An
/// infinite coordinate (a point at `-inf`, or a reference at `+inf` with a
/// point below it) gives an infinite volume.
///
/// Errors: [`Error::InvalidArgument`] for an empty reference point, a point
/// with another number of objectives, or a NaN anywhere.
pub fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> Result<f64> {
    let m = reference.len();
    if m == 0 {
        return Err(Error::InvalidArgument(
            "reference_point must have at least one objective".into(),
        ));
    }
    if reference.iter().any(|v| v.is_nan()) {
        return Err(Error::InvalidArgument(format!(
            "reference_point must not contain NaN, got {reference:?}"
        )));
    }
    for (i, p) in points.iter().enumerate() {
        if p.len() != m {
            return Err(Error::InvalidArgument(format!(
                "points[{i}] has {} objectives, reference_point has {m}",
                p.len()
            )));
        }
        if p.iter().any(|v| v.is_nan()) {
            return Err(Error::InvalidArgument(format!(
                "points[{i}] contains NaN: {p:?}"
            )));
        }
    }
    let inside: Vec<Vec<f64>> = points
        .iter()
        .filter(|p| p.iter().zip(reference).all(|(v, r)| v < r))
        // + 0.0 turns -0.0 into 0.0 (one key in the 3-D sweep's tree).
        .map(|p| p.iter().map(|v| v + 0.0).collect())
        .collect();
    if inside.is_empty() {
        return Ok(0.0);
    }
    let infinite = |v: &f64| v.is_infinite();
    if inside.iter().any(|p| p.iter().any(infinite)) || reference.iter().any(infinite) {
        return Ok(f64::INFINITY);
    }
    Ok(exact(inside, reference))
}

/// The hypervolume of finite points that all strictly dominate `r`.
fn exact(mut pts: Vec<Vec<f64>>, r: &[f64]) -> f64 {
    match (r.len(), pts.len()) {
        (_, 0) => 0.0,
        (_, 1) => inclusive(&pts[0], r),
        (1, _) => r[0] - pts.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min),
        (2, _) => sweep_2d(&mut pts, r),
        (3, _) => sweep_3d(&mut pts, r),
        _ => wfg(pts, r),
    }
}

/// The volume of the box between `p` and `r`.
fn inclusive(p: &[f64], r: &[f64]) -> f64 {
    p.iter().zip(r).map(|(v, r)| r - v).product()
}

/// Two objectives: in increasing first objective, each point that improves
/// on the best second objective so far adds the strip
/// `(r_1 - x) * (best_y - y)`.
fn sweep_2d(pts: &mut [Vec<f64>], r: &[f64]) -> f64 {
    pts.sort_by(|a, b| lex(a, b));
    let mut best_y = r[1];
    let mut hv = 0.0;
    for p in pts.iter() {
        if p[1] < best_y {
            hv += (r[0] - p[0]) * (best_y - p[1]);
            best_y = p[1];
        }
    }
    hv
}

/// A finite f64 ordered by value, as a key of the 3-D sweep's tree.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Key(f64);

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// The 2-D staircase of the 3-D sweep: non-dominated (x, y) points in
/// increasing x (so decreasing y), with the area they dominate up to
/// (r_x, r_y).
struct Staircase {
    steps: BTreeMap<Key, f64>,
    area: f64,
    rx: f64,
    ry: f64,
}

impl Staircase {
    /// Adds (x, y), removing the steps it dominates, and updates the area by
    /// the region it adds: between consecutive x of the removed steps, the
    /// height from the level covered so far down to y (Beume et al. 2009,
    /// Section III). `O(log n)` plus the steps removed.
    fn insert(&mut self, x: f64, y: f64) {
        // The step with the largest x <= p.x has the smallest y among them:
        // when it is no higher than p, p is (weakly) dominated.
        if let Some((_, &yq)) = self.steps.range(..=Key(x)).next_back() {
            if yq <= y {
                return;
            }
        }
        let mut level = self
            .steps
            .range(..Key(x))
            .next_back()
            .map_or(self.ry, |(_, &v)| v);
        let mut cur = x;
        let dominated: Vec<(Key, f64)> = self
            .steps
            .range(Key(x)..)
            .take_while(|(_, &sy)| sy >= y)
            .map(|(&k, &v)| (k, v))
            .collect();
        let mut gain = 0.0;
        for (k, sy) in dominated {
            gain += (k.0 - cur) * (level - y);
            cur = k.0;
            level = sy;
            self.steps.remove(&k);
        }
        let end = self
            .steps
            .range(Key(x)..)
            .next()
            .map_or(self.rx, |(k, _)| k.0);
        gain += (end - cur) * (level - y);
        self.area += gain;
        self.steps.insert(Key(x), y);
    }
}

/// Three objectives (HV3D, Beume et al. 2009): in increasing third
/// objective, the slab up to the next point's third objective has the
/// cross-section of the 2-D staircase of the points seen so far.
fn sweep_3d(pts: &mut [Vec<f64>], r: &[f64]) -> f64 {
    pts.sort_by(|a, b| a[2].total_cmp(&b[2]));
    let mut stair = Staircase {
        steps: BTreeMap::new(),
        area: 0.0,
        rx: r[0],
        ry: r[1],
    };
    let mut hv = 0.0;
    for (i, p) in pts.iter().enumerate() {
        stair.insert(p[0], p[1]);
        let z_next = pts.get(i + 1).map_or(r[2], |q| q[2]);
        hv += stair.area * (z_next - p[2]);
    }
    hv
}

/// WFG (While et al. 2012) on the non-dominated, distinct points of `pts`.
fn wfg(pts: Vec<Vec<f64>>, r: &[f64]) -> f64 {
    let mut pts = nds(pts);
    // By the first objective, so each limit set is sorted too (Eq. 7: the
    // first coordinate of max(p_i, p_j), j > i, is p_j's).
    pts.sort_by(|a, b| lex(a, b));
    let n = pts.len();
    let mut hv = 0.0;
    for i in 0..n {
        let limit: Vec<Vec<f64>> = pts[i + 1..]
            .iter()
            .map(|q| q.iter().zip(&pts[i]).map(|(a, b)| a.max(*b)).collect())
            .collect();
        // exclhv(p_i) = inclhv(p_i) - HV(limit set) (Eq. 6).
        hv += inclusive(&pts[i], r) - exact(limit, r);
    }
    hv
}

/// The non-dominated points of `pts`, each once.
fn nds(mut pts: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    pts.sort_by(|a, b| lex(a, b));
    pts.dedup_by(|a, b| lex(a, b).is_eq());
    let keep = non_dominated(&pts);
    pts.into_iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Inclusion-exclusion over every non-empty subset: the volume of the
    /// union of the boxes [p, r] (exact, 2^n terms).
    fn inclusion_exclusion(pts: &[Vec<f64>], r: &[f64]) -> f64 {
        let n = pts.len();
        let mut hv = 0.0;
        for mask in 1u32..(1 << n) {
            let members: Vec<&Vec<f64>> = (0..n)
                .filter(|i| mask >> i & 1 == 1)
                .map(|i| &pts[i])
                .collect();
            let corner: Vec<f64> = (0..r.len())
                .map(|k| {
                    members
                        .iter()
                        .map(|p| p[k])
                        .fold(f64::NEG_INFINITY, f64::max)
                })
                .collect();
            let vol: f64 = corner
                .iter()
                .zip(r)
                .map(|(c, r)| (r - c).max(0.0))
                .product();
            hv += if members.len() % 2 == 1 { vol } else { -vol };
        }
        hv
    }

    /// Points on an integer grid 0..g in each objective, reference g: the
    /// number of unit cells whose lower corner some point weakly dominates.
    fn grid_count(pts: &[Vec<f64>], g: usize, m: usize) -> f64 {
        let mut count = 0usize;
        let cells = g.pow(m as u32);
        let mut c = vec![0.0; m];
        for idx in 0..cells {
            let mut rest = idx;
            for v in c.iter_mut() {
                *v = (rest % g) as f64;
                rest /= g;
            }
            if pts.iter().any(|p| p.iter().zip(&c).all(|(a, b)| a <= b)) {
                count += 1;
            }
        }
        count as f64
    }

    #[test]
    fn agrees_with_inclusion_exclusion_on_random_sets() {
        for seed in 0..200u64 {
            let mut rng = Rng::new(seed);
            let m = 2 + (seed % 4) as usize;
            let n = 1 + rng.below(11) as usize;
            // Some points outside the reference box, some on a coarse grid (ties).
            let coarse = seed % 2 == 0;
            let pts: Vec<Vec<f64>> = (0..n)
                .map(|_| {
                    (0..m)
                        .map(|_| {
                            let u = rng.uniform() * 1.2;
                            if coarse {
                                (u * 5.0).floor() / 5.0
                            } else {
                                u
                            }
                        })
                        .collect()
                })
                .collect();
            let r = vec![1.0; m];
            let inside: Vec<Vec<f64>> = pts
                .iter()
                .filter(|p| p.iter().all(|v| *v < 1.0))
                .cloned()
                .collect();
            let want = inclusion_exclusion(&inside, &r);
            let got = hypervolume(&pts, &r).unwrap();
            assert!(
                (got - want).abs() < 1e-12,
                "seed {seed} m {m}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn agrees_with_a_grid_count_on_larger_sets() {
        for seed in 0..40u64 {
            let mut rng = Rng::new(100 + seed);
            let m = 2 + (seed % 4) as usize;
            let g = [40, 16, 7, 5][m - 2];
            let n = 10 + rng.below(50) as usize;
            let pts: Vec<Vec<f64>> = (0..n)
                .map(|_| (0..m).map(|_| rng.below(g as u64) as f64).collect())
                .collect();
            let want = grid_count(&pts, g, m);
            let got = hypervolume(&pts, &vec![g as f64; m]).unwrap();
            assert_eq!(got, want, "seed {seed} m {m}");
        }
    }

    #[test]
    fn three_objectives_sweep_agrees_with_wfg() {
        // The O(n log n) sweep against WFG's recursion on the same sets.
        for seed in 0..20u64 {
            let mut rng = Rng::new(7 + seed);
            let n = 50 + rng.below(150) as usize;
            let pts: Vec<Vec<f64>> = (0..n)
                .map(|_| {
                    // Points near the simplex: many non-dominated.
                    let a = rng.uniform();
                    let b = rng.uniform() * (1.0 - a);
                    vec![a, b, 1.0 - a - b + 0.05 * rng.uniform()]
                })
                .collect();
            let r = [1.1, 1.1, 1.1];
            let sweep = hypervolume(&pts, &r).unwrap();
            let by_wfg = wfg(pts.clone(), &r);
            assert!(
                (sweep - by_wfg).abs() < 1e-10,
                "seed {seed}: {sweep} vs {by_wfg}"
            );
        }
    }

    #[test]
    fn edge_cases_and_errors() {
        let r = [2.0, 2.0];
        assert_eq!(hypervolume(&[], &r).unwrap(), 0.0);
        // On the reference's boundary: no volume, ignored.
        assert_eq!(hypervolume(&[vec![1.0, 2.0]], &r).unwrap(), 0.0);
        assert_eq!(
            hypervolume(&[vec![1.0, 1.0], vec![3.0, 0.0]], &r).unwrap(),
            1.0
        );
        assert_eq!(hypervolume(&[vec![0.5]], &[2.0]).unwrap(), 1.5);
        assert_eq!(
            hypervolume(&[vec![f64::NEG_INFINITY, 1.0]], &r).unwrap(),
            f64::INFINITY
        );
        assert_eq!(
            hypervolume(&[vec![0.0, 1.0]], &[f64::INFINITY, 2.0]).unwrap(),
            f64::INFINITY
        );
        for (pts, r) in [
            (vec![vec![0.0, 1.0]], vec![]),
            (vec![vec![0.0, 1.0, 2.0]], vec![3.0, 3.0]),
            (vec![vec![0.0, f64::NAN]], vec![3.0, 3.0]),
            (vec![vec![0.0, 0.0]], vec![3.0, f64::NAN]),
        ] {
            assert!(matches!(
                hypervolume(&pts, &r),
                Err(Error::InvalidArgument(_))
            ));
        }
    }
}
