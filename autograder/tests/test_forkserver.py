"""nbgrader commands in forks of a warm server: same results as a fresh process, each in its
own folder and environment, killed on time-out, and a fallback when the server is gone."""
import pytest

from autograder import forkserver, nbgrader_steps as steps


@pytest.fixture
def server():
    server = forkserver.Server()
    yield server
    server.close()


def env():
    return steps.nbgrader_env()


def test_a_command_runs_in_its_own_folder_and_environment(server, tmp_path):
    for name in ("a", "b"):
        course = steps.make_course(tmp_path / name, ["01-convolution-basics"])
        code, output = server.run(["generate_assignment", "01-convolution-basics", "--force"],
                                  course, env(), timeout=600)
        assert code == 0, output
        assert (course / "release" / "01-convolution-basics").is_dir()
    code, output = server.run(["autograde", "no-such-assignment"], tmp_path / "a", env(),
                              timeout=600)
    assert code == 1 and "No notebooks were matched" in output


def test_a_command_past_its_time_is_killed_and_the_server_goes_on(server, tmp_path):
    code, output = server.run(["--help-all"], tmp_path, env(), timeout=0.01)
    assert code == -9 and "killed after" in output
    code, output = server.run(["--version"], tmp_path, env(), timeout=600)
    assert code == 0 and output.strip()


def test_run_nbgrader_falls_back_to_a_process_when_the_server_is_gone(tmp_path, monkeypatch):
    dead = forkserver.Server()
    dead.process.kill()
    dead.process.wait()
    monkeypatch.setattr(steps, "_idle_servers", [(tmp_path.resolve(), dead)])
    assert steps.run_nbgrader(tmp_path, "--version").strip()
    with pytest.raises(steps.StepFailed, match="No notebooks were matched"):
        steps.run_nbgrader(tmp_path, "autograde", "no-such-assignment")


def test_a_server_imports_the_packages_of_the_folder_it_serves(tmp_path):
    """As `python -m nbgrader` would: a course checkout's own autograder comes first."""
    fake = tmp_path / "checkout" / "autograder"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "forkserver.py").write_text(
        "import json, sys\n"
        "sys.stdin.readline()\n"
        "print(json.dumps({'code': 0, 'output': 'the checkout s own'}), flush=True)\n")
    server = forkserver.Server(env=env(), cwd=tmp_path / "checkout")
    try:
        assert server.run(["--version"], tmp_path, env(), timeout=60) == (0, "the checkout s own")
    finally:
        server.close()
