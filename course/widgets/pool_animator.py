"""Pooling animator, max and average: the window sliding over the input, the winning input
(max pooling; ties go to the first maximum in row-major order) highlighted, the output filled.
The frame logic is pure (course.widgets.frames.pool_frames)."""
import html

import ipywidgets as widgets
import numpy as np

from course.widgets.board import Cell, board_html, css, png_uri, strip_png
from course.widgets.conv_animator import demo_grid
from course.widgets.fallback import LIVE_CLASS, LiveWidget, css_animation, live_style
from course.widgets.frames import AxisGeometry, fmt, formula_text, pool_frames, step_caption
from course.widgets.player import Player

__all__ = ["PoolAnimator", "pool_board", "pool_frames"]


def pool_board(image, frames, step):
    """Panels for one step: the input (window marked, the max's winner filled) and the output
    (cells before `step` filled, `step` current)."""
    image = np.asarray(image)
    frame = frames[step] if frames else None
    window = set(frame.window) if frame else set()
    grid = []
    for r in range(image.shape[0]):
        row = []
        for c in range(image.shape[1]):
            role = "winner" if frame and frame.winner == (r, c) else "window" if (r, c) in window else "plain"
            row.append(Cell(fmt(image[r, c]), role))
        grid.append(row)
    panels = [(f"input {image.shape[0]}x{image.shape[1]}", grid)]
    if not frames:
        panels.append(("no output: nothing fits", [[Cell("–", "unknown")]]))
        return panels
    rows, cols = frames[-1].out_row + 1, frames[-1].out_col + 1
    out = [[Cell(fmt(frames[i * cols + j].value) if i * cols + j <= step else "",
                 "done" if i * cols + j < step else "current" if i * cols + j == step else "empty")
            for j in range(cols)] for i in range(rows)]
    panels.append((f"output {rows}x{cols}", out))
    return panels


def _caption(frames, step):
    return step_caption(frames, step, "The window is larger than the input: nothing to pool.")


class PoolAnimator(LiveWidget, widgets.VBox):
    """Max or average pooling of a small integer grid, animated.

    Inputs: image (H, W) (default: a seeded 6x6 grid of integers 0-9, ties included),
    size (window), stride, mode ("max" or "avg").
    """

    def __init__(self, image=None, size=2, stride=2, mode="max", seed=3):
        self.image = np.asarray(demo_grid(6, 0, 9, seed) if image is None else image)
        self.seed = seed
        style = {"description_width": "85px"}
        self.sliders = {
            "n": widgets.IntSlider(self.image.shape[0], 2, max(9, self.image.shape[0]),
                                   description="input size", style=style),
            "size": widgets.IntSlider(size, 1, 4, description="window", style=style),
            "stride": widgets.IntSlider(stride, 1, 4, description="stride S", style=style),
        }
        for slider in self.sliders.values():
            slider.continuous_update = False
            slider.layout.width = "300px"
        self.mode = widgets.ToggleButtons(options=[("max", "max"), ("average", "avg")], value=mode,
                                          description="pooling", style={"button_width": "80px"})
        self.formula = widgets.HTML()
        self.player = Player(1)
        self.board = widgets.HTML()
        super().__init__([widgets.HBox([widgets.VBox(list(self.sliders.values())), self.mode]),
                          self.formula, self.player, self.board, live_style()])
        self.add_class(LIVE_CLASS)
        for name, slider in self.sliders.items():
            slider.observe(lambda change, name=name: self._settings_changed(name), names="value")
        self.mode.observe(lambda _: self._settings_changed("mode"), names="value")
        self.player.observe_step(lambda _: self._render_step())
        self._settings_changed(None)

    def _settings_changed(self, name):
        n = self.sliders["n"].value
        if name == "n" and self.image.shape != (n, n):
            self.image = demo_grid(n, 0, 9, self.seed)
        size, stride = self.sliders["size"].value, self.sliders["stride"].value
        self.frames = pool_frames(self.image, size, stride, self.mode.value)
        lines = [formula_text(AxisGeometry(length, size, stride), axis) for axis, length
                 in zip("HW", self.image.shape)]
        square = self.image.shape[0] == self.image.shape[1]
        text = lines[1] + "\n(the same for H)" if square else "\n".join(lines)
        text = text.replace(" + 2P", "").replace(" + 2·0", "")  # pooling here has no padding
        self.formula.value = (f"<div style='font:13px monospace; white-space:pre-wrap; max-width:900px; "
                              f"background:#f7f7f7; padding:4px 8px; border-left:3px solid #9ecae1'>"
                              f"{html.escape(text)}</div>")
        self.player.set_enabled(len(self.frames) > 1)
        if name != "mode":                       # max <-> average keeps the same windows
            self.player.reset(len(self.frames))
        self._render_step()

    def _render_step(self):
        step = min(self.player.value, max(len(self.frames) - 1, 0))
        self.board.value = board_html(pool_board(self.image, self.frames, step), _caption(self.frames, step))

    def static_html(self):
        """Frame strip (PNG), the formula, and a CSS animation of the first steps."""
        n = len(self.frames)
        picked = sorted({0, min(1, n - 1), n // 2, n - 1}) if n else [0]
        boards = [(pool_board(self.image, self.frames, k), _caption(self.frames, k)) for k in picked]
        titles = [f"{self.mode.value} pooling, step {k + 1} of {n}" if n else "nothing fits" for k in picked]
        strip = png_uri(strip_png(boards, titles))
        frames = [board_html(pool_board(self.image, self.frames, k), _caption(self.frames, k), with_css=False)
                  for k in range(min(n, 16))]
        return (f"<div><img src='{strip}' alt='pooling frame strip' style='max-width:100%'/>"
                f"{self.formula.value}{css()}{css_animation(frames)}</div>")
