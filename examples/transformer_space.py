"""Tune the running example: a Transformer whose d_model must be divisible by n_heads.

Run: python examples/transformer_space.py
"""

import ferrotune
from ferrotune.examples import transformer_loss, transformer_space


def main() -> None:
    space = transformer_space()
    study = ferrotune.create_study(sampler=ferrotune.samplers.QMCSampler(seed=0))

    def objective(trial: ferrotune.Trial) -> float:
        # The declared space is already sampled: read it from trial.params. Define-by-run
        # suggestions can be mixed in, as in Optuna.
        params = dict(trial.params)
        params["warmup_steps"] = trial.suggest_int("warmup_steps", 0, 4000, step=100)
        assert params["d_model"] % params["n_heads"] == 0
        return transformer_loss(params)

    study.optimize(objective, n_trials=300, space=space)
    print("best loss:", round(study.best_value, 4))
    print("best params:", study.best_params)


if __name__ == "__main__":
    main()
