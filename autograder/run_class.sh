#!/usr/bin/env bash
# The whole grading path of one assignment, run from the course directory (the repo root):
#
#   autograder/run_class.sh ASSIGNMENT ROSTER.csv [SUBMISSIONS.zip] [--workers N]
#
# ROSTER.csv: id,first_name,last_name,email. With a zip (downloaded from Canvas or Moodle,
# see c.FileNameCollectorPlugin.named_regexp in nbgrader_config.py) submissions come from it
# and feedback zips for the LMS are written to instructor/ASSIGNMENT/; without one, from
# nbgrader's exchange (`nbgrader collect`). Grades go to instructor/grades-ASSIGNMENT.csv.
# Free-response answers are then graded in the formgrader (./course.sh instructor).
set -euo pipefail
if [ $# -lt 2 ]; then
    sed -n 2,11p "$0"; exit 2
fi
assignment=$1 roster=$2; shift 2
zip=""
if [ $# -gt 0 ] && [[ $1 == *.zip ]]; then zip=$1; shift; fi
[ -f "$roster" ] || { echo "roster $roster not found (a CSV: id,first_name,last_name,email)"; exit 2; }
[ -z "$zip" ] || [ -f "$zip" ] || { echo "zip $zip not found"; exit 2; }

nbgrader db student import "$roster"
python -m autograder.gradebook "$assignment"            # the assignment into the gradebook
if [ -n "$zip" ]; then
    mkdir -p "downloaded/$assignment/archive"
    cp "$zip" "downloaded/$assignment/archive/"
    nbgrader zip_collect "$assignment" --force
else
    nbgrader collect "$assignment"
fi
python -m autograder.grade_class "$assignment" "$@"     # check, autograde, feedback, report
[ -z "$zip" ] || python -m autograder.feedback_zips "$assignment"
mkdir -p instructor
nbgrader export --to "instructor/grades-$assignment.csv"
echo "Next: grade the free-response answers in the formgrader (./course.sh instructor), then"
echo "      nbgrader generate_feedback $assignment --force && nbgrader export --to instructor/grades.csv"
