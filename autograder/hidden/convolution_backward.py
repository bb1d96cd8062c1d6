"""Hidden tests of 03-convolution-backward, judged outside the kernel (autograder.hidden.spec):
conv_backward against torch's autograd over the forward pass's grid of cases, the two
cases of exercise 4.1 run outside against the notebook's buggy backward pass
(course.diagnose_layers.failing_case_problem), dx written as a full convolution against
torch's autograd, and the transposed convolution against torch's conv_transpose2d (and, on
a few cases, as the backward pass of a convolution: the shape of its input, autograd's dx),
and a kernel learned by gradient descent against the kernel that made the targets (known
only to the judge), with a loss that starts where the task says and never rises.
conv_backward's records also hold the answers on nearby cases, so that the judge can say which
property a bug depends on when no known mistake fits (autograder.hidden.probing)."""
import contextlib
import importlib
import types

import numpy as np

from course.checks import CheckFailed, check_array
from course.probe import WHERE_BACKWARD, nearby_conv_backward_cases
from course.shortcuts import reachable

from autograder.hidden.probing import (conv_backward_reference, mistake_or_where,
                                       probed_check)
from autograder.hidden.record import Unsupported
from autograder.hidden.spec import Check, lazy, runner, unpack

ASSIGNMENT = "03-convolution-backward"
conv_backward_mistake = lazy("course.diagnose_layers", "conv_backward_mistake")
failing_case_problem = lazy("course.diagnose_layers", "failing_case_problem")
conv_backward_dx_full_mistake = lazy("course.diagnose_layers", "conv_backward_dx_full_mistake")
conv_transpose_mistake = lazy("course.diagnose_layers", "conv_transpose_mistake")

# Library functions that hand over a convolution's input gradient (or a transposed
# convolution) whole, which course.shortcuts.FORBIDDEN does not list: refused here as well.
GRADIENT_SHORTCUTS = {
    "torch": ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d"],
    "torch.nn.functional": ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d"],
    "torch.nn.grad": ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight",
                      "conv3d_input", "conv3d_weight"],
}
# The notebook's other ways to the same gradient: exercises 5.1 and 6.1 are to be written
# their own way, so they may not call these (the notebook's own functions, by name).
OTHER_ANSWERS = {"conv_backward_naive", "conv_backward_fast", "conv_backward_fixed",
                 "buggy_conv_backward", "conv_backward_dx_full", "conv_transpose_naive"}


def _shortcuts():
    """{id(function): "module.name"} of GRADIENT_SHORTCUTS, and [(module, name)] to trip."""
    found, targets = {}, []
    for module_name, names in GRADIENT_SHORTCUTS.items():
        module = importlib.import_module(module_name)
        for name in names:
            if hasattr(module, name):
                found[id(getattr(module, name))] = f"{module_name}.{name}"
                targets.append((module, name))
    return found, targets


@contextlib.contextmanager
def _written_its_own_way(fn, exercise, others=False):
    """While the block runs, the GRADIENT_SHORTCUTS raise CheckFailed; first, `fn` must not
    reach one under any name, nor (with `others`) another of the notebook's answers."""
    found, targets = _shortcuts()
    for where, value in reachable(fn):
        if id(value) in found:
            raise CheckFailed(
                f"{exercise} can reach {found[id(value)]} (as {where}): this exercise is to "
                "write the operation yourself, with NumPy. Library convolutions, transposed "
                "convolutions and gradients are only references for the tests.")
        if (others and isinstance(value, types.FunctionType) and value is not fn
                and value.__module__ == "__main__" and value.__name__ in OTHER_ANSWERS):
            raise CheckFailed(
                f"{exercise} calls {value.__name__} (as {where}): this exercise is to get the "
                "result another way, the one its task describes, not through your answer to "
                "another exercise. Write it on its own.")

    def tripped(library_name):
        def refuse(*args, **kwargs):
            raise CheckFailed(f"{exercise} called {library_name}: this exercise is to write the "
                              "operation yourself, with NumPy.")
        return refuse

    saved = [(module, name, getattr(module, name)) for module, name in targets]
    try:
        for module, name, _ in saved:
            setattr(module, name, tripped(f"{module.__name__}.{name}"))
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


def _guarded(exercise, call, others=False):
    """`call` (fn, case) run inside _written_its_own_way."""
    def guarded(fn, case):
        with _written_its_own_way(fn, exercise, others):
            return call(fn, case)
    return guarded


def _conv_param(case):
    stride, pad = (int(v) for v in case["stride_pad"])
    return {"stride": stride, "pad": pad}


def _judge_conv_backward(got, case, ref, what, located=lambda: None):
    dx, dw, db = unpack(got, 3, "dx, dw, db", what)
    x, w, b, dout = case["x"], case["w"], case["b"], case["dout"]

    def mistake(_):
        return mistake_or_where(
            lambda: conv_backward_mistake(dx, dw, db, x, w, b, _conv_param(case), dout), located)

    for answer, label in ((db, "db"), (dw, "dw"), (dx, "dx")):
        check_array(answer, ref[label], f"{label} from {what}", reveal=False, diagnose=mistake,
                    hint="Check this shape, stride and padding against the three formulas.")


def _one_array(got, what, name):
    """CheckFailed when a tuple came back where one array belongs."""
    if type(got) in (tuple, list):
        raise CheckFailed(f"{what}: returned a {type(got).__name__} of {len(got)} items; it "
                          f"should return {name} alone, one NumPy array.")


def _judge_dx_full(got, case, ref, what):
    _one_array(got, what, "dx")
    x, w, dout = case["x"], case["w"], case["dout"]
    check_array(got, ref["dx"], f"dx from {what}", reveal=False,
                diagnose=lambda dx: conv_backward_dx_full_mistake(dx, x, w, _conv_param(case),
                                                                  dout),
                hint="Check each step of the recipe on this stride and padding: dout spread "
                     "out, padded by HH - 1 and WW - 1, correlated with the turned kernel and "
                     "summed over the filters, then cropped.")


def _judge_transpose(got, case, ref, what):
    _one_array(got, what, "out")
    x, w, b = case["x"], case["w"], case["b"]

    def mistake(out):
        return conv_transpose_mistake(out, x, w, b, _conv_param(case))

    if "backward_of" in case and isinstance(got, np.ndarray) and got.shape != ref["out"].shape:
        x_shape = tuple(int(v) for v in case["backward_of"])
        raise CheckFailed(
            f"{what}: returned an array of shape {got.shape}. This transposed convolution is "
            f"the backward pass of the convolution of an x of shape {x_shape} with these w, "
            "stride and pad, so its output has the shape of that x.\n  Hint: "
            + (mistake(got) or "H_out = (H - 1)*stride - 2*pad + HH, and the same for W_out."))
    check_array(got, ref["out"], what, reveal=False, diagnose=mistake,
                hint="Check where each window starts (i*stride, j*stride), that every value "
                     "adds to what is there, and the crop of pad from each side.")


def _transpose_what(case):
    x, w = case["x"], case["w"]
    stride, pad = (int(v) for v in case["stride_pad"])
    if "backward_of" in case:
        return (f"(x {x.shape}, w {w.shape}, b = 0, stride {stride}, pad {pad}), the backward "
                f"pass of a convolution of x {tuple(int(v) for v in case['backward_of'])}")
    return f"(x {x.shape}, w {w.shape}, b, stride {stride}, pad {pad})"


def _exposes_judge(bug):
    """Judge of one spot-the-bug case: valid, and exposing `bug` with the other one fixed
    (course.diagnose_layers.failing_case_problem, which the public test uses too)."""
    def judge(got, case, ref, what):
        problem = failing_case_problem(got, bug)
        if problem:
            raise CheckFailed(f"{what} returned {_shown(got)}: {problem}")
    return judge


def _shown(got):
    return repr(got) if not isinstance(got, Unsupported) else str(got)


def _call_backward(fn, c):
    return fn(c["dout"].copy(), (c["x"].copy(), c["w"].copy(), c["b"].copy(), _conv_param(c)))


def _backward_what(c):
    return " with x {}, w {}, stride {}, pad {}".format(
        c["x"].shape, c["w"].shape, *(int(v) for v in c["stride_pad"]))


def _nearby_backward(c):
    return nearby_conv_backward_cases(c["x"], c["w"], c["b"], _conv_param(c), c["dout"])


def _backward_on(fn, args):
    x, w, b, conv_param, dout = args
    return fn(dout.copy(), (x.copy(), w.copy(), b.copy(), dict(conv_param)))


def _learn_args(c):
    HH, WW = (int(v) for v in c["kernel_shape"])
    return (c["images"].copy(), c["targets"].copy(), (HH, WW), float(c["lr"]),
            int(c["num_steps"]), int(c["seed"]))


def _learn_what(c):
    _, _, (HH, WW), lr, num_steps, seed = _learn_args(c)
    return (f"(images {c['images'].shape}, targets {c['targets'].shape}, kernel_shape "
            f"({HH}, {WW}), lr={lr}, num_steps={num_steps}, seed={seed})")


def _mse_and_dw(images, targets, w):
    """Mean squared error of the valid correlation of images with w, its dw and its db."""
    HH, WW = w.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(images, (HH, WW), axis=(2, 3))
    diff = np.einsum("ncijkl,fckl->nfij", windows, w) - targets
    dout = 2 * diff / diff.size
    return float(np.mean(diff ** 2)), np.einsum("nfij,ncijkl->fckl", dout, windows), dout.sum()


def _first_steps(case):
    """{"right" and each typical mistake: the loss after the first step}, and the loss at
    the start."""
    images, targets, (HH, WW), lr, _, seed = _learn_args(case)
    w0 = np.random.default_rng(seed).normal(size=(1, 1, HH, WW))
    start, dw, db = _mse_and_dw(images, targets, w0)
    after = {name: _mse_and_dw(images, targets, w)[0] for name, w in [
        ("right", w0 - lr * dw), ("sign", w0 + lr * dw), ("sum", w0 - lr * targets.size * dw),
        ("db", w0 - lr * db)]}
    return start, after


LEARN_MISTAKES = {
    "sign": "the loss rose by exactly what a step of w + lr * dw gives: a step goes against "
            "the gradient, downhill.",
    "sum": "the first step is as large as with dout = 2 * (pred - targets), not divided by the "
           "number of output values: the gradient of a sum, not of the mean, N * H_out * W_out "
           "times too large for this lr.",
    "db": "the first step moved every weight by the same amount, as db (the sum of dout) "
          "would: the step of the kernel is dw.",
}


def _judge_learn_kernel(got, case, ref, what):
    w, losses = unpack(got, 2, "the learned kernel w and the list of losses", what)
    _, _, (HH, WW), _, num_steps, _ = _learn_args(case)
    if not isinstance(w, np.ndarray) or w.shape != (1, 1, HH, WW):
        raise CheckFailed(f"{what}: the kernel came back as {_kind_of(w)}; it should be an "
                          f"array of shape (1, 1, {HH}, {WW}), the shape of w in conv_forward.")
    if (type(losses) not in (list, tuple, np.ndarray) or len(losses) != num_steps
            or not all(isinstance(v, (float, int, np.floating)) for v in np.ravel(losses))):
        raise CheckFailed(f"{what}: the losses came back as {_kind_of(losses)}; they should be "
                          f"a list of {num_steps} floats, one per step.")
    losses = np.asarray(losses, dtype=float)
    start, after = _first_steps(case)
    if not np.isclose(losses[0], start, rtol=1e-6):
        hint = ("losses[0] is the loss of the step after the first one: record each loss "
                "before its step." if np.isclose(losses[0], after["right"], rtol=1e-6) else
                "losses[0] is the mean squared error of the starting kernel, "
                "np.random.default_rng(seed).normal(size=(1, 1, HH, WW)), before any step: "
                "the mean over every output value, not the sum.")
        raise CheckFailed(f"{what}: the first loss is not the loss at the starting kernel.\n"
                          f"  Hint: {hint}")
    if num_steps > 1 and not np.isclose(losses[1], after["right"], rtol=1e-6):
        for name, loss in after.items():
            if name != "right" and np.isclose(losses[1], loss, rtol=1e-6):
                raise CheckFailed(f"{what}: {LEARN_MISTAKES[name]}")
    if not np.all(np.isfinite(losses)) or np.any(np.diff(losses) > 1e-9 * losses[0]):
        raise CheckFailed(f"{what}: the loss rose during training, so the steps overshoot."
                          "\n  Hint: with this lr, a step w - lr * dw of the mean squared error "
                          "never raises the loss; check that dout is 2 * (pred - targets) "
                          "divided by the number of output values, and that the kernel is "
                          "updated once per step.")
    check_array(w, ref["true_w"], f"the kernel learned by {what}", reveal=False, rtol=0,
                atol=1e-3, hint="The loss fell but the kernel is not the one that made the "
                "targets: run every one of the num_steps steps, each with the dw of the "
                "current kernel.")


def _kind_of(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if type(value) in (list, tuple):
        return f"a {type(value).__name__} of {len(value)} items"
    return _shown(value)


CHECKS = {
    "check_conv_backward": probed_check(
        exercise="conv_backward", prefix="conv", forbid_library=True,
        call=_call_backward, guard=lambda call: _guarded("conv_backward", call),
        what=_backward_what,
        judge=_judge_conv_backward,
        nearby=_nearby_backward, answer_on=_backward_on,
        reference=conv_backward_reference, where=WHERE_BACKWARD),
    "check_failing_cases": (
        Check(exercise="case_for_bug_a", prefix=None, call=lambda fn, c: fn(),
              what=lambda c: "()",
              judge=_exposes_judge("A")),
        Check(exercise="case_for_bug_b", prefix=None, call=lambda fn, c: fn(),
              what=lambda c: "()",
              judge=_exposes_judge("B")),
    ),
    "check_conv_backward_dx_full": Check(
        exercise="conv_backward_dx_full", prefix="full", forbid_library=True,
        call=_guarded("conv_backward_dx_full", _call_backward, others=True),
        what=_backward_what,
        judge=_judge_dx_full),
    "check_conv_transpose": Check(
        exercise="conv_transpose_naive", prefix="tconv", forbid_library=True,
        call=_guarded("conv_transpose_naive",
                      lambda fn, c: fn(c["x"].copy(), c["w"].copy(), c["b"].copy(),
                                       _conv_param(c)), others=True),
        what=_transpose_what,
        judge=_judge_transpose),
    "check_learn_kernel": Check(
        exercise="learn_kernel", prefix="learn", forbid_library=True,
        call=_guarded("learn_kernel", lambda fn, c: fn(*_learn_args(c))),
        what=_learn_what,
        judge=_judge_learn_kernel),
}

check_conv_backward = runner(ASSIGNMENT, CHECKS, "check_conv_backward")
check_failing_cases = runner(ASSIGNMENT, CHECKS, "check_failing_cases")
check_conv_backward_dx_full = runner(ASSIGNMENT, CHECKS, "check_conv_backward_dx_full")
check_conv_transpose = runner(ASSIGNMENT, CHECKS, "check_conv_transpose")
check_learn_kernel = runner(ASSIGNMENT, CHECKS, "check_learn_kernel")
