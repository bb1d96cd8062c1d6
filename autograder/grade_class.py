"""Grade every submission of one assignment: safely, in parallel, with progress.

    python -m autograder.grade_class 01-convolution-basics --workers 2

For each student in submitted/<student>/<assignment>/:
1. The submission as handed in is kept in originals/<student>/<assignment>/ (never changed).
2. The notebook is made gradeable (`autograder.repair`): renamed, duplicated, mangled or
   unreadable notebooks are graded on what can still be graded, and each fix is written as a
   plain sentence at the top of the graded notebook.
3. The student's own code is read for tampering (`autograder.tamper`); such a submission
   is graded but held: its score is set to 0 in the gradebook until the instructor reviews it
   (then `--trust STUDENT` grades it normally).
4. `nbgrader autograde --student` runs it (sandboxed, limited: nbgrader_config.py), several
   students at once; a student whose run fails is retried, then reported, and the run goes on.
5. Right after, in the same worker: the score is settled (held, or not scored when the
   grading set-up broke) and the student's feedback page is made.
Then a report is written to reports/<assignment>.csv.
"""
import argparse
import contextlib
import csv
import hashlib
import json
import os
import pathlib
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from autograder import nbgrader_steps as steps, profile
from autograder.export import final_score, manual_grades_left
from autograder.gradebook import require_assignment
from autograder.late import late_files
from autograder.preflight import GradingSetupError, check_grading_works, setup_errors
from autograder.repair import add_notes_cell, pick_notebook, read_notebook, repair_cells
from autograder.tamper import scan_sources, student_sources

LOCKED_DB = "database is locked"
STAMP = ".prepared.json"


@dataclass
class Result:
    """What happened to one student's submission."""
    student: str
    status: str = "graded"          # graded | held | failed
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    late: bool = False
    manual_left: int = 0           # answers still to be graded by hand
    notes: list = field(default_factory=list)
    findings: list = field(default_factory=list)


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _originals(course, assignment, student):
    """The untouched submission folder, refreshed when a new one was collected since."""
    submitted = course / "submitted" / student / assignment
    kept = course / "originals" / student / assignment
    stamp = kept / STAMP
    written = json.loads(stamp.read_text()) if stamp.exists() else None
    current = {p.name: _sha(p) for p in submitted.glob("*.ipynb")}
    if written is None or written != current:
        if kept.exists():
            shutil.rmtree(kept)
        shutil.copytree(submitted, kept)
    return submitted, kept


def prepare(course, assignment, student, trusted=False):
    """Make submitted/<student>/<assignment>/ gradeable; return a Result with notes."""
    result = Result(student)
    submitted, kept = _originals(course, assignment, student)
    templates = sorted((course / "release" / assignment).glob("*.ipynb"))
    if not templates:
        raise SystemExit(f"release/{assignment}/ has no notebooks: run "
                         f"`nbgrader generate_assignment {assignment}` first.")
    for stale in submitted.glob("*.ipynb"):
        stale.unlink()
    written = {}
    for template_path in templates:
        template = nbformat.read(template_path, as_version=4)
        chosen, notes = pick_notebook(kept, template_path.name)
        nb = None
        if chosen is not None:
            nb, read_notes = read_notebook(chosen)
            notes += read_notes
        if nb is None:
            notes.append("It was graded as the blank assignment (0 points).")
            nb = template
        else:
            notes += repair_cells(nb, template)
            findings = scan_sources(student_sources(nb, template))
            result.findings += findings
            notes += _finding_notes(findings, trusted)
        add_notes_cell(nb, notes)
        result.notes += notes
        target = submitted / template_path.name
        nbformat.write(nb, target)
        written[target.name] = _sha(target)
    (kept / STAMP).write_text(json.dumps(written))
    if any(kind == "tamper" for kind, *_ in result.findings) and not trusted:
        result.status = "held"
    return result


def _prepare_or_blank(course, assignment, student, trusted):
    """`prepare`, or, if the submission breaks it, the blank assignment with a note."""
    try:
        return prepare(course, assignment, student, trusted)
    except SystemExit:
        raise
    except Exception as err:
        note = (f"The grader could not read this submission ({type(err).__name__}: {err}); "
                "it was graded as the blank assignment. Your instructor has your original file.")
        for template_path in sorted((course / "release" / assignment).glob("*.ipynb")):
            nb = nbformat.read(template_path, as_version=4)
            add_notes_cell(nb, [note])
            nbformat.write(nb, course / "submitted" / student / assignment / template_path.name)
        return Result(student, notes=[note])


def _finding_notes(findings, trusted):
    tamper = [f"{label}, line {line}: {what}" for kind, label, line, what in findings
              if kind == "tamper"]
    unsafe = [f"{label}, line {line}: {what}" for kind, label, line, what in findings
              if kind == "unsafe"]
    notes = []
    if tamper and not trusted:
        notes.append("Your code changes things the tests rely on, so your score is held "
                     "(0 for now) until your instructor has looked at it: " + "; ".join(tamper))
    if unsafe:
        notes.append("Your code does things a graded notebook must not do (they were blocked "
                     "or cost only the cell they are in): " + "; ".join(unsafe))
    return notes


def autograde_one(course, assignment, student, nbgrader_args=(), retries=4, timeout=3600):
    """Run `nbgrader autograde` for one student; (ok, output)."""
    args = ["autograde", assignment, "--student", student, "--create", "--force",
            *nbgrader_args]
    output = ""
    for attempt in range(retries + 1):
        try:
            return True, steps.run_nbgrader(course, *args, timeout=timeout)
        except steps.StepFailed as err:
            output = str(err)
            if LOCKED_DB not in output:
                break
            time.sleep(0.5 * (attempt + 1))
        except Exception as err:  # a timeout of the whole run, or the process could not start
            output = f"{type(err).__name__}: {err}"
            break
    return False, output


def hold(db_url, assignment, student, held=True):
    """Override every autograded score of the submission with 0 (held=False removes that).

    Free-response grades (no autograded score) are the instructor's and are left alone.
    """
    with Gradebook(db_url) as gb:
        for notebook in gb.find_submission(assignment, student).notebooks:
            for grade in notebook.grades:
                if grade.auto_score is not None:
                    grade.manual_score = 0 if held else None
        gb.db.commit()


def _hold_or_release(course, db_url, assignment, student, held):
    """Hold a submission, or release one this tool held before (a marker file says which).

    Scores an instructor changed by hand in submissions never held are left alone.
    """
    marker = course / "originals" / student / assignment / ".held"
    if held:
        hold(db_url, assignment, student)
        marker.touch()
    elif marker.exists():
        hold(db_url, assignment, student, held=False)
        marker.unlink()


def read_score(db_url, assignment, student):
    """(score after any late penalty, max score, answers left to grade by hand, penalty)."""
    with Gradebook(db_url) as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            return 0.0, gb.find_assignment(assignment).max_score, 0, 0.0
        score, penalty = final_score(submission)
        return score, float(submission.max_score), manual_grades_left(submission), penalty


def _unscored_for_setup(course, db_url, assignment, student):
    """If the set-up broke this student's grading, remove its scores; the errors, or []."""
    folder = course / "autograded" / student / assignment
    found = [f"cell {number}: {text}"
             for source in sorted((course / "source" / assignment).glob("*.ipynb"))
             if (folder / source.name).exists()
             for number, text in setup_errors(folder / source.name, source)]
    if found:
        with Gradebook(db_url) as gb:
            gb.remove_submission(assignment, student)
    return found


def _settle(course, db_url, assignment, result, ok, output, seconds):
    """After a student's autograde: the status (failed, held or graded), the hold in the
    gradebook, and the score read back, written into `result`."""
    student = result.student
    result.seconds = seconds
    if not ok:
        result.status = "failed"
        result.notes.append("Grading failed: " + output.strip().splitlines()[-1][:300])
    elif broken := _unscored_for_setup(course, db_url, assignment, student):
        result.status = "failed"
        result.notes.append("Not scored: the grading set-up broke, not the student's "
                            "code (" + "; ".join(broken)[:300] + ")")
    else:
        try:
            _hold_or_release(course, db_url, assignment, student, held=result.status == "held")
        except MissingEntry:
            result.status = "failed"
            result.notes.append("Grading failed: nbgrader recorded no submission.")
    result.score, result.max_score, result.manual_left, penalty = read_score(
        db_url, assignment, student)
    result.late = result.late or penalty > 0   # late by its time, too


def feedback_one(course, assignment, nbgrader_args, student):
    """The feedback page of one graded student ("" when made, else what went wrong)."""
    try:
        steps.run_nbgrader(course, "generate_feedback", assignment, "--student", student,
                           "--force", *nbgrader_args)
    except steps.StepFailed as err:
        return f"Feedback could not be generated: {str(err).strip().splitlines()[-1][:300]}"
    return ""


def grade_class(course, assignment, workers=1, students=None, trust=(), nbgrader_args=(),
                db_url=None, progress=print, check=True, scheduler=None):
    """Grade `assignment` for `students` (default: everyone who submitted); [Result].

    First the gradebook must know the assignment, and (check=True) the solution must get
    full marks here (`autograder.preflight`); otherwise it stops, grading no one.
    scheduler: None grades here with `workers` threads; a Dask scheduler's address
    (tcp://HOST:PORT) or a distributed.Client sends one task per student to that cluster
    (`autograder.cluster`; db_url must then be a gradebook every worker reaches).
    """
    course = pathlib.Path(course).resolve()
    db_url = db_url or f"sqlite:///{course / 'gradebook.db'}"
    if scheduler is not None and db_url.startswith("sqlite"):
        raise SystemExit("grading on a Dask cluster needs a gradebook every worker can reach: "
                         "--db postgresql://USER@HOST/DATABASE (see README, Throughput and "
                         "scaling).")
    require_assignment(assignment, db_url)
    if check:
        check_grading_works(course, assignment, nbgrader_args, progress=progress)
    if students is None:
        students = sorted(p.parent.name for p in (course / "submitted").glob(f"*/{assignment}")
                          if p.is_dir())
    if workers > 1:  # one BLAS/torch thread per kernel: workers share the cores
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, "1")
    address = getattr(getattr(scheduler, "scheduler", None), "address", scheduler)  # a Client's
    where = f"{workers} worker(s)" if scheduler is None else f"the Dask cluster at {address}"
    progress(f"Grading {assignment}: {len(students)} students, {where}")
    began = time.monotonic()
    results = {s: _prepare_or_blank(course, assignment, s, trusted=s in trust)
               for s in students}
    profile.write({"step": "prepare", "students": len(students), "seconds": time.monotonic() - began})
    for student, result in results.items():
        marked = late_files(course, assignment, student)
        if marked:
            result.late = True
            result.notes.append(f"Late: the LMS marked {marked[0]} late, so the late penalty "
                                "applies.")
    start = time.monotonic()

    def run(student):
        """One student, start to end, in a worker thread: autograde, settle, feedback."""
        began = time.monotonic()
        ok, output = autograde_one(course, assignment, student, nbgrader_args)
        seconds = time.monotonic() - began
        profile.write({"step": "autograde", "student": student, "seconds": seconds})
        _settle(course, db_url, assignment, results[student], ok, output, seconds)
        if results[student].status != "failed":
            began = time.monotonic()
            problem = feedback_one(course, assignment, nbgrader_args, student)
            if problem:
                results[student].notes.append(problem)
            profile.write({"step": "feedback", "students": 1, "seconds": time.monotonic() - began})
        return student, ok, output, seconds

    with contextlib.ExitStack() as stack:
        if scheduler is None:
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=workers))
            futures = [pool.submit(run, s) for s in students]
            finished = (future.result() for future in as_completed(futures))
        else:
            from autograder import cluster
            client = cluster.connect(scheduler) if isinstance(scheduler, str) else scheduler
            if isinstance(scheduler, str):
                stack.enter_context(client)
            finished = cluster.grade_on_cluster(client, course, assignment, students, db_url,
                                                nbgrader_args)
        for done, (student, ok, output, seconds) in enumerate(finished, 1):
            result = results[student]
            if scheduler is not None:   # on a cluster the task made the feedback already,
                _settle(course, db_url, assignment, result, ok, output, seconds)
                if result.status == "held":     # before the hold: made again, with it
                    problem = feedback_one(course, assignment, nbgrader_args, student)
                    if problem:
                        result.notes.append(problem)
            progress(f"[{done:>3}/{len(students)}] {student:<20} {result.status:<7} "
                     f"{result.score:5.1f}/{result.max_score:<5.1f} {seconds:6.1f} s   "
                     f"elapsed {time.monotonic() - start:6.1f} s, {len(students) - done} left")
    write_report(course / "reports" / f"{assignment}.csv", results.values())
    return [results[s] for s in students]


def write_report(path, results):
    """One row per student: status, score, seconds, notes, findings (other rows are kept)."""
    header = ["student", "status", "score", "max_score", "late", "needs_manual_grade",
              "seconds", "notes", "findings"]
    rows = {}
    if path.exists():
        with open(path, newline="") as f:
            rows = {row["student"]: row for row in csv.DictReader(f)}
    for r in results:
        rows[r.student] = dict(zip(header, [
            r.student, r.status, r.score, r.max_score, "yes" if r.late else "no",
            r.manual_left, f"{r.seconds:.1f}", " | ".join(r.notes),
            " | ".join(f"{k}: {label} line {line}: {what}" for k, label, line, what in r.findings)]))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, header)
        writer.writeheader()
        writer.writerows(rows[s] for s in sorted(rows))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("assignment")
    parser.add_argument("--course", default=".", help="course directory (default: here)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--student", action="append", help="grade only these (repeatable)")
    parser.add_argument("--trust", action="append", default=[],
                        help="grade a held student normally after review (repeatable)")
    parser.add_argument("--db", help="gradebook URL (default: sqlite gradebook.db; a cluster "
                                     "needs postgresql://USER@HOST/DATABASE)")
    parser.add_argument("--scheduler", help="grade on the Dask cluster of this scheduler "
                                            "(tcp://HOST:8786) instead of here")
    parser.add_argument("--cell-timeout", type=int, help="seconds per cell (config: 120)")
    parser.add_argument("--notebook-timeout", type=int, help="seconds per notebook (900)")
    args = parser.parse_args(argv)
    extra = []
    if args.cell_timeout:
        extra.append(f"--Execute.timeout={args.cell_timeout}")
    if args.notebook_timeout:
        extra.append(f"--ResilientExecute.notebook_timeout={args.notebook_timeout}")
    if args.db:
        extra.append(f"--CourseDirectory.db_url={args.db}")
    try:
        results = grade_class(args.course, args.assignment, workers=args.workers,
                              students=args.student, trust=set(args.trust),
                              nbgrader_args=extra, db_url=args.db, scheduler=args.scheduler)
    except GradingSetupError as err:
        print(err, file=sys.stderr)
        return 2
    counts = {s: sum(r.status == s for r in results) for s in ("graded", "held", "failed")}
    print(f"Done: {counts['graded']} graded, {counts['held']} held for review, "
          f"{counts['failed']} failed; report: reports/{args.assignment}.csv")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
