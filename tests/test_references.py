import numpy as np

from autograder import make_references
from autograder.cases import convolution_basics


def test_committed_references_are_what_the_script_writes(tmp_path):
    for fresh_path in make_references.write_all(tmp_path):
        committed_path = make_references.REFERENCES / fresh_path.name
        assert committed_path.exists(), f"run .venv/bin/python -m autograder.make_references"
        with np.load(fresh_path) as fresh, np.load(committed_path) as committed:
            assert sorted(fresh.files) == sorted(committed.files), \
                "references are stale: run .venv/bin/python -m autograder.make_references"
            for key in fresh.files:
                assert np.array_equal(fresh[key], committed[key]), f"{key} differs"


def test_hidden_cases_cover_non_square_shapes():
    refs = convolution_basics.build()
    images = [v.shape for k, v in refs.items() if k.startswith("correlate/") and k.endswith("/image")]
    kernels = [v.shape for k, v in refs.items() if k.startswith("correlate/") and k.endswith("/kernel")]
    assert any(h != w for h, w in images) and any(h != w for h, w in kernels)
    assert any(h % 2 == 0 for h, _ in kernels) and any(h % 2 == 1 for h, _ in kernels)
    strides = refs["output_size/cases"][:, 3]
    assert (strides > 1).any()
