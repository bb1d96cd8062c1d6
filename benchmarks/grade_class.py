"""Throughput of class grading: a synthetic class of the whole course, 1 worker vs 2.

    .venv/bin/python benchmarks/grade_class.py                    (40 students, all 8)
    .venv/bin/python benchmarks/grade_class.py --students 4 --assignment 01-convolution-basics

Each student's notebook is the solved assignment with one exercise left undone (a different
one per student), so scores vary as in a real class. The same class is graded twice, in two
fresh course directories, with `autograder.grade_class` (sandboxed, as configured): once
with 1 worker and once with 2, each nbgrader command run in a fork of a warm server
(autograder.forkserver). With --fresh-processes the same class is first graded with a new
`nbgrader` process per command, as before the server, for comparison. Prints seconds per
submission for each and the speed-ups. With --cluster the class is also graded through a Dask
cluster of 2 worker processes on this machine into a PostgreSQL gradebook
(autograder.localcluster), and the projected wall time of 400 students x 8 assignments on 2, 16
and 64 cores is printed from the measured rate (assuming the rate per core stays as measured).
The check that grading works (the solution graded once per assignment, before any student)
is timed apart: it is a fixed cost per assignment, remembered between runs.

With --profile the 1-worker run also says where the seconds of one submission go, per
assignment and on average (autograder.profile): the sandboxed kernel's start, its first
cell (the imports), the exercise, test and other cells, the judge, nbgrader's own work
around them, and the class-wide prepare and feedback steps, per submission.
"""
import argparse
import os
import pathlib
import tempfile
import time

import nbformat

from autograder import grade_class, nbgrader_steps as steps, preflight, profile
from autograder.submissions import fill_in


def exercises(release_path):
    nb = nbformat.read(release_path, as_version=4)
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.cell_type == "code"
            and c.metadata.get("nbgrader", {}).get("solution")]


def build_class(course, names, students, scratch, db_args=()):
    """Generate each assignment and write `students` submissions of it; return the count."""
    count = 0
    for name in names:
        steps.run_nbgrader(course, "generate_assignment", name, "--force", *db_args)
        release = course / "release" / name / f"{name}.ipynb"
        source = course / "source" / name / f"{name}.ipynb"
        stubs = {c.metadata["nbgrader"]["grade_id"]: c.source
                 for c in nbformat.read(release, as_version=4).cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
        todo = exercises(release)
        for i in range(students):
            undone = todo[i % len(todo)] if todo else None
            replace = {undone: stubs[undone]} if undone else {}
            notebook = fill_in(release, source, scratch / f"{name}-{i}.ipynb", replace=replace)
            steps.submit(course, f"student{i:03d}", name, notebook, filename=release.name)
            count += 1
    return count


PROFILE_COLUMNS = ("kernel start", "kernel ready", "setup cells", "exercise cells", "test cells",
                   "other cells", "judge", "kernel stop, rest", "nbgrader's own work", "prepare",
                   "feedback", "total")


def print_profile(label, summary):
    """One row of the profile table: seconds per submission of each phase."""
    print(f"  {label:<24}" + "".join(f"{summary.get(c, 0.0):>9.2f}" for c in PROFILE_COLUMNS))


def grade_everything(workers, names, students, db_url=None, client=None, profiled=False):
    """Grade a synthetic class here (or on the cluster of `client`, gradebook `db_url`);
    (submissions, seconds, failed). profiled: print where the seconds went, per assignment."""
    db_args = [f"--CourseDirectory.db_url={db_url}"] if db_url else []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        course = steps.make_course(tmp / "course", names)
        (tmp / "scratch").mkdir()
        count = build_class(course, names, students, tmp / "scratch", db_args)
        for name in names:
            began = time.perf_counter()
            preflight.check_grading_works(course, name, progress=lambda line: None)
            print(f"  {name}: grading checked on the solution in "
                  f"{time.perf_counter() - began:.1f} s")
        start = time.perf_counter()
        failed, summaries = 0, []
        for name in names:
            if profiled:
                os.environ[profile.ENV] = str(tmp / f"profile-{name}.jsonl")
            try:
                results = grade_class.grade_class(course, name, workers=workers, db_url=db_url,
                                                  scheduler=client, nbgrader_args=db_args,
                                                  progress=lambda line: None)
            finally:
                os.environ.pop(profile.ENV, None)
            failed += sum(r.status == "failed" for r in results)
            took = sum(r.seconds for r in results)
            print(f"  {name}: {len(results)} graded, {took / len(results):.1f} s of autograde "
                  f"each, {failed} failed so far")
            if profiled:
                records = profile.read(tmp / f"profile-{name}.jsonl")
                summaries.append((name, profile.summarize(records)))
                slowest = next((r["slowest cells"] for r in records if r["step"] == "execute"), [])
                print("    slowest cells of one submission: "
                      + "; ".join(f"cell {i} {s:.1f} s ({line})" for s, i, line in slowest))
        if profiled:
            print("  seconds per submission:\n  " + " " * 24
                  + "".join(f"{c[:8]:>9}" for c in PROFILE_COLUMNS))
            for name, summary in summaries:
                print_profile(name, summary)
            mean = {c: sum(s.get(c, 0.0) for _, s in summaries) / len(summaries) for c in PROFILE_COLUMNS}
            print_profile("mean of the assignments", mean)
        return count, time.perf_counter() - start, failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--assignment", action="append",
                        help="grade only these (repeatable; default: the whole course)")
    parser.add_argument("--fresh-processes", action="store_true",
                        help="also grade with a new nbgrader process per command (1 worker)")
    parser.add_argument("--profile", action="store_true",
                        help="say where the seconds of a submission go (1-worker run)")
    parser.add_argument("--only-one-worker", action="store_true",
                        help="grade with 1 worker only (no speed-up figure)")
    parser.add_argument("--cluster", action="store_true",
                        help="also grade on a local Dask cluster (2 workers, PostgreSQL)")
    args = parser.parse_args(argv)
    names = args.assignment or steps.assignments()
    print(f"{args.students} students x {len(names)} assignments")
    runs = [("fresh", 1)] if args.fresh_processes else []
    runs += [("server", 1)] if args.only_one_worker else [("server", 1), ("server", 2)]
    timings = {}
    for mode, workers in runs:
        label = f"{workers} worker(s), " + (
            "a new nbgrader process per command" if mode == "fresh" else "warm nbgrader server")
        print(f"{label}:")
        steps._close_servers()  # every run starts its servers from nothing
        os.environ["COURSE_FORKSERVER"] = "0" if mode == "fresh" else "1"
        count, seconds, failed = grade_everything(workers, names, args.students,
                                                  profiled=args.profile and workers == 1)
        timings[mode, workers] = seconds
        print(f"{label}: {count} submissions in {seconds:.1f} s = "
              f"{seconds / count:.2f} s per submission ({failed} failed)")
    if args.cluster:
        label = "Dask cluster of 2 worker processes, PostgreSQL gradebook"
        print(f"{label}:")
        count, seconds, failed = grade_on_local_cluster(names, args.students)
        timings["cluster", 2] = seconds
        print(f"{label}: {count} submissions in {seconds:.1f} s = "
              f"{seconds / count:.2f} s per submission ({failed} failed)")
    if ("server", 2) in timings:
        print(f"speed-up with 2 workers: {timings['server', 1] / timings['server', 2]:.2f}x")
    if args.cluster:
        print(f"cluster (2 workers) against 1 local worker: "
              f"{timings['server', 1] / timings['cluster', 2]:.2f}x")
    if args.fresh_processes:
        print(f"speed-up of the warm server (1 worker): "
              f"{timings['fresh', 1] / timings['server', 1]:.2f}x")
    best = min(seconds for (mode, _), seconds in timings.items() if mode != "fresh")
    per_core = count / best / 2          # submissions per second per core, 2 cores busy
    for cores in (2, 16, 64):
        hours = 400 * 8 / (per_core * cores) / 3600
        print(f"projected: 400 students x 8 assignments on {cores:>2} cores: {hours:5.1f} h")


def grade_on_local_cluster(names, students):
    from distributed import Client

    from autograder import localcluster
    lacks = localcluster.missing()
    if lacks:
        raise SystemExit(f"--cluster needs {lacks}")
    with localcluster.postgres() as db_url, \
            localcluster.dask_cluster(2, env=steps.nbgrader_env()) as cluster, \
            Client(cluster.address) as client:
        cluster.wait_for_workers(client, 2)
        return grade_everything(2, names, students, db_url=db_url, client=client)


if __name__ == "__main__":
    main()
