"""Hash every artifact of the demo run, to show that a refactor leaves them byte-identical.

Runs ``trader run demo --config configs/demo.json`` in a fresh temporary data root and writes the sha256 of
every file under the run folder and the release bundles (paths relative to the data root) as JSON.
With ``--compare BASELINE`` it prints the files that differ, appeared or disappeared and exits 1 if any did.

    .venv/bin/python scripts/artifact_hashes.py --out /tmp/before.json
    # ... change the code ...
    .venv/bin/python scripts/artifact_hashes.py --compare /tmp/before.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HASHED_FOLDERS = ("trader-v4/runs/demo", "releases")


def artifact_hashes(home: Path) -> dict[str, str]:
    """sha256 of every file under the run folder and the release bundles, keyed by path under ``home``."""
    return {str(path.relative_to(home)): hashlib.sha256(path.read_bytes()).hexdigest()
            for folder in HASHED_FOLDERS for path in sorted((home / folder).rglob("*")) if path.is_file()}


def run_demo(home: Path, dagster_home: Path) -> None:
    env = {**os.environ, "TRADER_HOME": str(home), "DAGSTER_HOME": str(dagster_home)}
    proc = subprocess.run([sys.executable, "-m", "trader_assets.cli", "run", "demo", "--config",
                           str(ROOT / "configs" / "demo.json")], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"the demo run failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-2000:]}")


def compare(now: dict[str, str], before: dict[str, str]) -> list[str]:
    return ([f"changed  {p}" for p in sorted(now.keys() & before.keys()) if now[p] != before[p]]
            + [f"new      {p}" for p in sorted(now.keys() - before.keys())]
            + [f"missing  {p}" for p in sorted(before.keys() - now.keys())])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the hashes to this JSON file")
    parser.add_argument("--compare", type=Path, help="a JSON file written by --out to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_demo(Path(tmp) / "home", Path(tmp) / "dagster")
        hashes = artifact_hashes(Path(tmp) / "home")
    if args.out:
        args.out.write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n")
    print(f"{len(hashes)} artifact files hashed")
    if args.compare:
        differences = compare(hashes, json.loads(args.compare.read_text()))
        print("\n".join(differences) or "byte-identical: every file has the same sha256")
        sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
