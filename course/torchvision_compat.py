"""Import torchvision next to the CPU build of torch.

The torchvision 0.28.0 wheel (the release paired with torch 2.13.0) is built against CUDA.
With the CPU torch its compiled operators do not load, and its Python code then fails at
import time with "operator torchvision::nms does not exist", because it registers helpers
for operators that were never defined. Defining those operator names first makes the pure
Python parts (datasets, transforms v2, utils, models) import and work. The compiled
operators themselves (nms, roi_align, torchvision.io decoding) stay unavailable: use PIL
to read images.

Where torchvision imports normally, `import_torchvision` does nothing but import it.
"""
import importlib
import sys

import torch

# Operators that torchvision's Python code refers to at import time.
_SCHEMAS = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}
_library = None  # kept alive: the definitions vanish when the Library is garbage collected


def _define_missing_operators():
    global _library
    if _library is None:
        _library = torch.library.Library("torchvision", "FRAGMENT")
    for name, schema in _SCHEMAS.items():
        if not _operator_exists(name):
            _library.define(schema)


def _operator_exists(name):
    try:
        torch._C._dispatch_find_schema_or_throw(f"torchvision::{name}", "")
        return True
    except RuntimeError:
        return False


def _forget_partial_import():
    for module in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[module]


def import_torchvision():
    """Return the torchvision module, defining its missing operators first if needed."""
    try:
        return importlib.import_module("torchvision")
    except RuntimeError as err:
        if "torchvision::" not in str(err) or "does not exist" not in str(err):
            raise
    _forget_partial_import()
    _define_missing_operators()
    return importlib.import_module("torchvision")


def compat_active():
    """True when torchvision needed the operator definitions of this module."""
    return _library is not None
