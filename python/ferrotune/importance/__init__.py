"""Which hyperparameters mattered: parameter importances with Optuna's API.

:func:`get_param_importances` asks an evaluator (a :class:`BaseImportanceEvaluator`) for one
non-negative number per parameter and returns them sorted, largest first, normalised to sum
to one by default. Write your own evaluator by subclassing :class:`BaseImportanceEvaluator`.
"""

from __future__ import annotations

from ferrotune.importance._base import BaseImportanceEvaluator, get_param_importances

__all__ = ["BaseImportanceEvaluator", "get_param_importances"]
