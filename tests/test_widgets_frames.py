"""Pure frame logic of the interactive pieces: positions, values, products and text, the size
formula (also when it is not a whole number), pooling winners, the student comparison and the
prediction check. Oracles: scipy.signal and torch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as tnf
from scipy.signal import correlate2d

from course.widgets.frames import (AxisGeometry, check_prediction, compare_with_student,
                                   conv_frames, conv_reference, formula_text, pool_frames)

EXAMPLE = np.array([[10, 20, 30, 40], [0, 1, 0, 1], [30, 0, 10, 20], [0, 10, 20, 30]])


def torch_conv(image, kernel, stride=1, pad=0, dilation=1):
    x = torch.tensor(np.asarray(image, float))[None, None]
    w = torch.tensor(np.asarray(kernel, float))[None, None]
    return tnf.conv2d(x, w, stride=stride, padding=pad, dilation=dilation)[0, 0].numpy()


def test_the_worked_example_step_by_step():
    frames = conv_frames(EXAMPLE, [[1, 0], [0, 2]])
    assert len(frames) == 9
    first = frames[0]
    assert first.text == "1·10 + 0·20 + 0·0 + 2·1 = 12"
    assert first.window == ((0, 0), (0, 1), (1, 0), (1, 1))
    assert first.terms == ((1, 10), (0, 20), (0, 0), (2, 1))
    assert first.products == (10, 0, 0, 2) and first.value == 12
    assert (frames[4].out_row, frames[4].out_col, frames[4].step) == (1, 1, 4)
    assert np.array_equal(conv_reference(EXAMPLE, [[1, 0], [0, 2]]),
                          correlate2d(EXAMPLE, [[1, 0], [0, 2]], mode="valid"))


@pytest.mark.parametrize("shape, kernel_shape, stride, pad, dilation", [
    ((5, 5), (3, 3), 1, 1, 1), ((7, 7), (3, 3), 2, 1, 1), ((6, 6), (3, 3), 2, 0, 1),  # 6: not whole
    ((7, 6), (3, 2), 1, 0, 2), ((8, 8), (3, 3), 3, 2, 2), ((4, 5), (1, 1), 2, 0, 1)])
def test_values_positions_and_products_match_torch(shape, kernel_shape, stride, pad, dilation):
    rng = np.random.default_rng(sum(shape) + stride)
    image, kernel = rng.integers(-3, 10, shape), rng.integers(-2, 3, kernel_shape)
    frames = conv_frames(image, kernel, stride, pad, dilation)
    expected = torch_conv(image, kernel, stride, pad, dilation)
    assert len(frames) == expected.size
    assert np.allclose(conv_reference(image, kernel, stride, pad, dilation), expected)
    padded = np.pad(image, pad)
    for f in frames:
        r0, c0 = f.out_row * stride, f.out_col * stride
        assert f.window[0] == (r0, c0)
        assert f.window[-1] == (r0 + dilation * (kernel_shape[0] - 1), c0 + dilation * (kernel_shape[1] - 1))
        assert f.products == tuple(w * padded[r, c] for w, (r, c) in zip(kernel.ravel(), f.window))
        assert f.text.endswith(f"= {int(f.value)}")


def test_padding_and_dilation_windows_in_padded_coordinates():
    frames = conv_frames(np.ones((5, 5), int), np.ones((2, 2), int), stride=1, pad=0, dilation=2)
    assert frames[0].window == ((0, 0), (0, 2), (2, 0), (2, 2))
    frames = conv_frames(np.ones((7, 7), int), np.ones((3, 3), int), stride=2, pad=1)
    assert frames[1].window[0] == (0, 2) and frames[4].window[0] == (2, 0)
    assert frames[0].terms[0] == (1, 0)          # the corner of the window is padding
    assert frames[0].value == 4                  # 2x2 real pixels under the window


def test_negative_numbers_are_bracketed_in_the_text():
    frame = conv_frames([[2, -3]], [[-1, 1]])[0]
    assert frame.text == "(-1)·2 + 1·(-3) = -5"
    assert conv_frames([[1.5, 2]], [[0.5, 1]])[0].text == "0.5·1.5 + 1·2 = 2.75"


def test_a_setting_that_is_not_a_whole_number_is_explained():
    g = AxisGeometry(8, 3, stride=2)
    assert (g.positions, g.exact, g.leftover, g.starts) == (3, False, 1, [0, 2, 4])
    text = formula_text(g, "W")
    assert "(8 - 3 + 2·0)/2 + 1 = 5/2 + 1 = 3.5: not a whole number" in text
    assert "3 positions fit (starting at 0, 2, 4" in text and "the last 1 padded cell(s)" in text
    assert "PyTorch rounds down to 3" in text
    assert len(conv_frames(np.zeros((8, 8)), np.zeros((3, 3)), stride=2)) == 9


def test_whole_dilated_and_impossible_formulas():
    assert formula_text(AxisGeometry(7, 3, 2, 1), "H") == "H_out = (H - F + 2P)/S + 1 = (7 - 3 + 2·1)/2 + 1 = 6/2 + 1 = 4"
    dilated = formula_text(AxisGeometry(7, 3, 1, 0, 2))
    assert dilated.startswith("F_eff = D·(F - 1) + 1 = 2·(3 - 1) + 1 = 5\nW_out = (W - F_eff + 2P)/S + 1")
    assert dilated.endswith("= 3")
    too_big = AxisGeometry(3, 5)
    assert too_big.positions == 0 and "no position fits" in formula_text(too_big)
    assert conv_frames(np.zeros((3, 3)), np.zeros((5, 5))) == []
    hidden = formula_text(AxisGeometry(7, 3, 2, 1), reveal=False)
    assert hidden.endswith("= ?") and "= 4" not in hidden
    with pytest.raises(ValueError, match="stride"):
        AxisGeometry(5, 3, stride=0)


def test_max_pooling_winners_ties_go_to_the_first_maximum():
    frames = pool_frames(np.array([[5, 5], [1, 5]]), 2, 2)
    assert frames[0].winner == (0, 0) and frames[0].text == "max(5, 5, 1, 5) = 5"
    image = np.array([[1, 7, 0, 2], [7, 7, 3, 3], [0, 0, 9, 1], [2, 2, 1, 9]])
    frames = pool_frames(image, 2, 2, "max")
    assert [f.winner for f in frames] == [(0, 1), (1, 2), (3, 0), (2, 2)]
    assert [f.value for f in frames] == [7, 3, 2, 9]
    assert frames[1].window == ((0, 2), (0, 3), (1, 2), (1, 3))


@pytest.mark.parametrize("size, stride", [(2, 2), (2, 1), (3, 2), (3, 3)])
def test_pooling_values_match_torch(size, stride):
    image = np.random.default_rng(size * 10 + stride).integers(0, 10, (7, 6))
    x = torch.tensor(image, dtype=torch.float64)[None, None]
    for mode, oracle in (("max", tnf.max_pool2d), ("avg", tnf.avg_pool2d)):
        frames = pool_frames(image, size, stride, mode)
        expected = oracle(x, size, stride)[0, 0].numpy()
        assert np.allclose([f.value for f in frames], expected.ravel())
        assert (frames[-1].out_row + 1, frames[-1].out_col + 1) == expected.shape


def test_average_pooling_text_and_bad_mode():
    frame = pool_frames([[1, 2], [3, 4]], 2, 2, "avg")[0]
    assert frame.winner is None and frame.text == "(1 + 2 + 3 + 4)/4 = 2.5"
    with pytest.raises(ValueError, match="mode"):
        pool_frames([[1]], 1, 1, "min")


def torch_forward(x, w, b, conv_param):
    out = tnf.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                     stride=conv_param["stride"], padding=conv_param["pad"])
    return out.numpy(), (x, w, b, conv_param)


def test_a_right_student_function_matches():
    result = compare_with_student(torch_forward, EXAMPLE, [[1, 0], [0, 2]], 1, 1)
    assert result.status == "match" and "all 25 output cells" in result.message
    only_out = compare_with_student(lambda *args: torch_forward(*args)[0], EXAMPLE, [[1, 2]], 1, 0)
    assert only_out.status == "match"


def test_the_first_differing_cell_is_found_with_both_values():
    def flipped(x, w, b, conv_param):
        return torch_forward(x, w[:, :, ::-1, ::-1].copy(), b, conv_param)

    kernel = np.array([[1, 0], [0, 2]])
    result = compare_with_student(flipped, EXAMPLE, kernel, 1, 0)
    right = correlate2d(EXAMPLE, kernel, mode="valid")
    wrong = correlate2d(EXAMPLE, kernel[::-1, ::-1], mode="valid")
    first = tuple(int(v) for v in np.argwhere(right != wrong)[0])
    assert result.status == "mismatch" and result.cell == first
    assert (result.got, result.expected) == (wrong[first], right[first])
    assert f"out[0, 0, {first[0]}, {first[1]}] (step {first[0] * 3 + first[1] + 1})" in result.message
    assert f"gives {wrong[first]}, the reference gives {right[first]}" in result.message


def test_student_errors_are_caught_and_shown():
    def strict(x, w, b, conv_param):
        raise ValueError("stride does not tile")

    def unwritten(x, w, b, conv_param):
        raise NotImplementedError()

    def no_padding(x, w, b, conv_param):
        return torch_forward(x, w, b, {**conv_param, "pad": 0})

    error = compare_with_student(strict, np.zeros((6, 6)), np.ones((3, 3)), 2, 0)
    assert error.status == "error" and "raised ValueError: stride does not tile" in error.message
    assert "raising is right here" in error.message
    assert compare_with_student(unwritten, EXAMPLE, [[1]], 1, 0).status == "unwritten"
    shape = compare_with_student(no_padding, EXAMPLE, [[1, 1], [1, 1]], 1, 1)
    assert shape.status == "shape" and "(1, 1, 3, 3)" in shape.message and "(1, 1, 5, 5)" in shape.message
    assert compare_with_student(torch_forward, EXAMPLE, [[1]], 1, 0, dilation=2).status == "skipped"


def test_check_prediction_right_wrong_and_named_mistakes():
    settings = {"size": 7, "kernel": 3, "stride": 2, "pad": 1, "dilation": 2}   # F_eff 5 -> 3
    ok, message = check_prediction(settings, (3, 3))
    assert ok and message.startswith("Right: the output is 3 x 3.")
    ok, message = check_prediction(settings, (4, 4))
    assert not ok and "the output is 3 x 3" in message and "D·(F - 1) + 1" in message
    ok, message = check_prediction({"size": 8, "kernel": 3, "stride": 2}, (4, 4))
    assert not ok and "round DOWN" in message and "not a whole number" in message
    ok, message = check_prediction({"height": 9, "width": 5, "kernel": 3}, (3, 7))
    assert not ok and "Height comes first" in message
    assert check_prediction({"height": 9, "width": 5, "kernel": (3, 1)}, (7, 5))[0]


@pytest.mark.parametrize("predicted", [(3.0, 3), ("3", 3), (3,), 3, None, (True, 3)])
def test_check_prediction_wants_two_whole_numbers(predicted):
    ok, message = check_prediction({"size": 5, "kernel": 3}, predicted)
    assert not ok and "two whole numbers" in message


def test_the_graded_question_agrees_with_torch_and_names_mistakes():
    from autograder.hidden.playground import QUESTION, check_predicted_output_shape, conv_shape
    from course.checks import CheckFailed

    truth = conv_shape(**QUESTION)
    assert check_prediction(QUESTION, truth)[0]
    check_predicted_output_shape(truth)
    without_dilation = conv_shape(**{**QUESTION, "dilation": 1})
    with pytest.raises(CheckFailed, match="without dilation") as failed:
        check_predicted_output_shape(without_dilation)
    assert str(truth) not in str(failed.value)
    with pytest.raises(CheckFailed, match="pair of two ints"):
        check_predicted_output_shape((5.0, 4))
