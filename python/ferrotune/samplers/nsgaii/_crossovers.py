from __future__ import annotations

import math
from typing import Any

from ferrotune.exceptions import InvalidArgumentError

__all__ = [
    "BLXAlphaCrossover",
    "BaseCrossover",
    "SBXCrossover",
    "SPXCrossover",
    "UNDXCrossover",
    "UniformCrossover",
    "VSBXCrossover",
]


def _prob(name: str, value: Any, *, open_low: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}")
    v = float(value)
    ok = (0.0 < v <= 1.0) if open_low else (0.0 <= v <= 1.0)
    if not ok:
        raise InvalidArgumentError(
            f"{name} must be in {'(0' if open_low else '[0'}, 1], got {value!r}"
        )
    return v


class BaseCrossover:
    """Base of the crossover operators of :class:`~ferrotune.samplers.NSGAIISampler`.

    The operators run in Rust; these classes carry their names and arguments, as
    Optuna's classes of the same names do (they cannot be subclassed with a Python
    ``crossover`` method).
    """

    #: The operator's name for the Rust core.
    name: str = ""
    #: Number of parents (2 for every operator implemented).
    n_parents: int = 2

    def _core_args(self) -> dict[str, Any]:
        return {"crossover": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class UniformCrossover(BaseCrossover):
    """Uniform crossover (Syswerda 1989): each parameter from either parent.

    Args:
        swapping_prob: Probability of taking a parameter from the second parent;
            0.5. It replaces the sampler's ``swapping_prob``.
    """

    name = "uniform"

    def __init__(self, swapping_prob: float = 0.5) -> None:
        self.swapping_prob = _prob("swapping_prob", swapping_prob)


class BLXAlphaCrossover(BaseCrossover):
    """BLX-alpha (Eshelman and Schaffer 1992): uniform in the parents' box widened by
    ``alpha`` times its width on each side (in the unit cube of each parameter).

    Args:
        alpha: The widening; 0.5.
    """

    name = "blxalpha"

    def __init__(self, alpha: float = 0.5) -> None:
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
            raise InvalidArgumentError(f"alpha must be a number, got {alpha!r}")
        if not (math.isfinite(alpha) and alpha >= 0):
            raise InvalidArgumentError(f"alpha must be finite and >= 0, got {alpha!r}")
        self.alpha = float(alpha)

    def _core_args(self) -> dict[str, Any]:
        return {"crossover": self.name, "alpha": self.alpha}


class SBXCrossover(BaseCrossover):
    """Simulated binary crossover (Deb and Agrawal 1995), as Optuna's ``SBXCrossover``.

    Args:
        eta: Distribution index; None: 20 with several objectives, 2 with one.
        uniform_crossover_prob: Probability of swapping the two children's values of a
            parameter; 0.5.
        use_child_gene_prob: Probability of taking a child's value rather than the
            parents'; 0.5, in (0, 1].
    """

    name = "sbx"

    def __init__(
        self,
        eta: float | None = None,
        uniform_crossover_prob: float = 0.5,
        use_child_gene_prob: float = 0.5,
    ) -> None:
        if eta is not None:
            if isinstance(eta, bool) or not isinstance(eta, (int, float)):
                raise InvalidArgumentError(f"eta must be a number or None, got {eta!r}")
            if not (math.isfinite(eta) and eta >= 0):
                raise InvalidArgumentError(f"eta must be finite and >= 0, got {eta!r}")
        self.eta = None if eta is None else float(eta)
        self.uniform_crossover_prob = _prob("uniform_crossover_prob", uniform_crossover_prob)
        self.use_child_gene_prob = _prob("use_child_gene_prob", use_child_gene_prob, open_low=True)

    def _core_args(self) -> dict[str, Any]:
        return {
            "crossover": self.name,
            "eta": self.eta,
            "uniform_crossover_prob": self.uniform_crossover_prob,
            "use_child_gene_prob": self.use_child_gene_prob,
        }


class _Missing(BaseCrossover):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise InvalidArgumentError(
            f"{type(self).__name__} is not implemented in ferrotune; use UniformCrossover, "
            "BLXAlphaCrossover or SBXCrossover"
        )


class VSBXCrossover(_Missing):
    """Optuna's vectorised SBX: not implemented (constructing it raises)."""

    name = "vsbx"


class UNDXCrossover(_Missing):
    """Optuna's unimodal normal distribution crossover: not implemented (raises)."""

    name = "undx"
    n_parents = 3


class SPXCrossover(_Missing):
    """Optuna's simplex crossover: not implemented (constructing it raises)."""

    name = "spx"
    n_parents = 3


_BY_NAME: dict[str, type[BaseCrossover]] = {
    c.name: c
    for c in (
        UniformCrossover,
        BLXAlphaCrossover,
        SBXCrossover,
        VSBXCrossover,
        UNDXCrossover,
        SPXCrossover,
    )
}


def _as_crossover(crossover: Any, swapping_prob: float) -> BaseCrossover:
    """``crossover`` (None, a name or an operator) as an operator."""
    if crossover is None:
        return UniformCrossover(swapping_prob)
    if isinstance(crossover, str):
        cls = _BY_NAME.get(crossover.lower())
        if cls is None:
            raise InvalidArgumentError(
                f"crossover must be one of {', '.join(map(repr, _BY_NAME))}, got {crossover!r}"
            )
        return UniformCrossover(swapping_prob) if cls is UniformCrossover else cls()
    if isinstance(crossover, BaseCrossover):
        return crossover
    raise InvalidArgumentError(
        f"crossover must be None, a name or a crossover of ferrotune.samplers.nsgaii, "
        f"got {crossover!r}"
    )
