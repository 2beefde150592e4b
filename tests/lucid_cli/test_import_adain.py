"""``lucid import-adain``: pytorch-AdaIN's weights, converted without torch, run the same network.

The reference is pytorch-AdaIN's own code (``net.py``'s Sequentials, ``function.py``'s
``calc_mean_std`` and ``adaptive_instance_normalization``, ``test.py``'s ``style_transfer``),
rebuilt here with random weights; torch is needed only for those tests.
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import lucid
import lucid_cli.commands.import_adain  # noqa: F401 - registers the command on the app
from lucid.models.adain_import import (
    ADAIN_SOURCE,
    VGG_CONVS,
    _decoder_convs,
    convert_pytorch_adain,
)
from lucid.models.store import load_model, read_info
from lucid.nn.functional import calc_mean_std
from lucid_cli.app import app

# ---- pytorch-AdaIN's network, in torch -------------------------------------------------------


def _torch_vgg() -> Any:
    """pytorch-AdaIN's ``net.vgg``: the full normalised VGG-19 to relu5_4 (its file's keys)."""
    import torch.nn as tnn

    def block(cin: int, cout: int) -> list[Any]:
        return [tnn.ReflectionPad2d((1, 1, 1, 1)), tnn.Conv2d(cin, cout, (3, 3)), tnn.ReLU()]

    def pool() -> Any:
        return tnn.MaxPool2d((2, 2), (2, 2), (0, 0), ceil_mode=True)

    return tnn.Sequential(
        tnn.Conv2d(3, 3, (1, 1)),
        *block(3, 64), *block(64, 64), pool(),  # relu1_1 at index 3
        *block(64, 128), *block(128, 128), pool(),  # relu2_1 at 10
        *block(128, 256), *block(256, 256), *block(256, 256), *block(256, 256), pool(),
        *block(256, 512),  # relu3_1 at 17, relu4_1 at 30: vgg[:31] is what AdaIN uses
        *block(512, 512), *block(512, 512), *block(512, 512), pool(),
        *block(512, 512), *block(512, 512), *block(512, 512), *block(512, 512),
    )


def _torch_decoder() -> Any:
    """pytorch-AdaIN's ``net.decoder``."""
    import torch.nn as tnn

    def block(cin: int, cout: int, relu: bool = True) -> list[Any]:
        layers = [tnn.ReflectionPad2d((1, 1, 1, 1)), tnn.Conv2d(cin, cout, (3, 3))]
        return layers + [tnn.ReLU()] if relu else layers

    up = tnn.UpsamplingNearest2d
    return tnn.Sequential(
        *block(512, 256), up(scale_factor=2),
        *block(256, 256), *block(256, 256), *block(256, 256), *block(256, 128),
        up(scale_factor=2),
        *block(128, 128), *block(128, 64), up(scale_factor=2),
        *block(64, 64), *block(64, 3, relu=False),
    )


def _he_init(module: Any) -> None:
    """He-normal weights, small biases: PyTorch's default init shrinks activations layer by
    layer, so after ten convs relu4_1 would be near zero and the comparison toothless."""
    import torch
    import torch.nn as tnn

    for child in module.modules():
        if isinstance(child, tnn.Conv2d):
            tnn.init.kaiming_normal_(child.weight, nonlinearity="relu")
            with torch.no_grad():
                child.bias.uniform_(-0.1, 0.1)


def _torch_calc_mean_std(feat: Any, eps: float = 1e-5) -> tuple[Any, Any]:
    """pytorch-AdaIN's ``function.calc_mean_std``: the unbiased variance, plus eps, sqrt."""
    n, c = feat.shape[:2]
    std = (feat.view(n, c, -1).var(dim=2) + eps).sqrt().view(n, c, 1, 1)
    return feat.view(n, c, -1).mean(dim=2).view(n, c, 1, 1), std


def _torch_adain(content_feat: Any, style_feat: Any) -> Any:
    """pytorch-AdaIN's ``function.adaptive_instance_normalization``."""
    style_mean, style_std = _torch_calc_mean_std(style_feat)
    content_mean, content_std = _torch_calc_mean_std(content_feat)
    return (content_feat - content_mean) / content_std * style_std + style_mean


@pytest.fixture(scope="module")
def adain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Random-weight pytorch-AdaIN files (torch.save of the state dicts), the torch modules,
    and the lucid model file ``lucid import-adain`` made of them."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    vgg, decoder = _torch_vgg().eval(), _torch_decoder().eval()
    _he_init(vgg)
    _he_init(decoder)
    folder = tmp_path_factory.mktemp("adain")
    torch.save(vgg.state_dict(), folder / "vgg_normalised.pth")
    torch.save(decoder.state_dict(), folder / "decoder.pth")
    output = folder / "adain.safetensors"
    result = CliRunner().invoke(app, ["import-adain", str(folder / "vgg_normalised.pth"),
                                      str(folder / "decoder.pth"), "-o", str(output)])
    assert result.exit_code == 0, result.stderr
    assert f"wrote {output}" in result.stdout.replace("\n", "")
    generator = torch.Generator().manual_seed(1)
    content = torch.rand(1, 3, 32, 32, generator=generator)
    style = torch.rand(1, 3, 40, 40, generator=generator)
    return {"torch": torch, "vgg": vgg, "decoder": decoder, "folder": folder,
            "output": output, "content": content, "style": style}


def _lucid(image: Any) -> lucid.Tensor:
    return lucid.tensor(image.numpy())


def test_model_file_records_config_and_provenance(adain: dict[str, Any]) -> None:
    info = read_info(adain["output"])
    assert info.config["encoder"]["type"] == "vgg19_normalised"
    assert info.config["encoder"]["adain_tap"] == "relu4_1"
    assert info.config["decoder"]["in_channels"] == 512
    provenance = info.provenance
    assert provenance["source"] == ADAIN_SOURCE
    assert provenance["converted_by"] == "lucid import-adain"
    assert provenance["vgg_file"] == "vgg_normalised.pth"
    assert provenance["decoder_file"] == "decoder.pth"
    import hashlib
    digest = hashlib.sha256((adain["folder"] / "decoder.pth").read_bytes()).hexdigest()
    assert provenance["decoder_sha256"] == digest


def test_encoder_taps_match_pytorch_adain(adain: dict[str, Any]) -> None:
    torch, vgg = adain["torch"], adain["vgg"]
    model = load_model(adain["output"])
    taps = model.encoder(_lucid(adain["style"]))
    # net.Net's enc_1..enc_4 end at vgg[:4], [:11], [:18], [:31]
    with torch.no_grad():
        for name, end in (("relu1_1", 4), ("relu2_1", 11), ("relu3_1", 18), ("relu4_1", 31)):
            expected = vgg[:end](adain["style"]).numpy()
            assert taps[name].shape == expected.shape, name
            scale = np.abs(expected).max()
            assert scale > 0.1, f"{name} is near zero: the comparison would prove nothing"
            np.testing.assert_allclose(taps[name].numpy(), expected, rtol=0, atol=1e-4 * scale)


def _torch_stylized(adain: dict[str, Any]) -> np.ndarray:
    """pytorch-AdaIN's ``style_transfer(vgg[:31], decoder, content, style, alpha=1)``."""
    torch = adain["torch"]
    with torch.no_grad():
        encode = adain["vgg"][:31]
        feat = _torch_adain(encode(adain["content"]), encode(adain["style"]))
        return adain["decoder"](feat).numpy()


def test_network_matches_pytorch_adain(adain: dict[str, Any]) -> None:
    """Encoder, pytorch-AdaIN's AdaIN formula (written with lucid ops), decoder."""
    model = load_model(adain["output"])
    with lucid.no_grad():
        content = model.content_features(_lucid(adain["content"]))[model.adain_tap]
        style_mean, style_std = model.style_statistics(_lucid(adain["style"]))[model.adain_tap]
        content_mean, content_std = calc_mean_std(content)
        target = (content - content_mean) / content_std * style_std + style_mean
        out = model.decoder(target).numpy()
    expected = _torch_stylized(adain)
    assert out.shape == expected.shape == (1, 3, 32, 32)
    assert np.abs(expected).max() > 0.1
    assert np.abs(out - expected).max() < 1e-3


def test_blend_matches_pytorch_adain(adain: dict[str, Any]) -> None:
    """StyleNet's own path, ``decode(blend(...))``, against pytorch-AdaIN's ``style_transfer``."""
    model = load_model(adain["output"])
    with lucid.no_grad():
        statistics = model.style_statistics(_lucid(adain["style"]))
        content = model.content_features(_lucid(adain["content"]))
        out = model.decode(model.blend(content, statistics, alpha=1.0)).numpy()
    expected = _torch_stylized(adain)
    assert np.abs(out - expected).max() < 1e-3


# ---- bad inputs (no torch needed) ------------------------------------------------------------


def _numpy_states(scale: float = 0.01) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """State dicts with pytorch-AdaIN's keys and shapes (vgg[:31] only), small random values."""
    rng = np.random.default_rng(0)

    def state(convs: Any) -> dict[str, np.ndarray]:
        out = {}
        for index, (cout, cin, k) in convs:
            out[f"{index}.weight"] = (rng.standard_normal((cout, cin, k, k)) * scale).astype("f4")
            out[f"{index}.bias"] = np.zeros(cout, "f4")
        return out

    return state(VGG_CONVS), state(_decoder_convs())


def test_convert_maps_every_weight_and_ignores_vgg_past_relu4_1() -> None:
    vgg, decoder = _numpy_states()
    vgg["32.weight"] = np.zeros((512, 512, 3, 3), "f4")  # relu4_2's conv: in the file, unused
    vgg["32.bias"] = np.zeros(512, "f4")
    config, weights = convert_pytorch_adain(vgg, {k: v.astype("f8") for k, v in decoder.items()})
    assert config["encoder"]["stride"] == 8
    np.testing.assert_array_equal(weights["encoder.prep.weight"], vgg["0.weight"])
    np.testing.assert_array_equal(weights["encoder.convs.8.bias"], vgg["29.bias"])
    assert weights["decoder.layers.19.weight"].dtype == np.float32  # float64 file -> float32
    assert len(weights) == 2 * (len(VGG_CONVS) + len(_decoder_convs()))


@pytest.mark.parametrize(("damage", "message"), [
    (lambda vgg, dec: (dec, dec), "vgg: this is pytorch-AdaIN's decoder.pth, not vgg_normalised"),
    (lambda vgg, dec: (vgg, vgg), "decoder: this is pytorch-AdaIN's vgg_normalised.pth, not"),
    (lambda vgg, dec: ({"0.weight": vgg["0.weight"]}, {"0.weight": vgg["0.weight"]}),
     "vgg: not pytorch-AdaIN's layout: missing 19 of 20 weights"),  # not taken as swapped
    (lambda vgg, dec: ({k: v for k, v in vgg.items() if k != "12.bias"}, dec),
     "vgg: not pytorch-AdaIN's layout: missing 1 of 20 weights (12.bias)"),
    (lambda vgg, dec: (vgg, {**dec, "28.weight": np.zeros((3, 64, 5, 5), "f4")}),
     "decoder: 28.weight has shape (3, 64, 5, 5), expected (3, 64, 3, 3)"),
    (lambda vgg, dec: (vgg, {**dec, "extra.running_mean": np.zeros(3, "f4")}),
     "decoder: not pytorch-AdaIN's layout: unexpected entries extra.running_mean"),
    (lambda vgg, dec: ({**vgg, "2.bias": np.zeros(64, "i8")}, dec),
     "vgg: 2.bias is int64, not floating point"),
    (lambda vgg, dec: (vgg, {**dec, "1.bias": np.full(256, np.nan, "f4")}),
     "decoder: 1.bias holds NaN or infinite values"),
])
def test_convert_rejects_other_layouts(damage: Any, message: str) -> None:
    vgg, decoder = damage(*_numpy_states())
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        convert_pytorch_adain(vgg, decoder)


def _one_error_line(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_not_a_pth_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "vgg.pth").write_text("hello, not weights")
    (tmp_path / "decoder.pth").write_text("hello, not weights")
    result = CliRunner().invoke(app, ["import-adain", str(tmp_path / "vgg.pth"),
                                      str(tmp_path / "decoder.pth"),
                                      "-o", str(tmp_path / "out.safetensors")])
    assert result.exit_code == 1
    assert "not a PyTorch .pth file" in _one_error_line(result)
    assert not (tmp_path / "out.safetensors").exists()


class _Exploit:
    """Unpickling this with plain pickle would run ``os.system``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def test_malicious_pickle_is_refused_and_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    bad = tmp_path / "vgg_normalised.pth"
    bad.write_bytes(pickle.dumps({"0.weight": _Exploit(marker)}, protocol=2))
    result = CliRunner().invoke(app, ["import-adain", str(bad), str(bad),
                                      "-o", str(tmp_path / "out.safetensors")])
    assert result.exit_code == 1
    assert str(bad) in _one_error_line(result)
    assert not marker.exists()
    assert not (tmp_path / "out.safetensors").exists()


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["import-adain", str(tmp_path / "nope.pth"),
                                      str(tmp_path / "nope.pth"),
                                      "-o", str(tmp_path / "out.safetensors")])
    assert result.exit_code == 1
    assert "nope.pth: no such file" in _one_error_line(result)


def test_existing_output_needs_overwrite(tmp_path: Path) -> None:
    (tmp_path / "vgg.pth").write_text("x")
    output = tmp_path / "out.safetensors"
    output.write_text("keep me")
    result = CliRunner().invoke(app, ["import-adain", str(tmp_path / "vgg.pth"),
                                      str(tmp_path / "vgg.pth"), "-o", str(output)])
    assert result.exit_code == 1
    assert "already exists; pass --overwrite" in _one_error_line(result)
    assert output.read_text() == "keep me"


def test_legacy_format_files_and_overwrite(adain: dict[str, Any], tmp_path: Path) -> None:
    """The published files predate torch's zip format; --overwrite replaces an old output."""
    torch = adain["torch"]
    vgg, decoder = tmp_path / "vgg_normalised.pth", tmp_path / "decoder.pth"
    torch.save(adain["vgg"].state_dict(), vgg, _use_new_zipfile_serialization=False)
    torch.save(adain["decoder"].state_dict(), decoder, _use_new_zipfile_serialization=False)
    output = tmp_path / "out.safetensors"
    output.write_text("old")
    result = CliRunner().invoke(app, ["import-adain", str(vgg), str(decoder), "-o", str(output),
                                      "--overwrite"])
    assert result.exit_code == 0, result.stderr
    legacy = load_model(output).state_dict()
    for key, value in load_model(adain["output"]).state_dict().items():
        np.testing.assert_array_equal(legacy[key].numpy(), value.numpy(), err_msg=key)


def test_swapped_files_are_named(adain: dict[str, Any], tmp_path: Path) -> None:
    folder = adain["folder"]
    result = CliRunner().invoke(app, ["import-adain", str(folder / "decoder.pth"),
                                      str(folder / "vgg_normalised.pth"),
                                      "-o", str(tmp_path / "out.safetensors")])
    assert result.exit_code == 1
    line = _one_error_line(result)
    assert "decoder.pth: this is pytorch-AdaIN's decoder.pth" in line and "swapped" in line


def test_the_output_never_replaces_an_input(tmp_path: Path) -> None:
    """-o naming one of the .pth files is refused even with --overwrite; it was replaced."""
    vgg = tmp_path / "vgg.pth"
    vgg.write_text("the only copy")
    result = CliRunner().invoke(app, ["import-adain", str(vgg), str(vgg), "-o", str(vgg),
                                      "--overwrite"])
    assert result.exit_code == 1
    assert f"{vgg}: is one of the inputs" in _one_error_line(result)
    assert vgg.read_text() == "the only copy"
