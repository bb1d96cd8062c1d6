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
"""
import contextlib
import importlib

from course.checks import CheckFailed
from course.shortcuts import FORBIDDEN, course_answer_functions, refuse_shortcuts

def _targets():
    """(module name, attribute names) of everything to replace."""
    for module_name, names in FORBIDDEN.items():
        yield module_name, names
    yield from course_answer_functions()


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

    try:
        for module_name, names in list(_targets()):
            module = importlib.import_module(module_name)
            for name in names:
                if hasattr(module, name):
                    saved.append((module, name, getattr(module, name)))
                    setattr(module, name, tripped(f"{module_name}.{name}"))
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)
