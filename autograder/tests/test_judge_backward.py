"""03-convolution-backward's new checks judged outside the kernel: dx as a full convolution
(check_conv_backward_dx_full) and the transposed convolution (check_conv_transpose), each run
as the grading kernel runs it (COURSE_JUDGE=outside, recording only), then judged by
autograder.judge. A right answer passes; a lying one (an ndarray subclass that says it equals
anything, a tuple subclass), a typical wrong one and one that hands the work to PyTorch fail
with the student's message, which never holds the expected values."""
import numpy as np
import pytest
import torch
import torch.nn.functional as tnf

from autograder.hidden import convolution_backward, load_references
from autograder.solutions import load_solutions
from autograder.tests.judging import LyingArray, LyingTuple, graded_outside

ASSIGNMENT = "03-convolution-backward"


@pytest.fixture(scope="module")
def S():
    return load_solutions(ASSIGNMENT)


def graded(tmp_path, monkeypatch, check, name, fn):
    """Run a hidden check of 03 as the grading kernel would (recording only), then judge it."""
    return graded_outside(tmp_path, monkeypatch, "convolution_backward", check, [name], [fn])


def _dx_shape(dout, cache):
    return cache[0].shape


def _transpose_shape(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    return (x.shape[0], w.shape[1], (x.shape[2] - 1) * s - 2 * p + w.shape[2],
            (x.shape[3] - 1) * s - 2 * p + w.shape[3])


def test_the_new_checks_are_judged_outside_on_the_hidden_cases():
    new_checks = {"check_conv_backward_dx_full", "check_conv_transpose"}
    assert new_checks <= set(convolution_backward.CHECKS)
    refs = load_references(ASSIGNMENT)
    strides = {tuple(v) for k, v in refs.items() if k.startswith(("full/", "tconv/"))
               and k.endswith("/stride_pad")}
    assert {s for s, _ in strides} == {1, 2, 3} and {p for _, p in strides} == {0, 1, 2}
    kernels = [v.shape[2:] for k, v in refs.items() if k.startswith("tconv/") and k.endswith("/w")]
    assert any(h != w for h, w in kernels)
    assert sum(k.endswith("/backward_of") for k in refs) == 3


@pytest.mark.parametrize("check, name", [("check_conv_backward_dx_full", "conv_backward_dx_full"),
                                         ("check_conv_transpose", "conv_transpose_naive")])
def test_the_solution_passes_outside(tmp_path, monkeypatch, S, check, name):
    assert graded(tmp_path, monkeypatch, check, name, S[name]) is None


@pytest.mark.parametrize("check, name, fn, says", [
    ("check_conv_backward_dx_full", "conv_backward_dx_full",
     lambda dout, cache: np.zeros(_dx_shape(dout, cache)).view(LyingArray),
     "returned a autograder.tests.judging.LyingArray, which is not plain data"),
    ("check_conv_backward_dx_full", "conv_backward_dx_full",
     lambda dout, cache: LyingTuple((np.zeros(_dx_shape(dout, cache)),)), "not plain data"),
    ("check_conv_transpose", "conv_transpose_naive",
     lambda x, w, b, p: np.zeros(_transpose_shape(x, w, b, p)).view(LyingArray),
     "returned a autograder.tests.judging.LyingArray, which is not plain data"),
    ("check_conv_transpose", "conv_transpose_naive",
     lambda x, w, b, p: (np.zeros(_transpose_shape(x, w, b, p)), None),
     "it should return out alone, one NumPy array"),
])
def test_lying_answers_are_judged_wrong_outside(tmp_path, monkeypatch, check, name, fn, says):
    message = graded(tmp_path, monkeypatch, check, name, fn)
    assert message is not None and says in message, message


def test_a_kernel_not_turned_round_is_named_without_the_expected_values(tmp_path, monkeypatch, S):
    right = S["conv_backward_dx_full"]

    def not_turned(dout, cache):
        x, w, b, conv_param = cache
        return right(dout, (x, w[:, :, ::-1, ::-1], b, conv_param))

    message = graded(tmp_path, monkeypatch, "check_conv_backward_dx_full",
                     "conv_backward_dx_full", not_turned)
    assert "hidden test: conv_backward_dx_full with x" in message
    assert "The kernel is not turned round" in message and "expected:" not in message


def test_a_wrong_size_of_the_backward_pass_is_said_in_its_terms(tmp_path, monkeypatch, S):
    right = S["conv_transpose_naive"]

    def uncropped(x, w, b, conv_param):
        return right(x, w, b, {"stride": conv_param["stride"], "pad": 0})

    message = graded(tmp_path, monkeypatch, "check_conv_transpose", "conv_transpose_naive",
                     uncropped)
    assert "The padding is not taken off" in message, message
    # the first case with padding is an ordinary one; the backward-pass cases say more
    def uncropped_backward_only(x, w, b, conv_param):
        wrong = not np.any(b) and x.shape[1] == w.shape[0] and conv_param["pad"]
        return uncropped(x, w, b, conv_param) if wrong else right(x, w, b, conv_param)

    message = graded(tmp_path, monkeypatch, "check_conv_transpose", "conv_transpose_naive",
                     uncropped_backward_only)
    assert "the backward pass of a convolution of x" in message, message
    assert "has the shape of that x" in message and "not taken off" in message


@pytest.mark.parametrize("check, name, fn", [
    ("check_conv_backward_dx_full", "conv_backward_dx_full",
     lambda dout, cache: tnf.conv_transpose2d(torch.from_numpy(dout), torch.from_numpy(cache[1]),
                                              stride=cache[3]["stride"],
                                              padding=cache[3]["pad"]).numpy()),
    ("check_conv_transpose", "conv_transpose_naive",
     lambda x, w, b, p: torch.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w),
                                               torch.from_numpy(b), stride=p["stride"],
                                               padding=p["pad"]).numpy()),
])
def test_a_transposed_convolution_from_torch_is_refused(tmp_path, monkeypatch, check, name, fn):
    message = graded(tmp_path, monkeypatch, check, name, fn)
    assert message is not None and "conv_transpose2d" in message and "with NumPy" in message
    assert tnf.conv_transpose2d.__name__ == "conv_transpose2d"     # put back after the call
