"""Studies: create, load and run optimisations."""

from ferrotune.study._callbacks import MaxTrialsCallback
from ferrotune.study._copy import copy_study
from ferrotune.study._direction import StudyDirection
from ferrotune.study._study import (
    Study,
    create_study,
    delete_study,
    get_all_study_names,
    load_study,
)
from ferrotune.study._summary import StudySummary, get_all_study_summaries

__all__ = [
    "MaxTrialsCallback",
    "Study",
    "StudyDirection",
    "StudySummary",
    "copy_study",
    "create_study",
    "delete_study",
    "get_all_study_names",
    "get_all_study_summaries",
    "load_study",
]
