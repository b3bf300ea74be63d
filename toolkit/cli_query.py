"""CLI commands for SPARQL: `query`, `serve` and `publish sparql` (registered on import)."""

from __future__ import annotations
