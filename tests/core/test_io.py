import os

import pandas as pd
import pytest

from trader_core import io
from trader_core.errors import ArtifactError


def frame():
    return pd.DataFrame({"a": [1.0, 2.0, float("nan")], "s": ["x", "y", "z"]})


def test_parquet_write_is_deterministic_and_verified(tmp_path):
    path = tmp_path / "stage" / "t.parquet"
    h1 = io.write_parquet(path, frame())
    io.write_manifest(path, {"row_count": 3})
    h2 = io.write_parquet(tmp_path / "other.parquet", frame())
    assert h1 == h2 == io.sha256_file(path)
    pd.testing.assert_frame_equal(io.read_parquet(path), frame())
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_tampered_or_unmanifested_artifact_is_refused(tmp_path):
    path = tmp_path / "t.parquet"
    io.write_parquet(path, frame())
    with pytest.raises(ArtifactError, match="no manifest"):
        io.read_parquet(path)
    io.write_manifest(path, {})
    with open(path, "ab") as fh:
        fh.write(b"junk")
    with pytest.raises(ArtifactError, match="does not match"):
        io.read_parquet(path)


def test_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "x.json"
    io.write_json(path, {"v": 1})
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):  # the injected failure, not some other OSError
        io.write_json(path, {"v": 2})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_frame_hash_depends_on_content_not_index():
    a = frame()
    b = frame().set_axis([10, 11, 12])
    assert io.frame_hash(a) == io.frame_hash(b)
    c = frame()
    c.loc[0, "a"] = 1.5
    assert io.frame_hash(c) != io.frame_hash(a)
    d = frame()
    d.loc[2, "s"] = "zz"  # a change in a non-numeric column counts too
    assert io.frame_hash(d) != io.frame_hash(a)


def test_frame_hash_combines_from_the_row_hashes_of_parts():
    """The hash of a frame cut into parts (categoricals with each part's own categories) is combined exactly."""
    whole = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "s": pd.Categorical(["b", "a", "b", "c"])})
    cut = [whole.iloc[:2].reset_index(drop=True), whole.iloc[2:].reset_index(drop=True)]
    cut = [p.assign(s=p["s"].cat.remove_unused_categories()) for p in cut]  # ["a", "b"] and ["b", "c"]
    blocks = [io.row_hashes(p) for p in cut]
    assert io.combined_frame_hash(io.dtype_header(cut[0]), blocks) == io.frame_hash(whole)
    assert io.combined_frame_hash(io.dtype_header(cut[0]), blocks[::-1]) != io.frame_hash(whole)  # order counts
