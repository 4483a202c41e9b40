"""The butterfly inference engine (docs/butterfly.md, "Inference engine"): the exported ROI model behind ONE
onnxruntime session, created once and shared by every path that scores butterflies (the model stage's parity
check, shadow scoring of the champion, monitoring, the benchmark).

``get_inference_engine(path)`` takes a release bundle (``<release>/`` with ``release_manifest.json``) or a model
folder (a run's ``<run>/butterfly/model/``, or a release's). A release is hash-checked file by file before its
model is read (``release_manifest.verify_release``, as the perp engine does); the model's metadata must name the
butterfly strategy, ``BUTTERFLY_FEATURE_ORDER`` (a mismatch names the first differing position) and four class
values. Engines are cached per path and model-file version (inode, mtime, size), so a model rewritten in place by
a new materialization gets a new engine and a cached one is never stale.

``predict_roi_distribution(frame)`` returns, per candidate row, the expected ROI (``sum_k p_k v_k`` with the class
values stored in the model), the four class probabilities, the most likely class with its probability, and a
confidence: 1 - H(p) / ln 4, the normalized entropy of the class distribution subtracted from one (1 when one
class holds all the probability, 0 when all four are equally likely; the design names a confidence without
defining it).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trader_core.butterfly.model import TrainedButterfly, contract_of, expected_roi, feature_matrix
from trader_core.contracts.butterfly import CLASS_COUNT, FEATURE_COUNT, OUTPUT_FIELDS
from trader_core.contracts.models import ONNX_INPUT_NAME, ONNX_OUTPUT_NAME
from trader_core.contracts.versions import TUNE_SPLIT
from trader_core.errors import ArtifactError, DataContractError
from trader_core.models.checks import prediction_parity
from trader_core.models.inference import make_session
from trader_core.models.onnx_export import model_bytes, read_model
from trader_core.release_manifest import MANIFEST as RELEASE_MANIFEST, verify_release
from trader_core.strategies.butterfly import ONNX_FILE

MODEL_FILE = Path(ONNX_FILE).name
DISTRIBUTION_COLUMNS = ("expected_roi", *OUTPUT_FIELDS, "top_class", "top_probability", "confidence")
ENGINE_CACHE_SIZE = 8


def locate_model(path: Path) -> tuple[Path, Path | None]:
    """The model file of a release bundle or model folder, and the release root to hash-check (None for a run's
    model folder)."""
    if (path / RELEASE_MANIFEST).is_file():
        return path / ONNX_FILE, path
    if (path / MODEL_FILE).is_file():
        root = path.parent.parent
        return path / MODEL_FILE, root if (root / RELEASE_MANIFEST).is_file() else None
    raise ArtifactError(f"{path}: neither a butterfly release bundle ({RELEASE_MANIFEST}) nor a model folder "
                        f"holding {MODEL_FILE}")


class ButterflyEngine:
    """One exported butterfly model in one onnxruntime session, with the class values stored in the model."""

    def __init__(self, model_file: Path, *, threads: int = 1) -> None:
        model = read_model(model_file)
        contract = contract_of(model, str(model_file))
        self.class_values: np.ndarray = contract["class_values"]
        self.model_version: str | None = contract["model_version"]
        self._session = make_session(model_bytes(model), threads)

    @classmethod
    def from_path(cls, path: Path | str, *, threads: int = 1) -> ButterflyEngine:
        """The engine of a release bundle (hash-checked first) or a model folder; see the module docstring."""
        model_file, release_root = locate_model(Path(path))
        if release_root is not None:
            verify_release(release_root)
        if not model_file.is_file():
            raise ArtifactError(f"{release_root}: release holds no butterfly model ({ONNX_FILE})")
        return cls(model_file, threads=threads)

    def predict_proba(self, features: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Class probabilities float32 [n, 4] (OUTPUT_FIELDS order); DataContractError on missing or non-finite
        features. An array must hold the columns of BUTTERFLY_FEATURE_ORDER in that order."""
        if isinstance(features, pd.DataFrame):
            x = feature_matrix(features, "butterfly scoring rows")
        else:
            x = np.asarray(features, dtype=np.float32)
            x = x.reshape(1, -1) if x.ndim == 1 else x
            if x.ndim != 2 or x.shape[1] != FEATURE_COUNT or not np.isfinite(x).all():
                raise DataContractError(f"butterfly scoring rows: expected finite features of shape [n, "
                                        f"{FEATURE_COUNT}] in BUTTERFLY_FEATURE_ORDER, got {list(x.shape)}")
        return self._session.run([ONNX_OUTPUT_NAME], {ONNX_INPUT_NAME: np.ascontiguousarray(x)})[0]

    def predict_roi_distribution(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Per row of ``frame`` (same index): DISTRIBUTION_COLUMNS, float64 but ``top_class`` (int64)."""
        proba = self.predict_proba(frame).astype(np.float64)
        columns: dict[str, Any] = {"expected_roi": expected_roi(proba, self.class_values)}
        columns |= {name: proba[:, k] for k, name in enumerate(OUTPUT_FIELDS)}
        columns |= {"top_class": proba.argmax(axis=1), "top_probability": proba.max(axis=1),
                    "confidence": confidence(proba)}
        return pd.DataFrame(columns, index=frame.index)


def confidence(proba: np.ndarray) -> np.ndarray:
    """1 - H(p) / ln 4 per row of class probabilities [n, 4] (0 log 0 = 0), clipped to [0, 1] against float32
    rounding: 1 for a certain class, 0 for a uniform guess."""
    entropy = -np.sum(proba * np.log(np.where(proba > 0, proba, 1.0)), axis=1)
    return np.clip(1.0 - entropy / np.log(CLASS_COUNT), 0.0, 1.0)


@lru_cache(maxsize=ENGINE_CACHE_SIZE)
def _cached_engine(path: str, version: tuple[tuple[int, int, int], ...]) -> ButterflyEngine:
    """``version`` (the files' inode, mtime and size) is part of the cache key only."""
    return ButterflyEngine.from_path(path)


def _file_version(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def get_inference_engine(path: Path | str) -> ButterflyEngine:
    """The engine of a release bundle or model folder, created once per path and version of its model file (and
    release manifest): later calls return the same engine and session."""
    path = Path(path).resolve()
    model_file, release_root = locate_model(path)
    files = [model_file] + ([release_root / RELEASE_MANIFEST] if release_root is not None else [])
    return _cached_engine(str(path), tuple(_file_version(f) for f in files if f.is_file()))


def onnx_parity(engine: ButterflyEngine, trained: TrainedButterfly, dataset: pd.DataFrame) -> tuple[bool, dict]:
    """The exported model on the tune_inner features against the trained probabilities, with the perp models'
    single bound (``models.checks.prediction_parity``)."""
    tune = dataset[dataset["split_id"] == TUNE_SPLIT]
    ours = trained.predictions[trained.predictions["split_id"] == TUNE_SPLIT]
    return prediction_parity(got=engine.predict_proba(tune), expected=ours[list(OUTPUT_FIELDS)].to_numpy(np.float64))
