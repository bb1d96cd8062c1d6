"""Hidden tests of 03-convolution-backward, judged outside the kernel (autograder.hidden.spec):
conv_backward against torch's autograd over the forward pass's grid of cases, and the two
cases of exercise 4.1 run outside against the notebook's buggy backward pass
(course.diagnose_layers.failing_case_problem)."""
from course.checks import CheckFailed, check_array

from autograder.hidden.record import Unsupported
from autograder.hidden.spec import Check, lazy, runner, unpack

ASSIGNMENT = "03-convolution-backward"
conv_backward_mistake = lazy("course.diagnose_layers", "conv_backward_mistake")
failing_case_problem = lazy("course.diagnose_layers", "failing_case_problem")


def _conv_param(case):
    stride, pad = (int(v) for v in case["stride_pad"])
    return {"stride": stride, "pad": pad}


def _judge_conv_backward(got, case, ref, what):
    dx, dw, db = unpack(got, 3, "dx, dw, db", what)
    x, w, b, dout = case["x"], case["w"], case["b"], case["dout"]

    def mistake(_):
        return conv_backward_mistake(dx, dw, db, x, w, b, _conv_param(case), dout)

    for answer, label in ((db, "db"), (dw, "dw"), (dx, "dx")):
        check_array(answer, ref[label], f"{label} from {what}", reveal=False, diagnose=mistake,
                    hint="Check this shape, stride and padding against the three formulas.")


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


CHECKS = {
    "check_conv_backward": Check(
        exercise="conv_backward", prefix="conv", forbid_library=True,
        call=lambda fn, c: fn(c["dout"].copy(),
                              (c["x"].copy(), c["w"].copy(), c["b"].copy(), _conv_param(c))),
        what=lambda c: " with x {}, w {}, stride {}, pad {}".format(
            c["x"].shape, c["w"].shape, *(int(v) for v in c["stride_pad"])),
        judge=_judge_conv_backward),
    "check_failing_cases": (
        Check(exercise="case_for_bug_a", prefix=None, call=lambda fn, c: fn(),
              what=lambda c: "()",
              judge=_exposes_judge("A")),
        Check(exercise="case_for_bug_b", prefix=None, call=lambda fn, c: fn(),
              what=lambda c: "()",
              judge=_exposes_judge("B")),
    ),
}

check_conv_backward = runner(ASSIGNMENT, CHECKS, "check_conv_backward")
check_failing_cases = runner(ASSIGNMENT, CHECKS, "check_failing_cases")
