"""``lucid stylize``: repaint photos in the style of paintings (Typer front of ``batch``).

Option parsing and the Rich display live here; the work is ``lucid_cli.batch``.
"""

from __future__ import annotations

import sys
import traceback
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from lucid_cli.app import app
from lucid_cli.batch import (
    DEFAULT_OUTPUT_DIR,
    MAX_GRAIN,
    MAX_STROKE_SCALE,
    BatchPlan,
    BatchSummary,
    Event,
    OptionError,
    PairDone,
    PairFailed,
    PairSkipped,
    PairStarted,
    StylizeOptions,
    TileDone,
    parse_weights,
    plan_batch,
    run_batch,
)
from lucid_cli.devices import DeviceChoice, resolve_device
from lucid_cli.errors import (
    console,
    error_console,
    interruptible,
    one_line,
    print_error,
    reported,
)


class PreserveColor(str, Enum):
    """How to keep the content's colours."""

    luminance = "luminance"
    histogram = "histogram"


class OutputFormat(str, Enum):
    """Output file formats."""

    jpg = "jpg"
    png = "png"
    webp = "webp"
    tiff = "tiff"


# StylizeOptions field -> the option a user typed, for usage errors
_OPTION_NAMES = {
    "size": "--size", "style_size": "--style-size", "alpha": "--alpha", "weights": "--weights",
    "mask": "--mask", "preserve_color": "--preserve-color", "output": "--output",
    "format": "--format", "quality": "--quality", "workers": "--workers",
    "stroke_scale": "--stroke-scale", "recolor": "--recolor", "grain": "--grain",
}


@app.command(no_args_is_help=True)
def stylize(
    # readable=False: Typer's own check would stop the whole batch with a usage error; an
    # unreadable file fails on its own, named in one line, and the batch goes on
    content: Annotated[Path, typer.Argument(
        metavar="CONTENT", show_default=False, readable=False,
        help="The photo to repaint, or a folder of photos (several contents: use a folder).")],
    styles: Annotated[list[Path], typer.Argument(
        metavar="STYLE", show_default=False, readable=False,
        help="One or more paintings (files or folders). Each content is painted with each "
             "style, unless --weights or --mask blend them into one picture.")],
    # a str, not a Path: a Path drops the trailing '/' that makes "out.png/" a folder
    output: Annotated[str | None, typer.Option(
        "-o", "--output", metavar="PATH", show_default=False,
        help="Output file (with an image suffix) when there is exactly one result, else a "
             "folder (default: output/); a trailing '/' always means a folder. "
             "Names: <content>_stylized_<style>.<ext>.")] = None,
    size: Annotated[int, typer.Option(
        min=0, help="Shorter side of the output in pixels; 0 keeps the content's size.")] = 512,
    style_size: Annotated[int, typer.Option(
        min=0, help="Shorter side the style is read at; 0 keeps its size.")] = 512,
    crop: Annotated[bool, typer.Option(
        "--crop", help="Use the centred square of the content and the style.")] = False,
    alpha: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="Style strength: 1 = full style, 0 = the content.")] = 1.0,
    recolor: Annotated[bool, typer.Option(
        "--recolor", help="Recolour the content to the painting's colours first (Reinhard), "
                          "so a lower --alpha keeps the photo's forms in the painting's "
                          "palette.")] = False,
    grain: Annotated[float, typer.Option(
        min=0.0, max=MAX_GRAIN,
        help="Add this much grain to the photo first (0.02 is plenty), so that flat areas "
             "such as a white background or a clear sky are painted with strokes too.")] = 0.0,
    weights: Annotated[str | None, typer.Option(
        metavar="W1,W2,...", show_default=False,
        help="Blend all styles into one output per content with these weights "
             "(one per style, normalised), e.g. 0.5,0.3,0.2.")] = None,
    preserve_color: Annotated[PreserveColor | None, typer.Option(
        case_sensitive=False, show_default=False,
        help="Keep the content's colours: 'luminance' transfers only brightness, "
             "'histogram' recolours the style to the content's colours first.")] = None,
    stroke_scale: Annotated[int, typer.Option(
        min=1, max=MAX_STROKE_SCALE,
        help="Brush strokes this many times larger: paint at 1/N size first, then repaint "
             "the enlarged result at full size (small details suffer from 3 on).")] = 1,
    mask: Annotated[Path | None, typer.Option(
        metavar="MASK", show_default=False, readable=False,
        help="Greyscale image; with exactly two styles, white takes the first style and "
             "black the second.")] = None,
    model: Annotated[str, typer.Option(
        metavar="NAME|PATH", help="Model name (see 'lucid models') or model file.")
    ] = "default",
    device: Annotated[DeviceChoice, typer.Option(
        case_sensitive=False, help="auto = the GPU when CuPy sees one.")] = DeviceChoice.auto,
    half: Annotated[bool, typer.Option(
        "--half", help="float16 weights and activations on the GPU: half the memory, tensor "
                       "cores. GPU only.")] = False,
    output_format: Annotated[OutputFormat | None, typer.Option(
        "--format", case_sensitive=False, show_default=False,
        help="Output format (default: the content's own; PNG for GIF).")] = None,
    quality: Annotated[int, typer.Option(min=1, max=100, help="JPEG/WebP quality.")] = 95,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace existing outputs (else they are skipped).")] = False,
    recursive: Annotated[bool, typer.Option(
        "--recursive", "-r", help="Look into sub-folders of input folders.")] = False,
    workers: Annotated[int | None, typer.Option(
        min=0, show_default=False,
        help="Threads that decode and write images while the network runs "
             "(0: all in turn; default 2 on a GPU, 0 on the CPU).")] = None,
    quiet: Annotated[bool, typer.Option(
        "-q", "--quiet", help="No progress or summary; errors only.")] = False,
    verbose: Annotated[bool, typer.Option(
        "-v", "--verbose", help="A status line per image.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Repaint CONTENT in the style of each STYLE.

    [bold]lucid stylize photo.jpg painting.jpg[/] writes output/photo_stylized_painting.jpg.

    Several contents: give a folder as CONTENT (--recursive for sub-folders).

    Exit code 1 when any image failed (the others are still written), 2 for usage errors.
    """
    blend = None
    if weights is not None:
        try:
            blend = parse_weights(weights)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="'--weights'") from None

    with reported(debug), interruptible():
        if half and resolve_device(device) != "gpu":
            raise typer.BadParameter(
                "needs a GPU (on a CPU numpy's float16 arithmetic is far slower than float32)",
                param_hint="'--half'")
        try:
            options = StylizeOptions(
                size=size, style_size=style_size, crop=crop, alpha=alpha, recolor=recolor,
                grain=grain, weights=blend,
                mask=mask, preserve_color=preserve_color.value if preserve_color else None,
                stroke_scale=stroke_scale,
                output=output, format=output_format.value if output_format else None,
                quality=quality, overwrite=overwrite, recursive=recursive,
                workers=workers)
            plan = plan_batch([content], styles, options)
        except OptionError as error:
            hint = _OPTION_NAMES.get(error.option, error.option)
            raise typer.BadParameter(error.message, param_hint=f"'{hint}'") from None

        reporter = _Reporter(verbose=verbose and not quiet, debug=debug)
        for path, message in plan.problems:
            reporter.error(path, message)
        if plan.jobs:
            net = _load_model(model, device, half)
            summary = _run(net, plan, options, reporter, quiet)
        else:
            summary = BatchSummary(failed=list(plan.problems))
        if not quiet:
            _print_summary(summary, plan, options)
    if summary.failed:
        raise typer.Exit(1)


def _load_model(name: str, device: DeviceChoice, half: bool = False):  # noqa: ANN202
    """Load the model (a StyleNet) and move it where it should run, in float16 with ``half``;
    CLIError when the GPU is missing."""
    import lucid
    from lucid.models.store import load_model

    net = load_model(name).to(resolve_device(device))
    return net.to(lucid.float16) if half else net


class _Reporter:
    """Turns batch events into Rich output: bar, verbose lines, one stderr line per problem."""

    def __init__(self, verbose: bool, debug: bool) -> None:
        self.verbose = verbose
        self.debug = debug
        self.progress: Progress | None = None
        self.task = None
        self.tile_task = None
        self._reported: set[tuple[str, str]] = set()

    def error(self, path: Path, message: str, error: BaseException | None = None) -> None:
        """``error: <file>: <what>`` on stderr, once per file and reason (a broken style
        fails every pair it is in, but is one problem)."""
        key = (str(path), message)
        if key in self._reported:
            return
        self._reported.add(key)
        if self.debug and error is not None:
            error_console.print("".join(traceback.format_exception(error)).rstrip(),
                                markup=False, highlight=False)
        print_error(f"{path}: {message}")

    def __call__(self, event: Event) -> None:
        progress = self.progress
        if isinstance(event, PairStarted):
            if progress is not None:
                names = " + ".join(s.name for s in event.styles)
                pair = one_line(f"{event.content.name} x {names}")
                progress.update(self.task, description=escape(pair))
            return
        if isinstance(event, TileDone):
            if progress is not None and event.tiles > 1:  # one-tile images need no second bar
                if self.tile_task is None:
                    self.tile_task = progress.add_task("  tiles", total=event.tiles)
                progress.update(self.tile_task, completed=event.done, total=event.tiles,
                                visible=event.done < event.tiles)
                if event.done == event.tiles:
                    self.tile_task = None
            return
        if isinstance(event, PairFailed):
            self.error(event.path, event.message, event.error)
        elif self.verbose and progress is not None:
            if isinstance(event, PairDone):
                progress.console.print(f"wrote {escape(one_line(str(event.output)))} "
                                       f"({event.seconds:.1f} s)", highlight=False)
            elif isinstance(event, PairSkipped):
                progress.console.print(escape(one_line(f"skipped {event.output}: {event.reason}")),
                                       highlight=False)
        if progress is not None:
            progress.advance(self.task)


def _run(net, plan: BatchPlan, options: StylizeOptions, reporter: _Reporter,  # noqa: ANN001
         quiet: bool) -> BatchSummary:
    progress = Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(),
        MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
        console=console, disable=quiet,
        # on a terminal, errors pass through the live display so the bar is not torn;
        # when stderr is redirected they must reach it untouched
        redirect_stderr=sys.stderr.isatty(),
    )
    with progress:
        reporter.progress = progress
        reporter.task = progress.add_task("stylizing", total=len(plan.jobs))
        try:
            return run_batch(net, plan, options, reporter)
        finally:
            reporter.progress = None


def _print_summary(summary: BatchSummary, plan: BatchPlan, options: StylizeOptions) -> None:
    table = Table(title=None, show_edge=True)
    for column in ("written", "skipped", "failed", "time"):
        table.add_column(column, justify="right")
    table.add_row(str(len(summary.written)), str(len(summary.skipped)),
                  str(len(summary.failed)), f"{summary.seconds:.1f} s")
    console.print(table)
    if summary.written or summary.skipped:
        where = plan.jobs[0].output if plan.output_is_file else \
            (options.output or DEFAULT_OUTPUT_DIR)
        kind = "file" if plan.output_is_file else "folder"
        console.print(f"output {kind}: {escape(one_line(str(where)))}", highlight=False)
    if summary.skipped:
        console.print(f"{len(summary.skipped)} existing output(s) skipped; "
                      "--overwrite replaces them", highlight=False)
    if summary.failed:
        console.print("failed:", style="bold red")
        for path, message in dict.fromkeys(summary.failed):
            console.print(f"  {escape(one_line(f'{path}: {message}'))}", highlight=False)
