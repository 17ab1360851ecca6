//! The variation and selection operators of the genetic algorithm, on genes
//! in the unit interval (floats and ints through [`crate::space::Distribution::to_unit`])
//! or choice indices (categoricals).

use crate::rng::Rng;

/// Simulated binary crossover of one variable (Deb and Agrawal 1995,
/// "Simulated Binary Crossover for Continuous Search Space", Complex Systems
/// 9, eqs. 4 and 5): the spread factor
///
/// beta_q = (2u)^(1/(eta+1))                 if u <= 0.5,
/// beta_q = (1 / (2(1-u)))^(1/(eta+1))       otherwise,
///
/// and the children c1,2 = ((p1 + p2) -/+ beta_q |p2 - p1|) / 2, written as
/// c1 = 0.5((1 + beta_q) p1 + (1 - beta_q) p2), c2 = 0.5((1 - beta_q) p1 +
/// (1 + beta_q) p2), so their mean is the parents' mean. `u` in [0, 1).
pub fn sbx(p1: f64, p2: f64, u: f64, eta: f64) -> (f64, f64) {
    let e = 1.0 / (eta + 1.0);
    let beta = if u <= 0.5 {
        (2.0 * u).powf(e)
    } else {
        (1.0 / (2.0 * (1.0 - u))).powf(e)
    };
    (
        0.5 * ((1.0 + beta) * p1 + (1.0 - beta) * p2),
        0.5 * ((1.0 - beta) * p1 + (1.0 + beta) * p2),
    )
}

/// Polynomial mutation of a gene `x` in [0, 1] (Deb and Goyal 1996, "A
/// Combined Genetic Adaptive Search (GeneAS) for Engineering Design",
/// Computer Science and Informatics 26, with the bounded form of Deb and Deb
/// 2014, "Analysing mutation schemes for real-parameter genetic algorithms",
/// IJAISC 4, eqs. 9-10, as pymoo implements it): with d1 = x - 0 and
/// d2 = 1 - x (range 1),
///
/// dq = (2u + (1 - 2u)(1 - d1)^(eta+1))^(1/(eta+1)) - 1          if u < 0.5,
/// dq = 1 - (2(1-u) + 2(u - 0.5)(1 - d2)^(eta+1))^(1/(eta+1))    otherwise,
///
/// and x' = x + dq, which lies in [0, 1] by construction (clamped against
/// rounding). `u` in [0, 1).
pub fn polynomial_mutation(x: f64, u: f64, eta: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    let (d1, d2) = (x, 1.0 - x);
    let pow = 1.0 / (eta + 1.0);
    let dq = if u < 0.5 {
        let v = 2.0 * u + (1.0 - 2.0 * u) * (1.0 - d1).powf(eta + 1.0);
        v.powf(pow) - 1.0
    } else {
        let v = 2.0 * (1.0 - u) + 2.0 * (u - 0.5) * (1.0 - d2).powf(eta + 1.0);
        1.0 - v.powf(pow)
    };
    (x + dq).clamp(0.0, 1.0)
}

/// Tournament selection (Goldberg and Deb 1991): `k` entries of `pool`
/// (sorted best first) drawn uniformly with replacement; the best of them
/// wins, which is the one of smallest index. Returns that index.
pub fn tournament(rng: &mut Rng, pool_len: usize, k: usize) -> usize {
    (0..k.max(1))
        .map(|_| rng.below(pool_len as u64) as usize)
        .min()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbx_children_follow_the_formula_and_keep_the_mean() {
        let eta: f64 = 15.0;
        for (p1, p2, u) in [(0.2, 0.6, 0.1), (0.7, 0.3, 0.5), (0.4, 0.45, 0.93)] {
            let (c1, c2) = sbx(p1, p2, u, eta);
            let beta: f64 = if u <= 0.5 {
                (2.0 * u).powf(1.0 / 16.0)
            } else {
                (1.0 / (2.0 - 2.0 * u)).powf(1.0 / 16.0)
            };
            // eq. 5 written as mean -/+ beta * half distance.
            let (m, h) = ((p1 + p2) / 2.0, (p2 - p1) / 2.0);
            assert!((c1 - (m - beta * h)).abs() < 1e-12);
            assert!((c2 - (m + beta * h)).abs() < 1e-12);
            assert!(((c1 + c2) / 2.0 - m).abs() < 1e-12);
        }
        // u = 0.5: beta = 1, the children are the parents.
        let (c1, c2) = sbx(0.2, 0.6, 0.5, eta);
        assert!((c1 - 0.2).abs() < 1e-12 && (c2 - 0.6).abs() < 1e-12);
    }

    #[test]
    fn polynomial_mutation_stays_in_bounds_and_concentrates_near_the_parent() {
        let mut rng = Rng::new(5);
        let mut near = 0;
        for i in 0..20_000 {
            let x = [0.0, 1.0, 1e-9, 0.5, rng.uniform()][i % 5];
            let y = polynomial_mutation(x, rng.uniform(), 20.0);
            assert!((0.0..=1.0).contains(&y), "{x} -> {y}");
            near += usize::from((y - x).abs() < 0.1);
        }
        // With eta 20 most of the mass lies within 0.1 of the parent.
        assert!(near > 17_000, "{near}");
        // u -> 0 moves to the lower bound, u -> 1 to the upper bound.
        assert!(polynomial_mutation(0.3, 0.0, 20.0).abs() < 1e-12);
        assert!((polynomial_mutation(0.3, 1.0 - 1e-16, 20.0) - 1.0).abs() < 1e-6);
        // u = 0.5 leaves the gene unchanged.
        assert!((polynomial_mutation(0.3, 0.5, 20.0) - 0.3).abs() < 1e-12);
    }

    #[test]
    fn tournament_picks_the_best_of_its_sample() {
        // Replay the draws: the winner is the smallest index drawn.
        for k in [1, 2, 5] {
            let mut a = Rng::new(9);
            let mut b = Rng::new(9);
            for _ in 0..200 {
                let won = tournament(&mut a, 10, k);
                let drawn: Vec<usize> = (0..k).map(|_| b.below(10) as usize).collect();
                assert_eq!(won, *drawn.iter().min().unwrap());
            }
        }
        // A pool of one: always entry 0; a larger tournament favours the best.
        let mut r = Rng::new(1);
        assert_eq!(tournament(&mut r, 1, 3), 0);
        let best = (0..5000).filter(|_| tournament(&mut r, 10, 4) == 0).count();
        // P(best in 4 draws of 10) = 1 - 0.9^4 = 0.344.
        assert!((best as f64 / 5000.0 - 0.344).abs() < 0.03, "{best}");
    }
}
