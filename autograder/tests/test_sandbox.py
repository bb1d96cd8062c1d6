"""The grading kernel's wrappers: limits always, bubblewrap when it is there."""
import pytest

from autograder import sandbox
from autograder.sandbox import SandboxedKernelManager, SandboxUnavailable


def test_limits_cap_memory_cpu_and_file_size():
    cmd = sandbox.limit_command(memory_mb=100, cpu_seconds=7, file_size_mb=3)
    assert cmd[-1] == "--" and f"--as={100 * 2**20}" in cmd
    assert "--cpu=7" in cmd and f"--fsize={3 * 2**20}" in cmd


def test_the_course_directory_is_hidden_and_only_the_work_folder_is_writable(tmp_path):
    work = tmp_path / "autograded" / "ada" / "01"
    work.mkdir(parents=True)
    cmd = sandbox.sandbox_command(work, tmp_path / "sockets", hidden_root=tmp_path)
    pairs = list(zip(cmd, cmd[1:]))
    assert ("--tmpfs", str(tmp_path)) in pairs and ("--ro-bind", "/") in pairs
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
    cmd = sandbox.sandbox_command(tmp_path / "work", tmp_path / "sockets", hidden_root="/")
    pairs = list(zip(cmd, cmd[1:], cmd[2:]))
    assert ("--ro-bind", str(venv), str(venv)) in pairs
