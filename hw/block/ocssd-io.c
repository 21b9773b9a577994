/*
 * ocssd: NVM and Open-Channel 2.0 vector I/O commands
 *
 * Standard Read/Write expand their range into per-sector entries, vector
 * commands read their LBA list into entries; from there both take the same
 * path: decode, the media rules (ocssd-media.c), fault injection, data
 * mapping (ocssd-dma.c) into a bounce buffer, and block I/O on the image
 * (ocssd-store.c), coalesced into runs of consecutive sectors.
 *
 * Writes are checked and the write pointer advanced when a command is
 * accepted, so several appends to one chunk may be in flight at once.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "ocssd.h"
#include "trace.h"

static uint16_t ocssd_io_invalid(OcssdRequest *req, uint16_t status,
                                 const char *why)
{
    qemu_log_mask(LOG_GUEST_ERROR, "ocssd: I/O opcode 0x%02x cid %u: %s\n",
                  req->cmd.opcode, req->cmd.cid, why);
    trace_ocssd_err_io(req->cmd.opcode, req->cmd.cid, why);
    return status | NVME_DNR;
}

void ocssd_io_request_release(OcssdRequest *req)
{
    ocssd_request_unmap(req);
    g_free(req->entry);
    g_free(req->dst);
    g_free(req->buf);
    g_free(req->mbuf);
    req->entry = req->dst = NULL;
    req->buf = req->mbuf = NULL;
    req->nentry = 0;
    req->len = req->mlen = 0;
    req->is_vector = false;
    req->fua = false;
    req->aio_pending = 0;
    req->aio_ret = 0;
    req->aio_done = NULL;
    req->ticket = NULL;
    req->opaque = NULL;
    memset(&req->acct, 0, sizeof(req->acct));
}

static void ocssd_io_complete(OcssdRequest *req, uint16_t status)
{
    req->status = status;
    ocssd_request_complete(req);
}

/* ---- per-entry results -------------------------------------------------- */

/* High ECC is a success with information: the data is returned. */
static bool ocssd_status_failed(uint16_t status)
{
    return status != NVME_SUCCESS && (status & ~NVME_DNR) != OCSSD_HIGH_ECC;
}

static bool ocssd_entry_failed(const OcssdIoEntry *e)
{
    return ocssd_status_failed(e->status);
}

/*
 * A vector command reports failed entries in the 64-bit bitmap of CQE
 * dwords 0-1 and the first failure (in list order) as its status.  High
 * ECC is a success with information: an entry that needed it has its bit
 * set too, but the command reports High ECC only when no entry failed, or
 * a host would take a failed entry's zeroes for data.  Standard commands
 * have no bitmap (and up to 64 Ki entries).
 */
static uint16_t ocssd_io_result(OcssdRequest *req, const OcssdIoEntry *e,
                                const OcssdIoEntry *dst)
{
    OcssdMedia *m = &ocssd_req_ctrl(req)->media;
    uint64_t bitmap = 0, info_lba = 0;
    uint16_t failed = NVME_SUCCESS, info = NVME_SUCCESS;
    unsigned i;

    for (i = 0; i < req->nentry; i++) {
        /* Copy: a failed destination outranks a High ECC source. */
        const OcssdIoEntry *f = dst && !ocssd_entry_failed(&e[i]) &&
                                dst[i].status ? &dst[i] : &e[i];
        uint16_t st = f->status;
        bool decoded;

        if (!st) {
            continue;
        }
        decoded = f->lba < m->nsze && f->chunk < m->nchunks &&
                  (st & ~NVME_DNR) != NVME_LBA_RANGE;
        trace_ocssd_io_entry_failed(req->cmd.cid, i, f->lba,
            decoded ? ocssd_chunk_state_name(m->chunk[f->chunk].state) :
                      "none", decoded ? m->chunk[f->chunk].wp : 0, st);
        if (i < 64) {
            bitmap |= 1ULL << i;
        }
        if (!ocssd_status_failed(st)) {
            if (!info) {
                info = st;
                info_lba = e[i].lba;
            }
        } else if (!failed) {
            failed = st;
            req->err_lba = e[i].lba;
        }
    }
    if (!failed && info) {
        req->err_lba = info_lba;
    }
    if (req->is_vector) {
        req->cqe.result = cpu_to_le32(bitmap);
        req->cqe.dw1 = cpu_to_le32(bitmap >> 32);
    }
    trace_ocssd_io_result(req->cmd.cid, bitmap, failed ? failed : info);
    return failed ? failed : info;
}

/*
 * A failure of the whole command after the per-entry rules ran (moving
 * the data, block I/O): every entry failed, whatever the rules said, and
 * the bitmap must say so, or a host would take some entries as done.
 */
static uint16_t ocssd_io_fail_all(OcssdRequest *req, uint16_t status)
{
    uint64_t all = req->nentry >= 64 ? UINT64_MAX :
                   (1ULL << req->nentry) - 1;

    if (req->is_vector) {
        req->cqe.result = cpu_to_le32(all);
        req->cqe.dw1 = cpu_to_le32(all >> 32);
    }
    trace_ocssd_io_result(req->cmd.cid, all, status);
    return status;
}

static unsigned ocssd_io_count_ok(const OcssdIoEntry *e, unsigned n)
{
    unsigned i, ok = 0;

    for (i = 0; i < n; i++) {
        ok += !ocssd_entry_failed(&e[i]);
    }
    return ok;
}

/* ---- block I/O in runs --------------------------------------------------- */

typedef bool OcssdEntryFilter(const OcssdIoEntry *e);

static bool ocssd_entry_skipped(const OcssdIoEntry *e)
{
    return (e->status & ~NVME_DNR) == OCSSD_WRITE_NEXT_UNIT;
}

/*
 * Written: the sectors a write stores, and those a Write Next Unit failure
 * consumed (stored as zeroes, so they never show an earlier generation's
 * data).
 */
static bool ocssd_entry_to_write(const OcssdIoEntry *e)
{
    return e->status == NVME_SUCCESS || ocssd_entry_skipped(e);
}

static bool ocssd_entry_to_read(const OcssdIoEntry *e)
{
    return !ocssd_entry_failed(e) && !e->zeroes;
}

/*
 * Issue block I/O for the entries the filter selects, one request per run
 * of consecutive sectors (and, with @meta, one per run of their
 * metadata).  Buffer position i belongs to entry i.
 */
static void ocssd_io_issue(OcssdCtrl *n, OcssdRequest *req,
                           const OcssdIoEntry *e, bool is_write, bool meta,
                           OcssdEntryFilter *filter, BdrvRequestFlags flags)
{
    const OcssdMediaParams *p = &n->media.p;
    unsigned i = 0, j;

    while (i < req->nentry) {
        if (!filter(&e[i])) {
            i++;
            continue;
        }
        for (j = i + 1; j < req->nentry && filter(&e[j]) &&
             e[j].sector == e[j - 1].sector + 1; j++) {
            /* extend the run */
        }
        trace_ocssd_io_run(req->cmd.cid, is_write, e[i].sector, j - i);
        ocssd_store_aio_rw(n, req, is_write, false, e[i].sector, j - i,
                           req->buf + (size_t)i * p->sec_size, flags);
        if (meta && p->md_size) {
            ocssd_store_aio_rw(n, req, is_write, true, e[i].sector, j - i,
                               req->mbuf + (size_t)i * p->md_size, flags);
        }
        i = j;
    }
}

static void ocssd_io_buffers(OcssdCtrl *n, OcssdRequest *req)
{
    const OcssdMediaParams *p = &n->media.p;

    req->len = (size_t)req->nentry * p->sec_size;
    req->mlen = (size_t)req->nentry * p->md_size;
    req->buf = g_malloc0(req->len);
    req->mbuf = req->mlen ? g_malloc0(req->mlen) : NULL;
}

/*
 * Map the host's data (DPTR) and metadata (MPTR) buffers.  Decision: an
 * MPTR of 0 means the host moves no metadata (it reads nothing back; a
 * write stores zeroed metadata), rather than DMA to physical address 0.
 */
static uint16_t ocssd_io_map_host(OcssdCtrl *n, OcssdRequest *req)
{
    uint16_t status = ocssd_map_dptr(n, req, req->len);

    if (!status && req->mlen && req->cmd.mptr) {
        status = ocssd_map_mptr(n, req, req->mlen);
    }
    return status;
}

static uint16_t ocssd_io_meta_to_guest(OcssdCtrl *n, OcssdRequest *req)
{
    if (!req->meta_qsg.nsg) {
        return NVME_SUCCESS;
    }
    return ocssd_dma_to_guest(n, &req->meta_qsg, req->mbuf, req->mlen);
}

static void ocssd_io_account(OcssdCtrl *n, OcssdRequest *req, bool is_write,
                             const OcssdIoEntry *e)
{
    uint64_t units = (uint64_t)ocssd_io_count_ok(e, req->nentry) *
                     n->media.p.sec_size / 512;

    if (is_write) {
        n->smart.write_cmds++;
        n->smart.units_written += units;
    } else {
        n->smart.read_cmds++;
        n->smart.units_read += units;
    }
}

/* ---- the timing model ------------------------------------------------- */

/*
 * Tell the timing model (ocssd-latency.c) the media operations of the
 * entries: sectors read (what the host gets back: High ECC and unwritten
 * sectors included) or programmed (a Write Next Unit failure's padding
 * too).  Entries refused by the rules or failed by an injection cost no
 * time.  Between ocssd_latency_begin() and ocssd_latency_end().
 */
static void ocssd_io_time(OcssdCtrl *n, const OcssdIoEntry *e, unsigned cnt,
                          bool is_write)
{
    unsigned i;

    for (i = 0; i < cnt; i++) {
        if (is_write && ocssd_entry_to_write(&e[i])) {
            ocssd_latency_program(n, &e[i]);
        } else if (!is_write && !ocssd_entry_failed(&e[i])) {
            ocssd_latency_read(n, &e[i]);
        }
    }
}

/* ---- fault injection on entries ----------------------------------------- */

/*
 * An injected write failure takes the chunk's whole share of the command
 * with it (writes to a chunk are all-or-nothing within a command).
 */
static void ocssd_io_inject_write(OcssdCtrl *n, OcssdIoEntry *e, unsigned cnt)
{
    unsigned i, j;

    for (i = 0; i < cnt; i++) {
        uint16_t st;

        if (e[i].status != NVME_SUCCESS) {
            continue;
        }
        st = ocssd_fault_write(n, &e[i]);
        if (!st) {
            continue;
        }
        n->smart.media_errors++;
        ocssd_chunk_notify(n, ocssd_chunk_slba(&n->media, e[i].chunk),
                           OCSSD_NOTIFY_ERR_HIGH, OCSSD_NOTIFY_MASK_CHUNK, 0);
        for (j = 0; j < cnt; j++) {
            if (e[j].status == NVME_SUCCESS && e[j].chunk == e[i].chunk) {
                e[j].status = st | NVME_DNR;
            }
        }
    }
}

static void ocssd_io_inject_read(OcssdCtrl *n, OcssdRequest *req,
                                 OcssdIoEntry *e, unsigned cnt)
{
    uint32_t want = req->is_vector ? OCSSD_MEDIA_FEEDBACK_VHECC :
                    OCSSD_MEDIA_FEEDBACK_HECC;
    unsigned i;

    for (i = 0; i < cnt; i++) {
        uint16_t st;

        if (e[i].status != NVME_SUCCESS || e[i].zeroes) {
            continue;
        }
        st = ocssd_fault_read(n, &e[i]);
        if (st == NVME_UNRECOVERED_READ) {
            n->smart.media_errors++;
            ocssd_chunk_notify(n, e[i].lba, OCSSD_NOTIFY_ERR_UNRECOVERABLE,
                               OCSSD_NOTIFY_MASK_SECTOR, 0);
            e[i].status = NVME_UNRECOVERED_READ | NVME_DNR;
        } else if (st == OCSSD_HIGH_ECC) {
            ocssd_chunk_notify(n, e[i].lba, OCSSD_NOTIFY_ERR_HIGH,
                               OCSSD_NOTIFY_MASK_SECTOR, 0);
            if (n->features.media_feedback & want) {
                e[i].status = OCSSD_HIGH_ECC;
            }
        }
    }
}

/* ---- writes the image lost -------------------------------------------- */

/*
 * What the entry's command did to its chunk did not reach the image: the
 * chunk fails, if it is still at the generation the command worked on
 * (entry->gen: a reset since then, or an earlier failure, leaves it).
 */
static void ocssd_io_generation_lost(OcssdCtrl *n, const OcssdIoEntry *e,
                                     const char *why)
{
    const OcssdChunk *c = &n->media.chunk[e->chunk];

    if (c->state == OCSSD_CHUNK_OFFLINE) {
        return;
    }
    if (c->erase_count != e->gen) {
        trace_ocssd_io_write_lost_stale(e->chunk, e->gen, c->erase_count);
        return;
    }
    ocssd_chunk_offline(n, e->chunk, why);
}

/*
 * The image did not take a write, or could not make it durable when the
 * host asked for that (an I/O error of the backing store): the write
 * pointers of the chunks it wrote moved past data that is not surely
 * there, so those chunks fail, as media that lose data do.  Only the
 * generation the write belongs to: a chunk reset since the write was
 * accepted holds none of its data and stays as it is.
 */
static void ocssd_io_write_lost(OcssdCtrl *n, const OcssdIoEntry *e,
                                unsigned cnt)
{
    unsigned i;

    for (i = 0; i < cnt; i++) {
        if (ocssd_entry_to_write(&e[i])) {
            ocssd_io_generation_lost(n, &e[i], "the image refused its data");
        }
    }
}

/* ---- reads --------------------------------------------------------------- */

static void ocssd_read_done(OcssdRequest *req)
{
    OcssdCtrl *n = ocssd_req_ctrl(req);
    uint16_t status;

    if (req->aio_ret < 0) {
        trace_ocssd_err_aio(req->cmd.cid, req->aio_ret);
        block_acct_failed(blk_get_stats(n->store.blk), &req->acct);
        ocssd_io_complete(req, ocssd_io_fail_all(req, NVME_UNRECOVERED_READ));
        return;
    }
    block_acct_done(blk_get_stats(n->store.blk), &req->acct);
    /* Unwritten and failed entries stay zero in the bounce buffers. */
    status = ocssd_dma_to_guest(n, &req->qsg, req->buf, req->len);
    if (!status) {
        status = ocssd_io_meta_to_guest(n, req);
    }
    ocssd_io_complete(req, status ? ocssd_io_fail_all(req, status) :
                      ocssd_io_result(req, req->entry, NULL));
}

static uint16_t ocssd_io_read(OcssdCtrl *n, OcssdRequest *req)
{
    OcssdIoEntry *e = req->entry;
    bool dulbe = NVME_ERR_REC_DULBE(n->features.err_rec);
    uint16_t status;

    ocssd_media_decode_entries(&n->media, e, req->nentry, false);
    ocssd_media_check_read(&n->media, e, req->nentry, dulbe);
    ocssd_io_inject_read(n, req, e, req->nentry);
    ocssd_io_account(n, req, false, e);

    status = ocssd_io_result(req, e, NULL);
    if ((!req->is_vector && ocssd_status_failed(status)) ||
        !ocssd_io_count_ok(e, req->nentry)) {
        return status;
    }
    ocssd_io_buffers(n, req);
    status = ocssd_io_map_host(n, req);
    if (status) {
        return ocssd_io_fail_all(req, status);
    }
    ocssd_latency_begin(n);
    ocssd_io_time(n, e, req->nentry, false);
    ocssd_latency_end(n, req);
    block_acct_start(blk_get_stats(n->store.blk), &req->acct, req->len,
                     BLOCK_ACCT_READ);
    req->aio_pending = 1;
    req->aio_done = ocssd_read_done;
    /* Metadata the host does not take back is not read (MPTR 0). */
    ocssd_io_issue(n, req, e, false, req->meta_qsg.nsg > 0,
                   ocssd_entry_to_read, 0);
    ocssd_req_aio_put(req);
    return NVME_NO_COMPLETE;
}

/* ---- writes -------------------------------------------------------------- */

/*
 * A write the host asked to be durable (FUA, or no volatile write cache)
 * whose flush failed: it may not be on stable storage, so it is lost like
 * one the image refused.
 */
static void ocssd_write_persisted(void *opaque, int ret)
{
    OcssdRequest *req = opaque;
    OcssdCtrl *n = ocssd_req_ctrl(req);

    if (ret < 0) {
        trace_ocssd_err_write_flush(req->cmd.cid, ret);
        ocssd_io_write_lost(n, req->dst ? req->dst : req->entry, req->nentry);
        ocssd_io_complete(req, ocssd_io_fail_all(req, NVME_WRITE_FAULT |
                                                 NVME_DNR));
        return;
    }
    ocssd_io_complete(req, ocssd_io_result(req, req->entry, req->dst));
}

static void ocssd_write_done(OcssdRequest *req)
{
    OcssdCtrl *n = ocssd_req_ctrl(req);

    if (req->aio_ret < 0) {
        ocssd_io_write_lost(n, req->dst ? req->dst : req->entry, req->nentry);
    }
    ocssd_store_write_end(n, req->ticket);
    req->ticket = NULL;
    if (req->aio_ret < 0) {
        trace_ocssd_err_aio(req->cmd.cid, req->aio_ret);
        block_acct_failed(blk_get_stats(n->store.blk), &req->acct);
        ocssd_io_complete(req, ocssd_io_fail_all(req, NVME_WRITE_FAULT |
                                                 NVME_DNR));
        return;
    }
    block_acct_done(blk_get_stats(n->store.blk), &req->acct);
    /* FUA, or no volatile write cache: durable before completion. */
    if (req->fua || !n->features.vwc) {
        ocssd_store_flush(n, true, ocssd_write_persisted, req);
        return;
    }
    ocssd_write_persisted(req, 0);
}

/*
 * Check decoded write entries and inject faults; what passes is accepted
 * by ocssd_write_commit() once the data is in hand.
 */
static void ocssd_write_check(OcssdCtrl *n, OcssdRequest *req,
                              OcssdIoEntry *e)
{
    unsigned i;

    if (n->store.read_only) {
        for (i = 0; i < req->nentry; i++) {
            if (!e[i].status) {
                e[i].status = NVME_WRITE_FAULT | NVME_DNR;
            }
        }
        trace_ocssd_err_read_only(req->cmd.cid);
        return;
    }
    ocssd_media_check_write(&n->media, e, req->nentry);
    ocssd_io_inject_write(n, e, req->nentry);
}

static void ocssd_write_commit(OcssdCtrl *n, OcssdRequest *req,
                               OcssdIoEntry *e)
{
    unsigned i;

    ocssd_media_commit_write(&n->media, e, req->nentry);
    for (i = 0; i < req->nentry; i++) {
        if (ocssd_entry_to_write(&e[i])) {
            e[i].gen = n->media.chunk[e[i].chunk].erase_count;
        }
        if (!ocssd_entry_failed(&e[i]) ||
            (e[i].status & ~NVME_DNR) == OCSSD_CHUNK_EARLY_CLOSE ||
            (e[i].status & ~NVME_DNR) == OCSSD_WRITE_NEXT_UNIT) {
            trace_ocssd_chunk_write(e[i].chunk, e[i].addr.sec,
                                    n->media.chunk[e[i].chunk].state,
                                    n->media.chunk[e[i].chunk].wp);
            ocssd_store_chunk_changed(n, e[i].chunk);
        }
    }
    req->ticket = ocssd_store_write_begin(n, e, req->nentry);
}

/*
 * No sector to store: the failures the rules and injections gave still
 * take effect (an early close closes the chunk, a Write Next Unit failure
 * with data to skip does not come here).
 */
static void ocssd_write_commit_nothing(OcssdCtrl *n, OcssdRequest *req,
                                       OcssdIoEntry *e)
{
    ocssd_write_commit(n, req, e);
    ocssd_store_write_end(n, req->ticket);
    req->ticket = NULL;
}

static bool ocssd_io_any_skipped(const OcssdIoEntry *e, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        if (ocssd_entry_skipped(&e[i])) {
            return true;
        }
    }
    return false;
}

static uint16_t ocssd_io_write(OcssdCtrl *n, OcssdRequest *req)
{
    const OcssdMediaParams *p = &n->media.p;
    OcssdIoEntry *e = req->entry;
    bool has_data, skipped;
    uint16_t status;
    unsigned i;

    ocssd_media_decode_entries(&n->media, e, req->nentry, true);
    ocssd_write_check(n, req, e);
    ocssd_io_account(n, req, true, e);
    status = ocssd_io_result(req, e, NULL);
    has_data = ocssd_io_count_ok(e, req->nentry) &&
               (req->is_vector || !status);
    skipped = ocssd_io_any_skipped(e, req->nentry);
    if (!has_data && !skipped) {
        ocssd_write_commit_nothing(n, req, e);
        return status;
    }

    ocssd_io_buffers(n, req);
    if (has_data) {
        /* The data must be in hand before the write pointer moves. */
        status = ocssd_io_map_host(n, req);
        if (!status) {
            status = ocssd_dma_from_guest(n, &req->qsg, req->buf, req->len);
        }
        if (!status && req->meta_qsg.nsg) {
            status = ocssd_dma_from_guest(n, &req->meta_qsg, req->mbuf,
                                          req->mlen);
        }
        if (status) {
            return ocssd_io_fail_all(req, status);
        }
    }
    for (i = 0; i < req->nentry; i++) {
        if (ocssd_entry_skipped(&e[i])) {
            memset(req->buf + (size_t)i * p->sec_size, 0, p->sec_size);
            if (req->mbuf) {
                memset(req->mbuf + (size_t)i * p->md_size, 0, p->md_size);
            }
        }
    }
    ocssd_latency_begin(n);
    ocssd_io_time(n, e, req->nentry, true);
    ocssd_latency_end(n, req);
    ocssd_write_commit(n, req, e);
    block_acct_start(blk_get_stats(n->store.blk), &req->acct, req->len,
                     BLOCK_ACCT_WRITE);
    req->aio_pending = 1;
    req->aio_done = ocssd_write_done;
    ocssd_io_issue(n, req, e, true, true, ocssd_entry_to_write,
                   req->fua ? BDRV_REQ_FUA : 0);
    ocssd_req_aio_put(req);
    return NVME_NO_COMPLETE;
}

/* ---- vector copy --------------------------------------------------------- */

static void ocssd_copy_read_done(OcssdRequest *req)
{
    OcssdCtrl *n = ocssd_req_ctrl(req);

    if (req->aio_ret < 0) {
        /* The destinations' write pointers moved; their data never came. */
        trace_ocssd_err_aio(req->cmd.cid, req->aio_ret);
        ocssd_io_write_lost(n, req->dst, req->nentry);
        ocssd_store_write_end(n, req->ticket);
        req->ticket = NULL;
        ocssd_io_complete(req, ocssd_io_fail_all(req, NVME_UNRECOVERED_READ |
                                                 NVME_DNR));
        return;
    }
    req->aio_pending = 1;
    req->aio_done = ocssd_write_done;
    ocssd_io_issue(n, req, req->dst, true, true, ocssd_entry_to_write, 0);
    ocssd_req_aio_put(req);
}

/*
 * Vector Copy: read the source entries (read rules), write the
 * destination entries (write rules) with their data and metadata, inside
 * the device.  Writes to a chunk are all-or-nothing within a command, so
 * an entry whose source fails takes its destination chunk's share of the
 * command with it, each entry carrying that source's status (the first
 * such in list order); an entry whose destination fails is not read.
 */
static uint16_t ocssd_io_copy(OcssdCtrl *n, OcssdRequest *req)
{
    OcssdIoEntry *src = req->entry, *dst = req->dst;
    bool dulbe = NVME_ERR_REC_DULBE(n->features.err_rec);
    unsigned i, j;

    trace_ocssd_io_copy(req->cmd.cid, req->nentry);
    ocssd_media_decode_entries(&n->media, src, req->nentry, false);
    ocssd_media_check_read(&n->media, src, req->nentry, dulbe);
    ocssd_io_inject_read(n, req, src, req->nentry);
    ocssd_media_decode_entries(&n->media, dst, req->nentry, true);
    for (i = 0; i < req->nentry; i++) {
        if (!ocssd_entry_failed(&src[i]) || dst[i].status) {
            continue;
        }
        for (j = 0; j < req->nentry; j++) {
            if (j == i || (!dst[j].status && !ocssd_entry_failed(&src[j]) &&
                           dst[j].chunk == dst[i].chunk)) {
                dst[j].status = src[i].status;
            }
        }
    }
    ocssd_write_check(n, req, dst);
    for (i = 0; i < req->nentry; i++) {
        if (!ocssd_entry_failed(&src[i]) && dst[i].status) {
            src[i].zeroes = true;
        }
    }
    /*
     * Every destination failed: nothing to read, but the failures still
     * take effect (an early close closes the chunk; sectors a Write Next
     * Unit failure consumed are written as zeroes, below).
     */
    if (!ocssd_io_count_ok(dst, req->nentry) &&
        !ocssd_io_any_skipped(dst, req->nentry)) {
        ocssd_write_commit_nothing(n, req, dst);
        return ocssd_io_result(req, src, dst);
    }
    ocssd_io_buffers(n, req);
    /* The model: the sources are read, then the destinations programmed. */
    ocssd_latency_begin(n);
    for (i = 0; i < req->nentry; i++) {
        if (!ocssd_entry_failed(&src[i]) && dst[i].status == NVME_SUCCESS) {
            ocssd_latency_read(n, &src[i]);
        }
    }
    ocssd_latency_barrier(n);
    ocssd_io_time(n, dst, req->nentry, true);
    ocssd_latency_end(n, req);
    ocssd_write_commit(n, req, dst);
    req->aio_pending = 1;
    req->aio_done = ocssd_copy_read_done;
    ocssd_io_issue(n, req, src, false, true, ocssd_entry_to_read, 0);
    ocssd_req_aio_put(req);
    return NVME_NO_COMPLETE;
}

/* ---- resets -------------------------------------------------------------- */

/*
 * Reset one chunk under the rules (shared by Vector Chunk Reset and
 * Dataset Management), the entry naming it.  An injected reset failure
 * takes the chunk offline.
 */
static void ocssd_reset_entry(OcssdCtrl *n, OcssdIoEntry *e)
{
    OcssdMedia *m = &n->media;
    uint64_t chunk = e->chunk;
    uint8_t state = m->chunk[chunk].state;

    if (n->store.read_only) {
        e->status = NVME_WRITE_FAULT | NVME_DNR;
        return;
    }
    e->status = ocssd_media_check_reset(m, chunk);
    if (e->status) {
        trace_ocssd_err_reset(chunk, state, e->status);
        return;
    }
    if (ocssd_fault_reset_fails(n, chunk)) {
        ocssd_chunk_offline(n, chunk, "injected reset failure");
        e->status = OCSSD_OFFLINE_CHUNK | NVME_DNR;
        return;
    }
    ocssd_media_reset(m, chunk);
    ocssd_latency_reset(n, chunk);
    e->gen = m->chunk[chunk].erase_count;
    trace_ocssd_chunk_reset(chunk, state, m->chunk[chunk].wli);
    ocssd_chunk_wli_notify(n);
    ocssd_store_chunk_reset(n, chunk);
}

/*
 * Vector Chunk Reset's optional output: the chunk descriptors after the
 * reset, through MPTR, as they are when the command completes.
 */
static uint16_t ocssd_reset_descriptors(OcssdCtrl *n, OcssdRequest *req)
{
    g_autofree OcssdChunkDescriptor *desc = NULL;
    size_t len = req->nentry * sizeof(*desc);
    unsigned i;

    if (!req->meta_qsg.nsg) {
        return NVME_SUCCESS;
    }
    desc = g_new0(OcssdChunkDescriptor, req->nentry);
    for (i = 0; i < req->nentry; i++) {
        if (req->entry[i].status != (NVME_LBA_RANGE | NVME_DNR)) {
            ocssd_media_chunk_descriptor(&n->media, req->entry[i].chunk,
                                         &desc[i]);
        }
    }
    return ocssd_dma_to_guest(n, &req->meta_qsg, desc, len);
}

/*
 * The table pass that was to make the resets durable failed: the image
 * still holds the chunks' old generation, so the resets failed, and the
 * chunks fail (as a reset failure of the media does), unless another
 * reset or failure changed them since.
 */
static void ocssd_reset_lost(OcssdCtrl *n, OcssdRequest *req)
{
    unsigned i;

    for (i = 0; i < req->nentry; i++) {
        OcssdIoEntry *e = &req->entry[i];

        if (e->status) {
            continue;
        }
        e->status = OCSSD_OFFLINE_CHUNK | NVME_DNR;
        ocssd_io_generation_lost(n, e, "its reset did not reach the image");
    }
}

static void ocssd_reset_persisted(void *opaque, int ret)
{
    OcssdRequest *req = opaque;
    OcssdCtrl *n = ocssd_req_ctrl(req);
    uint16_t status, st;

    if (ret < 0) {
        trace_ocssd_err_reset_flush(req->cmd.cid, ret);
        ocssd_reset_lost(n, req);
    }
    status = ocssd_io_result(req, req->entry, NULL);
    st = ocssd_reset_descriptors(n, req);
    ocssd_io_complete(req, status ? status : st);
}

/*
 * The model has the resets (since ocssd_latency_begin()).  Resets are
 * durable on completion, write cache or not: the chunk table
 * is written and flushed first, so that no later data of the chunk's next
 * generation can reach stable storage while the table still holds the old
 * generation's state (a mix a real device never shows after power loss).
 */
static uint16_t ocssd_reset_finish(OcssdCtrl *n, OcssdRequest *req)
{
    ocssd_latency_end(n, req);
    ocssd_store_flush(n, true, ocssd_reset_persisted, req);
    return NVME_NO_COMPLETE;
}

static uint16_t ocssd_io_vector_reset(OcssdCtrl *n, OcssdRequest *req)
{
    OcssdMedia *m = &n->media;
    OcssdIoEntry *e = req->entry;
    uint64_t sec_mask = (1ULL << m->lbaf.lbk_len) - 1;
    uint16_t status;
    unsigned i;

    /* The descriptors' buffer must be there before anything changes. */
    if (req->cmd.mptr) {
        status = ocssd_map_mptr(n, req,
                                req->nentry * sizeof(OcssdChunkDescriptor));
        if (status) {
            return ocssd_io_fail_all(req, status);
        }
    }
    /* Each LBA names a chunk: its sector bits are ignored. */
    for (i = 0; i < req->nentry; i++) {
        e[i].lba &= ~sec_mask;
    }
    ocssd_media_decode_entries(m, e, req->nentry, false);
    ocssd_latency_begin(n);
    for (i = 0; i < req->nentry; i++) {
        if (!e[i].status) {
            ocssd_reset_entry(n, &e[i]);
        }
    }
    return ocssd_reset_finish(n, req);
}

static uint16_t ocssd_io_dsm(OcssdCtrl *n, OcssdRequest *req)
{
    uint32_t nr = (le32_to_cpu(req->cmd.cdw10) & 0xff) + 1;
    uint32_t attr = le32_to_cpu(req->cmd.cdw11);
    g_autofree NvmeDsmRange *range = g_new(NvmeDsmRange, nr);
    uint16_t status;
    uint32_t i;

    trace_ocssd_io_dsm(req->cmd.cid, nr, attr);
    if (!(attr & NVME_DSMGMT_AD)) {
        return NVME_SUCCESS;        /* only hints */
    }
    status = ocssd_receive(n, req, range, nr * sizeof(*range));
    if (status) {
        return status;
    }
    /* Deallocation resets whole chunks; check every range first. */
    req->entry = g_new0(OcssdIoEntry, nr);
    req->nentry = nr;
    for (i = 0; i < nr; i++) {
        OcssdIoEntry *e = &req->entry[i];

        e->lba = le64_to_cpu(range[i].slba);
        status = ocssd_media_check_dsm_range(&n->media, e->lba,
                                             le32_to_cpu(range[i].nlb),
                                             &e->chunk);
        if (status) {
            req->err_lba = e->lba;
            return ocssd_io_invalid(req, status & ~NVME_DNR,
                                    "deallocate must cover whole chunks");
        }
    }
    ocssd_latency_begin(n);
    for (i = 0; i < nr; i++) {
        ocssd_reset_entry(n, &req->entry[i]);
    }
    return ocssd_reset_finish(n, req);
}

/* ---- command decoding ---------------------------------------------------- */

/*
 * A Flush that fails leaves what it did not make durable pending (the
 * store keeps its table blocks dirty, and unflushed data counted as
 * such): a retry can succeed, so no DNR.
 */
static void ocssd_flush_done(void *opaque, int ret)
{
    OcssdRequest *req = opaque;

    if (ret < 0) {
        trace_ocssd_err_flush(req->cmd.cid, ret);
    }
    ocssd_io_complete(req, ret < 0 ? NVME_WRITE_FAULT : NVME_SUCCESS);
}

static uint16_t ocssd_io_flush(OcssdCtrl *n, OcssdRequest *req)
{
    trace_ocssd_io_flush(req->cmd.cid);
    ocssd_store_flush(n, true, ocssd_flush_done, req);
    return NVME_NO_COMPLETE;
}

/* Read/Write: SLBA .. SLBA + NLB, expanded into entries. */
static uint16_t ocssd_io_rw(OcssdCtrl *n, OcssdRequest *req, bool is_write)
{
    NvmeRwCmd *rw = (NvmeRwCmd *)&req->cmd;
    uint64_t slba = le64_to_cpu(rw->slba);
    uint32_t nlb = le16_to_cpu(rw->nlb) + 1, i;
    uint16_t control = le16_to_cpu(rw->control), status;

    trace_ocssd_io_rw(req->cmd.cid, is_write, slba, nlb, control);
    if (NVME_RW_PRINFO(control)) {
        return ocssd_io_invalid(req, NVME_INVALID_FIELD,
                                "protection information is not supported");
    }
    status = ocssd_media_check_range(&n->media, slba, nlb, is_write);
    if (status) {
        req->err_lba = slba;
        trace_ocssd_err_range(req->cmd.cid, slba, nlb, status);
        return status;
    }
    /* Refused before its buffers are allocated, not when they are mapped. */
    status = ocssd_check_mdts(n, req, (size_t)nlb * n->media.p.sec_size);
    if (status) {
        return status;
    }
    req->fua = control & NVME_RW_FUA;
    req->nentry = nlb;
    req->entry = g_new0(OcssdIoEntry, nlb);
    for (i = 0; i < nlb; i++) {
        req->entry[i].lba = slba + i;
    }
    return is_write ? ocssd_io_write(n, req) : ocssd_io_read(n, req);
}

/* Read a vector command's LBA list (or its inline LBA) into entries. */
static uint16_t ocssd_io_lba_list(OcssdCtrl *n, OcssdRequest *req,
                                  uint64_t list, OcssdIoEntry **out)
{
    g_autofree uint64_t *lba = g_new(uint64_t, req->nentry);
    uint16_t status;
    unsigned i;

    if (req->nentry == 1) {
        lba[0] = cpu_to_le64(list);
    } else {
        status = ocssd_dma_read_guest(n, list, lba,
                                      req->nentry * sizeof(uint64_t));
        if (status) {
            return ocssd_io_invalid(req, status & ~NVME_DNR,
                                    "LBA list not readable");
        }
    }
    *out = g_new0(OcssdIoEntry, req->nentry);
    for (i = 0; i < req->nentry; i++) {
        (*out)[i].lba = le64_to_cpu(lba[i]);
    }
    return NVME_SUCCESS;
}

static uint16_t ocssd_io_vector(OcssdCtrl *n, OcssdRequest *req)
{
    OcssdVectorCmd *v = (OcssdVectorCmd *)&req->cmd;
    uint32_t cdw12 = le32_to_cpu(v->cdw12);
    uint16_t status;

    req->is_vector = true;
    req->nentry = OCSSD_VECTOR_NLB(cdw12) + 1;
    trace_ocssd_io_vector(req->cmd.cid, req->cmd.opcode, req->nentry,
                          le64_to_cpu(v->lbal));
    /*
     * Decision (spec digest section 7): CDW12 bits 29:6 are ignored, not
     * refused: host software written for real drives (liblightnvm) puts
     * its own flags there, and those drives ignored them.
     */
    if (cdw12 & ~(OCSSD_VECTOR_FUA | OCSSD_VECTOR_LR | 0x3f)) {
        trace_ocssd_io_vector_cdw12_ignored(req->cmd.cid,
            cdw12 & ~(OCSSD_VECTOR_FUA | OCSSD_VECTOR_LR | 0x3f));
    }
    req->fua = cdw12 & OCSSD_VECTOR_FUA;
    status = ocssd_io_lba_list(n, req, le64_to_cpu(v->lbal), &req->entry);
    if (status) {
        return ocssd_io_fail_all(req, status);
    }
    switch (req->cmd.opcode) {
    case OCSSD_CMD_VECT_RESET:
        return ocssd_io_vector_reset(n, req);
    case OCSSD_CMD_VECT_WRITE:
        return ocssd_io_write(n, req);
    case OCSSD_CMD_VECT_READ:
        return ocssd_io_read(n, req);
    default:
        status = ocssd_io_lba_list(n, req, le64_to_cpu(v->dlbal), &req->dst);
        return status ? ocssd_io_fail_all(req, status) :
               ocssd_io_copy(n, req);
    }
}

/*
 * The host memory a command will need for its buffers (bounce data and
 * metadata, per-sector entries), from its SQE alone, before it runs: what
 * ocssd_request_charge() admits against bounce_limit.  An upper bound:
 * a command that fails early uses less.
 */
uint64_t ocssd_io_bounce_size(OcssdCtrl *n, const NvmeCmd *cmd)
{
    const OcssdMediaParams *p = &n->media.p;
    uint64_t sector = sizeof(OcssdIoEntry) + p->sec_size + p->md_size;
    uint32_t cdw12 = le32_to_cpu(cmd->cdw12);
    uint64_t nlb;

    switch (cmd->opcode) {
    case NVME_CMD_READ:
    case NVME_CMD_WRITE:
        nlb = (cdw12 & 0xffff) + 1;
        if (n->mdts_bytes && nlb * p->sec_size > n->mdts_bytes) {
            return 0;       /* refused before it allocates anything */
        }
        return nlb * sector;
    case OCSSD_CMD_VECT_WRITE:
    case OCSSD_CMD_VECT_READ:
        return (OCSSD_VECTOR_NLB(cdw12) + 1) * sector;
    case OCSSD_CMD_VECT_COPY:
        return (OCSSD_VECTOR_NLB(cdw12) + 1) *
               (sector + sizeof(OcssdIoEntry));
    case OCSSD_CMD_VECT_RESET:
        return (OCSSD_VECTOR_NLB(cdw12) + 1) *
               (sizeof(OcssdIoEntry) + sizeof(OcssdChunkDescriptor));
    case NVME_CMD_DSM:
        return ((le32_to_cpu(cmd->cdw10) & 0xff) + 1) *
               (sizeof(OcssdIoEntry) + sizeof(NvmeDsmRange));
    default:
        return 0;
    }
}

uint16_t ocssd_io_cmd(OcssdCtrl *n, OcssdRequest *req)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    uint8_t opc = req->cmd.opcode;

    switch (opc) {
    case NVME_CMD_FLUSH:
    case NVME_CMD_WRITE:
    case NVME_CMD_READ:
    case NVME_CMD_DSM:
    case OCSSD_CMD_VECT_RESET:
    case OCSSD_CMD_VECT_WRITE:
    case OCSSD_CMD_VECT_READ:
        break;
    case OCSSD_CMD_VECT_COPY:
        if (n->media.p.vector_copy) {
            break;
        }
        /* fall through */
    default:
        return ocssd_io_invalid(req, NVME_INVALID_OPCODE,
                                "unsupported I/O opcode");
    }
    if (nsid != OCSSD_NSID &&
        !(opc == NVME_CMD_FLUSH && nsid == NVME_NSID_BROADCAST)) {
        return ocssd_io_invalid(req, NVME_INVALID_NSID, "no such namespace");
    }

    switch (opc) {
    case NVME_CMD_FLUSH:
        return ocssd_io_flush(n, req);
    case NVME_CMD_WRITE:
        return ocssd_io_rw(n, req, true);
    case NVME_CMD_READ:
        return ocssd_io_rw(n, req, false);
    case NVME_CMD_DSM:
        return ocssd_io_dsm(n, req);
    default:
        return ocssd_io_vector(n, req);
    }
}
