"""Probe: SANet-style attention at block 7 (a zero-started residual on the AdaIN target) and
an identity loss (the painting decoded from its own features), fine-tuning the shipped decoder.

    python training/experiments/attention/prototype.py RUN_DIR ITERATIONS PIXEL_W FEATURE_W \
        [ATTENTION_LR [REMD_W]]

Reads the checkpoint in /tmp/sanet/base (a copy of training/lite2_256); writes RUN_DIR/
state.safetensors every 100 steps and on Ctrl-C, and resumes from it (with a fresh optimiser
when its parameter groups changed). RULE.md says why.
"""

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

import lucid  # noqa: E402
import lucid.nn as nn  # noqa: E402
import lucid.nn.functional as F  # noqa: E402
from lucid import serialization  # noqa: E402
from lucid.models.training import (  # noqa: E402
    Trainer,
    mean_std,
    moments_distance,
    relaxed_emd,
)
from lucid.optim import Adam  # noqa: E402
from lucid.optim.optimizer import flatten_state_dict, unflatten_state_dict  # noqa: E402
from lucid.parallel import data_parallel_backward  # noqa: E402

BASE = "/tmp/sanet/base"


class StyleAttention(nn.Module):
    """Park and Lee's style-attention layer; its output starts at zero."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.query = nn.Conv2d(channels, channels, 1)
        self.key = nn.Conv2d(channels, channels, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, content_norm: lucid.Tensor, style_norm: lucid.Tensor,
                style: lucid.Tensor) -> lucid.Tensor:
        q, k, v = self.query(content_norm), self.key(style_norm), self.value(style)
        b, c, h, w = q.shape
        scores = q.reshape(b, c, h * w).transpose(1, 2) @ k.reshape(b, c, -1)
        weights = F.softmax(scores * (1.0 / math.sqrt(c)), dim=-1)
        mixed = weights @ v.reshape(b, c, -1).transpose(1, 2)
        return self.out(mixed.transpose(1, 2).reshape(b, c, h, w))


def save(run: Path, model, attention, optimizer, rng, iteration: int) -> None:
    arrays = {f"dec.{k}": v for k, v in model.decoder.state_dict().items()}
    arrays.update({f"attn.{k}": v for k, v in attention.state_dict().items()})
    optim_arrays, optim_json = flatten_state_dict(optimizer.state_dict())
    arrays.update({f"optim.{k}": v for k, v in optim_arrays.items()})
    state = {"optim": optim_json, "rng": rng.bit_generator.state, "it": iteration}
    serialization.save(arrays, run / "state.tmp",
                       metadata={"state": json.dumps(state, default=int)})
    (run / "state.tmp").replace(run / "state.safetensors")


def main() -> None:
    run, iterations = Path(sys.argv[1]), int(sys.argv[2])
    weights = {"content": 1.5, "style": 10.0, "id_pixel": float(sys.argv[3]),
               "id_feat": float(sys.argv[4])}
    trainer = Trainer.resume(BASE, crop_size=256, batch_size=4)
    trainer._load_data()
    model = trainer.model
    tap = model.adain_tap
    attention = StyleAttention(288)
    attention_lr = float(sys.argv[5]) if len(sys.argv) > 5 else 1e-4
    remd = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0  # as lucid train's --remd-weight
    groups = [{"params": list(model.decoder.parameters())}]
    groups.append({"params": list(attention.parameters()), "lr": attention_lr})
    params = [p for group in groups for p in group["params"]]
    optimizer = Adam(groups, lr=1e-4)
    rng = np.random.default_rng(1)
    iteration = 0
    state_path = run / "state.safetensors"
    if state_path.exists():
        arrays, meta = serialization.load_with_metadata(state_path)
        model.decoder.load_state_dict({k[4:]: v for k, v in arrays.items()
                                       if k.startswith("dec.")})
        attention.load_state_dict({k[5:]: v for k, v in arrays.items()
                                   if k.startswith("attn.")})
        state = json.loads(meta["state"])
        saved = unflatten_state_dict({k[6:]: v for k, v in arrays.items()
                                      if k.startswith("optim.")}, state["optim"])
        if [g["lr"] for g in saved["param_groups"]] == [1e-4, attention_lr]:
            optimizer.load_state_dict(saved)
        else:
            print("parameter groups changed: a fresh optimiser", flush=True)
        rng.bit_generator.state = state["rng"]
        iteration = state["it"]
    taps = list(dict.fromkeys([*model.style_taps, *model.adain_taps]))

    def losses(content: lucid.Tensor, style: lucid.Tensor):
        def shard(part: slice):
            c, s = content[part], style[part]
            with lucid.no_grad():
                style_features = model.encoder(s, taps)
                content_features = model.content_features(c)
                goal = model.blend(content_features, {t: mean_std(style_features[t])
                                                      for t in content_features})
                c_norm = model.normalize(content_features[tap])
                s_norm = model.normalize(style_features[tap])
            target = dict(goal)
            target[tap] = goal[tap] + attention(c_norm, s_norm, style_features[tap])
            seen = model.encoder(model.decode(target), model.style_taps)
            content_loss = F.mse_loss(seen[tap], goal[tap])
            style_loss = sum(moments_distance(seen[t], style_features[t])
                             for t in model.style_taps)
            if remd:  # the two deepest taps, as lucid train's
                style_loss = style_loss + sum(relaxed_emd(seen[t], style_features[t])
                                              for t in model.style_taps[-2:]) * remd
            own = {t: style_features[t] for t in model.adain_taps}
            own[tap] = style_features[tap] + attention(s_norm, s_norm, style_features[tap])
            painted_back = model.decode(own)
            pixel_loss = F.mse_loss(painted_back, s)
            seen_back = model.encoder(painted_back, model.style_taps)
            feature_loss = sum(F.mse_loss(seen_back[t], style_features[t])
                               for t in model.style_taps)
            total = (content_loss * weights["content"] + style_loss * weights["style"]
                     + pixel_loss * weights["id_pixel"] + feature_loss * weights["id_feat"])
            return total, content_loss, style_loss, pixel_loss, feature_loss
        return shard

    run.mkdir(parents=True, exist_ok=True)
    log = []
    started = time.perf_counter()
    try:
        while iteration < iterations:
            content = lucid.tensor(trainer.content_pool.batch(rng, 4))
            style = lucid.tensor(trainer.style_pool.batch(rng, 4))
            optimizer.zero_grad()
            values = data_parallel_backward(losses(content, style), 4, params, 2)
            optimizer.step()
            iteration += 1
            log.append([iteration, *values])
            if iteration % 10 == 0:
                seconds = (time.perf_counter() - started) / 10
                started = time.perf_counter()
                means = np.mean([row[1:] for row in log[-10:]], 0)
                size = float(np.abs(attention.out.weight.detach().numpy()).mean())
                print(iteration, " ".join(f"{x:.4f}" for x in means), f"{seconds:.2f}s/it",
                      f"out|w| {size:.2e}", flush=True)
            if iteration % 100 == 0 or iteration == iterations:
                save(run, model, attention, optimizer, rng, iteration)
    except KeyboardInterrupt:
        save(run, model, attention, optimizer, rng, iteration)


if __name__ == "__main__":
    main()
