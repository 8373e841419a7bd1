#!/bin/bash
# Build the device-fd initramfs: the harness's root (kernel modules, busybox; made by
# build-initramfs.sh here, the shared one plus newer Debian kernels, which downloads the kernel
# into /tmp/rk) plus devprobe, the shared fixed probe and init-device.sh as /init.
# usage: build-device-initramfs.sh amd64|arm64 [bpo|7.2]  ->  $RK/initramfs-dev-<arch>[-<variant>].cpio.gz (RK=/tmp/rk)
set -euo pipefail
ARCH=$1; VAR=${2:-}; SUF=${VAR:+-$VAR}
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED:-/work/shared/tools/realkernel}
W=${RK:-/tmp/rk}   # another work directory: it needs root-<arch>[-variant] (build-initramfs.sh's)
[ -d $W/root-$ARCH$SUF/lib/modules ] || "$HERE/build-initramfs.sh" $ARCH $VAR
R=$W/devroot-$ARCH$SUF
rm -rf $R; cp -a $W/root-$ARCH$SUF $R
CC=gcc; [ "$ARCH" = arm64 ] && CC=aarch64-linux-gnu-gcc
$CC -static -O2 -Wall -o $R/bin/devprobe "$HERE/devprobe.c"
$CC -static -O2 -Wall -o $R/bin/probe "$SHARED/probe.c"
cp "$HERE/init-device.sh" $R/init; chmod +x $R/init
cp "$HERE/bind-vfio.sh" $R/bind-vfio.sh
(cd $R && find . | cpio -o -H newc --quiet | gzip -9) > $W/initramfs-dev-$ARCH$SUF.cpio.gz
