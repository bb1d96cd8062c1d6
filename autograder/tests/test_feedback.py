import nbformat

from autograder.feedback import HideHiddenTests, split_hidden_region

TEST_SOURCE = """check_equal(f(1), 2, "f(1)")
### BEGIN HIDDEN TESTS
from autograder.hidden.secret import check_f
check_f(f)
### END HIDDEN TESTS"""


def test_split_hidden_region():
    shown, hidden = split_hidden_region(TEST_SOURCE)
    assert shown == 'check_equal(f(1), 2, "f(1)")'
    assert hidden == ["from autograder.hidden.secret import check_f", "check_f(f)"]


def test_hidden_code_and_its_traceback_frames_are_removed():
    cell = nbformat.v4.new_code_cell(TEST_SOURCE)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "a1_f_tests", "points": 1}
    cell.outputs = [nbformat.v4.new_output("error", ename="CheckFailed", evalue="hidden test: f(7): wrong", traceback=[
        "-----",
        "Cell In[3], line 4\n----> 4 check_f(f)",
        "File /x/autograder/hidden/secret.py:9, in check_f\n  expected = 42",
        "Cell In[2], line 2, in f\n----> 2 return x + 1",
        "CheckFailed: hidden test: f(7): wrong",
    ])]
    cell, _ = HideHiddenTests().preprocess_cell(cell, {}, 0)
    assert "HIDDEN" not in cell.source and "check_f" not in cell.source
    tb = cell.outputs[0]["traceback"]
    assert tb == ["-----", "Cell In[3], line 4", "Cell In[2], line 2, in f\n----> 2 return x + 1",
                  "(lines of the hidden tests are not shown)", "CheckFailed: hidden test: f(7): wrong"]


def test_public_lines_of_a_frame_stay_and_hidden_ones_go():
    cell = nbformat.v4.new_code_cell(TEST_SOURCE)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "a1_f_tests", "points": 1}
    frame = ("Cell In[3], line 1\n----> 1 check_equal(f(1), 2, \"f(1)\")\n"
             "      2 ### BEGIN HIDDEN TESTS\n      3 from autograder.hidden.secret import check_f")
    cell.outputs = [nbformat.v4.new_output("error", ename="NotImplementedError", evalue="",
                                           traceback=[frame, "NotImplementedError: "])]
    cell, _ = HideHiddenTests().preprocess_cell(cell, {}, 0)
    assert cell.outputs[0]["traceback"][0] == "Cell In[3], line 1\n----> 1 check_equal(f(1), 2, \"f(1)\")"


def test_cells_that_are_not_tests_are_untouched():
    cell = nbformat.v4.new_code_cell("x = 1  # ### BEGIN HIDDEN TESTS is just text here")
    cell, _ = HideHiddenTests().preprocess_cell(cell, {}, 0)
    assert cell.source.startswith("x = 1")
