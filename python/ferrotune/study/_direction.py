from __future__ import annotations

import enum

__all__ = ["StudyDirection"]


class StudyDirection(enum.IntEnum):
    """Whether an objective is minimised or maximised (Optuna's numbering)."""

    NOT_SET = 0
    MINIMIZE = 1
    MAXIMIZE = 2
