import numpy as np

from autograder import make_references
from autograder.cases import ASSIGNMENTS, convolution_basics


def test_committed_references_are_what_the_script_writes(tmp_path):
    for fresh_path in make_references.write_all(tmp_path / "references", tmp_path / "inputs"):
        committed_path = (make_references.REFERENCES if fresh_path.parent.name == "references"
                          else make_references.INPUTS) / fresh_path.name
        assert committed_path.exists(), f"run .venv/bin/python -m autograder.make_references"
        with np.load(fresh_path) as fresh, np.load(committed_path) as committed:
            assert sorted(fresh.files) == sorted(committed.files), \
                "references are stale: run .venv/bin/python -m autograder.make_references"
            for key in fresh.files:  # floats to rounding: torch's kernels differ by CPU
                a, b = fresh[key], committed[key]
                same = (np.allclose(a, b, rtol=1e-12, atol=1e-12) if a.dtype.kind in "fc"
                        else np.array_equal(a, b))
                assert a.shape == b.shape and same, f"{key} differs"


def test_hidden_cases_cover_non_square_shapes():
    refs = convolution_basics.build()
    images = [v.shape for k, v in refs.items() if k.startswith("correlate/") and k.endswith("/image")]
    kernels = [v.shape for k, v in refs.items() if k.startswith("correlate/") and k.endswith("/kernel")]
    assert any(h != w for h, w in images) and any(h != w for h, w in kernels)
    assert any(h % 2 == 0 for h, _ in kernels) and any(h % 2 == 1 for h, _ in kernels)
    strides = [v[3] for k, v in refs.items() if k.startswith("output_size/") and k.endswith("/args")]
    assert max(strides) > 1


def test_the_inputs_the_kernel_sees_hold_no_expected_output():
    judged = [name for name in ASSIGNMENTS if make_references.judged_outside(name)]
    assert set(judged) == set(ASSIGNMENTS)
    for name in judged:
        outputs = make_references.output_fields(name)
        with np.load(make_references.INPUTS / f"{name}.npz") as inputs, \
                np.load(make_references.REFERENCES / f"{name}.npz") as refs:
            assert not [key for key in inputs.files if key.rpartition("/")[2] in outputs], name
            held_back = set(refs.files) - set(inputs.files)
            assert held_back and all(k.rpartition("/")[2] in outputs for k in held_back), name
