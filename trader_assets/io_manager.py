"""Parquet IO manager keyed by asset and run partition.

Paths come from ``trader_core.layout.ARTIFACT_PATHS`` (``<TRADER_HOME>/trader-v4/runs/<run>/<stage>/<file>``).
DataFrames are written as parquet, dicts as JSON, dicts of DataFrames as a folder of parquet files, and a
typed document (a frozen dataclass with ``to_json``, such as the price plan) as its JSON; an input annotated
with such a type is loaded back through its ``from_json``. Every write is atomic and followed (last) by a
manifest with the content hash; loads verify that hash. The fan-out assets are stored as per-symbol parts
(``trader_core.parts``): their symbol steps write the parts, the merge hands over the parts' manifest, which is
written here, and a load reads the parts back as the single frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from trader_core import io, parts
from trader_core.errors import ArtifactError
from trader_core.layout import PARTS_SUFFIX, artifact_path, trader_home
from trader_core.parts import PartDigest, PartsManifest

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
        if isinstance(obj, PartsManifest):
            manifest = parts.write_manifest(path, obj)
        elif isinstance(obj, pd.DataFrame):
            io.write_parquet(path, obj)
            manifest = io.write_manifest(path, {"row_count": len(obj), "columns": list(obj.columns)})
        elif isinstance(obj, dict) and obj and all(isinstance(v, pd.DataFrame) for v in obj.values()):
            manifest = self._write_tables(path, obj)
        elif isinstance(obj, dict) or hasattr(obj, "to_json"):
            io.write_json(path, obj if isinstance(obj, dict) else obj.to_json())
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
        if path.suffix in (".parquet", PARTS_SUFFIX):
            return parts.read_frame(path)
        if path.suffix == ".json":
            io.verify_artifact(path)
            document = getattr(context.dagster_type, "typing_type", None)
            data = io.read_json(path)
            return document.from_json(data) if hasattr(document, "from_json") else data
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


class FanoutIOManager(dg.ConfigurableIOManager):
    """Intermediate per-symbol outputs of the fan-out ops (not assets): the replay slices and the digests of
    the stored parts (row hashes as a table, the rest as JSON beside), as uncompressed Arrow IPC under
    ``<TRADER_HOME>/fanout/<dagster run id>/<step key>/<output>[__<mapping key>].arrow``, shared by every executor on one
    machine (in-process, multiprocess, Dask workers on a shared file system). The merge step deletes its graph's
    outputs once the asset is written; a crashed run leaves only this scratch folder behind."""

    home: str = ""

    def _root(self) -> Path:
        return Path(self.home).resolve() if self.home else trader_home()

    def _path(self, context: dg.OutputContext) -> Path:
        step = context.step_key.replace("[", "__").replace("]", "")
        name = f"{context.name}__{context.mapping_key}" if context.mapping_key else context.name
        return self._root() / "fanout" / context.run_id / step / f"{name}.arrow"

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame | PartDigest) -> None:
        path = self._path(context)
        if isinstance(obj, PartDigest):  # its row hashes as a table, then (last) the rest as JSON
            io.atomic_write_bytes(path, io.arrow_ipc_bytes(pd.DataFrame({"row_hash": obj.row_hashes})))
            io.write_json(path.with_suffix(".json"), obj.to_json())
        elif isinstance(obj, pd.DataFrame):
            io.atomic_write_bytes(path, io.arrow_ipc_bytes(obj))
        else:
            raise TypeError(f"{context.step_key}: fan-out outputs must be DataFrames or part digests, "
                            f"got {type(obj).__name__}")

    def load_input(self, context: dg.InputContext) -> pd.DataFrame | PartDigest:
        path = self._path(context.upstream_output)
        if not path.exists():
            raise ArtifactError(f"{path}: fan-out output missing (its step did not complete)")
        digest = path.with_suffix(".json")
        if digest.exists():
            return PartDigest.from_json(io.read_json(digest), io.read_arrow_ipc(path)["row_hash"].to_numpy())
        return io.read_arrow_ipc(path)


def clear_fanout(run_id: str, graph: str, home: str = "") -> None:
    """Delete the fan-out scratch outputs of graph asset ``graph`` in Dagster run ``run_id``."""
    import shutil

    root = (Path(home).resolve() if home else trader_home()) / "fanout" / run_id
    for step in root.glob(f"{graph}.*"):
        shutil.rmtree(step, ignore_errors=True)
    if root.exists() and not any(root.iterdir()):
        root.rmdir()
