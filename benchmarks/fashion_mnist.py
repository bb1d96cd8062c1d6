"""Fashion-MNIST on a CPU: the training input pipeline, the better CNN of 07 and LeNet-5 of 06.

    .venv/bin/python benchmarks/fashion_mnist.py throughput [--rounds 3] [--batches 40]
    .venv/bin/python benchmarks/fashion_mnist.py better [--epochs 6] [--lr 0.004] [--augment flip]
    .venv/bin/python benchmarks/fashion_mnist.py lenet [--epochs 6]
    .venv/bin/python benchmarks/fashion_mnist.py all            # the three, one after the other

Data: Debian's dataset-fashion-mnist (or COURSE_FASHION_MNIST), read by
course.datasets.training_splits: 55,000 training images, 5,000 held out for validation
(stratified, seed 0), the 10,000 test images. Exit status 2 when the files are missing.

throughput: images per second of the input pipeline alone, and of the input pipeline plus one
training step (forward, loss, backward, Adam step), batches of 128, for LeNet-5 and for the
better CNN, four ways:
  before     a DataLoader over a Dataset whose transform runs v2.RandomHorizontalFlip and
             v2.RandomCrop(28, padding=2) on each image as it is read (what 07 did), no workers
  before+2w  the same with num_workers=2 (two worker processes do the per-image work)
  after      course.training.TensorLoader, each batch augmented by flip_and_shift
  ceiling    the same network fed slices of one tensor in memory: no shuffling, no augmentation
The ways take turns for --rounds rounds (the machine is shared: each round sees about the same
load), and each figure is the best round. Then 'after' with 1 thread against 2, also in turns.

better: the better CNN (the reference solution of make_better_cnn, 07) trained on the 55,000
images, every batch augmented by --augment (flip: random_flip, the default; flip_and_shift;
none), Adam with a one-cycle schedule up to --lr, batches of 128, --epochs epochs; the
validation accuracy after each epoch, the test accuracy once at the end. Targets: test
accuracy at least 92.5% within 300 s of training (evaluation not counted).

lenet: LeNet-5 (the reference solution of 06, ReLU, 28x28) with the same data, schedule and
augmentation: test accuracy and seconds per epoch.

Threads: course.training.use_free_cores() (one per core the load average says is free), or
--threads N. Every figure is printed with the load average (1 minute) when it was measured.
"""
import argparse
import functools
import itertools
import os
import sys
import time

import torch
import torch.nn.functional as F

from autograder.solutions import load_solutions
from course.datasets import find_fashion_mnist, training_splits
from course.torchvision_compat import import_torchvision
from course.training import ImagesDataset, TensorLoader, flip_and_shift, random_flip, use_free_cores

BATCH = 128
AUGMENTATIONS = {"flip": random_flip, "flip_and_shift": flip_and_shift, "none": None}
TARGET_ACCURACY, TARGET_SECONDS = 0.925, 300.0


def load():
    return f"load average {os.getloadavg()[0]:.1f}"


@functools.cache
def networks():
    """{name: function making a fresh model}: LeNet-5 (06) and the better CNN (07).

    (Loading the solutions runs each notebook's setup cell, which sets torch's threads: main
    calls this first, then sets them.)
    """
    lenet = load_solutions("06-pytorch-cnns")["LeNet5"]
    better = load_solutions("07-training-cnns")["make_better_cnn"]
    return {"LeNet-5": lambda: lenet("relu", (28, 28)), "better CNN": lambda: better(num_classes=10)}


def pipelines(x, y):
    """{name: loader} for the four ways of serving augmented batches (see the docstring)."""
    import_torchvision()
    from torchvision.transforms import v2
    from torch.utils.data import DataLoader

    per_image = v2.Compose([v2.RandomHorizontalFlip(), v2.RandomCrop(28, padding=2)])
    dataset = ImagesDataset(x, y, transform=per_image)
    return {
        "before": DataLoader(dataset, batch_size=BATCH, shuffle=True),
        "before+2w": DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=2,
                                persistent_workers=True),
        "after": TensorLoader(x, y, BATCH, shuffle=True, augment=flip_and_shift),
        "ceiling": TensorLoader(x, y, BATCH),
    }


def images_per_second(loader, batches, step=None):
    """Images per second over `batches` batches of loader, each passed to step(x, y) if given."""
    count, start = 0, time.perf_counter()
    for x, y in itertools.islice(loader, batches):
        if step is not None:
            step(x, y)
        count += len(y)
    return count / (time.perf_counter() - start)


def training_step(model):
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(x, y):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return step


def in_turns(jobs, rounds):
    """Run every job once per round, in turns; returns {name: best result} and the loads seen."""
    best, loads = {}, []
    for r in range(rounds):
        loads.append(os.getloadavg()[0])
        for name, job in jobs.items():
            best[name] = max(best.get(name, 0.0), job())
        print(f"  round {r + 1} of {rounds} done, {load()}", flush=True)
    return best, loads


def throughput(data, args):
    print(f"Throughput: batches of {BATCH}, best of {args.rounds} rounds of {args.batches} batches each way")
    x, y = data.x_train, data.y_train
    loaders = pipelines(x, y)
    for loader in loaders.values():                       # start the workers, warm the caches
        images_per_second(loader, 3)
    jobs = {("input only", name): (lambda loader=loader: images_per_second(loader, args.batches))
            for name, loader in loaders.items()}
    for net_name, make in networks().items():
        torch.manual_seed(0)
        step = training_step(make())
        step(x[:BATCH], y[:BATCH])
        for name, loader in loaders.items():
            jobs[(net_name, name)] = (lambda loader=loader, step=step:
                                      images_per_second(loader, args.batches, step))
    best, loads = in_turns(jobs, args.rounds)
    print(f"\nimages per second ({torch.get_num_threads()} thread(s); load average during the rounds "
          f"{min(loads):.1f} to {max(loads):.1f}, now {os.getloadavg()[0]:.1f})")
    print(f"{'':<14}" + "".join(f"{name:>12}" for name in loaders))
    for row in ["input only", *networks()]:
        print(f"{row:<14}" + "".join(f"{best[(row, name)]:>12,.0f}" for name in loaders))
    for row in networks():
        after, before, ceiling = (best[(row, k)] for k in ("after", "before", "ceiling"))
        print(f"{row}: after / before {after / before:.1f}x, after / ceiling {after / ceiling:.0%}")

    # threads: the 'after' pipeline with the better CNN, 1 thread against 2, in turns
    cores = len(os.sched_getaffinity(0))
    if cores > 1:
        chosen = torch.get_num_threads()
        make = networks()["better CNN"]

        def with_threads(n):
            def job():
                torch.set_num_threads(n)
                torch.manual_seed(0)
                step = training_step(make())
                return images_per_second(loaders["after"], args.batches, step)
            return job
        print(f"\nbetter CNN, 'after' pipeline, 1 thread against {cores}, in turns:")
        best, loads = in_turns({n: with_threads(n) for n in (1, cores)}, args.rounds)
        torch.set_num_threads(chosen)
        print("  " + ", ".join(f"{n} thread(s): {rate:,.0f} images/s" for n, rate in best.items())
              + f" (load average {min(loads):.1f} to {max(loads):.1f})")
    return 0


def train(model, data, args, name):
    """Adam with a one-cycle schedule, --augment on each batch; prints each epoch; returns results."""
    augment = AUGMENTATIONS[args.augment]
    loader = TensorLoader(data.x_train, data.y_train, BATCH, shuffle=True, seed=0, augment=augment)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=args.epochs * len(loader))
    val = TensorLoader(data.x_val, data.y_val, 1000)
    seconds = []
    print(f"{name}: {sum(p.numel() for p in model.parameters()):,} parameters; {len(data.y_train):,} training, "
          f"{len(data.y_val):,} validation, {len(data.y_test):,} test images; Adam, one-cycle to lr "
          f"{args.lr:g}, batch {BATCH}, {args.epochs} epochs, "
          f"augmentation: {args.augment}")
    for epoch in range(args.epochs):
        model.train()
        start, total = time.perf_counter(), 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(y)
        seconds.append(time.perf_counter() - start)
        print(f"  epoch {epoch + 1:>2}  training loss {total / len(data.y_train):.4f}  "
              f"validation accuracy {accuracy(model, val):.2%}  {seconds[-1]:.1f} s  {load()}", flush=True)
    test = accuracy(model, TensorLoader(data.x_test, data.y_test, 1000))
    print(f"  training time {sum(seconds):.0f} s ({sum(seconds) / len(seconds):.1f} s per epoch, fastest "
          f"{min(seconds):.1f} s); test accuracy {test:.2%}")
    return test, sum(seconds), seconds


def accuracy(model, loader):
    model.eval()
    right = count = 0
    with torch.no_grad():
        for x, y in loader:
            right += int((model(x).argmax(dim=1) == y).sum())
            count += len(y)
    return right / count


def better(data, args):
    torch.manual_seed(0)
    model = networks()["better CNN"]()
    test, seconds, _ = train(model, data, args, "better CNN (07)")
    targets = [(f"test accuracy at least {TARGET_ACCURACY:.1%}", test >= TARGET_ACCURACY),
               (f"training time at most {TARGET_SECONDS:.0f} s", seconds <= TARGET_SECONDS)]
    for label, met in targets:
        print(f"{'met ' if met else 'MISSED'}  {label}")
    return 0 if all(met for _, met in targets) else 1


def lenet(data, args):
    torch.manual_seed(0)
    train(networks()["LeNet-5"](), data, args, "LeNet-5 (06, ReLU)")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["throughput", "better", "lenet", "all"], nargs="?", default="all")
    parser.add_argument("--rounds", type=int, default=3, help="throughput: rounds in turns (3)")
    parser.add_argument("--batches", type=int, default=40, help="throughput: batches per way and round (40)")
    parser.add_argument("--epochs", type=int, default=6, help="better, lenet: epochs (6)")
    parser.add_argument("--lr", type=float, default=4e-3, help="better, lenet: peak learning rate (0.004)")
    parser.add_argument("--augment", choices=list(AUGMENTATIONS), default="flip",
                        help="better, lenet: the batch augmentation (flip: random_flip)")
    parser.add_argument("--threads", type=int, help="torch threads (default: one per free core)")
    args = parser.parse_args(argv)
    if find_fashion_mnist() is None:
        print("Fashion-MNIST not found: sudo apt-get install dataset-fashion-mnist, or set "
              "COURSE_FASHION_MNIST to a folder holding its four idx files", file=sys.stderr)
        return 2
    networks()
    if args.threads:
        torch.set_num_threads(args.threads)
    else:
        use_free_cores()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {os.cpu_count()} cores, {load()}\n")
    data = training_splits(n_val=5000)
    status = 0
    for what, run in [("throughput", throughput), ("better", better), ("lenet", lenet)]:
        if args.what in (what, "all"):
            status |= run(data, args)
            print()
    return status


if __name__ == "__main__":
    sys.exit(main())
