"""Stage 5: assemble, check and write the release (and, later, upload it)."""

from toolkit.publish.release import Release, build_release, release_info

__all__ = ["Release", "build_release", "release_info"]
