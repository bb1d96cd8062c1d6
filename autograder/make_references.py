"""Write the reference outputs that hidden tests compare against.

Each assignment's cases live in autograder/cases/<topic>.py. Inputs come from a fixed seed;
expected outputs come from oracles that share no code with the solutions (scipy.signal,
numpy.pad, torch). Run after changing a case:

    .venv/bin/python -m autograder.make_references

tests/test_references.py checks that the committed files equal what this script writes.
"""
import pathlib

import numpy as np

from autograder.cases import ASSIGNMENTS

REFERENCES = pathlib.Path(__file__).resolve().parent / "references"


def write_all(folder=REFERENCES):
    """Write one <assignment>.npz per assignment into `folder`. Returns the paths."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in ASSIGNMENTS.items():
        path = folder / f"{name}.npz"
        np.savez_compressed(path, **build())
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_all():
        print(f"wrote {path}")
