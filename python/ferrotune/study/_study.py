from __future__ import annotations

import contextlib
import datetime
import inspect
import logging
import math
import numbers
import operator
import os
import threading
import time
import warnings
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune._gc import paused
from ferrotune.distributions import (
    BaseDistribution,
    CategoricalChoiceType,
    CategoricalDistribution,
    _core_dist_key,
    _from_core,
    _warn,
)
from ferrotune.exceptions import (
    FerrotuneError,
    IncompatibleDistributionError,
    InfeasibleSpaceError,
    InvalidArgumentError,
    InvalidDistributionError,
    MultiObjectiveError,
    TrialPruned,
    UnknownStudyError,
    UpdateFinishedTrialError,
)
from ferrotune.pruners import BasePruner, MedianPruner
from ferrotune.samplers import AutoSampler, BaseSampler
from ferrotune.samplers._base import _overrides, _user_overrides
from ferrotune.storages import BaseStorage, get_storage
from ferrotune.storages._base import (
    FIXED_PARAMS_KEY,
    TAG_KEY,
    plain_value,
    split_constraint_attrs,
    to_json,
)
from ferrotune.study._direction import StudyDirection
from ferrotune.trial import FrozenTrial, Trial, TrialState
from ferrotune.trial._frozen import _LazyFrozenTrial, intermediate_values_of
from ferrotune.trial._state import FROM_CORE
from ferrotune.trial._trial import _TrialContext

if TYPE_CHECKING:
    from ferrotune import _core
    from ferrotune._search_space import SearchSpace

__all__ = [
    "Study",
    "create_study",
    "delete_study",
    "get_all_study_names",
    "load_study",
]

_logger = logging.getLogger("ferrotune")

ObjectiveFunc = Callable[[Trial], "float | Sequence[float]"]
Callback = Callable[["Study", FrozenTrial], None]


def _int_argument(value: Any, argument: str) -> int:
    """``value`` as an int, or InvalidArgumentError naming ``argument``."""
    if not isinstance(value, bool):
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise InvalidArgumentError(f"{argument} must be an int, got {value!r} ({type(value).__name__})")


def _range_arguments(start: Any, stop: Any) -> tuple[int, int | None]:
    """``start`` and ``stop`` of a range of trial numbers, checked to be ints >= 0."""
    start = _int_argument(start, "start")
    if start < 0:
        raise InvalidArgumentError(f"start must be >= 0, got {start}")
    if stop is None:
        return start, None
    stop = _int_argument(stop, "stop")
    if stop < 0:
        raise InvalidArgumentError(f"stop must be >= 0 or None, got {stop}")
    return start, stop


class Study:
    """A study: an optimisation run over trials, with Optuna's names and semantics.

    Create one with :func:`create_study` or :func:`load_study`. Trials are run with
    :meth:`optimize`, or by hand with :meth:`ask` and :meth:`tell`; the results are read
    from :attr:`best_trial`, :attr:`best_trials` (several objectives) and
    :meth:`get_trials`. The trial records live in the Rust core of the study's storage,
    so a ``suggest_*`` call of a ferrotune sampler is one call into compiled code.

    A study may be used from several threads (``optimize(n_jobs=...)``, or your own
    threads calling :meth:`ask` and :meth:`tell`), and, on a database storage, from
    several processes at once. It pickles (``pickle``, ``copy.deepcopy``, joblib) with
    its sampler's state; an in-memory study pickles with its trials, a database study
    as its URL.

    Deviations from Optuna's ``Study``: :meth:`ask` and :meth:`optimize` also take a
    declared :class:`~ferrotune.SearchSpace` (``space=``), sampled whole at the ask with
    its conditions and hard constraints.
    """

    def __init__(
        self,
        study_name: str,
        storage: str | BaseStorage | None,
        sampler: BaseSampler | None = None,
        pruner: BasePruner | None = None,
    ) -> None:
        self._storage = get_storage(storage)
        self._study_id = self._storage.get_study_id_from_name(study_name)
        self.study_name = study_name
        self._core = self._storage.get_core(self._study_id)
        self._directions = self._storage.get_study_directions(self._study_id)
        self._n_objectives = len(self._directions)
        self._choices: dict[str, CategoricalDistribution] = self._storage.get_choices(
            self._study_id
        )
        self._dist_cache: dict[tuple[str, tuple[Any, ...]], BaseDistribution] = {}
        self._param_slots: dict[int, tuple[str, BaseDistribution, int]] = {}
        self._fixed: dict[int, dict[str, Any]] = {}
        self._fixed_lock = threading.Lock()
        self._stop_flag = False
        # The message of the TrialPruned each optimize() trial raised, for its log line.
        self._pruned_reasons: dict[int, str] = {}
        # Whether this thread is inside optimize (nested calls are refused, as Optuna's).
        self._in_optimize = threading.local()
        # The trials this object's optimize loops run now (their parameters are in this
        # process's core, where its sampler sees them).
        self._optimizing: set[int] = set()
        self._optimizing_lock = threading.Lock()
        self._token = object()
        self._sampler_key = (self._study_id, "sampler")
        self._owner_map = self._owners()
        self._bind_lock = threading.Lock()
        self._trial_context = _TrialContext(
            self._core,
            self._storage,
            self._study_id,
            self._n_objectives,
            self._choices,
            self._register_choices,
            self._frozen,
        )
        self._trial_context.claim_sampler = self._claim_sampler
        self._trial_context.claim_pruner = self._claim_pruner
        self.pruner = pruner if pruner is not None else MedianPruner()
        self.sampler = sampler if sampler is not None else AutoSampler()

    def __getstate__(self) -> dict[str, Any]:
        # pickle, copy.deepcopy and joblib.dump (Optuna's FAQ way to save an in-memory
        # study): the storage pickles its trial records; the sampler keeps its state.
        with self._fixed_lock:
            fixed = {n: dict(p) for n, p in self._fixed.items()}
        return {
            "study_name": self.study_name,
            "storage": self._storage,
            "sampler": self._sampler,
            "pruner": self.pruner,
            "fixed": fixed,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["study_name"], state["storage"], state["sampler"], state["pruner"]
        )
        self._fixed.update(state["fixed"])

    @property
    def pruner(self) -> BasePruner:
        """The pruner that ``trial.should_prune()`` asks."""
        return self._pruner

    @pruner.setter
    def pruner(self, pruner: BasePruner) -> None:
        if not isinstance(pruner, BasePruner):
            raise InvalidArgumentError(f"pruner must be a BasePruner, got {type(pruner).__name__}")
        self._pruner = pruner
        self._bind_pruner()

    def _bind_pruner(self) -> None:
        # A Rust pruner gets a copy of its own in the study's record: one call per check.
        # A subclass that overrides prune() is asked through it, and its core stays bound
        # for the rung bookkeeping its super().prune() reads (pruned_in_core).
        rust = self._pruner._rust
        bound = rust is not None and bool(self._core.set_pruner(rust, self.study_name))
        if not bound:
            self._core.set_pruner(None)
        self._trial_context.rust_pruner = bound and self._pruner._rust_for_checks() is not None
        self._pruner_in_core = bound
        self._owner_map[self._study_id, "pruner"] = self._token

    def _owners(self) -> dict[tuple[int, str], object]:
        """Which Study object last bound its sampler and its pruner into each study's
        core. Study objects on one storage object share the study's core (``load_study``,
        ``copy_study`` of the same storage); each binds its own again before it asks,
        suggests or checks, so each keeps its own sampler and pruner, as in Optuna.
        (Threads that use two such Study objects at once can still meet in between:
        give each thread its own storage object, or share one Study.)"""
        shared = getattr(self._storage, "__dict__", None)
        if shared is None:  # a storage without attributes: this Study alone
            shared = self.__dict__
        owners: dict[tuple[int, str], object] = shared.setdefault("_ferrotune_core_owners", {})
        return owners

    def _claim(self, what: str) -> None:
        """Binds this Study's sampler or pruner again when another Study object bound
        its own into the shared core since."""
        if self._owner_map.get((self._study_id, what)) is not self._token:
            with self._bind_lock:
                if what == "sampler":
                    self._bind_sampler()
                else:
                    self._bind_pruner()

    def _claim_pruner(self) -> None:
        """:meth:`_claim` of the pruner, for each pruning check."""
        if self._owner_map.get((self._study_id, "pruner")) is not self._token:
            self._claim("pruner")

    def _claim_sampler(self) -> None:
        """:meth:`_claim` of the sampler, for each suggest (one lookup when it holds)."""
        if self._owner_map.get(self._sampler_key) is not self._token:
            self._claim("sampler")

    @property
    def sampler(self) -> BaseSampler:
        """The sampler choosing each trial's parameters."""
        return self._sampler

    @sampler.setter
    def sampler(self, sampler: BaseSampler) -> None:
        if not isinstance(sampler, BaseSampler):
            raise InvalidArgumentError(
                f"sampler must be a BaseSampler, got {type(sampler).__name__}"
            )
        self._sampler = sampler
        # A sampler that delegates to one of several samplers (AutoSampler) is asked
        # before each trial whether it switched; the study then binds again.
        self._switching_sampler = getattr(sampler, "_auto_select", None)
        # One reused from another study restarts before it is bound (not at the first
        # trial, where another thread could sample with the other study's choice).
        serve = getattr(sampler, "_serve", None)
        if serve is not None:
            serve(self)
        self._bind_sampler()

    def _bind_sampler(self) -> None:
        """Chooses the study's paths from the sampler's hooks (see BaseSampler)."""
        sampler = self._sampler
        rust = sampler._rust
        self._fast = rust is not None and bool(self._core.set_sampler(rust, self.study_name))
        if not self._fast:
            self._core.set_sampler(None)
        # Parameters a partially fixed sampler holds: the Rust sampler's joint space
        # leaves them out (Python samplers see PartialFixedSampler's own relative space).
        held = getattr(sampler, "_held_params", ()) if self._fast else ()
        self._core.set_held_params(list(held))
        self._owner_map[self._sampler_key] = self._token
        # Whether `suggest_*` may sample in Rust directly (a sampler can keep its
        # Python `sample_independent`, for example to warn).
        # A subclass's own `sample_independent`, `before_trial` or `after_trial` is called
        # (as Optuna's study calls them), whatever the core could do instead.
        self._rust_independent = (
            self._fast
            and bool(getattr(sampler, "_fast_independent", True))
            and not _user_overrides(sampler, "sample_independent")
        )
        # A storage that writes every parameter gets each value through its trial
        # methods, not from the core's one-call suggest.
        self._fast_suggest = self._rust_independent and not self._storage.writes_params
        self._trial_context.fast_suggest = self._fast_suggest
        self._trial_context.rust_independent = self._rust_independent
        self._hook_before = _user_overrides(sampler, "before_trial") or bool(
            getattr(sampler, "_needs_before_trial", _overrides(sampler, "before_trial"))
        )
        self._hook_after = _user_overrides(sampler, "after_trial") or bool(
            getattr(sampler, "_needs_after_trial", _overrides(sampler, "after_trial"))
        )
        # Rust samplers with a joint model choose relative values inside the core.
        self._relative_in_core = self._fast and bool(getattr(sampler, "_rust_relative", False))
        self._hook_relative = (
            bool(
                getattr(
                    sampler,
                    "_needs_relative",
                    _overrides(sampler, "infer_relative_search_space"),
                )
            )
            and not self._relative_in_core
        )

    # ----------------------------------------------------------------- directions
    @property
    def direction(self) -> StudyDirection:
        """The direction of a single-objective study."""
        if self._n_objectives > 1:
            raise MultiObjectiveError("this study has several objectives; use directions")
        return self._directions[0]

    @property
    def directions(self) -> list[StudyDirection]:
        """The direction of each objective."""
        return list(self._directions)

    # ------------------------------------------------------------------- ask/tell
    def ask(
        self,
        space: SearchSpace | Mapping[str, BaseDistribution] | None = None,
        fixed_distributions: Mapping[str, BaseDistribution] | None = None,
    ) -> Trial:
        """Starts a trial.

        Args:
            space: A declared :class:`~ferrotune.SearchSpace`: the whole configuration is
                sampled now (conditions and hard constraints respected) and is available
                as ``trial.params``. A plain mapping name -> distribution here is taken as
                ``fixed_distributions``, as Optuna's positional ``study.ask({...})``.
            fixed_distributions: Parameters to suggest now, as Optuna's ``ask``.

        Returns:
            The running :class:`Trial`. An enqueued trial is started first.

        Raises:
            StudyNotFoundError: The study was deleted from its storage.

        An error while the trial is being set up (an infeasible space, a sampler or a
        user callable that raises, a bad distribution) leaves no RUNNING trial behind:
        the trial is marked FAIL, with the error in its system attribute
        ``"fail_reason"``, and the error is raised.
        """
        if space is not None or fixed_distributions is not None:
            space, fixed_distributions = self._ask_arguments(space, fixed_distributions)
        # Only a storage that writes parameters has any to write through.
        return self._ask(space, fixed_distributions, write_through=self._storage.writes_params)

    def _ask(
        self,
        space: SearchSpace | None,
        fixed_distributions: Mapping[str, BaseDistribution] | None,
        *,
        write_through: bool | None,
        heartbeat: contextlib.ExitStack[Any] | None = None,
    ) -> Trial:
        """``ask`` after its arguments are checked. ``write_through``: write each
        parameter to a database storage as soon as it is recorded. The trials of
        :meth:`optimize` are told through this Study object, which writes their
        parameters with the trial's next change; a trial handed out by :meth:`ask` may
        be told through another Study object (another worker, a web request), so its
        parameters must not wait in this one. None (optimize's trials): write through
        while other workers' trials run (see :meth:`_others_running`). ``heartbeat``:
        :meth:`optimize`'s trials start beating into it before the sampler sets them
        up, so that a worker lost during a long set-up leaves a trial the stale check
        fails, not one RUNNING for good (and a long set-up never looks stale)."""
        if write_through is None:
            # optimize's trial is its own from its start: a sibling thread's check must
            # not take it for another worker's (hence the lock around start and check).
            with self._optimizing_lock:
                number, fixed = self._start_trial()
                self._optimizing.add(number)
                write_through = self._others_running(number)
        else:
            number, fixed = self._start_trial()
        try:
            if heartbeat is not None:
                heartbeat.enter_context(self._storage.heartbeat(self._study_id, number))
            trial = self._set_up_trial(number, fixed, space, fixed_distributions)
            if write_through:
                trial._write_through = True
                self._storage.flush(self._study_id, number)
            return trial
        except BaseException as e:
            if heartbeat is not None:
                heartbeat.close()
            self._optimizing.discard(number)
            self._fail_started_trial(number, e)
            raise

    def _ask_arguments(
        self, space: Any, fixed_distributions: Any
    ) -> tuple[SearchSpace | None, Mapping[str, BaseDistribution] | None]:
        """Checks ``ask``'s arguments before a trial is created."""
        from ferrotune._search_space import SearchSpace

        if space is not None and not isinstance(space, SearchSpace):
            if not isinstance(space, Mapping):
                raise InvalidArgumentError(
                    f"ask(): expected a SearchSpace or a mapping name -> distribution, "
                    f"got {type(space).__name__}"
                )
            if fixed_distributions is not None:
                raise InvalidArgumentError(
                    "ask(): give the distributions once, either positionally or as "
                    "fixed_distributions="
                )
            space, fixed_distributions = None, space
        if fixed_distributions is not None:
            if not isinstance(fixed_distributions, Mapping):
                raise InvalidArgumentError(
                    "ask(): fixed_distributions must be a mapping name -> distribution, "
                    f"got {type(fixed_distributions).__name__}"
                )
            from ferrotune.distributions import _from_optuna

            converted: dict[str, BaseDistribution] = {}
            for name, dist in fixed_distributions.items():
                if not isinstance(name, str):
                    raise InvalidArgumentError(
                        f"ask(): parameter names must be strings, got {name!r}"
                    )
                if not isinstance(dist, BaseDistribution):
                    dist = _from_optuna(name, dist) or dist  # Optuna's class: converted
                if not isinstance(dist, BaseDistribution):
                    raise InvalidArgumentError(
                        f"ask(): parameter {name!r}: expected a distribution, "
                        f"got {type(dist).__module__}.{type(dist).__name__}"
                    )
                converted[name] = dist
            fixed_distributions = converted
        return space, fixed_distributions

    def _not_found(self) -> FerrotuneError:
        from ferrotune.exceptions import StudyNotFoundError

        return StudyNotFoundError(
            f"study {self.study_name!r} no longer exists in its storage (deleted?)"
        )

    def _check_alive(self) -> None:
        """Raises StudyNotFoundError when the study has been deleted from its storage
        (for a database, this object's record is checked; writes check the database)."""
        try:
            alive = self._storage.get_core(self._study_id) is self._core
        except KeyError:
            alive = False
        if not alive:
            raise self._not_found()

    def _others_running(self, number: int) -> bool:
        """Whether a trial of another worker (not one of this object's optimize loops)
        runs among the 64 trials before ``number``, on a storage that writes parameters,
        with a sampler that places running trials (``_uses_running_params``: the GP, and
        AutoSampler while it runs the GP).

        Then optimize writes its trial's parameters as they are suggested, as Optuna
        always does, rather than with the trial's next change: the GP in the other
        workers counts a running trial whose parameters it sees as a point being
        evaluated (Kriging believer). Alone, or with other samplers (whose draws do not
        repeat a point), a worker keeps the faster deferred writes: on PostgreSQL with
        8 workers, writing through halved the random sampler's throughput."""
        if not (
            self._storage.writes_params and getattr(self._sampler, "_uses_running_params", False)
        ):
            return False
        own = self._optimizing
        is_running = self._core.is_running
        return any(n not in own and is_running(n) for n in range(max(0, number - 64), number))

    def _start_trial(self) -> tuple[int, dict[str, Any]]:
        """A new RUNNING trial (or the oldest enqueued one): its number and the values
        fixed for it.

        Raises:
            StudyNotFoundError: The study has been deleted from its storage.
        """
        self._check_alive()
        try:
            # An enqueued trial (possibly enqueued through another Study object) comes
            # with its fixed values.
            number, fixed = self._storage.start_trial(self._study_id)
        except KeyError:
            # The storage has no record of the study any more.
            raise self._not_found() from None
        if self._fixed:
            fixed.update(self._take_fixed(number))
        return number, fixed

    def _set_up_trial(
        self,
        number: int,
        fixed: dict[str, Any],
        space: SearchSpace | None,
        fixed_distributions: Mapping[str, BaseDistribution] | None,
    ) -> Trial:
        if self._switching_sampler is not None and self._switching_sampler(self, space):
            with self._bind_lock:
                self._bind_sampler()
        else:
            self._claim("sampler")
        trial = Trial(self, number, fixed, self._trial_context)
        if self._relative_in_core and space is None:
            self._core.relative(number)
            self._store_tag(number)
        if self._hook_before or self._hook_relative:
            frozen = self._frozen(number)
            if self._hook_before:
                # A sampler may want the declared space (GridSampler skips its points).
                in_space = getattr(self.sampler, "_before_trial_in_space", None)
                if space is not None and in_space is not None:
                    in_space(self, frozen, space)
                else:
                    self.sampler.before_trial(self, frozen)
                fixed.update(self._take_fixed(number))
            if self._hook_relative:
                rel_space = self.sampler.infer_relative_search_space(self, frozen)
                if space is not None:
                    # The declared space is sampled jointly below, constraints included.
                    rel_space = {k: d for k, d in rel_space.items() if k not in space._index}
                if rel_space:
                    for k, v in self.sampler.sample_relative(self, frozen, rel_space).items():
                        if k not in fixed:
                            fixed[k] = v
                            trial._relative.add(k)
        if space is not None:
            self._sample_declared(trial, space)
        if fixed_distributions:
            for name, dist in fixed_distributions.items():
                trial._suggest(name, dist)
        return trial

    def _fail_started_trial(self, number: int, error: BaseException, when: str = "ask()") -> None:
        """Marks a trial whose set-up (or tell) raised as FAIL, so no RUNNING trial is
        left behind (constant liar would otherwise count it as pending forever)."""
        self._take_fixed(number)
        reason = f"{when} failed: {type(error).__name__}: {error}"
        try:
            self._storage.set_trial_system_attr(self._study_id, number, "fail_reason", reason)
            if not FROM_CORE[self._core.state(number)].is_finished():
                self._storage.finish_trial(self._study_id, number, TrialState.FAIL, [])
        except Exception:  # pragma: no cover - the original error matters more
            _logger.exception("Trial %d: could not mark it FAIL after ask() failed", number)
            return
        _logger.warning("Trial %d failed: %s", number, reason)

    def _take_fixed(self, number: int) -> dict[str, Any]:
        if not self._fixed:
            return {}
        with self._fixed_lock:
            return self._fixed.pop(number, {})

    def _set_fixed(self, number: int, params: Mapping[str, Any]) -> None:
        with self._fixed_lock:
            self._fixed[number] = dict(params)

    def _register_choices(
        self, name: str, choices: Sequence[CategoricalChoiceType] | CategoricalDistribution
    ) -> CategoricalDistribution:
        if isinstance(choices, CategoricalDistribution):
            dist = choices
        else:
            try:
                dist = CategoricalDistribution(choices)
            except InvalidDistributionError as e:
                raise InvalidDistributionError(f"parameter {name!r}: {e}") from None
        known = self._known_choices(name, dist)
        if known is None:
            self._choices[name] = dist
            return dist
        return known

    def _known_choices(
        self, name: str, dist: CategoricalDistribution
    ) -> CategoricalDistribution | None:
        """The choices registered for ``name`` (None: none yet); an
        IncompatibleDistributionError when ``dist`` has other ones."""
        known = self._choices.get(name)
        if known is not None and known != dist:
            raise IncompatibleDistributionError(
                f"parameter {name!r}: categorical choices {dist.choices} differ from the "
                f"choices {known.choices} used earlier in this study"
            )
        return known

    def _store_tag(self, number: int) -> None:
        """Stores the tag the Rust sampler attached to trial ``number`` (a population
        method's generation, see ``Sampler::take_tag`` in the core) as its system attribute,
        so that other workers' samplers and a reloaded study read it."""
        tag = self._core.tag(number)
        if tag:
            self._storage.set_trial_system_attr(self._study_id, number, TAG_KEY, tag)

    def _sample_declared(self, trial: Trial, space: SearchSpace) -> None:
        """Samples a declared space for ``trial`` in Rust (see ``StudyCore.sample_space``):
        the Rust sampler, or the core's constrained sampler around the fixed values
        (enqueued, grid points, partially fixed) and a Python sampler's proposals; the
        space's Python predicates are asked about each candidate."""
        for name, dist in space.distributions.items():
            if isinstance(dist, CategoricalDistribution):
                self._register_choices(name, dist)
        number = trial.number
        accept = space._accept_row if space._predicates else None
        fixed_names = [n for n in space.names if n in trial._fixed]
        if self._fast and not fixed_names:
            # A sampler that keeps its position in the study (QMC) draws the row itself.
            own = getattr(self.sampler, "_sample_space_row", None)
            if own is not None:
                row = own(self, number, space, accept)
            else:
                row = self._core.sample_space(number, space._core, space.max_draws, accept)
                self._store_tag(number)
            self._record_space(number, space, row)
            return
        # A fixed value's warning or error counts only if its parameter is active in
        # the row (an enqueued value for an inactive parameter is ignored, as in Optuna).
        fixed: list[float | None] = []
        problems: dict[int, str | InvalidDistributionError] = {}
        for i, n in enumerate(space.names):
            value, problem = trial._check_preset(n, space.distributions[n])
            fixed.append(value)
            if problem is not None:
                problems[i] = problem
        propose: Callable[[int], float] | None = None
        if not self._rust_independent:
            # The Python sampler proposes the free values of the first candidates.
            frozen = self._frozen(number)
            names, dists = space.names, space.distributions

            def from_sampler(i: int) -> float:
                dist = dists[names[i]]
                value = self.sampler.sample_independent(self, frozen, names[i], dist)
                return float(dist.to_internal_repr(value))

            propose = from_sampler
        # The sampler's seed also seeds the uniform draws after its proposals.
        seed = getattr(self.sampler, "_seed", 0)
        try:
            row = self._core.sample_space(
                number,
                space._core,
                space.max_draws,
                accept,
                fixed,
                propose,
                seed & 0xFFFF_FFFF_FFFF_FFFF if type(seed) is int else 0,
            )
            # The Rust sampler's joint proposal (held values only) tags the trial.
            self._store_tag(number)
        except InfeasibleSpaceError:
            if len(fixed_names) == len(space.names):
                raise InfeasibleSpaceError(
                    f"the fixed configuration {trial._fixed} violates the space's conditions "
                    "or constraints"
                ) from None
            given = {n: v for n, v in trial._fixed.items() if n in space._index}
            with_fixed = f" with the fixed values {given}" if given else ""
            raise InfeasibleSpaceError(
                f"no configuration satisfying every constraint of the space{with_fixed} was "
                f"found in {space.max_draws} draws"
            ) from None
        for i, problem in problems.items():
            if not math.isnan(row[i]):
                if isinstance(problem, InvalidDistributionError):
                    raise problem
                _warn(problem)
        self._record_space(number, space, row)

    def _record_space(self, number: int, space: SearchSpace, row: list[float]) -> None:
        self._storage.record_space_params(self._study_id, number, space, row)

    def tell(
        self,
        trial: Trial | FrozenTrial | int,
        values: float | Sequence[float] | None = None,
        state: TrialState | None = None,
        skip_if_finished: bool = False,
        *,
        gradient: Mapping[str, float] | None = None,
    ) -> FrozenTrial:
        """Finishes a trial.

        Args:
            trial: The trial or its number.
            values: The objective value(s); required for COMPLETE. Without values or
                state (an objective that returned None) the trial fails, with a
                warning, as in Optuna.
            state: COMPLETE (default when values are given), PRUNED or FAIL.
            skip_if_finished: Return quietly for a trial already finished.
            gradient: Optional gradient of the value with respect to continuous float
                parameters, recorded as :meth:`Trial.report_gradient
                <ferrotune.Trial.report_gradient>` does before the trial finishes (not
                in Optuna). A bad gradient raises and leaves the trial RUNNING.

        As in Optuna, a NaN value, a value that is not a number, or the wrong number of
        values marks the trial FAIL with a warning; ``inf`` and ``-inf`` are recorded as
        COMPLETE (samplers treat them as the worst / best possible values).

        Returns:
            The finished trial (its fields are read when first used).

        Raises:
            InvalidArgumentError: ``trial`` is not a trial of this study or a number of
                one, ``state`` is not a finished state, values come with a PRUNED or
                FAIL state, or ``state=COMPLETE`` comes without them (as in Optuna; the
                trial stays RUNNING).
            UpdateFinishedTrialError: The trial has already finished (unless
                ``skip_if_finished``).
        """
        self._check_alive()
        if type(trial) is Trial and trial.study is self:
            number = trial.number  # the common case: a trial this object handed out
        else:
            number = self._trial_number(trial)
        no_value = state is None and values is None
        if state is None or (state == TrialState.COMPLETE and values is None):
            if values is None and not no_value:
                # As Optuna: COMPLETE without values is refused; the trial stays RUNNING.
                raise InvalidArgumentError(
                    "tell(state=COMPLETE) needs values; the trial is still RUNNING"
                )
            state = TrialState.COMPLETE
        if state is not TrialState.COMPLETE:
            try:
                state = TrialState(state)
            except ValueError:
                raise InvalidArgumentError(f"tell(): {state!r} is not a TrialState") from None
        if skip_if_finished and self._core.is_running(number):
            # Another worker may have finished it: skipped quietly then, as Optuna.
            self._storage.sync(self._study_id)
        if not self._core.is_running(number):
            self._not_running(number, FROM_CORE[self._core.state(number)], skip_if_finished)
            return _LazyFrozenTrial(self, number)
        if values is not None and state in (TrialState.PRUNED, TrialState.FAIL):
            # As Optuna (its check, after the finished-trial one and before the trial
            # changes): the values would be lost.
            raise InvalidArgumentError(
                f"tell(): values cannot be given with state {state.name} (a pruned trial "
                "keeps its last reported value); the trial is still RUNNING"
            )

        if gradient is not None:
            self._record_gradient(number, gradient)
        vals: list[float] = []
        if no_value:
            # As Optuna: no value and no state (an objective that returned None) fails
            # the trial, with a warning.
            _logger.warning("Trial %d failed: the value None could not be cast to float", number)
            state = TrialState.FAIL
        elif state == TrialState.COMPLETE:
            problem, vals = self._check_values(values)
            if problem is not None:
                _logger.warning("Trial %d failed: %s", number, problem)
                state = TrialState.FAIL
                vals = []
        elif not state.is_finished():
            raise InvalidArgumentError(f"tell() needs a finished state, got {state!r}")
        elif state == TrialState.PRUNED:
            # As Optuna: a pruned trial keeps its last intermediate value, unless NaN
            # (with several objectives: its last vector, unless it holds a NaN).
            rec = self._core.record(number)
            if rec.intermediate:
                step, last = max(rec.intermediate)
                last_vals = [last, *dict(rec.intermediate_rest).get(step, ())]
                if len(last_vals) == self._n_objectives and not any(map(math.isnan, last_vals)):
                    vals = last_vals
        if self._hook_after:
            # As Optuna: the sampler sees the trial before its state is final; if it
            # raises (a constraints_func that fails, say), the trial is still recorded
            # with its values before the error goes on, so the evaluation is not lost.
            try:
                self.sampler.after_trial(
                    self,
                    self._frozen(number),
                    state,
                    vals if state == TrialState.COMPLETE else None,
                )
            except BaseException:
                self._storage.finish_trial(self._study_id, number, state, vals)
                raise
        # A database storage decides (exactly one RUNNING -> finished transition);
        # the core follows.
        self._storage.finish_trial(self._study_id, number, state, vals)
        if _logger.isEnabledFor(logging.INFO):
            self._log_finished(number, state, vals)
        return _LazyFrozenTrial(self, number)

    def _log_finished(self, number: int, state: TrialState, vals: list[float]) -> None:
        """Optuna's INFO line for a finished trial (with the best trial for one
        objective); a pruned trial gets a short line, a failed one none here (its
        warning is logged where it fails)."""
        if state == TrialState.PRUNED:
            # With the TrialPruned message an objective of optimize() raised, as Optuna.
            reason = self._pruned_reasons.pop(number, "")
            _logger.info("Trial %d pruned.%s", number, f" {reason}" if reason else "")
            return
        if state != TrialState.COMPLETE:
            return
        params = self._frozen(number).params
        names = self.metric_names
        if len(vals) > 1:
            shown: Any = vals if names is None else dict(zip(names, vals, strict=False))
            _logger.info(
                "Trial %d finished with values: %s and parameters: %s.", number, shown, params
            )
            return
        shown = vals[0] if names is None else {names[0]: vals[0]}
        message = f"Trial {number} finished with value: {shown} and parameters: {params}."
        # The best trial this Study object knows as of its last sync (no storage round
        # trip per log line: another worker's better trial shows once this one syncs).
        best = self._core.best_trial(self._directions[0] == StudyDirection.MAXIMIZE)
        if best is not None:
            message += f" Best is trial {best} with value: {self._core.record(best).values[0]}."
        _logger.info(message)

    def _record_gradient(self, number: int, gradient: Mapping[str, float]) -> None:
        """Checks ``gradient`` against trial ``number``'s parameters and stores it."""
        from ferrotune.trial._gradient import GRADIENT_KEY, check_gradient, merged

        checked = check_gradient(gradient, self._frozen(number).distributions, number)
        old = self._storage.get_trial_system_attrs(self._study_id, number).get(GRADIENT_KEY)
        self._storage.set_trial_system_attr(
            self._study_id, number, GRADIENT_KEY, merged(old, checked)
        )

    @staticmethod
    def _not_running(number: int, current: TrialState, skip_if_finished: bool) -> None:
        """Raises for telling a trial that is not RUNNING (returns for a finished one
        with ``skip_if_finished``)."""
        if current.is_finished():
            if skip_if_finished:
                return
            from ferrotune.exceptions import UpdateFinishedTrialError

            raise UpdateFinishedTrialError(
                f"trial {number} has already finished ({current.name}); it cannot be told again"
            )
        raise InvalidArgumentError(
            f"tell(): trial {number} is {current.name}; only a RUNNING trial can be told"
        )

    def _check_values(self, values: Any) -> tuple[str | None, list[float]]:
        if type(values) is float and self._n_objectives == 1:
            # The common case, without building lists.
            if values != values:
                return f"the objective returned NaN: {[values]}", []
            return None, [values]
        seq = values if isinstance(values, (list, tuple)) else [values]
        try:
            vals = [float(v) for v in seq]
        except Exception as e:
            # OverflowError: an int beyond the float range (10**400); any other error
            # of the value's own __float__ fails the trial the same way.
            try:
                shown = repr(values)
            except Exception:
                shown = f"a {type(values).__name__}"
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            why = "" if isinstance(e, (TypeError, ValueError)) else f" ({type(e).__name__}: {e})"
            return f"the objective returned {shown}, which is not a float{why}", []
        if len(vals) != self._n_objectives:
            return (
                f"{len(vals)} value(s) for a study with {self._n_objectives} objective(s)",
                [],
            )
        for v in vals:
            if v != v:
                return f"the objective returned NaN: {vals}", []
        return None, vals

    def _same_study(self, other: Study) -> bool:
        """True when ``other`` is this study, possibly through another Study object
        (another worker of a database storage, or a study loaded again)."""
        if other is self or other._core is self._core:
            return True
        if other.study_name != self.study_name or other._study_id != self._study_id:
            return False
        url = getattr(self._storage, "url", None)
        return url is not None and url == getattr(other._storage, "url", None)

    def _existing_number(self, number: Any, argument: str = "number") -> int:
        """``number`` checked to be an int naming a trial of this study."""
        return self._trial_number(_int_argument(number, argument))

    def _trial_number(self, trial: Any) -> int:
        """The number of ``trial`` (a Trial or FrozenTrial of this study, or a number),
        checked to name an existing trial."""
        if isinstance(trial, Trial):
            if not self._same_study(trial.study):
                raise InvalidArgumentError(
                    f"trial {trial.number} belongs to another study, not {self.study_name!r}"
                )
            number = trial.number
        elif isinstance(trial, FrozenTrial):
            number = trial.number
            if not 0 <= number < self._core.n_trials():
                self._storage.sync(self._study_id)
            if 0 <= number < self._core.n_trials():
                self._check_frozen_is_ours(trial)
        elif isinstance(trial, bool):
            raise InvalidArgumentError(f"expected a trial or a trial number, got {trial!r}")
        else:
            try:
                number = operator.index(trial)
            except TypeError:
                raise InvalidArgumentError(
                    f"expected a Trial, a FrozenTrial or a trial number, got {trial!r} "
                    f"({type(trial).__name__})"
                ) from None
        if not 0 <= number < self._core.n_trials():
            self._storage.sync(self._study_id)
        if not 0 <= number < self._core.n_trials():
            from ferrotune.exceptions import InvalidTrialError

            raise InvalidTrialError(
                f"study {self.study_name!r} has no trial number {number} "
                f"({self._core.n_trials()} trial(s))"
            )
        return number

    def _check_frozen_is_ours(self, trial: FrozenTrial) -> None:
        """Refuses a FrozenTrial of another study: it carries a number but no study,
        so its start time is compared with this study's trial of that number."""
        study = getattr(trial, "_study", None)
        if study is not None:
            if not self._same_study(study):
                raise InvalidArgumentError(
                    f"trial {trial.number} belongs to another study, not {self.study_name!r}"
                )
            return
        started = trial.datetime_start
        if started is None:
            return
        ours = self.get_trial(trial.number).datetime_start
        if ours is not None and ours != started:
            raise InvalidArgumentError(
                f"trial {trial.number} is not a trial of study {self.study_name!r}: its "
                f"start time {started} differs from this study's trial {trial.number} "
                f"({ours})"
            )

    # ------------------------------------------------------------------ optimize
    def optimize(
        self,
        func: ObjectiveFunc,
        n_trials: int | None = None,
        timeout: float | None = None,
        n_jobs: int = 1,
        catch: Iterable[type[Exception]] | type[Exception] | None = (),
        callbacks: Iterable[Callback] | None = None,
        gc_after_trial: bool = False,
        show_progress_bar: bool = False,
        *,
        space: SearchSpace | None = None,
    ) -> None:
        """Runs trials of ``func`` until ``n_trials``, ``timeout``, :meth:`stop` or Ctrl-C.

        Args:
            func: The objective: takes a :class:`Trial`, returns a value (or one per
                objective). Raising :class:`~ferrotune.TrialPruned` marks it PRUNED.
            n_trials: Number of trials to run (None, the default: until timeout or stop).
            timeout: Seconds after which no new trial starts (None: no limit).
            n_jobs: Threads running trials in parallel (1; -1: one per CPU). The Rust
                core releases the GIL around heavy work.
            catch: Exception types that mark the trial FAIL without stopping the study
                (none by default). Any other exception marks it FAIL (traceback logged)
                and is re-raised.
            callbacks: Called as ``callback(study, frozen_trial)`` after each trial.
            gc_after_trial: Run the garbage collector after each trial (False).
            show_progress_bar: Show a tqdm bar with the best value so far (False).
            space: A declared :class:`~ferrotune.SearchSpace` sampled at each ask (None:
                define-by-run, parameters sampled as ``func`` suggests them). A plain
                mapping name -> distribution is taken as a space without conditions or
                constraints.

        Ctrl-C marks the running trial FAIL and re-raises ``KeyboardInterrupt``;
        nothing already recorded is lost.

        Raises:
            RuntimeError: called from inside this study's ``optimize`` in the same thread
                (an objective or a callback), as Optuna refuses it: the inner loop would
                share the outer one's stop flag. Other threads may run ``optimize`` on
                the study at the same time.
        """
        if getattr(self._in_optimize, "active", False):
            raise RuntimeError("Nested invocation of Study.optimize is not allowed")
        if not callable(func):
            raise InvalidArgumentError(
                f"optimize() needs an objective function, got {type(func).__name__}"
            )
        space = self._optimize_space(space)
        if n_trials is not None:
            # numpy integers too, as Optuna accepts.
            try:
                count = -1 if isinstance(n_trials, bool) else operator.index(n_trials)
            except TypeError:
                count = -1
            if count < 0:
                raise InvalidArgumentError(
                    f"n_trials must be an int >= 0 or None, got {n_trials!r}"
                )
            n_trials = count
        if timeout is not None:
            # numpy numbers too, as Optuna accepts.
            ok = isinstance(timeout, numbers.Real) and not isinstance(timeout, bool)
            if not (ok and float(timeout) >= 0):
                raise InvalidArgumentError(
                    f"timeout must be a number >= 0 or None, got {timeout!r}"
                )
            timeout = float(timeout)
        try:
            jobs = 0 if isinstance(n_jobs, bool) else operator.index(n_jobs)
        except TypeError:
            jobs = 0
        if jobs == 0 or jobs < -1:
            raise InvalidArgumentError(f"n_jobs must be a positive int or -1, got {n_jobs!r}")
        n_jobs = jobs
        if n_jobs == -1:
            n_jobs = os.cpu_count() or 1
        catch_t: tuple[type[Exception], ...] = (
            () if catch is None else (catch,) if isinstance(catch, type) else tuple(catch)
        )
        cbs = list(callbacks or [])
        self._in_optimize.active = True
        try:
            self._optimize(
                func,
                n_trials,
                timeout,
                n_jobs,
                catch_t,
                cbs,
                gc_after_trial,
                show_progress_bar,
                space,
            )
        finally:
            self._in_optimize.active = False

    def _optimize(
        self,
        func: ObjectiveFunc,
        n_trials: int | None,
        timeout: float | None,
        n_jobs: int,
        catch_t: tuple[type[Exception], ...],
        cbs: list[Callback],
        gc_after_trial: bool,
        show_progress_bar: bool,
        space: SearchSpace | None,
    ) -> None:
        self._stop_flag = False
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = _progress_bar(n_trials, timeout) if show_progress_bar else None
        budget_lock = threading.Lock()
        started = 0

        def take_budget() -> bool:
            nonlocal started
            with budget_lock:
                if self._stop_flag or (n_trials is not None and started >= n_trials):
                    return False
                if deadline is not None and time.monotonic() >= deadline:
                    return False
                started += 1
                return True

        def worker() -> None:
            self._in_optimize.active = True
            try:
                while take_budget():
                    frozen = self._run_trial(func, catch_t, space)
                    for cb in cbs:
                        cb(self, frozen)
                    if gc_after_trial:
                        import gc

                        gc.collect()
                    if bar is not None:
                        _update_bar(bar, self)
            except BaseException:
                # Stop the other workers at once: waiting for the main thread to
                # notice would let them run trials in the meantime.
                self._stop_flag = True
                raise
            finally:
                self._in_optimize.active = False

        try:
            if n_jobs == 1:
                worker()
            else:
                with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                    futures = [pool.submit(worker) for _ in range(n_jobs)]
                    try:
                        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
                    except BaseException:
                        # Ctrl-C arrives in this thread: no worker starts another
                        # trial; the running ones finish and are recorded.
                        self._stop_flag = True
                        raise
                    for f in done:
                        if f.exception() is not None:
                            self._stop_flag = True
                    for f in futures:
                        f.result()
        finally:
            if bar is not None:
                bar.close()

    @staticmethod
    def _optimize_space(space: Any) -> SearchSpace | None:
        """``optimize``'s ``space``: a SearchSpace, or a mapping name -> distribution
        taken as a SearchSpace without conditions or constraints."""
        from ferrotune._search_space import SearchSpace

        if space is None or isinstance(space, SearchSpace):
            return space
        if isinstance(space, Mapping):
            try:
                return SearchSpace(dict(space))
            except FerrotuneError:
                raise
            except (TypeError, ValueError) as e:
                raise InvalidArgumentError(f"optimize(): space: {e}") from e
        raise InvalidArgumentError(
            "optimize(): space must be a SearchSpace or a mapping name -> distribution, "
            f"got {type(space).__name__}"
        )

    def _run_trial(
        self,
        func: ObjectiveFunc,
        catch: tuple[type[Exception], ...],
        space: SearchSpace | None,
    ) -> FrozenTrial:
        beating = contextlib.ExitStack()
        trial = self._ask(space, None, write_through=None, heartbeat=beating)
        self._optimizing.add(trial.number)
        try:
            try:
                with beating:
                    value = func(trial)
            except TrialPruned as e:
                return self._tell_pruned(trial, e)
            except Exception as e:
                if _is_optunas_trial_pruned(e):
                    # Optuna's TrialPruned (a pruning callback written for Optuna, or code
                    # moved over): the same meaning as ours.
                    return self._tell_pruned(trial, e)
                _logger.warning(
                    "Trial %d failed with %s: %s", trial.number, type(e).__name__, e, exc_info=True
                )
                frozen = self._tell_or_fail(trial, None, TrialState.FAIL)
                if isinstance(e, catch):
                    return frozen
                raise
            except BaseException:
                # Ctrl-C, SystemExit, ...: the trial is recorded FAIL and the study stops.
                self._tell_or_fail(trial, None, TrialState.FAIL)
                self._stop_flag = True
                raise
            if value is None:
                _logger.warning("Trial %d failed: the objective returned None", trial.number)
                return self._tell_or_fail(trial, None, TrialState.FAIL)
            return self._tell_or_fail(trial, value, None)
        finally:
            self._optimizing.discard(trial.number)

    def _tell_pruned(self, trial: Trial, pruned: Exception) -> FrozenTrial:
        """Tells a trial of :meth:`optimize` PRUNED, its log line with the message of the
        TrialPruned its objective raised (as Optuna's)."""
        self._pruned_reasons[trial.number] = str(pruned)
        try:
            return self._tell_or_fail(trial, None, TrialState.PRUNED)
        finally:
            # Read by the log line when INFO is on; never kept past the tell.
            self._pruned_reasons.pop(trial.number, None)

    def _tell_or_fail(self, trial: Trial, value: Any, state: TrialState | None) -> FrozenTrial:
        """``tell`` for a trial of :meth:`optimize`; if telling raises (a sampler's
        ``after_trial``, a storage error), the trial is marked FAIL before the error
        goes on, so that no RUNNING trial is left behind."""
        try:
            return self.tell(trial, value, state=state)
        except BaseException as e:
            if self._core.is_running(trial.number):
                self._fail_started_trial(trial.number, e, when="tell()")
            raise

    def stop(self) -> None:
        """Stops :meth:`optimize` after the running trials finish."""
        self._stop_flag = True

    def enqueue_trial(
        self,
        params: Mapping[str, Any],
        user_attrs: Mapping[str, Any] | None = None,
        skip_if_exists: bool = False,
    ) -> int | None:
        """Queues a trial with fixed parameters; the next :meth:`ask` starts it.

        Parameters not listed are sampled as usual. A fixed value outside the
        distribution suggested for it warns when suggested and the trial goes on, as in
        Optuna; unlike Optuna (which records the value as given, or raises for an
        unknown categorical choice), the trial records the distribution's nearest value
        for a number (clipped to the range, rounded to the step grid) and a sampled
        value for a choice not among the categorical choices, so every recorded value
        lies in its distribution. A fixed value that ``float()`` cannot read (``"0.5"``
        can), for a numeric distribution, raises
        :class:`~ferrotune.exceptions.InvalidDistributionError`.

        Returns:
            The number of the enqueued trial, or None when ``skip_if_exists`` skipped
            it (Optuna returns None).
        """
        self._check_alive()
        if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
            raise InvalidArgumentError(
                f"enqueue_trial: params must be a mapping name -> value, got {params!r}"
            )
        # numpy scalars (np.int64, np.float32, ...) as the Python values they hold, so
        # that every storage can write them.
        params = {k: v.item() if isinstance(v, np.generic) else v for k, v in params.items()}
        if skip_if_exists:
            for t in self._iter_frozen():
                # As Optuna: an enqueued trial's values are its fixed parameters.
                known = t.system_attrs.get(FIXED_PARAMS_KEY, t.params)
                if known.keys() == params.keys() and all(known[k] == v for k, v in params.items()):
                    return None
        if user_attrs is not None and not isinstance(user_attrs, Mapping):
            raise InvalidArgumentError(
                f"enqueue_trial: user_attrs must be a mapping, got {type(user_attrs).__name__}"
            )
        for k, v in (user_attrs or {}).items():  # checked before anything is written
            to_json(v, f"trial user attribute {k!r}")
            self._storage.check_name("trial user attribute", k)
        for k in params:
            self._storage.check_name("parameter", k)
        # The storage keeps the values; start_trial returns them with the trial.
        number = self._storage.enqueue_trial(self._study_id, dict(params))
        for k, v in (user_attrs or {}).items():
            self._storage.set_trial_user_attr(self._study_id, number, k, v)
        return number

    def add_trial(self, trial: FrozenTrial) -> None:
        """Adds a trial (for example from another study) to this study, as Optuna's.

        A finished trial (COMPLETE, PRUNED, FAIL) keeps its parameters, values (a PRUNED
        trial's too), intermediate values, attributes and its start and completion
        times. A WAITING trial is enqueued with its parameters (the next ``ask`` runs
        it, as :meth:`enqueue_trial`), keeping its attributes but not its intermediate
        values, with a warning (a trial holds reports only from when it runs; Optuna
        keeps them). A RUNNING trial is refused: no worker would ever finish it.

        An Optuna ``FrozenTrial`` is taken too (its distributions become ferrotune's).

        Raises:
            InvalidArgumentError: Not a FrozenTrial, a RUNNING one, or a part this study
                cannot hold (checked before anything is written).
        """
        self._check_alive()
        if not isinstance(trial, FrozenTrial) and type(trial).__module__.startswith("optuna."):
            # An Optuna study's trial (moving trials over): the same fields.
            from ferrotune._optuna_io import from_optuna_trial

            trial = from_optuna_trial(trial)
        if not isinstance(trial, FrozenTrial):
            raise InvalidArgumentError(
                f"add_trial needs a FrozenTrial (see ferrotune.trial.create_trial), "
                f"got {type(trial).__module__}.{type(trial).__name__}"
            )
        if trial.state == TrialState.WAITING:
            self._add_waiting(trial)
            return
        if not trial.state.is_finished():
            raise InvalidArgumentError(
                f"add_trial: the trial is {trial.state.name}; a RUNNING trial added here "
                "would stay RUNNING (no worker runs it): add it as WAITING to run it again"
            )
        # Check everything before a trial is created, so bad input leaves nothing behind
        # (against the storage as it is now: other workers may have added parameters).
        self._check_names_storable(trial)
        self._storage.sync(self._study_id)
        vals: list[float] = []
        if trial.state == TrialState.COMPLETE:
            problem, vals = self._check_values(trial.values)
            if problem is not None:
                raise InvalidArgumentError(f"add_trial: {problem}")
        elif trial.state == TrialState.PRUNED and trial.values is not None:
            # Optuna keeps a pruned trial's value (its last intermediate value).
            problem, vals = self._check_values(trial.values)
            if problem is not None:
                raise InvalidArgumentError(f"add_trial: the PRUNED trial's {problem}")
        internals: dict[str, float] = {}
        for name, value in trial.params.items():
            dist = trial.distributions.get(name)
            if dist is None:
                raise InvalidArgumentError(f"add_trial: parameter {name!r} has no distribution")
            internal = dist.to_internal_repr(value)
            if not dist._contains(internal):
                raise InvalidArgumentError(
                    f"add_trial: parameter {name!r}: {value!r} is not a value of {dist!r}"
                )
            if isinstance(dist, CategoricalDistribution):
                self._known_choices(name, dist)  # registered once every check has passed
            self.core.check_dist(name, dist._core)
            internals[name] = internal
        inter = self._checked_intermediate(trial.intermediate_values)
        to_json(dict(trial.user_attrs), "add_trial's user_attrs")
        to_json(dict(trial.system_attrs), "add_trial's system_attrs")
        started, completed = (
            None if d is None else d.timestamp()
            for d in (trial.datetime_start, trial.datetime_complete)
        )
        if started is None:
            started = completed  # no start time: a trial of no duration (not "now")
        elif completed is not None and completed < started:
            raise InvalidArgumentError(
                f"add_trial: the trial completed ({trial.datetime_complete}) before it "
                f"started ({trial.datetime_start})"
            )
        for name in internals:
            dist = trial.distributions[name]
            if isinstance(dist, CategoricalDistribution):
                self._register_choices(name, dist)  # checked above: registers only
        storage, sid = self._storage, self._study_id
        # A storage of the user's own (an older BaseStorage subclass) may not take the
        # times: its trials then get the times of this call.
        number = (
            storage.create_new_trial(sid, started=started)
            if _takes(storage.create_new_trial, "started")
            else storage.create_new_trial(sid)
        )
        for name, internal in internals.items():
            storage.record_param(sid, number, name, trial.distributions[name], internal)
        for step, v in inter.items():
            storage.record_intermediate(sid, number, step, v)
        for k, v in trial.user_attrs.items():
            self._storage.set_trial_user_attr(self._study_id, number, k, v)
        # Constraint values, in any form a trial carries them (Optuna's list or its
        # "constraints:<name>" attributes too), reach the core for constraint-aware samplers.
        system, cons = split_constraint_attrs(trial.system_attrs)
        for k, v in system.items():
            storage.set_trial_system_attr(sid, number, k, v)
        if cons is not None:
            storage.record_constraints(sid, number, cons)
        if _takes(storage.finish_trial, "completed"):
            storage.finish_trial(sid, number, trial.state, vals, completed=completed)
        else:
            storage.finish_trial(sid, number, trial.state, vals)

    def _check_names_storable(self, trial: FrozenTrial) -> None:
        """Refuses, before anything is written, a name of ``trial`` its storage cannot
        hold (a database's: at most 512 characters, no NUL)."""
        check = self._storage.check_name
        for name in trial.params:
            check("parameter", name)
        for key in trial.user_attrs:
            check("trial user attribute", key)
        for key in trial.system_attrs:
            check("trial system attribute", key)

    def _add_waiting(self, trial: FrozenTrial) -> None:
        """``add_trial`` of a WAITING trial: enqueued with its parameters and attributes.
        A trial that ``enqueue_trial`` made holds its values in the system attribute
        ``fixed_params`` (its ``params`` are empty until it runs): those are kept too."""
        self._check_names_storable(trial)
        fixed = trial.system_attrs.get(FIXED_PARAMS_KEY)
        params = {**(fixed if isinstance(fixed, Mapping) else {}), **trial.params}
        for name, value in trial.params.items():
            dist = trial.distributions.get(name)
            if dist is not None and not dist._contains(dist.to_internal_repr(value)):
                raise InvalidArgumentError(
                    f"add_trial: parameter {name!r}: {value!r} is not a value of {dist!r}"
                )
        to_json(dict(trial.user_attrs), "add_trial's user_attrs")
        to_json(dict(trial.system_attrs), "add_trial's system_attrs")
        if trial.intermediate_values:
            warnings.warn(
                f"add_trial: the WAITING trial's {len(trial.intermediate_values)} "
                "intermediate values are not kept (a trial holds reports only from when "
                "it runs)",
                UserWarning,
                stacklevel=3,
            )
        sid = self._study_id
        number = self._storage.enqueue_trial(sid, params)
        for k, v in trial.user_attrs.items():
            self._storage.set_trial_user_attr(sid, number, k, v)
        for k, v in trial.system_attrs.items():
            if k != FIXED_PARAMS_KEY:
                self._storage.set_trial_system_attr(sid, number, k, v)

    def _checked_intermediate(self, values: Mapping[Any, Any]) -> dict[int, Any]:
        """``add_trial``'s intermediate values as ``report`` takes them: a float per step,
        or one float per objective in a study with several."""
        from ferrotune.trial._trial import _report_vector

        n = len(self.directions)
        out: dict[int, Any] = {}
        for step, v in values.items():
            if (
                isinstance(step, bool)
                or not isinstance(step, numbers.Integral)
                or not 0 <= int(step) < 2**63
            ):
                raise InvalidArgumentError(
                    f"add_trial: intermediate step must be an int in [0, 2**63), got {step!r:.80}"
                )
            try:
                # A plain number in a study with several objectives: Optuna's kind of
                # intermediate value (one float), kept as it is.
                vector = n > 1 and not isinstance(v, (int, float, np.number))
                out[int(step)] = _report_vector(v, n) if vector else float(v)
            except (InvalidArgumentError, TypeError, ValueError, OverflowError) as e:
                raise InvalidArgumentError(
                    f"add_trial: intermediate value at step {step}: "
                    f"{str(e).removeprefix('report: ')}"
                ) from e
        if n > 1 and len({isinstance(v, list) for v in out.values()}) > 1:
            # A database storage could not tell the two kinds apart when it reads them back.
            raise InvalidArgumentError(
                "add_trial: intermediate values are all plain numbers (Optuna's kind) or all "
                f"one number per objective, not a mix of both: {dict(values)!r:.120}"
            )
        return out

    def add_trials(self, trials: Iterable[FrozenTrial]) -> None:
        """Adds several finished trials."""
        for t in trials:
            self.add_trial(t)

    # ------------------------------------------------- for samplers and pruners
    # What a sampler, a pruner or a callback may read and change of a study. Code
    # outside this module uses these (and Optuna's public API), never the study's
    # private attributes: tests/test_architecture.py checks it.

    @property
    def core(self) -> _core.StudyCore:
        """The Rust record of this study's trials, for samplers that have a Rust core:
        they read and sample from it, and write through the storage or the study's
        methods. Not part of Optuna's API; its methods may change between versions."""
        return self._core

    @property
    def location(self) -> str | int:
        """Where the study's trials live: its database URL, its journal file, else the
        id of its storage object (an in-memory study is reached through that object).
        Two Study objects of one study share it while they have different cores (two
        ``load_study`` of one URL). Not part of Optuna's API."""
        storage = self._storage
        url = getattr(storage, "url", None)
        if isinstance(url, str):
            return url
        path = getattr(getattr(storage, "_backend", None), "_file_path", None)
        if isinstance(path, str):
            return os.path.realpath(path)
        return id(storage)

    def pruned_in_core(self, pruner: BasePruner, number: int) -> bool | None:
        """The Rust rule's decision on running trial ``number``, for ``pruner`` bound to
        this study: what a rung pruner's ``prune`` returns when a subclass's own
        ``prune`` calls it through ``super()`` (the rungs live in the study, and the
        decision records the trial's rung as ``should_prune`` does). None when
        ``pruner`` is not this study's pruner or has no Rust rule. Not part of Optuna's
        API."""
        if pruner is not self._pruner:
            return None
        self._claim_pruner()
        if not self._pruner_in_core:
            return None
        return bool(self._storage.should_prune(self._study_id, number))

    def get_trial(self, number: int) -> FrozenTrial:
        """A snapshot of trial ``number``, as this Study object holds it.

        With a database storage, changes by other workers arrive at the next
        :meth:`ask` or :meth:`get_trials`; a trial number not seen yet is looked up.

        Raises:
            InvalidArgumentError: ``number`` is not an int.
            InvalidTrialError: The study has no trial ``number`` (as :meth:`tell`).
        """
        return self._frozen(self._existing_number(number))

    def get_trials_from(
        self, start: int, stop: int | None = None, *, sync: bool = True
    ) -> list[FrozenTrial]:
        """Snapshots of the trials numbered ``start`` to ``stop - 1`` (to the last one
        when None), those that exist, read in one call: for samplers that read the
        study incrementally (only the trials added since their last look).

        Args:
            start: The first trial number.
            stop: One past the last trial number; None for every trial from ``start``.
            sync: Like :meth:`get_trials`, first pull other workers' changes from a
                database storage (a round trip). A sampler called at each suggest
                passes False: the study has already synced at the ask.
        """
        self._check_alive()
        start, stop = _range_arguments(start, stop)
        if sync:
            self._storage.sync(self._study_id)
        n = self._core.n_trials()
        with paused():
            return self._frozen_range(start, n if stop is None else min(stop, n))

    def get_trial_states(self, start: int = 0, stop: int | None = None) -> list[TrialState]:
        """The states of the trials numbered ``start`` to ``stop - 1`` (to the last one
        when None), those that exist: a cheap read for code that only counts trials
        (no trial snapshot is built). Like :meth:`get_trials`, it first pulls other
        workers' changes from a database storage.
        """
        self._check_alive()
        start, stop = _range_arguments(start, stop)
        self._storage.sync(self._study_id)
        core = self._core
        stop = core.n_trials() if stop is None else min(stop, core.n_trials())
        return [FROM_CORE[core.state(n)] for n in range(start, stop)]

    def intersection_search_space(self) -> dict[str, BaseDistribution]:
        """Optuna's intersection search space as its samplers see it: each parameter that
        every COMPLETE or PRUNED trial has, with the one distribution they all share
        (computed in the core)."""
        out: dict[str, BaseDistribution] = {}
        for name, dist in self._core.intersection_space():
            choices = self._choices.get(name)
            out[name] = _from_core(dist, choices.choices if choices is not None else None)
        return out

    def set_trial_system_attr(self, number: int, key: str, value: Any) -> None:
        """Stores a system attribute on trial ``number`` (running or finished)."""
        number = self._existing_number(number)
        self._storage.set_trial_system_attr(self._study_id, number, key, value)

    def set_trial_constraints(self, number: int, values: Mapping[str, float]) -> None:
        """Records black-box constraint values (``<= 0`` feasible) of the running trial
        ``number`` by name, for constraint-aware samplers (a sampler's ``after_trial``
        runs before the trial's state is final); they are also the trial's system
        attribute ``"constraints"``, as :meth:`Trial.set_constraint
        <ferrotune.Trial.set_constraint>` stores them.

        Raises:
            UpdateFinishedTrialError: The trial has finished.
        """
        number = self._existing_number(number)
        self._storage.record_constraints(self._study_id, number, dict(values))

    def next_study_counter(self, key: str, count: int = 1) -> int:
        """Reserves ``count`` consecutive values of the study counter ``key`` and
        returns the first: every worker of the study shares it (QMC samplers continue
        one sequence across workers and resumed studies). The counter is kept as the
        study system attribute ``key``, from 0.

        Raises:
            InvalidArgumentError: ``key`` is not a str or ``count`` not an int >= 1.
        """
        if not isinstance(key, str):
            raise InvalidArgumentError(f"key must be a str, got {key!r} ({type(key).__name__})")
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 1:
            raise InvalidArgumentError(f"count must be an int >= 1, got {count!r}")
        return self._storage.next_study_counter(self._study_id, key, int(count))

    def get_fixed_params(self, number: int) -> dict[str, Any] | None:
        """The values a sampler's ``before_trial`` fixed for trial ``number`` while it
        is being set up (a copy), or None when none were fixed. The trial starts with
        them; a value fixed here replaces an enqueued value of the same name, so
        ferrotune's GridSampler gives an enqueued trial no grid point and
        PartialFixedSampler fixes only the names not enqueued, as Optuna's do."""
        number = _int_argument(number, "number")
        with self._fixed_lock:
            fixed = self._fixed.get(number)
            return None if fixed is None else dict(fixed)

    def set_fixed_params(self, number: int, params: Mapping[str, Any]) -> None:
        """Fixes the values of trial ``number`` from a sampler's ``before_trial``
        (replacing those fixed before); see :meth:`get_fixed_params`.

        Raises:
            InvalidArgumentError: ``number`` is not an int or ``params`` not a mapping.
            InvalidTrialError: The study has no trial ``number``.
            UpdateFinishedTrialError: The trial has finished.
        """
        number = self._existing_number(number)
        if not isinstance(params, Mapping):
            raise InvalidArgumentError(
                f"params must be a mapping of parameter names to values, got {params!r}"
            )
        state = FROM_CORE[self._core.state(number)]
        if state.is_finished():
            raise UpdateFinishedTrialError(
                f"set_fixed_params: trial {number} has already finished ({state.name})"
            )
        self._set_fixed(number, params)

    # ------------------------------------------------------------------- results
    def _frozen(self, number: int) -> FrozenTrial:
        trials = self._frozen_range(number, number + 1)
        if not trials:
            raise IndexError(f"study has no trial {number}")
        return trials[0]

    def _iter_frozen(self) -> Iterator[FrozenTrial]:
        self._storage.sync(self._study_id)
        for n in range(self._core.n_trials()):
            yield self._frozen(n)

    def _param_slot(self, key: int) -> tuple[str, BaseDistribution, int]:
        """(name, distribution, kind) of a parameter key of ``StudyCore.records``."""
        slot = self._param_slots.get(key)
        if slot is None:
            name, core_dist = self._core.param_dist(key)
            dk = _core_dist_key(core_dist)
            dist = self._dist_cache.get((name, dk))
            if dist is None:
                choices = self._choices.get(name)
                dist = _from_core(core_dist, choices.choices if choices is not None else None)
                self._dist_cache[(name, dk)] = dist
            slot = (name, dist, dk[0])
            self._param_slots[key] = slot
        return slot

    def _frozen_range(self, start: int, stop: int) -> list[FrozenTrial]:
        """Snapshots of trials ``start`` to ``stop - 1`` (those that exist), read from
        the core in one call."""
        records = self._core.records(start, stop)
        numbers = range(start, start + len(records))
        users, systems = self._storage.get_trials_attrs(self._study_id, numbers)
        slots = self._param_slots
        states = FROM_CORE
        stamp = datetime.datetime.fromtimestamp
        new = FrozenTrial.__new__
        out: list[FrozenTrial] = []
        for number, rec, user, system in zip(numbers, records, users, systems, strict=True):
            ext: dict[str, Any] = {}
            dists: dict[str, BaseDistribution] = {}
            for key, v in rec.params:
                slot = slots.get(key)
                if slot is None:
                    slot = self._param_slot(key)
                name, dist, kind = slot
                # `dist.to_external_repr(v)`, inlined for floats and ints.
                if kind == 0:
                    ext[name] = v
                elif kind == 1:
                    ext[name] = int(v)
                else:
                    ext[name] = dist.to_external_repr(v)
                dists[name] = dist
            t = new(FrozenTrial)
            t.number = number
            t.state = states[rec.state]
            t._values = rec.values or None
            # NaN (not reached) is the only value unequal to itself.
            started, completed = rec.started, rec.completed
            t.datetime_start = stamp(started) if started == started else None
            t.datetime_complete = stamp(completed) if completed == completed else None
            t.params = ext
            t.distributions = dists
            t.user_attrs = user
            t.system_attrs = system
            t.intermediate_values = intermediate_values_of(rec)
            out.append(t)
        return out

    def get_trials(
        self, deepcopy: bool = True, states: Container[TrialState] | None = None
    ) -> list[FrozenTrial]:
        """All trials (snapshots), optionally only those in ``states``."""
        self._check_alive()
        self._storage.sync(self._study_id)
        with paused():
            trials = self._frozen_range(0, self._core.n_trials())
        return trials if states is None else [t for t in trials if t.state in states]

    @property
    def trials(self) -> list[FrozenTrial]:
        """All trials, in order of their numbers."""
        return self.get_trials()

    @property
    def best_trial(self) -> FrozenTrial:
        """The best COMPLETE trial of a single-objective study."""
        self._check_alive()
        if self._n_objectives > 1:
            raise MultiObjectiveError("best_trial is for single-objective studies; use best_trials")
        self._storage.sync(self._study_id)
        n = self._core.best_trial(self._directions[0] == StudyDirection.MAXIMIZE)
        if n is None:
            if TrialState.COMPLETE in self.get_trial_states():
                # As Optuna's message: constraints rule every complete trial out.
                raise InvalidArgumentError("no feasible trial is complete yet")
            raise InvalidArgumentError("no trial is complete yet")
        return self._frozen(n)

    @property
    def best_params(self) -> dict[str, Any]:
        """Parameters of the best trial."""
        return self.best_trial.params

    @property
    def best_value(self) -> float:
        """Objective value of the best trial."""
        v = self.best_trial.value
        assert v is not None, "a COMPLETE trial always has values"
        return v

    @property
    def best_trials(self) -> list[FrozenTrial]:
        """The COMPLETE trials on the Pareto front (all objectives)."""
        self._check_alive()
        self._storage.sync(self._study_id)
        maximize = [d == StudyDirection.MAXIMIZE for d in self._directions]
        return [self._frozen(n) for n in self._core.pareto_front(maximize)]

    @property
    def user_attrs(self) -> dict[str, Any]:
        """The study's user attributes."""
        return self._storage.get_study_user_attrs(self._study_id)

    @property
    def system_attrs(self) -> dict[str, Any]:
        """The study's system attributes."""
        return self._storage.get_study_system_attrs(self._study_id)

    def set_user_attr(self, key: str, value: Any) -> None:
        """Stores a user attribute on the study."""
        self._check_alive()
        self._storage.set_study_user_attr(self._study_id, key, plain_value(value))

    def set_system_attr(self, key: str, value: Any) -> None:
        """Stores a system attribute on the study."""
        self._check_alive()
        self._storage.set_study_system_attr(self._study_id, key, value)

    def trials_dataframe(
        self, attrs: Sequence[str] | None = None, multi_index: bool = False
    ) -> Any:
        """The trials as a pandas DataFrame (needs ``pip install ferrotune[pandas]``).

        Columns: number, value (or values_0...), datetime_start, datetime_complete,
        duration, params_<name>, user_attrs_<key>, state. With ``multi_index=True`` (as
        Optuna) they are pairs instead: ``("params", "x")``, ``("number", "")``, ...
        ``attrs`` chooses the attributes of :class:`FrozenTrial` and their order, as
        Optuna's does: a dict or list attribute gives one column per key (sorted, as
        Optuna), ``"value"`` means ``"values"`` in a study with several objectives, and
        ``"values"`` gives ``values_0`` in a study with one. The default is Optuna's
        without ``"system_attrs"`` (ferrotune's samplers keep their bookkeeping there);
        ask for it, or for ``"intermediate_values"``, by name. A study without trials
        gives an empty DataFrame.

        Raises:
            InvalidArgumentError: an attribute that FrozenTrial does not have.
        """
        try:
            import pandas as pd
        except ImportError as e:
            from ferrotune.exceptions import MissingDependencyError

            raise MissingDependencyError(
                "trials_dataframe() needs pandas: pip install 'ferrotune[pandas]'"
            ) from e
        selected = tuple(_DATAFRAME_ATTRS if attrs is None else attrs)
        multi = self._n_objectives > 1
        if multi:
            # As Optuna: "value" means every objective in a study with several.
            selected = tuple("values" if a == "value" else a for a in selected)
        names = self.metric_names
        rows: list[dict[tuple[str, Any], Any]] = []
        groups: dict[str, dict[tuple[str, Any], None]] = {a: {} for a in selected}
        for t in self._iter_frozen():
            row: dict[tuple[str, Any], Any] = {}
            for attr in dict.fromkeys(selected):
                column = attr[1:] if attr.startswith("_") else attr
                for key, v in _dataframe_cells(t, attr, names, self._n_objectives):
                    row[column, key] = v
                    groups[attr][column, key] = None
            rows.append(row)
        if not rows:
            return pd.DataFrame()
        # Optuna's order: the attributes' order, each group's columns sorted (the
        # objectives in the order of their metric names).
        columns: list[tuple[str, Any]] = []
        for attr in dict.fromkeys(selected):
            group = list(groups[attr])
            if not (attr == "values" and names is not None):
                group.sort(key=lambda c: (str(type(c[1])), c[1]))
            columns.extend(group)
        df = pd.DataFrame(
            [[row.get(c) for c in columns] for row in rows],
            columns=pd.MultiIndex.from_tuples(columns) if columns else None,
        )
        if not multi_index:
            df.columns = [_flat(c) for c in columns]
        return df

    # ----------------------------------------------------------- metric names
    _METRIC_NAMES_KEY = "study:metric_names"  # Optuna's system attribute

    @property
    def metric_names(self) -> list[str] | None:
        """The objectives' names set with :meth:`set_metric_names` (None when unset)."""
        names = self._storage.get_study_system_attrs(self._study_id).get(self._METRIC_NAMES_KEY)
        return None if names is None else list(names)

    def set_metric_names(self, metric_names: Sequence[str]) -> None:
        """Names the objectives, one name each, as Optuna's ``set_metric_names``.

        The names are stored in the study's system attributes (key
        ``"study:metric_names"``, as Optuna), so they persist with the study.

        Raises:
            InvalidArgumentError: When the number of names differs from the number of
                objectives, or a name is not a string.
        """
        if isinstance(metric_names, str) or not isinstance(metric_names, Sequence):
            raise InvalidArgumentError(
                f"metric_names must be a list of strings, got {metric_names!r}"
            )
        names = list(metric_names)
        if len(names) != self._n_objectives:
            raise InvalidArgumentError(
                f"{len(names)} metric name(s) for a study with {self._n_objectives} "
                "objective(s): give one name per objective"
            )
        if not all(isinstance(n, str) for n in names):
            raise InvalidArgumentError(f"metric names must be strings, got {names!r}")
        self._storage.set_study_system_attr(self._study_id, self._METRIC_NAMES_KEY, names)

    def __repr__(self) -> str:
        return f"Study(study_name={self.study_name!r}, n_trials={self._core.n_trials()})"


def _progress_bar(n_trials: int | None, timeout: float | None) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        _logger.warning("show_progress_bar needs tqdm: pip install 'ferrotune[progress]'")
        return None
    return tqdm(total=n_trials, unit="trial")


def _update_bar(bar: Any, study: Study) -> None:
    bar.update(1)
    if study._n_objectives == 1:
        n = study._core.best_trial(study._directions[0] == StudyDirection.MAXIMIZE)
        if n is not None:
            bar.set_postfix_str(f"best value: {study._core.record(n).values[0]:.6g}")


def _parse_directions(
    direction: str | StudyDirection | None,
    directions: Sequence[str | StudyDirection] | None,
) -> list[StudyDirection]:
    if direction is not None and directions is not None:
        raise InvalidArgumentError("give direction or directions, not both")
    raw: Sequence[str | StudyDirection] = (
        [direction if direction is not None else "minimize"] if directions is None else directions
    )
    if not raw:
        raise InvalidArgumentError("directions must not be empty")
    out: list[StudyDirection] = []
    for d in raw:
        if isinstance(d, StudyDirection) and d != StudyDirection.NOT_SET:
            out.append(d)
        elif d in ("minimize", "maximize"):
            out.append(StudyDirection.MINIMIZE if d == "minimize" else StudyDirection.MAXIMIZE)
        elif type(d).__module__.startswith("optuna.") and str(getattr(d, "name", "")) in (
            "MINIMIZE",
            "MAXIMIZE",
        ):
            # Optuna's StudyDirection (a script half moved over)
            out.append(StudyDirection[str(getattr(d, "name", ""))])
        else:
            raise InvalidArgumentError(f"direction must be 'minimize' or 'maximize', got {d!r}")
    return out


def create_study(
    *,
    storage: str | BaseStorage | None = None,
    sampler: BaseSampler | None = None,
    pruner: BasePruner | None = None,
    study_name: str | None = None,
    direction: str | StudyDirection | None = None,
    load_if_exists: bool = False,
    directions: Sequence[str | StudyDirection] | None = None,
) -> Study:
    """Creates a study.

    Args:
        storage: None for a new in-memory study, a database URL (``sqlite:///study.db``,
            ``postgresql+psycopg://user:password@host/db``; see ``docs/storages.md``) or
            a storage object.
        sampler: Defaults to :class:`~ferrotune.samplers.AutoSampler`, which picks the
            GP, the trust region, TPE or CMA-ES by the space and the trials so far (it
            beat Optuna's default on most problems of ``benches/suite.py``). Optuna's
            default is :class:`~ferrotune.samplers.TPESampler`: pass ``TPESampler()`` for
            its behaviour, or for the least time per trial when the objective is cheap
            (AutoSampler's GP costs milliseconds per trial, up to about 0.2 s at 1,000
            trials on a space with categorical parameters, and 2-3 s for the first ask of
            a process there), or for very noisy objectives (see AutoSampler's limits).
        pruner: Defaults to :class:`~ferrotune.pruners.MedianPruner`, as in Optuna (it
            acts only when the objective calls ``trial.should_prune()``; pass
            :class:`~ferrotune.pruners.NopPruner` to never prune).
        study_name: A name; generated when None.
        direction: ``"minimize"`` (default) or ``"maximize"``.
        load_if_exists: Load the study of that name if the storage has one.
        directions: One direction per objective, for multi-objective studies.

    Example:
        >>> study = ferrotune.create_study(direction="maximize")  # doctest: +SKIP
    """
    dirs = _parse_directions(direction, directions)
    if study_name is not None and not isinstance(study_name, str):
        raise InvalidArgumentError(
            f"study_name must be a str or None, got {study_name!r:.80} "
            f"({type(study_name).__name__})"
        )
    st = get_storage(storage)
    from ferrotune.exceptions import DuplicatedStudyError

    try:
        sid = st.create_new_study(dirs, study_name)
    except DuplicatedStudyError:
        if not load_if_exists or study_name is None:
            raise
        loaded = load_study(study_name=study_name, storage=st, sampler=sampler, pruner=pruner)
        if (direction is not None or directions is not None) and loaded.directions != dirs:
            # Optuna keeps the stored directions silently; a maximised accuracy then
            # came out minimised.
            shown = [d.name.lower() for d in loaded.directions]
            asked = [d.name.lower() for d in dirs]
            warnings.warn(
                f"create_study(load_if_exists=True): study {study_name!r} exists with "
                f"directions {shown}; the directions given ({asked}) are ignored",
                UserWarning,
                stacklevel=2,
            )
        return loaded
    name = st.get_study_name_from_id(sid)
    if _logger.isEnabledFor(logging.INFO):
        # Optuna's line, with its names of the storage kinds.
        cls = type(st).__name__
        kind = {"InMemoryStorage": "memory", "RDBStorage": "RDB"}.get(
            cls, "Journal" if "Journal" in cls else cls
        )
        _logger.info("A new study created in %s with name: %s", kind, name)
    return Study(name, st, sampler, pruner)


def load_study(
    *,
    study_name: str | None,
    storage: str | BaseStorage,
    sampler: BaseSampler | None = None,
    pruner: BasePruner | None = None,
) -> Study:
    """Loads an existing study from ``storage``.

    Args:
        study_name: The study's name; None when the storage holds exactly one study.
        storage: A database URL or a storage object (as for :func:`create_study`).
        sampler: The sampler for the trials to come (default: a new
            :class:`~ferrotune.samplers.AutoSampler`, as for :func:`create_study`). A
            stateful sampler such as ``QMCSampler`` or ``BruteForceSampler`` continues
            from the study's trials.
        pruner: Defaults to :class:`~ferrotune.pruners.MedianPruner`, as in Optuna.

    Raises:
        UnknownStudyError: No study of that name (an :class:`InvalidArgumentError` and,
            as in Optuna, a :class:`KeyError`).
        InvalidArgumentError: ``study_name=None`` with a storage that does not hold
            exactly one study.
    """
    st = get_storage(storage)
    if study_name is None:
        names = st.get_all_study_names()
        if len(names) != 1:
            raise InvalidArgumentError(
                f"study_name=None needs a storage with exactly one study, found {len(names)}"
            )
        study_name = names[0]
    try:
        st.get_study_id_from_name(study_name)
    except KeyError:
        raise UnknownStudyError(f"no study named {study_name!r} in the storage") from None
    return Study(study_name, st, sampler, pruner)


def delete_study(*, study_name: str, storage: str | BaseStorage) -> None:
    """Deletes a study and its trials.

    Raises:
        UnknownStudyError: When ``storage`` holds no study of that name (an
            :class:`InvalidArgumentError` and, as in Optuna, a :class:`KeyError`).
    """
    st = get_storage(storage)
    try:
        study_id = st.get_study_id_from_name(study_name)
    except KeyError:
        raise UnknownStudyError(f"no study named {study_name!r} in the storage") from None
    st.delete_study(study_id)


def get_all_study_names(storage: str | BaseStorage) -> list[str]:
    """Names of the studies in ``storage``."""
    return get_storage(storage).get_all_study_names()


def stored_trials(storage: BaseStorage, study_id: int) -> list[FrozenTrial]:
    """Snapshots of every trial of a study read straight from its storage (after a sync),
    without a Study object: a Study would set its sampler and pruner on the study's core,
    which other Study objects of the same storage share. For the storage methods of
    Optuna's interface (``BaseStorage.get_all_trials``)."""
    reader = Study.__new__(Study)
    reader._storage = storage
    reader._study_id = study_id
    reader._core = storage.get_core(study_id)
    reader._choices = storage.get_choices(study_id)
    reader._dist_cache = {}
    reader._param_slots = {}
    storage.sync(study_id)
    with paused():
        return reader._frozen_range(0, reader._core.n_trials())


def fail_stale_trials_of(study: Study) -> None:
    """``ferrotune.storages.fail_stale_trials``: the study's storage fails its stale
    trials, if it keeps heartbeats."""
    fail = getattr(study._storage, "fail_stale_trials", None)
    if fail is not None:
        fail(study._study_id)


# trials_dataframe's default attributes: Optuna's, without "system_attrs" (ferrotune's
# samplers keep their bookkeeping there).
_DATAFRAME_ATTRS = (
    "number",
    "value",
    "datetime_start",
    "datetime_complete",
    "duration",
    "params",
    "user_attrs",
    "state",
)


def _dataframe_cells(
    t: FrozenTrial, attr: str, names: list[str] | None, n_objectives: int
) -> list[tuple[Any, Any]]:
    """``(second column key, cell)`` pairs of trial ``t`` for one ``trials_dataframe``
    attribute, as Optuna builds them: dicts and lists one column per key, ``values`` one
    per objective (named by the metric names when set), anything else one column."""
    if attr == "values":
        values = t.values if t.values is not None else [None] * n_objectives
        keys = names if names is not None else range(len(values))
        return list(zip(keys, values, strict=False))
    if attr == "value":
        return [("" if names is None else names[0], t.value if t.values else None)]
    try:
        value = getattr(t, attr)
    except AttributeError as e:
        raise InvalidArgumentError(
            f"trials_dataframe: unknown attribute {attr!r} (FrozenTrial has no such field)"
        ) from e
    if isinstance(value, TrialState):
        return [("", value.name)]
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list):
        return list(enumerate(value))
    return [("", value)]


def _takes(method: Callable[..., Any], keyword: str) -> bool:
    """Whether ``method`` has a parameter named ``keyword``."""
    try:
        return keyword in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def _flat(column: tuple[str, Any]) -> str:
    """A column pair of ``trials_dataframe`` as its flat name (``params_x``, ``number``)."""
    return "_".join(str(part) for part in column if part != "")


def _is_optunas_trial_pruned(e: BaseException) -> bool:
    """Whether ``e`` is Optuna's ``TrialPruned`` (or a subclass), without importing
    Optuna."""
    return any(
        k.__name__ == "TrialPruned" and k.__module__.split(".")[0] == "optuna"
        for k in type(e).__mro__
    )
