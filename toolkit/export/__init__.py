"""Stage 4: one module per format, each rendering a unit's blocks and its file's header.

The registry is :data:`toolkit.export.formats.FORMATS`; a unit's renderings are made by
:mod:`toolkit.export.units` (per subject, see :mod:`toolkit.export.render`).
"""
