"""Pruners: decide from intermediate values whether a trial should stop early."""

from ferrotune.pruners._base import BasePruner, NopPruner

__all__ = ["BasePruner", "NopPruner"]
