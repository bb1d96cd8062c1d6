"""Output-size explorer: sliders for input size, kernel, padding and stride, the window
positions drawn along one axis, and the student's own `conv_output_size` answer beside
the count of positions that really fit."""
import base64
import html
import io

import ipywidgets as widgets
import matplotlib.pyplot as plt

from course.widgets.fallback import LIVE_CLASS, LiveWidget, css_animation, live_style


def window_starts(n, f, pad, stride):
    """Start index (in the padded axis) of every window that fits entirely.

    Inputs: n input length, f kernel length, pad zeros added on each side, stride step.
    Returns a list of ints (empty when the kernel is longer than the padded input).
    """
    return list(range(0, n + 2 * pad - f + 1, stride))


def describe(n, f, pad, stride):
    """One paragraph explaining the formula for these settings (plain text)."""
    span = n - f + 2 * pad
    starts = window_starts(n, f, pad, stride)
    text = f"(W - F + 2P) / S + 1 = ({n} - {f} + 2·{pad}) / {stride} + 1 = {span}/{stride} + 1"
    if span < 0:
        return text + f": the kernel ({f}) is longer than the padded input ({n + 2 * pad}); no window fits."
    if span % stride:
        leftover = span - (len(starts) - 1) * stride
        return (text + f" is not a whole number. {len(starts)} windows fit; the next would hang "
                f"{stride - leftover} cell(s) past the edge. PyTorch silently drops the leftover "
                "(it rounds down); change the padding or stride so the windows tile exactly.")
    return text + f" = {span // stride + 1} windows."


def draw(n, f, pad, stride, ax):
    """Draw the padded axis and every window position on `ax`."""
    starts = window_starts(n, f, pad, stride)
    total = n + 2 * pad
    for i in range(total):
        is_pad = i < pad or i >= pad + n
        ax.add_patch(plt.Rectangle((i, 0), 1, 1, facecolor="#eeeeee" if is_pad else "#9ecae1",
                                   edgecolor="grey", hatch="//" if is_pad else None))
        ax.text(i + 0.5, 0.5, "0" if is_pad else f"x{i - pad}", ha="center", va="center", fontsize=8)
    for k, s in enumerate(starts):
        y = -0.6 - 0.45 * k
        ax.plot([s + 0.1, s + f - 0.1], [y, y], color="tab:red", linewidth=3)
        ax.text(s + f + 0.15, y, f"out[{k}]", va="center", fontsize=8, color="tab:red")
    ax.set_xlim(-0.5, max(total, 1) + 2.5)
    ax.set_ylim(-0.9 - 0.45 * max(len(starts), 1), 1.3)
    ax.axis("off")
    ax.set_title(f"input {n}, kernel {f}, padding {pad}, stride {stride}: "
                 f"{len(starts)} window position(s)", fontsize=10)


def _png(n, f, pad, stride):
    fig, ax = plt.subplots(figsize=(7, 1.6 + 0.22 * max(len(window_starts(n, f, pad, stride)), 1)))
    draw(n, f, pad, stride, ax)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _student_says(size_fn, n, f, pad, stride):
    if size_fn is None:
        return ""
    call = f"{size_fn.__name__}({n}, {f}, {pad}, {stride})"
    try:
        return f"Your {call} returned {size_fn(n, f, pad, stride)!r}."
    except NotImplementedError:
        return f"Your {size_fn.__name__} is not written yet."
    except Exception as err:  # shown to the student, who asked for exactly this
        return f"Your {call} raised {type(err).__name__}: {err}"


def axis_frames(n, f, pad, stride):
    """HTML frames of the window sliding along the padded axis, one per position."""
    cells = []
    for s in window_starts(n, f, pad, stride):
        row = []
        for i in range(n + 2 * pad):
            is_pad = i < pad or i >= pad + n
            colour = "#fdd0a2" if s <= i < s + f else "#eeeeee" if is_pad else "#ffffff"
            text = "0" if is_pad else f"x{i - pad}"
            row.append(f"<td style='width:26px; height:26px; text-align:center; border:1px solid "
                       f"#bbb; background:{colour}; font:11px monospace'>{text}</td>")
        cells.append(f"<div style='font:12px sans-serif'>window {len(cells)} starts at {s}</div>"
                     f"<table style='border-collapse:collapse; margin:0'><tr>{''.join(row)}</tr></table>")
    return cells


class OutputSizeExplorer(LiveWidget, widgets.VBox):
    """Sliders for W, F, P, S; the window positions drawn; the formula and, if given, what
    the student's `size_fn(n, f, pad, stride)` returns for the same settings."""

    def __init__(self, size_fn=None, n=7, f=3, pad=0, stride=1):
        self.size_fn = size_fn
        style = {"description_width": "110px"}
        self.sliders = {
            "n": widgets.IntSlider(n, 1, 16, description="input W", style=style),
            "f": widgets.IntSlider(f, 1, 7, description="kernel F", style=style),
            "pad": widgets.IntSlider(pad, 0, 3, description="padding P", style=style),
            "stride": widgets.IntSlider(stride, 1, 4, description="stride S", style=style),
        }
        self.picture = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start"))
        self.formula = widgets.HTML()
        super().__init__([widgets.HBox([widgets.VBox(list(self.sliders.values())), self.formula]),
                          self.picture, live_style()])
        self.add_class(LIVE_CLASS)
        for slider in self.sliders.values():
            slider.observe(self._update, names="value")
        self._update()

    def settings(self):
        return {name: s.value for name, s in self.sliders.items()}

    def _text(self):
        s = self.settings()
        return describe(**s), _student_says(self.size_fn, s["n"], s["f"], s["pad"], s["stride"])

    def _update(self, *_):
        s = self.settings()
        self.picture.value = _png(**s)
        formula, student = self._text()
        self.formula.value = (f"<div style='max-width:420px'><p>{html.escape(formula)}</p>"
                              f"<p><b>{html.escape(student)}</b></p></div>")

    def static_html(self):
        """The current state as plain HTML: the picture, the text and a CSS animation of the
        window positions; no JavaScript needed."""
        formula, student = self._text()
        data = base64.b64encode(self.picture.value).decode("ascii")
        frames = axis_frames(**self.settings())
        return (f"<div><img src='data:image/png;base64,{data}'/><p>{html.escape(formula)}</p>"
                f"<p><b>{html.escape(student)}</b></p>"
                f"{css_animation(frames, 1.0, 'Slide the window')}</div>")
