"""Make sure an exercise does not hand its work to a library convolution, or to the course.

While a student's function runs inside `library_convolutions_forbidden(...)`, the convolution
and pooling functions of torch, scipy.signal and scipy.ndimage raise CheckFailed instead of
computing, and so does every function of the course modules that compute right answers for
their own purposes (the mistake diagnosis, the widgets' frame logic): students import course/,
so its helpers must not be a way round an exercise.
The tripwire replaces module attributes, so a name bound before the test runs (`from
torch.nn.functional import conv2d as c` at the top of the notebook) keeps the original
function: given the student's function, the block first looks for such names by identity
(course.shortcuts).
A module that is not imported yet is not imported for the tripwire (torch and scipy.signal
take seconds to import, and most notebooks graded never need them): if the code in the block
imports it, it is replaced as soon as its import is done, the same way.
"""
import contextlib
import importlib
import importlib.abc
import sys

from course.checks import CheckFailed
from course.shortcuts import COURSE_MODULES_WITH_ANSWERS, FORBIDDEN, course_answer_names, refuse_shortcuts


def _targets():
    """{module name: attribute names, or None for "every function it defines"}."""
    targets = dict(FORBIDDEN)
    targets.update({name: None for name in COURSE_MODULES_WITH_ANSWERS})
    return targets


class _ReplaceOnImport(importlib.abc.MetaPathFinder):
    """First on sys.meta_path during the block: a target module imported in the block is
    replaced (`replace(name, module)`) right after its own code has run."""

    def __init__(self, targets, replace):
        self.targets, self.replace = targets, replace

    def find_spec(self, fullname, path, target=None):
        if fullname not in self.targets:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _ThenReplace(spec.loader, lambda module: self.replace(fullname, module))
        return spec


class _ThenReplace(importlib.abc.Loader):
    """A module's own loader, then `after(module)`."""

    def __init__(self, loader, after):
        self.loader, self.after = loader, after

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        self.after(module)

    def __getattr__(self, name):          # get_source, is_package, ...: the real loader's
        return getattr(self.loader, name)


@contextlib.contextmanager
def library_convolutions_forbidden(exercise, fn=None):
    """Within the block, library convolutions raise CheckFailed naming `exercise`; first,
    `fn` (the student's function or class) must not reach one under any name."""
    if fn is not None:
        refuse_shortcuts(fn, exercise)
    saved = []

    def tripped(library_name):
        def refuse(*args, **kwargs):
            raise CheckFailed(f"{exercise} called {library_name}: this exercise is to write the "
                              "operation yourself, with NumPy. Library convolutions and the course's "
                              "own helpers are only references for the tests and the pictures.")
        return refuse

    def replace(module_name, module):
        names = targets[module_name]
        for name in (course_answer_names(module_name, module) if names is None else names):
            if hasattr(module, name):
                saved.append((module, name, getattr(module, name)))
                setattr(module, name, tripped(f"{module_name}.{name}"))

    targets = _targets()
    finder = _ReplaceOnImport(targets, replace)
    sys.meta_path.insert(0, finder)
    try:
        for module_name in targets:
            module = sys.modules.get(module_name)
            if module is not None:
                replace(module_name, module)
        yield
    finally:
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
        for module, name, original in reversed(saved):
            setattr(module, name, original)
