from __future__ import annotations

from typing import Any

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.pruners._base import _RungPruner
from ferrotune.pruners._checks import check_int

__all__ = ["SuccessiveHalvingPruner"]


class SuccessiveHalvingPruner(_RungPruner):
    """Asynchronous successive halving (ASHA), with Optuna's arguments and promotion rule.

    Rung ``k`` is reached at step ``min_resource * reduction_factor **
    (min_early_stopping_rate + k)``. A trial that reaches a rung records its value there
    and goes on when the value ranks in the top ``1 / reduction_factor`` of the values
    recorded at that rung so far, by any trial; otherwise it is pruned. While fewer than
    ``reduction_factor`` values are recorded at a rung, only a value that is the best so
    far goes on (trials cannot be paused and resumed later, as the paper's algorithm
    would). A NaN value at a rung is pruned.

    Paper: Li et al., "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020
    (Algorithm 2).

    The rung bookkeeping runs in Rust (a promotion check is a binary search in the rung's
    sorted values; a check between two rungs reads nothing else).

    Several objectives (Optuna prunes none): each step reports one value per objective
    (``trial.report([v0, v1], step)``) and a trial records its vector at the rung. The
    ``n`` vectors recorded there, its own included, are ordered as in MO-ASHA
    (Schmucker et al., "Multi-objective Asynchronous Successive Halving", arXiv
    2106.12639, 2021) by NSGA-II's non-dominated sorting with crowding distance (Deb et
    al., IEEE TEVC 2002), each objective in its study direction: earlier Pareto fronts
    first, then larger crowding distance. The trial goes on when fewer than ``k = n //
    reduction_factor`` vectors lie strictly ahead of it; when ``k`` is 0, only when no
    vector at the rung dominates it. A NaN in any objective is pruned. A pruned trial
    keeps its last vector as its values. The NSGA-II order is used rather than MO-ASHA's
    epsilon-net because it has no parameter and depends only on the vectors at the rung,
    not on the order trials arrived in. The rung's Pareto fronts are kept in Rust and
    updated as vectors arrive (Li, Deb, Zhang and Kwong's non-domination level update),
    so a check reads the fronts up to the trial's own, not the whole rung.

    **Rung records.** As in Optuna, a trial that reaches rung ``k`` stores its value there
    as the trial system attribute ``completed_rung_{k}``; ferrotune stores the decision
    and the record's place in the study's order with it (``{"values": [v], "promoted":
    bool, "order": n}``). The records are kept by every storage, so a pickled study or a
    study reopened from a database goes on with them. With several workers on one
    SQLite or PostgreSQL study (``ferrotune worker``, processes, ``optimize(n_jobs=...)``),
    a trial reaching a rung is decided in one transaction that locks the study, takes in
    the records the other workers committed before it and stores its own: each decision
    ranks against every record that precedes it, and a promotion is never lost. In memory
    the study's lock orders the decisions of ``n_jobs`` threads the same way.

    Deviations from Optuna: a trial's decision at a rung is final: asked again at the
    same or a later step, a pruned trial stays pruned (Optuna decides again at the next
    rung), so a trial is never both promoted and pruned. ``min_resource="auto"`` is fixed
    by each process from the COMPLETE trials it has seen, so workers started before the
    first trial completes may fix different values: give ``min_resource`` explicitly for
    workers. ``prune(study, trial)`` is not available: the rule is asked through
    ``trial.should_prune()``.

    Args:
        min_resource: The step of the first rung, at least 1, or ``"auto"`` (default):
            the largest last step of the COMPLETE trials divided by 100 (at least 1),
            fixed on the first check after a trial has completed.
        reduction_factor: ``eta``, at least 2. Default 4.
        min_early_stopping_rate: ``s``, at least 0. Default 0.
        bootstrap_count: A trial is pruned at a rung while at most this many values are
            recorded there, its own included. Default 0; needs an explicit
            ``min_resource``.

    Example:
        >>> import ferrotune
        >>> pruner = ferrotune.pruners.SuccessiveHalvingPruner(min_resource=1)
        >>> study = ferrotune.create_study(pruner=pruner)
    """

    def __init__(
        self,
        min_resource: str | int = "auto",
        reduction_factor: int = 4,
        min_early_stopping_rate: int = 0,
        bootstrap_count: int = 0,
    ) -> None:
        if isinstance(min_resource, str):
            if min_resource != "auto":
                raise InvalidArgumentError(
                    f"min_resource must be an int >= 1 or 'auto', got {min_resource!r:.80}"
                )
        else:
            check_int("min_resource", min_resource, 1)
        self._min_resource = min_resource
        self._reduction_factor = check_int("reduction_factor", reduction_factor, 2)
        self._min_early_stopping_rate = check_int(
            "min_early_stopping_rate", min_early_stopping_rate, 0
        )
        self._bootstrap_count = check_int("bootstrap_count", bootstrap_count, 0)
        if self._bootstrap_count > 0 and min_resource == "auto":
            raise InvalidArgumentError(
                "bootstrap_count > 0 needs an explicit min_resource, not 'auto'"
            )
        self._rust = self._build()

    _multi_objective = True

    def _build(self) -> Any:
        r = self._min_resource
        return _core.SuccessiveHalvingPrunerCore(
            None if isinstance(r, str) else r,
            self._reduction_factor,
            self._min_early_stopping_rate,
            self._bootstrap_count,
        )
