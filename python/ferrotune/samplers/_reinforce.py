from __future__ import annotations

import math
import numbers
from typing import Any

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers._base import _RustModelSampler, _seed_or_random

__all__ = ["ReinforceSampler"]


def _number(name: str, value: Any, low: float, high: float, *, open_low: bool = False) -> float:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, numbers.Real)
        and not math.isnan(float(value))
        and (low < float(value) if open_low else low <= float(value))
        and float(value) <= high
    )
    if not ok:
        interval = f"{'(' if open_low else '['}{low}, {high}]"
        raise InvalidArgumentError(f"{name} must be a number in {interval}, got {value!r}")
    return float(value)


# Upper bounds of the controller's sizes: an LSTM of width 2,048 already holds 4 * 2048 *
# 4096 weights (268 MB); NAS controllers use 35-100 (Zoph & Le 2017).
_MAX_WIDTH = 2048
_MAX_BINS = 10_000
_MAX_EPOCHS = 1_000


def _int(name: str, value: Any, minimum: int, maximum: int) -> int:
    # Any integer (numpy's too); the upper bound keeps the controller's weights, allocated
    # in Rust, from aborting the interpreter (hidden_size=100_000 asked for 80 GB).
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgumentError(f"{name} must be an int >= {minimum}, got {value!r}")
    if not minimum <= int(value) <= maximum:
        raise InvalidArgumentError(
            f"{name} must be an int in [{minimum}, {maximum}], got {value!r}"
        )
    return int(value)


class ReinforceSampler(_RustModelSampler):
    """Policy-gradient search with a recurrent controller (REINFORCE), for declared spaces.

    A controller proposes each configuration of a declared :class:`~ferrotune.SearchSpace`
    as a sequence of decisions, one per active parameter in the space's order (parents
    first), as in Zoph and Le (2017, "Neural Architecture Search with Reinforcement
    Learning"): a recurrent cell reads the embedding of the previous choice and a softmax
    per parameter chooses the next. Categoricals, ints and stepped floats of at most 64
    values choose among their values; continuous floats and wider ints choose one of
    ``n_bins`` equal cells of their scale (log scale for ``log=True``) and take a uniform
    value inside it. Inactive parameters are skipped. The cell is an Elman (tanh)
    recurrent layer rather than the paper's two-layer LSTM; its gradient is written by
    hand and runs in Rust.

    Training is REINFORCE (Williams 1992): before each proposal the controller learns from
    the trials finished since the previous one (all workers' COMPLETE trials of the space,
    enqueued ones included), one Adam step per trial in the order the study learnt of
    them, on ``-A log p(configuration) - beta H(policy)``. The advantage is
    ``A = (r - b) / sigma``: the reward ``r`` is the objective value (negated when
    minimising), ``b`` an exponential moving average of earlier rewards (decay
    ``baseline_decay``) and ``sigma`` the standard deviation of all rewards seen; ``A``
    is clipped to ``[-10, 10]`` and rewards to ``[-1e300, 1e300]`` (our guards: an
    outlier reward otherwise froze the controller through Adam's second moment). The
    entropy weight is ``entropy_weight * entropy_decay ** updates``. Each worker process
    trains its own copy of the controller on the study's trials, so a resumed study or a
    new worker replays them one by one.

    Hard constraints are never violated: the choices of the parameters in the space's
    enumerated constraint block are masked at each step to those some feasible
    combination allows given the earlier choices; other constraints (and ``ask``'s
    predicates) draw the configuration again, up to 32 times, then the constrained
    uniform sampler answers. A study without a declared space gets uniform draws, as
    :class:`RandomSampler`: the controller needs the space's order. Asking with a
    different space starts a new controller. The sampler ranks the first objective. The
    controller's weights, Adam's moments and the baseline are in the pickled state, so an
    unpickled sampler continues where it stopped.

    The defaults were tuned on NAS-Bench-201 (benches/nas_reinforce.py, 200 evaluations,
    seeds apart from the reported ones; benches/README.md): there the controller's median
    regret is well below random search's, close to regularized evolution's
    (``GASampler(mode="aging")``) from 200 evaluations on, and behind TPE's in the first
    hundred. A larger ``learning_rate`` or a smaller ``entropy_weight`` makes it commit
    early to one architecture.

    Args:
        learning_rate: Adam's step size (0.01).
        baseline_decay: Decay of the moving-average baseline, in [0, 1) (0.9).
        entropy_weight: Weight of the entropy bonus (0.1).
        entropy_decay: Factor on the entropy weight per update, in (0, 1] (1.0: constant).
        hidden_size: Width of the recurrent state (32; at most 2,048).
        embedding_size: Width of each choice's embedding (16; at most 2,048).
        n_bins: Cells of a continuous parameter (10; at most 10,000).
        ppo_epochs: Adam steps per finished trial (1: REINFORCE). With k > 1 the later
            steps follow PPO's clipped surrogate (Schulman et al. 2017), the old policy
            being the controller before the trial's first step. On NAS-Bench-201 extra
            epochs made the controller commit earlier and did not help. At most 1,000.
        ppo_clip: PPO's clip range epsilon, in (0, 1) (0.2, the paper's).
        seed: Seed of the generator; None draws one.

    Raises:
        InvalidArgumentError: an argument out of its range.

    Example:
        >>> space = ferrotune.SearchSpace(  # doctest: +SKIP
        ...     {f"op{i}": CategoricalDistribution(["conv", "pool", "skip"]) for i in range(6)}
        ... )
        >>> study = ferrotune.create_study(sampler=ReinforceSampler(seed=0))  # doctest: +SKIP
        >>> trial = study.ask(space)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        learning_rate: float = 0.01,
        baseline_decay: float = 0.9,
        entropy_weight: float = 0.1,
        entropy_decay: float = 1.0,
        hidden_size: int = 32,
        embedding_size: int = 16,
        n_bins: int = 10,
        ppo_epochs: int = 1,
        ppo_clip: float = 0.2,
        seed: int | None = None,
    ) -> None:
        lr = _number("learning_rate", learning_rate, 0.0, math.inf, open_low=True)
        if math.isinf(lr):
            raise InvalidArgumentError("learning_rate must be finite")
        decay = _number("baseline_decay", baseline_decay, 0.0, 1.0)
        if decay == 1.0:
            raise InvalidArgumentError("baseline_decay must be below 1")
        ew = _number("entropy_weight", entropy_weight, 0.0, math.inf)
        if math.isinf(ew):
            raise InvalidArgumentError("entropy_weight must be finite")
        self._config: dict[str, Any] = {
            "learning_rate": lr,
            "baseline_decay": decay,
            "entropy_weight": ew,
            "entropy_decay": _number("entropy_decay", entropy_decay, 0.0, 1.0, open_low=True),
            "hidden_size": _int("hidden_size", hidden_size, 1, _MAX_WIDTH),
            "embedding_size": _int("embedding_size", embedding_size, 1, _MAX_WIDTH),
            "n_bins": _int("n_bins", n_bins, 2, _MAX_BINS),
            "ppo_epochs": _int("ppo_epochs", ppo_epochs, 1, _MAX_EPOCHS),
            "ppo_clip": _number("ppo_clip", ppo_clip, 0.0, 1.0, open_low=True),
        }
        if self._config["ppo_clip"] == 1.0:
            raise InvalidArgumentError("ppo_clip must be below 1")
        self._seed = _seed_or_random(seed)
        self._rust = self._build()

    def _build(self) -> _core.ReinforceSamplerCore:
        c = self._config
        return _core.ReinforceSamplerCore(
            c["learning_rate"],
            c["baseline_decay"],
            c["entropy_weight"],
            c["entropy_decay"],
            c["hidden_size"],
            c["embedding_size"],
            c["n_bins"],
            self._seed,
            c["ppo_epochs"],
            c["ppo_clip"],
        )
