from __future__ import annotations

import abc
import functools
import math
import numbers
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ferrotune.distributions import BaseDistribution
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.storages._base import TAG_KEY

# The largest population, candidate set, forest or sample count a sampler accepts: the Rust
# core allocates them per ask, and a size beyond memory aborts the interpreter (an
# allocation failure is not a panic that the binding can catch).
MAX_SIZE = 100_000


def check_flag(name: str, value: object, *, ints: bool = True) -> bool:
    """``value`` as a bool (numpy's too, and the ints 0 and 1 unless ``ints`` is False),
    else an InvalidArgumentError naming it: a string such as ``"no"`` would otherwise
    count as True."""
    kind = type(value)
    if isinstance(value, bool) or (
        kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_")
    ):
        return bool(value)
    if ints and isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    from ferrotune.exceptions import InvalidArgumentError

    raise InvalidArgumentError(f"{name} must be a bool, got {value!r}")


def check_size(name: str, value: object, low: int, high: int | None = MAX_SIZE) -> int:
    """``value`` as an int in ``[low, high]`` (``high`` None: no upper bound), else an
    InvalidArgumentError naming it."""
    kind = f"an int >= {low}" if high is None else f"an int in [{low}, {high:,}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgumentError(f"{name} must be {kind}, got {value!r:.80}")
    v = int(value)
    if v < low or (high is not None and v > high):
        raise InvalidArgumentError(f"{name} must be {kind}, got {value!r:.80}")
    return v


if TYPE_CHECKING:
    from collections.abc import Sequence

    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial, TrialState

__all__ = ["BaseSampler"]


class BaseSampler(abc.ABC):
    """Base class of samplers, with Optuna's hooks so users can write their own.

    A subclass implements :meth:`sample_independent` and, for a joint model,
    :meth:`infer_relative_search_space` and :meth:`sample_relative`. ferrotune's own
    samplers also carry a Rust core (``_rust``) that the study calls directly on the
    hot path; a Python subclass without one is called through these hooks, and so is a
    subclass of a ferrotune sampler for each hook it overrides (``super()`` gives the
    sampler's own answer).

    Optional private hooks. A study reads these attributes of its sampler, when they
    exist, to choose its paths; ferrotune's samplers use them, and a new sampler
    should follow the same protocol rather than add another:

    - ``_rust``: the sampler's Rust core (a ``_core.*SamplerCore``), handed to
      ``StudyCore.set_sampler``; None (the default) for a Python sampler.
    - ``_fast_independent`` (default True): with a Rust core, whether a suggest may
      draw in Rust without calling :meth:`sample_independent`; False keeps the Python
      method on that path (QMC, which warns there).
    - ``_rust_relative`` (default False): the Rust core chooses the joint (relative)
      values itself at the ask, so the study skips :meth:`infer_relative_search_space`
      and :meth:`sample_relative` (TPE, GP).
    - ``_needs_after_trial``: whether the study must call :meth:`after_trial`; by
      default, whether the class overrides it (a sampler whose ``after_trial`` only
      sometimes does work, as TPE's with a ``constraints_func``, sets it).
    - ``_needs_before_trial`` / ``_needs_relative``: whether the study must call
      :meth:`before_trial` / the relative hooks; by default, whether the class overrides
      them (a wrapper that delegates sets them from the sampler it wraps).
    - ``_uses_running_params``: whether the sampler places the points of other workers'
      running trials (the GP's Kriging believer): :meth:`Study.optimize
      <ferrotune.Study.optimize>` then writes its trials' parameters to a shared storage
      as they are suggested while another worker's trial runs, rather than with the
      trial's next change (default False: the faster deferred writes).
    - ``_auto_select(study, space)``: called before each trial is set up by a sampler
      that delegates to one of several samplers (AutoSampler); it returns True when it
      switched, and the study then reads the hooks above again.
    - ``_seed``: the sampler's seed (an int), which also seeds the uniform draws of a
      declared space after the sampler's own proposals.
    - ``_sample_space_row(study, number, space, accept)``: draws the whole row of a
      declared :class:`~ferrotune.SearchSpace` (internal values in ``space.names``
      order, NaN for inactive parameters) when no value is fixed, for a sampler that
      keeps a position of its own (QMC's sequence index).
    - ``_before_trial_in_space(study, trial, space)``: replaces :meth:`before_trial`
      for ``study.ask(space)``, so the sampler can skip what the space rules out
      (GridSampler's points).
    """

    #: The Rust sampler core used on the fast path, if any.
    _rust: Any = None
    #: Whether other workers' running trials must show their parameters (see above).
    _uses_running_params: bool = False

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """The parameters to sample jointly in :meth:`sample_relative` (none by default)."""
        return {}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Joint values for ``search_space`` (external representation)."""
        return {}

    @abc.abstractmethod
    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """A value for one parameter outside the relative search space."""

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        """Called when a trial starts, before any sampling."""

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        """Called when a trial finishes."""

    def reseed_rng(self) -> None:
        """Re-seeds the sampler's generator from the operating system."""


def _overrides(sampler: BaseSampler, name: str) -> bool:
    """Whether ``sampler``'s class overrides BaseSampler's method ``name``."""
    return getattr(type(sampler), name) is not getattr(BaseSampler, name)


def _user_overrides(sampler: BaseSampler, name: str) -> bool:
    """Whether the method ``name`` of ``sampler`` is written outside ferrotune: a
    subclass of one of its samplers that overrides the hook (to log, constrain or veto,
    as Optuna users do), which the study must then call instead of the Rust path."""
    for cls in type(sampler).__mro__:
        if name in cls.__dict__:
            return not cls.__module__.startswith("ferrotune.")
    return False


class _DelegatingSampler(BaseSampler):
    """A sampler that hands every hook to another one, ``_delegate``.

    The study's private hooks (see :class:`BaseSampler`) are the delegate's, so a
    ferrotune Rust sampler keeps its fast path behind the wrapper; Optuna's hooks are
    forwarded. A subclass defines ``_delegate`` and overrides the hooks it changes;
    one that overrides :meth:`before_trial` or :meth:`infer_relative_search_space`
    for work of its own also sets ``_needs_before_trial`` / ``_needs_relative`` to
    True, since by default they follow the delegate.
    """

    @property
    @abc.abstractmethod
    def _delegate(self) -> BaseSampler:
        """The sampler every hook goes to."""

    @property
    def _rust(self) -> Any:
        return self._delegate._rust

    @property
    def _held_params(self) -> tuple[str, ...]:
        return tuple(getattr(self._delegate, "_held_params", ()))

    @property
    def _uses_running_params(self) -> bool:  # type: ignore[override]
        return bool(getattr(self._delegate, "_uses_running_params", False))

    @property
    def _auto_select(self) -> Any:
        # A delegate that switches samplers (AutoSampler) is asked before each trial.
        return getattr(self._delegate, "_auto_select", None)

    @property
    def _fast_independent(self) -> bool:
        # A delegate of the user's own class (a subclass overriding the hook) is asked.
        d = self._delegate
        return bool(getattr(d, "_fast_independent", True)) and not _user_overrides(
            d, "sample_independent"
        )

    @property
    def _rust_relative(self) -> bool:
        return bool(getattr(self._delegate, "_rust_relative", False))

    @property
    def _needs_before_trial(self) -> bool:
        d = self._delegate
        return _user_overrides(d, "before_trial") or bool(
            getattr(d, "_needs_before_trial", _overrides(d, "before_trial"))
        )

    @property
    def _needs_after_trial(self) -> bool:
        d = self._delegate
        return _user_overrides(d, "after_trial") or bool(
            getattr(d, "_needs_after_trial", _overrides(d, "after_trial"))
        )

    @property
    def _needs_relative(self) -> bool:
        d = self._delegate
        return bool(getattr(d, "_needs_relative", _overrides(d, "infer_relative_search_space")))

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return self._delegate.infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return self._delegate.sample_relative(study, trial, search_space)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self._delegate.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._delegate.before_trial(study, trial)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._delegate.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._delegate.reseed_rng()


def _constraints_func_values(
    constraints_func: Callable[[FrozenTrial], Any], trial: FrozenTrial
) -> list[float]:
    """``constraints_func(trial)`` as floats, or an error naming what is wrong with it.

    Raises:
        InvalidArgumentError: the result is not a sequence of numbers, or one is NaN.
    """
    from ferrotune.exceptions import InvalidArgumentError

    raw = constraints_func(trial)
    where = f"constraints_func for trial {trial.number}"
    if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, Iterable):
        raise InvalidArgumentError(
            f"{where} returned {raw!r} ({type(raw).__name__}); "
            "expected a sequence of numbers, <= 0 feasible"
        )
    values: list[float] = []
    for i, v in enumerate(raw):
        try:
            f = float(v)
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(
                f"{where}: constraint {i} is {v!r}, which is not a number"
            ) from e
        if math.isnan(f):
            raise InvalidArgumentError(f"{where}: constraint {i} is NaN")
        values.append(f)
    return values


def _seed_or_random(seed: int | None) -> int:
    """The seed as an unsigned 64-bit integer; a random one for None.

    Raises:
        InvalidArgumentError: ``seed`` is not an int, or not in ``[0, 2**64 - 1]``.
    """
    if seed is None:
        return secrets.randbits(64)
    # Any integer, numpy's too (``for seed in np.arange(5)``, as Optuna takes them).
    from ferrotune.exceptions import InvalidArgumentError

    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InvalidArgumentError(f"seed must be an int or None, got {seed!r}")
    # Out of range is an error, as in Optuna (numpy refuses it): reduced mod 2**64, -1
    # and 2**64 - 1 were the same seed.
    if not 0 <= int(seed) <= 0xFFFF_FFFF_FFFF_FFFF:
        raise InvalidArgumentError(f"seed must be in [0, 2**64 - 1], got {int(seed)}")
    return int(seed)


def _overflow_checked(build: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``build`` (a sampler's ``_build``) with an int argument too large for the Rust
    core (an OverflowError of the binding) raised as an InvalidArgumentError naming it."""

    @functools.wraps(build)
    def checked(self: Any) -> Any:
        try:
            return build(self)
        except OverflowError as e:
            from ferrotune.exceptions import InvalidArgumentError

            def big(v: Any) -> bool:
                return isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 2**63

            # Seeds are checked on their own (up to 2**64 - 1).
            found = [k.lstrip("_") for k, v in vars(self).items() if big(v) and k != "_seed"]
            for v in vars(self).values():
                if isinstance(v, dict):
                    found += [str(k) for k, x in v.items() if big(x) and k != "seed"]
            names = ", ".join(found) or "an int argument"
            raise InvalidArgumentError(
                f"{type(self).__name__}: {names}: too large (at most {2**63 - 1:,}): {e}"
            ) from None

    checked._checked = True  # type: ignore[attr-defined]
    return checked


class _RustSampler(BaseSampler):
    """Base of the samplers whose algorithm runs in a Rust core (``_core.*SamplerCore``).

    A subclass's constructor stores its configuration and seed (``_seed``) as
    attributes and sets ``self._rust = self._build()``; :meth:`_build` makes the core
    from them. State, pickling and :meth:`reseed_rng` are written here once against the
    cores' shared methods (``get_state``, ``set_state``, ``reseed``): a pickle holds the
    attributes and the core's state, so an unpickled sampler continues the sequence.
    Attributes named in ``_transient`` (locks) are left out and made again by
    :meth:`_init_transient`.
    """

    _seed: int
    #: Attributes not pickled (made again by :meth:`_init_transient`).
    _transient: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("_build")
        if build is not None and not getattr(build, "_checked", False):
            cls._build = _overflow_checked(build)  # type: ignore[method-assign,assignment]

    def _build(self) -> Any:
        """The Rust core for this sampler's configuration and seed."""
        raise NotImplementedError

    def _init_transient(self) -> None:
        """Makes the attributes named in ``_transient``."""

    def reseed_rng(self) -> None:
        """Re-seeds the sampler's generator from the operating system."""
        self._rust.reseed(_seed_or_random(None))

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in self._transient}
        state["_rust"] = self._rust.get_state()
        return state

    @classmethod
    def _upgrade_state(cls, state: dict[str, Any]) -> dict[str, Any]:
        """A pickled state of an earlier version in the current format (the default:
        none to upgrade)."""
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = self._upgrade_state(dict(state))
        rust_state = state.pop("_rust")
        self.__dict__.update(state)
        self._init_transient()
        self._rust = self._build()
        self._rust.set_state(rust_state)


class _RustModelSampler(_RustSampler):
    """Optuna's hooks for samplers whose joint model runs in the Rust core (TPE, GP).

    Studies call the core directly (``StudyCore.relative`` at ask time, Rust draws on
    suggest); these hooks serve code that drives a sampler through Optuna's interface.
    """

    @property
    def _rust_relative(self) -> bool:
        # The core chooses the joint values at the ask, unless a subclass outside
        # ferrotune overrides the hooks: the study then calls them (as Optuna's study
        # does), and `sample_relative` below returns the core's values.
        cls = type(self)
        builtin = next(c for c in cls.__mro__ if c.__module__.startswith("ferrotune."))
        return all(
            getattr(cls, hook) is getattr(builtin, hook)
            for hook in ("infer_relative_search_space", "sample_relative")
        )

    _constraints_func: Callable[[FrozenTrial], Any] | None = None
    # after_trial only evaluates constraints_func: without one, a study skips the hook
    # (and the snapshot of the trial it would need at every tell).
    _needs_after_trial = False

    def _set_constraints_func(self, constraints_func: Any) -> None:
        from ferrotune.exceptions import InvalidArgumentError

        if constraints_func is not None and not callable(constraints_func):
            raise InvalidArgumentError(
                f"constraints_func must be a callable or None, got {constraints_func!r}"
            )
        self._constraints_func = constraints_func
        self._needs_after_trial = constraints_func is not None

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        # As Optuna: constraints_func is called for COMPLETE and PRUNED trials only.
        from ferrotune.trial import TrialState

        if self._constraints_func is None or state not in (
            TrialState.COMPLETE,
            TrialState.PRUNED,
        ):
            return
        cons = _constraints_func_values(self._constraints_func, trial)
        # Named c0, c1, ... in the trial's system attribute "constraints" (name order
        # is index order for up to ten constraints, as the core keeps them).
        study.set_trial_constraints(trial.number, {f"c{i}": v for i, v in enumerate(cons)})

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        space = study.intersection_search_space()
        return {k: d for k, d in space.items() if not d.single()}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """The joint values the Rust model chose for ``search_space`` (external
        representation), as Optuna's hook returns them; the core also keeps them for the
        trial's suggests. Empty during start-up (no model yet)."""
        self._check_own(study)
        core = study.core
        core.relative(trial.number)
        tag = core.tag(trial.number)
        if tag:
            # A population method's generation, stored as the study stores it at an ask.
            study.set_trial_system_attr(trial.number, TAG_KEY, tag)
        out: dict[str, Any] = {}
        for name in search_space:
            dist: BaseDistribution = search_space[name]
            v = core.pending_value(trial.number, name, dist._core)
            if v is not None:
                out[name] = dist.to_external_repr(v)
        return out

    def _check_own(self, study: Study) -> None:
        # The model is the study's core's: this sampler's core must be the one installed
        # (directly, or through a wrapper such as PartialFixedSampler).
        installed = study.sampler
        if installed is self or getattr(installed, "_rust", None) is self._rust:
            return
        if getattr(installed, "_rust", None) is None:
            # A sampler of the user's own that delegates to this one (Optuna's wrapper
            # pattern): this sampler's Rust core serves the study's core from now on.
            study.core.set_sampler(self._rust, study.study_name)
            return
        from ferrotune.exceptions import InvalidArgumentError

        raise InvalidArgumentError(
            f"a {type(self).__name__} samples only for a study whose sampler it is, or "
            f"whose sampler delegates to it; this study's sampler is "
            f"{type(installed).__name__}, which has its own model"
        )

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        self._check_own(study)
        internal = study.core.sample_independent(trial.number, param_name, param_distribution._core)
        return param_distribution.to_external_repr(internal)
