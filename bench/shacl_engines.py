"""Time one SHACL engine on an N-Triples file with the project's shapes and ontology (issue 12).

    python bench/shacl_engines.py shacl|pyshacl DATA.nt         # in this checkout
    PYTHONPATH=OLD python bench/shacl_engines.py compiler DATA.nt  # OLD: `git archive 88a3c64`
                                                                   # (the SHACL→SPARQL compiler)

Run from the root of the checkout whose schema/ is used. Prints one JSON line: seconds of the
validation call, the process's peak resident memory (MB) and its value before validation, the
number of results; writes the result keys (focus, path, component, severity, value) to
/tmp/shacl-bench-<engine>-<data>.json so that engines can be compared exactly.
DATA.nt comes from a generated corpus's units (`toolkit.scale.pipeline.fast_outcome`).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from rdflib import Graph


def main() -> None:
    which, nt_path = sys.argv[1], sys.argv[2]
    root = Path.cwd()
    shapes = Graph().parse(root / "schema/shapes.ttl")
    onto = Graph().parse(root / "schema/ontology.ttl")
    nt = Path(nt_path).read_bytes()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    if which == "compiler":
        from toolkit.scale.validation import validate_lines  # type: ignore[import-not-found]

        res, _rep = validate_lines(nt, shapes, onto, Graph())
    else:
        from toolkit.validate.shacl import validate_data

        res, _rep = validate_data(nt, shapes, onto, engine=which)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    keys = sorted({(r.focus_node, r.path, r.constraint, r.severity.value, r.value) for r in res}, key=str)
    Path(f"/tmp/shacl-bench-{which}-{Path(nt_path).stem}.json").write_text(json.dumps(keys, default=str))
    print(json.dumps({"engine": which, "seconds": round(seconds, 2), "peak_mb": round(peak), "before_mb": round(before),
                      "results": len(res)}))  # fmt: skip


if __name__ == "__main__":
    main()
