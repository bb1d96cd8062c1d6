"""Regenerate release/ from source/ with `nbgrader generate_assignment`.

    ./course.sh release            (all assignments)
    ./course.sh release 01-convolution-basics

Generation happens in a throw-away course directory, so no gradebook or other grading state
is left in the repository.
"""
import pathlib
import shutil
import sys
import tempfile

from autograder.nbgrader_steps import REPO, assignments, generate_assignment, make_course


def build_release(dest, names=None, root=REPO):
    """Generate the student notebooks of `names` into dest/release/. Returns that folder."""
    names = names or assignments(root)
    course = make_course(dest, names, root)
    for name in names:
        generate_assignment(course, name)
    return pathlib.Path(course) / "release"


def main(argv):
    names = argv or assignments()
    unknown = sorted(set(names) - set(assignments()))
    if unknown:
        print(f"unknown assignment(s): {', '.join(unknown)}; "
              f"source/ has: {', '.join(assignments())}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        built = build_release(tmp, names)
        for name in names:
            target = REPO / "release" / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(built / name, target)
            print(f"release/{name} regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
