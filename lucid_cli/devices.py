"""The ``--device`` option shared by the commands that run a network."""

from __future__ import annotations

from enum import Enum

from lucid_cli.errors import CLIError


class DeviceChoice(str, Enum):
    """Where the network runs."""

    auto = "auto"
    cpu = "cpu"
    gpu = "gpu"


def resolve_device(choice: DeviceChoice) -> str:
    """``"cpu"`` or ``"gpu"`` for a ``--device`` choice; CLIError when the GPU is missing."""
    import lucid  # noqa: PLC0415 - keeps `lucid --help` fast

    if choice is DeviceChoice.gpu and not lucid.gpu.is_available():
        raise CLIError("--device gpu: no GPU available (CuPy is missing or sees no device)")
    if choice is DeviceChoice.gpu or (choice is DeviceChoice.auto and lucid.gpu.is_available()):
        return "gpu"
    return "cpu"
