#!/bin/bash
# Build the iommufd initramfs: busybox (from the shared harness's root, made by its
# build-initramfs.sh), iommufdprobe, the shared fixed probe and init-iommufd.sh as /init.
# No modules: the 7.2 kernel of ../shared/tools/realkernel/kernel-7.2 has everything built in.
# usage: build-iommufd-initramfs.sh  ->  /tmp/rk/initramfs-iommufd-amd64.cpio.gz
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED:-/work/shared/tools/realkernel}
W=/tmp/rk
[ -x $W/root-amd64/bin/busybox ] || "$SHARED/build-initramfs.sh" amd64
R=$W/k72/root
rm -rf $R; mkdir -p $R/{bin,dev,proc,sys,tmp}
cp $W/root-amd64/bin/busybox $R/bin/busybox
gcc -static -O2 -Wall -o $R/bin/iommufdprobe "$HERE/iommufdprobe.c"
gcc -static -O2 -Wall -o $R/bin/probe "$SHARED/probe.c"
cp "$HERE/init-iommufd.sh" $R/init; chmod +x $R/init
cp "$HERE/bind-vfio.sh" $R/bind-vfio.sh
(cd $R && find . | cpio -o -H newc --quiet | gzip -9) > $W/initramfs-iommufd-amd64.cpio.gz
