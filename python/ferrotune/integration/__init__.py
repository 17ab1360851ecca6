"""Integrations with other libraries. Each lives in its own module or subpackage and
imports its library only when that module is imported: ``import ferrotune`` imports none
of them.

- :mod:`ferrotune.integration.optuna`: ferrotune's samplers and pruners as Optuna plugins,
  and ``import_study`` / ``export_study`` to move studies between Optuna and ferrotune
  (``pip install ferrotune[optuna]``).
- :mod:`ferrotune.integration.dask`: ``optimize`` over a ``dask.distributed`` cluster on a
  shared storage (``pip install ferrotune[dask]``).
"""
