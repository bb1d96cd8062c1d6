"""The student bundle (./course.sh bundle): nothing of the grader in it, and its wheel works.

The bundle is built once; these tests read it with their own rules, not the bundle module's:
- no solution line of a notebook in that notebook, none at all in the other files, no hidden
  test line anywhere (the wheel included), no markers, no file of autograder/ or source/ and
  no array file, and the wheel holds course/ byte for byte and nothing else;
- the wheel installed into a fresh virtual environment (packages of the course environment
  borrowed read-only, so nothing is downloaded) gives `course` from that environment and no
  `autograder`, and the set-up cells of every notebook run there, up to the first exercise.
"""
import hashlib
import io
import json
import os
import pathlib
import subprocess
import sys
import sysconfig
import zipfile

import nbformat
import pytest

from autograder import bundle
from autograder.nbgrader_steps import REPO, assignments

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION",
           "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
SETUP_TIMEOUT = 120  # seconds per notebook's set-up cells, at most (about 10 s unloaded)
WORKERS = 2


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The bundle of every notebook: {"zip": path, "folder": top folder, "files": {name: bytes}}."""
    out = tmp_path_factory.mktemp("bundle")
    # release/ against source/ is compared by tests/test_notebooks.py; skipping it here saves 30 s
    path = bundle.make_bundle(out, check_release=False, progress=lambda _: None)
    with zipfile.ZipFile(path) as archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        files = {i.filename: archive.read(i) for i in infos}
    folders = {name.split("/")[0] for name in files}
    assert len(folders) == 1, f"the zip should hold one folder, not {sorted(folders)}"
    folder = folders.pop()
    files = {name.split("/", 1)[1]: data for name, data in files.items()}
    print(f"\n{path.name}: {len(files)} files, {sum(map(len, files.values())):,} B unpacked, "
          f"{path.stat().st_size:,} B zipped")
    for name, data in sorted(files.items()):
        print(f"  {len(data):>9,} B  {folder}/{name}")
    return {"zip": path, "folder": folder, "files": files}


def wheel_of(files):
    names = [n for n in files if n.endswith(".whl")]
    assert len(names) == 1, f"one wheel expected in the bundle, found {names}"
    with zipfile.ZipFile(io.BytesIO(files[names[0]])) as wheel:
        return names[0], {m: wheel.read(m) for m in wheel.namelist()}


def source_lines(path):
    """(solution lines, hidden-test lines, every other line) of a source notebook, stripped."""
    solution, hidden, public = set(), set(), []
    for cell in nbformat.read(path, as_version=4).cells:
        region = None
        for line in cell.source.splitlines():
            text = line.strip()
            if text in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
                region = solution if "SOLUTION" in text else hidden
            elif text in ("### END SOLUTION", "### END HIDDEN TESTS"):
                region = None
            elif region is not None:
                region.add(text)
            else:
                public.append(line)
    return solution, hidden, "\n".join(public)


@pytest.fixture(scope="module")
def secrets():
    """{assignment: (solution lines, hidden-test lines)}: lines of 12 or more characters that
    the source notebook holds only inside its markers."""
    found = {}
    for name in assignments():
        solution, hidden, public = source_lines(REPO / "source" / name / f"{name}.ipynb")
        keep = lambda lines: {l for l in lines if len(l) >= 12 and l not in public}
        found[name] = (keep(solution), keep(hidden))
        assert found[name][0], f"{name}: no solution line found; is the marker format unchanged?"
    return found


def test_the_bundle_holds_the_release_notebooks_the_wheel_requirements_and_a_readme(built):
    files = built["files"]
    for name in assignments():
        release = REPO / "release" / name
        for path in release.glob("*.ipynb"):
            assert files.get(f"notebooks/{name}/{path.name}") == path.read_bytes(), \
                f"notebooks/{name}/{path.name} is not release/{name}/{path.name}"
    wheel_name, _ = wheel_of(files)
    assert wheel_name.startswith("cnn_course-") and wheel_name.endswith("-py3-none-any.whl")
    assert files["requirements.txt"] == (REPO / "requirements.txt").read_bytes()
    readme = files["README.md"].decode()
    assert wheel_name in readme and "jupyter lab notebooks" in readme
    assert "nbgrader validate" in readme and "hand in" in readme.lower()


def test_no_file_comes_from_the_grader_source_or_the_references(built):
    files = dict(built["files"])
    wheel_name, members = wheel_of(files)
    files.update({f"{wheel_name}!{m}": data for m, data in members.items()})
    instructor = {}
    for folder in ("autograder", "source"):
        for path in (REPO / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.stat().st_size >= 100:
                instructor[hashlib.sha256(path.read_bytes()).hexdigest()] = path.relative_to(REPO)
    for name, data in files.items():
        parts = name.replace("!", "/").split("/")
        assert not {"autograder", "source", "references", "inputs"} & set(parts), name
        assert not name.endswith((".npz", ".npy", ".db")), f"{name}: an array or database file"
        digest = hashlib.sha256(data).hexdigest()
        assert digest not in instructor, f"{name} is a copy of {instructor.get(digest)}"


def test_the_wheel_holds_the_course_package_and_nothing_else(built):
    _, members = wheel_of(built["files"])
    package = {m: data for m, data in members.items() if not m.split("/")[0].endswith(".dist-info")}
    assert {m.split("/")[0] for m in package} == {"course"}, sorted(package)
    repo_files = {p.relative_to(REPO).as_posix() for p in (REPO / "course").rglob("*.py")
                  if "__pycache__" not in p.parts}
    assert set(package) == repo_files, (set(package) ^ repo_files)
    for member, data in package.items():
        assert data == (REPO / member).read_bytes(), f"{member} differs from the repository's"
    metadata = [m for m in members if m.endswith(".dist-info/top_level.txt")]
    assert metadata and members[metadata[0]].decode().split() == ["course"]


def notebook_text(data):
    """A notebook as its reader sees it: cell sources and output texts, not its escaped JSON."""
    nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    parts = [cell.source for cell in nb.cells]
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts += [str(v) for v in output.get("data", {}).values()]
            parts += output.get("traceback", [])
    return "\n".join(parts), [cell.source for cell in nb.cells if cell.cell_type == "code"]


def test_no_solution_hidden_test_or_marker_is_in_the_bundle(built, secrets):
    files = built["files"]
    wheel_name, members = wheel_of(files)
    texts, found = {}, []
    for name, data in files.items():
        if name.endswith(".ipynb"):
            texts[name], code = notebook_text(data)
            found += [f"{name}: a code cell names autograder" for c in code if "autograder" in c]
        elif name != wheel_name:
            texts[name] = data.decode("utf-8", errors="replace")
    texts.update({f"{wheel_name}!{m}": d.decode("utf-8", errors="replace")
                  for m, d in members.items()})
    for name, text in texts.items():
        found += [f"{name}: {marker!r}" for marker in MARKERS if marker in text]
        owner = name.split("/")[1] if name.startswith("notebooks/") else None
        for assignment, (solution, hidden) in secrets.items():
            found += [f"{name}: {assignment} hidden test: {line!r}" for line in hidden
                      if line in text]
            # Given code may repeat an earlier notebook's solution (03's reference forward is
            # 02's exercise), and the course package's messages quote formulas: only a
            # notebook's own solutions, and any solution in the other files, are leaks.
            if owner == assignment or (owner is None and not name.startswith(wheel_name)):
                found += [f"{name}: {assignment} solution: {line!r}" for line in solution
                          if line in text]
    assert not found, "\n".join(found)


def test_the_bundle_module_refuses_a_planted_solution_and_a_grader_file():
    name = "02-convolution-forward"
    nb = nbformat.read(REPO / "release" / name / f"{name}.ipynb", as_version=4)
    planted_line = max((line for line, holders in bundle.secret_lines().items()
                        if (name, "solution") in holders), key=len)
    nb.cells.append(nbformat.v4.new_code_cell("    " + planted_line))
    planted = nbformat.writes(nb).encode()
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("course/__init__.py", "")
        archive.writestr("autograder/judge.py", "")
    problems, _ = bundle.leaks({f"notebooks/{name}/{name}.ipynb": planted,
                                "cnn_course-0.1.0-py3-none-any.whl": wheel.getvalue()})
    assert any("solution" in p and name in p for p in problems), problems
    assert any("autograder/judge.py" in p for p in problems), problems
    with pytest.raises(bundle.BundleError, match="no assignment '99'"):
        bundle.resolve(["99"])


# ---- the wheel in a fresh virtual environment --------------------------------------------

RUN_SETUP_CELLS = r'''
import json, pathlib, sys
import nbclient, nbformat

venv, results = sys.argv[1], {}
for path in sys.argv[2:]:
    nb = nbformat.read(path, as_version=4)
    first = next(i for i, c in enumerate(nb.cells)
                 if c.metadata.get("nbgrader", {}).get("solution"))
    nb.cells = [c for c in nb.cells[:first] if c.cell_type == "code"]
    nb.cells.append(nbformat.v4.new_code_cell(
        "import importlib.util, sys, course\n"
        f"assert sys.prefix == {venv!r}, sys.prefix\n"
        f"assert course.__file__.startswith({venv!r}), course.__file__\n"
        "assert importlib.util.find_spec('autograder') is None"))
    try:
        folder = str(pathlib.Path(path).parent)
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": folder}}).execute()
        results[path] = f"ok ({len(nb.cells) - 1} cells)"
    except Exception as err:
        results[path] = f"{type(err).__name__}: {str(err)[-1500:]}"
print(json.dumps(results))
'''


@pytest.fixture(scope="module")
def venv(built, tmp_path_factory):
    """A fresh virtual environment with the bundle's wheel installed, the bundle unpacked
    beside it. The course environment's packages are on its path (a .pth file: read-only,
    its own .pth files and the editable install of this repository are not run)."""
    where = tmp_path_factory.mktemp("student")
    with zipfile.ZipFile(built["zip"]) as archive:
        archive.extractall(where)
    folder = where / built["folder"]
    env_dir = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True,
                   cwd=where, timeout=120)
    python = env_dir / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    pathlib.Path(site, "course-environment.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV"))}
    (where / "home").mkdir()  # a learner's home: hints and Jupyter's files go there
    env.update(PATH=f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}", COURSE_QUICK="1",
               HOME=str(where / "home"))
    wheel = next(folder.glob("*.whl"))
    done = subprocess.run([python, "-m", "pip", "install", "--isolated", "--no-index", "--no-deps",
                           "--ignore-installed", str(wheel)],
                          cwd=where, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return {"python": python, "dir": env_dir, "folder": folder, "env": env, "cwd": where}


def test_course_comes_from_the_installed_wheel_and_autograder_is_absent(venv):
    probe = ("import json, course, importlib.util; print(json.dumps([course.__file__, "
             "importlib.util.find_spec('autograder') is None]))")
    done = subprocess.run([venv["python"], "-c", probe], cwd=venv["cwd"], env=venv["env"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    course_file, no_grader = json.loads(done.stdout)
    assert pathlib.Path(course_file).is_relative_to(venv["dir"]), course_file
    assert no_grader
    done = subprocess.run([venv["python"], "-c", "import autograder"], cwd=venv["cwd"],
                          env=venv["env"], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "No module named 'autograder'" in done.stderr, done.stderr


def test_every_notebook_runs_its_setup_cells_with_the_installed_wheel(venv):
    notebooks = sorted(str(p) for p in (venv["folder"] / "notebooks").glob("*/*.ipynb"))
    assert len(notebooks) == len(assignments())
    # two runners side by side (one kernel each at a time), for the two cores
    runners = [subprocess.Popen([venv["python"], "-c", RUN_SETUP_CELLS, str(venv["dir"]),
                                 *notebooks[start::WORKERS]],
                                cwd=venv["cwd"], env=venv["env"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
               for start in range(WORKERS)]
    results = {}
    for runner in runners:
        try:
            stdout, stderr = runner.communicate(timeout=SETUP_TIMEOUT * len(notebooks) / WORKERS)
        finally:
            runner.kill()
        assert runner.returncode == 0, stderr[-3000:]
        results.update(json.loads(stdout.strip().splitlines()[-1]))
    print("\n".join(f"  {pathlib.Path(p).name}: {r}" for p, r in sorted(results.items())))
    failed = {pathlib.Path(p).name: r for p, r in results.items() if not r.startswith("ok")}
    assert not failed, failed
    assert len(results) == len(notebooks)
