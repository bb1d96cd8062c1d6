"""nbgrader commands run in forks of one warm process, so each pays no start-up.

Starting `python -m nbgrader` costs several seconds of imports (nbgrader, nbconvert,
jupyter_client, SQLAlchemy, the course's own grading modules) before any grading happens,
and the grading loop starts one per student. A `Server` is a process that imports all that
once and then, for each command, forks a child that runs it: the child starts from the
server's pristine state (the server itself never runs a command), changes into the
command's folder, takes the command's environment, and exits when the command is done. No
process state passes from one command to the next, as with a fresh `nbgrader` process:
only the imports are shared. Each student's kernel still starts fresh in its own sandbox.

    server = Server()
    code, output = server.run(["autograde", "01-...", "--student", "s1"], cwd, env, timeout)

`autograder.nbgrader_steps.run_nbgrader` keeps one server per concurrent caller (a worker
slot of grade_class) and falls back to a new process where fork is unavailable, or when
COURSE_FORKSERVER=0.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

PRELOAD = ("nbgrader.apps", "nbgrader.apps.autogradeapp", "nbgrader.apps.generatefeedbackapp",
           "nbgrader.api", "nbgrader.converters", "nbgrader.preprocessors", "nbconvert",
           "nbconvert.exporters.html", "nbclient", "jupyter_client", "jupyter_client.manager",
           "sqlalchemy", "alembic", "autograder.execute", "autograder.sandbox", "autograder.judge",
           "autograder.late", "autograder.export", "autograder.feedback")
# and every module of autograder.hidden: the judge imports the one of each check it judges,
# and those of 05-08 import torch (seconds of imports, once per server instead of per student)
PRELOAD_PACKAGES = ("autograder.hidden",)


class ServerDied(RuntimeError):
    """The server process is gone; the command's outcome is unknown."""


class Server:
    """One warm process that runs nbgrader commands in forks of itself (see module doc)."""

    def __init__(self, python=sys.executable, env=None, cwd=None):
        """Start the server in `cwd`: it imports what `python -m nbgrader` started there
        would import (a course checkout's own autograder and course packages first)."""
        self.process = subprocess.Popen(
            [python, "-m", "autograder.forkserver"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
            env=env, cwd=cwd or os.getcwd())

    def run(self, args, cwd, env, timeout):
        """Run `nbgrader ARGS` in `cwd` with `env`; (exit code, combined output). A command
        still running after `timeout` seconds is killed (exit code -9)."""
        if self.process.poll() is not None:
            raise ServerDied("the nbgrader server has exited")
        request = {"args": list(args), "cwd": str(cwd), "env": dict(env), "timeout": timeout}
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except (BrokenPipeError, OSError) as err:
            raise ServerDied(f"the nbgrader server stopped answering ({err})") from None
        if not line:
            raise ServerDied("the nbgrader server exited during a command")
        reply = json.loads(line)
        return reply["code"], reply["output"]

    def close(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()


def _child(request, output_path):
    """In the fork: run the command and exit with its code (never returns)."""
    code = 1
    try:
        fd = os.open(output_path, os.O_WRONLY | os.O_TRUNC)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        os.setsid()  # its own process group: a timeout kills it and whatever it started
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["nbgrader", *request["args"]]
        from nbgrader.apps.nbgraderapp import main
        try:
            main()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:  # report whatever went wrong as the command's output
        import traceback
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _wait(pid, timeout):
    """The child's exit code, killing its process group after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            return -9
        time.sleep(0.05)


def serve():
    """The server's loop: one JSON request per line on stdin, one reply per line on stdout."""
    import importlib
    import pkgutil
    names = list(PRELOAD)
    for package in PRELOAD_PACKAGES:
        try:
            names += [info.name for info in pkgutil.iter_modules(
                importlib.import_module(package).__path__, package + ".")]
        except Exception:
            pass
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # a module that cannot load here loads (or fails) in the command
            pass
    replies = sys.stdout
    sys.stdout = sys.stderr  # nothing but replies goes to the pipe
    for line in sys.stdin:
        request = json.loads(line)
        fd, output_path = tempfile.mkstemp(prefix="nbgrader-output-")
        os.close(fd)
        try:
            pid = os.fork()
            if pid == 0:
                _child(request, output_path)
            code = _wait(pid, float(request.get("timeout") or 1800))
            with open(output_path, errors="replace") as f:
                output = f.read()
            if code == -9:
                output += f"\n(killed after {request.get('timeout')} s)"
        finally:
            os.unlink(output_path)
        replies.write(json.dumps({"code": code, "output": output}) + "\n")
        replies.flush()


if __name__ == "__main__":
    serve()
