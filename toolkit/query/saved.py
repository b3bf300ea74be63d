"""Saved queries: ``.rq`` files whose header comment says what they answer and what they take.

Why a header in the file rather than a registry in Python: an analyst can read, copy and run
the file in any SPARQL tool, and the description cannot drift from the query it describes.

Header format (comment lines at the top of the file; ``#   `` continues the previous field)::

    # title@zh: 某日有效的政策文件
    # title@en: Policies in force on a date
    # answers: Which policy documents are in force on a given day?
    # param date: xsd:date (required) -- the day to check, YYYY-MM-DD
    # param body: entity = yrd-science-departments -- an id of the release
    # param speaker: entity (optional) -- leave out for everyone

A parameter is required unless it has ``= default`` or ``(optional)``; an optional one left
out stays an unbound variable. Types are those of :data:`toolkit.query.engine.PARAM_TYPES`.
Any ``.rq`` file may carry such a header; saved queries (in ``queries/``) must.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import LoadError, UsageError
from toolkit.query.engine import Param
from toolkit.yamlfile import decode_utf8

SUFFIX = ".rq"
_FIELD = re.compile(r"^#\s?(?P<key>title@zh|title@en|answers|param\s+[^\s:]+)\s*:\s*(?P<value>.*?)\s*$")
_MORE = re.compile(r"^#\s{2,}(?P<more>\S.*?)\s*$")
_PARAM = re.compile(
    r"^(?P<type>[\w:]+)"
    r"(?:\s*=\s*(?P<default>\S+)|\s*\((?P<flag>required|optional)\))?"
    r"\s*(?:--\s*(?P<desc>.*))?$"
)


@dataclass(frozen=True)
class SavedQuery:
    name: str
    path: Path
    text: str
    title: dict[str, str] = field(default_factory=dict)
    answers: str = ""
    params: list[Param] = field(default_factory=list)

    @property
    def declares_params(self) -> bool:
        return bool(self.params)

    @property
    def missing_params(self) -> list[str]:
        """The parameters it cannot be answered without: required, with no default."""
        return [p.name for p in self.params if p.required and p.default is None]


def _header(text: str, path: Path) -> tuple[dict[str, str], list[tuple[str, str, int]]]:
    """Fields of the leading comment block, and the raw ``param`` specs with their lines."""
    fields: dict[str, str] = {}
    params: list[tuple[str, str, int]] = []
    last: str | None = None
    for n, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        m = _FIELD.match(stripped)
        if m:
            key, value = m.group("key"), m.group("value")
            if key.startswith("param"):
                params.append((key.split()[1], value, n))
                last = f"param:{len(params) - 1}"
            else:
                if key in fields:
                    raise LoadError(f"'{key}' is given twice in the header", file=path, line=n)
                fields[key] = value
                last = key
            continue
        more = _MORE.match(line.rstrip())
        if more and last is not None:
            if last.startswith("param:"):
                i = int(last.split(":")[1])
                name, value, at = params[i]
                params[i] = (name, f"{value} {more.group('more')}", at)
            else:
                fields[last] += " " + more.group("more")
            continue
        last = None
    return fields, params


def _param(name: str, spec: str, path: Path, line: int) -> Param:
    m = _PARAM.match(spec)
    if not m:
        raise LoadError(
            f"cannot read parameter {name!r}: {spec!r}",
            file=path,
            line=line,
            hint="write '# param NAME: TYPE [= DEFAULT | (required) | (optional)] -- description'",
        )
    try:
        return Param(
            name=name,
            type=m.group("type"),
            required=m.group("default") is None and m.group("flag") != "optional",
            default=m.group("default"),
            description=(m.group("desc") or "").strip(),
        )
    except ValueError as exc:
        raise LoadError(str(exc), file=path, line=line) from None


def read_query(path: Path, *, strict: bool = False) -> SavedQuery:
    """Read one ``.rq`` file; ``strict`` (saved queries) requires titles in zh and en and ``answers``."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError("no such query file", file=path) from None
    except OSError as exc:
        raise LoadError(f"cannot read the query: {exc.strerror}", file=path) from None
    text = decode_utf8(raw, path)
    fields, specs = _header(text, path)
    params = [_param(name, spec, path, line) for name, spec, line in specs]
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise LoadError(f"a parameter is declared twice: {', '.join(names)}", file=path)
    if strict:
        missing = [k for k in ("title@zh", "title@en", "answers") if not fields.get(k)]
        if missing:
            raise LoadError(
                f"saved query header lacks {', '.join(missing)}",
                file=path,
                hint="start the file with '# title@zh: ...', '# title@en: ...' and '# answers: ...'",
            )
    return SavedQuery(
        name=path.stem,
        path=path,
        text=text,
        title={lang: fields[f"title@{lang}"] for lang in ("zh", "en") if f"title@{lang}" in fields},
        answers=fields.get("answers", ""),
        params=params,
    )


def saved_queries(folder: Path) -> list[SavedQuery]:
    """Every saved query in ``folder`` (``queries/`` of the project), sorted by name."""
    if not folder.is_dir():
        return []
    return [read_query(p, strict=True) for p in sorted(folder.glob(f"*{SUFFIX}"))]


def find_query(ref: str, folder: Path) -> SavedQuery:
    """A saved query by name, or any ``.rq`` file by path; UsageError listing the names if neither."""
    as_path = Path(ref)
    if ref.endswith(SUFFIX) or as_path.is_file():
        if as_path.is_file() and folder.is_dir() and as_path.resolve().parent == folder.resolve():
            return read_query(as_path, strict=True)
        return read_query(as_path)
    candidate = folder / f"{ref}{SUFFIX}"
    if candidate.is_file():
        return read_query(candidate, strict=True)
    names = [q.stem for q in sorted(folder.glob(f"*{SUFFIX}"))] if folder.is_dir() else []
    raise UsageError(
        f"no saved query called {ref!r}; saved queries: {', '.join(names) or '(none)'}",
        hint="see `policy-toolkit query --list`, or pass the path of a .rq file",
    )
