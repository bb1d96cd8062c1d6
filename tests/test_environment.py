"""The set-up files agree with each other and with the README."""
import os
import re
import subprocess

import yaml

from course.doctor import pinned_versions


def test_environment_yml_pins_the_same_packages_as_requirements(repo):
    env = yaml.safe_load((repo / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    from_yml = {}
    for spec in pip_section:
        name, _, version = spec.partition("==")
        assert version, f"environment.yml: '{spec}' is not pinned with =="
        from_yml[name.lower()] = version
    assert from_yml == pinned_versions(repo / "requirements.txt")
    assert "python=3.11" in env["dependencies"]


def test_every_requirement_is_pinned(repo):
    for line in (repo / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[^\s]+", line), f"requirements.txt: '{line}' is not pinned"


def test_torch_and_torchvision_are_the_paired_cpu_releases(repo):
    pins = pinned_versions(repo / "requirements.txt")
    assert pins["torch"] == "2.13.0" and pins["torchvision"] == "0.28.0"


def test_readme_starts_with_the_two_commands(repo):
    text = (repo / "README.md").read_text()
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", text, re.S)
    first_commands = [line.strip() for block in blocks[:2] for line in block.splitlines()
                      if line.strip() and not line.strip().startswith("#")]
    assert first_commands[:2] == ["./course.sh open", "./course.sh test"]
    assert text.index("./course.sh open") < 600, "the open command belongs at the top of the README"


def test_ci_runs_the_readme_test_command(repo):
    script = (repo / ".ci" / "run").read_text()
    assert "./course.sh test" in script
    assert os.access(repo / ".ci" / "run", os.X_OK) and os.access(repo / "course.sh", os.X_OK)


def test_course_sh_rejects_unknown_commands_and_bad_ports(repo):
    done = subprocess.run([str(repo / "course.sh"), "frobnicate"], capture_output=True, text=True)
    assert done.returncode == 2 and "unknown command 'frobnicate'" in done.stderr
    done = subprocess.run([str(repo / "course.sh"), "open", "--port", "80x"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1 and "port '80x' is not a number" in done.stderr


def test_course_sh_says_when_the_asked_port_is_taken(repo):
    import socket
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([str(repo / "course.sh"), "open", "--port", str(port)],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr
    assert f"--port {port + 1}" in done.stderr
