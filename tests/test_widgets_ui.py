"""The widgets: built without a browser, driven through their controls, and their static
fallback (two outputs on display; the frame strip survives nbconvert's HTML export)."""
import re
import time
from unittest import mock

import nbformat
import numpy as np
import pytest
from scipy.signal import correlate2d

from course.widgets import (ConvAnimator, FeatureMapExplorer, KernelExplorer, OutputSizeExplorer,
                            PoolAnimator)
from course.widgets.fallback import FALLBACK_CLASS, HIDE_CSS, LIVE_CLASS
from course.widgets.feature_maps import feature_maps, train_digit_cnn
from course.widgets.kernel_explorer import PRESETS, apply_kernel

STRIP = "<img src='data:image/png;base64,"


def roles(board_html, panel=0):
    """The grid of cell roles ('window', 'current', ...) of one panel of a board's HTML."""
    table = re.findall(r"<table class='cnn-grid'>(.*?)</table>", board_html)[panel]
    return [re.findall(r"<td class='cnn-([a-z-]+)", row) for row in re.findall(r"<tr>(.*?)</tr>", table)]


def cells_with(grid, *wanted):
    return {(r, c) for r, row in enumerate(grid) for c, role in enumerate(row) if role in wanted}


def test_the_animator_is_locked_until_a_prediction_is_checked():
    animator = ConvAnimator()
    assert animator.player.play.disabled and animator.player.step_button.disabled
    assert animator.formula.value.count("= ?") == 1 and "output ? x ?" in animator.board.value
    ok, message = animator.check()                # 0 x 0 is wrong; it unlocks anyway
    assert not ok and "Not quite" in animator.verdict.value and "the output is 3 x 3" in message
    assert not animator.player.step_button.disabled and animator.player.slider.max == 8
    assert "= 3" in animator.formula.value and "output 3x3" in animator.board.value
    animator.guess_h.value = animator.guess_w.value = 3
    assert animator.check()[0] and "Right" in animator.verdict.value


def test_stepping_moves_the_window_and_fills_the_output():
    animator = ConvAnimator(predict=False)
    before = animator.board.value
    assert cells_with(roles(before), "window") == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert cells_with(roles(before, 2), "current") == {(0, 0)}
    assert "1·10 + 0·20 + 0·0 + 2·1 = 12" in before
    animator.player.step_button.click()
    after = animator.board.value
    assert animator.player.value == 1
    assert cells_with(roles(after), "window") == {(0, 1), (0, 2), (1, 1), (1, 2)}
    assert cells_with(roles(after, 2), "current") == {(0, 1)}
    assert cells_with(roles(after, 2), "done") == {(0, 0)}
    assert "step 2 of 9: out[0, 1]" in after
    animator.player.value = 8
    animator.player.advance()                     # after the last step, back to the first
    assert animator.player.value == 0


def test_changing_the_settings_changes_the_formula_and_the_grids():
    animator = ConvAnimator(predict=False)
    formula = animator.formula.value
    animator.sliders["stride"].value = 2
    assert animator.formula.value != formula and "/2 + 1" in animator.formula.value
    animator.sliders["pad"].value = 1
    assert len(roles(animator.board.value)) == 6
    assert cells_with(roles(animator.board.value), "pad", "window-pad")
    animator.sliders["dilation"].value = 2
    assert "F_eff = D·(F - 1) + 1" in animator.formula.value
    animator.sliders["size"].value = 6
    assert animator.image.shape == (6, 6) and animator.player.slider.max == len(animator.frames) - 1
    asks = ConvAnimator()
    asks.check()
    asks.sliders["stride"].value = 2              # a new setting asks for a new prediction
    assert asks.locked and asks.player.play.disabled


def test_a_setting_that_does_not_tile_is_explained_not_crashed_on():
    animator = ConvAnimator(image=np.zeros((6, 6), int), kernel=np.ones((3, 3), int), stride=2,
                            predict=False)
    assert "not a whole number" in animator.formula.value and "2 positions fit" in animator.formula.value
    animator.sliders["kernel"].value = 5
    animator.sliders["size"].value = 3
    assert "no position fits" in animator.formula.value and "nothing fits" in animator.board.value


def test_the_students_first_wrong_cell_is_highlighted():
    import torch
    import torch.nn.functional as tnf

    def flipped(x, w, b, conv_param):
        out = tnf.conv2d(torch.from_numpy(x), torch.from_numpy(w[:, :, ::-1, ::-1].copy()),
                         torch.from_numpy(b), stride=conv_param["stride"], padding=conv_param["pad"])
        return out.numpy(), None

    animator = ConvAnimator(student_fn=flipped, predict=False)
    assert animator.result.status == "mismatch" and "differ" in animator.student.value
    assert cells_with(roles(animator.board.value, 2), "wrong") == {animator.result.cell}
    assert animator.goto_button.layout.display is None
    animator.goto_button.click()
    r, c = animator.result.cell
    assert animator.player.value == r * 3 + c

    def broken(x, w, b, conv_param):
        raise IndexError("index 4 is out of bounds")

    assert "raised IndexError" in ConvAnimator(student_fn=broken, predict=False).student.value


def test_pool_animator_steps_and_switches_mode():
    pool = PoolAnimator(image=np.array([[1, 7, 0, 2], [7, 7, 3, 3], [0, 0, 9, 1], [2, 2, 1, 9]]))
    assert cells_with(roles(pool.board.value), "winner") == {(0, 1)}
    pool.player.step_button.click()
    assert cells_with(roles(pool.board.value), "winner") == {(1, 2)}
    assert "max(0, 2, 3, 3) = 3" in pool.board.value
    pool.mode.value = "avg"
    assert not cells_with(roles(pool.board.value), "winner") and "(0 + 2 + 3 + 3)/4 = 2<" in pool.board.value
    pool.sliders["stride"].value = 3
    assert "not a whole number" in pool.formula.value and "(4 - 2)/3" in pool.formula.value


@pytest.mark.parametrize("make", [lambda: ConvAnimator(), lambda: PoolAnimator(),
                                  lambda: OutputSizeExplorer(), lambda: KernelExplorer()])
def test_static_html_has_a_frame_strip_and_an_animation(make):
    widget = make()
    html = widget.static_html()
    assert html.startswith("<div><img src='data:image/png;base64,")
    assert "<details>" in html and "@keyframes cnn-cycle-" in html
    bundle = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and bundle["text/html"] == html


def test_display_publishes_the_widget_and_a_separate_static_output():
    widget = ConvAnimator(predict=False)
    assert LIVE_CLASS in widget._dom_classes
    assert any(getattr(child, "value", "") == f"<style>{HIDE_CSS}</style>" for child in widget.children)
    with mock.patch("course.widgets.fallback.display") as display:
        widget._ipython_display_()
    (live, _), (static, _) = display.call_args_list
    assert "application/vnd.jupyter.widget-view+json" in live[0] and "text/html" not in live[0]
    assert static[0]["text/html"].startswith(f"<div class='{FALLBACK_CLASS}'>")
    assert STRIP in static[0]["text/html"]


def test_the_frame_strip_survives_nbconvert_html_export(tmp_path):
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from course.widgets import ConvAnimator, OutputSizeExplorer\n"
        "display(OutputSizeExplorer())\nConvAnimator(predict=False)")])
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    assert "widgets" in nb.metadata                      # the widget views are stored too
    page, _ = HTMLExporter().from_notebook_node(nb)
    fallbacks = re.findall(r'<div class="cnn-static-fallback">.*?<img [^>]*src="data:image/png;base64,', page,
                           re.S)
    assert len(fallbacks) == 2
    # the hiding rule needs `.lm-Widget.jp-OutputArea`, which only a running JupyterLab has
    assert "lm-Widget" in HIDE_CSS and not re.search(r'class="[^"]*lm-Widget[^"]*jp-OutputArea', page)


def test_apply_kernel_is_correlate2d_same_with_symmetric_edges():
    rng = np.random.default_rng(0)
    image = rng.random((7, 9))
    for kernel in (PRESETS["Sobel x"], rng.normal(size=(3, 5)), PRESETS["emboss"]):
        expected = correlate2d(image, kernel, mode="same", boundary="symm")
        assert np.allclose(apply_kernel(image, kernel), expected)
    colour = rng.random((6, 5, 3))
    got = apply_kernel(colour, PRESETS["sharpen"])
    for c in range(3):
        assert np.allclose(got[:, :, c], correlate2d(colour[:, :, c], PRESETS["sharpen"], "same", "symm"))
    with pytest.raises(ValueError, match="odd"):
        apply_kernel(image, np.ones((2, 2)))


def test_kernel_explorer_presets_custom_kernels_and_speed():
    explorer = KernelExplorer(photo="camera", preset="identity")
    identity = bytes(explorer.filtered.value)
    explorer.preset.value = "Sobel y"
    assert explorer.kernel.tolist() == PRESETS["Sobel y"] and bytes(explorer.filtered.value) != identity
    explorer.cells[4].value = 1.0
    assert explorer.preset.value == "custom" and explorer.kernel[1, 1] == 1.0
    explorer.colour.value = True
    explorer.photo.value = "astronaut"
    assert explorer.image().shape == (512, 512, 3)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        apply_kernel(explorer.image(), PRESETS["Laplacian"])
        timings.append(time.perf_counter() - started)
    assert min(timings) < 0.25, f"apply_kernel took {min(timings):.3f} s on 512x512x3"


def test_feature_maps_of_a_briefly_trained_network():
    model, accuracy, _ = train_digit_cnn(num_epochs=1, seed=0)
    again, _, _ = train_digit_cnn(num_epochs=1, seed=0)          # cached: same weights
    assert all(np.array_equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    assert accuracy > 0.3
    maps = feature_maps(model, np.zeros((8, 8)))
    assert maps["conv1"].shape == (8, 8, 8) and maps["conv2"].shape == (16, 8, 8)
    assert (maps["conv1"] >= 0).all()                           # after ReLU
    explorer = FeatureMapExplorer(num_epochs=1)
    first = bytes(explorer.picture.value)
    explorer.digit.value = 3
    assert bytes(explorer.picture.value) != first and "test digit 3" in explorer.label.value
    assert STRIP.replace("'", "") in explorer.static_html().replace("'", "")
