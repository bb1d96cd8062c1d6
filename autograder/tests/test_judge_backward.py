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


# learn_kernel (exercise 7.1): the true kernel is only in the references, and the
# typical mistakes of a gradient-descent loop are named from the first two losses


def _learner(step_sign=-1.0, scale_by_size=False, use_db=False, loss_after=False, lie=None):
    """A learn_kernel with one typical mistake (or none), written without the solution."""
    def learn_kernel(images, targets, kernel_shape, lr, num_steps, seed=0):
        HH, WW = kernel_shape
        w = np.random.default_rng(seed).normal(size=(1, 1, HH, WW))
        windows = np.lib.stride_tricks.sliding_window_view(images, (HH, WW), axis=(2, 3))
        losses = []
        for _ in range(num_steps):
            diff = np.einsum("ncijkl,fckl->nfij", windows, w) - targets
            dout = 2 * diff / (1 if scale_by_size else diff.size)
            dw = np.einsum("nfij,ncijkl->fckl", dout, windows)
            w = w + step_sign * lr * (dout.sum() if use_db else dw)
            if not loss_after:
                losses.append(float(np.mean(diff ** 2)))
            else:
                new = np.einsum("ncijkl,fckl->nfij", windows, w) - targets
                losses.append(float(np.mean(new ** 2)))
        return (w.view(LyingArray), losses) if lie == "array" else (
            LyingTuple((w, losses)) if lie == "tuple" else (w, losses))
    return learn_kernel


def test_the_true_kernels_are_only_in_the_references():
    from autograder.hidden.spec import load_inputs
    inputs, refs = load_inputs(ASSIGNMENT), load_references(ASSIGNMENT)
    learn = [k for k in refs if k.startswith("learn/")]
    assert {k for k in learn if k.endswith("/true_w")} and not any(
        k.endswith("/true_w") for k in inputs)
    assert any(refs[k].shape[2] != refs[k].shape[3] for k in learn if k.endswith("/true_w"))


def test_a_right_learner_and_the_solution_pass_outside(tmp_path, monkeypatch, S):
    assert graded(tmp_path, monkeypatch, "check_learn_kernel", "learn_kernel", _learner()) is None
    assert graded(tmp_path, monkeypatch, "check_learn_kernel", "learn_kernel",
                  S["learn_kernel"]) is None


@pytest.mark.parametrize("fn, says", [
    (_learner(step_sign=1.0), "a step of w + lr * dw"),
    (_learner(scale_by_size=True), "not divided by the number of output values"),
    (_learner(use_db=True), "the step of the kernel is dw"),
    (_learner(loss_after=True), "record each loss before its step"),
    (_learner(lie="array"), "not plain data"),
    (_learner(lie="tuple"), "not plain data"),
    (lambda images, targets, kernel_shape, lr, num_steps, seed=0: (
        np.zeros((1, 1, *kernel_shape)), [1.0] * num_steps), "not the loss at the starting kernel"),
])
def test_wrong_learners_are_named_outside(tmp_path, monkeypatch, fn, says):
    message = graded(tmp_path, monkeypatch, "check_learn_kernel", "learn_kernel", fn)
    assert message is not None and says in message, message
    assert "true_w" not in message


def test_a_learner_that_calls_torch_is_refused(tmp_path, monkeypatch):
    def learn_kernel(images, targets, kernel_shape, lr, num_steps, seed=0):
        w = torch.zeros(1, 1, *kernel_shape, dtype=torch.float64)
        tnf.conv2d(torch.from_numpy(images), w)
        return w.numpy(), [0.0] * num_steps
    message = graded(tmp_path, monkeypatch, "check_learn_kernel", "learn_kernel", learn_kernel)
    assert message is not None and "learn_kernel" in message and "conv2d" in message, message
