"""Exercises written by hand: what a student's function can reach, compared as objects.

Some exercises are to write an operation yourself (a convolution, a pooling layer); the
library functions that compute it are then off limits. `check_written_by_hand(fn, name)`
is how a public test says so at once, and the hidden tests use the same rule.

Before a hidden or public test calls an exercise that must be written by hand, it looks at
everything the function can reach: the globals its code names (also in nested functions
and comprehensions), its closure and its defaults, and the same, recursively, for the
student's own functions it reaches. If one of them *is* a library convolution or pooling
function, or one of the course's own answer-computing helpers, whatever name it is bound
to (`from scipy.signal import correlate2d as c`), the test refuses it with a message. The
module-attribute tripwire of the hidden tests stays as a second line, for calls made
through a module (`signal.correlate2d(...)`).
"""
import functools
import inspect
import sys
import types

from course.checks import CheckFailed

FORBIDDEN = {
    "torch": ["conv1d", "conv2d", "conv3d", "convolution", "max_pool2d", "avg_pool2d",
              "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"],
    "torch.nn.functional": ["conv1d", "conv2d", "conv3d", "unfold", "fold", "max_pool2d",
                            "avg_pool2d", "max_pool1d", "avg_pool1d", "max_pool3d", "avg_pool3d",
                            "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"],
    "torch.nn.grad": ["conv1d_input", "conv2d_input", "conv3d_input", "conv1d_weight",
                      "conv2d_weight", "conv3d_weight"],
    "scipy.signal": ["correlate", "correlate2d", "convolve", "convolve2d", "fftconvolve", "oaconvolve"],
    "scipy.ndimage": ["correlate", "convolve", "correlate1d", "convolve1d", "maximum_filter", "uniform_filter"],
}

# course modules that compute convolutions, pooling or padding for diagnosis or for pictures
COURSE_MODULES_WITH_ANSWERS = [
    "course.diagnose", "course.diagnose_layers", "course.widgets.frames",
    "course.widgets.kernel_explorer", "course.widgets.output_size", "course.widgets.feature_maps",
    "course.widgets.conv_animator", "course.widgets.pool_animator",
]


def course_answer_names(module_name, module):
    """Names of the functions a course module defines itself (its answer-computing helpers)."""
    return [name for name, value in vars(module).items()
            if inspect.isfunction(value) and value.__module__ == module_name]


_forbidden_by_module = {}           # module name -> {id(object): "module.name"}, once it is imported


def forbidden_objects():
    """{id(object): "module.name"} of the library and course functions no exercise may use,
    among the modules imported so far: a function of a module no one imported does not exist
    in the process, so nothing can reach it (and importing torch or scipy.signal to look
    would cost seconds)."""
    found = {}
    for module_name in [*FORBIDDEN, *COURSE_MODULES_WITH_ANSWERS]:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        if module_name not in _forbidden_by_module:
            names = FORBIDDEN.get(module_name) or course_answer_names(module_name, module)
            _forbidden_by_module[module_name] = {
                id(getattr(module, name)): f"{module_name}.{name}"
                for name in names if hasattr(module, name)}
        found.update(_forbidden_by_module[module_name])
    return found


def _code_objects(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def reachable(fn, limit=500):
    """(description, object) pairs of what `fn` can reach (see the module docstring)."""
    seen, todo = set(), [fn]
    while todo and len(seen) < limit:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        function = getattr(current, "__func__", current)   # bound methods
        if not isinstance(function, types.FunctionType):
            for value in _inside(current):
                yield f"something held by {getattr(current, '__name__', type(current).__name__)}", value
                todo.append(value)
            continue
        names = {name for code in _code_objects(function.__code__) for name in code.co_names}
        for name in sorted(names):
            if name in function.__globals__:
                value = function.__globals__[name]
                yield f"{name} (used by {function.__name__})", value
                todo.append(value)
        cells = function.__closure__ or ()
        for cell in cells:
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            yield f"a variable of {function.__name__}", value
            todo.append(value)
        for value in (function.__defaults__ or ()) + tuple((function.__kwdefaults__ or {}).values()):
            yield f"a default argument of {function.__name__}", value
            todo.append(value)


def _inside(value):
    """What a container, class or partial holds (one level)."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)[:1000]
    if isinstance(value, dict):
        return list(value.values())[:1000]
    if isinstance(value, functools.partial):
        return [value.func, *value.args, *value.keywords.values()]
    if inspect.isclass(value) and value.__module__ == "__main__":
        return [getattr(v, "__func__", v) for v in vars(value).values()]
    return []


def find_reachable(fn, objects):
    """(name in `objects`, where) of the first of `objects` ({id(object): name}) that `fn`
    can reach under any name, or None."""
    for where, value in reachable(fn):
        if id(value) in objects:
            return objects[id(value)], where
    return None


def refuse_shortcuts(fn, exercise):
    """Raise CheckFailed when `fn` can reach a forbidden function under any name."""
    found = find_reachable(fn, forbidden_objects())
    if found is not None:
        name, where = found
        raise CheckFailed(
                f"{exercise} can reach {name} (as {where}): this exercise is to "
                "write the operation yourself, with NumPy. Library convolutions and pooling, "
                "and the course's own helpers, are only references for the tests and the "
                "pictures: remove that import and write the loops (or NumPy slicing) yourself.")


def check_written_by_hand(fn, exercise=None):
    """A public test: `fn` must not reach a library convolution or pooling function."""
    refuse_shortcuts(fn, exercise or getattr(fn, "__name__", "this exercise"))
