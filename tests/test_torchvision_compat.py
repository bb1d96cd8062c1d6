import subprocess
import sys
import textwrap


def run_python(code, **env):
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env={**__import__("os").environ, **env})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_torchvision_imports_and_its_python_parts_work():
    out = run_python("""
        from course.torchvision_compat import import_torchvision
        torchvision = import_torchvision()
        import torch
        from torchvision.transforms import v2
        from torchvision.utils import make_grid
        t = v2.Compose([v2.RandomCrop(8, padding=2), v2.RandomHorizontalFlip(), v2.ColorJitter(0.2)])
        print(tuple(t(torch.rand(3, 8, 8)).shape), tuple(make_grid(torch.rand(4, 3, 8, 8)).shape))
        print(torchvision.__version__.split("+")[0])
        print(import_torchvision() is torchvision)
    """)
    assert out.split("\n")[:3] == ["(3, 8, 8) (3, 12, 42)", "0.28.0", "True"]


def test_shim_stays_inactive_where_torchvision_imports_normally(tmp_path):
    fake = tmp_path / "torchvision"
    fake.mkdir()
    (fake / "__init__.py").write_text("__version__ = 'fake'\n")
    out = run_python("""
        from course.torchvision_compat import compat_active, import_torchvision
        print(import_torchvision().__version__, compat_active())
    """, PYTHONPATH=str(tmp_path))
    assert out.strip() == "fake False"


def test_other_import_errors_are_not_swallowed(tmp_path):
    fake = tmp_path / "torchvision"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise RuntimeError('something else broke')\n")
    done = subprocess.run([sys.executable, "-c", "from course.torchvision_compat import import_torchvision; import_torchvision()"],
                          capture_output=True, text=True, env={**__import__("os").environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode != 0 and "something else broke" in done.stderr
