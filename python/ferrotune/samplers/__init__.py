"""Samplers: how each trial's parameters are chosen."""

from ferrotune.samplers import nsgaii as nsgaii  # Optuna's submodule of crossovers
from ferrotune.samplers._auto import AutoSampler
from ferrotune.samplers._base import BaseSampler
from ferrotune.samplers._bohb import BOHBSampler
from ferrotune.samplers._brute_force import BruteForceSampler
from ferrotune.samplers._cmaes import CmaEsSampler
from ferrotune.samplers._de import DESampler
from ferrotune.samplers._dehb import DEHBSampler
from ferrotune.samplers._ga import GASampler
from ferrotune.samplers._gp import GPSampler
from ferrotune.samplers._grid import GridSampler
from ferrotune.samplers._hypergradient import HypergradientSampler
from ferrotune.samplers._nsga import NSGAIIISampler, NSGAIISampler
from ferrotune.samplers._partial_fixed import PartialFixedSampler
from ferrotune.samplers._pso import PSOSampler
from ferrotune.samplers._qmc import QMCSampler
from ferrotune.samplers._random import RandomSampler
from ferrotune.samplers._reinforce import ReinforceSampler
from ferrotune.samplers._rf import RFSampler
from ferrotune.samplers._tpe import TPESampler
from ferrotune.samplers._trust import TrustRegionSampler

__all__ = [
    "AutoSampler",
    "BOHBSampler",
    "BaseSampler",
    "BruteForceSampler",
    "CmaEsSampler",
    "DESampler",
    "DEHBSampler",
    "GASampler",
    "GPSampler",
    "GridSampler",
    "NSGAIIISampler",
    "NSGAIISampler",
    "PartialFixedSampler",
    "PSOSampler",
    "QMCSampler",
    "RandomSampler",
    "ReinforceSampler",
    "RFSampler",
    "TPESampler",
    "TrustRegionSampler",
    "HypergradientSampler",
]
