"""Assemble the release: every export, the validation report and a manifest with checksums.

Nothing is written unless validation passes; the release folder is replaced atomically, and
only when it is a folder the toolkit may replace (:func:`toolkit.publish.atomic.refusal`); one
build at a time holds the release (a lock beside it); and ``check=True`` compares instead of
writing, for CI (`policy-toolkit build --check`).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from toolkit import __version__
from toolkit.config import Settings
from toolkit.errors import DataError, LoadError, ReleaseRefused
from toolkit.export import RDF_EXPORTERS, export_tables
from toolkit.export.jsonld import to_document
from toolkit.graph import iris
from toolkit.publish import atomic
from toolkit.publish.extras import ReleaseInputs, post_exporters
from toolkit.publish.manifest import MANIFEST, MEDIA_TYPES, Release, sha256, where
from toolkit.report import ValidationReport
from toolkit.schema.model import Model
from toolkit.validate import RELEASE_CHECKS, VALIDATORS, Outcome, validate_sources
from toolkit.validate.dcatap import CATALOG_FILE, dcat_ap_results
from toolkit.validate.outputs import check_csv_rows, check_jsonld
from toolkit.validate.shacl import ShaclValidator


def counts_by_class(g: Graph, model: Model) -> dict[str, int]:
    counter: Counter[str] = Counter()
    for _s, _p, o in g.triples((None, RDF.type, None)):
        cls = model.class_by_iri.get(str(o))
        counter[cls.name if cls else str(o)] += 1
    return dict(sorted(counter.items()))


def _rel(path: Path, settings: Settings) -> str:
    try:
        return str(path.relative_to(settings.root))
    except ValueError:
        return path.name


def assemble(settings: Settings, outcome: Outcome) -> Release:
    """Every release file as bytes, in memory; raises DataError if outputs break their schemas."""
    graph, model, corpus = outcome.graph, outcome.model, outcome.corpus
    assert graph is not None and corpus is not None
    files: dict[str, bytes] = {}
    for name, (exporter, _media) in RDF_EXPORTERS.items():
        files[name] = exporter(graph, model)
    report = ValidationReport(
        results=list(outcome.report.results),
        raw_graphs=dict(outcome.report.raw_graphs),
        validators_run=list(outcome.report.validators_run),
    )
    out_problems = check_jsonld(to_document(graph, model), settings.schema_dir, "policy.jsonld")
    for rel, (data, rows) in export_tables(graph, model).items():
        files[rel] = data
        out_problems += check_csv_rows(Path(rel).stem, rows, settings.schema_dir, rel)
    report.validators_run.append("output-schema")
    if out_problems:
        report.extend(out_problems)
        raise DataError("the exported files do not match their JSON Schemas", report=report)
    shacl_raw = report.raw_graphs.get("shacl")
    if shacl_raw is not None:
        files["validation-report.ttl"] = shacl_raw.serialize(format="turtle", encoding="utf-8")
    files["validation-report.json"] = report.to_json().encode("utf-8")
    for post in post_exporters():
        for rel, data in post(ReleaseInputs(settings=settings, outcome=outcome, files=dict(files))).items():
            if rel in files:
                raise ValueError(f"post-exporter {post.__name__} would overwrite {rel}")
            files[rel] = data
    catalog = files.get(CATALOG_FILE)
    if catalog is not None:
        problems = dcat_ap_results(Graph().parse(data=catalog, format="turtle"), settings, CATALOG_FILE)
        report.extend(problems)
        report.validators_run.append("dcat-ap")
        if not report.conforms:
            raise DataError("the catalog metadata does not conform to DCAT-AP 3.0.1", report=report)
    manifest = {
        "title": {"zh": "政策新闻事实数据集", "en": "Policy news facts dataset"},
        "toolkit_version": __version__,
        "base_iri": settings.base_iri,
        "triples": len(graph),
        "counts_by_class": counts_by_class(graph, model),
        "sources": [
            {
                "id": src.id,
                "iri": iris.source(settings.base_iri, src.id),
                "text": _rel(src.text_path, settings),
                "text_sha256": src.sha256,
                "facts": _rel(src.facts_path, settings),
                "facts_sha256": sha256(src.facts_path.read_bytes()),
                "entities": len(src.entities),
                "evidence_quotes": sum(len(e.evidence) for e in src.entities),
                "published": src.published.lexical,
            }
            for src in corpus.sources
        ],
        "validation": {
            "conforms": report.conforms,
            "validators": report.validators_run,
            "counts": report.counts(),
        },
        "files": [
            {
                "path": rel,
                "bytes": len(files[rel]),
                "sha256": sha256(files[rel]),
                "media_type": MEDIA_TYPES.get(Path(rel).suffix, "application/octet-stream"),
            }
            for rel in sorted(files)
        ],
    }
    files[MANIFEST] = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return Release(files=files, manifest=manifest, report=report, graph=graph)


def diff_trees(old: dict[str, bytes], new: dict[str, bytes]) -> list[str]:
    lines = []
    for rel in sorted(set(old) | set(new)):
        if rel not in old:
            lines.append(f"missing from the release: {rel}")
        elif rel not in new:
            lines.append(f"not produced by the sources: {rel}")
        elif old[rel] != new[rel]:
            lines.append(f"differs: {rel}")
    return lines


#: validators `build` runs after the export, on the files it makes (the ones on disk are old).
BUILD_SKIPS = RELEASE_CHECKS


def release_outcome(settings: Settings) -> Outcome:
    """Validate the sources as `build` does: the catalog on disk is the old one, so the
    DCAT-AP check runs on the catalog being made (in :func:`assemble`) instead."""
    # the naive path is the reference one: SHACL by pyshacl
    chosen = [ShaclValidator("pyshacl") if v.name == "shacl" else v for v in VALIDATORS]
    return validate_sources(settings, [v for v in chosen if v.name not in BUILD_SKIPS])


def check_release_folder(settings: Settings, *, check: bool = False) -> None:
    """Raise ReleaseRefused unless the release folder is one `build` may replace (or, with
    ``check``, compare with): missing, empty, or a release the toolkit made."""
    target = settings.release_dir
    reason = atomic.refusal(target, writing=not check)
    if reason is None:
        return
    at = where(target, settings)
    todo = "Give --release a new or empty folder"
    todo += "." if target.is_file() or target.is_symlink() else f", or move the files out of {at} first."
    action = "compares the release folder with what the sources give" if check else "replaces the release folder whole"
    raise ReleaseRefused(
        f"refusing to use {at} as the release folder: {reason}. `build` {action}, so it only takes a "
        f"folder that is missing, empty, or holds a release it made itself ({atomic.MARKER}, or a "
        f"{MANIFEST} that lists exactly its files with their SHA-256); nothing was changed. {todo}"
    )


def release_info(settings: Settings) -> dict[str, Any]:
    """The manifest of the release on disk, with each file's checksum verified."""
    path = settings.release_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LoadError("no release here yet", file=settings.release_dir, hint="run `policy-toolkit build`") from None
    except (OSError, ValueError) as exc:
        raise LoadError(f"unreadable manifest: {exc}", file=path) from None
    for entry in manifest["files"]:
        f = settings.release_dir / entry["path"]
        entry["verified"] = f.is_file() and sha256(f.read_bytes()) == entry["sha256"]
    return manifest


def graph_subjects(g: Graph) -> list[URIRef]:
    return sorted({s for s in g.subjects() if isinstance(s, URIRef)})
