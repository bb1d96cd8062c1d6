"""Convolution animator: the kernel window sliding over a zero-padded input, step by step,
the output cell being filled and the arithmetic of the step written out. Controls for input
size, kernel size, stride, padding and dilation; the output-size formula live; predict the
output size first; optionally the student's own conv_forward_naive compared cell by cell.

The frame logic is pure (course.widgets.frames); this module only builds boards and widgets.
"""
import html

import ipywidgets as widgets
import numpy as np

from course.widgets.board import Cell, board_html, css, png_uri, strip_png
from course.widgets.fallback import LIVE_CLASS, LiveWidget, css_animation, live_style
from course.widgets.frames import (AxisGeometry, check_prediction, compare_with_student,
                                   conv_frames, fmt, formula_text, pad_image, step_caption)
from course.widgets.player import Player

__all__ = ["ConvAnimator", "conv_board", "conv_frames", "check_prediction", "demo_grid"]

# the worked example: 4x4 image, 2x2 kernel; step 0 is 1·10 + 0·20 + 0·0 + 2·1 = 12
EXAMPLE_IMAGE = np.array([[10, 20, 30, 40], [0, 1, 0, 1], [30, 0, 10, 20], [0, 10, 20, 30]])
EXAMPLE_KERNEL = np.array([[1, 0], [0, 2]])


def demo_grid(size, low, high, seed):
    """A (size, size) grid of small integers in [low, high], from a fixed seed."""
    return np.random.default_rng(seed).integers(low, high + 1, size=(size, size))


def conv_board(image, kernel, frames, step, pad=0, dilation=1, locked=False, wrong=None, yours=None):
    """The board of one step: panels (title, grid) for the padded input (window marked, each
    window cell noted with its kernel weight), the kernel and the output (cells before `step`
    filled, `step` current; `wrong` = (row, col) marked, noted with `yours`, the student's
    value there). locked hides the output size."""
    image, kernel = np.asarray(image), np.asarray(kernel)
    padded = pad_image(image, pad)
    H, W = image.shape
    frame = frames[step] if frames else None
    under = {cell: k for k, cell in enumerate(frame.window)} if frame else {}
    weights = kernel.ravel()
    grid = []
    for r in range(padded.shape[0]):
        row = []
        for c in range(padded.shape[1]):
            is_pad = not (pad <= r < pad + H and pad <= c < pad + W)
            if (r, c) in under:
                row.append(Cell(fmt(padded[r, c]), "window-pad" if is_pad else "window",
                                "×" + fmt(weights[under[(r, c)]])))
            else:
                row.append(Cell(fmt(padded[r, c]), "pad" if is_pad else "plain"))
        grid.append(row)
    title = f"input {H}x{W}" + (f", padding {pad}" if pad else "")
    panels = [(title, grid),
              (f"kernel {kernel.shape[0]}x{kernel.shape[1]}" + (f", D={dilation}" if dilation > 1 else ""),
               [[Cell(fmt(v), "kernel") for v in row] for row in kernel])]
    if locked:
        panels.append(("output ? x ?", [[Cell("?", "unknown")]]))
    elif not frames:
        panels.append(("no output: nothing fits", [[Cell("–", "unknown")]]))
    else:
        rows, cols = frames[-1].out_row + 1, frames[-1].out_col + 1
        out = []
        for i in range(rows):
            line = []
            for j in range(cols):
                k = i * cols + j
                text = fmt(frames[k].value) if k <= step else ""
                role = "done" if k < step else "current" if k == step else "empty"
                if wrong == (i, j):
                    line.append(Cell(text, "wrong", "≠" if yours is None else f"you {fmt(yours)}"))
                else:
                    line.append(Cell(text, role))
            out.append(line)
        panels.append((f"output {rows}x{cols}", out))
    return panels


def _caption(frames, step):
    return step_caption(frames, step, "The kernel does not fit in the padded input: there is nothing to compute.")


def _formula_html(gh, gw, reveal):
    if (gh.n, gh.f) == (gw.n, gw.f):
        text = formula_text(gw, "W", reveal) + "\n(the same for H: input and kernel are square)"
    else:
        text = formula_text(gh, "H", reveal) + "\n" + formula_text(gw, "W", reveal)
    return (f"<div style='font:13px monospace; white-space:pre-wrap; max-width:900px; "
            f"background:#f7f7f7; padding:4px 8px; border-left:3px solid #9ecae1'>{html.escape(text)}</div>")


class ConvAnimator(LiveWidget, widgets.VBox):
    """The convolution of a small integer grid, animated.

    Inputs:
    - image (H, W), kernel (KH, KW): small integers; default the 4x4 / 2x2 worked example.
      Moving the size sliders replaces them with seeded random grids.
    - stride, pad, dilation: starting settings
    - student_fn: optional conv_forward_naive(x, w, b, conv_param) to compare with the reference
    - predict: ask for the output height and width before the animation unlocks
    """

    def __init__(self, image=None, kernel=None, stride=1, pad=0, dilation=1, student_fn=None,
                 predict=True, seed=0):
        self.image = np.asarray(EXAMPLE_IMAGE if image is None else image)
        self.kernel = np.asarray(EXAMPLE_KERNEL if kernel is None else kernel)
        self.student_fn, self.seed = student_fn, seed
        self.unlocked = False
        style = {"description_width": "85px"}
        self.sliders = {
            "size": widgets.IntSlider(self.image.shape[0], 3, max(9, self.image.shape[0]),
                                      description="input size", style=style),
            "kernel": widgets.IntSlider(self.kernel.shape[0], 1, max(5, self.kernel.shape[0]),
                                        description="kernel size", style=style),
            "stride": widgets.IntSlider(stride, 1, 4, description="stride S", style=style),
            "pad": widgets.IntSlider(pad, 0, 3, description="padding P", style=style),
            "dilation": widgets.IntSlider(dilation, 1, 3, description="dilation D", style=style),
        }
        for slider in self.sliders.values():
            slider.continuous_update = False
            slider.layout.width = "300px"
        self.formula = widgets.HTML()
        self.ask = widgets.Checkbox(predict, description="predict first", indent=False,
                                    layout=widgets.Layout(width="120px"))
        self.guess_h = widgets.IntText(0, description="output height", style={"description_width": "95px"},
                                       layout=widgets.Layout(width="170px"))
        self.guess_w = widgets.IntText(0, description="width", style={"description_width": "45px"},
                                       layout=widgets.Layout(width="120px"))
        self.check_button = widgets.Button(description="Check", button_style="info",
                                           layout=widgets.Layout(width="80px"))
        self.verdict = widgets.HTML()
        self.player = Player(1)
        self.goto_button = widgets.Button(description="show the first difference",
                                          layout=widgets.Layout(width="210px", display="none"))
        self.board = widgets.HTML()
        self.student = widgets.HTML()
        controls = widgets.HBox([widgets.VBox([self.sliders[k] for k in ("size", "kernel", "stride")]),
                                 widgets.VBox([self.sliders[k] for k in ("pad", "dilation")])])
        prediction = widgets.HBox([self.ask, self.guess_h, self.guess_w, self.check_button])
        super().__init__([controls, self.formula, prediction, self.verdict, self.player, self.board,
                          widgets.HBox([self.student, self.goto_button]), live_style()])
        self.add_class(LIVE_CLASS)
        for name, slider in self.sliders.items():
            slider.observe(lambda change, name=name: self._settings_changed(name), names="value")
        self.ask.observe(lambda _: self._refresh(), names="value")
        self.check_button.on_click(lambda _: self.check())
        self.goto_button.on_click(lambda _: self._goto_difference())
        self.player.observe_step(lambda _: self._render_step())
        self._settings_changed(None)

    # ---- state
    def settings(self):
        s = {k: v.value for k, v in self.sliders.items()}
        return {"height": self.image.shape[0], "width": self.image.shape[1],
                "kernel": tuple(self.kernel.shape), "stride": s["stride"], "pad": s["pad"],
                "dilation": s["dilation"]}

    @property
    def locked(self):
        return self.ask.value and not self.unlocked

    def geometry(self):
        s = self.settings()
        return (AxisGeometry(s["height"], s["kernel"][0], s["stride"], s["pad"], s["dilation"]),
                AxisGeometry(s["width"], s["kernel"][1], s["stride"], s["pad"], s["dilation"]))

    def _settings_changed(self, name):
        n, k = self.sliders["size"].value, self.sliders["kernel"].value
        if name == "size" and self.image.shape != (n, n):
            self.image = demo_grid(n, 0, 9, self.seed)
        if name == "kernel" and self.kernel.shape != (k, k):
            self.kernel = demo_grid(k, -1, 2, self.seed + 1)
        s = self.settings()
        self.frames = conv_frames(self.image, self.kernel, s["stride"], s["pad"], s["dilation"])
        self.result = None
        if self.student_fn is not None:
            self.result = compare_with_student(self.student_fn, self.image, self.kernel,
                                               s["stride"], s["pad"], s["dilation"])
        self.unlocked = False
        self.verdict.value = ""
        self.player.reset(len(self.frames))
        self._refresh()

    def check(self):
        """Check the predicted height and width; unlock the animation whatever the answer."""
        ok, message = check_prediction(self.settings(), (self.guess_h.value, self.guess_w.value))
        colour = "#2ca02c" if ok else "#d62728"
        first = message.split("\n")[0]
        self.verdict.value = (f"<div style='font:13px sans-serif'><b style='color:{colour}'>"
                              f"{html.escape(first)}</b> The animation is unlocked.</div>")
        self.unlocked = True
        self._refresh()
        return ok, message

    # ---- drawing
    def _wrong_cell(self):
        return self.result.cell if self.result is not None and self.result.status == "mismatch" else None

    def _yours(self):
        return self.result.got if self._wrong_cell() is not None else None

    def _refresh(self):
        gh, gw = self.geometry()
        locked = self.locked
        self.formula.value = _formula_html(gh, gw, reveal=not locked)
        for part in (self.guess_h, self.guess_w, self.check_button):
            part.disabled = not self.ask.value
        self.player.set_enabled(not locked and len(self.frames) > 1)
        if locked:
            self.player.reset(1)
        elif self.player.slider.max != max(len(self.frames) - 1, 0):
            self.player.reset(len(self.frames))
        if self.result is None or locked:
            self.student.value = ""
        else:
            colour = {"match": "#2ca02c", "mismatch": "#d62728"}.get(self.result.status, "#8c6d31")
            self.student.value = (f"<div style='font:13px sans-serif; color:{colour}; max-width:700px'>"
                                  f"{html.escape(self.result.message)}</div>")
        show_goto = self._wrong_cell() is not None and not locked
        self.goto_button.layout.display = None if show_goto else "none"
        self._render_step()

    def _board(self, step, locked=False):
        s = self.settings()
        wrong = None if locked else self._wrong_cell()
        return conv_board(self.image, self.kernel, self.frames, step, s["pad"], s["dilation"],
                          locked=locked, wrong=wrong, yours=self._yours() if wrong else None)

    def _render_step(self):
        step = min(self.player.value, max(len(self.frames) - 1, 0))
        caption = ("Predict the output height and width above, press Check, and the animation "
                   "unlocks." if self.locked else _caption(self.frames, step))
        self.board.value = board_html(self._board(step, self.locked), caption)

    def _goto_difference(self):
        cell = self._wrong_cell()
        if cell is not None:
            self.player.value = cell[0] * (self.frames[-1].out_col + 1) + cell[1]

    # ---- static fallback
    def static_html(self):
        """Frame strip (PNG), the formula, and a CSS animation of the first 16 steps."""
        gh, gw = self.geometry()
        n = len(self.frames)
        picked = sorted({0, min(1, n - 1), n // 2, n - 1}) if n else [0]
        strip = strip_png([(self._board(k), _caption(self.frames, k)) for k in picked],
                          [f"step {k + 1} of {n}" if n else "nothing fits" for k in picked])
        frames = [board_html(self._board(k), _caption(self.frames, k), with_css=False)
                  for k in range(min(n, 16))]
        student = "" if self.result is None else f"<p>{html.escape(self.result.message)}</p>"
        label = "Play the steps" if n <= 16 else "Play the first 16 steps"
        return (f"<div><img src='{png_uri(strip)}' alt='convolution frame strip' style='max-width:100%'/>"
                f"{_formula_html(gh, gw, True)}{student}{css()}{css_animation(frames, label=label)}</div>")
