"""Helpers shared by the hardening tests (issue 5): project copies and child-process environments.

Kept out of a conftest.py on purpose: ``tests/conftest.py`` is imported as the module ``conftest``
by the other test folders, and a second conftest here would shadow it.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from conftest import ARTICLE_ID, REPO, Project

PYTHON = sys.executable
FACTS_REL = Path("datasets") / "sources" / ARTICLE_ID / "facts.yaml"
ORIGINAL_FACTS = (REPO / FACTS_REL).read_bytes()


def child_env(root: Path, **extra: str) -> dict[str, str]:
    """The environment for a `policy-toolkit` child process working on the project at ``root``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_TOOLKIT_")}
    env["POLICY_TOOLKIT_ROOT"] = str(root)
    env.update(extra)
    return env


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes); read independently of the toolkit."""
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def sha256_tree(files: dict[str, bytes]) -> dict[str, str]:
    return {rel: hashlib.sha256(data).hexdigest() for rel, data in sorted(files.items())}


__all__ = [
    "ARTICLE_ID",
    "FACTS_REL",
    "ORIGINAL_FACTS",
    "PYTHON",
    "REPO",
    "Project",
    "child_env",
    "sha256_tree",
    "tree_bytes",
]
