"""`lucid.models.inference`: sizes, blends, masks, and tiles that agree with one pass."""

from pathlib import Path

import numpy as np
import pytest

import lucid
from lucid.models.inference import plan_tiles, style_statistics, stylize
from lucid.models.stylenet import StyleNet, tiny_config


def tiny_model(skip: bool, deep: bool = False, **config) -> StyleNet:
    """The tiny network (random weights); with ``skip``, AdaIN at two strides (``deep``: three,
    one deeper than the decoder's input) and the skips' 1x1 convolutions given random weights
    too (they start at zero, a no-op)."""
    lucid.manual_seed(3)
    model = StyleNet({**tiny_config(skip, deep), **config}).eval()
    for name, parameter in model.decoder.named_parameters():
        if name.startswith("skips."):
            lucid.nn.init.normal_(parameter, std=0.1)
    last = model.decoder.layers[len(model.decoder.layers) - 1]
    lucid.nn.init.constant_(last.bias, 0.5)  # mid-grey, so that clamping hides nothing
    return model


@pytest.fixture(scope="module", params=[False, True], ids=["plain", "skip"])
def model(request: pytest.FixtureRequest) -> StyleNet:
    return tiny_model(request.param)


def picture(height: int, width: int, seed: int = 0) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    rng = np.random.default_rng(seed)
    base = np.stack([np.sin(7 * x + seed) * 0.5 + 0.5, y, (x * y * 5) % 1], -1)
    return np.clip(base + rng.normal(0, 0.05, base.shape), 0, 1).astype(np.float32)


@pytest.mark.parametrize("size", [(17, 23), (32, 32), (5, 40), (1, 1)])
def test_output_has_the_content_size(model: StyleNet, size) -> None:
    out = stylize(model, picture(*size), [style_statistics(model, picture(20, 20, 1))])
    assert out.shape == (*size, 3) and out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 1


def test_alpha_zero_differs_from_alpha_one(model: StyleNet) -> None:
    content, style = picture(24, 24), style_statistics(model, picture(24, 24, 5))
    full = stylize(model, content, [style], alpha=1.0)
    none = stylize(model, content, [style], alpha=0.0)
    half = stylize(model, content, [style], alpha=0.5)
    assert not np.allclose(full, none)
    assert np.abs(half - none).mean() < np.abs(full - none).mean()


def test_weights_select_and_blend_styles(model: StyleNet) -> None:
    content = picture(24, 24)
    first, second = (style_statistics(model, picture(24, 24, s)) for s in (1, 2))
    only_first = stylize(model, content, [first])
    np.testing.assert_allclose(stylize(model, content, [first, second], weights=[1, 0]),
                               only_first, atol=1e-6)
    np.testing.assert_allclose(stylize(model, content, [first, second], weights=[3, 3]),
                               stylize(model, content, [first, second], weights=[0.5, 0.5]),
                               atol=1e-6)


def test_mask_picks_a_style_per_region(model: StyleNet) -> None:
    content = picture(32, 32)
    first, second = (style_statistics(model, picture(24, 24, s)) for s in (1, 2))
    ones = stylize(model, content, [first, second], mask=np.ones((32, 32)))
    zeros = stylize(model, content, [first, second], mask=np.zeros((32, 32)))
    np.testing.assert_allclose(ones, stylize(model, content, [first]), atol=1e-5)
    np.testing.assert_allclose(zeros, stylize(model, content, [second]), atol=1e-5)


def test_bad_arguments_are_refused(model: StyleNet) -> None:
    content, style = picture(16, 16), style_statistics(model, picture(16, 16))
    with pytest.raises(ValueError, match="alpha"):
        stylize(model, content, [style], alpha=1.5)
    with pytest.raises(ValueError, match="two styles"):
        stylize(model, content, [style], mask=np.ones((16, 16)))
    with pytest.raises(ValueError, match="weights"):
        stylize(model, content, [style, style], weights=[1])
    with pytest.raises(ValueError, match="at least one style"):
        stylize(model, content, [])


def test_tiles_cover_the_image_once() -> None:
    tiles = plan_tiles(100, 70, 8, 32, 16)
    covered = np.zeros((100, 70), int)
    for t in tiles:
        covered[t.rows[0]:t.rows[1], t.cols[0]:t.cols[1]] += 1
        assert all(v % 8 == 0 or v in (100, 70) for v in (*t.window_rows, *t.window_cols))
        assert t.window_rows[0] <= t.rows[0] and t.window_rows[1] >= t.rows[1]
    assert (covered == 1).all()


@pytest.mark.parametrize(("skip", "deep"), [(False, False), (True, False), (True, True)],
                         ids=["plain", "skip", "deep"])
@pytest.mark.parametrize("content_std", ["biased", "unbiased"])
def test_tiled_output_agrees_with_one_pass(content_std: str, skip: bool, deep: bool) -> None:
    model = tiny_model(skip, deep, adain={"content_std": content_std})
    content = picture(90, 130)
    style = style_statistics(model, picture(40, 40, 7))
    whole = stylize(model, content, [style])
    progress = []
    tiled = stylize(model, content, [style], tile_size=32,
                    on_tile=lambda done, total: progress.append((done, total)))
    assert progress[-1][0] == progress[-1][1] > 2
    assert np.abs(whole - tiled).max() < 2e-3


def test_default_model_paints_no_frame_along_the_edges() -> None:
    """On a flat photo, neighbouring rows and columns at the edges stay alike (the encoder's
    zero padding, too close to the picture, draws lines there)."""
    from lucid.models.store import load_model
    from lucid_cli.images import load_image

    model = load_model("default")
    content = np.empty((96, 128, 3), np.float32)
    content[...] = (0.35, 0.35, 0.45)
    style = load_image(Path(__file__).parents[3] / "samples/style/starry_night.jpg").rgb[::4, ::4]
    out = stylize(model, content, [style_statistics(model, style)])
    rows, cols = out.mean(axis=(1, 2)), out.mean(axis=(0, 2))
    for edge in (rows[:24], rows[-24:], cols[:24], cols[-24:]):
        assert np.abs(np.diff(edge)).max() < 0.01


@pytest.mark.parametrize("skip", [False, True], ids=["plain", "skip"])
def test_a_float16_model_paints_like_its_float32_self(skip: bool) -> None:
    """Inputs follow the model's dtype (``--half``); results stay float32 images."""
    model = tiny_model(skip)
    rng = np.random.default_rng(0)
    content = rng.random((20, 24, 3), dtype=np.float32)
    style = rng.random((16, 16, 3), dtype=np.float32)
    full = stylize(model, content, [style_statistics(model, style)])
    model.to(lucid.float16)
    half = stylize(model, content, [style_statistics(model, style)])
    assert half.dtype == np.float32
    np.testing.assert_allclose(half, full, atol=2e-2)


def test_a_skip_starts_as_a_no_op() -> None:
    """A skip grafted onto a trained decoder starts at zero: what enters through it changes
    nothing until training gives it weights."""
    lucid.manual_seed(3)
    model = StyleNet(tiny_config(skip=True)).eval()
    assert model.adain_taps == ["block2_expand", "stem"]
    with lucid.no_grad():
        targets = model.content_features(lucid.rand(1, 3, 16, 16))
        other = {**targets, "stem": lucid.rand(*targets["stem"].shape)}
        np.testing.assert_array_equal(model.decode(targets).numpy(), model.decode(other).numpy())
        for name, parameter in model.decoder.named_parameters():
            if name.startswith("skips."):
                lucid.nn.init.normal_(parameter, std=0.1)
        assert not np.allclose(model.decode(targets).numpy(), model.decode(other).numpy())


def test_a_deeper_skip_is_upsampled_into_the_decoder() -> None:
    """A skip from a coarser level adds its 1x1 convolution repeated over each cell's pixels
    (nearest upsampling), and refuses a size that does not divide the decoder's."""
    from lucid.models.decoder import Skip

    lucid.manual_seed(0)
    skip = Skip("deep", 6, 4)
    lucid.nn.init.normal_(skip.conv.weight)
    lucid.nn.init.normal_(skip.conv.bias)
    x, deep = lucid.rand(1, 4, 6, 10), lucid.rand(1, 6, 3, 5)
    added = skip.conv(deep).detach().numpy().repeat(2, axis=2).repeat(2, axis=3)
    np.testing.assert_allclose(skip(x, deep).detach().numpy(), x.numpy() + added, rtol=1e-6)
    with pytest.raises(ValueError, match="does not divide"):
        skip(lucid.rand(1, 4, 7, 10), deep)


def test_skips_at_the_same_place_all_join() -> None:
    from lucid.models.decoder import Decoder

    lucid.manual_seed(0)
    decoder = Decoder(4, [["conv", 4], ["skip", "a", 2], ["skip", "b", 3], ["conv", 3, "none"]])
    x, a, b = lucid.rand(1, 4, 5, 5), lucid.rand(1, 2, 5, 5), lucid.rand(1, 3, 5, 5)
    with lucid.no_grad():
        base = decoder(x, {"a": a, "b": b}).numpy()
        for tap in "ab":
            lucid.nn.init.normal_(decoder.skips[tap].conv.weight)
            changed = decoder(x, {"a": a, "b": b}).numpy()
            assert not np.allclose(changed, base), tap
            base = changed
    with pytest.raises(ValueError, match="twice"):
        Decoder(4, [["skip", "a", 2], ["skip", "a", 2], ["conv", 3, "none"]])


def test_decoding_only_the_picture_changes_nothing(model: StyleNet) -> None:
    """The decoder runs on the picture plus its reach, not on the reflected margin: the
    result equals decoding the whole padded canvas and cropping (the definition)."""
    from lucid.models.inference import border_for

    content, style = picture(37, 45), style_statistics(model, picture(24, 24, 5))
    top, bottom, left, right = border_for(model, 37, 45)
    padded = np.pad(content, ((top, bottom), (left, right), (0, 0)), mode="reflect")
    with lucid.no_grad():
        canvas = model.decode(model.blend(
            model.content_features(lucid.tensor(padded.transpose(2, 0, 1)[None].copy())), style))
    want = canvas.clamp(0, 1).numpy()[0].transpose(1, 2, 0)[top : top + 37, left : left + 45]
    assert model.decoder.reach > 0
    np.testing.assert_allclose(stylize(model, content, [style]), want, rtol=0, atol=1e-6)


def test_decoder_reach() -> None:
    """Three 3x3 convs at strides 4, 2 and 1 of the output: 4 + 2 + 1 pixels."""
    from lucid.models.decoder import Decoder

    decoder = Decoder(8, [["conv", 8], ["up"], ["conv", 8], ["up"], ["conv", 3, "none"]])
    assert decoder.reach == 7


def test_residual_blocks_widen_the_reach_as_counted() -> None:
    """A residual block of two 3x3 convolutions with dilation 2 at half the output's
    resolution adds 2 x 2 x 2 pixels: an input cell changes exactly the output pixels within
    ``reach`` of its own, none further."""
    from lucid.models.decoder import Decoder

    lucid.manual_seed(0)
    decoder = Decoder(4, [["conv", 4], ["residual", 2], ["up"], ["conv", 3, "none"]])
    assert decoder.reach == 2 + 8 + 1
    lucid.nn.init.normal_(decoder.residuals["0"].conv2.weight)
    x = lucid.rand(1, 4, 20, 20)
    bumped = x.numpy().copy()
    bumped[0, :, 10, 10] += 1.0
    with lucid.no_grad():
        change = np.abs(decoder(lucid.tensor(bumped)).numpy() - decoder(x).numpy()).max(axis=(0, 1))
    rows = np.flatnonzero(change.max(axis=1) > 1e-6)
    assert (rows.min(), rows.max()) == (20 - decoder.reach, 21 + decoder.reach)
    with pytest.raises(ValueError, match="before a layer"):
        Decoder(4, [["conv", 4], ["residual", 1]])


def test_content_and_style_encoded_on_two_threads_paint_the_same(monkeypatch) -> None:
    import lucid.models.stylenet as stylenet

    net = StyleNet(tiny_config(skip=True)).eval()
    content, style = lucid.rand(2, 3, 32, 40), lucid.rand(2, 3, 24, 24)
    results = []
    for workers in (1, 2):
        monkeypatch.setattr(stylenet, "default_workers", lambda device, k=workers: k)
        with lucid.no_grad():
            results.append(net(content, style, alpha=0.7).numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=0, atol=1e-6)


@pytest.mark.parametrize("skip", [False, True], ids=["plain", "skip"])
def test_alpha_mixes_back_the_picture_it_is_told(skip: bool) -> None:
    """``alpha_towards``: alpha < 1 mixes that picture's features back in, not the content's:
    at alpha 0 the result is that picture's reconstruction; the content's own is the default;
    in tiles as in one pass."""
    model = tiny_model(skip)
    content, photo = picture(90, 130, 1), picture(90, 130, 2)
    style = style_statistics(model, picture(40, 40, 7))
    assert np.array_equal(stylize(model, content, [style], alpha=0.0, alpha_towards=photo),
                          stylize(model, photo, [style], alpha=0.0))
    assert np.array_equal(stylize(model, content, [style], alpha=0.4, alpha_towards=content),
                          stylize(model, content, [style], alpha=0.4))
    halfway = stylize(model, content, [style], alpha=0.4, alpha_towards=photo)
    assert np.abs(halfway - stylize(model, content, [style], alpha=0.4)).max() > 1e-3
    tiled = stylize(model, content, [style], alpha=0.4, alpha_towards=photo, tile_size=32)
    assert np.abs(halfway - tiled).max() < 2e-3
    with pytest.raises(ValueError, match="same size"):
        stylize(model, content, [style], alpha=0.5, alpha_towards=photo[:, :-1])
