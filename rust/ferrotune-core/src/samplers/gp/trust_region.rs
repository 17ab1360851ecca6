//! The trust region of TuRBO-1 (Eriksson, Pearce, Gardner, Turner &
//! Poloczek 2019, "Scalable Global Optimization via Local Bayesian
//! Optimization", NeurIPS; section 2, "Trust regions").
//!
//! One hyper-rectangle in the unit cube of the numeric parameters, centred
//! at the best observation of the current *run*, with side lengths
//! `L w_i`, `w_i = l_i / (prod_j l_j)^(1/d)` for the ARD lengthscales `l`
//! of the GP fitted on the run (so the rectangle is stretched along the
//! directions the objective changes slowly in), clipped to the cube.
//!
//! `L` starts at [`LENGTH_INIT`]. An observation (after the run's initial
//! design) is a *success* when it improves on the run's best value by more
//! than [`IMPROVEMENT`] times the best's magnitude, a *failure* otherwise.
//! [`SUCCESS_TOLERANCE`] successes in a row double `L` (up to
//! [`LENGTH_MAX`]); [`failure_tolerance`] failures in a row halve it. Once
//! `L` falls below [`LENGTH_MIN`] the run ends: the next observations form
//! a new run, which starts with its own initial design and a GP fitted on
//! that run's observations only.
//!
//! The state is not kept between asks: [`replay`] recomputes it from the
//! observations in order, so it is a pure function of the study's trials
//! (it survives pickling, several workers and any storage).
//!
//! Constraints (not in the paper): an infeasible observation is a failure,
//! a feasible one is a success when the run has no feasible observation yet
//! or when it improves on the run's best feasible value as above.

/// Initial side length `L_init` (paper, section 2: 0.8).
pub const LENGTH_INIT: f64 = 0.8;
/// Largest side length `L_max` (1.6).
pub const LENGTH_MAX: f64 = 1.6;
/// Below this side length `L_min` (2^-7) the run restarts.
pub const LENGTH_MIN: f64 = 0.0078125;
/// Consecutive successes that double `L` (`tau_succ` = 3).
pub const SUCCESS_TOLERANCE: usize = 3;
/// Relative improvement a success needs: `y < best - 1e-3 |best|`.
pub const IMPROVEMENT: f64 = 1e-3;

/// Consecutive failures that halve `L` in `d` dimensions:
/// `tau_fail = ceil(max(4 / q, d / q))` with batch size `q = 1`.
pub fn failure_tolerance(d: usize) -> usize {
    d.max(4)
}

/// The trust region's state after a sequence of observations.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustRegion {
    /// Side length `L` (in units of the cube, before the weights `w_i`).
    pub length: f64,
    /// Consecutive successes and failures since `L` last changed.
    pub successes: usize,
    pub failures: usize,
    /// Runs ended by `L < L_min` so far.
    pub restarts: usize,
    /// Position of the current run's first observation in the sequence.
    pub run_start: usize,
    /// Observations in the current run.
    pub run_len: usize,
}

impl TrustRegion {
    fn fresh(run_start: usize, restarts: usize) -> Self {
        TrustRegion {
            length: LENGTH_INIT,
            successes: 0,
            failures: 0,
            restarts,
            run_start,
            run_len: 0,
        }
    }
}

/// True when `y` is a success against the run's best feasible value `best`.
fn is_success(y: f64, feasible: bool, best: Option<f64>) -> bool {
    feasible && best.is_none_or(|b| y < b - IMPROVEMENT * b.abs())
}

/// Replays observations `values` (minimised; `feasible` marks those that
/// satisfy every constraint) in order: the trust region's state after the
/// last one. The first `n_init` observations of each run are its initial
/// design and change no counter; `d` is the number of parameters.
pub fn replay(values: &[f64], feasible: &[bool], n_init: usize, d: usize) -> TrustRegion {
    let tau_fail = failure_tolerance(d);
    let mut tr = TrustRegion::fresh(0, 0);
    let mut best: Option<f64> = None;
    for (i, (&y, &ok)) in values.iter().zip(feasible).enumerate() {
        let initial = tr.run_len < n_init;
        let success = is_success(y, ok, best);
        tr.run_len += 1;
        if ok && best.is_none_or(|b| y < b) {
            best = Some(y);
        }
        if initial {
            continue;
        }
        if success {
            tr.successes += 1;
            tr.failures = 0;
        } else {
            tr.successes = 0;
            tr.failures += 1;
        }
        if tr.successes == SUCCESS_TOLERANCE {
            tr.length = (2.0 * tr.length).min(LENGTH_MAX);
            tr.successes = 0;
        } else if tr.failures == tau_fail {
            tr.length /= 2.0;
            tr.failures = 0;
        }
        if tr.length < LENGTH_MIN {
            tr = TrustRegion::fresh(i + 1, tr.restarts + 1);
            best = None;
        }
    }
    tr
}

/// The trust region's box in the unit cube: per dimension `(lo, hi)`,
/// `centre_i -/+ L w_i / 2` clipped to [0, 1], with `w_i = l_i / (prod_j
/// l_j)^(1/d)` over the dimensions marked `numeric` (paper, section 2).
/// Other dimensions, and those where the centre is NaN (inactive), get the
/// whole of [0, 1].
pub fn bounds(
    centre: &[f64],
    lengthscales: &[f64],
    numeric: &[bool],
    length: f64,
) -> (Vec<f64>, Vec<f64>) {
    let used: Vec<f64> = lengthscales
        .iter()
        .zip(numeric)
        .filter(|p| *p.1)
        .map(|p| p.0.ln())
        .collect();
    let log_geo_mean = used.iter().sum::<f64>() / used.len().max(1) as f64;
    let mut lo = vec![0.0; centre.len()];
    let mut hi = vec![1.0; centre.len()];
    for j in 0..centre.len() {
        if !numeric[j] || centre[j].is_nan() {
            continue;
        }
        let w = (lengthscales[j].ln() - log_geo_mean).exp();
        let half = 0.5 * length * w;
        lo[j] = (centre[j] - half).clamp(0.0, 1.0);
        hi[j] = (centre[j] + half).clamp(0.0, 1.0);
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replayed_length_follows_a_hand_computed_schedule() {
        // d = 2: tau_fail = 4, tau_succ = 3. Initial design of 3: 10, 9, 8
        // (no counter changes; best 8).
        let mut y = vec![10.0, 9.0, 8.0];
        // Three successes: L 0.8 -> 1.6.
        y.extend([7.0, 6.0, 5.0]);
        let ok = vec![true; 80];
        let tr = replay(&y, &ok, 3, 2);
        assert_eq!(tr.length, 1.6);
        assert_eq!((tr.successes, tr.failures, tr.restarts), (0, 0, 0));
        // Three more: stays at L_max.
        y.extend([4.0, 3.0, 2.0]);
        assert_eq!(replay(&y, &ok, 3, 2).length, 1.6);
        // Not enough of an improvement (1.9995 > 2 - 2e-3): a failure. Then
        // three failures more: 4 in a row, L halves to 0.8.
        y.extend([1.9995, 5.0, 5.0]);
        let tr = replay(&y, &ok, 3, 2);
        assert_eq!((tr.length, tr.failures), (1.6, 3));
        y.push(2.5);
        let tr = replay(&y, &ok, 3, 2);
        assert_eq!((tr.length, tr.failures), (0.8, 0));
        // A success resets the failure count: 3 failures, 1 success, 3
        // failures leave L at 0.8.
        y.extend([3.0, 3.0, 3.0, 1.0, 3.0, 3.0, 3.0]);
        let tr = replay(&y, &ok, 3, 2);
        assert_eq!((tr.length, tr.successes, tr.failures), (0.8, 0, 3));
        // Halvings 0.8 -> 0.4 -> ... -> 0.00625 < 2^-7 take 7 rounds of 4
        // failures (the first round has 3 already): after 1 + 5 * 4 more,
        // six halvings (L = 0.8 / 64); three more failures keep it.
        y.extend(std::iter::repeat_n(3.0, 24));
        let tr = replay(&y, &ok, 3, 2);
        assert_eq!((tr.length, tr.failures, tr.restarts), (0.0125, 3, 0));
        let before = y.len();
        y.push(3.0);
        let tr = replay(&y, &ok, 3, 2);
        assert_eq!(tr.restarts, 1);
        assert_eq!(
            (tr.length, tr.run_start, tr.run_len),
            (LENGTH_INIT, before + 1, 0)
        );
        // The new run: its own initial design and best (50 is worse than
        // every earlier value, yet a success against the run's best 100).
        y.extend([100.0, 200.0, 300.0, 50.0]);
        let tr = replay(&y, &ok, 3, 2);
        assert_eq!((tr.run_len, tr.successes, tr.length), (4, 1, LENGTH_INIT));
    }

    #[test]
    fn infeasible_observations_are_failures() {
        let y = [5.0, 4.0, 1.0, 0.5, 0.2, 0.1];
        let ok = [true, true, false, false, false, false];
        let tr = replay(&y, &ok, 2, 1);
        assert_eq!((tr.length, tr.failures), (0.4, 0));
        // Without a feasible value in the run, the first feasible one succeeds.
        let tr = replay(&[1.0, 2.0, 0.0], &[false, false, true], 2, 1);
        assert_eq!(tr.successes, 1);
    }

    #[test]
    fn failure_tolerance_is_max_of_4_and_d() {
        assert_eq!(failure_tolerance(1), 4);
        assert_eq!(failure_tolerance(10), 10);
        // d = 10: nine failures keep L, the tenth halves it.
        let mut y = vec![1.0];
        y.extend([2.0; 9]);
        let ok = vec![true; 11];
        assert_eq!(replay(&y, &ok, 1, 10).length, LENGTH_INIT);
        y.push(2.0);
        assert_eq!(replay(&y, &ok, 1, 10).length, LENGTH_INIT / 2.0);
    }

    #[test]
    fn box_sides_follow_the_normalised_lengthscales() {
        // Lengthscales 0.5, 2 and a categorical's 100 (ignored): geometric
        // mean 1, weights 0.5 and 2.
        let (lo, hi) = bounds(
            &[0.5, 0.5, 1.0],
            &[0.5, 2.0, 100.0],
            &[true, true, false],
            0.4,
        );
        assert!((lo[0] - 0.4).abs() < 1e-12 && (hi[0] - 0.6).abs() < 1e-12);
        assert!((lo[1] - 0.1).abs() < 1e-12 && (hi[1] - 0.9).abs() < 1e-12);
        assert_eq!((lo[2], hi[2]), (0.0, 1.0));
        // Clipped to the cube; an inactive centre gets the whole range.
        let (lo, hi) = bounds(&[0.05, f64::NAN], &[1.0, 1.0], &[true, true], 0.8);
        assert!(lo[0] == 0.0 && (hi[0] - 0.45).abs() < 1e-12);
        assert_eq!((lo[1], hi[1]), (0.0, 1.0));
    }
}
