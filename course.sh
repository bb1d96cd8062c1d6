#!/usr/bin/env bash
# The course's front door.
#   ./course.sh open [--port N]   set up if needed, then JupyterLab on the student notebooks
#   ./course.sh test [ARGS]       set up if needed, then every test (ARGS go to pytest);
#                                 the browser tests need chromium (/usr/bin/chromium)
#   ./course.sh doctor            check the environment and say what to fix
#   ./course.sh check [NN ...]    grade your own notebook(s) in release/ with the hidden tests
#                                 (a copy; yours is not changed); no NN: every one you began
#   ./course.sh progress          your points per notebook, from every check so far
#   ./course.sh instructor        set up if needed, then JupyterLab at the course root with the
#                                 formgrader (instructors: free-response grading)
#   ./course.sh release           regenerate release/ from source/ (instructors)
#   ./course.sh bundle [--out DIR] [NN ...]  the zip to hand out to a class (instructors)
#   ./course.sh setup             only create or update the environment in .venv/
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
STAMP="$VENV/.course-setup"
FASHION_MNIST_DIR=/usr/share/datasets/fashion-mnist   # Debian's dataset-fashion-mnist puts it here

export PATH="$VENV/bin:$PATH"  # the environment's programs first (nbgrader runs alembic by name)

say() { printf '[course] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

find_python() {
    local candidate
    for candidate in "${COURSE_PYTHON:-}" python3.11 python3 python; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

pip_install() {
    # This machine's pip configuration names package folders that may be absent; pip warns
    # about each one. Those lines are noise here; every other line is shown.
    "$PY" -m pip install --quiet --disable-pip-version-check "$@" 2>&1 \
        | { grep -v "is neither a file nor a directory" || true; }
    return "${PIPESTATUS[0]}"
}

setup_fingerprint() {
    cat "$ROOT/requirements.txt" "$ROOT/pyproject.toml" "$ROOT/setup/lab-overrides.json" | sha256sum | cut -d' ' -f1
}

install_fashion_mnist() {
    # Optional data: Debian's dataset-fashion-mnist, when apt-get can run without a prompt (root,
    # or sudo without a password). Never fails setup; apt's output goes to a log.
    local folder="$FASHION_MNIST_DIR" log="$VENV/apt-fashion-mnist.log" run=()
    local hint="to get it: sudo apt-get install dataset-fashion-mnist (Debian/Ubuntu), or set COURSE_FASHION_MNIST to a folder holding its four idx files"
    local absent="optional: Fashion-MNIST is not installed (the digits stand in); $hint"
    [ -d "$folder" ] && return 0
    command -v apt-get >/dev/null 2>&1 || { say "$absent"; return 0; }
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || { say "$absent"; return 0; }
        run=(sudo -n)
    fi
    run+=(env DEBIAN_FRONTEND=noninteractive apt-get -y -qq)
    say "installing Debian's dataset-fashion-mnist (optional data; log: $log)"
    # Without apt-get update first: fast when the package lists are fresh; update only if needed.
    if "${run[@]}" install dataset-fashion-mnist >"$log" 2>&1 \
        || { "${run[@]}" update >>"$log" 2>&1 && "${run[@]}" install dataset-fashion-mnist >>"$log" 2>&1; }; then
        say "Fashion-MNIST is in $folder"
    else
        say "dataset-fashion-mnist could not be installed (see $log); the digits stand in; $hint"
    fi
}

setup() {
    local want
    want="$(setup_fingerprint)"
    if [ -x "$PY" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
        return 0
    fi
    local python
    python="$(find_python)" || die "Python 3.11 is needed (the PyTorch 2.13.0 CPU build is for 3.11).
Install it, or point COURSE_PYTHON at it: COURSE_PYTHON=/path/to/python3.11 ./course.sh $*"
    local started=$SECONDS
    if [ ! -x "$PY" ]; then
        say "creating the environment in .venv/ with $python"
        "$python" -m venv "$VENV"
    fi
    say "installing the pinned packages (first time: a few minutes)"
    # torch on its own first: with 2.13.0 (CPU) in place, nothing later can pull a CUDA build.
    pip_install torch==2.13.0
    pip_install -r "$ROOT/requirements.txt"
    pip_install --no-deps -e "$ROOT"
    # JupyterLab settings for an offline course: no news feed, no update check, no prompts.
    mkdir -p "$VENV/share/jupyter/lab/settings"
    cp "$ROOT/setup/lab-overrides.json" "$VENV/share/jupyter/lab/settings/overrides.json"
    "$PY" -c 'import torch, sys; v = torch.__version__; sys.exit(0 if v.startswith("2.13.0") else f"torch {v} was installed instead of 2.13.0")'
    install_fashion_mnist
    echo "$want" > "$STAMP"
    say "environment ready in $((SECONDS - started)) s"
}

setup_browser_tests() {
    # The browser tests drive Debian's chromium with Playwright; installed only for testing.
    local stamp="$VENV/.course-browser" want
    want="$(sha256sum "$ROOT/requirements-browser.txt" | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    pip_install -r "$ROOT/requirements-browser.txt"
    echo "$want" > "$stamp"
}

setup_cluster_tests() {
    # Dask and the PostgreSQL driver, for the tests of grading on a cluster; installed only for
    # testing (an instructor who grades on a cluster installs requirements-cluster.txt too).
    local stamp="$VENV/.course-cluster" want
    want="$(sha256sum "$ROOT/requirements-cluster.txt" | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    pip_install -r "$ROOT/requirements-cluster.txt"
    echo "$want" > "$stamp"
}

port_is_free() {
    "$PY" - "$1" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

choose_port() {
    # The port to serve on: --port N as asked (refused when busy), else 8888 or the next free.
    local port=8888 asked=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --port) [ $# -ge 2 ] || die "--port needs a number, e.g. --port 8890"; port="$2"; asked=1; shift 2 ;;
            --port=*) port="${1#--port=}"; asked=1; shift ;;
            *) die "unknown option '$1' (try: --port 8890)" ;;
        esac
    done
    [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1024 ] && [ "$port" -le 65535 ] \
        || die "port '$port' is not a number between 1024 and 65535"
    if ! port_is_free "$port"; then
        [ -n "$asked" ] && die "port $port on 127.0.0.1 is already in use. Stop what is using it, or pick another: --port $((port + 1))"
        local first=$port
        while ! port_is_free "$port"; do
            port=$((port + 1))
            [ "$port" -le $((first + 50)) ] || die "ports $first-$port are all in use; pick a free one with --port N"
        done
        say "port $first is in use (another Jupyter?), so JupyterLab opens on port $port"
    fi
    echo "$port"
}

start_lab() {
    # start_lab PORT ROOT_DIR DEFAULT_URL [JUPYTER ARGS...]: JupyterLab, offline, on 127.0.0.1.
    local port=$1 root_dir=$2 url=$3
    shift 3
    local extra=()
    [ "$(id -u)" = 0 ] && extra+=(--allow-root)
    say "JupyterLab on http://127.0.0.1:$port$url (Ctrl+C twice to stop)"
    cd "$ROOT"  # where nbgrader finds nbgrader_config.py (Validate button, formgrader)
    # The course runs offline: no news feed, no update check.
    exec "$VENV/bin/jupyter-lab" --ip=127.0.0.1 --port="$port" --ServerApp.port_retries=0 \
        --ServerApp.root_dir="$root_dir" --LabApp.default_url="$url" \
        --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
        "${extra[@]}" "$@"
}

open_course() {
    local port first_notebook
    port="$(choose_port "$@")"
    first_notebook="$(cd "$ROOT/release" && ls -1 */*.ipynb 2>/dev/null | sort | head -n 1)"
    [ -n "$first_notebook" ] || die "release/ has no notebooks; instructors make them with ./course.sh release"
    # Student tools only: no formgrader, no Create Assignment (setup/student-lab/README.md).
    export JUPYTER_CONFIG_PATH="$ROOT/setup/student-lab${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"
    start_lab "$port" "$ROOT/release" "/lab/tree/$first_notebook"
}

open_instructor() {
    # The course root with nbgrader's formgrader. Without nbgrader's exchange (a course on an
    # LMS, not on JupyterHub) a local one in instructor/ keeps the formgrader from warning.
    local port exchange=()
    port="$(choose_port "$@")"
    if [ ! -d /srv/nbgrader/exchange ] && ! grep -q '^c.Exchange.root' "$ROOT/nbgrader_config.py"; then
        mkdir -p "$ROOT/instructor/exchange"
        exchange=(--Exchange.root="$ROOT/instructor/exchange")
        say "no nbgrader exchange (/srv/nbgrader/exchange): using instructor/exchange (JupyterHub courses set c.Exchange.root)"
    fi
    start_lab "$port" "$ROOT" "/formgrader" "${exchange[@]}"
}

cmd="${1:-help}"
[ $# -gt 0 ] && shift
case "$cmd" in
    setup) setup ;;
    open) setup; open_course "$@" ;;
    instructor) setup; open_instructor "$@" ;;
    test)
        setup
        setup_browser_tests
        setup_cluster_tests
        cd "$ROOT"
        exec "$PY" -m pytest "$@" ;;
    doctor) setup; exec "$PY" -m course.doctor ;;
    check) setup; cd "$ROOT"; exec "$PY" -m autograder.selfcheck "$@" ;;
    progress) setup; cd "$ROOT"; exec "$PY" -m autograder.selfcheck --progress ;;
    release) setup; cd "$ROOT"; exec "$PY" -m autograder.release "$@" ;;
    bundle) setup; exec "$PY" -m autograder.bundle "$@" ;;  # --out is relative to where you are
    help|-h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) say "unknown command '$cmd'"; sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
