#!/bin/sh
# Builds the test VM's initramfs: static busybox, the init script next to this file, and only
# the kernel modules needed to mount the host's root over virtio-9p with an overlay on top
# (the rest of the modules come from the host's /lib/modules once the root is mounted).
# Usage: build-initramfs.sh KERNEL_VERSION OUTPUT.cpio.gz
set -eu
kver=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
moddir=/lib/modules/$kver
busybox=$(command -v busybox || true)

[ -f "$moddir/modules.dep" ] || { echo "build-initramfs: $moddir/modules.dep missing (is linux-image-$kver installed?)" >&2; exit 1; }
[ -n "$busybox" ] || { echo "build-initramfs: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
if ! LC_ALL=C ldd "$busybox" 2>&1 | grep -q 'not a dynamic executable'; then
  echo "build-initramfs: $busybox is not statically linked (install busybox-static)" >&2; exit 1
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/modules" "$stage/proc" "$stage/sys" "$stage/dev" "$stage/lower" "$stage/upper" "$stage/newroot"
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
cp "$here/init" "$stage/init"
chmod 755 "$stage/init"

# Dependencies first, each module once: modules.dep lists "mod.ko: dep.ko dep.ko ...".
order=""
add() {
  local path dep
  path=$(grep -E "(^|/)$1\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | head -1 | cut -d: -f1)
  if [ -z "$path" ]; then
    if grep -qE "(^|/)$1\.ko\$" "$moddir/modules.builtin"; then return 0; fi
    echo "build-initramfs: module $1 not found in $moddir" >&2; exit 1
  fi
  case " $order " in *" $path "*) return 0 ;; esac
  for dep in $(grep -E "^$path:" "$moddir/modules.dep" | cut -d: -f2); do
    add "$(basename "$dep" | sed -E 's/\.ko(\.[a-z]+)?$//')"
  done
  order="$order $path"
}
for m in virtio_pci 9pnet_virtio 9p overlay; do add "$m"; done

: >"$stage/modules/order"
for path in $order; do
  name=$(basename "$path")
  case "$name" in
    *.ko) cp "$moddir/$path" "$stage/modules/$name" ;;
    *.ko.xz) xz -dc "$moddir/$path" >"$stage/modules/${name%.xz}"; name=${name%.xz} ;;
    *.ko.zst) zstd -qdc "$moddir/$path" >"$stage/modules/${name%.zst}"; name=${name%.zst} ;;
    *) echo "build-initramfs: unexpected module file $path" >&2; exit 1 ;;
  esac
  echo "$name" >>"$stage/modules/order"
done

mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
(cd "$stage" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1) >"$tmp"
mv "$tmp" "$out"
