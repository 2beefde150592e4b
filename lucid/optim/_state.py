"""Turn an optimiser (or scheduler) state dict into arrays + JSON, and back, losslessly.

A checkpoint writer stores the arrays with safetensors or ``np.savez`` and the JSON string
as metadata. Nothing is pickled. The round trip is exact: arrays keep dtype and bytes, Python
floats survive JSON because ``json`` writes the shortest repr that reads back to the same
double, integer dict keys (PyTorch's parameter indices) and tuples (``betas``) are tagged so
they come back as ints and tuples.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from lucid.backend import asnumpy

__all__ = ["flatten_state_dict", "unflatten_state_dict"]

_FORMAT = "lucid.optim.state/1"
_ARRAY, _TUPLE, _DICT = "__ndarray__", "__tuple__", "__dict__"


def flatten_state_dict(state_dict: dict[str, Any]) -> tuple[dict[str, np.ndarray], str]:
    """Split a state dict into ``{name: numpy array}`` and a JSON string with the rest.

    Every array (numpy, CuPy or numpy scalar) is replaced in the JSON by a reference to its
    name, e.g. ``"state.0.exp_avg"``; everything else must be JSON-able Python data
    (numbers, strings, bools, None, lists, tuples, dicts).

    Example:
        >>> import numpy as np
        >>> sd = {"state": {0: {"step": 3, "exp_avg": np.zeros(2, np.float32)}},
        ...       "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0]}]}
        >>> arrays, meta = flatten_state_dict(sd)
        >>> sorted(arrays)
        ['state.0.exp_avg']
        >>> back = unflatten_state_dict(arrays, meta)
        >>> back["state"][0]["step"], back["param_groups"][0]["betas"]
        (3, (0.9, 0.999))
    """
    arrays: dict[str, np.ndarray] = {}

    def encode(value: Any, path: str) -> Any:
        if isinstance(value, np.generic) or (hasattr(value, "dtype") and hasattr(value, "shape")):
            name, n = path, 1
            while name in arrays:  # "a.b" key vs nested a -> b: never overwrite
                name, n = f"{path}#{n}", n + 1
            # np.array, not ascontiguousarray: the latter turns 0-d arrays into 1-d ones
            arrays[name] = np.array(asnumpy(value), copy=True, order="C")
            return {_ARRAY: name}
        if isinstance(value, dict):
            if all(isinstance(k, str) and not k.startswith("__") for k in value):
                return {k: encode(v, _join(path, k)) for k, v in value.items()}
            return {_DICT: [[k, encode(v, _join(path, k))] for k, v in value.items()]}
        if isinstance(value, tuple):
            return {_TUPLE: [encode(v, _join(path, i)) for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [encode(v, _join(path, i)) for i, v in enumerate(value)]
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise TypeError(f"state dict entry {path!r} has type {type(value).__name__}, "
                        "which cannot be stored as an array or JSON")

    tree = encode(state_dict, "")
    return arrays, json.dumps({"format": _FORMAT, "tree": tree})


def unflatten_state_dict(arrays: dict[str, Any], json_str: str) -> dict[str, Any]:
    """Rebuild the state dict that :func:`flatten_state_dict` split (arrays as numpy)."""
    doc = json.loads(json_str)
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        raise ValueError(f"not a flattened lucid optimiser state (expected format {_FORMAT!r})")

    def decode(node: Any) -> Any:
        if isinstance(node, list):
            return [decode(v) for v in node]
        if not isinstance(node, dict):
            return node
        if set(node) == {_ARRAY}:
            name = node[_ARRAY]
            if name not in arrays:
                raise KeyError(f"array {name!r} named in the state's JSON is missing")
            return np.array(asnumpy(arrays[name]), copy=True)
        if set(node) == {_TUPLE}:
            return tuple(decode(v) for v in node[_TUPLE])
        if set(node) == {_DICT}:
            return {k: decode(v) for k, v in node[_DICT]}
        return {k: decode(v) for k, v in node.items()}

    return decode(doc["tree"])


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)
