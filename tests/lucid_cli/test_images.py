"""Tests for lucid_cli.images: decoding every mode, errors, resizing, atomic saves."""

from __future__ import annotations

import errno
import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, features

from lucid_cli.images import (
    SUPPORTED_INPUT_SUFFIXES,
    SUPPORTED_OUTPUT_FORMATS,
    ImageError,
    LoadedImage,
    center_crop_square,
    load_image,
    resize_shorter_side,
    resize_to,
    save_image,
)

H, W = 20, 30


def _gradient_rgb(h: int = H, w: int = W) -> np.ndarray:
    """uint8 RGB with distinct rows/columns so orientation mistakes show."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack(
        [(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), np.full_like(x, 77)], axis=2
    ).astype(np.uint8)


def _save(img: Image.Image, path: Path, **kw) -> Path:
    img.save(path, **kw)
    return path


def _no_hidden(d: Path) -> list[str]:
    return [p.name for p in d.iterdir() if p.name.startswith(".")]


# --------------------------------------------------------------------------- modes


def test_rgb_png_exact(tmp_path: Path) -> None:
    arr = _gradient_rgb()
    im = load_image(_save(Image.fromarray(arr), tmp_path / "a.png"))
    assert isinstance(im, LoadedImage)
    assert im.rgb.dtype == np.float32 and im.rgb.shape == (H, W, 3)
    assert im.alpha is None
    np.testing.assert_allclose(im.rgb, arr / 255.0, atol=1e-6)
    assert im.path == tmp_path / "a.png"


def test_mode_L_is_grey_rgb(tmp_path: Path) -> None:
    arr = _gradient_rgb()[:, :, 0]
    im = load_image(_save(Image.fromarray(arr, "L"), tmp_path / "l.png"))
    assert im.rgb.shape == (H, W, 3) and im.alpha is None
    for c in range(3):
        np.testing.assert_allclose(im.rgb[:, :, c], arr / 255.0, atol=1e-6)


def test_mode_LA_keeps_alpha(tmp_path: Path) -> None:
    lum = np.full((H, W), 200, np.uint8)
    a = np.tile(np.linspace(0, 255, W).astype(np.uint8), (H, 1))
    im = load_image(_save(Image.fromarray(np.dstack([lum, a]), "LA"), tmp_path / "la.png"))
    assert im.alpha is not None and im.alpha.shape == (H, W)
    np.testing.assert_allclose(im.alpha, a / 255.0, atol=1e-6)
    np.testing.assert_allclose(im.rgb, 200 / 255.0, atol=1e-6)


def test_mode_P_without_transparency(tmp_path: Path) -> None:
    src = Image.fromarray(_gradient_rgb()).quantize(colors=16)
    assert src.mode == "P"
    im = load_image(_save(src, tmp_path / "p.png"))
    assert im.alpha is None
    np.testing.assert_allclose(im.rgb, np.asarray(src.convert("RGB")) / 255.0, atol=1e-6)


def test_mode_P_with_transparency(tmp_path: Path) -> None:
    idx = np.zeros((H, W), np.uint8)
    idx[:, W // 2 :] = 1
    p = Image.fromarray(idx, "P")
    p.putpalette([255, 0, 0, 0, 0, 255] + [0] * (254 * 3))
    path = _save(p, tmp_path / "pt.png", transparency=1)
    im = load_image(path)
    assert im.alpha is not None
    assert np.all(im.alpha[:, : W // 2] == 1.0) and np.all(im.alpha[:, W // 2 :] == 0.0)
    np.testing.assert_allclose(im.rgb[0, 0], [1, 0, 0])


def test_mode_RGBA_keeps_alpha(tmp_path: Path) -> None:
    rgb = _gradient_rgb()
    a = np.full((H, W), 128, np.uint8)
    a[0, 0] = 0
    im = load_image(_save(Image.fromarray(np.dstack([rgb, a]), "RGBA"), tmp_path / "x.png"))
    np.testing.assert_allclose(im.rgb, rgb / 255.0, atol=1e-6)
    assert im.alpha is not None
    assert im.alpha[0, 0] == 0.0 and im.alpha[1, 1] == pytest.approx(128 / 255)


def test_mode_CMYK(tmp_path: Path) -> None:
    cmyk = np.zeros((H, W, 4), np.uint8)
    cmyk[:, :, 0] = 255  # full cyan -> (0, 1, 1) in Pillow's naive conversion
    im = load_image(_save(Image.fromarray(cmyk, "CMYK"), tmp_path / "c.tif"))
    assert im.rgb.shape == (H, W, 3)
    np.testing.assert_allclose(im.rgb[3, 3], [0, 1, 1], atol=1 / 255)


def test_mode_I16_scaled(tmp_path: Path) -> None:
    arr = np.zeros((H, W), np.uint16)
    arr[0, 0], arr[0, 1], arr[0, 2] = 65535, 32768, 1000
    src = Image.fromarray(arr)
    assert src.mode == "I;16"
    im = load_image(_save(src, tmp_path / "g16.png"))
    assert im.rgb[0, 0, 0] == pytest.approx(1.0)
    assert im.rgb[0, 1, 1] == pytest.approx(0.5, abs=1e-4)
    assert im.rgb[0, 2, 2] == pytest.approx(1000 / 65535, abs=1e-6)  # not crushed to 8 bit
    assert im.rgb[5, 5, 0] == 0.0


def test_mode_I_and_F(tmp_path: Path) -> None:
    i32 = Image.fromarray(np.full((H, W), 65535, np.int32), "I")
    assert load_image(_save(i32, tmp_path / "i.tif")).rgb.max() == pytest.approx(1.0)
    f = np.tile(np.linspace(0, 1, W, dtype=np.float32), (H, 1))
    im = load_image(_save(Image.fromarray(f, "F"), tmp_path / "f.tif"))
    np.testing.assert_allclose(im.rgb[:, :, 1], f, atol=1e-6)


def test_mode_1(tmp_path: Path) -> None:
    b = np.zeros((H, W), bool)
    b[:, :5] = True
    im = load_image(_save(Image.fromarray(b).convert("1"), tmp_path / "b.png"))
    assert set(np.unique(im.rgb)) == {0.0, 1.0}
    assert np.all(im.rgb[:, :5] == 1.0) and np.all(im.rgb[:, 5:] == 0.0)


# --------------------------------------------------------------------------- formats / metadata


def test_exif_orientation_rotates(tmp_path: Path) -> None:
    img = Image.fromarray(_gradient_rgb())
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = _save(img, tmp_path / "o.jpg", exif=exif, quality=95)
    im = load_image(path)
    assert im.rgb.shape == (W, H, 3)
    # Rotating clockwise moves the original left column (red = 0) to the top row.
    assert im.rgb[0, :, 0].mean() < 0.1 and im.rgb[-1, :, 0].mean() > 0.9


@pytest.mark.parametrize(("suffix", "orientation"), [(".png", 1), (".jpg", 1), (".jpg", 6),
                                                      (".png", 6)])
def test_a_picture_far_larger_than_needed_is_reduced_while_decoding(
        tmp_path: Path, suffix: str, orientation: int) -> None:
    """With ``shorter_side``, a picture 4x that or more is reduced before it becomes floats
    (JPEG while decoding): the shorter side stays at least twice what was asked, the full
    size (upright) is reported, and the numpy memory is a fraction of the full picture's."""
    import tracemalloc

    img = Image.fromarray(_gradient_rgb(600, 1000))
    exif = img.getexif()
    exif[0x0112] = orientation
    path = _save(img, tmp_path / f"big{suffix}", exif=exif)
    full = load_image(path)
    tracemalloc.start()
    small = load_image(path, shorter_side=40)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    upright = (600, 1000) if orientation == 1 else (1000, 600)
    assert full.full_size is None and full.size == upright
    assert small.full_size == upright
    assert 80 <= min(small.size) < 320 and peak < full.rgb.nbytes / 5
    ratio = [a / b for a, b in zip(small.size, upright, strict=True)]
    assert abs(ratio[0] - ratio[1]) < 0.02  # the same proportions
    # the same picture, once both are brought to the size asked for
    target = (40, 67) if orientation == 1 else (67, 40)
    np.testing.assert_allclose(resize_to(small.rgb, target), resize_to(full.rgb, target),
                               atol=0.03)
    assert load_image(path, shorter_side=200).full_size is None  # 600 < 4 x 200: as is


def _odd_mode_picture(mode: str) -> Image.Image:
    """600 x 1000 in ``mode``: left half dark, right half light (a palette's light entry is
    transparent)."""
    half = np.zeros((600, 1000), np.uint8)
    half[:, 500:] = 1
    if mode == "1":
        return Image.fromarray(half * 255).convert("1")
    if mode == "I;16":
        return Image.fromarray(half.astype(np.uint16) * 60000)
    img = Image.fromarray(half, "P")
    img.putpalette([10, 20, 30, 250, 240, 230])
    img.info["transparency"] = 1
    return img


@pytest.mark.parametrize("mode", ["1", "P", "I;16"])
def test_one_bit_palette_and_16_bit_pictures_are_reduced_too(tmp_path: Path, mode: str) -> None:
    """They were decoded at full size: a 24 KB 1-bit PNG of 14000 x 14000 took 4.9 GB for
    a 64 px picture. Reduced, they are the same picture as the full-size path's."""
    import tracemalloc

    path = tmp_path / "odd.png"
    _odd_mode_picture(mode).save(path)
    full = load_image(path)
    tracemalloc.start()
    small = load_image(path, shorter_side=40)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert small.full_size == (600, 1000) and 80 <= min(small.size) < 320
    assert peak < full.rgb.nbytes / 5
    # the same picture (the halves' hard edge resamples a little differently: 0.05)
    np.testing.assert_allclose(resize_to(small.rgb, (40, 67)), resize_to(full.rgb, (40, 67)),
                               atol=0.05)
    assert (small.alpha is None) == (full.alpha is None) == (mode != "P")
    if mode == "P":
        np.testing.assert_allclose(resize_to(small.alpha, (40, 67)),
                                   resize_to(full.alpha, (40, 67)), atol=0.05)


def test_reduction_keeps_the_colour_under_transparent_pixels(tmp_path: Path) -> None:
    """Pillow reduces RGBA premultiplied (black under alpha 0); bands are reduced alone, as
    the full-size path resizes them."""
    rgba = np.zeros((300, 400, 4), np.uint8)
    rgba[..., :3] = (200, 100, 50)
    rgba[:, :200, 3] = 255
    loaded = load_image(_save(Image.fromarray(rgba, "RGBA"), tmp_path / "a.png"), 16)
    assert loaded.full_size == (300, 400) and loaded.alpha is not None
    np.testing.assert_allclose(loaded.rgb[0, -1], np.array([200, 100, 50]) / 255, atol=1e-6)
    assert loaded.alpha[0, -1] == 0 and loaded.alpha[0, 0] == 1


def test_a_quarter_turned_picture_reduced_to_a_square_reports_its_upright_size(
        tmp_path: Path) -> None:
    img = Image.fromarray(np.zeros((1000, 1002, 3), np.uint8))
    exif = img.getexif()
    exif[0x0112] = 6
    loaded = load_image(_save(img, tmp_path / "sq.png", exif=exif), 150)
    assert loaded.size == (334, 334) and loaded.full_size == (1002, 1000)


def test_icc_srgb_profile_keeps_values(tmp_path: Path) -> None:
    arr = _gradient_rgb()
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    im = load_image(_save(Image.fromarray(arr), tmp_path / "icc.png", icc_profile=icc))
    assert im.icc_converted
    np.testing.assert_allclose(im.rgb, arr / 255.0, atol=3 / 255)
    assert not load_image(_save(Image.fromarray(arr), tmp_path / "plain.png")).icc_converted


def test_broken_icc_profile_is_ignored(tmp_path: Path) -> None:
    arr = _gradient_rgb()
    im = load_image(_save(Image.fromarray(arr), tmp_path / "bad.png", icc_profile=b"junk" * 40))
    assert not im.icc_converted
    np.testing.assert_allclose(im.rgb, arr / 255.0, atol=1e-6)


@pytest.mark.parametrize("ext", [".gif", ".bmp", ".webp", ".tif", ".tiff", ".jpeg"])
def test_read_formats(tmp_path: Path, ext: str) -> None:
    if ext == ".webp" and not features.check("webp"):
        pytest.skip("Pillow without WebP")
    arr = np.zeros((H, W, 3), np.uint8)
    arr[:, : W // 2] = (250, 10, 10)
    arr[:, W // 2 :] = (10, 10, 250)
    im = load_image(_save(Image.fromarray(arr), tmp_path / f"a{ext}"))
    assert im.rgb.shape == (H, W, 3)
    assert im.rgb[H // 2, 2, 0] > 0.8 and im.rgb[H // 2, W - 3, 2] > 0.8


def test_animated_gif_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (W, H), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50)
    im = load_image(path)
    np.testing.assert_allclose(im.rgb[0, 0], [1, 0, 0])


def test_suffix_constants() -> None:
    for s in ("jpg", "jpeg", "png", "gif", "webp", "tif", "tiff", "bmp"):
        assert f".{s}" in SUPPORTED_INPUT_SUFFIXES
    assert ".gif" not in SUPPORTED_OUTPUT_FORMATS and SUPPORTED_OUTPUT_FORMATS[".jpg"] == "JPEG"


# --------------------------------------------------------------------------- load errors


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "x.png").write_bytes(b"")
    with pytest.raises(ImageError, match=r"x\.png: file is empty$"):
        load_image(tmp_path / "x.png")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_is_not_read_as_an_empty_file(tmp_path: Path) -> None:
    """A named pipe has size 0 (it was reported as "file is empty"), and reading one, or a
    device such as /dev/urandom, could wait or run forever: refused for what it is."""
    os.mkfifo(tmp_path / "x.jpg")
    with pytest.raises(ImageError, match=r"x\.jpg: is not a regular file \(a pipe or a device\)$"):
        load_image(tmp_path / "x.jpg")


def test_corrupt_exif_decodes_without_a_warning(tmp_path: Path) -> None:
    """Pillow warned (a UserWarning on stderr, even with --quiet, through the progress bar)
    about a corrupt EXIF block that it then ignores; the picture decodes, upright as stored.
    In a fresh interpreter, where no earlier test has touched the warning filters."""
    Image.new("RGB", (8, 6), (200, 40, 40)).save(tmp_path / "good.jpg")
    data = (tmp_path / "good.jpg").read_bytes()
    exif = b"Exif\0\0MM\0*\0\0\xff\xff\xff\xff" + b"\0" * 20  # first IFD far past the end
    segment = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    (tmp_path / "bad.jpg").write_bytes(data[:2] + segment + data[2:])
    script = ("import sys\nfrom lucid_cli.images import load_image\n"
              "print(load_image(sys.argv[1]).rgb.shape)")
    run = subprocess.run([sys.executable, "-W", "default", "-c", script, str(tmp_path / "bad.jpg")],
                         capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stdout, run.stderr) == (0, "(6, 8, 3)\n", "")


def test_truncated_jpeg(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)  # incompressible: long file
    good = _save(Image.fromarray(noise), tmp_path / "good.jpg", quality=95).read_bytes()
    (tmp_path / "x.jpg").write_bytes(good[: len(good) // 2])
    with pytest.raises(ImageError, match="truncated or corrupt image data"):
        load_image(tmp_path / "x.jpg")


def test_text_file_named_jpg(tmp_path: Path) -> None:
    (tmp_path / "photo.jpg").write_text("hello, I am not a picture\n")
    with pytest.raises(ImageError) as ei:
        load_image(tmp_path / "photo.jpg")
    msg = str(ei.value)
    assert msg.endswith("photo.jpg: not an image file (cannot identify image)")
    assert "\n" not in msg


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"nope\.jpg: no such file$"):
        load_image(tmp_path / "nope.jpg")


def test_megabytes_of_text_metadata_do_not_hide_the_picture(tmp_path: Path) -> None:
    """Pillow reads 1 MB of PNG text by default; Photoshop's XMP history can be more."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("XML:com.adobe.xmp", "<rdf:li>history</rdf:li>" * 2**17, zip=True)  # 3 MB
    path = tmp_path / "xmp.png"
    Image.new("RGB", (W, H), (10, 20, 30)).save(path, pnginfo=info)
    assert load_image(path).rgb.shape == (H, W, 3)


def test_an_eps_without_ghostscript_says_so(tmp_path: Path) -> None:
    import shutil

    if shutil.which("gs"):
        pytest.skip("Ghostscript is installed: EPS pictures load")
    path = tmp_path / "box.eps"
    path.write_text("%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"
                    "0 0 moveto 10 10 lineto stroke\n%%EOF\n")
    with pytest.raises(ImageError, match="box.eps: EPS pictures need Ghostscript"):
        load_image(path)


def test_limits_stay_raised_while_any_thread_decodes() -> None:
    """One decode ending must not lower the limits under another still running."""
    from PIL import PngImagePlugin

    from lucid.imagefile import MAX_IMAGE_PIXELS, MAX_TEXT_BYTES, decoding_limits

    before = Image.MAX_IMAGE_PIXELS, PngImagePlugin.MAX_TEXT_CHUNK
    first, second = decoding_limits(), decoding_limits()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert (Image.MAX_IMAGE_PIXELS, PngImagePlugin.MAX_TEXT_CHUNK) == (MAX_IMAGE_PIXELS,
                                                                        MAX_TEXT_BYTES)
    second.__exit__(None, None, None)
    assert (Image.MAX_IMAGE_PIXELS, PngImagePlugin.MAX_TEXT_CHUNK) == before


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(ImageError, match="dir: is a directory$"):
        load_image(tmp_path / "dir")


@pytest.mark.parametrize("limit", [400, 100])  # 600 px: over the warning / the hard limit
def test_decompression_bomb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    import lucid.imagefile

    path = _save(Image.new("RGB", (W, H)), tmp_path / "big.png")
    before = Image.MAX_IMAGE_PIXELS
    monkeypatch.setattr(lucid.imagefile, "MAX_IMAGE_PIXELS", limit)
    with pytest.raises(ImageError, match="big.png: image too large"):
        load_image(path)
    assert Image.MAX_IMAGE_PIXELS == before  # global setting restored
    monkeypatch.setattr(lucid.imagefile, "MAX_IMAGE_PIXELS", 10_000)
    assert load_image(path).rgb.shape == (H, W, 3)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores chmod")
def test_unreadable_file(tmp_path: Path) -> None:
    path = _save(Image.new("RGB", (4, 4)), tmp_path / "x.png")
    path.chmod(0)
    try:
        with pytest.raises(ImageError, match="x.png: permission denied"):
            load_image(path)
    finally:
        path.chmod(0o644)


# --------------------------------------------------------------------------- saving


def test_png_alpha_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    rgb = rng.random((H, W, 3), dtype=np.float32)
    alpha = rng.random((H, W), dtype=np.float32)
    out = save_image(tmp_path / "rt.png", rgb, alpha)
    assert out == tmp_path / "rt.png"
    im = load_image(out)
    # uint8 rounding: error at most half a step.
    np.testing.assert_allclose(im.rgb, rgb, atol=0.5 / 255 + 1e-6)
    assert im.alpha is not None
    np.testing.assert_allclose(im.alpha, alpha, atol=0.5 / 255 + 1e-6)


def test_rounding_and_clipping(tmp_path: Path) -> None:
    rgb = np.zeros((2, 3, 3), np.float32)
    rgb[0, 0] = [-0.5, 1.7, 0.5]  # clip, clip, round 127.5 -> 128 (half to even)
    rgb[0, 1] = [1.4 / 255, 1.6 / 255, np.nan]
    save_image(tmp_path / "r.png", rgb)
    u8 = np.asarray(Image.open(tmp_path / "r.png"))
    assert u8[0, 0].tolist() == [0, 255, 128]
    assert u8[0, 1].tolist() == [1, 2, 0]


@pytest.mark.parametrize("ext", [".jpg", ".bmp"])
def test_alpha_dropped_for_formats_without_it(tmp_path: Path, ext: str) -> None:
    rgb = np.full((H, W, 3), 0.5, np.float32)
    save_image(tmp_path / f"o{ext}", rgb, np.zeros((H, W), np.float32))
    with Image.open(tmp_path / f"o{ext}") as im:
        assert im.mode == "RGB"
    assert load_image(tmp_path / f"o{ext}").alpha is None


@pytest.mark.parametrize("ext", [".webp", ".tiff"])
def test_alpha_kept_for_webp_tiff(tmp_path: Path, ext: str) -> None:
    if ext == ".webp" and not features.check("webp"):
        pytest.skip("Pillow without WebP")
    alpha = np.zeros((H, W), np.float32)
    alpha[:, W // 2 :] = 1.0
    save_image(tmp_path / f"o{ext}", np.full((H, W, 3), 0.5, np.float32), alpha, quality=100)
    im = load_image(tmp_path / f"o{ext}")
    assert im.alpha is not None
    assert im.alpha[:, :5].max() < 0.05 and im.alpha[:, -5:].min() > 0.95


def test_overwrite_refusal(tmp_path: Path) -> None:
    path = tmp_path / "o.png"
    save_image(path, np.zeros((4, 4, 3), np.float32))
    with pytest.raises(FileExistsError):
        save_image(path, np.ones((4, 4, 3), np.float32))
    assert load_image(path).rgb.max() == 0.0  # untouched
    save_image(path, np.ones((4, 4, 3), np.float32), overwrite=True)
    assert load_image(path).rgb.min() == 1.0
    assert _no_hidden(tmp_path) == []


def test_creates_parent_dirs_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "out.jpg"
    save_image(path, np.full((8, 8, 3), 0.25, np.float32), quality=90)
    assert path.is_file()
    assert os.listdir(path.parent) == ["out.jpg"]


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"out\.xyz: unsupported output format.*\.png"):
        save_image(tmp_path / "out.xyz", np.zeros((4, 4, 3), np.float32))
    assert list(tmp_path.iterdir()) == []


def test_failed_write_removes_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", boom)  # the temp file written, not yet in place
    with pytest.raises(ImageError, match="o.png: no space left on device"):
        save_image(tmp_path / "o.png", np.zeros((4, 4, 3), np.float32))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("overwrite", [False, True])
def test_failed_move_removes_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  overwrite: bool) -> None:
    def boom(src, dst):
        raise KeyboardInterrupt  # not an OSError: must propagate unchanged

    monkeypatch.setattr(os, "replace", boom)
    monkeypatch.setattr(os, "link", boom)
    with pytest.raises(KeyboardInterrupt):
        save_image(tmp_path / "o.png", np.zeros((4, 4, 3), np.float32), overwrite=overwrite)
    assert list(tmp_path.iterdir()) == []


def test_a_file_appearing_meanwhile_is_not_clobbered(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "o.png"
    save = Image.Image.save

    def racing(self, fp, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        target.write_bytes(b"someone else's")  # after the up-front check, before the move
        return save(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", racing)
    with pytest.raises(FileExistsError, match="o.png"):
        save_image(target, np.zeros((4, 4, 3), np.float32))
    assert target.read_bytes() == b"someone else's"
    assert _no_hidden(tmp_path) == []


def test_without_hard_links_the_move_still_refuses_to_clobber(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    save_image(tmp_path / "o.png", np.zeros((4, 4, 3), np.float32))
    with pytest.raises(FileExistsError):
        save_image(tmp_path / "o.png", np.ones((4, 4, 3), np.float32))
    assert load_image(tmp_path / "o.png").rgb.max() == 0.0
    assert _no_hidden(tmp_path) == []


def test_a_long_name_saves(tmp_path: Path) -> None:
    """The temp file's name is short whatever the target's (a 250-byte name is legal)."""
    target = tmp_path / ("z" * 246 + ".png")
    save_image(target, np.zeros((4, 4, 3), np.float32))
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_during_a_save_waits_for_it(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 sig: int) -> None:
    """An interrupt that arrives while a file is being written acts once it is in place:
    no stray temp file, no half-written picture (SIGTERM handled as the CLI does)."""
    fsync = os.fsync

    def interrupted(fd: int) -> None:  # the temp file written, not yet in place
        os.kill(os.getpid(), sig)
        fsync(fd)

    monkeypatch.setattr(os, "fsync", interrupted)
    # both as the CLI has them (a shell's background job starts with SIGINT ignored)
    previous = {s: signal.signal(s, signal.default_int_handler)
                for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with pytest.raises(KeyboardInterrupt):
            save_image(tmp_path / "o.png", np.full((4, 4, 3), 0.5, np.float32))
        assert signal.getsignal(sig) is signal.default_int_handler  # given back
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    assert [p.name for p in tmp_path.iterdir()] == ["o.png"]
    assert load_image(tmp_path / "o.png").rgb.min() > 0.49


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores chmod")
def test_unwritable_directory(tmp_path: Path) -> None:
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o555)
    try:
        with pytest.raises(ImageError, match="o.png: permission denied"):
            save_image(d / "o.png", np.zeros((4, 4, 3), np.float32))
        assert list(d.iterdir()) == []
    finally:
        d.chmod(0o755)


def test_unwritable_directory_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same as above but works as root: the temp-file creation is refused."""
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(ImageError, match=r"o\.png: permission denied$"):
        save_image(tmp_path / "o.png", np.zeros((4, 4, 3), np.float32))
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_unreadable_file_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _save(Image.new("RGB", (4, 4)), tmp_path / "x.png")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Image, "open", refuse)
    with pytest.raises(ImageError, match=r"x\.png: permission denied$"):
        load_image(path)


def test_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(ImageError, match="o.png"):
        save_image(tmp_path / "f" / "o.png", np.zeros((4, 4, 3), np.float32))


def test_save_bad_shapes(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        save_image(tmp_path / "o.png", np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError):
        save_image(tmp_path / "o.png", np.zeros((4, 4, 3), np.float32), np.zeros((4, 5)))


# --------------------------------------------------------------------------- resizing


@pytest.mark.parametrize(("h", "w", "size"), [(20, 30, 10), (30, 20, 10), (17, 53, 8),
                                               (20, 30, 45), (7, 7, 3)])
def test_resize_shorter_side(h: int, w: int, size: int) -> None:
    img = np.random.default_rng(2).random((h, w, 3), dtype=np.float32)
    out = resize_shorter_side(img, size)
    oh, ow = out.shape[:2]
    assert min(oh, ow) == size and out.shape[2] == 3 and out.dtype == np.float32
    # Long side within 1 px of the exact aspect-preserving length.
    assert abs(max(oh, ow) - max(h, w) * size / min(h, w)) <= 1
    assert (oh < ow) == (h < w)
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_resize_zero_is_identity_and_alpha_works() -> None:
    img = np.random.default_rng(3).random((20, 30, 3), dtype=np.float32)
    assert resize_shorter_side(img, 0) is img
    alpha = np.ones((20, 30), np.float32)
    out = resize_shorter_side(alpha, 10)
    assert out.shape == (10, 15)
    np.testing.assert_allclose(out, 1.0, atol=1e-5)  # constant stays constant


def test_resize_keeps_constant_and_mean() -> None:
    img = np.full((20, 30, 3), [0.2, 0.5, 0.9], np.float32)
    out = resize_to(img, (7, 11))
    assert out.shape == (7, 11, 3)
    np.testing.assert_allclose(out, np.broadcast_to([0.2, 0.5, 0.9], out.shape), atol=1e-5)
    ramp = np.tile(np.linspace(0, 1, 40, dtype=np.float32), (10, 1))
    small = resize_to(ramp, (5, 20))
    assert abs(small.mean() - ramp.mean()) < 0.01
    assert np.all(np.diff(small[2]) > 0)  # monotone ramp stays monotone (no 8-bit steps)


def test_resize_too_small_raises() -> None:
    with pytest.raises(ValueError, match="at least 1 pixel"):
        resize_to(np.zeros((4, 4, 3), np.float32), (0, 3))
    with pytest.raises(ValueError):
        resize_shorter_side(np.zeros((4, 4, 3), np.float32), -1)


def test_center_crop_square() -> None:
    img = np.arange(20 * 30, dtype=np.float32).reshape(20, 30)
    out = center_crop_square(img)
    assert out.shape == (20, 20)
    np.testing.assert_array_equal(out, img[:, 5:25])
    tall = np.zeros((31, 10, 3), np.float32)
    tall[10:20] = 1.0
    out = center_crop_square(tall)
    assert out.shape == (10, 10, 3) and out.min() == 1.0


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
@pytest.mark.parametrize("suffix", [".jpg", ".tif", ".png"])
def test_a_full_disk_fails_the_write_and_leaves_nothing(tmp_path: Path, suffix: str) -> None:
    """A full disk makes write(2) write less than asked: Pillow's encoders writing straight to
    a file descriptor took that as done, and a truncated JPEG or TIFF was moved into place
    as written. A file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored) writes short the same way."""
    import subprocess
    import sys
    import textwrap

    target = tmp_path / f"out{suffix}"
    script = textwrap.dedent(f"""
        import resource, signal
        import numpy as np
        from lucid_cli.images import ImageError, save_image
        noise = np.random.default_rng(0).random((48, 48, 3))  # 7-15 KB, in one write
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        try:
            save_image({str(target)!r}, noise)
        except ImageError as error:
            print("refused:", error)
        else:
            print("written")
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"refused: {target}: "), run.stdout
    assert "\n" not in run.stdout.strip()
    assert list(tmp_path.iterdir()) == []  # no file, no temp file


@pytest.mark.parametrize(("suffix", "side"), [(".jpg", 65_501), (".webp", 16_384)])
def test_a_picture_too_long_for_its_format_is_refused_before_encoding(
        tmp_path: Path, suffix: str, side: int) -> None:
    """libjpeg printed "Maximum supported image dimension" and Pillow said "broken data
    stream" (libwebp: "encoding error 5"); now one line names the limit."""
    with pytest.raises(ImageError, match=r"pictures hold at most .* pixels a side"):
        save_image(tmp_path / f"long{suffix}", np.zeros((1, side, 3), np.float32))
    assert list(tmp_path.iterdir()) == []
    save_image(tmp_path / "long.png", np.zeros((1, side, 3), np.float32))  # PNG holds it
