"""Your progress: the checks you ran and the hints you took, as a table or a figure.

    from course.progress import show_progress
    show_progress()            # in a notebook: points per notebook, and the score over time
    progress_table()           # the same as lines of text (what ./course.sh progress prints)

Both read the progress folder (`progress_folder()`): history.jsonl, one line per
`./course.sh check` ({"time", "assignment", "points", "max"}: points per exercise), and
hints.jsonl, one line per hint taken (`course.hints`). Setting the environment up again
keeps the folder. A damaged line costs that line only.

Text and counting only: nothing here computes or holds a graded answer.
"""
import json
import os
import pathlib

from course.mode import is_grading

__all__ = ["progress_folder", "course_notebooks", "checks", "hints", "summary", "progress_table",
           "score_over_time", "show_progress"]

CHECKS_NAME = "history.jsonl"
HINTS_NAME = "hints.jsonl"


def _course_root(start):
    for folder in (start, *start.parents):
        if (folder / "course.sh").is_file() and (folder / "release").is_dir():
            return folder
    return None


def progress_folder(root=None):
    """$COURSE_PROGRESS if set; else progress/ in the course root (`root`, or the first folder
    above the current one that holds course.sh and release/); else ~/.cnn-course/progress."""
    override = os.environ.get("COURSE_PROGRESS")
    if override:
        return pathlib.Path(override).expanduser()
    root = pathlib.Path(root) if root is not None else _course_root(pathlib.Path.cwd().resolve())
    if root is not None:
        return root / "progress"
    return pathlib.Path.home() / ".cnn-course" / "progress"


def _read(path):
    entries = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
    return entries


def checks(folder=None):
    """[entry] of every check, oldest first (entries without points are skipped)."""
    folder = pathlib.Path(folder) if folder is not None else progress_folder()
    return [e for e in _read(folder / CHECKS_NAME)
            if isinstance(e.get("points"), dict) and isinstance(e.get("max"), dict)
            and isinstance(e.get("assignment"), str)]


def hints(folder=None):
    """{exercise: the highest hint level taken so far}; a hint shown again counts once."""
    folder = pathlib.Path(folder) if folder is not None else progress_folder()
    taken = {}
    for entry in _read(folder / HINTS_NAME):
        try:
            exercise, level = entry["exercise"], int(entry["level"])
        except (ValueError, TypeError, KeyError):
            continue
        if isinstance(exercise, str):
            taken[exercise] = max(level, taken.get(exercise, 0))
    return taken


def _number(name):
    """The notebook number of an assignment ("03-convolution-backward") or exercise id
    ("a3_conv_backward_naive"), or None."""
    digits = name[1:].split("_")[0] if name.startswith("a") else name.split("-")[0]
    return int(digits) if digits.isdigit() else None


def course_notebooks():
    """The notebooks of the course root above the current folder (release/NN-name), in
    order; () outside a course."""
    root = _course_root(pathlib.Path.cwd().resolve())
    if root is None:
        return ()
    return tuple(sorted(p.name for p in (root / "release").iterdir()
                        if p.is_dir() and any(p.glob("*.ipynb"))))


def summary(folder=None, notebooks=None):
    """One dict per notebook (those named, default `course_notebooks()`, then any other
    checked): points and max of the latest check (None if never checked), open exercises,
    number of checks, hints taken, time of the latest check."""
    folder = pathlib.Path(folder) if folder is not None else progress_folder()
    notebooks = course_notebooks() if notebooks is None else tuple(notebooks)
    history, taken = checks(folder), hints(folder)
    names = list(notebooks) + sorted({e["assignment"] for e in history} - set(notebooks))
    rows = []
    for name in names:
        mine = [e for e in history if e["assignment"] == name]
        latest = mine[-1] if mine else None
        row = {"notebook": name, "checks": len(mine), "points": None, "max": None, "open": None,
               "last": latest["time"].replace("T", " ") if latest else "",
               "hints": sum(level for exercise, level in taken.items()
                            if _number(exercise) == _number(name))}
        if latest:
            points, most = latest["points"], latest["max"]
            row.update(points=sum(points.values()), max=sum(most.values()),
                       open=sum(points[k] < most.get(k, 0) for k in points))
        rows.append(row)
    return rows


def progress_table(folder=None, notebooks=None):
    """Lines of text: per notebook the latest points out of the maximum, open exercises,
    checks, hints taken and when it was last checked."""
    rows = summary(folder, notebooks)
    if not any(row["checks"] or row["hints"] for row in rows):
        return ["No checks and no hints yet. Where you have the whole course repository,",
                "./course.sh check 01 grades your copy of notebook 01 with the hidden tests;",
                'hint("a1_pad_image") gives a first hint and is counted here.']
    lines = [f"{'notebook':<26} {'points':>9}  {'open':>4}  {'checks':>6}  {'hints':>5}  last checked"]
    for row in rows:
        points = f"{row['points']:>4g}/{row['max']:<4g}" if row["checks"] else f"{'-':>9}"
        still_open = "" if row["open"] is None else row["open"]
        lines.append(f"{row['notebook']:<26} {points}  {still_open:>4}  {row['checks']:>6}  "
                     f"{row['hints']:>5}  {row['last']}")
    return lines


def score_over_time(folder=None):
    """[(time, total points, total max)] after each check: the latest check of every
    notebook checked so far, added up."""
    latest, series = {}, []
    for entry in checks(folder):
        latest[entry["assignment"]] = entry
        series.append((entry["time"].replace("T", " "),
                       sum(sum(e["points"].values()) for e in latest.values()),
                       sum(sum(e["max"].values()) for e in latest.values())))
    return series


def show_progress(folder=None, notebooks=None):
    """Draw the points of each notebook out of its maximum, and the score over time; print
    the table below. Returns the figure (None when there is nothing yet, or while graded)."""
    if is_grading():
        return None
    rows = summary(folder, notebooks)
    print("\n".join(progress_table(folder, notebooks)))
    checked = [row for row in rows if row["checks"]]
    if not checked:
        return None
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    names = [row["notebook"][:2] for row in checked]
    left.barh(names, [row["max"] for row in checked], color="0.88", label="maximum")
    left.barh(names, [row["points"] for row in checked], color="tab:blue", label="your points")
    for k, row in enumerate(checked):
        left.text(row["max"], k, f" {row['points']:g}/{row['max']:g}, {row['open']} open",
                  va="center", fontsize=9)
    left.invert_yaxis()
    left.set_xlim(0, 1.45 * max(row["max"] for row in checked))
    left.set_xlabel("autograded points (latest check)")
    left.set_title("Points per notebook")
    left.legend(loc="lower right", fontsize=8)
    series = score_over_time(folder)
    steps = range(1, len(series) + 1)
    right.plot(steps, [s[1] for s in series], "o-", label="your points")
    right.plot(steps, [s[2] for s in series], "--", color="0.6",
               label="maximum of the notebooks checked")
    right.xaxis.set_major_locator(MaxNLocator(integer=True))
    right.set_ylim(0, 1.1 * max(s[2] for s in series))
    right.set_xlabel("check number")
    right.set_ylabel("points")
    right.set_title("Score over time")
    right.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
