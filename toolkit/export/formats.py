"""The one registry of the release's data files made from the units.

Why one registry: the full build, the incremental rebuild, the manifest's media types, the
catalog's distributions, the data package and the CKAN upload all read it, so a new format
is one module (a :class:`~toolkit.export.blocks.Format` named ``FORMAT``) and one line here.
The CSV tables (one file per table of the model) are written beside these by
:mod:`toolkit.publish.assemble`.
"""

from __future__ import annotations

from toolkit.export import jsonld, nquads, ntriples, rdfxml, trig, turtle
from toolkit.export.blocks import Format

FORMATS: tuple[Format, ...] = (
    turtle.FORMAT,
    ntriples.FORMAT,
    rdfxml.FORMAT,
    jsonld.FORMAT,
    nquads.FORMAT,
    trig.FORMAT,
)

#: file suffix -> its format
BY_SUFFIX = {fmt.file.rpartition(".")[2]: fmt for fmt in FORMATS}
