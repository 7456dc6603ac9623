"""Catalog introspection: a live database (or a shadow one) as frozen per-kind models.

Public entry points: :func:`fraisec.catalog.introspect.introspect` and the shadow helpers in
:mod:`fraisec.catalog.shadow`.
"""
