//! Numerical core of Gaussian-process Bayesian optimisation (issue 4).
//!
//! One concern a module, each citing its maths:
//! - [`linalg`]: Cholesky factor (with jitter and an O(n²) append), triangular
//!   solves, log-determinant, inverse;
//! - [`kernel`]: Matérn 5/2 with ARD lengthscales × a categorical Hamming
//!   term, inactive (NaN) dimensions handled, gradients in θ and in x;
//! - [`model`]: the GP with standardised outputs, MAP hyperparameters under the
//!   dimension-scaled priors of Hvarfner et al. 2024, posterior mean/variance
//!   with gradients, and observation appends without a refit;
//! - [`lbfgs`]: L-BFGS with Armijo backtracking and box bounds by projection,
//!   plus a multi-start helper;
//! - [`acquisition`]: LogEI (Ament et al. 2023), EI, PI and UCB (Srinivas et
//!   al. 2010), each with derivatives.
//!
//! Conventions: the objective is *minimised*; inputs are in the unit cube of
//! [`crate::space::Distribution::to_unit`] for floats and integers, choice
//! indices for categoricals, NaN for inactive parameters; acquisition values
//! are *maximised*.

pub mod acquisition;
pub mod kernel;
pub mod lbfgs;
pub mod linalg;
pub mod model;

pub use acquisition::Acquisition;
pub use kernel::{DimKind, Kernel};
pub use model::{FitConfig, Gp, Noise, Prediction, Priors};
