"""Stubs of the compiled module ``ferrotune._core`` (private: import ``ferrotune``)."""

__all__ = [
    "BohbSamplerCore",
    "CmaEsSamplerCore",
    "DeSamplerCore",
    "DehbSamplerCore",
    "GaSamplerCore",
    "Dist",
    "DistKind",
    "GpSamplerCore",
    "GridFitCore",
    "GridOrderCore",
    "GridPointsCore",
    "HyperbandPrunerCore",
    "PatientPrunerCore",
    "NsgaSamplerCore",
    "PercentilePrunerCore",
    "PsoSamplerCore",
    "TrustSamplerCore",
    "QmcSamplerCore",
    "RandomSamplerCore",
    "ReinforceSamplerCore",
    "Space",
    "StudyCore",
    "SuccessiveHalvingPrunerCore",
    "ThresholdPrunerCore",
    "TpeSamplerCore",
    "TrialRecord",
    "TrialState",
    "WilcoxonPrunerCore",
    "_panic_for_tests",
    "HypergradientSamplerCore",
    "hypervolume",
    "log_ndtr",
    "fanova_importances",
    "mdi_importances",
    "ndtri",
    "ped_anova_importances",
    "truncnorm_logpdf",
    "truncnorm_ppf",
    "ForestCore",
    "RfSamplerCore",
]

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from typing_extensions import Self, final

@final
class DistKind:
    FLOAT: DistKind
    INT: DistKind
    CATEGORICAL: DistKind
    def __int__(self) -> builtins.int: ...

@final
class TrialState:
    RUNNING: TrialState
    COMPLETE: TrialState
    PRUNED: TrialState
    FAIL: TrialState
    WAITING: TrialState
    def __int__(self) -> int: ...

@final
class TrialRecord:
    @property
    def state(self) -> TrialState: ...
    @property
    def values(self) -> list[float]: ...
    @property
    def params(self) -> list[tuple[int, float]]: ...
    @property
    def intermediate(self) -> list[tuple[int, float]]: ...
    @property
    def intermediate_rest(self) -> list[tuple[int, list[float]]]: ...
    @property
    def started(self) -> float: ...
    @property
    def completed(self) -> float: ...

@final
class Dist:
    @staticmethod
    def float(
        name: str, low: builtins.float, high: builtins.float, step: builtins.float | None, log: bool
    ) -> Dist: ...
    @staticmethod
    def int(
        name: str, low: builtins.int, high: builtins.int, step: builtins.int, log: bool
    ) -> Dist: ...
    @staticmethod
    def categorical(name: str, n: builtins.int) -> Dist: ...
    def contains(self, x: builtins.float) -> bool: ...
    def from_unit(self, u: builtins.float) -> builtins.float: ...
    @property
    def kind(self) -> DistKind: ...
    @property
    def low(self) -> builtins.float: ...
    @property
    def high(self) -> builtins.float: ...
    @property
    def step(self) -> builtins.float | None: ...
    @property
    def log(self) -> bool: ...
    @property
    def n_choices(self) -> builtins.int: ...
    def cardinality(self) -> builtins.int | None: ...
    def position(self, x: builtins.float) -> builtins.int | None: ...
    def discrete_value(self, k: builtins.int) -> builtins.float: ...

@final
class Space:
    def __new__(
        cls,
        params: list[tuple[str, Dist, int | None, list[float], list[float | None] | None]],
        constraints: list[tuple[Any, ...]],
    ) -> Self: ...
    def enumerate_grid(
        self, max_points: int | None = None, max_steps: int | None = None
    ) -> npt.NDArray[np.float64]: ...
    def is_valid(self, x: list[float]) -> bool: ...

@final
class PercentilePrunerCore:
    def __new__(
        cls,
        percentile: float,
        n_startup_trials: int,
        n_warmup_steps: int,
        interval_steps: int,
        n_min_trials: int,
    ) -> Self: ...

@final
class ThresholdPrunerCore:
    def __new__(
        cls, lower: float, upper: float, n_warmup_steps: int, interval_steps: int
    ) -> Self: ...

@final
class PatientPrunerCore:
    def __new__(
        cls,
        wrapped: PercentilePrunerCore
        | ThresholdPrunerCore
        | PatientPrunerCore
        | SuccessiveHalvingPrunerCore
        | HyperbandPrunerCore
        | WilcoxonPrunerCore
        | None,
        patience: int,
        min_delta: float,
    ) -> Self: ...

@final
class SuccessiveHalvingPrunerCore:
    def __new__(
        cls,
        min_resource: int | None,
        reduction_factor: int,
        min_early_stopping_rate: int,
        bootstrap_count: int,
    ) -> Self: ...

@final
class HyperbandPrunerCore:
    def __new__(
        cls,
        min_resource: int,
        max_resource: int | None,
        reduction_factor: int,
        bootstrap_count: int,
    ) -> Self: ...

@final
class WilcoxonPrunerCore:
    def __new__(cls, p_threshold: float, n_startup_steps: int) -> Self: ...

@final
class NsgaSamplerCore:
    def __new__(
        cls,
        population_size: int,
        mutation_prob: float | None,
        crossover_prob: float,
        swapping_prob: float,
        seed: int,
        crossover: str = "uniform",
        alpha: float = 0.5,
        eta: float | None = None,
        uniform_crossover_prob: float = 0.5,
        use_child_gene_prob: float = 0.5,
        sigma_xi: float = 0.5,
        sigma_eta: float | None = None,
        epsilon: float | None = None,
        nsga3: bool = False,
        reference_points: list[list[float]] | None = None,
        dividing_parameter: int = 3,
    ) -> Self: ...
    def get_state(self) -> list[int]: ...
    def set_state(self, state: list[int]) -> None: ...
    def reseed(self, seed: int) -> None: ...

@final
class RandomSamplerCore:
    def __new__(cls, seed: int) -> Self: ...
    def uniform(self) -> float: ...
    def get_state(self) -> list[int]: ...
    def set_state(self, state: list[int]) -> None: ...
    def reseed(self, seed: int) -> None: ...

@final
class QmcSamplerCore:
    def __new__(cls, kind: str, scramble: bool, seed: int) -> Self: ...
    def get_state(self) -> list[int]: ...
    def set_state(self, state: list[int]) -> None: ...
    def reseed(self, seed: int) -> None: ...
    def next_point(self, dim: int) -> list[float]: ...
    def point(self, index: int, dim: int) -> list[float]: ...
    @property
    def index(self) -> int: ...
    @index.setter
    def index(self, value: int) -> None: ...

@final
class GridOrderCore:
    def __new__(cls, n: int, seed: int) -> Self: ...
    def next_index(self) -> int | None: ...
    def mark_visited(self, i: int) -> bool: ...
    def is_visited(self, i: int) -> bool: ...
    def remaining(self) -> int: ...
    def size(self) -> int: ...
    def next_fitting(
        self, points: GridPointsCore, fit: GridFitCore | None = None
    ) -> int | None: ...
    def get_state(self) -> tuple[int, int, int, list[int]]: ...
    def set_state(self, state: tuple[int, int, int, list[int]]) -> None: ...

@final
class GridPointsCore:
    @staticmethod
    def product(counts: list[int]) -> GridPointsCore: ...
    @staticmethod
    def rows(rows: npt.NDArray[np.float64]) -> GridPointsCore: ...
    def size(self) -> int: ...
    def point(self, i: int) -> list[float]: ...
    def index_of(self, point: list[float]) -> int | None: ...

@final
class GridFitCore:
    def __new__(
        cls,
        space: Space,
        columns: Sequence[tuple[int, list[float], list[float]] | None],
        dedup: bool,
        accept: Any = None,
    ) -> Self: ...
    def fits(self, points: GridPointsCore, i: int) -> bool: ...

@final
class BohbSamplerCore:
    def __new__(
        cls,
        min_points_in_model: int | None,
        top_n_percent: float,
        num_samples: int,
        random_fraction: float,
        bandwidth_factor: float,
        min_bandwidth: float,
        seed: int,
        magic_clip: bool = False,
        prior_weight: float = 0.0,
        pruned_in_bad: bool = False,
    ) -> Self: ...
    def get_state(self) -> list[int]: ...
    def set_state(self, state: list[int]) -> None: ...
    def reseed(self, seed: int) -> None: ...
    def proposal_counts(self) -> tuple[int, int]: ...

@final
class CmaEsSamplerCore:
    def __new__(
        cls,
        x0: list[tuple[str, float]],
        sigma0: float | None,
        n_startup_trials: int,
        popsize: int | None,
        consider_pruned_trials: bool,
        restart_strategy: str | None,
        inc_popsize: int,
        use_separable_cma: bool,
        with_margin: bool,
        lr_adapt: bool,
        model_categorical: bool,
        seed: int,
    ) -> Self: ...
    def get_state(self) -> list[int]: ...
    def set_state(self, state: list[int]) -> None: ...
    def reseed(self, seed: int) -> None: ...
    def model(
        self,
    ) -> (
        tuple[
            list[float],
            float,
            list[list[float]],
            list[float],
            list[float],
            int,
            int,
            list[tuple[int, str, int, bool]],
        ]
        | None
    ): ...

@final
class DeSamplerCore:
    def __new__(
        cls,
        population_size: int,
        strategy: str,
        adaptation: str,
        mutation_factor: float,
        crossover_rate: float,
        memory_size: int | None,
        p_best_rate: float,
        archive_rate: float,
        seed: int,
    ) -> Self: ...
    def get_state(self) -> list[int]: ...
    def set_state(self, state: list[int]) -> None: ...
    def reseed(self, seed: int) -> None: ...

@final
class TrustSamplerCore:
    def __new__(
        cls,
        x0: list[tuple[str, float]],
        radius0: float,
        radius_min: float,
        n_points: int | None,
        seed: int,
    ) -> Self: ...
    @property
    def radius(self) -> float | None: ...
    def get_state(self) -> list[int]: ...
    def set_state(self, state: list[int]) -> None: ...
    def reseed(self, seed: int) -> None: ...

@final
class PsoSamplerCore:
    def __new__(
        cls,
        swarm_size: int,
        cognitive: float,
        social: float,
        max_velocity: float,
        topology: str,
        seed: int,
    ) -> Self: ...
    def get_state(self) -> list[int]: ...
    def set_state(self, state: list[int]) -> None: ...
    def reseed(self, seed: int) -> None: ...

@final
class DehbSamplerCore:
    def __new__(
        cls,
        min_resource: int,
        max_resource: int | None,
        reduction_factor: int,
        mutation_factor: float,
        crossover_prob: float,
        seed: int,
    ) -> Self: ...
    def get_state(self) -> list[int]: ...
    def set_state(self, state: list[int]) -> None: ...
    def reseed(self, seed: int) -> None: ...
    def subpopulations(self) -> list[list[int | None]]: ...

@final
class GaSamplerCore:
    def __new__(
        cls,
        mode: str,
        population_size: int | None,
        tournament_size: int | None,
        n_elites: int | None,
        crossover_prob: float,
        swapping_prob: float,
        eta_c: float,
        eta_m: float,
        mutation_prob: float | None,
        seed: int,
    ) -> Self: ...
    def get_state(self) -> list[int]: ...
    def set_state(self, state: list[int]) -> None: ...
    def reseed(self, seed: int) -> None: ...
    def generation(self) -> int: ...

@final
class ReinforceSamplerCore:
    def __new__(
        cls,
        learning_rate: float,
        baseline_decay: float,
        entropy_weight: float,
        entropy_decay: float,
        hidden_size: int,
        embedding_size: int,
        n_bins: int,
        seed: int,
        ppo_epochs: int = 1,
        ppo_clip: float = 0.2,
    ) -> Self: ...
    def get_state(self) -> list[int]: ...
    def set_state(self, state: list[int]) -> None: ...
    def reseed(self, seed: int) -> None: ...

@final
class GpSamplerCore:
    def __new__(
        cls,
        acquisition: str,
        beta: float | None,
        n_startup_trials: int,
        deterministic_objective: bool,
        seed: int,
        output_transform: str | None = None,
        input_warping: str = "off",
        trust_region: bool = False,
        thompson: bool = False,
    ) -> Self: ...
    def get_state(self) -> list[int]: ...
    def set_state(self, state: list[int]) -> None: ...
    def get_trust_region(self) -> tuple[float, int, int, int, int] | None: ...
    def get_fits(self) -> list[tuple[list[float], int, int] | None]: ...
    def reseed(self, seed: int) -> None: ...

@final
class TpeSamplerCore:
    def __new__(
        cls,
        n_startup_trials: int,
        n_ei_candidates: int,
        multivariate: bool,
        group: bool,
        constant_liar: bool,
        prior_weight: float,
        consider_magic_clip: bool,
        consider_endpoints: bool,
        seed: int,
        gamma: Any = None,
        weights: Any = None,
        budget_aware: bool = False,
    ) -> Self: ...
    def get_state(self) -> list[int]: ...
    def set_state(self, state: list[int]) -> None: ...
    def reseed(self, seed: int) -> None: ...

def hypervolume(points: npt.NDArray[np.float64], reference_point: list[float]) -> float: ...
def log_ndtr(x: float) -> float: ...
def ndtri(p: float) -> float: ...
def truncnorm_logpdf(x: float, mu: float, sigma: float, low: float, high: float) -> float: ...
def truncnorm_ppf(u: float, a: float, b: float) -> float: ...
def _panic_for_tests(detached: bool = False) -> None: ...

@final
class StudyCore:
    def __new__(cls, maximize: list[bool]) -> Self: ...
    def tag(self, number: int) -> list[float]: ...
    def set_tags(self, tags: list[tuple[int, list[float]]]) -> None: ...
    def all_tags(self) -> list[list[float]]: ...
    def relative(self, number: int) -> int: ...
    def ensure_trial(self, number: int, state: TrialState) -> None: ...
    def set_times(
        self, number: int, started: float | None = None, completed: float | None = None
    ) -> None: ...
    def apply_remote(
        self,
        number: int,
        state: TrialState,
        values: list[float],
        params: list[tuple[str, Dist, float]],
        intermediate: list[tuple[int, float]],
        constraints: list[float],
        started: float,
        completed: float,
    ) -> str | None: ...
    def apply_remote_batch(
        self,
        trials: Sequence[tuple[int, int, int, float | None, float | None]],
        values: Sequence[Sequence[float]],
        constraints: Sequence[Sequence[float]],
        dists: Sequence[tuple[str, Dist]],
        params: Sequence[tuple[int, str, str, float]],
        intermediate: Sequence[tuple[int, int, float | None]],
        intermediate_rest: Sequence[tuple[int, int, Sequence[float]]] = ...,
    ) -> list[tuple[int, str]]: ...
    def set_constraints(self, number: int, values: list[float]) -> None: ...
    def set_sampler(self, sampler: Any, study_name: str = ...) -> bool: ...
    def set_pruner(self, pruner: Any, study_name: str = ...) -> bool: ...
    def should_prune(self, number: int) -> bool: ...
    def prune(
        self, number: int, order: int | None = None
    ) -> tuple[bool, list[tuple[int, int, list[float], bool, int]]]: ...
    def prune_check(self, number: int) -> int: ...
    def add_rung_records(self, records: list[tuple[int, int, list[float], bool, int]]) -> None: ...
    def rung_records(self) -> list[tuple[int, int, list[float], bool, int]]: ...
    def ask(self) -> int: ...
    def create_waiting(self) -> int: ...
    def pop_waiting(self) -> int | None: ...
    def suggest_float(
        self,
        number: int,
        name: str,
        low: float,
        high: float,
        step: float | None = None,
        log: bool = False,
    ) -> float: ...
    def suggest_int(
        self, number: int, name: str, low: int, high: int, step: int = 1, log: bool = False
    ) -> int: ...
    def suggest_categorical(self, number: int, name: str, n: int) -> int: ...
    def suggest_dist(self, number: int, name: str, dist: Dist) -> float: ...
    def sample_independent(self, number: int, name: str, dist: Dist) -> float: ...
    def existing(self, number: int, name: str, dist: Dist) -> float | None: ...
    def pending_value(self, number: int, name: str, dist: Dist) -> float | None: ...
    def set_param(self, number: int, name: str, dist: Dist, value: float) -> None: ...
    def sample_space(
        self,
        number: int,
        space: Space,
        max_draws: int = ...,
        accept: Any = None,
        fixed: Sequence[float | None] | None = None,
        propose: Any = None,
        seed: int = 0,
    ) -> list[float]: ...
    def set_space_params(self, number: int, space: Space, values: list[float]) -> None: ...
    def set_held_params(self, names: list[str]) -> None: ...
    def report(self, number: int, step: int, value: float) -> None: ...
    def report_vector(self, number: int, step: int, values: list[float]) -> None: ...
    def tell(self, number: int, state: TrialState, values: list[float]) -> None: ...
    def n_trials(self) -> int: ...
    def state(self, number: int) -> TrialState: ...
    def is_running(self, number: int) -> bool: ...
    def record(self, number: int) -> TrialRecord: ...
    def records(self, start: int, stop: int) -> list[TrialRecord]: ...
    def all_constraints(self) -> list[list[float]]: ...
    def param_dist(self, key: int) -> tuple[str, Dist]: ...
    def best_trial(self, maximize: bool) -> int | None: ...
    def pareto_front(self, maximize: list[bool]) -> list[int]: ...
    def intersection_space(self) -> list[tuple[str, Dist]]: ...
    def param_names(self) -> list[str]: ...
    def check_dist(self, name: str, dist: Dist) -> None: ...

def ped_anova_importances(
    losses: npt.NDArray[np.float64],
    columns: Sequence[tuple[npt.NDArray[np.float64], npt.NDArray[np.uint32], Sequence[Dist]]],
    target_quantile: float,
    region_quantile: float,
    evaluate_on_local: bool,
    n_steps: int = 50,
    prior_weight: float = 1.0,
    min_n_trials_in_regime: int = 2,
) -> tuple[list[float], bool, list[bool]]: ...
def fanova_importances(
    columns: Sequence[tuple[npt.NDArray[np.float64], Dist]],
    y: npt.NDArray[np.float64],
    n_trees: int = 64,
    max_depth: int = 64,
    min_samples_split: int = 2,
    min_samples_leaf: int = 1,
    seed: int = 0,
) -> tuple[list[float], list[float], int]: ...
def mdi_importances(
    columns: Sequence[tuple[npt.NDArray[np.float64], Dist]],
    y: npt.NDArray[np.float64],
    n_trees: int = 64,
    max_depth: int = 64,
    min_samples_split: int = 2,
    min_samples_leaf: int = 1,
    seed: int = 0,
) -> list[float]: ...

@final
class RfSamplerCore:
    def __new__(
        cls,
        n_startup_trials: int | None,
        random_fraction: float,
        n_candidates: int,
        n_local_search: int,
        n_plateau_steps: int,
        n_trees: int,
        ratio_features: float,
        min_samples_split: int,
        min_samples_leaf: int,
        max_depth: int,
        bootstrapping: bool,
        log_y: bool,
        constant_liar: bool,
        min_distance: float,
        seed: int,
    ) -> Self: ...
    def get_state(self) -> list[int]: ...
    def set_state(self, state: list[int]) -> None: ...
    def reseed(self, seed: int) -> None: ...

@final
class HypergradientSamplerCore:
    def __new__(
        cls,
        lr: float,
        beta1: float,
        beta2: float,
        eps: float,
        optimizer: str,
        x0: list[tuple[str, float]],
        start: str,
        seed: int,
    ) -> Self: ...
    def get_state(self) -> list[int]: ...
    def set_state(self, state: list[int]) -> None: ...
    def reseed(self, seed: int) -> None: ...
    def prepare(
        self,
        trial: int,
        entries: list[tuple[int, str, Dist, float, float]],
        maximize: bool,
        no_gradient: list[str],
        done: list[int],
        pending: bool,
    ) -> None: ...
    def iterate(self) -> list[tuple[str, float]]: ...

@final
class ForestCore:
    @staticmethod
    def fit(
        features: list[tuple[float, float, int, bool]],
        x: npt.NDArray[np.float64],
        y: list[float],
        n_trees: int,
        ratio_features: float,
        min_samples_split: int,
        min_samples_leaf: int,
        max_depth: int,
        bootstrapping: bool,
        random_thresholds: bool,
        law_of_total_variance: bool,
        seed: int,
    ) -> ForestCore: ...
    def predict(self, x: npt.NDArray[np.float64]) -> tuple[list[float], list[float]]: ...
    def node_counts(self) -> list[int]: ...
