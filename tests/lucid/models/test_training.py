"""`lucid.models.training`: the AdaIN objective trains, and checkpoints resume bit-for-bit."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lucid.models.stylenet import tiny_config
from lucid.models.training import StepReport, Trainer, TrainOptions


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """Six tiny photos (smooth gradients) and six 'paintings' (noisy stripes)."""
    rng = np.random.default_rng(0)
    content, style = tmp_path / "content", tmp_path / "style"
    content.mkdir()
    style.mkdir()
    y, x = np.mgrid[0:40, 0:48] / 48.0
    for i in range(6):
        photo = np.stack([x, y, (x + y) / 2 * (i + 1) / 6], -1)
        Image.fromarray((photo * 255).astype(np.uint8)).save(content / f"c{i}.png")
        stripes = (np.sin(x * (10 + 4 * i) * np.pi) > 0)[..., None] * rng.random(3)
        noisy = np.clip(stripes + rng.normal(0, 0.2, stripes.shape), 0, 1)
        Image.fromarray((noisy * 255).astype(np.uint8)).save(style / f"s{i}.png")
    return content, style


def options(folders: tuple[Path, Path], run_dir: Path, **changes) -> TrainOptions:
    content, style = folders
    base = dict(content_dir=str(content), style_dir=str(style), run_dir=str(run_dir),
                iterations=4, batch_size=2, crop_size=32, lr=1e-3, holdout=0.2,
                checkpoint_every=1000, log_every=1, encoder_weights="", config=tiny_config())
    base.update(changes)
    return TrainOptions(**base)


def test_loss_decreases(folders, tmp_path: Path) -> None:
    reports: list[StepReport] = []
    trainer = Trainer(options(folders, tmp_path / "run", iterations=60, lr=3e-3))
    trainer.run(lambda r: reports.append(r) if isinstance(r, StepReport) else None)
    losses = [r.content_loss + 10 * r.style_loss for r in reports]
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:5])


def test_holdout_is_never_trained_on(folders, tmp_path: Path) -> None:
    trainer = Trainer(options(folders, tmp_path / "run"))
    content_train, style_train = trainer._paths
    assert trainer.content_held and trainer.style_held
    assert not set(trainer.content_held) & set(content_train)
    assert not set(trainer.style_held) & set(style_train)


def test_checkpoint_resumes_bit_for_bit(folders, tmp_path: Path) -> None:
    straight = Trainer(options(folders, tmp_path / "straight", iterations=4))
    straight.run()

    first = Trainer(options(folders, tmp_path / "split", iterations=2))
    first.run()
    resumed = Trainer.resume(tmp_path / "split", iterations=4)
    assert resumed.iteration == 2
    resumed.run()

    expected, got = straight.model.state_dict(), resumed.model.state_dict()
    assert expected.keys() == got.keys()
    for name in expected:
        np.testing.assert_array_equal(expected[name].numpy(), got[name].numpy(), err_msg=name)
    assert straight.ema.keys() == resumed.ema.keys()
    for name in straight.ema:
        np.testing.assert_array_equal(straight.ema[name].numpy(), resumed.ema[name].numpy())


def test_the_moving_average_of_the_weights_is_what_is_exported(folders, tmp_path: Path) -> None:
    """ema = d ema + (1 - d) weights after step t, d = min(decay, (1 + t) / (10 + t)), from
    the first step's weights; export writes the average (or, asked to, the last step's
    weights); decay 0 keeps none, and a run resumed with decay 0 drops the one it had."""
    from lucid.models.store import load_model, read_info

    trainer = Trainer(options(folders, tmp_path / "run", ema_decay=0.75))
    trainer._load_data()
    expected = None
    for step in range(1, 31):  # the cap takes over from step 26
        trainer.step()
        weights = {k: v.numpy().copy() for k, v in trainer.model.decoder.state_dict().items()}
        d = min(0.75, (1 + step) / (10 + step))
        expected = weights if expected is None else {
            k: d * expected[k] + (1 - d) * weights[k] for k in weights}
    for name, value in expected.items():
        np.testing.assert_allclose(trainer.ema[name].numpy(), value, rtol=1e-6, err_msg=name)
        assert not np.array_equal(value, weights[name])
    trainer.export_model(tmp_path / "average.safetensors")
    trainer.export_model(tmp_path / "last.safetensors", average=False)
    average, last = (load_model(tmp_path / f"{n}.safetensors").decoder.state_dict()
                     for n in ("average", "last"))
    for name in expected:
        np.testing.assert_allclose(average[name].numpy(), expected[name], rtol=1e-6)
        np.testing.assert_array_equal(last[name].numpy(), weights[name])
    assert "average" in read_info(tmp_path / "average.safetensors").provenance["weights"]

    plain = Trainer(options(folders, tmp_path / "plain", iterations=2, ema_decay=0.0))
    plain.run()
    assert plain.ema is None and plain.averaged_model() is plain.model
    trainer.save_checkpoint()
    assert Trainer.resume(tmp_path / "run").ema is not None
    assert Trainer.resume(tmp_path / "run", ema_decay=0.0).ema is None
    with pytest.raises(ValueError, match="ema_decay"):
        options(folders, tmp_path / "bad", ema_decay=1.0)


def test_a_batch_in_shards_trains_as_the_whole_batch(folders, tmp_path: Path) -> None:
    runs = []
    for workers in (1, 2):
        trainer = Trainer(options(folders, tmp_path / f"w{workers}", iterations=3, batch_size=4))
        trainer.workers = workers
        reports: list[StepReport] = []
        trainer.run(lambda r, reports=reports: reports.append(r)
                    if isinstance(r, StepReport) else None)
        runs.append((trainer.model.state_dict(), reports))
    (whole, whole_reports), (sharded, sharded_reports) = runs
    for a, b in zip(whole_reports, sharded_reports):
        np.testing.assert_allclose([b.content_loss, b.style_loss],
                                   [a.content_loss, a.style_loss], rtol=1e-4)
    for name in whole:
        np.testing.assert_allclose(sharded[name].numpy(), whole[name].numpy(), rtol=1e-3,
                                   atol=1e-5, err_msg=name)


def test_ctrl_c_writes_a_checkpoint(folders, tmp_path: Path) -> None:
    trainer = Trainer(options(folders, tmp_path / "run", iterations=50))

    def interrupt(report) -> None:
        if isinstance(report, StepReport) and report.iteration == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        trainer.run(interrupt)
    assert Trainer.resume(tmp_path / "run").iteration == 3


def test_ctrl_c_inside_a_step_resumes_as_if_never_interrupted(folders, tmp_path: Path,
                                                              monkeypatch) -> None:
    """Ctrl-C during a step's forward and backward passes (where nearly all its time goes)
    checkpoints the run as it was before that step: its batches are drawn again on resume,
    and the weights come out equal to an uninterrupted run's. (Before, the checkpoint kept
    the data generator one batch ahead, and a resumed run saw other crops.)"""
    import lucid.models.training as training

    straight = Trainer(options(folders, tmp_path / "straight", iterations=4))
    straight.run()
    calls = {"n": 0}
    real_step = training.train_step

    def interrupted_third(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # as the signal lands in the backward pass
        return real_step(*args, **kwargs)

    monkeypatch.setattr(training, "train_step", interrupted_third)
    with pytest.raises(KeyboardInterrupt):
        Trainer(options(folders, tmp_path / "split", iterations=4)).run()
    monkeypatch.setattr(training, "train_step", real_step)
    resumed = Trainer.resume(tmp_path / "split")
    assert resumed.iteration == 2
    resumed.run()
    expected, got = straight.model.state_dict(), resumed.model.state_dict()
    for name in expected:
        np.testing.assert_array_equal(expected[name].numpy(), got[name].numpy(), err_msg=name)


def test_export_writes_a_loadable_model(folders, tmp_path: Path) -> None:
    from lucid.models.store import load_model, read_info

    trainer = Trainer(options(folders, tmp_path / "run", iterations=1))
    trainer.run()
    path = tmp_path / "model.safetensors"
    trainer.export_model(path)
    model = load_model(path)
    assert model.config == tiny_config()
    assert read_info(path).provenance["iterations"] == 1


def test_a_run_moves_between_devices(folders, tmp_path: Path, device: str) -> None:
    """Steps on ``device`` follow the CPU's, and its checkpoint resumes on the CPU."""
    on_cpu = Trainer(options(folders, tmp_path / "cpu", iterations=3))
    on_cpu.run()
    there = Trainer(options(folders, tmp_path / "there", iterations=2), device)
    there.run()
    assert next(there.model.decoder.parameters()).device == device
    back = Trainer.resume(tmp_path / "there", "cpu", iterations=3)
    back.run()
    expected, got = on_cpu.model.state_dict(), back.model.state_dict()
    for name in expected:
        np.testing.assert_allclose(got[name].numpy(), expected[name].numpy(), rtol=1e-3,
                                   atol=1e-4, err_msg=name)


def test_a_graft_adds_skips_and_carries_the_run_on(folders, tmp_path: Path) -> None:
    """Skips grafted onto a run: same losses at the graft (they start at zero), the shared
    weights' optimiser state carried over, then the skips learn and the run resumes."""
    import lucid
    from lucid.models.training import adain_losses

    plain = {**tiny_config(skip=True)}
    plain["decoder"] = {**plain["decoder"],
                        "layers": [s for s in plain["decoder"]["layers"] if s[0] != "skip"]}
    source = Trainer(options(folders, tmp_path / "plain", iterations=3, config=plain))
    source.run()
    grafted = source.graft(tiny_config(skip=True), tmp_path / "skip")
    assert grafted.iteration == 3 and grafted.model.adain_taps == ["block2_expand", "stem"]
    batch = lucid.rand(2, 3, 32, 32), lucid.rand(2, 3, 32, 32)
    with lucid.no_grad():
        for before, after in zip(adain_losses(source.model, *batch),
                                 adain_losses(grafted.model, *batch), strict=True):
            assert before.item() == pytest.approx(after.item(), rel=1e-6)
    first = next(iter(grafted.model.decoder.parameters()))
    shared = grafted.optimizer.state[first]["exp_avg"]
    np.testing.assert_array_equal(
        shared, source.optimizer.state[next(iter(source.model.decoder.parameters()))]["exp_avg"])

    grafted.options.iterations = 6
    grafted.run()
    skip_weight = grafted.model.decoder.skips["stem"].conv.weight.detach().numpy()
    assert np.abs(skip_weight).max() > 0
    assert Trainer.resume(tmp_path / "skip").model.adain_taps == ["block2_expand", "stem"]


def test_a_graft_adds_residual_blocks(folders, tmp_path: Path) -> None:
    """Residual blocks grafted onto a run start as the identity (same losses), then learn,
    and the run resumes with them."""
    import lucid
    from lucid.models.training import adain_losses

    source = Trainer(options(folders, tmp_path / "plain", iterations=3,
                             config=tiny_config(skip=True)))
    source.run()
    config = tiny_config(skip=True)
    config["decoder"]["layers"].insert(1, ["residual", 2])
    grafted = source.graft(config, tmp_path / "residual")
    batch = lucid.rand(2, 3, 32, 32), lucid.rand(2, 3, 32, 32)
    with lucid.no_grad():
        for before, after in zip(adain_losses(source.model, *batch),
                                 adain_losses(grafted.model, *batch), strict=True):
            assert before.item() == pytest.approx(after.item(), rel=1e-6)
    grafted.options.iterations = 5
    grafted.run()
    assert np.abs(grafted.model.decoder.residuals["0"].conv2.weight.detach().numpy()).max() > 0
    resumed = Trainer.resume(tmp_path / "residual")
    assert resumed.iteration == 5 and resumed.model.decoder.reach == grafted.model.decoder.reach
    before = tiny_config(skip=True)  # a second block ahead of the first would take its name
    before["decoder"]["layers"][1:1] = [["residual", 1], ["residual", 2]]
    with pytest.raises(ValueError, match="only be added after the existing ones"):
        resumed.graft(before, tmp_path / "ahead")


def test_a_graft_reaches_a_deeper_level(folders, tmp_path: Path) -> None:
    """A skip from deeper than the run's encoder: the deeper trunk comes from a trunk file,
    the shared trunk stays the run's own, the picture is unchanged at the graft, the new level
    joins the style loss, and the optimiser state follows each weight by name although the
    new skip comes first among the skips."""
    import lucid
    from lucid import serialization
    from lucid.models.encoders import build_encoder
    from lucid.models.training import adain_losses

    source = Trainer(options(folders, tmp_path / "skip", iterations=3,
                             config=tiny_config(skip=True)))
    source.run()
    deep = tiny_config(deep=True)
    lucid.manual_seed(5)
    trunk = build_encoder(deep["encoder"]).state_dict()
    serialization.save({k: v.numpy() for k, v in trunk.items()}, tmp_path / "trunk.safetensors")
    source_ema = {k: v.numpy().copy() for k, v in source.ema.items()}
    grafted = source.graft(deep, tmp_path / "deep", tmp_path / "trunk.safetensors")
    assert grafted.model.style_taps[-1] == "block5_expand"
    for name, value in grafted.model.encoder.state_dict().items():
        expected = source.model.encoder.state_dict().get(name, trunk[name])
        np.testing.assert_array_equal(value.numpy(), expected.numpy(), err_msg=name)
    batch = lucid.rand(2, 3, 32, 32), lucid.rand(2, 3, 32, 32)
    with lucid.no_grad():
        targets = source.model.blend(source.model.content_features(batch[0]),
                                     source.model.style_statistics(batch[1]))
        deep_targets = grafted.model.blend(grafted.model.content_features(batch[0]),
                                           grafted.model.style_statistics(batch[1]))
        np.testing.assert_array_equal(grafted.model.decode(deep_targets).numpy(),
                                      source.model.decode(targets).numpy())
        before, after = adain_losses(source.model, *batch), adain_losses(grafted.model, *batch)
    assert before[0].item() == pytest.approx(after[0].item(), rel=1e-6)
    assert after[1].item() > before[1].item()  # one more style term
    old = dict(source.model.decoder.named_parameters())
    for name, parameter in grafted.model.decoder.named_parameters():
        if name in old:
            np.testing.assert_array_equal(grafted.optimizer.state[parameter]["exp_avg"],
                                          source.optimizer.state[old[name]]["exp_avg"])
        else:
            assert parameter not in grafted.optimizer.state
    grafted.options.iterations = 5
    grafted.run()
    for name, value in source_ema.items():  # the graft's average is its own
        np.testing.assert_array_equal(source.ema[name].numpy(), value)
    assert set(grafted.ema) == set(dict(grafted.model.decoder.named_parameters()))
    assert "block5_expand" in Trainer.resume(tmp_path / "deep").model.adain_taps


@pytest.mark.parametrize(("variant", "channels"), [("lite1", 240), ("lite2", 288)])
def test_a_trunk_file_sets_the_architecture(tmp_path: Path, variant: str,
                                            channels: int) -> None:
    """`lucid train --encoder-weights` builds the default architecture on the file's variant."""
    import json

    from lucid import serialization
    from lucid.models.stylenet import StyleNet
    from lucid.models.training import trunk_config

    path = tmp_path / "trunk.safetensors"
    serialization.save({"x": np.zeros(1, np.float32)}, path, metadata={
        "lucid.encoder": json.dumps({"type": "efficientnet_lite", "variant": variant})})
    config = trunk_config(path)
    assert config["encoder"]["variant"] == variant
    assert config["decoder"]["in_channels"] == channels
    assert StyleNet(config).encoder.out_channels["block7_expand"] == channels
    serialization.save({"x": np.zeros(1, np.float32)}, path, metadata={
        "lucid.encoder": json.dumps({"type": "vgg19_normalised"})})
    with pytest.raises(ValueError, match="not an EfficientNet-Lite trunk"):
        trunk_config(path)


def test_fine_tuning_trains_the_encoder_while_a_frozen_critic_judges(folders,
                                                                     tmp_path: Path) -> None:
    """With encoder_lr the encoder learns (at its own rate on the run's schedule), the critic
    stays the trunk it started from and takes the losses (the same losses as the plain
    objective while the two are equal), the exported model carries the tuned encoder's
    moving average, and the run resumes bit-for-bit."""
    import lucid
    from lucid import serialization
    from lucid.models.stylenet import StyleNet
    from lucid.models.training import adain_losses

    # a trunk file unlike the seeded encoder, which is gone when the run resumes
    trunk = tmp_path / "trunk.safetensors"
    serialization.save({k: v.numpy() * 1.5 for k, v in
                        StyleNet(tiny_config()).encoder.state_dict().items()}, trunk)
    recipe = dict(encoder_lr=2e-3, encoder_weights=str(trunk))
    straight = Trainer(options(folders, tmp_path / "straight", **recipe))
    straight.workers = 2
    start = {k: v.numpy().copy() for k, v in straight.model.encoder.state_dict().items()}
    batch = lucid.rand(2, 3, 32, 32), lucid.rand(2, 3, 32, 32)
    with lucid.no_grad():
        for plain, judged in zip(adain_losses(straight.model, *batch),
                                 adain_losses(straight.model, *batch, straight.critic),
                                 strict=True):
            assert plain.item() == pytest.approx(judged.item(), rel=1e-6)
    assert [g["lr"] for g in straight.optimizer.param_groups] == [1e-3, 2e-3]
    straight.run()
    tuned = straight.model.encoder.state_dict()
    assert any(not np.array_equal(tuned[k].numpy(), start[k]) for k in start)
    for name, value in straight.critic.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), start[name], err_msg=name)
    assert any(k.startswith("encoder.") for k in straight.ema)

    first = Trainer(options(folders, tmp_path / "split", iterations=2, **recipe))
    first.workers = 2
    first.run()
    trunk.unlink()
    resumed = Trainer.resume(tmp_path / "split", iterations=4)
    resumed.workers = 2
    resumed.run()
    for mine, theirs in ((straight.model, resumed.model), (straight.critic, resumed.critic)):
        for name, value in mine.state_dict().items():
            np.testing.assert_array_equal(theirs.state_dict()[name].numpy(), value.numpy(),
                                          err_msg=name)
    assert straight.ema.keys() == resumed.ema.keys()
    for name, value in straight.ema.items():
        np.testing.assert_array_equal(resumed.ema[name].numpy(), value.numpy(), err_msg=name)

    from lucid.models.store import load_model, read_info

    path = tmp_path / "tuned.safetensors"
    straight.export_model(path)
    exported = load_model(path).encoder.state_dict()
    for name in start:
        np.testing.assert_allclose(exported[name].numpy(),
                                   straight.ema[f"encoder.{name}"].numpy(), err_msg=name)
    assert "fine-tuned" in read_info(path).provenance["encoder"]
    with pytest.raises(ValueError, match="encoder_lr"):
        options(folders, tmp_path / "bad", encoder_lr=-1.0)


def test_a_run_carried_on_with_its_encoder_fine_tuned(folders, tmp_path: Path) -> None:
    """fine_tuned: the first step moves the decoder exactly as the run's own next step would
    (the encoder's optimiser state starts empty, the critic is the encoder as it was), the
    encoder's rate is on the run's schedule, and the new run resumes."""
    source = Trainer(options(folders, tmp_path / "plain", iterations=3, lr_decay=0.1))
    source.run()
    tuned = source.fine_tuned(2e-3, tmp_path / "tuned")
    assert tuned.iteration == 3 and tuned.options.encoder_lr == 2e-3
    assert [g["lr"] for g in tuned.optimizer.param_groups] == pytest.approx(
        [1e-3 / 1.3, 2e-3 / 1.3])
    with pytest.raises(ValueError, match="already"):
        tuned.fine_tuned(1e-3, tmp_path / "again")

    source.options.iterations = tuned.options.iterations = 4
    before = {k: v.numpy().copy() for k, v in source.model.encoder.state_dict().items()}
    average = {k: v.numpy().copy() for k, v in tuned.ema.items()}
    source.run()
    for name, value in average.items():  # each run keeps its own moving average
        np.testing.assert_array_equal(tuned.ema[name].numpy(), value, err_msg=name)
    tuned.run()
    for name, value in source.model.decoder.state_dict().items():
        np.testing.assert_allclose(tuned.model.decoder.state_dict()[name].numpy(),
                                   value.numpy(), rtol=1e-5, atol=1e-7, err_msg=name)
    moved = tuned.model.encoder.state_dict()
    assert any(not np.array_equal(moved[k].numpy(), before[k]) for k in before)
    resumed = Trainer.resume(tmp_path / "tuned", iterations=5)
    assert resumed.critic is not None and resumed.iteration == 4
    resumed.run()


def with_a_style_term(run: TrainOptions, **weight: float) -> tuple[Trainer, float, dict, dict]:
    """A trainer for ``run``, and for one held-in batch of 2: how much the style loss grows
    with the term ``weight`` (a field of ``StyleTerms``), and the output's and the
    painting's features at the style taps."""
    import lucid
    from lucid.models.training import StyleTerms, adain_losses

    trainer = Trainer(run)
    trainer._load_data()
    rng = np.random.default_rng(0)
    content = lucid.tensor(trainer.content_pool.batch(rng, 2))
    style = lucid.tensor(trainer.style_pool.batch(rng, 2))
    model = trainer.model
    with lucid.no_grad():
        _, plain = adain_losses(model, content, style)
        _, with_term = adain_losses(model, content, style, terms=StyleTerms(**weight))
        target = model.blend(model.content_features(content), model.style_statistics(style))
        output_features = model.encoder(model.decode(target), model.style_taps)
        style_features = model.encoder(style, model.style_taps)
    return trainer, with_term.item() - plain.item(), output_features, style_features


def switched_on_when_resumed(trainer: Trainer, tmp_path: Path, name: str) -> None:
    """Run ``trainer`` (to its 1 iteration), resume it to 2 with the loss weight ``name`` at
    0.5: the run takes it, and the exported model's recipe records it."""
    from lucid.models.store import read_info

    trainer.run()
    resumed = Trainer.resume(tmp_path / "run", iterations=2, **{name: 0.5})
    assert getattr(resumed.options, name) == 0.5
    resumed.run()
    resumed.export_model(tmp_path / "model.safetensors")
    assert read_info(tmp_path / "model.safetensors").provenance["recipe"][name] == 0.5


def test_the_gram_term_adds_the_gram_matrices_distance(folders, tmp_path: Path) -> None:
    """With ``gram_weight`` the style loss gains, at each style tap, that weight times the
    mean squared difference of the two Gram matrices (channel products over C x H x W),
    computed here in numpy; 0 leaves the AdaIN loss as it was; a run can switch it on when
    it resumes, and the model's recipe records it."""
    trainer, added, output_features, style_features = with_a_style_term(
        options(folders, tmp_path / "run", iterations=1), gram=3.0)
    model = trainer.model

    def gram(features: np.ndarray) -> np.ndarray:
        b, c, h, w = features.shape
        flat = features.reshape(b, c, h * w).astype(np.float64)
        return flat @ flat.transpose(0, 2, 1) / (c * h * w)

    expected = sum(np.mean((gram(output_features[t].numpy()) - gram(style_features[t].numpy()))
                           ** 2) for t in model.style_taps)
    np.testing.assert_allclose(added, 3.0 * expected, rtol=1e-3)
    assert expected > 0

    switched_on_when_resumed(trainer, tmp_path, "gram_weight")


def test_relaxed_emd_is_the_nearest_neighbour_distance_and_its_gradient() -> None:
    """The larger of the two directions' mean nearest cosine distance, computed in numpy;
    0 between a picture and itself, whatever the positions' order; the gradient checks
    against finite differences (float64)."""
    import lucid
    from lucid.models.training import relaxed_emd
    from lucid.testing import gradcheck

    rng = np.random.default_rng(3)
    a = np.maximum(rng.standard_normal((2, 5, 3, 4)), 0) + 0.1
    b = np.maximum(rng.standard_normal((2, 5, 2, 3)), 0) + 0.1

    def unit(x: np.ndarray) -> np.ndarray:
        points = x.reshape(x.shape[0], x.shape[1], -1).transpose(0, 2, 1)
        return points / (np.linalg.norm(points, axis=2, keepdims=True) + 1e-6)

    cost = 1 - unit(a) @ unit(b).transpose(0, 2, 1)
    expected = np.maximum(cost.min(2).mean(1), cost.min(1).mean(1)).mean()
    np.testing.assert_allclose(relaxed_emd(lucid.tensor(a), lucid.tensor(b)).item(), expected,
                               rtol=1e-6)
    assert expected > 0.05
    shuffled = a.reshape(2, 5, 12)[:, :, rng.permutation(12)].reshape(2, 5, 4, 3)
    self_distance = relaxed_emd(lucid.tensor(a), lucid.tensor(shuffled)).item()
    assert self_distance == pytest.approx(0, abs=1e-5)  # the norms' 1e-6 guard
    gradcheck(relaxed_emd, (lucid.tensor(a, requires_grad=True),
                            lucid.tensor(b, requires_grad=True)))


def test_relaxed_emd_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    import lucid
    from lucid.models.training import relaxed_emd

    def reference(x, y):  # noqa: ANN001, ANN202 - torch tensors
        p = x.flatten(2).transpose(1, 2)
        q = y.flatten(2).transpose(1, 2)
        p = p / (p.norm(dim=2, keepdim=True) + 1e-6)
        q = q / (q.norm(dim=2, keepdim=True) + 1e-6)
        cost = 1 - p @ q.transpose(1, 2)
        return torch.maximum(cost.min(2).values.mean(1), cost.min(1).values.mean(1)).mean()

    rng = np.random.default_rng(4)
    a = np.maximum(rng.standard_normal((3, 8, 4, 4)), 0).astype(np.float32)
    b = np.maximum(rng.standard_normal((3, 8, 5, 3)), 0).astype(np.float32)
    x, y = lucid.tensor(a, requires_grad=True), lucid.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    value, expected = relaxed_emd(x, y), reference(tx, ty)
    value.backward()
    expected.backward()
    np.testing.assert_allclose(value.item(), expected.item(), rtol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-6)
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), atol=1e-6)


def test_the_remd_term_matches_at_the_two_deepest_taps(folders, tmp_path: Path) -> None:
    """With ``remd_weight`` the style loss gains that weight times the relaxed EMD at the
    two deepest style taps only; a run can switch it on when it resumes, and the model's
    recipe records it."""
    from lucid.models.training import relaxed_emd

    trainer, added, output_features, style_features = with_a_style_term(
        options(folders, tmp_path / "run", iterations=1, config=tiny_config(deep=True)),
        remd=2.0)
    model = trainer.model
    assert len(model.style_taps) == 3
    expected = sum(relaxed_emd(output_features[t], style_features[t]).item()
                   for t in model.style_taps[-2:])
    np.testing.assert_allclose(added, 2.0 * expected, rtol=1e-4)
    assert expected > 0

    switched_on_when_resumed(trainer, tmp_path, "remd_weight")


def test_the_coarse_term_is_the_style_loss_at_half_size(folders, tmp_path: Path) -> None:
    """With ``coarse_weight`` the style loss gains that weight times the AdaIN style loss
    (means and standard deviations, computed here in numpy) between the output and the
    painting each averaged over 2x2 pixels; a run can switch it on when it resumes, and the
    model's recipe records it."""
    import lucid

    trainer, added, _, _ = with_a_style_term(
        options(folders, tmp_path / "run", iterations=1), coarse=2.0)
    model = trainer.model
    rng = np.random.default_rng(0)  # the batch with_a_style_term drew
    content = lucid.tensor(trainer.content_pool.batch(rng, 2))
    style = trainer.style_pool.batch(rng, 2)

    def halved(pictures: np.ndarray) -> lucid.Tensor:
        b, c, h, w = pictures.shape
        return lucid.tensor(pictures.reshape(b, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5)))

    with lucid.no_grad():
        target = model.blend(model.content_features(content),
                             model.style_statistics(lucid.tensor(style)))
        output = model.decode(target).numpy()
        ours = model.encoder(halved(output), model.style_taps)
        theirs = model.encoder(halved(style), model.style_taps)

    def moments(features: lucid.Tensor) -> tuple[np.ndarray, np.ndarray]:
        flat = features.numpy().astype(np.float64)
        flat = flat.reshape(*flat.shape[:2], -1)
        return flat.mean(axis=2), np.sqrt(flat.var(axis=2, ddof=1) + 1e-5)

    expected = 0.0
    for tap in model.style_taps:
        (mean, std), (ref_mean, ref_std) = moments(ours[tap]), moments(theirs[tap])
        expected += np.mean((mean - ref_mean) ** 2) + np.mean((std - ref_std) ** 2)
    np.testing.assert_allclose(added, 2.0 * expected, rtol=1e-3)
    assert expected > 0

    switched_on_when_resumed(trainer, tmp_path, "coarse_weight")


def test_the_identity_term_paints_the_painting_back(folders, tmp_path: Path) -> None:
    """With ``identity_weight`` the style loss gains that weight times SANet's identity loss:
    the painting decoded from its own features at the AdaIN layers, against the painting, in
    the style taps' features and (``IDENTITY_PIXEL_WEIGHT`` times) in pixels, computed here in
    numpy; a run can switch it on when it resumes, and the model's recipe records it."""
    import lucid
    from lucid.models.training import IDENTITY_PIXEL_WEIGHT

    trainer, added, _, _ = with_a_style_term(
        options(folders, tmp_path / "run", iterations=1, config=tiny_config(skip=True)),
        identity=2.0)
    model = trainer.model
    assert model.decoder.skip_taps  # the painting's own features reach the skips too
    rng = np.random.default_rng(0)  # the batch with_a_style_term drew
    trainer.content_pool.batch(rng, 2)
    style = trainer.style_pool.batch(rng, 2)
    with lucid.no_grad():
        own = model.content_features(lucid.tensor(style))
        painted_back = model.decode(own).numpy().astype(np.float64)
        ours = model.encoder(lucid.tensor(painted_back.astype(np.float32)), model.style_taps)
        theirs = model.encoder(lucid.tensor(style), model.style_taps)
    expected = sum(np.mean((ours[t].numpy().astype(np.float64)
                            - theirs[t].numpy().astype(np.float64)) ** 2)
                   for t in model.style_taps)
    expected += IDENTITY_PIXEL_WEIGHT * np.mean((painted_back - style) ** 2)
    np.testing.assert_allclose(added, 2.0 * expected, rtol=1e-3)
    assert expected > 0

    switched_on_when_resumed(trainer, tmp_path, "identity_weight")


def test_a_model_whose_weights_are_not_numbers_is_not_written(folders, tmp_path: Path) -> None:
    """Export refuses weights holding NaN (a file load_model would refuse), naming the file."""
    trainer = Trainer(options(folders, tmp_path / "run"))
    weight = next(iter(trainer.model.decoder.parameters()))
    weight.data = weight.data * float("nan")
    with pytest.raises(ValueError, match="model.safetensors: not written"):
        trainer.export_model(tmp_path / "model.safetensors", average=False)
    assert not (tmp_path / "model.safetensors").exists()


def test_a_diverging_run_stops_without_a_checkpoint(folders, tmp_path: Path) -> None:
    """The first loss that is not a number stops the run with ValueError; no checkpoint of
    the broken weights is written (the run's last sound checkpoint stays)."""
    trainer = Trainer(options(folders, tmp_path / "run", iterations=50, lr=1e30))
    with pytest.raises(ValueError, match="diverged at iteration"):
        trainer.run()
    assert trainer.iteration < 10
    assert not (tmp_path / "run" / "checkpoint.safetensors").exists()
