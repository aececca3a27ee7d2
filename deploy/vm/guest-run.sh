#!/bin/sh
# Stage 2 of the test VM: PID 1 after switch_root into the overlay of the host's root.
# Reads the job the host left in the results share (/run/iro/job.env, /run/iro/files), prepares
# the kernel (modules, bpffs, lo), runs the job and writes everything the host needs back into
# /run/iro before powering off. PID 1 must never exit (the kernel would panic), so every path
# ends in finish().
R=/run/iro
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
export IRO_IN_VM=1
export IRO_TEST_TIER=vm

stamp() { echo "$1 $(cut -d' ' -f1 /proc/uptime)" >>"$R/timings"; }
finish() {
  stamp end
  dmesg 2>/dev/null | tail -n 200 >"$R/dmesg.txt"
  sync
  /bin/busybox poweroff -f
  sleep 10
}
trap finish EXIT
stamp stage2

if [ ! -f "$R/job.env" ]; then
  echo "iro-vm: no job in $R (job.env missing)" >/dev/console
  finish
fi
set -a
. "$R/job.env"
set +a
[ "${IRO_COLOR:-0}" = 1 ] && export FORCE_COLOR=1

mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts 2>/dev/null || { mkdir -p /dev/pts && mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts; }
mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t tmpfs -o mode=1777 tmp /tmp
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
hostname iro-vm
ip link set lo up

# tsx keeps its compile cache in $TMPDIR/tsx-$UID; a writable host directory shared here keeps
# it across boots instead of recompiling every file on every boot.
if [ "${IRO_TSX_CACHE:-0}" = 1 ]; then
  mkdir -p /tmp/tsx-0
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none irotsxcache /tmp/tsx-0 \
    || echo "iro-vm: tsx cache share not mounted (compiling without a persistent cache)" >/dev/console
fi

: >"$R/modules-failed"
# One modprobe for all (each kmod start costs ~0.4 s under TCG); one by one only to name failures.
if [ -n "$IRO_MODULES" ] && ! modprobe -a $IRO_MODULES 2>>"$R/modules.log"; then
  for m in $IRO_MODULES; do
    modprobe "$m" 2>>"$R/modules.log" || echo "$m" >>"$R/modules-failed"
  done
fi
if [ -s "$R/modules-failed" ]; then
  echo "iro-vm: modules that failed to load: $(tr '\n' ' ' <"$R/modules-failed")" >/dev/console
fi
stamp ready

cd "$IRO_PROJECT" || { echo "iro-vm: project directory $IRO_PROJECT not visible in the guest" >/dev/console; finish; }

case "$IRO_MODE" in
  tests)
    set --
    while IFS= read -r f; do [ -n "$f" ] && set -- "$@" "$f"; done <"$R/files"
    {
      "$IRO_NODE" --import tsx --test --test-concurrency=1 \
        --test-reporter=tap --test-reporter-destination="$R/guest.tap" \
        --test-reporter=spec --test-reporter-destination=stdout "$@" </dev/null
      echo $? >"$R/exit-status"
    } 2>&1 | tee "$R/guest.log" >/dev/console
    ;;
  command)
    {
      sh -c "$IRO_COMMAND" </dev/null
      echo $? >"$R/exit-status"
    } 2>&1 | tee "$R/guest.log" >/dev/console
    ;;
  shell)
    [ -n "${IRO_TTY_ROWS:-}" ] && stty rows "$IRO_TTY_ROWS" cols "$IRO_TTY_COLS" </dev/console 2>/dev/null
    echo "iro-vm: shell in $IRO_PROJECT (kernel $(uname -r)); exit or Ctrl-D powers off, Ctrl-A x kills qemu" >/dev/console
    /bin/busybox setsid -c /bin/bash -i <>/dev/ttyS0 >&0 2>&1
    echo $? >"$R/exit-status"
    ;;
  *)
    echo "iro-vm: unknown mode '$IRO_MODE'" >/dev/console
    ;;
esac
finish
