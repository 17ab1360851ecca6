"""Which hyperparameters mattered: parameter importances with Optuna's API.

:func:`get_param_importances` asks an evaluator (a :class:`BaseImportanceEvaluator`) for one
non-negative number per parameter and returns them sorted, largest first, normalised to sum
to one by default. The default evaluator is :class:`PedAnovaImportanceEvaluator`, as in
Optuna 5; :class:`FanovaImportanceEvaluator` and :class:`MeanDecreaseImpurityImportanceEvaluator`
fit ferrotune's Rust random forest. Write your own evaluator by subclassing
:class:`BaseImportanceEvaluator`.
"""

from __future__ import annotations

from ferrotune.importance._base import BaseImportanceEvaluator, get_param_importances
from ferrotune.importance._fanova import FanovaImportanceEvaluator
from ferrotune.importance._mean_decrease_impurity import MeanDecreaseImpurityImportanceEvaluator
from ferrotune.importance._ped_anova import PedAnovaImportanceEvaluator

__all__ = [
    "BaseImportanceEvaluator",
    "FanovaImportanceEvaluator",
    "MeanDecreaseImpurityImportanceEvaluator",
    "PedAnovaImportanceEvaluator",
    "get_param_importances",
]
