"""ferrotune's Rust samplers as Optuna samplers (subclasses of ``optuna.samplers.BaseSampler``)."""

from __future__ import annotations

import contextlib
import inspect
import threading
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import optuna
from optuna.distributions import BaseDistribution
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from ferrotune import samplers as _native
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.integration.optuna._access import storage_of, study_id_of, trials_in
from ferrotune.integration.optuna._mirror import CONSTRAINTS_KEY, Mirror, Mirrors, core_dist
from ferrotune.samplers._base import _constraints_func_values
from ferrotune.samplers._qmc import _hashed_uniform
from ferrotune.storages._base import TAG_KEY

__all__ = [
    "BOHBSampler",
    "CmaEsSampler",
    "DEHBSampler",
    "DESampler",
    "GASampler",
    "GPSampler",
    "NSGAIIISampler",
    "NSGAIISampler",
    "PSOSampler",
    "TrustRegionSampler",
    "QMCSampler",
    "RandomSampler",
    "TPESampler",
]


class _Adapter(optuna.samplers.BaseSampler):
    """An Optuna sampler that holds a ferrotune sampler (``_native``), built from the same
    arguments as the ferrotune class ``_native_class``, whose signature it shows."""

    _native_class: ClassVar[type[_native.BaseSampler]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        native = cls.__dict__.get("_native_class")
        if native is not None:
            # help() and inspect show the native constructor's arguments.
            cls.__signature__ = inspect.signature(native)  # type: ignore[attr-defined]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._native: Any = self._native_class(*args, **kwargs)
        self._init_transient()

    def _init_transient(self) -> None:
        """Builds what is not pickled (caches, locks)."""

    def __getstate__(self) -> dict[str, Any]:
        return {"_native": self._native}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._native = state["_native"]
        self._init_transient()

    def reseed_rng(self) -> None:
        """Re-seeds the ferrotune sampler's generator from the operating system."""
        self._native.reseed_rng()

    def __repr__(self) -> str:
        return f"ferrotune.integration.optuna.{type(self).__name__}(seed={self._native._seed})"


class RandomSampler(_Adapter):
    """ferrotune's :class:`~ferrotune.samplers.RandomSampler` as an Optuna sampler.

    Uniform draws from the Rust generator (xoshiro256++); the same seed gives the same
    values in every process. Arguments as the ferrotune class: ``seed`` (None draws one).
    """

    _native_class = _native.RandomSampler

    def _init_transient(self) -> None:
        self._dists: dict[BaseDistribution, Any] = {}
        self._lock = threading.Lock()

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return {}

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        d = self._dists.get(param_distribution)
        if d is None:
            d = self._dists[param_distribution] = core_dist(param_distribution)
        with self._lock:
            u = self._native._rust.uniform()
        return param_distribution.to_external_repr(d.from_unit(u))


class _MirrorAdapter(_Adapter):
    """Drives a ferrotune Rust sampler from a private core that mirrors the Optuna study.

    At every hook the core takes in the trials new or changed since the last call (RUNNING
    ones included, so constant liar sees them). :meth:`infer_relative_search_space` is the
    core's intersection search space; :meth:`sample_relative` asks the Rust sampler for the
    joint values, as a ferrotune study does at the ask; :meth:`sample_independent` asks it
    for one value. A population sampler's tag (its generation) is stored as the trial's
    system attribute ``ferrotune:tag`` and read back by every worker's mirror, so Optuna
    workers on one storage share generations. ``constraints_func`` results are stored as
    Optuna's ``constraints`` system attribute, as Optuna's samplers do.
    """

    #: Whether the sampler refuses studies with several objectives.
    _single_objective: ClassVar[bool] = False
    #: Parameters a PartialFixedSampler around this one holds fixed: the mirror's joint
    #: space leaves them out, as the native study's does.
    _held: tuple[str, ...] = ()

    def _init_transient(self) -> None:
        rust = self._native._rust

        def attach(core: Any, study_name: str) -> None:
            core.set_sampler(rust, study_name)

        self._mirrors = Mirrors(attach)

    @contextlib.contextmanager
    def _holding(self, names: Sequence[str]) -> Iterator[None]:
        """Within the block, the joint values this sampler chooses leave ``names`` out
        (a PartialFixedSampler around it holds them); this sampler alone, in another
        study, keeps them."""
        before, self._held = self._held, tuple(names)
        try:
            yield
        finally:
            self._held = before

    def _check_study(self, study: Study) -> None:
        if self._single_objective and len(study.directions) > 1:
            raise InvalidArgumentError(
                f"{type(self).__name__} optimises a single objective; this study has "
                f"{len(study.directions)}"
            )

    def _relative_enabled(self) -> bool:
        return True

    def _current(self, study: Study, trial: FrozenTrial) -> Mirror:
        """The study's mirror, synced when it does not know the trial yet: within a trial
        the hooks after ``before_trial`` use the state it synced, as a ferrotune study
        samples from the state at the ask (call with the lock held)."""
        m = self._mirrors.known(study)
        if m is None or trial.number >= m.core.n_trials():
            m = self._mirrors.get(study)
        return m

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        # As a ferrotune study at the ask: the Rust sampler chooses the joint values now
        # (kept in the core until the objective suggests them) and tags the trial.
        if self._single_objective and len(study.directions) > 1:
            return  # sample_relative / sample_independent raise
        with self._mirrors.lock:
            self._relative(study, trial, self._mirrors.get(study))

    def _relative(self, study: Study, trial: FrozenTrial, m: Mirror) -> None:
        """Asks the Rust sampler for trial's joint values once, and stores its tag."""
        if not m.take_relative(trial.number):
            return
        m.core.set_held_params(list(self._held))
        m.core.relative(trial.number)
        tag = m.core.tag(trial.number)
        if tag and trial.system_attrs.get(TAG_KEY) != tag:
            storage_of(study).set_trial_system_attr(trial._trial_id, TAG_KEY, tag)

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        if not self._relative_enabled():
            return {}
        with self._mirrors.lock:
            m = self._current(study, trial)
            out: dict[str, BaseDistribution] = {}
            for name, d in m.core.intersection_space():
                dist = m.optuna_dist(name, d)
                if dist is not None and not dist.single():
                    out[name] = dist
            return out

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        self._check_study(study)
        if not search_space:
            return {}
        with self._mirrors.lock:
            m = self._current(study, trial)
            number = trial.number
            self._relative(study, trial, m)
            fixed = trial.system_attrs.get("fixed_params") or {}
            out: dict[str, Any] = {}
            for name, dist in search_space.items():
                got = m.dist(name, dist)
                if got is None or name in fixed:
                    continue
                # The joint value; for a name the sampler left out (or all of them, in
                # its start-up), its own independent draw, as a ferrotune study would
                # make at the suggest. Recorded in the mirror as a ferrotune study does.
                v = m.core.suggest_dist(number, name, got[1])
                m.note_speculative(number, name, got[0], v)
                out[name] = dist.to_external_repr(v)
            return out

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        self._check_study(study)
        with self._mirrors.lock:
            m = self._current(study, trial)
            got = m.dist(param_name, param_distribution)
            if got is None:
                raise InvalidArgumentError(
                    f"parameter {param_name!r}: {param_distribution} cannot be sampled by ferrotune"
                )
            v = m.core.sample_independent(trial.number, param_name, got[1])
        return param_distribution.to_external_repr(v)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        func = getattr(self._native, "_constraints_func", None)
        if func is None or state not in (TrialState.COMPLETE, TrialState.PRUNED):
            return
        cons = _constraints_func_values(func, trial)  # type: ignore[arg-type]
        storage_of(study).set_trial_system_attr(trial._trial_id, CONSTRAINTS_KEY, tuple(cons))


class TPESampler(_MirrorAdapter):
    """ferrotune's :class:`~ferrotune.samplers.TPESampler` (Rust) as an Optuna sampler.

    Takes the ferrotune class's arguments (keyword-only; defaults as there:
    ``multivariate=True``, ``constant_liar=True``, ``n_startup_trials=10``). The Rust
    model is kept between trials in a private core that takes in only new or changed
    trials. With ``group=True`` the joint space is the intersection search space;
    parameters outside it get univariate TPE.

    Example:
        >>> import optuna
        >>> from ferrotune.integration.optuna import TPESampler
        >>> study = optuna.create_study(sampler=TPESampler(seed=0))  # doctest: +SKIP
    """

    _native_class = _native.TPESampler

    def _relative_enabled(self) -> bool:
        return bool(self._native._config["multivariate"])


class GPSampler(_MirrorAdapter):
    """ferrotune's :class:`~ferrotune.samplers.GPSampler` (Rust, no torch) as an Optuna
    sampler, with the ferrotune class's arguments and defaults."""

    _native_class = _native.GPSampler


class CmaEsSampler(_MirrorAdapter):
    """ferrotune's :class:`~ferrotune.samplers.CmaEsSampler` (Rust: restarts, CatCMA,
    margin, lr_adapt) as an Optuna sampler, with the ferrotune class's arguments.
    Generations are kept in the trials' ``ferrotune:tag`` system attribute, shared by
    Optuna workers on one storage. Single objective only (as Optuna's)."""

    _native_class = _native.CmaEsSampler
    _single_objective = True


class NSGAIISampler(_MirrorAdapter):
    """ferrotune's :class:`~ferrotune.samplers.NSGAIISampler` (Rust) as an Optuna sampler,
    with the ferrotune class's arguments; generations kept in ``ferrotune:tag``."""

    _native_class = _native.NSGAIISampler


class NSGAIIISampler(_MirrorAdapter):
    """ferrotune's :class:`~ferrotune.samplers.NSGAIIISampler` (Rust) as an Optuna sampler,
    with the ferrotune class's arguments; generations kept in ``ferrotune:tag``."""

    _native_class = _native.NSGAIIISampler


class DESampler(_MirrorAdapter):
    """ferrotune's :class:`~ferrotune.samplers.DESampler` (differential evolution, Rust) as
    an Optuna sampler, with the ferrotune class's arguments. Single objective."""

    _native_class = _native.DESampler
    _single_objective = True


class PSOSampler(_MirrorAdapter):
    """ferrotune's :class:`~ferrotune.samplers.PSOSampler` (particle swarm, Rust) as an
    Optuna sampler, with the ferrotune class's arguments. Single objective."""

    _native_class = _native.PSOSampler
    _single_objective = True


class TrustRegionSampler(_MirrorAdapter):
    """ferrotune's :class:`~ferrotune.samplers.TrustRegionSampler` (derivative-free trust
    region with quadratic models, Rust) as an Optuna sampler, with the ferrotune class's
    arguments. Single objective."""

    _native_class = _native.TrustRegionSampler
    _single_objective = True


class GASampler(_MirrorAdapter):
    """ferrotune's :class:`~ferrotune.samplers.GASampler` (genetic algorithm or aging
    evolution, Rust) as an Optuna sampler, with the ferrotune class's arguments. Single
    objective."""

    _native_class = _native.GASampler
    _single_objective = True


class BOHBSampler(_MirrorAdapter):
    """ferrotune's :class:`~ferrotune.samplers.BOHBSampler` (Rust) as an Optuna sampler,
    with the ferrotune class's arguments; use it with this module's
    :class:`HyperbandPruner` or :class:`SuccessiveHalvingPruner`. The model sees every
    trial of the study (Optuna's HyperbandPruner would show a sampler one bracket only).
    Single objective."""

    _native_class = _native.BOHBSampler
    _single_objective = True


class DEHBSampler(_MirrorAdapter):
    """ferrotune's :class:`~ferrotune.samplers.DEHBSampler` (differential evolution in
    Hyperband's brackets, Rust) as an Optuna sampler, with the ferrotune class's
    arguments; use it with this module's :class:`HyperbandPruner` given the same
    ``min_resource``, ``max_resource`` and ``reduction_factor``. Single objective."""

    _native_class = _native.DEHBSampler
    _single_objective = True


class QMCSampler(_Adapter):
    """ferrotune's :class:`~ferrotune.samplers.QMCSampler` (Sobol or Halton in Rust) as an
    Optuna sampler, with the ferrotune class's arguments (``scramble`` defaults to True).

    As Optuna's: the relative search space is that of the first COMPLETE trial and each
    trial takes the next point of the sequence, whose position is a study system attribute
    (so a resumed study continues it); parameters outside the space are drawn from a hash
    of the seed, the trial number and the name.
    """

    _native_class = _native.QMCSampler

    def _init_transient(self) -> None:
        self._initial: dict[str, BaseDistribution] | None = None
        self._lock = threading.Lock()
        self._dists: dict[BaseDistribution, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        # The relative search space is kept, as by Optuna's and ferrotune's QMCSampler.
        return {"_native": self._native, "_initial": self._initial}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._initial = state.get("_initial")

    def _core_dist(self, dist: BaseDistribution) -> Any:
        d = self._dists.get(dist)
        if d is None:
            d = self._dists[dist] = core_dist(dist)
        return d

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        if self._initial is None:
            complete = trials_in(study, (TrialState.COMPLETE,))
            if not complete:
                return {}
            self._initial = {
                k: d for k, d in sorted(complete[0].distributions.items()) if not d.single()
            }
        return self._initial

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        key = self._native._counter_key()
        storage, study_id = storage_of(study), study_id_of(study)
        with self._lock:
            index = int(storage.get_study_system_attrs(study_id).get(key, 0))
            storage.set_study_system_attr(study_id, key, index + 1)
            u = self._native._rust.point(index, len(search_space))
        return {
            n: d.to_external_repr(self._core_dist(d).from_unit(x))
            for (n, d), x in zip(search_space.items(), u, strict=True)
        }

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        if self._native._warn and self._initial is not None:
            warnings.warn(
                f"QMCSampler: parameter {param_name!r} is outside the relative search space "
                "and is sampled at random",
                stacklevel=2,
            )
        u = _hashed_uniform(self._native._seed, trial.number, param_name)
        return param_distribution.to_external_repr(self._core_dist(param_distribution).from_unit(u))
