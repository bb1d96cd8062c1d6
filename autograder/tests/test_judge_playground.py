"""08-playground's one hidden test judged outside the kernel: the answer (a pair) is recorded
as plain data and compared with torch's output shape by the judge."""
import pytest

from autograder.hidden import playground
from autograder.tests.judging import LyingTuple, graded_outside


def graded(tmp_path, monkeypatch, answer):
    return graded_outside(tmp_path, monkeypatch, "playground", "check_predicted_output_shape",
                          ["predicted_output_shape"], [answer])


def test_the_right_pair_passes(tmp_path, monkeypatch):
    assert graded(tmp_path, monkeypatch, playground.conv_shape(**playground.QUESTION)) is None


@pytest.mark.parametrize("answer, says", [
    (LyingTuple((1, 1)), "not plain data"),
    ((5.0, 4.0), "expected a pair of two ints"),
    ("5, 4", "expected a pair of two ints"),
])
def test_answers_that_are_not_two_ints_fail(tmp_path, monkeypatch, answer, says):
    assert says in graded(tmp_path, monkeypatch, answer)


def test_a_known_mistake_is_named_without_the_answer(tmp_path, monkeypatch):
    q = playground.QUESTION
    no_dilation = playground.conv_shape(**{**q, "dilation": 1})
    message = graded(tmp_path, monkeypatch, no_dilation)
    assert "without dilation" in message
    assert str(playground.conv_shape(**q)) not in message
