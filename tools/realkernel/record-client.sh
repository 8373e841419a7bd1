#!/bin/bash
# Record mode on a real kernel (issue 9, item 6): boot a Debian kernel under QEMU TCG (q35 with
# VT-d and QEMU's edu and e1000e, as run-device.sh does), run test/native/record-client.c in it
# under the preload library in record mode, and keep the trace the recorder wrote, as it came out
# of the guest, in test/fixtures/recorded-in-guest/<config>/client.jsonl (the client's own output
# beside it as client.out). test/exec/record-guest.test.ts replays them on the model.
# usage: record-client.sh [on|off] [bpo|7.2]   (default: on, bookworm 6.1; bpo: 6.12)
# Needs the harness's root (RK, default /tmp/rk: root-amd64[-variant], vmlinuz-amd64[-variant];
# build-initramfs.sh amd64 [variant] makes them) and `npm run build` (dist/vfio-preload.so).
set -euo pipefail
OPT=${1:-on}; VAR=${2:-}; SUF=${VAR:+-$VAR}
KV=6.1; [ "$VAR" = bpo ] && KV=6.12; case "$VAR" in [0-9]*) KV=$VAR ;; esac
HERE=$(cd "$(dirname "$0")" && pwd); TOP=$(cd "$HERE/../.." && pwd)
W=${RK:-/tmp/rk}
[ -d $W/root-amd64$SUF/lib/modules ] || "$HERE/build-initramfs.sh" amd64 $VAR
[ -f "$TOP/dist/vfio-preload.so" ] || (cd "$TOP" && node scripts/build-native.mjs)
OUT=${OUT:-/tmp/rk-record}; mkdir -p $OUT/logs
CONFIG=x86-$KV-intremap-$OPT
R=$OUT/root-$CONFIG
rm -rf $R; cp -a $W/root-amd64$SUF $R
# The client and the recorder, dynamically linked, with the loader and libc they need.
cc -O1 -Wall -o $R/bin/record-client "$TOP/test/native/record-client.c"
cp "$TOP/dist/vfio-preload.so" $R/lib/vfio-preload.so
for so in $( (ldd $R/bin/record-client; ldd $R/lib/vfio-preload.so) | grep -o '/[^ ]*\.so[^ ]*' | sort -u); do
  mkdir -p $R$(dirname $so); cp -L $so $R$so
done
cp "$HERE/init-record.sh" $R/init; chmod +x $R/init
cp "$HERE/bind-vfio.sh" $R/bind-vfio.sh
(cd $R && find . | cpio -o -H newc --quiet | gzip -9) > $OUT/initramfs-$CONFIG.cpio.gz
QV=$(qemu-system-x86_64 --version | sed -n '1s/.*version \([0-9]*\.[0-9]*\).*/\1/p')
LOG=$OUT/logs/$CONFIG.log
T0=$(date +%s)
timeout 900 qemu-system-x86_64 -accel tcg -machine q35,kernel-irqchip=split -cpu max -device intel-iommu,intremap=$OPT \
  -smp 1 -m 1024 -nodefaults -display none -serial stdio -no-reboot \
  -device edu -device e1000e -kernel $W/vmlinuz-amd64$SUF -initrd $OUT/initramfs-$CONFIG.cpio.gz \
  -append "console=ttyS0 intel_iommu=on loglevel=7 panic=-1 vfiotrace.preset=qemu-q35-vtd vfiotrace.opts=intremap=$OPT vfiotrace.qemu=$QV" \
  > "$LOG" 2>&1 || true
echo "$CONFIG: host-wall=$(( $(date +%s) - T0 ))s $(grep -a '^@@I done' "$LOG" || echo 'client did not run')"
D="$TOP/test/fixtures/recorded-in-guest"
"${SHARED:-/work/shared/tools/realkernel}/split-traces.py" -o "$D" "$LOG"
grep -a '^@@C ' "$LOG" | sed 's/^@@C //; s/\r$//' > "$D/$CONFIG/client.out"
