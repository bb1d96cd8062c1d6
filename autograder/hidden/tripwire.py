"""Make sure an exercise does not hand its work to a library convolution, or to the course.

While a student's function runs inside `library_convolutions_forbidden(...)`, the convolution
and pooling functions of torch, scipy.signal and scipy.ndimage raise CheckFailed instead of
computing, and so does every function of the course modules that compute right answers for
their own purposes (the mistake diagnosis, the widgets' frame logic): students import course/,
so its helpers must not be a way round an exercise.
Limit (said in the README): a name bound before the test runs, e.g.
`from torch.nn.functional import conv2d` at the top of the notebook, keeps the original
function; the tripwire replaces module attributes, not names a student already copied.
"""
import contextlib
import importlib
import inspect

from course.checks import CheckFailed

FORBIDDEN = {
    "torch": ["conv1d", "conv2d", "conv3d", "convolution", "max_pool2d", "avg_pool2d"],
    "torch.nn.functional": ["conv1d", "conv2d", "conv3d", "unfold", "max_pool2d", "avg_pool2d",
                            "max_pool1d", "avg_pool1d", "max_pool3d", "avg_pool3d"],
    "scipy.signal": ["correlate", "correlate2d", "convolve", "convolve2d", "fftconvolve", "oaconvolve"],
    "scipy.ndimage": ["correlate", "convolve", "correlate1d", "convolve1d", "maximum_filter", "uniform_filter"],
}

# course modules that compute convolutions, pooling or padding for diagnosis or for pictures
COURSE_MODULES_WITH_ANSWERS = [
    "course.diagnose", "course.diagnose_layers", "course.widgets.frames",
    "course.widgets.kernel_explorer", "course.widgets.output_size", "course.widgets.feature_maps",
    "course.widgets.conv_animator", "course.widgets.pool_animator",
]


def _targets():
    """(module name, attribute names) of everything to replace."""
    for module_name, names in FORBIDDEN.items():
        yield module_name, names
    for module_name in COURSE_MODULES_WITH_ANSWERS:
        module = importlib.import_module(module_name)
        yield module_name, [name for name, value in vars(module).items()
                            if inspect.isfunction(value) and value.__module__ == module_name]


@contextlib.contextmanager
def library_convolutions_forbidden(exercise):
    """Within the block, library convolutions raise CheckFailed naming `exercise`."""
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
