"""Tests for lucid.pth (reading torch.save files without torch, safely).

The hand-built archives below use the same layout as torch.save
(``<name>/data.pkl`` + ``<name>/data/<key>``), so they run without torch;
the tests at the end compare against files written by torch itself.
"""

from __future__ import annotations

import os
import pickle
import shlex
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lucid.pth import PthError, load_pth

# --- a tiny pickle assembler, so hand-made files need no torch ---------------


def _global(module: str, name: str) -> bytes:
    return b"c" + f"{module}\n{name}\n".encode()


def _str(s: str) -> bytes:
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _int(i: int) -> bytes:
    return b"J" + struct.pack("<i", i)


def _tuple(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def _tensor(storage_type: str, key: str, numel: int, offset: int, size, stride) -> bytes:
    pid = (
        _tuple(_str("storage"), _global("torch", storage_type), _str(key), _str("cpu"), _int(numel))
        + b"Q"
    )  # BINPERSID
    hooks = _global("collections", "OrderedDict") + b")R"
    args = _tuple(
        pid, _int(offset), _tuple(*map(_int, size)), _tuple(*map(_int, stride)), b"\x89", hooks
    )
    return _global("torch._utils", "_rebuild_tensor_v2") + args + b"R"


def _state_dict_pickle(entries: dict[str, bytes]) -> bytes:
    body = b"".join(_str(k) + v for k, v in entries.items())
    return b"\x80\x02}(" + body + b"u."


def _archive(path: Path, pkl: bytes, storages: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pkl)
        zf.writestr("archive/byteorder", "little")
        for key, raw in (storages or {}).items():
            zf.writestr(f"archive/data/{key}", raw)
    return path


# --- tests without torch -------------------------------------------------------


def test_hand_made_archive_strided_view(tmp_path: Path) -> None:
    storage = np.arange(6, dtype="<f4")
    pkl = _state_dict_pickle(
        {
            "w": _tensor("FloatStorage", "0", 6, 1, (2, 2), (1, 3)),
            "full": _tensor("FloatStorage", "0", 6, 0, (6,), (1,)),
            "n": _tensor("LongStorage", "1", 1, 0, (), ()),
        }
    )
    path = _archive(
        tmp_path / "m.pth", pkl, {"0": storage.tobytes(), "1": np.array([7], "<i8").tobytes()}
    )
    out = load_pth(path)
    np.testing.assert_array_equal(out["w"], [[1, 4], [2, 5]])
    np.testing.assert_array_equal(out["full"], storage)
    assert out["n"].shape == () and out["n"].dtype == np.int64 and out["n"] == 7
    out["w"][0, 0] = 99  # independent copies, not views of one storage
    assert out["full"][1] == 1


def test_hand_made_bfloat16_becomes_float32(tmp_path: Path) -> None:
    values = np.array([1.0, -2.5, 3.140625], dtype=np.float32)  # exact in bfloat16
    raw = (values.view(np.uint32) >> 16).astype("<u2").tobytes()
    pkl = _state_dict_pickle({"b": _tensor("BFloat16Storage", "0", 3, 0, (3,), (1,))})
    out = load_pth(_archive(tmp_path / "m.pth", pkl, {"0": raw}))
    assert out["b"].dtype == np.float32
    np.testing.assert_array_equal(out["b"], values)


def test_out_of_bounds_stride_refused(tmp_path: Path) -> None:
    # as_strided does no bounds check; a crafted stride must not read past the storage.
    pkl = _state_dict_pickle({"w": _tensor("FloatStorage", "0", 4, 0, (2, 2), (1, 1000))})
    path = _archive(tmp_path / "evil.pth", pkl, {"0": np.zeros(4, "<f4").tobytes()})
    with pytest.raises(PthError, match="evil.pth.*storage with 4 elements"):
        load_pth(path)


def test_storage_shorter_than_numel_refused(tmp_path: Path) -> None:
    pkl = _state_dict_pickle({"w": _tensor("FloatStorage", "0", 100, 0, (100,), (1,))})
    path = _archive(tmp_path / "m.pth", pkl, {"0": np.zeros(4, "<f4").tobytes()})
    with pytest.raises(PthError, match="m.pth.*expected 400"):
        load_pth(path)


class _Evil:
    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (os.system, (f"echo pwned > {shlex.quote(str(self.target))}",))


def test_malicious_pickle_is_refused_and_not_run(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    pkl = pickle.dumps({"w": _Evil(target)}, protocol=2)
    assert b"system" in pkl  # the payload really names os.system
    path = _archive(tmp_path / "evil.pth", pkl)
    with pytest.raises(PthError, match=r"refusing to load '(posix|nt)\.system' from .*evil\.pth"):
        load_pth(path)
    assert not target.exists()


def test_other_globals_refused(tmp_path: Path) -> None:
    pkl = b"\x80\x02" + _global("builtins", "eval") + _tuple(_str("1+1")) + b"R."
    with pytest.raises(PthError, match="'builtins.eval'.*only tensor data"):
        load_pth(_archive(tmp_path / "m.pth", pkl))


def test_allowed_globals_cannot_be_mutated(tmp_path: Path) -> None:
    # BUILD with slot state does setattr on the object from find_class; the
    # stand-ins are shared by all loads, so this must fail, not poison them.
    pkl = (
        b"\x80\x02"
        + _global("torch._utils", "_rebuild_tensor_v2")
        + b"N}"
        + _str("fn")
        + _int(1)
        + b"s\x86b."
    )
    with pytest.raises(PthError, match="m.pth"):
        load_pth(_archive(tmp_path / "m.pth", pkl))
    test_hand_made_archive_strided_view(tmp_path)  # still works afterwards


def test_not_a_zip_file(tmp_path: Path) -> None:
    path = tmp_path / "weights.pth"
    path.write_bytes(b"this is not a torch file at all")
    with pytest.raises(PthError, match="weights.pth.*not a PyTorch .pth file"):
        load_pth(path)


def test_legacy_format_truncated(tmp_path: Path) -> None:
    path = tmp_path / "old.pth"
    path.write_bytes(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + b"rest")
    with pytest.raises(PthError, match="old.pth.*corrupted"):
        load_pth(path)


def test_legacy_format_bad_magic(tmp_path: Path) -> None:
    path = tmp_path / "old.pth"
    path.write_bytes(pickle.dumps(12345, protocol=2) + pickle.dumps(1001, protocol=2))
    with pytest.raises(PthError, match="old.pth.*bad magic"):
        load_pth(path)


def test_truncated_zip(tmp_path: Path) -> None:
    pkl = _state_dict_pickle({"w": _tensor("FloatStorage", "0", 4, 0, (4,), (1,))})
    path = _archive(tmp_path / "cut.pth", pkl, {"0": np.zeros(4, "<f4").tobytes()})
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(PthError, match="cut.pth.*truncated"):
        load_pth(path)


def test_corrupted_storage_bytes(tmp_path: Path) -> None:
    pkl = _state_dict_pickle({"w": _tensor("FloatStorage", "0", 4, 0, (4,), (1,))})
    path = _archive(tmp_path / "bad.pth", pkl, {"0": np.arange(4, dtype="<f4").tobytes()})
    raw = bytearray(path.read_bytes())
    at = raw.index(np.arange(4, dtype="<f4").tobytes())
    raw[at + 5] ^= 0xFF  # flip bits inside the stored tensor data
    path.write_bytes(bytes(raw))
    with pytest.raises(PthError, match="bad.pth"):  # zip CRC mismatch
        load_pth(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="absent.pth"):
        load_pth(tmp_path / "absent.pth")


def test_non_tensor_entries_refused(tmp_path: Path) -> None:
    pkl = b"\x80\x02}(" + _str("epoch") + _int(3) + b"u."
    with pytest.raises(PthError, match="'epoch' is int, not a tensor"):
        load_pth(_archive(tmp_path / "ckpt.pth", pkl))


# --- tests against files written by torch ------------------------------------------


def test_torch_state_dict_dtypes_and_views(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    gen = torch.Generator().manual_seed(0)
    base = torch.randn(5, 6, generator=gen)
    state = {
        "f32": torch.randn(3, 4, generator=gen),
        "f64": torch.randn(4, generator=gen, dtype=torch.float64),
        "f16": torch.randn(2, 3, generator=gen).half(),
        "i64": torch.arange(-5, 5),
        "bf16": torch.randn(7, generator=gen).bfloat16(),
        "transposed": base.t(),
        "sliced": base[1:4, ::2],
        "column": base[:, 2],
        "scalar": torch.tensor(1.25),
        "param": torch.nn.Parameter(torch.ones(2, 2)),
        "bool": torch.tensor([True, False, True]),
    }
    path = tmp_path / "sd.pth"
    torch.save(state, path)
    out = load_pth(path)
    assert set(out) == set(state)
    for name, tensor in state.items():
        tensor = tensor.detach()
        expected = (tensor.float() if tensor.dtype == torch.bfloat16 else tensor).numpy()
        assert out[name].dtype == expected.dtype, name
        assert out[name].shape == expected.shape, name
        assert out[name].tobytes() == np.ascontiguousarray(expected).tobytes(), name


def test_torch_module_state_dict(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(4, 2),
    )
    model(torch.randn(2, 3, 3, 3))  # update BatchNorm running stats
    path = tmp_path / "model.pt"
    torch.save(model.state_dict(), path)
    out = load_pth(path)
    assert type(out) is dict
    expected = model.state_dict()
    assert list(out) == list(expected)
    for name, tensor in expected.items():
        np.testing.assert_array_equal(out[name], tensor.numpy(), err_msg=name)
        assert out[name].dtype == tensor.numpy().dtype, name


def test_torch_nested_checkpoint_refused_and_legacy_read(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    nested = tmp_path / "ckpt.pth"
    torch.save({"state_dict": {"w": torch.ones(1)}}, nested)
    with pytest.raises(PthError, match="'state_dict' is dict, not a tensor"):
        load_pth(nested)
    legacy = tmp_path / "legacy.pth"
    state = {"w": torch.randn(3, 4), "t": torch.randn(4, 3).t(), "h": torch.randn(5).half(),
             "i": torch.arange(6).reshape(2, 3)[:, 1:]}
    torch.save(state, legacy, _use_new_zipfile_serialization=False)
    loaded = load_pth(legacy)
    assert set(loaded) == set(state)
    for key, value in state.items():
        np.testing.assert_array_equal(loaded[key], value.numpy())
        assert loaded[key].dtype == value.numpy().dtype


def test_malicious_legacy_pickle_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned-legacy"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {shlex.quote(str(marker))}",))

    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps(Exploit(), protocol=2))
    with pytest.raises(PthError, match="refusing to load .*system"):
        load_pth(path)
    assert not marker.exists()
