"""What a hidden test keeps of the student's answer: plain data, judged outside the kernel.

Inside the kernel a hidden test only calls the student's function on a case's inputs and
records what came back, converted to plain data: NumPy arrays of exactly `np.ndarray` with a
numeric dtype (copied), int, float, bool and str of exactly those types (and NumPy's own
scalar types), and tuples, lists and dicts of them. Anything else (a subclass of int or of
ndarray that lies about `==`, a tensor, an object) is kept only as its type's name, and the
judge calls it wrong. An exception the function raised is kept as its class names and
message.

A record is one .npz file (`allow_pickle=False`: reading it runs no code) in
RECORDS_FOLDER of the kernel's working folder, named <check>-<case>-<random>.npz, so that a
record written twice is seen as two files.
"""
import json
import os
import secrets

import numpy as np

RECORDS_FOLDER = ".grading-records"
MAX_ITEMS = 10_000         # items of a tuple, list or dict kept; more is "too big"
MAX_DEPTH = 6
MAX_TEXT = 2_000           # characters of a string or an error message kept
_SCALARS = (int, float, bool, str)
_NUMPY_SCALARS = tuple({np.dtype(code).type for code in "?bhilqBHILQefdgFDG"})


def to_plain(value, arrays, depth=0):
    """`value` as JSON-able data; arrays go into `arrays` ({name: ndarray})."""
    kind = type(value)
    if value is None:
        return {"kind": "none"}
    if kind in _SCALARS:
        if kind is str:
            return {"kind": "str", "value": value[:MAX_TEXT]}
        if kind is float and not np.isfinite(value):
            return {"kind": "float", "value": repr(value)}
        return {"kind": kind.__name__, "value": value}
    if kind in _NUMPY_SCALARS:
        return to_plain(np.ndarray.item(np.asarray(value)), arrays, depth) | {
            "numpy": np.dtype(kind).name}
    if kind is np.ndarray and value.dtype.kind in "biufc":
        name = f"a{len(arrays)}"
        arrays[name] = np.array(value, copy=True, subok=False)
        return {"kind": "array", "ref": name}
    if kind in (tuple, list, dict) and depth < MAX_DEPTH:
        if len(value) > MAX_ITEMS:
            return {"kind": "other", "type": f"{kind.__name__} of {len(value)} items"}
        if kind is dict:
            if not all(type(k) is str for k in value):
                return {"kind": "other", "type": "dict with keys that are not strings"}
            return {"kind": "dict", "items": {k: to_plain(dict.__getitem__(value, k), arrays,
                                                          depth + 1) for k in value}}
        items = tuple.__iter__(value) if kind is tuple else list.__iter__(value)
        return {"kind": kind.__name__, "items": [to_plain(v, arrays, depth + 1) for v in items]}
    return {"kind": "other", "type": f"{kind.__module__}.{kind.__qualname__}"}


def raised(error):
    """An exception as plain data: its class, the names of its classes, and its message."""
    classes = [cls.__name__ for cls in type(error).__mro__]
    try:
        message = str(error)[:MAX_TEXT]
    except Exception:  # a message that cannot be shown is no message
        message = ""
    return {"kind": "raised", "type": type(error).__name__, "classes": classes,
            "message": message}


def write_record(check, case, data, arrays, folder=RECORDS_FOLDER):
    """Write one record; returns its path."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{check}-{case}-{secrets.token_hex(4)}.npz")
    np.savez(path, meta=np.array(json.dumps(data)), **arrays)
    return path


def record_call(check, case, fn, args, folder=RECORDS_FOLDER):
    """Call fn(*args) and record what came back (or what it raised) in `folder` (None: keep
    it in memory only). Returns (data, arrays)."""
    arrays = {}
    try:
        data = to_plain(fn(*args), arrays)
    except Exception as error:  # the student's code failed: that is the answer recorded
        data, arrays = raised(error), {}
    if folder is not None:
        write_record(check, case, data, arrays, folder)
    return data, arrays


class Unsupported:
    """A returned value that was not plain data (see the module docstring)."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"a {self.type_name}, which is not plain data"


class Raised:
    """What the student's function raised instead of returning."""

    def __init__(self, data):
        self.type = data.get("type", "Exception")
        self.classes = data.get("classes", [self.type])
        self.message = data.get("message", "")

    def is_a(self, name):
        return name in self.classes


def from_plain(data, arrays):
    """The value a record holds (arrays as np.ndarray, Unsupported or Raised where needed)."""
    kind = data.get("kind")
    if kind == "none":
        return None
    if kind in ("int", "bool", "str"):
        return {"int": int, "bool": bool, "str": str}[kind](data["value"])
    if kind == "float":
        return float(data["value"])
    if kind == "array":
        return arrays[data["ref"]]
    if kind in ("tuple", "list"):
        items = [from_plain(item, arrays) for item in data["items"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {k: from_plain(v, arrays) for k, v in data["items"].items()}
    if kind == "raised":
        return Raised(data)
    return Unsupported(str(data.get("type", "value of an unknown type")))
