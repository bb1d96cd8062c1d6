import gzip
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from course import datasets
from course.doctor import Finding, _check_data, _check_fashion_mnist, report, run_checks


def test_everything_is_fine_in_the_course_environment():
    findings = run_checks()
    assert all(f.ok for f in findings), report(findings)


def test_report_says_what_to_fix():
    text = report([Finding(True, "Python", "3.11.7"),
                   Finding(False, "numpy", "1.0 installed, 2.4.6 expected", "run ./course.sh setup")])
    assert "✗ numpy: 1.0 installed, 2.4.6 expected\n    to fix: run ./course.sh setup" in text
    assert "1 problem(s) found" in text


def test_command_line_exit_code(repo):
    done = subprocess.run([sys.executable, "-m", "course.doctor"], capture_output=True, text=True, cwd=repo)
    assert done.returncode == 0 and "All good" in done.stdout


# Optional data: present is reported with where, absent is fine, corrupt is a problem

@pytest.fixture
def fashion_folder(tmp_path, monkeypatch):
    """An empty folder as COURSE_FASHION_MNIST, and no Debian folder."""
    monkeypatch.setattr(datasets, "FASHION_MNIST_DEBIAN", tmp_path / "no-debian-package")
    folder = tmp_path / "fashion"
    folder.mkdir()
    monkeypatch.setenv(datasets.FASHION_MNIST_ENV, str(folder))
    return folder


def write_fake_fashion(folder, n_train=3, n_test=2):
    """The four gzipped idx files of a tiny Fashion-MNIST (uint8 images 28x28, labels)."""
    for split, n in (("train", n_train), ("t10k", n_test)):
        for kind, shape in (("images-idx3", (n, 28, 28)), ("labels-idx1", (n,))):
            header = np.array([0x0800 + len(shape), *shape], dtype=">i4").tobytes()
            data = header + np.zeros(shape, dtype=np.uint8).tobytes()
            (folder / f"{split}-{kind}-ubyte.gz").write_bytes(gzip.compress(data))


def test_fashion_mnist_present_says_where(fashion_folder):
    write_fake_fashion(fashion_folder)
    found = _check_fashion_mnist()
    assert found.ok and found.detail == f"3 training and 2 test images in {fashion_folder}"


def test_fashion_mnist_absent_is_fine_and_says_how_to_get_it(fashion_folder):
    found = _check_fashion_mnist()
    assert found.ok and found.detail.endswith("sudo apt-get install dataset-fashion-mnist")
    assert "✓ Fashion-MNIST (optional): not installed" in report([found])


def test_fashion_mnist_corrupt_is_a_problem_naming_the_file(fashion_folder):
    write_fake_fashion(fashion_folder)
    path = fashion_folder / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:20])
    found = _check_fashion_mnist()
    assert not found.ok and f"{path}: not a complete gzip file" in found.detail
    assert "--reinstall dataset-fashion-mnist" in found.fix


def test_data_findings_name_every_data_set(fashion_folder):
    names = [f.name for f in _check_data()]
    assert names == ["bundled digits load", "bundled photographs load", "Fashion-MNIST (optional)",
                     "CIFAR-10 (optional)"]


def test_the_doctor_only_says_it_is_skipped_while_grading(monkeypatch, capsys):
    from course import doctor as module
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setattr(module, "run_checks", lambda: (_ for _ in ()).throw(AssertionError))
    module.doctor()
    assert capsys.readouterr().out.strip() == "Environment check skipped: this notebook is being graded."


def test_in_the_student_bundle_the_advice_is_the_bundles(tmp_path):
    """Installed from the bundle's wheel there is no course.sh: the doctor says what the
    bundle's README says, and compares with the bundle's requirements.txt."""
    import shutil
    site = tmp_path / "site-packages"
    shutil.copytree(pathlib.Path(__file__).resolve().parent.parent / "course", site / "course",
                    ignore=shutil.ignore_patterns("__pycache__"))
    bundle = tmp_path / "bundle"
    (bundle / "notebooks" / "01-convolution-basics").mkdir(parents=True)
    (bundle / "requirements.txt").write_text("numpy==0.0.1\n")
    script = ("from course import doctor as d\n"
              "print(d.IN_CHECKOUT); print(d.FIX_SETUP); print(d.WIDGETS_FIX); print(d.pinned_versions())")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=bundle / "notebooks" / "01-convolution-basics",
                          env={**os.environ, "PYTHONPATH": str(site)})
    assert done.returncode == 0, done.stderr
    in_checkout, fix, widgets_fix, pins = done.stdout.splitlines()
    assert in_checkout == "False"
    assert "course.sh" not in fix + widgets_fix and "pip install -r requirements.txt" in fix
    assert "README" in widgets_fix and pins == "{'numpy': '0.0.1'}"
