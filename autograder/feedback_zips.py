"""Feedback for an LMS, without nbgrader's exchange (`nbgrader release_feedback` needs one).

    python -m autograder.feedback_zips 01-convolution-basics

Reads feedback/<student>/<assignment>/ (made by `nbgrader generate_feedback` or by
`grade_class`) and writes, in instructor/<assignment>/:
- feedback/<name>.zip, one per student: that student's feedback pages. <name> is the name
  the LMS gave the student's file in its download (downloaded/<assignment>/extracted/, e.g.
  Canvas's `ada_1234_5678_01-convolution-basics`), or the student id when there is none.
- feedback-all.zip: every student's page, each named like the student's downloaded file,
  for an LMS that takes feedback files back in bulk by those names (Canvas: "Re-Upload
  Submissions").
"""
import argparse
import pathlib
import re
import sys
import zipfile

from autograder.late import course_config, student_pattern


def downloaded_names(course, assignment):
    """{student: stem of the file the LMS downloaded for them} (empty without a download)."""
    extracted = pathlib.Path(course) / "downloaded" / assignment / "extracted"
    pattern = student_pattern(course_config(course))
    names = {}
    if pattern is None or not extracted.is_dir():
        return names
    for path in sorted(extracted.rglob("*.ipynb")):
        match = pattern.match(str(path.relative_to(extracted)))
        if match and match.groupdict().get("student_id"):
            names.setdefault(match["student_id"], path.stem)
    return names


def _safe(name):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def write_feedback_zips(course, assignment, out=None):
    """Write the zips (see the module docstring); returns {student: zip path}."""
    course = pathlib.Path(course).resolve()
    out = pathlib.Path(out) if out else course / "instructor" / assignment
    pages = {p.parent.parent.name: p.parent
             for p in (course / "feedback").glob(f"*/{assignment}/*.html")}
    if not pages:
        raise SystemExit(f"feedback/ has no pages for {assignment}: make them first with\n"
                         f"    nbgrader generate_feedback {assignment} --force")
    lms = downloaded_names(course, assignment)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    written = {}
    with zipfile.ZipFile(out / "feedback-all.zip", "w", zipfile.ZIP_DEFLATED) as everyone:
        for student, folder in sorted(pages.items()):
            name = _safe(lms.get(student, student))
            target = out / "feedback" / f"{name}.zip"
            html = sorted(folder.glob("*.html"))
            with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as one:
                for page in html:
                    one.write(page, page.name)
            for page in html:
                suffix = "" if len(html) == 1 else f"-{page.stem}"
                everyone.write(page, f"{name}{suffix}.html")
            written[student] = target
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("assignment")
    parser.add_argument("--course", default=".", help="course directory (default: here)")
    parser.add_argument("--out", help="folder for the zips (default: instructor/ASSIGNMENT)")
    args = parser.parse_args(argv)
    written = write_feedback_zips(args.course, args.assignment, args.out)
    out = pathlib.Path(args.out) if args.out else pathlib.Path("instructor") / args.assignment
    print(f"{len(written)} feedback zips in {out}/feedback/, and all of them in "
          f"{out}/feedback-all.zip")
    return 0


if __name__ == "__main__":
    sys.exit(main())
