"""Hidden tests, called from the hidden regions of the source notebooks' test cells.

Each check loads its reference cases fresh from autograder/references/ and reports through
course.checks with reveal=False: a failure names the case (shapes, settings) and the mistake,
never the expected values.
"""
import pathlib

import numpy as np

REFERENCES = pathlib.Path(__file__).resolve().parent.parent / "references"


def load_references(assignment):
    """The reference cases of one assignment, as {key: array}, read from disk each call."""
    path = REFERENCES / f"{assignment}.npz"
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def cases(refs, prefix):
    """Group keys like 'correlate/3/image' into a list of {'image': ..., ...} by case number."""
    grouped = {}
    for key, value in refs.items():
        head, _, rest = key.partition("/")
        if head != prefix or "/" not in rest:
            continue
        number, _, field = rest.partition("/")
        grouped.setdefault(int(number), {})[field] = value
    return [grouped[i] for i in sorted(grouped)]
