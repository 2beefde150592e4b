"""Model files: broken or odd ones are refused with one short line naming the file."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lucid import serialization
from lucid.models.store import (
    CONFIG_KEY,
    PROVENANCE_KEY,
    ModelError,
    available_models,
    load_model,
    resolve_model,
    save_model,
)
from lucid.models.stylenet import StyleNet, tiny_config


def write(path: Path, config: Any = None, weights: dict[str, Any] | None = None,
          **metadata: str) -> Path:
    """A safetensors file with ``config`` (JSON-encoded unless a str) as its lucid config."""
    if config is not None:
        metadata[CONFIG_KEY] = config if isinstance(config, str) else json.dumps(config)
    serialization.save(weights if weights is not None else {}, path, metadata=metadata)
    return path


@pytest.fixture()
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user model folder, holding one good model ``good``."""
    monkeypatch.setenv("LUCID_HOME", str(tmp_path / "home"))
    folder = tmp_path / "home" / "models"
    folder.mkdir(parents=True)
    save_model(StyleNet(tiny_config()), folder / "good.safetensors", provenance={})
    return folder


@pytest.fixture()
def broken(folder: Path) -> dict[str, str]:
    """Broken files beside ``good``: file stem -> what the error must say."""
    (folder / "adir.safetensors").mkdir()
    write(folder / "empty.safetensors", {})
    write(folder / "badjson.safetensors", "{not json")
    write(folder / "alist.safetensors", [1, 2])
    write(folder / "nocfg.safetensors", other="metadata")
    (folder / "junk.safetensors").write_text("not a model")
    weights = {k: v.numpy() for k, v in StyleNet(tiny_config()).state_dict().items()}
    last = list(weights)[-1]
    write(folder / "nan.safetensors", tiny_config(),
          {**weights, last: np.full_like(weights[last], np.nan)})
    write(folder / "huge.safetensors", tiny_config(),
          {k: v * 1e30 if k.startswith("decoder") else v for k, v in weights.items()})
    return {"adir": "is a directory", "empty": "invalid architecture config (no 'encoder'",
            "badjson": "invalid architecture config (not JSON", "alist": "a JSON list",
            "nocfg": "not a lucid model file", "junk": "not a safetensors file",
            "nan": "hold NaN or infinite values", "huge": "paints NaN or infinite values"}


def test_broken_files_do_not_hide_the_good_ones(folder: Path, broken: dict[str, str]) -> None:
    problems: list[ModelError] = []
    names = [info.name for info in available_models(problems)]
    assert "good" in names and not set(names) & set(broken)
    assert len(problems) == len(broken)
    for problem, stem in zip(problems, sorted(broken), strict=True):
        message = str(problem)
        assert message.startswith(f"{folder / stem}.safetensors: ") and "\n" not in message
        assert broken[stem] in message, message


def test_the_list_and_stylize_agree(folder: Path, broken: dict[str, str]) -> None:
    """A model is listed exactly when it loads: weights that are not finite or that overflow
    (which ``lucid models`` used to list) are not, and a provenance that cannot be read (for
    which it skipped a model that paints) does not hide it."""
    write(folder / "badprov.safetensors", tiny_config(),
          {k: v.numpy() for k, v in StyleNet(tiny_config()).state_dict().items()},
          **{PROVENANCE_KEY: "nope"})
    listed = {info.name: info for info in available_models([])}
    for stem in ("good", "badprov", *broken):
        path = folder / f"{stem}.safetensors"
        try:
            load_model(path)
            loads = True
        except ModelError:
            loads = False
        assert (stem in listed) == loads, stem
    assert listed["badprov"].provenance == {}
    assert listed["badprov"].provenance_problem.startswith("invalid provenance (not JSON")
    assert listed["good"].provenance_problem is None


def test_an_unknown_name_beside_broken_files(folder: Path, broken: dict[str, str]) -> None:
    with pytest.raises(ModelError, match=r"^nosuch: no such model \(known models: .*good"):
        resolve_model("nosuch")


@pytest.mark.parametrize("how", ["path", "empty", "bare name"])
def test_a_directory_is_no_model(folder: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "somedir").mkdir()
    if how == "path":
        with pytest.raises(ModelError, match=r"somedir: is a directory, not a model file$"):
            load_model(tmp_path / "somedir")
    elif how == "empty":  # Path("") is "."
        with pytest.raises(ModelError, match=r"^'': no such model \(known models: .*good\)$"):
            load_model("")
    else:  # a folder here does not hide the user model of that name
        (tmp_path / "good").mkdir()
        assert resolve_model("good") == folder / "good.safetensors"
        with pytest.raises(ModelError, match=r"^somedir: is a directory, not a model file$"):
            resolve_model("somedir")


@pytest.mark.parametrize(("config", "reason"), [
    ({}, "no 'encoder' in it"),
    ({"encoder": tiny_config()["encoder"]}, "no 'decoder' in it"),
    ([1], "a JSON list, not an object"),
    ({"encoder": "x", "decoder": {}}, "string indices must be integers"),
    ({**tiny_config(), "encoder": {**tiny_config()["encoder"], "type": "nope"}},
     "unknown encoder type 'nope'"),
    ({**tiny_config(), "decoder": {**tiny_config()["decoder"], "in_channels": 10**15}},
     "("),  # a network too large to build: numpy's MemoryError
    ({**tiny_config(), "format": 2}, "format 2: this lucid reads format 1"),
])
def test_an_invalid_config_is_named(tmp_path: Path, config: Any, reason: str) -> None:
    path = write(tmp_path / "bad.safetensors", config)
    with pytest.raises(ModelError) as caught:
        load_model(path)
    assert str(caught.value).startswith(f"{path}: invalid architecture config (")
    assert reason in str(caught.value)


@pytest.mark.parametrize(("change", "reason"), [
    ({"stride": 0}, "stride must be at least 1, got 0"),
    ({"adain_tap": "nope"}, "unknown EfficientNet-Lite tap 'nope'"),
], ids=["stride", "tap"])
def test_a_config_that_builds_but_cannot_paint_is_named(tmp_path: Path, change: dict[str, Any],
                                                        reason: str) -> None:
    """Found when the model loads, naming the model file, not at the first image."""
    config = {**tiny_config(), "encoder": {**tiny_config()["encoder"], **change}}
    weights = {k: v.numpy() for k, v in StyleNet(tiny_config()).state_dict().items()}
    path = write(tmp_path / "bad.safetensors", config, weights)
    with pytest.raises(ModelError) as caught:
        load_model(path)
    assert str(caught.value).startswith(f"{path}: invalid architecture config (")
    assert reason in str(caught.value)


def test_a_decoder_that_paints_another_size_is_refused(tmp_path: Path) -> None:
    config = tiny_config()
    config["decoder"]["layers"] = [["conv", 16], ["up"], ["up"], ["conv", 3, "none"]]
    weights = {k: v.numpy() for k, v in StyleNet(config).state_dict().items()}
    path = write(tmp_path / "big.safetensors", config, weights)
    with pytest.raises(ModelError, match=r"invalid architecture config \(it paints a 8x8 "
                                         r"picture as \(3, 16, 16\)\)$"):
        load_model(path)


def test_a_widely_dilated_residual_block_loads(tmp_path: Path) -> None:
    """The load-time check paints a square large enough for the decoder's dilations."""
    config = tiny_config()
    config["decoder"]["layers"].insert(1, ["residual", 4])
    model = StyleNet(config)
    save_model(model, tmp_path / "dilated.safetensors")
    assert load_model(tmp_path / "dilated.safetensors").decoder.largest_dilation == 4


def test_weights_that_are_not_finite_are_refused(tmp_path: Path) -> None:
    weights = {k: v.numpy() for k, v in StyleNet(tiny_config()).state_dict().items()}
    last = list(weights)[-1]
    weights[last] = weights[last].copy()
    weights[last].flat[0] = float("nan")
    path = write(tmp_path / "nan.safetensors", tiny_config(), weights)
    with pytest.raises(ModelError, match=rf"nan.safetensors: 1 weight tensor\(s\) hold NaN or "
                                         rf"infinite values \(first: {last}\)$"):
        load_model(path)


def test_weights_too_large_to_paint_with_are_refused(tmp_path: Path) -> None:
    """Finite weights scaled by 1e30 overflow in the first picture: refused when the model
    loads, quietly (numpy's overflow warnings were eight lines), naming the model file."""
    weights = {k: v.numpy() * (1e30 if k.startswith("decoder") else 1)
               for k, v in StyleNet(tiny_config()).state_dict().items()}
    path = write(tmp_path / "huge.safetensors", tiny_config(), weights)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ModelError, match=r"huge.safetensors: paints NaN or infinite values"):
            load_model(path)


def test_weights_that_do_not_match_are_summed_up(tmp_path: Path) -> None:
    weights = {key: value.numpy() for key, value in StyleNet(tiny_config()).state_dict().items()}
    first, second = list(weights)[:2]
    del weights[first], weights[second]
    weights["stray"] = weights[list(weights)[-1]]
    path = write(tmp_path / "m.safetensors", tiny_config(), weights)
    with pytest.raises(ModelError) as caught:
        load_model(path)
    assert str(caught.value) == (f"{path}: weights do not match its architecture "
                                 f"(2 missing, 1 unexpected; first missing: {first})")

    skip_weights = StyleNet(tiny_config(skip=True)).state_dict()  # other shapes, other keys
    save_model(StyleNet(tiny_config(skip=True)), path)
    write(path, tiny_config(), {k: v.numpy() for k, v in skip_weights.items()})
    with pytest.raises(ModelError) as caught:
        load_model(path)
    message = str(caught.value)
    assert "of the wrong shape" in message and "\n" not in message and len(message) < 300
