"""Integrations with other libraries (each needs its library; none is imported by
``import ferrotune``)."""
