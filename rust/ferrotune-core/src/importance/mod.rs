//! Parameter importances: how much each parameter explains the objective.
//!
//! - [`mod@ped_anova`]: PED-ANOVA (Watanabe, Bansal and Hutter 2023), the Pearson
//!   divergence between the Parzen estimators of the top trials and of a
//!   region, with the conditional treatment of Optuna 5 (regimes per
//!   distribution);
//! - [`mod@fanova`]: functional ANOVA on the random forest of [`crate::forest`]
//!   (Hutter, Hoos and Leyton-Brown 2014), exact marginals over the trees'
//!   leaves;
//! - [`mod@mdi`]: mean decrease in impurity of the same forest (scikit-learn's
//!   `feature_importances_`);
//! - [`mod@encoding`]: the parameters as the forest sees them (Optuna's encoding).
//!
//! Each evaluator takes plain columns (one per parameter, internal values)
//! and the trials' objective values; the Python package reads them from the
//! study and owns the public classes.

pub mod encoding;
pub mod fanova;
pub mod mdi;
pub mod ped_anova;

pub use encoding::{encode, Encoded};
pub use fanova::{fanova, fanova_of, FanovaOutcome};
pub use mdi::{feature_importances, mean_decrease_impurity};
pub use ped_anova::{ped_anova, PedAnovaConfig, PedAnovaOutcome, RegimeColumn};
