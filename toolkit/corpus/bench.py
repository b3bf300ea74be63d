"""`policy-toolkit bench`: the build and the whole-graph reference on the same generated
corpora, stage by stage.

For each size the corpus is generated (seeded), then, each in a fresh child process so that
peak memory is its own: the build with an empty cache (``--jobs`` workers; "fast"), the
whole-graph reference on the graph it released ("naive": rdflib parses ``policy.nt``, pyshacl
validates, rdflib serialises; :func:`run_naive`), a rebuild after one source changed
(warm cache: incremental), and a build of the changed corpus with an empty cache (the rebuild's
release must be byte-identical to it). Ratios are taken within one run only; these machines are
noisy.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from toolkit.config import Settings, load_settings
from toolkit.progress import progress

FAST_STAGES = [
    ("units", "per-source stages (pool)"),
    ("cpu:facts", "  facts loading (CPU, all workers)"),
    ("cpu:evidence", "  evidence check (CPU)"),
    ("cpu:graph", "  graph building (CPU)"),
    ("link", "checks across sources"),
    ("validation", "validation (SHACL)"),
    ("export:ttl", "export Turtle"),
    ("export:nt", "export N-Triples"),
    ("export:rdf", "export RDF/XML"),
    ("export:jsonld", "export JSON-LD"),
    ("export:csv", "export CSV"),
    ("export:nq", "export N-Quads"),
    ("export:trig", "export TriG"),
    ("catalog", "catalog"),
    ("dcat-ap", "DCAT-AP check"),
    ("state", "state for the next rebuild"),
]
REBUILD_STAGES = [
    ("units:hash", "scan folders, load state"),
    ("units", "changed sources' units"),
    ("link", "checks across sources"),
    ("validation", "SHACL of changed and affected units"),
    ("export:ttl", "splice Turtle"),
    ("export:nt", "splice N-Triples"),
    ("export:rdf", "splice RDF/XML"),
    ("export:jsonld", "splice JSON-LD"),
    ("export:csv", "splice CSV"),
    ("export:nq", "splice N-Quads"),
    ("export:trig", "splice TriG"),
    ("datapackage", "data package"),
    ("catalog", "catalog (and its DCAT-AP check)"),
    ("manifest", "manifest"),
    ("swap", "swap in"),
    ("state", "load and save the state"),
]
#: the whole-graph reference's stage beside a build stage: the same name unless listed here
#: (None: the reference has no such stage)
NAIVE_STAGES = {
    "cpu:graph": "graph",
    **dict.fromkeys(("units", "cpu:facts", "cpu:evidence", "link", "export:trig", "state")),
}


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        info["cpu"] = next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")), "?")
    except OSError:
        info["cpu"] = platform.processor()
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()
        info["memory_gb"] = round(int(mem[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    if hasattr(os, "sched_getaffinity"):
        info["cores_available"] = len(os.sched_getaffinity(0))
    import pyoxigraph
    import pyshacl
    import rdflib

    info["versions"] = {
        "rdflib": rdflib.__version__,
        "pyshacl": pyshacl.__version__,
        "pyoxigraph": pyoxigraph.__version__,
    }
    return info


def _peak_mb() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"main_mb": round(own, 1), "worker_mb": round(kids, 1)}


def tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


# ------------------------------------------------------------------------ one path, one process


def run_fast(settings: Settings, jobs: int | None) -> dict[str, Any]:
    from toolkit.build import build_release, incremental
    from toolkit.timing import collect

    t0 = time.perf_counter()
    with collect() as stages:
        rel = build_release(settings, jobs=jobs)
    total = time.perf_counter() - t0
    return {
        "total": total,
        "stages": stages,
        "triples": rel.manifest["triples"],
        "memory": _peak_mb(),
        "path": list(incremental.last_run),
    }


def run_naive(settings: Settings) -> dict[str, Any]:
    """The whole-graph reference on the graph the build released (``policy.nt`` of
    ``settings.release_dir``): rdflib parses it, pyshacl validates it, rdflib writes Turtle,
    RDF/XML and JSON-LD, each stage timed; nothing is written. It is the measure of "rdflib
    parse + pyshacl + three rdflib serialisers of the same graph" that the pipeline is compared
    with (as ``bench/ratio.py`` takes it; the tests' oracle, ``tests/oracle``, makes the whole
    release this way, its JSON-LD compacted by pyld, for byte identity)."""
    from rdflib import Graph

    from toolkit.export.canonical import canonical_copy, sorted_ntriples
    from toolkit.validate.shacl.pyshacl_engine import PyshaclEngine

    stages: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        t = time.perf_counter()
        try:
            return fn()
        finally:
            stages[name] = stages.get(name, 0.0) + time.perf_counter() - t

    skip = bool(os.environ.get("POLICY_TOOLKIT_BENCH_SKIP_PYSHACL"))
    t0 = time.perf_counter()
    g = timed("graph", lambda: Graph().parse(settings.release_dir / "policy.nt", format="nt"))
    if skip:
        # pyshacl grows faster than linearly (10k -> 100k: x19); at a million triples it would
        # run for hours: the stage is skipped and reported as not run.
        stages["validation"] = float("nan")
    else:
        shapes = Graph().parse(settings.schema_dir / "shapes.ttl", format="turtle")
        ontology = Graph().parse(settings.schema_dir / "ontology.ttl", format="turtle")
        timed("validation", lambda: PyshaclEngine().validate(g, shapes, ontology))
    timed("export:ttl", lambda: canonical_copy(g).serialize(format="turtle", encoding="utf-8"))
    timed("export:nt", lambda: sorted_ntriples(g))
    timed("export:rdf", lambda: canonical_copy(g).serialize(format="xml", encoding="utf-8"))
    timed("export:jsonld", lambda: g.serialize(format="json-ld", encoding="utf-8"))
    total = time.perf_counter() - t0
    return {
        "total": total,
        "stages": {k: (None if v != v else v) for k, v in stages.items()},
        "triples": len(g),
        "memory": _peak_mb(),
        "pyshacl_skipped": skip,
    }


def _child(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one path in a fresh interpreter; its JSON result comes back on stdout's last line."""
    proc = subprocess.run(
        [sys.executable, "-m", "toolkit.corpus.bench", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench child {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _fast_child(common: list[str], base: Path, jobs: int, release: str, cache: str) -> dict[str, Any]:
    """The fast build in a fresh process, on the size's corpus, with this release and cache folder."""
    args = ["--release", str(base / release), "--cache", str(base / cache), "--jobs", str(jobs)]
    return _child(["fast", *common, *args])


def _edit_one_source(corpus: Path) -> str:
    """Change one fact of one source (its first English label), as an editor would."""
    folders = sorted(p for p in corpus.iterdir() if p.is_dir())
    folder = folders[len(folders) // 2]
    facts = folder / "facts.yaml"
    text = facts.read_text(encoding="utf-8")
    marker = "en: '"
    at = text.index(marker, text.index("entities:")) + len(marker)
    facts.write_text(text[:at] + "Revised: " + text[at:], encoding="utf-8")
    return folder.name


def run_bench(
    settings: Settings,
    sizes: list[int],
    *,
    seed: int = 7,
    jobs: int | None = None,
    out: Path,
    work: Path,
    naive: bool = True,
    pyshacl_max: int = 100_000,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    from toolkit.build.pool import resolve_jobs
    from toolkit.corpus.generate import write_corpus

    jobs = resolve_jobs(jobs)
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": machine(), "seed": seed, "jobs": jobs, "sizes": []}
    root = settings.root
    # One step per corpus and build (each takes seconds to hours): a bar on a terminal, silent
    # in pipes and CI; the children's output is captured, so only this bar is drawn.
    steps = len(sizes) * (5 if naive else 4)
    with progress("bench steps", steps) as tick:
        for size in sizes:
            tag = _tag(size)
            base = work / tag
            if base.exists():
                shutil.rmtree(base)
            corpus = base / "sources"
            t = time.perf_counter()
            rep = write_corpus(corpus, seed=seed, triples=size)
            tick.advance()
            echo(f"[{tag}] generated {rep.sources} sources, {rep.triples} triples in {time.perf_counter() - t:.1f} s")
            common = ["--root", str(root), "--sources", str(corpus)]
            fast = _fast_child(common, base, jobs, "release-fast", "cache")
            tick.advance()
            echo(f"[{tag}] fast build {fast['total']:.1f} s, peak {fast['memory']}")
            entry: dict[str, Any] = {"size": size, "sources": rep.sources, "triples": fast["triples"], "fast": fast}
            if naive:  # the whole-graph reference, on the graph the fast build released
                skip = {"POLICY_TOOLKIT_BENCH_SKIP_PYSHACL": "1"} if size > pyshacl_max else {}
                nv = _child(["naive", *common, "--release", str(base / "release-fast")], env=skip)
                tick.advance()
                echo(f"[{tag}] whole-graph reference {nv['total']:.1f} s, peak {nv['memory']}")
                entry["naive"] = nv
            edited = _edit_one_source(corpus)
            rebuild = _fast_child(common, base, jobs, "release-fast", "cache")
            tick.advance()
            echo(f"[{tag}] rebuild after editing {edited}: {rebuild['total']:.1f} s")
            full = _fast_child(common, base, jobs, "release-full", "cache-full")
            tick.advance()
            entry["rebuild"] = rebuild
            entry["full_after_edit"] = full
            entry["rebuild_identical_to_full"] = tree_digest(base / "release-fast") == tree_digest(
                base / "release-full"
            )
            entry["ratios"] = _ratios(entry)
            results["sizes"].append(entry)
            extrapolate(results)
            out.parent.mkdir(parents=True, exist_ok=True)
            results["table"] = table(results)
            out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            for p in ("release-fast", "release-full", "cache", "cache-full"):
                shutil.rmtree(base / p, ignore_errors=True)
    extrapolate(results)
    results["table"] = table(results)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return results


def _ratios(entry: dict[str, Any]) -> dict[str, float | None]:
    fast, nv = entry["fast"], entry.get("naive")
    r: dict[str, float | None] = {"rebuild_vs_full": entry["full_after_edit"]["total"] / entry["rebuild"]["total"]}
    if nv:
        r["whole_build"] = nv["total"] / fast["total"]
        v = nv["stages"].get("validation")
        r["validation"] = v / fast["stages"]["validation"] if v else None
        if nv.get("pyshacl_skipped"):
            r["whole_build_without_pyshacl"] = r.pop("whole_build")
    return r


def extrapolate(results: dict[str, Any]) -> None:
    """For sizes where pyshacl was skipped: its time at the largest size it ran, scaled linearly
    (it grows faster than that, so the ratios are lower bounds)."""
    measured = [e for e in results["sizes"] if e.get("naive") and not e["naive"].get("pyshacl_skipped")]
    if not measured:
        return
    ref = max(measured, key=lambda e: e["triples"])
    for e in results["sizes"]:
        nv = e.get("naive")
        if not nv or not nv.get("pyshacl_skipped"):
            continue
        val = ref["naive"]["stages"]["validation"] * e["triples"] / ref["triples"]
        e["naive_estimate"] = {"from": ref["size"], "validation": val, "total": nv["total"] + val}
        e["ratios"]["whole_build_estimated_lower_bound"] = (nv["total"] + val) / e["fast"]["total"]
        e["ratios"]["validation_estimated_lower_bound"] = val / e["fast"]["stages"]["validation"]


def _tag(size: int) -> str:
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


def table(results: dict[str, Any]) -> str:
    """The Markdown table of a run: seconds per stage, both paths, ratios; then the targets."""
    sizes = results["sizes"]
    if not sizes:
        return ""
    head = "| stage | " + " | ".join(f"{_tag(e['size'])} fast | {_tag(e['size'])} naive | ratio" for e in sizes) + " |"
    sep = "|---|" + "---:|---:|---:|" * len(sizes)
    rows = [head, sep]

    def cell(e: dict[str, Any], key: str, naive_key: str | None) -> str:
        f = e["fast"]["stages"].get(key)
        n = e.get("naive", {}).get("stages", {}).get(naive_key) if naive_key else None
        est = e.get("naive_estimate", {}).get(naive_key or "")
        fs = f"{f:.2f}" if f is not None else "–"
        if n is None and est:
            return f"{fs} | ~{est:.0f} (est.) | ≥{est / f:.0f}×" if f else f"{fs} | ~{est:.0f} (est.) |"
        ns = f"{n:.2f}" if n is not None else ("not run" if naive_key and e.get("naive") else "–")
        ratio = f"{n / f:.0f}×" if f and n else ""
        return f"{fs} | {ns} | {ratio}"

    for key, label in FAST_STAGES:
        rows.append(f"| {label} | " + " | ".join(cell(e, key, NAIVE_STAGES.get(key, key)) for e in sizes) + " |")
    tot = []
    for e in sizes:
        f = e["fast"]["total"]
        n = e.get("naive", {}).get("total")
        est = e.get("naive_estimate", {}).get("total")
        if est:
            tot.append(f"**{f:.1f}** | **~{est:.0f}** (est.; {n:.0f} without pyshacl) | **≥{est / f:.0f}×**")
        else:
            tot.append(f"**{f:.1f}** | **{n:.1f}** | **{n / f:.1f}×**" if n else f"**{f:.1f}** | – | ")
    rows.append("| **whole build** | " + " | ".join(tot) + " |")
    mem = []
    for e in sizes:
        fm = e["fast"]["memory"]
        nm = e.get("naive", {}).get("memory", {})
        mem.append(f"{fm['main_mb']:.0f} (+{fm['worker_mb']:.0f}/worker) | {nm.get('main_mb', 0):.0f} | ")
    rows.append("| peak memory, MB | " + " | ".join(mem) + " |")
    per = []
    for e in sizes:
        f = e["fast"]["total"] / e["triples"] * 1e6
        n = e.get("naive_estimate", {}).get("total") or e.get("naive", {}).get("total")
        mark = "~" if e.get("naive_estimate") else ""
        per.append(f"{f:.0f} | {mark}{n / e['triples'] * 1e6:.0f} | " if n else f"{f:.0f} | – | ")
    rows.append("| µs per triple | " + " | ".join(per) + " |")
    reb = []
    for e in sizes:
        reb.append(
            f"{e['rebuild']['total']:.1f} | full {e['full_after_edit']['total']:.1f} | "
            f"{e['ratios']['rebuild_vs_full']:.1f}×"
        )
    rows.append("| rebuild after one source changed (s) | " + " | ".join(reb) + " |")
    # the release equals the whole-graph oracle's: the tests assert it (tests/build), not the bench
    ident = [f"{e['rebuild_identical_to_full']} | | " for e in sizes]
    rows.append("| rebuild = full build (bytes) | " + " | ".join(ident) + " |")
    rows += ["", rebuild_table(sizes)]
    return "\n".join(rows)


def rebuild_table(sizes: list[dict[str, Any]]) -> str:
    """Where a rebuild after one change spends its time, beside the full build of the same corpus."""
    head = (
        "| rebuild stage | " + " | ".join(f"{_tag(e['size'])} rebuild | {_tag(e['size'])} full" for e in sizes) + " |"
    )
    rows = [head, "|---|" + "---:|---:|" * len(sizes)]
    for key, label in REBUILD_STAGES:
        cells = []
        for e in sizes:
            r, f = e["rebuild"]["stages"].get(key), e["full_after_edit"]["stages"].get(key)
            cells.append(f"{r:.2f} | " if r is not None else "– | ")
            cells[-1] += f"{f:.2f}" if f is not None else "–"
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    paths = []
    for e in sizes:
        how = e["rebuild"].get("path") or ["?", ""]
        paths.append(
            f"**{e['rebuild']['total']:.2f}** ({how[0]}{': ' + how[1] if how[1] else ''}) | "
            f"**{e['full_after_edit']['total']:.1f}**"
        )
    rows.append("| **total** | " + " | ".join(paths) + " |")
    return "\n".join(rows)


def main(argv: list[str]) -> None:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("path", choices=["fast", "naive"])
    ap.add_argument("--root", required=True)
    ap.add_argument("--sources", required=True)
    ap.add_argument("--release", required=True)
    ap.add_argument("--cache")
    ap.add_argument("--jobs", type=int)
    a = ap.parse_args(argv)
    settings = load_settings(Path(a.root)).with_overrides(sources_dir=Path(a.sources), release_dir=Path(a.release))
    if a.cache:
        os.environ["POLICY_TOOLKIT_CACHE"] = a.cache
    result = run_fast(settings, a.jobs) if a.path == "fast" else run_naive(settings)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
