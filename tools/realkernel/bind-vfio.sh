# Sourced by the initramfs /init scripts (init-device.sh, init-iommufd.sh): bind QEMU's edu and
# e1000e to vfio-pci with driver_override and set DEVS to " name:bdf:group ..." in bus order.
DEVS=""
for d in /sys/bus/pci/devices/*; do
  case "$(cat $d/vendor):$(cat $d/device)" in
    0x1234:0x11e8) name=edu ;;
    0x8086:0x10d3) name=e1000e ;;
    *) continue ;;
  esac
  bdf=${d##*/}
  echo vfio-pci > $d/driver_override
  [ -e $d/driver ] && echo $bdf > $d/driver/unbind
  echo $bdf > /sys/bus/pci/drivers_probe
  grp=$(basename "$(readlink $d/iommu_group)")
  echo "@@I device $bdf ($name) group $grp driver $(basename "$(readlink $d/driver)")"
  DEVS="$DEVS $name:$bdf:$grp"
done
