/*
 * ocssd: live migration and snapshots (savevm/loadvm)
 *
 * What the device holds outside its image travels in the migration
 * stream; the image itself stays where it is (shared storage for a live
 * migration, the qcow2 file's own snapshot for savevm).  docs/migration.rst
 * gives the rules; in short:
 *
 * - When the VM stops (ocssd_migration_quiesce, from the device's VM
 *   state handler, before RAM's last pass) the device fetches no new
 *   command and waits until every command it accepted has done its work:
 *   data transferred, completion posted or waiting.  Then the store makes
 *   the image complete and clean.  Guest memory written by then is in the
 *   RAM that follows.
 * - What is left is state: registers, queues, features, logs, the
 *   asynchronous events, and three kinds of requests that have a command
 *   identifier but no work left: completions the timing model holds for
 *   their time, completions waiting for room in their CQ, and outstanding
 *   Asynchronous Event Requests.  They are carried across and complete on
 *   the destination, once.  Commands the guest queued but the device had
 *   not fetched stay in guest memory and are fetched there.
 * - A first section, sent when the migration starts, carries the
 *   geometry, the image's UUID and the controller's configuration: a
 *   destination that differs refuses it before the source stops.
 * - The destination opened the image while the source still ran (QEMU
 *   keeps it inactive: nothing is written); it reads the image again when
 *   its VM first runs (ocssd_store_reload), as after a loadvm, which puts
 *   an older image in place.
 *
 * Stream versions: docs/migration.rst, "Versions".
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "block/aio-wait.h"
#include "hw/pci/msix.h"
#include "migration/vmstate.h"
#include "migration/register.h"
#include "migration/qemu-file-types.h"
#include "ocssd.h"
#include "trace.h"

#define OCSSD_MIG_CONFIG_MAGIC      0x4f43534dU     /* "OCSM" */
#define OCSSD_MIG_CONFIG_VERSION    1
#define OCSSD_MIG_VERSION           1

/* Limits on counts read from a stream, checked before anything is sized. */
#define OCSSD_MIG_MAX_ONCE          (1u << 20)
#define OCSSD_MIG_MAX_ENDS          (1u << 24)

/* ---- stopping: the device settles before its state is saved ------------ */

/*
 * Nothing left to do but what the stream carries: every fetched command
 * has completed (or is an outstanding AER), no enable or shutdown is
 * writing the header.  Completions the timing model holds for a deleted
 * queue would only be dropped: they go now, so that a Delete I/O SQ or a
 * controller reset waiting for them finishes.
 */
static bool ocssd_migration_settled(OcssdCtrl *n)
{
    uint32_t shst = ldl_le_p(&n->bar.csts) &
                    (CSTS_SHST_MASK << CSTS_SHST_SHIFT);

    ocssd_latency_release_orphans(n);
    return n->reqs_working == n->outstanding_aers && !n->start_pending &&
           !n->reset_pending && shst != NVME_CSTS_SHST_PROGRESS &&
           !n->store.header_busy;
}

/* The VM stopped: wait for the device to settle (ocssd_vm_state_change). */
void ocssd_migration_quiesce(OcssdCtrl *n)
{
    trace_ocssd_migration_quiesce(n->reqs_working, n->outstanding_aers,
                                  n->latency.nheld);
    AIO_WAIT_WHILE(qemu_get_aio_context(), !ocssd_migration_settled(n));
}

/*
 * The VM stopped and the image is clean: name this state in the image now
 * (ocssd_store_mark_saved), while the image is still ours.  A migration
 * saves the device state after QEMU 10 has made the image inactive; the
 * name goes into the stream then (pre_save).  The VM running again
 * clears it from the image.
 */
void ocssd_migration_stopped(OcssdCtrl *n)
{
    n->mig.saved_state = ocssd_store_mark_saved(n);
}

/* ---- the configuration section: refused before the source stops -------- */

static void ocssd_mig_put_params(QEMUFile *f, const OcssdMediaParams *p)
{
    const uint32_t v[] = {
        p->num_grp, p->num_pu, p->num_chk, p->clba, p->sec_size, p->md_size,
        p->ws_min, p->ws_opt, p->mw_cunits, p->maxoc, p->maxocpu, p->wit,
        p->trdt, p->trdm, p->twrt, p->twrm, p->tcrst, p->tcrsm,
    };
    int i;

    for (i = 0; i < ARRAY_SIZE(v); i++) {
        qemu_put_be32(f, v[i]);
    }
    qemu_put_byte(f, p->vector_copy);
    qemu_put_byte(f, p->multiple_resets);
    qemu_put_byte(f, p->early_reset);
}

static void ocssd_mig_get_params(QEMUFile *f, OcssdMediaParams *p)
{
    uint32_t *v[] = {
        &p->num_grp, &p->num_pu, &p->num_chk, &p->clba, &p->sec_size,
        &p->md_size, &p->ws_min, &p->ws_opt, &p->mw_cunits, &p->maxoc,
        &p->maxocpu, &p->wit, &p->trdt, &p->trdm, &p->twrt, &p->twrm,
        &p->tcrst, &p->tcrsm,
    };
    int i;

    for (i = 0; i < ARRAY_SIZE(v); i++) {
        *v[i] = qemu_get_be32(f);
    }
    p->vector_copy = qemu_get_byte(f);
    p->multiple_resets = qemu_get_byte(f);
    p->early_reset = qemu_get_byte(f);
}

/* The controller properties that shape the saved state. */
static void ocssd_mig_config(OcssdCtrl *n, uint32_t *cfg)
{
    cfg[0] = n->params.num_queues;
    cfg[1] = n->params.msix_vectors;
    cfg[2] = n->params.mqes;
    cfg[3] = n->params.aerl;
    cfg[4] = n->params.mdts;
}

static const char *const ocssd_mig_config_names[] = {
    "num_queues", "msix_vectors", "mqes", "aerl", "mdts",
};

static int ocssd_mig_config_save(OCSSD_SAVE_SETUP_ARGS)
{
    OcssdCtrl *n = opaque;
    uint32_t cfg[ARRAY_SIZE(ocssd_mig_config_names)];
    int i;

    qemu_put_be32(f, OCSSD_MIG_CONFIG_MAGIC);
    qemu_put_be32(f, OCSSD_MIG_CONFIG_VERSION);
    ocssd_mig_put_params(f, &n->media.p);
    qemu_put_buffer(f, n->uuid.data, sizeof(n->uuid.data));
    ocssd_mig_config(n, cfg);
    qemu_put_be32(f, ARRAY_SIZE(cfg));
    for (i = 0; i < ARRAY_SIZE(cfg); i++) {
        qemu_put_be32(f, cfg[i]);
    }
    trace_ocssd_migration_config_sent();
    return 0;
}

static bool ocssd_mig_config_check(OcssdCtrl *n, QEMUFile *f, int version_id,
                                   Error **errp)
{
    uint32_t cfg[ARRAY_SIZE(ocssd_mig_config_names)], want, count;
    OcssdMediaParams p;
    QemuUUID uuid;
    int i;

    if (version_id > OCSSD_MIG_CONFIG_VERSION ||
        qemu_get_be32(f) != OCSSD_MIG_CONFIG_MAGIC) {
        error_setg(errp, "the stream's ocssd section (version %d) is not one "
                   "this QEMU knows (up to version %d)", version_id,
                   OCSSD_MIG_CONFIG_VERSION);
        return false;
    }
    qemu_get_be32(f);
    ocssd_mig_get_params(f, &p);
    qemu_get_buffer(f, uuid.data, sizeof(uuid.data));
    count = qemu_get_be32(f);
    if (qemu_file_get_error(f) || count != ARRAY_SIZE(cfg)) {
        error_setg(errp, "the stream's ocssd configuration is unreadable");
        return false;
    }
    if (!ocssd_store_same_layout(&p, &n->media.p, errp)) {
        error_prepend(errp, "the geometry differs: ");
        return false;
    }
    if (!qemu_uuid_is_equal(&uuid, &n->uuid)) {
        char *src = qemu_uuid_unparse_strdup(&uuid);
        char *dst = qemu_uuid_unparse_strdup(&n->uuid);

        error_setg(errp, "the image differs: the source's has UUID %s, this "
                   "one %s (both sides must open the same image)", src, dst);
        g_free(src);
        g_free(dst);
        return false;
    }
    ocssd_mig_config(n, cfg);
    for (i = 0; i < ARRAY_SIZE(cfg); i++) {
        want = qemu_get_be32(f);
        if (want != cfg[i]) {
            error_setg(errp, "%s=%" PRIu32 " on the source, %s=%" PRIu32
                       " here", ocssd_mig_config_names[i], want,
                       ocssd_mig_config_names[i], cfg[i]);
            return false;
        }
    }
    return !qemu_file_get_error(f);
}

static int ocssd_mig_config_load(QEMUFile *f, void *opaque, int version_id)
{
    OcssdCtrl *n = opaque;
    Error *err = NULL;

    if (!ocssd_mig_config_check(n, f, version_id, &err)) {
        error_prepend(&err, "ocssd %s: refusing the incoming state: ",
                      n->mig.idstr);
        trace_ocssd_migration_refused(error_get_pretty(err));
        error_report_err(err);
        return -EINVAL;
    }
    trace_ocssd_migration_config_ok();
    return 0;
}

static SaveVMHandlers ocssd_mig_config_handlers = {
    .save_setup = ocssd_mig_config_save,
    .load_state = ocssd_mig_config_load,
};

/* ---- the device state ------------------------------------------------- */

static void ocssd_mig_free(OcssdMigration *m)
{
    g_clear_pointer(&m->sq, g_free);
    g_clear_pointer(&m->cq, g_free);
    g_clear_pointer(&m->req, g_free);
    g_clear_pointer(&m->win, g_free);
    g_clear_pointer(&m->once, g_free);
    g_clear_pointer(&m->pu, g_free);
    g_clear_pointer(&m->bus, g_free);
    g_clear_pointer(&m->ends, g_free);
    m->num_sq = m->num_cq = m->num_req = m->num_win = m->num_once = 0;
    m->num_ends = 0;
}

static void ocssd_mig_save_req(OcssdMigReq *r, OcssdRequest *req,
                               uint8_t kind)
{
    r->sqid = req->sq->sqid;
    r->kind = kind;
    memcpy(r->cmd, &req->cmd, sizeof(r->cmd));
    r->status = req->status;
    r->err_param = req->err_param;
    r->err_lba = req->err_lba;
    r->result = le32_to_cpu(req->cqe.result);
    r->dw1 = le32_to_cpu(req->cqe.dw1);
    r->due_ns = req->due_ns;
    r->due_seq = req->due_seq;
}

/* The MW_CUNITS windows of the open chunks: the image does not hold them. */
static void ocssd_mig_save_windows(OcssdCtrl *n, OcssdMigration *m)
{
    OcssdMedia *md = &n->media;
    uint32_t open = 0;
    uint64_t i;

    m->win = g_new(OcssdMigWindow, md->open_total);
    for (i = 0; i < md->nchunks && open < md->open_total; i++) {
        OcssdChunk *c = &md->chunk[i];

        if (c->state != OCSSD_CHUNK_OPEN) {
            continue;
        }
        open++;
        if (c->mw_floor < c->wp) {
            m->win[m->num_win].chunk = i;
            m->win[m->num_win].floor = c->mw_floor;
            m->num_win++;
        }
    }
}

static void ocssd_mig_save_timing(OcssdCtrl *n, OcssdMigration *m)
{
    OcssdTiming *t = &n->latency.model;
    uint32_t i, total = 0;

    m->num_grp = t->num_grp;
    m->num_pu = t->num_grp * t->num_pu;
    m->pu = g_new0(OcssdMigPu, m->num_pu);
    m->bus = g_new0(OcssdMigBus, m->num_grp);
    for (i = 0; i < m->num_pu; i++) {
        total += t->pu[i].ends_count;
    }
    m->ends = g_new(int64_t, total);
    for (i = 0; i < m->num_pu; i++) {
        m->pu[i].busy_until = t->pu[i].busy_until;
        m->pu[i].stats = t->pu[i].stats;
        m->pu[i].nends = ocssd_timing_get_ends(t, i, m->ends + m->num_ends);
        m->num_ends += m->pu[i].nends;
    }
    for (i = 0; i < m->num_grp; i++) {
        m->bus[i].busy_until = t->bus_busy_until[i];
        m->bus[i].stats = t->bus[i];
    }
    m->timing_rng = t->rng;
    m->timing_since = t->since;
}

static int ocssd_mig_pre_save(void *opaque)
{
    OcssdCtrl *n = opaque;
    OcssdMigration *m = &n->mig;
    OcssdLatency *l = &n->latency;
    uint32_t i, nreq = l->nheld + n->outstanding_aers;
    OcssdAsyncEvent *ev;

    if (n->reqs_working != n->outstanding_aers || n->orphans) {
        /* ocssd_migration_quiesce() did not run: the VM did not stop. */
        error_report("ocssd %s: cannot save the device state: %u commands "
                     "are still in flight", m->idstr,
                     n->reqs_working - n->outstanding_aers);
        return -EBUSY;
    }
    ocssd_mig_free(m);
    m->cc = ldl_le_p(&n->bar.cc);
    m->csts = ldl_le_p(&n->bar.csts);
    m->aqa = ldl_le_p(&n->bar.aqa);
    m->intms = ldl_le_p(&n->bar.intms);
    m->intmc = ldl_le_p(&n->bar.intmc);
    m->asq = ldq_le_p(&n->bar.asq);
    m->acq = ldq_le_p(&n->bar.acq);
    m->uptime_ms = qemu_clock_get_ms(QEMU_CLOCK_REALTIME) - n->start_ms;

    m->sq = g_new0(OcssdMigSQ, n->params.num_queues);
    m->cq = g_new0(OcssdMigCQ, n->params.num_queues);
    for (i = 0; i < n->params.num_queues; i++) {
        OcssdCQ *cq = n->cq[i];
        OcssdSQ *sq = n->sq[i];

        if (cq) {
            OcssdMigCQ *c = &m->cq[m->num_cq++];
            OcssdRequest *req;

            *c = (OcssdMigCQ) {
                .cqid = cq->cqid, .vector = cq->vector,
                .irq_enabled = cq->irq_enabled, .phase = cq->phase,
                .size = cq->size, .head = cq->head, .tail = cq->tail,
                .pending_irqs = cq->pending_irqs, .dma_addr = cq->dma_addr,
                .coalesce_due = timer_pending(cq->coalesce_timer) ?
                    timer_expire_time_ns(cq->coalesce_timer) : -1,
            };
            QTAILQ_FOREACH(req, &cq->req_list, entry_list) {
                nreq++;
            }
        }
        if (sq) {
            m->sq[m->num_sq++] = (OcssdMigSQ) {
                .sqid = sq->sqid, .cqid = sq->cqid, .size = sq->size,
                .head = sq->head, .tail = sq->tail, .dma_addr = sq->dma_addr,
            };
        }
    }

    m->req = g_new0(OcssdMigReq, nreq);
    for (i = 0; i < l->nheld; i++) {
        ocssd_mig_save_req(&m->req[m->num_req++], l->held[i],
                           OCSSD_MIG_REQ_HELD);
    }
    for (i = 0; i < n->params.num_queues; i++) {
        OcssdRequest *req;

        if (n->cq[i]) {
            QTAILQ_FOREACH(req, &n->cq[i]->req_list, entry_list) {
                ocssd_mig_save_req(&m->req[m->num_req++], req,
                                   OCSSD_MIG_REQ_POSTING);
            }
        }
    }
    for (i = 0; i < n->outstanding_aers; i++) {
        ocssd_mig_save_req(&m->req[m->num_req++], n->aer_reqs[i],
                           OCSSD_MIG_REQ_AER);
    }
    memset(m->aer_events, 0, sizeof(m->aer_events));
    i = 0;
    QTAILQ_FOREACH(ev, &n->aer_queue, entry) {
        memcpy(&m->aer_events[i++ * sizeof(ev->result)], &ev->result,
               sizeof(ev->result));
    }
    m->num_once = ocssd_fault_get_once(n, &m->once);
    ocssd_mig_save_windows(n, m);
    ocssd_mig_save_timing(n, m);
    m->latency_seq = l->seq;
    if (!m->saved_state) {
        /* stopped without a name (QEMU 7.2 saves before letting go) */
        m->saved_state = ocssd_store_mark_saved(n);
    }
    trace_ocssd_migration_save(m->num_sq, m->num_cq, m->num_req, m->num_win,
                               m->num_once);
    return 0;
}

static int ocssd_mig_post_save(void *opaque)
{
    ocssd_mig_free(&OCSSD(opaque)->mig);
    return 0;
}

/* Incoming state replaces all of it: start from a controller reset. */
static int ocssd_mig_pre_load(void *opaque)
{
    OcssdCtrl *n = opaque;

    ocssd_ctrl_reset_sync(n);
    ocssd_mig_free(&n->mig);
    return 0;
}

/* Counts come first in the stream: check them before arrays are sized. */
static bool ocssd_mig_counts_ok(void *opaque, int version_id)
{
    OcssdCtrl *n = opaque;
    OcssdMigration *m = &n->mig;
    OcssdTiming *t = &n->latency.model;

    return m->num_sq >= 0 && m->num_sq <= n->params.num_queues &&
           m->num_cq >= 0 && m->num_cq <= n->params.num_queues &&
           m->num_req >= 0 &&
           m->num_req <= n->params.num_queues * (n->params.mqes + 1ull) &&
           m->num_win >= 0 && m->num_win <= n->media.nchunks &&
           m->num_once <= OCSSD_MIG_MAX_ONCE &&
           m->num_grp == t->num_grp &&
           m->num_pu == t->num_grp * t->num_pu &&
           m->num_ends <= OCSSD_MIG_MAX_ENDS;
}

#define MIG_FAIL(...) do {                                                  \
        error_report("ocssd: refusing the incoming state: " __VA_ARGS__);    \
        return false;                                                       \
    } while (0)

static bool ocssd_mig_load_params(OcssdCtrl *n)
{
    OcssdMediaParams *p = &n->media.p;
    Error *err = NULL;

    if (!ocssd_media_params_check(p, &err)) {
        error_report_err(err);
        MIG_FAIL("%s", "the media's times are invalid");
    }
    n->params.media.trdt = p->trdt;
    n->params.media.trdm = p->trdm;
    n->params.media.twrt = p->twrt;
    n->params.media.twrm = p->twrm;
    n->params.media.tcrst = p->tcrst;
    n->params.media.tcrsm = p->tcrsm;
    ocssd_latency_changed(n);
    return true;
}

static bool ocssd_mig_load_registers(OcssdCtrl *n)
{
    OcssdMigration *m = &n->mig;

    if (n->page_bits < 12 || n->page_bits > 16 ||
        n->page_size != 1u << n->page_bits ||
        n->num_io_queues > n->params.num_queues - 1 ||
        n->aer_queued > OCSSD_AER_MAX_QUEUED ||
        n->media.notify.count > OCSSD_NOTIFY_LOG_ENTRIES ||
        n->media.wli_nevent > OCSSD_NOTIFY_LOG_ENTRIES) {
        MIG_FAIL("controller state out of range (page size %u, %u I/O "
                 "queues, %u events, %u notifications)", n->page_size,
                 n->num_io_queues, n->aer_queued, n->media.notify.count);
    }
    stl_le_p(&n->bar.cc, m->cc);
    stl_le_p(&n->bar.csts, m->csts);
    stl_le_p(&n->bar.aqa, m->aqa);
    stl_le_p(&n->bar.intms, m->intms);
    stl_le_p(&n->bar.intmc, m->intmc);
    stq_le_p(&n->bar.asq, m->asq);
    stq_le_p(&n->bar.acq, m->acq);
    n->start_ms = qemu_clock_get_ms(QEMU_CLOCK_REALTIME) - m->uptime_ms;
    blk_set_enable_write_cache(n->store.blk, n->features.vwc);
    return true;
}

static bool ocssd_mig_queue_ok(OcssdCtrl *n, uint16_t qid, uint32_t size,
                               uint32_t head, uint32_t tail)
{
    uint32_t max = qid ? n->params.mqes + 1u : 4096;

    return qid < n->params.num_queues && size >= 2 && size <= max &&
           head < size && tail < size;
}

static bool ocssd_mig_load_queues(OcssdCtrl *n)
{
    OcssdMigration *m = &n->mig;
    uint32_t i;

    for (i = 0; i < m->num_cq; i++) {
        OcssdMigCQ *c = &m->cq[i];
        OcssdCQ *cq;

        if (!ocssd_mig_queue_ok(n, c->cqid, c->size, c->head, c->tail) ||
            n->cq[c->cqid] || c->phase > 1 ||
            (c->irq_enabled && c->vector >= n->num_vectors)) {
            MIG_FAIL("completion queue %u is invalid", c->cqid);
        }
        ocssd_create_cq(n, c->cqid, c->vector, c->irq_enabled, c->dma_addr,
                        c->size);
        cq = n->cq[c->cqid];
        cq->head = c->head;
        cq->tail = c->tail;
        cq->phase = c->phase;
        cq->pending_irqs = c->pending_irqs;
        if (c->coalesce_due >= 0) {
            timer_mod(cq->coalesce_timer, c->coalesce_due);
        }
    }
    for (i = 0; i < m->num_sq; i++) {
        OcssdMigSQ *s = &m->sq[i];

        if (!ocssd_mig_queue_ok(n, s->sqid, s->size, s->head, s->tail) ||
            n->sq[s->sqid] || s->cqid >= n->params.num_queues ||
            !n->cq[s->cqid]) {
            MIG_FAIL("submission queue %u is invalid", s->sqid);
        }
        ocssd_create_sq(n, s->sqid, s->cqid, s->dma_addr, s->size);
        n->sq[s->sqid]->head = s->head;
        n->sq[s->sqid]->tail = s->tail;
    }
    return true;
}

/* A carried request takes a free slot of its SQ, as a fetch would. */
static bool ocssd_mig_load_reqs(OcssdCtrl *n)
{
    OcssdMigration *m = &n->mig;
    OcssdLatency *l = &n->latency;
    uint32_t i;

    for (i = 0; i < m->num_req; i++) {
        OcssdMigReq *r = &m->req[i];
        OcssdSQ *sq = r->sqid < n->params.num_queues ? n->sq[r->sqid] : NULL;
        OcssdRequest *req;

        if (!sq || QTAILQ_EMPTY(&sq->free_list) ||
            r->kind > OCSSD_MIG_REQ_AER ||
            (r->kind == OCSSD_MIG_REQ_AER &&
             (r->sqid || n->outstanding_aers > n->params.aerl))) {
            MIG_FAIL("carried command %u of queue %u is invalid", i, r->sqid);
        }
        req = QTAILQ_FIRST(&sq->free_list);
        QTAILQ_REMOVE(&sq->free_list, req, entry_list);
        QTAILQ_INSERT_TAIL(&sq->out_list, req, entry_list);
        memcpy(&req->cmd, r->cmd, sizeof(req->cmd));
        memset(&req->cqe, 0, sizeof(req->cqe));
        req->status = r->status;
        req->err_param = r->err_param;
        req->err_lba = r->err_lba;
        req->cqe.result = cpu_to_le32(r->result);
        req->cqe.dw1 = cpu_to_le32(r->dw1);
        req->due_ns = r->due_ns;
        switch (r->kind) {
        case OCSSD_MIG_REQ_HELD:
            ocssd_latency_restore(req, r->due_seq);
            break;
        case OCSSD_MIG_REQ_POSTING:
            QTAILQ_REMOVE(&sq->out_list, req, entry_list);
            QTAILQ_INSERT_TAIL(&n->cq[sq->cqid]->req_list, req, entry_list);
            break;
        case OCSSD_MIG_REQ_AER:
            n->aer_reqs[n->outstanding_aers++] = req;
            n->reqs_working++;
            break;
        }
    }
    l->seq = MAX(l->seq, m->latency_seq);
    return true;
}

static bool ocssd_mig_load_events(OcssdCtrl *n)
{
    OcssdMigration *m = &n->mig;
    uint32_t i;

    for (i = 0; i < n->aer_queued; i++) {
        OcssdAsyncEvent *ev = g_new0(OcssdAsyncEvent, 1);

        memcpy(&ev->result, &m->aer_events[i * sizeof(ev->result)],
               sizeof(ev->result));
        QTAILQ_INSERT_TAIL(&n->aer_queue, ev, entry);
    }
    for (i = 0; i < n->media.wli_nevent; i++) {
        if (n->media.wli_event[i] >= n->media.nchunks) {
            MIG_FAIL("%s", "a wear notice names no chunk");
        }
    }
    if (!ocssd_fault_set_once(n, m->once, m->num_once)) {
        MIG_FAIL("%s", "a pending one-shot fault names no sector");
    }
    for (i = 0; i < m->num_win; i++) {
        if (m->win[i].chunk >= n->media.nchunks ||
            m->win[i].floor >= n->media.p.clba) {
            MIG_FAIL("%s", "an MW_CUNITS window names no chunk");
        }
    }
    return true;
}

static bool ocssd_mig_load_timing(OcssdCtrl *n)
{
    OcssdMigration *m = &n->mig;
    OcssdTiming *t = &n->latency.model;
    uint32_t i, off = 0;

    for (i = 0; i < m->num_pu; i++) {
        if (m->pu[i].nends > m->num_ends - off) {
            MIG_FAIL("%s", "the timing model's queues are inconsistent");
        }
        t->pu[i].busy_until = m->pu[i].busy_until;
        t->pu[i].stats = m->pu[i].stats;
        t->pu[i].open_cmd = 0;
        ocssd_timing_set_ends(t, i, m->ends + off, m->pu[i].nends);
        off += m->pu[i].nends;
    }
    for (i = 0; i < m->num_grp; i++) {
        t->bus_busy_until[i] = m->bus[i].busy_until;
        t->bus[i] = m->bus[i].stats;
    }
    t->rng = m->timing_rng;
    t->since = m->timing_since;
    return true;
}

/*
 * Read the image again and put the MW_CUNITS windows back on top of it:
 * after loadvm at once (the snapshot's image is in place), after an
 * incoming migration when the VM runs (QEMU activated the image).
 */
static bool ocssd_mig_reload(OcssdCtrl *n, Error **errp)
{
    OcssdMigration *m = &n->mig;
    int32_t i;
    bool ok;

    blk_set_disable_request_queuing(n->store.blk, true);
    ok = ocssd_store_reload(n, m->saved_state, errp);
    blk_set_disable_request_queuing(n->store.blk, false);
    if (!ok) {
        return false;
    }
    for (i = 0; i < m->num_win; i++) {
        OcssdChunk *c = &n->media.chunk[m->win[i].chunk];

        if (c->state == OCSSD_CHUNK_OPEN && m->win[i].floor < c->wp) {
            c->mw_floor = m->win[i].floor;
        }
    }
    g_clear_pointer(&m->win, g_free);
    m->num_win = 0;
    return true;
}

static int ocssd_mig_post_load(void *opaque, int version_id)
{
    OcssdCtrl *n = opaque;
    OcssdMigration *m = &n->mig;

    if (!ocssd_mig_load_params(n) || !ocssd_mig_load_registers(n) ||
        !ocssd_mig_load_queues(n) || !ocssd_mig_load_reqs(n) ||
        !ocssd_mig_load_events(n) || !ocssd_mig_load_timing(n)) {
        ocssd_mig_free(m);
        return -EINVAL;
    }
    g_clear_pointer(&m->sq, g_free);
    g_clear_pointer(&m->cq, g_free);
    g_clear_pointer(&m->req, g_free);
    g_clear_pointer(&m->once, g_free);
    g_clear_pointer(&m->pu, g_free);
    g_clear_pointer(&m->bus, g_free);
    g_clear_pointer(&m->ends, g_free);
    n->store.stale = true;
    if (!ocssd_store_inactive(&n->store)) {
        Error *err = NULL;

        if (!ocssd_mig_reload(n, &err)) {
            error_prepend(&err, "ocssd: refusing the loaded state: ");
            error_report_err(err);
            ocssd_mig_free(m);
            return -EINVAL;
        }
    }
    ocssd_latency_arm_timer(n);
    trace_ocssd_migration_load(m->num_sq, m->num_cq, m->num_req, m->num_win,
                               m->num_once);
    return 0;
}

/*
 * The VM runs (again): after an incoming migration, read the image and
 * put the MW_CUNITS windows back on it; let the queues go on with what
 * waited.
 */
void ocssd_migration_resume(OcssdCtrl *n)
{
    Error *err = NULL;

    if (n->store.stale && !ocssd_mig_reload(n, &err)) {
        error_report_err(err);
        ocssd_ctrl_fatal(n, "the image cannot be used with the migrated "
                         "state");
    }
    ocssd_mig_free(&n->mig);
    n->mig.saved_state = 0;
    ocssd_ctrl_kick(n);
}

static const VMStateDescription ocssd_vmstate_mig_sq = {
    .name = "ocssd/sq",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = OCSSD_VMSTATE_FIELDS {
        VMSTATE_UINT16(sqid, OcssdMigSQ),
        VMSTATE_UINT16(cqid, OcssdMigSQ),
        VMSTATE_UINT32(size, OcssdMigSQ),
        VMSTATE_UINT32(head, OcssdMigSQ),
        VMSTATE_UINT32(tail, OcssdMigSQ),
        VMSTATE_UINT64(dma_addr, OcssdMigSQ),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription ocssd_vmstate_mig_cq = {
    .name = "ocssd/cq",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = OCSSD_VMSTATE_FIELDS {
        VMSTATE_UINT16(cqid, OcssdMigCQ),
        VMSTATE_UINT16(vector, OcssdMigCQ),
        VMSTATE_BOOL(irq_enabled, OcssdMigCQ),
        VMSTATE_UINT8(phase, OcssdMigCQ),
        VMSTATE_UINT32(size, OcssdMigCQ),
        VMSTATE_UINT32(head, OcssdMigCQ),
        VMSTATE_UINT32(tail, OcssdMigCQ),
        VMSTATE_UINT32(pending_irqs, OcssdMigCQ),
        VMSTATE_UINT64(dma_addr, OcssdMigCQ),
        VMSTATE_INT64(coalesce_due, OcssdMigCQ),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription ocssd_vmstate_mig_req = {
    .name = "ocssd/request",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = OCSSD_VMSTATE_FIELDS {
        VMSTATE_UINT16(sqid, OcssdMigReq),
        VMSTATE_UINT8(kind, OcssdMigReq),
        VMSTATE_BUFFER(cmd, OcssdMigReq),
        VMSTATE_UINT16(status, OcssdMigReq),
        VMSTATE_UINT16(err_param, OcssdMigReq),
        VMSTATE_UINT64(err_lba, OcssdMigReq),
        VMSTATE_UINT32(result, OcssdMigReq),
        VMSTATE_UINT32(dw1, OcssdMigReq),
        VMSTATE_INT64(due_ns, OcssdMigReq),
        VMSTATE_UINT64(due_seq, OcssdMigReq),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription ocssd_vmstate_mig_window = {
    .name = "ocssd/mw-window",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = OCSSD_VMSTATE_FIELDS {
        VMSTATE_UINT64(chunk, OcssdMigWindow),
        VMSTATE_UINT64(floor, OcssdMigWindow),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription ocssd_vmstate_mig_pu = {
    .name = "ocssd/timing-pu",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = OCSSD_VMSTATE_FIELDS {
        VMSTATE_INT64(busy_until, OcssdMigPu),
        VMSTATE_UINT32(nends, OcssdMigPu),
        VMSTATE_UINT64(stats.reads, OcssdMigPu),
        VMSTATE_UINT64(stats.programs, OcssdMigPu),
        VMSTATE_UINT64(stats.resets, OcssdMigPu),
        VMSTATE_UINT64(stats.sectors_read, OcssdMigPu),
        VMSTATE_UINT64(stats.sectors_written, OcssdMigPu),
        VMSTATE_UINT64(stats.busy_ns, OcssdMigPu),
        VMSTATE_UINT32(stats.max_queue, OcssdMigPu),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription ocssd_vmstate_mig_bus = {
    .name = "ocssd/timing-bus",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = OCSSD_VMSTATE_FIELDS {
        VMSTATE_INT64(busy_until, OcssdMigBus),
        VMSTATE_UINT64(stats.busy_ns, OcssdMigBus),
        VMSTATE_UINT64(stats.sectors, OcssdMigBus),
        VMSTATE_END_OF_LIST()
    },
};

static bool ocssd_mig_dbbuf_needed(void *opaque)
{
    OcssdCtrl *n = opaque;

    return n->dbbuf.enabled;
}

/*
 * A Doorbell Buffer Config in force (added after version 1: a subsection).
 * It goes on where it arrives, even on a destination with
 * shadow_doorbells=off: that one offers it to no one after the next
 * controller reset.
 */
static const VMStateDescription ocssd_vmstate_dbbuf = {
    .name = "ocssd/shadow-doorbells",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = ocssd_mig_dbbuf_needed,
    .fields = OCSSD_VMSTATE_FIELDS {
        VMSTATE_BOOL(dbbuf.enabled, OcssdCtrl),
        VMSTATE_UINT64(dbbuf.dbs, OcssdCtrl),
        VMSTATE_UINT64(dbbuf.eis, OcssdCtrl),
        VMSTATE_END_OF_LIST()
    },
};

/*
 * Version 1.  New state goes into a subsection whose .needed is false
 * when the state has its default, so that an older QEMU still loads
 * streams that do not use it; a change to the fields below bumps
 * version_id and keeps minimum_version_id (docs/migration.rst).
 */
const VMStateDescription ocssd_vmstate = {
    .name = "ocssd",
    .version_id = OCSSD_MIG_VERSION,
    .minimum_version_id = 1,
    .pre_save = ocssd_mig_pre_save,
    .post_save = ocssd_mig_post_save,
    .pre_load = ocssd_mig_pre_load,
    .post_load = ocssd_mig_post_load,
    .fields = OCSSD_VMSTATE_FIELDS {
        VMSTATE_PCI_DEVICE(parent_obj, OcssdCtrl),
        VMSTATE_MSIX(parent_obj, OcssdCtrl),

        /* registers and controller */
        VMSTATE_UINT32(mig.cc, OcssdCtrl),
        VMSTATE_UINT32(mig.csts, OcssdCtrl),
        VMSTATE_UINT32(mig.aqa, OcssdCtrl),
        VMSTATE_UINT32(mig.intms, OcssdCtrl),
        VMSTATE_UINT32(mig.intmc, OcssdCtrl),
        VMSTATE_UINT64(mig.asq, OcssdCtrl),
        VMSTATE_UINT64(mig.acq, OcssdCtrl),
        VMSTATE_UINT64(mig.uptime_ms, OcssdCtrl),
        VMSTATE_UINT32(num_io_queues, OcssdCtrl),
        VMSTATE_BOOL(queues_created, OcssdCtrl),
        VMSTATE_UINT32(irq_status, OcssdCtrl),
        VMSTATE_UINT32(page_size, OcssdCtrl),
        VMSTATE_UINT8(page_bits, OcssdCtrl),
        VMSTATE_UINT16(temperature, OcssdCtrl),

        /* features */
        VMSTATE_UINT32(features.arbitration, OcssdCtrl),
        VMSTATE_UINT32(features.power_mgmt, OcssdCtrl),
        VMSTATE_UINT16(features.temp_over, OcssdCtrl),
        VMSTATE_UINT16(features.temp_under, OcssdCtrl),
        VMSTATE_UINT32(features.err_rec, OcssdCtrl),
        VMSTATE_BOOL(features.vwc, OcssdCtrl),
        VMSTATE_UINT32(features.int_coalescing, OcssdCtrl),
        VMSTATE_UINT32(features.write_atomicity, OcssdCtrl),
        VMSTATE_UINT32(features.async_config, OcssdCtrl),
        VMSTATE_UINT32(features.media_feedback, OcssdCtrl),
        VMSTATE_UINT64(features.timestamp, OcssdCtrl),
        VMSTATE_INT64(features.timestamp_set_ms, OcssdCtrl),
        VMSTATE_BOOL(features.timestamp_set, OcssdCtrl),
        VMSTATE_VARRAY_UINT32(features.iv_config, OcssdCtrl, num_vectors, 0,
                              vmstate_info_uint32, uint32_t),

        /* asynchronous events, logs, SMART */
        VMSTATE_UINT32(aer_queued, OcssdCtrl),
        VMSTATE_UINT8(aer_masked, OcssdCtrl),
        VMSTATE_BUFFER(mig.aer_events, OcssdCtrl),
        VMSTATE_BUFFER_UNSAFE(error_log, OcssdCtrl, 0,
                              sizeof(NvmeErrorLog) * OCSSD_ERROR_LOG_ENTRIES),
        VMSTATE_UINT64(error_count, OcssdCtrl),
        VMSTATE_BUFFER_UNSAFE(media.notify.entry, OcssdCtrl, 0,
                              sizeof(OcssdChunkNotification) *
                              OCSSD_NOTIFY_LOG_ENTRIES),
        VMSTATE_UINT32(media.notify.count, OcssdCtrl),
        VMSTATE_UINT64(media.notify.nc, OcssdCtrl),
        VMSTATE_UINT64_ARRAY(media.wli_event, OcssdCtrl,
                             OCSSD_NOTIFY_LOG_ENTRIES),
        VMSTATE_UINT32(media.wli_nevent, OcssdCtrl),
        VMSTATE_UINT64(smart.units_read, OcssdCtrl),
        VMSTATE_UINT64(smart.units_written, OcssdCtrl),
        VMSTATE_UINT64(smart.read_cmds, OcssdCtrl),
        VMSTATE_UINT64(smart.write_cmds, OcssdCtrl),
        VMSTATE_UINT64(smart.media_errors, OcssdCtrl),
        VMSTATE_UINT64(smart.busy_ns, OcssdCtrl),

        /* fault injection, the media's times, the timing model */
        VMSTATE_UINT64(fault.rng, OcssdCtrl),
        VMSTATE_UINT32(media.p.trdt, OcssdCtrl),
        VMSTATE_UINT32(media.p.trdm, OcssdCtrl),
        VMSTATE_UINT32(media.p.twrt, OcssdCtrl),
        VMSTATE_UINT32(media.p.twrm, OcssdCtrl),
        VMSTATE_UINT32(media.p.tcrst, OcssdCtrl),
        VMSTATE_UINT32(media.p.tcrsm, OcssdCtrl),
        VMSTATE_BOOL(params.timing, OcssdCtrl),
        VMSTATE_BOOL(params.timing_spread, OcssdCtrl),
        VMSTATE_UINT32(params.channel_mbps, OcssdCtrl),
        VMSTATE_UINT64(mig.timing_rng, OcssdCtrl),
        VMSTATE_INT64(mig.timing_since, OcssdCtrl),
        VMSTATE_UINT64(mig.latency_seq, OcssdCtrl),
        VMSTATE_UINT64(mig.saved_state, OcssdCtrl),

        /* what varies in size: counts first, checked, then the arrays */
        VMSTATE_INT32(mig.num_sq, OcssdCtrl),
        VMSTATE_INT32(mig.num_cq, OcssdCtrl),
        VMSTATE_INT32(mig.num_req, OcssdCtrl),
        VMSTATE_INT32(mig.num_win, OcssdCtrl),
        VMSTATE_UINT32(mig.num_once, OcssdCtrl),
        VMSTATE_INT32(mig.num_grp, OcssdCtrl),
        VMSTATE_INT32(mig.num_pu, OcssdCtrl),
        VMSTATE_UINT32(mig.num_ends, OcssdCtrl),
        VMSTATE_VALIDATE("ocssd: counts in range", ocssd_mig_counts_ok),
        VMSTATE_STRUCT_VARRAY_ALLOC(mig.cq, OcssdCtrl, mig.num_cq, 0,
                                    ocssd_vmstate_mig_cq, OcssdMigCQ),
        VMSTATE_STRUCT_VARRAY_ALLOC(mig.sq, OcssdCtrl, mig.num_sq, 0,
                                    ocssd_vmstate_mig_sq, OcssdMigSQ),
        VMSTATE_STRUCT_VARRAY_ALLOC(mig.req, OcssdCtrl, mig.num_req, 0,
                                    ocssd_vmstate_mig_req, OcssdMigReq),
        VMSTATE_STRUCT_VARRAY_ALLOC(mig.win, OcssdCtrl, mig.num_win, 0,
                                    ocssd_vmstate_mig_window, OcssdMigWindow),
        VMSTATE_VARRAY_UINT32_ALLOC(mig.once, OcssdCtrl, mig.num_once, 0,
                                    vmstate_info_uint64, uint64_t),
        VMSTATE_STRUCT_VARRAY_ALLOC(mig.pu, OcssdCtrl, mig.num_pu, 0,
                                    ocssd_vmstate_mig_pu, OcssdMigPu),
        VMSTATE_STRUCT_VARRAY_ALLOC(mig.bus, OcssdCtrl, mig.num_grp, 0,
                                    ocssd_vmstate_mig_bus, OcssdMigBus),
        VMSTATE_VARRAY_UINT32_ALLOC(mig.ends, OcssdCtrl, mig.num_ends, 0,
                                    vmstate_info_int64, int64_t),
        VMSTATE_END_OF_LIST()
    },
    .subsections = OCSSD_VMSTATE_SUBSECTIONS {
        &ocssd_vmstate_dbbuf,
        NULL
    },
};

/* ---- the device's life ------------------------------------------------ */

void ocssd_migration_init(OcssdCtrl *n)
{
    char *path = qdev_get_dev_path(DEVICE(n));

    n->mig.idstr = g_strdup_printf("%s/ocssd-config", path ? path : "ocssd");
    g_free(path);
    register_savevm_live(n->mig.idstr, 0, OCSSD_MIG_CONFIG_VERSION,
                         &ocssd_mig_config_handlers, n);
}

void ocssd_migration_cleanup(OcssdCtrl *n)
{
    if (n->mig.idstr) {
        unregister_savevm(NULL, n->mig.idstr, n);
        g_clear_pointer(&n->mig.idstr, g_free);
    }
    ocssd_mig_free(&n->mig);
}
