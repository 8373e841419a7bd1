#!/bin/bash
# Build the probe initramfs for x86_64 (default) or arm64.
# The project's copy of ../shared/tools/realkernel/build-initramfs.sh (read-only there), which
# adds the 7.2 variant.
# usage: build-initramfs.sh [amd64|arm64] [bpo|7.2]
#   bpo: use the newer kernel from bookworm-backports (6.12.x) instead of bookworm's 6.1.
#        Fetched with apt-get download against a private sources/lists dir under
#        /tmp/rk/bp, so the host's apt configuration is not changed.
#   7.2: Debian sid's linux-image-7.2.13+deb14-<arch>, whose image package is split into
#        linux-binary-* (vmlinuz) and linux-modules-* (under /usr/lib/modules); private apt
#        state under /tmp/rk/k7x (sid + trixie-backports), the host's sources unchanged.
#   6.16, 6.18, 6.19: the same from trixie-backports (KREL below), to pin era boundaries;
#        before 6.19 the image is one signed linux-image-* package.
# Output: /tmp/rk/initramfs-<arch>[-bpo].cpio.gz and /tmp/rk/vmlinuz-<arch>[-bpo]
set -euo pipefail
ARCH=${1:-amd64}
VAR=${2:-}
SUF=${VAR:+-$VAR}
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED:-/work/shared/tools/realkernel}
W=/tmp/rk
mkdir -p $W && cd $W

need() { dpkg -s "$1" >/dev/null 2>&1 || NEED="$NEED $1"; }
NEED=""
need cpio; need xz-utils; need busybox-static
if [ "$ARCH" = amd64 ]; then need qemu-system-x86; else need qemu-system-arm; need gcc-aarch64-linux-gnu; fi
if [ -n "$NEED" ]; then apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $NEED; fi

# kernel image package: resolve linux-image-<arch> meta package to the real one
KD=k-$ARCH$SUF
if [ "$VAR" = bpo ] && [ ! -d $KD/boot ]; then
  mkdir -p bp/parts bp/lists/partial bp/cache/archives/partial
  # the same mirror as the system's own Debian source, with the backports suite
  uri=$(grep -h -m1 '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | head -n 1)
  [ -n "$uri" ] || uri=$(grep -h -m1 '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}')
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" > bp/parts/bp.sources
  APTO="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$W/bp/parts -o Dir::State::Lists=$W/bp/lists -o Dir::Cache=$W/bp/cache -o APT::Architecture=$ARCH -o APT::Architectures=$ARCH"
  apt-get $APTO update -qq
  PKG=$(apt-cache $APTO depends linux-image-$ARCH | awk '/Depends:/{print $2; exit}')
  apt-get $APTO download "$PKG"
  rm -rf $KD; mkdir $KD
  dpkg -x $(ls -t ${PKG}_*_$ARCH.deb | head -1) $KD
fi
case "$VAR" in
  7.2) KREL=${KREL:-7.2.13+deb14} ;; 6.19) KREL=${KREL:-6.19.14+deb13} ;;
  6.18) KREL=${KREL:-6.18.15+deb13} ;; 6.16) KREL=${KREL:-6.16.12+deb13} ;;
esac
if [ -n "${KREL:-}" ] && [ ! -d $KD/usr/lib/modules ]; then
  A=$W/k7x; mkdir -p $A/parts $A/apt/lists/partial $A/apt/cache/archives/partial
  uri=$(grep -h -m1 '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | head -n 1)
  [ -n "$uri" ] || uri=$(grep -h -m1 '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}')
  printf 'Types: deb\nURIs: %s\nSuites: sid trixie-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" > $A/parts/sid.sources
  APTO="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$A/parts -o Dir::State::Lists=$A/apt/lists -o Dir::Cache=$A/apt/cache -o APT::Architectures=amd64,arm64"
  cd $A
  [ -d apt/lists ] && ls apt/lists/*Packages* >/dev/null 2>&1 || apt-get $APTO update -qq
  if ! ls linux-binary-$KREL-${ARCH}_*.deb linux-image-$KREL-${ARCH}_*.deb >/dev/null 2>&1; then
    if apt-cache $APTO show linux-binary-$KREL-$ARCH:$ARCH >/dev/null 2>&1; then
      apt-get $APTO download linux-binary-$KREL-$ARCH:$ARCH
      # (6.19's linux-binary carries the modules itself)
      if apt-cache $APTO policy linux-modules-$KREL-$ARCH:$ARCH | grep -q 'Candidate: [0-9]'; then apt-get $APTO download linux-modules-$KREL-$ARCH:$ARCH; fi
    else
      apt-get $APTO download linux-image-$KREL-$ARCH:$ARCH
    fi
  fi
  cd $W
  rm -rf $KD; mkdir $KD
  for d in $A/linux-binary-$KREL-${ARCH}_*_$ARCH.deb $A/linux-modules-$KREL-${ARCH}_*_$ARCH.deb $A/linux-image-$KREL-${ARCH}_*_$ARCH.deb; do
    [ -f "$d" ] && [ "$(stat -c %s "$d")" -gt 100000 ] && dpkg -x "$d" $KD
  done
  # the signed images of 6.16-6.18 keep vmlinuz in /boot
  if [ -d $KD/boot ]; then KV=$(ls $KD/usr/lib/modules); cp $KD/boot/vmlinuz-$KV $KD/usr/lib/modules/$KV/vmlinuz; rm -rf $KD/boot; fi
fi
if [ -d $KD/usr/lib/modules ]; then
  KVER=$(ls $KD/usr/lib/modules | head -1)
  M=$KD/usr/lib/modules/$KVER/kernel
  cp $KD/usr/lib/modules/$KVER/vmlinuz vmlinuz-$ARCH$SUF
elif [ ! -d $KD/boot ]; then
  if [ "$ARCH" = amd64 ]; then
    PKG=$(apt-cache depends linux-image-amd64 | awk '/Depends:/{print $2; exit}')
    apt-get download "$PKG"
  else
    PKG=$(apt-cache depends linux-image-arm64:arm64 | awk '/Depends:/{print $2; exit}')
    apt-get download "${PKG%:arm64}:arm64"
  fi
  rm -rf $KD; mkdir $KD
  dpkg -x ${PKG%:arm64}_*_$ARCH.deb $KD
fi
if [ -d $KD/boot ]; then
  KVER=$(ls $KD/lib/modules | head -1)
  M=$KD/lib/modules/$KVER/kernel
  cp $KD/boot/vmlinuz-$KVER vmlinuz-$ARCH$SUF
fi

R=$W/root-$ARCH$SUF
rm -rf $R; mkdir -p $R/{bin,dev,proc,sys,lib/modules,tmp}
if [ "$ARCH" = amd64 ]; then
  cp /bin/busybox $R/bin/busybox
  gcc -static -O2 -Wall -o $R/bin/probe $SHARED/probe.c
else
  [ -x busybox-arm64/bin/busybox ] || { apt-get download busybox-static:arm64; rm -rf busybox-arm64; dpkg -x busybox-static_*_arm64.deb busybox-arm64; }
  cp busybox-arm64/bin/busybox $R/bin/busybox
  aarch64-linux-gnu-gcc -static -O2 -Wall -o $R/bin/probe $SHARED/probe.c
fi
for m in virt/lib/irqbypass drivers/vfio/vfio_virqfd drivers/vfio/vfio drivers/vfio/vfio_iommu_type1 \
         drivers/vfio/pci/vfio-pci-core drivers/vfio/pci/vfio-pci; do
  f=$(ls $M/$m.ko* 2>/dev/null | head -1) || true
  [ -n "$f" ] || { echo "note: no module $m.ko* (built in or merged on this kernel)"; continue; }
  case "$f" in *.xz) xz -dc "$f" > $R/lib/modules/$(basename $m).ko ;; *) cp "$f" $R/lib/modules/ ;; esac
done
cp $SHARED/init.sh $R/init; chmod +x $R/init
(cd $R && find . | cpio -o -H newc --quiet | gzip -9) > initramfs-$ARCH$SUF.cpio.gz
ls -l vmlinuz-$ARCH$SUF initramfs-$ARCH$SUF.cpio.gz
