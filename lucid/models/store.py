"""Model files: safetensors weights plus the architecture config and provenance as metadata.

A model is named either by a path or by a name: ``default`` is the model embedded in the
package; other names are looked up as ``<name>.safetensors`` in the user's model folder
(``$LUCID_HOME/models``, default ``~/.local/share/lucid/models``).
"""

from __future__ import annotations

import errno
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import lucid
from lucid import serialization
from lucid.imagefile import os_error_reason
from lucid.models.stylenet import StyleNet

PACKAGE_WEIGHTS = Path(__file__).parent / "weights"
DEFAULT_MODEL = PACKAGE_WEIGHTS / "default.safetensors"
CONFIG_KEY = "lucid.config"
PROVENANCE_KEY = "lucid.provenance"

# what building a network from a malformed (or hostile) config may raise
_CONFIG_ERRORS = (AttributeError, IndexError, KeyError, MemoryError, OverflowError, TypeError,
                  ValueError)


class ModelError(ValueError):
    """A model name or file that cannot be used; the message names it and says why."""


def user_model_dir() -> Path:
    home = os.environ.get("LUCID_HOME")
    base = Path(home) if home else Path.home() / ".local" / "share" / "lucid"
    return base / "models"


def resolve_model(name_or_path: str | os.PathLike[str] | None) -> Path:
    """The file of a model given by name (``default``, a user model) or by path.

    A name without a suffix is a path when such a file exists, else a user model (a folder
    of that name does not hide the user model).
    """
    if name_or_path is None or str(name_or_path) == "default":
        if not DEFAULT_MODEL.exists():
            raise ModelError(f"{DEFAULT_MODEL}: the embedded default model is missing "
                             "from this installation")
        return DEFAULT_MODEL
    text = str(name_or_path)
    path = Path(name_or_path)
    if path.suffix == "" and not path.is_file():
        candidate = user_model_dir() / f"{path.name}.safetensors"
        if path.name and candidate.is_file():  # Path("") is "." and has no name
            return candidate
        if not text or not path.exists():
            known = ", ".join(sorted(m.name for m in available_models())) or "none"
            raise ModelError(f"{text or repr(text)}: no such model (known models: {known})")
    if not path.exists():
        raise ModelError(f"{path}: no such model file")
    if path.is_dir():
        raise ModelError(f"{path}: is a directory, not a model file")
    return path


@dataclass
class ModelInfo:
    """What ``lucid models`` lists about one model file."""

    name: str
    path: Path
    config: dict[str, Any]
    provenance: dict[str, Any]
    size_bytes: int
    provenance_problem: str | None = None  # why the provenance could not be read, if so

    @property
    def architecture(self) -> str:
        encoder = self.config["encoder"]
        kind = encoder["type"] + (f"-{encoder['variant']}" if "variant" in encoder else "")
        skips = [spec[1] for spec in self.config["decoder"]["layers"] if spec[0] == "skip"]
        return f"{kind} @ {' + '.join([encoder['adain_tap'], *skips])}"


def read_info(path: Path, name: str | None = None) -> ModelInfo:
    """What a model file says about itself; ModelError, naming the file, when it is broken.

    Only the metadata is read. A provenance that is not a JSON object does not make the model
    unusable (``load_model`` never reads it): it comes back empty, with the reason in
    ``provenance_problem``.
    """
    metadata = _metadata(path)
    try:
        provenance = _json_object(path, metadata.get(PROVENANCE_KEY, "{}"), "provenance")
        problem = None
    except ModelError as error:
        provenance, problem = {}, str(error).removeprefix(f"{path}: ")
    info = ModelInfo(
        name=name or path.stem,
        path=path,
        config=_config(path, metadata),
        provenance=provenance,
        size_bytes=path.stat().st_size,
        provenance_problem=problem,
    )
    try:
        info.architecture  # noqa: B018 - checks the config has what the listing shows
    except _CONFIG_ERRORS as error:
        raise _invalid_config(path, error) from error
    return info


def available_models(broken: list[ModelError] | None = None) -> list[ModelInfo]:
    """The embedded default model and every usable model in the user's folder.

    Each is checked as ``lucid stylize`` would load it (``load_model``: weights, finiteness,
    a dry run; a twentieth of a second for the default), so the list names exactly the
    models that paint. A broken file does not hide the others: it is skipped, and its error
    (naming the file) appended to ``broken`` when that is given.
    """
    paths = [(DEFAULT_MODEL, "default")] if DEFAULT_MODEL.exists() else []
    folder = user_model_dir()
    if folder.is_dir():
        paths += [(path, None) for path in sorted(folder.glob("*.safetensors"))]
    found = []
    for path, name in paths:
        try:
            info = read_info(path, name)
            load_model(path)
            found.append(info)
        except (ModelError, OSError) as error:
            if broken is not None:
                broken.append(error if isinstance(error, ModelError) else _os_error(path, error))
    return found


def _metadata(path: Path) -> dict[str, str]:
    try:
        metadata = serialization.load_metadata(path)
    except serialization.WeightsFileError as error:
        raise ModelError(str(error)) from error
    except OSError as error:
        raise _os_error(path, error) from error
    if CONFIG_KEY not in metadata:
        raise ModelError(f"{path}: not a lucid model file (no architecture config in it)")
    return metadata


def _os_error(path: Path, error: OSError) -> ModelError:
    if isinstance(error, IsADirectoryError) or error.errno == errno.EISDIR:
        return ModelError(f"{path}: is a directory, not a model file")
    return ModelError(f"{path}: cannot be read ({os_error_reason(error)})")


def _json_object(path: Path, text: str, what: str) -> dict[str, Any]:
    """A JSON object from the file's metadata; ModelError naming the file otherwise."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ModelError(f"{path}: invalid {what} (not JSON: {error})") from error
    if not isinstance(value, dict):
        raise ModelError(f"{path}: invalid {what} (a JSON {type(value).__name__}, "
                         "not an object)")
    return value


def _config(path: Path, metadata: dict[str, str]) -> dict[str, Any]:
    return _json_object(path, metadata[CONFIG_KEY], "architecture config")


def _invalid_config(path: Path, error: Exception) -> ModelError:
    """The file's config could not build a network: the error that raised, in a few words."""
    if isinstance(error, KeyError):
        reason = f"no {error.args[0]!r} in it" if error.args else "a key is missing"
    else:
        reason = str(error)
    return ModelError(f"{path}: invalid architecture config ({reason})")


def _mismatch(model: StyleNet, weights: dict[str, Any]) -> str:
    """How a file's tensors differ from the network's, in a few words (counts, first key)."""
    own = model.state_dict()

    def fits(key: str) -> bool:  # a (1,) tensor for a scalar is fine, as in load_state_dict
        shape, target = tuple(weights[key].shape), tuple(own[key].shape)
        return shape == target or (target == () and shape == (1,))

    problems = {
        "missing": [key for key in own if key not in weights],
        "unexpected": [key for key in weights if key not in own],
        "of the wrong shape": [key for key in own if key in weights and not fits(key)],
    }
    found = {what: keys for what, keys in problems.items() if keys}
    if not found:
        return "they cannot be loaded"
    counts = ", ".join(f"{len(keys)} {what}" for what, keys in found.items())
    what, keys = next(iter(found.items()))
    return f"{counts}; first {what}: {keys[0]}"


def nonfinite_weights(weights: dict[str, Any]) -> list[str]:
    """The names of the weights (arrays or tensors) holding NaN or infinite values: a model
    with any cannot paint (``load_model`` refuses it, and ``lucid train`` will not write one)."""
    return [key for key, value in weights.items()
            if not np.isfinite(value.cpu().numpy() if isinstance(value, lucid.Tensor)
                               else value).all()]


def load_model(name_or_path: str | os.PathLike[str] | None = None) -> StyleNet:
    """Build the network a model file describes and load its weights (strictly)."""
    path = resolve_model(name_or_path)
    metadata = _metadata(path)
    config = _config(path, metadata)
    try:
        weights = serialization.load(path)
    except serialization.WeightsFileError as error:
        raise ModelError(str(error)) from error
    except OSError as error:
        raise _os_error(path, error) from error
    try:
        model = StyleNet(config)
    except _CONFIG_ERRORS as error:
        raise _invalid_config(path, error) from error
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as error:
        raise ModelError(f"{path}: weights do not match its architecture "
                         f"({_mismatch(model, weights)})") from error
    broken = nonfinite_weights(weights)
    if broken:
        raise ModelError(f"{path}: {len(broken)} weight tensor(s) hold NaN or infinite values "
                         f"(first: {broken[0]})")
    model.eval()
    try:  # a config that builds but cannot paint, or weights too large to paint with, fail
        # here, naming the model file, not at the first image, naming the image
        side = model.stride * max(4, 2 * model.decoder.largest_dilation + 1)
        noise = np.random.default_rng(0).random((2, 1, 3, side, side), dtype=np.float32)
        with lucid.no_grad(), np.errstate(all="ignore"):
            painted = model(lucid.tensor(noise[0]), lucid.tensor(noise[1])).numpy()
        if painted.shape != (1, 3, side, side):
            raise ValueError(f"it paints a {side}x{side} picture as {painted.shape[1:]}")
    except _CONFIG_ERRORS as error:
        raise _invalid_config(path, error) from error
    if not np.isfinite(painted).all():
        raise ModelError(f"{path}: paints NaN or infinite values (weights out of range)")
    model.source = path
    return model


def save_model(model: StyleNet, path: str | os.PathLike[str],
               provenance: dict[str, Any] | None = None) -> None:
    """Write a model file: weights, config and provenance (atomically)."""
    metadata = {CONFIG_KEY: json.dumps(model.config)}
    if provenance is not None:
        metadata[PROVENANCE_KEY] = json.dumps(provenance)
    serialization.save(model.state_dict(), path, metadata=metadata)
