#!/bin/busybox sh
# /init of the iommufd initramfs (Linux 7.2 built with everything in, see
# ../shared/tools/realkernel/kernel-7.2/): bind QEMU's edu and e1000e to vfio-pci, run one
# iommufdprobe process per mode and device (one trace each), and power off.
# The build is recognised from the guest: /sys/module/vfio_iommu_type1 exists when
# CONFIG_VFIO_CONTAINER=y (the legacy container), and not when iommufd serves /dev/vfio/vfio.
# The kernel command line carries vfiotrace.preset/opts/qemu/nrand (set by run-iommufd.sh).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "@@I init-start uptime=$(cut -d' ' -f1 /proc/uptime)"
NRAND=300
for w in $(cat /proc/cmdline); do
  case "$w" in
    vfiotrace.preset=*) export VT_PRESET="${w#*=}" ;;
    vfiotrace.opts=*)   export VT_OPTS="${w#*=}" ;;
    vfiotrace.qemu=*)   export VT_SOURCE="real kernel under QEMU ${w#*=} TCG" ;;
    vfiotrace.nrand=*)  NRAND="${w#*=}" ;;
    vfiotrace.only=*)   ONLY="${w#*=}" ;;
  esac
done
# no interrupt remapping: type1's SET_IOMMU and iommufd's bind need allow_unsafe_interrupts=Y
case "$VT_OPTS" in *intremap=off*|*gic=v2*) UNSAFE=Y ;; *) UNSAFE=N ;; esac
. /bind-vfio.sh
for d in /sys/bus/pci/devices/*/vfio-dev/*; do echo "@@I cdev $d"; done
echo "@@I /dev/iommu: $(ls -l /dev/iommu 2>&1)"
echo "@@I /dev/vfio: $(ls /dev/vfio /dev/vfio/devices 2>&1 | tr '\n' ' ')"
dmesg -n 1   # kernel messages reach the traces through /dev/kmsg, not the console
# vfiotrace.only=NAME (run-iommufd.sh's ONLY_TRACE): run only that trace
run() { tn=$1; shift; [ -n "${ONLY:-}" ] && [ "$ONLY" != "$tn" ] && return; echo "@@I run $tn: $*"; "$@"; echo "@@I done $tn rc=$?"; }
P=/bin/iommufdprobe
if [ -e /sys/module/vfio_iommu_type1 ]; then
  # CONFIG_VFIO_CONTAINER=y: /dev/iommu and the cdev beside the legacy container
  run ioas $P -t ioas -u $UNSAFE ioas
  for e in $DEVS; do
    name=${e%%:*}; rest=${e#*:}; bdf=${rest%:*}; grp=${rest##*:}
    for mode in cdev excl group; do run $name-$mode $P -t $name-$mode -u $UNSAFE $mode $grp $bdf; done
    [ $name = edu ] && run edu-dma $P -t edu-dma -u $UNSAFE dma $grp $bdf
    [ $name = edu ] && run edu-file $P -t edu-file -u $UNSAFE file $grp $bdf
    [ $name = edu ] && run edu-unsafe $P -t edu-unsafe -u $UNSAFE unsafe $grp $bdf
    for t in type1v2 type1; do run $name-container-$t $P -t $name-container-$t -u $UNSAFE compat $grp $bdf $t; done
  done
  for s in 1 2; do
    e=${DEVS# }; e=${e%% *}; name=${e%%:*}; rest=${e#*:}; bdf=${rest%:*}; grp=${rest##*:}
    run random-$name-s$s $P -t random-$name-s$s -u $UNSAFE random $grp $bdf $s $NRAND
  done
else
  # CONFIG_IOMMUFD_VFIO_CONTAINER=y: /dev/vfio/vfio is iommufd
  for e in $DEVS; do
    name=${e%%:*}; rest=${e#*:}; bdf=${rest%:*}; grp=${rest##*:}
    for t in type1v2 type1; do run $name-container-$t $P -t $name-container-$t -u $UNSAFE compat $grp $bdf $t; done
    run $name-excl $P -t $name-excl -u $UNSAFE excl $grp $bdf
    # the shared harness's fixed type1 probe, answered by the compat container; iommufdprobe's
    # `run` gives its trace this build's header ("config") and iommufd's parameter
    t=probe-$name-type1v2
    run $t $P -t $t -u $UNSAFE run /bin/probe -t $t -u $UNSAFE $grp $bdf type1v2
  done
  run ioas $P -t ioas -u $UNSAFE ioas
  e=${DEVS# }; e=${e%% *}; name=${e%%:*}; rest=${e#*:}; bdf=${rest%:*}; grp=${rest##*:}
  run $name-group $P -t $name-group -u $UNSAFE group $grp $bdf
  for s in 1 2; do
    t=random-container-$name-s$s
    run $t $P -t $t -u $UNSAFE run /bin/probe -t $t -u $UNSAFE random $grp $bdf $s $NRAND type1v2
  done
fi
echo "@@I init-end uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
