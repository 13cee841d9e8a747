#!/usr/bin/env bash
# Sets up .venv (once, and again when pyproject.toml or constraints.txt change), then:
#   ./bpcheck.sh test          run the test suite (the default part, <= 60 s)
#   ./bpcheck.sh test-slow     run the slow part of the suite (pytest -m slow; CI runs it too)
#   ./bpcheck.sh timings       time the main command and the test suite (figures for the README)
#   ./bpcheck.sh ARGS...       run `bpcheck ARGS...`, e.g. ./bpcheck.sh run --case mazur-2015
# As root with apt-get, it also installs Debian's chromium if missing (for tests/test_browser.py).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
VENV=.venv
stamp="$VENV/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "bpcheck.sh: setting up $VENV (pip install -c constraints.txt -e '.[all,dev]') ..." >&2
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[all,dev]' >&2
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
# Chromium for the browser test of report.html (tests/test_browser.py skips without it):
# installed from Debian when running as root with apt-get; a failed install only warns.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! command -v chromium >/dev/null; then
  echo "bpcheck.sh: installing chromium (apt-get) for the browser test ..." >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >&2 \
    || echo "bpcheck.sh: could not install chromium; the browser test will be skipped" >&2
fi
case "${1:-}" in
  test) shift; exec "$VENV/bin/python" -m pytest "$@" ;;
  test-slow) shift; exec "$VENV/bin/python" -m pytest -m slow "$@" ;;
  timings) shift; exec "$VENV/bin/python" benchmarks/quickstart.py "$@" ;;
  "") exec "$VENV/bin/bpcheck" --help ;;
  *) exec "$VENV/bin/bpcheck" "$@" ;;
esac
