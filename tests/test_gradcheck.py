import numpy as np
import pytest

from course.checks import CheckFailed
from course.gradcheck import (GradientReport, check_gradient, gradient_report, numeric_gradient,
                              one_sided_gradients)

rng = np.random.default_rng(0)


# Tiny reference layers -------------------------------------------------------------------

def relu(x):
    return np.maximum(x, 0.0)


def relu_backward(dout, x):
    return dout * (x > 0)


def relu_backward_no_mask(dout, x):
    return dout.copy()


def max_pool(x):
    """2x2 max pooling with stride 2: (N, C, H, W) -> (N, C, H/2, W/2)."""
    N, C, H, W = x.shape
    return x.reshape(N, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))


def max_pool_backward(dout, x):
    """Send each window's gradient to its first arg-max (row-major order)."""
    dx = np.zeros_like(x)
    N, C, H, W = x.shape
    for n, c, i, j in np.ndindex(N, C, H // 2, W // 2):
        window = x[n, c, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
        a, b = np.unravel_index(np.argmax(window), (2, 2))
        dx[n, c, 2 * i + a, 2 * j + b] += dout[n, c, i, j]
    return dx


def max_pool_backward_spread(dout, x):
    """Wrong: sends each window's gradient to all four of its cells."""
    return np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3)


def pool_input_with_tie():
    """A (1, 1, 4, 4) input, entries well apart, whose top-left window has two equal maxima."""
    x = rng.permutation(16).astype(np.float64).reshape(1, 1, 4, 4) * 0.1
    x[0, 0, 0, 0] = x[0, 0, 0, 1] = 2.0   # above every other entry (at most 1.5)
    return x


def message_of(call):
    with pytest.raises(CheckFailed) as info:
        call()
    return str(info.value)


# numeric_gradient and one_sided_gradients ------------------------------------------------

def test_numeric_gradient_of_elementwise_square():
    x = rng.standard_normal((3, 4))
    dout = rng.standard_normal((3, 4))
    grad = numeric_gradient(lambda v: 3 * v ** 2, x, dout)
    assert grad.shape == x.shape and grad.dtype == np.float64
    np.testing.assert_allclose(grad, 6 * x * dout, atol=1e-7, rtol=1e-7)


def test_numeric_gradient_of_matrix_product_leaves_x_unchanged():
    x = rng.standard_normal((2, 3, 4))
    W = rng.standard_normal((4, 5))
    dout = rng.standard_normal((2, 3, 5))
    before = x.copy()
    grad = numeric_gradient(lambda v: v @ W, x, dout)
    np.testing.assert_allclose(grad, dout @ W.T, atol=1e-7, rtol=1e-7)
    assert np.array_equal(x, before)


def test_numeric_gradient_works_when_f_reads_x_from_a_closure():
    x = rng.standard_normal(5)
    dout = rng.standard_normal(5)
    grad = numeric_gradient(lambda _: np.sin(x), x, dout)
    np.testing.assert_allclose(grad, np.cos(x) * dout, atol=1e-7, rtol=1e-7)


def test_numeric_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])
    before = x.copy()

    def explode(v):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        numeric_gradient(explode, x, np.ones(2))
    assert np.array_equal(x, before)


def test_numeric_gradient_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        numeric_gradient(relu, np.ones(3, dtype=np.float32), np.ones(3))


def test_one_sided_gradients_of_relu_at_zero():
    x = np.array([0.0, 1.0])
    dout = np.array([2.0, 1.0])
    left, right = one_sided_gradients(relu, x, dout, (0,))
    assert left == 0.0 and right == pytest.approx(2.0, rel=1e-9)
    assert np.array_equal(x, [0.0, 1.0])


# gradient_report: correct backward passes -------------------------------------------------

def test_correct_relu_away_from_zero_is_ok_without_kinks():
    x = rng.uniform(0.1, 1.0, (2, 3, 4)) * rng.choice([-1.0, 1.0], (2, 3, 4))
    dout = rng.standard_normal(x.shape)
    report = gradient_report(relu, x, dout, relu_backward(dout, x))
    assert report.ok and report.bad == [] and report.kinks == []
    assert report.max_rel_error < 1e-8
    assert report.message().startswith("dx matches the numeric gradient: max relative error")
    assert "kink" not in report.message()


def test_correct_composition_is_ok():
    x = rng.standard_normal((3, 4))
    W = rng.standard_normal((4, 5))
    dout = rng.standard_normal((3, 5))
    f = lambda v: relu(v @ W)
    analytic = ((x @ W > 0) * dout) @ W.T
    report = check_gradient(f, x, dout, analytic)
    assert report.ok and report.max_rel_error < 1e-6


def test_max_pool_tie_is_a_kink_not_a_bug():
    x = pool_input_with_tie()
    dout = rng.uniform(0.5, 1.5, (1, 1, 2, 2))
    report = check_gradient(max_pool, x, dout, max_pool_backward(dout, x))
    assert report.ok
    assert report.max_rel_error > 0.1                      # the plain check would fail
    assert report.max_rel_error_smooth < 1e-8
    assert report.kinks == [(0, 0, 0, 0), (0, 0, 0, 1)]
    text = report.message()
    assert "2 entries skipped: they sit on kinks, see below" in text
    assert "2 entries sit on kinks" in text and "the first is at index (0, 0, 0, 0)" in text


def test_relu_input_exactly_zero_is_a_kink():
    x = np.array([[-0.7, 0.0], [0.4, 1.3]])
    dout = np.array([[1.0, 2.0], [-1.0, 0.5]])
    report = check_gradient(relu, x, dout, relu_backward(dout, x))
    assert report.ok and report.kinks == [(0, 1)] and report.bad == []
    assert "1 entry skipped: it sits on a kink" in report.message()


def test_relu_input_within_h_of_zero_is_a_kink():
    x = np.array([3e-6, -3e-6, 0.5])
    dout = np.array([1.0, 1.0, 1.0])
    report = gradient_report(relu, x, dout, relu_backward(dout, x))
    assert report.ok and report.kinks == [(0,), (1,)]


def test_relu_at_zero_accepts_either_convention():
    x = np.array([0.0, 0.5])
    dout = np.array([2.0, 1.0])
    for slope_at_zero in (0.0, 0.25, 1.0):   # 0.5 equals the central difference
        analytic = np.array([2.0 * slope_at_zero, 1.0])
        report = gradient_report(relu, x, dout, analytic)
        assert report.ok and report.kinks == [(0,)]


# gradient_report: bugs ------------------------------------------------------------------

def test_max_pool_gradient_spread_over_the_window_is_a_bug():
    x = pool_input_with_tie()
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    analytic = max_pool_backward_spread(dout, x)
    report = gradient_report(max_pool, x, dout, analytic)
    assert not report.ok and len(report.bad) == 11     # 3 cells of each window but the tied one
    index = report.bad[0]
    text = message_of(lambda: check_gradient(max_pool, x, dout, analytic))
    assert f"dx is wrong at 11 of 16 entries, e.g. index {index}: " in text
    assert f"your gradient {analytic[index]:.6g}, numeric gradient 0." in text
    assert "Hint: a disagreement away from any kink is a real bug" in text


def test_relu_backward_without_mask_is_a_bug():
    x = np.array([[0.5, -1.0], [2.0, -0.25]])
    dout = np.array([[0.5, 1.25], [-1.0, 3.0]])
    report = gradient_report(relu, x, dout, relu_backward_no_mask(dout, x))
    assert report.bad == [(0, 1), (1, 1)] and report.kinks == []
    text = message_of(lambda: check_gradient(relu, x, dout, relu_backward_no_mask(dout, x)))
    assert "dx is wrong at 2 of 4 entries, e.g. index (0, 1): your gradient 1.25, " \
           "numeric gradient 0." in text


def test_an_entry_on_several_kinks_at_once_is_not_judged():
    # x[0] feeds two ReLU outputs, x[0] and 2 * x[0], both exactly 0: the slope is 0 from the
    # left and 3 from the right. The numeric gradient cannot judge any value there.
    def two_relus(x):
        return np.maximum(np.array([x[0], 2 * x[0], x[1]]), 0)
    x = np.array([0.0, 1.5])
    dout = np.array([1.0, 1.0, 1.0])
    analytic = np.array([0.0, 1.0])
    report = gradient_report(two_relus, x, dout, analytic)
    assert report.ok and report.kinks == [(0,)]
    assert "cannot judge your value" in report.message()


def test_kinks_are_reported_next_to_bugs():
    x = np.array([0.0, -1.0, 1.0])
    dout = np.ones(3)
    analytic = np.array([1.0, 1.0, 1.0])           # (0,) is a kink, (1,) a bug
    report = gradient_report(relu, x, dout, analytic)
    assert report.bad == [(1,)] and report.kinks == [(0,)]
    text = report.message()
    assert "is wrong at 1 of 3 entries" in text and "1 entry sits on a kink" in text
    assert "It is not counted; it is at index (0,)." in text


# rounding -----------------------------------------------------------------------------

def test_tiny_gradient_next_to_large_outputs_differs_only_by_rounding():
    f = lambda v: np.concatenate([3e-5 * v, np.full(100, 1e3)])   # L(x) is about 1e5
    x = rng.standard_normal(4)
    dout = np.ones(104)
    report = check_gradient(f, x, dout, np.full(4, 3e-5))
    assert report.max_rel_error > 1e-6 and report.rounding == [(0,), (1,), (2,), (3,)]
    assert "4 entries with a tiny gradient differ only by rounding noise" in report.message()
    wrong = gradient_report(f, x, dout, np.full(4, 6e-5))
    assert wrong.bad == [(0,), (1,), (2,), (3,)]


def test_correct_smooth_backward_on_three_thousand_entries_is_ok():
    draw = np.random.default_rng(1)
    draw.standard_normal(109)           # this draw holds two entries where rounding dominates
    x = draw.standard_normal((3, 10, 10, 10))
    dout = draw.standard_normal(x.shape)
    report = check_gradient(np.tanh, x, dout, (1 - np.tanh(x) ** 2) * dout)
    assert report.ok and report.kinks == [] and len(report.rounding) == 2


# shapes and the report itself -------------------------------------------------------------

def test_wrong_shape_names_both_shapes():
    x = rng.standard_normal((2, 3))
    text = message_of(lambda: check_gradient(relu, x, np.ones((2, 3)), np.ones((3, 2)), name="dw"))
    assert "dw: has the wrong shape" in text
    assert "expected shape: (2, 3)" in text and "got shape:      (3, 2)" in text
    assert "dw must have the shape of x" in text


def test_missing_gradient_is_explained():
    text = message_of(lambda: check_gradient(relu, np.ones(2), np.ones(2), None))
    assert "got NoneType" in text and "return" in text


def test_report_ok_follows_bad():
    assert GradientReport("dx", 0.0, 0.0, [], []).ok
    assert not GradientReport("dx", 1.0, 1.0, [(0,)], []).ok
