#!/usr/bin/env bash
# Sourced by .ci/run: puts uv on PATH for pip layers (the resolver) and their tests; pip is the fallback.
if ! command -v uv >/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check uv || echo "warning: could not install uv (pip layer tests are skipped)"
fi
