from __future__ import annotations

from typing import Any, Literal

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers._base import _RustModelSampler, _seed_or_random, check_size
from ferrotune.samplers._de import _check_choice, _check_float

__all__ = ["PSOSampler"]


class PSOSampler(_RustModelSampler):
    """Particle swarm optimisation with constriction, in Rust.

    A swarm of ``swarm_size`` particles moves through the search space; each trial is
    one position of one particle. Each ask moves one of the particles with the fewest
    moves so far, drawn at random (each sweep moves every particle once, and workers
    asking at the same moment spread over the swarm): particle ``i`` at position ``x``
    with velocity ``v`` moves to ``x + v'`` with

    ``v' = χ (v + φ1 r1 (p - x) + φ2 r2 (g - x))``

    (Clerc and Kennedy 2002, constriction of type 1''), where ``p`` is the best
    position among all finished trials of the particle, ``g`` the best of its
    neighbourhood, ``r1`` and ``r2`` uniform per component, and
    ``χ = 2 / |2 - φ - sqrt(φ² - 4φ)|`` with ``φ = φ1 + φ2``. The defaults
    ``φ1 = φ2 = 2.05`` give ``χ ≈ 0.7298`` (Clerc and Kennedy). Each velocity
    component is cut to ``[-max_velocity, max_velocity]`` of its parameter's range
    (half the range by default: Eberhart and Shi 2000 found constriction works best
    with a limit; the full range is their choice, a tighter one keeps particles off the
    walls within tuning budgets). Bounds are absorbing: a component that leaves the
    range stops on the bound and its velocity is set to 0. A new particle starts at a
    uniform position with velocity ``(u - x) / 2``, ``u`` uniform (as Standard PSO
    2007). Topology: ``"global"`` (the default: the swarm's best; Kennedy and Eberhart
    1995) or ``"ring"`` (the best of the particle and its two neighbours by index).
    Default swarm size 20 (Standard PSO 2007's ``10 + 2 sqrt(d)`` gives 16 to 23 for
    4 to 40 parameters).

    Encoding: the same as :class:`~ferrotune.samplers.DESampler`: one coordinate in
    ``[0, 1]`` per parameter (log parameters in log space), ints and stepped floats
    rounded to their grid when decoded, a categorical as one continuous key whose cell
    picks the choice. The particle keeps its continuous position, so rounding only
    affects the evaluated value. Parameters outside the intersection search space are
    drawn uniformly; when the number of modelled parameters changes, particles start
    afresh.

    The swarm lives in the study: each trial records its particle, move number,
    position and velocity (the trial system attribute ``ferrotune:tag``), so threads
    and worker processes sharing a storage move one swarm and a reloaded study goes on
    where it stopped. A move starts from the particle's latest trial, finished or not;
    a FAIL or PRUNED trial only fails to improve its particle's best. While no trial of
    the swarm has a result (many asks before the first tell), particles are drawn
    afresh, uniformly, as there is nothing to move towards. Trials without a
    tag (enqueued ones, those of another sampler) are not part of the swarm. The work
    per ask does not grow with the number of trials.

    On a declared :class:`~ferrotune.SearchSpace`, a position that violates a hard
    constraint or the caller's constraints is drawn again (new ``r1``, ``r2``), up to
    32 times, then replaced by a uniform feasible draw, from which the particle goes on
    with velocity 0: no proposal is ever infeasible.

    Optuna has no particle-swarm sampler. Single-objective studies only.

    Args:
        swarm_size: Number of particles (2 to 100,000; 20).
        cognitive: φ1, the pull towards the particle's own best (2.05).
        social: φ2, the pull towards the neighbourhood's best (2.05). ``φ1 + φ2``
            must exceed 4.
        max_velocity: Velocity limit as a share of each parameter's range, in
            ``(0, 1]`` (0.5).
        topology: ``"global"`` (default) or ``"ring"``.
        seed: Seed of the generator; None draws one.

    Raises:
        InvalidArgumentError: an argument out of its range (its message names it).

    Example:
        >>> sampler = PSOSampler(swarm_size=20, seed=0)
        >>> study = ferrotune.create_study(sampler=sampler)  # doctest: +SKIP
    """

    _needs_after_trial = False

    def __init__(
        self,
        *,
        swarm_size: int = 20,
        cognitive: float = 2.05,
        social: float = 2.05,
        max_velocity: float = 0.5,
        topology: Literal["global", "ring"] = "global",
        seed: int | None = None,
    ) -> None:
        c1 = _check_float("cognitive", cognitive, 0.0, 1e6, open_low=True)
        c2 = _check_float("social", social, 0.0, 1e6, open_low=True)
        if c1 + c2 <= 4.0:
            raise InvalidArgumentError(
                f"cognitive + social must exceed 4 for constriction, got {c1} + {c2}"
            )
        self._config: dict[str, Any] = {
            "swarm_size": check_size("swarm_size", swarm_size, 2),
            "cognitive": c1,
            "social": c2,
            "max_velocity": _check_float("max_velocity", max_velocity, 0.0, 1.0, open_low=True),
            "topology": _check_choice("topology", topology, ("global", "ring")),
        }
        self._seed = _seed_or_random(seed)
        self._rust = self._build()

    def _build(self) -> _core.PsoSamplerCore:
        c = self._config
        return _core.PsoSamplerCore(
            c["swarm_size"],
            c["cognitive"],
            c["social"],
            c["max_velocity"],
            c["topology"],
            self._seed,
        )
