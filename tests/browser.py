"""Run JupyterLab and drive it with headless Chromium (Debian's chromium, through Playwright).

Used by the browser tests. Without chromium or Playwright the tests are skipped, unless
COURSE_REQUIRE_BROWSER=1 (set by .ci/run), which turns a missing browser into a failure.
"""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOKEN = "course-browser-test"


def require_browser():
    """Skip (or fail, in CI) when chromium or Playwright is missing."""
    missing = []
    if not os.path.exists(CHROMIUM):
        missing.append("chromium (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install -r requirements-browser.txt)")
    if missing:
        message = "browser tests need " + " and ".join(missing)
        if os.environ.get("COURSE_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_lab(port, process, log_path, timeout=180):
    url = f"http://127.0.0.1:{port}/api/status?token={TOKEN}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer on port {port} within {timeout} s:\n"
                       f"{log_path.read_text()[-3000:]}")


@contextlib.contextmanager
def running_lab(command, log_path, port, cwd=None):
    """Start `command` (a JupyterLab server on `port`), yield its base URL, stop it by PID.

    The server is stopped through its own process group: `jupyter lab` wrappers start the
    real server as a child, and kernels are children of the server.
    """
    env = {**os.environ, "JUPYTER_TOKEN": TOKEN, "BROWSER": "true"}
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_lab(port, process, log_path)
        yield f"http://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextlib.contextmanager
def browser_page(width=1400, height=1000):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def run_all_cells(page):
    """Run > Run All Cells in the current notebook, once its kernel is ready."""
    page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for(timeout=90_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
