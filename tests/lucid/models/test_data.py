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
