"""Hidden checks that locate a bug by probing nearby cases (course.probe), judged outside.

The judge cannot call the student's function, so the grading kernel records more: for each
case, the answer (or the error raised) and the answers on the case's nearby cases (the kernel
made square, one image, stride 1, ...; course.probe builds them from the case's inputs, the
same arrays in the kernel and in the judge). They are small, and the kernel does not know the
verdict, so they are recorded for every case. The kernel sees no reference.

Outside, the judge judges the answer as the plain check would. When it is wrong and no known
mistake fits (or the function raised), the judge computes the right answers of the nearby
cases itself (torch) and says which property the bug depends on (course.probe.locate):
"Your function is right when the kernel is square, and wrong on this case: ...".

A record holds {"answer": what came back} or {"raised": the error}, and {"nearby": {label:
what came back there, or None where it raised}}.
"""
import dataclasses

import numpy as np

from course import probe
from course.checks import MAX_LINES, CheckFailed, clip

from autograder.hidden.record import Raised, raised
from autograder.hidden.spec import Check, verdict

_PREFIX = "hidden test: "
_NOT_PROBED = ("NotImplementedError", "CheckFailed")   # not answered, or refused: no probing


def probed_check(*, call, judge, nearby, answer_on, reference, where, guard=None, **fields):
    """A Check (autograder.hidden.spec) that records the nearby answers and uses them.

    Inputs:
    - call(fn, case) -> the answer, as a plain Check's call
    - judge(got, case, ref, what, located) -> None or raises: the plain judge, with
      located() -> the probing sentence or None, for its diagnosis when no mistake fits
    - nearby(case) -> {label: arguments} (course.probe.nearby_..._cases of the case)
    - answer_on(fn, arguments) -> what to record of fn's answer on one nearby case
    - reference(*arguments) -> the right answer there (computed by the judge only)
    - where: course.probe.WHERE, WHERE_BACKWARD or WHERE_POOL
    - guard(call) -> call: wraps the whole recording call (the checks of 03 refuse shortcuts
      around it), or None
    - fields: the other fields of the Check (exercise, prefix, what, forbid_library, ...)
    """
    def record(fn, case):
        try:
            got = {"answer": call(fn, case)}
        except Exception as error:  # the student's code failed: that is the answer recorded
            got = {"raised": raised(error)}
            if type(error).__name__ in _NOT_PROBED:
                return got | {"nearby": {}}
        return got | {"nearby": probe.answers_on(lambda *args: answer_on(fn, args),
                                                 nearby(case))}

    plain = Check(call=call, judge=judge, **fields)

    def judge_probed(got, case, ref, what):
        answer, answers = _split(got)
        located = _once(lambda: probe.locate(answers, nearby(case), reference, where))
        inner = dataclasses.replace(
            plain, judge=lambda g, c, r, w: judge(g, c, r, w, located))
        try:
            verdict(inner, case, ref, answer, _function_name(plain, case, what))
        except CheckFailed as failed:
            if isinstance(answer, Raised) and answer.type not in _NOT_PROBED and located():
                raise CheckFailed(clip(str(failed), MAX_LINES - 3)
                                  + f"\n  Where to look: {located()}") from None
            raise

    return Check(call=guard(record) if guard else record, judge=judge_probed, **fields)


def mistake_or_where(mistake, located):
    """The known mistake (mistake() -> sentence or None), or else where the bug is
    (located() -> sentence or None). A mistake table that fails on a case names nothing
    there, and the probing still runs."""
    try:
        named = mistake()
    except Exception:
        named = None
    return named or located()


def _split(got):
    """(the answer, {label: nearby answer}) of a probed record."""
    if type(got) is not dict or "nearby" not in got or type(got["nearby"]) is not dict:
        return got, {}   # not a probed record: judged as it is, without probing
    if "raised" in got and type(got["raised"]) is dict:
        return Raised(got["raised"]), got["nearby"]
    return got.get("answer"), got["nearby"]


def _once(compute):
    """compute(), computed on the first call only."""
    memo = []

    def get():
        if not memo:
            memo.append(compute())
        return memo[0]
    return get


def _function_name(check, case, what):
    """The function's name as the test cell calls it, read back from `what`, which is
    'hidden test: <name><check.what(case)>' (autograder.hidden.spec.describe)."""
    tail = check.what(case)
    if what.startswith(_PREFIX) and what.endswith(tail) and len(what) > len(_PREFIX) + len(tail):
        return what[len(_PREFIX):len(what) - len(tail)]
    return None


# ------------------------------------------------------------------ the judge's references

def conv_forward_reference(x, w, b, conv_param):
    """The right out of a convolution (torch), float64."""
    import torch
    import torch.nn.functional as tnf
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))  # noqa: E731
    return tnf.conv2d(t(x), t(w), t(b), stride=int(conv_param["stride"]),
                      padding=int(conv_param["pad"])).numpy()


def conv_backward_reference(x, w, b, conv_param, dout):
    """The right (dx, dw, db) of a convolution for upstream gradient dout (torch autograd)."""
    import torch
    import torch.nn.functional as tnf
    tx, tw, tb = (torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
                  for a in (x, w, b))
    out = tnf.conv2d(tx, tw, tb, stride=int(conv_param["stride"]), padding=int(conv_param["pad"]))
    out.backward(torch.from_numpy(np.asarray(dout, dtype=np.float64)))
    return tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()


def pool_forward_reference(mode):
    """reference(x, pool_param) -> the right out of max or average pooling (torch)."""
    def reference(x, pool_param):
        import torch
        import torch.nn.functional as tnf
        pool = tnf.max_pool2d if mode == "max" else tnf.avg_pool2d
        return pool(torch.from_numpy(np.asarray(x, dtype=np.float64)),
                    (int(pool_param["pool_height"]), int(pool_param["pool_width"])),
                    stride=int(pool_param["stride"])).numpy()
    return reference


def first_of(result):
    """What to record of a layer's (out, cache) on a nearby case: out alone, or the result
    itself when it is not a pair."""
    if type(result) is tuple and tuple.__len__(result) == 2:
        return tuple.__getitem__(result, 0)
    return result
