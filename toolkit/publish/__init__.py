"""Stage 5: assemble, check and write the release (and upload it)."""

from toolkit.publish.release import Release, release_info

__all__ = ["Release", "release_info"]
