"""Pure frame logic of the animators: window positions, values, highlighted cells and the
arithmetic of every step, the output-size formula and the prediction check.

No widgets and no drawing here: the UI modules (conv_animator, pool_animator) only render
what these functions return, and tests/test_widgets_frames.py checks them directly.
Coordinates of input cells are (row, col) in the PADDED input: the first real pixel of an
input padded by P sits at (P, P).
"""
import math
from dataclasses import dataclass

import numpy as np


def fmt(value):
    """A number as the arithmetic text shows it: 3, -1, 0.25 (negatives in brackets are added by
    the caller where they follow an operator)."""
    value = float(value)
    if value.is_integer():
        return str(int(value))
    return f"{value:.3g}"


def _term(value):
    text = fmt(value)
    return f"({text})" if text.startswith("-") else text


# ------------------------------------------------------------------ geometry and the formula

@dataclass(frozen=True)
class AxisGeometry:
    """Where windows fit along one axis (height or width).

    n input length, f kernel length, stride, pad (zeros on each side), dilation (gap between
    kernel taps; 1 = none). f_eff = dilation·(f - 1) + 1 cells are spanned by one window.
    """
    n: int
    f: int
    stride: int = 1
    pad: int = 0
    dilation: int = 1

    def __post_init__(self):
        for name, low in (("n", 1), ("f", 1), ("stride", 1), ("pad", 0), ("dilation", 1)):
            value = getattr(self, name)
            if int(value) != value or value < low:
                raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")

    @property
    def f_eff(self):
        return self.dilation * (self.f - 1) + 1

    @property
    def span(self):
        """n + 2P - f_eff: how far the window can travel (negative: it does not fit at all)."""
        return self.n + 2 * self.pad - self.f_eff

    @property
    def positions(self):
        """Number of window positions that fit entirely (PyTorch's output size, rounded down)."""
        return self.span // self.stride + 1 if self.span >= 0 else 0

    @property
    def exact(self):
        """True when the formula gives a whole number (the windows tile the padded input)."""
        return self.span >= 0 and self.span % self.stride == 0

    @property
    def leftover(self):
        """Cells at the far end of the padded input that no window covers."""
        if self.span < 0:
            return self.n + 2 * self.pad
        return self.span % self.stride

    @property
    def starts(self):
        """Start index (padded coordinates) of every window position."""
        return [k * self.stride for k in range(self.positions)]


def formula_text(geometry, axis="W", reveal=True):
    """The output-size formula for one axis with the numbers filled in (plain text, may be
    several lines). reveal=False stops at '= ?' (for predict-first)."""
    g = geometry
    lines = []
    kernel = "F"
    if g.dilation > 1:
        kernel = "F_eff"
        lines.append(f"F_eff = D·(F - 1) + 1 = {g.dilation}·({g.f} - 1) + 1 = {g.f_eff}")
    head = (f"{axis}_out = ({axis} - {kernel} + 2P)/S + 1 = "
            f"({g.n} - {g.f_eff} + 2·{g.pad})/{g.stride} + 1")
    if not reveal:
        lines.append(head + " = ?")
        return "\n".join(lines)
    step = f"{g.span}/{g.stride} + 1"
    if g.span < 0:
        lines.append(f"{head} = {step}: the kernel spans {g.f_eff} cells but the padded input has "
                     f"only {g.n + 2 * g.pad}; no position fits (PyTorch raises an error).")
    elif g.exact:
        lines.append(f"{head} = {step} = {g.positions}")
    else:
        value = g.span / g.stride + 1
        starts = ", ".join(str(s) for s in g.starts)
        lines.append(f"{head} = {step} = {value:g}: not a whole number.")
        lines.append(f"{g.positions} positions fit (starting at {starts} in the padded input); "
                     f"the last {g.leftover} padded cell(s) along {axis} are never covered. "
                     f"PyTorch rounds down to {g.positions}; change the padding or the stride "
                     "to make the windows tile exactly.")
    return "\n".join(lines)


def _pair(value, name):
    if np.isscalar(value):
        return int(value), int(value)
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"{name} must be one int or a (height, width) pair, got {value!r}")
    return value


def settings_geometry(settings):
    """(height geometry, width geometry) from a settings dict: 'size' or 'height'/'width',
    'kernel' (int or pair), 'stride', 'pad', 'dilation' (defaults 1, 0, 1)."""
    if "height" in settings or "width" in settings:
        h, w = int(settings["height"]), int(settings["width"])
    else:
        h, w = _pair(settings["size"], "size")
    kh, kw = _pair(settings["kernel"], "kernel")
    stride, pad = int(settings.get("stride", 1)), int(settings.get("pad", 0))
    dilation = int(settings.get("dilation", 1))
    return (AxisGeometry(h, kh, stride, pad, dilation), AxisGeometry(w, kw, stride, pad, dilation))


def _variants(gh, gw):
    """Answers that known mistakes give, with the hint that names the mistake."""
    def both(**change):
        return tuple(AxisGeometry(**{**g.__dict__, **change}).positions for g in (gh, gw))

    def ceil_size(g):
        return math.ceil(g.span / g.stride) + 1 if g.span >= 0 else 0

    yield both(dilation=1), ("With dilation D the kernel spans D·(F - 1) + 1 cells, not F: "
                             "use that effective size in the formula.")
    yield (ceil_size(gh), ceil_size(gw)), ("When (W - F + 2P)/S is not whole, round DOWN: a window "
                                           "that would hang past the edge is not computed.")
    yield both(pad=0), "Padding adds P zeros on both sides: 2P in the formula."
    yield (tuple(max(0, (g.n + g.pad - g.f_eff) // g.stride + 1) for g in (gh, gw)),
           "Padding goes on both sides, so the formula has 2P, not P.")
    yield (gh.positions - 1, gw.positions - 1), ("Do not forget the + 1: the first position "
                                                 "counts too.")
    yield (gw.positions, gh.positions), "Height comes first, then width."


def check_prediction(settings, predicted):
    """Check a predicted output size.

    Inputs:
    - settings: {"size" or "height"/"width", "kernel", "stride", "pad", "dilation"}
    - predicted: (height, width), two ints
    Returns (ok, message); the message gives the answer with the formula and, when the guess
    matches a known mistake, names it.
    """
    try:
        values = tuple(predicted)
    except TypeError:
        values = ()
    if len(values) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                   for v in values):
        return False, "Enter two whole numbers: the output height and the output width."
    gh, gw = settings_geometry(settings)
    truth = (gh.positions, gw.positions)
    explain = formula_text(gh, "H") + "\n" + formula_text(gw, "W")
    guess = (int(values[0]), int(values[1]))
    if guess == truth:
        return True, f"Right: the output is {truth[0]} x {truth[1]}.\n{explain}"
    message = f"Not quite: you predicted {guess[0]} x {guess[1]}; the output is {truth[0]} x {truth[1]}."
    for answer, hint in _variants(gh, gw):
        if answer == guess and answer != truth:
            message += " " + hint
            break
    return False, f"{message}\n{explain}"


# ------------------------------------------------------------------ convolution

@dataclass(frozen=True)
class Frame:
    """One step of the convolution: the window over the padded input and the output cell.

    - window: [(r, c), ...] padded coordinates of the cells under the kernel taps, row-major
      in kernel order (window[k] is under kernel.ravel()[k])
    - terms: [(weight, input value), ...] in the same order; products: weight·input
    - value: the sum of the products (the output cell's value)
    - text: the arithmetic, e.g. "1·10 + 0·20 + 0·0 + 2·1 = 12"
    """
    step: int
    out_row: int
    out_col: int
    window: tuple
    terms: tuple
    products: tuple
    value: float
    text: str


def pad_image(image, pad):
    """image (H, W) with `pad` zeros on every side."""
    return np.pad(np.asarray(image), pad)


def conv_frames(image, kernel, stride=1, pad=0, dilation=1):
    """Every step of a (cross-correlation) convolution of one 2-D image with one kernel.

    Inputs:
    - image: (H, W), kernel: (KH, KW)
    - stride, pad, dilation: as in torch.nn.functional.conv2d
    Returns a list of Frame, row by row; positions that do not fit are dropped (round down).
    """
    image, kernel = np.asarray(image), np.asarray(kernel)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"image and kernel must be 2-D, got {image.shape} and {kernel.shape}")
    gh = AxisGeometry(image.shape[0], kernel.shape[0], stride, pad, dilation)
    gw = AxisGeometry(image.shape[1], kernel.shape[1], stride, pad, dilation)
    padded = pad_image(image, pad)
    weights = [w.item() for w in kernel.ravel()]
    frames = []
    for i in range(gh.positions):
        for j in range(gw.positions):
            window = tuple((i * stride + k * dilation, j * stride + m * dilation)
                           for k in range(kernel.shape[0]) for m in range(kernel.shape[1]))
            terms = tuple((w, padded[r, c].item()) for w, (r, c) in zip(weights, window))
            products = tuple(w * x for w, x in terms)
            value = sum(products)
            text = " + ".join(f"{_term(w)}·{_term(x)}" for w, x in terms) + f" = {fmt(value)}"
            frames.append(Frame(len(frames), i, j, window, terms, products, value, text))
    return frames


def conv_reference(image, kernel, stride=1, pad=0, dilation=1):
    """The whole output (H_out, W_out) as a float array, built from conv_frames."""
    image, kernel = np.asarray(image), np.asarray(kernel)
    gh = AxisGeometry(image.shape[0], kernel.shape[0], stride, pad, dilation)
    gw = AxisGeometry(image.shape[1], kernel.shape[1], stride, pad, dilation)
    values = [f.value for f in conv_frames(image, kernel, stride, pad, dilation)]
    return np.array(values, dtype=float).reshape(gh.positions, gw.positions)


@dataclass(frozen=True)
class StudentResult:
    """What the student's conv_forward_naive gave, compared with the reference.

    status: "match", "mismatch", "shape", "error", "unwritten" or "skipped";
    cell: (row, col) of the first differing output cell (row-major) for "mismatch".
    """
    status: str
    message: str
    cell: tuple = None
    got: float = None
    expected: float = None


def compare_with_student(student_fn, image, kernel, stride=1, pad=0, dilation=1):
    """Run `student_fn(x, w, b, conv_param)` (CS231n interface, one image, one filter, b = 0)
    and compare its output with the reference. The student's exceptions are caught and
    described. Returns a StudentResult."""
    name = getattr(student_fn, "__name__", "your function")
    if dilation != 1:
        return StudentResult("skipped", f"{name}(x, w, b, conv_param) has no dilation: set the "
                                        "dilation to 1 to compare it with the reference.")
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    expected = conv_reference(image, kernel, stride, pad)
    gh = AxisGeometry(image.shape[0], kernel.shape[0], stride, pad)
    gw = AxisGeometry(image.shape[1], kernel.shape[1], stride, pad)
    x, w = image[None, None].copy(), kernel[None, None].copy()
    call = f"{name}(x {x.shape}, w {w.shape}, b, {{'stride': {stride}, 'pad': {pad}}})"
    try:
        result = student_fn(x, w, np.zeros(1), {"stride": stride, "pad": pad})
    except NotImplementedError:
        return StudentResult("unwritten", f"Your {name} is not written yet.")
    except Exception as err:  # shown to the student: this widget exists to show it
        message = f"Your {call} raised {type(err).__name__}: {err}"
        if not (gh.exact and gw.exact):
            message += " (raising is right here: the windows do not tile this input)."
        return StudentResult("error", message)
    out = result[0] if isinstance(result, tuple) else result
    if not isinstance(out, np.ndarray):
        return StudentResult("error", f"Your {call} returned {type(out).__name__}, not a NumPy "
                                      "array (or a pair (out, cache)).")
    want = (1, 1) + expected.shape
    if out.shape != want:
        return StudentResult("shape", f"Your {call} returned shape {out.shape}; the reference "
                                      f"has shape {want}.")
    same = np.isclose(out[0, 0], expected, rtol=1e-6, atol=1e-8)
    if same.all():
        return StudentResult("match", f"Your {name} agrees with the reference on all "
                                      f"{expected.size} output cells.")
    r, c = (int(v) for v in np.argwhere(~same)[0])
    got, exp = float(out[0, 0, r, c]), float(expected[r, c])
    step = r * expected.shape[1] + c + 1  # counted from 1, as the animator shows steps
    return StudentResult("mismatch",
                         f"{int((~same).sum())} of {expected.size} cells differ. The first is "
                         f"out[0, 0, {r}, {c}] (step {step}): your {name} gives {fmt(got)}, "
                         f"the reference gives {fmt(exp)}.", (r, c), got, exp)


# ------------------------------------------------------------------ pooling

@dataclass(frozen=True)
class PoolFrame:
    """One step of pooling: the window (row-major input coordinates), its values, the winning
    cell for max pooling (the first maximum in row-major order; None for average), the value
    written to the output and the arithmetic text."""
    step: int
    out_row: int
    out_col: int
    window: tuple
    values: tuple
    winner: tuple
    value: float
    text: str


def pool_frames(image, size, stride, mode="max"):
    """Every step of max or average pooling of one 2-D image (no padding).

    Inputs:
    - image: (H, W)
    - size: window size, int or (pool_height, pool_width); stride: int
    - mode: "max" or "avg"
    Returns a list of PoolFrame, row by row (positions that do not fit are dropped).
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    image = np.asarray(image)
    ph, pw = _pair(size, "size")
    gh = AxisGeometry(image.shape[0], ph, stride)
    gw = AxisGeometry(image.shape[1], pw, stride)
    frames = []
    for i in range(gh.positions):
        for j in range(gw.positions):
            window = tuple((i * stride + k, j * stride + m) for k in range(ph) for m in range(pw))
            values = tuple(image[r, c].item() for r, c in window)
            listed = ", ".join(fmt(v) for v in values)
            if mode == "max":
                best = int(np.argmax(values))  # argmax returns the first maximum
                winner, value = window[best], values[best]
                text = f"max({listed}) = {fmt(value)}"
            else:
                winner, value = None, sum(values) / len(values)
                text = f"({' + '.join(_term(v) for v in values)})/{len(values)} = {fmt(value)}"
            frames.append(PoolFrame(len(frames), i, j, window, values, winner, value, text))
    return frames


def step_caption(frames, step, nothing):
    """The line under a board: which output the step fills and its arithmetic, or `nothing`
    when there are no steps (the window does not fit)."""
    if not frames:
        return nothing
    f = frames[step]
    return f"step {step + 1} of {len(frames)}: out[{f.out_row}, {f.out_col}] = {f.text}"
