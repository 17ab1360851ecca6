from __future__ import annotations

import math
import numbers
from typing import Any

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.pruners._checks import check_int
from ferrotune.samplers._base import _RustModelSampler, _seed_or_random

_MAX_RATIO = 10**9


__all__ = ["DEHBSampler"]


class DEHBSampler(_RustModelSampler):
    """DEHB (Awad, Mallik and Hutter 2021): differential evolution inside Hyperband's brackets.

    Use it with :class:`~ferrotune.pruners.HyperbandPruner` and give both the same
    ``min_resource``, ``max_resource`` and ``reduction_factor``::

        pruner = HyperbandPruner(min_resource=1, max_resource=27)
        sampler = DEHBSampler(min_resource=1, max_resource=27)

    The budgets are Hyperband's rungs, ``min_resource * eta**i``; each has a
    subpopulation of the paper's size (the largest number of configurations any bracket
    evaluates at that budget; 27, 9, 6 and 4 for budgets 1, 3, 9, 27 with ``eta`` 3).
    A trial's value at a budget is the value it reported at that exact step (a COMPLETE
    trial's return value replaces its value at its last step).

    How DEHB's synchronous brackets map onto asynchronous pruning: a trial is one
    training run that the pruner stops or lets go on, and the sampler chooses a
    configuration only when a trial starts. So

    - a new trial is the DE mutant for the subpopulation of its bracket's lowest budget
      (the bracket is the pruner's, from the study's name and the trial's number); its
      slot is the next of a cycling counter and its target that slot's member; the
      mutant is rand/1 (``F = mutation_factor``, 0.5) over three parents from the parent
      pool, the best members of the next lower budget's subpopulation (the budget's own
      for the lowest), with the global population added when the pool has fewer than
      three; binomial crossover with the target (``CR = crossover_prob``, 0.5); a
      coordinate outside its range is redrawn uniformly. These are the dehb package's
      defaults.
    - a trial promoted to budget ``b`` *is* the configuration evaluated at ``b``: no new
      mutant is drawn for the higher rungs of a bracket.
    - when a trial finishes, its value at its first budget replaces its slot's member if
      not worse (DE's one-to-one selection); its values at higher budgets (a promotion)
      join those subpopulations in an empty slot or in place of the worst member, when
      better. Trials the sampler did not propose join the same way.

    A trial whose slot is still empty is uniform (the slot's random initial member), as
    are trials before Hyperband's brackets are known (``max_resource="auto"`` waits for a
    COMPLETE trial). Floats and ints evolve on their unit scale (log-scaled for
    ``log=True``), categoricals as cells of ``[0, 1)``; define-by-run parameters present
    in every finished trial evolve, others are uniform; on a declared
    :class:`~ferrotune.SearchSpace` an infeasible child is bred again (up to 32 times)
    and then the constrained uniform sampler answers. The subpopulations are rebuilt
    from the trials' tags (``[3, budget index, slot]``), so workers sharing a study
    evolve one population. The sampler ranks one objective.

    Deviations from the dehb package (0.1.2): promotions instead of new mutants at the
    higher rungs (above); the lowest budget of a bracket draws its parents from the next
    lower budget, as the paper's Algorithm 2 (the package uses the budget's own); a too
    small pool is filled with members of the global population (the package adds
    mutants of it); a promoted configuration takes an empty or the worst slot (the
    package gives it the next slot of its counter).

    Args:
        min_resource: The smallest budget, as the pruner's (1).
        max_resource: The largest budget, as the pruner's (``"auto"``; at least
            ``min_resource`` and at most 10^9 times it: a bracket holds up to their ratio
            of configurations).
        reduction_factor: ``eta``, as the pruner's (3).
        mutation_factor: DE's ``F`` (0.5).
        crossover_prob: DE's ``CR`` (0.5).
        seed: Seed of the generator; None draws one.

    Raises:
        InvalidArgumentError: an argument out of its range.

    Example:
        >>> study = ferrotune.create_study(  # doctest: +SKIP
        ...     sampler=DEHBSampler(max_resource=27),
        ...     pruner=ferrotune.pruners.HyperbandPruner(max_resource=27),
        ... )
    """

    def __init__(
        self,
        *,
        min_resource: int = 1,
        max_resource: str | int = "auto",
        reduction_factor: int = 3,
        mutation_factor: float = 0.5,
        crossover_prob: float = 0.5,
        seed: int | None = None,
    ) -> None:
        min_resource = check_int("min_resource", min_resource, 1)
        if isinstance(max_resource, str):
            if max_resource != "auto":
                raise InvalidArgumentError(
                    f"max_resource must be an int >= 1 or 'auto', got {max_resource!r:.80}"
                )
        else:
            max_resource = check_int("max_resource", max_resource, 1)
            if max_resource < min_resource:
                raise InvalidArgumentError(
                    f"max_resource ({max_resource}) must be at least min_resource ({min_resource})"
                )
        reduction_factor = check_int("reduction_factor", reduction_factor, 2)
        if isinstance(max_resource, int) and max_resource > _MAX_RATIO * min_resource:
            # A bracket holds up to max / min configurations.
            raise InvalidArgumentError(
                f"max_resource must be at most {_MAX_RATIO:,} times min_resource, "
                f"got {max_resource!r}"
            )
        for name, v, low, high in (
            ("mutation_factor", mutation_factor, 0.0, math.inf),
            ("crossover_prob", crossover_prob, 0.0, 1.0),
        ):
            if (
                isinstance(v, bool)
                or not isinstance(v, numbers.Real)
                or not (low <= v <= high)
                or math.isinf(v)
                or (name == "mutation_factor" and v <= 0)
            ):
                raise InvalidArgumentError(f"{name} must be a number in [{low}, {high}], got {v!r}")
        self._config: dict[str, Any] = {
            "min_resource": min_resource,
            "max_resource": max_resource,
            "reduction_factor": reduction_factor,
            "mutation_factor": float(mutation_factor),
            "crossover_prob": float(crossover_prob),
        }
        self._seed = _seed_or_random(seed)
        self._rust = self._build()

    def _build(self) -> _core.DehbSamplerCore:
        c = self._config
        m = c["max_resource"]
        return _core.DehbSamplerCore(
            c["min_resource"],
            None if isinstance(m, str) else m,
            c["reduction_factor"],
            c["mutation_factor"],
            c["crossover_prob"],
            self._seed,
        )
