"""Scale: the same pipeline for corpora of thousands of sources (issue 6).

* :mod:`toolkit.scale.generate` writes a seeded synthetic corpus that looks like the real one;
* :mod:`toolkit.scale.units` runs the per-source stages (facts, schema, evidence, dates, triples
  and every per-subject rendering) in a process pool, each cached under a content hash;
* :mod:`toolkit.scale.pipeline` links the sources (duplicate ids, references, cycles), validates
  with :mod:`toolkit.validate.shacl` (the default SHACL engine, on the N-Triples lines) and
  assembles a release byte-identical to the one the naive path (rdflib, pyshacl, pyld) gives;
* :mod:`toolkit.scale.bench` times both paths side by side.
"""

from __future__ import annotations
