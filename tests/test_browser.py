"""The course as a student sees it, in a real browser.

Screenshots go to the pytest temporary folder (printed with -s) so a person can look at them.
"""
import pathlib
import time
import urllib.error
import urllib.request

import pytest

from autograder.submissions import fill_in
from browser import TOKEN, browser_page, free_port, require_browser, run_all_cells, running_lab

REPO = pathlib.Path(__file__).resolve().parent.parent
A1 = "01-convolution-basics"


@pytest.fixture(autouse=True)
def _browser_available():
    require_browser()


def answered_notebook_in_lab(tmp_path, name):
    """JupyterLab on a copy of notebook `name` with every exercise answered (the solutions)."""
    work = tmp_path / "work"
    work.mkdir()
    fill_in(REPO / "release" / name / f"{name}.ipynb", REPO / "source" / name / f"{name}.ipynb",
            work / f"{name}.ipynb")
    port = free_port()
    lab = [str(REPO / ".venv" / "bin" / "jupyter-lab"), "--ip=127.0.0.1", f"--port={port}",
           f"--ServerApp.root_dir={work}", "--allow-root", "--LabApp.news_url=None"]
    return running_lab(lab, tmp_path / "lab.log", port, cwd=work)


def test_course_sh_open_shows_the_first_notebook(tmp_path):
    port = free_port()
    with running_lab([str(REPO / "course.sh"), "open", "--port", str(port)], tmp_path / "lab.log", port) as url:
        with browser_page() as page:
            # the URL course.sh prints: JupyterLab opens straight at the first notebook
            page.goto(f"{url}/lab/tree/{A1}/{A1}.ipynb?reset&token={TOKEN}")
            page.get_by_role("heading", name="01 · Convolution basics").wait_for(timeout=60_000)
            page.screenshot(path=str(tmp_path / "open.png"))
            assert page.locator(".jp-NotebookPanel-notebook .jp-Cell").count() > 40
            # student tools only: the Nbgrader menu lists the assignment list and nothing of
            # the graders' (no formgrader, no course list, no Create Assignment panel)
            page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
            items = [t for t in page.locator(".lm-Menu-itemLabel").all_inner_texts() if t]
            assert items == ["Assignment List"], items
            sidebar = page.locator(".lm-TabBar-tab").evaluate_all("els => els.map(e => e.title)")
            assert not [t for t in sidebar if "Create Assignment" in t], sidebar
        assert _status(f"{url}/formgrader?token={TOKEN}") == 404
    print(f"screenshot: {tmp_path / 'open.png'}")
    assert "/lab/tree/01-convolution-basics/01-convolution-basics.ipynb" in (tmp_path / "lab.log").read_text()


def _status(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            return reply.status
    except urllib.error.HTTPError as err:
        return err.code


def test_course_sh_instructor_keeps_the_formgrader(tmp_path):
    port = free_port()
    with running_lab([str(REPO / "course.sh"), "instructor", "--port", str(port)],
                     tmp_path / "lab.log", port) as url:
        assert _status(f"{url}/formgrader?token={TOKEN}") == 200


def test_widget_updates_when_the_student_moves_a_slider(tmp_path):
    """A1 answered correctly, run in JupyterLab: the output-size explorer reacts to its sliders."""
    with answered_notebook_in_lab(tmp_path, A1) as url:
        with browser_page() as page:
            page.goto(f"{url}/lab/tree/{A1}.ipynb?reset&token={TOKEN}")
            page.get_by_role("heading", name="01 · Convolution basics").wait_for(timeout=60_000)
            run_all_cells(page)
            formula = page.locator(".widget-html", has_text="Your conv_output_size(7, 3, 0, 2) returned 3.")
            formula.wait_for(timeout=120_000)
            formula.scroll_into_view_if_needed()
            page.screenshot(path=str(tmp_path / "explorer-before.png"))
            explorer = page.locator(".widget-hbox", has=formula)
            stride = explorer.locator(".widget-slider", has_text="stride S").locator(".noUi-handle")
            stride.focus()
            page.keyboard.press("ArrowRight")          # stride 2 -> 3: (7 - 3) / 3 is not whole
            after = page.locator(".widget-html", has_text="Your conv_output_size(7, 3, 0, 3) raised ValueError")
            after.wait_for(timeout=30_000)
            assert "is not a whole number" in after.inner_text()
            page.screenshot(path=str(tmp_path / "explorer-after.png"))
    print(f"screenshots: {tmp_path / 'explorer-before.png'} {tmp_path / 'explorer-after.png'}")


def wait_until(read, done, timeout=30.0):
    """Call read() until done(value) holds; return that value (fail after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"still {value!r} after {timeout} s"
        time.sleep(0.2)


def window_cells(board):
    """(row, column) of every highlighted window cell in the first table of a board."""
    return board.locator("table.cnn-grid").first.evaluate(
        """t => [...t.rows].flatMap((r, i) => [...r.cells].map((c, j) =>
               (c.className.includes('cnn-window') ? [i, j] : null))).filter(Boolean)""")


def test_playground_animator_steps_and_follows_the_stride(tmp_path):
    """The playground's convolution animator in JupyterLab: Check the prediction, press Step,
    change the stride; the highlighted window, the output cell and the formula follow."""
    name = "08-playground"
    with answered_notebook_in_lab(tmp_path, name) as url:
        with browser_page() as page:
            page.goto(f"{url}/lab/tree/{name}.ipynb?reset&token={TOKEN}")
            page.locator(".jp-Notebook").first.wait_for(timeout=60_000)
            run_all_cells(page)
            animator = page.locator(".widget-vbox", has=page.get_by_role("button", name="Check")).first
            animator.wait_for(timeout=180_000)
            animator.scroll_into_view_if_needed()
            animator.get_by_role("button", name="Check").click()
            board = animator.locator(".cnn-board").first
            board.locator("td.cnn-current").first.wait_for(timeout=30_000)
            formula_before = animator.locator(".widget-html").first.inner_text()
            window_before = window_cells(board)
            current_before = board.locator("td.cnn-current").first.inner_text()
            page.screenshot(path=str(tmp_path / "animator-step0.png"))

            animator.get_by_role("button", name="Step ▸").click()
            # the board is redrawn (a new table) on every step: read it afresh until it changes
            window_after = wait_until(lambda: window_cells(board), lambda w: w != window_before)
            assert len(window_after) == len(window_before)
            assert [c for _, c in window_after] == [c + 1 for _, c in window_before], \
                "one step moves the window one column to the right"
            page.screenshot(path=str(tmp_path / "animator-step1.png"))

            stride = animator.locator(".widget-slider", has_text="stride S").locator(".noUi-handle")
            stride.focus()
            page.keyboard.press("ArrowRight")
            formula_after = wait_until(lambda: animator.locator(".widget-html").first.inner_text(),
                                       lambda text: text != formula_before)
            assert "2" in formula_after
            page.screenshot(path=str(tmp_path / "animator-stride2.png"))
    assert current_before
    print(f"screenshots: {tmp_path}/animator-*.png")
