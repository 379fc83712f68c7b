#!/usr/bin/env bash
# Wall times of the book's pipeline on this machine, from a fresh clone of the current commit (nothing is reused
# from this checkout but pip's download cache): first `make` (venv + install + build), a rebuild with no change, a
# rebuild after a prose-only edit of one chapter, a full regeneration of every output, the PDF and the test run.
# Prints a Markdown table (the date and commit on stderr); benchmarks/readme_timings.py stores it and copies it into the
# README.
#   benchmarks/bench_book.sh [--skip-tests]
set -euo pipefail
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone --quiet "$repo" "$work/book"
cd "$work/book"

declare -a rows
timed() {
  local label=$1; shift
  local start tenths
  start=$(date +%s%N)
  "$@" > "$work/log.txt" 2>&1 || { echo "FAILED: $label"; tail -30 "$work/log.txt"; exit 1; }
  tenths=$(( ($(date +%s%N) - start) / 100000000 ))
  rows+=("| $label | $((tenths / 10)).$((tenths % 10)) |")
}

timed "first \`make\` on a fresh clone (venv, install, build)" make
timed "\`make\` again, no change" make
printf '\nA sentence added by the benchmark.\n' >> chapters/cohort.md
timed "\`make\` after a prose-only edit of one chapter" make
git checkout --quiet chapters/cohort.md
timed "\`make outputs\` (every chapter re-executed)" make outputs
timed "\`make pdf\`" make pdf
if [ "${1:-}" != "--skip-tests" ]; then
  timed "\`make test\`" make test
fi

echo "Measured on $(nproc) cores, $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD):" >&2
echo >&2
echo "| step | wall time (s) |"
echo "|---|---|"
printf '%s\n' "${rows[@]}"
