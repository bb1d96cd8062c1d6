"""A class of broken and hostile submissions of 01-convolution-basics, with what each earns.

`build(release, source, folder)` writes submitted/<student>/01-convolution-basics/... for
every student in `CORPUS` and returns nothing; `CORPUS[student]` says what grading must give:
the autograded score (out of 16: dense 1, conv 1, correlate 3, convolve 2 (calls
correlate), cosine 1, match 2 (calls cosine), pad 1, output size 2, same padding 1, same
padding pair 2), the
status (graded / held), and phrases the student's feedback must contain.
"""
import copy
import json
from dataclasses import dataclass

import nbformat
from nbformat.v4 import new_code_cell

from autograder.submissions import fill_in

NAME = "01-convolution-basics"
FILE = f"{NAME}.ipynb"
FULL = 16


@dataclass
class Case:
    why: str
    score: float
    status: str = "graded"
    says: tuple = ()


def _id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _index(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if _id(c) == grade_id)


def _insert_after(nb, grade_id, source):
    nb.cells.insert(_index(nb, grade_id) + 1, new_code_cell(source))
    return nb


def _set(nb, grade_id, source):
    nb.cells[_index(nb, grade_id)].source = source
    return nb


WRONG_CORRELATE = "def correlate2d_valid(image, kernel):\n    return np.zeros((1, 1))\n"
LOOPING_CORRELATE = "def correlate2d_valid(image, kernel):\n    while True:\n        pass\n"
FAKE_POINTS = {"grade": True, "grade_id": "a1_free_points", "locked": True, "points": 100,
               "schema_version": 3, "solution": False, "task": False}

# student: (how to make the notebook from the solved one, the expected outcome)
CORPUS = {
    "perfect": Case("the solution", FULL, says=("all public tests passed",)),
    "blank": Case("the release notebook, untouched", 0, says=("NotImplementedError",)),
    "infinite_loop": Case("correlate2d_valid never returns", FULL - 5,
                          says=("ran longer than the grading limit",)),
    "sleeps_forever": Case("a cell sleeps for days", FULL,
                           says=("ran longer than the grading limit",)),
    "os_exit": Case("a cell calls os._exit", FULL, says=("the Python kernel stopped",)),
    "segfault_ctypes": Case("a segfault through ctypes", 0, "held",
                            says=("the Python kernel stopped", "imports ctypes", "held")),
    "segfault": Case("a segfault without ctypes", FULL, says=("the Python kernel stopped",)),
    "memory_bomb": Case("asks for 100 GB", FULL, says=("MemoryError",)),
    "chatty": Case("prints 5 MB", FULL, says=("output cut",)),
    "system_exit": Case("raise SystemExit", FULL, says=("SystemExit",)),
    "keyboard_interrupt": Case("raise KeyboardInterrupt", FULL, says=("KeyboardInterrupt",)),
    "reads_stdin": Case("calls input()", FULL, says=("StdinNotImplementedError",)),
    "deleted_test": Case("wrong correlate, its test cell deleted", FULL - 5,
                         says=("a1_correlate2d_valid_tests was missing",)),
    "edited_test": Case("wrong conv_params, its tests replaced by pass", FULL - 1,
                        says=("test cell a1_conv_params_tests was edited",)),
    "edited_readonly": Case("rewrote an exercise's instructions", FULL,
                            says=("read-only cell a1_pad_image_task was edited",)),
    "changed_ids": Case("renamed a test id to one worth 100 points, changed checksums and "
                        "points", FULL, says=("'a1_free_points'",)),
    "redefines_checks": Case("wrong dense_params and its own check_equal", 0, "held",
                             says=("defines its own check_equal",)),
    "patches_numpy": Case("np.isclose = lambda ...: True with a wrong correlate", 0, "held",
                          says=("replaces np.isclose",)),
    "patches_builtins": Case("builtins.isinstance replaced", 0, "held",
                             says=("imports builtins",)),
    "reads_references": Case("loads the reference outputs", 0, "held",
                             says=("mentions the grader's files",)),
    "overwrites_references": Case("tries to empty the reference file", 0, "held",
                                  says=("Read-only file system", "held")),
    "writes_gradebook": Case("tries to overwrite the gradebook", 0, "held",
                             says=("mentions the grader's files",)),
    "network": Case("tries to download something", FULL, says=("imports urllib",)),
    "writes_outside": Case("writes to /tmp and its home folder", FULL),
    "huge_file": Case("writes a 300 MB file", FULL, says=("File too large",)),
    "malformed_json": Case("a notebook cut short", 0, says=("is not a readable notebook",)),
    "empty_file": Case("a 0-byte file", 0, says=("is empty",)),
    "renamed": Case("the solution saved as my-notebook.ipynb", FULL,
                    says=("was named my-notebook.ipynb",)),
    "missing": Case("only a text file", 0, says=("No notebook was found",)),
    "duplicated": Case("the solution plus a blank copy", FULL, says=("were not graded",)),
    "not_utf8": Case("the solution saved as Latin-1", FULL, says=("is not UTF-8",)),
    "wrong_types": Case("a str from dense_params, a float from conv_params", FULL - 2,
                        says=("it should return an int",)),
    "wrong_shapes": Case("transposed correlation, unpadded pad_image", FULL - 6,
                         says=("wrong shape",)),
    "nan": Case("cosine_similarity returns NaN", FULL - 3, says=("not a finite number",)),
    "mangled": Case("a solution cell made markdown, another split, cells inserted", FULL,
                    says=("changed from code to markdown",)),
    "duplicate_ids": Case("a solution cell copied with its id", FULL,
                          says=("appears more than once",)),
    "no_metadata": Case("all nbgrader metadata stripped by another editor", FULL,
                        says=("recognised by its cell id",)),
    "all_deleted": Case("every cell deleted", 0, says=("was missing from your notebook",)),
    # Cheats the grade must not believe: the verdict is reached outside the kernel. Each earns
    # what its honest part earns (0 for an exercise whose answer is only a trick).
    "lying_int": Case("dense_params returns an int subclass whose == says yes", FULL - 1,
                      says=("which is not plain data",)),
    "lying_float": Case("cosine_similarity returns a float subclass that subtracts to 0",
                        FULL - 3, says=("which is not plain data",)),
    "lying_array": Case("correlate2d_valid returns an ndarray subclass that agrees with "
                        "everything (__eq__, __array_ufunc__, __array_function__)", FULL - 5,
                        says=("which is not plain data",)),
    "lying_pad": Case("pad_image returns an ndarray subclass whose ufuncs answer True",
                      FULL - 1, says=("np.ndarray itself, not a subclass",)),
    "patches_numpy_dict": Case("np.isclose replaced through numpy's __dict__, wrong "
                               "correlate", FULL - 5, says=("returned the wrong values",)),
    "patches_checks_dict": Case("course.checks._fail replaced through its __dict__, wrong "
                                "dense_params and conv_params", FULL - 2,
                                says=("returned the wrong value",)),
    "shortcut_scipy": Case("correlate2d_valid calls scipy's correlate2d bound to another name",
                           FULL - 5, says=("can reach scipy.signal.correlate2d",)),
    "shortcut_default": Case("correlate2d_valid gets scipy's correlate2d as a default "
                             "argument", FULL - 5, says=("can reach scipy.signal.correlate2d",)),
    "shortcut_torch": Case("convolve2d_valid calls torch's conv2d through a helper", FULL - 2,
                           says=("can reach torch.nn.functional.conv2d",)),
    "shortcut_course": Case("correlate2d_valid calls the course's own diagnosis helper",
                            FULL - 5, says=("can reach course.diagnose._valid",)),
    "reads_references_runtime": Case("dense_params looks its answers up in the reference "
                                     "file through a path built at run time", FULL - 1,
                                     says=("FileNotFoundError",)),
    "searches_answers": Case("correlate2d_valid searches the course's files for a stored "
                             "answer to its input", FULL - 5, says=("returned the wrong values",)),
    "forges_records": Case("a cell writes a right answer as a record before the test, "
                           "dense_params returns 0", FULL - 1, says=("returned the wrong value",)),
}

LIAR_ARRAY = """
class Agreeable(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, bool)
    __ne__ = __eq__
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        shape = np.broadcast_shapes(*(np.shape(i) for i in inputs))
        return np.ones(shape, bool) if ufunc.nout == 1 and ufunc.types[-1][-1] == '?' else np.zeros(shape)
    def __array_function__(self, func, types, args, kwargs):
        if func in (np.isclose, np.allclose, np.array_equal):
            return np.ones(np.shape(args[0]), bool) if func is np.isclose else True
        return super().__array_function__(func, types, args, kwargs)
"""

CHEATS = {  # student: {exercise grade id: its new source} (cells before it are the solution's)
    "lying_int": {"a1_dense_params":
        "class Yes(int):\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "    __hash__ = int.__hash__\n"
        "def dense_params(input_shape, units):\n    return Yes(0)\n"},
    "lying_float": {"a1_cosine_similarity":
        "class Near(float):\n"
        "    def __sub__(self, other):\n        return 0.0\n"
        "    __rsub__ = __sub__\n"
        "    def __eq__(self, other):\n        return True\n"
        "    __hash__ = float.__hash__\n"
        "def cosine_similarity(a, b):\n"
        "    if np.shape(a) != np.shape(b):\n        raise ValueError('shapes differ')\n"
        "    return Near(0.5)\n"},
    "lying_array": {"a1_correlate2d_valid": LIAR_ARRAY +
        "def correlate2d_valid(image, kernel):\n"
        "    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:\n"
        "        raise ValueError('the kernel is larger than the image')\n"
        "    shape = (image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1)\n"
        "    return np.zeros(shape).view(Agreeable)\n"},
    "lying_pad": {"a1_pad_image": LIAR_ARRAY +
        "def pad_image(image, pad):\n"
        "    if pad < 0:\n        raise ValueError('pad must be >= 0')\n"
        "    shape = (image.shape[0] + 2 * pad, image.shape[1] + 2 * pad)\n"
        "    return np.zeros(shape).view(Agreeable)\n"},
    "patches_numpy_dict": {"a1_correlate2d_valid":
        "space = np.__dict__\n"
        "space['isclose'] = lambda a, b, **k: np.ones(np.shape(a), bool)\n"
        "def correlate2d_valid(image, kernel):\n"
        "    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:\n"
        "        raise ValueError('the kernel is larger than the image')\n"
        "    return np.zeros((image.shape[0] - kernel.shape[0] + 1,"
        " image.shape[1] - kernel.shape[1] + 1))\n"},
    "patches_checks_dict": {"a1_dense_params":
        "import course.checks as helpers\n"
        "table = helpers.__dict__\n"
        "table['_fail'] = lambda *args, **kwargs: None\n"
        "def dense_params(input_shape, units):\n    return 0\n",
        "a1_conv_params": "def conv_params(num_filters, kernel_size, in_channels):\n    return 0\n"},
    "shortcut_scipy": {"a1_correlate2d_valid":
        "from scipy.signal import correlate2d as slide\n"
        "def correlate2d_valid(image, kernel):\n"
        "    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:\n"
        "        raise ValueError('the kernel is larger than the image')\n"
        "    return slide(image, kernel, mode='valid')\n"},
    "shortcut_default": {"a1_correlate2d_valid":
        "import scipy.signal\n"
        "def correlate2d_valid(image, kernel, _engine=scipy.signal.correlate2d):\n"
        "    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:\n"
        "        raise ValueError('the kernel is larger than the image')\n"
        "    return _engine(image, kernel, mode='valid')\n"},
    "shortcut_torch": {"a1_convolve2d_valid":
        "import torch\nfrom torch.nn.functional import conv2d as engine\n"
        "def _run(image, kernel):\n"
        "    x = torch.from_numpy(np.ascontiguousarray(image))[None, None]\n"
        "    k = torch.from_numpy(np.ascontiguousarray(kernel[::-1, ::-1]))[None, None]\n"
        "    return engine(x, k)[0, 0].numpy()\n"
        "def convolve2d_valid(image, kernel):\n"
        "    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:\n"
        "        raise ValueError('the kernel is larger than the image')\n"
        "    return _run(image, kernel)\n"},
    "shortcut_course": {"a1_correlate2d_valid":
        "from course.diagnose import _valid as reference\n"
        "def correlate2d_valid(image, kernel):\n"
        "    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:\n"
        "        raise ValueError('the kernel is larger than the image')\n"
        "    return reference(image, kernel)\n"},
    "reads_references_runtime": {"a1_dense_params":
        "import pathlib, course\n"
        "def dense_params(input_shape, units):\n"
        "    folder = pathlib.Path(course.__file__).parent.parent / ('auto' + 'grader') / ('refer' + 'ences')\n"
        "    stored = np.load(folder / '01-convolution-basics.npz')\n"
        "    for key in stored.files:\n"
        "        if key.endswith('/input_shape') and tuple(stored[key]) == tuple(input_shape):\n"
        "            return int(stored[key.replace('input_shape', 'expected')])\n"
        "    return (int(np.prod(input_shape)) + 1) * units\n"},
    "searches_answers": {"a1_correlate2d_valid":
        "import os, pathlib, course\n"
        "def correlate2d_valid(image, kernel):\n"
        "    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:\n"
        "        raise ValueError('the kernel is larger than the image')\n"
        "    root = pathlib.Path(course.__file__).parent.parent\n"
        "    for path in root.rglob('*.npz'):\n"
        "        with np.load(path) as stored:\n"
        "            for key in stored.files:\n"
        "                if key.endswith('/image') and stored[key].shape == image.shape \\\n"
        "                        and np.array_equal(stored[key], image):\n"
        "                    answer = key.replace('/image', '/expected')\n"
        "                    if answer in stored.files:\n"
        "                        return stored[answer]\n"
        "    return np.zeros((image.shape[0] - kernel.shape[0] + 1,"
        " image.shape[1] - kernel.shape[1] + 1))\n"},
    "forges_records": {"a1_dense_params":
        "import json, os, secrets\n"
        "os.makedirs('.grading-records', exist_ok=True)\n"
        "for case, right in enumerate([150529000, 30730, 4160, 6, 559]):\n"
        "    np.savez(f'.grading-records/check_dense_params-{case}-{secrets.token_hex(4)}.npz',\n"
        "             meta=np.array(json.dumps({'kind': 'int', 'value': right})))\n"
        "def dense_params(input_shape, units):\n    return 0\n"},
}


INSERTED = {  # student: (the cell it goes after, the code of the new cell)
    "sleeps_forever": ("a1_dense_params_tests",
     "import time\ntime.sleep(10**6)"),
    "os_exit": ("a1_correlate2d_valid",
     "import os\nos._exit(1)"),
    "segfault_ctypes": ("a1_conv_params",
     "import ctypes\nctypes.string_at(0)"),
    "segfault": ("a1_conv_params",
     "import faulthandler\nfaulthandler._sigsegv()"),
    "memory_bomb": ("a1_pad_image",
     "hoard = bytearray(100 * 10**9)"),     # one request: refused at once, however busy
    "chatty": ("a1_pad_image",
     "print('spam ' * 1_000_000)"),
    "system_exit": ("a1_pad_image",
     "raise SystemExit(1)"),
    "keyboard_interrupt": ("a1_pad_image",
     "raise KeyboardInterrupt"),
    "reads_stdin": ("a1_pad_image",
     "name = input('your name? ')"),
    "reads_references": ("a1_dense_params",
     "import pathlib, course\n"
     "refs = pathlib.Path(course.__file__).parent.parent / 'autograder'"
     " / 'references'\n"
     "answers = np.load(refs / '01-convolution-basics.npz')"),
    "overwrites_references": ("a1_dense_params",
     "import pathlib, course\n"
     "refs = pathlib.Path(course.__file__).parent.parent / 'autograder'"
     " / 'references'\n"
     "(refs / '01-convolution-basics.npz').write_bytes(b'')"),
    "writes_gradebook": ("a1_dense_params",
     "with open('../../../gradebook.db', 'wb') as f:\n"
     "    f.write(b'all grades gone')"),
    "network": ("a1_dense_params",
     "import urllib.request\n"
     "urllib.request.urlopen('http://example.com', timeout=5)"),
    "writes_outside": ("a1_dense_params",
     "import os, pathlib\n"
     "pathlib.Path('/tmp/corpus-escape.txt').write_text('out')\n"
     "pathlib.Path(os.path.expanduser('~/corpus-escape.txt'))"
     ".write_text('out')"),
    "huge_file": ("a1_dense_params",
     "with open('big.bin', 'wb') as f:\n"
     "    for _ in range(300):\n"
     "        f.write(bytes(2**20))"),
}


def _solved(release, source, scratch):
    path = scratch / "solved.ipynb"
    fill_in(release, source, path)
    return nbformat.read(path, as_version=4)


def _mutate(student, nb, blank):
    """The notebook `student` hands in, made from the solved notebook `nb`."""
    if student == "blank":
        return blank
    if student in INSERTED:
        return _insert_after(nb, *INSERTED[student])
    if student in CHEATS:
        for grade_id, code in CHEATS[student].items():
            _set(nb, grade_id, code)
        return nb
    if student == "infinite_loop":
        return _set(nb, "a1_correlate2d_valid", LOOPING_CORRELATE)
    if student == "deleted_test":
        _set(nb, "a1_correlate2d_valid", WRONG_CORRELATE)
        del nb.cells[_index(nb, "a1_correlate2d_valid_tests")]
        return nb
    if student == "edited_test":
        _set(nb, "a1_conv_params", "def conv_params(num_filters, kernel_size, in_channels):\n"
                                   "    return 0\n")
        return _set(nb, "a1_conv_params_tests", "pass")
    if student == "edited_readonly":
        return _set(nb, "a1_pad_image_task", "### Exercise 3.1 (100 points)\nI rewrote this.")
    if student == "changed_ids":
        cell = nb.cells[_index(nb, "a1_dense_params_tests")]
        cell.metadata["nbgrader"] = dict(FAKE_POINTS)
        cell.source = "pass"
        pad = nb.cells[_index(nb, "a1_pad_image_tests")]
        pad.metadata["nbgrader"]["points"] = 50
        pad.metadata["nbgrader"]["checksum"] = "0" * 32
        return nb
    if student == "redefines_checks":
        _set(nb, "a1_dense_params", "def dense_params(input_shape, units):\n    return 0\n\n"
                                    "def check_equal(*args, **kwargs):\n    pass\n")
        return nb
    if student == "patches_numpy":
        _set(nb, "a1_correlate2d_valid", WRONG_CORRELATE)
        return _insert_after(nb, "a1_dense_params",
                             "np.isclose = lambda *a, **k: np.ones(np.shape(a[0]), bool)\n"
                             "np.allclose = lambda *a, **k: True")
    if student == "patches_builtins":
        _set(nb, "a1_dense_params", "def dense_params(input_shape, units):\n    return 0.0\n")
        return _insert_after(nb, "a1_dense_params",
                             "import builtins\nbuiltins.isinstance = lambda *a: True")
    if student == "wrong_types":
        _set(nb, "a1_dense_params", "def dense_params(input_shape, units):\n"
                                    "    return str((int(np.prod(input_shape)) + 1) * units)\n")
        return _set(nb, "a1_conv_params",
                    "def conv_params(num_filters, kernel_size, in_channels):\n"
                    "    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) "
                    "else kernel_size\n"
                    "    return float(num_filters * (kh * kw * in_channels + 1))\n")
    if student == "wrong_shapes":
        nb = _insert_after(nb, "a1_correlate2d_valid",
                           "_right_correlate = correlate2d_valid\n"
                           "def correlate2d_valid(image, kernel):\n"
                           "    return _right_correlate(image, kernel).T\n")
        return _set(nb, "a1_pad_image", "def pad_image(image, pad):\n    return image.copy()\n")
    if student == "nan":
        return _set(nb, "a1_cosine_similarity",
                    "def cosine_similarity(a, b):\n    return float('nan')\n")
    if student == "mangled":
        cell = nb.cells[_index(nb, "a1_cosine_similarity")]
        nb.cells[_index(nb, "a1_cosine_similarity")] = nbformat.v4.new_markdown_cell(
            cell.source, metadata=cell.metadata, id=cell.id)
        correlate = nb.cells[_index(nb, "a1_correlate2d_valid")]
        head, tail = "def _window_sum(window, kernel):\n    return np.sum(window * kernel)\n", \
            correlate.source
        correlate.source = head
        nb.cells.insert(_index(nb, "a1_correlate2d_valid") + 1, new_code_cell(tail))
        nb.cells.insert(3, nbformat.v4.new_markdown_cell("my own notes"))
        return nb
    if student == "duplicate_ids":
        original = nb.cells[_index(nb, "a1_dense_params")]
        copied = copy.deepcopy(original)
        copied.source = "def dense_params(input_shape, units):\n    return -1\n"
        nb.cells.insert(_index(nb, "a1_dense_params"), copied)
        return nb
    if student == "no_metadata":
        for cell in nb.cells:
            cell.metadata.pop("nbgrader", None)
        return nb
    if student == "all_deleted":
        nb.cells = []
        return nb
    return nb


def build(release, source, folder, scratch, students=None):
    """Write the submission of every corpus student (or of `students`) under `folder` (a
    course's submitted/)."""
    blank = nbformat.read(release, as_version=4)
    for student in students or CORPUS:
        target = folder / student / NAME
        target.mkdir(parents=True, exist_ok=True)
        nb = _mutate(student, _solved(release, source, scratch), copy.deepcopy(blank))
        text = json.dumps(nb, indent=1, ensure_ascii=False)
        if student == "malformed_json":
            (target / FILE).write_text(text[:len(text) // 2])
        elif student == "empty_file":
            (target / FILE).write_bytes(b"")
        elif student == "renamed":
            (target / "my-notebook.ipynb").write_text(text)
        elif student == "missing":
            (target / "notes.txt").write_text("I could not finish, sorry.")
        elif student == "duplicated":
            (target / FILE).write_text(text)
            (target / f"{NAME}-Copy1.ipynb").write_text(json.dumps(blank))
        elif student == "not_utf8":
            nb.cells[_index(nb, "a1_pad_image")].source += "\n# café"
            ascii_text = json.dumps(nb).replace("caf\\u00e9", "café")  # the rest escaped
            (target / FILE).write_bytes(ascii_text.encode("latin-1"))
        else:
            (target / FILE).write_text(text)
