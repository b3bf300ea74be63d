"""CLI commands for open-data portals: `publish ckan` (registered on import)."""

from __future__ import annotations
