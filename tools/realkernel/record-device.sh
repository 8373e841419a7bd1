#!/bin/bash
# One command: build the four device-fd initramfs images, boot the eight configurations
# (JOBS at a time, default 2), split the console logs into vfio-trace/1 files under
# test/fixtures/real-kernel-device/<config>/ and validate them with the shared checker.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED:-/work/shared/tools/realkernel}
OUT=${OUT:-$HERE/../../test/fixtures/real-kernel-device}
cd "$HERE"
for v in "" bpo; do for a in amd64 arm64; do ./build-device-initramfs.sh $a $v || exit 1; done; done
RUNS=("x86 on" "x86 off" "arm64 3" "arm64 2" "x86 on bpo" "x86 off bpo" "arm64 3 bpo" "arm64 2 bpo")
for r in "${RUNS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "${JOBS:-2}" ]; do wait -n; done
  ./run-device.sh $r &
done
wait
LOGS=()
for k in 6.1 6.12; do
  for c in x86-$k-intremap-on x86-$k-intremap-off arm64-$k-gicv3 arm64-$k-gicv2; do LOGS+=(/tmp/rk/dev-logs/$c.log); done
done
mkdir -p "$OUT"
"$SHARED/split-traces.py" -o "$OUT" "${LOGS[@]}" || exit 1
"$SHARED/check-traces.py" "$OUT"
