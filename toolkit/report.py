"""The one report model shared by every validator (facts schema, evidence, SHACL, output schemas).

A result is typed data a person can act on (focus node and its label, path, value, message,
file and line) and a machine can consume (``to_json``). SHACL's ``sh:resultSeverity`` is kept,
and the raw SHACL report graph travels with the report.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from rdflib import Graph


class Severity(StrEnum):
    """Mirrors SHACL's severities; ``Violation`` makes a report non-conforming."""

    VIOLATION = "Violation"
    WARNING = "Warning"
    INFO = "Info"

    @property
    def iri(self) -> str:
        return f"http://www.w3.org/ns/shacl#{self.value}"

    @classmethod
    def from_iri(cls, iri: str) -> Severity:
        """SHACL allows any IRI as a severity; one other than sh:Info/sh:Warning counts as a
        violation here (SHACL itself lets every result break conformance). The IRI is kept
        by the caller in ``ValidationResult.severity_iri``."""
        if iri.startswith("http://www.w3.org/ns/shacl#"):
            local = iri.rsplit("#", 1)[-1]
            if local in cls._value2member_map_:
                return cls(local)
        return cls.VIOLATION


@dataclass(frozen=True)
class ValidationResult:
    """One finding. Fields that do not apply to a validator stay ``None``."""

    validator: str
    message: str
    severity: Severity = Severity.VIOLATION
    focus_node: str | None = None
    focus_label: str | None = None
    path: str | None = None
    value: str | None = None
    source_file: str | None = None
    line: int | None = None
    constraint: str | None = None
    shape: str | None = None
    severity_iri: str | None = None  # a custom SHACL severity, when not sh:Violation/Warning/Info

    def sort_key(self) -> tuple[str, ...]:
        return (
            self.source_file or "",
            f"{self.line or 0:09d}",
            self.validator,
            self.focus_node or "",
            self.path or "",
            self.value or "",
            self.message,
        )

    def location(self) -> str:
        if not self.source_file:
            return ""
        return self.source_file + (f":{self.line}" if self.line else "")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data


@dataclass
class ValidationReport:
    """All results of one validation run, plus raw report graphs keyed by validator name."""

    results: list[ValidationResult] = field(default_factory=list)
    raw_graphs: dict[str, Graph] = field(default_factory=dict)
    validators_run: list[str] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not any(r.severity is Severity.VIOLATION for r in self.results)

    def extend(self, results: list[ValidationResult]) -> None:
        self.results.extend(results)

    def sorted_results(self) -> list[ValidationResult]:
        return sorted(self.results, key=ValidationResult.sort_key)

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for r in self.results:
            out[r.severity.value] += 1
        return out

    def to_json(self) -> str:
        doc = {
            "conforms": self.conforms,
            "validators": self.validators_run,
            "counts": self.counts(),
            "results": [r.to_dict() for r in self.sorted_results()],
        }
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"

    def to_text(self) -> str:
        lines: list[str] = []
        for r in self.sorted_results():
            head = f"[{r.severity.value}] {r.validator}"
            loc = r.location()
            if loc:
                head = f"{loc}: {head}"
            lines.append(head)
            if r.focus_node:
                label = f" ({r.focus_label})" if r.focus_label else ""
                lines.append(f"  focus: {r.focus_node}{label}")
            if r.path:
                lines.append(f"  path:  {r.path}")
            if r.value is not None:
                lines.append(f"  value: {r.value}")
            lines.append(f"  {r.message}")
        c = self.counts()
        verdict = "conforms" if self.conforms else "does NOT conform"
        lines.append(
            f"Validation {verdict}: {c['Violation']} violation(s), "
            f"{c['Warning']} warning(s), {c['Info']} info ({', '.join(self.validators_run)})"
        )
        return "\n".join(lines) + "\n"
