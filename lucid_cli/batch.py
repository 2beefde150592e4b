"""The engine behind ``lucid stylize``: many contents x many styles, one file per result.

Plain Python (no Typer, no Rich): :func:`plan_batch` turns input paths and
:class:`StylizeOptions` into jobs (one output file each), :func:`run_batch` carries them out
with a loaded model and reports progress through a callback receiving small frozen events.
A problem with one pair (a broken image, an unwritable file) is recorded and the batch goes
on; problems with the options as a whole raise :class:`OptionError` before anything runs.

Example:
    >>> from pathlib import Path
    >>> options = StylizeOptions(size=256, alpha=0.8)
    >>> options.size, options.alpha
    (256, 0.8)
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lucid.imagefile import os_error_reason
from lucid_cli.color import lab_statistics, match_color_histogram, recolor, transfer_luminance
from lucid_cli.images import (
    MAX_IMAGE_PIXELS,
    SUPPORTED_INPUT_SUFFIXES,
    SUPPORTED_OUTPUT_FORMATS,
    ImageError,
    center_crop_square,
    check_output_size,
    load_image,
    resize_to,
    save_image,
    shorter_side_shape,
)

if TYPE_CHECKING:  # the model stack is heavy; importing this module must stay cheap
    from lucid.models.inference import StyleStatistics
    from lucid.models.stylenet import StyleNet

__all__ = [
    "BatchPlan",
    "BatchSummary",
    "DEFAULT_OUTPUT_DIR",
    "Event",
    "Job",
    "OUTPUT_FORMATS",
    "OptionError",
    "PairDone",
    "PairFailed",
    "PairSkipped",
    "PairStarted",
    "MAX_GRAIN",
    "MAX_STROKE_SCALE",
    "PRESERVE_COLOR_MODES",
    "StylizeOptions",
    "encode_style",
    "expand_inputs",
    "output_name",
    "paint",
    "parse_weights",
    "plan_batch",
    "run_batch",
    "stylize_files",
]

#: Where results go when no ``output`` is given.
DEFAULT_OUTPUT_DIR = Path("output")
#: ``format`` values: the output file suffix without the dot.
OUTPUT_FORMATS: tuple[str, ...] = ("jpg", "png", "webp", "tiff")
#: ``preserve_color`` values (None keeps the style's colours).
PRESERVE_COLOR_MODES: tuple[str, ...] = ("luminance", "histogram")
MAX_STROKE_SCALE = 4
MAX_GRAIN = 0.25

# Blend names longer than this (bytes, as the file system counts) are shortened.
_MAX_LABEL = 120
# The longest file name (bytes) common file systems take; longer output names are shortened.
_MAX_NAME = 255


# what ends a path naming a folder: "/" everywhere, and "\\" on Windows
_SEPARATORS = tuple({"/", os.sep, os.altsep or "/"})
_TOO_LARGE = "weights too large: their sum is not a finite number"


class OptionError(ValueError):
    """Options that do not fit together or with the inputs: a usage error naming the option."""

    def __init__(self, option: str, message: str) -> None:
        self.option = option
        self.message = message
        super().__init__(f"{option}: {message}")


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class StylizeOptions:
    """Everything that shapes a batch, validated on construction (raises :class:`OptionError`).

    Attributes:
        size: shorter side of each output in pixels; 0 keeps the content's size.
        style_size: shorter side the style is encoded at; 0 keeps its size.
        crop: take the centred square of content and style (and mask) first.
        alpha: 1 = full style, 0 = the content reconstructed.
        weights: blend all styles into one output per content with these weights
            (normalised to sum 1); None = one output per (content, style) pair.
        mask: a greyscale image; with exactly two styles, white takes the first style and
            black the second (one output per content).
        preserve_color: None, "luminance" (keep the content's chroma after stylising) or
            "histogram" (recolour the style to the content's colour statistics first).
        stroke_scale: 1 paints in one pass; 2 to 4 paint brush strokes that many times
            larger: the content is first painted at 1/stroke_scale of its size (with the
            style encoded at 1/stroke_scale of ``style_size``), and the enlarged result is
            repainted at full size, which keeps the big strokes and adds fine ones
            (neural-style's multi-resolution recipe). ``weights`` and ``mask`` apply to both
            passes; ``alpha`` < 1 brings the content's own features back at the last (0: the
            content).
        output: a file when the batch has exactly one result, else a folder
            (default ``output/``). A string ending in a path separator (``"out.png/"``)
            is taken as a folder whatever its suffix; it is stored as a Path, with
            ``output_is_dir`` set.
        output_is_dir: ``output`` is a folder (created if missing) even if its name has a
            suffix; without it, a path that is no folder yet is a file when it has a suffix.
        format: output format ("jpg", "png", "webp", "tiff"); default: the content's own
            when it can be written, else PNG.
        quality: JPEG/WebP quality 1..100.
        overwrite: replace existing outputs (otherwise they are skipped).
        recursive: look into sub-folders of input folders.
        workers: threads that decode the next content and encode and write finished
            images while the network runs; 0 does everything in turn on the calling thread.
            None (default): 2 when the network runs on a GPU, else 0. On a CPU the network
            already keeps every core busy: on 2 cores a 5 x 5 batch at 512 px took 34.0 s
            with 2 workers and 34.4 s without (best of 3 interleaved rounds), and one
            single run was slower with them (33 s against 24 s), a thread preempting one of
            BLAS's stalling the other.
        recolor: recolour the content to the painting's colours first (Lab mean and std,
            Reinhard's colour transfer; for a blend, the styles' statistics mixed by weight or
            by mask), so that ``alpha`` < 1 brings back the photo's forms in the painting's
            palette rather than the photo's own colours.
        grain: Gaussian grain of this std added to the content (after ``recolor``) so that
            flat regions (a white background, a clear sky) get brush strokes too instead of
            a flat tone with the strokes gathered round the edges; 0.02 is plenty, 0 (the
            default) paints the photo as it is. Seeded: the same picture repaints alike.
    """

    size: int = 512
    style_size: int = 512
    crop: bool = False
    alpha: float = 1.0
    weights: tuple[float, ...] | None = None
    mask: Path | None = None
    preserve_color: str | None = None
    stroke_scale: int = 1
    output: Path | None = None
    output_is_dir: bool = False
    format: str | None = None
    quality: int = 95
    overwrite: bool = False
    recursive: bool = False
    workers: int | None = None
    recolor: bool = False
    grain: float = 0.0

    def __post_init__(self) -> None:
        if self.output == "":  # an unset "$OUT" in a script: not the current folder
            raise OptionError("output", "is empty: give a file or a folder")
        if self.output == "-":  # read as standard output; a folder named '-' is './-'
            raise OptionError("output", "'-' (standard output) is not supported: give a file "
                                        "or a folder ('./-' for a folder of that name)")
        if isinstance(self.output, str):  # a Path would have dropped a trailing separator
            if self.output.endswith(_SEPARATORS):
                object.__setattr__(self, "output_is_dir", True)
            object.__setattr__(self, "output", Path(self.output))
        if self.size < 0:
            raise OptionError("size", f"must be >= 0, got {self.size}")
        if self.style_size < 0:
            raise OptionError("style_size", f"must be >= 0, got {self.style_size}")
        if not 1 <= self.stroke_scale <= MAX_STROKE_SCALE:
            raise OptionError("stroke_scale",
                              f"must be in 1..{MAX_STROKE_SCALE}, got {self.stroke_scale}")
        if not 0.0 <= self.alpha <= 1.0:
            raise OptionError("alpha", f"must be in [0, 1], got {self.alpha}")
        if self.workers is not None and self.workers < 0:
            raise OptionError("workers", f"must be >= 0, got {self.workers}")
        if not 1 <= self.quality <= 100:
            raise OptionError("quality", f"must be in 1..100, got {self.quality}")
        if self.preserve_color is not None and self.preserve_color not in PRESERVE_COLOR_MODES:
            raise OptionError("preserve_color", f"must be one of {', '.join(PRESERVE_COLOR_MODES)}"
                                                f", got {self.preserve_color!r}")
        if not 0.0 <= self.grain <= MAX_GRAIN:
            raise OptionError("grain", f"must be in [0, {MAX_GRAIN}], got {self.grain}")
        if self.recolor and self.preserve_color is not None:
            raise OptionError("recolor", "cannot be combined with preserving the photo's "
                                         "colours: it takes the painting's")
        if self.format is not None and self.format not in OUTPUT_FORMATS:
            raise OptionError("format", f"must be one of {', '.join(OUTPUT_FORMATS)}, "
                                        f"got {self.format!r}")
        if self.weights is not None:
            # normalised here so every consumer sees the same, documented numbers
            try:
                object.__setattr__(self, "weights", normalise_weights(self.weights))
            except ValueError as error:
                raise OptionError("weights", str(error)) from None
        if self.weights is not None and self.mask is not None:
            raise OptionError("weights", "cannot be combined with a mask; use one or the other")

    @property
    def blends(self) -> bool:
        """True when every content gets ONE output mixing all styles."""
        return self.weights is not None or self.mask is not None


def normalise_weights(values: Sequence[float]) -> tuple[float, ...]:
    """Blend weights scaled to sum to 1; ValueError saying what is wrong with them.

    >>> normalise_weights([1, 3])
    (0.25, 0.75)
    """
    if not all(np.isfinite(values)):
        raise ValueError("weights must be finite numbers")
    if any(v < 0 for v in values):
        raise ValueError("weights must be non-negative")
    total = float(sum(values))
    if not np.isfinite(total):  # 1e308,1e308: each finite, their sum not
        raise ValueError(_TOO_LARGE)
    if total <= 0:
        raise ValueError("at least one weight must be positive")
    return tuple(float(v) / total for v in values)


def parse_weights(text: str) -> tuple[float, ...]:
    """``"0.5,0.3,0.2"`` -> normalised weights summing to 1; ValueError saying what is wrong.

    >>> parse_weights("1, 3")
    (0.25, 0.75)
    """
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"{text!r} is not a comma-separated list of numbers") from None
    try:
        return normalise_weights(values)
    except ValueError as error:
        raise ValueError(f"{text!r}: {error}") from None


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class InputFile:
    """An input image and the sub-folder (relative to the folder it was found in) it sits in;
    outputs of a recursive run mirror that sub-folder so equal names do not collide."""

    path: Path
    subdir: Path = Path()


def expand_inputs(paths: Sequence[Path], recursive: bool = False
                  ) -> tuple[list[InputFile], list[tuple[Path, str]]]:
    """Files named directly, plus the images inside named folders (sorted by name).

    A file named directly is kept whatever its suffix (loading it says clearly if it is no
    image); inside folders only known image suffixes count, and hidden files are ignored
    (they include the temporary files of an interrupted save). Returns the files and the
    problems found: unreadable folders, folders without images. The same file named twice
    is kept once.
    """
    found, problems = _list_inputs(paths, recursive)
    return _unique(found)[0], problems


def _is_folder(path: Path) -> bool:
    """``path.is_dir()``, False where the path cannot even be looked up (a name too long):
    then it is a file that fails on its own, with its name, and the batch goes on."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _list_inputs(paths: Sequence[Path], recursive: bool
                 ) -> tuple[list[InputFile], list[tuple[Path, str]]]:
    """:func:`expand_inputs` before a file found twice is dropped."""
    found: list[InputFile] = []
    problems: list[tuple[Path, str]] = []
    for path in paths:
        path = Path(path)
        if not _is_folder(path):
            found.append(InputFile(path))  # missing files fail later, with the file's name
            continue
        before = len(found)
        errors: list[OSError] = []
        for root, dirs, files in os.walk(path, onerror=errors.append):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
            subdir = Path(root).relative_to(path)
            for name in sorted(files):
                if not name.startswith(".") and Path(name).suffix.lower() in \
                        SUPPORTED_INPUT_SUFFIXES:
                    found.append(InputFile(Path(root) / name, subdir))
        for error in errors:
            where = Path(error.filename) if error.filename else path
            problems.append((where, f"cannot read folder: {os_error_reason(error)}"))
        if len(found) == before and not errors:
            kind = "images (also in sub-folders)" if recursive else \
                "images (use --recursive for sub-folders)"
            problems.append((path, f"folder holds no {kind}"))
    return found, problems


def _unique(found: Sequence[InputFile]) -> tuple[list[InputFile], dict[Path, int]]:
    """Each file once (the first time it was found), and how often each file found more
    than once was, under the path it is kept as."""
    first: dict[Path, InputFile] = {}
    times: dict[Path, int] = {}
    for item in found:
        key = _resolved(item.path)
        first.setdefault(key, item)
        times[key] = times.get(key, 0) + 1
    repeated = {first[key].path: n for key, n in times.items() if n > 1}
    return list(first.values()), repeated


def _repeats_note(repeated: dict[Path, int]) -> str:
    """`` (a.jpg was given 2 times and is used once)``, or "" when nothing was repeated."""
    if not repeated:
        return ""
    said = ", ".join(f"{path} was given {n} times" for path, n in repeated.items())
    return f" ({said} and is used once)" if len(repeated) == 1 else \
        f" ({said}; each is used once)"


@dataclass(frozen=True)
class Job:
    """One output file: ``content`` painted with ``styles`` (one, or all of them blended)."""

    content: Path
    styles: tuple[Path, ...]
    output: Path


@dataclass(frozen=True)
class BatchPlan:
    """The jobs of a batch and the input problems found while listing folders."""

    jobs: tuple[Job, ...]
    problems: tuple[tuple[Path, str], ...] = ()
    output_is_file: bool = False


def _label(stems: Sequence[str]) -> str:
    label = "+".join(stems)
    if len(os.fsencode(label)) <= _MAX_LABEL:
        return label
    # too long for a file name: keep the first style, count the rest, hash all for uniqueness
    digest = hashlib.sha1(os.fsencode(label)).hexdigest()[:8]
    return f"{_prefix(stems[0], 60)}+{len(stems) - 1}more-{digest}"


def _prefix(text: str, size: int) -> str:
    """The longest start of ``text`` that takes at most ``size`` bytes in a file name."""
    text = text[:size]  # no character takes less than a byte
    while len(os.fsencode(text)) > size:
        text = text[:-1]
    return text


def _fit_stem(stem: str, tail: str) -> str:
    """``stem``, or when ``stem + tail`` is too long for a file name, a readable start of it
    and a hash of all of it (so two long stems alike at the start still differ)."""
    room = _MAX_NAME - len(os.fsencode(tail))
    if len(os.fsencode(stem)) <= room:
        return stem
    digest = hashlib.sha1(os.fsencode(stem)).hexdigest()[:8]
    return f"{_prefix(stem, room - len(digest) - 1)}-{digest}"


def output_name(content: Path, styles: Sequence[Path], suffix: str) -> str:
    """``<content>_stylized_<style>.<ext>``; a blend joins the style names with ``+``.

    A name longer than a file name may be (255 bytes) has its style part and then its
    content part shortened, each keeping its start and a hash of the whole.

    >>> output_name(Path("cat.jpg"), [Path("a/wave.png"), Path("b/night.jpg")], ".png")
    'cat_stylized_wave+night.png'
    """
    tail = f"_stylized_{_label([s.stem for s in styles])}{suffix}"
    return _fit_stem(content.stem, tail) + tail


def _inputs_tag(content: Path, styles: Sequence[Path]) -> str:
    """8 hex digits that name one job's inputs (their resolved paths)."""
    key = b"\0".join(os.fsencode(_resolved(path)) for path in (content, *styles))
    return hashlib.sha1(key).hexdigest()[:8]


def _suffix_for(content: Path, options: StylizeOptions) -> str:
    if options.format is not None:
        return f".{options.format}"
    own = content.suffix.lower()
    # formats Pillow reads but cannot write well (GIF: 256 colours) become PNG
    return own if own in SUPPORTED_OUTPUT_FORMATS else ".png"


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # symlink loops and the like: compare as written
        return Path(os.path.abspath(path))


def _target(folder: Path, item: InputFile, styles: Sequence[Path],
            options: StylizeOptions) -> Path:
    """Where a job of ``item`` with ``styles`` writes in ``folder``, untagged."""
    return folder / item.subdir / output_name(item.path, styles, _suffix_for(item.path, options))


def _tagged(target: Path, content: Path, styles: Sequence[Path]) -> Path:
    """``target`` with a short tag of the job's inputs, for jobs that would share a name."""
    tail = f"-{_inputs_tag(content, styles)}{target.suffix}"
    return target.with_name(_fit_stem(target.stem, tail) + tail)


def _without_outputs(content_files: Sequence[InputFile], style_files: Sequence[InputFile],
                     styles: Sequence[Path], options: StylizeOptions) -> list[InputFile]:
    """``style_files`` less the ones found in a style folder that are this batch's outputs,
    written by an earlier run (-r over the folder that holds output/, -o into the style
    folder): painted with, each re-run would add pictures and refuse to overwrite its own
    inputs. A style named directly stays (the run refuses it as an output, naming it)."""
    folder = _resolved(options.output if options.output is not None else DEFAULT_OUTPUT_DIR)
    given = {_resolved(Path(path)) for path in styles}
    prefixes = tuple(f"{item.path.stem}_stylized_" for item in content_files)
    suspects = {key for item in style_files
                if (key := _resolved(item.path)) not in given
                and (key == folder or key.is_relative_to(folder)
                     and item.path.name.startswith(prefixes))}
    if not suspects:
        return list(style_files)
    kept = tuple(item.path for item in style_files if _resolved(item.path) not in suspects)
    outputs = {folder}  # the -o file itself
    for item in content_files:
        for job_styles in [kept] if options.blends else [(s.path,) for s in style_files]:
            target = _target(folder, item, job_styles, options)
            outputs |= {_resolved(target), _resolved(_tagged(target, item.path, job_styles))}
    return [item for item in style_files if _resolved(item.path) not in suspects & outputs]


def plan_batch(contents: Sequence[Path], styles: Sequence[Path],
               options: StylizeOptions) -> BatchPlan:
    """List the jobs: every (content, style) pair, or one blend per content.

    Raises :class:`OptionError` for options that do not fit the inputs (weights count,
    a mask without exactly two styles, a file ``output`` for several results).
    """
    content_files, problems = expand_inputs(contents, options.recursive)
    style_files, style_problems = _list_inputs(styles, options.recursive)
    style_files, repeated = _unique(style_files)
    style_files = _without_outputs(content_files, style_files, styles, options)
    problems += style_problems
    # a blend of "whatever styles could be read" is not what was asked for: no jobs then,
    # and the unreadable style folder is the one problem reported (not a miscount)
    blend_broken = options.blends and bool(style_problems)
    if blend_broken:
        style_files = []
    elif options.weights is not None and len(options.weights) != len(style_files):
        count = len(style_files)
        raise OptionError("weights", f"{len(options.weights)} weights given for {count} "
                                     f"style{'s' if count != 1 else ''}"
                                     f"{_repeats_note(repeated)}; give one weight per style")
    if options.mask is not None and not blend_broken and len(style_files) != 2:
        raise OptionError("mask", f"needs exactly two styles, got {len(style_files)}"
                                  f"{_repeats_note(repeated)}")

    style_paths = tuple(item.path for item in style_files)
    if options.blends:
        pairs = [(item, style_paths) for item in content_files] if style_paths else []
    else:
        pairs = [(item, (style,)) for item in content_files for style in style_paths]

    output = options.output
    output_is_file = False
    if output is not None and not options.output_is_dir and not output.is_dir() and \
            output.suffix:
        if output.suffix.lower() not in SUPPORTED_OUTPUT_FORMATS:
            supported = ", ".join(SUPPORTED_OUTPUT_FORMATS)
            raise OptionError("output", f"{output}: unsupported format '{output.suffix}' "
                                        f"(supported: {supported}); a trailing '/' makes "
                                        "it a folder")
        if len(pairs) > 1:
            raise OptionError("output", f"{output} names a file, but there are {len(pairs)} "
                                        "results; give a folder")
        if options.format is not None and \
                SUPPORTED_OUTPUT_FORMATS[output.suffix.lower()] != \
                SUPPORTED_OUTPUT_FORMATS[f".{options.format}"]:
            raise OptionError("format", f"{options.format} contradicts the output file {output}")
        output_is_file = len(pairs) <= 1  # none at all: still a file, not a folder to make
    folder = output if output is not None else DEFAULT_OUTPUT_DIR
    if not output_is_file and folder.exists() and not folder.is_dir():
        raise OptionError("output", f"{folder} is a file, not a folder")

    targets = [output if output_is_file else _target(folder, item, job_styles, options)
               for item, job_styles in pairs]
    # jobs that would share a name (x.jpg and x.png; a/x.jpg and b/x.jpg; two wave.jpg
    # styles) must not overwrite each other: each gets a tag of its own inputs, the same
    # whatever else the batch holds, so a re-run after a new photo arrived paints it
    # instead of skipping it as done
    shared = Counter(_resolved(target) for target in targets)
    jobs = []
    for (item, job_styles), target in zip(pairs, targets, strict=True):
        if not output_is_file and shared[_resolved(target)] > 1:
            target = _tagged(target, item.path, job_styles)
        jobs.append(Job(item.path, job_styles, target))
    # a file this batch writes is not one of its contents: a folder that holds the outputs of
    # an earlier run (-o into the content folder, output/ under a recursive one) must not
    # have them painted again, so that the re-run skips what exists and does nothing else
    # (a job whose output is its own content stays: the run refuses it, naming the file)
    # (the names without tags too: an earlier run may have written one before a collision)
    taken = {_resolved(target) for target in targets} | {_resolved(job.output) for job in jobs}
    jobs = [job for job in jobs if _resolved(job.content) not in taken
            or _resolved(job.content) == _resolved(job.output)]
    return BatchPlan(tuple(jobs), tuple(problems), output_is_file)


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class PairStarted:
    """Work on job ``index`` (1-based) of ``total`` begins."""

    index: int
    total: int
    content: Path
    styles: tuple[Path, ...]
    output: Path


@dataclass(frozen=True)
class PairDone:
    """Job ``index`` was written to ``output`` in ``seconds``."""

    index: int
    total: int
    content: Path
    styles: tuple[Path, ...]
    output: Path
    seconds: float


@dataclass(frozen=True)
class PairSkipped:
    """Job ``index`` was not run: ``output`` exists and overwriting was not asked for."""

    index: int
    total: int
    content: Path
    styles: tuple[Path, ...]
    output: Path
    reason: str


@dataclass(frozen=True)
class PairFailed:
    """Job ``index`` failed because of ``path`` (an input, or the output): ``message`` says
    why in one line; ``error`` is the exception, for tracebacks in debug mode."""

    index: int
    total: int
    content: Path
    styles: tuple[Path, ...]
    path: Path
    message: str
    error: BaseException | None = field(default=None, compare=False)


@dataclass(frozen=True)
class TileDone:
    """Job ``index`` is processed in tiles (large images): ``done`` of ``tiles`` finished."""

    index: int
    total: int
    done: int
    tiles: int


Event = PairStarted | PairDone | PairSkipped | PairFailed | TileDone


@dataclass
class BatchSummary:
    """What a batch did: outputs written and skipped, failures as (file, reason), time."""

    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failed


# --------------------------------------------------------------------------- running

# Exceptions that belong to one pair: recorded, and the batch goes on. Anything else is a
# bug or an interruption and propagates.
_PAIR_ERRORS = (ImageError, ValueError, OSError, MemoryError)

# pictures up to one tile's core (``TILE_SIZE`` in lucid.models.inference) are painted several at
# a time on the CPU: memory then holds that many tiles' work, as a larger picture holds one
LANE_PIXELS = 768 * 768


class _PairError(Exception):
    """A pair failed because of ``path``; wraps the original error."""

    def __init__(self, path: Path, message: str, error: BaseException) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message
        self.error = error


def _blame(error: BaseException, fallback: Path) -> _PairError:
    """The file an error is about and a one-line reason."""
    if isinstance(error, _PairError):
        return error
    if isinstance(error, ImageError):
        return _PairError(Path(error.path), error.reason, error)
    if isinstance(error, MemoryError):
        return _PairError(fallback, "out of memory; try a smaller --size or --style-size",
                          error)
    if isinstance(error, OSError) and error.filename:
        return _PairError(Path(os.fsdecode(error.filename)), os_error_reason(error), error)
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    return _PairError(fallback, message, error)


def _fit(image: np.ndarray, size: int, crop: bool,
         full_size: tuple[int, int] | None = None) -> np.ndarray:
    """Centred square (if ``crop``), then the shorter side to ``size`` (0 keeps), at the
    proportions of ``full_size`` when ``image`` is a reduced copy of a picture that size
    (``LoadedImage.full_size``)."""
    shape = full_size or image.shape[:2]
    if crop:
        image = center_crop_square(image)
        shape = (min(shape),) * 2
    return resize_to(image, shorter_side_shape(shape, size))


def _check_pixels(path: Path, shape: tuple[int, ...], size: int, crop: bool,
                  style: bool = False) -> None:
    """Refuse outputs (with ``style``: styles read at ``size``) no one could hold in memory,
    e.g. a 1x4000 strip scaled to 512 wide."""
    height, width = shape[:2]
    if crop:
        height = width = min(height, width)
    height, width = shorter_side_shape((height, width), size)
    if height * width > MAX_IMAGE_PIXELS:
        what, option = ("the style would be read at", "--style-size") if style else \
            ("the output would be", "--size")
        raise ImageError(path, f"{what} {width}x{height} pixels, more than "
                               f"{MAX_IMAGE_PIXELS:,}; use a smaller {option} or --crop")


def _read_fitted(path: Path, size: int, crop: bool, style: bool = False
                 ) -> tuple[np.ndarray, np.ndarray | None]:
    """``path``'s picture (read reduced when far larger than needed) checked by
    :func:`_check_pixels` and fitted by :func:`_fit`: (rgb, alpha; a style's alpha None)."""
    loaded = load_image(path, size)
    full_size = loaded.full_size or loaded.size
    _check_pixels(path, full_size, size, crop, style)
    alpha = None if loaded.alpha is None or style else _fit(loaded.alpha, size, crop, full_size)
    return _fit(loaded.rgb, size, crop, full_size), alpha


class _Inputs:
    """Loads each content once, each style and the mask once, and encodes each style once.

    Failures are remembered too, so a broken style fails every pair it is in with the same
    message without being read again.
    """

    def __init__(self, model: StyleNet, options: StylizeOptions,
                 pool: ThreadPoolExecutor | None = None) -> None:
        self.model = model
        self.options = options
        self._pool = pool
        self._content_key: Path | None = None
        self._content: Future | None = None
        self._style_pixels: dict[Path, np.ndarray | BaseException] = {}
        self._statistics: dict[tuple, list[StyleStatistics] | BaseException] = {}
        self._palettes: dict[Path, tuple[np.ndarray, np.ndarray]] = {}
        self._mask: np.ndarray | BaseException | None = None

    def prefetch(self, path: Path) -> None:
        """Start decoding ``path`` on a worker thread (a no-op without workers); jobs come
        content by content, so only the latest content is kept."""
        if self._content_key != path:
            self._content_key = path
            self._content = _submit(self._pool, self._load_content, path)

    def content(self, path: Path) -> tuple[np.ndarray, np.ndarray | None]:
        """The content as it will be painted (cropped, resized) and its alpha, if any."""
        self.prefetch(path)
        return self._unwrap(self._content.result())

    def _load_content(self, path: Path) -> tuple[np.ndarray, np.ndarray | None] | _PairError:
        try:
            return _read_fitted(path, self.options.size, self.options.crop)
        except _PAIR_ERRORS as error:
            return _blame(error, path)

    def statistics(self, style: Path, content: Path, content_rgb: np.ndarray
                   ) -> list[StyleStatistics]:
        """The style's AdaIN statistics for each pass (see ``stroke_scale``: the first pass
        paints at 1/stroke_scale), encoded once per run (once per content when the style is
        recoloured to each content's colours)."""
        recolour = self.options.preserve_color == "histogram"
        key = (style, self.options.style_size, self.options.crop, content if recolour else None)
        if key not in self._statistics:
            try:
                pixels = self._style(style)
                if recolour:
                    pixels = match_color_histogram(pixels, content_rgb)
                if self.options.recolor:
                    self._palettes[style] = lab_statistics(pixels)
                self._statistics[key] = encode_style(self.model, pixels,
                                                     self.options.stroke_scale)
            except (_PairError, *_PAIR_ERRORS) as error:
                self._statistics[key] = _blame(error, style)
        return self._unwrap(self._statistics[key])

    def palettes(self, styles: Sequence[Path]) -> list[tuple[np.ndarray, np.ndarray]] | None:
        """With ``recolor``, each style's Lab mean and std (read when :meth:`statistics`
        encoded it); else None."""
        return [self._palettes[style] for style in styles] if self.options.recolor else None

    def _style(self, path: Path) -> np.ndarray:
        if path not in self._style_pixels:
            try:
                self._style_pixels[path], _ = _read_fitted(path, self.options.style_size,
                                                           self.options.crop, style=True)
            except _PAIR_ERRORS as error:
                self._style_pixels[path] = _blame(error, path)
        pixels = self._style_pixels[path]
        if self.options.preserve_color != "histogram":
            # encoded once and never needed again: keep the statistics, not the pixels
            del self._style_pixels[path]
        return self._unwrap(pixels)

    def mask(self, shape: tuple[int, int]) -> np.ndarray | None:
        """The mask as luminance in [0, 1], fitted to the output's ``shape``."""
        path = self.options.mask
        if path is None:
            return None
        if self._mask is None:
            try:
                loaded = load_image(path)  # fitted to each content's shape: kept whole
                grey = loaded.rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
                self._mask = center_crop_square(grey) if self.options.crop else grey
            except _PAIR_ERRORS as error:
                self._mask = _blame(error, path)
        return resize_to(self._unwrap(self._mask), shape)

    @staticmethod
    def _unwrap(value):  # noqa: ANN001, ANN205 - a cached value or a cached failure
        if isinstance(value, BaseException):
            raise value
        return value


def _submit(pool: ThreadPoolExecutor | None, fn: Callable, *args: object) -> Future:
    """``fn(*args)`` on the pool, or right here (as an already finished future) without one.

    An interrupt (Ctrl-C) is raised here and now, not stored for whoever asks for the result:
    stored, it would surface only after the next picture had been painted and written.
    """
    if pool is not None:
        return pool.submit(fn, *args)
    future: Future = Future()
    try:
        future.set_result(fn(*args))
    except Exception as error:  # noqa: BLE001 - handed to whoever asks for the result
        future.set_exception(error)
    return future


def _pass_scales(stroke_scale: int) -> list[int]:
    """How much smaller than the output each painting pass works: [stroke_scale, 1] or [1]."""
    return [stroke_scale, 1] if stroke_scale > 1 else [1]


def _shrink(image: np.ndarray, scale: int, min_side: int = 1) -> np.ndarray:
    """``image`` at 1/scale of its size, each side at least ``min_side`` (a side that would be
    shorter is stretched to it, whatever the image's own size); itself when that changes
    nothing."""
    height, width = image.shape[:2]
    shape = (max(round(height / scale), min_side), max(round(width / scale), min_side))
    return image if shape == (height, width) else resize_to(image, shape)


def encode_style(model: StyleNet, style: np.ndarray, stroke_scale: int = 1
                 ) -> list[StyleStatistics]:
    """A style's AdaIN statistics for each pass of :func:`paint`: with stroke_scale > 1 the
    first at 1/stroke_scale of the style's size. No pass sees a style side shorter than 4
    encoder strides, a smaller one is stretched to that: a tiny style would leave its deepest
    features too few positions for a standard deviation (a NaN, hence a black picture)."""
    from lucid.models.inference import style_statistics

    _check_stroke_scale(stroke_scale)
    return [style_statistics(model, _shrink(style, scale, 4 * model.stride))
            for scale in _pass_scales(stroke_scale)]


def _check_stroke_scale(stroke_scale: int) -> None:
    if isinstance(stroke_scale, bool) or not isinstance(stroke_scale, int) or stroke_scale < 1:
        raise ValueError(f"stroke_scale must be an integer >= 1, got {stroke_scale!r}")


def paint(model: StyleNet, content: np.ndarray, styles: Sequence[list[StyleStatistics]],
          stroke_scale: int = 1, weights: Sequence[float] | None = None, alpha: float = 1.0,
          mask: np.ndarray | None = None,
          on_tile: Callable[[int, int], None] | None = None, grain: float = 0.0) -> np.ndarray:
    """``content`` repainted in one pass, or (``stroke_scale`` > 1, see
    :class:`StylizeOptions`) first at 1/stroke_scale of its size and then, enlarged, at full
    size. ``styles`` holds each style's :func:`encode_style` for the same ``stroke_scale``;
    ``weights`` and ``mask`` are ``lucid.models.inference.stylize``'s, for every pass;
    ``alpha`` < 1 mixes the content's own features back in at the last pass (the passes
    before paint at full style), so that 0 gives the content at any ``stroke_scale``;
    ``on_tile`` follows the last pass; ``grain`` (see :class:`StylizeOptions`) is added to
    each pass's input at the size that pass paints, so larger strokes get grain as strong.
    """
    from lucid.models.inference import add_grain, stylize

    _check_stroke_scale(stroke_scale)
    scales = _pass_scales(stroke_scale)
    if any(len(passes) != len(scales) for passes in styles):
        raise ValueError(f"each style needs statistics for {len(scales)} pass(es), from "
                         f"encode_style(model, style, {stroke_scale})")
    picture = content
    for step, scale in enumerate(scales):
        last = step == len(scales) - 1
        picture = stylize(model, add_grain(_shrink(picture, scale), grain),
                          [s[step] for s in styles],
                          weights=weights, alpha=alpha if last else 1.0,
                          mask=None if mask is None else _shrink(mask, scale),
                          on_tile=on_tile if last else None,
                          alpha_towards=add_grain(content, grain)
                          if step and alpha < 1.0 else None)
        if not last:
            picture = resize_to(picture, content.shape[:2])
    return picture


def _recolored(rgb: np.ndarray, opacity: np.ndarray | None,
               palettes: list[tuple[np.ndarray, np.ndarray]], options: StylizeOptions,
               mask: np.ndarray | None) -> np.ndarray:
    """The content in the styles' palette (``recolor``): one style's, two mixed under the
    mask (white takes the first), or several mixed by ``weights``; transparent pixels do not
    count towards the content's own colours."""
    if len(palettes) == 1:
        target = palettes[0]
    elif mask is not None:
        share = mask[..., None].astype(np.float64)
        (mean_a, std_a), (mean_b, std_b) = palettes
        target = (share * mean_a + (1 - share) * mean_b, share * std_a + (1 - share) * std_b)
    else:
        weights = np.asarray(options.weights)[:, None]
        target = ((weights * [m for m, _ in palettes]).sum(0),
                  (weights * [d for _, d in palettes]).sum(0))
    return recolor(rgb, *target, weights=opacity)


def _paint(model: StyleNet, rgb: np.ndarray, opacity: np.ndarray | None,
           statistics: list[list[StyleStatistics]],
           palettes: list[tuple[np.ndarray, np.ndarray]] | None, mask: np.ndarray | None,
           options: StylizeOptions, content: Path,
           on_tile: Callable[[int, int], None] | None = None) -> np.ndarray | _PairError:
    """The stylized picture, or the failure (blamed on the content) to report; with
    ``palettes`` (``recolor``) the content is recoloured to them first."""
    try:
        if palettes is not None:
            rgb = _recolored(rgb, opacity, palettes, options, mask)
        with np.errstate(over="ignore", invalid="ignore"):  # judged below, not warned of
            picture = paint(model, rgb, statistics, options.stroke_scale, options.weights,
                            options.alpha, mask, on_tile, options.grain)
    except _PAIR_ERRORS as error:
        return _blame(error, content)
    if not np.isfinite(picture).all():  # saved, it would be a black picture and no word
        source = getattr(model, "source", None)  # the file load_model read it from
        return _PairError(content, "the network painted NaN or infinite values (is the model "
                                   f"file{f' {source}' if source else ''} sound?)",
                          FloatingPointError("non-finite output"))
    return picture


def _write(job: Job, result: np.ndarray, rgb: np.ndarray, alpha: np.ndarray | None,
           options: StylizeOptions) -> bool:
    """Finish and save one result: True when written, False when the file appeared meanwhile
    (another run writing the same folder); :class:`_PairError` for anything else."""
    if options.preserve_color == "luminance":
        result = transfer_luminance(result, rgb)
    try:
        save_image(job.output, result, alpha, quality=options.quality,
                   overwrite=options.overwrite)
    except FileExistsError:
        return False
    except _PAIR_ERRORS as error:
        raise _blame(error, job.output) from error
    return True


def run_batch(model: StyleNet, plan: BatchPlan, options: StylizeOptions,
              on_event: Callable[[Event], None] | None = None) -> BatchSummary:
    """Carry out ``plan`` with ``model``; per-pair problems are recorded, never raised.

    ``on_event`` receives :class:`PairStarted` before each job and one of
    :class:`PairDone`, :class:`PairSkipped`, :class:`PairFailed` after it, always on the
    calling thread. With ``options.workers``, the next content is decoded and finished
    images are written while the network runs, so a job's outcome may arrive after the next
    job has started; at most ``workers`` results wait to be written. On the CPU, pictures of
    up to ``LANE_PIXELS`` are painted as many at a time as numpy's BLAS has threads, one thread
    each (``lucid.parallel.thread_map``); that changes neither the pictures nor the order of
    the outcomes (a pair's ``PairDone.seconds`` then includes the wait for its companions).
    """
    from lucid.parallel import default_workers, thread_map

    start = time.perf_counter()
    summary = BatchSummary(failed=list(plan.problems))
    emit = on_event or (lambda event: None)
    protected = {_resolved(job.content) for job in plan.jobs}
    protected |= {_resolved(style) for job in plan.jobs for style in job.styles}
    if options.mask is not None:
        protected.add(_resolved(options.mask))
    total = len(plan.jobs)
    pending: deque[tuple[Future, int, Job, float]] = deque()

    def skipped(index: int, job: Job) -> None:
        summary.skipped.append(job.output)
        emit(PairSkipped(index, total, job.content, job.styles, job.output,
                         "exists (use --overwrite to replace it)"))

    def failed(index: int, job: Job, failure: _PairError) -> None:
        summary.failed.append((failure.path, failure.message))
        emit(PairFailed(index, total, job.content, job.styles, failure.path,
                        failure.message, failure.error))

    def settle(keep: int) -> None:
        """Report finished writes in order; wait until at most ``keep`` are pending."""
        while pending and (len(pending) > keep or pending[0][0].done()):
            future, index, job, began = pending.popleft()
            try:
                written = future.result()
            except _PairError as failure:
                failed(index, job, failure)
                continue
            if not written:
                skipped(index, job)
                continue
            summary.written.append(job.output)
            emit(PairDone(index, total, job.content, job.styles, job.output,
                          time.perf_counter() - began))

    def hand_on(index: int, job: Job, began: float, rgb: np.ndarray,
                alpha: np.ndarray | None, tiles: list[tuple[int, int]],
                result: np.ndarray | _PairError) -> None:
        """A painted picture to the writers, or its failure to the report (with the tiles it
        was painted in, when painted on another thread)."""
        if tiles:
            emit(TileDone(index, total, *tiles[-1]))
        if isinstance(result, _PairError):
            failed(index, job, result)
            return
        pending.append((_submit(pool, _write, job, result, rgb, alpha, options), index, job,
                        began))
        settle(keep=workers)

    def report(outcome: Callable[[], None]) -> None:
        """An outcome known now, told after those of the pairs still waiting to be painted."""
        if waiting:
            waiting.append((None, lambda _: outcome()))
        else:
            outcome()

    def paint_waiting() -> None:
        """Paint the waiting small pictures at once, one thread each; outcomes in job order."""
        paints = [paint for paint, _ in waiting if paint is not None]
        results = iter(thread_map(lambda paint: paint(), paints, lanes))
        for paint, finish in waiting:
            finish(None if paint is None else next(results))
        waiting.clear()

    device = next(iter(model.parameters())).device
    workers = options.workers
    if workers is None:
        workers = 0 if device == "cpu" else 2
    pool = ThreadPoolExecutor(workers, "lucid-io") if workers else None
    inputs = _Inputs(model, options, pool)
    # pictures of up to LANE_PIXELS are painted `lanes` at a time on the CPU (numpy's passes
    # between the GEMMs use one core each); a larger one is painted alone, with live progress
    lanes = default_workers(device)
    waiting: list[tuple[Callable[[], np.ndarray | _PairError] | None,
                        Callable[[np.ndarray | _PairError | None], None]]] = []
    try:
        for index, job in enumerate(plan.jobs, start=1):
            emit(PairStarted(index, total, job.content, job.styles, job.output))
            began = time.perf_counter()
            try:
                if _resolved(job.output) in protected:
                    raise _PairError(job.output, "is one of the inputs; refusing to overwrite it",
                                     ValueError("output is an input"))
                if not options.overwrite and job.output.exists():
                    report(functools.partial(skipped, index, job))
                    continue
                rgb, alpha = inputs.content(job.content)
                try:  # before painting, so that no time is spent on a picture it cannot hold
                    check_output_size(job.output, *rgb.shape[:2])
                except ImageError as error:
                    raise _blame(error, job.output) from error
                statistics = [inputs.statistics(style, job.content, rgb) for style in job.styles]
                mask = inputs.mask(rgb.shape[:2])
                if index < total:
                    inputs.prefetch(plan.jobs[index].content)
                paint = functools.partial(_paint, model, rgb, alpha, statistics,
                                          inputs.palettes(job.styles), mask, options,
                                          job.content)
                if lanes > 1 and rgb.shape[0] * rgb.shape[1] <= LANE_PIXELS:
                    tiles: list[tuple[int, int]] = []  # progress, the last told when painted
                    waiting.append((
                        functools.partial(paint, on_tile=lambda *done, t=tiles: t.append(done)),
                        functools.partial(hand_on, index, job, began, rgb, alpha, tiles)))
                    if sum(work is not None for work, _ in waiting) == lanes:
                        paint_waiting()
                    continue
                paint_waiting()
                hand_on(index, job, began, rgb, alpha, [], paint(
                    on_tile=lambda done, tiles, i=index: emit(TileDone(i, total, done, tiles))))
            except _PairError as failure:
                report(functools.partial(failed, index, job, failure))
        paint_waiting()
        settle(keep=0)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    summary.seconds = time.perf_counter() - start
    return summary


def stylize_files(model: StyleNet, contents: Sequence[Path], styles: Sequence[Path],
                  options: StylizeOptions | None = None,
                  on_event: Callable[[Event], None] | None = None) -> BatchSummary:
    """Plan and run a batch in one call: the Python face of ``lucid stylize``.

    Problems found while listing folders count as failures in the summary.
    """
    options = options or StylizeOptions()
    return run_batch(model, plan_batch(contents, styles, options), options, on_event)
