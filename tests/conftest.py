"""Test configuration: hypothesis profiles.

Select one with the environment variable ``HYPOTHESIS_PROFILE`` (default ``ci``):

- ``ci``: the default, sized so the whole suite runs in a few minutes on two cores;
- ``dev``: a quick pass while editing;
- ``thorough``: many more examples, for a nightly or pre-release run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}

settings.register_profile("ci", max_examples=100, **_COMMON)
settings.register_profile("dev", max_examples=15, **_COMMON)
settings.register_profile("thorough", max_examples=600, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
