"""ferrotune: hyperparameter optimisation with an Optuna-style API and a Rust core.

Example:
    >>> import ferrotune
    >>> def objective(trial):
    ...     x = trial.suggest_float("x", -10, 10)
    ...     return (x - 2) ** 2
    >>> study = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=0))
    >>> study.optimize(objective, n_trials=200)
    >>> abs(study.best_params["x"] - 2) < 0.5
    True
"""

from typing import TYPE_CHECKING, Any

# (`logging` installs the default handler of the "ferrotune" logger on import.)
from ferrotune import (
    distributions,
    exceptions,
    logging,
    pruners,
    samplers,
    search_space,
    storages,
    study,
    trial,
)
from ferrotune._hypervolume import hypervolume
from ferrotune._search_space import Condition, Divisible, Forbidden, Linear, SearchSpace
from ferrotune.exceptions import TrialPruned
from ferrotune.study import (
    Study,
    StudyDirection,
    copy_study,
    create_study,
    delete_study,
    get_all_study_names,
    get_all_study_summaries,
    load_study,
)
from ferrotune.trial import FrozenTrial, Trial, TrialState, create_trial

__version__ = "0.1.0"

__all__ = [
    "Condition",
    "Divisible",
    "Forbidden",
    "FrozenTrial",
    "Linear",
    "SearchSpace",
    "Study",
    "StudyDirection",
    "Trial",
    "TrialPruned",
    "TrialState",
    "__version__",
    "copy_study",
    "create_study",
    "create_trial",
    "delete_study",
    "distributions",
    "exceptions",
    "get_all_study_names",
    "get_all_study_summaries",
    "hypergradient",
    "hypervolume",
    "importance",
    "load_study",
    "logging",
    "pruners",
    "samplers",
    "search_space",
    "storages",
    "study",
    "trial",
    "visualization",
]

if TYPE_CHECKING:
    from ferrotune import hypergradient, importance, visualization

#: Submodules reached as attributes (``ferrotune.importance.get_param_importances``, as
#: ``optuna.importance``) but imported on first use, so ``import ferrotune`` stays quick.
_LAZY_SUBMODULES = ("hypergradient", "importance", "visualization")


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"ferrotune.{name}")
    raise AttributeError(f"module 'ferrotune' has no attribute {name!r}")
