"""A Dask cluster and a PostgreSQL server on this machine, for the tests and the benchmark of
grading on a cluster (autograder.cluster). Real machines start theirs as the README says.

- postgres(folder): a PostgreSQL server from Debian's package (initdb into `folder`, run as an
  unprivileged user, listening on 127.0.0.1 only); yields the gradebook URL
- dask_cluster(workers): a Dask scheduler and `workers` worker processes (one thread each) on
  127.0.0.1; yields a LocalCluster whose workers can be killed one by one
- missing(): what this machine lacks for both ('' when nothing)
"""
import contextlib
import glob
import json
import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PG_USER = "grader"
PG_DATABASE = "gradebook"


def _postgres_bin(name):
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def missing():
    """What this machine lacks to run a local cluster with a PostgreSQL gradebook, or ''."""
    lacks = []
    if _postgres_bin("initdb") is None:
        lacks.append("PostgreSQL (sudo apt-get install postgresql)")
    for module in ("distributed", "psycopg"):
        try:
            __import__(module)
        except ImportError:
            lacks.append(f"the Python package {module} (.venv/bin/pip install -r "
                         "requirements-cluster.txt)")
    return "; ".join(lacks)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user():
    """(command prefix, user) to run the server unprivileged: root runs it as `postgres` (or
    `nobody`); anyone else as themselves."""
    if os.getuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups",
                "--"], user
    raise RuntimeError("running as root, and there is no unprivileged user (postgres or "
                       "nobody) to run PostgreSQL as")


def _run(command, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed (exit {done.returncode}):\n"
                           f"{done.stdout}{done.stderr}")
    return done.stdout


@contextlib.contextmanager
def postgres(folder=None):
    """A PostgreSQL server with an empty database; yields its URL
    (postgresql://grader@127.0.0.1:PORT/gradebook). Stopped and removed afterwards."""
    prefix, user = _as_user()
    base = pathlib.Path(folder or tempfile.mkdtemp(prefix="gradebook-pg-"))
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir(parents=True, exist_ok=True)
    if user is not None:
        for path in (base, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    port = free_port()
    _run([*prefix, _postgres_bin("initdb"), "-D", str(data), "-U", PG_USER, "-A", "trust",
          "--no-sync", "-E", "UTF8"])
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off"
    _run([*prefix, _postgres_bin("pg_ctl"), "-D", str(data), "-o", options, "-l",
          str(base / "server.log"), "-w", "-t", "120", "start"])
    try:
        _run([_postgres_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", PG_USER,
              PG_DATABASE])
        yield f"postgresql://{PG_USER}@127.0.0.1:{port}/{PG_DATABASE}"
    finally:
        subprocess.run([*prefix, _postgres_bin("pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


class LocalCluster:
    """A scheduler and worker processes on 127.0.0.1 (see dask_cluster)."""

    def __init__(self, folder, workers, env):
        self.folder, self.env = pathlib.Path(folder), env
        self.scheduler_file = self.folder / "scheduler.json"
        self.scheduler = self._start(["scheduler", "--host", "127.0.0.1", "--port", "0",
                                      "--no-dashboard", "--scheduler-file",
                                      str(self.scheduler_file)], "scheduler")
        deadline = time.monotonic() + 120
        while not self.scheduler_file.exists():
            if time.monotonic() > deadline or self.scheduler.poll() is not None:
                raise RuntimeError("the Dask scheduler did not start: "
                                   + (self.folder / "scheduler.log").read_text()[-2000:])
            time.sleep(0.2)
        time.sleep(0.2)
        self.address = json.loads(self.scheduler_file.read_text())["address"]
        self.workers = [self.start_worker(k) for k in range(workers)]

    def _start(self, args, name):
        log = open(self.folder / f"{name}.log", "w")
        return subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_" + args[0], *args[1:]],
                                stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                start_new_session=True)

    def start_worker(self, k):
        """One worker process (a nanny and its worker, in a session of their own)."""
        return self._start(["worker", "--scheduler-file", str(self.scheduler_file),
                            "--nworkers", "1", "--nthreads", "1", "--memory-limit", "0",
                            "--no-dashboard", "--name", f"worker-{k}",
                            "--local-directory", str(self.folder / f"worker-{k}")], f"worker-{k}")

    def wait_for_workers(self, client, count, timeout=180):
        client.wait_for_workers(count, timeout=timeout)

    def kill_worker(self, k):
        """Kill worker k and everything it started (its grading kernels too), at once."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.workers[k].pid, signal.SIGKILL)
        self.workers[k].wait()

    def close(self):
        for process in [*self.workers, self.scheduler]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextlib.contextmanager
def dask_cluster(workers=2, env=None):
    """A LocalCluster of `workers` processes; yields it (its .address for a Client)."""
    folder = tempfile.mkdtemp(prefix="dask-cluster-")
    cluster = LocalCluster(folder, workers, dict(env or os.environ))
    try:
        yield cluster
    finally:
        cluster.close()
        shutil.rmtree(folder, ignore_errors=True)
