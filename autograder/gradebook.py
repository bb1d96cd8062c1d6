"""Prepare the gradebook: every assignment, its notebooks and graded cells.

    python -m autograder.gradebook                         (every assignment in source/)
    python -m autograder.gradebook 01-convolution-basics   (some)

`nbgrader generate_assignment` is what records an assignment in the gradebook, but it
skips an assignment whose release/ folder exists, and release/ is committed. This runs it
into a throw-away folder instead, so the gradebook is filled and release/ is not touched.
Run it once before grading, and again after editing source/. It says when release/ no
longer matches source/ (students would get an old notebook).
"""
import argparse
import filecmp
import pathlib
import sys
import tempfile

from nbgrader.api import Gradebook, MissingEntry

from autograder import nbgrader_steps as steps
from autograder.preflight import SCRATCH

FIX = "python -m autograder.gradebook"


def default_db_url(course):
    return f"sqlite:///{pathlib.Path(course).resolve() / 'gradebook.db'}"


def missing_assignment_message(assignment, db_url):
    return (f"The gradebook ({db_url}) has no assignment '{assignment}'. Prepare it once "
            f"with:\n    {FIX}\n(after editing source/, run it again), then grade again.")


def require_assignment(assignment, db_url):
    """Raise SystemExit with the command to run when the gradebook lacks `assignment`."""
    with Gradebook(db_url) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise SystemExit(missing_assignment_message(assignment, db_url)) from None


def _stale(generated, committed):
    """Notebook names that differ between two release folders of one assignment."""
    names = {p.name for p in generated.glob("*.ipynb")} | {p.name for p in committed.glob("*.ipynb")}
    return sorted(n for n in names if not (generated / n).exists() or not (committed / n).exists()
                  or not filecmp.cmp(generated / n, committed / n, shallow=False))


def prepare_gradebook(course=".", names=None, nbgrader_args=(), progress=print):
    """Record `names` (default: every assignment in source/) in the course's gradebook.

    Returns {assignment: [release notebooks that are stale]}.
    """
    course = pathlib.Path(course).resolve()
    known = steps.assignments(course)
    names = list(names or known)
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise SystemExit(f"unknown assignment(s): {', '.join(unknown)}; source/ has: "
                         f"{', '.join(known)}")
    stale = {}
    (course / SCRATCH).mkdir(exist_ok=True)
    every_folder = sorted(p.name for p in (course / "source").iterdir() if p.is_dir())
    # one nbgrader run for all (its start is most of the time) when that names no extra folder
    batches = [["*"]] if sorted(names) == every_folder else [[name] for name in names]
    with tempfile.TemporaryDirectory(prefix="release-", dir=course / SCRATCH) as scratch:
        for batch in batches:
            steps.run_nbgrader(course, "generate_assignment", *batch, "--force",
                               f"--CourseDirectory.release_directory={scratch}",
                               *nbgrader_args)
        for name in names:
            stale[name] = _stale(pathlib.Path(scratch) / name, course / "release" / name)
            note = (f"; release/{name} is out of date: run ./course.sh release and hand "
                    "out the new notebooks" if stale[name] else "")
            progress(f"{name}: in the gradebook{note}")
    return stale


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("assignment", nargs="*", help="default: every assignment")
    parser.add_argument("--course", default=".", help="course directory (default: here)")
    parser.add_argument("--db", help="gradebook URL (default: sqlite gradebook.db)")
    args = parser.parse_args(argv)
    extra = [f"--CourseDirectory.db_url={args.db}"] if args.db else []
    try:
        prepare_gradebook(args.course, args.assignment, extra)
    except steps.StepFailed as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
