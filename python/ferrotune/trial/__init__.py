"""Trials: the object an objective receives, snapshots of finished ones, states."""

from ferrotune.trial._base import BaseTrial
from ferrotune.trial._fixed import FixedTrial
from ferrotune.trial._frozen import FrozenTrial, create_trial
from ferrotune.trial._state import TrialState
from ferrotune.trial._trial import Trial

__all__ = ["BaseTrial", "FixedTrial", "FrozenTrial", "Trial", "TrialState", "create_trial"]
