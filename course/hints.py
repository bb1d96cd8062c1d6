"""Hints on request, in steps: a short ladder per exercise, from a nudge to a near-recipe.

    from course.hints import hint
    hint("a2_conv_forward_naive")              # Hint 1 of 3: ...; call again for the next
    hint("a2_conv_forward_naive", again=True)  # the last one again, without moving on
    hints_taken()                              # {"a2_conv_forward_naive": 1, ...}
    exercises("02")                            # the ids of notebook 02

An exercise's id is the grade_id of its solution cell: "a" + the notebook's number + "_" + a
name, e.g. a1_correlate2d_valid (notebook 01), a4_max_pool_forward_naive (notebook 04).
Every graded code exercise of notebooks 01-05 has a ladder of 2 or 3 hints; the questions
your instructor grades have none. A hint never holds a line of the solution: the last one
may name the NumPy function or the formula, never the finished statement.

Each hint taken is appended to progress/hints.jsonl in the course root (the first folder,
walking up from the current one, that holds both course.sh and release/), or to
~/.cnn-course/progress/hints.jsonl outside a course; the environment variable
COURSE_PROGRESS (a folder) overrides both. Each line is {"time", "exercise", "level"}.
That file says how far each ladder has gone, so a restarted kernel carries on where you
were. While nbgrader grades a notebook, hint() prints nothing and records nothing.

Text only: nothing here computes or holds a graded answer.
"""
import datetime
import difflib
import json
import textwrap

from course.mode import is_grading
from course.progress import HINTS_NAME, hints as progress_hints, progress_folder

__all__ = ["hint", "hints_taken", "exercises", "progress_file", "UnknownExercise", "LADDERS"]

WIDTH = 96


class UnknownExercise(ValueError):
    """hint() was given an id that no exercise has; the message lists close ones."""

    def _render_traceback_(self):  # in a notebook: the message, not a traceback
        return [f"\x1b[0;31mUnknownExercise\x1b[0m: {self}"]


# id: (the heading of the exercise in its notebook, its hints from a nudge to a near-recipe)
LADDERS = {
    # ---------------------------------------------------------- 01-convolution-basics
    "a1_dense_params": ("Exercise 1.1: parameters of a dense layer", (
        "Each unit has one weight per input value, plus one bias.",
        "The number of input values is the product of the sizes in input_shape. Multiply them "
        "together with a loop (or np.prod).",
        "Parameters = (inputs + 1) · units. Return a plain Python int, not a NumPy number: "
        "wrap the result in int().",
    )),
    "a1_conv_params": ("Exercise 1.2: parameters of a convolutional layer", (
        "Each filter has one weight per kernel cell and per input channel, plus one bias. "
        "The image size plays no part.",
        "kernel_size comes in two forms. Turn it into a height KH and a width KW first: an int "
        "F means KH = KW = F, a pair is (KH, KW). isinstance tells an int from a pair.",
        "The count is K · (KH · KW · C + 1), the formula above the exercise with F² split into "
        "KH · KW. Return an int.",
    )),
    "a1_correlate2d_valid": ("Exercise 2.1: cross-correlation with loops", (
        "Work out the output shape first: (H - KH + 1, W - KW + 1). Make a float array of "
        "zeros of that shape, then fill it one value at a time.",
        "Take H, W from image.shape and KH, KW from kernel.shape. Two loops: i over the output "
        "rows, j over the output columns. Rows always go with H and KH, columns with W and KW.",
        "out[i, j] is the sum of the window times the kernel, element by element (np.sum of "
        "the product). The window has KH rows from row i and KW columns from column j. Before "
        "the loops, compare KH with H and KW with W, and raise ValueError saying the kernel "
        "does not fit.",
    )),
    "a1_convolve2d_valid": ("Exercise 2.2: true convolution", (
        "True convolution is cross-correlation with the kernel turned round by 180 degrees. "
        "You already wrote cross-correlation.",
        "Turning by 180 degrees flips the kernel up-down and left-right, both. Flipping one "
        "axis only is a mirror, not a turn.",
        "Reverse both axes of the kernel (a slice with step -1 on each axis, or np.flip with "
        "no axis), then call your correlate2d_valid with the image and the turned kernel. Its "
        "ValueError then comes for free.",
    )),
    "a1_cosine_similarity": ("Exercise 2.3: cosine similarity", (
        "Cosine similarity is the dot product divided by both lengths (norms). See both "
        "arrays as flat vectors.",
        "Three cases, in this order: shapes differ, raise ValueError; either length is 0, "
        "the answer is 0.0; otherwise the formula.",
        "np.linalg.norm gives a length, and np.dot of the two flattened arrays (ravel) gives "
        "the dot product. Compare the shapes before you multiply, and return float(...).",
    )),
    "a1_match_template": ("Exercise 2.4: find a pattern", (
        "This is correlate2d_valid with one change: the value stored at each position.",
        "Keep the same output shape, loops and window. At (i, j), store the cosine similarity "
        "of the window and the template instead of their multiply-and-add.",
        "Call your cosine_similarity with the window and the template inside the loops; it "
        "already gives 0.0 for an all-zero window. Check the template size against the image "
        "before the loops, as in correlate2d_valid.",
    )),
    "a1_pad_image": ("Exercise 3.1: zero padding", (
        "Check pad first: a negative pad raises ValueError. Then make a larger array of zeros "
        "and copy the image into its middle.",
        "The padded shape is (H + 2·pad, W + 2·pad). The image fills rows pad to pad + H and "
        "columns pad to pad + W.",
        "np.zeros for the new array, then one slice assignment. Write the slice ends as "
        "pad + H and pad + W, and try your function with pad = 0: it must give a copy.",
    )),
    "a1_conv_output_size": ("Exercise 3.2: output size", (
        "Start from the formula (n - f + 2·pad) / stride + 1. Both errors come from the part "
        "above the division.",
        "If n - f + 2·pad is negative, the kernel is longer than the padded input. If it is "
        "not a multiple of stride, the windows do not tile. Raise ValueError in both cases.",
        "Test the multiple with % and divide with //, so the answer stays an int. Say in the "
        "message what is wrong and what to change: a smaller kernel, more padding, another "
        "stride.",
    )),
    "a1_same_padding": ("Exercise 3.3: \"same\" padding", (
        "With stride 1 the output length is n - f + 2P + 1. Set it equal to n and solve "
        "for P.",
        "P = (f - 1) / 2. It is a whole number only when f is odd.",
        "Test f % 2 first, and raise ValueError for an even f, saying why: f - 1 zeros cannot "
        "be split evenly between two sides. Otherwise divide f - 1 by 2 with integer "
        "division.",
    )),
    "a1_same_padding_pair": ("Exercise 3.5: \"same\" padding for even and dilated kernels", (
        "First find how many zeros the two sides hold together: the output keeps its length when "
        "the padding adds F_eff - 1 pixels, with F_eff the span of the dilated kernel.",
        "Split that total in two halves. When it is odd, one side gets one zero more: the cell "
        "above the task shows which side PyTorch picks.",
        "Return the two numbers as a tuple of ints, the smaller first; integer division gives "
        "the smaller half, and the other half is what is left of the total.",
    )),
    # ---------------------------------------------------------- 02-convolution-forward
    "a2_layout": ("Exercise 1.1: converting between layouts", (
        "No loops: x.transpose takes the new order of the axes, and indexing can reverse one "
        "axis. Check the number of dimensions (ndim) first.",
        "The argument of transpose lists, for each new position, the number of the old axis "
        "that goes there. For (N, C, H, W) to (N, H, W, C): the old positions of N, H, W, "
        "then C.",
        "to_channels_first undoes to_channels_last: C moves from the end to position 1. "
        "bgr_to_rgb keeps every pixel where it is and only reverses the last axis (a slice "
        "with step -1 there); check that the image is 3-D with 3 channels.",
    )),
    "a2_conv_forward_naive": ("Exercise 2.1: `conv_forward_naive`", (
        "Start with the shapes: N, C, H, W from x and F, C, HH, WW from w. Check the channels "
        "and that both output sizes are whole, before any loop.",
        "H_out = (H + 2P - HH) / S + 1, the same for W_out with W and WW. Test the tiling with "
        "% on height and width. Pad once, before the loops: np.pad with (0, 0) for the batch "
        "and channel axes and (pad, pad) for height and width.",
        "Four loops, n, f, i, j, filling out of shape (N, F, H_out, W_out). The window of "
        "output (i, j) starts at row i·S and column j·S, spans HH rows and WW columns, and "
        "all channels. out[n, f, i, j] is the sum of that window times w[f], plus b[f]. "
        "Return the pair (out, cache); cache holds x, w, b, conv_param.",
    )),
    "a2_conv_forward_strided": ("Exercise 3.1: `conv_forward_strided`", (
        "Same checks and sizes as conv_forward_naive; only the arithmetic changes. Pad x, "
        "then let sliding_window_view show every window at once.",
        "On the padded batch, sliding_window_view with (HH, WW) on axes (2, 3) gives "
        "(N, C, Hp - HH + 1, Wp - WW + 1, HH, WW). For the stride, keep every S-th window "
        "on axes 2 and 3 with a step slice.",
        "np.einsum sums over c, k and l in one call: window axes n, c, h, w, k, l with filter "
        "axes f, c, k, l give n, f, h, w (section 3 shows it). Add b shaped (1, F, 1, 1) so it "
        "broadcasts along axis 1. Return (out, cache) as before.",
    )),
    "a2_im2col": ("Exercise 4.1: `im2col`", (
        "Picture the result: one row per (image, output position), one column per (channel, "
        "kernel row, kernel column). Compute H_out and W_out, and pad x first.",
        "Fill a 6-D array of shape (N, H_out, W_out, C, HH, WW) first. Reshaping it to "
        "(N·H_out·W_out, C·HH·WW) puts rows and columns in exactly the required order.",
        "To fill it, loop over the kernel offsets (k, l) only. Offset (k, l) of every window "
        "is the slice of x_pad from row k and column l with step S, H_out rows and W_out "
        "columns long. That slice is (N, C, H_out, W_out): transpose it to (N, H_out, W_out, "
        "C) before you store it.",
    )),
    "a2_conv_forward_im2col": ("Exercise 4.2: `conv_forward_im2col`", (
        "Same checks and sizes as conv_forward_naive. Let your im2col make the windows: its "
        "rows are windows, its columns the entries of one flattened filter.",
        "Flatten the filters to an (F, C·HH·WW) matrix with w.reshape(F, -1). One matrix "
        "product, cols times the transpose of that matrix, gives (N·H_out·W_out, F). Add b "
        "to every row.",
        "The rows are in (n, i, j) order: reshape the product to (N, H_out, W_out, F), then "
        "transpose so the filter axis comes second, (N, F, H_out, W_out). Return "
        "(out, cache).",
    )),
    # ---------------------------------------------------------- 03-convolution-backward
    "a3_conv_backward_naive": ("Exercise 1.1: `conv_backward_naive`", (
        "Follow the three formulas above the exercise. Unpack the cache, read H_out and W_out "
        "from dout.shape, and pad x as in the forward pass.",
        "Start dx_pad, dw and db as float zeros shaped like x_pad, w and b. Loop over n, f, i, "
        "j; every step touches one window: rows i·S to i·S + HH, columns j·S to j·S + WW, all "
        "channels. db[f] collects every dout[n, f, i, j].",
        "For that window, dw[f] gains dout[n, f, i, j] times the window of x_pad, and the same "
        "window of dx_pad[n] gains dout[n, f, i, j] times w[f]. Use += both times: windows "
        "overlap and images add up. At the end cut the padding off: rows pad to pad + H, "
        "columns pad to pad + W.",
    )),
    "a3_conv_backward_fast": ("Exercise 3.1: `conv_backward_fast`", (
        "Vectorise one gradient at a time: db, then dw, then dx. Section 3 gives a plan for "
        "each.",
        "db sums dout over the batch and both spatial axes. For dw, take the strided windows "
        "of x_pad with sliding_window_view and contract them with dout over n, i and j "
        "(np.einsum or np.tensordot); the result must come out as (F, C, HH, WW).",
        "For dx, contract dout with w over f: the gradient of every entry of every window, "
        "e.g. (N, C, HH, WW, H_out, W_out). Then loop over the kernel offsets (k, l) only and "
        "add offset (k, l) into a zero dx_pad at rows k, k + S, ... and columns l, l + S, ... "
        "(a slice with step S). Cut the padding off at the end.",
    )),
    "a3_failing_cases": ("Exercise 4.1: two failing tests", (
        "Read buggy_conv_backward line by line next to your conv_backward_naive. For each "
        "line ask: is it right for every input, or only for inputs like the test's?",
        "The test tried one kind of input only: square, pad = 1, stride 1. Each bug hides on "
        "that kind. Change one property at a time (the padding, the shape) and see which bug "
        "each change wakes up.",
        "Bug A: evaluate the last slice by hand on a small array, for each pad from 0 up. "
        "Bug B: for each reshape, write down the order of the axes of what it reshapes, and "
        "ask which output shapes make two different orders look alike. Keep each case small, "
        "with sizes that tile.",
    )),
    "a3_conv_backward_fixed": ("Exercise 4.3: the fix", (
        "Copy buggy_conv_backward whole, then change only the two lines you found in "
        "exercise 4.1. Everything else stays.",
        "For each wrong line, say what it was meant to do. Which axes, in which order? Which "
        "rows and columns of dx_pad belong to x?",
        "The reshape must list the output axes in the order the rows of dout_rows were made. "
        "The crop must drop pad rows and columns on each side for every pad, 0 included: "
        "write its ends from pad and the size of x, not by counting back from the end.",
    )),
    "a3_conv_backward_dx_full": ("Exercise 5.1: `conv_backward_dx_full`", (
        "Do the four steps of the task one at a time, and print the shape after each. The "
        "result must have the shape of x.",
        "Spread: zeros of (N, F, (H_out - 1)·stride + 1, (W_out - 1)·stride + 1), with dout "
        "written into every stride-th row and column (a step slice). Pad: np.pad with HH - 1 "
        "on both sides of axis 2 and WW - 1 on both sides of axis 3.",
        "Turn every kernel by reversing its last two axes (step -1). Take sliding_window_view "
        "with (HH, WW) on axes (2, 3) of the padded dout, then np.einsum: window axes n, f, i, "
        "j, k, l with kernel axes f, c, k, l give n, c, i, j (a sum over f, k, l). That is the "
        "gradient of x_pad: crop pad from each side, ending at pad + H and pad + W.",
    )),
    "a3_conv_transpose": ("Exercise 6.1: `conv_transpose_naive`", (
        "Each input value paints a copy of its kernel, scaled by itself, onto the output. "
        "Mind the layout: w[c] is (F, HH, WW), a slice for every output channel.",
        "Make the full output first: zeros of (N, F, (H - 1)·S + HH, (W - 1)·S + WW). Loop "
        "over n, c, i, j and add (+=) x[n, c, i, j] times w[c] onto the window at rows i·S to "
        "i·S + HH and columns j·S to j·S + WW, all F channels at once.",
        "Then crop pad rows and columns from each side, which leaves (H - 1)·S - 2·pad + HH "
        "by (W - 1)·S - 2·pad + WW, and add b[f] to channel f (b shaped (1, F, 1, 1) "
        "broadcasts). Return out alone, no cache.",
    )),
    # ---------------------------------------------------------- 04-pooling
    "a3_learn_kernel": ("Exercise 7.1: `learn_kernel`", (
        "Build the windows of the images once, before the loop, with sliding_window_view over "
        "the last two axes; pred is then one np.einsum of the windows with w, as in notebook 02.",
        "The loss is the mean of the squared differences; its gradient with respect to pred "
        "carries the 2 of the square and the division by the number of output values. Record "
        "the loss before the step.",
        "Your conv_backward_fast takes that dout and the cache (images, w, a zero bias, stride 1 "
        "and pad 0); of the three gradients it returns, the kernel's step uses the middle one, "
        "against the direction it points.",
    )),
    "a4_max_pool_forward_naive": ("Exercise 1.1: `max_pool_forward_naive`", (
        "A convolution with no weights: the same windows, but each gives its largest value. "
        "Each channel is pooled on its own.",
        "Read PH, PW and S from pool_param. Raise ValueError first when PH > H or PW > W, or "
        "when H - PH or W - PW is not a multiple of S. Then H_out = (H - PH) / S + 1, and "
        "the same for W_out.",
        "Loop over i and j only. The window of all images and channels has rows i·S to "
        "i·S + PH and columns j·S to j·S + PW; its max over axes 2 and 3 fills "
        "out[:, :, i, j]. Return (out, cache); cache holds x and pool_param.",
    )),
    "a4_max_pool_backward_naive": ("Exercise 2.1: `max_pool_backward_naive`", (
        "The gradient of a max goes, whole, to the cell that held the maximum. Every other "
        "cell of the window gets nothing from that window.",
        "Start dx as zeros shaped like x. Loop over n, c, i and j, take the same window as "
        "the forward pass, and find where its maximum is.",
        "np.argmax gives the flat position of the first maximum (the tie rule), and "
        "np.unravel_index turns it into (row, col) inside the window. Add dout[n, c, i, j] to "
        "dx at row i·S + row and column j·S + col, with +=: overlapping windows can share a "
        "winner.",
    )),
    "a4_avg_pool": ("Exercise 3.1: `avg_pool_forward` and `avg_pool_backward`", (
        "The forward pass is your max pooling with the mean instead of the max. The backward "
        "pass shares each gradient equally among the cells of its window.",
        "Forward: the same checks, sizes and loops over i and j; the mean over axes 2 and 3 "
        "handles all images and channels at once. Return (out, cache) with x and pool_param.",
        "Backward: start dx as zeros shaped like x. For each (i, j), add dout[:, :, i, j] "
        "divided by PH·PW to every cell of window (i, j) of dx, with +=. Keep two size-1 axes "
        "on that dout slice (i:i + 1 and j:j + 1) so it broadcasts over the window.",
    )),
    "a4_conv1d_forward": ("Exercise 6.1: `conv1d_forward`", (
        "Notebook 02's convolution with one spatial axis instead of two: x (N, C, L), "
        "w (F, C, K), out (N, F, L_out).",
        "Check the channels, and that L + 2·pad - K is at least 0 and a multiple of stride. "
        "Pad the last axis only: np.pad with (0, 0), (0, 0), (pad, pad).",
        "sliding_window_view with window K on axis 2 gives (N, C, L + 2·pad - K + 1, K); keep "
        "every stride-th window along axis 2. np.einsum sums over c and k to give (N, F, "
        "L_out). Add b so that b[f] goes with out[:, f].",
    )),
    "a4_conv3d_forward": ("Exercise 7.1: `conv3d_forward`", (
        "The same with three spatial axes: x (N, C, D, H, W), w (F, C, KD, KH, KW), out "
        "(N, F, D_out, H_out, W_out), one stride and one pad for all three.",
        "Check the channels, then each spatial axis on its own: the padded size at least the "
        "kernel size, the difference a multiple of stride. A loop over the three sizes "
        "zipped with the three kernel sizes does it. Pad axes 2, 3 and 4.",
        "sliding_window_view with the kernel's shape, w.shape[2:], on axes (2, 3, 4), then a "
        "step of stride on those axes: (N, C, D_out, H_out, W_out, KD, KH, KW). np.tensordot "
        "or np.einsum sums over the channel and the three kernel axes; put the filter axis "
        "second (np.moveaxis) and add b along it.",
    )),
    # ---------------------------------------------------------- 05-numpy-cnn
    "a5_convolution": ("Exercise 1.1: `Convolution`", (
        "Notebook 02's forward and notebook 03's backward in one object. forward keeps on "
        "self what backward needs; backward stores self.dW and self.db and returns dx.",
        "forward: the checks of notebook 02 (channels, a filter larger than the padded input, "
        "tiling). Pad, take the strided windows, and lay them out as cols: transpose to "
        "(N, H_out, W_out, C, HH, WW), reshape to one row per window. cols times the "
        "flattened filters, transposed, plus b, then reshape and transpose to (N, F, H_out, "
        "W_out). Keep cols and x.shape on self.",
        "backward: lay dout out as rows like the output, (N·H_out·W_out, F). db sums the rows; "
        "dW is the rows transposed times cols, in W's shape; dcols is the rows times the "
        "flattened W. Arrange dcols as (N, C, HH, WW, H_out, W_out), loop over the offsets "
        "(k, l) and add each into the slice of a zero dx_pad with step stride. Cut the "
        "padding off.",
    )),
    "a5_relu_affine": ("Exercise 1.2: `ReLU` and `Affine`", (
        "ReLU's backward needs only where the input was positive: keep that boolean mask on "
        "self. Affine's backward needs the flattened input and the input's shape.",
        "ReLU: np.where with the mask picks x or 0 in forward, dout or 0 in backward, and "
        "makes a new array, so nothing is written in place. Affine forward: flatten to "
        "(N, D), keep it and x.shape on self, return the flat input times W plus b.",
        "Affine backward, the formulas of the text: dW is the flat input transposed times "
        "dout, db is dout summed over axis 0, and dx is dout times W transposed, reshaped to "
        "the input shape you kept.",
    )),
    "a5_max_pooling": ("Exercise 1.3: `MaxPooling`", (
        "Vectorise notebook 04's max pooling with the windows of the convolution. The "
        "backward pass needs which cell of each window won: keep that on self.",
        "forward: the checks first. sliding_window_view on axes (2, 3), with a step of stride "
        "on axes 2 and 3, is (N, C, H_out, W_out, pool_h, pool_w). Reshape so each window "
        "is one row of pool_h·pool_w values: max along the last axis is out, argmax (the "
        "first maximum) the winner.",
        "backward: zeros shaped like x, and a loop over the offsets (k, l) inside a window. "
        "The cells at offset (k, l) of all windows are the slice of dx from (k, l) with step "
        "stride. They get dout where the winner is k·pool_w + l, and 0 elsewhere; use += "
        "for overlapping windows.",
    )),
    "a5_softmax_with_loss": ("Exercise 1.4: `SoftmaxWithLoss`", (
        "Work in log-probabilities. Subtract each row's maximum first: it changes nothing "
        "mathematically and stops np.exp from overflowing.",
        "With z the scores minus their row maximum (keepdims=True keeps it a column), "
        "log y = z - log(sum over the row of exp(z)). The loss is minus the mean of log y at "
        "each image's label; pick those with two index arrays, the rows 0..N-1 and t.",
        "Keep y = exp(log y) and t on self. backward: copy y, subtract 1 at each image's "
        "label (the same two index arrays), divide by N and multiply by dout.",
    )),
    "a5_batchnorm_forward": ("Exercise 1.5: `spatial_batchnorm_forward`", (
        "Everything is per channel: reduce over the axes (0, 2, 3), and reshape the (C,) results "
        "to (1, C, 1, 1) so that they broadcast against x. Check the mode first, then read eps "
        "and momentum with their defaults (dict.get).",
        "Train mode: the batch mean and np.var's (biased) variance over (0, 2, 3) normalise x. "
        "Then update the running arrays of bn_param in place: scale the old values by momentum "
        "and add (1 - momentum) times the batch's statistic; for the variance, the batch "
        "variance times M / (M - 1), with M = N·H·W. dict.setdefault puts zeros and ones in "
        "when they are missing.",
        "Test mode takes the running mean and variance where train mode takes the batch's. In "
        "both, eps goes under the square root, next to the variance, and gamma scales before "
        "beta shifts. Keep in the cache what the backward pass needs: the normalised x, gamma "
        "and one over the standard deviation are enough.",
    )),
    "a5_batchnorm_backward": ("Exercise 1.6: `spatial_batchnorm_backward`", (
        "dbeta and dgamma first: sums over (0, 2, 3), of dout and of dout times x_hat. For dx, "
        "list the three ways one x reaches the loss: through its own x_hat, through the "
        "channel's mean, and through the channel's variance.",
        "With dx_hat = dout times gamma (as (1, C, 1, 1)), the formula of the text needs two "
        "means per channel over (0, 2, 3): of dx_hat, and of dx_hat times x_hat. keepdims=True "
        "keeps them broadcastable.",
        "Subtract both from dx_hat, the second one multiplied by x_hat, and divide by the "
        "standard deviation your forward pass kept. A check of your own: each channel of dx "
        "sums to 0.",
    )),
    "a5_simple_conv_net": ("Exercise 2.1: `SimpleConvNet`", (
        "Build it in the order of the task: sizes, then params, then layers. predict, loss, "
        "accuracy and gradient are short loops over self.layers.",
        "Conv height (H + 2·pad - filter_size) // stride + 1, the same with W; pooling halves "
        "both (//); Affine1 gets filter_num times the two pooled sizes. Draw W1, W2, W3 in "
        "that order from one generator made with np.random.default_rng(seed).",
        "Give the layers the arrays of self.params themselves. predict runs x through "
        "self.layers.values() in order; accuracy compares the argmax of the scores on axis 1 "
        "with t and returns the mean as a float. gradient: self.loss, then "
        "self.last_layer.backward(1), then each layer's backward in reversed order; collect "
        "dW and db of Conv1, Affine1, Affine2 under W1 ... b3.",
    )),
    "a5_he_init": ("Exercise 2.2: `he_init`", (
        "Only fan_in differs between the two kinds of shape: the number of inputs one output "
        "sums. A filter (C, HH, WW) sums over its channels and its kernel cells; an affine W "
        "of shape (D, M) takes D inputs to M outputs.",
        "len(shape) tells a convolution (4) from an affine layer (2). For 4, fan_in is the "
        "product of the last three entries; for 2, the first entry (the second one would be "
        "fan_out).",
        "The standard deviation is the square root of 2 / fan_in. Scale one call of "
        "standard_normal on the whole shape, made on the rng you were given: no np.random, and "
        "no generator of your own.",
    )),
    "a5_pool_output_units": ("Exercise 3.1: `pool_output_units`", (
        "Follow the side of the square through the two layers with integers only: the "
        "convolution's side, then the pooled side, then the count.",
        "The convolution's side is (input_size + 2·pad - filter_size) / stride + 1. Raise "
        "ValueError when the part above the division is negative or not a multiple of "
        "stride (test with %).",
        "Raise ValueError too when that side is odd: 2x2 pooling with stride 2 cannot halve "
        "it. Otherwise the pooled side is half of it (//), and the count is filter_num times "
        "the pooled side squared, an int.",
    )),
    "a5_train": ("Exercise 5.1: `train`", (
        "Three nested parts: epochs, the mini-batches of an epoch, the parameter arrays of a "
        "batch. Make the optimizer's state and the history once, before the epochs.",
        "Make rng once from np.random.default_rng(seed). Each epoch: rng.permutation(N) gives "
        "the order; take batch_size indices at a time from it and call net.gradient on that "
        "batch. After the batches, append the loss and accuracy on the whole training and "
        "test sets, as floats.",
        "Update every p of net.params in place (p -= ..., or p[...] = ...). Keep v, or Adam's "
        "m and v, in dicts of zeros shaped like each parameter (np.zeros_like). Adam's k "
        "counts updates, not epochs, from 1. Check optimizer before the loops; wrap "
        "range(num_epochs) in tqdm.",
    )),
    "a5_save_load": ("Exercise 6.1: `save_params` and `load_params`", (
        "Save: write to exactly path with np.savez. Load: read and check everything first, "
        "and copy into the arrays of net.params only at the end, so a failed load changes "
        "nothing.",
        "Saving: open(path, \"wb\") in a with block, and pass the file and every array, "
        "under its key, to np.savez. Reading: np.load(path, allow_pickle=False) in a try "
        "block; on any error raise ValueError from it. Read every array out while the file "
        "is open.",
        "Check in order: the set of keys against the keys of net.params (name the missing "
        "and the extra ones), then each array's shape and dtype against its parameter's. "
        "Only then copy, in place, with net.params[key][...] on the left.",
    )),
}


def exercises(notebook=None):
    """The exercise ids with hints, in course order; with notebook ("02" or 2), that one's."""
    if notebook is None:
        return list(LADDERS)
    prefix = f"a{int(notebook)}_"
    return [name for name in LADDERS if name.startswith(prefix)]


def progress_file():
    """Where hints are recorded: $COURSE_PROGRESS/hints.jsonl, else progress/hints.jsonl in
    the course root above the current folder, else ~/.cnn-course/progress/hints.jsonl."""
    return progress_folder() / HINTS_NAME


def hints_taken():
    """{exercise: the highest hint level taken so far}, read from the progress file."""
    return progress_hints(progress_file().parent)


def _check_id(exercise):
    if exercise in LADDERS:
        return
    wanted = str(exercise).strip().lower()
    close = [name for name in LADDERS if name.endswith("_" + wanted)]  # the name without aN_
    close += [name for name in difflib.get_close_matches(wanted, LADDERS, n=4, cutoff=0.6)
              if name not in close]
    guess = f" Did you mean {', '.join(repr(n) for n in close)}?" if close else ""
    raise UnknownExercise(
        f"There is no exercise {exercise!r}.{guess} An exercise's id is 'a' + the notebook's "
        "number + '_' + a name, e.g. 'a2_conv_forward_naive' in notebook 02: exercises() lists "
        "them all, exercises('02') those of one notebook.")


def _record(exercise, level):
    path = progress_file()
    entry = {"time": datetime.datetime.now().isoformat(timespec="seconds"),
             "exercise": exercise, "level": level}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
    except OSError as err:
        print(f"(This hint could not be recorded in {path}: {err}. Set COURSE_PROGRESS to a "
              "folder you can write to.)")


def _say(text):
    print(textwrap.fill(text, WIDTH, break_on_hyphens=False))


def hint(exercise, again=False):
    """Print the next hint of `exercise` (again=True: the last one taken) and record it."""
    if is_grading():
        return None
    _check_id(exercise)
    section, ladder = LADDERS[exercise]
    taken = min(hints_taken().get(exercise, 0), len(ladder))
    call = f"hint({exercise!r})"
    if again and taken == 0:
        _say(f"No hint of {exercise} taken yet: {call} gives the first.")
        return None
    if not again and taken == len(ladder):
        _say(f"No more hints for {exercise}: you have taken all {len(ladder)}. Read the text "
             f"of notebook {exercise[1:].split('_')[0].zfill(2)}, {section}, once more, and the "
             "message of its public test: it says what was expected, what came back, and "
             "often names the mistake.")
        print(f"{call[:-1]}, again=True) shows the last hint again.")
        return None
    level = taken if again else taken + 1
    _say(f"Hint {level} of {len(ladder)}: {ladder[level - 1]}")
    if level < len(ladder):
        print(f"(Stuck still? {call} gives hint {level + 1}.)")
    _record(exercise, level)
    return None
