#!/usr/bin/env bash
# Install every Debian 12 package Floodgate builds, tests and benchmarks with.
# Idempotent: packages already present are skipped; apt-get runs only when
# something is missing. Needs root (or sudo).
set -euo pipefail

PKGS=(
  # toolchain and build
  build-essential pkg-config meson ninja-build python3 python3-pyelftools
  clang llvm lld libclang-rt-14-dev
  # BPF
  libbpf-dev bpftool libelf-dev zlib1g-dev linux-libc-dev
  # DPDK 22.11
  dpdk-dev libdpdk-dev libpcap-dev libnuma-dev libxdp-dev
  # libraries
  libhyperscan-dev libjemalloc-dev libconfig-dev libcmocka-dev
  libevent-dev libjansson-dev libcurl4-openssl-dev
  # control plane store
  etcd-server etcd-client
  # test and demo tooling
  iproute2 iputils-ping ethtool nftables iptables curl tcpdump socat
  python3
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
