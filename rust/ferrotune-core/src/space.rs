//! Distributions and declared search spaces.
//!
//! Every parameter value has an *internal* f64 representation, as in Optuna:
//! floats are themselves, integers are their value as f64, categoricals are
//! the index of the choice. An inactive parameter of a conditional space is NaN.
//!
//! Samplers that work in the unit cube (random, QMC; later GP) go through
//! [`Distribution::from_unit`] / [`Distribution::to_unit`]: log parameters are
//! uniform in log space, and integer or stepped ranges are widened by half a
//! step on each side so that every grid point gets the same share of [0, 1).

use crate::error::{Error, Result};

/// `x` limited to [lo, hi] without panicking (NaN maps to `lo`), unlike
/// `f64::clamp`, which panics on NaN bounds: degenerate ranges (subnormal
/// widths) must still give a value, never a crash.
#[inline]
pub fn fit_in(x: f64, lo: f64, hi: f64) -> f64 {
    if x >= lo {
        if x <= hi {
            x
        } else {
            hi
        }
    } else {
        lo
    }
}

/// Relative tolerance used to decide whether a step divides a float range.
const STEP_TOL: f64 = 1e-8;

/// The most of a step that tolerance allows (far from `low`, `STEP_TOL * k`
/// alone let a value almost a whole step off count as a grid point).
const MAX_STEP_TOL: f64 = 1e-4;

/// Whether `k` (a step count computed as `(x - low) / step`) is an integer, within
/// `STEP_TOL` relative to `k` (at most `MAX_STEP_TOL` steps) plus the rounding error
/// of `x - low` itself (a few ulps of the bounds' magnitude `scale`, in steps): a grid
/// far from zero with a small step, such as [131072, 131072.001] with step 0.001, is
/// still a grid.
#[inline]
fn whole_steps(k: f64, scale: f64, step: f64) -> bool {
    let relative = (STEP_TOL * k.abs().max(1.0)).min(MAX_STEP_TOL);
    (k - k.round()).abs() <= relative + 8.0 * f64::EPSILON * scale / step
}

/// The most steps a stepped float range may hold: beyond 2^53 neighbouring grid
/// points are no longer distinct floats (and the grid index no longer exact).
const MAX_STEPS: f64 = 9_007_199_254_740_992.0;

/// A parameter's distribution, validated on construction.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    /// A real parameter in [low, high], optionally log-scaled or on a step grid.
    Float {
        low: f64,
        high: f64,
        step: Option<f64>,
        log: bool,
    },
    /// An integer parameter in [low, high] on a grid of `step`, optionally log-scaled.
    Int {
        low: i64,
        high: i64,
        step: i64,
        log: bool,
    },
    /// One of `n` choices, represented by its index.
    Categorical { n: usize },
}

impl Distribution {
    /// A float distribution, checked with Optuna's rules.
    pub fn float(name: &str, low: f64, high: f64, step: Option<f64>, log: bool) -> Result<Self> {
        if !low.is_finite() || !high.is_finite() {
            return Err(Error::dist(
                name,
                format!("low and high must be finite, got low={low}, high={high}"),
            ));
        }
        if low > high {
            return Err(Error::dist(
                name,
                format!("low must be <= high, got low={low}, high={high}"),
            ));
        }
        if !(high - low).is_finite() {
            return Err(Error::dist(
                name,
                "the range is too wide: high - low overflows",
            ));
        }
        if log && step.is_some() {
            return Err(Error::dist(name, "step and log cannot be used together"));
        }
        if log && low <= 0.0 {
            return Err(Error::dist(
                name,
                format!("log=True needs low > 0, got low={low}"),
            ));
        }
        if let Some(s) = step {
            if !(s.is_finite() && s > 0.0) {
                return Err(Error::dist(
                    name,
                    format!("step must be a positive finite number, got {s}"),
                ));
            }
            let r = (high - low) / s;
            // (Infinite for a step so small that the division overflows.)
            if !r.is_finite() || r > MAX_STEPS {
                return Err(Error::dist(
                    name,
                    format!(
                        "step={s} is too small for the range [{low}, {high}]: (high - low) / step = {r:e} exceeds 2^53, so the grid points are not distinct floats"
                    ),
                ));
            }
            if !whole_steps(r, low.abs().max(high.abs()), s) {
                return Err(Error::dist(
                    name,
                    format!(
                        "step={s} does not divide the range [{low}, {high}] (high - low must be a multiple of step)"
                    ),
                ));
            }
        }
        Ok(Distribution::Float {
            low,
            high,
            step,
            log,
        })
    }

    /// An integer distribution, checked with Optuna's rules.
    pub fn int(name: &str, low: i64, high: i64, step: i64, log: bool) -> Result<Self> {
        if low > high {
            return Err(Error::dist(
                name,
                format!("low must be <= high, got low={low}, high={high}"),
            ));
        }
        if step < 1 {
            return Err(Error::dist(name, format!("step must be >= 1, got {step}")));
        }
        // Values travel as f64, exact for integers up to 2^53.
        const EXACT: i64 = 1 << 53;
        if low < -EXACT || high > EXACT {
            return Err(Error::dist(
                name,
                format!("int bounds must lie within ±2^53 (exact as floats), got [{low}, {high}]"),
            ));
        }
        if step > 1 && high - low > EXACT {
            // The samplers place values on the grid in doubles: beyond 2^53 steps of
            // one, low + k * step is no longer exact and lands off the grid.
            return Err(Error::dist(
                name,
                format!(
                    "with step={step} the range [{low}, {high}] may span at most 2^53 \
                     (its grid is computed in doubles)"
                ),
            ));
        }
        if log && step != 1 {
            return Err(Error::dist(
                name,
                format!("log=True needs step=1, got step={step}"),
            ));
        }
        if log && low < 1 {
            return Err(Error::dist(
                name,
                format!("log=True needs low >= 1, got low={low}"),
            ));
        }
        if (high - low) % step != 0 {
            return Err(Error::dist(
                name,
                format!(
                    "step={step} does not divide the range [{low}, {high}] (high - low must be a multiple of step)"
                ),
            ));
        }
        Ok(Distribution::Int {
            low,
            high,
            step,
            log,
        })
    }

    /// A categorical distribution over `n` choices.
    pub fn categorical(name: &str, n: usize) -> Result<Self> {
        if n == 0 {
            return Err(Error::dist(name, "choices must not be empty"));
        }
        Ok(Distribution::Categorical { n })
    }

    /// True when the distribution has a single possible value.
    pub fn is_single(&self) -> bool {
        match *self {
            Distribution::Float { low, high, .. } => low == high,
            Distribution::Int { low, high, .. } => low == high,
            Distribution::Categorical { n } => n == 1,
        }
    }

    /// Number of distinct values for discrete distributions (stepped floats,
    /// ints, categoricals); `None` for continuous floats.
    pub fn cardinality(&self) -> Option<u64> {
        match *self {
            Distribution::Float {
                low, high, step, ..
            } => {
                if low == high {
                    Some(1)
                } else {
                    step.map(|s| ((high - low) / s).round() as u64 + 1)
                }
            }
            Distribution::Int {
                low, high, step, ..
            } => Some(((high - low) / step) as u64 + 1),
            Distribution::Categorical { n } => Some(n as u64),
        }
    }

    /// The internal value of the `k`-th point of a discrete distribution, or
    /// None when `k` is not below its cardinality (or it is continuous).
    pub fn checked_discrete_value(&self, k: u64) -> Option<f64> {
        (k < self.cardinality()?).then(|| self.discrete_value(k))
    }

    /// The internal value of the `k`-th point of a discrete distribution;
    /// `k` must be below its cardinality (unchecked, for the samplers' loops:
    /// see [`Distribution::checked_discrete_value`]).
    pub fn discrete_value(&self, k: u64) -> f64 {
        match *self {
            Distribution::Float {
                low, high, step, ..
            } => match step {
                Some(s) => (low + k as f64 * s).min(high),
                None => low,
            },
            Distribution::Int { low, step, .. } => (low + k as i64 * step) as f64,
            Distribution::Categorical { .. } => k as f64,
        }
    }

    /// The position `k` of `x` among the values of a discrete distribution
    /// (`discrete_value(k)` is `x`, up to the step tolerance of stepped
    /// floats), or None when `x` is not one of its values or the
    /// distribution is continuous.
    pub fn position(&self, x: f64) -> Option<u64> {
        if !self.contains(x) {
            return None;
        }
        let k = match *self {
            Distribution::Float { low, step, .. } => match step {
                Some(s) => ((x - low) / s).round(),
                None if self.is_single() => 0.0,
                None => return None,
            },
            Distribution::Int { low, step, .. } => ((x - low as f64) / step as f64).round(),
            Distribution::Categorical { .. } => x,
        };
        let k = k as u64;
        (k < self.cardinality()?).then_some(k)
    }

    /// True when `x` (internal representation) is a value of this distribution.
    pub fn contains(&self, x: f64) -> bool {
        if !x.is_finite() {
            return false;
        }
        match *self {
            Distribution::Float {
                low, high, step, ..
            } => {
                if x < low || x > high {
                    return false;
                }
                match step {
                    None => true,
                    Some(s) => whole_steps((x - low) / s, low.abs().max(high.abs()), s),
                }
            }
            Distribution::Int {
                low, high, step, ..
            } => {
                x.fract() == 0.0 && x >= low as f64 && x <= high as f64 && {
                    let v = x as i64;
                    (v - low) % step == 0
                }
            }
            Distribution::Categorical { n } => x.fract() == 0.0 && x >= 0.0 && (x as usize) < n,
        }
    }

    /// Maps u in [0, 1) onto a value of the distribution (internal representation).
    ///
    /// Continuous floats: affine (or affine in log space). Stepped floats and
    /// ints: the range is widened by half a step on each side, then rounded to
    /// the grid and clipped, so each grid point gets an equal share (in log
    /// space for log ints, as Optuna's RandomSampler does).
    pub fn from_unit(&self, u: f64) -> f64 {
        let u = fit_in(u, 0.0, 1.0);
        match *self {
            Distribution::Float {
                low,
                high,
                step,
                log,
            } => {
                if low == high {
                    return low;
                }
                if log {
                    // low * (high / low)^u: exactly `low` at u = 0, and every double of
                    // a range only a few ulps wide is reachable (exp(ln(low)) can miss
                    // `low` itself, which made such a range look infeasible).
                    // Past exp's range (a range over ~1.8e308 wide, u near 1) the
                    // product is taken in log space, or every such draw would be `high`.
                    let e = u * log_ratio(low, high);
                    let t = e.exp();
                    let x = if t.is_finite() {
                        low * t
                    } else {
                        (low.ln() + e).exp()
                    };
                    fit_in(x, low, high)
                } else if let Some(s) = step {
                    let n = ((high - low) / s).round();
                    let k = (u * (n + 1.0)).floor().min(n);
                    (low + k * s).min(high)
                } else {
                    fit_in(low + u * (high - low), low, high)
                }
            }
            Distribution::Int {
                low,
                high,
                step,
                log,
            } => {
                if low == high {
                    return low as f64;
                }
                if log {
                    let (a, b) = ((low as f64 - 0.5).ln(), (high as f64 + 0.5).ln());
                    let v = (a + u * (b - a)).exp().round();
                    fit_in(v, low as f64, high as f64)
                } else {
                    let n = (high - low) / step;
                    let k = ((u * (n as f64 + 1.0)).floor() as i64).clamp(0, n);
                    (low + k * step) as f64
                }
            }
            Distribution::Categorical { n } => ((u * n as f64).floor() as usize).min(n - 1) as f64,
        }
    }

    /// The centre of the cell of [0, 1) that `from_unit` maps onto `x`; the
    /// inverse of `from_unit` for continuous floats.
    pub fn to_unit(&self, x: f64) -> f64 {
        match *self {
            Distribution::Float {
                low,
                high,
                step,
                log,
            } => {
                if low == high {
                    return 0.5;
                }
                if log {
                    let q = x / low;
                    let l = if q.is_finite() && q > 0.0 {
                        q.ln()
                    } else {
                        x.ln() - low.ln()
                    };
                    l / log_ratio(low, high)
                } else if let Some(s) = step {
                    let n = ((high - low) / s).round();
                    ((x - low) / s + 0.5) / (n + 1.0)
                } else {
                    (x - low) / (high - low)
                }
            }
            Distribution::Int {
                low,
                high,
                step,
                log,
            } => {
                if low == high {
                    return 0.5;
                }
                if log {
                    let (a, b) = ((low as f64 - 0.5).ln(), (high as f64 + 0.5).ln());
                    (x.ln() - a) / (b - a)
                } else {
                    let n = ((high - low) / step) as f64;
                    ((x - low as f64) / step as f64 + 0.5) / (n + 1.0)
                }
            }
            Distribution::Categorical { n } => (x + 0.5) / n as f64,
        }
    }

    /// True when both distributions are of the same kind (float, int or
    /// categorical): Optuna lets ranges change between trials but not kinds.
    pub fn same_kind(&self, other: &Distribution) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }

    /// Whether internal values `a` and `b` are the same value of this
    /// distribution: equal, or for a stepped float the same grid point
    /// (`low + 3 * 0.1` is 0.30000000000000004, a user's 0.3 is not).
    #[inline]
    pub fn same_value(&self, a: f64, b: f64) -> bool {
        a == b
            || match *self {
                // The same grid point, with the tolerance `contains` accepts.
                Distribution::Float { step: Some(_), .. } => {
                    matches!((self.position(a), self.position(b)), (Some(i), Some(j)) if i == j)
                }
                _ => false,
            }
    }
}

/// Written for error messages in Python's terms: `FloatDistribution(low=0,
/// high=1, step=0.1, log=False)`; a categorical by its number of choices
/// (the core does not hold the choices).
impl std::fmt::Display for Distribution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let py = |b: bool| if b { "True" } else { "False" };
        match *self {
            Distribution::Float {
                low,
                high,
                step,
                log,
            } => {
                // Debug's form of a float: 1e-300, not 300 digits.
                let step = step.map_or("None".to_string(), |s| format!("{s:?}"));
                write!(
                    f,
                    "FloatDistribution(low={low:?}, high={high:?}, step={step}, log={})",
                    py(log)
                )
            }
            Distribution::Int {
                low,
                high,
                step,
                log,
            } => write!(
                f,
                "IntDistribution(low={low}, high={high}, step={step}, log={})",
                py(log)
            ),
            Distribution::Categorical { n } => {
                write!(f, "CategoricalDistribution of {n} choices")
            }
        }
    }
}

/// When a parameter of a declared space is active: its parent takes one of
/// the listed internal values.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Index of the parent parameter in the space.
    pub parent: usize,
    /// Internal values of the parent for which the child is active.
    pub values: Vec<f64>,
}

impl Condition {
    /// Whether it holds at row `x` of the space whose parameters are
    /// `params`: the parent is active and takes one of the values (the same
    /// grid point, for a stepped float: see [`Distribution::same_value`]).
    #[inline]
    pub fn holds(&self, params: &[Param], x: &[f64]) -> bool {
        let v = x[self.parent];
        let dist = &params[self.parent].dist;
        !v.is_nan() && self.values.iter().any(|&w| dist.same_value(v, w))
    }
}

/// One parameter of a declared space.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub dist: Distribution,
    pub condition: Option<Condition>,
    /// Numeric value of each choice of a categorical (None for non-numeric
    /// choices such as strings); used by divisibility and linear constraints.
    pub choice_values: Option<Vec<Option<f64>>>,
}

impl Param {
    /// The numeric value a constraint sees for internal value `x`.
    #[inline]
    pub fn numeric(&self, x: f64) -> Option<f64> {
        match &self.choice_values {
            Some(v) => v.get(x as usize).copied().flatten(),
            None => Some(x),
        }
    }
}

/// ln(high / low) of a log-scaled range (0 < low < high), accurate for ranges a
/// few ulps wide; ln(high) - ln(low) where the ratio overflows.
pub(crate) fn log_ratio(low: f64, high: f64) -> f64 {
    let r = high / low;
    if r.is_finite() {
        r.ln()
    } else {
        high.ln() - low.ln()
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn log_range_a_few_ulps_wide_reaches_both_ends() {
        let high = f64::from_bits(9.0f64.to_bits() + 1);
        let d = Distribution::float("a", 9.0, high, None, true).unwrap();
        let xs: Vec<f64> = (0..=1000).map(|i| d.from_unit(i as f64 / 1000.0)).collect();
        assert_eq!(d.from_unit(0.0), 9.0);
        assert!(xs.contains(&9.0) && xs.contains(&high), "{xs:?}");
        let wide = Distribution::float("a", 1e-300, 1e300, None, true).unwrap();
        let x = wide.from_unit(0.5);
        assert!(wide.contains(x) && (x.log10()).abs() < 1e-9, "{x}");
        assert!((wide.to_unit(x) - 0.5).abs() < 1e-12);
        // Past exp's range: 1e150 at u = 0.75, not `high` (the product overflowed).
        let x = wide.from_unit(0.75);
        assert!((x.log10() - 150.0).abs() < 1e-9, "{x}");
        assert!((wide.to_unit(x) - 0.75).abs() < 1e-12);
        assert!((wide.to_unit(1e300) - 1.0).abs() < 1e-12);
    }
    use super::*;

    #[test]
    fn float_validation_names_the_parameter() {
        let e = Distribution::float("lr", 1.0, 0.0, None, false).unwrap_err();
        assert!(e.to_string().contains("lr") && e.to_string().contains("low"));
        assert!(Distribution::float("x", 0.0, 1.0, None, true).is_err());
        assert!(Distribution::float("x", 0.1, 1.0, Some(0.1), true).is_err());
        assert!(Distribution::float("x", 0.0, 1.0, Some(0.3), false).is_err());
        assert!(Distribution::float("x", 0.0, 0.9, Some(0.3), false).is_ok());
        // A grid far from zero with a small step: the rounding of high - low is not
        // mistaken for a step that does not divide the range.
        let far = Distribution::float("x", 131072.0, 131072.001, Some(0.001), false).unwrap();
        assert!(far.contains(131072.001) && far.contains(131072.0));
        assert!(!far.contains(131072.0005));
        assert!(Distribution::float("x", 131072.0, 131072.0015, Some(0.001), false).is_err());
        assert!(Distribution::float("x", f64::NEG_INFINITY, 1.0, None, false).is_err());
        assert!(Distribution::float("x", 0.0, f64::NAN, None, false).is_err());
    }

    #[test]
    fn float_step_beyond_2_pow_53_steps_is_rejected() {
        // An overflowing (or inexact) step count used to pass
        // validation and then fail every suggest.
        for (low, high, step) in [
            (0.0, 1e308, 1e-300),
            (0.0, 1.0, 5e-324),
            (-1e300, 1e300, 1e280),
            (0.0, 1.0, 1e-16),
        ] {
            let e = Distribution::float("w", low, high, Some(step), false).unwrap_err();
            let msg = e.to_string();
            assert!(msg.starts_with("parameter 'w'"), "{msg}");
            assert!(msg.contains("2^53"), "{msg}");
        }
        // 2^53 steps exactly is still a valid grid.
        let d = Distribution::float("w", 0.0, 9_007_199_254_740_992.0, Some(1.0), false).unwrap();
        assert_eq!(d.cardinality(), Some(9_007_199_254_740_993));
    }

    #[test]
    fn int_validation() {
        assert!(Distribution::int("n", 1, 10, 2, false).is_err());
        assert!(Distribution::int("n", 1, 9, 2, false).is_ok());
        assert!(Distribution::int("n", 0, 9, 1, true).is_err());
        assert!(Distribution::int("n", 1, 9, 2, true).is_err());
        assert!(Distribution::int("n", 1, 9, 0, false).is_err());
        assert!(Distribution::categorical("c", 0).is_err());
        // A stepped grid wider than 2^53 is refused (its values would be computed
        // off the grid in doubles); step 1 is exact there.
        let wide = (-(1i64 << 53) + 1, (1i64 << 53) - 1);
        let e = Distribution::int("n", wide.0, wide.1, 3, false).unwrap_err();
        assert!(e.to_string().contains("at most 2^53"), "{e}");
        let d = Distribution::int("n", wide.0, wide.1, 1, false).unwrap();
        for i in 0..=100 {
            assert!(d.contains(d.from_unit(i as f64 / 100.0)));
        }
        let d = Distribution::int("n", -(1i64 << 52), 1i64 << 52, 4, false).unwrap();
        for i in 0..=1000 {
            let x = d.from_unit(i as f64 / 1000.0);
            assert!(d.contains(x), "{x}");
        }
    }

    #[test]
    fn from_unit_stays_in_distribution() {
        let dists = [
            Distribution::float("a", -2.0, 3.0, None, false).unwrap(),
            Distribution::float("a", 1e-5, 1e-2, None, true).unwrap(),
            Distribution::float("a", 0.0, 1.0, Some(0.25), false).unwrap(),
            Distribution::int("a", -3, 17, 4, false).unwrap(),
            Distribution::int("a", 1, 1000, 1, true).unwrap(),
            Distribution::categorical("a", 3).unwrap(),
        ];
        for d in &dists {
            for i in 0..=1000 {
                let u = i as f64 / 1000.0;
                let x = d.from_unit(u);
                assert!(d.contains(x), "{d:?} {u} {x}");
                let back = d.from_unit(d.to_unit(x));
                assert!(
                    (back - x).abs() <= 1e-9 * x.abs().max(1.0),
                    "{d:?} {x} {back}"
                );
            }
        }
    }

    #[test]
    fn stepped_grid_points_get_equal_shares() {
        let d = Distribution::int("a", 0, 4, 1, false).unwrap();
        let mut counts = [0; 5];
        for i in 0..5000 {
            counts[d.from_unit((i as f64 + 0.5) / 5000.0) as usize] += 1;
        }
        assert_eq!(counts, [1000; 5]);
        assert_eq!(d.cardinality(), Some(5));
        assert_eq!(d.discrete_value(3), 3.0);
    }

    #[test]
    fn checked_discrete_value_refuses_positions_past_the_end() {
        let d = Distribution::int("k", 0, 10, 5, false).unwrap();
        assert_eq!(d.checked_discrete_value(2), Some(10.0));
        assert_eq!(d.checked_discrete_value(3), None);
        assert_eq!(d.checked_discrete_value(u64::MAX), None);
        let c = Distribution::categorical("c", 3).unwrap();
        assert_eq!(c.checked_discrete_value(3), None);
        let f = Distribution::float("f", 0.0, 1.0, None, false).unwrap();
        assert_eq!(f.checked_discrete_value(0), None);
    }

    #[test]
    fn position_inverts_discrete_value() {
        let dists = [
            Distribution::float("a", -1.0, 2.0, Some(0.25), false).unwrap(),
            Distribution::float("b", 0.1, 0.7, Some(0.3), false).unwrap(),
            Distribution::int("c", -7, 20, 3, false).unwrap(),
            Distribution::int("d", 1, 64, 1, true).unwrap(),
            Distribution::categorical("e", 5).unwrap(),
            Distribution::float("f", 3.0, 3.0, None, false).unwrap(),
        ];
        for d in &dists {
            let n = d.cardinality().unwrap();
            for k in 0..n {
                assert_eq!(d.position(d.discrete_value(k)), Some(k), "{d:?} {k}");
            }
            assert_eq!(d.position(f64::NAN), None);
            assert_eq!(d.position(d.discrete_value(n - 1) + 100.0), None);
        }
        assert_eq!(dists[0].position(0.1), None, "off the step grid");
        let cont = Distribution::float("g", 0.0, 1.0, None, false).unwrap();
        assert_eq!(cont.position(0.5), None);
    }
}
