import subprocess
import sys

from course.doctor import Finding, report, run_checks


def test_everything_is_fine_in_the_course_environment():
    findings = run_checks()
    assert all(f.ok for f in findings), report(findings)


def test_report_says_what_to_fix():
    text = report([Finding(True, "Python", "3.11.7"),
                   Finding(False, "numpy", "1.0 installed, 2.4.6 expected", "run ./course.sh setup")])
    assert "✗ numpy: 1.0 installed, 2.4.6 expected\n    to fix: run ./course.sh setup" in text
    assert "1 problem(s) found" in text


def test_command_line_exit_code(repo):
    done = subprocess.run([sys.executable, "-m", "course.doctor"], capture_output=True, text=True, cwd=repo)
    assert done.returncode == 0 and "All good" in done.stdout
