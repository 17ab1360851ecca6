from __future__ import annotations

import abc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["BasePruner", "NopPruner"]


class BasePruner(abc.ABC):
    """Base class of pruners, with Optuna's interface."""

    _is_nop = False

    @abc.abstractmethod
    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        """True when ``trial`` should stop now, judged from its intermediate values."""


class NopPruner(BasePruner):
    """Never prunes. The default until ferrotune's multi-fidelity pruners land."""

    _is_nop = True

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        return False
