#!/bin/bash
# One command: the iommufd recordings of Linux 7.2 (test/fixtures/real-kernel-iommufd/).
# Needs the two builds of ../shared/tools/realkernel/kernel-7.2/build-kernel.sh in $K
# (default /tmp/rk/k72: build/ and, with VARIANT=iommufd-container, build-ic/).
# Builds the initramfs, boots the configurations one at a time (x86 q35 + intel-iommu with
# intremap on and off for both builds), and splits the console logs into vfio-trace/1 files
# (the replay tests read them: test/replay/real-kernel-iommufd.test.ts).
# ONLY="on ic": one configuration; TRACES="probe-* random-container-*": only those traces
# (file-name globs) are written, the configuration's others are kept.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED:-/work/shared/tools/realkernel}
K=${K:-/tmp/rk/k72}
OUT=${OUT:-$HERE/../../test/fixtures/real-kernel-iommufd}
cd "$HERE"
./build-iommufd-initramfs.sh || exit 1
RUNS=("on" "off" "on ic" "off ic")
[ -n "${ONLY:-}" ] && RUNS=("$ONLY")
LOGS=()
for r in "${RUNS[@]}"; do
  ./run-iommufd.sh $r
  set -- $r
  c=x86-7.2-iommufd-intremap-$1; [ "${2:-}" = ic ] && c=x86-7.2-iommufd-container-intremap-$1
  LOGS+=($K/logs/$c.log)
done
mkdir -p "$OUT"
if [ -z "${TRACES:-}" ]; then
  "$SHARED/split-traces.py" -o "$OUT" "${LOGS[@]}"
else
  # TRACES="probe-* random-container-*": re-record only those traces of each configuration,
  # leaving the others in $OUT as they are (split-traces.py empties the directory it writes)
  TMP=$(mktemp -d)
  "$SHARED/split-traces.py" -o "$TMP" "${LOGS[@]}" || exit 1
  for d in "$TMP"/*/; do
    c=$(basename "$d"); mkdir -p "$OUT/$c"
    read -ra PATS <<< "$TRACES"
    for g in "${PATS[@]}"; do for f in "$d"$g.jsonl; do [ -e "$f" ] && cp "$f" "$OUT/$c/"; done; done
  done
  rm -rf "$TMP"
fi
