"""The grading loop as small steps, each one nbgrader command run in a course directory.

A course directory holds nbgrader_config.py, source/<assignment>/, and after the steps
release/, submitted/<student>/<assignment>/, autograded/, feedback/ and gradebook.db.
"""
import os
import pathlib
import shutil
import subprocess
import sys

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


def run_nbgrader(course_dir, *args, timeout=1800):
    """Run `nbgrader ARGS` in `course_dir`; return its combined output, raise StepFailed."""
    env = dict(os.environ)
    # nbgrader runs helper programs (alembic) by name: find them beside this Python.
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, env=env,
                          capture_output=True, text=True, timeout=timeout)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise StepFailed(f"nbgrader {' '.join(args)} failed (exit {done.returncode}):\n{output}")
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
