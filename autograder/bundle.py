"""The student bundle: one zip to hand out to a class, with nothing of the grader in it.

    ./course.sh bundle                       (writes instructor/cnn-course-student-<version>.zip)
    ./course.sh bundle --out DIR             (or: python -m autograder.bundle --out DIR)
    ./course.sh bundle 01 02                 (only those notebooks: ..._01_02.zip)

The zip holds one folder, cnn-course-student-<version>/, with
- notebooks/<assignment>/: the files of release/<assignment>/ (the student notebooks);
- cnn_course-<version>-py3-none-any.whl: the `course` package alone, built offline from a
  copy of course/ (no autograder/, source/, reference outputs or inputs). The same wheel is
  what a JupyterHub image installs;
- requirements.txt: the pinned packages the notebooks are tested with;
- README.md: how to set up and open the notebooks, run the public tests and hand in;
- jupyter-config/: the students' Jupyter configuration (setup/student-lab/: nbgrader's
  instructor tools switched off).

Before it writes anything it checks that release/ matches source/ (it regenerates the
student notebooks in a scratch folder and compares; about 30 s), and it refuses to write a
bundle in which any file holds solution or hidden-test text of source/, mentions the
grader in a notebook's code, or comes from autograder/ or source/.
"""
import argparse
import filecmp
import hashlib
import io
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile

import nbformat

from autograder.nbgrader_steps import REPO, assignments

DEFAULT_OUT = REPO / "instructor"
SOLUTION = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
MIN_SECRET_CHARS = 12   # shorter lines ("return dx", "break") say nothing about an answer
MIN_INSTRUCTOR_BYTES = 100
MIN_NOTED_LINES = 3     # fewer repeated lines are common statements ("N, C, H, W = x.shape")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", ".*")

STUDENT_PYPROJECT = """\
# The student distribution, written by autograder/bundle.py: the `course` package alone.
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = {name}
version = {version}
description = "The helpers the notebooks of the CNN course import (checks, data, plots, widgets, hints)."
requires-python = {requires_python}

[tool.setuptools.packages.find]
include = ["course", "course.*"]

[tool.setuptools.package-data]
"*" = ["*"]
"""

STUDENT_LAB = "setup/student-lab"   # the students' Jupyter configuration (its README says why)

STUDENT_README = """\
# Convolutional neural networks, from a NumPy loop to PyTorch

This folder holds the course's notebooks (`notebooks/`), the helpers they import (the
`course` package, in `{wheel}`) and the versions of the packages they are tested with
(`requirements.txt`). You need Python 3.11. Run the commands below in this folder
(`cd {folder}` after unzipping).

## Set up, once (downloads the packages: a few minutes)

```bash
python3.11 -m venv .venv && .venv/bin/pip install torch=={torch} && .venv/bin/pip install -r requirements.txt {wheel}
```

## Open the notebooks (no network needed from now on)

```bash
JUPYTER_CONFIG_PATH=jupyter-config .venv/bin/jupyter lab notebooks
```

(`jupyter-config/` keeps the graders' tools out of your JupyterLab: the Validate button and
the assignment list stay.) On Windows: `py -3.11 -m venv .venv`, then `.venv\\Scripts\\pip`,
and `set JUPYTER_CONFIG_PATH=jupyter-config` before `.venv\\Scripts\\jupyter lab notebooks`.
With no internet at all, ask your instructor for a folder of wheels and add
`--no-index --find-links FOLDER` to both `pip install` commands.

Work through them in order:
{notebooks}.

## Public tests

Each exercise is followed by a test cell. Run it (Shift+Enter) after your code: it says
`all public tests passed`, or what was expected, what your code returned, and a hint.
`hint("a2_conv_forward_naive")` gives the next hint for an exercise (`exercises("02")` lists
a notebook's ids). To run every cell of a notebook, tests included, from the top:

```bash
.venv/bin/nbgrader validate notebooks/{first}/{first}.ipynb
```

(or the Validate button above the notebook). Hidden tests on other cases run only when your
instructor grades; they are not in this folder.

## Hand in

Save the notebook, then hand in the `.ipynb` file itself, with its name unchanged (e.g.
`{first}.ipynb`), where your instructor asks: the assignment's page of your course site, or,
on JupyterHub, the Assignments tab. Keep the test cells: the cells you cannot edit are put
back from the original before grading.
"""


class BundleError(RuntimeError):
    """The bundle cannot be written; the message says why and what to do."""


def version(root=REPO):
    """(name, version, requires-python) of the course distribution in pyproject.toml."""
    project = tomllib.loads((pathlib.Path(root) / "pyproject.toml").read_text())["project"]
    return project["name"], project["version"], project.get("requires-python", ">=3.11")


def resolve(wanted, root=REPO):
    """The assignments named by `wanted` ("03", "3" or "03-convolution-backward"), in course
    order; every assignment when `wanted` is empty."""
    known = assignments(root)
    if not wanted:
        return known
    chosen = set()
    for name in wanted:
        prefix = name.zfill(2) if name.isdigit() else name
        found = [n for n in known if n == name or n.startswith(prefix + "-")]
        if len(found) != 1:
            raise BundleError(f"there is no assignment '{name}'; source/ has: "
                              + ", ".join(n.split("-")[0] for n in known)
                              + " (e.g. ./course.sh bundle 01 02)")
        chosen.add(found[0])
    return [n for n in known if n in chosen]


def release_files(names, root=REPO):
    """{assignment: [files of release/<assignment>/, relative to it]} for `names`."""
    root = pathlib.Path(root)
    missing = [n for n in names if not any((root / "release" / n).glob("*.ipynb"))]
    if missing:
        raise BundleError(f"release/ has no notebook for {', '.join(missing)}: make the student "
                          "versions with ./course.sh release")
    files = {}
    for name in names:
        folder = root / "release" / name
        files[name] = sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file()
                             and not any(part.startswith(".") or part == "__pycache__"
                                         for part in p.relative_to(folder).parts))
    return files


def stale_release(names, root=REPO):
    """Release notebooks of `names` that differ from what source/ generates now."""
    from autograder.release import build_release  # nbgrader: only when this check runs

    root = pathlib.Path(root)
    with tempfile.TemporaryDirectory(prefix="bundle-release-") as tmp:
        built = build_release(tmp, names, root=root)
        stale = []
        for name in names:
            fresh, committed = built / name, root / "release" / name
            notebooks = {p.name for folder in (fresh, committed) for p in folder.glob("*.ipynb")}
            stale += [f"{name}/{n}" for n in sorted(notebooks)
                      if not (fresh / n).exists() or not (committed / n).exists()
                      or not filecmp.cmp(fresh / n, committed / n, shallow=False)]
    return stale


def split_regions(text):
    """(solution lines, hidden-test lines, other lines) of a cell's source, stripped; the
    marker lines are in none of them."""
    regions = {SOLUTION[0]: "solution", HIDDEN[0]: "hidden"}
    ends = {SOLUTION[1], HIDDEN[1]}
    found = {"solution": [], "hidden": [], "public": []}
    inside = "public"
    for line in text.splitlines():
        stripped = line.strip()
        if stripped in regions:
            inside = regions[stripped]
        elif stripped in ends:
            inside = "public"
        else:
            found[inside].append(stripped)
    return found["solution"], found["hidden"], found["public"]


def secret_lines(root=REPO):
    """The lines of source/ that only solutions and hidden tests hold: each stripped line of
    12 characters or more inside BEGIN/END SOLUTION or HIDDEN TESTS that appears nowhere else
    in its notebook (not even inside a longer line).

    Returns {line: [(assignment, "solution" or "hidden test"), ...]}.
    """
    secrets = {}
    for path in sorted((pathlib.Path(root) / "source").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        found, public = {}, []
        for cell in nb.cells:
            solution, hidden, rest = split_regions(cell.source)
            for line in hidden:
                found.setdefault(line, "hidden test")
            for line in solution:
                found.setdefault(line, "solution")
            public += rest
        public_text = "\n".join(public)
        for line, kind in found.items():
            if len(line) >= MIN_SECRET_CHARS and line not in public_text:
                secrets.setdefault(line, []).append((path.parent.name, kind))
    return secrets


def _digest(data):
    return hashlib.sha256(data).hexdigest()


def readable_text(name, data):
    """The text a reader of the file sees: a notebook's strings as they are (its JSON escapes
    quotes and backslashes), any other file decoded as UTF-8."""
    text = data.decode("utf-8", errors="replace")
    if not name.endswith(".ipynb"):
        return text
    strings = []

    def collect(value):
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, list):
            strings.append("".join(v for v in value if isinstance(v, str)))
            for v in value:
                if not isinstance(v, str):
                    collect(v)
        elif isinstance(value, dict):
            for v in value.values():
                collect(v)

    collect(json.loads(text))
    return "\n".join(strings)


def instructor_digests(root=REPO):
    """{sha256: path} of the files in autograder/ and source/ (copies are found by content),
    but for tiny ones (an empty __init__.py is no secret)."""
    digests = {}
    for folder in ("autograder", "source"):
        for path in sorted((pathlib.Path(root) / folder).rglob("*")):
            if (path.is_file() and "__pycache__" not in path.parts
                    and path.stat().st_size >= MIN_INSTRUCTOR_BYTES):
                digests.setdefault(_digest(path.read_bytes()), str(path.relative_to(root)))
    return digests


def notebook_problems(name, data):
    """What a notebook of the bundle must not hold: markers, or the grader named in code."""
    problems = []
    nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    for index, cell in enumerate(nb.cells):
        for marker in SOLUTION + HIDDEN:
            if marker in cell.source:
                problems.append(f"{name}: cell {index} holds '{marker}'")
        if cell.cell_type == "code" and "autograder" in cell.source:
            problems.append(f"{name}: code cell {index} names autograder")
    return problems


def leaks(files, root=REPO):
    """What in `files` ({path in the bundle: bytes}; a wheel's members are read too) students
    must not see. Returns (problems, notes): the bundle may not be written while there are
    problems; notes say where given code repeats another notebook's solution lines.

    Problems: in a notebook, a line of its own notebook's solutions, or markers, or the grader
    named in code; in any other file, a line of any solution; anywhere (the wheel included),
    a line of a hidden test, an array file, a copy of a file of autograder/ or source/; in the
    wheel, anything but the course package and its metadata.
    Notes: a notebook whose given code repeats lines of another notebook's solutions (03's
    reference forward pass is 02's exercise), and the course package's messages that quote a
    solution line.
    """
    secrets, digests = secret_lines(root), instructor_digests(root)
    tops = ("course/", version(root)[0].replace("-", "_") + "-")  # the package, its .dist-info
    problems, quoted = [], {}
    for name, data in sorted(files.items()):
        parts = name.split("/")
        owner = parts[1] if parts[0] == "notebooks" and len(parts) > 2 else None
        if name.endswith(".whl"):
            with zipfile.ZipFile(io.BytesIO(data)) as wheel:
                members = {f"{name}!{m}": wheel.read(m) for m in wheel.namelist()}
            problems += [f"{m}: not part of the course package" for m in members
                         if not m.split("!", 1)[1].startswith(tops)]
            checked = [(m, d, "course package") for m, d in members.items()]
        else:
            checked = [(name, data, owner)]
            if name.endswith(".ipynb"):
                problems += notebook_problems(name, data)
        for member, content, where in checked:
            if _digest(content) in digests:
                problems.append(f"{member}: a copy of {digests[_digest(content)]}")
            if member.endswith((".npz", ".npy")):
                problems.append(f"{member}: an array file (reference outputs stay in autograder/)")
            text = readable_text(member, content)
            for line, holders in secrets.items():
                if line not in text:
                    continue
                for assignment, kind in holders:
                    if kind == "hidden test" or where is None or where == assignment:
                        problems.append(f"{member}: a line of the {assignment} {kind}s: "
                                        f"{line[:70]!r}")
                    else:
                        quoted.setdefault((where, assignment), []).append(line)
    notes = [f"{where}'s given code repeats {len(lines)} lines of the {assignment} solutions, "
             f"e.g. {max(lines, key=len)[:60]!r}"
             for (where, assignment), lines in sorted(quoted.items())
             if where != "course package" and len(lines) >= MIN_NOTED_LINES]
    package = sorted({line for (where, _), lines in quoted.items() if where == "course package"
                      for line in lines}, key=len, reverse=True)
    if package:
        notes.append(f"the course package's messages and widgets repeat {len(package)} solution "
                     f"lines (formulas in hints), e.g. {package[0][:60]!r}")
    return problems, notes


def build_wheel(out_dir, root=REPO):
    """Build the student wheel (the `course` package alone) into out_dir, offline.

    Returns the wheel's path."""
    name, ver, requires_python = version(root)
    with tempfile.TemporaryDirectory(prefix="bundle-wheel-") as stage:
        stage = pathlib.Path(stage)
        shutil.copytree(pathlib.Path(root) / "course", stage / "course", ignore=IGNORED)
        quote = lambda value: '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        (stage / "pyproject.toml").write_text(STUDENT_PYPROJECT.format(
            name=quote(name), version=quote(ver), requires_python=quote(requires_python)))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        # --isolated: no pip configuration (no index, no constraints); --no-index: no network.
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--isolated", "--no-deps", "--no-index",
             "--no-build-isolation", "--disable-pip-version-check", "--wheel-dir",
             str(stage / "dist"), str(stage)],
            cwd=stage, env=env, capture_output=True, text=True, timeout=600)
        wheels = sorted((stage / "dist").glob("*.whl"))
        if done.returncode or len(wheels) != 1:
            raise BundleError("building the wheel of course/ failed (pip wheel, offline, with "
                              "the setuptools of this environment):\n"
                              + (done.stdout + done.stderr).strip()[-3000:])
        pathlib.Path(out_dir).mkdir(parents=True, exist_ok=True)
        return pathlib.Path(shutil.copy(wheels[0], out_dir))


def student_readme(wheel_name, names, folder, root=REPO):
    torch = next((line.split("==")[1].strip() for line in
                  (pathlib.Path(root) / "requirements.txt").read_text().splitlines()
                  if line.startswith("torch==")), None)
    if torch is None:
        raise BundleError("requirements.txt pins no torch==VERSION (the student README's set-up "
                          "installs it first)")
    return STUDENT_README.format(wheel=wheel_name, torch=torch, first=names[0], folder=folder,
                                 notebooks=", ".join(names))


def bundle_name(names, root=REPO):
    """The bundle's folder and zip name: cnn-course-student-<version>, and _01_02 when it
    holds only some notebooks."""
    name = f"cnn-course-student-{version(root)[1]}"
    if list(names) != assignments(root):
        name += "_" + "_".join(n.split("-")[0] for n in names)
    return name


def bundle_files(names, root=REPO, progress=print):
    """{path inside the bundle folder: bytes} of everything the bundle of `names` holds."""
    root = pathlib.Path(root)
    releases = release_files(names, root)
    files = {}
    for name, paths in releases.items():
        for path in paths:
            data = (root / "release" / name / path).read_bytes()
            files[f"notebooks/{name}/{path.as_posix()}"] = data
    progress("building the wheel of course/ (offline)")
    with tempfile.TemporaryDirectory(prefix="bundle-") as tmp:
        wheel = build_wheel(tmp, root)
        files[wheel.name] = wheel.read_bytes()
    files["requirements.txt"] = (root / "requirements.txt").read_bytes()
    for path in sorted((root / STUDENT_LAB).rglob("*.json")):   # student tools only
        files[f"jupyter-config/{path.relative_to(root / STUDENT_LAB).as_posix()}"] = path.read_bytes()
    readme = student_readme(wheel.name, list(releases), bundle_name(names, root), root)
    files["README.md"] = readme.encode("utf-8")
    return files


def write_zip(path, folder, files):
    """Write `files` under `folder/` in the zip at `path` (atomically: no half-written zip)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    now = time.localtime()[:6]
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=now)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    partial.replace(path)
    return path


def make_bundle(out_dir=DEFAULT_OUT, names=None, root=REPO, check_release=True, progress=print):
    """Write the student bundle of `names` (default: every assignment) into out_dir.

    Returns the zip's path. Raises BundleError, and writes nothing, when release/ is stale or
    the bundle would hold solutions, hidden tests or the grader; prints notes (through
    `progress`) on given code that repeats another notebook's solutions.
    """
    root = pathlib.Path(root)
    names = names or assignments(root)
    if check_release:
        progress("checking that release/ matches source/ (regenerating it in a scratch folder)")
        stale = stale_release(names, root)
        if stale:
            raise BundleError("release/ does not match source/ for " + ", ".join(stale)
                              + " (source/ changed since the last ./course.sh release, or "
                              "release/ was edited): run ./course.sh release first, so that "
                              "students get the notebooks that are graded")
    files = bundle_files(names, root, progress)
    problems, notes = leaks(files, root)
    if problems:
        more = f"\n  ... and {len(problems) - 30} more" if len(problems) > 30 else ""
        raise BundleError("the bundle would hand out what students must not see; nothing was "
                          "written:\n  " + "\n  ".join(problems[:30]) + more)
    for note in notes:
        progress(f"note: {note}")
    folder = bundle_name(names, root)
    return write_zip(pathlib.Path(out_dir) / f"{folder}.zip", folder, files)


def describe(zip_path):
    """Lines listing the zip's files with their sizes, and the total."""
    with zipfile.ZipFile(zip_path) as archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
    width = max(len(f"{i.file_size:,}") for i in infos)
    lines = [f"  {i.file_size:>{width},} B  {i.filename}" for i in infos]
    total = sum(i.file_size for i in infos)
    lines.append(f"{len(infos)} files, {total / 1e6:.2f} MB unpacked, "
                 f"{pathlib.Path(zip_path).stat().st_size / 1e6:.2f} MB zipped")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="./course.sh bundle",
        description="Write the zip to hand out to a class: release notebooks, the course "
                    "package as a wheel (no grader), requirements.txt and a student README.")
    parser.add_argument("assignments", nargs="*", metavar="NN",
                        help="only these notebooks, e.g. 01 02 (default: all of them)")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, metavar="DIR",
                        help="folder to write cnn-course-student-<version>.zip into "
                             "(default: instructor/, which is never committed)")
    parser.add_argument("--skip-release-check", action="store_true",
                        help="do not regenerate release/ to check that it matches source/ "
                             "(saves about 30 s)")
    args = parser.parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} is a file; name a folder")
    say = lambda message: print(f"[bundle] {message}", file=sys.stderr, flush=True)
    try:
        names = resolve(args.assignments)
    except BundleError as err:
        parser.error(str(err))
    try:
        path = make_bundle(args.out, names, check_release=not args.skip_release_check,
                           progress=say)
    except BundleError as err:
        print(f"[bundle] error: {err}", file=sys.stderr)
        return 1
    print("\n".join(describe(path)))
    print(f"Wrote {path}. Hand out this zip; its README.md tells students what to run.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
