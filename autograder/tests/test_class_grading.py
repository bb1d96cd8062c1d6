"""Grade a class of broken and hostile submissions in one run (autograder/tests/corpus.py).

One course, 01-convolution-basics, every corpus student: each student gets exactly the
expected score (never unearned marks), no run crashes, the feedback says what went wrong, every
student is graded once, and nothing outside a student's own folder changes.

Where Dask and PostgreSQL are installed (CI: COURSE_REQUIRE_CLUSTER=1), the class is graded
through a Dask cluster of two worker processes on 127.0.0.1 into a PostgreSQL gradebook
(autograder.cluster, autograder.localcluster), and one worker is killed mid-run (its students
are graded again elsewhere, once); a few of the hostile students are then also graded here with
SQLite (test_local_grading_gives_the_same_scores). Elsewhere the whole class is graded here,
with two worker threads and SQLite. The expected scores are the same table either way.
"""
import hashlib
import html
import os
import pathlib
import re

import pytest
from nbgrader.api import Gradebook

from autograder import cluster as cluster_tasks, grade_class, localcluster, sandbox
from autograder import nbgrader_steps as steps
from autograder.hidden import REFERENCES
from autograder.tests.corpus import CORPUS, FILE, FULL, NAME, build

ESCAPES = [pathlib.Path("/tmp/corpus-escape.txt"), pathlib.Path.home() / "corpus-escape.txt"]
TIMEOUTS = ["--Execute.timeout=15", "--ResilientExecute.notebook_timeout=240"]
LOCAL_FEW = ["perfect", "blank", "lying_array", "reads_references_runtime", "forges_records",
             "shortcut_scipy"]


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _on_cluster():
    lacks = localcluster.missing()
    if lacks and os.environ.get("COURSE_REQUIRE_CLUSTER"):
        pytest.fail(f"COURSE_REQUIRE_CLUSTER is set but this machine lacks {lacks}")
    return not lacks


ON_CLUSTER = _on_cluster()


@pytest.fixture(scope="module", autouse=True)
def sandboxed():
    """The corpus attacks the machine for real: grade it only inside bubblewrap."""
    if sandbox.bwrap_path() is None:
        message = "bubblewrap is not installed (sudo apt-get install bubblewrap)"
        if os.environ.get("COURSE_REQUIRE_SANDBOX"):
            pytest.fail(message)
        pytest.skip(message)
    before = os.environ.get("COURSE_SANDBOX")
    os.environ["COURSE_SANDBOX"] = "required"
    yield
    if before is None:
        del os.environ["COURSE_SANDBOX"]
    else:
        os.environ["COURSE_SANDBOX"] = before


@pytest.fixture(scope="module")
def backend(sandboxed):
    """Where the class is graded: {'db_url', 'client', 'cluster'} (None, None, None: here)."""
    if not ON_CLUSTER:
        yield {"db_url": None, "client": None, "cluster": None}
        return
    from distributed import Client
    env = steps.nbgrader_env()
    with localcluster.postgres() as db_url, localcluster.dask_cluster(2, env=env) as cluster, \
            Client(cluster.address) as client:
        cluster.wait_for_workers(client, 2)
        yield {"db_url": db_url, "client": client, "cluster": cluster}


def grade(backend, course, **kwargs):
    """grade_class on the backend's cluster and gradebook (or here, with SQLite)."""
    return grade_class.grade_class(course, NAME, db_url=backend["db_url"],
                                   scheduler=backend["client"], **kwargs)


def _killing_one_worker(backend, lines, killed):
    """A progress callback that, after the third student, kills a worker that is busy grading
    (noting the students it held) and starts a new one in its place."""
    def progress(line):
        lines.append(line)
        print(line)          # shown with the test's output when it fails (or with -s)
        done = [seen for seen in lines if seen.startswith("[")]
        if backend["cluster"] is None or killed or len(done) != 3:
            return
        client, cluster = backend["client"], backend["cluster"]
        busy = {address: keys for address, keys in client.processing().items() if keys}
        info = client.scheduler_info()["workers"]
        for k, process in enumerate(cluster.workers):
            addresses = [a for a, w in info.items() if w.get("name") == f"worker-{k}"]
            if addresses and addresses[0] in busy:
                killed.extend(cluster_tasks.task_student(key) for key in busy[addresses[0]])
                cluster.kill_worker(k)
                cluster.workers.append(cluster.start_worker(len(cluster.workers)))
                return
    return progress


@pytest.fixture(scope="module")
def graded(backend, tmp_path_factory):
    for path in ESCAPES:
        path.unlink(missing_ok=True)
    references = {p.name: _sha(p) for p in REFERENCES.glob("*.npz")}
    course = steps.make_course(tmp_path_factory.mktemp("class"), [NAME])
    db_args = [f"--CourseDirectory.db_url={backend['db_url']}"] if backend["db_url"] else []
    steps.run_nbgrader(course, "generate_assignment", NAME, "--force", *db_args)
    build(course / "release" / NAME / FILE, course / "source" / NAME / FILE,
          course / "submitted", tmp_path_factory.mktemp("scratch"))
    handed_in = {p.relative_to(course / "submitted"): p.read_bytes()
                 for p in (course / "submitted").rglob("*") if p.is_file()}
    lines, killed = [], []
    results = grade(backend, course, workers=2, progress=_killing_one_worker(backend, lines, killed),
                    nbgrader_args=TIMEOUTS + db_args)
    return dict(course=course, results={r.student: r for r in results}, lines=lines,
                references=references, handed_in=handed_in, killed=killed,
                db_url=backend["db_url"] or f"sqlite:///{course / 'gradebook.db'}",
                db_args=db_args)


def feedback_text(course, student):
    page = (course / "feedback" / student / NAME / FILE.replace(".ipynb", ".html")).read_text()
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_the_corpus_is_a_class_of_at_least_30():
    assert len(CORPUS) >= 30


def test_every_student_gets_exactly_the_expected_score(graded):
    got = {s: (r.status, r.score) for s, r in graded["results"].items()}
    wanted = {s: (case.status, float(case.score)) for s, case in CORPUS.items()}
    assert got == wanted


def test_no_run_crashed_and_everyone_was_graded(graded):
    assert not [r for r in graded["results"].values() if r.status == "failed"]
    assert set(graded["results"]) == set(CORPUS)


@pytest.mark.parametrize("student", [s for s, case in CORPUS.items() if case.says])
def test_feedback_says_what_went_wrong(graded, student):
    text = feedback_text(graded["course"], student)
    for phrase in CORPUS[student].says:
        assert phrase in text, f"{student}: {phrase!r} not in the feedback"


def test_progress_names_each_student_with_how_many_are_left(graded):
    done = [line for line in graded["lines"] if line.startswith("[")]
    assert len(done) == len(CORPUS)
    assert "0 left" in done[-1] and "elapsed" in done[-1]
    assert {line.split()[2] for line in done} == set(CORPUS)


def test_reference_outputs_are_unchanged(graded):
    assert {p.name: _sha(p) for p in REFERENCES.glob("*.npz")} == graded["references"]


def test_nothing_was_written_outside_the_students_folders(graded):
    assert not [p for p in ESCAPES if p.exists()]
    gradebook = graded["course"] / "gradebook.db"
    assert not gradebook.exists() or b"all grades gone" not in gradebook.read_bytes()


def test_every_student_is_graded_once(graded):
    """One submission per student, one grade per graded cell, even for the students whose
    worker was killed mid-run (they were graded again elsewhere)."""
    cells = None
    with Gradebook(graded["db_url"]) as gb:
        for student in CORPUS:
            submissions = [s for s in gb.find_student(student).submissions
                           if s.assignment.name == NAME]
            assert len(submissions) == 1, student
            counts = [len(nb.grades) for nb in submissions[0].notebooks]
            cells = cells or counts
            assert counts == cells, student


@pytest.mark.skipif(not ON_CLUSTER, reason="graded here, not on a cluster")
def test_a_worker_was_killed_and_its_students_graded_elsewhere(graded):
    assert graded["killed"], "no worker was busy when one was to be killed"
    for student in graded["killed"]:
        result = graded["results"][student]
        assert (result.status, result.score) == (CORPUS[student].status, float(CORPUS[student].score))


@pytest.mark.skipif(not ON_CLUSTER, reason="the whole class is graded here already")
def test_local_grading_gives_the_same_scores(tmp_path):
    """A few of the hostile students graded here, with SQLite: the same table."""
    course = steps.make_course(tmp_path / "class", [NAME])
    steps.generate_assignment(course, NAME)
    (tmp_path / "scratch").mkdir()
    build(course / "release" / NAME / FILE, course / "source" / NAME / FILE,
          course / "submitted", tmp_path / "scratch", students=LOCAL_FEW)
    results = grade_class.grade_class(course, NAME, workers=2, progress=lambda line: None,
                                      nbgrader_args=TIMEOUTS, check=False)
    assert {r.student: (r.status, r.score) for r in results} == \
        {s: (CORPUS[s].status, float(CORPUS[s].score)) for s in LOCAL_FEW}


def test_what_students_handed_in_is_kept_unchanged(graded):
    originals = graded["course"] / "originals"
    for relative, content in graded["handed_in"].items():
        assert (originals / relative).read_bytes() == content, relative


def test_the_report_lists_every_student(graded):
    report = (graded["course"] / "reports" / f"{NAME}.csv").read_text()
    assert all(f"\n{student}," in report for student in CORPUS)


def test_a_held_student_is_graded_normally_once_trusted(graded, backend):
    course = graded["course"]
    results = grade(backend, course, students=["redefines_checks"], trust={"redefines_checks"},
                    progress=lambda line: None, nbgrader_args=graded["db_args"])
    assert (results[0].status, results[0].score) == ("graded", float(FULL - 1))


def test_a_regrade_keeps_scores_the_instructor_changed_by_hand(graded, backend):
    course = graded["course"]
    with Gradebook(graded["db_url"]) as gb:
        gb.find_grade("a1_pad_image_tests", NAME, NAME, "perfect").manual_score = 0.5
        gb.db.commit()
    results = grade(backend, course, students=["perfect"], progress=lambda line: None,
                    nbgrader_args=graded["db_args"])
    assert (results[0].status, results[0].score) == ("graded", FULL - 0.5)
