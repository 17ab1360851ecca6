"""Trials: the object an objective receives, snapshots of finished ones, states."""

from ferrotune.trial._frozen import FrozenTrial
from ferrotune.trial._state import TrialState
from ferrotune.trial._trial import Trial

__all__ = ["FrozenTrial", "Trial", "TrialState"]
