"""Stage 6: build a release from per-source units: the process pool, the unit cache, the
checks across sources, the incremental rebuild, and ``build_release`` (lock, swap, check).

* :mod:`toolkit.build.pipeline` makes the units (in one pool, ``--jobs`` resolved once),
  links them (duplicate ids, references, cycles) and validates them;
* :mod:`toolkit.build.incremental` rebuilds after a few sources changed, splicing blocks;
* :mod:`toolkit.build.release` is ``build`` itself (:func:`build_release`).
"""

from __future__ import annotations

from toolkit.build.release import build_release

__all__ = ["build_release"]
