#!/bin/sh
# Runs the Docker Engine API client's integration test (engine_itest)
# against the fake engine it serves itself on a unix socket in a temporary
# directory, removed afterwards, also on failure.  Needs no root and no
# namespace: nothing but that socket is touched.
#
#   tests/integration/engine.sh path/to/engine_itest
#
# Exit status: the test's.
set -eu

if [ "$#" -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 path/to/engine_itest" >&2
	exit 2
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/cbeng.XXXXXX")
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
"$1" "$dir"
