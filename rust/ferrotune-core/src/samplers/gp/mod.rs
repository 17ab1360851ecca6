//! Numerical core of Gaussian-process Bayesian optimisation (issue 4).
//!
//! - [`linalg`]: Cholesky factor (with jitter and an O(n²) append), triangular
//!   solves, log-determinant, inverse;
//! - [`kernel`]: Matérn 5/2 with ARD lengthscales × a categorical Hamming
//!   term, inactive (NaN) dimensions handled, gradients in θ and in x;
//! - [`model`]: the GP with standardised outputs, MAP hyperparameters under the
//!   dimension-scaled priors of Hvarfner et al. 2024, posterior mean/variance
//!   with gradients, and observation appends without a refit;
//! - [`lbfgs`]: L-BFGS with Armijo backtracking and box bounds by projection,
//!   plus a multi-start helper.

pub mod kernel;
pub mod lbfgs;
pub mod linalg;
pub mod model;

pub use kernel::{DimKind, Kernel};
pub use model::{FitConfig, Gp, Noise, Prediction, Priors};
