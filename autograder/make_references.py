"""Write the reference outputs that hidden tests compare against.

Each assignment's cases live in autograder/cases/<topic>.py. Inputs come from a fixed seed;
expected outputs come from oracles that share no code with the solutions (scipy.signal,
numpy.pad, torch). For an assignment judged outside the kernel (its cases module says
JUDGED_OUTSIDE = True), autograder/inputs/<assignment>.npz also gets every key but the
expected outputs (keys whose last part is in the module's OUTPUT_FIELDS, 'expected' by
default): all the kernel may see. Run after changing a case:

    .venv/bin/python -m autograder.make_references

tests/test_references.py checks that the committed files equal what this script writes.
"""
import pathlib
import sys

import numpy as np

from autograder.cases import ASSIGNMENTS

REFERENCES = pathlib.Path(__file__).resolve().parent / "references"
INPUTS = pathlib.Path(__file__).resolve().parent / "inputs"


def _cases_module(name):
    return sys.modules[ASSIGNMENTS[name].__module__]


def judged_outside(name):
    """True when the hidden tests of `name` are judged outside the kernel."""
    return getattr(_cases_module(name), "JUDGED_OUTSIDE", False)


def output_fields(name):
    """The fields of `name`'s cases that hold expected outputs."""
    return frozenset(getattr(_cases_module(name), "OUTPUT_FIELDS", {"expected"}))


def inputs_only(refs, outputs=frozenset({"expected"})):
    """The keys of `refs` that hold inputs (their last part is not in `outputs`)."""
    return {key: value for key, value in refs.items() if key.rpartition("/")[2] not in outputs}


def write_all(folder=REFERENCES, inputs_folder=INPUTS):
    """Write one <assignment>.npz per assignment into `folder`, and the inputs of those
    judged outside the kernel into `inputs_folder`. Returns the paths."""
    folder, inputs_folder = pathlib.Path(folder), pathlib.Path(inputs_folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in ASSIGNMENTS.items():
        refs = build()
        path = folder / f"{name}.npz"
        np.savez_compressed(path, **refs)
        written.append(path)
        if judged_outside(name):
            inputs_folder.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(inputs_folder / f"{name}.npz", **inputs_only(refs, output_fields(name)))
            written.append(inputs_folder / f"{name}.npz")
    return written


if __name__ == "__main__":
    for path in write_all():
        print(f"wrote {path}")
