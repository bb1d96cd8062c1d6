"""Grade your own notebook, offline, with the course's hidden tests: for self-learners.

    ./course.sh check 03          (or: python -m autograder.selfcheck 03)
    ./course.sh check             (every notebook in release/ with an exercise answered)
    ./course.sh progress          (the history of your checks)

A copy of release/<assignment>/<assignment>.ipynb (your file is never changed) is graded the
way an instructor grades a class: nbgrader autograde with the hidden tests, in the same
sandbox, judged outside the kernel, in a scratch course in .self-check/ with its own
gradebook. Prints each exercise with its points and, for an exercise below full marks, the
message of its first failed check (the named mistake or the hint; never hidden code or
reference values), and the total. Writes the feedback page. Each check is appended to
progress/history.jsonl (kept when the environment is set up again).
"""
import argparse
import datetime
import json
import pathlib
import re
import shutil
import sys

import nbformat
from nbgrader.api import Gradebook

from autograder import nbgrader_steps as steps
from course import progress

SCRATCH = ".self-check"
STUDENT = "me"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class CheckError(RuntimeError):
    """The check could not run; the message says why and what to do."""


def resolve(name, root=steps.REPO):
    """The assignment a learner means by `name` ("03", "3", "03-convolution-backward")."""
    names = steps.assignments(root)
    if name in names:
        return name
    wanted = name.zfill(2) if name.isdigit() else name
    found = [n for n in names if n.startswith(wanted)]
    if len(found) == 1:
        return found[0]
    raise CheckError(f"There is no assignment '{name}'. Name one of: "
                     + ", ".join(n.split("-")[0] for n in names) + " (e.g. ./course.sh check 03).")


def answered(notebook_path):
    """True when at least one exercise of the notebook has been answered (its stub is gone)."""
    try:
        nb = nbformat.read(notebook_path, as_version=4)
    except Exception:  # an unreadable notebook is one to check: the check says what is wrong
        return True
    return any(c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
               and "raise NotImplementedError()" not in c.source for c in nb.cells)


def _first_error(cell):
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            text = _ANSI.sub("", out.get("evalue") or out.get("ename") or "")
            return text.strip() or out.get("ename", "an error")
    return None


def grade_own(assignment, root=steps.REPO):
    """Grade the learner's release notebook of `assignment`; a dict of the results."""
    root = pathlib.Path(root).resolve()
    notebook = root / "release" / assignment / f"{assignment}.ipynb"
    if not notebook.exists():
        raise CheckError(f"{notebook} is missing: the notebook you work in lives there.")
    course = root / SCRATCH / assignment
    shutil.rmtree(course, ignore_errors=True)
    steps.make_course(course, [assignment], root)
    try:
        steps.generate_assignment(course, assignment)
        steps.submit(course, STUDENT, assignment, notebook)
        steps.run_nbgrader(course, "autograde", assignment, "--student", STUDENT, "--create",
                           "--force")
        steps.run_nbgrader(course, "generate_feedback", assignment, "--student", STUDENT,
                           "--force")
    except steps.StepFailed as err:
        last = [line for line in str(err).strip().splitlines() if line.strip()][-3:]
        raise CheckError("Your notebook could not be graded:\n  " + "\n  ".join(last)) from err
    graded = course / "autograded" / STUDENT / assignment / notebook.name
    cells = {}
    if graded.exists():
        cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c
                 for c in nbformat.read(graded, as_version=4).cells}
    exercises = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(assignment, STUDENT)
        for nb in submission.notebooks:
            for grade in sorted(nb.grades, key=lambda g: _order(cells, g.name)):
                if grade.auto_score is None:
                    exercises.append({"id": grade.name, "points": None,
                                      "max": grade.max_score, "message": "graded by hand"})
                    continue
                message = None
                if grade.auto_score < grade.max_score:
                    message = _first_error(cells.get(grade.name, {})) or "not full marks"
                exercises.append({"id": grade.name, "points": grade.auto_score,
                                  "max": grade.max_score, "message": message})
    feedback = course / "feedback" / STUDENT / assignment / notebook.name.replace(".ipynb", ".html")
    return {"assignment": assignment, "exercises": exercises,
            "feedback": str(feedback) if feedback.exists() else None}


def _order(cells, grade_id):
    keys = list(cells)
    return keys.index(grade_id) if grade_id in keys else len(keys)


def report(result):
    """The lines printed for one checked assignment."""
    lines = [f"{result['assignment']}"]
    auto = [e for e in result["exercises"] if e["points"] is not None]
    for e in result["exercises"]:
        name = re.sub(r"^a\d+_|_tests?$", "", e["id"])
        if e["points"] is None:
            lines.append(f"  {name:<34}  -- /{e['max']:g}  graded by hand (your instructor)")
            continue
        mark = "ok" if not e["message"] else "  "
        lines.append(f"  {name:<34} {e['points']:>3g}/{e['max']:<3g} {mark}")
        if e["message"]:
            for text in e["message"].splitlines()[:6]:
                lines.append(f"      {text}")
    got, most = sum(e["points"] for e in auto), sum(e["max"] for e in auto)
    lines.append(f"  total (autograded): {got:g} / {most:g}")
    if result["feedback"]:
        lines.append(f"  feedback page: {result['feedback']}")
    return lines


def record(result, root=steps.REPO, now=None):
    """Append one check to the learner's history (course.progress reads it)."""
    path = progress.progress_folder(root) / progress.CHECKS_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"time": (now or datetime.datetime.now()).isoformat(timespec="seconds"),
             "assignment": result["assignment"],
             "points": {e["id"]: e["points"] for e in result["exercises"]
                        if e["points"] is not None},
             "max": {e["id"]: e["max"] for e in result["exercises"] if e["points"] is not None}}
    with open(path, "a") as f:
        f.write(json.dumps(entry) + "\n")


def progress_lines(root=steps.REPO):
    """The progress table: per assignment the latest points, open exercises, checks, hints."""
    return progress.progress_table(progress.progress_folder(root), steps.assignments(root))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Grade your own notebooks with the hidden tests.")
    parser.add_argument("assignments", nargs="*", help="e.g. 03 (default: every notebook you "
                        "have answered an exercise in)")
    parser.add_argument("--progress", action="store_true", help="print your history and stop")
    args = parser.parse_args(argv)
    if args.progress:
        print("\n".join(progress_lines()))
        return 0
    try:
        names = [resolve(n) for n in args.assignments]
    except CheckError as err:
        print(err, file=sys.stderr)
        return 2
    if not names:
        names = [n for n in steps.assignments()
                 if answered(steps.REPO / "release" / n / f"{n}.ipynb")]
        if not names:
            print("No exercise answered yet in release/. Check one notebook with: "
                  "./course.sh check 01")
            return 0
    status = 0
    for name in names:
        print(f"Checking {name} (a copy; your notebook is not changed) ...", flush=True)
        try:
            result = grade_own(name)
        except CheckError as err:
            print(err, file=sys.stderr)
            status = 1
            continue
        print("\n".join(report(result)))
        record(result)
    return status


if __name__ == "__main__":
    sys.exit(main())
