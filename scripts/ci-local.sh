#!/usr/bin/env bash
# Runs CI the way CI does: `bash .ci/run` with CI=true in a fresh clone of the committed HEAD, so
# uncommitted files, a stale dist/ or a hand-installed package cannot make it pass by accident.
# Usage: scripts/ci-local.sh [clone-dir]   (default: a new temporary directory, removed afterwards)
set -euo pipefail
top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
if [ -n "$(git -C "$top" status --porcelain)" ]; then
  echo "ci-local: note: uncommitted changes are not part of this run" >&2
fi
dir=${1:-$(mktemp -d)}
[ $# -ge 1 ] || trap 'rm -rf "$dir"' EXIT
git clone -q "$top" "$dir/repo"
cd "$dir/repo"
CI=true bash .ci/run </dev/null
