"""The grading kernel's wrappers: limits always, bubblewrap when it is there."""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import autograder
import course

from autograder import sandbox
from autograder.sandbox import SandboxedKernelManager, SandboxUnavailable


def test_limits_cap_memory_cpu_and_file_size():
    cmd = sandbox.limit_command(memory_mb=100, cpu_seconds=7, file_size_mb=3)
    assert cmd[-1] == "--" and f"--as={100 * 2**20}" in cmd
    assert "--cpu=7" in cmd and f"--fsize={3 * 2**20}" in cmd


def test_the_course_directory_is_hidden_and_only_the_work_folder_is_writable(tmp_path):
    course_dir = "/srv/a-course"                  # (under /tmp it would be hidden already)
    work = tmp_path / "autograded" / "ada" / "01"
    work.mkdir(parents=True)
    cmd = sandbox.sandbox_command(work, tmp_path / "sockets", hidden=[course_dir])
    pairs = list(zip(cmd, cmd[1:]))
    assert ("--tmpfs", course_dir) in pairs and ("--ro-bind", "/") in pairs
    assert ("--remount-ro", course_dir) in pairs   # nothing can be written where it was
    writable = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--bind"]
    assert writable == [str(tmp_path / "sockets"), str(work)]
    assert "--unshare-all" in cmd and "--share-net" not in cmd


def test_required_sandbox_without_bubblewrap_is_refused_with_the_fix(monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    monkeypatch.setenv("COURSE_SANDBOX", "required")
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        SandboxedKernelManager()


def test_an_unknown_sandbox_mode_is_named(monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX", "maybe")
    with pytest.raises(ValueError, match="COURSE_SANDBOX='maybe'"):
        SandboxedKernelManager()


def test_sandbox_off_runs_the_kernel_with_limits_only(monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX", "off")
    km = SandboxedKernelManager()
    assert not km.boxed and km.transport == "tcp"


def test_what_the_kernel_needs_comes_back_when_tmp_hides_it(tmp_path, monkeypatch):
    venv = tmp_path / "repo" / ".venv"            # a repository cloned under /tmp
    monkeypatch.setattr(sandbox.sys, "prefix", str(venv))
    cmd = sandbox.sandbox_command(tmp_path / "work", tmp_path / "sockets")
    pairs = list(zip(cmd, cmd[1:], cmd[2:]))
    assert ("--ro-bind", str(venv), str(venv)) in pairs


def visible(cmd, path):
    """Whether `path` can be read inside the sandbox `cmd` builds: the last mount over it wins."""
    path, seen = str(path), False
    i = 0
    while i < len(cmd):
        if cmd[i] == "--tmpfs" and (path + "/").startswith(cmd[i + 1].rstrip("/") + "/"):
            seen = False
        if cmd[i] in ("--ro-bind", "--bind") and (path + "/").startswith(cmd[i + 2].rstrip("/") + "/"):
            seen = True
        i += 1
    return seen


def test_a_folder_hidden_on_purpose_stays_hidden_even_if_the_kernel_needs_it(tmp_path):
    package = tmp_path / "repo" / "autograder"
    (package / "references").mkdir(parents=True)
    kept = package / "references" / "02-old.npz"
    kept.write_bytes(b"x")

    def command(**kwargs):
        return sandbox.sandbox_command(tmp_path / "work", tmp_path / "sockets",
                                       needed={str(package)}, **kwargs)

    assert visible(command(), package / "references" / "01.npz")
    hiding = command(forbidden=[package / "references"], allowed=[kept])
    assert visible(hiding, package / "hidden" / "spec.py")
    assert not visible(hiding, package / "references" / "01.npz")
    assert visible(hiding, kept)


def test_the_kernel_never_sees_the_reference_outputs_of_assignments_judged_outside():
    folders = sandbox.forbidden_folders()
    assert any(f.endswith("autograder/references") for f in folders)
    allowed = {os.path.basename(p) for p in sandbox.kernel_readable_references()}
    outside = {"01-convolution-basics", "02-convolution-forward", "03-convolution-backward",
               "04-pooling", "05-numpy-cnn", "06-pytorch-cnns",
               "07-training-cnns"}
    assert not allowed & {f"{name}.npz" for name in outside}


def test_the_course_repositories_the_packages_come_from_are_hidden_too(tmp_path, monkeypatch):
    repo = tmp_path / "other-checkout"
    (repo / "source").mkdir(parents=True)
    installed = tmp_path / "installed-from"
    (installed / "source").mkdir(parents=True)
    monkeypatch.setattr(sandbox, "package_roots", lambda: [str(repo)])
    monkeypatch.setattr(sandbox, "installed_package_roots", lambda: (str(installed),))
    assert sandbox.hidden_folders(tmp_path / "course") == [tmp_path / "course", repo, installed]


KERNEL_SAYS_WHERE = textwrap.dedent("""
    import json, sys
    import nbformat
    from nbclient import NotebookClient
    from autograder.sandbox import SandboxedKernelManager
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import course, autograder.hidden; print(course.__file__, autograder.__file__)")])
    NotebookClient(nb, kernel_manager_class=SandboxedKernelManager, kernel_name="python3",
                   resources={"metadata": {"path": sys.argv[1]}}).execute()
    print(json.dumps(nb.cells[0].outputs[0]["text"].split()))
""")


def test_the_kernel_imports_the_graders_packages_wherever_they_live(tmp_path):
    """A clone graded with an environment installed from another checkout: the kernel uses
    the clone's packages, as the grader does, although the sandbox hides the clone."""
    if sandbox.bwrap_path() is None:
        pytest.skip("bubblewrap is not installed")
    clone = tmp_path / "clone"
    for package in (course, autograder):
        source = os.path.dirname(package.__file__)
        shutil.copytree(source, clone / os.path.basename(source),
                        ignore=shutil.ignore_patterns("__pycache__", "tests"))
    work = clone / "autograded" / "ada" / "01"
    work.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", KERNEL_SAYS_WHERE, str(work)], cwd=clone,
                          env=dict(env, COURSE_SANDBOX="required"), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    where = json.loads(done.stdout.strip().splitlines()[-1])
    assert where == [str(clone / "course" / "__init__.py"),
                     str(clone / "autograder" / "__init__.py")]


def test_the_environment_says_where_it_imports_the_course_from():
    roots = sandbox.installed_package_roots()
    assert roots and all(os.path.isdir(os.path.join(root, "course")) for root in roots)


LEAVES_A_CHILD = textwrap.dedent("""
    import sys
    import nbformat
    from autograder.execute import ResilientExecute
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import subprocess\\n"
        f"subprocess.Popen(['sleep', {sys.argv[2]!r}], start_new_session=True,"
        "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)")])
    executor = ResilientExecute(kernel_name="python3")
    assert executor.shutdown_kernel == "immediate"
    executor.preprocess(nb, {"metadata": {"path": sys.argv[1]}})
""")


def test_the_grading_kernel_is_killed_with_every_process_it_started(tmp_path):
    """The kernel is killed, not asked to exit, when the notebook is done; a process the
    student's code started in a session of its own dies with it (the sandbox's own PID
    namespace ends with the kernel)."""
    if sandbox.bwrap_path() is None:
        pytest.skip("bubblewrap is not installed")
    marker = str(4000 + os.getpid() % 1000) + ".5"    # sleep's argument: unique to this test
    done = subprocess.run([sys.executable, "-c", LEAVES_A_CHILD, str(tmp_path), marker],
                          env=dict(os.environ, COURSE_SANDBOX="required"), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    left = subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True, text=True)
    assert left.stdout.strip() == "", "a process the notebook started outlived its kernel"


def test_the_given_cells_above_the_first_exercise_get_the_longer_setup_time():
    """Importing torch on a busy machine must not look like a student's endless loop: the
    given cells above the first exercise get setup_timeout; every other cell Execute.timeout."""
    import nbformat
    from autograder.execute import ResilientExecute
    solution = nbformat.v4.new_code_cell("def f(): ...")
    solution.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "a1_f"}
    cells = [nbformat.v4.new_code_cell("import torch"), nbformat.v4.new_markdown_cell("text"),
             nbformat.v4.new_code_cell("data = 1"), solution,
             nbformat.v4.new_code_cell("import time; time.sleep(10**6)")]
    executor = ResilientExecute(kernel_name="python3", timeout=15, setup_timeout=120)
    executor.nb = nbformat.v4.new_notebook(cells=cells)
    assert [executor._get_timeout(c) for c in cells if c.cell_type == "code"] == [120, 120, 15, 15]
    assert ResilientExecute(kernel_name="python3", timeout=300)._get_timeout(None) == 300
