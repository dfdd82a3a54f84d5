#!/usr/bin/env bash
# Install what is missing, configure once, build. Usage: scripts/build.sh [BUILDDIR [meson options...]]
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${1:-build}
shift || true
bash scripts/install-deps.sh
if [ ! -f "$builddir/build.ninja" ]; then
	meson setup "$builddir" "$@"
fi
ninja -C "$builddir"
