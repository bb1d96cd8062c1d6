#!/usr/bin/env bash
# The whole grading path of one assignment, run from the course directory (the repo root):
#
#   autograder/run_class.sh ASSIGNMENT ROSTER.csv [SUBMISSIONS.zip] [--workers N]
#
# ROSTER.csv: id,first_name,last_name,email. With a zip (downloaded from Canvas or Moodle,
# see c.FileNameCollectorPlugin.named_regexp in nbgrader_config.py) submissions come from it;
# without one, from nbgrader's exchange (`nbgrader collect`). Free-response answers are then
# graded in the formgrader, and `nbgrader export` writes the final grade CSV.
set -euo pipefail
if [ $# -lt 2 ]; then
    sed -n 2,10p "$0"; exit 2
fi
assignment=$1 roster=$2; shift 2
zip=""
if [ $# -gt 0 ] && [[ $1 == *.zip ]]; then zip=$1; shift; fi
[ -f "$roster" ] || { echo "roster $roster not found (a CSV: id,first_name,last_name,email)"; exit 2; }

nbgrader db student import "$roster"
nbgrader generate_assignment "$assignment" --force
if [ -n "$zip" ]; then
    mkdir -p "downloaded/$assignment/archive"
    cp "$zip" "downloaded/$assignment/archive/"
    nbgrader zip_collect "$assignment" --force
else
    nbgrader collect "$assignment"
fi
python -m autograder.grade_class "$assignment" "$@"     # autograde + feedback + report
nbgrader export --to "grades-$assignment.csv"
echo "Next: grade the free-response answers in the formgrader (nbgrader formgrader), then"
echo "      nbgrader generate_feedback $assignment --force && nbgrader export --to grades.csv"
