"""Hidden checks that record step by step (for checks of objects: layers, networks, models).

In the kernel a check's `call` builds the student's object and runs it, filling a dict with what
each step gave (`record_step`), converted to what `autograder.hidden.record.to_plain` keeps; when
a step of the student's code raises, the step and its error go into record['failed'] and later
steps are not run. Outside the kernel a judge reads the dict with `recorded` (which turns a
failed step into the message the student sees), `plain` and `result_of`.
"""
import numpy as np

from course.checks import CheckFailed, clip, explain_error

from autograder.hidden.record import Raised, Unsupported, raised
from autograder.hidden.spec import Check, expect_raised

PLAIN = "Return a plain int, float, tuple or NumPy array (np.ndarray itself, not a subclass of it)."


# ------------------------------------------------------------------ recording, in the kernel

class Stop(Exception):
    """A step of the student's code raised; the record holds its message under 'failed'."""


def frozen(value, depth=0):
    """`value` as it is now: exact arrays copied, lists, tuples and dicts rebuilt (a dict
    subclass read with dict's own methods); anything else as it is, for record.to_plain."""
    kind = type(value)
    if kind is np.ndarray:
        return np.array(value, copy=True)
    if depth > 6:
        return value
    if kind is list:
        return [frozen(v, depth + 1) for v in list.__iter__(value)]
    if kind is tuple:
        return tuple(frozen(v, depth + 1) for v in tuple.__iter__(value))
    if isinstance(value, dict):
        return {k: frozen(dict.__getitem__(value, k), depth + 1) for k in list(dict.__iter__(value))}
    return value


def message_of(error):
    try:
        return str(error)
    except Exception:  # a message that cannot be shown is no message
        return ""


def record_step(record, key, call, what, hint=None):
    """record[key] = call() as it is now; when it raises, the call and the error (as plain
    data, with the hint for that step) go into record['failed'] and Stop ends the recording.
    A CheckFailed raised by the test's own code in the kernel (a wrong kind of object, say)
    is kept as its message."""
    try:
        value = call()
    except NotImplementedError:
        raise
    except CheckFailed as failed:
        record["failed"] = message_of(failed)
        raise Stop from None
    except Exception as err:  # the student's code failed: that is the answer recorded
        record["failed"] = {"what": what, "raised": raised(err)}
        if hint:
            record["failed"]["hint"] = hint
        raise Stop from None
    if key is not None:
        record[key] = frozen(value)
    return value


def recording(body):
    """A Check's call: body(fn, case, record, *more) fills the record dict, step by step (more:
    the hidden test's other arguments a Check asks for with `also`)."""
    def call(fn, case, *more):
        record = {}
        try:
            body(fn, case, record, *more)
        except Stop:
            pass
        return record
    return call


def outcome(call):
    """{'returned': value} or {'raised': the error as plain data} of call()."""
    try:
        return {"returned": frozen(call())}
    except NotImplementedError:
        raise
    except Exception as err:  # raising is what the student's code should do here
        return {"raised": raised(err)}


# ------------------------------------------------------------------ judging, outside

def failure(failed, what):
    """The student's message for a recorded record['failed']: the step's call and what it
    raised (worded as spec.verdict words an error), or the test's own sentence."""
    if type(failed) is str:
        return failed
    if type(failed) is dict and type(failed.get("what")) is str and type(failed.get("raised")) is dict:
        got = Raised(failed["raised"])
        explained = explain_error(got.type, got.message)
        hint = failed.get("hint")
        return clip(f"{failed['what']}: your function raised {got.type}: {clip(got.message, 6, 600)}"
                    + (f"\n  What it usually means: {explained}" if explained else "")
                    + (f"\n  Hint: {hint}" if type(hint) is str else ""))
    return f"{what}: the test recorded no answer for this step."


def recorded(got, key, what):
    """got[key] of a recording, or CheckFailed: the step before it raised (its message)."""
    if type(got) is not dict:
        raise CheckFailed(f"{what}: the test recorded no answer it can read.")
    if key not in got:
        raise CheckFailed(failure(got.get("failed"), what))
    return got[key]


def plain(value, what):
    if isinstance(value, Unsupported):
        raise CheckFailed(f"{what}: returned {value!r}. {PLAIN}")
    return value


def kind_of(value):
    if isinstance(value, Unsupported):
        return repr(value)
    return type(value).__name__


def result_of(outcome):
    """What a recorded outcome holds: the value returned, or a Raised."""
    if type(outcome) is dict and type(outcome.get("raised")) is dict:
        return Raised(outcome["raised"])
    if type(outcome) is dict and "returned" in outcome:
        return outcome["returned"]
    return Unsupported("record of an unknown form")


def must_raise(got, error_name, what, hint, exercise):
    """Judge an answer that must be error_name raised by the student's own code."""
    if isinstance(got, Raised) and got.type == "CheckFailed":
        raise CheckFailed(got.message)
    if isinstance(got, Raised) and got.type == "NotImplementedError":
        raise CheckFailed(f"{what}: not answered yet: {exercise} still raises NotImplementedError.")
    expect_raised(got, error_name, what, hint=hint)


def refused(hint):
    def judge(got, case, ref, what):
        must_raise(got, "ValueError", what, hint, what.split("(")[0].split()[-1] + "()")
    return judge


def refusing(body):
    """A Check's call for a case the student's code must refuse: body(fn, case, record)
    builds the object in a step (a failure there is said as call_student says it) and
    returns what the refusing call returned; what that call raises is the answer recorded."""
    def call(fn, case):
        record = {}
        try:
            return body(fn, case, record)
        except Stop:
            raise CheckFailed(failure(record.get("failed"), "hidden test")) from None
    return call



def layer_check(exercise, prefix, body, what, judge, forbid_library=False, argument=None):
    return Check(exercise=exercise, prefix=prefix, call=recording(body), what=what, judge=judge,
                 forbid_library=forbid_library, argument=argument)


def refusal_check(exercise, prefix, call, what, hint, forbid_library=False, argument=None):
    return Check(exercise=exercise, prefix=prefix, call=refusing(call), what=what,
                 judge=refused(hint), forbid_library=forbid_library, argument=argument,
                 expects_error=lambda case, ref: True)
