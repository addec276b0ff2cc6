"""Safe persistence of fitted estimators: a JSON object graph plus safetensors arrays.

    model.json         the estimator's structure and parameters, readable
    model.safetensors  every numeric array, by name

Loading never runs pickle and never imports a module that is not on the
allow-list below: each object names its class, and only `TRUSTED_CLASSES`
can be instantiated. This replaces skops for lurescan's own models because
importing skops walks every scikit-learn module (6 s and, where torch is
installed, a torch import of ~300 MB in every API worker).
"""

from __future__ import annotations

import importlib
import json
import math
from typing import Any

import numpy as np

from .errors import LurescanError

FORMAT = "lurescan-state/1"

# "module.Class" of every type a model file may contain. Nothing else loads.
TRUSTED_CLASSES = frozenset(
    {
        "lurescan.model.baseline.BaselineClassifier",
        "lurescan.model.features.ListingVectorizer",
        "lurescan.model.ngrams.CharNgramHasher",
        "lurescan.model.stacker.StackedClassifier",
        "lurescan.model.kinds.ScamKindHeads",
        "sklearn.model_selection._classification_threshold.FixedThresholdClassifier",
        "sklearn.frozen._frozen.FrozenEstimator",
        "sklearn.calibration.CalibratedClassifierCV",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.isotonic.IsotonicRegression",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.pipeline.Pipeline",
    }
)


class StateError(LurescanError):
    """A model file that is not a safe, known object graph."""


def _class_path(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.memo: dict[int, int] = {}
        self.keep_alive: list[Any] = []

    def encode(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int) and not isinstance(value, np.integer):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if isinstance(value, np.generic):
            return {"__scalar__": value.dtype.str, "value": self.encode(value.item())}
        if isinstance(value, np.dtype):
            return {"__dtype__": value.str}
        # Exact types only: a dict or tuple subclass (Counter, namedtuple) is a class of its own.
        if type(value) is list:
            return [self.encode(v) for v in value]
        if type(value) is tuple:
            return {"__tuple__": [self.encode(v) for v in value]}
        if type(value) is dict:
            if not all(isinstance(k, str) for k in value):
                raise StateError(f"dict with non-string keys cannot be stored: {list(value)[:3]}")
            return {"__dict__": {k: self.encode(v) for k, v in value.items()}}
        if id(value) in self.memo:
            return {"__ref__": self.memo[id(value)]}
        ref = len(self.memo)
        self.memo[id(value)] = ref
        self.keep_alive.append(value)  # ids must stay unique while encoding
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "biuf":
                name = f"a{len(self.arrays)}"
                self.arrays[name] = np.ascontiguousarray(value)
                return {"__array__": name, "__id__": ref}
            if value.dtype.kind in "OU" and all(isinstance(v, str) for v in value.ravel()):
                return {"__strings__": value.tolist(), "shape": list(value.shape), "__id__": ref}
            raise StateError(f"array of dtype {value.dtype} cannot be stored")
        path = _class_path(value)
        if path not in TRUSTED_CLASSES:
            raise StateError(f"type {path} is not on the trusted list")
        state = value.__getstate__() if hasattr(value, "__getstate__") else vars(value)
        if not isinstance(state, dict):
            raise StateError(f"{path}: state is not a mapping")
        return {"__object__": path, "__id__": ref, "state": {k: self.encode(v) for k, v in state.items()}}


def dumps(obj: Any) -> tuple[bytes, bytes]:
    """(model.json bytes, model.safetensors bytes) for a fitted estimator."""
    from safetensors.numpy import save

    encoder = _Encoder()
    graph = encoder.encode(obj)
    structure = json.dumps({"format": FORMAT, "root": graph}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return structure, save(encoder.arrays)


def _resolve(path: str) -> type:
    if path not in TRUSTED_CLASSES:
        raise StateError(f"refuses to load untrusted type {path}")
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays
        self.memo: dict[int, Any] = {}

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            raise StateError(f"unexpected node {type(node).__name__}")
        if "__ref__" in node:
            return self.memo[node["__ref__"]]
        if "__float__" in node:
            return float(node["__float__"])
        if "__scalar__" in node:
            return np.dtype(node["__scalar__"]).type(node["value"])
        if "__dtype__" in node:
            return np.dtype(node["__dtype__"])
        if "__tuple__" in node:
            return tuple(self.decode(v) for v in node["__tuple__"])
        if "__dict__" in node:
            return {k: self.decode(v) for k, v in node["__dict__"].items()}
        if "__array__" in node:
            if node["__array__"] not in self.arrays:
                raise StateError(f"array {node['__array__']} missing from the tensor file")
            value = self.arrays[node["__array__"]]
        elif "__strings__" in node:
            value = np.array(node["__strings__"], dtype=object).reshape(node["shape"])
        elif "__object__" in node:
            cls: Any = _resolve(node["__object__"])
            value = cls.__new__(cls)
            self.memo[node["__id__"]] = value
            state = {k: self.decode(v) for k, v in node["state"].items()}
            if hasattr(value, "__setstate__"):
                value.__setstate__(state)
            else:
                value.__dict__.update(state)
            return value
        else:
            raise StateError(f"unknown node with keys {sorted(node)[:5]}")
        self.memo[node["__id__"]] = value
        return value


def loads(structure: bytes, tensors: bytes) -> Any:
    from safetensors.numpy import load

    try:
        document = json.loads(structure)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StateError(f"not a model structure file ({exc})") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise StateError(f"not a {FORMAT} model structure file")
    try:
        arrays = load(tensors)
    except Exception as exc:  # safetensors raises its own error types
        raise StateError(f"unreadable tensor file ({exc})") from exc
    return _Decoder(arrays).decode(document["root"])
