import nbformat

from autograder import feedback
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


def test_images_get_alt_text_and_cells_become_focusable_as_nbconvert_makes_them():
    page = ('<div class="jp-Cell-inputWrapper x"><img src="a.png"><img alt="kept" src="b">'
            '<IMG\nsrc="c"/></div><div class="jp-OutputArea-output" tabindex="1"></div>'
            '<div class="jp-OutputArea-output-not"></div><imgx>')
    fixed = feedback.make_focusable_and_described(page)
    assert fixed.count(f'alt="{feedback.NO_ALT}"') == 2 and 'alt="kept"' in fixed
    assert '<div class="jp-Cell-inputWrapper x" tabindex="0">' in fixed
    assert '<div class="jp-OutputArea-output" tabindex="0">' in fixed   # as nbconvert sets it
    assert fixed.count("tabindex") == 2                     # not on jp-OutputArea-output-not
    assert "<imgx>" in fixed


def test_the_feedback_page_says_what_nbconvert_s_page_says(tmp_path):
    """The exporter gives the page nbconvert's HTML exporter gives: the same text, images,
    alt texts and focusable elements."""
    from bs4 import BeautifulSoup
    from nbconvert.exporters import HTMLExporter
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A title\n\n![a picture](data:image/png;base64,iVBO)"),
        nbformat.v4.new_code_cell("print('hello')", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="hello\n"),
            nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})])])
    pages = [BeautifulSoup(exporter(template_name="lab").from_notebook_node(nb)[0], "html.parser")
             for exporter in (HTMLExporter, feedback.FeedbackExporter)]
    for selector in ("img", "img[alt]", "[tabindex]", ".jp-OutputArea-output"):
        assert len(pages[0].select(selector)) == len(pages[1].select(selector)), selector
    assert len(pages[0].select("[tabindex]")) >= 3
    assert pages[0].get_text() == pages[1].get_text()
