#!/usr/bin/env bash
# Sets up .venv (once, and again when pyproject.toml or constraints.txt change), then:
#   ./bpcheck.sh test          run the test suite
#   ./bpcheck.sh bench         time the main command and the test suite (figures for the README)
#   ./bpcheck.sh ARGS...       run `bpcheck ARGS...`, e.g. ./bpcheck.sh run --case mazur-2015
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
VENV=.venv
stamp="$VENV/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "bpcheck.sh: setting up $VENV (pip install -c constraints.txt -e '.[torch,jax,dev]') ..." >&2
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[torch,jax,dev]' >&2
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
case "${1:-}" in
  test) shift; exec "$VENV/bin/python" -m pytest "$@" ;;
  bench) shift; exec "$VENV/bin/python" benchmarks/quickstart.py "$@" ;;
  "") exec "$VENV/bin/bpcheck" --help ;;
  *) exec "$VENV/bin/bpcheck" "$@" ;;
esac
