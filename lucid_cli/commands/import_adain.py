"""``lucid import-adain``: turn pytorch-AdaIN's published ``.pth`` weights into a lucid model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from lucid_cli.app import app
from lucid_cli.errors import check_model_output, console, fail, reported


@app.command("import-adain")
def import_adain(
    vgg: Annotated[Path, typer.Argument(
        metavar="VGG_PTH", help="pytorch-AdaIN's vgg_normalised.pth (the encoder).",
        show_default=False)],
    decoder: Annotated[Path, typer.Argument(
        metavar="DECODER_PTH", help="pytorch-AdaIN's decoder.pth (trained with that encoder).",
        show_default=False)],
    output: Annotated[Path, typer.Option(
        "-o", "--output", help="Model file to write (safetensors).")] = Path("adain.safetensors"),
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace an existing output file.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Convert the published PyTorch AdaIN weights (naoto0804/pytorch-AdaIN) to a model file.

    The .pth files are read without torch, and without running any code stored in them.
    """
    from lucid.models.adain_import import import_adain as convert

    with reported(debug):
        # checked here (not with Typer's exists=True) so every problem is one line, exit 1
        for path in (vgg, decoder):
            if not path.is_file():
                fail(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
        check_model_output(output, overwrite, inputs=(vgg, decoder))
        convert(vgg, decoder, output)
    console.print(f"wrote {escape(str(output))}", highlight=False, soft_wrap=True)
