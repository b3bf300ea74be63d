"""Answer GET requests from a built site folder, with content negotiation on resource IRIs.

As the W3C note "Cool URIs for the Semantic Web" describes: ``/id/<slug>`` is the resource;
a browser (``Accept: text/html``) is sent to its page ``/id/<slug>/`` (303 See Other), and a
client asking for ``text/turtle``, ``application/ld+json`` or ``application/n-triples`` gets
the resource's own data file from beside the page (200, ``Content-Location`` naming it,
``Vary: Accept``). Everything else is a static file of the site. Only files inside the
folder are ever read: the path is cut into segments and any ``..``, hidden or empty segment
is refused.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

#: the per-resource data files beside each resource page (rel=alternate): file -> media type
DATA_FILES = {
    "data.ttl": "text/turtle",
    "data.jsonld": "application/ld+json",
    "data.nt": "application/n-triples",
}
HTML = "text/html"
#: media types a client may ask for, and what each gets
OFFERS = {HTML: "html", "application/xhtml+xml": "html", **{m: f for f, m in DATA_FILES.items()}}
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".jsonld": "application/ld+json",
    ".ttl": "text/turtle; charset=utf-8",
    ".nt": "application/n-triples",
    ".nq": "application/n-quads",
    ".rdf": "application/rdf+xml",
    ".csv": "text/csv; charset=utf-8",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass
class Answer:
    """What to send: a status, headers and a body (a file's bytes, or empty for a redirect)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def accepted(header: str | None) -> list[tuple[float, int, str]]:
    """The media ranges of an Accept header as (q, order, range), best first; none given: ``*/*``."""
    out = []
    for n, part in enumerate((header or "*/*").split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for f in fields[1:]:
            name, _, value = f.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        out.append((q, n, media))
    return sorted(out, key=lambda t: (-t[0], t[1]))


def negotiate(header: str | None) -> str | None:
    """``"html"``, a data file name, or None when the client accepts none of them (406)."""
    for q, _n, media in accepted(header):
        if q <= 0:
            continue
        if media in OFFERS:
            return OFFERS[media]
        if media in ("*/*", "text/*"):
            return "html"
        if media == "application/*":
            return "data.jsonld"
    return None


def content_type(name: str) -> str:
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    return TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


class SiteFiles:
    """A built site served over HTTP: :meth:`answer` maps a request path and Accept header to an answer.

    The site is a folder on disk (``root``) or, for ``serve``'s own site built at start, its
    files in memory (``files``: relative path -> bytes); both are read the same way.
    """

    def __init__(self, root: Path | None = None, files: dict[str, bytes] | None = None) -> None:
        if (root is None) == (files is None):
            raise ValueError("give a site folder or the site's files, not both")
        self.root = root.resolve() if root is not None else None
        self.files = files
        self.dirs = {"/".join(f.split("/")[:n]) for f in files or {} for n in range(f.count("/") + 1)}

    def _parts(self, url_path: str) -> list[str] | None:
        parts = [unquote(p) for p in url_path.split("/")]
        inner = parts[1:-1] + ([parts[-1]] if parts[-1] else [])
        if any(p in ("", ".", "..") or p.startswith(".") or "/" in p or "\\" in p or "\0" in p for p in inner):
            return None
        return inner

    def _is_dir(self, rel: str) -> bool:
        if self.files is not None:
            return rel in self.dirs
        assert self.root is not None
        local = self.root / rel
        return local.is_dir() and local.resolve().is_relative_to(self.root)

    def _read(self, rel: str) -> bytes | None:
        if self.files is not None:
            return self.files.get(rel)
        assert self.root is not None
        local = self.root / rel
        if not local.is_file() or not local.resolve().is_relative_to(self.root):
            return None
        return local.read_bytes()

    def _file(self, rel: str, extra: dict[str, str] | None = None) -> Answer:
        body = self._read(rel)
        if body is None:
            return Answer(404)
        headers = {"Content-Type": content_type(rel), "Content-Length": str(len(body)), **(extra or {})}
        return Answer(200, headers, body)

    def answer(self, url_path: str, accept: str | None) -> Answer:
        """The answer to ``GET url_path`` with ``Accept: accept``."""
        parts = self._parts(url_path)
        if parts is None:
            return Answer(404)
        rel = "/".join(parts)
        if self._is_dir(rel):
            prefix = rel + "/" if rel else ""
            if self._read(prefix + next(iter(DATA_FILES))) is not None:  # a resource: negotiate
                choice = negotiate(accept)
                if choice is None:
                    return Answer(406, {"Vary": "Accept"}, ("acceptable: " + ", ".join(OFFERS) + "\n").encode())
                if choice != "html":
                    location = url_path.rstrip("/") + "/" + choice
                    return self._file(prefix + choice, {"Vary": "Accept", "Content-Location": location})
                if not url_path.endswith("/"):
                    return Answer(303, {"Location": url_path + "/", "Vary": "Accept", "Content-Length": "0"})
                return self._file(prefix + "index.html", {"Vary": "Accept"})
            if not url_path.endswith("/"):
                return Answer(301, {"Location": url_path + "/", "Content-Length": "0"})
            return self._file(prefix + "index.html")
        return self._file(rel)
