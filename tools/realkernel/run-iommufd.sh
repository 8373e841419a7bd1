#!/bin/bash
# Boot the Linux 7.2 iommufd kernel under QEMU TCG (q35 + intel-iommu) with edu and e1000e and
# run the iommufd probes.
# usage: run-iommufd.sh on|off [ic]   (intel-iommu intremap=on|off; ic: the build where iommufd
#        serves /dev/vfio/vfio, $K/build-ic)
# ONLY_TRACE=NAME: only that trace (e.g. edu-file).
# The console log goes to /tmp/rk/k72/logs/<config>.log (split it with split-traces.py).
set -uo pipefail
IR=$1; VAR=${2:-}
K=${K:-/tmp/rk/k72}
BUILD=$K/build; CONFIG=x86-7.2-iommufd-intremap-$IR
[ "$VAR" = ic ] && { BUILD=$K/build-ic; CONFIG=x86-7.2-iommufd-container-intremap-$IR; }
mkdir -p $K/logs
QV=$(qemu-system-x86_64 --version | sed -n '1s/.*version \([0-9]*\.[0-9]*\).*/\1/p')
LOG=$K/logs/$CONFIG.log
CMD=(qemu-system-x86_64 -accel tcg -machine q35,kernel-irqchip=split -cpu max -smp 1 -m 1024
     -nodefaults -display none -serial stdio -no-reboot
     -device intel-iommu,intremap=$IR -device edu -device e1000e
     -kernel $BUILD/arch/x86/boot/bzImage -initrd /tmp/rk/initramfs-iommufd-amd64.cpio.gz
     -append "console=ttyS0 intel_iommu=on loglevel=7 panic=-1 vfiotrace.preset=qemu-q35-vtd vfiotrace.opts=intremap=$IR vfiotrace.qemu=$QV vfiotrace.nrand=${NRAND:-300}${ONLY_TRACE:+ vfiotrace.only=$ONLY_TRACE}")
echo "# ${CMD[*]}" > "$LOG"
T0=$(date +%s)
timeout 1500 "${CMD[@]}" >> "$LOG" 2>&1
rc=$?
echo "# qemu rc=$rc host-wall=$(( $(date +%s) - T0 ))s" >> "$LOG"
echo "$CONFIG: qemu rc=$rc host-wall=$(( $(date +%s) - T0 ))s probes=$(grep -ac '^@@I done' "$LOG")"
