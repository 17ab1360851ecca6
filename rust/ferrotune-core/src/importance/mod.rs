//! Parameter importances: how much each parameter explains the objective.
//!
//! - [`ped_anova`]: PED-ANOVA (Watanabe, Bansal and Hutter 2023), the Pearson
//!   divergence between the Parzen estimators of the top trials and of a
//!   region, with the conditional treatment of Optuna 5 (regimes per
//!   distribution).
//!
//! Each evaluator takes plain columns (one per parameter, internal values,
//! NaN where a trial lacks the parameter) and the trials' losses; the Python
//! package reads them from the study and owns the public classes.

pub mod ped_anova;

pub use ped_anova::{ped_anova, PedAnovaConfig, PedAnovaOutcome, RegimeColumn};
