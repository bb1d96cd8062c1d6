"""The kernel that runs a student's notebook while it is graded: limited, and boxed in.

`SandboxedKernelManager` starts the usual IPython kernel through two wrappers:

- `prlimit` (util-linux) caps the kernel's memory (address space), CPU seconds and the size
  of any file it writes, so a memory bomb ends in a MemoryError, not in the machine's OOM killer.
- `bwrap` (Debian's bubblewrap) gives it a filesystem of its own: everything read-only, the
  course directory hidden (other students, the gradebook, source/ with the solutions), a
  private empty /tmp and home, no network, and one writable folder: the student's own
  autograded/<student>/<assignment>/ folder, where the notebook runs.

Kernel and grader talk over Unix sockets in a private folder (the `ipc` transport), since the
kernel has no network at all.

`COURSE_SANDBOX` (or `SandboxedKernelManager.sandbox` in nbgrader_config.py) chooses:
`required` (refuse to grade without bubblewrap), `auto` (use it when installed, the default),
`off` (limits only).
"""
import functools
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

from jupyter_client.manager import AsyncKernelManager
from traitlets import CaselessStrEnum, Integer, List, Unicode, default

import autograder
import course

MODES = ("required", "auto", "off")
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap), or set "
                "COURSE_SANDBOX=off to grade without a sandbox (student code could then write "
                "anywhere the grader can)")


class SandboxUnavailable(RuntimeError):
    """Grading was asked to be sandboxed and bubblewrap cannot run here."""


def bwrap_path():
    """The bubblewrap program, or None when it is not installed."""
    return shutil.which("bwrap")


def limit_command(memory_mb, cpu_seconds, file_size_mb):
    """`prlimit` arguments that cap the command after them (empty where prlimit is missing)."""
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        return []
    mib = 1024 * 1024
    return [prlimit, f"--as={memory_mb * mib}", f"--cpu={cpu_seconds}",
            f"--fsize={file_size_mb * mib}", "--core=0", "--"]


def _inside(path, folder):
    path, folder = pathlib.Path(path).resolve(), pathlib.Path(folder).resolve()
    return path == folder or folder in path.parents


def package_roots():
    """The folders the grader imports `course` and `autograder` from (their parents).

    The kernel gets them first on its PYTHONPATH, so it grades with the same checks and
    references as the grader, wherever the environment was installed from.
    """
    roots = []
    for package in (course, autograder):
        root = str(pathlib.Path(package.__file__).resolve().parent.parent)
        if root not in roots:
            roots.append(root)
    return roots


_FIND_PACKAGES = ("import importlib.util as u, json; print(json.dumps([getattr(u.find_spec(n), "
                  "'origin', None) for n in ('course', 'autograder')]))")


@functools.lru_cache(maxsize=None)
def installed_package_roots():
    """Where this environment itself imports `course` and `autograder` from (an editable
    install names a checkout), seen from outside any course directory."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    try:
        done = subprocess.run([sys.executable, "-c", _FIND_PACKAGES], cwd="/", env=env,
                              capture_output=True, text=True, timeout=60)
        origins = json.loads(done.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return ()
    return tuple(str(pathlib.Path(o).resolve().parent.parent) for o in origins if o)


def _is_course_repository(folder):
    folder = pathlib.Path(folder)
    return (folder / "nbgrader_config.py").is_file() or (folder / "source").is_dir()


def hidden_folders(course_dir):
    """Folders the kernel must not see: the course directory, and any course repository the
    packages are imported from, by the grader or by the environment (its source/ holds
    solutions)."""
    folders = [pathlib.Path(course_dir).resolve()]
    folders += [pathlib.Path(root) for root in package_roots() + list(installed_package_roots())
                if _is_course_repository(root)]
    unique = []
    for folder in folders:
        if folder != pathlib.Path("/") and folder not in unique:
            unique.append(folder)
    return unique


def needed_paths():
    """What the kernel must read: the Python environment and the two course packages."""
    return {sys.prefix, sys.base_prefix, os.path.dirname(sys.executable),
            os.path.dirname(course.__file__), os.path.dirname(autograder.__file__)}


def sandbox_command(workdir, socket_dir, hidden=(), tmp_size_mb=512, needed=None,
                    forbidden=(), allowed=()):
    """`bwrap` arguments that run a command with only `workdir` writable.

    Inputs:
    - workdir: the folder the notebook runs in (read-write, the kernel's cwd)
    - socket_dir: holds the connection file and the kernel's sockets (read-write)
    - hidden: folders to hide (the course directory, see `hidden_folders`); what the kernel
      needs inside them (`needed`, default `needed_paths()`) stays visible, read-only
    - forbidden: folders hidden even when the kernel needs them (see `forbidden_folders`)
    - allowed: files inside a forbidden folder that stay visible, read-only
    """
    workdir, socket_dir = str(pathlib.Path(workdir).resolve()), str(socket_dir)
    cmd = [bwrap_path(), "--die-with-parent", "--unshare-all",
           "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
           "--size", str(tmp_size_mb * 1024 * 1024), "--tmpfs", "/tmp",
           "--dir", "/tmp/home", "--setenv", "HOME", "/tmp/home",
           "--setenv", "MPLCONFIGDIR", "/tmp/home/matplotlib",
           # ipykernel stops when its parent looks like pid 1, which bwrap's init is; the
           # kernel still ends with its grader (--die-with-parent)
           "--setenv", "JPY_PARENT_PID", "1"]
    masked = [pathlib.Path("/tmp")]
    emptied = []  # the tmpfs that hide folders: made read-only once all mounts are in place
    for folder in [pathlib.Path(path).resolve() for path in hidden]:
        if folder != pathlib.Path("/") and not any(_inside(folder, m) for m in masked):
            cmd += ["--tmpfs", str(folder)]
            masked.append(folder)
            emptied.append(str(folder))
    # what the kernel needs and a mask covered (a repo cloned under /tmp, say) comes back
    for path in sorted(needed_paths() if needed is None else needed):
        if any(_inside(path, root) for root in masked) and not _inside(workdir, path):
            cmd += ["--ro-bind", path, path]
    # then the forbidden folders go, whatever was bound above, but for the allowed files
    for folder in sorted({pathlib.Path(path).resolve() for path in forbidden
                          if pathlib.Path(path).is_dir()}):
        cmd += ["--tmpfs", str(folder)]
        emptied.append(str(folder))
        for path in sorted(str(pathlib.Path(p).resolve()) for p in allowed):
            if _inside(path, folder) and pathlib.Path(path).is_file():
                cmd += ["--ro-bind", path, path]
    cmd += ["--bind", socket_dir, socket_dir, "--bind", workdir, workdir]
    for folder in emptied:
        cmd += ["--remount-ro", folder]
    return cmd + ["--chdir", workdir, "--"]


def forbidden_folders(extra=()):
    """Folders the kernel never sees: the reference outputs, and `extra`."""
    return [os.path.join(os.path.dirname(autograder.__file__), "references"), *extra]


def kernel_readable_references():
    """Reference files the kernel may still read: those of assignments whose hidden tests
    are judged inside the kernel (they have no inputs file, autograder/inputs/)."""
    package = pathlib.Path(autograder.__file__).resolve().parent
    judged_outside = {p.name for p in (package / "inputs").glob("*.npz")}
    return [str(p) for p in sorted((package / "references").glob("*.npz"))
            if p.name not in judged_outside]


class SandboxedKernelManager(AsyncKernelManager):
    """An IPython kernel under resource limits, inside bubblewrap when it is installed."""

    sandbox = CaselessStrEnum(MODES, help="required | auto | off (see the module docstring)"
                              ).tag(config=True)
    memory_limit_mb = Integer(6144, help="Address space of the kernel, in MiB").tag(config=True)
    cpu_limit_seconds = Integer(1800, help="CPU seconds of the kernel process").tag(config=True)
    file_size_limit_mb = Integer(256, help="Largest file the kernel may write, in MiB"
                                 ).tag(config=True)
    tmp_size_mb = Integer(512, help="Size of the kernel's private /tmp, in MiB").tag(config=True)
    hidden_paths = List(Unicode(), help="More folders the kernel must not see, even where "
                        "it would import from them").tag(config=True)

    @default("sandbox")
    def _sandbox_default(self):
        mode = os.environ.get("COURSE_SANDBOX", "auto").strip().lower()
        if mode not in MODES:
            raise ValueError(f"COURSE_SANDBOX={mode!r}: use one of {', '.join(MODES)}.")
        return mode

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._socket_dir = None
        if self.boxed:
            self._socket_dir = tempfile.mkdtemp(prefix="grading-kernel-")
            self.transport = "ipc"
            self.connection_file = os.path.join(self._socket_dir, "kernel.json")
            self.ip = os.path.join(self._socket_dir, "kernel-ipc")

    @property
    def boxed(self):
        """True when the kernel runs inside bubblewrap; raises if required and impossible."""
        if self.sandbox == "off":
            return False
        if bwrap_path() is None:
            if self.sandbox == "required":
                raise SandboxUnavailable(f"Grading needs a sandbox and bwrap is missing: "
                                         f"{INSTALL_HINT}.")
            self.log.warning("Grading without a sandbox: %s.", INSTALL_HINT)
            return False
        return True

    @property
    def kernel_spec(self):
        spec = super().kernel_spec
        if spec is not None and self._socket_dir is not None:
            # a signal would reach bwrap, not the kernel: ask the kernel to interrupt itself
            spec.interrupt_mode = "message"
        return spec

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        prefix = limit_command(self.memory_limit_mb, self.cpu_limit_seconds,
                               self.file_size_limit_mb)
        if self._socket_dir is not None:
            workdir = self._launch_args.get("cwd") or os.getcwd()
            prefix += sandbox_command(workdir, self._socket_dir,
                                      hidden=hidden_folders(os.getcwd()),
                                      tmp_size_mb=self.tmp_size_mb,
                                      forbidden=forbidden_folders(self.hidden_paths),
                                      allowed=kernel_readable_references())
        return prefix + cmd

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        env = dict(kw.get("env") or os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            package_roots() + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        env["COURSE_JUDGE"] = "outside"   # hidden checks record; autograder.judge decides
        kw["env"] = env
        return await super()._async_launch_kernel(kernel_cmd, **kw)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources
