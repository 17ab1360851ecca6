from __future__ import annotations

import math
import numbers
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
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
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

    The operators run in Rust on each numerical parameter's unit cube (log scale for
    log parameters); these classes carry their names and arguments, as Optuna's
    classes of the same names do (they cannot be subclassed with a Python
    ``crossover`` method). A child with a value outside its range is made again from
    newly chosen parents, as in Optuna, and clipped to the range after 64 tries
    (Optuna retries without limit).
    """

    #: The operator's name for the Rust core.
    name: str = ""
    #: Number of parents the operator recombines (2, or 3 for UNDX and SPX).
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
        self.alpha = float(_scale("alpha", alpha, allow_none=False) or 0.0)

    def _core_args(self) -> dict[str, Any]:
        return {"crossover": self.name, "alpha": self.alpha}


def _scale(name: str, value: Any, *, allow_none: bool) -> float | None:
    """``value`` as a finite float >= 0 (None passes when allowed)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        kind = "a number or None" if allow_none else "a number"
        raise InvalidArgumentError(f"{name} must be {kind}, got {value!r}")
    if not (math.isfinite(float(value)) and float(value) >= 0):
        raise InvalidArgumentError(f"{name} must be finite and >= 0, got {value!r}")
    return float(value)


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
        self.eta = _scale("eta", eta, allow_none=True)
        self.uniform_crossover_prob = _prob("uniform_crossover_prob", uniform_crossover_prob)
        self.use_child_gene_prob = _prob("use_child_gene_prob", use_child_gene_prob, open_low=True)

    def _core_args(self) -> dict[str, Any]:
        return {
            "crossover": self.name,
            "eta": self.eta,
            "uniform_crossover_prob": self.uniform_crossover_prob,
            "use_child_gene_prob": self.use_child_gene_prob,
        }


class VSBXCrossover(SBXCrossover):
    """vSBX (Ballester and Carter 2003), the modified SBX of Optuna's ``VSBXCrossover``.

    Its spread factors are unbounded, so a child can land anywhere, and the two
    children of the paper are mixed into one as in :class:`SBXCrossover`.

    Args:
        eta: Distribution index; None: 20 with several objectives, 2 with one.
        uniform_crossover_prob: Probability of swapping the two children's values of a
            parameter; 0.5.
        use_child_gene_prob: Probability of taking a child's value rather than the
            parents'; 0.5, in (0, 1].

    Deviation from Optuna: as every operator here, it works in each parameter's unit
    cube; vSBX's formula is not translation-invariant, so its children differ in
    distribution from Optuna's on parameters whose range does not start at 0.
    """

    name = "vsbx"


class UNDXCrossover(BaseCrossover):
    """Unimodal normal distribution crossover (Ono and Kobayashi 1997; Kita, Ono and
    Kobayashi 1999), as Optuna's ``UNDXCrossover``: three parents.

    The child is normal about the midpoint of the first two parents: along their
    line with standard deviation ``sigma_xi`` times their distance, across it with
    ``sigma_eta`` times the third parent's distance to that line.

    Args:
        sigma_xi: Standard deviation along the line; 0.5.
        sigma_eta: Standard deviation across it; None: ``0.35 / sqrt(n)``, ``n`` the
            number of numerical parameters.

    Deviation from Optuna: Optuna draws with standard deviations ``sigma_xi**2`` and
    ``sigma_eta**2``; the paper's (and this) are ``sigma_xi`` and ``sigma_eta``.
    """

    name = "undx"
    n_parents = 3

    def __init__(self, sigma_xi: float = 0.5, sigma_eta: float | None = None) -> None:
        self.sigma_xi = float(_scale("sigma_xi", sigma_xi, allow_none=False) or 0.0)
        self.sigma_eta = _scale("sigma_eta", sigma_eta, allow_none=True)

    def _core_args(self) -> dict[str, Any]:
        return {"crossover": self.name, "sigma_xi": self.sigma_xi, "sigma_eta": self.sigma_eta}


class SPXCrossover(BaseCrossover):
    """Simplex crossover (Tsutsui, Yamamura and Higuchi 1999), as Optuna's
    ``SPXCrossover``: uniform in the simplex of three parents expanded by ``epsilon``
    about its centroid.

    Args:
        epsilon: Expansion rate; None: ``sqrt(n + 2)``, ``n`` the number of numerical
            parameters (Optuna's default; the paper's ``sqrt(m + 1)`` for ``m``
            parents matches it when ``m = n + 1``).
    """

    name = "spx"
    n_parents = 3

    def __init__(self, epsilon: float | None = None) -> None:
        self.epsilon = _scale("epsilon", epsilon, allow_none=True)

    def _core_args(self) -> dict[str, Any]:
        return {"crossover": self.name, "epsilon": self.epsilon}


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
