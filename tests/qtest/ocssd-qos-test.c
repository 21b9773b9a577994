/*
 * ocssd tests run in the qos graph (on every machine with a PCI bus)
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qemu/module.h"
#include "libqtest.h"
#include "libqos/ocssd.h"
#include "hw/pci/pci_regs.h"

static void test_pci_identity(void *obj, void *data, QGuestAllocator *alloc)
{
    QOcssd *o = obj;

    g_assert_cmphex(qpci_config_readw(&o->dev, PCI_VENDOR_ID), ==, 0x1d1d);
    g_assert_cmphex(qpci_config_readw(&o->dev, PCI_DEVICE_ID), ==, 0x1f1f);
    g_assert_cmphex(qpci_config_readw(&o->dev, PCI_CLASS_DEVICE), ==, 0x0108);
    g_assert_cmphex(qpci_config_readb(&o->dev, PCI_CLASS_PROG), ==, 0x02);
}

static void test_identify_geometry(void *obj, void *data,
                                   QGuestAllocator *alloc)
{
    QOcssd *o = obj;
    NvmeIdCtrl id;

    qocssd_start(o);
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_CTRL, 0, &id), ==, 0);
    g_assert_cmphex(le16_to_cpu(id.vid), ==, 0x1d1d);
    g_assert_cmphex(le32_to_cpu(id.ver), ==, 0x00010300);
    qocssd_read_geometry(o);
    g_assert_cmpuint(o->geo.mjr, ==, 2);
    g_assert_cmpuint(le16_to_cpu(o->geo.num_grp), ==, 2);
    g_assert_cmpuint(le16_to_cpu(o->geo.num_pu), ==, 2);
    g_assert_cmpuint(le32_to_cpu(o->geo.num_chk), ==, 8);
    g_assert_cmpuint(le32_to_cpu(o->geo.clba), ==, 64);
}

static void ocssd_register_tests(void)
{
    qos_add_test("pci-identity", "ocssd", test_pci_identity, NULL);
    qos_add_test("identify-geometry", "ocssd", test_identify_geometry, NULL);
}

libqos_init(ocssd_register_tests);
