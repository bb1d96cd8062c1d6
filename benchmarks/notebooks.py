"""Every source notebook top to bottom in full mode (not quick mode), timed cell by cell.

    .venv/bin/python benchmarks/notebooks.py [07-training-cnns ...] [--top 3] [--save DIR]

Targets (a quiet 2-core machine): the whole course within 6 minutes, no single cell over 90 s.
Prints, per notebook, its wall time and its slowest cells; then the total, the load average
before and after (a busy machine makes every figure larger), and whether the targets were met.
--save DIR keeps each executed notebook, with its outputs, in DIR (to check the figures the
text quotes). The suite runs the same notebooks in quick mode (tests/test_notebooks.py); this
is where the full sizes are measured.
"""
import argparse
import os
import pathlib
import sys
import time
from datetime import datetime

import nbformat
from nbclient import NotebookClient

REPO = pathlib.Path(__file__).resolve().parent.parent
COURSE_SECONDS, CELL_SECONDS = 6 * 60, 90


def cell_seconds(cell):
    """Seconds one executed cell took, from the timestamps nbclient records."""
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda stamp: datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (parse(end) - parse(start)).total_seconds()


def run_notebook(path, save=None):
    """Execute one notebook in full mode (written to the folder `save` if given).
    Returns (wall seconds, [(seconds, cell index, first line)], slowest first)."""
    env_quick = os.environ.pop("COURSE_QUICK", None)
    try:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=1800, kernel_name="python3", record_timing=True,
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        client.execute()
        wall = time.perf_counter() - start
    finally:
        if env_quick is not None:
            os.environ["COURSE_QUICK"] = env_quick
    if save is not None:
        nbformat.write(nb, pathlib.Path(save) / path.name)
    cells = [(cell_seconds(c), i, (c.source.splitlines() or [""])[0][:60])
             for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    return wall, sorted(cells, reverse=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="assignments (default: all of source/)")
    parser.add_argument("--top", type=int, default=3, help="slowest cells to list per notebook")
    parser.add_argument("--save", type=pathlib.Path, help="keep the executed notebooks in this folder")
    args = parser.parse_args(argv)
    folders = sorted(p for p in (REPO / "source").iterdir() if p.is_dir())
    if args.names:
        unknown = set(args.names) - {p.name for p in folders}
        if unknown:
            parser.error(f"no such assignment: {', '.join(sorted(unknown))} "
                         f"(choose from {', '.join(p.name for p in folders)})")
        folders = [p for p in folders if p.name in args.names]
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    total, slowest = 0.0, 0.0
    for folder in folders:
        wall, cells = run_notebook(folder / f"{folder.name}.ipynb", args.save)
        total += wall
        slowest = max(slowest, cells[0][0] if cells else 0.0)
        print(f"{folder.name:<28} {wall:7.1f} s   slowest: "
              + "; ".join(f"cell {i} {s:.1f} s ({line})" for s, i, line in cells[:args.top]))
        sys.stdout.flush()
    print(f"total {total:.1f} s for {len(folders)} notebook(s); slowest cell {slowest:.1f} s; "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    if len(folders) == len(list((REPO / "source").iterdir())):
        print(f"targets: course within {COURSE_SECONDS} s: {'met' if total <= COURSE_SECONDS else 'NOT met'}; "
              f"no cell over {CELL_SECONDS} s: {'met' if slowest <= CELL_SECONDS else 'NOT met'}")


if __name__ == "__main__":
    main()
