"""./course.sh setup and the optional Fashion-MNIST: Debian's package is installed when apt-get
can run without a prompt (root, or sudo without a password); otherwise one line gives the
command, and setup goes on. The function runs on its own, with stand-ins for apt-get, sudo and
id, so nothing is installed and the real folder does not matter."""
import os
import pathlib
import re
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
COMMAND = "sudo apt-get install dataset-fashion-mnist"


def course_sh_function(name):
    """The text of one shell function of course.sh: `name() { ...; }` on one line, or from
    `name() {` to the `}` that starts a line."""
    text = (REPO / "course.sh").read_text()
    match = re.search(rf"^{name}\(\) {{( [^\n]*; }}|\n.*?^}})\n", text, flags=re.M | re.S)
    assert match, f"course.sh has no function {name}()"
    return match.group(0)


def stand_in(folder, name, body):
    path = folder / name
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(0o755)


@pytest.fixture
def machine(tmp_path):
    """A fake machine: bin/ holds only what the test puts there (and env, mkdir, true); calls.log records
    every apt-get and sudo call; returns run(uid=..., apt=..., sudo=...) -> (stderr, calls)."""
    bin_dir, venv = tmp_path / "bin", tmp_path / "venv"
    bin_dir.mkdir()
    venv.mkdir()
    for tool in ("env", "mkdir", "true"):
        (bin_dir / tool).symlink_to(f"/usr/bin/{tool}")
    calls = tmp_path / "calls.log"
    folder = tmp_path / "fashion-mnist"

    def run(uid=1000, apt=None, sudo=None, present=False):
        stand_in(bin_dir, "id", f'[ "$1" = -u ] && echo {uid}\n')
        if apt is not None:          # apt: the exit status of `apt-get install`; update succeeds
            stand_in(bin_dir, "apt-get", f'echo "apt-get $*" >> {calls}\n'
                                         f'case " $* " in *" install "*) [ {apt} = 0 ] && mkdir -p {folder}; exit {apt};; esac\n')
        if sudo == "nopasswd":
            stand_in(bin_dir, "sudo", f'echo "sudo $*" >> {calls}\n[ "$1" = -n ] && shift\nexec "$@"\n')
        elif sudo == "password":     # sudo -n fails when a password would be asked
            stand_in(bin_dir, "sudo", f'echo "sudo $*" >> {calls}\nexit 1\n')
        if present:
            folder.mkdir(exist_ok=True)
        script = (f'set -euo pipefail\nVENV={venv}\nFASHION_MNIST_DIR={folder}\n'
                  + course_sh_function("say") + course_sh_function("install_fashion_mnist")
                  + "install_fashion_mnist\necho finished >&2\n")
        done = subprocess.run(["/bin/bash", "-c", script], capture_output=True, text=True,
                              env={"PATH": str(bin_dir), "HOME": str(tmp_path)})
        assert done.returncode == 0, done.stderr          # setup never fails for optional data
        assert done.stderr.endswith("finished\n"), done.stderr
        lines = calls.read_text().splitlines() if calls.exists() else []
        return done.stderr.removesuffix("finished\n"), lines, folder.is_dir()

    return run


def test_present_says_nothing_and_installs_nothing(machine):
    said, calls, present = machine(uid=0, apt=0, present=True)
    assert said == "" and calls == [] and present


def test_without_apt_get_it_prints_the_command(machine):
    said, calls, present = machine(uid=0)
    assert said.count("\n") == 1 and COMMAND in said and "the digits stand in" in said
    assert "COURSE_FASHION_MNIST" in said and not present


@pytest.mark.parametrize("sudo", [None, "password"], ids=["no-sudo", "sudo-asks-a-password"])
def test_a_prompt_would_be_needed_so_it_prints_the_command(machine, sudo):
    said, calls, present = machine(uid=1000, apt=0, sudo=sudo)
    assert said.count("\n") == 1 and COMMAND in said
    assert not any(call.startswith("apt-get") for call in calls) and not present
    if sudo:
        assert calls == ["sudo -n true"]                    # asked only whether it would prompt


def test_as_root_it_installs_the_package(machine):
    said, calls, present = machine(uid=0, apt=0)
    assert calls == ["apt-get -y -qq install dataset-fashion-mnist"] and present
    assert "installing Debian's dataset-fashion-mnist" in said and "Fashion-MNIST is in " in said


def test_with_sudo_without_password_it_installs_through_sudo(machine):
    said, calls, present = machine(uid=1000, apt=0, sudo="nopasswd")
    assert calls == ["sudo -n true",
                     "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get -y -qq install dataset-fashion-mnist",
                     "apt-get -y -qq install dataset-fashion-mnist"]
    assert present and "Fashion-MNIST is in " in said


def test_a_failed_install_updates_once_then_goes_on(machine, tmp_path):
    said, calls, present = machine(uid=0, apt=100)
    assert calls == ["apt-get -y -qq install dataset-fashion-mnist", "apt-get -y -qq update",
                     "apt-get -y -qq install dataset-fashion-mnist"]
    assert not present
    assert "could not be installed (see " in said and COMMAND in said
    assert os.path.exists(tmp_path / "venv" / "apt-fashion-mnist.log")
