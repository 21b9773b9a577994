/*
 * ocssd: an NVMe Open-Channel SSD 2.0 device - device glue
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/block/block.h"
#include "ocssd-compat.h"
#include "trace.h"

#define TYPE_OCSSD "ocssd"
OBJECT_DECLARE_SIMPLE_TYPE(OcssdDev, OCSSD)

struct OcssdDev {
    PCIDevice parent_obj;
    BlockConf conf;
};

static void ocssd_realize(PCIDevice *pci, Error **errp)
{
    OcssdDev *d = OCSSD(pci);

    if (!d->conf.blk) {
        error_setg(errp, "ocssd: drive property not set");
        return;
    }
    trace_ocssd_realize(0);
}

static const Property ocssd_props[] = {
    DEFINE_BLOCK_PROPERTIES(OcssdDev, conf),
};

static void ocssd_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(oc);

    pc->realize = ocssd_realize;
    pc->vendor_id = 0x1d1d;
    pc->device_id = 0x1f1f;
    pc->class_id = PCI_CLASS_STORAGE_EXPRESS;
    pc->revision = 2;
    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
    dc->desc = "Open-Channel SSD 2.0 (NVMe)";
    device_class_set_props(dc, ocssd_props);
}

static const TypeInfo ocssd_info = {
    .name = TYPE_OCSSD,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(OcssdDev),
    .class_init = ocssd_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_PCIE_DEVICE },
        { }
    },
};

static void ocssd_register_types(void)
{
    type_register_static(&ocssd_info);
}

type_init(ocssd_register_types)
