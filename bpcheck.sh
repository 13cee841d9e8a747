#!/usr/bin/env bash
# Sets up .venv (once, and again when pyproject.toml or constraints.txt change), then:
#   ./bpcheck.sh test          run the test suite's default part on every core (pytest -n auto:
#                              pytest-xdist, --dist loadgroup from pyproject.toml); -n 0 runs it in one process
#   ./bpcheck.sh test-slow     run the slow part of the suite (pytest -n auto -m slow; CI runs it too)
#   ./bpcheck.sh timings       time the commands against the frameworks' own import times (docs/speed.md)
#   ./bpcheck.sh setup-browser install Debian's chromium (apt-get, as root) for tests/test_browser.py,
#                              which is skipped without it; the only step that installs system packages
#   ./bpcheck.sh ARGS...       run `bpcheck ARGS...`, e.g. ./bpcheck.sh run --case mazur-2015
# `bpcheck` runs in the folder you call this from, so relative --case, --out and values-file paths
# are yours; the tests run in the checkout.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" = setup-browser ]; then
  if command -v chromium >/dev/null; then
    echo "bpcheck.sh: chromium is installed ($(command -v chromium))" >&2
    exit 0
  fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "bpcheck.sh: setup-browser needs root and apt-get; install chromium yourself (tests/test_browser.py is skipped without it)" >&2
    exit 1
  fi
  echo "bpcheck.sh: installing chromium (apt-get) for the browser test ..." >&2
  if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >&2; then
    exit 0
  fi
  echo "bpcheck.sh: could not install chromium; tests/test_browser.py will be skipped" >&2
  exit 1
fi

PYTHON=${PYTHON:-python3}
VENV="$HERE/.venv"
stamp="$VENV/.installed-$(cat "$HERE/pyproject.toml" "$HERE/constraints.txt" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "bpcheck.sh: setting up $VENV (pip install -c constraints.txt -e '.[all,dev]') ..." >&2
  (
    cd "$HERE"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[all,dev]' >&2
  )
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
case "${1:-}" in
  test) shift; cd "$HERE"; exec "$VENV/bin/python" -m pytest -n auto "$@" ;;
  test-slow) shift; cd "$HERE"; exec "$VENV/bin/python" -m pytest -n auto -m slow "$@" ;;
  timings) shift; cd "$HERE"; exec "$VENV/bin/python" benchmarks/timings.py "$@" ;;
  "") exec "$VENV/bin/bpcheck" --help ;;
  *) exec "$VENV/bin/bpcheck" "$@" ;;
esac
