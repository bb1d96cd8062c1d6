import numpy as np
import pytest

from course.checks import (CheckFailed, all_passed, call_student, check_array, check_close,
                           check_equal, check_raises, check_shape, check_that)


def message_of(call):
    with pytest.raises(CheckFailed) as info:
        call()
    return str(info.value)


def test_check_equal_says_what_expected_got_and_hint():
    text = message_of(lambda: check_equal(3, 4, "f(1)", hint="count again"))
    assert "f(1): returned the wrong value." in text
    assert "expected: 4" in text and "got:      3" in text and "Hint: count again" in text


def test_check_equal_hides_the_expected_value_when_asked():
    text = message_of(lambda: check_equal(3, 4, "hidden test: f(1)", reveal=False))
    assert "expected: (hidden)" in text and "4" not in text.replace("f(1)", "")


def test_check_equal_wants_an_int_not_a_float():
    text = message_of(lambda: check_equal(4.0, 4, "size(8, 3)"))
    assert "returned the float 4.0; it should return an int" in text


def test_check_equal_explains_a_missing_return():
    assert "forget to `return`" in message_of(lambda: check_equal(None, 4, "f()"))


def test_check_equal_passes_on_equal_values():
    check_equal(np.int64(7), 7, "f()")
    check_equal((2, 3), (2, 3), "shape")


def test_check_array_reports_wrong_shape_with_diagnosis():
    text = message_of(lambda: check_array(np.zeros((3, 2)), np.zeros((2, 3)), "g()", hint="generic",
                                          diagnose=lambda a: "rows and columns swapped"))
    assert "expected shape: (2, 3)" in text and "got shape:      (3, 2)" in text
    assert "Hint: rows and columns swapped" in text and "generic" not in text


def test_check_array_reports_first_wrong_value():
    expected = np.arange(6.0).reshape(2, 3)
    got = expected.copy(); got[1, 2] = 99
    text = message_of(lambda: check_array(got, expected, "g()"))
    assert "1 of 6 values differ; the first is at index (1, 2)" in text
    assert "expected 5, got 99" in text


def test_check_array_hidden_mode_shows_no_expected_values():
    expected = np.array([[123.25, 7.5]])
    text = message_of(lambda: check_array(np.array([[0.0, 7.5]]), expected, "hidden", reveal=False))
    assert "123.25" not in text and "you returned 0 there" in text


def test_check_array_rejects_non_arrays_and_nan():
    assert "should return a NumPy array" in message_of(lambda: check_array([1, 2], np.ones(2), "g()"))
    text = message_of(lambda: check_array(np.array([1.0, np.nan]), np.ones(2), "g()"))
    assert "nan at index (1,)" in text


def test_check_close():
    check_close(0.1 + 0.2, 0.3, "sum")
    assert "should return a number" in message_of(lambda: check_close("0.3", 0.3, "sum"))
    assert "not a finite number" in message_of(lambda: check_close(float("inf"), 0.3, "sum"))


def test_check_raises_variants():
    def raises_value_error():
        raise ValueError("bad size: use a smaller kernel")
    check_raises(raises_value_error, ValueError, "h()")
    assert "instead of raising ValueError" in message_of(lambda: check_raises(lambda: 3, ValueError, "h()"))
    assert "raised TypeError" in message_of(
        lambda: check_raises(lambda: 1 + "a", ValueError, "h()"))

    def raises_silently():
        raise ValueError()
    assert "without a message" in message_of(lambda: check_raises(raises_silently, ValueError, "h()"))


def test_unfinished_exercise_is_not_hidden_behind_a_check():
    def unfinished():
        raise NotImplementedError()
    with pytest.raises(NotImplementedError):
        check_raises(unfinished, ValueError, "h()")
    with pytest.raises(NotImplementedError):
        call_student(unfinished, what="h()")


def test_call_student_names_the_call_that_raised():
    text = message_of(lambda: call_student(lambda x: x[5], [1], what="hidden test: k([1])"))
    assert text.startswith("hidden test: k([1]): your function raised IndexError")


def test_all_passed_prints_one_line(capsys):
    all_passed("pad_image")
    assert capsys.readouterr().out.startswith("✓ pad_image: all public tests passed")


def test_a_failed_check_shows_its_message_not_the_checks_internals():
    with pytest.raises(CheckFailed) as info:
        check_equal(3, 4, "f(1)")
    rendered = info.value._render_traceback_()
    assert len(rendered) == 1 and rendered[0].endswith("f(1): returned the wrong value.\n  expected: 4\n  got:      3")


def test_a_failed_call_shows_the_students_traceback_first():
    def students_function(x):
        return x[5]
    with pytest.raises(CheckFailed) as info:
        call_student(students_function, [1], what="k([1])")
    text = "\n".join(info.value._render_traceback_())
    assert "in students_function" in text and "IndexError: list index out of range" in text
    assert text.index("students_function") < text.index("CheckFailed")


def test_check_shape_says_in_one_sentence_what_to_return_instead():
    text = message_of(lambda: check_shape([[1, 2], [3, 4]], (2, 2), "f()"))
    assert "returned a list of 2 item(s) (list); it should return a NumPy array of shape (2, 2)" in text
    assert "np.array(...)" in text
    assert "wrong shape" in message_of(lambda: check_shape(np.zeros((2, 3)), (2, 2), "f()"))
    check_shape(np.zeros((2, 2)), (2, 2), "f()")


def test_a_returned_value_is_described_in_a_line_not_dumped():
    big = (np.zeros((50, 50)), {"x": np.zeros((100, 100))})
    text = message_of(lambda: check_array(big, np.zeros((50, 50)), "f()"))
    assert len(text.splitlines()) <= 3 and "a tuple of 2 item(s) (dict, ndarray)" in text
    text = message_of(lambda: check_equal("x" * 1000, 4, "f()"))
    assert len(text) < 400


def test_a_blank_exercise_is_said_in_one_sentence_and_stays_an_error():
    from IPython.core.interactiveshell import InteractiveShell
    from course import checks
    shell = InteractiveShell.instance()
    shown = []
    shell.showtraceback = lambda exc_tuple=None, **kw: shown.append(exc_tuple)
    shell.set_custom_exc((NotImplementedError,), checks._not_answered)
    result = shell.run_cell("def f():\n    raise NotImplementedError()\nf()")
    assert result.error_in_exec is not None            # still an error: graded as 0
    kind, error, _ = shown[-1]
    assert kind is checks.NotAnswered and "not answered yet: f() still raises" in str(error)
    assert error._render_traceback_() == [f"\x1b[0;31mNotAnswered\x1b[0m: {error}"]
    shell.run_cell("class StdinNotImplementedError(NotImplementedError): pass\n"
                   "raise StdinNotImplementedError('no stdin')")
    assert shown[-1][0].__name__ == "StdinNotImplementedError"   # other errors stay themselves


def test_check_raises_with_match_wants_the_students_own_message():
    def own_check():
        raise ValueError("x has 3 channels but w has 2")
    check_raises(own_check, ValueError, "f()", match="channel")

    def numpy_error():
        return np.ones((3, 2)) * np.ones((2, 2))
    text = message_of(lambda: check_raises(numpy_error, ValueError, "f()", match="channel",
                                           says="the channels", hint="check first"))
    assert "raised NumPy's own ValueError: operands could not be broadcast" in text
    assert "not from a check of yours" in text
    assert "a message about the channels" in text and "Hint: check first" in text

    def off_topic():
        raise ValueError("something went wrong")
    text = message_of(lambda: check_raises(off_topic, ValueError, "f()", match="channel"))
    assert "raised ValueError: something went wrong" in text and "NumPy" not in text
    assert "'channel'" in text            # without `says`, the pattern itself is shown


def test_numpy_errors_that_happen_to_match_still_fail():
    def reshape_error():
        return np.ones(6).reshape(4, -1)
    text = message_of(lambda: check_raises(reshape_error, ValueError, "f()", match="size|shape"))
    assert "NumPy's own ValueError: cannot reshape" in text

    def negative_size():
        return np.zeros((2, -1))
    text = message_of(lambda: check_raises(negative_size, ValueError, "f()", match="negative"))
    assert "NumPy's own ValueError: negative dimensions" in text


def test_check_raises_without_match_is_unchanged():
    def numpy_error():
        return np.ones((3, 2)) * np.ones((2, 2))
    check_raises(numpy_error, ValueError, "f()")


def test_check_that():
    check_that(True, "case()", "never shown")
    text = message_of(lambda: check_that(False, "case()", "it exposes no bug.", hint="look again"))
    assert text == "case(): it exposes no bug.\n  Hint: look again"


def test_call_student_can_add_a_hint():
    text = message_of(lambda: call_student(lambda x: x[5], [1], what="k([1])", hint="count"))
    assert text.startswith("k([1]): your function raised IndexError") and text.endswith("Hint: count")


@pytest.mark.parametrize("make, words", [
    (lambda: np.zeros((2.0, 3)), "Sizes must be ints: use //"),
    (lambda: np.ones((3, 2)) * np.ones((2, 3)), "swapped height and width"),
    (lambda: np.zeros(3)[5], "An index ran past the end"),
    (lambda: np.zeros(6).reshape(4, 2), "The sizes do not add up"),
])
def test_an_error_of_the_students_code_is_explained(make, words):
    def student():
        return make()
    with pytest.raises(CheckFailed) as failed:
        call_student(student, what="f(x)")
    assert "f(x): your function raised" in str(failed.value) and words in str(failed.value)


def test_no_message_is_longer_than_twenty_lines():
    def student():
        raise ValueError("\n".join(str(i) for i in range(150)))
    with pytest.raises(CheckFailed) as failed:
        call_student(student, what="f(x)", hint="Look at the loop.")
    assert len(str(failed.value).splitlines()) <= 20
    assert "more lines" in str(failed.value)


def test_a_diagnosis_that_fails_names_nothing_and_the_check_still_fails():
    def broken(actual):
        raise ValueError("a mistake table that cannot handle this case")
    with pytest.raises(CheckFailed) as failed:
        check_array(np.zeros(3), np.ones(3), "f(x)", hint="the check's own hint", diagnose=broken)
    assert "3 of 3 values differ" in str(failed.value) and "the check's own hint" in str(failed.value)
    assert "mistake table" not in str(failed.value)
