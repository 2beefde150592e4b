"""Training images: listing, the held-out split, decoding, and the words for a bad file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lucid.models.data import TrainingImageError, list_images, load_rgb, split_holdout
from lucid_cli.images import ImageError, load_image


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("b.jpg", "a.PNG", "c.webp"):
        Image.new("RGB", (40, 20), (200, 10, 10)).save(tmp_path / name)
    (tmp_path / "._a.jpg").write_bytes(b"\0\5\26\7 AppleDouble")
    (tmp_path / "notes.txt").write_text("not a picture")
    (tmp_path / "album.jpg").mkdir()
    return tmp_path


def test_list_images_sorted_without_hidden_files_or_folders(folder: Path) -> None:
    assert [p.name for p in list_images(folder)] == ["a.PNG", "b.jpg", "c.webp"]


def test_split_holdout_takes_every_kth_file() -> None:
    paths = [Path(f"{i}.jpg") for i in range(10)]
    train, held = split_holdout(paths, 0.2)
    assert held == [paths[4], paths[9]] and sorted(train + held) == sorted(paths)
    assert split_holdout(paths, 0) == (paths, [])


def test_load_rgb_upscales_the_shorter_side(folder: Path) -> None:
    image = load_rgb(folder / "b.jpg", 32)
    assert image.dtype == np.uint8 and image.shape == (32, 64, 3)
    assert load_rgb(folder / "b.jpg", 8).shape == (20, 40, 3)


def _bad_files(folder: Path) -> list[Path]:
    good = (folder / "a.PNG").read_bytes()
    (folder / "cut.png").write_bytes(good[:60])
    (folder / "text.jpg").write_text("hello, I am not a picture\n")
    return [folder / "cut.png", folder / "text.jpg", folder / "missing.jpg"]


def test_a_bad_file_is_named_in_the_command_lines_words(folder: Path) -> None:
    """The training loader and ``lucid stylize``'s loader say the same of the same file."""
    for path in _bad_files(folder):
        with pytest.raises(TrainingImageError) as training:
            load_rgb(path, 16)
        with pytest.raises(ImageError) as stylize:
            load_image(path)
        assert str(training.value) == str(stylize.value), path


@pytest.mark.parametrize("mode", ["I;16", "F", "F stretched"])
def test_deep_greyscale_pictures_are_scaled_not_clipped(tmp_path: Path, mode: str) -> None:
    """A 16-bit or float greyscale picture trains as ``lucid stylize`` reads it; Pillow's
    ``convert("RGB")`` clipped each value past 255, so a 16-bit photo trained as white."""
    ramp = np.linspace(0.0, 1.0, 40 * 40).reshape(40, 40)
    if mode == "I;16":
        image = Image.fromarray(np.round(ramp * 65535).astype(np.uint16))
    else:
        image = Image.fromarray((ramp * (1000 if mode == "F stretched" else 1)).astype(np.float32))
    path = tmp_path / ("deep.png" if mode == "I;16" else "deep.tif")
    image.save(path)
    loaded = load_rgb(path, 16).astype(np.float64)
    expected = load_image(path).rgb * 255
    assert loaded.shape == (40, 40, 3)
    assert np.abs(loaded - expected).max() <= 1, mode
