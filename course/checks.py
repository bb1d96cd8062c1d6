"""Checks used by the test cells: they assert, and their message teaches.

Every failed check raises `CheckFailed` (an AssertionError) whose message says what was
checked, what was expected, what came back, and a hint. Hidden tests call the same checks
with `reveal=False`, which keeps expected values out of the message.

In a notebook a failed check shows only its message, not a traceback through the checks
(IPython calls `_render_traceback_`); when the student's own code raised, its traceback is
shown above the message.
"""
import numbers
import re
import traceback

import numpy as np

__all__ = [
    "CheckFailed", "NotAnswered", "check_equal", "check_array", "check_shape", "check_raises",
    "check_close", "all_passed", "call_student", "check_that",
]

_MAX_SHOWN = 30  # arrays up to this many elements are printed in full


class CheckFailed(AssertionError):
    """A check did not pass; the message is meant for the student."""

    def _render_traceback_(self):
        lines = []
        if self.__cause__ is not None:
            lines.append("Your code raised an error while it was being tested:")
            lines += [frame.rstrip("\n") for frame in traceback.format_exception(self.__cause__)]
            lines.append("")
        lines.append(f"\x1b[0;31mCheckFailed\x1b[0m: {self}")
        return lines


class NotAnswered(CheckFailed):
    """An exercise still raises the NotImplementedError of its blank version."""

    def __init__(self, where):
        super().__init__(
            f"not answered yet: {where} still raises NotImplementedError. Write your code "
            "where it says # YOUR CODE HERE, delete the line `raise NotImplementedError()`, "
            "run that cell, then this one.")

    def _render_traceback_(self):
        return [f"\x1b[0;31mNotAnswered\x1b[0m: {self}"]


def _not_answered(shell, etype, value, tb, tb_offset=None):
    """IPython handler: a blank exercise is said in one sentence, not a traceback."""
    if etype is not NotImplementedError:  # a subclass (input() in a kernel) is another error
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    name = tb.tb_frame.f_code.co_name if tb is not None else "<module>"
    where = "this cell" if name.startswith("<") else f"{name}()"
    error = NotAnswered(where)
    shell.showtraceback((NotAnswered, error, None), tb_offset=tb_offset)


def _install_notebook_messages():
    """In a notebook, show a NotImplementedError as `NotAnswered` (still an error)."""
    try:
        shell = get_ipython()  # noqa: F821 (defined inside IPython only)
    except NameError:
        return
    if shell is not None and hasattr(shell, "set_custom_exc"):
        shell.set_custom_exc((NotImplementedError,), _not_answered)


MAX_LINES = 20  # lines of one message; more are cut, saying how many


def clip(text, max_lines=MAX_LINES, max_chars=4000):
    """`text` cut to `max_lines` lines and `max_chars` characters, saying what was cut."""
    lines = text.splitlines()
    if len(lines) > max_lines:
        lines = lines[:max_lines - 1] + [f"  ... ({len(lines) - max_lines + 1} more lines)"]
    text = "\n".join(lines)
    return text if len(text) <= max_chars else text[:max_chars] + " ..."


# (pattern of an error message, what it usually means in these exercises)
_ERROR_HINTS = [
    (r"'float' object cannot be interpreted as an integer|slice indices must be integers"
     r"|only integers, slices|expected a sequence of integers|must be an integer|"
     r"'float' object is not subscriptable|integer argument expected, got float",
     "A size or an index is a float: / always gives a float in Python 3. Sizes must be ints: "
     "use // once you know the division is exact (or int(...))."),
    (r"operands could not be broadcast together",
     "Two arrays of different shapes met in one operation. Print the shapes at that line: a "
     "swapped height and width, or a window cut short at the border, are the usual causes."),
    (r"could not broadcast input array from shape",
     "What you store does not fit the slice it goes into: compare the shape of the value with "
     "the shape of the slice (height and width in the right order, the window not cut short)."),
    (r"index -?\d+ is out of bounds for axis",
     "An index ran past the end of an axis: check the ranges of your loops (H_out, W_out) and "
     "where each window starts and ends (i * stride to i * stride + HH)."),
    (r"cannot reshape array of size",
     "The sizes do not add up for this reshape: print the array's shape just before it and "
     "count what the new shape needs."),
    (r"'NoneType' object|NoneType' and",
     "A value is None: a function (yours or a helper) ended without `return`."),
    (r"matmul: Input operand \d+ has a mismatch|shapes \(.*\) and \(.*\) not aligned",
     "The inner sizes of a matrix product differ: print both shapes; one side may need a "
     "transpose or a reshape in another order."),
]


def explain_error(type_name, message):
    """One sentence on what an error the student's code raised usually means, or None."""
    for pattern, sentence in _ERROR_HINTS:
        if re.search(pattern, f"{type_name}: {message}"):
            return sentence
    return None


def name_mistakes(sentences):
    """One sentence for the known mistakes that fit an answer: None, the one, or all of them
    (when several give exactly the same answer, naming one would be a guess)."""
    unique = list(dict.fromkeys(sentences))
    if not unique:
        return None
    if len(unique) == 1:
        return unique[0]
    count = "Two" if len(unique) == 2 else "Several"
    return (f"{count} known mistakes give exactly this answer here. Either: "
            + " Or: ".join(unique))


def _fail(what, problem, hint=None, lines=()):
    text = [f"{what}: {problem}"]
    text += [f"  {line}" for line in lines]
    if hint:
        text.append(f"  Hint: {hint}")
    raise CheckFailed(clip("\n".join(text)))


_MAX_REPR = 120  # characters of a returned value quoted in a message


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape}, dtype {value.dtype}"
    if value is None:
        return "None (did the function forget to `return` its result?)"
    if isinstance(value, (list, tuple)):
        kinds = sorted({type(item).__name__ for item in value})
        return f"a {type(value).__name__} of {len(value)} item(s) ({', '.join(kinds) or 'empty'})"
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"a {type(value).__module__}.{type(value).__name__} of shape {tuple(value.shape)}"
    text = repr(value)
    if len(text) > _MAX_REPR:
        text = text[:_MAX_REPR] + " ..."
    return f"{type(value).__name__} {text}"


def _array_fix(value):
    """How to turn what was returned into the NumPy array that was asked for."""
    if isinstance(value, (list, tuple)):
        return (f"Return a NumPy array, not a {type(value).__name__}: np.array(...) turns a "
                "list of rows into one, and np.zeros(shape) makes one to fill.")
    if type(value).__module__.startswith("torch"):
        return "Return a NumPy array, not a torch tensor: tensor.detach().numpy() converts it."
    return "Build the result with np.zeros(...) and fill it, or convert it with np.asarray."


def _show(array):
    if array.size > _MAX_SHOWN:
        return f"<array of shape {array.shape}>"
    return np.array2string(np.asarray(array), precision=4, suppress_small=True,
                           separator=", ").replace("\n", "\n            ")


def check_equal(actual, expected, what, hint=None, reveal=True):
    """Assert `actual == expected` for plain values (ints, strings, tuples).

    Inputs:
    - actual: what the student's code returned
    - expected: the right answer
    - what: the call being checked, e.g. "conv_output_size(5, 3, 0, 1)"
    - hint: one sentence that helps when the check fails
    - reveal: False hides the expected value (hidden tests)
    """
    if isinstance(expected, numbers.Integral) and not isinstance(expected, bool):
        if isinstance(actual, (float, np.floating)) and float(actual).is_integer():
            _fail(what, f"returned the float {actual!r}; it should return an int.",
                  "Use integer arithmetic (// and %) or int(...) once the division is exact.",
                  )
        if not isinstance(actual, (numbers.Integral, np.integer)) or isinstance(actual, bool):
            _fail(what, f"returned {_describe(actual)}; it should return an int.", hint)
    if actual != expected:
        lines = [f"expected: {expected!r}" if reveal else "expected: (hidden)",
                 f"got:      {actual!r}"]
        _fail(what, "returned the wrong value.", hint, lines)


def check_close(actual, expected, what, hint=None, reveal=True, rtol=1e-6, atol=1e-9):
    """Assert that a float result is close to `expected`."""
    if isinstance(actual, np.ndarray) and actual.size == 1:
        actual = actual.item()
    if not isinstance(actual, (numbers.Real, np.floating, np.integer)) or isinstance(actual, bool):
        _fail(what, f"returned {_describe(actual)}; it should return a number.", hint)
    if not np.isfinite(actual):
        _fail(what, f"returned {actual}, which is not a finite number.",
              hint or "Look for a division by zero or an overflow.")
    if not np.isclose(actual, expected, rtol=rtol, atol=atol):
        lines = [f"expected: {expected:.6g}" if reveal else "expected: (hidden)",
                 f"got:      {float(actual):.6g}"]
        _fail(what, "returned the wrong value.", hint, lines)


def check_array(actual, expected, what, hint=None, reveal=True, rtol=1e-6, atol=1e-8,
                diagnose=None):
    """Assert that `actual` is an array with the shape and values of `expected`.

    Inputs:
    - actual: what the student's code returned
    - expected: the right array
    - what: the call being checked, e.g. "correlate2d_valid(image (4, 4), kernel (2, 2))"
    - hint: shown when no more specific diagnosis applies
    - reveal: False keeps the expected values out of the message (hidden tests)
    - diagnose: optional function(actual) -> str or None that names a known mistake
    """
    expected = np.asarray(expected)
    if not isinstance(actual, np.ndarray):
        _fail(what, f"returned {_describe(actual)}; it should return a NumPy array.",
              _array_fix(actual))
    named = _diagnosis(diagnose, actual)
    if actual.shape != expected.shape:
        lines = [f"expected shape: {expected.shape}", f"got shape:      {actual.shape}"]
        _fail(what, "returned an array of the wrong shape.", named or hint, lines)
    if not np.issubdtype(actual.dtype, np.number):
        _fail(what, f"returned an array of dtype {actual.dtype}; it should hold numbers.", hint)
    finite = np.isfinite(actual)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        _fail(what, f"returned {actual[where]} at index {where}.",
              "NaN or inf usually comes from a division by zero or from np.empty left unfilled.")
    close = np.isclose(actual, expected, rtol=rtol, atol=atol)
    if not close.all():
        where = tuple(int(i) for i in np.argwhere(~close)[0])
        wrong = int((~close).sum())
        lines = [f"{wrong} of {actual.size} values differ; the first is at index {where}:"]
        if reveal:
            lines += [f"  expected {expected[where]:.6g}, got {actual[where]:.6g}",
                      f"expected: {_show(expected)}", f"got:      {_show(actual)}"]
        else:
            lines += [f"  you returned {actual[where]:.6g} there"]
        _fail(what, "returned the wrong values.", named or hint, lines)


def _diagnosis(diagnose, actual):
    """diagnose(actual), or None when there is none or it fails: a diagnosis that cannot be
    made names no mistake, and the check still fails with its own message."""
    if diagnose is None:
        return None
    try:
        return diagnose(actual)
    except Exception:
        return None


def check_shape(actual, expected_shape, what, hint=None):
    """Assert that `actual` is a NumPy array of shape `expected_shape`.

    Inputs:
    - actual: what the student's code returned
    - expected_shape: a tuple, e.g. (4, 4)
    - what: the call being checked, e.g. "match_template(5x5 image, 2x2 template)"
    """
    if not isinstance(actual, np.ndarray):
        _fail(what, f"returned {_describe(actual)}; it should return a NumPy array of shape "
              f"{tuple(expected_shape)}.", _array_fix(actual))
    if actual.shape != tuple(expected_shape):
        _fail(what, "returned an array of the wrong shape.", hint,
              [f"expected shape: {tuple(expected_shape)}", f"got shape:      {actual.shape}"])


# messages of errors NumPy raises by itself when an operation fails on arrays that do not fit
_NUMPY_MESSAGES = re.compile(r"could not be broadcast|could not broadcast|cannot reshape|"
                             r"not aligned|mismatch in its core dimension|operands|einstein sum|"
                             r"negative dimensions|axes don't match array", re.IGNORECASE)


def check_raises(call, exception, what, hint=None, match=None, says=None):
    """Assert that `call()` raises `exception` (and not something else).

    Inputs:
    - call: a function with no arguments, e.g. lambda: conv_output_size(5, 2, 0, 2)
    - exception: the exception class expected, e.g. ValueError
    - what: the call being checked, as the student would write it
    - match: optional regular expression the message must contain (case does not matter).
      With `match`, an error NumPy raises by itself further on (its "could not be broadcast",
      "cannot reshape", ... messages) does not pass for the student's own check.
    - says: what the message should talk about, in words, e.g. "the channels" (shown when
      the message does not match)
    """
    try:
        result = call()
    except exception as err:
        message = str(err).strip()
        if not message:
            _fail(what, f"raised {exception.__name__} without a message.",
                  "Say what was wrong and how to fix it: raise ValueError('...').")
        numpy_own = _NUMPY_MESSAGES.search(message)
        if match is not None and (numpy_own or not re.search(match, message, re.IGNORECASE)):
            topic = says or f"something matching {match!r}"
            if numpy_own:
                problem = (f"raised NumPy's own {type(err).__name__}: {message}\n  That error "
                           "comes from an operation that failed further on, not from a check "
                           "of yours.")
            else:
                problem = f"raised {type(err).__name__}: {message}"
            _fail(what, problem, hint,
                  [f"expected: {exception.__name__} raised by your own check, with a message "
                   f"about {topic}"])
        return
    except NotImplementedError:
        raise
    except Exception as err:  # a different error is a wrong answer, reported as such
        _fail(what, f"raised {type(err).__name__}: {err}", hint,
              [f"expected: {exception.__name__} with a message that explains the problem"])
    _fail(what, f"returned {_describe(result)} instead of raising {exception.__name__}.", hint)


def check_that(ok, what, problem, hint=None):
    """Assert that `ok` is true; otherwise fail with `problem` (a sentence) and `hint`.

    For checks that are not a comparison of values, e.g. "this case exposes the bug".
    """
    if not ok:
        _fail(what, problem, hint)


def call_student(fn, *args, what, hint=None):
    """Call the student's function; an exception becomes a CheckFailed naming the call.

    hint: optional sentence added to that message (what to look at when the call fails).
    NotImplementedError (an exercise not done yet) passes through unchanged.
    """
    try:
        return fn(*args)
    except NotImplementedError:
        raise
    except Exception as err:
        text = f"{what}: your function raised {type(err).__name__}: {clip(str(err), 6, 600)}"
        explained = explain_error(type(err).__name__, str(err))
        if explained:
            text += f"\n  What it usually means: {explained}"
        if hint:
            text += f"\n  Hint: {hint}"
        raise CheckFailed(clip(text)) from err


def all_passed(name):
    """Print the line a student sees when every public check of `name` passed."""
    print(f"✓ {name}: all public tests passed. Hidden tests run when your notebook is graded.")


_install_notebook_messages()
