"""ferrotune's samplers and pruners as Optuna plugins.

Change one line of an Optuna script and keep its storage, dashboard and integrations::

    import optuna
    from ferrotune.integration.optuna import TPESampler

    study = optuna.create_study(sampler=TPESampler(seed=0))

Each class subclasses ``optuna.samplers.BaseSampler`` or ``optuna.pruners.BasePruner``
and takes the arguments of the ferrotune class of the same name. The Rust model lives
in a private ferrotune core per Optuna study that mirrors the study's trials and takes
in only the trials new or changed since the last call (RUNNING trials included, for
constant liar). Population samplers keep their generations in the trials' system
attribute ``ferrotune:tag``, so Optuna workers sharing a storage share generations.
:class:`GridSampler` keeps each trial's point in Optuna's system attributes ``grid_id``
and ``search_space``, so Optuna workers sharing a storage share one grid.

Needs Optuna (``pip install ferrotune[optuna]``); ``import ferrotune`` alone never
imports it.

:func:`import_study` and :func:`export_study` move a study between an Optuna storage and
a ferrotune one, every trial's fields kept.
"""

try:
    import optuna as _optuna  # noqa: F401
except ImportError as _e:
    from ferrotune.exceptions import MissingDependencyError

    raise MissingDependencyError(
        "ferrotune.integration.optuna needs Optuna: pip install 'ferrotune[optuna]'"
    ) from _e

from ferrotune._optuna_io import export_study, import_study
from ferrotune.integration.optuna._brute_force import BruteForceSampler
from ferrotune.integration.optuna._grid import GridSampler
from ferrotune.integration.optuna._partial_fixed import PartialFixedSampler
from ferrotune.integration.optuna._pruners import (
    HyperbandPruner,
    MedianPruner,
    NopPruner,
    PatientPruner,
    PercentilePruner,
    SuccessiveHalvingPruner,
    ThresholdPruner,
    WilcoxonPruner,
)
from ferrotune.integration.optuna._samplers import (
    BOHBSampler,
    CmaEsSampler,
    DEHBSampler,
    DESampler,
    GASampler,
    GPSampler,
    NSGAIIISampler,
    NSGAIISampler,
    PSOSampler,
    QMCSampler,
    RandomSampler,
    TPESampler,
    TrustRegionSampler,
)

__all__ = [
    "BOHBSampler",
    "BruteForceSampler",
    "CmaEsSampler",
    "DEHBSampler",
    "DESampler",
    "GASampler",
    "GPSampler",
    "GridSampler",
    "HyperbandPruner",
    "MedianPruner",
    "NSGAIIISampler",
    "NSGAIISampler",
    "NopPruner",
    "PSOSampler",
    "TrustRegionSampler",
    "PartialFixedSampler",
    "PatientPruner",
    "PercentilePruner",
    "QMCSampler",
    "RandomSampler",
    "SuccessiveHalvingPruner",
    "TPESampler",
    "ThresholdPruner",
    "WilcoxonPruner",
    "export_study",
    "import_study",
]
