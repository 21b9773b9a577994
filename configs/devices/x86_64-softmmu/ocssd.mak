# The devices of our QEMU builds (scripts/build-qemu configures with
# --without-default-devices --with-devices-x86_64=ocssd; scripts/overlay
# puts this file in the tree): the pc and q35 machines with what they
# create by default, the ocssd device, QEMU's nvme (make bench compares
# with it) and the NICs of -nic user.  The rest of QEMU's x86_64 devices
# (USB, audio, graphics, virtio, SCSI, vfio, ...: 147 of 229 Kconfig
# symbols on 10.0) are left out; nothing here uses them.  A cold qemu-10.0
# build has 1498 ninja steps instead of 1738 and took 470 s instead of
# about 11 minutes on 2 cores.

# Boards
CONFIG_Q35=y
CONFIG_I440FX=y

# What the boards create by default (their "imply" lines)
CONFIG_VGA_PCI=y
CONFIG_E1000_PCI=y
CONFIG_E1000E_PCI_EXPRESS=y
CONFIG_VMPORT=y
CONFIG_VMMOUSE=y
CONFIG_HPET=y
CONFIG_PARALLEL=y
CONFIG_SERIAL_ISA=y
CONFIG_PCSPK=y
CONFIG_FDC_ISA=y

# The devices under test
CONFIG_OCSSD=y
CONFIG_NVME_PCI=y
