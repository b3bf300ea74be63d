"""The whole build against "rdflib parse + pyshacl + three rdflib serialisers", as issue 11 measures it.

    python bench/ratio.py CORPUS [--jobs 2] [--old OLD_CHECKOUT] [--runs 1]

CORPUS: a generated corpus (``policy-toolkit corpus generate --sources 2000 --seed 7 CORPUS``,
about 120k triples). For this checkout (and ``--old``, a ``git archive`` of an older commit,
run with ``PYTHONPATH=OLD`` and the same virtualenv), each run is a cold ``policy-toolkit build
--jobs N`` as a user runs it: a fresh process under ``/usr/bin/time -v``, an empty cache and an
empty release folder; the figure is the process's wall time, start-up and imports included.
The reference runs once, in a fresh process, on the ``policy.nt`` that build released: rdflib
parses it, pyshacl validates it with the project's shapes and ontology, rdflib serialises it as
Turtle, RDF/XML and JSON-LD; its figure is the sum of those steps (imports not counted, which
favours the reference). With ``--old``, the two releases are compared byte for byte. Prints one
JSON object; the ratio is the reference's total / the best build wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
TOOL = Path(sys.executable).with_name("policy-toolkit")


def reference(nt: Path, schema: Path) -> dict[str, float]:
    """The whole-graph path on ``nt``, each step timed (run in a child process)."""
    from pyshacl import validate
    from rdflib import Graph

    steps: dict[str, float] = {}
    t = time.perf_counter()
    g = Graph().parse(nt, format="nt")
    steps["parse"] = time.perf_counter() - t
    shapes = Graph().parse(schema / "shapes.ttl", format="turtle")
    ontology = Graph().parse(schema / "ontology.ttl", format="turtle")
    t = time.perf_counter()
    validate(g, shacl_graph=shapes, ont_graph=ontology, inference="none", abort_on_first=False, allow_warnings=True)
    steps["pyshacl"] = time.perf_counter() - t
    for fmt in ("turtle", "xml", "json-ld"):
        t = time.perf_counter()
        g.serialize(format=fmt, encoding="utf-8")
        steps[fmt] = time.perf_counter() - t
    steps["triples"] = len(g)
    return steps


def cold_build(checkout: Path, corpus: Path, jobs: int, work: Path) -> dict[str, float]:
    """One cold ``policy-toolkit build`` of ``checkout``'s code, in a fresh process."""
    release, cache = work / "release", work / "cache"
    for p in (release, cache):
        shutil.rmtree(p, ignore_errors=True)
    env = {**os.environ, "POLICY_TOOLKIT_CACHE": str(cache), "PYTHONPATH": str(checkout)}
    env.pop("CI", None)
    cmd = ["/usr/bin/time", "-v", str(TOOL), "build", "--sources", str(corpus), "--release", str(release)]
    t = time.perf_counter()
    proc = subprocess.run(
        [*cmd, "--jobs", str(jobs)], cwd=checkout, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"build failed in {checkout}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    cpu = [re.search(rf"{kind} time \(seconds\): ([\d.]+)", proc.stderr) for kind in ("User", "System")]
    return {
        "wall": round(wall, 2),
        "cpu": round(sum(float(m.group(1)) for m in cpu if m), 2),
        "peak_mb": round(int(rss.group(1)) / 1024, 1) if rss else -1,
    }


def tree(folder: Path) -> dict[str, bytes]:
    """Every file of a release by its path (the toolkit's marker file included)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--old", type=Path, help="an older checkout (git archive), timed beside this one")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--reference-child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.reference_child:
        print(json.dumps(reference(a.corpus, HERE / "schema")))
        return
    corpus = a.corpus.resolve()
    out: dict[str, object] = {"corpus": str(corpus), "jobs": a.jobs}
    with tempfile.TemporaryDirectory(prefix="ratio-") as tmp:
        work = Path(tmp)
        checkouts = {"new": HERE, **({"old": a.old.resolve()} if a.old else {})}
        builds: dict[str, list[dict[str, float]]] = {name: [] for name in checkouts}
        for _ in range(a.runs):  # alternate, so that the machine's load falls on both alike
            for name, checkout in checkouts.items():
                builds[name].append(cold_build(checkout, corpus, a.jobs, work / name))
        if "old" in builds:  # the same corpus must give the same bytes (`diff -r` of the two releases)
            out["same_bytes_as_old"] = tree(work / "new" / "release") == tree(work / "old" / "release")
        nt = work / "new" / "release" / "policy.nt"
        proc = subprocess.run(
            [sys.executable, __file__, str(nt), "--reference-child"], capture_output=True, text=True, check=True
        )
        ref = json.loads(proc.stdout.strip().splitlines()[-1])
    ref_total = sum(v for k, v in ref.items() if k != "triples")
    out["reference"] = {**{k: round(v, 2) for k, v in ref.items()}, "total": round(ref_total, 2)}
    for name, runs in builds.items():
        best = min(r["wall"] for r in runs)
        out[name] = {"runs": runs, "best_wall": best, "ratio": round(ref_total / best, 1)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
