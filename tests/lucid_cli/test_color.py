"""Tests for lucid_cli.color: moment matching, luminance transfer, Reinhard baseline."""

from __future__ import annotations

import numpy as np
import pytest

from lucid_cli.color import (
    lab_statistics,
    lab_to_rgb,
    match_color_histogram,
    recolor,
    reinhard_color_transfer,
    rgb_to_lab,
    rgb_to_ycbcr,
    transfer_luminance,
    ycbcr_to_rgb,
)


def _mid_image(seed: int, h: int = 24, w: int = 32, lo: float = 0.25, hi: float = 0.75):
    """Random image whose values stay away from 0/1 so transfers do not clip much."""
    rng = np.random.default_rng(seed)
    return rng.uniform(lo, hi, (h, w, 3)).astype(np.float32)


def _correlated(seed: int, mean, mix, h: int = 24, w: int = 32) -> np.ndarray:
    """Image with a chosen mean and correlated channels, kept inside [0, 1]."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((h * w, 3))
    x = z @ np.asarray(mix).T + np.asarray(mean)
    assert x.min() > 0 and x.max() < 1  # fixture sanity: no clipping
    return x.reshape(h, w, 3).astype(np.float32)


def _stats(img: np.ndarray):
    x = img.reshape(-1, 3).astype(np.float64)
    return x.mean(axis=0), np.cov(x, rowvar=False, bias=True)


# --------------------------------------------------------------------------- colour spaces


def test_ycbcr_round_trip_and_grey_has_neutral_chroma() -> None:
    img = _mid_image(0, lo=0.0, hi=1.0)
    np.testing.assert_allclose(ycbcr_to_rgb(rgb_to_ycbcr(img)), img, atol=1e-6)
    ycc = rgb_to_ycbcr(np.full((2, 2, 3), 0.3))
    np.testing.assert_allclose(ycc[..., 0], 0.3, atol=1e-12)
    np.testing.assert_allclose(ycc[..., 1:], 0.5, atol=1e-12)
    red = rgb_to_ycbcr(np.array([[[1.0, 0.0, 0.0]]]))[0, 0]
    np.testing.assert_allclose(red, [0.299, 0.5 - 0.299 / 1.772, 1.0], atol=1e-9)


def test_lab_known_values_and_round_trip() -> None:
    lab = rgb_to_lab(np.array([[[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]]))[0]
    np.testing.assert_allclose(lab[0], [100, 0, 0], atol=1e-6)
    np.testing.assert_allclose(lab[1], [0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(lab[2], [53.24, 80.09, 67.20], atol=0.05)  # sRGB red
    img = _mid_image(1, lo=0.0, hi=1.0)
    np.testing.assert_allclose(lab_to_rgb(rgb_to_lab(img)), img, atol=1e-6)


# --------------------------------------------------------------------------- histogram matching


def test_match_color_histogram_matches_mean_and_covariance() -> None:
    src = _correlated(2, [0.3, 0.5, 0.6], [[0.06, 0.0, 0.0], [0.03, 0.04, 0.0], [0.0, 0.0, 0.02]])
    tgt = _correlated(3, [0.6, 0.4, 0.35], [[0.05, 0.0, 0.0], [-0.02, 0.03, 0.0],
                                             [0.01, 0.01, 0.04]], h=16, w=20)
    out = match_color_histogram(src, tgt)
    assert out.shape == src.shape and out.dtype == np.float32
    mu_o, cov_o = _stats(out)
    mu_t, cov_t = _stats(tgt)
    np.testing.assert_allclose(mu_o, mu_t, atol=2e-3)
    np.testing.assert_allclose(cov_o, cov_t, atol=2e-4)  # entries are ~1e-3..3e-3
    # It really changed something: source stats were far from the target's.
    assert np.abs(_stats(src)[0] - mu_t).max() > 0.2


def test_match_color_histogram_identity_and_clip() -> None:
    img = _mid_image(4)
    np.testing.assert_allclose(match_color_histogram(img, img), img, atol=1e-3)
    wild = match_color_histogram(_mid_image(5), _mid_image(6, lo=0.0, hi=1.0) * 3 - 1)
    assert wild.min() >= 0.0 and wild.max() <= 1.0


def test_match_color_histogram_flat_source_becomes_target_mean() -> None:
    flat = np.full((8, 8, 3), 0.4, np.float32)
    tgt = _mid_image(7)
    out = match_color_histogram(flat, tgt)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, np.broadcast_to(_stats(tgt)[0], out.shape), atol=1e-5)


# --------------------------------------------------------------------------- luminance transfer


def test_transfer_luminance_keeps_content_chroma() -> None:
    content = _mid_image(8, lo=0.35, hi=0.65)
    stylized = _mid_image(9, lo=0.35, hi=0.65)
    out = transfer_luminance(stylized, content)
    y_out, y_sty, y_con = (rgb_to_ycbcr(x) for x in (out, stylized, content))
    np.testing.assert_allclose(y_out[..., 1:], y_con[..., 1:], atol=1e-6)
    np.testing.assert_allclose(y_out[..., 0], y_sty[..., 0], atol=1e-6)
    assert np.abs(y_out[..., 0] - y_con[..., 0]).mean() > 0.02  # luminance did change


def test_transfer_luminance_identity_and_errors() -> None:
    img = _mid_image(10, lo=0.0, hi=1.0)
    np.testing.assert_allclose(transfer_luminance(img, img), img, atol=1e-6)
    grey = np.full((24, 32, 3), 0.5, np.float32)
    out = transfer_luminance(img, grey)  # grey chroma: output is grey with stylized Y
    np.testing.assert_allclose(out[..., 0], out[..., 2], atol=1e-6)
    with pytest.raises(ValueError, match="same shape"):
        transfer_luminance(img, img[:10])


# --------------------------------------------------------------------------- Reinhard


def test_reinhard_matches_style_lab_statistics() -> None:
    content = _mid_image(11, lo=0.3, hi=0.6)
    style = _correlated(12, [0.55, 0.45, 0.35], np.diag([0.05, 0.04, 0.03]), h=18, w=22)
    out = reinhard_color_transfer(content, style)
    assert out.shape == content.shape and out.dtype == np.float32
    lo, ls = rgb_to_lab(out).reshape(-1, 3), rgb_to_lab(style).reshape(-1, 3)
    np.testing.assert_allclose(lo.mean(axis=0), ls.mean(axis=0), atol=0.3)
    np.testing.assert_allclose(lo.std(axis=0), ls.std(axis=0), rtol=0.05)
    lc = rgb_to_lab(content).reshape(-1, 3)
    assert np.abs(lc.mean(axis=0) - ls.mean(axis=0)).max() > 5  # not already matched


def test_reinhard_identity_and_flat_content() -> None:
    img = _mid_image(13)
    np.testing.assert_allclose(reinhard_color_transfer(img, img), img, atol=1e-5)
    flat = np.full((6, 6, 3), 0.5, np.float32)
    out = reinhard_color_transfer(flat, img)
    assert np.all(np.isfinite(out)) and out.min() >= 0 and out.max() <= 1
    # Flat content stays flat, at the style's mean Lab colour.
    np.testing.assert_allclose(out, out[0, 0].reshape(1, 1, 3) * np.ones_like(out), atol=1e-6)
    np.testing.assert_allclose(rgb_to_lab(out)[0, 0], rgb_to_lab(img).reshape(-1, 3).mean(0),
                               atol=0.05)


def test_recolor_to_a_target_that_varies_over_the_picture() -> None:
    """Per-pixel targets (two palettes under a mask): each part as if recoloured alone."""
    content = _mid_image(14)
    a, b = lab_statistics(_mid_image(15, lo=0.5, hi=0.7)), lab_statistics(_mid_image(16))
    share = np.zeros(content.shape[:2] + (1,))
    share[:, :16] = 1  # the left half takes palette a
    out = recolor(content, share * a[0] + (1 - share) * b[0], share * a[1] + (1 - share) * b[1])
    np.testing.assert_allclose(out[:, :16], recolor(content, *a)[:, :16], atol=1e-6)
    np.testing.assert_allclose(out[:, 16:], recolor(content, *b)[:, 16:], atol=1e-6)


def test_recolor_counts_pixels_by_their_weights() -> None:
    """Transparent pixels (weight 0) stored as black do not shift the visible ones."""
    visible = _mid_image(17, h=24, w=16)
    padded = np.concatenate([visible, np.zeros_like(visible)], axis=1)
    opacity = np.concatenate([np.ones((24, 16)), np.zeros((24, 16))], axis=1)
    target = lab_statistics(_mid_image(18, lo=0.5, hi=0.7))
    np.testing.assert_allclose(recolor(padded, *target, weights=opacity)[:, :16],
                               recolor(visible, *target), atol=1e-6)
    assert np.abs(recolor(padded, *target)[:, :16] - recolor(visible, *target)).max() > 0.05
    np.testing.assert_allclose(lab_statistics(padded, opacity), lab_statistics(visible),
                               atol=1e-9)
    with pytest.raises(ValueError, match="mean must have shape"):
        recolor(visible, np.zeros(2), np.ones(3))


def test_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError):
        match_color_histogram(np.zeros((4, 4)), np.zeros((4, 4, 3)))
    with pytest.raises(ValueError):
        reinhard_color_transfer(np.zeros((4, 4, 4)), np.zeros((4, 4, 3)))
