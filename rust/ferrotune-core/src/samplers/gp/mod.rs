//! Numerical core of Gaussian-process Bayesian optimisation (issue 4).
//!
//! - [`linalg`]: Cholesky factor (with jitter and an O(n²) append), triangular
//!   solves, log-determinant, inverse;
//! - [`lbfgs`]: L-BFGS with Armijo backtracking and box bounds by projection,
//!   plus a multi-start helper.

pub mod lbfgs;
pub mod linalg;
