"""Numeric gradient checks that tell a real bug apart from a kink.

A backward pass is checked against central differences of the scalar
`L(x) = np.sum(f(x) * dout)`, whose gradient with respect to x is exactly what a backward
pass returns when it is given `dout`.

Central differences are wrong where f has a kink: a point where it has no single derivative,
such as a max-pool window with two equal maxima, or a ReLU input at (or within h of) 0.
There the slope from the left differs from the slope from the right, and the central
difference lands between them. Every entry whose relative error is above `tol` is therefore
looked at again with one-sided differences:

- the left and right slopes differ clearly: the entry sits on a kink, where the numeric
  gradient cannot judge the student's value. It is reported as a kink and not counted. (An
  entry may sit on several kinks at once, e.g. an input read by several ReLU outputs that are
  all exactly 0; then the right value need not lie between the two one-sided slopes, so no
  value there can be called wrong. A real bug shows at the smooth entries as well.);
- the two slopes agree: f is smooth there, the central difference is reliable, and the entry
  is a bug.

Thresholds (see the constants below):

- relative error of an entry: |a - n| / max(1e-8, |a| + |n|), a the analytic and n the
  numeric value; an entry is fine when this is at most `tol` (1e-6 by default);
- rounding noise: the numeric gradient divides a difference of two sums by 2h, so its
  rounding error is about eps * sum(|f(x) * dout|) / h (eps = 2.2e-16, the float64 precision).
  An entry is also fine when |a - n| is below that noise; this only matters for entries whose
  gradient is tiny next to the outputs, where the relative error measures rounding;
- kink: |left - right| > 1e-3 * max(1, |left|, |right|). On a smooth function the two
  one-sided slopes differ by about h * |f''| (1e-5 * |f''| with the default h), far below
  that; at a ReLU or max-pool kink they differ by the full size of the gradient.
"""
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from course.checks import CheckFailed

__all__ = [
    "numeric_gradient", "one_sided_gradients", "GradientReport", "gradient_report",
    "check_gradient",
]

REL_ERROR_FLOOR = 1e-8   # denominator floor of the relative error, so that 0 vs 0 is 0
KINK_JUMP = 1e-3         # left and right slopes further apart than this (relative) = a kink
EPS = np.finfo(np.float64).eps


class Disagreement(NamedTuple):
    """The values at one entry whose error is above both tol and the rounding noise."""
    analytic: float
    numeric: float
    left: float
    right: float


def _require_float64(x):
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        got = f"dtype {x.dtype}" if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(f"x must be a float64 NumPy array, got {got}: in lower precision a "
                        "step of h = 1e-5 drowns in rounding. Use x = x.astype(np.float64).")


def _objective(f, x, dout):
    """L(x) = sum(f(x) * dout) as a Python float."""
    out = np.asarray(f(x))
    if out.shape != dout.shape:
        raise ValueError(f"f(x) has shape {out.shape} but dout has shape {dout.shape}; "
                         "dout must have the shape of the output of f.")
    return float(np.sum(out * dout))


def _objective_at(f, x, dout, index, value):
    """L with x[index] set to `value`; x[index] is restored afterwards."""
    old = x[index]
    x[index] = value
    try:
        return _objective(f, x, dout)
    finally:
        x[index] = old


def numeric_gradient(f, x, dout, h=1e-5):
    """Central-difference gradient of sum(f(x) * dout) with respect to x.

    Each entry of x is moved by +h and -h in place and then restored, so f may read x
    itself (a closure) instead of its argument.

    Inputs:
    - f: function taking the array x and returning an array of the shape of dout
    - x: float64 array of any shape
    - dout: upstream gradient, same shape as f(x)
    - h: step size

    Returns:
    - grad: float64 array of shape x.shape, grad[i] = (L(x + h e_i) - L(x - h e_i)) / (2h)
    """
    _require_float64(x)
    dout = np.asarray(dout, dtype=np.float64)
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        center = x[index]
        plus = _objective_at(f, x, dout, index, center + h)
        minus = _objective_at(f, x, dout, index, center - h)
        grad[index] = (plus - minus) / (2 * h)
    return grad


def one_sided_gradients(f, x, dout, index, h=1e-5):
    """Backward and forward difference quotients of sum(f(x) * dout) at one entry.

    Inputs:
    - f, x, dout, h: as in numeric_gradient
    - index: tuple, the entry of x, e.g. (0, 0, 1, 2)

    Returns:
    - (left, right): (L(x) - L(x - h e_i)) / h and (L(x + h e_i) - L(x)) / h
    """
    _require_float64(x)
    dout = np.asarray(dout, dtype=np.float64)
    index = tuple(int(i) for i in index)
    center = x[index]
    here = _objective(f, x, dout)
    minus = _objective_at(f, x, dout, index, center - h)
    plus = _objective_at(f, x, dout, index, center + h)
    return (here - minus) / h, (plus - here) / h


def _relative_error(a, n):
    return np.abs(a - n) / np.maximum(REL_ERROR_FLOOR, np.abs(a) + np.abs(n))


def _rounding_noise(f, x, dout, h):
    """Rough bound on the rounding error of the central difference: eps * sum|f(x) dout| / h."""
    dout = np.asarray(dout, dtype=np.float64)
    return float(EPS * np.sum(np.abs(np.asarray(f(x)) * dout)) / h)


def _is_kink(left, right):
    return abs(left - right) > KINK_JUMP * max(1.0, abs(left), abs(right))


@dataclass
class GradientReport:
    """What a gradient check found.

    - name: the checked variable, e.g. "dx"
    - max_rel_error: largest relative error over all entries
    - max_rel_error_smooth: largest relative error over the entries that are not kinks
    - bad: indices where the analytic gradient is wrong (real bugs)
    - kinks: indices where f has a kink, the numeric gradient is unreliable, and the
      analytic value agrees with the slope from one side (or lies between the two)
    - size: number of entries checked
    - disagreements: index -> Disagreement(analytic, numeric, left, right) for every entry
      whose relative error is above tol and whose difference is above the rounding noise
    - noise: estimated rounding error of the numeric gradient (absolute)
    - rounding: indices above tol whose difference is below `noise` (fine: tiny gradients)
    """
    name: str
    max_rel_error: float
    max_rel_error_smooth: float
    bad: list
    kinks: list
    size: int = 0
    disagreements: dict = field(default_factory=dict, repr=False)
    noise: float = 0.0
    rounding: list = field(default_factory=list, repr=False)

    @property
    def ok(self):
        """True when no entry is a real bug."""
        return not self.bad

    def message(self):
        """A short plain-text explanation for the student (several lines)."""
        if self.ok:
            lines = [f"{self.name} matches the numeric gradient: max relative error "
                     f"{self.max_rel_error_smooth:.2g}{self._notes()}."]
        else:
            lines = [self._bug_line()]
        if self.kinks:
            lines.append(self._kink_line())
        if not self.ok:
            lines.append(self._hint_line())
        return "\n".join(lines[:1] + [f"  {line}" for line in lines[1:]])

    def _notes(self):
        notes = []
        if len(self.kinks) == 1:
            notes.append("1 entry skipped: it sits on a kink, see below")
        elif self.kinks:
            notes.append(f"{len(self.kinks)} entries skipped: they sit on kinks, see below")
        if self.rounding:
            count = len(self.rounding)
            notes.append(f"{count} {'entry' if count == 1 else 'entries'} with a tiny gradient "
                         f"differ only by rounding noise, below {self.noise:.1g}")
        return f" ({'; '.join(notes)})" if notes else ""

    def _bug_line(self):
        index = self.bad[0]
        line = (f"{self.name} is wrong at {len(self.bad)} of {self.size} entries, "
                f"e.g. index {index}")
        values = self.disagreements.get(index)
        if values is None:
            return line + "."
        line += f": your gradient {values.analytic:.6g}, numeric gradient {values.numeric:.6g}"
        return line + "."

    def _kink_line(self):
        count = len(self.kinks)
        if count == 1:
            subject = "1 entry sits on a kink"
            where = f"It is not counted; it is at index {self.kinks[0]}."
        else:
            subject = f"{count} entries sit on kinks"
            where = f"They are not counted; the first is at index {self.kinks[0]}."
        return (f"{subject} (for example a max-pool window with two equal maxima, or a ReLU "
                "input within h of 0): there the function has no single derivative and the numeric "
                f"gradient cannot judge your value. {where}")

    def _hint_line(self):
        return ("Hint: a disagreement away from any kink is a real bug in the backward pass, "
                "not rounding.")


def _check_shape(analytic, x, name):
    if not isinstance(analytic, np.ndarray):
        raise CheckFailed(f"{name}: got {type(analytic).__name__}; it should be a NumPy array "
                          f"of shape {x.shape}.\n"
                          "  Hint: did the backward pass forget to `return` it?")
    if analytic.shape != x.shape:
        raise CheckFailed(f"{name}: has the wrong shape.\n"
                          f"  expected shape: {x.shape}\n"
                          f"  got shape:      {analytic.shape}\n"
                          f"  Hint: {name} must have the shape of x: one gradient entry for "
                          "every entry of the input.")


def gradient_report(f, x, dout, analytic, name="dx", h=1e-5, tol=1e-6):
    """Compare an analytic gradient with the numeric one, entry by entry.

    Relative error per entry: |a - n| / max(1e-8, |a| + |n|). Entries above tol whose
    difference is above the rounding noise of the numeric gradient are classified with
    one-sided differences as kinks or bugs (see the module docstring).

    Inputs:
    - f, x, dout, h: as in numeric_gradient
    - analytic: the gradient from the backward pass, shape x.shape
    - name: the variable's name in messages, e.g. "dx" or "dw"
    - tol: largest relative error that counts as agreement

    Returns:
    - GradientReport
    """
    _check_shape(analytic, x, name)
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = numeric_gradient(f, x, dout, h)
    errors = _relative_error(analytic, numeric)
    noise = _rounding_noise(f, x, dout, h)
    bad, kinks, rounding, disagreements = [], [], [], {}
    for index in np.ndindex(x.shape):
        if errors[index] <= tol:
            continue
        if abs(analytic[index] - numeric[index]) <= noise:
            rounding.append(index)
            continue
        left, right = one_sided_gradients(f, x, dout, index, h)
        value = float(analytic[index])
        disagreements[index] = Disagreement(value, float(numeric[index]), left, right)
        if _is_kink(left, right):
            kinks.append(index)
        else:
            bad.append(index)
    smooth = errors.copy()
    for index in kinks:
        smooth[index] = 0.0
    return GradientReport(
        name=name,
        max_rel_error=float(errors.max(initial=0.0)),
        max_rel_error_smooth=float(smooth.max(initial=0.0)),
        bad=bad, kinks=kinks, size=int(x.size), disagreements=disagreements,
        noise=noise, rounding=rounding)


def check_gradient(f, x, dout, analytic, name="dx", h=1e-5, tol=1e-6):
    """Assert that `analytic` matches the numeric gradient away from kinks.

    Inputs: as in gradient_report.

    Returns:
    - the GradientReport when the check passes; print report.message() to see it

    Raises:
    - CheckFailed with report.message() when some entry is a real bug
    """
    report = gradient_report(f, x, dout, analytic, name=name, h=h, tol=tol)
    if not report.ok:
        raise CheckFailed(report.message())
    return report
