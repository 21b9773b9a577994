/*
 * libqos driver for the ocssd device (NVMe Open-Channel SSD 2.0)
 *
 * A QOcssd drives the controller from a qtest: registers, admin and I/O
 * queues in guest memory, commands with PRP or SGL data pointers, polled
 * completions, MSI-X and INTx observation.  It comes from the qos graph
 * (node "ocssd"), or from qocssd_boot() for tests that need their own
 * command line (device properties, images, restarts).
 *
 * Status values returned by the helpers are the CQE status field shifted
 * right by one: SCT << 8 | SC, with DNR in bit 14 (QOCSSD_SC() strips it).
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#ifndef LIBQOS_OCSSD_H
#define LIBQOS_OCSSD_H

#include "pci.h"
#include "qgraph.h"
#include "libqos.h"
#include "block/nvme.h"
#include "hw/block/ocssd-spec.h"

#define QOCSSD_MAX_QUEUES   16
#define QOCSSD_QSIZE        64
#define QOCSSD_DEVFN        QPCI_DEVFN(4, 0)

#define QOCSSD_SC(status)   ((status) & 0x7ff)
#define QOCSSD_DNR(status)  (!!((status) & NVME_DNR))

typedef struct QOcssdQueue {
    uint64_t    addr;
    uint16_t    size;
    uint16_t    head;       /* CQ: next entry to consume */
    uint16_t    tail;       /* SQ: next free slot */
    uint8_t     phase;
    bool        live;
} QOcssdQueue;

typedef struct QOcssd {
    QOSGraphObject obj;
    QPCIDevice  dev;
    QGuestAllocator *alloc;
    QTestState  *qts;
    QOSState    *qs;            /* set by qocssd_boot() */
    QPCIBar     bar;
    uint64_t    bar_size;
    bool        mapped;
    uint32_t    page_size;
    QOcssdQueue sq[QOCSSD_MAX_QUEUES];
    QOcssdQueue cq[QOCSSD_MAX_QUEUES];
    uint16_t    next_cid;
    uint64_t    msix_buf;       /* MSI-X messages land here, 4 bytes each */
    uint16_t    msix_vectors;
    OcssdIdGeo  geo;            /* after qocssd_read_geometry() */
    uint32_t    sec_size;
    uint32_t    md_size;
    char        *image;         /* set by qocssd_boot_tmp(), removed at end */
} QOcssd;

/* Boot a machine ("pc" or "q35") with an ocssd at 04.0 on image. */
QOcssd *qocssd_boot(const char *machine, const char *image,
                    const char *device_opts_fmt, ...) G_GNUC_PRINTF(3, 4);
/* qocssd_boot on a new temporary image, which qocssd_shutdown() removes. */
QOcssd *qocssd_boot_tmp(const char *machine, const char *device_opts_fmt,
                        ...) G_GNUC_PRINTF(2, 3);
/*
 * A migration's destination (qs, booted with -incoming): the same device
 * at the same address, the driver's queues and buffers carried over.  It
 * shares src's guest allocator: shut it down before src.
 */
QOcssd *qocssd_adopt(QOcssd *src, QOSState *qs);
/* A new empty temporary image file (the caller frees and removes it). */
char *qocssd_tmp_image(void);
/* Like qocssd_boot with a free-form extra command line (extra drives...). */
QOcssd *qocssd_boot_cmdline(const char *cmdline_fmt, ...) G_GNUC_PRINTF(1, 2);
void qocssd_shutdown(QOcssd *o);
void qocssd_init(QOcssd *o, QPCIBus *bus, QGuestAllocator *alloc,
                 int devfn);

/* Registers. */
void qocssd_map(QOcssd *o);
uint32_t qocssd_readl(QOcssd *o, uint64_t off);
uint64_t qocssd_readq(QOcssd *o, uint64_t off);
void qocssd_writel(QOcssd *o, uint64_t off, uint32_t val);
void qocssd_writeq(QOcssd *o, uint64_t off, uint64_t val);
void qocssd_ring_sq(QOcssd *o, uint16_t qid, uint32_t tail);
void qocssd_ring_cq(QOcssd *o, uint16_t qid, uint32_t head);

/* Bring-up: admin queues of QOCSSD_QSIZE, CC.MPS from page_size, CC.EN. */
void qocssd_start(QOcssd *o);
/* New admin queues and CC.EN = 1, without waiting for CSTS.RDY. */
void qocssd_enable(QOcssd *o);
void qocssd_disable(QOcssd *o);
/* Poll CSTS until (CSTS & mask) == want (bounded; fails the test). */
void qocssd_wait_csts(QOcssd *o, uint32_t mask, uint32_t want);
/* Start, read the geometry, create I/O queue pair 1 (vector 1). */
void qocssd_start_io(QOcssd *o);
uint16_t qocssd_create_cq(QOcssd *o, uint16_t qid, uint16_t size,
                          uint16_t vector, bool ien);
uint16_t qocssd_create_sq(QOcssd *o, uint16_t qid, uint16_t cqid,
                          uint16_t size);
uint16_t qocssd_create_ioq(QOcssd *o, uint16_t qid, uint16_t size,
                           uint16_t vector);
uint16_t qocssd_delete_ioq(QOcssd *o, uint16_t qid);

/* Commands. */
/* Put cmd in qid's SQ (a new cid), without ringing; returns the cid. */
uint16_t qocssd_enqueue(QOcssd *o, uint16_t qid, NvmeCmd *cmd);
uint16_t qocssd_submit(QOcssd *o, uint16_t qid, NvmeCmd *cmd);
bool qocssd_poll(QOcssd *o, uint16_t qid, NvmeCqe *cqe);
/* Whether the next CQE of qid is posted; neither consumes nor rings. */
bool qocssd_peek(QOcssd *o, uint16_t qid, NvmeCqe *cqe);
/* Wait for the next CQE of qid to be posted; qocssd_wait() consumes it. */
void qocssd_wait_posted(QOcssd *o, uint16_t qid, NvmeCqe *cqe);
void qocssd_wait(QOcssd *o, uint16_t qid, NvmeCqe *cqe);
uint16_t qocssd_exec(QOcssd *o, uint16_t qid, NvmeCmd *cmd, NvmeCqe *cqe);
static inline uint16_t qocssd_cqe_status(const NvmeCqe *cqe)
{
    return le16_to_cpu(cqe->status) >> 1;
}

/* Data buffers in guest memory. */
uint64_t qocssd_alloc(QOcssd *o, size_t size);
/* Aligned to the controller memory page size (o->page_size). */
uint64_t qocssd_alloc_page(QOcssd *o, size_t size);
void qocssd_memwrite(QOcssd *o, uint64_t addr, const void *buf, size_t len);
void qocssd_memread(QOcssd *o, uint64_t addr, void *buf, size_t len);
void qocssd_set_prp(QOcssd *o, NvmeCmd *cmd, uint64_t addr, size_t len);
void qocssd_set_sgl(NvmeCmd *cmd, uint64_t addr, uint32_t len);

/* Admin helpers: buf is host memory, moved through a guest buffer. */
uint16_t qocssd_admin_data(QOcssd *o, NvmeCmd *cmd, void *buf, size_t len,
                           bool to_device, NvmeCqe *cqe);
uint16_t qocssd_identify(QOcssd *o, uint8_t cns, uint32_t nsid, void *buf);
uint16_t qocssd_geometry(QOcssd *o, uint32_t nsid, OcssdIdGeo *geo);
void qocssd_read_geometry(QOcssd *o);
uint16_t qocssd_get_log(QOcssd *o, uint8_t lid, uint32_t nsid, uint64_t off,
                        uint32_t len, bool rae, void *buf);
uint16_t qocssd_get_features(QOcssd *o, uint8_t fid, uint8_t sel,
                             uint32_t cdw11, uint32_t *dw0);
uint16_t qocssd_set_features(QOcssd *o, uint8_t fid, uint32_t cdw11,
                             uint32_t *dw0);
uint16_t qocssd_chunk_info(QOcssd *o, uint64_t chunk,
                           OcssdChunkDescriptor *d);
/* Submit an Asynchronous Event Request; it completes at an event. */
uint16_t qocssd_aer_submit(QOcssd *o);
/* The next admin completion: a successful AER reporting type/info/log. */
void qocssd_aer_expect(QOcssd *o, uint8_t type, uint8_t info, uint8_t log);

/* Geometry-aware addressing (after qocssd_read_geometry()). */
uint64_t qocssd_lba(QOcssd *o, uint32_t grp, uint32_t pu, uint32_t chk,
                    uint32_t sec);
uint64_t qocssd_chunk_slba(QOcssd *o, uint64_t chunk);

/* I/O helpers on queue qid; data/meta are host buffers (meta may be NULL). */
uint16_t qocssd_write(QOcssd *o, uint16_t qid, uint64_t slba, uint32_t nlb,
                      const void *data, const void *meta, uint16_t control);
uint16_t qocssd_read(QOcssd *o, uint16_t qid, uint64_t slba, uint32_t nlb,
                     void *data, void *meta, uint16_t control);
uint16_t qocssd_flush(QOcssd *o, uint16_t qid);
uint16_t qocssd_dsm(QOcssd *o, uint16_t qid, const uint64_t *slba,
                    const uint32_t *nlb, unsigned nr);
uint16_t qocssd_vector(QOcssd *o, uint16_t qid, uint8_t opcode,
                       const uint64_t *lbas, unsigned n, void *data,
                       void *meta, uint32_t cdw12_flags, uint64_t *bitmap);
uint16_t qocssd_vreset(QOcssd *o, uint16_t qid, const uint64_t *lbas,
                       unsigned n, OcssdChunkDescriptor *out,
                       uint64_t *bitmap);
uint16_t qocssd_vcopy(QOcssd *o, uint16_t qid, const uint64_t *src,
                      const uint64_t *dst, unsigned n, uint64_t *bitmap);

/*
 * QOM of the device with id=oc (QOCSSD_QOM), the id tests give it: set
 * and get properties, the timing model's statistics and virtual clock.
 */
#define QOCSSD_QOM          "/machine/peripheral/oc"
void qocssd_qom_set_bool(QOcssd *o, const char *prop, bool val);
void qocssd_qom_set_int(QOcssd *o, const char *prop, int64_t val);
int64_t qocssd_qom_get_int(QOcssd *o, const char *prop);
QDict *qocssd_pu_stats(QOcssd *o);
/* The virtual clock, as the device reads it (qtest has no clock_get). */
int64_t qocssd_clock_ns(QOcssd *o);
/* Wait, without moving the clock, until n completions are held. */
void qocssd_wait_held(QOcssd *o, int64_t n);

/* Interrupts. */
void qocssd_msix_enable(QOcssd *o);
bool qocssd_msix_fired(QOcssd *o, uint16_t vector);
void qocssd_intx_route(QOcssd *o, int irq);

#endif
