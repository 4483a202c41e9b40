"""Hash every artifact of the demo run, to show that a refactor leaves them byte-identical.

Runs ``trader run demo --config configs/demo.json`` in a fresh temporary data root and writes the sha256 of
every file under the run folder and the release bundles (paths relative to the data root) as JSON.
With ``--compare BASELINE`` it prints the files that differ, appeared or disappeared and exits 1 if any did.

Both sides must run under the same paths and the same recorded commit, because the release records them
(``release.json``'s bundle path, ``code_version``): the demo runs from an export of the working tree (tracked
and untracked files, not ignored ones) without git metadata, in fixed folders under the temporary directory
(``<tmp>/trader-artifact-hashes/{src,home,dagster}``, emptied first; one comparison at a time on a machine).
The export's numba cache stays warm between runs.

    .venv/bin/python scripts/artifact_hashes.py --out /tmp/before.json
    # ... change the code ...
    .venv/bin/python scripts/artifact_hashes.py --compare /tmp/before.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(tempfile.gettempdir()) / "trader-artifact-hashes"
EXPORT = WORK / "src"
HASHED_FOLDERS = ("trader-v4/runs/demo", "releases")


def artifact_hashes(home: Path) -> dict[str, str]:
    """sha256 of every file under the run folder and the release bundles, keyed by path under ``home``."""
    return {str(path.relative_to(home)): hashlib.sha256(path.read_bytes()).hexdigest()
            for folder in HASHED_FOLDERS for path in sorted((home / folder).rglob("*")) if path.is_file()}


def export_tree() -> Path:
    """Copy the working tree's files (not git's metadata, not ignored files) to ``EXPORT``; mtimes are kept."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    keep = {name for name in listed if name and (ROOT / name).is_file()}
    if EXPORT.exists():
        for path in sorted(EXPORT.rglob("*"), reverse=True):
            relative = path.relative_to(EXPORT).as_posix()
            if path.is_file() and relative not in keep and "__pycache__" not in path.parts:
                path.unlink()
    for name in sorted(keep):
        target = EXPORT / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return EXPORT


def run_demo(home: Path, dagster_home: Path) -> None:
    source = export_tree()
    env = {**os.environ, "TRADER_HOME": str(home), "DAGSTER_HOME": str(dagster_home), "PYTHONPATH": str(source),
           "GIT_CEILING_DIRECTORIES": str(source.parent)}  # no repository above the export either
    proc = subprocess.run([sys.executable, "-m", "trader_assets.cli", "run", "demo", "--config",
                           str(source / "configs" / "demo.json")], env=env, capture_output=True, text=True,
                          cwd=source)
    if proc.returncode != 0:
        sys.exit(f"the demo run failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-2000:]}")


def empty(folder: Path) -> None:
    """Remove ``folder``; release bundles are made read-only, so their folders are made writable first."""
    if folder.exists():
        for path in folder.rglob("*"):
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(folder)


def compare(now: dict[str, str], before: dict[str, str]) -> list[str]:
    return ([f"changed  {p}" for p in sorted(now.keys() & before.keys()) if now[p] != before[p]]
            + [f"new      {p}" for p in sorted(now.keys() - before.keys())]
            + [f"missing  {p}" for p in sorted(before.keys() - now.keys())])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the hashes to this JSON file")
    parser.add_argument("--compare", type=Path, help="a JSON file written by --out to compare with")
    args = parser.parse_args()
    for folder in ("home", "dagster"):
        empty(WORK / folder)
    run_demo(WORK / "home", WORK / "dagster")
    hashes = artifact_hashes(WORK / "home")
    if args.out:
        args.out.write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n")
    print(f"{len(hashes)} artifact files hashed")
    if args.compare:
        differences = compare(hashes, json.loads(args.compare.read_text()))
        print("\n".join(differences) or "byte-identical: every file has the same sha256")
        sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
