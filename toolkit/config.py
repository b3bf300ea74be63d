"""Where things live and under which base IRI: read from ``[tool.policy-toolkit]`` in pyproject.toml.

Paths are explicit so that tests and Python users can point the pipeline at a copy of the
sources (a second article, a fixture) without changing code.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from toolkit.errors import UsageError

DEFAULT_BASE_IRI = "https://w3id.org/policy-toolkit/id/"
_IRI_BAD = re.compile(r"[\s<>\"{}|\\^`]")


@dataclass(frozen=True)
class Settings:
    root: Path
    sources_dir: Path
    release_dir: Path
    schema_dir: Path
    base_iri: str = DEFAULT_BASE_IRI
    catalog: dict[str, Any] = field(default_factory=dict)  # [tool.policy-toolkit.catalog]
    site: dict[str, Any] = field(default_factory=dict)  # [tool.policy-toolkit.site]: build, out, url

    def with_overrides(
        self,
        *,
        sources_dir: Path | None = None,
        release_dir: Path | None = None,
        base_iri: str | None = None,
    ) -> Settings:
        new = replace(
            self,
            sources_dir=sources_dir.resolve() if sources_dir else self.sources_dir,
            release_dir=release_dir.resolve() if release_dir else self.release_dir,
            base_iri=base_iri or self.base_iri,
        )
        check_base_iri(new.base_iri)
        return new


def check_base_iri(base: str) -> None:
    if not re.match(r"^https?://[^/]+/", base) or _IRI_BAD.search(base):
        raise UsageError(
            f"base IRI {base!r} is not a valid http(s) IRI",
            hint="use an absolute http(s) IRI without spaces, e.g. https://example.org/id/",
        )
    if not base.endswith(("/", "#")):
        raise UsageError(f"base IRI {base!r} must end with '/' or '#'")


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` whose pyproject.toml has [tool.policy-toolkit]."""
    env = os.environ.get("POLICY_TOOLKIT_ROOT")
    here = Path(env) if env else (start or Path.cwd())
    for folder in [here.resolve(), *here.resolve().parents]:
        pp = folder / "pyproject.toml"
        if pp.is_file() and "[tool.policy-toolkit]" in pp.read_text(encoding="utf-8"):
            return folder
    raise UsageError(
        f"no policy-toolkit project found at or above {here}",
        hint="run inside the project, or set POLICY_TOOLKIT_ROOT",
    )


def load_settings(root: Path | None = None) -> Settings:
    root = (root or find_root()).resolve()
    with open(root / "pyproject.toml", "rb") as fh:
        conf = tomllib.load(fh).get("tool", {}).get("policy-toolkit", {})
    settings = Settings(
        root=root,
        sources_dir=(root / conf.get("sources", "datasets/sources")).resolve(),
        release_dir=(root / conf.get("release", "datasets/release")).resolve(),
        schema_dir=(root / conf.get("schema", "schema")).resolve(),
        base_iri=os.environ.get("POLICY_TOOLKIT_BASE_IRI", conf.get("base-iri", DEFAULT_BASE_IRI)),
        catalog=dict(conf.get("catalog", {})),
        site=dict(conf.get("site", {})),
    )
    check_base_iri(settings.base_iri)
    return settings


def where(path: Path, settings: Settings) -> str:
    """``path`` for a message: relative to the project when it is inside it."""
    try:
        return str(path.relative_to(settings.root))
    except ValueError:
        return str(path)
