#!/bin/busybox sh
# /init of the record-mode initramfs (record-client.sh): load the vfio modules, bind QEMU's edu
# and e1000e to vfio-pci (bind-vfio.sh), and run the project's client (test/native/record-client.c,
# dynamically linked: /lib64/ld-linux-x86-64.so.2 and libc are in the image) under the recorder,
# LD_PRELOAD=/lib/vfio-preload.so with VFIO_EMU_RECORD set, as `vfio-emu record` runs it (no Node
# here). The trace the recorder wrote goes to the console as "@@T client <line>" (split-traces.py
# splits it), the client's own output as "@@C <line>".
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
echo "@@I init-start uptime=$(cut -d' ' -f1 /proc/uptime)"
for w in $(cat /proc/cmdline); do
  case "$w" in
    vfiotrace.preset=*) PRESET="${w#*=}" ;;
    vfiotrace.opts=*)   OPTS="${w#*=}" ;;
  esac
done
for m in irqbypass vfio_virqfd vfio vfio_iommu_type1 vfio-pci-core vfio-pci; do
  [ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko
done
. /bind-vfio.sh
# No interrupt remapping: whoever sets the machine up allows unsafe interrupts before the program
# runs; the recorder finds the parameter changed and records it as a `param` event.
case "$OPTS" in *intremap=off*) echo Y > /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts ;; esac
dmesg -n 1   # kernel messages reach the trace through /dev/kmsg, not the console
BDFS=""
for e in $DEVS; do rest=${e#*:}; BDFS="$BDFS ${rest%:*}"; done
echo "@@I run client:$BDFS"
LD_PRELOAD=/lib/vfio-preload.so VFIO_EMU_RECORD=/tmp/client.jsonl VFIO_EMU_PLATFORM="$PRESET${OPTS:+,$OPTS}" \
  /bin/record-client $BDFS > /tmp/client.out 2>&1
echo "@@I done client rc=$?"
sed 's/^/@@C /' /tmp/client.out
sed 's/^/@@T client /' /tmp/client.jsonl
echo "@@I init-end uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
