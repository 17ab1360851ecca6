"""Studies: create, load and run optimisations."""

from ferrotune.study._copy import copy_study
from ferrotune.study._direction import StudyDirection
from ferrotune.study._study import (
    Study,
    create_study,
    delete_study,
    get_all_study_names,
    load_study,
)

__all__ = [
    "Study",
    "StudyDirection",
    "copy_study",
    "create_study",
    "delete_study",
    "get_all_study_names",
    "load_study",
]
