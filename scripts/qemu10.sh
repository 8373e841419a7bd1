#!/usr/bin/env bash
# QEMU 10 from bookworm-backports, unpacked beside the system's QEMU 7.2 (the two packages
# conflict, and the exec acceptance runs both): QEMU 7.2 drives the legacy container, QEMU 10's
# `-object iommufd` drives /dev/iommu and the device cdev. Prints the qemu-system-x86_64 path.
# A private apt state under $DIR; the system's sources are not changed. Its libraries are
# bookworm's, installed with apt when missing.
set -euo pipefail
DIR=${QEMU10_DIR:-/var/cache/vfio-emu/qemu10}
BIN=$DIR/root/usr/bin/qemu-system-x86_64
if [ ! -x "$BIN" ]; then
  mkdir -p "$DIR/apt/lists/partial" "$DIR/apt/cache/archives/partial" "$DIR/deb"
  echo "deb http://deb.debian.org/debian bookworm-backports main" > "$DIR/apt/sources.list"
  O=(-o "Dir::Etc::sourcelist=$DIR/apt/sources.list" -o Dir::Etc::sourceparts=/nonexistent
     -o "Dir::State::Lists=$DIR/apt/lists" -o "Dir::Cache=$DIR/apt/cache")
  apt-get "${O[@]}" update >&2
  (cd "$DIR/deb" && apt-get "${O[@]}" download qemu-system-x86 qemu-system-common qemu-system-data >&2)
  rm -rf "$DIR/root.tmp" && mkdir "$DIR/root.tmp"
  for d in "$DIR"/deb/*.deb; do dpkg -x "$d" "$DIR/root.tmp"; done
  rm -rf "$DIR/root" && mv "$DIR/root.tmp" "$DIR/root"
fi
# The shared libraries it links against, from the system's bookworm sources.
missing=$(ldd "$BIN" | awk '/not found/ {print $1}')
if [ -n "$missing" ]; then
  deps=$(dpkg-deb -f "$DIR"/deb/qemu-system-x86_*.deb Depends | tr ',' '\n' | sed 's/[|(].*//; s/ //g' | grep '^lib')
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $deps >&2
fi
echo "$BIN"
