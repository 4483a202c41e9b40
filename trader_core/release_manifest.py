"""A release bundle's manifest and its hash check, below both the release store and the inference engine.

``release_manifest.json`` records the sha256 of every file of a release (``trader_core.release`` writes it).
The inference engine checks a bundle's hashes before it loads a release's models; keeping the check here
lets it do so without importing the release store above it (docs/layers.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trader_core import io
from trader_core.errors import ArtifactError

MANIFEST = "release_manifest.json"


def verify_release(path: Path) -> dict[str, Any]:
    """Raise ArtifactError unless every file of the release matches its recorded sha256."""
    manifest = io.read_json(Path(path) / MANIFEST)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise ArtifactError(f"{Path(path) / MANIFEST}: corrupt release manifest (no 'files' mapping)")
    bad = [rel for rel, sha in manifest["files"].items()
           if not (Path(path) / rel).is_file() or io.sha256_file(Path(path) / rel) != sha]
    if bad:
        raise ArtifactError(f"release {Path(path).name}: file(s) {bad} missing or not matching their sha256")
    return manifest
