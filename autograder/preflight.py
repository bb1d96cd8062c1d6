"""Before a class is graded: prove that grading works here, or stop and say why.

`check_grading_works(course, assignment)` grades the assignment's own solution the way a
student is graded (nbgrader autograde, the real sandboxed kernel, the same limits), in a
scratch area of the course directory (`.grading-check/`, with its own gradebook). Every
autograded cell must get full marks. If one does not, `GradingSetupError` names the cause
(the kernel cannot import the course, a reference file is missing, the kernel did not start,
...) and the fix, and no student is graded: a broken set-up never turns into zeros.

A check that passed is remembered for what it depended on (the assignment's notebooks, the
configuration, the course's packages, the Python environment, the sandbox); change any of
them and the next run checks again.
"""
import hashlib
import json
import os
import pathlib
import re
import shutil
import sys

import nbformat
from nbgrader.api import Gradebook

from autograder import nbgrader_steps as steps
from autograder import sandbox
from autograder.submissions import fill_in

SCRATCH = ".grading-check"
STUDENT = "solution-check"


class GradingSetupError(RuntimeError):
    """Grading cannot be trusted on this machine; the message says why and what to do."""


def _scratch_args(scratch):
    return [f"--CourseDirectory.release_directory={scratch}/release",
            f"--CourseDirectory.submitted_directory={scratch}/submitted",
            f"--CourseDirectory.autograded_directory={scratch}/autograded",
            f"--CourseDirectory.feedback_directory={scratch}/feedback",
            f"--CourseDirectory.db_url=sqlite:///{scratch}/gradebook.db"]


def _without_db(nbgrader_args):
    return [a for a in nbgrader_args if not a.startswith("--CourseDirectory.db_url")]


def fingerprint(course, assignment, nbgrader_args=()):
    """A hash of everything the check depends on."""
    digest = hashlib.sha256()
    files = sorted((course / "source" / assignment).glob("*.ipynb"))
    files.append(course / "nbgrader_config.py")
    for package in sandbox.needed_paths() - {sys.prefix, sys.base_prefix,
                                             os.path.dirname(sys.executable)}:
        files += sorted(p for p in pathlib.Path(package).rglob("*")
                        if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(str(path).encode())
        digest.update(path.read_bytes() if path.is_file() else b"-")
    for value in (sys.executable, os.environ.get("COURSE_SANDBOX", ""),
                  str(sandbox.bwrap_path()), *nbgrader_args):
        digest.update(value.encode())
    return digest.hexdigest()


def _errors(cell):
    return [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]


def _strip_ansi(text):
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def import_failure_message(error):
    return ("the grading kernel cannot import the course's own packages "
            f"({error}). The kernel runs {sys.executable} inside the sandbox. Install the "
            "course into that environment from this directory (pip install -e . , or "
            "./course.sh setup), and check c.SandboxedKernelManager.hidden_paths in "
            "nbgrader_config.py; COURSE_SANDBOX=off shows whether the sandbox is the cause.")


def diagnose(failures):
    """A cause and a fix for [(grade_id, score, max, ename, evalue)] of the solution."""
    lines = []
    for grade_id, score, max_score, ename, evalue in failures:
        evalue = _strip_ansi(evalue or "")
        if ename == "FileNotFoundError":
            return (f"a file the tests need is missing ({evalue}). If it is a reference "
                    "file, write them with: python -m autograder.make_references")
        if ename in ("KernelDied", "KernelStuck", "NotRun", "CellTimeoutError"):
            return (f"the kernel could not run the solution ({ename}: {evalue}). Check the "
                    "memory and time limits in nbgrader_config.py and how busy the machine "
                    "is.")
        lines.append(f"{grade_id}: {score:g} of {max_score:g} points"
                     + (f" ({ename}: {evalue.splitlines()[0] if evalue else ''})"
                        if ename else ""))
    return ("the solution does not get full marks, so the tests or the environment are "
            "broken: " + "; ".join(lines))


def _failures(autograded_dir, gradebook_url, assignment):
    """[(grade_id, score, max, ename, evalue)] of the solution's cells below full marks."""
    failures = []
    with Gradebook(gradebook_url) as gb:
        submission = gb.find_submission(assignment, STUDENT)
        for notebook in submission.notebooks:
            path = autograded_dir / f"{notebook.name}.ipynb"
            cells = {}
            if path.exists():
                nb = nbformat.read(path, as_version=4)
                cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
            for grade in notebook.grades:
                if grade.auto_score is None or grade.score >= grade.max_score:
                    continue
                errors = _errors(cells.get(grade.name, {}))
                ename, evalue = ((errors[0].get("ename"), errors[0].get("evalue"))
                                 if errors else (None, None))
                failures.append((grade.name, grade.score, grade.max_score, ename, evalue))
    return failures


def check_grading_works(course, assignment, nbgrader_args=(), progress=print):
    """Grade the solution of `assignment` in a scratch area; raise GradingSetupError if it
    does not get full marks. Returns True when it ran, False when a recent pass still holds.
    """
    course = pathlib.Path(course).resolve()
    nbgrader_args = _without_db(nbgrader_args)
    scratch = course / SCRATCH
    stamp = scratch / f"{assignment}.passed"
    want = fingerprint(course, assignment, nbgrader_args)
    if stamp.exists() and stamp.read_text() == want:
        return False
    progress(f"Checking that grading works here: grading the solution of {assignment} ...")
    for part in ("release", "submitted", "autograded", "feedback"):
        shutil.rmtree(scratch / part / assignment, ignore_errors=True)
        shutil.rmtree(scratch / part / STUDENT, ignore_errors=True)
    scratch.mkdir(exist_ok=True)
    # the scratch gradebook is the check's own: a fresh one each time, so that an assignment
    # whose cells changed since the last check can be recorded again
    (scratch / "gradebook.db").unlink(missing_ok=True)
    args = _scratch_args(SCRATCH)
    try:
        steps.run_nbgrader(course, "generate_assignment", assignment, "--force", *args)
        for source in sorted((course / "source" / assignment).glob("*.ipynb")):
            folder = scratch / "submitted" / STUDENT / assignment
            folder.mkdir(parents=True, exist_ok=True)
            fill_in(scratch / "release" / assignment / source.name, source,
                    folder / source.name)
        steps.run_nbgrader(course, "autograde", assignment, "--student", STUDENT, "--create",
                           "--force", *nbgrader_args, *args)
    except steps.StepFailed as err:
        last = [line for line in str(err).strip().splitlines() if line.strip()][-3:]
        raise GradingSetupError(
            f"Grading does not work here: nbgrader could not grade the solution of "
            f"{assignment}:\n  " + "\n  ".join(last) +
            "\nNo student was graded. Fix the cause above and run the command again.") from err
    graded = scratch / "autograded" / STUDENT / assignment
    broken = [text for source in sorted((course / "source" / assignment).glob("*.ipynb"))
              for _, text in setup_errors(graded / source.name, source)]
    failures = _failures(graded, f"sqlite:///{scratch / 'gradebook.db'}", assignment)
    if broken or failures:
        cause = import_failure_message(broken[0]) if broken else diagnose(failures)
        raise GradingSetupError(
            f"Grading does not work here: {cause}\nNo student was graded. The graded "
            f"solution is in {SCRATCH}/autograded/{STUDENT}/{assignment}/.")
    stamp.write_text(want)
    return True


def setup_errors(notebook_path, source_path):
    """Errors in a graded notebook that come from the set-up, not from the student's code.

    [(cell number, text)]: a cell of the course's own (set-up, read-only or test cell, the
    same text as in `source_path`) that could not import the course's packages. Such a
    notebook must not be scored.
    """
    source = nbformat.read(source_path, as_version=4)
    ours = {cell.source for cell in source.cells if cell.cell_type == "code"
            and not cell.metadata.get("nbgrader", {}).get("solution")}
    found = []
    nb = nbformat.read(notebook_path, as_version=4)
    for number, cell in enumerate(nb.cells, 1):
        if cell.cell_type != "code" or cell.source not in ours:
            continue
        for out in _errors(cell):
            ename, evalue = out.get("ename", ""), _strip_ansi(out.get("evalue", ""))
            if (ename in ("ModuleNotFoundError", "ImportError")
                    and re.search(r"'(course|autograder)(\.|')", evalue)):
                found.append((number, f"{ename}: {evalue}"))
    return found


def main(argv=None):
    """python -m autograder.preflight ASSIGNMENT...: check, and say so."""
    names = (argv if argv is not None else sys.argv[1:]) or steps.assignments(pathlib.Path("."))
    for name in names:
        try:
            check_grading_works(".", name)
        except GradingSetupError as err:
            print(err, file=sys.stderr)
            return 2
        print(f"{name}: the solution gets full marks; grading works here.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
