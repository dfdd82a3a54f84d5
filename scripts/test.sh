#!/usr/bin/env bash
# The test command: installs dependencies, builds, and runs every suite
# (unit, store, fuzz corpus replay, bpf, integration), then the unit and fuzz suites
# again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Suites that need root or CAP_BPF skip (exit 77) with the reason elsewhere.
# Usage: scripts/test.sh [SUITE...]   (default: all)
set -uo pipefail
cd "$(dirname "$0")/.."

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit store fuzz bpf integration)
suite_args=()
for s in "${suites[@]}"; do suite_args+=(--suite "$s"); done

status=0
bash scripts/build.sh build || exit 1
meson test -C build --print-errorlogs --num-processes 2 "${suite_args[@]}" || status=1
cp build/meson-logs/testlog.json /tmp/floodgate-testlog-main.json 2>/dev/null

# The sanitizer build: unit tests and the fuzz corpus replay.
asan_suites=()
for s in "${suites[@]}"; do
	case $s in unit|fuzz) asan_suites+=(--suite "$s") ;; esac
done
logs=(build/meson-logs/testlog.json)
if [ ${#asan_suites[@]} -gt 0 ]; then
	# The DPDK worker too (dpdk_path: every fixture cut at every length
	# and random mutations through it), on --no-huge mbufs.
	bash scripts/build.sh build-asan -Db_sanitize=address,undefined -Db_lundef=false \
		-Dxdp=disabled || exit 1
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --print-errorlogs --num-processes 2 "${asan_suites[@]}" || status=1
	logs+=(build-asan/meson-logs/testlog.json)
fi

# One closing line over both runs.
python3 - "${logs[@]}" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
