/*
 * libqos driver for the ocssd device
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qemu/module.h"
#include "../libqtest.h"
#include "ocssd.h"

static void *ocssd_get_driver(void *obj, const char *interface)
{
    QOcssd *o = obj;

    if (!g_strcmp0(interface, "pci-device")) {
        return &o->dev;
    }
    fprintf(stderr, "%s not present in ocssd\n", interface);
    g_assert_not_reached();
}

static void *ocssd_create(void *pci_bus, QGuestAllocator *alloc, void *addr)
{
    QOcssd *o = g_new0(QOcssd, 1);

    qpci_device_init(&o->dev, pci_bus, addr);
    o->obj.get_driver = ocssd_get_driver;
    return &o->obj;
}

static void ocssd_register_nodes(void)
{
    QOSGraphEdgeOptions opts = {
        .extra_device_opts = "addr=04.0,drive=ocssd0",
        .before_cmd_line = "-drive id=ocssd0,if=none,file=null-co://,"
                           "file.read-zeroes=on,format=raw",
    };

    add_qpci_address(&opts, &(QPCIAddress) { .devfn = QPCI_DEVFN(4, 0) });
    qos_node_create_driver("ocssd", ocssd_create);
    qos_node_consumes("ocssd", "pci-bus", &opts);
    qos_node_produces("ocssd", "pci-device");
}

libqos_init(ocssd_register_nodes);
