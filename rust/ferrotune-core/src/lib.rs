//! ferrotune-core: the plain-Rust engine of ferrotune (no Python in here).
//!
//! - [`space`]: distributions and their internal f64 representation;
//! - [`constraints`]: declared spaces with conditions and hard constraints,
//!   and the constrained sampler;
//! - [`history`]: the trial records of a study, kept as growing columns;
//! - [`samplers`]: random, quasi-random and grid search behind one trait;
//! - [`pareto`], [`hypervolume`]: Pareto dominance, non-dominated sorting,
//!   crowding and the exact hypervolume, for several objectives;
//! - [`pruners`]: early stopping from intermediate values behind one trait;
//! - [`forest`]: the random-forest regressor for mixed, conditional inputs;
//! - [`importance`]: parameter importances (PED-ANOVA, fANOVA, MDI).

pub mod constraints;
pub mod error;
pub mod forest;
pub mod history;
pub mod hypervolume;
pub mod importance;
pub mod pareto;
pub mod pruners;
pub mod rng;
pub mod samplers;
pub mod space;

pub use constraints::{Constraint, SearchSpace};
pub use error::{Error, Result};
pub use history::{History, TrialState};
pub use space::{Condition, Distribution, Param};
