"""Integrations with other libraries. Each lives in its own subpackage and imports its
library only when that subpackage is imported: ``import ferrotune`` imports none of them.

- :mod:`ferrotune.integration.optuna`: ferrotune's samplers and pruners as Optuna plugins
  (``pip install ferrotune[optuna]``).
"""
