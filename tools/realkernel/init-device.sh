#!/bin/busybox sh
# /init of the device-fd initramfs: load the vfio modules, bind QEMU's edu and e1000e to
# vfio-pci (bind-vfio.sh), run one devprobe process per mode and device (one trace each), then the shared
# harness's fixed full probe (the re-recording of the hot-reset events), and power off.
# The kernel command line carries vfiotrace.preset/opts/qemu (set by run-device.sh).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "@@I init-start uptime=$(cut -d' ' -f1 /proc/uptime)"
for w in $(cat /proc/cmdline); do
  case "$w" in
    vfiotrace.preset=*) export VT_PRESET="${w#*=}" ;;
    vfiotrace.opts=*)   export VT_OPTS="${w#*=}" ;;
    vfiotrace.qemu=*)   export VT_SOURCE="real kernel under QEMU ${w#*=} TCG" ;;
    vfiotrace.modes=*)  MODES=$(echo "${w#*=}" | tr , ' ') ;;
  esac
done
# no interrupt remapping / non-isolated MSI: SET_IOMMU needs allow_unsafe_interrupts=Y
case "$VT_OPTS" in *intremap=off*|*gic=v2*) UNSAFE=Y ;; *) UNSAFE=N ;; esac
for m in irqbypass vfio_virqfd vfio vfio_iommu_type1 vfio-pci-core vfio-pci; do
  [ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko
done
. /bind-vfio.sh
dmesg -n 1   # kernel messages reach the traces through /dev/kmsg, not the console
run() { tn=$1; shift; echo "@@I run $tn: $*"; "$@"; echo "@@I done $tn rc=$?"; }
# vfiotrace.modes=a,b: only those modes, on the devices they are for (regs: e1000e), nothing else
if [ -n "${MODES:-}" ]; then
  for e in $DEVS; do
    name=${e%%:*}; rest=${e#*:}; bdf=${rest%:*}; grp=${rest##*:}
    for mode in $MODES; do
      [ "$mode" = regs ] && [ "$name" != e1000e ] && continue
      run $name-$mode /bin/devprobe -t $name-$mode -u $UNSAFE $grp $bdf $mode
    done
  done
  echo "@@I init-end uptime=$(cut -d' ' -f1 /proc/uptime)"
  poweroff -f
fi
for e in $DEVS; do
  name=${e%%:*}; rest=${e#*:}; bdf=${rest%:*}; grp=${rest##*:}
  for mode in info cfgread cfgwrite bar mmap irqs reset feature; do
    run $name-$mode /bin/devprobe -t $name-$mode -u $UNSAFE $grp $bdf $mode
  done
  for s in 1 2; do
    run $name-random-s$s /bin/devprobe -t $name-random-s$s -u $UNSAFE $grp $bdf random $s 300
  done
done
# the shared harness's full probe, now sending GET_PCI_HOT_RESET_INFO as VFIO_BASE + 12
for e in $DEVS; do
  name=${e%%:*}; rest=${e#*:}; bdf=${rest%:*}; grp=${rest##*:}
  for t in type1v2 type1; do
    tn=rerecord-$name-$t
    run $tn /bin/probe -t $tn -u N $grp $bdf $t
    if [ "$UNSAFE" = Y ]; then run $tn-unsafe /bin/probe -t $tn-unsafe -u Y $grp $bdf $t; fi
  done
done
echo "@@I init-end uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
