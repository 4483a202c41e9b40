"""Parquet IO manager keyed by asset and run partition.

Paths come from ``trader_core.layout.ARTIFACT_PATHS`` (``<TRADER_HOME>/trader-v4/runs/<run>/<stage>/<file>``).
DataFrames are written as parquet, dicts as JSON, dicts of DataFrames as a folder of parquet files. Every
write is atomic and followed (last) by a manifest with the content hash; loads verify that hash.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from trader_core import io
from trader_core.errors import ArtifactError
from trader_core.layout import artifact_path, trader_home

TABLES_MANIFEST = "tables.manifest.json"


class RunArtifactIOManager(dg.ConfigurableIOManager):
    """Stores each asset's value for a run partition under the run's artifact folder."""

    home: str = ""

    def _path(self, context: dg.OutputContext | dg.InputContext) -> Path:
        home = Path(self.home).resolve() if self.home else trader_home()
        asset = context.asset_key.path[-1]
        return artifact_path(context.partition_key, asset, home)

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        path = self._path(context)
        if isinstance(obj, pd.DataFrame):
            io.write_parquet(path, obj)
            manifest = io.write_manifest(path, {"row_count": len(obj), "columns": list(obj.columns)})
        elif isinstance(obj, dict) and obj and all(isinstance(v, pd.DataFrame) for v in obj.values()):
            manifest = self._write_tables(path, obj)
        elif isinstance(obj, dict):
            io.write_json(path, obj)
            manifest = io.write_manifest(path, {})
        else:
            raise TypeError(f"{context.asset_key.to_user_string()}: cannot store a {type(obj).__name__}")
        context.add_output_metadata({"path": dg.MetadataValue.path(str(path)),
                                     "sha256": manifest.get("sha256", manifest.get("tables_sha256", ""))})

    def _write_tables(self, folder: Path, tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
        entries = {}
        for name, df in sorted(tables.items()):
            sha = io.write_parquet(folder / f"{name}.parquet", df)
            entries[name] = {"sha256": sha, "row_count": len(df)}
        manifest = {"tables": entries, "tables_sha256": io.sha256_json_obj(entries)}
        io.write_json(folder / TABLES_MANIFEST, manifest)
        return manifest

    def load_input(self, context: dg.InputContext) -> Any:
        path = self._path(context)
        if path.suffix == ".parquet":
            return io.read_parquet(path)
        if path.suffix == ".json":
            io.verify_artifact(path)
            return io.read_json(path)
        return self._read_tables(path)

    def _read_tables(self, folder: Path) -> dict[str, pd.DataFrame]:
        manifest = io.read_json(folder / TABLES_MANIFEST)
        out = {}
        for name, entry in manifest["tables"].items():
            path = folder / f"{name}.parquet"
            if not path.exists() or io.sha256_file(path) != entry["sha256"]:
                raise ArtifactError(f"{path}: missing or does not match {TABLES_MANIFEST}")
            out[name] = pd.read_parquet(path)
        return out
