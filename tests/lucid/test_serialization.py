"""Tests for lucid.serialization (safetensors weights files)."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from lucid import serialization
from lucid.serialization import WeightsFileError, load, load_metadata, load_with_metadata, save


def _raw_file(path: Path, header: bytes, data: bytes = b"", header_len: int | None = None) -> Path:
    """Write a hand-made safetensors-like file."""
    n = len(header) if header_len is None else header_len
    path.write_bytes(struct.pack("<Q", n) + header + data)
    return path


def _header_len(path: Path) -> int:
    return struct.unpack("<Q", path.read_bytes()[:8])[0]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "uint8"])
def test_round_trip_is_exact(tmp_path: Path, dtype: str) -> None:
    rng = np.random.default_rng(0)
    arr = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    save({"layer.weight": arr}, tmp_path / "w.safetensors")
    out = load(tmp_path / "w.safetensors")
    assert list(out) == ["layer.weight"]
    assert out["layer.weight"].dtype == np.dtype(dtype)
    assert out["layer.weight"].shape == arr.shape
    assert out["layer.weight"].tobytes() == arr.tobytes()


def test_round_trip_zero_d_large_and_noncontiguous(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    big = rng.standard_normal((512, 600)).astype(np.float32)
    state = {
        "scalar": np.array(2.5, dtype=np.float64),
        "big": big,
        "transposed": big[:7, :9].T,  # non-contiguous view
        "empty": np.zeros((0, 3), dtype=np.float32),
        "big_endian": np.arange(4, dtype=">i4"),
    }
    path = tmp_path / "w.safetensors"
    save(state, path)
    out = load(path)
    assert set(out) == set(state)
    assert out["scalar"].shape == () and out["scalar"] == 2.5
    for name, arr in state.items():
        assert out[name].shape == arr.shape, name
        np.testing.assert_array_equal(out[name], arr)
    assert out["big"].flags.writeable


def test_saves_objects_with_numpy_method(tmp_path: Path) -> None:
    class FakeTensor:
        def numpy(self) -> np.ndarray:
            return np.arange(3, dtype=np.float32)

    save({"t": FakeTensor()}, tmp_path / "w.safetensors")
    np.testing.assert_array_equal(load(tmp_path / "w.safetensors")["t"], [0, 1, 2])


def test_unsavable_values_rejected(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="'x'"):
        save({"x": [1, 2, 3]}, tmp_path / "w.safetensors")
    with pytest.raises(TypeError, match="dtype"):
        save({"x": np.array(["a"])}, tmp_path / "w.safetensors")
    assert os.listdir(tmp_path) == []


def test_metadata_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    meta = {"format": "lucid", "source": "vgg19 ✓", "empty": ""}
    save({"a": np.ones(2, dtype=np.float32)}, path, metadata=meta)
    assert load_metadata(path) == meta
    tensors, meta2 = load_with_metadata(path)
    assert meta2 == meta
    np.testing.assert_array_equal(tensors["a"], [1, 1])

    save({"a": np.ones(2, dtype=np.float32)}, path)
    assert load_metadata(path) == {}


@pytest.mark.parametrize("meta", [{"epoch": 3}, {"x": None}, {1: "one"}])
def test_non_str_metadata_rejected(tmp_path: Path, meta: dict) -> None:
    path = tmp_path / "w.safetensors"
    with pytest.raises(TypeError, match="str"):
        save({"a": np.zeros(1)}, path, metadata=meta)
    assert not path.exists()
    assert os.listdir(tmp_path) == []


def _saved(tmp_path: Path) -> Path:
    path = tmp_path / "model.safetensors"
    save(
        {"a": np.arange(100, dtype=np.float32), "b": np.ones((4, 4))},
        path,
        metadata={"k": "v"},
    )
    return path


def test_truncated_in_data_raises(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    raw = path.read_bytes()
    data_start = 8 + _header_len(path)
    path.write_bytes(raw[: data_start + (len(raw) - data_start) // 2])
    with pytest.raises(WeightsFileError, match="model.safetensors.*truncated"):
        load(path)


@pytest.mark.parametrize("keep", [0, 5, 8, 20])
def test_truncated_in_header_raises(tmp_path: Path, keep: int) -> None:
    path = _saved(tmp_path)
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(WeightsFileError, match="model.safetensors"):
        load(path)
    with pytest.raises(WeightsFileError, match="model.safetensors"):
        load_metadata(path)


def test_garbage_header_raises(tmp_path: Path) -> None:
    path = _raw_file(tmp_path / "bad.safetensors", b"{this is not json}", b"\0" * 8)
    with pytest.raises(WeightsFileError, match="bad.safetensors.*JSON"):
        load(path)
    path = _raw_file(tmp_path / "bad.safetensors", b"[1, 2]")
    with pytest.raises(WeightsFileError, match="bad.safetensors.*JSON object"):
        load(path)


def test_not_a_safetensors_file(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(WeightsFileError, match="image.png"):
        load(path)


def test_header_length_larger_than_file_raises(tmp_path: Path) -> None:
    header = b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    path = _raw_file(tmp_path / "w.safetensors", header, b"\0" * 4, header_len=len(header) + 100)
    with pytest.raises(WeightsFileError, match="w.safetensors.*header length"):
        load(path)


def test_offsets_out_of_range_raise(tmp_path: Path) -> None:
    header = json.dumps({"a": {"dtype": "F32", "shape": [250], "data_offsets": [0, 1000]}})
    path = _raw_file(tmp_path / "w.safetensors", header.encode(), b"\0" * 16)
    with pytest.raises(WeightsFileError, match="w.safetensors.*'a'"):
        load(path)

    header = json.dumps({"a": {"dtype": "F32", "shape": [4], "data_offsets": [12, 4]}})
    path = _raw_file(tmp_path / "w.safetensors", header.encode(), b"\0" * 16)
    with pytest.raises(WeightsFileError, match="data_offsets"):
        load(path)


def test_offsets_inconsistent_with_shape_raise(tmp_path: Path) -> None:
    # In range, but 4 float32 need 16 bytes, not 8: only safetensors' own
    # validation catches this, so this checks that its error is wrapped.
    header = json.dumps({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}})
    path = _raw_file(tmp_path / "w.safetensors", header.encode(), b"\0" * 8)
    with pytest.raises(WeightsFileError, match="w.safetensors"):
        load(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.safetensors"
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        load(path)
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        load_metadata(path)


def test_atomic_write_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    save({"a": np.zeros(3)}, path)
    save({"a": np.ones(3)}, str(path))  # overwrite, str path
    assert os.listdir(tmp_path) == ["w.safetensors"]
    np.testing.assert_array_equal(load(path)["a"], np.ones(3))


def test_failed_write_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "w.safetensors"
    save({"a": np.zeros(3)}, path)

    def broken_save_file(tensors: dict, filename: str, metadata: dict | None = None) -> None:
        Path(filename).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "save_file", broken_save_file)
    with pytest.raises(OSError, match="disk full"):
        save({"a": np.ones(3)}, path)
    assert os.listdir(tmp_path) == ["w.safetensors"]
    np.testing.assert_array_equal(load(path)["a"], np.zeros(3))
