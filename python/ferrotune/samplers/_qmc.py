from __future__ import annotations

import threading
import warnings
import zlib
from typing import TYPE_CHECKING, Any

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers._base import _RustSampler, _seed_or_random, check_flag
from ferrotune.trial import TrialState

if TYPE_CHECKING:
    from ferrotune._search_space import SearchSpace
    from ferrotune.distributions import BaseDistribution
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["QMCSampler"]


class QMCSampler(_RustSampler):
    """Quasi-Monte Carlo search: low-discrepancy points instead of random ones.

    Define-by-run studies follow Optuna's QMCSampler: the relative search space is the
    space of the first COMPLETE trial (single-valued parameters left out); each later
    trial takes the next point of the sequence for it, and parameters outside it are
    drawn uniformly, from a hash of the seed, the trial number and the parameter name
    (so workers that share a seed draw different values for different trials). On a
    declared :class:`~ferrotune.SearchSpace` every trial takes the next sequence point
    over the whole space (conditions and constraints applied; infeasible points are
    skipped).

    The position in the sequence is kept in the study (a study system attribute named
    after the sequence type, scrambling and seed, as Optuna does), reserved atomically on
    every storage: workers that share a seed and a study, and a resumed study, continue
    one sequence instead of repeating its points. On a declared space the points skipped
    as infeasible are reserved after the fact, so two workers can take the same
    candidate only while both are rejecting infeasible points.

    Deviations from Optuna's ``QMCSampler``: ``scramble`` defaults to True; the
    sequences are computed in Rust without SciPy; declared spaces with conditions and
    constraints are supported; independent draws come from a hash of (seed, trial
    number, parameter name), so they do not depend on which worker draws them, and
    ``independent_sampler`` and ``warn_asynchronous_seeding`` are not accepted.

    Args:
        qmc_type: ``"sobol"`` (the default; Joe & Kuo 2008 direction numbers, up to
            1000 dimensions) or ``"halton"``.
        scramble: Randomise the sequence: linear matrix scrambling plus digital shift for
            Sobol, random digit permutations for Halton. Default True (Optuna's default
            is False; unscrambled Sobol starts at the all-zero corner and repeats the
            same points in every study).
        seed: Seed of the scrambling and of the independent draws; None draws one.
        warn_independent_sampling: Warn when a parameter outside the relative search
            space is sampled at random (True).

    Raises:
        InvalidArgumentError: ``qmc_type`` is neither ``"sobol"`` nor ``"halton"``.

    Example:
        >>> sampler = QMCSampler(qmc_type="halton", seed=0)
        >>> study = ferrotune.create_study(sampler=sampler)  # doctest: +SKIP
    """

    # Independent draws go through `sample_independent`, which warns.
    _fast_independent = False
    _transient = ("_lock",)

    def __init__(
        self,
        *,
        qmc_type: str = "sobol",
        scramble: bool = True,
        seed: int | None = None,
        warn_independent_sampling: bool = True,
    ) -> None:
        if qmc_type not in ("sobol", "halton"):
            raise InvalidArgumentError(f"qmc_type must be 'sobol' or 'halton', got {qmc_type!r}")
        self._qmc_type = qmc_type
        self._scramble = check_flag("scramble", scramble)
        self._seed = _seed_or_random(seed)
        self._warn = check_flag("warn_independent_sampling", warn_independent_sampling)
        self._rust = self._build()
        self._initial_space: dict[str, BaseDistribution] | None = None
        self._init_transient()
        self._draws: dict[tuple[int, str], int] = {}

    def _build(self) -> _core.QmcSamplerCore:
        return _core.QmcSamplerCore(self._qmc_type, self._scramble, self._seed)

    def _init_transient(self) -> None:
        self._lock = threading.Lock()

    @classmethod
    def _upgrade_state(cls, state: dict[str, Any]) -> dict[str, Any]:
        state.pop("_independent", None)  # pickles of still earlier versions
        state.setdefault("_draws", {})
        rust = state["_rust"]
        if isinstance(rust, tuple) and len(rust) == 2:
            # Earlier versions kept the core's state as (index, the generator's words);
            # it is now [scrambling seed, index, words...].
            index, words = rust
            state["_rust"] = [state["_seed"], index, *words]
        return state

    def _counter_key(self) -> str:
        """The study attribute holding the next sequence index of this sequence."""
        seed = f", seed={self._seed}" if self._scramble else ""
        return f"qmc:{self._qmc_type} (scramble={self._scramble}{seed}): next sample id"

    def _reserve(self, study: Study, count: int = 1) -> int:
        return study.next_study_counter(self._counter_key(), count)

    def _sample_space_row(
        self, study: Study, number: int, space: SearchSpace, accept: Any
    ) -> list[float]:
        """A declared space's configuration for trial ``number``: the next feasible
        sequence point from the study's position."""
        with self._lock:
            start = self._reserve(study)
            self._rust.index = start
            row: list[float] = study.core.sample_space(number, space._core, space.max_draws, accept)
            extra = self._rust.index - start - 1
        if extra > 0:
            self._reserve(study, extra)
        return row

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        if self._initial_space is None:
            complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            first = complete[0] if complete else None
            if first is None:
                return {}
            self._initial_space = {
                k: d for k, d in sorted(first.distributions.items()) if not d.single()
            }
        return self._initial_space

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        names = list(search_space)
        u = self._rust.point(self._reserve(study), len(names))
        out: dict[str, Any] = {}
        for n, x in zip(names, u, strict=True):
            dist: BaseDistribution = search_space[n]
            out[n] = dist.to_external_repr(dist._core.from_unit(x))
        return out

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        if self._warn and self._initial_space is not None:
            warnings.warn(
                f"QMCSampler: parameter {param_name!r} is outside the relative search space "
                "and is sampled at random",
                stacklevel=2,
            )
        with self._lock:
            # A declared space redraws a parameter until the constraints hold: each
            # draw of one (trial, name) pair takes the next value of its own stream.
            key = (trial.number, param_name)
            k = self._draws.get(key, 0)
            if len(self._draws) >= 4096:
                self._draws.clear()
            self._draws[key] = k + 1
        u = _hashed_uniform(self._seed, trial.number, param_name, k)
        internal = param_distribution._core.from_unit(u)
        return param_distribution.to_external_repr(internal)


_MASK = (1 << 64) - 1


def _splitmix(x: int) -> int:
    """SplitMix64's output function (Steele et al. 2014): a bijective 64-bit mix."""
    x = (x + 0x9E37_79B9_7F4A_7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58_476D_1CE4_E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D0_49BB_1331_11EB) & _MASK
    return x ^ (x >> 31)


def _hashed_uniform(seed: int, number: int, name: str, k: int = 0) -> float:
    """Draw ``k`` in [0, 1) of the stream fixed by (seed, trial number, parameter name):
    workers that share a seed draw different values for different trials, and a trial's
    values do not depend on which worker or process draws them."""
    key = _splitmix(seed ^ _splitmix(number & _MASK) ^ _splitmix(zlib.crc32(name.encode())))
    return (_splitmix(key ^ (k & _MASK)) >> 11) * 2.0**-53
