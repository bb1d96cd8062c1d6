"""The grading loop as small steps, each one nbgrader command run in a course directory.

A course directory holds nbgrader_config.py, source/<assignment>/, and after the steps
release/, submitted/<student>/<assignment>/, autograded/, feedback/ and gradebook.db.
"""
import atexit
import os
import pathlib
import threading
import shutil
import subprocess
import sys

from autograder import forkserver

REPO = pathlib.Path(__file__).resolve().parent.parent


class StepFailed(RuntimeError):
    """An nbgrader command exited with an error; the message holds its output."""


def assignments(root=REPO):
    """Assignment ids in course order, e.g. ['01-convolution-basics']."""
    return sorted(p.name for p in (pathlib.Path(root) / "source").iterdir()
                  if p.is_dir() and any(p.glob("*.ipynb")))


def make_course(dest, names=None, root=REPO):
    """Create a course directory at `dest` with the config and the source notebooks.

    Returns the course directory path.
    """
    dest = pathlib.Path(dest)
    (dest / "source").mkdir(parents=True, exist_ok=True)
    shutil.copy(root / "nbgrader_config.py", dest / "nbgrader_config.py")
    for name in names or assignments(root):
        target = dest / "source" / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(root / "source" / name, target,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return dest


MAX_IDLE_SERVERS = 4
_idle_servers = []                  # [(course folder, warm forkserver.Server)], oldest first
_idle_lock = threading.Lock()


def _use_forkserver():
    return hasattr(os, "fork") and os.environ.get("COURSE_FORKSERVER", "1") != "0"


def _close_servers():
    with _idle_lock:
        servers = [server for _, server in _idle_servers]
        _idle_servers.clear()
    for server in servers:
        server.close()


atexit.register(_close_servers)


def _take_server(folder, env):
    """An idle server started in `folder`, or a new one. A server imports what `python -m
    nbgrader` started in that folder would import (a course checkout's own packages first),
    so it is kept per folder."""
    with _idle_lock:
        for k, (key, server) in enumerate(_idle_servers):
            if key == folder:
                del _idle_servers[k]
                return server
    return forkserver.Server(env=env, cwd=folder)


def _give_back(folder, server):
    with _idle_lock:
        _idle_servers.append((folder, server))
        extra = _idle_servers[:-MAX_IDLE_SERVERS] if len(_idle_servers) > MAX_IDLE_SERVERS else []
        del _idle_servers[:len(extra)]
    for _, old in extra:
        old.close()


def _run_in_server(course_dir, args, env, timeout):
    """(exit code, output) of `nbgrader ARGS` in a warm server: one per concurrent caller,
    kept for the next command in the same folder."""
    server = _take_server(course_dir, env)
    try:
        code, output = server.run(args, course_dir, env, timeout)
    except forkserver.ServerDied:
        server.close()
        raise
    _give_back(course_dir, server)
    return code, output


def nbgrader_env():
    """This process's environment, with this Python's programs first on PATH (nbgrader runs
    helper programs such as alembic by name)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    return env


def run_nbgrader(course_dir, *args, timeout=1800):
    """Run `nbgrader ARGS` in `course_dir`; return its combined output, raise StepFailed."""
    env = nbgrader_env()
    if _use_forkserver():
        try:
            code, output = _run_in_server(pathlib.Path(course_dir).resolve(), args, env, timeout)
        except forkserver.ServerDied:
            code = None
    if not _use_forkserver() or code is None:
        done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir,
                              env=env, capture_output=True, text=True, timeout=timeout)
        code, output = done.returncode, done.stdout + done.stderr
    if code != 0:
        raise StepFailed(f"nbgrader {' '.join(args)} failed (exit {code}):\n{output}")
    return output


def generate_assignment(course_dir, name):
    """source/<name> -> release/<name> (solutions and hidden tests removed)."""
    return run_nbgrader(course_dir, "generate_assignment", name, "--force")


def submit(course_dir, student, name, notebook, filename=None):
    """Place a student's notebook where `nbgrader autograde` looks for it.

    filename: the name it is saved under (default: the notebook's own file name)
    """
    folder = pathlib.Path(course_dir) / "submitted" / student / name
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (filename or pathlib.Path(notebook).name)
    shutil.copy(notebook, target)
    return target


def autograde(course_dir, name):
    """Run every submission of `name`; students missing from the gradebook are added."""
    return run_nbgrader(course_dir, "autograde", name, "--create", "--force")


def generate_feedback(course_dir, name):
    """autograded/ -> feedback/<student>/<name>/*.html"""
    return run_nbgrader(course_dir, "generate_feedback", name, "--force")


def export_grades(course_dir, csv_path):
    """Write the gradebook's scores to a CSV file."""
    return run_nbgrader(course_dir, "export", "--to", str(csv_path))
