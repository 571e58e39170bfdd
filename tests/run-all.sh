#!/usr/bin/env bash
# `make test`: every stage in order, the lab brought up for the lab-backed stages and
# always brought down at the end (also on failure or interrupt). A failed stage does not
# stop the others, so one run reports everything; the exit code is non-zero if any failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
passed=0 failed=0 failures=()
stage() {
  local name=$1; shift
  local start=$SECONDS
  echo; echo "##### stage: $name"
  if "$@"; then
    passed=$((passed + 1)); echo "##### $name: passed in $((SECONDS - start)) s"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "##### $name: FAILED after $((SECONDS - start)) s"
  fi
}
trap 'make --no-print-directory lab-down >/dev/null 2>&1 || true' EXIT INT TERM
stage lint        make --no-print-directory lint
stage sanity      make --no-print-directory sanity
stage units       make --no-print-directory units
stage catalog-app make --no-print-directory catalog-tests
stage lab-up      make --no-print-directory lab-up
if ! printf '%s\n' "${failures[@]:-}" | grep -qx lab-up; then
  stage integration make --no-print-directory integration
  stage molecule    make --no-print-directory molecule
fi
stage lab-down make --no-print-directory lab-down
# Scaling out needs other hosts (a balancer, two web hosts, a database): a lab of its own.
stage lab-up-scaleout make --no-print-directory lab-up LAB_HOSTS="lb web1 web2 db s3"
if ! printf '%s\n' "${failures[@]:-}" | grep -qx lab-up-scaleout; then
  stage scaleout tests/molecule.sh scaleout
fi
stage lab-down-scaleout make --no-print-directory lab-down
trap - EXIT INT TERM
echo
[ $failed -eq 0 ] || echo "failed stages: ${failures[*]}"
echo "make-test: $passed passed, $failed failed"
[ $failed -eq 0 ]
