from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ferrotune import _core
from ferrotune.samplers._base import _RustSampler, _seed_or_random

if TYPE_CHECKING:
    from ferrotune.distributions import BaseDistribution
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["RandomSampler"]


class RandomSampler(_RustSampler):
    """Uniform random search (Bergstra & Bengio 2012), sampled in Rust.

    Floats are uniform in ``[low, high]`` (in log space with ``log=True``); ints and
    stepped floats give every grid point an equal share; categoricals are uniform.
    On a declared :class:`~ferrotune.SearchSpace` the draw is uniform over the
    *feasible* configurations: constraints between discrete parameters are enumerated
    once, others enforced by rejection.

    Args:
        seed: Seed of the generator (xoshiro256++, seeded through SplitMix64). The
            same seed gives the same sequence of values in every process and every run
            on one platform (across platforms, log-scaled values can differ in their
            last bits). None draws a seed from the operating system.

    Example:
        >>> study = ferrotune.create_study(sampler=RandomSampler(seed=0))  # doctest: +SKIP
    """

    def __init__(self, seed: int | None = None) -> None:
        self._seed = _seed_or_random(seed)
        self._rust = self._build()

    def _build(self) -> _core.RandomSamplerCore:
        return _core.RandomSamplerCore(self._seed)

    @classmethod
    def _upgrade_state(cls, state: dict[str, Any]) -> dict[str, Any]:
        if "_rust" in state:
            return state
        # Earlier versions pickled {"seed", "state": the generator's four words}.
        return {"_seed": state["seed"], "_rust": list(state["state"])}

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        internal = param_distribution._core.from_unit(self._rust.uniform())
        return param_distribution.to_external_repr(internal)
