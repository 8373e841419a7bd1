#!/bin/bash
# Boot one configuration under QEMU TCG with edu and e1000e and run the device-fd probes.
# usage: run-device.sh x86 on|off [bpo|7.2]  |  run-device.sh arm64 3|2 [bpo|7.2]
# (no variant: bookworm 6.1; bpo: bookworm-backports 6.12; 7.2: sid 7.2.13)
# The console log goes to $RK/dev-logs/<config>.log (RK defaults to /tmp/rk; split it with
# split-traces.py). MODES=regs (comma-separated) runs only those devprobe modes.
set -uo pipefail
PLAT=$1; OPT=$2; VAR=${3:-}; SUF=${VAR:+-$VAR}
KV=6.1; [ "$VAR" = bpo ] && KV=6.12; case "$VAR" in [0-9]*) KV=$VAR ;; esac
W=${RK:-/tmp/rk}; mkdir -p $W/dev-logs
if [ "$PLAT" = x86 ]; then
  ARCH=amd64; CONFIG=x86-$KV-intremap-$OPT; QEMU=qemu-system-x86_64
  MACH=(-machine q35,kernel-irqchip=split -cpu max -device intel-iommu,intremap=$OPT)
  APPEND="console=ttyS0 intel_iommu=on vfiotrace.preset=qemu-q35-vtd vfiotrace.opts=intremap=$OPT"
else
  ARCH=arm64; CONFIG=arm64-$KV-gicv$OPT; QEMU=qemu-system-aarch64
  MACH=(-M virt,iommu=smmuv3,gic-version=$OPT -cpu max,pauth-impdef=on)
  APPEND="console=ttyAMA0 vfiotrace.preset=qemu-virt-smmuv3 vfiotrace.opts=gic=v$OPT"
fi
QV=$($QEMU --version | sed -n '1s/.*version \([0-9]*\.[0-9]*\).*/\1/p')
LOG=$W/dev-logs/$CONFIG.log
T0=$(date +%s)
timeout 1200 $QEMU -accel tcg "${MACH[@]}" -smp 1 -m 1024 -nodefaults -display none -serial stdio -no-reboot \
  -device edu -device e1000e -kernel $W/vmlinuz-$ARCH$SUF -initrd $W/initramfs-dev-$ARCH$SUF.cpio.gz \
  -append "$APPEND loglevel=7 panic=-1 vfiotrace.qemu=$QV${MODES:+ vfiotrace.modes=$MODES}" > "$LOG" 2>&1
echo "$CONFIG: qemu rc=$? host-wall=$(( $(date +%s) - T0 ))s probes=$(grep -ac '^@@I done' "$LOG")"
