//! Declared search spaces with conditions and hard constraints, and the
//! constrained sampler every sampler draws through.
//!
//! A constraint only applies when all of its parameters are active. Values seen
//! by divisibility and linear constraints are numeric: floats and ints as they
//! are, categoricals through the numeric value of the chosen choice.
//!
//! Sampling strategy (documented for users in `ferrotune.SearchSpace`):
//! 1. At construction, the constraints whose parameters are all discrete and
//!    unconditional are grouped into one *block*; if the block's cartesian
//!    product has at most [`ENUMERATION_LIMIT`] points it is enumerated once and
//!    only the feasible combinations kept (an empty result is an immediate
//!    [`Error::Infeasible`]). A unit coordinate then picks one feasible
//!    combination uniformly, so such constraints never cost a rejection.
//! 2. Every other constraint is enforced by rejection: candidates are drawn in
//!    batches until one is feasible, up to a bounded number of draws, after
//!    which the space is reported infeasible instead of hanging.
//!
//! Every enumeration is bounded: the block's at most [`ENUMERATION_LIMIT`]
//! points (milliseconds), and a grid ([`SearchSpace::enumerate_grid_with`]) at
//! most [`GRID_LIMIT`] points and [`GRID_WORK_LIMIT`] value assignments, with a
//! caller's check for interruption every [`CHECK_INTERVAL`] assignments.

use crate::error::{Error, Result};
use crate::space::{Distribution, Param};

/// Largest cartesian product of constrained discrete parameters enumerated up front.
pub const ENUMERATION_LIMIT: u64 = 1 << 18;
/// Largest grid (in points) the grid enumeration will build.
pub const GRID_LIMIT: usize = 1_000_000;
/// Most value assignments a grid enumeration may make before it gives up
/// (about a second or two of work).
pub const GRID_WORK_LIMIT: u64 = 50_000_000;
/// Relative tolerance of linear inequalities.
const LINEAR_TOL: f64 = 1e-9;

/// Extra feasibility test a caller adds to a space's own constraints (for
/// example Python predicates); an error aborts the sampling.
pub type Accept<'a> = &'a mut dyn FnMut(&[f64]) -> Result<bool>;

/// A sampler's value (internal representation) for parameter `i` of a space
/// (`params()[i]`), in [`SearchSpace::sample_with_fixed`]; an error aborts
/// the sampling.
pub type Propose<'a> = &'a mut dyn FnMut(usize, &Param) -> Result<f64>;

/// Candidates of [`SearchSpace::sample_with_fixed`] whose free values the
/// sampler proposes before uniform draws take over: a model-based sampler can
/// keep proposing one infeasible region, at the cost of a model query per
/// draw.
pub const SAMPLER_DRAWS: usize = 32;

/// A hard constraint between parameters (indices into the space).
#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    /// `value(num) % value(den) == 0`, both integral.
    Divisible { num: usize, den: usize },
    /// `sum(coef * value(param)) <= rhs`.
    Linear { terms: Vec<(usize, f64)>, rhs: f64 },
    /// The combination of internal values is not allowed.
    Forbidden { assignment: Vec<(usize, f64)> },
}

impl Constraint {
    fn params(&self) -> Vec<usize> {
        match self {
            Constraint::Divisible { num, den } => vec![*num, *den],
            Constraint::Linear { terms, .. } => terms.iter().map(|t| t.0).collect(),
            Constraint::Forbidden { assignment } => assignment.iter().map(|t| t.0).collect(),
        }
    }

    /// True when satisfied by point `x` (internal values, NaN = inactive).
    /// A constraint with an inactive parameter is satisfied.
    pub fn satisfied(&self, params: &[Param], x: &[f64]) -> bool {
        match self {
            Constraint::Divisible { num, den } => {
                let (a, b) = (x[*num], x[*den]);
                if a.is_nan() || b.is_nan() {
                    return true;
                }
                match (params[*num].numeric(a), params[*den].numeric(b)) {
                    (Some(a), Some(b)) => b != 0.0 && (a % b) == 0.0,
                    _ => false,
                }
            }
            Constraint::Linear { terms, rhs } => {
                let mut sum = 0.0;
                let mut scale = rhs.abs();
                for &(i, c) in terms {
                    let v = x[i];
                    if v.is_nan() {
                        return true;
                    }
                    let Some(v) = params[i].numeric(v) else {
                        return false;
                    };
                    sum += c * v;
                    scale = scale.max((c * v).abs());
                }
                // A term that overflows makes the tolerance infinite: compare
                // exactly then (an infinite sum of one sign is decided by it,
                // opposite infinities make NaN, which fails).
                let tol = if scale.is_finite() {
                    LINEAR_TOL * scale.max(1.0)
                } else {
                    0.0
                };
                sum <= rhs + tol
            }
            Constraint::Forbidden { assignment } => {
                let mut all_equal = true;
                for &(i, v) in assignment {
                    if x[i].is_nan() {
                        return true;
                    }
                    all_equal &= params[i].dist.same_value(x[i], v);
                }
                !all_equal
            }
        }
    }
}

/// Feasible combinations of the constrained discrete block, stored row-major.
#[derive(Debug, Clone, PartialEq)]
struct Block {
    params: Vec<usize>,
    combos: Vec<f64>,
    /// Cumulative probability of each combination under the distributions'
    /// own unit mapping (the product of the unit-interval share each value
    /// gets, normalised over the feasible ones), or None when every
    /// combination has the same (then the pick is plain uniform). A `log`
    /// integer gives its small values more of the unit interval; picked
    /// uniformly among the combinations, a never-binding constraint on it
    /// made values up to 32 of 1..1024 3% of the draws instead of half.
    cumulative: Option<Vec<f64>>,
}

impl Block {
    fn len(&self) -> usize {
        self.combos.len() / self.params.len()
    }
}

/// A declared search space: parameters in an order where parents come first,
/// conditions, and hard constraints.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSpace {
    params: Vec<Param>,
    constraints: Vec<Constraint>,
    /// Constraints checked by rejection (those not folded into the block).
    rejected: Vec<usize>,
    block: Option<Block>,
}

impl SearchSpace {
    /// Validates and compiles a space. Parents must precede their children.
    pub fn new(params: Vec<Param>, constraints: Vec<Constraint>) -> Result<Self> {
        for (i, p) in params.iter().enumerate() {
            if params[..i].iter().any(|q| q.name == p.name) {
                return Err(Error::InvalidSpace(format!(
                    "parameter '{}' is declared twice",
                    p.name
                )));
            }
            if let Some(c) = &p.condition {
                if c.parent >= i {
                    return Err(Error::InvalidSpace(format!(
                        "parameter '{}': its condition's parent must be declared before it (conditions cannot form cycles)",
                        p.name
                    )));
                }
                let parent = &params[c.parent];
                if c.values.is_empty() {
                    return Err(Error::InvalidSpace(format!(
                        "parameter '{}': condition on '{}' lists no values",
                        p.name, parent.name
                    )));
                }
                if let Some(v) = c.values.iter().find(|v| !parent.dist.contains(**v)) {
                    return Err(Error::InvalidSpace(format!(
                        "parameter '{}': condition value {v} is not a value of parent '{}'",
                        p.name, parent.name
                    )));
                }
            }
            if let (Distribution::Categorical { n }, Some(v)) = (&p.dist, &p.choice_values) {
                if v.len() != *n {
                    return Err(Error::InvalidSpace(format!(
                        "parameter '{}': {} numeric values for {n} choices",
                        p.name,
                        v.len()
                    )));
                }
            }
        }
        for c in &constraints {
            check_constraint(&params, c)?;
        }
        let mut space = SearchSpace {
            params,
            constraints,
            rejected: Vec::new(),
            block: None,
        };
        space.compile()?;
        Ok(space)
    }

    /// The parameters, parents first.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The constraints.
    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }

    /// Number of feasible combinations of the enumerated block, if there is one.
    pub fn enumerated_combinations(&self) -> Option<usize> {
        self.block.as_ref().map(Block::len)
    }

    /// The enumerated block, if there is one: its parameters (indices into
    /// [`SearchSpace::params`], increasing) and its feasible combinations,
    /// row-major (one row of `params.len()` internal values each). A sampler
    /// that decides parameters one at a time masks the choices no feasible
    /// row allows given its earlier choices.
    pub fn feasible_block(&self) -> Option<(&[usize], &[f64])> {
        self.block
            .as_ref()
            .map(|b| (b.params.as_slice(), b.combos.as_slice()))
    }

    fn compile(&mut self) -> Result<()> {
        let enumerable = |i: usize| {
            let p = &self.params[i];
            p.condition.is_none() && p.dist.cardinality().is_some()
        };
        let mut in_block: Vec<usize> = Vec::new();
        let mut block_constraints = Vec::new();
        for (ci, c) in self.constraints.iter().enumerate() {
            let ps = c.params();
            if ps.iter().all(|&i| enumerable(i)) {
                block_constraints.push(ci);
                for i in ps {
                    if !in_block.contains(&i) {
                        in_block.push(i);
                    }
                }
            }
        }
        in_block.sort_unstable();
        let size = in_block.iter().try_fold(1u64, |acc, &i| {
            acc.checked_mul(self.params[i].dist.cardinality().unwrap_or(u64::MAX))
        });
        let fits = matches!(size, Some(s) if s <= ENUMERATION_LIMIT);
        if in_block.is_empty() || !fits {
            self.rejected = (0..self.constraints.len()).collect();
            return Ok(());
        }
        let size = size.unwrap_or(0);
        let masses: Vec<Vec<f64>> = in_block
            .iter()
            .map(|&i| unit_masses(&self.params[i].dist))
            .collect();
        let mut x = vec![f64::NAN; self.params.len()];
        let mut combos = Vec::new();
        let mut weights = Vec::new();
        for mut k in 0..size {
            let mut w = 1.0;
            for (b, &i) in in_block.iter().enumerate() {
                let card = self.params[i].dist.cardinality().unwrap_or(1);
                x[i] = self.params[i].dist.discrete_value(k % card);
                w *= masses[b][(k % card) as usize];
                k /= card;
            }
            if block_constraints
                .iter()
                .all(|&ci| self.constraints[ci].satisfied(&self.params, &x))
            {
                combos.extend(in_block.iter().map(|&i| x[i]));
                weights.push(w);
            }
        }
        if combos.is_empty() {
            let names: Vec<&str> = in_block
                .iter()
                .map(|&i| self.params[i].name.as_str())
                .collect();
            return Err(Error::Infeasible(format!(
                "no combination of {names:?} satisfies the constraints: the feasible set is empty"
            )));
        }
        self.rejected = (0..self.constraints.len())
            .filter(|ci| !block_constraints.contains(ci))
            .collect();
        let uniform = masses.iter().all(|m| m.iter().all(|&v| v == m[0]));
        let cumulative = (!uniform).then(|| {
            let total: f64 = weights.iter().sum();
            let mut acc = 0.0;
            weights
                .iter()
                .map(|w| {
                    acc += w / total;
                    acc
                })
                .collect()
        });
        self.block = Some(Block {
            params: in_block,
            combos,
            cumulative,
        });
        Ok(())
    }

    /// Marks parameters whose condition does not hold as inactive (NaN), in order.
    pub fn apply_conditions(&self, x: &mut [f64]) {
        for (i, p) in self.params.iter().enumerate() {
            if let Some(c) = &p.condition {
                if !c.holds(&self.params, x) {
                    x[i] = f64::NAN;
                }
            }
        }
    }

    /// True when `x` satisfies every constraint (conditions assumed applied).
    pub fn is_feasible(&self, x: &[f64]) -> bool {
        self.constraints
            .iter()
            .all(|c| c.satisfied(&self.params, x))
    }

    /// True when `x` has each parameter active exactly when its condition
    /// holds, active values inside their distributions, and is feasible.
    pub fn is_valid(&self, x: &[f64]) -> bool {
        if x.len() != self.params.len() {
            return false;
        }
        for (i, p) in self.params.iter().enumerate() {
            let active = match &p.condition {
                None => true,
                Some(c) => c.holds(&self.params, x),
            };
            if active == x[i].is_nan() || (active && !p.dist.contains(x[i])) {
                return false;
            }
        }
        self.is_feasible(x)
    }

    /// Maps a point of the unit cube (one coordinate per parameter) onto a
    /// configuration, applying the enumerated block and the conditions. The
    /// result may still violate a rejection-checked constraint.
    pub fn from_unit(&self, u: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.extend(
            self.params
                .iter()
                .zip(u)
                .map(|(p, &ui)| p.dist.from_unit(ui)),
        );
        if let Some(b) = &self.block {
            let n = b.len();
            let v = u[b.params[0]];
            let k = match &b.cumulative {
                Some(c) => c.partition_point(|&p| p <= v),
                None => (v * n as f64) as usize,
            }
            .min(n - 1);
            let w = b.params.len();
            for (j, &i) in b.params.iter().enumerate() {
                out[i] = b.combos[k * w + j];
            }
        }
        self.apply_conditions(out);
    }

    /// True when `x` passes the constraints not already guaranteed by the block.
    pub fn passes_rejection(&self, x: &[f64]) -> bool {
        self.rejected
            .iter()
            .all(|&ci| self.constraints[ci].satisfied(&self.params, x))
    }

    /// Draws unit points from `draw` until one maps onto a feasible
    /// configuration, at most `max_draws` times.
    pub fn sample_feasible(
        &self,
        max_draws: usize,
        draw: impl FnMut(&mut [f64]),
    ) -> Result<Vec<f64>> {
        self.sample_feasible_with(max_draws, draw, &mut |_| Ok(true))
    }

    /// A feasible configuration drawn uniformly with `rng` (every sampler's
    /// draw before its model takes over), `accept` holding too.
    pub fn sample_uniform(
        &self,
        rng: &mut crate::rng::Rng,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        self.sample_feasible_with(
            max_draws,
            |u| u.iter_mut().for_each(|v| *v = rng.uniform()),
            accept,
        )
    }

    /// As [`SearchSpace::sample_feasible`], also requiring `accept` (the
    /// caller's own constraints, such as Python predicates) to hold.
    pub fn sample_feasible_with(
        &self,
        max_draws: usize,
        mut draw: impl FnMut(&mut [f64]),
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        let mut u = vec![0.0; self.params.len()];
        let mut x = Vec::with_capacity(self.params.len());
        for _ in 0..max_draws.max(1) {
            draw(&mut u);
            self.from_unit(&u, &mut x);
            if self.passes_rejection(&x) && accept(&x)? {
                return Ok(x);
            }
        }
        Err(Error::Infeasible(format!(
            "no feasible configuration found in {max_draws} draws: the constraints appear to leave an empty (or vanishingly small) feasible set"
        )))
    }

    /// The constrained sampler for configurations with some values fixed in
    /// advance (an enqueued trial, a grid point, a partially fixed sampler).
    ///
    /// `fixed[i]` is the value of parameter `i` (internal representation) or
    /// None when it is free; a fixed value is used where the parameter is
    /// active and ignored where it is not. Each candidate is built in the
    /// space's order: inactive parameters NaN, fixed ones their value,
    /// single-valued ones their value, and free ones from `propose` for the
    /// first [`SAMPLER_DRAWS`] candidates, then uniform draws from `rng`. The
    /// first candidate valid for the space ([`SearchSpace::is_valid`]) that
    /// `accept` takes is returned, at most `max_draws` candidates; when every
    /// parameter is fixed, the first candidate decides. Errors:
    /// [`Error::Infeasible`] when none is found, [`Error::InvalidArgument`]
    /// when `fixed` does not have one entry per parameter; an error of
    /// `propose` or `accept` is returned as is.
    pub fn sample_with_fixed(
        &self,
        fixed: &[Option<f64>],
        max_draws: usize,
        propose: Propose<'_>,
        rng: &mut crate::rng::Rng,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        if fixed.len() != self.params.len() {
            return Err(Error::InvalidArgument(format!(
                "{} fixed values for a space of {} parameters",
                fixed.len(),
                self.params.len()
            )));
        }
        // A value outside its distribution would only burn the draws and be
        // reported as an infeasible space.
        for (p, v) in self.params.iter().zip(fixed) {
            if let Some(v) = *v {
                if !p.dist.contains(v) {
                    return Err(Error::InvalidArgument(format!(
                        "fixed value {v} of parameter {:?} is not a value of its distribution",
                        p.name
                    )));
                }
            }
        }
        let all_fixed = fixed.iter().all(Option::is_some);
        let mut x: Vec<f64> = Vec::with_capacity(self.params.len());
        for attempt in 0..max_draws.max(1) {
            x.clear();
            for (i, p) in self.params.iter().enumerate() {
                let active = match &p.condition {
                    None => true,
                    Some(c) => c.holds(&self.params, &x),
                };
                let v = if !active {
                    f64::NAN
                } else if let Some(v) = fixed[i] {
                    v
                } else if p.dist.is_single() {
                    p.dist.from_unit(0.5)
                } else if attempt < SAMPLER_DRAWS {
                    propose(i, p)?
                } else {
                    p.dist.from_unit(rng.uniform())
                };
                x.push(v);
            }
            if self.is_valid(&x) && accept(&x)? {
                return Ok(x);
            }
            if all_fixed {
                return Err(Error::Infeasible(
                    "the fixed configuration violates the space's conditions or constraints".into(),
                ));
            }
        }
        Err(Error::Infeasible(format!(
            "no configuration satisfying every constraint of the space with the fixed values \
             was found in {max_draws} draws"
        )))
    }

    /// Every active, feasible combination of a space whose parameters are all
    /// discrete, in lexicographic order of the parameters (first varies slowest),
    /// within the default [`GridLimits`] and without interruption.
    pub fn enumerate_grid(&self) -> Result<Vec<Vec<f64>>> {
        let flat = self.enumerate_grid_with(GridLimits::default(), &mut || true)?;
        let w = self.params.len();
        Ok(flat.chunks(w).map(<[f64]>::to_vec).collect())
    }

    /// Every active, feasible combination of an all-discrete space, rows of
    /// `params().len()` values stored one after another (NaN = inactive), in
    /// lexicographic order of the positions of the values (first parameter
    /// slowest; values of a distribution increase with their position).
    ///
    /// The work is bounded: more than `limits.points` points or more than
    /// `limits.steps` value assignments is an [`Error::InvalidSpace`] naming the
    /// size of the space. `keep_going` is called every [`CHECK_INTERVAL`]
    /// assignments; when it returns false the enumeration stops with an
    /// [`Error::InvalidArgument`] (a binding uses it to notice Ctrl-C and
    /// raises its own error instead).
    pub fn enumerate_grid_with(
        &self,
        limits: GridLimits,
        keep_going: &mut dyn FnMut() -> bool,
    ) -> Result<Vec<f64>> {
        for p in &self.params {
            if p.dist.cardinality().is_none() {
                return Err(Error::InvalidSpace(format!(
                    "parameter '{}': a grid needs discrete parameters; give this float a step",
                    p.name
                )));
            }
        }
        // Constraints are checked as soon as their last parameter is assigned.
        let mut due: Vec<Vec<usize>> = vec![Vec::new(); self.params.len()];
        for (ci, c) in self.constraints.iter().enumerate() {
            if let Some(&last) = c.params().iter().max() {
                due[last].push(ci);
            }
        }
        let mut walk = GridWalk {
            space: self,
            due,
            limits,
            keep_going,
            steps: 0,
            x: vec![f64::NAN; self.params.len()],
            out: Vec::new(),
        };
        walk.visit(0)?;
        Ok(walk.out)
    }

    /// Number of points of the cartesian product of all parameters' values
    /// (conditions and constraints ignored), or None beyond u128.
    pub fn product_size(&self) -> Option<u128> {
        self.params.iter().try_fold(1u128, |acc, p| {
            acc.checked_mul(u128::from(p.dist.cardinality()?))
        })
    }

    fn too_large(&self, what: String) -> Error {
        let size = match self.product_size() {
            Some(s) => format!("{s}"),
            None => "more than 2^128".into(),
        };
        Error::InvalidSpace(format!(
            "the grid of this space is too large to enumerate: {what} (the cartesian product \
             of its parameters has {size} points); narrow the ranges or use another sampler"
        ))
    }
}

/// Interval, in value assignments, between two calls of an enumeration's
/// `keep_going` check.
pub const CHECK_INTERVAL: u64 = 1 << 16;

/// Bounds on the work of [`SearchSpace::enumerate_grid_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridLimits {
    /// Most points the grid may hold ([`GRID_LIMIT`] by default).
    pub points: usize,
    /// Most value assignments the enumeration may make ([`GRID_WORK_LIMIT`] by
    /// default): constraints prune the walk only once their parameters are
    /// assigned, so a sparse feasible set can cost far more than its size.
    pub steps: u64,
}

impl Default for GridLimits {
    fn default() -> Self {
        GridLimits {
            points: GRID_LIMIT,
            steps: GRID_WORK_LIMIT,
        }
    }
}

/// The depth-first walk of [`SearchSpace::enumerate_grid_with`].
struct GridWalk<'a, 'k> {
    space: &'a SearchSpace,
    due: Vec<Vec<usize>>,
    limits: GridLimits,
    keep_going: &'k mut dyn FnMut() -> bool,
    steps: u64,
    x: Vec<f64>,
    out: Vec<f64>,
}

impl GridWalk<'_, '_> {
    fn step(&mut self) -> Result<()> {
        self.steps += 1;
        if self.steps > self.limits.steps {
            return Err(self.space.too_large(format!(
                "more than {} steps of enumeration",
                self.limits.steps
            )));
        }
        if self.steps % CHECK_INTERVAL == 0 && !(self.keep_going)() {
            return Err(Error::InvalidArgument(
                "the grid enumeration was interrupted".into(),
            ));
        }
        Ok(())
    }

    fn visit(&mut self, i: usize) -> Result<()> {
        let space = self.space;
        let w = space.params.len();
        if i == w {
            if self.out.len() / w.max(1) >= self.limits.points {
                return Err(space.too_large(format!("more than {} points", self.limits.points)));
            }
            self.out.extend_from_slice(&self.x);
            return Ok(());
        }
        let p = &space.params[i];
        let active = match &p.condition {
            None => true,
            Some(c) => c.holds(&space.params, &self.x),
        };
        let card = if active {
            p.dist.cardinality().unwrap_or(1)
        } else {
            1
        };
        for k in 0..card {
            self.step()?;
            self.x[i] = if active {
                p.dist.discrete_value(k)
            } else {
                f64::NAN
            };
            if self.due[i]
                .iter()
                .all(|&ci| space.constraints[ci].satisfied(&space.params, &self.x))
            {
                self.visit(i + 1)?;
            }
        }
        self.x[i] = f64::NAN;
        Ok(())
    }
}

fn check_constraint(params: &[Param], c: &Constraint) -> Result<()> {
    let n = params.len();
    for i in c.params() {
        if i >= n {
            return Err(Error::InvalidSpace(format!(
                "constraint {c:?} names parameter index {i}, but the space has {n} parameters"
            )));
        }
    }
    let numeric = |i: usize, integral: bool| -> Result<()> {
        let p = &params[i];
        let ok = match (&p.dist, &p.choice_values) {
            (Distribution::Categorical { .. }, Some(vals)) => vals
                .iter()
                .all(|v| matches!(v, Some(x) if !integral || x.fract() == 0.0)),
            (Distribution::Categorical { .. }, None) => false,
            (Distribution::Int { .. }, _) => true,
            (Distribution::Float { .. }, _) => !integral,
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidSpace(format!(
                "parameter '{}': a {} constraint needs {} values",
                p.name,
                if integral { "divisibility" } else { "linear" },
                if integral { "integer" } else { "numeric" }
            )))
        }
    };
    match c {
        Constraint::Divisible { num, den } => {
            numeric(*num, true)?;
            numeric(*den, true)?;
        }
        Constraint::Linear { terms, rhs } => {
            if terms.is_empty() || !rhs.is_finite() || terms.iter().any(|t| !t.1.is_finite()) {
                return Err(Error::InvalidSpace(
                    "a linear constraint needs at least one term and finite coefficients".into(),
                ));
            }
            for t in terms {
                numeric(t.0, false)?;
            }
        }
        Constraint::Forbidden { assignment } => {
            if assignment.is_empty() {
                return Err(Error::InvalidSpace(
                    "a forbidden combination needs at least one parameter".into(),
                ));
            }
            for &(i, v) in assignment {
                if !params[i].dist.contains(v) {
                    return Err(Error::InvalidSpace(format!(
                        "parameter '{}': forbidden value {v} is not a value of its distribution",
                        params[i].name
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The share of the unit interval that `dist.from_unit` maps onto each of
/// its discrete values, in the order of `discrete_value` (uniform but for
/// `log` integers and floats, whose small values get more). Boundaries are
/// found by bisection on `from_unit`, which is non-decreasing.
fn unit_masses(dist: &Distribution) -> Vec<f64> {
    let card = dist.cardinality().unwrap_or(1) as usize;
    let log = matches!(
        dist,
        Distribution::Int { log: true, .. } | Distribution::Float { log: true, .. }
    );
    if !log || card <= 1 {
        return vec![1.0 / card.max(1) as f64; card.max(1)];
    }
    // boundary(j): the least u whose value is at least the j-th.
    let boundary = |j: usize| {
        let target = dist.discrete_value(j as u64);
        let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if dist.from_unit(mid) >= target {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    };
    let mut edges = Vec::with_capacity(card + 1);
    edges.push(0.0);
    edges.extend((1..card).map(boundary));
    edges.push(1.0);
    edges.windows(2).map(|e| (e[1] - e[0]).max(0.0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use crate::space::Condition;

    fn cat(name: &str, vals: &[f64]) -> Param {
        Param {
            name: name.into(),
            dist: Distribution::categorical(name, vals.len()).unwrap(),
            condition: None,
            choice_values: Some(vals.iter().map(|v| Some(*v)).collect()),
        }
    }

    fn float(name: &str, lo: f64, hi: f64, cond: Option<Condition>) -> Param {
        Param {
            name: name.into(),
            dist: Distribution::float(name, lo, hi, None, false).unwrap(),
            condition: cond,
            choice_values: None,
        }
    }

    /// The Transformer space of the running example (`ferrotune.examples`), with
    /// d_model % n_heads == 0.
    fn transformer() -> SearchSpace {
        let params = vec![
            cat("d_model", &[128.0, 256.0, 512.0]),
            cat("n_heads", &[4.0, 8.0, 16.0, 3.0]),
            Param {
                name: "optimizer".into(),
                dist: Distribution::categorical("optimizer", 2).unwrap(),
                condition: None,
                choice_values: Some(vec![None, None]),
            },
            float(
                "beta1",
                0.8,
                0.99,
                Some(Condition {
                    parent: 2,
                    values: vec![0.0],
                }),
            ),
        ];
        let cons = vec![Constraint::Divisible { num: 0, den: 1 }];
        SearchSpace::new(params, cons).unwrap()
    }

    #[test]
    fn enumerated_block_never_violates_and_covers_all_feasible() {
        let s = transformer();
        assert_eq!(s.enumerated_combinations(), Some(9));
        let mut rng = Rng::new(3);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            let x = s
                .sample_feasible(100, |u| u.iter_mut().for_each(|v| *v = rng.uniform()))
                .unwrap();
            assert!(s.is_valid(&x), "{x:?}");
            assert_ne!(x[1], 3.0, "n_heads=3 divides no d_model");
            seen.insert((x[0] as i64, x[1] as i64));
            assert_eq!(x[3].is_nan(), x[2] != 0.0);
        }
        assert_eq!(seen.len(), 9);
    }

    #[test]
    fn a_block_keeps_the_log_scale_of_its_integers() {
        // u in 1..1024 (log) under a Linear bound it always meets: the block
        // must draw u as the distribution alone does (about half the draws up
        // to 32); picked uniformly among the combinations it gave 3%.
        let log_int_to = |name: &str, high: i64| Param {
            name: name.into(),
            dist: Distribution::int(name, 1, high, 1, true).unwrap(),
            condition: None,
            choice_values: None,
        };
        let log_int = |name: &str| log_int_to(name, 1024);
        let free = SearchSpace::new(vec![log_int("u")], vec![]).unwrap();
        let bound = Constraint::Linear {
            terms: vec![(0, 1.0)],
            rhs: 1e9,
        };
        let blocked = SearchSpace::new(vec![log_int("u")], vec![bound]).unwrap();
        assert_eq!(blocked.enumerated_combinations(), Some(1024));
        let share = |s: &SearchSpace| {
            let mut rng = Rng::new(11);
            let draws = 4000;
            let small = (0..draws)
                .filter(|_| {
                    let x = s
                        .sample_feasible(10, |u| u.iter_mut().for_each(|v| *v = rng.uniform()))
                        .unwrap();
                    x[0] <= 32.0
                })
                .count();
            small as f64 / draws as f64
        };
        let (a, b) = (share(&free), share(&blocked));
        assert!((a - 0.5).abs() < 0.04, "free {a}");
        assert!((a - b).abs() < 0.03, "free {a}, blocked {b}");
        // A Divisible pair of log integers (1..64 each): small values of the
        // first still come up about as often as without the constraint.
        let pair = SearchSpace::new(
            vec![log_int_to("a", 64), log_int_to("b", 64)],
            vec![Constraint::Divisible { num: 0, den: 1 }],
        )
        .unwrap();
        let mut rng = Rng::new(12);
        let small_a = (0..2000)
            .filter(|_| {
                let x = pair
                    .sample_feasible(10, |u| u.iter_mut().for_each(|v| *v = rng.uniform()))
                    .unwrap();
                assert_eq!(x[0] as i64 % x[1] as i64, 0);
                x[0] <= 8.0
            })
            .count();
        // Without the constraint half the draws have a <= 8 (log scale); a
        // uniform pick among the feasible pairs gave 7%.
        assert!(small_a > 500, "{small_a} of 2000 draws with a <= 8");
    }

    #[test]
    fn linear_constraint_by_rejection() {
        let params = vec![float("x", 0.0, 1.0, None), float("y", 0.0, 1.0, None)];
        let c = Constraint::Linear {
            terms: vec![(0, 1.0), (1, 1.0)],
            rhs: 0.5,
        };
        let s = SearchSpace::new(params, vec![c]).unwrap();
        let mut rng = Rng::new(5);
        for _ in 0..1000 {
            let x = s
                .sample_feasible(10_000, |u| u.iter_mut().for_each(|v| *v = rng.uniform()))
                .unwrap();
            assert!(x[0] + x[1] <= 0.5 + 1e-12);
        }
    }

    #[test]
    fn empty_feasible_set_is_an_error_not_a_hang() {
        let e = SearchSpace::new(
            vec![cat("a", &[3.0, 5.0]), cat("b", &[2.0, 4.0])],
            vec![Constraint::Divisible { num: 0, den: 1 }],
        )
        .unwrap_err();
        assert!(matches!(e, Error::Infeasible(_)));
        let params = vec![float("x", 0.0, 1.0, None)];
        let c = Constraint::Linear {
            terms: vec![(0, 1.0)],
            rhs: -1.0,
        };
        let s = SearchSpace::new(params, vec![c]).unwrap();
        let mut rng = Rng::new(5);
        let r = s.sample_feasible(1000, |u| u.iter_mut().for_each(|v| *v = rng.uniform()));
        assert!(matches!(r, Err(Error::Infeasible(_))));
    }

    #[test]
    fn grid_lists_only_active_feasible_points() {
        let mut s = transformer();
        // beta1 must be discrete for a grid.
        assert!(s.enumerate_grid().is_err());
        s.params[3].dist = Distribution::float("beta1", 0.8, 0.9, Some(0.1), false).unwrap();
        let g = s.enumerate_grid().unwrap();
        // 9 feasible (d_model, n_heads) x (adam with 2 beta1 values + sgd) = 27.
        assert_eq!(g.len(), 27);
        for x in &g {
            assert!(s.is_valid(x), "{x:?}");
        }
    }

    /// A stepped float's grid values are `low + k * step` (0.30000000000000004
    /// for k = 3 of 0.1): a forbidden value or a condition's value written as
    /// 0.3 names the same grid point, for sampled values as for a user's.
    #[test]
    fn stepped_float_values_match_their_grid_points() {
        let x = Param {
            name: "x".into(),
            dist: Distribution::float("x", 0.0, 1.0, Some(0.1), false).unwrap(),
            condition: None,
            choice_values: None,
        };
        let mut m = int("m", 0, 1);
        m.condition = Some(Condition {
            parent: 0,
            values: vec![0.3, 0.7],
        });
        let cons = vec![Constraint::Forbidden {
            assignment: vec![(0, 0.3)],
        }];
        let s = SearchSpace::new(vec![x, m], cons).unwrap();
        let sampled = s.params[0].dist.discrete_value(3);
        assert_ne!(sampled, 0.3);
        assert!(!s.is_feasible(&[sampled, 0.0]));
        assert!(!s.is_feasible(&[0.3, 0.0]));
        let seventh = s.params[0].dist.discrete_value(7);
        assert!(s.is_valid(&[seventh, 1.0]));
        assert!(!s.is_valid(&[seventh, f64::NAN]), "m is active at x = 0.7");
        let grid = s.enumerate_grid().unwrap();
        // 11 values of x, less the forbidden one, and two values of m at 0.7.
        assert_eq!(grid.len(), 11);
        assert!(grid.iter().all(|r| (r[0] - 0.3).abs() > 1e-9));
        assert_eq!(grid.iter().filter(|r| !r[1].is_nan()).count(), 2);
        let mut rng = Rng::new(1);
        for _ in 0..500 {
            let r = s.sample_uniform(&mut rng, 100, &mut |_| Ok(true)).unwrap();
            assert!((r[0] - 0.3).abs() > 1e-9, "{r:?}");
            assert_eq!(r[1].is_nan(), (r[0] - 0.7).abs() > 1e-9, "{r:?}");
        }
    }

    /// `2 a <= 1` with `a` up to 1e308: the term overflows, and an infinite
    /// tolerance used to let every value through.
    #[test]
    fn a_linear_term_that_overflows_is_still_checked() {
        let a = float("a", 0.0, 1e308, None);
        let up = Constraint::Linear {
            terms: vec![(0, 2.0)],
            rhs: 1.0,
        };
        let down = Constraint::Linear {
            terms: vec![(0, -2.0)],
            rhs: 1.0,
        };
        let params = vec![a.clone()];
        assert!(!up.satisfied(&params, &[9e307]));
        assert!(up.satisfied(&params, &[0.25]));
        assert!(down.satisfied(&params, &[9e307]));
        let s = SearchSpace::new(vec![a], vec![up]).unwrap();
        let mut rng = Rng::new(0);
        for _ in 0..50 {
            match s.sample_uniform(&mut rng, 1000, &mut |_| Ok(true)) {
                Ok(x) => assert!(2.0 * x[0] <= 1.0, "{x:?}"),
                Err(e) => assert!(matches!(e, Error::Infeasible(_)), "{e:?}"),
            }
        }
    }

    fn int(name: &str, lo: i64, hi: i64) -> Param {
        Param {
            name: name.into(),
            dist: Distribution::int(name, lo, hi, 1, false).unwrap(),
            condition: None,
            choice_values: None,
        }
    }

    /// A divisibility constraint over 10^6 x 10^6 integers is
    /// refused after a bounded walk, naming the size, instead of running for hours.
    #[test]
    fn grid_enumeration_is_bounded() {
        let s = SearchSpace::new(
            vec![int("a", 0, 1_000_000), int("b", 0, 1_000_000)],
            vec![Constraint::Divisible { num: 0, den: 1 }],
        )
        .unwrap();
        let limits = GridLimits {
            points: GRID_LIMIT,
            steps: 100_000,
        };
        let e = s.enumerate_grid_with(limits, &mut || true).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::InvalidSpace(_)), "{msg}");
        assert!(msg.contains("1000002000001"), "{msg}");
        // Too many points, even without constraints.
        let s = SearchSpace::new(vec![int("a", 0, 999), int("b", 0, 999)], vec![]).unwrap();
        let limits = GridLimits {
            points: 1000,
            steps: u64::MAX,
        };
        let e = s.enumerate_grid_with(limits, &mut || true).unwrap_err();
        assert!(e.to_string().contains("more than 1000 points"), "{e}");
        assert_eq!(s.enumerate_grid().unwrap().len(), 1_000_000);
    }

    #[test]
    fn grid_enumeration_asks_to_keep_going() {
        let s = SearchSpace::new(
            vec![int("a", 0, 1_000_000), int("b", 0, 1_000_000)],
            vec![Constraint::Divisible { num: 0, den: 1 }],
        )
        .unwrap();
        let mut calls = 0u64;
        let limits = GridLimits {
            points: usize::MAX,
            steps: u64::MAX,
        };
        let e = s
            .enumerate_grid_with(limits, &mut || {
                calls += 1;
                calls < 3
            })
            .unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
        assert_eq!(calls, 3);
    }

    /// The enumeration checked against a plain filter of the cartesian product.
    #[test]
    fn grid_matches_filtered_product() {
        let s = SearchSpace::new(
            vec![int("a", 1, 12), int("b", 1, 12), int("c", 0, 3)],
            vec![
                Constraint::Divisible { num: 0, den: 1 },
                Constraint::Linear {
                    terms: vec![(1, 1.0), (2, 1.0)],
                    rhs: 9.0,
                },
            ],
        )
        .unwrap();
        let mut expected = Vec::new();
        for a in 1..=12 {
            for b in 1..=12 {
                for c in 0..=3 {
                    if a % b == 0 && b + c <= 9 {
                        expected.push(vec![a as f64, b as f64, c as f64]);
                    }
                }
            }
        }
        assert_eq!(s.enumerate_grid().unwrap(), expected);
    }

    #[test]
    fn bad_constraints_are_rejected() {
        let params = vec![float("x", 0.0, 1.0, None), cat("c", &[1.0, 2.0])];
        assert!(SearchSpace::new(
            params.clone(),
            vec![Constraint::Divisible { num: 0, den: 1 }]
        )
        .is_err());
        assert!(SearchSpace::new(
            params.clone(),
            vec![Constraint::Divisible { num: 1, den: 7 }]
        )
        .is_err());
        assert!(SearchSpace::new(
            params,
            vec![Constraint::Forbidden {
                assignment: vec![(1, 5.0)]
            }]
        )
        .is_err());
    }

    #[test]
    fn fixed_values_are_kept_and_constraints_hold() {
        let s = transformer();
        let mut rng = Rng::new(4);
        // d_model fixed at 256 (index 1); beta1 fixed but inactive when optimizer = 1.
        let fixed = [Some(1.0), None, None, Some(0.9)];
        let mut proposed = 0;
        let mut propose = |i: usize, p: &Param| {
            proposed += 1;
            assert!(
                fixed[i].is_none(),
                "asked for the fixed parameter {}",
                p.name
            );
            Ok(p.dist.from_unit(0.99))
        };
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let x = s
                .sample_with_fixed(&fixed, 1000, &mut propose, &mut rng, &mut |_| Ok(true))
                .unwrap();
            assert!(s.is_valid(&x), "{x:?}");
            assert_eq!(x[0], 1.0);
            assert!(x[3].is_nan() || x[3] == 0.9, "{x:?}");
            seen.insert(x[1] as i64);
        }
        // The sampler always proposes n_heads = 3 (infeasible): uniform draws take
        // over after SAMPLER_DRAWS candidates and find every feasible n_heads.
        assert_eq!(seen, [0, 1, 2].into_iter().collect());
        assert!(proposed >= 200 * SAMPLER_DRAWS);
    }

    #[test]
    fn fixed_sampling_errors_name_the_problem() {
        let s = transformer();
        let mut rng = Rng::new(4);
        let mut propose = |_: usize, p: &Param| Ok(p.dist.from_unit(0.5));
        // 128 % 3 != 0 with every parameter fixed: the first candidate decides.
        let all = [Some(0.0), Some(3.0), Some(1.0), Some(0.9)];
        let mut calls = 0;
        let mut count = |_: &[f64]| {
            calls += 1;
            Ok(true)
        };
        let r = s.sample_with_fixed(&all, 1000, &mut propose, &mut rng, &mut count);
        assert!(matches!(r, Err(Error::Infeasible(m)) if m.contains("fixed configuration")));
        assert_eq!(calls, 0, "accept asked about an invalid configuration");
        let r = s.sample_with_fixed(&[None; 4], 50, &mut propose, &mut rng, &mut |_| Ok(false));
        assert!(matches!(r, Err(Error::Infeasible(m)) if m.contains("50 draws")));
        let r = s.sample_with_fixed(&[None; 3], 50, &mut propose, &mut rng, &mut |_| Ok(true));
        assert!(matches!(r, Err(Error::InvalidArgument(_))));
        let mut failing = |_: usize, _: &Param| Err(Error::InvalidArgument("no".into()));
        let r = s.sample_with_fixed(&[None; 4], 50, &mut failing, &mut rng, &mut |_| Ok(true));
        assert_eq!(r, Err(Error::InvalidArgument("no".into())));
    }

    #[test]
    fn fixed_value_outside_its_distribution_is_named_up_front() {
        let s = transformer();
        let mut rng = Rng::new(5);
        let mut proposed = 0;
        let mut propose = |_: usize, p: &Param| {
            proposed += 1;
            Ok(p.dist.from_unit(0.5))
        };
        let name = &s.params()[1].name;
        for bad in [f64::NAN, 1e9, -1.0] {
            let fixed = [None, Some(bad), None, None];
            let r = s.sample_with_fixed(&fixed, 1000, &mut propose, &mut rng, &mut |_| Ok(true));
            assert!(
                matches!(&r, Err(Error::InvalidArgument(m)) if m.contains(&format!("{name:?}"))),
                "{r:?}"
            );
        }
        assert_eq!(proposed, 0, "draws were spent on an impossible fixed value");
    }
}
