"""The version of ferrotune (Optuna's module of the same name)."""

from ferrotune import __version__

__all__ = ["__version__"]
