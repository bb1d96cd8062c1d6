"""Grading on a Dask cluster: one task per student, grades in one PostgreSQL gradebook.

    python -m autograder.grade_class A --scheduler tcp://HOST:8786 --db postgresql://...

The instructor's machine (the client) prepares every submission as local grading does (kept
original, repair, tamper scan) and sends one task per student to the cluster: the files of the
prepared submission. A Dask worker grades it with `grade_submission` in a course folder of its
own, made from the worker's course checkout (config, source, release), with the same sandbox
and limits as local grading; nbgrader writes the grades into the shared gradebook (`--db`).
The task returns the graded notebooks and the feedback pages, which the client writes into
autograded/ and feedback/ as local grading would. A task whose worker dies is run again on
another worker by Dask; nbgrader's `autograde --force` replaces that student's earlier grades,
so no grade is written twice.

Each worker machine needs the course checkout (the same commit), its environment and
bubblewrap. Start one worker process per core, each with one thread: a grading task runs
student code in its own kernel process, which Dask's memory limit does not see.
"""
import os
import pathlib
import shutil
import socket
import tempfile
import threading
import time

from autograder import nbgrader_steps as steps
from autograder.late import late_paths

_folders = {}                       # assignment -> this process's course folder for it
_folders_lock = threading.Lock()


def worker_course(assignment, root=steps.REPO):
    """This worker process's course folder for `assignment` (made on first use, reused for
    later students: nbgrader's warm server stays with it). It has the checkout's config,
    source and release of the assignment, and no gradebook of its own."""
    with _folders_lock:
        folder = _folders.get(assignment)
        if folder is None or not folder.exists():
            folder = pathlib.Path(tempfile.mkdtemp(prefix=f"grading-{assignment}-"))
            steps.make_course(folder, [assignment], root=root)
            release = pathlib.Path(root) / "release" / assignment
            shutil.copytree(release, folder / "release" / assignment,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
            _folders[assignment] = folder
        return folder


def _read_folder(folder):
    """{relative path: bytes} of every file under `folder` (none when it does not exist)."""
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _clear(course, assignment, student):
    for kind in ("submitted", "autograded", "feedback"):
        shutil.rmtree(course / kind / student, ignore_errors=True)
    shutil.rmtree(course / "downloaded", ignore_errors=True)


def _write_flat(folder, files):
    """Write {file name: bytes} into `folder`; a name that holds a folder is refused."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if pathlib.Path(name).name != name or name in (".", ".."):
            raise ValueError(f"a submitted file name must not hold a folder: {name!r}")
        (folder / name).write_bytes(content)


def grade_submission(assignment, student, files, db_url, nbgrader_args=(), late=None):
    """On a worker: grade one prepared submission ({file name: bytes}, its notebooks and
    nbgrader's timestamp.txt) into the gradebook at `db_url`, then make its feedback. late:
    {file name: bytes} of the files the LMS marked late (autograder.late), or None. Returns
    {'ok', 'output', 'autograded', 'feedback', 'seconds', 'worker'}: the graded and feedback
    folders as {relative path: bytes}. Nothing of one student stays for the next."""
    began = time.monotonic()
    course = worker_course(assignment)
    args = [a for a in nbgrader_args if not a.startswith("--CourseDirectory.db_url=")]
    args.append(f"--CourseDirectory.db_url={db_url}")
    _clear(course, assignment, student)
    try:
        _write_flat(course / "submitted" / student / assignment, files)
        if late:
            _write_flat(course / "downloaded" / assignment / "extracted", late)
        from autograder.grade_class import autograde_one, feedback_one
        ok, output = autograde_one(course, assignment, student, args)
        if ok:
            problem = feedback_one(course, assignment, args, student)
            output += f"\n{problem}" if problem else ""
        return {"ok": ok, "output": output,
                "autograded": _read_folder(course / "autograded" / student / assignment),
                "feedback": _read_folder(course / "feedback" / student / assignment),
                "seconds": time.monotonic() - began,
                "worker": f"{socket.gethostname()}:{os.getpid()}"}
    finally:
        _clear(course, assignment, student)


def _write_folder(folder, files):
    folder = pathlib.Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    for relative, content in files.items():
        target = (folder / relative).resolve()
        if folder.resolve() not in target.parents:
            raise ValueError(f"a graded file would land outside {folder}: {relative!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def connect(scheduler):
    """A Dask client of the scheduler at `scheduler` (tcp://HOST:PORT), or SystemExit saying
    what is missing."""
    try:
        from distributed import Client
    except ImportError:
        raise SystemExit("--scheduler needs Dask's distributed package: "
                         ".venv/bin/pip install -r requirements-cluster.txt") from None
    try:
        return Client(scheduler, timeout=30)
    except OSError as err:
        raise SystemExit(f"could not reach the Dask scheduler at {scheduler} ({err}). Start "
                         f"one with `dask scheduler` and workers with `dask worker {scheduler}` "
                         "(see README, Throughput and scaling).") from None


def task_key(assignment, student):
    """The Dask key of one student's grading task (unique per run: a re-run is a new task)."""
    return f"grade:{assignment}:{student}:{time.time_ns()}"


def task_student(key):
    """The student of a task_key."""
    return str(key).split(":")[2]


def grade_on_cluster(client, course, assignment, students, db_url, nbgrader_args=()):
    """Send one task per student; yield (student, ok, output, seconds) as tasks finish, after
    writing their graded notebooks and feedback into the course folder."""
    from distributed import as_completed

    course = pathlib.Path(course)
    futures = {}
    for student in students:
        files = {p.name: p.read_bytes()
                 for p in sorted((course / "submitted" / student / assignment).iterdir())
                 if p.is_file()}
        late = {p.name: p.read_bytes() for p in late_paths(course, assignment, student)}
        future = client.submit(grade_submission, assignment, student, files, db_url,
                               tuple(nbgrader_args), late or None, pure=False,
                               key=task_key(assignment, student))
        futures[future] = student
    for future in as_completed(futures):
        student = futures[future]
        try:
            done = future.result()
        except Exception as err:  # the task failed on every worker it was tried on
            yield student, False, f"{type(err).__name__}: {err}", 0.0
            continue
        _write_folder(course / "autograded" / student / assignment, done["autograded"])
        _write_folder(course / "feedback" / student / assignment, done["feedback"])
        yield student, done["ok"], done["output"], done["seconds"]
