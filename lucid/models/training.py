"""Training the decoder with the AdaIN objective (Huang and Belongie 2017).

The encoder is frozen (unless ``TrainOptions.encoder_lr`` fine-tunes it, a frozen copy of the
trunk it started from then taking the losses). Each step: AdaIN target ``t`` from a batch of
content and style crops, ``g = decoder(t)``, then ``content loss = mse(encoder(g), t)`` at the
AdaIN layer and ``style loss = sum over taps of mse(mean) + mse(std)`` between ``encoder(g)``
and the style. The trainer reports progress through a callback and never prints; checkpoints
hold everything needed to resume bit-for-bit (weights, their moving average, optimiser,
schedule, both random generators).
"""

from __future__ import annotations

import copy
import json
import math
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

import lucid
import lucid.nn.functional as F
from lucid import Tensor, nn, serialization
from lucid.backend import Device, DeviceLike, as_device
from lucid.models.data import (
    IMAGE_SUFFIXES,
    ImagePool,
    list_images,
    load_all,
    split_holdout,
)
from lucid.models.encoders import lite_blocks
from lucid.models.store import PACKAGE_WEIGHTS, nonfinite_weights, save_model
from lucid.models.stylenet import StyleNet
from lucid.optim import Adam, Optimizer
from lucid.optim.lr_scheduler import InverseDecayLR
from lucid.optim.optimizer import flatten_state_dict, unflatten_state_dict
from lucid.parallel import data_parallel_backward, default_workers

LITE2_ENCODER_WEIGHTS = PACKAGE_WEIGHTS / "lite2_encoder.safetensors"

# AdaIN at three depths: block 7's expansion feeds the decoder, block 4's (stride 4) joins it
# through a skip after the first upsampling and block 1's (stride 2) after the second
# (docs/MODEL.md: each won on every measure)
DEFAULT_DECODER = [["conv", 256], ["up"], ["skip", "block4_expand", 144], ["conv", 128],
                   ["conv", 128], ["up"], ["skip", "block1_expand", 96], ["conv", 64],
                   ["conv", 64], ["up"], ["conv", 32], ["conv", 3, "none"]]


def lite_config(variant: str = "lite2",
                decoder_layers: list[list[Any]] | None = None) -> dict[str, Any]:
    """The default architecture: an EfficientNet-Lite trunk (Lite2 unless ``variant`` says
    otherwise) to stride 8, AdaIN at block 7's expansion and, through decoder skips, at block
    4's and block 1's."""
    return {
        "format": 1,
        "encoder": {"type": "efficientnet_lite", "variant": variant, "padding_mode": "zeros",
                    "taps": ["stem", "block1_expand", "block4_expand", "block7_expand"],
                    "adain_tap": "block7_expand", "stride": 8},
        "decoder": {"in_channels": lite_blocks(variant)[7][1], "padding_mode": "reflect",
                    "layers": decoder_layers or DEFAULT_DECODER},
    }


def trunk_config(path: str | Path) -> dict[str, Any]:
    """The default architecture for the trunk in an encoder weights file
    (``tools/convert_lite2.py``), whose variant its metadata names."""
    encoder = json.loads(serialization.load_metadata(path).get("lucid.encoder", "{}"))
    if encoder.get("type", "efficientnet_lite") != "efficientnet_lite":
        raise ValueError(f"{path}: a {encoder['type']} encoder, not an EfficientNet-Lite trunk")
    return lite_config(encoder.get("variant", "lite2"))


@dataclass
class TrainOptions:
    """Everything that defines a training run (stored in its checkpoints).

    ``ema_decay``: the run also keeps an exponential moving average of the decoder's weights
    (Polyak averaging; 0.999 averages over about the last thousand steps), and a model is
    exported with the average, which wanders less from checkpoint to checkpoint than the
    weights Adam leaves after its last step. Early in a run the decay is lower, ``min(decay,
    (1 + t) / (10 + t))`` at step t, so a short run's average is not its first steps'
    weights. 0 exports the last step's weights.

    ``encoder_lr`` > 0 fine-tunes the encoder that feeds the decoder, at that learning rate (on
    the same schedule as ``lr``), while a frozen copy of the trunk it started from
    (``encoder_weights``) takes the losses, so that the objective stays the published one: the
    decoder may paint from features of its own, the painting is judged by ImageNet's. 0 (the
    default) keeps the encoder frozen, as the paper does.

    ``gram_weight`` > 0 adds to the style loss, at each style tap, that weight times the
    squared distance between the output's and the painting's Gram matrices (the channels'
    correlations, as Gatys et al. and fast-neural-style match them), which per-channel means
    and standard deviations leave free. 0 (the default) is the AdaIN paper's loss.

    ``remd_weight`` > 0 adds to the style loss, at the two deepest style taps, that weight
    times the relaxed earth mover's distance between the output's and the painting's feature
    vectors (``relaxed_emd``; Kolkin et al.'s STROTSS): a nearest-neighbour match of
    whole feature vectors, each a patch of the picture as the encoder sees it, where moments
    and Gram matrices match only statistics of the channels. 0 (the default) leaves it out.

    ``coarse_weight`` > 0 adds to the style loss that weight times the AdaIN style loss
    between the output and the painting both halved in size (2x2 averages): the same taps
    then see the pictures' structures at twice their scale, the painting's larger marks
    inside the encoder's reach. 0 (the default) leaves it out.

    ``identity_weight`` > 0 adds to the style loss that weight times the identity loss of Park
    and Lee's SANet: the painting decoded from its own features at every AdaIN layer (what
    AdaIN of the painting with itself gives) compared with the painting, as the style taps'
    features (mean squared error, summed over the taps) plus ``IDENTITY_PIXEL_WEIGHT`` times
    the pixels' mean squared error. The decoder learns to paint a painting back, marks and
    all, and keeps more of the photo too (docs/MODEL.md: 0.03, inside the style weight 10,
    gives the features 0.3 and the pixels 50). 0 (the default) leaves it out.
    """

    content_dir: str
    style_dir: str
    run_dir: str = "runs/default"
    iterations: int = 20000
    batch_size: int = 8
    crop_size: int = 128
    lr: float = 1e-4
    lr_decay: float = 5e-5
    content_weight: float = 1.0
    style_weight: float = 10.0
    holdout: float = 0.05
    seed: int = 0
    checkpoint_every: int = 500
    log_every: int = 10
    ema_decay: float = 0.999
    encoder_lr: float = 0.0
    gram_weight: float = 0.0
    remd_weight: float = 0.0
    coarse_weight: float = 0.0
    identity_weight: float = 0.0
    encoder_weights: str = str(LITE2_ENCODER_WEIGHTS)
    config: dict[str, Any] = field(default_factory=lite_config)

    def __post_init__(self) -> None:
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.encoder_lr < 0:
            raise ValueError(f"encoder_lr must be non-negative, got {self.encoder_lr}")
        for name in STYLE_TERM_WEIGHTS:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be non-negative, got {getattr(self, name)}")

    @property
    def style_terms(self) -> StyleTerms:
        return StyleTerms(*(getattr(self, name) for name in STYLE_TERM_WEIGHTS))


@dataclass(frozen=True)
class StyleTerms:
    """The terms a style loss adds to the AdaIN paper's, each at its weight (0 leaves it
    out): ``TrainOptions``'s ``gram_weight``, ``remd_weight``, ``coarse_weight`` and
    ``identity_weight``."""

    gram: float = 0.0
    remd: float = 0.0
    coarse: float = 0.0
    identity: float = 0.0


#: ``TrainOptions``' fields that weigh the ``StyleTerms``, in their order.
STYLE_TERM_WEIGHTS = tuple(f"{term.name}_weight" for term in fields(StyleTerms))

#: The pixels' share of the identity loss against the style taps' features (``TrainOptions``).
IDENTITY_PIXEL_WEIGHT = 500 / 3


@dataclass(frozen=True)
class StepReport:
    """Sent to the callback every ``log_every`` iterations."""

    iteration: int
    iterations: int
    content_loss: float
    style_loss: float
    lr: float
    seconds_per_step: float


@dataclass(frozen=True)
class CheckpointReport:
    """Sent to the callback after each checkpoint."""

    iteration: int
    path: Path
    sheet: Path | None


Callback = Callable[[StepReport | CheckpointReport], None]


def mean_std(features: Tensor, eps: float = 1e-5) -> tuple[Tensor, Tensor]:
    return F.calc_mean_std(features, eps)


def gram(features: Tensor) -> Tensor:
    """Each image's Gram matrix, (B, C, C): the channels' products averaged over the
    C x H x W features (Johnson et al.'s normalisation)."""
    b, c, h, w = features.shape
    flat = features.reshape(b, c, h * w)
    return (flat @ flat.transpose(1, 2)) / (c * h * w)


def relaxed_emd(features: Tensor, reference: Tensor, eps: float = 1e-6) -> Tensor:
    """The relaxed earth mover's distance between two batches of feature maps (B, C, H, W),
    each position's C-vector a point: the cosine distance from each point of one to its
    nearest in the other, averaged, and the larger of the two directions; the batch's mean.

    Kolkin, Salavon and Shakhnarovich, "Style Transfer by Relaxed Optimal Transport and
    Self-Similarity" (CVPR 2019). The cost matrix is (H W) x (H' W') per image.
    """
    b, c = features.shape[:2]
    points = features.reshape(b, c, -1).transpose(1, 2)
    others = reference.reshape(b, c, -1).transpose(1, 2)
    points = points / (points.norm(dim=2, keepdim=True) + eps)
    others = others / (others.norm(dim=2, keepdim=True) + eps)
    cost = 1 - points @ others.transpose(1, 2)
    return lucid.maximum(cost.min(2)[0].mean(1), cost.min(1)[0].mean(1)).mean()


def adain_losses(model: StyleNet, content: Tensor, style: Tensor,
                 critic: nn.Module | None = None,
                 terms: StyleTerms = StyleTerms()) -> tuple[Tensor, Tensor]:
    """(content loss, style loss) of the AdaIN objective for one batch.

    The content loss is taken at the main AdaIN layer only, also for a model with skips:
    they are a way for the decoder to keep more of the photo, not a second objective.
    ``critic``, when given, takes the losses in place of the model's encoder (which is then
    being fine-tuned and feeds the decoder with gradients): the content loss's target is the
    AdaIN target in the critic's features. ``terms`` adds the Gram matrices' distance, the
    relaxed earth mover's distance, the coarse scale's loss and the identity loss to the style
    loss (``TrainOptions``).
    """
    judge = model.encoder if critic is None else critic
    taps = list(dict.fromkeys([*model.style_taps, *model.adain_taps]))
    with lucid.no_grad():
        style_features = judge(style, taps)
        features = model.content_features(content) if critic is None else critic(
            content, [model.adain_tap])
        goal = model.blend(features, {tap: mean_std(style_features[tap]) for tap in features})
    target = goal if critic is None else model.blend(model.content_features(content),
                                                     model.style_statistics(style))
    output = model.decode(target)
    output_features = judge(output, model.style_taps)
    content_loss = F.mse_loss(output_features[model.adain_tap], goal[model.adain_tap])
    style_loss = None
    matched = model.style_taps[-2:] if terms.remd else []  # the taps run shallow to deep
    for tap in model.style_taps:
        term = moments_distance(output_features[tap], style_features[tap])
        if terms.gram:
            term = term + F.mse_loss(gram(output_features[tap]),
                                     gram(style_features[tap])) * terms.gram
        if tap in matched:
            term = term + relaxed_emd(output_features[tap], style_features[tap]) * terms.remd
        style_loss = term if style_loss is None else style_loss + term
    if terms.coarse:
        with lucid.no_grad():
            coarse_style = judge(F.avg_pool2d(style, 2), model.style_taps)
        coarse_output = judge(F.avg_pool2d(output, 2), model.style_taps)
        style_loss = style_loss + sum(
            moments_distance(coarse_output[tap], coarse_style[tap])
            for tap in model.style_taps) * terms.coarse
    if terms.identity:
        own = ({tap: style_features[tap] for tap in model.adain_taps} if critic is None
               else model.content_features(style))  # the tuned encoder feeds the decoder
        painted_back = model.decode(own)
        seen_back = judge(painted_back, model.style_taps)
        identity = sum(F.mse_loss(seen_back[tap], style_features[tap])
                       for tap in model.style_taps)
        identity = identity + F.mse_loss(painted_back, style) * IDENTITY_PIXEL_WEIGHT
        style_loss = style_loss + identity * terms.identity
    return content_loss, style_loss


def moments_distance(features: Tensor, reference: Tensor) -> Tensor:
    """The AdaIN paper's style distance at one tap: the squared distances of the per-channel
    means and of the standard deviations, each averaged over batch and channels."""
    mean, std = mean_std(features)
    ref_mean, ref_std = mean_std(reference)
    return F.mse_loss(mean, ref_mean) + F.mse_loss(std, ref_std)


def train_step(model: StyleNet, optimizer: Optimizer, content: Tensor, style: Tensor,
               content_weight: float = 1.0, style_weight: float = 10.0,
               workers: int = 1, critic: nn.Module | None = None,
               terms: StyleTerms = StyleTerms()) -> tuple[float, float]:
    """One optimisation step on a batch; returns (content loss, style loss).

    The optimiser's parameters are the ones trained (the decoder's, and the encoder's when it
    is fine-tuned with a ``critic``: ``adain_losses``). ``workers`` > 1 splits the batch into
    that many shards differentiated on as many threads
    (``lucid.parallel.data_parallel_backward``): the same step up to rounding, on every core.
    """

    def losses(part: slice) -> tuple[Tensor, Tensor, Tensor]:
        content_loss, style_loss = adain_losses(model, content[part], style[part], critic,
                                                terms)
        return content_loss * content_weight + style_loss * style_weight, content_loss, style_loss

    optimizer.zero_grad()
    params = [p for group in optimizer.param_groups for p in group["params"]]
    _, content_loss, style_loss = data_parallel_backward(losses, content.shape[0], params,
                                                         workers)
    optimizer.step()
    return content_loss, style_loss


class Trainer:
    """Runs (or resumes) a training run in ``options.run_dir`` on ``device``.

    The device is where this session computes, not part of the recipe: a run checkpointed on a
    GPU resumes on the CPU and back (checkpoints hold numpy arrays). Crops are cut on the CPU
    by the same generator either way, so the data a run sees does not depend on the device.
    ``load_encoder=False`` skips ``options.encoder_weights`` (resume does: the checkpoint holds
    the encoder). ``images`` (content files, style files) replaces the training split of the
    options' folders for this session only, with nothing held out: a burst on a machine that
    has a packed subset of that split (``tools/train_burst.py``). ``ema`` is the moving average
    of the trained weights (``options.ema_decay``): None until a run that keeps one steps.
    ``critic`` is the frozen trunk that takes the losses of a run that fine-tunes its encoder
    (``options.encoder_lr``), None otherwise.
    """

    CHECKPOINT = "checkpoint.safetensors"

    def __init__(self, options: TrainOptions, device: DeviceLike = "cpu",
                 load_encoder: bool = True,
                 images: tuple[list[Path], list[Path]] | None = None) -> None:
        self.options = options
        self.device: Device = as_device(device)
        self.run_dir = Path(options.run_dir)
        lucid.manual_seed(options.seed)
        self.rng = np.random.default_rng(options.seed)
        self.model = StyleNet(options.config)
        if load_encoder and options.encoder_weights:
            _load_trunk(self.model.encoder, Path(options.encoder_weights))
        self.critic: nn.Module | None = None
        groups: list[dict[str, Any]] = [{"params": list(self.model.decoder.parameters())}]
        if options.encoder_lr > 0:  # the trunk as it starts (resume and fine_tuned load theirs)
            self.critic = copy.deepcopy(self.model.encoder).to(self.device)
            self.model.encoder.requires_grad_(True)
            groups.append({"params": list(self.model.encoder.parameters()),
                           "lr": options.encoder_lr})
        self.model.to(self.device)
        self.optimizer = Adam(groups, lr=options.lr)
        self.scheduler = InverseDecayLR(self.optimizer, lr_decay=options.lr_decay)
        self.iteration = 0
        self.elapsed = 0.0
        self.workers = default_workers(self.device)
        if images is None:
            content_train, self.content_held = split_holdout(
                _images_in(options.content_dir), options.holdout)
            style_train, self.style_held = split_holdout(
                _images_in(options.style_dir), options.holdout)
            self._paths = (content_train, style_train)
        else:
            self._paths, self.content_held, self.style_held = images, [], []
        self.content_pool: ImagePool | None = None
        self.style_pool: ImagePool | None = None
        self.ema: dict[str, Tensor] | None = None  # set at the first step, or by resume

    def _trained(self) -> list[tuple[str, Tensor]]:
        """The weights training changes, named as in their moving average: the decoder's, and
        the encoder's (``encoder.`` before the name) when the run fine-tunes it."""
        named = list(self.model.decoder.named_parameters())
        if self.critic is not None:
            named += [(f"encoder.{name}", p) for name, p in self.model.encoder.named_parameters()]
        return named

    def _updates(self) -> int:
        """How many parameter updates Adam has made (its per-parameter step counts)."""
        return sum(int(state.get("step", 0)) for state in self.optimizer.state.values())

    def _update_ema(self) -> None:
        """Fold the weights of the step just taken (number ``self.iteration + 1``) into their
        moving average, kept in float32 whatever the weights' precision."""
        steps = self.iteration + 1
        decay = min(self.options.ema_decay, (1.0 + steps) / (10.0 + steps))
        parameters = self._trained()
        if self.ema is None:
            self.ema = {name: _float32_copy(p) for name, p in parameters}
            return
        for name, p in parameters:
            average = self.ema[name].data
            average *= decay
            average += (1.0 - decay) * p.data

    def averaged_model(self) -> StyleNet:
        """The network with the moving average of the trained weights (the trained network
        itself when the run keeps none)."""
        if self.ema is None:
            return self.model
        model = copy.deepcopy(self.model)
        encoder = {k[len("encoder."):]: v for k, v in self.ema.items() if k.startswith("encoder.")}
        model.decoder.load_state_dict({k: v for k, v in self.ema.items()
                                       if not k.startswith("encoder.")})
        if encoder:
            model.encoder.load_state_dict(encoder)
        return model

    def _load_data(self) -> None:
        """Decode the training images, and check the held-out ones (the sample sheets') too:
        any file that cannot be read is named now, before the first step."""
        if self.content_pool is None:
            content_train, style_train = self._paths
            images = load_all([*content_train, *style_train, *self.content_held,
                               *self.style_held], self.options.crop_size)
            split = len(content_train)
            self.content_pool = ImagePool(images[:split], self.options.crop_size)
            self.style_pool = ImagePool(images[split : split + len(style_train)],
                                        self.options.crop_size)

    # ---- checkpoints ------------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        return self.run_dir / self.CHECKPOINT

    def save_checkpoint(self) -> Path:
        """Write everything needed to resume, atomically."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        arrays = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        arrays.update({f"ema.{k}": v for k, v in (self.ema or {}).items()})
        if self.critic is not None:  # a tuned run resumes with the critic it had, file or not
            arrays.update({f"critic.{k}": v for k, v in self.critic.state_dict().items()})
        optim_arrays, optim_json = flatten_state_dict(self.optimizer.state_dict())
        arrays.update({f"optim.{k}": v for k, v in optim_arrays.items()})
        state = {
            "iteration": self.iteration,
            "elapsed": self.elapsed,
            "data_rng": self.rng.bit_generator.state,
            "lucid_rng": lucid.get_rng_state(),
            "optimizer": optim_json,
            "scheduler": self.scheduler.state_dict(),
        }
        serialization.save(arrays, self.checkpoint_path, metadata={
            "train.options": json.dumps(asdict(self.options)),
            "train.state": json.dumps(state, default=_json_int),
        })
        return self.checkpoint_path

    #: What a run may change when it resumes: its length, the loss weights, the crops, how
    #: often it checkpoints and logs, the weights' average. The rest (the data and its split,
    #: the seed, the learning-rate schedule, the encoder) is what the run is.
    RESUMABLE = frozenset({"iterations", "batch_size", "crop_size", "content_weight",
                           "style_weight", *STYLE_TERM_WEIGHTS, "checkpoint_every",
                           "log_every", "ema_decay"})

    @classmethod
    def stored_options(cls, run_dir: str | Path) -> TrainOptions:
        """The options of the run checkpointed in ``run_dir`` (its weights are not read)."""
        path = Path(run_dir) / cls.CHECKPOINT
        metadata = serialization.load_metadata(path)
        try:
            return TrainOptions(**json.loads(metadata["train.options"]))
        except (KeyError, TypeError, ValueError) as error:
            raise _not_a_checkpoint(path, error) from error

    @classmethod
    def resume(cls, run_dir: str | Path, device: DeviceLike = "cpu",
               images: tuple[list[Path], list[Path]] | None = None,
               **overrides: Any) -> Trainer:
        """A trainer in the exact state of the checkpoint in ``run_dir``, on ``device``,
        carried on with ``overrides`` of its options: any of :attr:`RESUMABLE`; others only
        at the run's own values (a ``ValueError`` names the rest)."""
        path = Path(run_dir) / cls.CHECKPOINT
        stored = asdict(cls.stored_options(run_dir))
        fixed = sorted(name for name, value in overrides.items()
                       if name not in cls.RESUMABLE and value != stored.get(name, value))
        if fixed:
            raise ValueError(f"{run_dir}: a resumed run keeps its own "
                             + ", ".join(f"{name} ({stored[name]})" for name in fixed)
                             + "; train a new run to change "
                             + ("it" if len(fixed) == 1 else "them"))
        arrays, metadata = serialization.load_with_metadata(path)
        options = TrainOptions(**{**json.loads(metadata["train.options"]), **overrides})
        options.run_dir = str(run_dir)
        trainer = cls(options, device, load_encoder=False, images=images)
        try:
            trainer._restore(arrays, metadata)
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise _not_a_checkpoint(path, error) from error
        return trainer

    def _restore(self, arrays: dict[str, Any], metadata: dict[str, str]) -> None:
        """The state of a checkpoint's ``arrays`` and ``metadata`` (:meth:`resume`)."""
        state = json.loads(metadata["train.state"])
        self.model.load_state_dict(
            {k[len("model."):]: v for k, v in arrays.items() if k.startswith("model.")})
        ema = {k[len("ema."):]: v for k, v in arrays.items() if k.startswith("ema.")}
        if ema and self.options.ema_decay > 0:  # runs from before the average start one now
            self.ema = {k: lucid.tensor(v, device=self.device) for k, v in ema.items()}
        if self.critic is not None:
            critic = {k[len("critic."):]: v for k, v in arrays.items() if k.startswith("critic.")}
            if critic:
                self.critic.load_state_dict(critic)
            elif self.options.encoder_weights:  # a checkpoint from before the critic was saved
                _load_trunk(self.critic, Path(self.options.encoder_weights))
        self.optimizer.load_state_dict(unflatten_state_dict(
            {k[len("optim."):]: v for k, v in arrays.items() if k.startswith("optim.")},
            state["optimizer"]))
        self.scheduler.load_state_dict(state["scheduler"])
        self.rng.bit_generator.state = state["data_rng"]
        lucid.set_rng_state(state["lucid_rng"])
        self.iteration = int(state["iteration"])
        self.elapsed = float(state["elapsed"])

    def graft(self, config: dict[str, Any], run_dir: str | Path,
              encoder_weights: str | Path | None = None) -> Trainer:
        """This run, carried on in ``run_dir`` with a decoder that has skips or residual
        blocks added.

        Everything the two architectures share comes over: weights, their optimiser state
        (matched by name), the schedule, both random generators, the iteration count. The skips
        and blocks start at zero, so the grafted network paints exactly as this one until
        training gives them weights. A skip from a deeper tap than the encoder reaches needs
        the deeper trunk: ``encoder_weights``, a trunk file (``tools/convert_lite2.py --deepest``).
        """
        if self.critic is not None:
            raise ValueError("a run that fine-tunes its encoder cannot be grafted")
        options = replace(self.options, config=config, run_dir=str(run_dir))
        if encoder_weights is not None:
            options.encoder_weights = str(encoder_weights)
        grafted = self._successor(options, load_encoder=encoder_weights is not None)
        old_names = [name for name, _ in self.model.decoder.named_parameters()]
        new_names = [name for name, _ in grafted.model.decoder.named_parameters()]
        old_places = self.model.decoder.placements()
        new_places = grafted.model.decoder.placements()
        if any(new_places.get(name) != at for name, at in old_places.items()):
            raise ValueError("residual blocks can only be added after the existing ones")
        result = grafted.model.load_state_dict(self.model.state_dict(), strict=False)
        new_weights = ("decoder.skips.", "decoder.residuals.")
        if encoder_weights:
            new_weights += ("encoder.",)
        if (result.unexpected_keys or not set(old_names) <= set(new_names)
                or not all(k.startswith(new_weights) for k in result.missing_keys)):
            raise ValueError("the new decoder must keep the old one's layers and add skips "
                             "or residual blocks")
        state = self.optimizer.state_dict()
        index = {name: i for i, name in enumerate(new_names)}
        state["state"] = {index[old_names[int(i)]]: values for i, values in state["state"].items()}
        state["param_groups"][0]["params"] = list(range(len(new_names)))
        grafted.optimizer.load_state_dict(state)
        grafted.scheduler.load_state_dict(self.scheduler.state_dict())
        if self.ema is not None:
            grafted.ema = {name: _float32_copy(self.ema.get(name, p))
                           for name, p in grafted.model.decoder.named_parameters()}
        return grafted

    def fine_tuned(self, encoder_lr: float, run_dir: str | Path) -> Trainer:
        """This run, carried on in ``run_dir`` with its encoder fine-tuned as well, at
        ``encoder_lr`` (``TrainOptions.encoder_lr``) on the run's schedule, as if it had had
        that rate from the start; the frozen critic is the encoder as it is now.

        Everything comes over: weights and their moving average, the decoder's optimiser state,
        the schedule, both random generators, the iteration count. The encoder's optimiser
        state starts empty, so the first step paints exactly as this run's would.
        """
        if self.critic is not None:
            raise ValueError("this run fine-tunes its encoder already")
        options = replace(self.options, encoder_lr=encoder_lr, run_dir=str(run_dir))
        tuned = self._successor(options, load_encoder=False)
        tuned.model.load_state_dict(self.model.state_dict())
        tuned.critic.load_state_dict(self.model.encoder.state_dict())
        # the schedule multiplies every group's starting rate by the same factor
        state, schedule = self.optimizer.state_dict(), self.scheduler.state_dict()
        factor = state["param_groups"][0]["lr"] / state["param_groups"][0]["initial_lr"]
        state["param_groups"].append({**tuned.optimizer.state_dict()["param_groups"][1],
                                      "lr": encoder_lr * factor})
        tuned.optimizer.load_state_dict(state)
        schedule["base_lrs"] = [*schedule["base_lrs"], encoder_lr]
        schedule["_last_lr"] = [group["lr"] for group in tuned.optimizer.param_groups]
        tuned.scheduler.load_state_dict(schedule)
        if self.ema is not None:
            tuned.ema = {name: _float32_copy(self.ema.get(name, p)) for name, p in tuned._trained()}
        return tuned

    def _successor(self, options: TrainOptions, load_encoder: bool) -> Trainer:
        """A new trainer for ``options`` that carries on this run's random generators,
        iteration count and time (the caller brings the weights and optimiser over)."""
        lucid_rng = lucid.get_rng_state()
        successor = Trainer(options, self.device, load_encoder=load_encoder)
        lucid.set_rng_state(lucid_rng)
        successor.rng.bit_generator.state = self.rng.bit_generator.state
        successor.iteration, successor.elapsed = self.iteration, self.elapsed
        return successor

    def export_model(self, path: str | Path, average: bool = True) -> None:
        """Write the trained network as a model file ``lucid stylize --model`` can use: with
        the moving average of its trained weights unless ``average`` is False."""
        options = self.options
        averaged = average and self.ema is not None
        model = self.averaged_model() if averaged else self.model
        broken = nonfinite_weights(model.state_dict())
        if broken:  # a file no one could paint with (load_model refuses it)
            raise ValueError(f"{path}: not written: {len(broken)} weight tensor(s) hold NaN or "
                             f"infinite values (the run diverged by step {self.iteration}: "
                             "train again with a lower learning rate or loss weights)")
        save_model(model, path, provenance={
            "trained_by": f"lucid train (lucid {lucid.__version__})",
            "iterations": self.iteration,
            "train_seconds": round(self.elapsed),
            "hardware": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "data": {"content": options.content_dir, "style": options.style_dir,
                     "holdout": options.holdout,
                     "trained_on": {"content": len(self._paths[0]), "style": len(self._paths[1])},
                     "held_out": {"content": len(self.content_held),
                                  "style": len(self.style_held)}},
            "recipe": {k: getattr(options, k) for k in (
                "batch_size", "crop_size", "lr", "lr_decay", "content_weight", "style_weight",
                *STYLE_TERM_WEIGHTS, "seed")},
            "weights": (f"moving average of the trained weights, decay {options.ema_decay}"
                        if averaged else "the last step's"),
            "encoder": "EfficientNet-Lite2 (ImageNet, Google, Apache-2.0)" + (
                f", fine-tuned by lucid train (encoder_lr {options.encoder_lr})"
                if self.critic is not None else ""),
        })

    # ---- the loop ---------------------------------------------------------------------------
    def step(self) -> tuple[float, float]:
        """One optimisation step; returns (content loss, style loss).

        Ctrl-C during the step's forward and backward passes (nearly all of its time) leaves
        the random generators as they were before it, so that the checkpoint it triggers
        resumes with the same batches as a run never interrupted; during the few
        milliseconds of the weights' update it cannot."""
        options = self.options
        before = self.rng.bit_generator.state, lucid.get_rng_state(), self._updates()
        try:
            content = lucid.tensor(self.content_pool.batch(self.rng, options.batch_size),
                                   device=self.device)
            style = lucid.tensor(self.style_pool.batch(self.rng, options.batch_size),
                                 device=self.device)
            losses = train_step(self.model, self.optimizer, content, style,
                                options.content_weight, options.style_weight, self.workers,
                                self.critic, options.style_terms)
        except KeyboardInterrupt:
            if self._updates() == before[2]:  # not inside the update: nothing has moved
                self.rng.bit_generator.state = before[0]
                lucid.set_rng_state(before[1])
            raise
        if options.ema_decay > 0:
            self._update_ema()
        self.scheduler.step()
        self.iteration += 1
        return losses

    def run(self, callback: Callback | None = None,
            on_checkpoint: Callable[[Trainer], Path | None] | None = None) -> None:
        """Train until ``options.iterations``; checkpoint every N steps and on Ctrl-C.

        Raises:
            ValueError: the loss stopped being finite (the run diverged); no checkpoint is
                written then, and the last one is kept."""
        self._load_data()
        self.model.train()
        options = self.options
        window_start, window_steps = time.perf_counter(), 0
        try:
            while self.iteration < options.iterations:
                started = time.perf_counter()
                content_loss, style_loss = self.step()
                if not math.isfinite(content_loss + style_loss):
                    raise ValueError(
                        f"training diverged at iteration {self.iteration} (the loss is not a "
                        "number): lower the learning rate or the loss weights; the last "
                        "checkpoint is kept")
                self.elapsed += time.perf_counter() - started
                window_steps += 1
                if callback and (self.iteration % options.log_every == 0
                                 or self.iteration == options.iterations):
                    now = time.perf_counter()
                    callback(StepReport(self.iteration, options.iterations, content_loss,
                                        style_loss, self.scheduler.get_last_lr()[0],
                                        (now - window_start) / window_steps))
                    window_start, window_steps = now, 0
                if (self.iteration % options.checkpoint_every == 0
                        or self.iteration == options.iterations):
                    self._checkpoint(callback, on_checkpoint)
        except KeyboardInterrupt:
            self._checkpoint(callback, on_checkpoint)
            raise

    def _checkpoint(self, callback: Callback | None,
                    on_checkpoint: Callable[[Trainer], Path | None] | None) -> None:
        path = self.save_checkpoint()
        sheet = on_checkpoint(self) if on_checkpoint else None
        if callback:
            callback(CheckpointReport(self.iteration, path, sheet))


def _images_in(folder: str) -> list[Path]:
    """:func:`list_images`, refusing a folder with none."""
    paths = list_images(folder)
    if not paths:
        raise ValueError(f"{folder}: no training images ({', '.join(IMAGE_SUFFIXES)})")
    return paths


def _not_a_checkpoint(path: Path, error: Exception) -> ValueError:
    """The one-line error for a file that is not a checkpoint of this trainer (another
    kind of safetensors file, another version's, one damaged), naming it."""
    if isinstance(error, KeyError) and error.args:
        key = str(error.args[0])
        reason = key if " " in key else f"no {key!r}"
    elif isinstance(error, RuntimeError):  # load_state_dict's list of every mismatch
        reason = "its weights do not match the architecture in its options"
    else:
        reason = (str(error).splitlines() or [type(error).__name__])[0]
    return ValueError(f"{path}: not a training checkpoint, or a damaged one ({reason})")


def _load_trunk(encoder: nn.Module, path: Path) -> None:
    """An encoder's weights from a trunk file, which may hold deeper blocks than this encoder
    uses; every weight the encoder has must be in it, though."""
    result = encoder.load_state_dict(serialization.load(path), strict=False)
    if result.missing_keys:
        raise ValueError(f"{path}: encoder weights missing {', '.join(result.missing_keys)}")


def _float32_copy(tensor: Tensor) -> Tensor:
    return Tensor._wrap(tensor.data.astype("float32", copy=True))


def _json_int(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
