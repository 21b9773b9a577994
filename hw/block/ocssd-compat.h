/*
 * ocssd: the differences between the QEMU versions the device builds on
 *
 * The device is written against QEMU 10.0's internal API.  This header,
 * and nothing else, adapts it to QEMU 7.2 (Debian 12).  Include it instead
 * of the headers it wraps.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#ifndef HW_BLOCK_OCSSD_COMPAT_H
#define HW_BLOCK_OCSSD_COMPAT_H

#if QEMU_VERSION_MAJOR >= 10
#define OCSSD_QEMU_7 0
#elif QEMU_VERSION_MAJOR == 7 && QEMU_VERSION_MINOR == 2
#define OCSSD_QEMU_7 1
#else
#error "ocssd supports QEMU 7.2 and 10.0"
#endif

#include "hw/qdev-core.h"
#include "hw/qdev-properties.h"
#include "hw/resettable.h"

#if OCSSD_QEMU_7
/* Headers moved: sysemu/ became system/ and PCIDevice got its own header. */
#include "hw/pci/pci.h"
#include "sysemu/block-backend.h"
#include "sysemu/dma.h"
#include "sysemu/runstate.h"
#else
#include "hw/pci/pci_device.h"
#include "system/block-backend.h"
#include "system/dma.h"
#include "system/runstate.h"
#endif

/* PropertyInfo names its QAPI type in .type (10.0) or .name (7.2). */
#if OCSSD_QEMU_7
#define OCSSD_PROPINFO_TYPE(t) .name = (t)
#else
#define OCSSD_PROPINFO_TYPE(t) .type = (t)
#endif

/*
 * Bottom halves of a device are guarded against re-entrant MMIO since
 * QEMU 8.0.
 */
#if OCSSD_QEMU_7
#define ocssd_bh_new(cb, opaque, dev) qemu_bh_new((cb), (opaque))
#else
#define ocssd_bh_new(cb, opaque, dev) \
    qemu_bh_new_guarded((cb), (opaque), &(dev)->mem_reentrancy_guard)
#endif

#if OCSSD_QEMU_7
/*
 * 10.0 takes a const property array without a terminating entry and
 * counts it; 7.2 walks the array to a NULL name.  Give 7.2 a terminated
 * copy, which lives as long as the class.
 */
static inline void ocssd_compat_set_props(DeviceClass *dc,
                                          const Property *props, size_t n)
{
    Property *copy = g_new0(Property, n + 1);

    memcpy(copy, props, n * sizeof(*props));
    device_class_set_props(dc, copy);
}
#undef device_class_set_props
#define device_class_set_props(dc, props) \
    ocssd_compat_set_props((dc), (props), ARRAY_SIZE(props))

/*
 * 10.0's Resettable hold phase takes the reset type; 7.2's does not.
 * OCSSD_RESET_HOLD(fn) names a 7.2-shaped trampoline for a 10.0-shaped fn.
 */
#define OCSSD_DEFINE_RESET_HOLD(fn)                                         \
    static void fn##_compat(Object *obj)                                    \
    {                                                                       \
        fn(obj, RESET_TYPE_COLD);                                           \
    }
#define OCSSD_RESET_HOLD(fn) fn##_compat
#else
#define OCSSD_DEFINE_RESET_HOLD(fn)
#define OCSSD_RESET_HOLD(fn) fn
#endif

/*
 * VMStateDescription.fields and .subsections became const in QEMU 9;
 * SaveVMHandlers'
 * save_setup gained an Error ** in 9.1.
 */
#if OCSSD_QEMU_7
#define OCSSD_VMSTATE_FIELDS (VMStateField[])
#define OCSSD_VMSTATE_SUBSECTIONS (const VMStateDescription *[])
#define OCSSD_SAVE_SETUP_ARGS QEMUFile *f, void *opaque
#else
#define OCSSD_VMSTATE_FIELDS (const VMStateField[])
#define OCSSD_VMSTATE_SUBSECTIONS (const VMStateDescription * const [])
#define OCSSD_SAVE_SETUP_ARGS QEMUFile *f, void *opaque, Error **errp
#endif

/* OACS bit 8, Doorbell Buffer Config: renamed after 7.2. */
#if OCSSD_QEMU_7
#define OCSSD_OACS_DBBUF NVME_OACS_DBBUF
#else
#define OCSSD_OACS_DBBUF NVME_OACS_DBCS
#endif

#endif /* HW_BLOCK_OCSSD_COMPAT_H */
