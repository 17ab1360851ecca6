from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ferrotune import _core
from ferrotune.distributions import BaseDistribution
from ferrotune.exceptions import InvalidDistributionError
from ferrotune.samplers._base import BaseSampler, _seed_or_random, check_flag
from ferrotune.trial import TrialState

if TYPE_CHECKING:
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["BruteForceSampler"]

# Trial system attribute: the order in which the trial's parameters were suggested
# (databases do not keep it), written for trials of two parameters or more.
_ORDER_KEY = "brute_force:order"


def _cardinality(name: str, dist: BaseDistribution) -> int:
    """Number of values of a finite distribution."""
    card = dist._core.cardinality()
    if card is None:
        raise InvalidDistributionError(
            f"parameter {name!r}: BruteForceSampler needs a step for a float "
            "(otherwise the search space is infinite)"
        )
    return int(card)


def _position(dist: BaseDistribution, value: Any) -> int | None:
    """Position of a recorded value among the values of ``dist``, or None when it is
    not one of them."""
    try:
        internal = dist.to_internal_repr(value)
    except (InvalidDistributionError, ValueError, TypeError):
        return None
    k = dist._core.position(float(internal))
    return None if k is None else int(k)


def _value(dist: BaseDistribution, k: int) -> Any:
    """The ``k``-th value of ``dist`` (external representation)."""
    return dist.to_external_repr(dist._core.discrete_value(k))


class _Pending:
    """A trial that cannot be placed in the tree yet."""


_PENDING = _Pending()


class _Node:
    """A node of the tree of define-by-run paths.

    Unexpanded (no trial has gone past it: ``sig`` is None and not ``leaf``), a leaf
    (a finished trial ended here) or expanded: the parameter suggested here (``sig``:
    name and distribution) with ``card`` values, of which those some trial took are
    in ``children`` (position -> node); the others are unexpanded. ``open`` counts
    the unexpanded nodes below (itself included), kept up to date along the parents.
    """

    __slots__ = ("card", "children", "leaf", "open", "parent", "sig")

    def __init__(self, parent: _Node | None) -> None:
        self.parent = parent
        self.sig: tuple[str, BaseDistribution] | None = None
        self.card = 0
        self.children: dict[int, _Node] = {}
        self.leaf = False
        self.open = 1

    def _add(self, delta: int) -> None:
        node: _Node | None = self
        while node is not None:
            node.open += delta
            node = node.parent

    def expand(self, sig: tuple[str, BaseDistribution], card: int) -> bool:
        """Records that ``sig`` is suggested here; False when another parameter (or
        another distribution) was."""
        if self.sig is not None:
            return self.sig == sig
        # A trial that went deeper than one that failed here: not a leaf after all.
        self._add(card - (0 if self.leaf else 1))
        self.leaf = False
        self.sig, self.card = sig, card
        return True

    def child(self, k: int) -> _Node:
        node = self.children.get(k)
        if node is None:
            # It was counted as an unexpanded value; it still is one.
            node = self.children[k] = _Node(self)
        return node

    def set_leaf(self) -> None:
        if self.sig is None and not self.leaf:
            self.leaf = True
            self._add(-1)

    def is_unexpanded(self) -> bool:
        return self.sig is None and not self.leaf


class BruteForceSampler(BaseSampler):
    """Exhaustive search of a define-by-run search space, as Optuna's.

    Every combination of parameter values is tried once, including those of
    conditional parameters discovered as trials run (a branch's parameters are learnt
    from the first trial that takes it); the study stops when the whole tree has been
    tried. Floats need a ``step`` (a float without one raises
    :class:`~ferrotune.exceptions.InvalidDistributionError` naming it). The sampler
    reads the trials already in the study, so several workers and resumed studies
    continue the enumeration instead of repeating it; a FAIL or PRUNED trial counts
    as tried, as in Optuna.

    The sampler keeps the tree between calls and updates it with the trials added
    since (cost per suggestion: the new trials and the running ones), where Optuna
    rebuilds it from every trial. It enumerates ``suggest_*`` calls; for a declared
    :class:`~ferrotune.SearchSpace` use :class:`~ferrotune.samplers.GridSampler`.
    Each finished trial records the order of its parameters in the system attribute
    ``"brute_force:order"`` (one storage write per trial; a database does not keep
    that order). The next point depends only on the study's trials and the
    generator's state: pickling keeps the seed and the generator state and the tree
    is rebuilt from the study, so an unpickled study (or a sampler with the same
    state on a reloaded study) proposes exactly what the original would.

    Args:
        seed: Seed of the (random) order in which the tree is walked; None draws one.
        avoid_premature_stop: False (default, as Optuna): a branch that a running
            trial is exploring counts as taken, so parallel workers rarely duplicate a
            point, but the study may stop while that trial's branch still holds
            untried points (as in Optuna). True: only finished trials count,
            so every point is tried, at the price of more duplicates in parallel.

    Raises:
        InvalidDistributionError: a float parameter without a ``step``.

    Example:
        >>> study = ferrotune.create_study(sampler=BruteForceSampler(seed=0))  # doctest: +SKIP
    """

    def __init__(self, seed: int | None = None, avoid_premature_stop: bool = False) -> None:
        self._seed = _seed_or_random(seed)
        self._avoid_premature_stop = check_flag("avoid_premature_stop", avoid_premature_stop)
        self._rng = _core.RandomSamplerCore(self._seed)
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._root = _Node(None)
        # Trials 0 .. _scanned - 1 have been read; of those, these were not finished.
        self._scanned = 0
        self._unfinished: dict[int, None] = {}
        # Finished trials whose path is not known yet (see _path).
        self._pending: dict[int, FrozenTrial] = {}
        # The study the tree describes (a weak reference: an id could be reused).
        self._study_ref: weakref.ref[Study] | None = None

    # --------------------------------------------------------------- the tree
    def _path(self, trial: FrozenTrial, order: list[str] | None) -> _Node | _Pending | None:
        """Adds a trial's parameters to the tree; returns the node where its path ends
        (None if the trial is off the tree).

        ``order`` is the order in which the trial's parameters were suggested, when
        known (a trial of this process, or one that recorded it; see
        :func:`_order`). Otherwise the trial follows the parameters the tree already
        knows at each node; where the tree does not know yet and several of the
        trial's parameters could come next, the trial waits (:data:`_PENDING`)
        until another trial tells.
        """
        node = self._root
        remaining = dict(trial.distributions)
        names = iter(order) if order is not None else None
        while remaining:
            if names is not None:
                name = next(names)
            elif node.sig is not None:
                name = node.sig[0]
                if name not in remaining:
                    return None
            elif len(remaining) == 1:
                name = next(iter(remaining))
            else:
                return _PENDING
            dist = remaining.pop(name)
            try:
                card = _cardinality(name, dist)
            except InvalidDistributionError:
                return None
            k = _position(dist, trial.params[name])
            if k is None or not 0 <= k < card or not node.expand((name, dist), card):
                return None
            node = node.child(k)
        return node

    def _place(self, trial: FrozenTrial, order: list[str] | None) -> None:
        """Marks where a finished trial ended (or keeps it until it can be placed)."""
        end = self._path(trial, order)
        if isinstance(end, _Node):
            end.set_leaf()
        elif end is _PENDING:
            self._pending[trial.number] = trial

    def _place_pending(self) -> None:
        """Places the waiting trials that now fit, until none does: the tree does not
        depend on the order in which trials were read."""
        progress = True
        while progress and self._pending:
            progress = False
            for number, trial in list(self._pending.items()):
                end = self._path(trial, None)
                if end is not _PENDING:
                    progress = True
                    del self._pending[number]
                    if isinstance(end, _Node):
                        end.set_leaf()

    def _sync(self, study: Study, current: int) -> set[_Node]:
        """Reads the trials added since the last call and those still unfinished;
        returns the nodes where running trials other than ``current`` stand."""
        if self._study_ref is None or self._study_ref() is not study:
            # Another study (or the first call): start from its trials.
            self._root, self._scanned = _Node(None), 0
            self._unfinished, self._pending = {}, {}
            self._study_ref = weakref.ref(study)
        trials = [study.get_trial(n) for n in self._unfinished]
        new = study.get_trials_from(self._scanned, sync=False)  # synced at the ask
        self._scanned += len(new)
        running: set[_Node] = set()
        for t in (*trials, *new):
            if t.state.is_finished():
                self._unfinished.pop(t.number, None)
                self._place(t, _order(t))
                continue
            self._unfinished[t.number] = None
            if t.state == TrialState.RUNNING and t.number != current:
                end = self._path(t, None)
                if isinstance(end, _Node):
                    running.add(end)
        self._place_pending()
        return running

    def _open(self, node: _Node, running: set[_Node]) -> int:
        """Unexpanded nodes below ``node`` that a new trial should take."""
        n = node.open
        if not self._avoid_premature_stop:
            for r in running:
                if r.is_unexpanded() and _below(r, node):
                    n -= 1
        return n

    def _choose(self, node: _Node, running: set[_Node]) -> int | None:
        """A position at ``node``: unexpanded values and subtrees weighted half by
        their unexpanded nodes, half evenly (as Optuna), running ones last.

        The children are taken in the order of their positions, not in the order
        the tree learnt them, so that the draw depends only on the trials."""
        explicit = sorted(node.children.items())
        counts = [self._open(child, running) for _, child in explicit]
        implicit = node.card - len(explicit)
        total = sum(counts) + implicit
        if total <= 0:
            return None
        flat = sum(c > 0 for c in counts) + implicit
        weights = [0.5 * c / total + (0.5 / flat if c > 0 else 0.0) for c in counts]
        w_implicit = 0.5 / total + 0.5 / flat
        free = implicit > 0 or any(
            w > 0 and child not in running for w, (_, child) in zip(weights, explicit, strict=True)
        )
        if free:
            weights = [
                0.0 if child in running else w
                for w, (_, child) in zip(weights, explicit, strict=True)
            ]
        u = self._rng.uniform() * (sum(weights) + implicit * w_implicit)
        for w, (k, _) in zip(weights, explicit, strict=True):
            if u < w:
                return k
            u -= w
        if implicit == 0:
            # Rounding: the last child with weight.
            return next(k for w, (k, _) in zip(weights, explicit, strict=True) if w > 0)
        return self._untried(node, implicit)

    def _untried(self, node: _Node, implicit: int) -> int:
        """A uniformly drawn position no trial has taken at ``node``."""
        if implicit * 16 >= node.card:
            while True:
                k = min(int(self._rng.uniform() * node.card), node.card - 1)
                if k not in node.children:
                    return k
        # Few left: list them (their number is at most the trials seen).
        left = [k for k in range(node.card) if k not in node.children]
        return left[min(int(self._rng.uniform() * len(left)), len(left) - 1)]

    # ------------------------------------------------------------------ hooks
    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        card = _cardinality(param_name, param_distribution)
        with self._lock:
            running = self._sync(study, trial.number)
            node = self._path(trial, list(trial.distributions))
            k = None
            if isinstance(node, _Node) and node.expand((param_name, param_distribution), card):
                # Trials read back from a database may fit now that this node is known.
                self._place_pending()
                k = self._choose(node, running)
            if k is None:
                # Nothing left here (or the objective changed its parameters): as
                # Optuna, any value.
                k = min(int(self._rng.uniform() * card), card - 1)
        return _value(param_distribution, k)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        # A trial of this process lists its parameters in the order they were
        # suggested; record it for samplers that read the trial back.
        order = list(trial.distributions)
        if len(order) > 1:
            study.set_trial_system_attr(trial.number, _ORDER_KEY, order)
        with self._lock:
            running = self._sync(study, trial.number)
            self._place(trial, order)
            if self._open(self._root, running) <= 0:
                study.stop()

    def reseed_rng(self) -> None:
        self._rng.reseed(_seed_or_random(None))

    # ---------------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        return {
            "seed": self._seed,
            "avoid_premature_stop": self._avoid_premature_stop,
            "rng": self._rng.get_state(),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._seed = state["seed"]
        self._avoid_premature_stop = state["avoid_premature_stop"]
        self._rng = _core.RandomSamplerCore(self._seed)
        self._rng.set_state(state["rng"])
        self._reset()


def _order(trial: FrozenTrial) -> list[str] | None:
    """The order in which a trial's parameters were suggested, when it recorded it
    (a trial of one parameter needs none)."""
    if len(trial.distributions) <= 1:
        return list(trial.distributions)
    order = trial.system_attrs.get(_ORDER_KEY)
    if (
        isinstance(order, list)
        and len(order) == len(trial.distributions)
        and set(order) == trial.distributions.keys()
    ):
        return [str(name) for name in order]
    return None


def _below(node: _Node, ancestor: _Node) -> bool:
    """True when ``node`` is ``ancestor`` or lies under it."""
    n: _Node | None = node
    while n is not None:
        if n is ancestor:
            return True
        n = n.parent
    return False
