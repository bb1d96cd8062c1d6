"""The whole nbgrader loop on every assignment, in one throw-away course directory:
generate_assignment, three students per assignment (the solution, the untouched release,
one typical bug), autograde, manual grading, feedback and export."""
import csv
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from nbgrader.api import Gradebook

from autograder import nbgrader_steps as steps
from autograder.grade_class import LOCKED_DB
from autograder.submissions import fill_in


@dataclass
class Expected:
    auto_points: int
    manual: dict          # grade_id of each free-response cell -> points
    bug: dict             # grade_id -> the buggy answer a typical student writes
    bug_loses: int        # points the bug costs
    bug_feedback: list    # phrases the buggy student's feedback must contain


# height and width mixed up: the right values, transposed
SWAPPED_CORRELATE = '''
def correlate2d_valid(image, kernel):
    H, W = image.shape
    KH, KW = kernel.shape
    out = np.zeros((W - KW + 1, H - KH + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[j:j + KH, i:i + KW] * kernel)
    return out
'''

# true convolution instead of cross-correlation: the kernel turned round
FLIPPED_CONV_FORWARD = '''
def conv_forward_naive(x, w, b, conv_param):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = conv_param["stride"], conv_param["pad"]
    H_out = (H + 2 * pad - HH) // stride + 1
    W_out = (W + 2 * pad - WW) // stride + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f, :, ::-1, ::-1]) + b[f]
    return out, (x, w, b, conv_param)
'''

# dw restarted for every image: only the last image's gradient survives
DW_NOT_SUMMED = '''
def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = conv_param["stride"], conv_param["pad"]
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    db = dout.sum(axis=(0, 2, 3))
    for n in range(N):
        dw = np.zeros_like(w)
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    dw[f] += dout[n, f, i, j] * window
                    dx_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += dout[n, f, i, j] * w[f]
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, db
'''

# the gradient copied to every cell of the window instead of the arg-max only
GRADIENT_TO_EVERY_CELL = '''
def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x, dtype=float)
    N, C, H_out, W_out = dout.shape
    for i in range(H_out):
        for j in range(W_out):
            dx[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw] += dout[:, :, i:i + 1, j:j + 1]
    return dx
'''

# ReLU that writes into its input
RELU_IN_PLACE = '''
class ReLU:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        x[self.mask] = 0
        return x

    def backward(self, dout):
        dout = dout.copy()
        dout[self.mask] = 0
        return dout


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.dW, self.db = None, None

    def forward(self, x):
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return (dout @ self.W.T).reshape(self.x_shape)
'''

# nn.Conv2d built without the padding
CONV2D_WITHOUT_PADDING = '''
def conv2d_from_numpy(w, b, stride, pad):
    num_filters, channels, HH, WW = w.shape
    layer = nn.Conv2d(channels, num_filters, kernel_size=(HH, WW), stride=stride,
                      bias=b is not None)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w))
        if b is not None:
            layer.bias.copy_(torch.from_numpy(b))
    return layer.to(device)
'''

# a training loop that never zeroes the gradients
NO_ZERO_GRAD = '''
def train_one_epoch(model, train_loader, loss_fn, optimizer, device):
    model.train()
    total, count = 0.0, 0
    for x, y in train_loader:
        x, y = x.to(device), y.to(device)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        count += len(y)
    return total / count
'''

EXPECTED = {
    "01-convolution-basics": Expected(
        auto_points=16, manual={"a1_odd_kernels": 2},
        bug={"a1_correlate2d_valid": SWAPPED_CORRELATE}, bug_loses=3 + 2,  # convolve2d uses it
        bug_feedback=["correlate2d_valid(image of shape (4, 4), kernel of shape (2, 2)): returned the wrong values",
                      "Height and width are swapped"]),
    "02-convolution-forward": Expected(
        auto_points=11, manual={"a2_view_vs_copy": 2},
        bug={"a2_conv_forward_naive": FLIPPED_CONV_FORWARD}, bug_loses=3,
        bug_feedback=["conv_forward_naive(x (1, 1, 4, 4), w (1, 1, 2, 2), stride 1, pad 0)", "flipped"]),
    "03-convolution-backward": Expected(
        auto_points=20, manual={"a3_explain_bugs": 2},
        bug={"a3_conv_backward_naive": DW_NOT_SUMMED}, bug_loses=4,
        bug_feedback=["dw from conv_backward_naive with x (2, 3, 5, 5)", "dw is not summed over the batch"]),
    "04-pooling": Expected(
        auto_points=8, manual={"a4_shift_question": 2},
        bug={"a4_max_pool_backward_naive": GRADIENT_TO_EVERY_CELL}, bug_loses=2,
        bug_feedback=["max_pool_backward_naive(", "The gradient went to every cell of each window"]),
    "05-numpy-cnn": Expected(
        auto_points=24, manual={"a5_explain_float_bug": 1, "a5_deeper_layers": 2},
        bug={"a5_relu_affine": RELU_IN_PLACE}, bug_loses=2,
        bug_feedback=["x after ReLU() on x (3, 4): returned the wrong values",
                      "Copy x before you set entries to 0"]),
    "06-pytorch-cnns": Expected(
        auto_points=23, manual={"a6_one_by_one": 2},
        bug={"a6_conv2d_from_numpy": CONV2D_WITHOUT_PADDING}, bug_loses=2,
        bug_feedback=["conv2d_from_numpy(w (4, 3, 3, 3), b, stride 1, pad 1) applied to x (2, 3, 6, 6)",
                      "Hint: The padding is missing"]),
    "07-training-cnns": Expected(
        auto_points=18, manual={"a7_explain_bugs": 2},
        bug={"a7_train_one_epoch": NO_ZERO_GRAD}, bug_loses=3 + 2,  # fit uses it
        bug_feedback=["train_one_epoch(20 images in batches of 6, 6, 6, 2; SGD lr=0.1)", "they were not zeroed"]),
    "08-playground": Expected(
        auto_points=1, manual={},
        bug={"a8_predicted_shape": "predicted_output_shape = (6, 5)\n"}, bug_loses=1,
        bug_feedback=["hidden test: predicted_output_shape for an input of height 12 and width 9",
                      "This is the size without dilation"]),
}
STUDENTS = ("ada", "blank", "bug")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Two assignments at a time (the two cores; one gradebook, so a command that finds it
    locked is run again, as grade_class does): each generated, handed in by the three
    students, autograded, given the instructor's manual grades, and its feedback made; then
    the export."""
    course = steps.make_course(tmp_path_factory.mktemp("course"), list(EXPECTED))
    work = tmp_path_factory.mktemp("students")
    def retried(step, *args):
        for attempt in range(5):
            try:
                return step(course, *args)
            except steps.StepFailed as err:
                if LOCKED_DB not in str(err) or attempt == 4:
                    raise
                time.sleep(1 + attempt)

    def grade(name):
        retried(steps.generate_assignment, name)
        release = course / "release" / name / f"{name}.ipynb"
        source = course / "source" / name / f"{name}.ipynb"
        answers = {"ada": fill_in(release, source, work / f"ada-{name}.ipynb"),
                   "blank": release,
                   "bug": fill_in(release, source, work / f"bug-{name}.ipynb",
                                  replace=EXPECTED[name].bug)}
        for student, notebook in answers.items():
            steps.submit(course, student, name, notebook, filename=f"{name}.ipynb")
        log = retried(steps.autograde, name)
        # the instructor grades the free-response answers of one student in the formgrader
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            for grade_id, points in EXPECTED[name].manual.items():
                gb.find_grade(grade_id, name, name, "ada").manual_score = points
            gb.db.commit()
        retried(steps.generate_feedback, name)
        return log

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in STUDENTS:   # here, not by two autograde --create at once
            gb.update_or_create_student(student)
    with ThreadPoolExecutor(max_workers=2) as pool:
        logs = dict(zip(EXPECTED, pool.map(grade, EXPECTED)))
    steps.export_grades(course, course / "grades.csv")
    return course, logs


def scores(course):
    with open(course / "grades.csv") as f:
        return {(row["assignment"], row["student_id"]): (float(row["score"]), float(row["max_score"]))
                for row in csv.DictReader(f)}


def feedback_html(course, name, student):
    return (course / "feedback" / student / name / f"{name}.html").read_text()


def test_export_has_exactly_the_expected_scores(graded):
    course, _ = graded
    wanted = {}
    for name, e in EXPECTED.items():
        total = e.auto_points + sum(e.manual.values())
        wanted[(name, "ada")] = (total, total)
        wanted[(name, "blank")] = (0.0, total)
        wanted[(name, "bug")] = (e.auto_points - e.bug_loses, total)
    assert scores(course) == wanted


@pytest.mark.parametrize("name", list(EXPECTED))
def test_autograde_reports_no_timeout_or_crash(graded, name):
    _, logs = graded
    assert "Timeout" not in logs[name] and "timed out" not in logs[name]
    assert "Dead kernel" not in logs[name] and "DeadKernelError" not in logs[name]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_feedback_names_the_bug_with_its_hint(graded, name):
    course, _ = graded
    html = feedback_html(course, name, "bug")
    for phrase in EXPECTED[name].bug_feedback:
        assert phrase in html


@pytest.mark.parametrize("name", list(EXPECTED))
def test_feedback_of_an_unanswered_exercise_says_so(graded, name):
    course, _ = graded
    assert "NotImplementedError" in feedback_html(course, name, "blank")


@pytest.mark.parametrize("name", list(EXPECTED))
@pytest.mark.parametrize("student", STUDENTS)
def test_feedback_shows_no_hidden_test_code_or_reference_values(graded, name, student):
    course, _ = graded
    html = feedback_html(course, name, student)
    assert "HIDDEN TESTS" not in html
    assert "autograder" not in html  # neither the hidden imports nor paths of hidden test files
    assert not re.search(r"check_[a-z0-9_]+\([a-z0-9_, ]+\)\s*$", html, re.M)
