"""Crossover operators of :class:`~ferrotune.samplers.NSGAIISampler` and
:class:`~ferrotune.samplers.NSGAIIISampler` (Optuna's ``optuna.samplers.nsgaii``)."""

from ferrotune.samplers.nsgaii._crossovers import (
    BaseCrossover,
    BLXAlphaCrossover,
    SBXCrossover,
    SPXCrossover,
    UNDXCrossover,
    UniformCrossover,
    VSBXCrossover,
)

__all__ = [
    "BLXAlphaCrossover",
    "BaseCrossover",
    "SBXCrossover",
    "SPXCrossover",
    "UNDXCrossover",
    "UniformCrossover",
    "VSBXCrossover",
]
