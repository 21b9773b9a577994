/*
 * ocssd: an NVMe Open-Channel SSD 2.0 device - QOM type and properties
 *
 *   -drive if=none,id=oc0,file=ocssd.img,format=raw
 *   -device ocssd,drive=oc0[,num_grp=2,num_pu=4,num_chk=60,clba=4096,...]
 *
 * A zero-length image is formatted from the properties at realize; an
 * existing image supplies every media property the user leaves out (and
 * refuses those that contradict it).  docs/user-guide.rst lists the
 * properties; the code is laid out as ocssd.h describes.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "qemu/units.h"
#include "qemu/cutils.h"
#include "hw/pci/msix.h"
#include "hw/pci/pcie.h"
#include "migration/vmstate.h"
#include "ocssd.h"
#include "trace.h"

/* ---- media properties: uint32, remembering whether they were set ---- */

static void ocssd_prop_get_media(Object *obj, Visitor *v, const char *name,
                                 void *opaque, Error **errp)
{
    uint32_t *ptr = object_field_prop_ptr(obj, opaque);

    visit_type_uint32(v, name, ptr, errp);
}

static void ocssd_prop_set_media(Object *obj, Visitor *v, const char *name,
                                 void *opaque, Error **errp)
{
    Property *prop = opaque;
    uint32_t *ptr = object_field_prop_ptr(obj, prop);

    if (visit_type_uint32(v, name, ptr, errp)) {
        OCSSD(obj)->params.media_set |= 1u << prop->bitnr;
    }
}

static void ocssd_prop_default_media(ObjectProperty *op, const Property *prop)
{
    object_property_set_default_uint(op, prop->defval.u);
}

static const PropertyInfo ocssd_prop_media = {
    OCSSD_PROPINFO_TYPE("uint32"),
    .get = ocssd_prop_get_media,
    .set = ocssd_prop_set_media,
    .set_default_value = ocssd_prop_default_media,
};

#define DEFINE_PROP_OCSSD_MEDIA(_name, _field, _id, _def)                  \
    DEFINE_PROP(_name, OcssdCtrl, params.media._field, ocssd_prop_media,    \
                uint32_t, .bitnr = OCSSD_MP_##_id, .set_default = true,     \
                .defval.u = (_def))

/*
 * The media's times (trdt ... tcrsm) may also change at run time
 * (qom-set): the Geometry command reports the new value and the timing
 * model uses it for the operations that follow.  The image keeps the
 * values it was formatted with.
 */
static void ocssd_prop_set_media_time(Object *obj, Visitor *v,
                                      const char *name, void *opaque,
                                      Error **errp)
{
    OcssdCtrl *n = OCSSD(obj);
    Property *prop = opaque;
    uint32_t *ptr = object_field_prop_ptr(obj, prop);
    size_t off = (uint8_t *)ptr - (uint8_t *)&n->params.media;
    OcssdMediaParams m;
    uint32_t val;

    if (!DEVICE(obj)->realized) {
        ocssd_prop_set_media(obj, v, name, opaque, errp);
        return;
    }
    if (!visit_type_uint32(v, name, &val, errp)) {
        return;
    }
    m = n->media.p;
    *(uint32_t *)((uint8_t *)&m + off) = val;
    /* The medium's own check: only the times differ from what passed. */
    if (!ocssd_media_params_check(&m, errp)) {
        error_prepend(errp, "ocssd: %s=%" PRIu32 " refused now (change the "
                      "maximum first when raising a typical time): ", name,
                      val);
        return;
    }
    n->media.p = m;
    *ptr = val;
    ocssd_latency_changed(n);
}

static const PropertyInfo ocssd_prop_media_time = {
    OCSSD_PROPINFO_TYPE("uint32"),
    .get = ocssd_prop_get_media,
    .set = ocssd_prop_set_media_time,
    .set_default_value = ocssd_prop_default_media,
    .realized_set_allowed = true,
};

#define DEFINE_PROP_OCSSD_MEDIA_TIME(_name, _field, _id, _def)             \
    DEFINE_PROP(_name, OcssdCtrl, params.media._field,                      \
                ocssd_prop_media_time, uint32_t, .bitnr = OCSSD_MP_##_id,   \
                .set_default = true, .defval.u = (_def))

/* ---- timing properties: may change at run time (qom-set) ---- */

static void ocssd_prop_get_runtime_bool(Object *obj, Visitor *v,
                                        const char *name, void *opaque,
                                        Error **errp)
{
    bool *ptr = object_field_prop_ptr(obj, opaque);

    visit_type_bool(v, name, ptr, errp);
}

static void ocssd_prop_set_runtime_bool(Object *obj, Visitor *v,
                                        const char *name, void *opaque,
                                        Error **errp)
{
    bool *ptr = object_field_prop_ptr(obj, opaque);

    if (visit_type_bool(v, name, ptr, errp) && DEVICE(obj)->realized) {
        ocssd_latency_changed(OCSSD(obj));
    }
}

static void ocssd_prop_default_bool(ObjectProperty *op, const Property *prop)
{
    object_property_set_default_bool(op, prop->defval.u);
}

static const PropertyInfo ocssd_prop_runtime_bool = {
    OCSSD_PROPINFO_TYPE("bool"),
    .get = ocssd_prop_get_runtime_bool,
    .set = ocssd_prop_set_runtime_bool,
    .set_default_value = ocssd_prop_default_bool,
    .realized_set_allowed = true,
};

static void ocssd_prop_set_runtime_uint32(Object *obj, Visitor *v,
                                          const char *name, void *opaque,
                                          Error **errp)
{
    uint32_t *ptr = object_field_prop_ptr(obj, opaque);

    if (visit_type_uint32(v, name, ptr, errp) && DEVICE(obj)->realized) {
        ocssd_latency_changed(OCSSD(obj));
    }
}

static const PropertyInfo ocssd_prop_runtime_uint32 = {
    OCSSD_PROPINFO_TYPE("uint32"),
    .get = ocssd_prop_get_media,
    .set = ocssd_prop_set_runtime_uint32,
    .set_default_value = ocssd_prop_default_media,
    .realized_set_allowed = true,
};

static const Property ocssd_props[] = {
    DEFINE_PROP_DRIVE("drive", OcssdCtrl, blkconf.blk),
    DEFINE_PROP_ON_OFF_AUTO("write-cache", OcssdCtrl, blkconf.wce,
                            ON_OFF_AUTO_AUTO),
    DEFINE_PROP_STRING("serial", OcssdCtrl, params.serial),
    DEFINE_PROP_STRING("model", OcssdCtrl, params.model),
    DEFINE_PROP_STRING("firmware", OcssdCtrl, params.firmware),
    DEFINE_PROP_UINT8("mdts", OcssdCtrl, params.mdts, 7),
    DEFINE_PROP_UINT32("num_queues", OcssdCtrl, params.num_queues, 64),
    DEFINE_PROP_UINT32("msix_vectors", OcssdCtrl, params.msix_vectors, 64),
    DEFINE_PROP_UINT16("mqes", OcssdCtrl, params.mqes, 2047),
    DEFINE_PROP_UINT8("aerl", OcssdCtrl, params.aerl, 3),
    DEFINE_PROP_OCSSD_MEDIA("num_grp", num_grp, NUM_GRP,
                            OCSSD_DEFAULT_NUM_GRP),
    DEFINE_PROP_OCSSD_MEDIA("num_pu", num_pu, NUM_PU, OCSSD_DEFAULT_NUM_PU),
    DEFINE_PROP_OCSSD_MEDIA("num_chk", num_chk, NUM_CHK,
                            OCSSD_DEFAULT_NUM_CHK),
    DEFINE_PROP_OCSSD_MEDIA("clba", clba, CLBA, OCSSD_DEFAULT_CLBA),
    DEFINE_PROP_OCSSD_MEDIA("sec_size", sec_size, SEC_SIZE,
                            OCSSD_DEFAULT_SEC_SIZE),
    DEFINE_PROP_OCSSD_MEDIA("md_size", md_size, MD_SIZE,
                            OCSSD_DEFAULT_MD_SIZE),
    DEFINE_PROP_OCSSD_MEDIA("ws_min", ws_min, WS_MIN, OCSSD_DEFAULT_WS_MIN),
    DEFINE_PROP_OCSSD_MEDIA("ws_opt", ws_opt, WS_OPT, OCSSD_DEFAULT_WS_OPT),
    DEFINE_PROP_OCSSD_MEDIA("mw_cunits", mw_cunits, MW_CUNITS,
                            OCSSD_DEFAULT_MW_CUNITS),
    DEFINE_PROP_OCSSD_MEDIA("maxoc", maxoc, MAXOC, OCSSD_DEFAULT_MAXOC),
    DEFINE_PROP_OCSSD_MEDIA("maxocpu", maxocpu, MAXOCPU,
                            OCSSD_DEFAULT_MAXOCPU),
    DEFINE_PROP_OCSSD_MEDIA("wit", wit, WIT, OCSSD_DEFAULT_WIT),
    DEFINE_PROP_OCSSD_MEDIA_TIME("trdt", trdt, TRDT, OCSSD_DEFAULT_TRDT),
    DEFINE_PROP_OCSSD_MEDIA_TIME("trdm", trdm, TRDM, OCSSD_DEFAULT_TRDM),
    DEFINE_PROP_OCSSD_MEDIA_TIME("twrt", twrt, TWRT, OCSSD_DEFAULT_TWRT),
    DEFINE_PROP_OCSSD_MEDIA_TIME("twrm", twrm, TWRM, OCSSD_DEFAULT_TWRM),
    DEFINE_PROP_OCSSD_MEDIA_TIME("tcrst", tcrst, TCRST, OCSSD_DEFAULT_TCRST),
    DEFINE_PROP_OCSSD_MEDIA_TIME("tcrsm", tcrsm, TCRSM, OCSSD_DEFAULT_TCRSM),
    DEFINE_PROP_ON_OFF_AUTO("vector_copy", OcssdCtrl, params.vector_copy,
                            ON_OFF_AUTO_AUTO),
    DEFINE_PROP_ON_OFF_AUTO("multiple_resets", OcssdCtrl,
                            params.multiple_resets, ON_OFF_AUTO_AUTO),
    DEFINE_PROP_ON_OFF_AUTO("early_reset", OcssdCtrl, params.early_reset,
                            ON_OFF_AUTO_AUTO),
    DEFINE_PROP_BOOL("mw_cunits_strict", OcssdCtrl, params.mw_cunits_strict,
                     true),
    DEFINE_PROP_STRING("chunkinfo", OcssdCtrl, params.chunkinfo),
    DEFINE_PROP_STRING("resetfail", OcssdCtrl, params.resetfail),
    DEFINE_PROP_STRING("writefail", OcssdCtrl, params.writefail),
    DEFINE_PROP_STRING("readfail", OcssdCtrl, params.readfail),
    DEFINE_PROP_STRING("highecc", OcssdCtrl, params.highecc),
    DEFINE_PROP_UINT64("seed", OcssdCtrl, params.seed, 0),
    DEFINE_PROP_SIZE("bounce_limit", OcssdCtrl, params.bounce_limit,
                     OCSSD_DEFAULT_BOUNCE_LIMIT),
    DEFINE_PROP("timing", OcssdCtrl, params.timing, ocssd_prop_runtime_bool,
                bool, .set_default = true, .defval.u = false),
    DEFINE_PROP("timing_spread", OcssdCtrl, params.timing_spread,
                ocssd_prop_runtime_bool, bool, .set_default = true,
                .defval.u = false),
    DEFINE_PROP("channel_mbps", OcssdCtrl, params.channel_mbps,
                ocssd_prop_runtime_uint32, uint32_t, .set_default = true,
                .defval.u = OCSSD_DEFAULT_CHANNEL_MBPS),
    DEFINE_PROP_BOOL("shadow_doorbells", OcssdCtrl, params.shadow_doorbells,
                     true),
};

/*
 * What `-device ocssd,help` says of each property; the media properties'
 * texts are in ocssd_media_props[], shared with ocssd-img.
 */
static const struct {
    const char *name;
    const char *desc;
} ocssd_prop_descriptions[] = {
    { "drive", "the image holding the media (a zero-length image is "
      "formatted)" },
    { "write-cache", "the volatile write cache after every controller "
      "reset: on, off (writes are on stable storage when they complete) or "
      "auto (the drive's cache mode)" },
    { "serial", "controller serial number (default: from the image's UUID)" },
    { "model", "controller model number" },
    { "firmware", "firmware revision (up to 8 characters)" },
    { "mdts", "maximum data transfer size, 2^mdts * 4 KiB (1-12)" },
    { "num_queues", "queue pairs, the admin queue included (2-1024)" },
    { "msix_vectors", "MSI-X vectors (0-1024; 0 = INTx only)" },
    { "mqes", "maximum queue entries supported, 0's based (1-65535)" },
    { "aerl", "asynchronous event request limit, 0's based (0-255)" },
    { "mw_cunits_strict", "reads inside the MW_CUNITS window act as "
      "unwritten" },
    { "chunkinfo", "file presetting chunk states when formatting" },
    { "resetfail", "file of per-chunk reset failure probabilities" },
    { "writefail", "file of per-sector write failure probabilities" },
    { "readfail", "file of per-sector read failure probabilities" },
    { "highecc", "file of per-sector high-ECC read probabilities" },
    { "seed", "seed of the fault-injection random draws (0 = random)" },
    { "bounce_limit", "host memory for the data of commands in flight, "
      "bytes (at least 1 MiB); commands wait for memory beyond it" },
    { "timing", "complete commands after the media's times (trdt, twrt, "
      "tcrst) on their parallel units and channels; run-time settable" },
    { "timing_spread", "draw each time between typical and maximum, from "
      "seed; run-time settable" },
    { "channel_mbps", "a group's channel speed, MB/s per sector moved (0 = "
      "transfers take no time); run-time settable" },
    { "shadow_doorbells", "offer Doorbell Buffer Config (OACS bit 8): the "
      "host writes I/O queue doorbells to memory and rings fewer" },
};

/* ---- realize ---------------------------------------------------------- */

static bool ocssd_check_params(OcssdCtrl *n, Error **errp)
{
    OcssdParams *p = &n->params;

    if (!n->blkconf.blk) {
        error_setg(errp, "ocssd: the drive property is required (e.g. "
                   "-drive if=none,id=oc0,file=ocssd.img,format=raw "
                   "-device ocssd,drive=oc0)");
        return false;
    }
    if (p->num_queues < 2 || p->num_queues > OCSSD_MAX_QUEUES) {
        error_setg(errp, "ocssd: num_queues=%" PRIu32 " is invalid: it must "
                   "be 2 to %d (queue pairs, the admin queue included)",
                   p->num_queues, OCSSD_MAX_QUEUES);
        return false;
    }
    if (p->msix_vectors > OCSSD_MAX_MSIX) {
        error_setg(errp, "ocssd: msix_vectors=%" PRIu32 " is invalid: it "
                   "must be 0 to %d", p->msix_vectors, OCSSD_MAX_MSIX);
        return false;
    }
    if (p->mdts < 1 || p->mdts > 12) {
        error_setg(errp, "ocssd: mdts=%u is invalid: it must be 1 to 12 "
                   "(2^mdts * 4 KiB per command)", p->mdts);
        return false;
    }
    if (p->bounce_limit < OCSSD_MIN_BOUNCE_LIMIT) {
        error_setg(errp, "ocssd: bounce_limit=%" PRIu64 " is invalid: it "
                   "must be at least %d (1 MiB)", p->bounce_limit,
                   OCSSD_MIN_BOUNCE_LIMIT);
        return false;
    }
    if (p->mqes < 1) {
        error_setg(errp, "ocssd: mqes=0 is invalid: queues need at least 2 "
                   "entries (mqes is 0's based)");
        return false;
    }
    if (p->serial && strlen(p->serial) > 20) {
        error_setg(errp, "ocssd: serial '%s' is too long: at most 20 "
                   "characters", p->serial);
        return false;
    }
    if (p->model && strlen(p->model) > 40) {
        error_setg(errp, "ocssd: model '%s' is too long: at most 40 "
                   "characters", p->model);
        return false;
    }
    if (p->firmware && strlen(p->firmware) > 8) {
        error_setg(errp, "ocssd: firmware '%s' is too long: at most 8 "
                   "characters", p->firmware);
        return false;
    }
    return true;
}

static bool ocssd_init_pci(OcssdCtrl *n, Error **errp)
{
    PCIDevice *pci = PCI_DEVICE(n);
    uint64_t table_off, pba_off, bar_size;

    pci_config_set_prog_interface(pci->config, 0x2);
    pci->config[PCI_INTERRUPT_PIN] = 1;

    /*
     * BAR0: registers and doorbells, then the MSI-X table and PBA.  The
     * doorbells run to a page boundary, so that the doorbell of a queue
     * that cannot exist is ours to report (Invalid Doorbell Register), not
     * a write QEMU drops.
     */
    n->reg_size = ROUND_UP(0x1000 + 8ULL * n->params.num_queues, 4 * KiB);
    table_off = n->reg_size;
    pba_off = ROUND_UP(table_off + n->num_msix * PCI_MSIX_ENTRY_SIZE,
                       4 * KiB);
    bar_size = pow2ceil(pba_off + ROUND_UP(DIV_ROUND_UP(n->num_msix, 64) * 8,
                                           4 * KiB));
    memory_region_init(&n->bar0, OBJECT(n), "ocssd-bar0", bar_size);
    memory_region_init_io(&n->iomem, OBJECT(n), &ocssd_mmio_ops, n,
                          "ocssd-regs", n->reg_size);
    memory_region_add_subregion(&n->bar0, 0, &n->iomem);
    if (n->num_msix &&
        msix_init(pci, n->num_msix, &n->bar0, 0, table_off, &n->bar0, 0,
                  pba_off, 0, errp) < 0) {
        return false;
    }
    pci_register_bar(pci, 0, PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &n->bar0);

    if (pci_add_capability(pci, PCI_CAP_ID_PM, 0x60, PCI_PM_SIZEOF,
                           errp) < 0) {
        return false;
    }
    pci_set_word(pci->config + 0x60 + PCI_PM_PMC, PCI_PM_CAP_VER_1_2);
    pci_set_word(pci->config + 0x60 + PCI_PM_CTRL, PCI_PM_CTRL_NO_SOFT_RESET);
    pci_set_word(pci->wmask + 0x60 + PCI_PM_CTRL, PCI_PM_CTRL_STATE_MASK);
    pcie_endpoint_cap_init(pci, 0x80);
    return true;
}

/*
 * Going to stop (including QEMU exiting, a migration, savevm): let the
 * commands in flight finish, then make the image clean.  QEMU 7.2 exits
 * with every block node already drained, which would queue our writes
 * forever; the device's own metadata must still go out.  Running (again,
 * or on a migration's destination): read the image if it may have
 * changed, mark it in use, go on with the queues.
 */
static void ocssd_vm_state_change(void *opaque, bool running, RunState state)
{
    OcssdCtrl *n = opaque;

    trace_ocssd_vm_state(running);
    if (running) {
        ocssd_migration_resume(n);
        ocssd_store_set_dirty_flag(n, true);
        return;
    }
    blk_set_disable_request_queuing(n->store.blk, true);
    ocssd_migration_quiesce(n);
    /* What did not reach stable storage leaves the image DIRTY. */
    ocssd_store_sync_all(n);
    blk_set_disable_request_queuing(n->store.blk, false);
    if (state != RUN_STATE_SHUTDOWN) {
        /* A save may follow, and QEMU 10 lets go of the image before it. */
        ocssd_migration_stopped(n);
    }
}

static void ocssd_unrealize(PCIDevice *pci);

static void ocssd_realize(PCIDevice *pci, Error **errp)
{
    OcssdCtrl *n = OCSSD(pci);
    OcssdParams *p = &n->params;

    if (!ocssd_check_params(n, errp) || !ocssd_store_open(n, errp)) {
        ocssd_unrealize(pci);
        return;
    }
    n->media.mw_strict = p->mw_cunits_strict;
    /* Properties now show the medium's values, wherever they came from. */
    p->media = n->media.p;
    p->vector_copy = n->media.p.vector_copy ? ON_OFF_AUTO_ON : ON_OFF_AUTO_OFF;
    p->multiple_resets = n->media.p.multiple_resets ? ON_OFF_AUTO_ON :
                                                      ON_OFF_AUTO_OFF;
    p->early_reset = n->media.p.early_reset ? ON_OFF_AUTO_ON : ON_OFF_AUTO_OFF;
    ocssd_fault_init(n);
    ocssd_latency_init(n);
    if (p->serial) {
        pstrcpy(n->serial, sizeof(n->serial), p->serial);
    } else {
        /* Stable per image, distinct between images. */
        snprintf(n->serial, sizeof(n->serial), "OC%02x%02x%02x%02x%02x%02x"
                 "%02x%02x%02x", n->uuid.data[0], n->uuid.data[1],
                 n->uuid.data[2], n->uuid.data[3], n->uuid.data[4],
                 n->uuid.data[5], n->uuid.data[6], n->uuid.data[7],
                 n->uuid.data[8]);
    }
    if (!p->model) {
        p->model = g_strdup("QEMU Open-Channel SSD 2.0");
    }
    if (!p->firmware) {
        p->firmware = g_strdup("2.0");
    }
    n->mdts_bytes = 4 * KiB << p->mdts;
    n->num_msix = p->msix_vectors;
    n->num_vectors = MAX(n->num_msix, 1);
    n->page_size = 4 * KiB;
    n->page_bits = 12;
    n->sq = g_new0(OcssdSQ *, p->num_queues);
    n->cq = g_new0(OcssdCQ *, p->num_queues);
    n->features.iv_config = g_new0(uint32_t, n->num_vectors);
    n->num_io_queues = p->num_queues - 1;
    n->temperature = OCSSD_DEFAULT_TEMP;
    n->start_ms = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
    QTAILQ_INIT(&n->aer_queue);
    QTAILQ_INIT(&n->mem_waiters);

    if (!ocssd_init_pci(n, errp)) {
        ocssd_unrealize(pci);
        return;
    }
    ocssd_ctrl_init_registers(n);
    ocssd_identify_init(n);
    ocssd_features_init(n);
    n->vmstate_handler = qemu_add_vm_change_state_handler(
        ocssd_vm_state_change, n);
    ocssd_migration_init(n);
    trace_ocssd_realize(n->serial, n->media.p.num_grp, n->media.p.num_pu,
                        n->media.p.num_chk, n->media.p.clba);
}

/* Unplug, or a failed realize: make the image clean, free everything. */
static void ocssd_unrealize(PCIDevice *pci)
{
    OcssdCtrl *n = OCSSD(pci);

    if (n->vmstate_handler) {
        qemu_del_vm_change_state_handler(n->vmstate_handler);
        n->vmstate_handler = NULL;
    }
    ocssd_migration_cleanup(n);
    if (n->sq) {
        ocssd_ctrl_reset_sync(n);
    }
    if (n->store.blk) {
        blk_drain(n->store.blk);
    }
    ocssd_store_close(n);
    if (n->num_msix && msix_present(pci)) {
        msix_uninit(pci, &n->bar0, &n->bar0);
    }
    /* The register region holds a reference to us until it leaves BAR0. */
    if (n->iomem.container) {
        memory_region_del_subregion(&n->bar0, &n->iomem);
    }
    ocssd_fault_cleanup(n);
    ocssd_latency_cleanup(n);
    ocssd_media_cleanup(&n->media);
    g_free(n->sq);
    g_free(n->cq);
    g_free(n->features.iv_config);
    n->sq = NULL;
    n->cq = NULL;
    n->features.iv_config = NULL;
}

/* System or PCI reset: a controller reset, and the admin queue registers. */
static void ocssd_reset_hold(Object *obj, ResetType type)
{
    OcssdCtrl *n = OCSSD(obj);

    if (!n->sq) {
        return;
    }
    ocssd_ctrl_reset_sync(n);
    stl_le_p(&n->bar.aqa, 0);
    stq_le_p(&n->bar.asq, 0);
    stq_le_p(&n->bar.acq, 0);
}
OCSSD_DEFINE_RESET_HOLD(ocssd_reset_hold)

static void ocssd_instance_init(Object *obj)
{
    /* QOM applied the property defaults through the setter just before. */
    OcssdCtrl *n = OCSSD(obj);

    n->params.media_set = 0;
    ocssd_fault_add_properties(obj);
    ocssd_latency_add_properties(obj);
    /* Bounce memory: in flight now, and the most there ever was. */
    object_property_add_uint64_ptr(obj, "bounce-inflight",
                                   &n->bounce_inflight, OBJ_PROP_FLAG_READ);
    object_property_set_description(obj, "bounce-inflight",
                                    "bytes of command buffers in flight "
                                    "(read-only)");
    object_property_add_uint64_ptr(obj, "bounce-peak", &n->bounce_peak,
                                   OBJ_PROP_FLAG_READ);
    object_property_set_description(obj, "bounce-peak",
                                    "the most bytes of command buffers ever "
                                    "in flight (read-only)");
}

static void ocssd_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(oc);
    ResettableClass *rc = RESETTABLE_CLASS(oc);
    int i;

    pc->realize = ocssd_realize;
    pc->exit = ocssd_unrealize;
    pc->vendor_id = 0x1d1d;
    pc->device_id = 0x1f1f;
    pc->class_id = PCI_CLASS_STORAGE_EXPRESS;
    pc->revision = 2;
    rc->phases.hold = OCSSD_RESET_HOLD(ocssd_reset_hold);
    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
    dc->desc = "Open-Channel SSD 2.0 (NVMe)";
    dc->vmsd = &ocssd_vmstate;
    device_class_set_props(dc, ocssd_props);
    for (i = 0; i < ARRAY_SIZE(ocssd_prop_descriptions); i++) {
        object_class_property_set_description(oc,
                                              ocssd_prop_descriptions[i].name,
                                              ocssd_prop_descriptions[i].desc);
    }
    for (i = 0; i < OCSSD_MEDIA_NPROPS; i++) {
        object_class_property_set_description(oc, ocssd_media_props[i].name,
                                              ocssd_media_props[i].desc);
    }
}

static const TypeInfo ocssd_info = {
    .name = TYPE_OCSSD,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(OcssdCtrl),
    .instance_init = ocssd_instance_init,
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
