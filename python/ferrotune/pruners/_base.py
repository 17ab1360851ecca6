from __future__ import annotations

import abc
import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["BasePruner", "NopPruner"]


@functools.cache
def _prune_written_outside(cls: type[BasePruner]) -> bool:
    """:meth:`BasePruner._own_prune` of a class (once per class: ``should_prune`` asks)."""
    return not cls.prune.__module__.startswith("ferrotune.pruners")


class BasePruner(abc.ABC):
    """Base class of pruners, with Optuna's interface.

    Subclass it and write :meth:`prune` for a pruner of your own: ``trial.should_prune()``
    calls it with the study and a snapshot of the running trial. The pruners shipped with
    ferrotune run their rule in Rust instead, in one call per ``should_prune``; a subclass
    of one that overrides ``prune`` (to log, veto or add a rule) is asked through its
    ``prune``, and ``super().prune(study, trial)`` gives the shipped rule's decision
    (for ``SuccessiveHalvingPruner`` and ``HyperbandPruner``, whose rungs live in the
    study, only as the study's own pruner: not inside a ``PatientPruner``).
    """

    _is_nop = False
    #: Whether the pruner's rule is defined for studies with several objectives.
    _multi_objective = False
    #: The Rust core of a pruner whose rule runs in Rust (None for a Python pruner).
    _rust: Any = None

    @abc.abstractmethod
    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        """True when ``trial`` should stop now, judged from its intermediate values."""

    def _own_prune(self) -> bool:
        """Whether :meth:`prune` is written outside ferrotune: a Python pruner, or a
        subclass of a shipped pruner that overrides it (to log, veto or add a rule, as
        Optuna users do), whose ``prune`` must then be asked."""
        return _prune_written_outside(type(self))

    def _rust_for_checks(self) -> Any:
        """The Rust core ``should_prune`` calls in place of :meth:`prune`; None when
        ``prune`` must be asked (see :meth:`_own_prune`)."""
        return None if self._own_prune() else self._rust

    def _never_prunes(self) -> bool:
        """Whether ``should_prune`` may answer False without asking (a NopPruner whose
        ``prune`` is its own)."""
        return self._is_nop and not self._own_prune()


class NopPruner(BasePruner):
    """Never prunes. A study's default pruner is
    :class:`~ferrotune.pruners.MedianPruner`, as in Optuna."""

    _is_nop = True

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        return False


class _RustPruner(BasePruner):
    """Base of the pruners whose rule runs in a Rust core (``_core.*PrunerCore``).

    A subclass's constructor checks and stores its arguments as attributes and sets
    ``self._rust = self._build()``. A study hands the core to its own record, so
    ``trial.should_prune()`` is one call; :meth:`prune` (Optuna's interface, for code
    that calls a pruner directly) computes the same rule from ``study.get_trials()``.
    A pickle holds the arguments only: the core's statistics are a cache of the study.
    """

    def _build(self) -> Any:
        """The Rust core for this pruner's arguments."""
        raise NotImplementedError

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_rust"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._rust = self._build()

    def __repr__(self) -> str:
        args = ", ".join(f"{k.lstrip('_')}={v!r}" for k, v in self.__getstate__().items())
        return f"{type(self).__name__}({args})"


class _RungPruner(_RustPruner):
    """Base of the pruners whose rungs live in the study (successive halving, Hyperband):
    :meth:`prune` can only ask the study's core, so it answers for a study whose pruner
    this is (a subclass's own ``prune`` calling ``super().prune``)."""

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        """The rule's decision for the running ``trial`` of ``study`` whose pruner this
        is (from a subclass's own ``prune``, through ``super().prune``): the rungs live
        in the study, so a study of another pruner cannot be asked."""
        decided = study.pruned_in_core(self, trial.number)
        if decided is None:
            raise NotImplementedError(
                f"{type(self).__name__} keeps its rungs in the study: ask "
                "trial.should_prune() of a study whose pruner it is"
            )
        return decided
