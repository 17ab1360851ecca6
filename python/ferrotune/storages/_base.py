from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

from ferrotune import _core

if TYPE_CHECKING:
    from ferrotune.study._direction import StudyDirection

__all__ = ["BaseStorage"]


class BaseStorage(abc.ABC):
    """Where studies live.

    Trial records (states, values, parameters, intermediate values) are kept by a
    Rust :class:`ferrotune._core.StudyCore` per study, which samplers read as columns
    of floats. A storage hands out that core (:meth:`get_core`) and owns everything
    else: study names, directions, attributes, categorical choices. In-memory storage
    keeps all of it in the process; persistent storages mirror the core into a
    database.
    """

    @abc.abstractmethod
    def create_new_study(
        self, directions: list[StudyDirection], study_name: str | None = None
    ) -> int:
        """Creates a study and returns its id; raises DuplicatedStudyError on a taken name."""

    @abc.abstractmethod
    def delete_study(self, study_id: int) -> None:
        """Deletes a study and its trials."""

    @abc.abstractmethod
    def get_study_id_from_name(self, study_name: str) -> int:
        """The id of a study; KeyError when there is none of that name."""

    @abc.abstractmethod
    def get_study_name_from_id(self, study_id: int) -> str:
        """The name of a study."""

    @abc.abstractmethod
    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        """The directions of a study's objectives."""

    @abc.abstractmethod
    def get_all_study_names(self) -> list[str]:
        """Names of all studies."""

    @abc.abstractmethod
    def get_core(self, study_id: int) -> _core.StudyCore:
        """The Rust record of a study's trials."""

    @abc.abstractmethod
    def get_choices(self, study_id: int) -> dict[str, Any]:
        """The study's categorical distributions by parameter name (a live dict)."""

    @abc.abstractmethod
    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None: ...

    @abc.abstractmethod
    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None: ...

    @abc.abstractmethod
    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]: ...

    @abc.abstractmethod
    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]: ...

    @abc.abstractmethod
    def set_trial_user_attr(self, study_id: int, number: int, key: str, value: Any) -> None: ...

    @abc.abstractmethod
    def set_trial_system_attr(self, study_id: int, number: int, key: str, value: Any) -> None: ...

    @abc.abstractmethod
    def get_trial_user_attrs(self, study_id: int, number: int) -> dict[str, Any]: ...

    @abc.abstractmethod
    def get_trial_system_attrs(self, study_id: int, number: int) -> dict[str, Any]: ...
