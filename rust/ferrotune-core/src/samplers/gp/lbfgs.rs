//! L-BFGS with optional box bounds, for the GP hyperparameters and the
//! acquisition function.
//!
//! Unconstrained, this is L-BFGS as in Nocedal & Wright 2006, "Numerical
//! Optimization", 2nd ed.: the two-loop recursion (Alg. 7.4) with the initial
//! scaling H₀ = (sᵀy / yᵀy) I (eq. 7.20), and a backtracking line search on
//! the Armijo condition f(x + αp) <= f(x) + c₁ α ∇fᵀp (eq. 3.4, Alg. 3.1)
//! with safeguarded quadratic interpolation for the next trial step. A pair
//! (s, y) is stored only when sᵀy > 10⁻¹⁰ yᵀy, which keeps H positive definite
//! although backtracking alone does not enforce the curvature condition.
//!
//! Box bounds ("L-BFGS-B-lite"). We do *not* implement L-BFGS-B (Byrd, Lu,
//! Nocedal & Zhu 1995: generalised Cauchy point, subspace minimisation).
//! Instead, a projected quasi-Newton step in the spirit of Bertsekas 1982
//! ("Projected Newton methods for optimization problems with simple
//! constraints") and Kim, Sra & Dhillon 2010:
//! - the variables at a bound whose gradient pushes outward form the active
//!   set; their components of the gradient are set to zero before the
//!   two-loop recursion and of the direction after it;
//! - the line search runs along the projected path x(α) = P(x + αp), with the
//!   Armijo test f(x(α)) <= f(x) + c₁ ∇fᵀ(x(α) - x);
//! - if the masked direction is not a descent direction, the memory is
//!   cleared and the step falls back to projected steepest descent.
//!
//! Convergence: the projected gradient's largest component below `gtol`,
//! or a relative decrease of f below `ftol` over one iteration, or no
//! acceptable step. The objective reports failure (a point where it is not
//! defined) by returning a non-finite value; the line search then shrinks
//! the step.

use crate::error::{Error, Result};

/// Settings of [`minimize`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LbfgsConfig {
    /// Number of (s, y) pairs kept.
    pub memory: usize,
    /// Iteration limit.
    pub max_iter: usize,
    /// Stop when max |projected gradient| <= gtol.
    pub gtol: f64,
    /// Stop when (f_old - f_new) <= ftol · max(|f_old|, |f_new|, 1).
    pub ftol: f64,
    /// Armijo constant c₁.
    pub c1: f64,
    /// Trial steps per line search.
    pub max_line_search: usize,
}

impl Default for LbfgsConfig {
    fn default() -> Self {
        LbfgsConfig {
            memory: 10,
            max_iter: 200,
            gtol: 1e-6,
            ftol: 1e-12,
            c1: 1e-4,
            max_line_search: 40,
        }
    }
}

/// Outcome of [`minimize`].
#[derive(Debug, Clone, PartialEq)]
pub struct LbfgsResult {
    pub x: Vec<f64>,
    pub f: f64,
    pub grad: Vec<f64>,
    pub iterations: usize,
    pub evaluations: usize,
    /// True when a stopping test (not the iteration limit) ended the run.
    pub converged: bool,
}

/// Box bounds: (lower, upper), each of the problem's dimension.
pub type Bounds<'a> = Option<(&'a [f64], &'a [f64])>;

fn project(x: &mut [f64], bounds: Bounds<'_>) {
    if let Some((lo, hi)) = bounds {
        for i in 0..x.len() {
            x[i] = crate::space::fit_in(x[i], lo[i], hi[i]);
        }
    }
}

/// The component of -g that stays feasible: zero where x sits at a bound and
/// the gradient pushes outward.
fn free_mask(x: &[f64], g: &[f64], bounds: Bounds<'_>) -> Vec<bool> {
    match bounds {
        None => vec![true; x.len()],
        Some((lo, hi)) => (0..x.len())
            .map(|i| !((x[i] <= lo[i] && g[i] > 0.0) || (x[i] >= hi[i] && g[i] < 0.0)))
            .collect(),
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn check_bounds(n: usize, bounds: Bounds<'_>) -> Result<()> {
    if let Some((lo, hi)) = bounds {
        if lo.len() != n || hi.len() != n {
            return Err(Error::InvalidArgument(format!(
                "bounds have {} and {} entries for {n} variables",
                lo.len(),
                hi.len()
            )));
        }
        for i in 0..n {
            if lo[i].is_nan() || hi[i].is_nan() || lo[i] > hi[i] {
                return Err(Error::InvalidArgument(format!(
                    "bound {i} is empty or NaN: [{}, {}]",
                    lo[i], hi[i]
                )));
            }
        }
    }
    Ok(())
}

/// The (s, y) pairs of L-BFGS, oldest first, with ρ = 1/sᵀy.
struct Memory {
    cap: usize,
    s: Vec<Vec<f64>>,
    y: Vec<Vec<f64>>,
    rho: Vec<f64>,
}

impl Memory {
    fn new(cap: usize) -> Self {
        Memory {
            cap,
            s: Vec::with_capacity(cap),
            y: Vec::with_capacity(cap),
            rho: Vec::with_capacity(cap),
        }
    }

    fn is_empty(&self) -> bool {
        self.s.is_empty()
    }

    fn clear(&mut self) {
        self.s.clear();
        self.y.clear();
        self.rho.clear();
    }

    /// Stores the step s and gradient change y when sᵀy > 10⁻¹⁰ yᵀy (which
    /// keeps H positive definite), dropping the oldest pair when full.
    fn push(&mut self, s: Vec<f64>, y: Vec<f64>) {
        let sy = dot(&s, &y);
        let yy = dot(&y, &y);
        if sy > 1e-10 * yy && sy > 0.0 {
            if self.s.len() == self.cap {
                self.s.remove(0);
                self.y.remove(0);
                self.rho.remove(0);
            }
            self.s.push(s);
            self.y.push(y);
            self.rho.push(1.0 / sy);
        }
    }

    /// H g by the two-loop recursion (Nocedal & Wright Alg. 7.4) on the
    /// free variables, with H₀ = (sᵀy / yᵀy) I, or 1/`pg_max` (a unit-length
    /// first step, their §7.2 remarks) while the memory is empty.
    fn apply(&self, g: &[f64], free: &[bool], pg_max: f64) -> Vec<f64> {
        let n = g.len();
        let mut q: Vec<f64> = (0..n).map(|i| if free[i] { g[i] } else { 0.0 }).collect();
        let k = self.s.len();
        let mut alpha = vec![0.0; k];
        for j in (0..k).rev() {
            alpha[j] = self.rho[j] * dot(&self.s[j], &q);
            for i in 0..n {
                q[i] -= alpha[j] * self.y[j][i];
            }
        }
        let gamma = if k > 0 {
            dot(&self.s[k - 1], &self.y[k - 1]) / dot(&self.y[k - 1], &self.y[k - 1])
        } else {
            1.0 / pg_max.max(1e-300)
        };
        for v in q.iter_mut() {
            *v *= gamma;
        }
        for j in 0..k {
            let beta = self.rho[j] * dot(&self.y[j], &q);
            for i in 0..n {
                q[i] += (alpha[j] - beta) * self.s[j][i];
            }
        }
        q
    }
}

/// The point, value and gradient of an iterate.
struct Iterate {
    x: Vec<f64>,
    f: f64,
    g: Vec<f64>,
}

/// Backtracking Armijo search from `at` along the projected path
/// P(x + step·p): the accepted iterate, or None when no trial step within
/// `cfg.max_line_search` decreases f enough (or the projection removes the
/// whole move). Counts evaluations of `f` in `evaluations`.
fn line_search<F>(
    f: &mut F,
    at: &Iterate,
    p: &[f64],
    bounds: Bounds<'_>,
    cfg: &LbfgsConfig,
    evaluations: &mut usize,
) -> Option<Iterate>
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = p.len();
    let (x, g, fx) = (&at.x, &at.g, at.f);
    let mut xn = vec![0.0; n];
    let mut gn = vec![0.0; n];
    let mut step = 1.0;
    for _ in 0..cfg.max_line_search {
        for i in 0..n {
            xn[i] = x[i] + step * p[i];
        }
        project(&mut xn, bounds);
        let decrease: f64 = (0..n).map(|i| g[i] * (xn[i] - x[i])).sum();
        if decrease >= 0.0 {
            // The projection removed the whole move.
            return None;
        }
        let fnew = f(&xn, &mut gn);
        *evaluations += 1;
        let finite = fnew.is_finite() && gn.iter().all(|v| v.is_finite());
        if finite && fnew <= fx + cfg.c1 * decrease {
            return Some(Iterate {
                x: xn,
                f: fnew,
                g: gn,
            });
        }
        // Minimiser of the quadratic through f(x), its slope and f(x(step)),
        // kept within [0.1, 0.5]·step; plain halving when f failed.
        let next = if finite {
            let slope = decrease / step;
            let denom = 2.0 * (fnew - fx - slope * step);
            if denom > 0.0 {
                -slope * step * step / denom
            } else {
                0.5 * step
            }
        } else {
            0.5 * step
        };
        step = next.clamp(0.1 * step, 0.5 * step);
    }
    None
}

/// Minimises `f` from `x0`. `f(x, g)` returns f(x) and writes ∇f(x) into `g`;
/// a non-finite return marks x as outside the domain. Errors when the
/// bounds are malformed or f is not finite at the (projected) start.
pub fn minimize<F>(
    mut f: F,
    x0: &[f64],
    bounds: Bounds<'_>,
    cfg: &LbfgsConfig,
) -> Result<LbfgsResult>
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = x0.len();
    check_bounds(n, bounds)?;
    let mut x = x0.to_vec();
    project(&mut x, bounds);
    let mut g = vec![0.0; n];
    let fx = f(&x, &mut g);
    let mut evaluations = 1;
    if !fx.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument(
            "objective or gradient is not finite at the starting point".into(),
        ));
    }
    let mut at = Iterate { x, f: fx, g };
    let mut memory = Memory::new(cfg.memory.max(1));
    let mut converged = false;
    let mut iterations = 0;
    while iterations < cfg.max_iter {
        let free = free_mask(&at.x, &at.g, bounds);
        let pg_max = (0..n)
            .filter(|&i| free[i])
            .map(|i| at.g[i].abs())
            .fold(0.0, f64::max);
        if pg_max <= cfg.gtol {
            converged = true;
            break;
        }
        iterations += 1;
        let q = memory.apply(&at.g, &free, pg_max);
        let mut p: Vec<f64> = (0..n).map(|i| if free[i] { -q[i] } else { 0.0 }).collect();
        let slope = dot(&p, &at.g);
        if slope.is_nan() || slope >= 0.0 || p.iter().any(|v| !v.is_finite()) {
            // Not a descent direction: projected steepest descent.
            memory.clear();
            let scale = 1.0 / pg_max;
            p = (0..n)
                .map(|i| if free[i] { -at.g[i] * scale } else { 0.0 })
                .collect();
        }
        let Some(next) = line_search(&mut f, &at, &p, bounds, cfg, &mut evaluations) else {
            // No progress possible along this direction, even after a reset.
            if memory.is_empty() {
                converged = true;
                break;
            }
            memory.clear();
            continue;
        };
        let s: Vec<f64> = (0..n).map(|i| next.x[i] - at.x[i]).collect();
        let y: Vec<f64> = (0..n).map(|i| next.g[i] - at.g[i]).collect();
        memory.push(s, y);
        let f_old = at.f;
        at = next;
        if f_old - at.f <= cfg.ftol * f_old.abs().max(at.f.abs()).max(1.0) {
            converged = true;
            break;
        }
    }
    Ok(LbfgsResult {
        x: at.x,
        f: at.f,
        grad: at.g,
        iterations,
        evaluations,
        converged,
    })
}

/// Runs [`minimize`] from each start and returns the best result. Starts at
/// which the objective is not finite are skipped; errors only when every
/// start fails (or there is none).
pub fn multi_start<F>(
    mut f: F,
    starts: &[Vec<f64>],
    bounds: Bounds<'_>,
    cfg: &LbfgsConfig,
) -> Result<LbfgsResult>
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let mut best: Option<LbfgsResult> = None;
    let mut last_err = Error::InvalidArgument("multi_start needs at least one start".into());
    for x0 in starts {
        match minimize(&mut f, x0, bounds, cfg) {
            Ok(r) => {
                if best.as_ref().is_none_or(|b| r.f < b.f) {
                    best = Some(r);
                }
            }
            Err(e) => last_err = e,
        }
    }
    best.ok_or(last_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Σ 100 (x_{i+1} - x_i²)² + (1 - x_i)², minimum 0 at (1, ..., 1).
    fn rosenbrock(x: &[f64], g: &mut [f64]) -> f64 {
        let n = x.len();
        g.iter_mut().for_each(|v| *v = 0.0);
        let mut f = 0.0;
        for i in 0..n - 1 {
            let a = x[i + 1] - x[i] * x[i];
            let b = 1.0 - x[i];
            f += 100.0 * a * a + b * b;
            g[i] += -400.0 * a * x[i] - 2.0 * b;
            g[i + 1] += 200.0 * a;
        }
        f
    }

    #[test]
    fn rosenbrock_2d_and_10d() {
        let cfg = LbfgsConfig {
            max_iter: 2000,
            gtol: 1e-8,
            ftol: 0.0,
            ..Default::default()
        };
        let r = minimize(rosenbrock, &[-1.2, 1.0], None, &cfg).unwrap();
        assert!(r.converged);
        assert!(r.f < 1e-12, "f = {}", r.f);
        assert!(r.x.iter().all(|v| (v - 1.0).abs() < 1e-5));
        let x0: Vec<f64> = (0..10)
            .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
            .collect();
        let r = minimize(rosenbrock, &x0, None, &cfg).unwrap();
        assert!(r.f < 1e-10, "f = {} after {} iterations", r.f, r.iterations);
        assert!(r.x.iter().all(|v| (v - 1.0).abs() < 1e-4));
    }

    #[test]
    fn bounds_are_respected_and_active_bounds_found() {
        // Minimum of the unconstrained problem (1, 1) lies outside x0 <= 0.5;
        // the constrained minimiser is (0.5, 0.25).
        let lo = [-2.0, -2.0];
        let hi = [0.5, 2.0];
        let cfg = LbfgsConfig {
            max_iter: 500,
            ..Default::default()
        };
        let r = minimize(rosenbrock, &[-1.5, 1.5], Some((&lo, &hi)), &cfg).unwrap();
        assert!((r.x[0] - 0.5).abs() < 1e-6, "{:?}", r.x);
        assert!((r.x[1] - 0.25).abs() < 1e-4, "{:?}", r.x);
        // A start outside the box is projected first.
        let r = minimize(rosenbrock, &[5.0, 5.0], Some((&lo, &hi)), &cfg).unwrap();
        assert!(r.x[0] <= 0.5 && r.x[1] <= 2.0);
    }

    #[test]
    fn multi_start_picks_the_best_and_errors_are_returned() {
        // Two wells: (x² - 1)² + 0.3 x, global minimum near x = -1.
        let f = |x: &[f64], g: &mut [f64]| {
            g[0] = 4.0 * x[0] * (x[0] * x[0] - 1.0) + 0.3;
            (x[0] * x[0] - 1.0).powi(2) + 0.3 * x[0]
        };
        let r = multi_start(f, &[vec![2.0], vec![-2.0]], None, &LbfgsConfig::default()).unwrap();
        assert!(r.x[0] < -0.9);
        assert!(multi_start(f, &[], None, &LbfgsConfig::default()).is_err());
        let nan = |_: &[f64], _: &mut [f64]| f64::NAN;
        assert!(minimize(nan, &[0.0], None, &LbfgsConfig::default()).is_err());
        assert!(minimize(f, &[0.0], Some((&[1.0], &[0.0])), &LbfgsConfig::default()).is_err());
        // A domain edge (f = inf for x < 0) is handled by backtracking.
        let edge = |x: &[f64], g: &mut [f64]| {
            if x[0] < 0.0 {
                return f64::INFINITY;
            }
            g[0] = 1.0 - 1.0 / (x[0] + 1e-3);
            x[0] - (x[0] + 1e-3).ln()
        };
        let r = minimize(edge, &[3.0], None, &LbfgsConfig::default()).unwrap();
        assert!((r.x[0] - (1.0 - 1e-3)).abs() < 1e-4);
    }
}
