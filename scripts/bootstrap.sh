#!/bin/sh
# Idempotent setup for a fresh Debian 12 clone: installs only the missing Debian packages,
# runs `npm ci` when the lock file changed, and builds the native addon and the BPF objects
# when their sources changed. Usage: bootstrap.sh [base|test|vm]
#   base  what `npm run demo` needs (default)
#   test  + what the test tiers need (the VM tier included unless IRO_SKIP_VM=1)
#   vm    base + the VM tier's packages
set -eu
mode=${1:-base}
cd "$(dirname "$0")/.."
root=$(pwd)
stamps="$root/.stamps"
mkdir -p "$stamps"

say() { printf 'bootstrap: %s\n' "$*" >&2; }

base_pkgs="clang llvm libbpf-dev libelf-dev zlib1g-dev make gcc g++ python3 iproute2 pkg-config tcpdump"
test_pkgs="bpftool iputils-ping"
vm_pkgs="qemu-system-x86 linux-image-amd64 busybox-static"

pkgs=$base_pkgs
case "$mode" in
  base) ;;
  test) pkgs="$pkgs $test_pkgs"; [ "${IRO_SKIP_VM:-0}" = 1 ] || pkgs="$pkgs $vm_pkgs" ;;
  vm) pkgs="$pkgs $test_pkgs $vm_pkgs" ;;
  *) say "unknown mode '$mode' (base|test|vm)"; exit 2 ;;
esac

missing=""
for p in $pkgs; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)"
    exit 1
  fi
  say "installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  if ! apt-get install -y -qq --no-install-recommends $missing >"$stamps/apt.log" 2>&1; then
    apt-get update -qq >>"$stamps/apt.log" 2>&1
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >>"$stamps/apt.log" 2>&1 || {
      tail -20 "$stamps/apt.log" >&2; say "apt-get install failed (log: $stamps/apt.log)"; exit 1; }
  fi
fi

# npm dependencies: reinstall when package-lock.json changed since the last install.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat "$stamps/npm-lock" 2>/dev/null)" != "$lock_sum" ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >"$stamps/npm.log" 2>&1 || { tail -20 "$stamps/npm.log" >&2; exit 1; }
  echo "$lock_sum" >"$stamps/npm-lock"
fi

# Native addon: rebuild when any source under native/ is newer than the built module.
addon=native/build/Release/iro_native.node
if [ ! -f "$addon" ] || [ -n "$(find native/src native/binding.gyp -newer "$addon" 2>/dev/null | head -1)" ]; then
  say "building the native addon"
  npm run -s build:native >"$stamps/native.log" 2>&1 || { tail -30 "$stamps/native.log" >&2; exit 1; }
fi

# BPF objects: make tracks the dependencies itself.
make -s -C bpf >"$stamps/bpf.log" 2>&1 || { tail -30 "$stamps/bpf.log" >&2; say "BPF build failed"; exit 1; }

# The compiled CLI and daemon (dist/): rebuilt when a source under src/ is newer than the last
# build. bin/iro-ctl.js runs it only while it is current, else the sources through tsx.
if [ ! -f dist/.built ] || [ -n "$(find src tsconfig.json tsconfig.build.json -newer dist/.built 2>/dev/null | head -1)" ]; then
  say "compiling the TypeScript sources"
  touch "$stamps/ts-build-start"
  npx tsc -p tsconfig.build.json >"$stamps/tsc.log" 2>&1 || { tail -30 "$stamps/tsc.log" >&2; say "TypeScript build failed"; exit 1; }
  # the stamp carries the time the build started: a source edited during the build stays newer
  touch -r "$stamps/ts-build-start" dist/.built
fi

# bpffs: the data path pins under /sys/fs/bpf/iro-ctl.
if [ "$(id -u)" = 0 ] && ! mount | grep -q ' /sys/fs/bpf type bpf'; then
  mkdir -p /sys/fs/bpf 2>/dev/null && mount -t bpf bpf /sys/fs/bpf 2>/dev/null || say "could not mount bpffs on /sys/fs/bpf"
fi
exit 0
