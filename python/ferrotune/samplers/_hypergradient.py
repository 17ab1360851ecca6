from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

from ferrotune import _core
from ferrotune.distributions import FloatDistribution
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers._base import _RustSampler, _seed_or_random
from ferrotune.trial._gradient import GRADIENT_KEY

if TYPE_CHECKING:
    from ferrotune.distributions import BaseDistribution
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["HypergradientSampler"]


def _continuous(dist: Any) -> TypeGuard[FloatDistribution]:
    return isinstance(dist, FloatDistribution) and dist.step is None and dist.low < dist.high


def _entry(
    number: int, name: str, dist: FloatDistribution, x: float, g: float
) -> tuple[int, str, Any, float, float]:
    """One gradient as the core takes it: (trial, name, core distribution, x, dL/dx)."""
    return (number, name, dist._core, x, g)


def _number(name: str, value: Any) -> float:
    # float() would parse a string and take numpy's bool; a 0-d array passes.
    if isinstance(value, (bool, str, bytes, bytearray, np.bool_)):
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}") from e


class HypergradientSampler(_RustSampler):
    """Gradient-based hyperparameter optimisation from the hypergradients trials report.

    When the objective's value is differentiable in continuous hyperparameters
    (regularisation strengths, one penalty per feature, kernel widths), each trial
    reports its gradient with :meth:`Trial.report_gradient
    <ferrotune.Trial.report_gradient>` (or ``study.tell(trial, value, gradient=...)``),
    for example from :mod:`ferrotune.hypergradient`, and this sampler takes bounded
    first-order steps with it (Bengio 2000; Maclaurin, Duvenaud & Adams 2015; Pedregosa
    2016; Lorraine, Vicol & Duvenaud 2020). Tens to thousands of hyperparameters are
    tuned at the cost of one training per step, where Bayesian optimisation stalls.

    - **Space.** Each continuous float (``suggest_float`` without ``step``) is stepped
      in the unit cube of its transformed range: affine in the value, or in its
      logarithm for ``log=True``, with the chain rule ``dL/dz = dL/dx * dx/dz``
      applied to the gradient you report with respect to the value as suggested.
      ``lr`` is thus a fraction of each range (of its log range for ``log=True``).
    - **Start.** ``x0`` (values as suggested) where given, else the centre of the
      transformed range (the geometric mean of the bounds for ``log=True``), or a
      uniform draw with ``start="random"``.
    - **Steps.** At each ask, the gradients reported since the sampler last looked
      (by finished trials and by trials still running) are averaged per parameter
      and taken as one step of Adam (Kingma & Ba 2015; default) or of plain gradient
      descent (``optimizer="sgd"``) from the newest iterate, then projected onto the
      bounds (clipped). A trial's gradient is read once, when first seen. For a
      maximised study the step goes uphill.
    - **Several workers** (threads, or processes sharing a storage): gradients are
      shared through the storage, so every worker steps with every gradient, stale
      ones included, as asynchronous SGD does. An ask that finds no new gradient
      while other trials are still running takes one more step along the last
      averaged gradient, so that workers do not all evaluate the same point. Each
      process keeps its own iterate: two processes that learn of the same gradients
      in different batches end at nearby, not identical, points.
    - **Fallback.** Ints, categoricals and stepped floats are drawn uniformly (from
      ``seed``). A continuous float that a COMPLETE trial finished with, without a
      gradient for it, is drawn uniformly from then on (until a gradient arrives), so
      a study that reports no gradient is random search after its first trial.
      Declared spaces (``study.ask(space)``) are drawn uniformly: a step cannot
      guarantee their constraints.

    Single-objective studies only (a study with several objectives is refused at the
    ask). Not in Optuna, which has no gradient-based sampler. One sampler object
    follows one study: given to another study (even one of the same name), it starts a
    fresh descent there, as a new sampler with the same arguments would (so alternating
    between two studies restarts each time; give each study its own sampler).

    Adam's second moment remembers past gradient magnitudes (``beta2``): when the
    gradient's scale changes by orders of magnitude along the path (a loss that is
    quadratic in a value searched over many decades), steps shrink; report the
    gradient of a well-scaled loss, or use a larger ``lr``.

    Args:
        lr: Step size in the unit cube (Adam: about the largest move per step; 0.05 is
            5% of a range, or of a log range, per step).
        optimizer: ``"adam"`` (default) or ``"sgd"``.
        betas: Adam's decay rates (beta1, beta2), each in [0, 1).
        eps: Adam's epsilon, > 0.
        x0: Optional start, parameter name -> value as suggested.
        start: Start of the parameters not in ``x0``: ``"centre"`` (default) or
            ``"random"``.
        seed: Seed of the fallback draws and of a random start; None draws one.

    Raises:
        InvalidArgumentError: an argument out of range, named.

    Example:
        >>> def objective(trial):  # doctest: +SKIP
        ...     x = trial.suggest_float("x", -10, 10)
        ...     lam = trial.suggest_float("lam", 1e-4, 1e2, log=True)
        ...     trial.report_gradient({"x": 2 * (x - 3), "lam": 2 * math.log(lam / 0.1) / lam})
        ...     return (x - 3) ** 2 + math.log(lam / 0.1) ** 2
        >>> study = ferrotune.create_study(sampler=HypergradientSampler(seed=0))  # doctest: +SKIP
        >>> study.optimize(objective, n_trials=100)  # doctest: +SKIP
    """

    _transient = ("_lock", "_served")

    def __init__(
        self,
        *,
        lr: float = 0.05,
        optimizer: str = "adam",
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        x0: Mapping[str, float] | None = None,
        start: str = "centre",
        seed: int | None = None,
    ) -> None:
        if optimizer not in ("adam", "sgd"):
            raise InvalidArgumentError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
        if start not in ("centre", "random"):
            raise InvalidArgumentError(f"start must be 'centre' or 'random', got {start!r}")
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise InvalidArgumentError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        if x0 is not None and not isinstance(x0, Mapping):
            raise InvalidArgumentError(f"x0 must be a mapping name -> value, got {x0!r}")
        self._lr = _number("lr", lr)
        self._optimizer = optimizer
        self._betas = (_number("betas[0]", betas[0]), _number("betas[1]", betas[1]))
        for i, b in enumerate(self._betas):
            if not 0.0 <= b < 1.0:
                raise InvalidArgumentError(f"betas[{i}] must be in [0, 1), got {b!r}")
        self._eps = _number("eps", eps)
        self._x0 = {str(k): _number(f"x0[{k!r}]", v) for k, v in (x0 or {}).items()}
        self._start = start
        self._seed = _seed_or_random(seed)
        # The scan of the study: the first trial number not seen yet, and the trials
        # seen without a gradient that have not finished.
        self._next = 0
        self._waiting: set[int] = set()
        # The study served: another one (the object reused) starts a fresh descent.
        self._study_name: str | None = None
        self._init_transient()
        self._rust = self._build()

    def _init_transient(self) -> None:
        self._lock = threading.Lock()
        # The core of the study served (not pickled: an unpickled sampler takes the
        # study it meets next as its own when the name matches).
        self._served: Any = None

    def _build(self) -> _core.HypergradientSamplerCore:
        return _core.HypergradientSamplerCore(
            self._lr,
            self._betas[0],
            self._betas[1],
            self._eps,
            self._optimizer,
            list(self._x0.items()),
            self._start,
            self._seed,
        )

    def reseed_rng(self) -> None:
        """Re-seeds the fallback draws (and a random start not stepped yet)."""
        self._rust.reseed(_seed_or_random(None))

    @property
    def iterate(self) -> dict[str, float]:
        """The current iterate: parameter name -> value, for the stepped parameters."""
        return dict(self._rust.iterate())

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        """Takes in the gradients reported since the last look and fixes the iterate
        this trial's suggests return."""
        if len(study.directions) != 1:
            raise InvalidArgumentError(
                "HypergradientSampler follows the gradient of one objective; this study "
                f"has {len(study.directions)}"
            )
        with self._lock:
            core = study.core
            if self._served is not core:
                unpickled = self._served is None and self._study_name == study.study_name
                if self._study_name is not None and not unpickled:
                    # Another study (a new one may reuse a name): a fresh descent.
                    self._next, self._waiting = 0, set()
                    # In place: the study's core may hold this object already.
                    self._rust.set_state(self._build().get_state())
                self._served, self._study_name = core, study.study_name
            entries, no_grad, done, pending = self._scan(study, trial.number)
            maximize = study.directions[0].name == "MAXIMIZE"
            self._rust.prepare(trial.number, entries, maximize, no_grad, done, pending)

    def _scan(
        self, study: Study, current: int
    ) -> tuple[list[tuple[int, str, Any, float, float]], list[str], list[int], bool]:
        """(gradient entries, names without gradient, trials done, whether others are
        pending) from the trials not taken in yet."""
        from ferrotune.trial import TrialState

        # The trials seen earlier without a gradient, then the new ones: O(new + running)
        # per ask, however long the study.
        waiting = [study.get_trial(n) for n in sorted(self._waiting) if n < self._next]
        entries: list[tuple[int, str, Any, float, float]] = []
        no_grad: list[str] = []
        done: list[int] = []
        pending = False
        for t in [*waiting, *study.get_trials_from(self._next, sync=False)]:
            n = t.number
            if n == current:
                continue
            self._next = max(self._next, n + 1)
            grad = t.system_attrs.get(GRADIENT_KEY)
            grad = grad if isinstance(grad, dict) and grad else None
            if grad is None and not t.state.is_finished():
                self._waiting.add(n)
                pending = pending or t.state == TrialState.RUNNING
                continue
            self._waiting.discard(n)
            done.append(n)
            for name, g in (grad or {}).items():
                dist = t.distributions.get(name)
                x = t.params.get(name)
                if _continuous(dist) and isinstance(x, float) and math.isfinite(float(g)):
                    entries.append(_entry(n, name, dist, x, float(g)))
            if t.state == TrialState.COMPLETE:
                no_grad.extend(
                    name
                    for name, dist in t.distributions.items()
                    if _continuous(dist) and name not in (grad or {})
                )
        return entries, no_grad, done, pending

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        if study.sampler is not self:
            raise InvalidArgumentError(
                "a HypergradientSampler samples only for the study it belongs to"
            )
        internal = study.core.sample_independent(trial.number, param_name, param_distribution._core)
        return param_distribution.to_external_repr(internal)
