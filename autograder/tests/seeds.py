"""Code published by learners (the seeds of /work/shared/seeds, copied verbatim): wrong answers
the course must answer with a useful hint.

SEED_002_FORWARD: a blog's `conv_forward_naive` (seed 002), with its helper. It reads each
window as (C, WW, HH) instead of (C, HH, WW): right when the kernel is square, and it raises a
broadcast error when it is not.
"""
import numpy as np

SEED_002_FORWARD = '''
def get_stride_input_data(train, N, data, stride, C, WW, HH, receptive_field):
    for i in range(N):
        input_data = np.lib.stride_tricks.sliding_window_view(data[i], (C, WW, HH))[:,::stride, ::stride].reshape(-1, receptive_field * C).T
        train[i] = input_data

def conv_forward_naive(x, w, b, conv_param):

    out = None
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    padding, stride =  conv_param.get('pad', 0), conv_param.get('stride', 1)

    width_out, height_out = int((H + 2*padding - HH) / stride + 1) ,int((W + 2*padding - WW) / stride + 1)
    receptive_field =  int(HH * WW)
    w_out = w.reshape(int(F), int(C) * receptive_field)
    x_pad = np.pad(x, ((0,), (0,), (padding,), (padding,)), mode='constant', constant_values=0)

    train = np.zeros((N, receptive_field * C, width_out * height_out))

    get_stride_input_data(train, N, x_pad, stride, C, WW, HH, receptive_field)

    out = (w_out @ train).reshape(N, F, width_out, height_out)

    b = np.expand_dims(b, axis=(2, 1))

    x = train
    w = w_out

    out = out + b

    conv_param['filter'] = (HH, WW)
    conv_param['IC'] = C
    conv_param['data_pad'] = x_pad.shape


    cache = (x, w, b, conv_param)
    return out, cache
'''


def seed_002_forward():
    """SEED_002_FORWARD's conv_forward_naive, as a function."""
    namespace = {"np": np}
    exec(SEED_002_FORWARD, namespace)
    return namespace["conv_forward_naive"]
