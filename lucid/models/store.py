"""Model files: safetensors weights plus the architecture config and provenance as metadata.

A model is named either by a path or by a name: ``default`` is the model embedded in the
package; other names are looked up as ``<name>.safetensors`` in the user's model folder
(``$LUCID_HOME/models``, default ``~/.local/share/lucid/models``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lucid import serialization
from lucid.models.stylenet import StyleNet

PACKAGE_WEIGHTS = Path(__file__).parent / "weights"
DEFAULT_MODEL = PACKAGE_WEIGHTS / "default.safetensors"
CONFIG_KEY = "lucid.config"
PROVENANCE_KEY = "lucid.provenance"


class ModelError(ValueError):
    """A model name or file that cannot be used; the message names it and says why."""


def user_model_dir() -> Path:
    home = os.environ.get("LUCID_HOME")
    base = Path(home) if home else Path.home() / ".local" / "share" / "lucid"
    return base / "models"


def resolve_model(name_or_path: str | os.PathLike[str] | None) -> Path:
    """The file of a model given by name (``default``, a user model) or by path."""
    if name_or_path is None or str(name_or_path) == "default":
        if not DEFAULT_MODEL.exists():
            raise ModelError(f"{DEFAULT_MODEL}: the embedded default model is missing "
                             "from this installation")
        return DEFAULT_MODEL
    path = Path(name_or_path)
    if path.suffix == "" and not path.exists():
        candidate = user_model_dir() / f"{path.name}.safetensors"
        if candidate.exists():
            return candidate
        known = ", ".join(sorted(m.name for m in available_models())) or "none"
        raise ModelError(f"{name_or_path}: no such model (known models: {known})")
    if not path.exists():
        raise ModelError(f"{path}: no such model file")
    return path


@dataclass
class ModelInfo:
    """What ``lucid models`` lists about one model file."""

    name: str
    path: Path
    config: dict[str, Any]
    provenance: dict[str, Any]
    size_bytes: int

    @property
    def architecture(self) -> str:
        encoder = self.config["encoder"]
        kind = encoder["type"] + (f"-{encoder['variant']}" if "variant" in encoder else "")
        skips = [spec[1] for spec in self.config["decoder"]["layers"] if spec[0] == "skip"]
        return f"{kind} @ {' + '.join([encoder['adain_tap'], *skips])}"


def read_info(path: Path, name: str | None = None) -> ModelInfo:
    metadata = _metadata(path)
    return ModelInfo(
        name=name or path.stem,
        path=path,
        config=json.loads(metadata[CONFIG_KEY]),
        provenance=json.loads(metadata.get(PROVENANCE_KEY, "{}")),
        size_bytes=path.stat().st_size,
    )


def available_models() -> list[ModelInfo]:
    """The embedded default model and every readable model in the user's folder."""
    found = []
    if DEFAULT_MODEL.exists():
        found.append(read_info(DEFAULT_MODEL, "default"))
    folder = user_model_dir()
    if folder.is_dir():
        for path in sorted(folder.glob("*.safetensors")):
            try:
                found.append(read_info(path))
            except ModelError:
                continue  # a broken file in the folder must not hide the others
    return found


def _metadata(path: Path) -> dict[str, str]:
    try:
        metadata = serialization.load_metadata(path)
    except serialization.WeightsFileError as error:
        raise ModelError(str(error)) from error
    if CONFIG_KEY not in metadata:
        raise ModelError(f"{path}: not a lucid model file (no architecture config in it)")
    return metadata


def load_model(name_or_path: str | os.PathLike[str] | None = None) -> StyleNet:
    """Build the network a model file describes and load its weights (strictly)."""
    path = resolve_model(name_or_path)
    metadata = _metadata(path)
    try:
        weights = serialization.load(path)
    except serialization.WeightsFileError as error:
        raise ModelError(str(error)) from error
    model = StyleNet(json.loads(metadata[CONFIG_KEY]))
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as error:
        raise ModelError(f"{path}: weights do not fit the architecture: {error}") from error
    model.eval()
    model.source = path
    return model


def save_model(model: StyleNet, path: str | os.PathLike[str],
               provenance: dict[str, Any] | None = None) -> None:
    """Write a model file: weights, config and provenance (atomically)."""
    metadata = {CONFIG_KEY: json.dumps(model.config)}
    if provenance is not None:
        metadata[PROVENANCE_KEY] = json.dumps(provenance)
    serialization.save(model.state_dict(), path, metadata=metadata)
