"""Reference cases of each assignment: one module per assignment, each with `build()`
returning {key: array} (inputs from a fixed seed, expected outputs from an independent oracle).

To add an assignment: write cases/<topic>.py with build(), and list it in ASSIGNMENTS.
"""
from autograder.cases import convolution_backward, convolution_basics, convolution_forward, numpy_cnn, pooling, pytorch_cnns, training_cnns

ASSIGNMENTS = {
    "01-convolution-basics": convolution_basics.build,
    "02-convolution-forward": convolution_forward.build,
    "03-convolution-backward": convolution_backward.build,
    "04-pooling": pooling.build,
    "05-numpy-cnn": numpy_cnn.build,
    "06-pytorch-cnns": pytorch_cnns.build,
    "07-training-cnns": training_cnns.build,
}
