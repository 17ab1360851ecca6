//! Promotion at a rung of successive halving when a study has several
//! objectives, following MO-ASHA (Schmucker, Donini, Zafar, Salinas and
//! Archambeau, "Multi-objective Asynchronous Successive Halving", arXiv
//! 2106.12639, 2021): the vectors recorded at a rung are ordered by
//! non-dominated sorting with crowding distance (NSGA-II: Deb, Pratap, Agarwal
//! and Meyarivan, "A Fast and Elitist Multiobjective Genetic Algorithm:
//! NSGA-II", IEEE TEVC 6(2), 2002, Sections III-A and III-B), and the first
//! `k = n // eta` of that order are promoted.
//!
//! The order: a vector in front `r` (front 0 is the non-dominated vectors,
//! front `r + 1` those non-dominated once fronts `0..=r` are removed) comes
//! before every vector of a later front; inside a front, a larger crowding
//! distance comes first. MO-ASHA also studies an epsilon-net selection; the
//! NSGA-II order is used here because it has no parameter and depends only on
//! the set of vectors at the rung, not on the order the trials arrived in
//! (an epsilon-net is built greedily from a starting point).
//!
//! The rule for the trial being checked, with `n` vectors at the rung (its
//! own included) and `k = n // eta`:
//!
//! - `k >= 1`: promoted when fewer than `k` vectors lie strictly ahead of it
//!   (an earlier front, or its front with a strictly larger crowding
//!   distance): ties are resolved in its favour, as the single-objective rule
//!   promotes a value equal to the k-th best.
//! - `k == 0`: promoted only when it is non-dominated at the rung (the
//!   analogue of Optuna's "best so far" rule).
//!
//! Crowding distance (Deb et al. 2002, Section III-B): per objective, the front's
//! vectors sorted by that objective; the two ends get an infinite distance,
//! each other vector adds `(next - previous) / (max - min)`. Two choices make
//! it independent of the arrival order: identical vectors share the distance
//! computed on the front's distinct vectors, and an objective on which the
//! whole front is equal adds nothing (no end is singled out). A term that is
//! not a number (infinite objective values) adds nothing either.
//!
//! Cost: the rung's fronts are kept between checks ([`Fronts`]): a check
//! finds the new vector's front by a binary search over the fronts, moves
//! the vectors it dominates one front down, and computes the crowding
//! distances of its own front only: `O(m |front| (log F + log |front|))` for
//! `m` objectives and `F` fronts, plus the vectors moved, instead of sorting
//! the whole rung (`O(m n^2)`, [`front_ranks`], kept as the plain rule the
//! tests check the fast path against).

use crate::pareto::lex;
pub use crate::pareto::{crowding_distances, dominates, front_ranks, minimised};

/// Whether vector `i` of `points` (all minimised) is promoted when `k` are:
/// fewer than `k` vectors strictly ahead of it in the NSGA-II order, or,
/// when `k` is 0, non-dominated (see the module documentation).
pub fn promoted(points: &[Vec<f64>], i: usize, k: usize) -> bool {
    let ranks = front_ranks(points);
    let r = ranks[i];
    if k == 0 {
        return r == 0;
    }
    let earlier = ranks.iter().filter(|&&x| x < r).count();
    if earlier >= k {
        return false;
    }
    let members: Vec<usize> = (0..points.len()).filter(|&j| ranks[j] == r).collect();
    let front: Vec<Vec<f64>> = members.iter().map(|&j| points[j].clone()).collect();
    let cd = crowding_distances(&front);
    let mine = cd[members
        .iter()
        .position(|&j| j == i)
        .expect("i is in its front")];
    earlier + cd.iter().filter(|&&c| c > mine).count() < k
}

/// The non-dominated fronts of one rung, kept up to date as vectors arrive
/// (the non-domination level update of Li, Deb, Zhang and Kwong, "Efficient
/// Non-domination Level Update Approach for Steady-State Evolutionary
/// Multiobjective Optimization"), so a check does not sort the whole rung
/// again.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fronts {
    /// Front `r`: its vectors (minimised form).
    fronts: Vec<Vec<Vec<f64>>>,
    len: usize,
}

impl Fronts {
    /// The front a new vector `p` joins: the first front none of whose
    /// vectors dominates it. A front holding a dominator of `p` has one in
    /// every earlier front too (by transitivity), so a binary search finds it.
    fn level_of(&self, p: &[f64]) -> usize {
        self.fronts
            .partition_point(|f| f.iter().any(|q| dominates(q, p)))
    }

    /// Adds `p` to its front; the vectors it dominates there move one front
    /// down, pushing in turn the vectors they dominate (Li et al.'s update
    /// for an added solution). Returns the front of `p`.
    pub fn insert(&mut self, p: Vec<f64>) -> usize {
        let r = self.level_of(&p);
        self.len += 1;
        let mut moving = vec![p];
        let mut level = r;
        while !moving.is_empty() {
            if level == self.fronts.len() {
                self.fronts.push(moving);
                break;
            }
            let front = std::mem::take(&mut self.fronts[level]);
            let (pushed, kept): (Vec<_>, Vec<_>) = front
                .into_iter()
                .partition(|q| moving.iter().any(|m| dominates(m, q)));
            let mut here = kept;
            here.append(&mut moving);
            self.fronts[level] = here;
            moving = pushed;
            level += 1;
        }
        r
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no vector was added.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The fronts, first the non-dominated one.
    pub fn fronts(&self) -> &[Vec<Vec<f64>>] {
        &self.fronts
    }

    /// Adds `p` and tells whether it is promoted when `k` are: the rule of
    /// [`promoted`], reading only the fronts before and at its own.
    pub fn insert_and_rank(&mut self, p: Vec<f64>, k: usize) -> bool {
        let r = self.insert(p.clone());
        if k == 0 {
            return r == 0;
        }
        let earlier: usize = self.fronts[..r].iter().map(Vec::len).sum();
        if earlier >= k {
            return false;
        }
        let front = &self.fronts[r];
        let cd = crowding_distances(front);
        let i = front
            .iter()
            .position(|q| lex(q, &p).is_eq())
            .expect("p is in its front");
        earlier + cd.iter().filter(|&&c| c > cd[i]).count() < k
    }
}

/// The fronts of each rung of one successive halving, for studies with
/// several objectives.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VectorRungs {
    rungs: Vec<Fronts>,
}

impl VectorRungs {
    /// Records `values` (one per objective, none NaN) at `rung` and tells
    /// whether it is promoted: pruned while at most `bootstrap_count`
    /// vectors are there, else by [`promoted`]'s rule with
    /// `k = n // reduction_factor`.
    pub fn record(
        &mut self,
        rung: usize,
        values: &[f64],
        maximize: &[bool],
        reduction_factor: i64,
        bootstrap_count: i64,
    ) -> bool {
        if self.rungs.len() <= rung {
            self.rungs.resize(rung + 1, Fronts::default());
        }
        let fronts = &mut self.rungs[rung];
        let p = minimised(values, maximize);
        let n = fronts.len() + 1;
        if n as i64 <= bootstrap_count {
            fronts.insert(p);
            return false;
        }
        fronts.insert_and_rank(p, n / reduction_factor as usize)
    }

    /// The fronts at each rung (minimised form), for tests and inspection.
    pub fn rungs(&self) -> &[Fronts] {
        &self.rungs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{History, TrialState};
    use crate::pruners::percentile::PercentileConfig;
    use crate::pruners::{
        HalvingConfig, HyperbandConfig, HyperbandPruner, PercentilePruner, Pruner,
        SuccessiveHalvingPruner,
    };

    fn pts(v: &[&[f64]]) -> Vec<Vec<f64>> {
        v.iter().map(|p| p.to_vec()).collect()
    }

    #[test]
    fn fronts_by_hand() {
        // Two objectives, minimised:
        // (1,5) (2,3) (4,1) are non-dominated; (3,4) is dominated by (2,3);
        // (5,5) by (3,4) too (front 2); (2,3) twice: identical vectors share front 0.
        let p = pts(&[
            &[1.0, 5.0],
            &[2.0, 3.0],
            &[4.0, 1.0],
            &[3.0, 4.0],
            &[5.0, 5.0],
            &[2.0, 3.0],
        ]);
        assert_eq!(front_ranks(&p), [0, 0, 0, 1, 2, 0]);
        // Weak dominance counts: (1,1) dominates (1,2).
        assert!(dominates(&[1.0, 1.0], &[1.0, 2.0]));
        assert!(!dominates(&[1.0, 1.0], &[1.0, 1.0]));
        // Three objectives: (1,2,3), (3,2,1), (2,2,2) mutually non-dominated;
        // (2,3,3) dominated by (1,2,3) and (2,2,2); (3,3,3) by all of those.
        let p = pts(&[
            &[1.0, 2.0, 3.0],
            &[3.0, 2.0, 1.0],
            &[2.0, 2.0, 2.0],
            &[2.0, 3.0, 3.0],
            &[3.0, 3.0, 3.0],
        ]);
        assert_eq!(front_ranks(&p), [0, 0, 0, 1, 2]);
    }

    #[test]
    fn crowding_by_hand() {
        // Front (0,4) (1,2) (2,1) (4,0): ranges 4 and 4.
        // Ends infinite; (1,2): (2-0)/4 + (4-1)/4 = 1.25; (2,1): (4-1)/4 + (2-0)/4 = 1.25.
        let f = pts(&[&[0.0, 4.0], &[1.0, 2.0], &[2.0, 1.0], &[4.0, 0.0]]);
        assert_eq!(
            crowding_distances(&f),
            [f64::INFINITY, 1.25, 1.25, f64::INFINITY]
        );
        // (0,6) (1,3) (3,2) (6,0): (1,3): 3/6 + 4/6 = 7/6; (3,2): 5/6 + 3/6 = 8/6.
        let f = pts(&[&[1.0, 3.0], &[0.0, 6.0], &[6.0, 0.0], &[3.0, 2.0]]);
        let cd = crowding_distances(&f);
        assert!((cd[0] - 7.0 / 6.0).abs() < 1e-12 && (cd[3] - 8.0 / 6.0).abs() < 1e-12);
        assert_eq!((cd[1], cd[2]), (f64::INFINITY, f64::INFINITY));
        // Identical vectors share a distance: the duplicate end is infinite too.
        let f = pts(&[&[0.0, 2.0], &[1.0, 1.0], &[0.0, 2.0], &[2.0, 0.0]]);
        assert_eq!(
            crowding_distances(&f),
            [f64::INFINITY, 2.0, f64::INFINITY, f64::INFINITY]
        );
        // Three objectives, objective 1 constant over the front: it adds nothing.
        // (0,2,4) (1,2,2) (4,2,0): ranges 4 and 4; middle: 4/4 + 4/4 = 2.
        let f = pts(&[&[1.0, 2.0, 2.0], &[0.0, 2.0, 4.0], &[4.0, 2.0, 0.0]]);
        assert_eq!(crowding_distances(&f), [2.0, f64::INFINITY, f64::INFINITY]);
        // The same vectors in any order give the same distances.
        let g = pts(&[&[4.0, 2.0, 0.0], &[1.0, 2.0, 2.0], &[0.0, 2.0, 4.0]]);
        assert_eq!(crowding_distances(&g), [f64::INFINITY, 2.0, f64::INFINITY]);
    }

    #[test]
    fn promotion_by_hand() {
        // Rung: front 0 = (0,4) (1,2) (2,1) (4,0) with distances inf 1.25 1.25 inf;
        // front 1 = (3,3). Order: the two ends, then (1,2) and (2,1) tied, then (3,3).
        let p = pts(&[
            &[0.0, 4.0],
            &[1.0, 2.0],
            &[2.0, 1.0],
            &[4.0, 0.0],
            &[3.0, 3.0],
        ]);
        // k = 2: only the ends.
        assert!(promoted(&p, 0, 2) && promoted(&p, 3, 2));
        assert!(!promoted(&p, 1, 2) && !promoted(&p, 2, 2) && !promoted(&p, 4, 2));
        // k = 3: two ends ahead of each tied middle vector: both promoted (ties favour
        // the trial checked, as the single-objective rule does).
        assert!(promoted(&p, 1, 3) && promoted(&p, 2, 3) && !promoted(&p, 4, 3));
        // k = 4: four vectors ahead of (3,3): still pruned; k = 5: promoted.
        assert!(!promoted(&p, 4, 4) && promoted(&p, 4, 5));
        // k = 0: non-dominated only.
        assert!(promoted(&p, 1, 0) && !promoted(&p, 4, 0));
    }

    #[test]
    fn rungs_respect_directions_bootstrap_and_eta() {
        // Objective 0 minimised, objective 1 maximised; eta = 2.
        let max = [false, true];
        let mut r = VectorRungs::default();
        // n = 1, k = 0: alone, non-dominated.
        assert!(r.record(0, &[1.0, 1.0], &max, 2, 0));
        // n = 2, k = 1: (2, 0) is worse in both (larger loss, smaller gain).
        assert!(!r.record(0, &[2.0, 0.0], &max, 2, 0));
        // n = 3, k = 1: (0.5, 2) dominates everything.
        assert!(r.record(0, &[0.5, 2.0], &max, 2, 0));
        // n = 4, k = 2: (0, 0.5) trades off with (0.5, 2): front 0 of two, both ends.
        assert!(r.record(0, &[0.0, 0.5], &max, 2, 0));
        // n = 5, k = 2: (1, 1) is now in front 1 behind two: pruned.
        assert!(!r.record(0, &[1.0, 1.0], &max, 2, 0));
        // Fronts: (0.5, -2) (0, -0.5); then (1, -1) twice; then (2, 0).
        let fronts = r.rungs()[0].fronts();
        assert_eq!(fronts.len(), 3);
        assert_eq!(fronts[1], [vec![1.0, -1.0], vec![1.0, -1.0]]);
        assert_eq!(fronts[2], [vec![2.0, 0.0]]);
        // Bootstrap: pruned while at most 2 vectors are at the rung.
        let mut r = VectorRungs::default();
        assert!(!r.record(1, &[0.0, 9.0], &max, 3, 2));
        assert!(!r.record(1, &[0.0, 9.0], &max, 3, 2));
        // n = 3, k = 1: identical vectors, no strictly better one: promoted.
        assert!(r.record(1, &[0.0, 9.0], &max, 3, 2));
        // Three objectives, all maximised; eta = 3. n = 4, k = 1.
        let max = [true, true, true];
        let mut r = VectorRungs::default();
        assert!(r.record(0, &[1.0, 1.0, 1.0], &max, 3, 0));
        assert!(r.record(0, &[2.0, 0.0, 1.0], &max, 3, 0)); // k = 0, non-dominated
        assert!(!r.record(0, &[0.0, 0.0, 0.0], &max, 3, 0)); // k = 1, dominated
                                                             // k = 1: front 0 = (1,1,1) (2,0,1) (0,3,0); the new vector ends objectives 0
                                                             // and 1 (infinite distance), so none is strictly ahead of it: promoted.
        assert!(r.record(0, &[0.0, 3.0, 0.0], &max, 3, 0));
    }

    #[test]
    fn kept_fronts_agree_with_the_plain_sort() {
        // Random vectors on coarse and fine grids (ties, duplicates, long cascades),
        // 2 to 4 objectives: after each insertion the kept fronts are those of the plain
        // sort, and the decision for a random k is the plain rule's.
        for seed in 0..24u64 {
            let mut rng = crate::rng::Rng::new(seed);
            let m = 2 + (seed % 3) as usize;
            let grid = [3.0, 8.0, 1e6][(seed % 3) as usize];
            let mut kept = Fronts::default();
            let mut all: Vec<Vec<f64>> = Vec::new();
            for _ in 0..100 {
                let p: Vec<f64> = (0..m)
                    .map(|_| (rng.uniform() * grid).floor() - grid / 2.0)
                    .collect();
                all.push(p.clone());
                let k = rng.below(all.len() as u64 + 1) as usize;
                let want = promoted(&all, all.len() - 1, k);
                assert_eq!(
                    kept.insert_and_rank(p, k),
                    want,
                    "seed {seed}: {all:?} k {k}"
                );
                let ranks = front_ranks(&all);
                let mut got: Vec<(usize, String)> = Vec::new();
                for (r, f) in kept.fronts().iter().enumerate() {
                    got.extend(f.iter().map(|q| (r, format!("{q:?}"))));
                }
                let mut plain: Vec<(usize, String)> = all
                    .iter()
                    .zip(&ranks)
                    .map(|(q, &r)| (r, format!("{q:?}")))
                    .collect();
                got.sort();
                plain.sort();
                assert_eq!(got, plain, "seed {seed}");
            }
        }
    }

    /// Trials reporting vector `v` at steps 1..=max_step through successive
    /// halving, checked after each report; returns (last step, pruned).
    fn run(p: &mut dyn Pruner, h: &mut History, v: &[f64], max_step: i64) -> (i64, bool) {
        let t = h.create_trial(TrialState::Running);
        for s in 1..=max_step {
            h.report_vector(t, s, v).unwrap();
            if p.prune(h, t).unwrap() {
                h.finish(t, TrialState::Pruned, vec![]).unwrap();
                return (s, true);
            }
        }
        h.finish(t, TrialState::Complete, v.to_vec()).unwrap();
        (max_step, false)
    }

    #[test]
    fn successive_halving_promotes_by_rank() {
        // r = 1, eta = 2: rungs at steps 1, 2, 4, 8; two objectives.
        let c = HalvingConfig {
            min_resource: Some(1),
            reduction_factor: 2,
            ..Default::default()
        };
        let schedule = |maximize_second: bool| {
            let mut p = SuccessiveHalvingPruner::new(c).unwrap();
            let mut h = History::with_directions(vec![false, maximize_second]);
            let sign = if maximize_second { -1.0 } else { 1.0 };
            let mut out = Vec::new();
            for v in [
                [2.0, 2.0],      // alone at every rung (k = 0, non-dominated)
                [1.0, 3.0],      // k = 1: front 0 of two ends
                [3.0, 3.0],      // k = 1: dominated by (2, 2): pruned at step 1
                [0.0, 0.0],      // dominates everything
                [f64::NAN, 0.0], // NaN: pruned at step 1, not recorded
                // k = 2: front 1 = (1, 3) (1.5, 1.5), both ends, one vector ahead.
                [1.5, 1.5],
                // k = 3: front 1 = (1, 3) (1.4, 1.6) (1.5, 1.5); it is the middle
                // (distance 0.5/0.5 + 1.5/1.5 = 2), behind (0, 0) and the two ends.
                [1.4, 1.6],
            ] {
                out.push(run(&mut p, &mut h, &[v[0], sign * v[1]], 10));
            }
            out
        };
        let want = [
            (10, false),
            (10, false),
            (1, true),
            (10, false),
            (1, true),
            (10, false),
            (1, true),
        ];
        assert_eq!(schedule(false), want);
        // Maximising the mirrored objective gives the same decisions.
        assert_eq!(schedule(true), want);
    }

    #[test]
    fn hyperband_takes_several_objectives() {
        let c = HyperbandConfig {
            max_resource: Some(9),
            ..Default::default()
        };
        let mut p = HyperbandPruner::new(c).unwrap();
        p.set_study_name("mo");
        let mut h = History::new(3);
        // The first trial of each bracket is alone at every rung: never pruned.
        assert_eq!(run(&mut p, &mut h, &[1.0, 2.0, 3.0], 9), (9, false));
        // A NaN objective is pruned at the first rung of its bracket.
        let (step, pruned) = run(&mut p, &mut h, &[0.0, f64::NAN, 0.0], 9);
        assert!(pruned && [1, 3, 9].contains(&step));
        // Other pruners keep refusing several objectives.
        let t = h.create_trial(TrialState::Running);
        h.report_vector(t, 0, &[1.0, 1.0, 1.0]).unwrap();
        let mut median = PercentilePruner::new(PercentileConfig::median()).unwrap();
        assert!(median
            .prune(&h, t)
            .unwrap_err()
            .to_string()
            .contains("single-objective"));
    }
}
