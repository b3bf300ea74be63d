"""Every release file is byte-identical whatever PYTHONHASHSEED is (issue 5, hardening).

Three `policy-toolkit build` child processes with different PYTHONHASHSEED values assemble the
release of the same project copy into three release folders, side by side; the SHA-256 of
every file (RDF/XML and N-Triples included) must be the same in all three.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from hardening_support import PYTHON, Project, child_env, sha256_tree, tree_bytes
from oracle import RDF_EXPORTERS

SEEDS = ["0", "1", "3141592653"]


def test_release_is_byte_identical_across_hash_seeds(tmp_path: Path) -> None:
    project = Project(tmp_path / "project")
    # the seeds reach the children and change str hashing there, or the test proves nothing
    hashes = {
        subprocess.run(
            [PYTHON, "-c", "print(hash('policy-toolkit'))"],
            env=child_env(project.root, PYTHONHASHSEED=seed),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in SEEDS
    }
    assert len(hashes) == len(SEEDS)
    procs = {
        seed: subprocess.Popen(
            [PYTHON, "-m", "toolkit.cli", "build", "--release", str(tmp_path / f"release-{seed}")],
            env=child_env(project.root, PYTHONHASHSEED=seed),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for seed in SEEDS
    }
    digests = {}
    for seed, proc in procs.items():
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode("utf-8", "replace")
        digests[seed] = sha256_tree(tree_bytes(tmp_path / f"release-{seed}"))
    first = digests[SEEDS[0]]
    assert set(RDF_EXPORTERS) <= set(first), sorted(first)
    assert any(name.startswith("csv/") for name in first)
    for seed in SEEDS[1:]:
        differ = sorted(name for name in set(first) | set(digests[seed]) if first.get(name) != digests[seed].get(name))
        assert not differ, f"PYTHONHASHSEED={seed} changes {differ}"
    print(f"{len(first)} release files byte-identical under PYTHONHASHSEED={', '.join(SEEDS)}")
