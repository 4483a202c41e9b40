"""Parquet IO manager keyed by asset and run partition.

Paths come from ``trader_core.layout.ARTIFACT_PATHS`` (``<TRADER_HOME>/trader-v4/runs/<run>/<stage>/<file>``).
DataFrames are written as parquet, dicts as JSON, dicts of DataFrames as a folder of parquet files, and a
typed document (a frozen dataclass with ``to_json``, such as the price plan) as its JSON; an input annotated
with such a type is loaded back through its ``from_json``, and an input annotated with a type that has
``from_path`` (``StoredReplay``) gets that handle of the stored file instead of its contents. Every write is
atomic and followed (last) by a manifest with the content hash; loads verify that hash. The fan-out assets are stored as per-symbol parts
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
from trader_core.fanout import ReplaySlice
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
        document = getattr(context.dagster_type, "typing_type", None)
        if isinstance(document, type) and hasattr(document, "from_path"):
            return document.from_path(path)
        if path.suffix in (".parquet", PARTS_SUFFIX):
            return parts.read_frame(path)
        if path.suffix == ".json":
            io.verify_artifact(path)
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


class PartsManifestLoader(RunArtifactIOManager):
    """Loads the manifest of a parts artifact, not its rows: the input of the contract checks that report the
    verdicts decided from the parts' figures (``trader_assets.checks.factory``)."""

    def load_input(self, context: dg.InputContext) -> PartsManifest:
        return PartsManifest.from_path(self._path(context))


class FanoutIOManager(dg.ConfigurableIOManager):
    """Intermediate per-symbol outputs of the fan-out ops (not assets): the replay slices (where a symbol's rows
    are, as JSON) and the digests of the stored parts (row hashes and the merge's tables as uncompressed Arrow
    IPC, the rest as JSON beside), under
    ``<TRADER_HOME>/fanout/<dagster run id>/<step key>/<output>[__<mapping key>][.<table>].{arrow,json}``, shared by
    every executor on one machine (in-process, multiprocess, Dask workers on a shared file system). The merge step deletes its graph's
    outputs once the asset is written; a crashed run leaves only this scratch folder behind."""

    home: str = ""

    def _root(self) -> Path:
        return Path(self.home).resolve() if self.home else trader_home()

    def _path(self, context: dg.OutputContext) -> Path:
        step = context.step_key.replace("[", "__").replace("]", "")
        name = f"{context.name}__{context.mapping_key}" if context.mapping_key else context.name
        return self._root() / "fanout" / context.run_id / step / f"{name}.arrow"

    def handle_output(self, context: dg.OutputContext, obj: ReplaySlice | PartDigest) -> None:
        path = self._path(context)
        if isinstance(obj, PartDigest):  # its row hashes and tables, then (last) the rest as JSON
            io.atomic_write_bytes(path, io.arrow_ipc_bytes(pd.DataFrame({"row_hash": obj.row_hashes})))
            for name, table in obj.tables.items():
                io.atomic_write_bytes(_table_path(path, name), io.arrow_table_bytes(table))
            io.write_json(path.with_suffix(".json"), obj.to_json())
        elif isinstance(obj, ReplaySlice):
            io.write_json(path.with_suffix(".json"), obj.to_json())
        else:
            raise TypeError(f"{context.step_key}: fan-out outputs must be replay slices or part digests, "
                            f"got {type(obj).__name__}")

    def load_input(self, context: dg.InputContext) -> ReplaySlice | PartDigest:
        path = self._path(context.upstream_output)
        document = path.with_suffix(".json")
        if not document.exists():
            raise ArtifactError(f"{document}: fan-out output missing (its step did not complete)")
        if path.exists():
            data = io.read_json(document)
            return PartDigest.from_json(data, io.read_arrow_ipc(path)["row_hash"].to_numpy(),
                                        {name: io.map_arrow_table(_table_path(path, name)) for name in data["tables"]})
        return ReplaySlice.from_json(io.read_json(document))


def _table_path(path: Path, name: str) -> Path:
    """Where a part digest's table ``name`` is stored beside its row hashes."""
    return path.with_name(f"{path.stem}.{name}.arrow")


def clear_fanout(run_id: str, graph: str, home: str = "") -> None:
    """Delete the fan-out scratch outputs of graph asset ``graph`` in Dagster run ``run_id``."""
    import shutil

    root = (Path(home).resolve() if home else trader_home()) / "fanout" / run_id
    for step in root.glob(f"{graph}.*"):
        shutil.rmtree(step, ignore_errors=True)
    if root.exists() and not any(root.iterdir()):
        root.rmdir()
