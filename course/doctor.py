"""Check that the course environment works, and say in plain words what to fix.

In a notebook:      from course.doctor import doctor; doctor()
From a terminal:    ./course.sh doctor      (or: python -m course.doctor)
"""
import importlib.metadata
import pathlib
import re
import sys
from dataclasses import dataclass

from course.mode import is_grading

REPO = pathlib.Path(__file__).resolve().parent.parent
IN_CHECKOUT = (REPO / "course.sh").exists()   # else installed from the student bundle's wheel
FIX_SETUP = ("run ./course.sh setup in the course folder (it installs the pinned versions)"
             if IN_CHECKOUT else
             "in the folder you unzipped, run .venv/bin/pip install -r requirements.txt (the "
             "pinned versions; its README.md has the whole set-up)")
WIDGETS_FIX = ("open the course with ./course.sh open (JupyterLab 4 with ipywidgets 8)" if IN_CHECKOUT
               else "open the notebooks as the bundle's README.md says (JupyterLab 4 with ipywidgets 8)")


def requirements_file():
    """requirements.txt of the checkout, or, for the bundle, the first one in the current
    folder or above it (JupyterLab runs a notebook in notebooks/<NN>/ of the bundle)."""
    if IN_CHECKOUT:
        return REPO / "requirements.txt"
    here = pathlib.Path.cwd().resolve()
    for folder in [here, *here.parents][:4]:
        if (folder / "requirements.txt").exists():
            return folder / "requirements.txt"
    return REPO / "requirements.txt"


@dataclass
class Finding:
    ok: bool
    name: str
    detail: str
    fix: str = ""


def pinned_versions(requirements=None):
    """The `name==version` pins of requirements.txt (requirements_file()), as {name: version}."""
    requirements = requirements_file() if requirements is None else requirements
    pins = {}
    for line in pathlib.Path(requirements).read_text().splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s#;]+)", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def _check_python():
    ok = sys.version_info[:2] == (3, 11)
    return Finding(ok, "Python", sys.version.split()[0],
                   "" if ok else "the course needs Python 3.11; " + FIX_SETUP)


def _check_versions():
    findings = []
    try:
        pins = pinned_versions()
    except FileNotFoundError:
        return [Finding(True, "package versions", "requirements.txt not found; versions not compared")]
    for name, want in pins.items():
        try:
            have = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            findings.append(Finding(False, name, "not installed", FIX_SETUP))
            continue
        if have.split("+")[0] != want:
            findings.append(Finding(False, name, f"{have} installed, {want} expected", FIX_SETUP))
    if not findings:
        findings.append(Finding(True, "pinned packages", f"all {len(pins)} at the versions of requirements.txt"))
    return findings


def _check_torch():
    try:
        import torch
        import torch.nn.functional as F

        out = F.conv2d(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 3, 3))
        assert out.shape == (1, 1, 2, 2) and float(out[0, 0, 0, 0]) == 9.0
    except Exception as err:  # the doctor reports every failure instead of stopping
        return Finding(False, "PyTorch runs a convolution", f"{type(err).__name__}: {err}", FIX_SETUP)
    device = "GPU available" if torch.cuda.is_available() else "CPU (no GPU: fine for this course)"
    return Finding(True, "PyTorch runs a convolution", device)


def _check_torchvision():
    try:
        from course.torchvision_compat import compat_active, import_torchvision

        torchvision = import_torchvision()
        from torchvision.transforms import v2  # noqa: F401
    except Exception as err:
        return Finding(False, "torchvision imports", f"{type(err).__name__}: {err}", FIX_SETUP)
    note = " (CPU operator shim active)" if compat_active() else ""
    return Finding(True, "torchvision imports", torchvision.__version__ + note)


def _check_data():
    findings = []
    try:
        from course.data import load_digits

        x, y = load_digits()
        findings.append(Finding(x.shape == (1797, 1, 8, 8), "bundled digits load",
                                f"{len(x)} images of 8x8 pixels", FIX_SETUP))
    except Exception as err:
        findings.append(Finding(False, "bundled digits load", f"{type(err).__name__}: {err}", FIX_SETUP))
    try:
        from course.data import load_photo

        photo = load_photo("camera")
        findings.append(Finding(True, "bundled photographs load", f"camera {photo.shape}"))
    except Exception as err:
        findings.append(Finding(False, "bundled photographs load", f"{type(err).__name__}: {err}", FIX_SETUP))
    findings.append(_check_fashion_mnist())
    findings.append(Finding(True, "CIFAR-10 (optional)",
                            "read only from a folder you name (dataset_or_digits(\"CIFAR10\", DIR), "
                            "DIR/cifar-10-batches-py/...)"))
    return findings


def _check_fashion_mnist():
    """Optional data: absent is fine (the digits stand in); present but corrupt is a problem."""
    name = "Fashion-MNIST (optional)"
    try:
        from course.datasets import find_fashion_mnist, load_fashion_mnist

        where = find_fashion_mnist()
        if where is None:
            return Finding(True, name, "not installed, the digits stand in; to get it: "
                           "sudo apt-get install dataset-fashion-mnist")
        data = load_fashion_mnist()
    except Exception as err:
        return Finding(False, name, f"{type(err).__name__}: {err}",
                       "get the file again (sudo apt-get install --reinstall dataset-fashion-mnist), "
                       "or point COURSE_FASHION_MNIST at a folder holding good copies")
    return Finding(True, name, f"{len(data.x_train)} training and {len(data.x_test)} test images in {where}")


def _check_widgets():
    try:
        import ipywidgets

        importlib.metadata.version("jupyterlab_widgets")
    except Exception as err:
        return Finding(False, "ipywidgets installed", f"{type(err).__name__}: {err}", FIX_SETUP)
    return Finding(True, "ipywidgets installed", ipywidgets.__version__)


def run_checks():
    """Run every check. Returns a list of Finding."""
    findings = [_check_python()]
    findings += _check_versions()
    findings += [_check_torch(), _check_torchvision()]
    findings += _check_data()
    findings.append(_check_widgets())
    return findings


def report(findings):
    """The findings as text lines, problems first explained."""
    lines = []
    for f in findings:
        lines.append(f"{'✓' if f.ok else '✗'} {f.name}: {f.detail}")
        if not f.ok and f.fix:
            lines.append(f"    to fix: {f.fix}")
    bad = sum(not f.ok for f in findings)
    lines.append("All good: the course is ready." if not bad else
                 f"{bad} problem(s) found; fix them, then restart the kernel and run the doctor again.")
    return "\n".join(lines)


def _in_notebook():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


def _show_widget_probe():
    import ipywidgets
    from IPython.display import display

    probe = ipywidgets.IntSlider(value=3, min=1, max=5, description="widgets:")
    print("Widget check: a slider should appear below. If you see text such as "
          f"'IntSlider(value=3, ...)' instead, widgets are not rendering: {WIDGETS_FIX}, "
          "then reload the page.")
    display(probe)


def doctor(widgets=True):
    """Print the environment report (and, in a notebook, a widget to see).

    While nbgrader grades the notebook it only says so: the grader checked the environment
    before grading (autograder.preflight), and the checks take seconds per student.
    """
    if is_grading():
        print("Environment check skipped: this notebook is being graded.")
        return
    print(report(run_checks()))
    if widgets and _in_notebook():
        _show_widget_probe()


def main():
    findings = run_checks()
    print(report(findings))
    return 0 if all(f.ok for f in findings) else 1


if __name__ == "__main__":
    sys.exit(main())
