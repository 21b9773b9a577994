/*
 * ocssd: an NVMe Open-Channel SSD 2.0 device - the device model
 *
 * One header for the model shared by the device's files:
 *   ocssd.c         QOM type, properties, realize/unrealize, reset
 *   ocssd-ctrl.c    registers, queues, doorbells, completions, interrupts
 *   ocssd-dma.c     PRP/SGL mapping and data transfer (one path for all)
 *   ocssd-admin.c   admin commands, features, log pages, async events
 *   ocssd-io.c      NVM and Open-Channel vector I/O commands
 *   ocssd-chunk-events.c  chunks going offline, wear notices, the
 *                   Chunk Notification log and its event
 *   ocssd-store.c   the image on the BlockBackend: format, load, persist
 *   ocssd-fault.c   fault injection (files, probabilities, runtime)
 *   ocssd-latency.c the timing model in the device: completions held
 *                   back on a timer, run-time tuning, per-PU statistics
 *   ocssd-migration.c  live migration and snapshots: the state in the
 *                   stream, settling at VM stop, the image read again
 *   ocssd-timing.c  the timing model (pure arithmetic, unit tested)
 *   ocssd-media.c   the chunk rules (pure, unit tested)
 *   ocssd-image.c   the image format (pure, shared with ocssd-img)
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#ifndef HW_BLOCK_OCSSD_H
#define HW_BLOCK_OCSSD_H

#include "qemu/queue.h"
#include "qemu/timer.h"
#include "qemu/uuid.h"
#include "hw/block/block.h"
#include "ocssd-compat.h"
#include "hw/block/ocssd-spec.h"
#include "hw/block/ocssd-media.h"
#include "hw/block/ocssd-image.h"
#include "hw/block/ocssd-timing.h"

#define TYPE_OCSSD "ocssd"
OBJECT_DECLARE_SIMPLE_TYPE(OcssdCtrl, OCSSD)

#define OCSSD_NSID              1
#define OCSSD_MAX_QUEUES        1024    /* queue pairs, admin included */
#define OCSSD_MAX_MSIX          1024
#define OCSSD_ERROR_LOG_ENTRIES 64
#define OCSSD_AER_MAX_QUEUED    64
#define OCSSD_SQE_SIZE          64
#define OCSSD_CQE_SIZE          16
#define OCSSD_DEFAULT_TEMP      323     /* kelvin */
#define OCSSD_MAX_SGL_SEGMENTS  256

/*
 * Host memory for command buffers in flight (data, metadata and the
 * per-sector entries): commands wait for memory beyond bounce_limit.
 */
#define OCSSD_DEFAULT_BOUNCE_LIMIT  (64 * 1024 * 1024)
#define OCSSD_MIN_BOUNCE_LIMIT      (1024 * 1024)

/* Per-request media entry limit for the standard commands (MDTS). */
#define OCSSD_MAX_XFER_SECTORS  (1u << 20)


/* What the user set with -device properties; realize derives the rest. */
typedef struct OcssdParams {
    char        *serial;
    char        *model;
    char        *firmware;
    uint8_t     mdts;
    uint32_t    num_queues;
    uint32_t    msix_vectors;
    uint16_t    mqes;
    uint8_t     aerl;
    OcssdMediaParams media;     /* unset fields: see media_set */
    uint32_t    media_set;      /* bit per OcssdMediaProp the user set */
    OnOffAuto   vector_copy;
    OnOffAuto   multiple_resets;
    OnOffAuto   early_reset;
    bool        mw_cunits_strict;
    char        *chunkinfo;
    char        *resetfail;
    char        *writefail;
    char        *readfail;
    char        *highecc;
    uint64_t    seed;
    uint64_t    bounce_limit;   /* bytes of command buffers in flight */
    bool        timing;         /* hold completions for the model's time */
    bool        timing_spread;  /* draw times in [typical, max] */
    uint32_t    channel_mbps;   /* per group; 0 = transfers take no time */
    bool        shadow_doorbells; /* offer Doorbell Buffer Config */
    bool        write_cache;    /* VWC's value at reset (write-cache) */
} OcssdParams;

typedef struct OcssdCtrl OcssdCtrl;
typedef struct OcssdWriteSpan OcssdWriteSpan;
typedef struct OcssdWriteTicket OcssdWriteTicket;
typedef struct OcssdBarrier OcssdBarrier;
typedef struct OcssdAio OcssdAio;
typedef struct OcssdSQ OcssdSQ;
typedef struct OcssdCQ OcssdCQ;
typedef struct OcssdRequest OcssdRequest;

typedef void OcssdRequestCont(OcssdRequest *req);

/*
 * A command from fetch to completion.  Handlers return an NVMe status or
 * NVME_NO_COMPLETE, in which case whatever they started calls
 * ocssd_request_complete() later.
 */
struct OcssdRequest {
    OcssdSQ     *sq;
    NvmeCmd     cmd;
    NvmeCqe     cqe;
    uint16_t    status;
    uint16_t    err_param;          /* error log: parameter location */
    uint64_t    err_lba;            /* error log: LBA, if any */
    QEMUSGList  qsg;                /* data (DPTR) */
    QEMUSGList  meta_qsg;           /* metadata (MPTR) */
    BlockAcctCookie acct;

    /* media I/O */
    OcssdIoEntry *entry;
    unsigned    nentry;
    OcssdIoEntry *dst;              /* vector copy destinations */
    uint8_t     *buf;               /* bounce buffer: data */
    uint8_t     *mbuf;              /* bounce buffer: metadata */
    size_t      len, mlen;
    bool        is_vector;
    bool        fua;
    unsigned    aio_pending;
    int         aio_ret;
    OcssdRequestCont *aio_done;     /* when aio_pending drops to 0 */
    OcssdWriteTicket *ticket;
    void        *opaque;            /* per-command state */
    uint64_t    bounce;             /* bytes charged at fetch */

    /* timing model (ocssd-latency.c) */
    int64_t     due_ns;             /* its last operation ends */
    uint64_t    due_seq;            /* held: order among equal due_ns */
    unsigned    held_idx;           /* held: its place in the heap */

    QTAILQ_ENTRY(OcssdRequest) entry_list;
};

struct OcssdSQ {
    OcssdCtrl   *ctrl;
    uint16_t    sqid;
    uint16_t    cqid;
    uint32_t    size;
    uint32_t    head;
    uint32_t    tail;
    hwaddr      dma_addr;
    QEMUBH      *bh;
    bool        processing;         /* in its bottom half */
    bool        orphan;             /* deleted, commands still in flight */
    bool        mem_waiting;        /* in mem_waiters */
    OcssdRequest *delete_req;       /* Delete I/O SQ waiting for orphan */
    OcssdRequest *reqs;
    QTAILQ_HEAD(, OcssdRequest) free_list;
    QTAILQ_HEAD(, OcssdRequest) out_list;
    QTAILQ_ENTRY(OcssdSQ) cq_entry;
    QTAILQ_ENTRY(OcssdSQ) mem_entry;
};

struct OcssdCQ {
    OcssdCtrl   *ctrl;
    uint16_t    cqid;
    uint16_t    vector;
    bool        irq_enabled;
    uint8_t     phase;
    uint32_t    size;
    uint32_t    head;
    uint32_t    tail;
    hwaddr      dma_addr;
    QEMUBH      *bh;
    QEMUTimer   *coalesce_timer;
    uint32_t    pending_irqs;       /* completions not yet signalled */
    QTAILQ_HEAD(, OcssdSQ) sq_list;
    QTAILQ_HEAD(, OcssdRequest) req_list;   /* completed, to post */
};

typedef struct OcssdFeatures {
    uint32_t    arbitration;
    uint32_t    power_mgmt;
    uint16_t    temp_over;
    uint16_t    temp_under;
    uint32_t    err_rec;
    bool        vwc;
    uint32_t    int_coalescing;
    uint32_t    write_atomicity;
    uint32_t    async_config;
    uint32_t    media_feedback;
    uint64_t    timestamp;          /* host value at timestamp_set_ms */
    int64_t     timestamp_set_ms;
    bool        timestamp_set;
    uint32_t    *iv_config;         /* per interrupt vector */
} OcssdFeatures;

typedef struct OcssdAsyncEvent {
    NvmeAerResult result;
    QTAILQ_ENTRY(OcssdAsyncEvent) entry;
} OcssdAsyncEvent;

typedef struct OcssdSmart {
    uint64_t    units_read;         /* 512-byte units */
    uint64_t    units_written;
    uint64_t    read_cmds;
    uint64_t    write_cmds;
    uint64_t    media_errors;
    uint64_t    busy_ns;
} OcssdSmart;

/* The image store: the device's view of its backing image. */
typedef struct OcssdStoreChunk {
    uint64_t    wp_done;            /* all sectors below are written */
    QTAILQ_HEAD(, OcssdWriteSpan) inflight;
} OcssdStoreChunk;

typedef struct OcssdStore {
    BlockBackend *blk;
    bool        read_only;
    OcssdImageLayout layout;
    OcssdImageHeader header;
    OcssdStoreChunk *chunk;
    unsigned long *dirty;           /* table blocks to write */
    uint64_t    table_blocks;
    uint64_t    write_seq;
    QTAILQ_HEAD(, OcssdWriteTicket) tickets;    /* in acceptance order */
    QTAILQ_HEAD(, OcssdBarrier) barriers;       /* waiting for tickets */
    QTAILQ_HEAD(, OcssdBarrier) table_waiters;  /* waiting for a pass */
    QTAILQ_HEAD(, OcssdBarrier) table_pass;     /* served by this pass */
    QTAILQ_HEAD(, OcssdAio) writes;             /* data writes in flight */
    QTAILQ_HEAD(, OcssdAio) write_queue;        /* waiting for an overlap */
    uint64_t    stale_spans;        /* writes to reset chunks still going */
    uint64_t    data_done;          /* data writes completed */
    uint64_t    data_flushed;       /* ... of them covered by a flush */
    bool        table_busy;         /* a table write pass is running */
    unsigned    table_writes;       /* its block writes in flight */
    int         table_ret;
    bool        header_busy;        /* a DIRTY update is in flight */
    bool        header_stale;       /* the last header update failed */
    bool        stale;              /* read again before the VM runs on */
    GSList      *header_waiters;    /* OcssdHeaderWaiter: for the next */
} OcssdStore;

/* Fault injection. */
typedef struct OcssdFaultRule OcssdFaultRule;

typedef struct OcssdFault {
    uint64_t    rng;
    GArray      *resetfail;         /* OcssdFaultRule */
    GArray      *writefail;
    GArray      *readfail;
    GArray      *highecc;
    GHashTable  *once;              /* runtime one-shot injections */
} OcssdFault;

/* The timing model and the completions it holds back. */
typedef struct OcssdLatency {
    OcssdTiming model;
    QEMUTimer   *timer;             /* QEMU_CLOCK_VIRTUAL: the next due */
    OcssdRequest **held;            /* binary heap on (due_ns, due_seq) */
    unsigned    nheld, held_cap;
    uint64_t    seq;
} OcssdLatency;

/*
 * Migration (ocssd-migration.c): the parts of the state that are not
 * plain fields, flattened by pre_save for the stream and unpacked by
 * post_load.
 */
typedef struct OcssdMigSQ {
    uint16_t    sqid, cqid;
    uint32_t    size, head, tail;
    uint64_t    dma_addr;
} OcssdMigSQ;

typedef struct OcssdMigCQ {
    uint16_t    cqid, vector;
    bool        irq_enabled;
    uint8_t     phase;
    uint32_t    size, head, tail, pending_irqs;
    uint64_t    dma_addr;
    int64_t     coalesce_due;       /* -1: the timer is not running */
} OcssdMigCQ;

/* A request with a command identifier and no work left. */
enum {
    OCSSD_MIG_REQ_HELD,             /* by the timing model, until due_ns */
    OCSSD_MIG_REQ_POSTING,          /* waiting for room in its CQ */
    OCSSD_MIG_REQ_AER,              /* an outstanding AER */
};

typedef struct OcssdMigReq {
    uint16_t    sqid;
    uint8_t     kind;
    uint8_t     cmd[64];
    uint16_t    status, err_param;
    uint64_t    err_lba;
    uint32_t    result, dw1;
    int64_t     due_ns;
    uint64_t    due_seq;
} OcssdMigReq;

typedef struct OcssdMigWindow {
    uint64_t    chunk;
    uint64_t    floor;              /* OcssdChunk.mw_floor */
} OcssdMigWindow;

typedef struct OcssdMigPu {
    int64_t     busy_until;
    uint32_t    nends;              /* its operations in OcssdMigration.ends */
    OcssdPuStats stats;
} OcssdMigPu;

typedef struct OcssdMigBus {
    int64_t     busy_until;
    OcssdBusStats stats;
} OcssdMigBus;

/*
 * Doorbell Buffer Config in force: the host's shadow doorbell page and the
 * EventIdx page the controller writes (ocssd-ctrl.c).
 */
typedef struct OcssdShadowDoorbells {
    bool        enabled;
    uint64_t    dbs;
    uint64_t    eis;
} OcssdShadowDoorbells;

typedef struct OcssdMigration {
    char        *idstr;             /* the configuration section's name */
    uint32_t    cc, csts, aqa, intms, intmc;
    uint64_t    asq, acq;
    uint64_t    uptime_ms;
    uint8_t     aer_events[OCSSD_AER_MAX_QUEUED * sizeof(NvmeAerResult)];
    uint64_t    timing_rng;
    int64_t     timing_since;
    uint64_t    latency_seq;
    uint64_t    saved_state;        /* the image's name for this state */
    /* VMState counts struct arrays in int32_t, plain ones in uint32_t. */
    int32_t     num_sq, num_cq, num_req, num_win, num_grp, num_pu;
    uint32_t    num_once, num_ends;
    OcssdMigSQ  *sq;
    OcssdMigCQ  *cq;
    OcssdMigReq *req;
    OcssdMigWindow *win;            /* kept until the image is read again */
    uint64_t    *once;
    OcssdMigPu  *pu;
    OcssdMigBus *bus;
    int64_t     *ends;
} OcssdMigration;

struct OcssdCtrl {
    PCIDevice   parent_obj;
    MemoryRegion bar0;
    MemoryRegion iomem;
    NvmeBar     bar;
    BlockConf   blkconf;
    OcssdParams params;

    /* derived at realize */
    uint64_t    reg_size;
    uint32_t    num_msix;           /* 0: no MSI-X capability */
    uint32_t    num_vectors;        /* interrupt vectors (>= 1) */
    uint32_t    page_size;
    uint8_t     page_bits;
    uint64_t    mdts_bytes;         /* 0 = no limit */
    QemuUUID    uuid;
    char        serial[21];
    NvmeIdCtrl  id_ctrl;
    NvmeIdNs    id_ns;

    /* run time */
    OcssdSQ     **sq;
    OcssdCQ     **cq;
    uint32_t    num_io_queues;      /* granted by Set Features (pairs) */
    bool        queues_created;     /* an I/O queue has been created */
    uint32_t    irq_status;         /* INTx: vectors with pending CQEs */
    uint32_t    shutdown_gen;       /* the CC.SHN in force; bumped when it
                                       changes and at reset */
    bool        start_pending;      /* CC.EN: until CSTS.RDY */
    bool        reset_pending;      /* CC.EN cleared: until the orphans go */
    bool        start_deferred;     /* CC.EN set while reset_pending */
    unsigned    orphans;            /* deleted SQs not freed yet */
    unsigned    reqs_working;       /* fetched, not yet completed */
    uint64_t    bounce_inflight;    /* bytes charged to requests in flight */
    uint64_t    bounce_peak;
    QTAILQ_HEAD(, OcssdSQ) mem_waiters; /* SQs waiting for bounce memory */
    OcssdShadowDoorbells dbbuf;
    OcssdFeatures features;
    uint16_t    temperature;

    OcssdRequest *aer_reqs[256];
    unsigned    outstanding_aers;
    QTAILQ_HEAD(, OcssdAsyncEvent) aer_queue;
    unsigned    aer_queued;
    uint8_t     aer_masked;         /* event types awaiting a log read */

    NvmeErrorLog error_log[OCSSD_ERROR_LOG_ENTRIES];
    uint64_t    error_count;
    OcssdSmart  smart;
    int64_t     start_ms;

    OcssdMedia  media;
    OcssdStore  store;
    OcssdFault  fault;
    OcssdLatency latency;
    OcssdMigration mig;
    VMChangeStateEntry *vmstate_handler;
};

static inline OcssdCtrl *ocssd_req_ctrl(OcssdRequest *req)
{
    return req->sq->ctrl;
}

/* Drop one reference of a request's block I/O; the last runs aio_done. */
static inline void ocssd_req_aio_put(OcssdRequest *req)
{
    if (--req->aio_pending == 0) {
        req->aio_done(req);
    }
}

static inline bool ocssd_req_is_admin(OcssdRequest *req)
{
    return req->sq->sqid == 0;
}

/* ocssd-ctrl.c */
extern const MemoryRegionOps ocssd_mmio_ops;
void ocssd_ctrl_init_registers(OcssdCtrl *n);
void ocssd_ctrl_reset(OcssdCtrl *n);
void ocssd_ctrl_reset_done(OcssdCtrl *n);
void ocssd_ctrl_reset_sync(OcssdCtrl *n);
void ocssd_ctrl_fatal(OcssdCtrl *n, const char *why);
void ocssd_ctrl_kick(OcssdCtrl *n);
void ocssd_shadow_doorbells_config(OcssdCtrl *n, uint64_t dbs, uint64_t eis);
void ocssd_ctrl_free_queues(OcssdCtrl *n);
void ocssd_request_complete(OcssdRequest *req);
void ocssd_request_complete_now(OcssdRequest *req);
uint16_t ocssd_create_sq(OcssdCtrl *n, uint16_t sqid, uint16_t cqid,
                         hwaddr addr, uint32_t size);
uint16_t ocssd_create_cq(OcssdCtrl *n, uint16_t cqid, uint16_t vector,
                         bool irq_enabled, hwaddr addr, uint32_t size);
bool ocssd_delete_sq(OcssdCtrl *n, uint16_t sqid, OcssdRequest *waiter);
void ocssd_delete_cq(OcssdCtrl *n, uint16_t cqid);
void ocssd_error_log_add(OcssdCtrl *n, OcssdRequest *req);

/* ocssd-dma.c */
uint16_t ocssd_check_mdts(OcssdCtrl *n, OcssdRequest *req, size_t len);
uint16_t ocssd_map_dptr(OcssdCtrl *n, OcssdRequest *req, size_t len);
uint16_t ocssd_map_mptr(OcssdCtrl *n, OcssdRequest *req, size_t len);
uint16_t ocssd_dma_to_guest(OcssdCtrl *n, QEMUSGList *qsg, const void *buf,
                            size_t len);
uint16_t ocssd_dma_from_guest(OcssdCtrl *n, QEMUSGList *qsg, void *buf,
                              size_t len);
uint16_t ocssd_reply(OcssdCtrl *n, OcssdRequest *req, const void *buf,
                     size_t len);
uint16_t ocssd_receive(OcssdCtrl *n, OcssdRequest *req, void *buf,
                       size_t len);
uint16_t ocssd_dma_read_guest(OcssdCtrl *n, hwaddr addr, void *buf,
                              size_t len);
uint16_t ocssd_dma_write_guest(OcssdCtrl *n, hwaddr addr, const void *buf,
                               size_t len);
void ocssd_request_unmap(OcssdRequest *req);

/* ocssd-admin.c */
uint16_t ocssd_admin_cmd(OcssdCtrl *n, OcssdRequest *req);
void ocssd_aer_enqueue(OcssdCtrl *n, uint8_t type, uint8_t info,
                       uint8_t log_page);
void ocssd_aer_drop_outstanding(OcssdCtrl *n);
void ocssd_identify_init(OcssdCtrl *n);
void ocssd_features_init(OcssdCtrl *n);

/* ocssd-chunk-events.c */
void ocssd_chunk_notify(OcssdCtrl *n, uint64_t lba, uint16_t state,
                        uint8_t mask, uint16_t nlb);
void ocssd_chunk_offline(OcssdCtrl *n, uint64_t chunk, const char *why);
void ocssd_chunk_wli_notify(OcssdCtrl *n);

/* ocssd-io.c */
uint16_t ocssd_io_cmd(OcssdCtrl *n, OcssdRequest *req);
uint64_t ocssd_io_bounce_size(OcssdCtrl *n, const NvmeCmd *cmd);
void ocssd_io_request_release(OcssdRequest *req);

/* ocssd-store.c */
bool ocssd_store_open(OcssdCtrl *n, Error **errp);
bool ocssd_store_inactive(OcssdStore *s);
bool ocssd_store_reload(OcssdCtrl *n, uint64_t saved, Error **errp);
uint64_t ocssd_store_mark_saved(OcssdCtrl *n);
bool ocssd_store_same_layout(const OcssdMediaParams *a,
                             const OcssdMediaParams *b, Error **errp);
void ocssd_store_close(OcssdCtrl *n);
void ocssd_store_sync_all(OcssdCtrl *n);
void ocssd_store_set_dirty_flag(OcssdCtrl *n, bool dirty);
typedef void OcssdStoreCb(void *opaque, int ret);
void ocssd_store_mark_dirty(OcssdCtrl *n, bool dirty, OcssdStoreCb *cb,
                            void *opaque);
void ocssd_store_chunk_changed(OcssdCtrl *n, uint64_t chunk);
OcssdWriteTicket *ocssd_store_write_begin(OcssdCtrl *n,
                                                 const OcssdIoEntry *e,
                                                 unsigned nentry);
void ocssd_store_write_end(OcssdCtrl *n, OcssdWriteTicket *t);
void ocssd_store_chunk_reset(OcssdCtrl *n, uint64_t chunk);
void ocssd_store_flush(OcssdCtrl *n, bool flush_media, OcssdStoreCb *cb,
                       void *opaque);
void ocssd_store_aio_rw(OcssdCtrl *n, OcssdRequest *req, bool is_write,
                        bool meta, uint64_t sector, uint64_t count,
                        uint8_t *buf, BdrvRequestFlags flags);

/* ocssd-latency.c */
int64_t ocssd_latency_now(void);
void ocssd_latency_init(OcssdCtrl *n);
void ocssd_latency_cleanup(OcssdCtrl *n);
void ocssd_latency_changed(OcssdCtrl *n);
void ocssd_latency_add_properties(Object *obj);
bool ocssd_latency_hold(OcssdRequest *req);
void ocssd_latency_release_all(OcssdCtrl *n);
void ocssd_latency_release_orphans(OcssdCtrl *n);
void ocssd_latency_restore(OcssdRequest *req, uint64_t due_seq);
void ocssd_latency_arm_timer(OcssdCtrl *n);
void ocssd_latency_begin(OcssdCtrl *n);
void ocssd_latency_read(OcssdCtrl *n, const OcssdIoEntry *e);
void ocssd_latency_program(OcssdCtrl *n, const OcssdIoEntry *e);
void ocssd_latency_reset(OcssdCtrl *n, uint64_t chunk);
void ocssd_latency_barrier(OcssdCtrl *n);
void ocssd_latency_end(OcssdCtrl *n, OcssdRequest *req);

/* ocssd-fault.c */
bool ocssd_fault_load_files(OcssdCtrl *n, Error **errp);
void ocssd_fault_init(OcssdCtrl *n);
void ocssd_fault_cleanup(OcssdCtrl *n);
bool ocssd_fault_apply_chunkinfo(OcssdCtrl *n, Error **errp);
bool ocssd_fault_reset_fails(OcssdCtrl *n, uint64_t chunk);
uint16_t ocssd_fault_write(OcssdCtrl *n, const OcssdIoEntry *e);
uint16_t ocssd_fault_read(OcssdCtrl *n, const OcssdIoEntry *e);
void ocssd_fault_add_properties(Object *obj);
uint32_t ocssd_fault_get_once(OcssdCtrl *n, uint64_t **keys);
bool ocssd_fault_set_once(OcssdCtrl *n, const uint64_t *keys, uint32_t count);

/* ocssd-migration.c */
extern const VMStateDescription ocssd_vmstate;
void ocssd_migration_init(OcssdCtrl *n);
void ocssd_migration_cleanup(OcssdCtrl *n);
void ocssd_migration_quiesce(OcssdCtrl *n);
void ocssd_migration_stopped(OcssdCtrl *n);
void ocssd_migration_resume(OcssdCtrl *n);

#endif /* HW_BLOCK_OCSSD_H */
