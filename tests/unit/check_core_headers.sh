#!/usr/bin/env bash
# Every dataplane/core header compiles on its own with gcc (userspace, DPDK)
# and with clang -target bpf (XDP), under -Wall -Werror, and includes nothing
# but Linux UAPI headers and core itself (STYLE.md).
# usage: check_core_headers.sh CORE_DIR GCC CLANG|'' ARCH_INCLUDE_DIR
set -u
core=$1 gcc=$2 clang=${3:-} archinc=${4:-/usr/include/x86_64-linux-gnu}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 pass=0

for h in "$core"/*.h; do
	name=$(basename "$h")
	bad=$(grep -nE '^[[:space:]]*#[[:space:]]*include' "$h" |
	      grep -vE '#[[:space:]]*include[[:space:]]*(<linux/[a-z0-9_/]+\.h>|"fg_[a-z0-9_]+\.h")')
	if [ -n "$bad" ]; then
		echo "FAIL $name includes outside UAPI/core:"; echo "$bad"; fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
	printf '#include "%s"\nint fg_header_check_anchor;\n' "$name" > "$tmp/tu.c"
	if "$gcc" -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter \
		-I"$core" -c "$tmp/tu.c" -o "$tmp/gcc.o" 2> "$tmp/err"; then
		pass=$((pass + 1))
	else
		echo "FAIL gcc $name"; cat "$tmp/err"; fail=$((fail + 1))
	fi
	if [ -z "$clang" ]; then
		echo "SKIP clang -target bpf $name: clang not found"
		continue
	fi
	if "$clang" -target bpf -O2 -Wall -Wextra -Werror -Wno-unused-parameter \
		-I"$core" -I"$archinc" -c "$tmp/tu.c" -o "$tmp/bpf.o" 2> "$tmp/err"; then
		pass=$((pass + 1))
	else
		echo "FAIL clang-bpf $name"; cat "$tmp/err"; fail=$((fail + 1))
	fi
done
# Emit code for every fast-path function, not only declarations.
use=$(dirname "$0")/core_use.c
if "$gcc" -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter \
	-I"$core" -c "$use" -o "$tmp/use-gcc.o" 2> "$tmp/err"; then
	pass=$((pass + 1))
else
	echo "FAIL gcc core_use.c"; cat "$tmp/err"; fail=$((fail + 1))
fi
if [ -n "$clang" ]; then
	if "$clang" -target bpf -O2 -Wall -Wextra -Werror -Wno-unused-parameter \
		-I"$core" -I"$archinc" -c "$use" -o "$tmp/use-bpf.o" 2> "$tmp/err"; then
		pass=$((pass + 1))
	else
		echo "FAIL clang-bpf core_use.c"; cat "$tmp/err"; fail=$((fail + 1))
	fi
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || exit 1
# Half a check is not a pass: without clang, say so as a skip (77).
if [ -z "$clang" ]; then
	echo "SKIP: clang not found, the clang -target bpf half did not run"
	exit 77
fi
