from __future__ import annotations

from typing import Any

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.pruners._base import _RungPruner
from ferrotune.pruners._checks import check_int

__all__ = ["HyperbandPruner"]


class HyperbandPruner(_RungPruner):
    """Hyperband over asynchronous successive halving, with Optuna's arguments.

    There are ``floor(log_eta(max_resource / min_resource)) + 1`` brackets (``eta`` the
    ``reduction_factor``); bracket ``b`` is a
    :class:`~ferrotune.pruners.SuccessiveHalvingPruner` whose first rung is at step
    ``min_resource * eta ** b``, so later brackets prune less eagerly. Each trial belongs
    to one bracket, chosen deterministically from the study's name and the trial's number
    (the CRC-32 of ``"{study_name}_{number}"``, as Optuna does, so the same study gives
    the same brackets), in proportion to the number of configurations the paper gives
    each bracket, ``ceil(n_brackets * eta ** s / (s + 1))`` with ``s = n_brackets - 1 -
    b``. A trial competes only with trials of its own bracket.

    Paper: Li et al., "Hyperband: A Novel Bandit-Based Approach to Hyperparameter
    Optimization", JMLR 18, 2018 (Algorithm 1), run asynchronously.

    Rung records are stored and shared by the storage as for
    :class:`~ferrotune.pruners.SuccessiveHalvingPruner` (``completed_rung_{k}``, ``k`` the
    rung within the trial's bracket): workers on one database study, a pickled study and
    a reopened one all rank against the same records.

    Deviations from Optuna: a pruned trial stays pruned (see
    :class:`~ferrotune.pruners.SuccessiveHalvingPruner`); ``max_resource="auto"`` is fixed
    by each process from the COMPLETE trials it has seen, so give it explicitly for
    several workers, or for a study pickled, copied or loaded again that goes on (the
    brackets depend on it; each of these fixes it again from the trials it finds, where
    Optuna's pickled pruner keeps its value); samplers see every trial of the study,
    not only those of the trial's bracket (Optuna's TPE reads its bracket's trials only);
    the arguments are checked when the pruner is built, not at its first use.
    ``prune(study, trial)`` is not available: ask ``trial.should_prune()``.

    Several objectives (Optuna prunes none): trials report one value per objective and
    each bracket promotes by non-dominated rank and crowding distance at its rungs, as
    MO-ASHA (Schmucker et al., arXiv 2106.12639, 2021) does; see "Several objectives" in
    :class:`~ferrotune.pruners.SuccessiveHalvingPruner` for the rule.

    Args:
        min_resource: The step of the first rung of bracket 0, at least 1. Default 1.
        max_resource: The largest step a trial reaches, at least ``min_resource``, or
            ``"auto"`` (default): the largest last step of the COMPLETE trials plus one,
            once the first trial completes (no pruning before).
        reduction_factor: ``eta``, at least 2. Default 3.
        bootstrap_count: Passed to every bracket; needs an explicit ``max_resource``.
            Default 0.

    Example:
        >>> import ferrotune
        >>> pruner = ferrotune.pruners.HyperbandPruner(min_resource=1, max_resource=27)
        >>> study = ferrotune.create_study(pruner=pruner)
    """

    def __init__(
        self,
        min_resource: int = 1,
        max_resource: str | int = "auto",
        reduction_factor: int = 3,
        bootstrap_count: int = 0,
    ) -> None:
        self._min_resource = check_int("min_resource", min_resource, 1)
        if isinstance(max_resource, str):
            if max_resource != "auto":
                raise InvalidArgumentError(
                    f"max_resource must be an int >= 1 or 'auto', got {max_resource!r:.80}"
                )
        else:
            max_resource = check_int("max_resource", max_resource, 1)
            if max_resource < self._min_resource:
                # Optuna takes it and never prunes (one bracket whose first rung is past
                # the last step).
                raise InvalidArgumentError(
                    f"max_resource ({max_resource}) must be at least min_resource "
                    f"({self._min_resource})"
                )
        self._max_resource = max_resource
        self._reduction_factor = check_int("reduction_factor", reduction_factor, 2)
        self._bootstrap_count = check_int("bootstrap_count", bootstrap_count, 0)
        if self._bootstrap_count > 0 and max_resource == "auto":
            raise InvalidArgumentError(
                "bootstrap_count > 0 needs an explicit max_resource, not 'auto'"
            )
        self._rust = self._build()

    _multi_objective = True

    def _build(self) -> Any:
        m = self._max_resource
        return _core.HyperbandPrunerCore(
            self._min_resource,
            None if isinstance(m, str) else m,
            self._reduction_factor,
            self._bootstrap_count,
        )
