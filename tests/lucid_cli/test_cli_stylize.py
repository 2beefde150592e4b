"""``lucid stylize`` end to end: options, batches, bad input; tiny images and a tiny model."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, features
from typer.testing import CliRunner, Result

import lucid.parallel
import lucid_cli.commands.stylize  # noqa: F401 - registers the command on the app
from lucid.models.store import save_model
from lucid.models.stylenet import StyleNet, tiny_config
from lucid_cli.app import app
from lucid_cli.batch import OptionError, StylizeOptions, stylize_files
from lucid_cli.color import rgb_to_ycbcr
from lucid_cli.images import load_image

CONTENT_WH = (24, 20)  # Pillow order: width, height
STYLE_WH = (20, 20)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    save_model(StyleNet(tiny_config()), path)
    return path


def _noise(wh: tuple[int, int], seed: int, channels: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (wh[1], wh[0], channels), dtype=np.uint8)


def _image(path: Path, wh: tuple[int, int], seed: int, mode: str = "RGB") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(_noise(wh, seed, len(mode)), mode).save(path)
    return path


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding content.jpg (24x20), style1.png and style2.jpg (20x20)."""
    monkeypatch.chdir(tmp_path)  # the default output/ folder lands here
    _image(tmp_path / "content.jpg", CONTENT_WH, 1)
    _image(tmp_path / "style1.png", STYLE_WH, 2)
    _image(tmp_path / "style2.jpg", STYLE_WH, 3)
    return tmp_path


def stylize(model: Path, *args: str) -> Result:
    """``lucid stylize ARGS`` in-process, with the tiny model and small sizes unless given."""
    argv = ["stylize", *args]
    defaults = {"--model": str(model), "--size": "16", "--style-size": "16"}
    for option, value in defaults.items():
        if option not in args:
            argv += [option, value]
    return CliRunner().invoke(app, argv)


def _size(path: Path) -> tuple[int, int]:
    with Image.open(path) as img:
        return img.size


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _no_traceback(result: Result) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def _usage_message(result: Result) -> str:
    """A usage error's message as one line (Typer draws it in a box, wrapped)."""
    assert result.exit_code == 2, result.stdout + result.stderr
    _no_traceback(result)
    return " ".join(result.stderr.replace("\u2502", " ").split())


def _one_error_line(result: Result, name: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and name in lines[0], lines[0]
    return lines[0]


# --------------------------------------------------------------------------- one pair


def test_single_pair_to_a_named_file(work: Path, model_file: Path) -> None:
    result = stylize(model_file, "content.jpg", "style1.png", "-o", "out.png")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert _size(work / "out.png") == (19, 16)  # shorter side 16, aspect kept
    assert "written" in result.stdout and "failed" in result.stdout
    assert not (work / "output").exists()


def test_default_output_folder_and_name(work: Path, model_file: Path) -> None:
    result = stylize(model_file, "content.jpg", "style1.png")
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in (work / "output").iterdir()] == ["content_stylized_style1.jpg"]


@pytest.mark.parametrize(("size", "expected"), [(37, (44, 37)), (16, (19, 16)), (0, CONTENT_WH),
                                                (1, (1, 1))])
def test_output_has_exactly_the_requested_size(work: Path, model_file: Path, size: int,
                                               expected: tuple[int, int]) -> None:
    result = stylize(model_file, "content.jpg", "style1.png", "--size", str(size), "-o", "o.png")
    assert result.exit_code == 0, result.stderr
    assert _size(work / "o.png") == expected


def test_a_large_photo_read_reduced_keeps_its_exact_proportions(work: Path,
                                                                   model_file: Path) -> None:
    """A photo far larger than the output is decoded reduced (a fraction of the memory); the
    output still has the size the full photo gives: 1001x640 at 16 is 25x16 (its 1/20
    reduction, 51x32, would give 26x16)."""
    Image.fromarray(np.tile(_noise((1001, 1), 8), (640, 1, 1))).save(work / "wide.png")
    result = stylize(model_file, "wide.png", "style1.png", "-o", "out.png")
    assert result.exit_code == 0, result.stderr
    assert _size(work / "out.png") == (25, 16)


@pytest.mark.parametrize(("size", "expected"), [(13, (13, 13)), (0, (20, 20))])
def test_crop_gives_a_centred_square(work: Path, model_file: Path, size: int,
                                     expected: tuple[int, int]) -> None:
    result = stylize(model_file, "content.jpg", "style1.png", "--crop", "--size", str(size),
                     "-o", "o.png")
    assert result.exit_code == 0, result.stderr
    assert _size(work / "o.png") == expected


def test_alpha_trades_style_for_content(work: Path, model_file: Path) -> None:
    outputs = {}
    for alpha in ("0", "0.5", "1"):
        result = stylize(model_file, "content.jpg", "style1.png", "--alpha", alpha,
                         "-o", f"a{alpha}.png")
        assert result.exit_code == 0, result.stderr
        outputs[alpha] = np.asarray(Image.open(work / f"a{alpha}.png"), dtype=np.float32)
    assert not np.array_equal(outputs["0"], outputs["1"])


@pytest.mark.parametrize("alpha", ["-0.1", "1.5", "much"])
def test_alpha_out_of_range_is_a_usage_error(work: Path, model_file: Path, alpha: str) -> None:
    result = stylize(model_file, "content.jpg", "style1.png", "--alpha", alpha)
    assert result.exit_code == 2
    assert "--alpha" in result.stderr
    assert not (work / "output").exists()


# --------------------------------------------------------------------------- batches


def test_several_styles_give_every_pair(work: Path, model_file: Path) -> None:
    result = stylize(model_file, "content.jpg", "style1.png", "style2.jpg", "-o", "out")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (work / "out").iterdir()) == [
        "content_stylized_style1.jpg", "content_stylized_style2.jpg"]


def _folders(work: Path) -> None:
    _image(work / "photos" / "a.jpg", CONTENT_WH, 10)
    _image(work / "photos" / "b.png", (18, 22), 11)
    (work / "photos" / "notes.txt").write_text("not an image, and ignored in a folder")
    _image(work / "photos" / "sub" / "c.jpg", CONTENT_WH, 12)
    _image(work / "paintings" / "p1.jpg", STYLE_WH, 13)
    _image(work / "paintings" / "p2.png", STYLE_WH, 14)


def test_folder_inputs_and_recursive(work: Path, model_file: Path) -> None:
    _folders(work)
    result = stylize(model_file, "photos", "paintings", "-o", "flat")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (work / "flat").iterdir()) == [
        "a_stylized_p1.jpg", "a_stylized_p2.jpg", "b_stylized_p1.png", "b_stylized_p2.png"]

    result = stylize(model_file, "photos", "paintings", "-o", "deep", "--recursive")
    assert result.exit_code == 0, result.stderr
    written = sorted(p.relative_to(work / "deep").as_posix()
                     for p in (work / "deep").rglob("*") if p.is_file())
    assert written == ["a_stylized_p1.jpg", "a_stylized_p2.jpg", "b_stylized_p1.png",
                       "b_stylized_p2.png", "sub/c_stylized_p1.jpg", "sub/c_stylized_p2.jpg"]


@pytest.mark.parametrize("recursive", [False, True])
def test_a_rerun_over_its_own_outputs_does_nothing(work: Path, model_file: Path,
                                                   recursive: bool) -> None:
    """Outputs written into the content folder (-o photos, or output/ under a recursive
    one) are not painted again by the next run: it skips what exists and writes nothing."""
    _folders(work)
    args = ["photos", "paintings/p1.jpg", *(["-r"] if recursive else ["-o", "photos"])]
    if recursive:
        os.chdir(work / "photos")
        args[:2] = [".", "../paintings/p1.jpg"]
    assert stylize(model_file, *args).exit_code == 0
    before = sorted(p for p in (work / "photos").rglob("*") if p.is_file())
    assert len(before) == 4 + (3 if recursive else 2)  # a, b, notes.txt, sub/c; the outputs
    result = stylize(model_file, *args, "-v")
    assert result.exit_code == 0, result.stderr
    assert sorted(p for p in (work / "photos").rglob("*") if p.is_file()) == before


@pytest.mark.parametrize("args", [
    ["content.jpg", "."],  # "-r" added: the style folder holds the default output/
    ["content.jpg", "paintings", "-o", "paintings"],
    ["content.jpg", "paintings", "-o", "paintings/", "--weights", "1,3"],
    ["content.jpg", "paintings", "-o", "paintings/", "--mask", "style1.png"],
    ["content.jpg", "paintings", "-o", "paintings/blend.png", "--weights", "1,3"],
])
def test_a_rerun_does_not_paint_with_its_own_outputs(work: Path, model_file: Path,
                                                     args: list[str]) -> None:
    """Outputs an earlier run wrote into a style folder are not styles of the next run: it
    skips what exists and writes nothing (they were painted with, refused as outputs that
    are inputs, or miscounted against --weights and --mask)."""
    _folders(work)
    args = [*args, "-r"] if args[1] == "." else args
    assert stylize(model_file, *args).exit_code == 0
    before = {p: _digest(p) for p in work.rglob("*") if p.is_file()}
    result = stylize(model_file, *args, "-v")
    _no_traceback(result)
    assert result.exit_code == 0, result.stderr
    assert {p: _digest(p) for p in work.rglob("*") if p.is_file()} == before


def test_a_tiny_style_is_stretched_not_painted_black(work: Path, model_file: Path) -> None:
    """A style of a pixel or two leaves the deepest features one position, whose standard
    deviation is NaN: it is stretched to 4 encoder strides a side before encoding."""
    _image(work / "dot.png", (1, 2), 7)
    for args in (["dot.png", "--style-size", "0"], ["style1.png", "--style-size", "1"]):
        result = stylize(model_file, "content.jpg", *args, "-o", "out.png", "--overwrite")
        assert result.exit_code == 0, result.stderr  # a NaN picture is a failure (below)
    from lucid_cli.batch import encode_style

    net = StyleNet(tiny_config())
    for statistics in encode_style(net, load_image(work / "dot.png").rgb, 2):
        assert all(np.isfinite(v.numpy()).all() for pair in statistics.values() for v in pair)


def test_a_non_finite_picture_is_a_failure_not_a_black_file(
        work: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lucid_cli.batch as batch

    monkeypatch.setattr(batch, "paint", lambda model, content, *a: content * np.nan)
    result = stylize(model_file, "content.jpg", "style1.png", "-o", "out.png")
    assert result.exit_code == 1 and not (work / "out.png").exists()
    assert "NaN" in _one_error_line(result, "content.jpg")


def test_ctrl_c_while_reading_ahead_stops_before_the_next_picture(
        work: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without worker threads the next content is read ahead on this thread; an interrupt
    there stops the batch at once instead of waiting for the current picture to be painted
    and written."""
    import lucid_cli.batch as batch

    _folders(work)
    load = batch._Inputs._load_content

    def interrupted_at_b(self, path: Path):  # noqa: ANN001, ANN202
        if path.name == "b.png":
            raise KeyboardInterrupt
        return load(self, path)

    monkeypatch.setattr(batch._Inputs, "_load_content", interrupted_at_b)
    monkeypatch.setattr(lucid.parallel, "default_workers", lambda device: 1)  # one at a time
    result = stylize(model_file, "photos", "paintings/p1.jpg", "-o", "o", "--workers", "0")
    assert result.exit_code == 130
    assert not (work / "o").exists() or not any((work / "o").iterdir())


def test_empty_folder_is_reported(work: Path, model_file: Path) -> None:
    (work / "empty").mkdir()
    result = stylize(model_file, "empty", "style1.png")
    assert result.exit_code == 1
    assert "folder holds no images" in _one_error_line(result, "empty")
    _image(work / "done.png", CONTENT_WH, 4)  # an -o file from before hides nothing
    result = stylize(model_file, "empty", "style1.png", "-o", "done.png")
    assert result.exit_code == 1
    assert "folder holds no images" in _one_error_line(result, "empty")


def test_blend_with_an_empty_style_folder(work: Path, model_file: Path) -> None:
    (work / "nostyles").mkdir()
    result = stylize(model_file, "content.jpg", "style1.png", "nostyles", "--weights", "1,1")
    assert result.exit_code == 1
    assert "folder holds no images" in _one_error_line(result, "nostyles")
    assert not (work / "output").exists()


def test_explicit_file_with_any_suffix_is_tried(work: Path, model_file: Path) -> None:
    shutil.copy(work / "style1.png", work / "photo.dat")  # a PNG under an odd name
    result = stylize(model_file, "photo.dat", "style1.png", "-o", "out")
    assert result.exit_code == 0, result.stderr
    assert (work / "out" / "photo_stylized_style1.png").exists()


@pytest.mark.parametrize("output", ["out.png/", "run 2024.05/", "new.d/",
                                    f"deep{os.sep}er.png{os.sep}"])
def test_a_trailing_slash_always_names_a_folder(work: Path, model_file: Path,
                                                output: str) -> None:
    result = stylize(model_file, "content.jpg", "style1.png", "-o", output)
    assert result.exit_code == 0, result.stderr
    folder = work / output
    assert folder.is_dir()
    assert [p.name for p in folder.iterdir()] == ["content_stylized_style1.jpg"]


def test_an_output_without_an_image_suffix_suggests_a_trailing_slash(
        work: Path, model_file: Path) -> None:
    message = _usage_message(stylize(model_file, "content.jpg", "style1.png", "-o", "run 2024.05"))
    assert "--output" in message and "unsupported format '.05'" in message
    assert "trailing '/'" in message
    assert not (work / "run 2024.05").exists()


def test_a_trailing_slash_on_an_existing_file_is_refused(work: Path, model_file: Path) -> None:
    (work / "taken.png").write_bytes(b"precious")
    message = _usage_message(stylize(model_file, "content.jpg", "style1.png", "-o", "taken.png/"))
    assert "--output" in message and "taken.png" in message and "not a folder" in message
    assert (work / "taken.png").read_bytes() == b"precious"


def test_long_content_names_are_shortened_to_fit_a_file_name(work: Path,
                                                            model_file: Path) -> None:
    stems = ["a" * 240, "a" * 239 + "b", "\u00e9" * 120]  # 240 bytes each in UTF-8
    for seed, stem in enumerate(stems):
        _image(work / "photos" / f"{stem}.jpg", CONTENT_WH, seed)
    result = stylize(model_file, "photos", "style1.png", "-o", "out")
    assert result.exit_code == 0, result.stderr
    names = sorted(p.name for p in (work / "out").iterdir())
    assert len(names) == 3
    for name in names:
        assert len(name.encode()) <= 255
        assert name.endswith("_stylized_style1.jpg")
    assert sorted(name[:100] for name in names) == sorted(stem[:100] for stem in stems)


def test_long_names_that_collide_still_fit(work: Path) -> None:
    from lucid_cli.batch import plan_batch

    for seed, suffix in enumerate((".jpg", ".png")):  # one output name with --format png
        _image(work / "photos" / f"{'a' * 240}{suffix}", CONTENT_WH, seed)
    plan = plan_batch([work / "photos"], [work / "style1.png"],
                      StylizeOptions(format="png", output=work / "out"))
    names = [job.output.name for job in plan.jobs]
    assert len(set(names)) == 2 and all(len(name.encode()) <= 255 for name in names)


def test_outputs_that_would_share_a_name_are_named_by_their_own_inputs(
        work: Path, model_file: Path) -> None:
    """x.jpg and x.png both want x_stylized_style1.png: each gets a tag of its own inputs,
    whatever else the folder holds, so a re-run after x.png arrived paints it (x.jpg again
    too, under its tag) rather than skipping it as done."""
    from lucid_cli.batch import plan_batch

    _image(work / "photos" / "x.jpg", CONTENT_WH, 1)
    assert stylize(model_file, "photos", "style1.png", "-o", "out/", "--format", "png"
                   ).exit_code == 0
    _image(work / "photos" / "x.png", CONTENT_WH, 2)
    result = stylize(model_file, "photos", "style1.png", "-o", "out/", "--format", "png")
    assert result.exit_code == 0, result.stderr
    assert "existing output(s) skipped" not in result.stdout
    options = StylizeOptions(format="png", output=work / "out")
    named = {job.content.name: job.output.name
             for job in plan_batch([work / "photos"], [work / "style1.png"], options).jobs}
    assert len(set(named.values())) == 2
    assert {p.name for p in (work / "out").iterdir()} == {"x_stylized_style1.png",
                                                         *named.values()}
    _image(work / "photos" / "x.bmp", CONTENT_WH, 3)
    again = {job.content.name: job.output.name
             for job in plan_batch([work / "photos"], [work / "style1.png"], options).jobs}
    assert {k: again[k] for k in named} == named and len(set(again.values())) == 3

    # outputs written into the content folder are not painted again, with or without a tag
    inside = StylizeOptions(format="png", output=work / "photos")
    (work / "photos" / "x.bmp").unlink()
    (work / "photos" / "x.png").rename(work / "x.png")
    assert stylize(model_file, "photos", "style1.png", "-o", "photos/", "--format", "png"
                   ).exit_code == 0
    (work / "x.png").rename(work / "photos" / "x.png")
    painted = [job.content.name
               for job in plan_batch([work / "photos"], [work / "style1.png"], inside).jobs]
    assert sorted(painted) == ["x.jpg", "x.png"]


def test_output_name_keeps_names_that_fit() -> None:
    from lucid_cli.batch import output_name

    stem = "a" * (255 - len("_stylized_s.png"))
    assert output_name(Path(f"{stem}.jpg"), [Path("s.jpg")], ".png") == \
        f"{stem}_stylized_s.png"
    shortened = output_name(Path(f"{stem}a.jpg"), [Path("s.jpg")], ".png")
    assert len(shortened) <= 255 and shortened != f"{stem}a_stylized_s.png"


def test_weights_blend_into_one_output_per_content(work: Path, model_file: Path) -> None:
    _folders(work)
    result = stylize(model_file, "content.jpg", "style1.png", "style2.jpg",
                     "--weights", "0.7,0.3", "-o", "one")
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in (work / "one").iterdir()] == ["content_stylized_style1+style2.jpg"]

    result = stylize(model_file, "photos", "paintings", "--weights", "1,1", "-o", "many")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (work / "many").iterdir()) == [
        "a_stylized_p1+p2.jpg", "b_stylized_p1+p2.png"]


@pytest.mark.parametrize("weights", ["0.5,0.3,0.2", "1", "1,abc", "-1,2", "0,0"])
def test_bad_weights_are_usage_errors(work: Path, model_file: Path, weights: str) -> None:
    result = stylize(model_file, "content.jpg", "style1.png", "style2.jpg", "--weights", weights)
    assert result.exit_code == 2
    assert "--weights" in result.stderr
    _no_traceback(result)
    assert not (work / "output").exists()


def test_weights_too_large_to_add_up(work: Path, model_file: Path) -> None:
    from lucid_cli.batch import parse_weights

    message = _usage_message(stylize(model_file, "content.jpg", "style1.png", "style2.jpg",
                                     "--weights", "1e308,1e308"))
    assert "--weights" in message and "too large" in message
    assert "not all zero" not in message
    with pytest.raises(ValueError, match="too large"):
        parse_weights("1e308,1e308")
    with pytest.raises(OptionError, match="too large"):
        StylizeOptions(weights=(1e308, 1e308))


def test_a_style_given_twice_is_explained(work: Path, model_file: Path) -> None:
    message = _usage_message(stylize(model_file, "content.jpg", "style1.png", "./style1.png",
                                     "--weights", "0.5,0.5"))
    assert "--weights" in message
    assert "2 weights given for 1 style (style1.png was given 2 times and is used once)" \
        in message
    Image.new("L", (7, 9), 255).save(work / "mask.png")
    message = _usage_message(stylize(model_file, "content.jpg", "style1.png", "style1.png",
                                     "--mask", "mask.png"))
    assert "--mask" in message
    assert "got 1 (style1.png was given 2 times and is used once)" in message
    assert not (work / "output").exists()


def test_mask_white_takes_the_first_style(work: Path, model_file: Path) -> None:
    Image.new("L", (7, 9), 255).save(work / "white.png")  # any size: fitted to the output
    result = stylize(model_file, "content.jpg", "style1.png", "style2.jpg", "--mask", "white.png",
                     "-o", "masked.png")
    assert result.exit_code == 0, result.stderr
    assert _size(work / "masked.png") == (19, 16)
    result = stylize(model_file, "content.jpg", "style1.png", "-o", "first.png")
    assert result.exit_code == 0, result.stderr
    masked = np.asarray(Image.open(work / "masked.png"), dtype=np.int16)
    first = np.asarray(Image.open(work / "first.png"), dtype=np.int16)
    assert np.abs(masked - first).max() <= 1


@pytest.mark.parametrize("styles", [["style1.png"], ["style1.png", "style2.jpg", "style1.png",
                                                     "content.jpg"]])
def test_mask_needs_two_styles(work: Path, model_file: Path, styles: list[str]) -> None:
    Image.new("L", (7, 9), 255).save(work / "mask.png")
    result = stylize(model_file, "content.jpg", *styles, "--mask", "mask.png")
    assert result.exit_code == 2
    assert "--mask" in result.stderr and "two styles" in result.stderr


def _chroma_error(path: Path, content: np.ndarray) -> float:
    out = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255
    return float(np.abs(rgb_to_ycbcr(out)[..., 1:] - rgb_to_ycbcr(content)[..., 1:]).mean())


def test_preserve_color_modes(work: Path, model_file: Path) -> None:
    # a softly coloured content, so keeping its chroma is not undone by clipping
    y, x = np.mgrid[0:20, 0:24]
    content = np.stack([0.5 + 0.2 * x / 23, 0.5 + 0.0 * y, 0.6 - 0.2 * y / 19], axis=2)
    Image.fromarray(np.uint8(np.rint(content * 255))).save(work / "soft.png")
    content = np.uint8(np.rint(content * 255)) / 255.0
    for mode in ("none", "luminance", "histogram"):
        extra = [] if mode == "none" else ["--preserve-color", mode]
        result = stylize(model_file, "soft.png", "style1.png", "--size", "0", *extra,
                         "-o", f"{mode}.png")
        assert result.exit_code == 0, result.stderr
        assert _size(work / f"{mode}.png") == CONTENT_WH
    assert _chroma_error(work / "luminance.png", content) < 0.02
    assert _chroma_error(work / "luminance.png", content) < \
        0.5 * _chroma_error(work / "none.png", content)
    result = stylize(model_file, "content.jpg", "style1.png", "--preserve-color", "sepia")
    assert result.exit_code == 2


@pytest.mark.parametrize(("fmt", "pillow_format"), [
    ("png", "PNG"), ("jpg", "JPEG"), ("tiff", "TIFF"),
    pytest.param("webp", "WEBP", marks=pytest.mark.skipif(
        not features.check("webp"), reason="Pillow built without WebP"))])
def test_format_override(work: Path, model_file: Path, fmt: str, pillow_format: str) -> None:
    result = stylize(model_file, "content.jpg", "style1.png", "--format", fmt, "-o", "out")
    assert result.exit_code == 0, result.stderr
    path = work / "out" / f"content_stylized_style1.{fmt}"
    with Image.open(path) as img:
        assert img.format == pillow_format


def test_quality_changes_jpeg_size(work: Path, model_file: Path) -> None:
    for quality in ("5", "100"):
        result = stylize(model_file, "content.jpg", "style1.png", "--size", "64",
                         "--quality", quality, "-o", f"q{quality}.jpg")
        assert result.exit_code == 0, result.stderr
    assert (work / "q5.jpg").stat().st_size < (work / "q100.jpg").stat().st_size
    assert stylize(model_file, "content.jpg", "style1.png", "--quality", "0").exit_code == 2


def test_output_file_for_several_results_is_a_usage_error(work: Path, model_file: Path) -> None:
    result = stylize(model_file, "content.jpg", "style1.png", "style2.jpg", "-o", "one.png")
    assert result.exit_code == 2
    assert "--output" in result.stderr


def test_an_empty_output_is_a_usage_error(work: Path, model_file: Path) -> None:
    """``-o ""`` (an unset "$OUT" in a script) wrote the result into the current folder."""
    before = sorted(work.iterdir())
    result = stylize(model_file, "content.jpg", "style1.png", "-o", "")
    assert result.exit_code == 2
    assert "--output" in result.stderr and "is empty" in result.stderr
    assert sorted(work.iterdir()) == before



def test_standard_output_is_a_usage_error(work: Path, model_file: Path) -> None:
    """``-o -`` (standard output, by the usual convention) made a folder named '-'; ``./-``
    still names that folder."""
    before = sorted(work.iterdir())
    result = stylize(model_file, "content.jpg", "style1.png", "-o", "-")
    assert result.exit_code == 2
    assert "--output" in result.stderr and "standard output" in result.stderr
    assert sorted(work.iterdir()) == before
    assert stylize(model_file, "content.jpg", "style1.png", "-o", "./-").exit_code == 0
    assert (work / "-" / "content_stylized_style1.jpg").is_file()

# --------------------------------------------------------------------------- existing files


def test_existing_output_is_skipped_then_overwritten(work: Path, model_file: Path) -> None:
    assert stylize(model_file, "content.jpg", "style1.png", "-o", "o.png").exit_code == 0
    target = work / "o.png"
    target.write_bytes(b"precious")  # not what a run would write
    os.utime(target, (1_000_000, 1_000_000))

    result = stylize(model_file, "content.jpg", "style1.png", "-o", "o.png", "-v")
    assert result.exit_code == 0, result.stderr
    assert "skipped" in result.stdout
    assert target.read_bytes() == b"precious" and target.stat().st_mtime == 1_000_000

    result = stylize(model_file, "content.jpg", "style1.png", "-o", "o.png", "--overwrite")
    assert result.exit_code == 0, result.stderr
    assert _size(target) == (19, 16)


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_output_equal_to_an_input_is_refused(work: Path, model_file: Path,
                                             overwrite: list[str]) -> None:
    before = _digest(work / "style1.png")
    result = stylize(model_file, "content.jpg", "style1.png", "-o", "./style1.png", *overwrite)
    assert result.exit_code == 1
    assert "is one of the inputs" in _one_error_line(result, "style1.png")
    assert _digest(work / "style1.png") == before
    _image(work / "photo.png", CONTENT_WH, 4)
    before = _digest(work / "photo.png")
    result = stylize(model_file, "photo.png", "style1.png", "-o", "photo.png", *overwrite)
    assert result.exit_code == 1
    assert "is one of the inputs" in _one_error_line(result, "photo.png")
    assert _digest(work / "photo.png") == before


def test_alpha_channel_is_carried_to_png(work: Path, model_file: Path) -> None:
    _image(work / "rgba.png", CONTENT_WH, 20, mode="RGBA")
    result = stylize(model_file, "rgba.png", "style1.png", "--size", "0", "-o", "out")
    assert result.exit_code == 0, result.stderr
    with Image.open(work / "out" / "rgba_stylized_style1.png") as out, \
            Image.open(work / "rgba.png") as src:
        assert out.mode == "RGBA"
        assert np.array_equal(np.asarray(out.getchannel("A")), np.asarray(src.getchannel("A")))
    result = stylize(model_file, "rgba.png", "style1.png", "--format", "jpg", "-o", "out")
    assert result.exit_code == 0, result.stderr
    with Image.open(work / "out" / "rgba_stylized_style1.jpg") as out:
        assert out.mode == "RGB"  # JPEG cannot carry alpha


# --------------------------------------------------------------------------- bad input


def _make_bad(work: Path, kind: str) -> str:
    path = work / f"{kind}.jpg"
    if kind == "empty":
        path.touch()
    elif kind == "truncated":
        data = (work / "content.jpg").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "text":
        path.write_text("this is not a picture\n")
    return path.name  # "missing": never created


@pytest.mark.parametrize("kind", ["missing", "empty", "truncated", "text"])
@pytest.mark.parametrize("role", ["content", "style"])
def test_bad_input_file(work: Path, model_file: Path, kind: str, role: str) -> None:
    bad = _make_bad(work, kind)
    args = [bad, "style1.png"] if role == "content" else ["content.jpg", bad]
    result = stylize(model_file, *args)
    assert result.exit_code == 1
    _one_error_line(result, bad)
    _no_traceback(result)
    assert bad in result.stdout  # listed in the summary too


def test_bad_content_in_a_batch(work: Path, model_file: Path) -> None:
    _image(work / "photos" / "a.jpg", CONTENT_WH, 1)
    (work / "photos" / "b.jpg").write_text("nope")
    _image(work / "photos" / "c.png", CONTENT_WH, 2)
    result = stylize(model_file, "photos", "style1.png", "style2.jpg", "-o", "out")
    assert result.exit_code == 1
    _one_error_line(result, "b.jpg")  # one problem, though it failed two pairs
    _no_traceback(result)
    assert sorted(p.name for p in (work / "out").iterdir()) == [
        "a_stylized_style1.jpg", "a_stylized_style2.jpg",
        "c_stylized_style1.png", "c_stylized_style2.png"]
    assert "b.jpg" in result.stdout


def test_an_odd_file_name_keeps_its_error_on_one_line(work: Path, model_file: Path) -> None:
    (work / "new\nline.jpg").write_text("nope")
    result = stylize(model_file, "new\nline.jpg", "style1.png")
    assert result.exit_code == 1
    assert "new\\nline.jpg" in _one_error_line(result, "line.jpg")
    result = stylize(model_file, "content.jpg", "style1.png", "--model", "no\nsuch")
    assert result.exit_code == 1 and "no\\nsuch" in _one_error_line(result, "such")
    _image(work / "odd\nphoto.jpg", CONTENT_WH, 1)
    result = stylize(model_file, "odd\nphoto.jpg", "style1.png", "-o", "new\nfolder", "-v")
    assert result.exit_code == 0, result.stderr
    assert "wrote new\\nfolder/odd\\nphoto_stylized_style1.jpg" in result.stdout
    assert "output folder: new\\nfolder\n" in result.stdout


def test_a_name_too_long_is_one_line_and_the_batch_goes_on(work: Path, model_file: Path) -> None:
    """A name longer than the file system allows (255 bytes a part here) cannot even be
    looked up: the lookup's error was a traceback, for a style, an output or a model."""
    long = "x" * 300
    result = stylize(model_file, "content.jpg", f"{long}.jpg", "style1.png", "-o", "out")
    assert result.exit_code == 1
    assert "file name too long" in _one_error_line(result, long)
    assert [p.name for p in (work / "out").iterdir()] == ["content_stylized_style1.jpg"]
    for option, value in (("-o", f"{long}.png"), ("-o", f"{long}/"), ("--model", long)):
        result = stylize(model_file, "content.jpg", "style1.png", option, value)
        assert result.exit_code == 1
        assert "file name too long" in _one_error_line(result, long), (option, value)


def test_an_output_too_long_for_jpeg_fails_before_painting(work: Path, model_file: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    import lucid_cli.batch

    _image(work / "strip.jpg", (70_000 // 8, 1), 4)
    monkeypatch.setattr(lucid_cli.batch, "_paint", lambda *a, **k: pytest.fail("painted"))
    result = stylize(model_file, "strip.jpg", "style1.png", "--size", "8", "-o", "out/")
    assert result.exit_code == 1
    assert "JPEG pictures hold at most 65,500 pixels a side" in _one_error_line(result, "out")
    assert not list((work / "out").glob("*.jpg"))


def test_debug_shows_the_traceback(work: Path, model_file: Path) -> None:
    (work / "bad.jpg").write_text("nope")
    result = stylize(model_file, "bad.jpg", "style1.png", "--debug")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads everything")
def test_unreadable_folder(work: Path, model_file: Path) -> None:
    locked = work / "locked"
    _image(locked / "a.jpg", CONTENT_WH, 1)
    locked.chmod(0)
    try:
        result = stylize(model_file, "locked", "style1.png")
    finally:
        locked.chmod(0o755)
    assert result.exit_code == 1
    _one_error_line(result, "locked")
    _no_traceback(result)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads everything")
def test_an_unreadable_style_named_on_the_command_line_fails_alone(work: Path,
                                                                   model_file: Path) -> None:
    """Typer's own readability check stopped the whole batch with a usage error."""
    (work / "style2.jpg").chmod(0)
    try:
        result = stylize(model_file, "content.jpg", "style1.png", "style2.jpg", "-o", "out")
    finally:
        (work / "style2.jpg").chmod(0o644)
    assert result.exit_code == 1
    assert "permission denied" in _one_error_line(result, "style2.jpg")
    assert [p.name for p in (work / "out").iterdir()] == ["content_stylized_style1.jpg"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes everywhere")
def test_unwritable_output_folder(work: Path, model_file: Path) -> None:
    (work / "ro").mkdir()
    (work / "ro").chmod(0o555)
    try:
        result = stylize(model_file, "content.jpg", "style1.png", "-o", "ro")
    finally:
        (work / "ro").chmod(0o755)
    assert result.exit_code == 1
    assert "permission denied" in _one_error_line(result, "ro")
    _no_traceback(result)


def test_a_style_too_large_names_style_size(work: Path, model_file: Path) -> None:
    _image(work / "strip.png", (1, 4000), 4)  # 512 wide would make it 2 million tall
    result = stylize(model_file, "content.jpg", "strip.png", "--style-size", "512")
    assert result.exit_code == 1
    line = _one_error_line(result, "strip.png")
    assert "the style" in line and "--style-size" in line
    assert "output" not in line and "--size" not in line.replace("--style-size", "")
    _no_traceback(result)


def test_missing_mask(work: Path, model_file: Path) -> None:
    result = stylize(model_file, "content.jpg", "style1.png", "style2.jpg", "--mask", "nomask.png")
    assert result.exit_code == 1
    _one_error_line(result, "nomask.png")


def test_unknown_model_name(work: Path) -> None:
    result = CliRunner().invoke(app, ["stylize", "content.jpg", "style1.png",
                                      "--model", "nonexistent"])
    assert result.exit_code == 1
    assert "no such model" in _one_error_line(result, "nonexistent")
    _no_traceback(result)


def test_a_file_that_is_no_model(work: Path) -> None:
    (work / "fake.safetensors").write_text("definitely not weights")
    result = CliRunner().invoke(app, ["stylize", "content.jpg", "style1.png",
                                      "--model", "fake.safetensors"])
    assert result.exit_code == 1
    _one_error_line(result, "fake.safetensors")
    _no_traceback(result)


def test_missing_default_model_is_explained(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lucid.models.store.DEFAULT_MODEL", work / "gone" / "default.safetensors")
    result = CliRunner().invoke(app, ["stylize", "content.jpg", "style1.png"])
    assert result.exit_code == 1
    assert "default model is missing" in _one_error_line(result, "default.safetensors")


@pytest.mark.skipif(__import__("lucid").gpu.is_available(), reason="a GPU is present")
def test_gpu_requested_without_one(work: Path, model_file: Path) -> None:
    result = stylize(model_file, "content.jpg", "style1.png", "--device", "gpu")
    assert result.exit_code == 1
    assert "no GPU" in result.stderr
    assert stylize(model_file, "content.jpg", "style1.png", "--device", "cpu").exit_code == 0


def test_half_is_refused_on_the_cpu(work: Path, model_file: Path) -> None:
    result = stylize(model_file, "content.jpg", "style1.png", "--half", "--device", "cpu")
    assert result.exit_code == 2
    assert "needs a GPU" in result.stderr
    assert not (work / "output").exists()


def test_half_runs_in_float16_on_a_gpu(work: Path, model_file: Path, device: str) -> None:
    if device != "gpu":
        pytest.skip("--half is for GPUs")
    full = stylize(model_file, "content.jpg", "style1.png", "-o", "full.png")
    half = stylize(model_file, "content.jpg", "style1.png", "-o", "half.png", "--half")
    assert full.exit_code == half.exit_code == 0, half.stderr
    difference = np.abs(np.asarray(Image.open(work / "full.png"), np.float32)
                        - np.asarray(Image.open(work / "half.png"), np.float32))
    assert difference.mean() < 2.0  # of 255


def test_inputs_are_never_modified(work: Path, model_file: Path) -> None:
    _image(work / "rgba.png", CONTENT_WH, 20, mode="RGBA")
    Image.new("L", (7, 9), 128).save(work / "mask.png")
    inputs = sorted(p for p in work.iterdir() if p.is_file())
    before = {p: (_digest(p), p.stat().st_mtime_ns) for p in inputs}
    runs = [["content.jpg", "style1.png", "style2.jpg"],
            ["rgba.png", "style1.png", "style2.jpg", "--mask", "mask.png", "--crop"],
            ["content.jpg", "style1.png", "--preserve-color", "histogram", "--overwrite"],
            [".", "style1.png", "--overwrite", "-o", "."]]  # contents and outputs share a folder
    for args in runs:
        stylize(model_file, *args)
    assert {p: (_digest(p), p.stat().st_mtime_ns) for p in inputs} == before


# --------------------------------------------------------------------------- display


def test_quiet_and_verbose(work: Path, model_file: Path) -> None:
    result = stylize(model_file, "content.jpg", "style1.png", "style2.jpg", "-q")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
    result = stylize(model_file, "content.jpg", "style1.png", "style2.jpg", "-v", "--overwrite")
    assert result.exit_code == 0
    assert result.stdout.count("wrote ") == 2


# --------------------------------------------------------------------------- Python API


def test_each_style_is_encoded_once(work: Path, model_file: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import lucid.models.inference as inference
    from lucid.models.store import load_model

    calls = []
    real = inference.style_statistics
    monkeypatch.setattr(inference, "style_statistics",
                        lambda model, style: calls.append(style.shape) or real(model, style))
    _image(work / "photos" / "a.jpg", CONTENT_WH, 1)
    _image(work / "photos" / "b.jpg", CONTENT_WH, 2)
    net = load_model(model_file)
    styles = [work / "style1.png", work / "style2.jpg"]
    summary = stylize_files(net, [work / "photos"], styles,
                            StylizeOptions(size=8, style_size=8, output=work / "o1"))
    assert len(summary.written) == 4 and len(calls) == 2
    # recoloured to each content's colours: encoded once per (content, style)
    calls.clear()
    summary = stylize_files(net, [work / "photos"], styles,
                            StylizeOptions(size=8, style_size=8, output=work / "o2",
                                           preserve_color="histogram"))
    assert len(summary.written) == 4 and len(calls) == 4


def test_larger_strokes_paint_twice_and_encode_each_style_once_per_pass(
        work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--stroke-scale 2: the content painted at half size, enlarged, painted again at full
    size with the style encoded at full size; each style encoded once per pass and run."""
    import lucid.models.inference as inference
    from lucid_cli.images import load_image, resize_to

    calls = []
    real = inference.style_statistics
    monkeypatch.setattr(inference, "style_statistics",
                        lambda model, style: calls.append(style.shape[:2]) or real(model, style))
    _image(work / "photos" / "a.jpg", (48, 40), 1)
    _image(work / "photos" / "b.jpg", (48, 40), 2)
    net = StyleNet(tiny_config())  # seeded here: the shared tiny model may paint all black
    styles = [work / "style1.png", work / "style2.jpg"]
    options = StylizeOptions(size=32, style_size=16, stroke_scale=2, output=work / "o",
                             format="png")
    summary = stylize_files(net, [work / "photos"], styles, options)
    assert len(summary.written) == 4
    assert sorted(calls) == [(8, 8), (8, 8), (16, 16), (16, 16)]
    # the same picture, composed here from the one-pass painting
    photo = resize_to(load_image(work / "photos" / "a.jpg").rgb, (32, 38))
    style = resize_to(load_image(work / "style1.png").rgb, (16, 16))
    coarse = inference.stylize(net, resize_to(photo, (16, 19)),
                               [real(net, resize_to(style, (8, 8)))])
    want = inference.stylize(net, resize_to(coarse, (32, 38)), [real(net, style)])
    got = load_image(work / "o" / "a_stylized_style1.png").rgb
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1 / 255 + 1e-6)
    one_pass = inference.stylize(net, photo, [real(net, style)])
    assert np.abs(got - one_pass).max() > 2 / 255  # past 8-bit rounding (the tiny net paints dark)


def test_alpha_with_larger_strokes_brings_back_the_photo() -> None:
    """--alpha with --stroke-scale: the first pass paints at full style, the last mixes the
    photo's own features back in, so alpha 0 gives the photo as one pass does (alpha applied
    to both passes gave a blurred photo: the first pass's enlarged reconstruction)."""
    from lucid_cli.batch import encode_style, paint

    lucid.manual_seed(3)
    net = StyleNet(tiny_config()).eval()
    rng = np.random.default_rng(0)
    photo = rng.random((32, 40, 3), dtype=np.float32)
    style = rng.random((24, 24, 3), dtype=np.float32)
    one_pass = paint(net, photo, [encode_style(net, style, 1)], 1, alpha=0.0)
    for scale in (2, 3):
        got = paint(net, photo, [encode_style(net, style, scale)], scale, alpha=0.0)
        np.testing.assert_allclose(got, one_pass, atol=1e-6)
    full = paint(net, photo, [encode_style(net, style, 2)], 2)
    half = paint(net, photo, [encode_style(net, style, 2)], 2, alpha=0.5)
    assert np.abs(half - full).max() > 1e-3 and np.abs(half - one_pass).max() > 1e-3


def test_larger_strokes_keep_a_small_style_encodable() -> None:
    """The first pass's style is never shrunk below 4 encoder strides a side (the deepest
    features need positions for a standard deviation); statistics and passes must match."""
    from lucid_cli.batch import encode_style, paint

    net = StyleNet(tiny_config())
    style = _noise((5, 6), 5).astype(np.float32) / 255  # 2x1 at 1/4: one deep position
    photo = _noise((48, 40), 6).astype(np.float32) / 255
    for scale in (2, 4):
        coarse, full = encode_style(net, style, scale)
        picture = paint(net, photo, [[coarse, full]], scale)
        assert picture.shape == photo.shape and np.isfinite(picture).all()
    with pytest.raises(ValueError, match="2 pass"):
        paint(net, photo, [encode_style(net, style)], 2)
    with pytest.raises(ValueError, match="1 pass"):
        paint(net, photo, [encode_style(net, style, 2)], 1)
    with pytest.raises(ValueError, match="integer >= 1"):
        encode_style(net, style, 0)


def test_stroke_scale_out_of_range_is_a_usage_error(work: Path, model_file: Path) -> None:
    for value in ("0", "5"):
        result = stylize(model_file, "content.jpg", "style1.png", "--stroke-scale", value)
        assert result.exit_code == 2 and "--stroke-scale" in result.stderr
        _no_traceback(result)
    with pytest.raises(OptionError, match="stroke_scale"):
        StylizeOptions(stroke_scale=5)


def test_workers_change_nothing_but_the_overlap(work: Path, model_file: Path) -> None:
    """Reading ahead and writing behind on worker threads gives the same files, the same
    summary and one outcome per job, bad files included, as doing everything in turn."""
    from lucid.models.store import load_model
    from lucid_cli.batch import PairDone, PairFailed, PairSkipped, PairStarted

    for name, seed in (("a.jpg", 1), ("c.png", 2), ("d.jpg", 3)):
        _image(work / "photos" / name, CONTENT_WH, seed)
    (work / "photos" / "b.jpg").write_bytes(b"not an image")
    net = load_model(model_file)
    styles = [work / "style1.png", work / "style2.jpg"]
    runs = {}
    for workers in (0, 1, 3):
        events: list = []
        out = work / f"out{workers}"
        summary = stylize_files(net, [work / "photos"], styles,
                                StylizeOptions(size=8, style_size=8, output=out, format="png",
                                               workers=workers), events.append)
        started = [e.index for e in events if isinstance(e, PairStarted)]
        outcomes = sorted(e.index for e in events
                          if isinstance(e, PairDone | PairFailed | PairSkipped))
        assert started == outcomes == list(range(1, 9))
        runs[workers] = (sorted(p.name for p in summary.written), summary.failed,
                         {p.name: _digest(p) for p in out.iterdir()})
    assert runs[0] == runs[1] == runs[3]
    assert len(runs[0][0]) == 6 and len(runs[0][1]) == 2


def test_small_pictures_painted_at_once_paint_as_one_at_a_time(
        work: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small pictures painted two or three at a time (threads) reach the right files, with the
    outcomes and their order that painting them in turn gives: a skip, a bad file, a picture
    whose painting fails on its thread, and a picture over ``LANE_PIXELS`` painted alone, in
    tiles, between them. The painter is replaced by one that returns the photo upside down
    (and fails on one), so that every file can be checked exactly."""
    import lucid.models.inference
    import lucid.parallel
    import lucid_cli.batch
    from lucid.models.store import load_model
    from lucid_cli.batch import PairDone, PairFailed, PairSkipped, TileDone

    real = lucid.models.inference.stylize

    def painter(model, content, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        if content.shape[:2] == (21, 25):
            raise ValueError("could not paint this one")
        if content.shape[1] == 900:  # the large one: the real tiled path, for its progress
            real(model, content, *args, **kwargs)
        return content[::-1]

    monkeypatch.setattr(lucid.models.inference, "stylize", painter)
    monkeypatch.setattr(lucid_cli.batch, "LANE_PIXELS", 10_000)
    names = {"a.png": CONTENT_WH, "c.png": CONTENT_WH, "e.png": (25, 21), "f.png": CONTENT_WH,
             "g.png": CONTENT_WH}
    for seed, (name, wh) in enumerate(names.items()):
        _image(work / "photos" / name, wh, seed)
    (work / "photos" / "b.png").write_bytes(b"not an image")
    _image(work / "photos" / "d.png", (900, 40), 9)  # three tiles at its own size
    net = load_model(model_file)
    runs = {}
    for lanes in (1, 2, 3):
        monkeypatch.setattr(lucid.parallel, "default_workers", lambda device, k=lanes: k)
        out = work / f"out{lanes}"
        _image(out / "f_stylized_style1.png", (5, 5), 0)  # already there: a skip
        events: list = []
        summary = stylize_files(net, [work / "photos"], [work / "style1.png"],
                                StylizeOptions(size=0, style_size=8, output=out, format="png"),
                                events.append)
        outcomes = [(type(e).__name__, e.index) for e in events
                    if isinstance(e, PairDone | PairFailed | PairSkipped)]
        assert any(isinstance(e, TileDone) and e.tiles > 2 for e in events)
        for done in (e for e in events if isinstance(e, PairDone)):
            photo = np.asarray(Image.open(done.content))
            np.testing.assert_array_equal(np.asarray(Image.open(done.output)), photo[::-1])
        runs[lanes] = (outcomes, sorted(p.name for p in summary.written), summary.failed)
    assert [name for name, _ in runs[1][0]] == ["PairDone", "PairFailed", "PairDone", "PairDone",
                                                "PairFailed", "PairSkipped", "PairDone"]
    assert runs[1] == runs[2] == runs[3]


# --------------------------------------------------------------------------- console script


def _lucid() -> list[str]:
    script = Path(sys.executable).with_name("lucid")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lucid_cli"]


def test_console_script(work: Path, model_file: Path) -> None:
    ok = subprocess.run([*_lucid(), "stylize", "content.jpg", "style1.png", "--model",
                         str(model_file), "--size", "12", "--style-size", "12", "-o", "s.png"],
                        capture_output=True, text=True, cwd=work, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert _size(work / "s.png") == (14, 12)

    bad = subprocess.run([sys.executable, "-m", "lucid_cli", "stylize", "nothere.jpg",
                          "style1.png", "--model", str(model_file)],
                         capture_output=True, text=True, cwd=work, timeout=120)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == ["error: nothere.jpg: no such file"]
    assert "Traceback" not in bad.stdout + bad.stderr

    debug = subprocess.run([*_lucid(), "stylize", "content.jpg", "style1.png", "--model",
                            "nonexistent", "--debug"],
                           capture_output=True, text=True, cwd=work, timeout=120)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_large_images_are_tiled_and_report_their_tiles(work: Path, model_file: Path) -> None:
    """A picture wider than one tile goes through the tiled path at its own size."""
    from lucid.models.store import load_model
    from lucid_cli.batch import StylizeOptions, TileDone, stylize_files

    wide = _image(work / "wide.png", (900, 40), 5)
    events = []
    summary = stylize_files(load_model(model_file), [wide], [work / "style1.png"],
                            StylizeOptions(size=0, style_size=16, output=work / "out"),
                            on_event=events.append)
    assert summary.ok and _size(summary.written[0]) == (900, 40)
    tiles = [e for e in events if isinstance(e, TileDone)]
    assert tiles and tiles[-1].done == tiles[-1].tiles > 2


def _soft(path: Path, tint: tuple[float, float, float]) -> np.ndarray:
    """A smooth 24x20 picture around ``tint`` (no clipping in colour transfers), saved as PNG;
    returns it as the network will read it."""
    y, x = np.mgrid[0:20, 0:24]
    ramp = 0.15 * (x / 23 - 0.5) + 0.1 * (y / 19 - 0.5)
    image = np.uint8(np.rint(np.clip(np.asarray(tint) + ramp[..., None], 0, 1) * 255))
    Image.fromarray(image).save(path)
    return image / np.float32(255)


def _spy_on_network_input(monkeypatch: pytest.MonkeyPatch) -> list[np.ndarray]:
    """The pictures each painting pass hands the network, in order."""
    import lucid.models.inference as inference

    seen: list[np.ndarray] = []
    real = inference.stylize
    monkeypatch.setattr(inference, "stylize", lambda model, content, *rest, **kw:
                        seen.append(content) or real(model, content, *rest, **kw))
    return seen


@pytest.mark.parametrize("blend", ["one", "weights", "mask"])
def test_recolor_paints_the_photo_in_the_paintings_palette(
        work: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch, blend: str) -> None:
    """--recolor: the network gets the photo recoloured to the painting's Lab mean and std
    (for a blend, the styles' statistics mixed as the styles are); without it, the photo."""
    from lucid.models.store import load_model
    from lucid_cli.color import lab_statistics, recolor

    painted = _spy_on_network_input(monkeypatch)
    photo = _soft(work / "photo.png", (0.3, 0.5, 0.4))
    blue = lab_statistics(_soft(work / "blue.png", (0.2, 0.3, 0.7)))
    red = lab_statistics(_soft(work / "red.png", (0.7, 0.3, 0.2)))
    styles = [work / "blue.png"] + ([] if blend == "one" else [work / "red.png"])
    extra: dict = {"weights": (3, 1)} if blend == "weights" else {}
    if blend == "mask":  # the left half takes the first style, the right half the second
        Image.fromarray(np.uint8(np.arange(24) < 12) * np.full((20, 1), 255, np.uint8)).save(
            work / "halves.png")
        extra = {"mask": work / "halves.png"}
    net = load_model(model_file)
    for recolored in (False, True):
        summary = stylize_files(net, [work / "photo.png"], styles, StylizeOptions(
            size=0, style_size=0, recolor=recolored, output=work / f"{recolored}.png", **extra))
        assert len(summary.written) == 1
    np.testing.assert_allclose(painted[0], photo, atol=1e-6)
    if blend == "mask":
        np.testing.assert_allclose(painted[1][:, :12], recolor(photo, *blue)[:, :12], atol=1e-6)
        np.testing.assert_allclose(painted[1][:, 12:], recolor(photo, *red)[:, 12:], atol=1e-6)
        return
    target = [(3 * b + r) / 4 for b, r in zip(blue, red)] if blend == "weights" else blue
    mean, std = lab_statistics(painted[1])
    np.testing.assert_allclose(mean, target[0], atol=0.3)
    np.testing.assert_allclose(std, target[1], atol=0.3)
    assert np.abs(lab_statistics(photo)[0] - target[0]).max() > 10  # it did move


def test_recolor_and_preserve_color_contradict(work: Path, model_file: Path) -> None:
    result = stylize(model_file, "content.jpg", "style1.png", "--recolor",
                     "--preserve-color", "luminance")
    assert result.exit_code == 2
    assert "--recolor" in result.stderr and "photo's colours" in result.stderr


def test_a_failure_while_recolouring_fails_that_pair_only(
        work: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lucid_cli.batch as batch
    from lucid.models.store import load_model

    real = batch.recolor

    def recolor(content, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if content.shape[1] > 22:  # content.jpg (24 px wide), not the 20 px wide style2.jpg
            raise MemoryError
        return real(content, *args, **kwargs)

    monkeypatch.setattr(batch, "recolor", recolor)
    summary = stylize_files(load_model(model_file), [work / "content.jpg", work / "style2.jpg"],
                            [work / "style1.png"], StylizeOptions(size=0, style_size=0,
                                                                   recolor=True,
                                                                   output=work / "out"))
    assert [path.name for path, _ in summary.failed] == ["content.jpg"]
    assert "out of memory" in summary.failed[0][1]
    assert len(summary.written) == 1


def test_grain_is_added_to_the_photo_alike_every_time(
        work: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--grain: the network paints the photo plus seeded grain of that std (the same grain
    for a second run); 0 paints the photo itself; the CLI passes the option on."""
    from lucid.models.store import load_model

    seen = _spy_on_network_input(monkeypatch)
    photo = _soft(work / "photo.png", (0.4, 0.5, 0.45))
    net = load_model(model_file)
    for run, grain in enumerate((0.0, 0.02)):
        stylize_files(net, [work / "photo.png"], [work / "style1.png"], StylizeOptions(
            size=0, style_size=0, grain=grain, output=work / f"{run}.png"))
    result = stylize(model_file, "photo.png", "style1.png", "--size", "0", "--grain", "0.02",
                     "-o", "cli.png")
    assert result.exit_code == 0, result.stderr
    np.testing.assert_array_equal(seen[0], photo)
    difference = seen[1] - photo
    assert 0.015 < difference.std() < 0.025
    np.testing.assert_allclose(difference[..., 0], difference[..., 2], atol=1e-6)  # grey grain
    np.testing.assert_array_equal(seen[1], seen[2])


def test_grain_is_as_strong_in_each_pass_of_larger_strokes(
        work: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--stroke-scale 2: the half-size first pass gets its grain after shrinking, not
    averaged away by it."""
    from lucid.models.store import load_model
    from lucid_cli.images import resize_to

    seen = _spy_on_network_input(monkeypatch)
    Image.new("RGB", (48, 40), (120, 130, 125)).save(work / "flat.png")
    stylize_files(load_model(model_file), [work / "flat.png"], [work / "style1.png"],
                  StylizeOptions(size=0, style_size=0, grain=0.02, stroke_scale=2,
                                 output=work / "out.png"))
    flat = np.asarray(Image.open(work / "flat.png"), np.float32) / 255
    assert [picture.shape[:2] for picture in seen] == [(20, 24), (40, 48)]
    assert 0.015 < (seen[0] - resize_to(flat, (20, 24))).std() < 0.025


def test_grain_out_of_range_is_refused() -> None:
    with pytest.raises(OptionError, match="grain"):
        StylizeOptions(grain=0.5)


@pytest.mark.parametrize("grain", ["-0.1", "0.5"])
def test_grain_out_of_range_is_a_usage_error(work: Path, model_file: Path, grain: str) -> None:
    result = stylize(model_file, "content.jpg", "style1.png", "--grain", grain)
    assert result.exit_code == 2
    assert "--grain" in result.stderr
