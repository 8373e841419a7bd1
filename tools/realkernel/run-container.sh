#!/bin/bash
# Boot one configuration under QEMU TCG with edu and e1000e and run the shared harness's
# container/group probes (../shared/tools/realkernel/init.sh: fixed probes, multi, conflict,
# seeded random workloads). The shared run-x86.sh/run-arm64.sh know only 6.1 and bpo; this one
# takes the same variants as run-device.sh.
# usage: run-container.sh x86 on|off [bpo|7.2]  |  run-container.sh arm64 3|2 [bpo|7.2]
# The console log goes to /tmp/rk/ctr-logs/<config>.log (split it with split-traces.py).
# env: SEEDS (comma list, default per configuration as in the shared harness), NRAND (default 400)
set -uo pipefail
PLAT=$1; OPT=$2; VAR=${3:-}; SUF=${VAR:+-$VAR}
KV=6.1; [ "$VAR" = bpo ] && KV=6.12; case "$VAR" in [0-9]*) KV=$VAR ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
W=/tmp/rk; mkdir -p $W/ctr-logs
if [ "$PLAT" = x86 ]; then
  ARCH=amd64; CONFIG=x86-$KV-intremap-$OPT; QEMU=qemu-system-x86_64
  MACH=(-machine q35,kernel-irqchip=split -cpu max -device intel-iommu,intremap=$OPT)
  APPEND="console=ttyS0 intel_iommu=on vfiotrace.preset=qemu-q35-vtd vfiotrace.opts=intremap=$OPT"
  [ "$OPT" = on ] && DEF_SEEDS=1,2,101,102,103 || DEF_SEEDS=1,2,201,202,203
else
  ARCH=arm64; CONFIG=arm64-$KV-gicv$OPT; QEMU=qemu-system-aarch64
  MACH=(-M virt,iommu=smmuv3,gic-version=$OPT -cpu max,pauth-impdef=on)
  APPEND="console=ttyAMA0 vfiotrace.preset=qemu-virt-smmuv3 vfiotrace.opts=gic=v$OPT"
  [ "$OPT" = 3 ] && DEF_SEEDS=1,2,301,302,303 || DEF_SEEDS=1,2,401,402,403
fi
[ -f $W/initramfs-$ARCH$SUF.cpio.gz ] || "$HERE/build-initramfs.sh" $ARCH $VAR
QV=$($QEMU --version | sed -n '1s/.*version \([0-9]*\.[0-9]*\).*/\1/p')
LOG=$W/ctr-logs/$CONFIG.log
T0=$(date +%s)
timeout 1200 $QEMU -accel tcg "${MACH[@]}" -smp 1 -m 1024 -nodefaults -display none -serial stdio -no-reboot \
  -device edu -device e1000e -kernel $W/vmlinuz-$ARCH$SUF -initrd $W/initramfs-$ARCH$SUF.cpio.gz \
  -append "$APPEND loglevel=7 panic=-1 vfiotrace.qemu=$QV vfiotrace.seeds=${SEEDS:-$DEF_SEEDS} vfiotrace.nrand=${NRAND:-400}" > "$LOG" 2>&1
echo "$CONFIG: qemu rc=$? host-wall=$(( $(date +%s) - T0 ))s probes=$(grep -ac '^@@I done' "$LOG")"
