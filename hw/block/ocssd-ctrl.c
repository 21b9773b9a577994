/*
 * ocssd: NVMe controller registers, queues, doorbells and completions
 *
 * Commands are fetched from submission queues in a bottom half, handed to
 * ocssd_admin_cmd() / ocssd_io_cmd(), and their completions posted from
 * the completion queue's bottom half, which also raises the interrupt
 * (MSI-X, or INTx when the host did not enable MSI-X), honouring
 * interrupt coalescing and INTMS/INTMC masking.
 *
 * Queues deleted while commands are still in flight (Delete I/O SQ, or a
 * controller reset) are orphaned: they leave the queue tables at once,
 * completions of orphaned commands are dropped, and they are freed when
 * their last command finishes.  NVMe allows a command to touch host
 * memory until the Delete I/O SQ that removes its queue completes, or
 * until CSTS.RDY reads 0 after CC.EN is cleared: so Delete I/O SQ
 * completes, and CSTS.RDY clears, only once the orphans are gone (a
 * system reset or unplug drains the block layer to get there at once).
 *
 * A request's life: fetched from its SQ (charged its bounce memory, see
 * ocssd_request_charge), handled (ocssd_admin_cmd / ocssd_io_cmd), then
 * ocssd_request_complete() exactly once: that frees its buffers and
 * returns its memory, so a CQ the host does not drain holds no more than
 * the request slots.  The CQ's bottom half posts the CQE and gives the
 * slot back to the SQ (ocssd_request_release).  With the timing model on,
 * ocssd_request_complete() may hold the request until the model's time
 * for it (ocssd-latency.c) before it goes to the CQ.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/bswap.h"
#include "hw/pci/msix.h"
#include "ocssd.h"
#include "trace.h"

#define OCSSD_DB_BASE   0x1000

/* Ready, and not on the way to a reset (CSTS.RDY waits for the orphans). */
static bool ocssd_enabled(OcssdCtrl *n)
{
    return (ldl_le_p(&n->bar.csts) & NVME_CSTS_READY) && !n->reset_pending;
}

static bool ocssd_failed(OcssdCtrl *n)
{
    return ldl_le_p(&n->bar.csts) & NVME_CSTS_FAILED;
}

/* Fatal host misprogramming: CSTS.CFS; the host must reset us. */
void ocssd_ctrl_fatal(OcssdCtrl *n, const char *why)
{
    qemu_log_mask(LOG_GUEST_ERROR, "ocssd: controller fatal status: %s\n",
                  why);
    trace_ocssd_err_fatal(why);
    stl_le_p(&n->bar.csts, ldl_le_p(&n->bar.csts) | NVME_CSTS_FAILED);
}

/* ---- interrupts ---------------------------------------------------- */

static void ocssd_intx_update(OcssdCtrl *n)
{
    PCIDevice *pci = PCI_DEVICE(n);

    if (msix_enabled(pci)) {
        return;
    }
    if (~ldl_le_p(&n->bar.intms) & n->irq_status) {
        pci_irq_assert(pci);
    } else {
        pci_irq_deassert(pci);
    }
}

static bool ocssd_vector_pending(OcssdCtrl *n, uint16_t vector)
{
    uint32_t i;

    for (i = 0; i < n->params.num_queues; i++) {
        OcssdCQ *cq = n->cq[i];

        if (cq && cq->irq_enabled && cq->vector % 32 == vector % 32 &&
            cq->head != cq->tail) {
            return true;
        }
    }
    return false;
}

static void ocssd_irq_signal(OcssdCtrl *n, OcssdCQ *cq)
{
    PCIDevice *pci = PCI_DEVICE(n);

    cq->pending_irqs = 0;
    timer_del(cq->coalesce_timer);
    if (!cq->irq_enabled) {
        return;
    }
    if (msix_enabled(pci)) {
        trace_ocssd_irq_msix(cq->vector);
        msix_notify(pci, cq->vector);
    } else if (cq->head != cq->tail) {
        /* A level interrupt only while there are entries to consume. */
        trace_ocssd_irq_pin(cq->vector);
        n->irq_status |= 1u << (cq->vector % 32);
        ocssd_intx_update(n);
    }
}

static void ocssd_coalesce_timer(void *opaque)
{
    OcssdCQ *cq = opaque;

    if (cq->pending_irqs) {
        ocssd_irq_signal(cq->ctrl, cq);
    }
}

/*
 * Interrupt Coalescing (feature 08h) applies to I/O completion queues on
 * vectors whose Interrupt Vector Configuration does not disable it: wait
 * for THR + 1 completions or TIME * 100 us, whichever comes first.
 */
static void ocssd_cq_irq(OcssdCtrl *n, OcssdCQ *cq)
{
    uint32_t intc = n->features.int_coalescing;
    uint32_t thr = NVME_INTC_THR(intc) + 1, time = NVME_INTC_TIME(intc);
    bool coalesce = cq->cqid != 0 && time &&
        cq->vector < n->num_vectors &&
        !(n->features.iv_config[cq->vector] & NVME_INTVC_NOCOALESCING);

    if (!cq->pending_irqs) {
        return;
    }
    if (!coalesce || cq->pending_irqs >= thr) {
        ocssd_irq_signal(n, cq);
        return;
    }
    if (!timer_pending(cq->coalesce_timer)) {
        timer_mod(cq->coalesce_timer,
                  qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + time * 100000LL);
    }
}

static void ocssd_ctrl_start(OcssdCtrl *n);

/* ---- bounce memory ------------------------------------------------- */

/*
 * Admission of a fetched command: it may go if the bounce memory it needs
 * fits under bounce_limit with what is in flight, or if nothing is in
 * flight (a single command larger than the limit runs alone).  Otherwise
 * the SQ waits, its command left in the queue, until memory comes back.
 */
static bool ocssd_request_charge(OcssdCtrl *n, OcssdSQ *sq,
                                 OcssdRequest *req)
{
    uint64_t need = sq->sqid ? ocssd_io_bounce_size(n, &req->cmd) : 0;

    if (need && n->bounce_inflight &&
        n->bounce_inflight + need > n->params.bounce_limit) {
        trace_ocssd_bounce_wait(sq->sqid, req->cmd.cid, need,
                                n->bounce_inflight);
        if (!sq->mem_waiting) {
            sq->mem_waiting = true;
            QTAILQ_INSERT_TAIL(&n->mem_waiters, sq, mem_entry);
        }
        return false;
    }
    req->bounce = need;
    n->bounce_inflight += need;
    n->bounce_peak = MAX(n->bounce_peak, n->bounce_inflight);
    return true;
}

static void ocssd_sq_stop_waiting(OcssdCtrl *n, OcssdSQ *sq)
{
    if (sq->mem_waiting) {
        sq->mem_waiting = false;
        QTAILQ_REMOVE(&n->mem_waiters, sq, mem_entry);
    }
}

/* A request is done with its buffers: give its memory back. */
static void ocssd_request_uncharge(OcssdRequest *req)
{
    OcssdCtrl *n = req->sq->ctrl;
    OcssdSQ *sq, *next;

    ocssd_io_request_release(req);
    if (!req->bounce) {
        return;
    }
    n->bounce_inflight -= req->bounce;
    req->bounce = 0;
    QTAILQ_FOREACH_SAFE(sq, &n->mem_waiters, mem_entry, next) {
        ocssd_sq_stop_waiting(n, sq);
        qemu_bh_schedule(sq->bh);
    }
}

/* ---- shadow doorbells ----------------------------------------------- */

/*
 * Doorbell Buffer Config (NVMe 1.3, 5.7): the host writes each I/O queue's
 * SQ tail and CQ head to its shadow doorbell page, and rings the register
 * only when the new value passes the EventIdx the controller last wrote.
 * We publish an SQ's EventIdx when we have fetched everything up to its
 * tail, and a CQ's when the CQ is full (or, on INTx, at every head), then
 * read the shadow once more: the host writes its shadow before it reads
 * the EventIdx, we write the EventIdx before we read the shadow, so one
 * of us sees the other.  Slot y of either page: SQ y at 8y, CQ y at
 * 8y + 4 (CAP.DSTRD is 0).  The admin queue always uses its registers,
 * as Linux does.
 */
static bool ocssd_shadow_on(OcssdCtrl *n, uint16_t qid)
{
    return n->dbbuf.enabled && qid != 0;
}

static hwaddr ocssd_shadow_slot(uint16_t qid, bool cq)
{
    return (hwaddr)qid * 8 + (cq ? 4 : 0);
}

static bool ocssd_shadow_read(OcssdCtrl *n, uint16_t qid, bool cq,
                              uint32_t *val)
{
    uint32_t le;

    if (ocssd_dma_read_guest(n, n->dbbuf.dbs + ocssd_shadow_slot(qid, cq),
                             &le, sizeof(le))) {
        return false;
    }
    *val = le32_to_cpu(le);
    return true;
}

static void ocssd_shadow_publish(OcssdCtrl *n, uint16_t qid, bool cq,
                                 uint32_t val)
{
    uint32_t le = cpu_to_le32(val);

    trace_ocssd_shadow_eventidx(qid, cq, val);
    ocssd_dma_write_guest(n, n->dbbuf.eis + ocssd_shadow_slot(qid, cq),
                          &le, sizeof(le));
    /* The EventIdx is visible before we look at the shadow again. */
    smp_mb();
}

static void ocssd_shadow_error(uint16_t qid, bool cq, uint32_t val,
                               const char *why)
{
    qemu_log_mask(LOG_GUEST_ERROR, "ocssd: shadow %s doorbell %u of queue "
                  "%u ignored: %s\n", cq ? "CQ head" : "SQ tail", val, qid,
                  why);
    trace_ocssd_err_shadow(qid, cq, val, why);
}

/* The SQ's tail from the host's shadow doorbell; true if it moved. */
static bool ocssd_sq_shadow_tail(OcssdCtrl *n, OcssdSQ *sq)
{
    uint32_t tail;

    if (!ocssd_shadow_on(n, sq->sqid) ||
        !ocssd_shadow_read(n, sq->sqid, false, &tail) || tail == sq->tail) {
        return false;
    }
    if (tail >= sq->size) {
        ocssd_shadow_error(sq->sqid, false, tail,
                           "SQ tail beyond the queue size");
        return false;
    }
    trace_ocssd_shadow_sq(sq->sqid, tail);
    sq->tail = tail;
    return true;
}

/* Whether a new CQ head frees no more entries than were posted. */
static bool ocssd_cq_head_valid(OcssdCQ *cq, uint32_t new_head)
{
    uint32_t used = (cq->tail + cq->size - cq->head) % cq->size;
    uint32_t consumed = (new_head + cq->size - cq->head) % cq->size;

    return new_head < cq->size && consumed <= used;
}

/* The CQ's head from the host's shadow doorbell; true if it moved. */
static bool ocssd_cq_shadow_head(OcssdCtrl *n, OcssdCQ *cq)
{
    uint32_t head;

    if (!ocssd_shadow_on(n, cq->cqid) ||
        !ocssd_shadow_read(n, cq->cqid, true, &head) || head == cq->head) {
        return false;
    }
    if (!ocssd_cq_head_valid(cq, head)) {
        ocssd_shadow_error(cq->cqid, true, head,
                           "CQ head beyond the entries posted");
        return false;
    }
    trace_ocssd_shadow_cq(cq->cqid, head);
    cq->head = head;
    return true;
}

/*
 * Doorbell Buffer Config: from now on the I/O queues' doorbells are read
 * from @dbs; the queues that exist start from the values they have.
 */
void ocssd_shadow_doorbells_config(OcssdCtrl *n, uint64_t dbs, uint64_t eis)
{
    uint32_t i;

    n->dbbuf.enabled = true;
    n->dbbuf.dbs = dbs;
    n->dbbuf.eis = eis;
    for (i = 1; i < n->params.num_queues; i++) {
        uint32_t le;

        if (n->sq[i]) {
            le = cpu_to_le32(n->sq[i]->tail);
            ocssd_dma_write_guest(n, dbs + ocssd_shadow_slot(i, false), &le,
                                  sizeof(le));
            ocssd_shadow_publish(n, i, false, n->sq[i]->tail);
        }
        if (n->cq[i]) {
            le = cpu_to_le32(n->cq[i]->head);
            ocssd_dma_write_guest(n, dbs + ocssd_shadow_slot(i, true), &le,
                                  sizeof(le));
            ocssd_shadow_publish(n, i, true, n->cq[i]->head);
        }
    }
}

/* ---- completion ----------------------------------------------------- */

static void ocssd_sq_free(OcssdSQ *sq);

static bool ocssd_sq_orphaned(OcssdCtrl *n, OcssdSQ *sq)
{
    return n->sq[sq->sqid] != sq;
}

/*
 * An orphaned queue goes when its last command has: not while its bottom
 * half is still fetching (a command that resets the controller orphans
 * the very queue it came from).  A Delete I/O SQ waiting for it completes
 * then.
 */
static void ocssd_sq_free_if_idle(OcssdSQ *sq)
{
    OcssdRequest *waiter = sq->delete_req;

    if (sq->processing || !QTAILQ_EMPTY(&sq->out_list)) {
        return;
    }
    sq->delete_req = NULL;
    ocssd_sq_free(sq);
    if (waiter) {
        trace_ocssd_delete_sq_done(waiter->cmd.cid);
        ocssd_request_complete(waiter);
    }
}

/* Give a request back to its queue; frees an orphaned queue when idle. */
static void ocssd_request_release(OcssdRequest *req)
{
    OcssdSQ *sq = req->sq;
    OcssdCtrl *n = sq->ctrl;

    ocssd_io_request_release(req);
    QTAILQ_REMOVE(&sq->out_list, req, entry_list);
    QTAILQ_INSERT_TAIL(&sq->free_list, req, entry_list);
    if (ocssd_sq_orphaned(n, sq)) {
        ocssd_sq_free_if_idle(sq);
    } else if (sq->head != sq->tail) {
        qemu_bh_schedule(sq->bh);
    }
}

/*
 * A request's work is done: its completion goes to its CQ, now or, with
 * the timing model on, when its media operations end (ocssd-latency.c).
 */
void ocssd_request_complete(OcssdRequest *req)
{
    req->sq->ctrl->reqs_working--;
    if (!ocssd_latency_hold(req)) {
        ocssd_request_complete_now(req);
    }
}

void ocssd_request_complete_now(OcssdRequest *req)
{
    OcssdSQ *sq = req->sq;
    OcssdCtrl *n = sq->ctrl;
    OcssdCQ *cq;

    trace_ocssd_complete(sq->sqid, req->cmd.cid, req->cmd.opcode,
                         req->status, le32_to_cpu(req->cqe.result),
                         le32_to_cpu(req->cqe.dw1));
    if (req->status != NVME_SUCCESS) {
        ocssd_error_log_add(n, req);
    }
    ocssd_request_uncharge(req);
    if (ocssd_sq_orphaned(n, sq)) {
        trace_ocssd_complete_orphaned(sq->sqid, req->cmd.cid);
        ocssd_request_release(req);
        return;
    }
    cq = n->cq[sq->cqid];
    QTAILQ_REMOVE(&sq->out_list, req, entry_list);
    QTAILQ_INSERT_TAIL(&cq->req_list, req, entry_list);
    qemu_bh_schedule(cq->bh);
}

static bool ocssd_cq_full(OcssdCQ *cq)
{
    return (cq->tail + 1) % cq->size == cq->head;
}

static void ocssd_post_cqes(void *opaque)
{
    OcssdCQ *cq = opaque;
    OcssdCtrl *n = cq->ctrl;
    OcssdRequest *req, *next;

    QTAILQ_FOREACH_SAFE(req, &cq->req_list, entry_list, next) {
        OcssdSQ *sq = req->sq;
        NvmeCqe cqe;
        hwaddr addr;

        if (ocssd_failed(n)) {
            break;
        }
        if (ocssd_cq_full(cq) && ocssd_shadow_on(n, cq->cqid)) {
            /* Ask the host to ring when it frees an entry; look again. */
            ocssd_cq_shadow_head(n, cq);
            if (ocssd_cq_full(cq)) {
                ocssd_shadow_publish(n, cq->cqid, true, cq->head);
                ocssd_cq_shadow_head(n, cq);
            }
        }
        if (ocssd_cq_full(cq)) {
            trace_ocssd_cq_full(cq->cqid);
            break;
        }
        cqe = req->cqe;
        cqe.sq_head = cpu_to_le16(sq->head);
        cqe.sq_id = cpu_to_le16(sq->sqid);
        cqe.cid = req->cmd.cid;
        cqe.status = cpu_to_le16((req->status << 1) | cq->phase);
        addr = cq->dma_addr + (hwaddr)cq->tail * OCSSD_CQE_SIZE;
        if (ocssd_dma_write_guest(n, addr, &cqe, sizeof(cqe))) {
            ocssd_ctrl_fatal(n, "completion queue entry write failed");
            break;
        }
        trace_ocssd_post_cqe(cq->cqid, cq->tail, sq->sqid, req->cmd.cid,
                             req->status);
        cq->tail = (cq->tail + 1) % cq->size;
        if (cq->tail == 0) {
            cq->phase ^= 1;
        }
        cq->pending_irqs++;
        QTAILQ_REMOVE(&cq->req_list, req, entry_list);
        QTAILQ_INSERT_TAIL(&sq->out_list, req, entry_list);
        ocssd_request_release(req);
    }
    ocssd_cq_irq(n, cq);
}

/* ---- submission ----------------------------------------------------- */

/*
 * Commands are fetched while the VM runs: a stopped VM's device settles
 * (ocssd_migration_quiesce) and what the guest queued meanwhile waits
 * in guest memory, for ocssd_ctrl_kick() here or on a migration's
 * destination.
 */
static bool ocssd_sq_may_fetch(OcssdCtrl *n, OcssdSQ *sq)
{
    return ocssd_enabled(n) && !ocssd_failed(n) && !ocssd_sq_orphaned(n, sq) &&
           runstate_is_running();
}

static void ocssd_process_sq(void *opaque)
{
    OcssdSQ *sq = opaque;
    OcssdCtrl *n = sq->ctrl;

    sq->processing = true;
    ocssd_sq_shadow_tail(n, sq);
again:
    while (sq->head != sq->tail && !QTAILQ_EMPTY(&sq->free_list) &&
           ocssd_sq_may_fetch(n, sq)) {
        hwaddr addr = sq->dma_addr + (hwaddr)sq->head * OCSSD_SQE_SIZE;
        OcssdRequest *req = QTAILQ_FIRST(&sq->free_list);
        uint16_t status;

        if (ocssd_dma_read_guest(n, addr, &req->cmd, sizeof(req->cmd))) {
            ocssd_ctrl_fatal(n, "submission queue entry read failed");
            break;
        }
        if (!ocssd_request_charge(n, sq, req)) {
            break;
        }
        sq->head = (sq->head + 1) % sq->size;
        QTAILQ_REMOVE(&sq->free_list, req, entry_list);
        QTAILQ_INSERT_TAIL(&sq->out_list, req, entry_list);
        n->reqs_working++;
        memset(&req->cqe, 0, sizeof(req->cqe));
        req->status = NVME_SUCCESS;
        req->err_param = 0xffff;
        req->err_lba = 0;
        req->due_ns = 0;
        trace_ocssd_cmd(sq->sqid, req->cmd.cid, req->cmd.opcode,
                        le32_to_cpu(req->cmd.nsid));

        if (NVME_CMD_FLAGS_FUSE(req->cmd.flags)) {
            qemu_log_mask(LOG_GUEST_ERROR, "ocssd: fused commands are not "
                          "supported (cid %u)\n", req->cmd.cid);
            trace_ocssd_err_fused(req->cmd.cid);
            status = NVME_INVALID_FIELD | NVME_DNR;
        } else if (sq->sqid == 0) {
            status = ocssd_admin_cmd(n, req);
        } else {
            status = ocssd_io_cmd(n, req);
        }
        if (status != NVME_NO_COMPLETE) {
            req->status = status;
            ocssd_request_complete(req);
        }
    }
    /* Caught up with the shadow tail: ask for a ring past it, look again. */
    if (sq->head == sq->tail && ocssd_shadow_on(n, sq->sqid) &&
        ocssd_sq_may_fetch(n, sq)) {
        ocssd_shadow_publish(n, sq->sqid, false, sq->tail);
        if (ocssd_sq_shadow_tail(n, sq)) {
            goto again;
        }
    }
    sq->processing = false;
    if (ocssd_sq_orphaned(n, sq)) {
        ocssd_sq_free_if_idle(sq);
    }
}

/* The VM runs (again): fetch what waited, post what waited. */
void ocssd_ctrl_kick(OcssdCtrl *n)
{
    uint32_t i;

    for (i = 0; i < n->params.num_queues; i++) {
        if (n->sq[i]) {
            qemu_bh_schedule(n->sq[i]->bh);
        }
        if (n->cq[i] && !QTAILQ_EMPTY(&n->cq[i]->req_list)) {
            qemu_bh_schedule(n->cq[i]->bh);
        }
    }
}

/* ---- queue management ----------------------------------------------- */

static void ocssd_sq_free(OcssdSQ *sq)
{
    OcssdCtrl *n = sq->ctrl;

    if (sq->orphan) {
        g_assert(n->orphans > 0);
        if (--n->orphans == 0 && n->reset_pending) {
            ocssd_ctrl_reset_done(n);
        }
    }
    ocssd_sq_stop_waiting(n, sq);
    qemu_bh_delete(sq->bh);
    g_free(sq->reqs);
    g_free(sq);
}

uint16_t ocssd_create_sq(OcssdCtrl *n, uint16_t sqid, uint16_t cqid,
                         hwaddr addr, uint32_t size)
{
    OcssdCQ *cq = n->cq[cqid];
    OcssdSQ *sq = g_new0(OcssdSQ, 1);
    uint32_t i;

    sq->ctrl = n;
    sq->sqid = sqid;
    sq->cqid = cqid;
    sq->size = size;
    sq->dma_addr = addr;
    sq->bh = ocssd_bh_new(ocssd_process_sq, sq, DEVICE(n));
    sq->reqs = g_new0(OcssdRequest, size);
    QTAILQ_INIT(&sq->free_list);
    QTAILQ_INIT(&sq->out_list);
    for (i = 0; i < size; i++) {
        sq->reqs[i].sq = sq;
        QTAILQ_INSERT_TAIL(&sq->free_list, &sq->reqs[i], entry_list);
    }
    QTAILQ_INSERT_TAIL(&cq->sq_list, sq, cq_entry);
    n->sq[sqid] = sq;
    trace_ocssd_create_sq(sqid, cqid, addr, size);
    return NVME_SUCCESS;
}

/*
 * Take an SQ out of service.  Completions waiting in its CQ are dropped;
 * commands still in flight finish later against the orphaned queue.
 * True when the queue is gone; otherwise waiter (a Delete I/O SQ, or
 * NULL) completes when its last command has finished.
 */
bool ocssd_delete_sq(OcssdCtrl *n, uint16_t sqid, OcssdRequest *waiter)
{
    OcssdSQ *sq = n->sq[sqid];
    OcssdCQ *cq = n->cq[sq->cqid];
    OcssdRequest *req, *next;

    trace_ocssd_delete_sq(sqid, !QTAILQ_EMPTY(&sq->out_list));
    n->sq[sqid] = NULL;
    ocssd_sq_stop_waiting(n, sq);
    if (cq) {
        QTAILQ_REMOVE(&cq->sq_list, sq, cq_entry);
        QTAILQ_FOREACH_SAFE(req, &cq->req_list, entry_list, next) {
            if (req->sq == sq) {
                QTAILQ_REMOVE(&cq->req_list, req, entry_list);
                QTAILQ_INSERT_TAIL(&sq->out_list, req, entry_list);
                ocssd_io_request_release(req);
                QTAILQ_REMOVE(&sq->out_list, req, entry_list);
                QTAILQ_INSERT_TAIL(&sq->free_list, req, entry_list);
            }
        }
    }
    qemu_bh_cancel(sq->bh);
    if (sq->processing || !QTAILQ_EMPTY(&sq->out_list)) {
        sq->orphan = true;
        sq->delete_req = waiter;
        n->orphans++;
        return false;
    }
    ocssd_sq_free(sq);
    return true;
}

uint16_t ocssd_create_cq(OcssdCtrl *n, uint16_t cqid, uint16_t vector,
                         bool irq_enabled, hwaddr addr, uint32_t size)
{
    OcssdCQ *cq = g_new0(OcssdCQ, 1);

    cq->ctrl = n;
    cq->cqid = cqid;
    cq->vector = vector;
    cq->irq_enabled = irq_enabled;
    cq->size = size;
    cq->dma_addr = addr;
    cq->phase = 1;
    cq->bh = ocssd_bh_new(ocssd_post_cqes, cq, DEVICE(n));
    cq->coalesce_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL,
                                      ocssd_coalesce_timer, cq);
    QTAILQ_INIT(&cq->sq_list);
    QTAILQ_INIT(&cq->req_list);
    if (msix_present(PCI_DEVICE(n)) && irq_enabled) {
        msix_vector_use(PCI_DEVICE(n), vector);
    }
    n->cq[cqid] = cq;
    trace_ocssd_create_cq(cqid, vector, irq_enabled, addr, size);
    return NVME_SUCCESS;
}

void ocssd_delete_cq(OcssdCtrl *n, uint16_t cqid)
{
    OcssdCQ *cq = n->cq[cqid];

    trace_ocssd_delete_cq(cqid);
    n->cq[cqid] = NULL;
    qemu_bh_delete(cq->bh);
    timer_free(cq->coalesce_timer);
    if (msix_present(PCI_DEVICE(n)) && cq->irq_enabled) {
        msix_vector_unuse(PCI_DEVICE(n), cq->vector);
    }
    if (cq->irq_enabled) {
        n->irq_status &= ~(1u << (cq->vector % 32));
        if (ocssd_vector_pending(n, cq->vector)) {
            n->irq_status |= 1u << (cq->vector % 32);
        }
        ocssd_intx_update(n);
    }
    g_free(cq);
}

void ocssd_ctrl_free_queues(OcssdCtrl *n)
{
    int64_t i;

    for (i = n->params.num_queues - 1; i >= 0; i--) {
        if (n->sq[i]) {
            ocssd_delete_sq(n, i, NULL);
        }
    }
    for (i = n->params.num_queues - 1; i >= 0; i--) {
        if (n->cq[i]) {
            ocssd_delete_cq(n, i);
        }
    }
}

/*
 * The orphans of a controller reset are gone: nothing touches host memory
 * any more, so CSTS.RDY may read 0 (and a CC.EN the host set too early
 * takes effect).
 */
void ocssd_ctrl_reset_done(OcssdCtrl *n)
{
    n->reset_pending = false;
    stl_le_p(&n->bar.csts, ldl_le_p(&n->bar.csts) & ~NVME_CSTS_READY);
    trace_ocssd_ctrl_reset_done(n->start_deferred);
    if (n->start_deferred) {
        n->start_deferred = false;
        ocssd_ctrl_start(n);
    }
}

/*
 * Controller reset (CC.EN 1 -> 0, or a PCI/system reset): every queue
 * goes, outstanding AERs are dropped, features return to their defaults.
 * CSTS.RDY stays 1 until the commands still in flight are done.
 */
void ocssd_ctrl_reset(OcssdCtrl *n)
{
    trace_ocssd_ctrl_reset(n->orphans);
    n->start_deferred = false;
    ocssd_ctrl_free_queues(n);
    ocssd_aer_drop_outstanding(n);
    n->irq_status = 0;
    n->num_io_queues = n->params.num_queues - 1;
    n->queues_created = false;
    n->shutdown_gen++;
    n->start_pending = false;
    memset(&n->dbbuf, 0, sizeof(n->dbbuf));
    ocssd_features_init(n);
    stl_le_p(&n->bar.intms, 0);
    stl_le_p(&n->bar.intmc, 0);
    stl_le_p(&n->bar.cc, 0);
    n->reset_pending = n->orphans > 0;
    stl_le_p(&n->bar.csts, n->reset_pending ?
             ldl_le_p(&n->bar.csts) & NVME_CSTS_READY : 0);
    ocssd_intx_update(n);
    pci_irq_deassert(PCI_DEVICE(n));
}

/*
 * A reset that cannot wait (system reset, unplug): drain the block layer
 * and release what the timing model holds.
 */
void ocssd_ctrl_reset_sync(OcssdCtrl *n)
{
    ocssd_ctrl_reset(n);
    if (n->reset_pending && n->store.blk) {
        blk_drain(n->store.blk);
    }
    /* Completions the timing model holds: their queues are gone. */
    ocssd_latency_release_all(n);
}

/* ---- registers ------------------------------------------------------- */

void ocssd_ctrl_init_registers(OcssdCtrl *n)
{
    uint64_t cap = 0;

    NVME_CAP_SET_MQES(cap, n->params.mqes);
    NVME_CAP_SET_CQR(cap, 1);
    NVME_CAP_SET_TO(cap, 0xf);              /* 7.5 s ready timeout */
    NVME_CAP_SET_DSTRD(cap, 0);
    NVME_CAP_SET_NSSRS(cap, 0);
    NVME_CAP_SET_CSS(cap, 1);               /* NVM command set */
    NVME_CAP_SET_MPSMIN(cap, 0);            /* 4 KiB */
    NVME_CAP_SET_MPSMAX(cap, 4);            /* 64 KiB */
    memset(&n->bar, 0, sizeof(n->bar));
    stq_le_p(&n->bar.cap, cap);
    stl_le_p(&n->bar.vs, 0x00010300);       /* NVMe 1.3 */
}

static void ocssd_ctrl_ready(void *opaque, int ret)
{
    OcssdCtrl *n = opaque;

    if (!n->start_pending) {
        return;         /* reset while starting */
    }
    n->start_pending = false;
    if (ret < 0) {
        /*
         * The image cannot be marked in use: a crash from here on would
         * not be counted as an unsafe shutdown.  The host may reset and
         * try again.
         */
        ocssd_ctrl_fatal(n, "the image cannot be marked in use (header "
                         "write failed)");
        return;
    }
    stl_le_p(&n->bar.csts, ldl_le_p(&n->bar.csts) | NVME_CSTS_READY);
    trace_ocssd_ctrl_ready(ret);
}

/*
 * CC.EN 0 -> 1.  Invalid admin queue or memory page settings are host
 * misprogramming: report CSTS.CFS instead of becoming ready.  An image a
 * shutdown notification left clean is marked in use (DIRTY) again before
 * CSTS.RDY.
 */
static void ocssd_ctrl_start(OcssdCtrl *n)
{
    uint32_t cc = ldl_le_p(&n->bar.cc), aqa = ldl_le_p(&n->bar.aqa);
    uint64_t cap = ldq_le_p(&n->bar.cap);
    uint64_t asq = ldq_le_p(&n->bar.asq), acq = ldq_le_p(&n->bar.acq);
    uint32_t mps = NVME_CC_MPS(cc);
    uint32_t page_size = 1u << (12 + mps);

    if (mps < NVME_CAP_MPSMIN(cap) || mps > NVME_CAP_MPSMAX(cap)) {
        ocssd_ctrl_fatal(n, "CC.MPS outside CAP.MPSMIN..MPSMAX");
        return;
    }
    if (NVME_CC_CSS(cc) != NVME_CC_CSS_NVM) {
        ocssd_ctrl_fatal(n, "CC.CSS selects an unsupported command set");
        return;
    }
    if (NVME_CC_AMS(cc) != 0) {
        ocssd_ctrl_fatal(n, "CC.AMS selects an unsupported arbitration");
        return;
    }
    if (!NVME_AQA_ASQS(aqa) || !NVME_AQA_ACQS(aqa)) {
        ocssd_ctrl_fatal(n, "AQA: admin queues need at least 2 entries");
        return;
    }
    if (!asq || !acq || (asq & (page_size - 1)) || (acq & (page_size - 1))) {
        ocssd_ctrl_fatal(n, "ASQ/ACQ not set or not page aligned");
        return;
    }
    n->page_bits = 12 + mps;
    n->page_size = page_size;
    ocssd_create_cq(n, 0, 0, true, acq, NVME_AQA_ACQS(aqa) + 1);
    ocssd_create_sq(n, 0, 0, asq, NVME_AQA_ASQS(aqa) + 1);
    trace_ocssd_ctrl_start(asq, acq, NVME_AQA_ASQS(aqa) + 1,
                           NVME_AQA_ACQS(aqa) + 1, page_size);
    n->start_pending = true;
    ocssd_store_mark_dirty(n, true, ocssd_ctrl_ready, n);
}

/*
 * A shutdown notification's work, which belongs to one CC.SHN: a later
 * one (after CC.SHN went back to 0, or a reset) must not be completed by
 * an earlier one's flush.
 */
typedef struct OcssdShutdown {
    OcssdCtrl   *ctrl;
    uint32_t    gen;
} OcssdShutdown;

static bool ocssd_shutdown_current(OcssdShutdown *sd)
{
    if (sd->gen == sd->ctrl->shutdown_gen) {
        return true;
    }
    trace_ocssd_shutdown_stale(sd->gen, sd->ctrl->shutdown_gen);
    g_free(sd);
    return false;
}

/* Shutdown notification, step 3: CSTS.SHST complete. */
static void ocssd_shutdown_clean(void *opaque, int ret)
{
    OcssdShutdown *sd = opaque;
    OcssdCtrl *n = sd->ctrl;
    uint32_t csts;

    if (!ocssd_shutdown_current(sd)) {
        return;
    }
    g_free(sd);
    if (ret < 0) {
        trace_ocssd_err_shutdown_flush(ret);
    }
    csts = ldl_le_p(&n->bar.csts) & ~(CSTS_SHST_MASK << CSTS_SHST_SHIFT);
    stl_le_p(&n->bar.csts, csts | NVME_CSTS_SHST_COMPLETE);
    trace_ocssd_shutdown_complete();
}

/*
 * Shutdown notification, step 2: everything accepted is durable; leave
 * the image clean (no unsafe shutdown if the power goes now).
 */
static void ocssd_shutdown_flushed(void *opaque, int ret)
{
    OcssdShutdown *sd = opaque;

    if (!ocssd_shutdown_current(sd)) {
        return;
    }
    if (ret < 0) {
        /* Not durable: the image stays DIRTY. */
        ocssd_shutdown_clean(sd, ret);
        return;
    }
    ocssd_store_mark_dirty(sd->ctrl, false, ocssd_shutdown_clean, sd);
}

static void ocssd_write_cc(OcssdCtrl *n, uint32_t val)
{
    uint32_t cc = ldl_le_p(&n->bar.cc), csts = ldl_le_p(&n->bar.csts);

    trace_ocssd_write_cc(val);
    if (NVME_CC_EN(val) && !NVME_CC_EN(cc)) {
        stl_le_p(&n->bar.cc, val);
        if (n->reset_pending) {
            /* The host did not wait for CSTS.RDY = 0: start after it. */
            n->start_deferred = true;
            return;
        }
        ocssd_ctrl_start(n);
        return;
    }
    if (!NVME_CC_EN(val) && NVME_CC_EN(cc)) {
        ocssd_ctrl_reset(n);
        stl_le_p(&n->bar.cc, val);
        return;
    }
    stl_le_p(&n->bar.cc, val);
    if (NVME_CC_SHN(val) && !NVME_CC_SHN(cc)) {
        /* Shutdown notification: make everything durable. */
        OcssdShutdown *sd = g_new0(OcssdShutdown, 1);

        csts &= ~(CSTS_SHST_MASK << CSTS_SHST_SHIFT);
        stl_le_p(&n->bar.csts, csts | NVME_CSTS_SHST_PROGRESS);
        sd->ctrl = n;
        sd->gen = ++n->shutdown_gen;
        trace_ocssd_shutdown_start(NVME_CC_SHN(val));
        ocssd_store_flush(n, true, ocssd_shutdown_flushed, sd);
    } else if (!NVME_CC_SHN(val) && NVME_CC_SHN(cc)) {
        /* Back in use without a reset. */
        csts &= ~(CSTS_SHST_MASK << CSTS_SHST_SHIFT);
        stl_le_p(&n->bar.csts, csts);
        n->shutdown_gen++;
        ocssd_store_mark_dirty(n, true, NULL, NULL);
    }
}

static void ocssd_reg_guest_error(hwaddr addr, uint64_t val, unsigned size,
                                  const char *why)
{
    qemu_log_mask(LOG_GUEST_ERROR, "ocssd: %u-byte write of 0x%" PRIx64
                  " to register 0x%" HWADDR_PRIx " ignored: %s\n", size, val,
                  addr, why);
    trace_ocssd_err_reg_write(addr, val, size, why);
}

static void ocssd_write_reg(OcssdCtrl *n, hwaddr addr, uint64_t val,
                            unsigned size)
{
    bool enabled = NVME_CC_EN(ldl_le_p(&n->bar.cc));

    if (size == 8 && addr != NVME_REG_ASQ && addr != NVME_REG_ACQ) {
        /* A 64-bit access elsewhere is two 32-bit ones. */
        ocssd_write_reg(n, addr, (uint32_t)val, 4);
        ocssd_write_reg(n, addr + 4, val >> 32, 4);
        return;
    }

    switch (addr) {
    case NVME_REG_INTMS:
    case NVME_REG_INTMC:
        if (msix_enabled(PCI_DEVICE(n))) {
            ocssd_reg_guest_error(addr, val, size,
                                  "INTMS/INTMC are undefined with MSI-X");
            return;
        }
        if (addr == NVME_REG_INTMS) {
            val = ldl_le_p(&n->bar.intms) | val;
        } else {
            val = ldl_le_p(&n->bar.intms) & ~val;
        }
        stl_le_p(&n->bar.intms, val);
        stl_le_p(&n->bar.intmc, val);
        trace_ocssd_write_intm(val);
        ocssd_intx_update(n);
        return;
    case NVME_REG_CC:
        ocssd_write_cc(n, val);
        return;
    case NVME_REG_AQA:
        if (enabled) {
            ocssd_reg_guest_error(addr, val, size,
                                  "AQA changed while CC.EN is 1");
            return;
        }
        stl_le_p(&n->bar.aqa, val & 0x0fff0fff);
        return;
    case NVME_REG_ASQ:
    case NVME_REG_ASQ + 4:
    case NVME_REG_ACQ:
    case NVME_REG_ACQ + 4:
        if (enabled) {
            ocssd_reg_guest_error(addr, val, size,
                                  "ASQ/ACQ changed while CC.EN is 1");
            return;
        }
        if (size == 8) {
            stq_le_p((uint8_t *)&n->bar + addr, val & ~0xfffULL);
        } else if (addr & 4) {
            stl_le_p((uint8_t *)&n->bar + addr, val);
        } else {
            stl_le_p((uint8_t *)&n->bar + addr, val & ~0xfffu);
        }
        return;
    case NVME_REG_CAP:
    case NVME_REG_CAP + 4:
    case NVME_REG_VS:
    case NVME_REG_CSTS:
    case NVME_REG_CMBLOC:
    case NVME_REG_CMBSZ:
        ocssd_reg_guest_error(addr, val, size, "read-only register");
        return;
    case NVME_REG_NSSR:
        ocssd_reg_guest_error(addr, val, size,
                              "NVM subsystem reset is not supported");
        return;
    default:
        ocssd_reg_guest_error(addr, val, size, "reserved register");
        return;
    }
}

/* ---- doorbells ------------------------------------------------------- */

static void ocssd_db_error(OcssdCtrl *n, hwaddr addr, uint64_t val,
                           uint8_t aer_info, const char *why)
{
    qemu_log_mask(LOG_GUEST_ERROR, "ocssd: doorbell write 0x%" PRIx64
                  " at 0x%" HWADDR_PRIx " ignored: %s\n", val, addr, why);
    trace_ocssd_err_doorbell(addr, val, why);
    ocssd_aer_enqueue(n, NVME_AER_TYPE_ERROR, aer_info, NVME_LOG_ERROR_INFO);
}

static void ocssd_write_doorbell(OcssdCtrl *n, hwaddr addr, uint64_t val)
{
    uint64_t idx = (addr - OCSSD_DB_BASE) >> 2;
    uint32_t qid = idx >> 1;

    if (!ocssd_enabled(n) || ocssd_failed(n)) {
        qemu_log_mask(LOG_GUEST_ERROR, "ocssd: doorbell write while the "
                      "controller is not ready\n");
        trace_ocssd_err_doorbell(addr, val, "controller not ready");
        return;
    }
    if (addr & 3) {
        ocssd_db_error(n, addr, val, NVME_AER_INFO_ERR_INVALID_DB_REGISTER,
                       "misaligned doorbell");
        return;
    }
    if (qid >= n->params.num_queues) {
        ocssd_db_error(n, addr, val, NVME_AER_INFO_ERR_INVALID_DB_REGISTER,
                       "beyond the last queue");
        return;
    }

    if (idx & 1) {
        OcssdCQ *cq = n->cq[qid];

        if (!cq) {
            ocssd_db_error(n, addr, val,
                           NVME_AER_INFO_ERR_INVALID_DB_REGISTER,
                           "completion queue does not exist");
            return;
        }
        if (val > 0xffff || !ocssd_cq_head_valid(cq, val)) {
            ocssd_db_error(n, addr, val, NVME_AER_INFO_ERR_INVALID_DB_VALUE,
                           "CQ head beyond the entries posted");
            return;
        }
        trace_ocssd_db_cq(qid, val);
        cq->head = val;
        if (ocssd_shadow_on(n, qid) && !msix_enabled(PCI_DEVICE(n))) {
            /* A level interrupt needs every head: ask for the next one. */
            ocssd_shadow_publish(n, qid, true, cq->head);
        }
        if (cq->irq_enabled && cq->head == cq->tail &&
            !ocssd_vector_pending(n, cq->vector)) {
            n->irq_status &= ~(1u << (cq->vector % 32));
            ocssd_intx_update(n);
        }
        if (!QTAILQ_EMPTY(&cq->req_list)) {
            qemu_bh_schedule(cq->bh);
        }
    } else {
        OcssdSQ *sq = n->sq[qid];

        if (!sq) {
            ocssd_db_error(n, addr, val,
                           NVME_AER_INFO_ERR_INVALID_DB_REGISTER,
                           "submission queue does not exist");
            return;
        }
        if (val >= sq->size) {
            ocssd_db_error(n, addr, val, NVME_AER_INFO_ERR_INVALID_DB_VALUE,
                           "SQ tail beyond the queue size");
            return;
        }
        trace_ocssd_db_sq(qid, val);
        sq->tail = val;
        qemu_bh_schedule(sq->bh);
    }
}

/* ---- MMIO ------------------------------------------------------------ */

static uint64_t ocssd_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    OcssdCtrl *n = opaque;
    uint64_t val = 0;

    if (addr & (size - 1)) {
        qemu_log_mask(LOG_GUEST_ERROR, "ocssd: misaligned %u-byte read at "
                      "0x%" HWADDR_PRIx "\n", size, addr);
        trace_ocssd_err_mmio_read(addr, size);
        return 0;
    }
    if (addr < sizeof(n->bar) && addr + size <= sizeof(n->bar)) {
        val = ldn_le_p((uint8_t *)&n->bar + addr, size);
    }
    trace_ocssd_mmio_read(addr, size, val);
    return val;
}

static void ocssd_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    OcssdCtrl *n = opaque;

    trace_ocssd_mmio_write(addr, size, val);
    if (addr & (size - 1)) {
        qemu_log_mask(LOG_GUEST_ERROR, "ocssd: misaligned %u-byte write at "
                      "0x%" HWADDR_PRIx " ignored\n", size, addr);
        trace_ocssd_err_reg_write(addr, val, size, "misaligned");
        return;
    }
    if (addr < OCSSD_DB_BASE) {
        ocssd_write_reg(n, addr, val, size);
    } else if (size == 8) {
        /* Doorbells are 32 bits wide: a 64-bit write rings two. */
        ocssd_write_doorbell(n, addr, (uint32_t)val);
        ocssd_write_doorbell(n, addr + 4, val >> 32);
    } else {
        ocssd_write_doorbell(n, addr, val);
    }
}

const MemoryRegionOps ocssd_mmio_ops = {
    .read = ocssd_mmio_read,
    .write = ocssd_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

/* ---- error information log ------------------------------------------ */

void ocssd_error_log_add(OcssdCtrl *n, OcssdRequest *req)
{
    NvmeErrorLog *e = &n->error_log[n->error_count % OCSSD_ERROR_LOG_ENTRIES];

    memset(e, 0, sizeof(*e));
    e->error_count = cpu_to_le64(++n->error_count);
    e->sqid = cpu_to_le16(req->sq->sqid);
    e->cid = req->cmd.cid;
    e->status_field = cpu_to_le16(req->status << 1);
    e->param_error_location = cpu_to_le16(req->err_param);
    e->lba = cpu_to_le64(req->err_lba);
    e->nsid = req->cmd.nsid;
}
