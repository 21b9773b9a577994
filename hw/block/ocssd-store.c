/*
 * ocssd: the media image on the device's BlockBackend
 *
 * Formats a zero-length image, opens and checks an existing one (never
 * writing to an image it refuses), moves sector data and metadata, and
 * keeps the chunk table on the image crash-consistent:
 *
 *  - A write's sectors count as written on the image once its data has
 *    reached the block layer; each chunk's durable write pointer (wp_done)
 *    is the end of the longest completed prefix of its accepted writes.
 *  - Table entries carry wp_done, never the accepted WP, so the table
 *    never claims data that was not written.
 *  - Flush (and FUA, and a disabled write cache) waits for every write
 *    accepted before it, writes the dirty table blocks, then flushes the
 *    image: what it covers survives a crash (kill -9 or power loss).
 *  - Table blocks are written by one pass at a time, so an older copy of a
 *    block can never land after a newer one.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/bitmap.h"
#include "qemu/error-report.h"
#include "ocssd.h"
#include "trace.h"

#define TABLE_BLOCK         OCSSD_IMAGE_ALIGN
#define ENTRIES_PER_BLOCK   (TABLE_BLOCK / OCSSD_IMAGE_TABLE_ENTRY)

/*
 * The part of one accepted write that falls in one chunk.  While attached
 * it sits in the chunk's inflight list (in WP order), which frees it when
 * it reaches the head done; a chunk reset detaches it, and then its
 * ticket frees it.
 */
struct OcssdWriteSpan {
    uint64_t    chunk;
    uint64_t    end;            /* sector after the span */
    bool        done;
    bool        attached;
    QTAILQ_ENTRY(OcssdWriteSpan) entry;
};

/* One accepted write command. */
struct OcssdWriteTicket {
    uint64_t    seq;
    unsigned    nspan;
    OcssdWriteSpan **span;
    QTAILQ_ENTRY(OcssdWriteTicket) entry;
};

/* Someone waiting: for earlier writes, then for a table pass. */
struct OcssdBarrier {
    uint64_t    seq;            /* wait for tickets up to this one */
    bool        flush_media;
    OcssdStoreCb *cb;
    void        *opaque;
    int         ret;
    QTAILQ_ENTRY(OcssdBarrier) entry;
};

/* ---- data ------------------------------------------------------------- */

/*
 * One block request for sector data or metadata.  Writes are issued in
 * acceptance order, but the block layer may complete (and the host file
 * may apply) overlapping ones in any order: a write that overlaps one
 * still in flight (an older generation of the same sectors, whose chunk
 * was reset since) waits in write_queue until that one is done, so that
 * the image always ends up with the newer data.
 */
struct OcssdAio {
    OcssdCtrl   *ctrl;
    OcssdRequest *req;
    bool        is_write;
    uint64_t    off;
    uint64_t    bytes;
    BdrvRequestFlags flags;
    QEMUIOVector qiov;
    QTAILQ_ENTRY(OcssdAio) entry;   /* writes or write_queue */
};

static bool ocssd_aio_overlap(const OcssdAio *a, const OcssdAio *b)
{
    return a->off < b->off + b->bytes && b->off < a->off + a->bytes;
}

/*
 * A write overlaps one in flight, or one queued before it.  Only a chunk
 * reset lets two writes of the same bytes be in flight at once, so with
 * no write of a reset chunk's old generation still going, none can: the
 * lists are not even looked at (a guest keeps thousands of writes in
 * flight).
 */
static bool ocssd_store_write_blocked(OcssdStore *s, const OcssdAio *aio)
{
    OcssdAio *o;

    if (!s->stale_spans && QTAILQ_EMPTY(&s->write_queue)) {
        return false;
    }

    QTAILQ_FOREACH(o, &s->writes, entry) {
        if (ocssd_aio_overlap(o, aio)) {
            return true;
        }
    }
    QTAILQ_FOREACH(o, &s->write_queue, entry) {
        if (o == aio) {
            break;
        }
        if (ocssd_aio_overlap(o, aio)) {
            return true;
        }
    }
    return false;
}

static void ocssd_store_aio_cb(void *opaque, int ret);

static void ocssd_store_aio_issue(OcssdStore *s, OcssdAio *aio)
{
    trace_ocssd_store_rw(aio->is_write, aio->off, aio->bytes);
    if (aio->is_write) {
        QTAILQ_INSERT_TAIL(&s->writes, aio, entry);
        blk_aio_pwritev(s->blk, aio->off, &aio->qiov, aio->flags,
                        ocssd_store_aio_cb, aio);
    } else {
        blk_aio_preadv(s->blk, aio->off, &aio->qiov, aio->flags,
                       ocssd_store_aio_cb, aio);
    }
}

static void ocssd_store_aio_cb(void *opaque, int ret)
{
    OcssdAio *aio = opaque, *w, *next;
    OcssdStore *s = &aio->ctrl->store;
    OcssdRequest *req = aio->req;

    if (aio->is_write) {
        if (ret >= 0) {
            s->data_done++;
        }
        QTAILQ_REMOVE(&s->writes, aio, entry);
        /* Writes that waited for this one may go now, oldest first. */
        QTAILQ_FOREACH_SAFE(w, &s->write_queue, entry, next) {
            if (!ocssd_store_write_blocked(s, w)) {
                QTAILQ_REMOVE(&s->write_queue, w, entry);
                ocssd_store_aio_issue(s, w);
            }
        }
    }
    if (ret < 0 && !req->aio_ret) {
        req->aio_ret = ret;
    }
    qemu_iovec_destroy(&aio->qiov);
    g_free(aio);
    ocssd_req_aio_put(req);
}

/* Read or write count sectors (or their metadata) starting at sector. */
void ocssd_store_aio_rw(OcssdCtrl *n, OcssdRequest *req, bool is_write,
                        bool meta, uint64_t sector, uint64_t count,
                        uint8_t *buf, BdrvRequestFlags flags)
{
    OcssdStore *s = &n->store;
    const OcssdMediaParams *p = &n->media.p;
    OcssdAio *aio = g_new0(OcssdAio, 1);

    aio->ctrl = n;
    aio->req = req;
    aio->is_write = is_write;
    aio->off = meta ? ocssd_image_meta_offset(&s->layout, p, sector) :
               ocssd_image_data_offset(&s->layout, p, sector);
    aio->bytes = count * (meta ? p->md_size : p->sec_size);
    aio->flags = flags;
    qemu_iovec_init(&aio->qiov, 1);
    qemu_iovec_add(&aio->qiov, buf, aio->bytes);
    req->aio_pending++;
    if (is_write && ocssd_store_write_blocked(s, aio)) {
        trace_ocssd_store_write_queued(aio->off, aio->bytes);
        QTAILQ_INSERT_TAIL(&s->write_queue, aio, entry);
        return;
    }
    ocssd_store_aio_issue(s, aio);
}

/* ---- the chunk table -------------------------------------------------- */

static uint64_t table_block_of(uint64_t chunk)
{
    return chunk / ENTRIES_PER_BLOCK;
}

/*
 * A chunk as the image may record it: the durable WP, and the state the
 * chunk had when its writes reached that WP.  While accepted writes are
 * still in flight (wp_done below the accepted WP) the accepted state
 * (CLOSED by the write of the last sector, OPEN by the first write of a
 * free chunk) is not durable yet: the chunk is OPEN at wp_done, or FREE
 * if nothing reached the image.  An early close is durable once the
 * writes before it are.
 */
static void ocssd_store_durable_chunk(OcssdCtrl *n, uint64_t chunk,
                                      OcssdChunk *c)
{
    uint64_t wp_done = n->store.chunk[chunk].wp_done;

    *c = n->media.chunk[chunk];
    if ((c->state == OCSSD_CHUNK_OPEN || c->state == OCSSD_CHUNK_CLOSED) &&
        wp_done < c->wp) {
        c->state = wp_done ? OCSSD_CHUNK_OPEN : OCSSD_CHUNK_FREE;
    }
    c->wp = wp_done;
}

/* Encode a table block from the durable state of its chunks. */
static void ocssd_store_encode_block(OcssdCtrl *n, uint64_t block,
                                     uint8_t *buf)
{
    OcssdMedia *m = &n->media;
    uint64_t first = block * ENTRIES_PER_BLOCK, i;

    memset(buf, 0, TABLE_BLOCK);
    for (i = first; i < MIN(first + ENTRIES_PER_BLOCK, m->nchunks); i++) {
        OcssdChunk c;

        ocssd_store_durable_chunk(n, i, &c);
        ocssd_image_chunk_encode(&c, (OcssdImageChunk *)buf + (i - first));
    }
}

void ocssd_store_chunk_changed(OcssdCtrl *n, uint64_t chunk)
{
    set_bit(table_block_of(chunk), n->store.dirty);
}

static void ocssd_store_table_pass(OcssdCtrl *n);

typedef struct OcssdTableWrite {
    OcssdCtrl   *ctrl;
    uint64_t    block;
    uint8_t     *buf;
    QEMUIOVector qiov;
} OcssdTableWrite;

/* The blocks of one pass, encoded when it started. */
typedef struct OcssdTablePass {
    OcssdCtrl   *ctrl;
    GPtrArray   *writes;        /* OcssdTableWrite */
    uint64_t    data_done;      /* data writes completed at encoding */
} OcssdTablePass;

static void ocssd_store_table_pass_done(OcssdCtrl *n)
{
    OcssdStore *s = &n->store;
    OcssdBarrier *b, *next;

    trace_ocssd_store_table_pass_done(s->table_ret);
    QTAILQ_FOREACH_SAFE(b, &s->table_pass, entry, next) {
        QTAILQ_REMOVE(&s->table_pass, b, entry);
        if (s->table_ret < 0) {
            b->ret = s->table_ret;
        }
        if (b->flush_media && b->ret >= 0) {
            blk_aio_flush(s->blk, b->cb, b->opaque);
        } else {
            b->cb(b->opaque, b->ret);
        }
        g_free(b);
    }
    s->table_busy = false;
    if (!QTAILQ_EMPTY(&s->table_waiters)) {
        ocssd_store_table_pass(n);
    }
}

static void ocssd_store_table_write_free(gpointer p)
{
    OcssdTableWrite *tw = p;

    qemu_iovec_destroy(&tw->qiov);
    g_free(tw->buf);
    g_free(tw);
}

static void ocssd_store_table_write_cb(void *opaque, int ret)
{
    OcssdTableWrite *tw = opaque;
    OcssdCtrl *n = tw->ctrl;

    if (ret < 0) {
        /* The block on the image is stale: a later pass writes it again. */
        trace_ocssd_err_store_table_write(tw->block, ret);
        n->store.table_ret = ret;
        set_bit(tw->block, n->store.dirty);
    }
    ocssd_store_table_write_free(tw);
    if (--n->store.table_writes == 0) {
        ocssd_store_table_pass_done(n);
    }
}

/* Write the pass's blocks, then serve its waiters. */
static void ocssd_store_table_issue(OcssdTablePass *tp)
{
    OcssdCtrl *n = tp->ctrl;
    OcssdStore *s = &n->store;
    guint i;

    s->table_writes = 1;
    for (i = 0; i < tp->writes->len; i++) {
        OcssdTableWrite *tw = g_ptr_array_index(tp->writes, i);

        s->table_writes++;
        trace_ocssd_store_table_write(tw->block);
        blk_aio_pwritev(s->blk, s->layout.table_offset +
                        tw->block * TABLE_BLOCK, &tw->qiov, 0,
                        ocssd_store_table_write_cb, tw);
    }
    g_ptr_array_free(tp->writes, true);
    g_free(tp);
    if (--s->table_writes == 0) {
        ocssd_store_table_pass_done(n);
    }
}

/*
 * The data the pass's entries cover is stable now: write them.  If the
 * flush failed they are not written (they could claim data that is not
 * on stable storage); their blocks stay dirty for a later pass.
 */
static void ocssd_store_table_data_flushed(void *opaque, int ret)
{
    OcssdTablePass *tp = opaque;
    OcssdStore *s = &tp->ctrl->store;
    guint i;

    if (ret >= 0) {
        s->data_flushed = MAX(s->data_flushed, tp->data_done);
        ocssd_store_table_issue(tp);
        return;
    }
    trace_ocssd_err_store_data_flush(ret);
    for (i = 0; i < tp->writes->len; i++) {
        OcssdTableWrite *tw = g_ptr_array_index(tp->writes, i);

        set_bit(tw->block, s->dirty);
        ocssd_store_table_write_free(tw);
    }
    g_ptr_array_set_size(tp->writes, 0);
    s->table_ret = ret;
    ocssd_store_table_issue(tp);        /* no blocks: the waiters fail */
}

/*
 * Encode every dirty table block, flush the data writes its entries
 * cover (unless no data write completed since the last flush), write the
 * blocks, then serve the waiters of this pass.  The flush keeps a power
 * loss from leaving a table entry whose write pointer is stable but whose
 * data is not.
 */
static void ocssd_store_table_pass(OcssdCtrl *n)
{
    OcssdStore *s = &n->store;
    OcssdTablePass *tp = g_new0(OcssdTablePass, 1);
    uint64_t block;

    s->table_busy = true;
    s->table_ret = 0;
    while (!QTAILQ_EMPTY(&s->table_waiters)) {
        OcssdBarrier *b = QTAILQ_FIRST(&s->table_waiters);

        QTAILQ_REMOVE(&s->table_waiters, b, entry);
        QTAILQ_INSERT_TAIL(&s->table_pass, b, entry);
    }
    tp->ctrl = n;
    tp->writes = g_ptr_array_new();
    tp->data_done = s->data_done;
    for (block = find_first_bit(s->dirty, s->table_blocks);
         block < s->table_blocks;
         block = find_next_bit(s->dirty, s->table_blocks, block + 1)) {
        OcssdTableWrite *tw = g_new0(OcssdTableWrite, 1);

        clear_bit(block, s->dirty);
        tw->ctrl = n;
        tw->block = block;
        tw->buf = g_malloc(TABLE_BLOCK);
        ocssd_store_encode_block(n, block, tw->buf);
        qemu_iovec_init(&tw->qiov, 1);
        qemu_iovec_add(&tw->qiov, tw->buf, TABLE_BLOCK);
        g_ptr_array_add(tp->writes, tw);
    }
    if (tp->writes->len && s->data_flushed != tp->data_done) {
        blk_aio_flush(s->blk, ocssd_store_table_data_flushed, tp);
        return;
    }
    ocssd_store_table_issue(tp);
}

/* ---- write tracking and barriers ------------------------------------- */

static void ocssd_store_barriers_check(OcssdCtrl *n)
{
    OcssdStore *s = &n->store;
    OcssdWriteTicket *oldest = QTAILQ_FIRST(&s->tickets);
    OcssdBarrier *b, *next;

    QTAILQ_FOREACH_SAFE(b, &s->barriers, entry, next) {
        if (oldest && oldest->seq <= b->seq) {
            break;          /* barriers are in seq order */
        }
        QTAILQ_REMOVE(&s->barriers, b, entry);
        QTAILQ_INSERT_TAIL(&s->table_waiters, b, entry);
    }
    if (!s->table_busy && !QTAILQ_EMPTY(&s->table_waiters)) {
        ocssd_store_table_pass(n);
    }
}

/*
 * Make everything accepted so far durable: wait for the writes accepted
 * before now, write the chunk table, and (flush_media) flush the image.
 * Every caller flushes the media today (Flush, FUA, resets, shutdown);
 * without it the table reaches the image but not stable storage.
 */
void ocssd_store_flush(OcssdCtrl *n, bool flush_media, OcssdStoreCb *cb,
                       void *opaque)
{
    OcssdStore *s = &n->store;
    OcssdBarrier *b = g_new0(OcssdBarrier, 1);

    b->seq = s->write_seq;
    b->flush_media = flush_media;
    b->cb = cb;
    b->opaque = opaque;
    trace_ocssd_store_flush(b->seq, flush_media);
    if (s->read_only) {
        g_free(b);
        cb(opaque, 0);
        return;
    }
    QTAILQ_INSERT_TAIL(&s->barriers, b, entry);
    ocssd_store_barriers_check(n);
}

/*
 * Register an accepted write: one span per chunk, covering the sectors
 * the write consumes (written ones and skipped Write-Next-Unit ones).
 */
OcssdWriteTicket *ocssd_store_write_begin(OcssdCtrl *n, const OcssdIoEntry *e,
                                          unsigned nentry)
{
    OcssdStore *s = &n->store;
    OcssdWriteTicket *t = g_new0(OcssdWriteTicket, 1);
    unsigned i, j;

    t->seq = ++s->write_seq;
    t->span = g_new0(OcssdWriteSpan *, nentry);
    for (i = 0; i < nentry; i++) {
        uint16_t sc = e[i].status & ~NVME_DNR;
        OcssdWriteSpan *sp = NULL;

        if (sc != NVME_SUCCESS && sc != OCSSD_WRITE_NEXT_UNIT) {
            continue;
        }
        for (j = 0; j < t->nspan; j++) {
            if (t->span[j]->chunk == e[i].chunk) {
                sp = t->span[j];
            }
        }
        if (!sp) {
            sp = g_new0(OcssdWriteSpan, 1);
            sp->chunk = e[i].chunk;
            sp->attached = true;
            QTAILQ_INSERT_TAIL(&s->chunk[e[i].chunk].inflight, sp, entry);
            t->span[t->nspan++] = sp;
        }
        sp->end = MAX(sp->end, (uint64_t)e[i].addr.sec + 1);
    }
    QTAILQ_INSERT_TAIL(&s->tickets, t, entry);
    trace_ocssd_store_write_begin(t->seq, t->nspan);
    return t;
}

/* A write's data is on the image: advance the chunks' durable WPs. */
void ocssd_store_write_end(OcssdCtrl *n, OcssdWriteTicket *t)
{
    OcssdStore *s = &n->store;
    unsigned i;

    if (!t) {
        return;
    }
    trace_ocssd_store_write_end(t->seq);
    for (i = 0; i < t->nspan; i++) {
        OcssdWriteSpan *sp = t->span[i], *head;
        OcssdStoreChunk *c = &s->chunk[sp->chunk];
        uint64_t chunk = sp->chunk;

        if (!sp->attached) {
            g_free(sp);         /* the chunk was reset meanwhile */
            s->stale_spans--;
            continue;
        }
        sp->done = true;
        while ((head = QTAILQ_FIRST(&c->inflight)) && head->done) {
            QTAILQ_REMOVE(&c->inflight, head, entry);
            c->wp_done = MAX(c->wp_done, head->end);
            g_free(head);
        }
        ocssd_store_chunk_changed(n, chunk);
    }
    QTAILQ_REMOVE(&s->tickets, t, entry);
    g_free(t->span);
    g_free(t);
    ocssd_store_barriers_check(n);
}

/* A reset chunk starts over; writes still in flight to it are stale. */
void ocssd_store_chunk_reset(OcssdCtrl *n, uint64_t chunk)
{
    OcssdStoreChunk *c = &n->store.chunk[chunk];
    OcssdWriteSpan *sp, *next;

    QTAILQ_FOREACH_SAFE(sp, &c->inflight, entry, next) {
        QTAILQ_REMOVE(&c->inflight, sp, entry);
        sp->attached = false;
        if (sp->done) {
            g_free(sp);         /* its ticket has ended */
        } else {
            n->store.stale_spans++;
        }
    }
    c->wp_done = 0;
    ocssd_store_chunk_changed(n, chunk);
}

/*
 * QEMU keeps an image inactive where another QEMU may still write it: on
 * an incoming migration until the source has stopped, and on the source
 * once it has handed the image over.  Nothing is written then.
 */
bool ocssd_store_inactive(OcssdStore *s)
{
    BlockDriverState *bs = s->blk ? blk_bs(s->blk) : NULL;

    return bs && (bdrv_get_flags(bs) & BDRV_O_INACTIVE);
}

/* ---- open, format, close --------------------------------------------- */

static uint32_t *media_field(OcssdMediaParams *p, int i)
{
    return ocssd_media_param_u32(p, i);
}

/*
 * The media parameters for a new image: what the user set, defaults for
 * the rest.
 */
static void ocssd_store_new_params(OcssdCtrl *n, OcssdMediaParams *p)
{
    OcssdParams *pp = &n->params;
    int i;

    *p = ocssd_media_default_params;
    for (i = 0; i < OCSSD_MP__COUNT; i++) {
        if (pp->media_set & (1u << i)) {
            *media_field(p, i) = *media_field(&pp->media, i);
        }
    }
    if (pp->vector_copy != ON_OFF_AUTO_AUTO) {
        p->vector_copy = pp->vector_copy == ON_OFF_AUTO_ON;
    }
    if (pp->multiple_resets != ON_OFF_AUTO_AUTO) {
        p->multiple_resets = pp->multiple_resets == ON_OFF_AUTO_ON;
    }
    if (pp->early_reset != ON_OFF_AUTO_AUTO) {
        p->early_reset = pp->early_reset == ON_OFF_AUTO_ON;
    }
}

/* The media's times: what the user sets overrides an image's, for the run. */
static bool ocssd_media_prop_is_time(int i)
{
    return i >= OCSSD_MP_TRDT && i <= OCSSD_MP_TCRSM;
}

static bool ocssd_store_override_times(OcssdCtrl *n, OcssdMediaParams *p,
                                       Error **errp)
{
    int i;

    for (i = OCSSD_MP_TRDT; i <= OCSSD_MP_TCRSM; i++) {
        if (n->params.media_set & (1u << i)) {
            *media_field(p, i) = *media_field(&n->params.media, i);
        }
    }
    if (!ocssd_media_params_check(p, errp)) {
        error_prepend(errp, "ocssd: ");
        return false;
    }
    return true;
}

/*
 * Properties the user set must agree with an existing image, but for the
 * times (trdt ... tcrsm), which the user may change for a run.
 */
static bool ocssd_store_match_params(OcssdCtrl *n, const OcssdMediaParams *img,
                                     Error **errp)
{
    OcssdParams *pp = &n->params;
    OcssdMediaParams tmp = *img;
    const struct {
        const char *name;
        OnOffAuto want;
        bool have;
    } flags[] = {
        { "vector_copy", pp->vector_copy, img->vector_copy },
        { "multiple_resets", pp->multiple_resets, img->multiple_resets },
        { "early_reset", pp->early_reset, img->early_reset },
    };
    int i;

    for (i = 0; i < OCSSD_MP__COUNT; i++) {
        uint32_t want = *media_field(&pp->media, i);
        uint32_t have = *media_field(&tmp, i);

        if (ocssd_media_prop_is_time(i)) {
            continue;       /* overrides the image's for the run */
        }
        if ((pp->media_set & (1u << i)) && want != have) {
            error_setg(errp, "ocssd: %s=%" PRIu32 " contradicts the image, "
                       "which was formatted with %s=%" PRIu32 " (leave the "
                       "property out to use the image's value)",
                       ocssd_media_props[i].name, want,
                       ocssd_media_props[i].name, have);
            return false;
        }
    }
    for (i = 0; i < ARRAY_SIZE(flags); i++) {
        if (flags[i].want != ON_OFF_AUTO_AUTO &&
            (flags[i].want == ON_OFF_AUTO_ON) != flags[i].have) {
            error_setg(errp, "ocssd: %s=%s contradicts the image, which was "
                       "formatted with %s=%s (leave the property out to use "
                       "the image's value)", flags[i].name,
                       flags[i].want == ON_OFF_AUTO_ON ? "on" : "off",
                       flags[i].name, flags[i].have ? "on" : "off");
            return false;
        }
    }
    return true;
}

static bool ocssd_store_write_header(OcssdCtrl *n, Error **errp)
{
    OcssdStore *s = &n->store;
    int ret;

    ocssd_image_header_seal(&s->header);
    ret = blk_pwrite(s->blk, 0, sizeof(s->header), &s->header, 0);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "ocssd: cannot write the image header");
        return false;
    }
    return true;
}

/*
 * Write the dirty table blocks synchronously (format, VM stop, close).
 * A block that fails stays dirty, like in a table pass.
 */
static bool ocssd_store_write_table_sync(OcssdCtrl *n, Error **errp)
{
    OcssdStore *s = &n->store;
    g_autofree uint8_t *buf = g_malloc(TABLE_BLOCK);
    uint64_t block;
    int ret;

    for (block = find_first_bit(s->dirty, s->table_blocks);
         block < s->table_blocks;
         block = find_next_bit(s->dirty, s->table_blocks, block + 1)) {
        ocssd_store_encode_block(n, block, buf);
        ret = blk_pwrite(s->blk, s->layout.table_offset + block * TABLE_BLOCK,
                         TABLE_BLOCK, buf, 0);
        if (ret < 0) {
            trace_ocssd_err_store_table_write(block, ret);
            error_setg_errno(errp, -ret, "ocssd: cannot write the chunk "
                             "table");
            return false;
        }
        clear_bit(block, s->dirty);
    }
    return true;
}

static void ocssd_store_alloc(OcssdCtrl *n)
{
    OcssdStore *s = &n->store;
    uint64_t i;

    s->chunk = g_new0(OcssdStoreChunk, n->media.nchunks);
    for (i = 0; i < n->media.nchunks; i++) {
        QTAILQ_INIT(&s->chunk[i].inflight);
        s->chunk[i].wp_done = n->media.chunk[i].wp;
    }
    s->table_blocks = DIV_ROUND_UP(n->media.nchunks, ENTRIES_PER_BLOCK);
    s->dirty = bitmap_new(s->table_blocks);
    QTAILQ_INIT(&s->tickets);
    QTAILQ_INIT(&s->barriers);
    QTAILQ_INIT(&s->table_waiters);
    QTAILQ_INIT(&s->table_pass);
}

/* A zero-length image: format it from the properties. */
static bool ocssd_store_format(OcssdCtrl *n, Error **errp)
{
    OcssdStore *s = &n->store;
    OcssdMediaParams p;
    uint64_t perm, shared;
    int ret;

    ocssd_store_new_params(n, &p);
    if (!ocssd_media_params_check(&p, errp)) {
        error_prepend(errp, "ocssd: ");
        return false;
    }
    ocssd_image_layout(&p, &s->layout);
    ocssd_media_init(&n->media, &p);
    if (!ocssd_fault_apply_chunkinfo(n, errp) ||
        !ocssd_fault_load_files(n, errp)) {
        return false;
    }
    qemu_uuid_generate(&n->uuid);
    ocssd_image_header_init(&s->header, &p, &n->uuid);

    /* Take the resize permission just for growing the image. */
    blk_get_perm(s->blk, &perm, &shared);
    if (blk_set_perm(s->blk, perm | BLK_PERM_RESIZE, shared, errp) < 0) {
        error_prepend(errp, "ocssd: cannot grow the empty image: ");
        return false;
    }
    ret = blk_truncate(s->blk, s->layout.image_size, false, PREALLOC_MODE_OFF,
                       0, errp);
    blk_set_perm(s->blk, perm, shared, &error_abort);
    if (ret < 0) {
        error_prepend(errp, "ocssd: cannot grow the empty image to %" PRIu64
                      " bytes: ", s->layout.image_size);
        return false;
    }
    ocssd_store_alloc(n);
    bitmap_set(s->dirty, 0, s->table_blocks);
    if (!ocssd_store_write_table_sync(n, errp)) {
        return false;
    }
    s->header.power_cycles = cpu_to_le64(1);
    if (!ocssd_store_write_header(n, errp)) {
        return false;
    }
    ret = blk_flush(s->blk);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "ocssd: cannot flush the new image");
        return false;
    }
    trace_ocssd_store_format(s->layout.image_size, n->media.nchunks);
    return true;
}

/* The chunk table is read in pieces of this many bytes (whole blocks). */
#define TABLE_READ_BYTES    (256 * TABLE_BLOCK)

/*
 * Read the chunk table into the medium, checking every entry, in pieces
 * of TABLE_READ_BYTES: a bounded buffer, and requests far below the block
 * layer's limit at any geometry.
 */
static bool ocssd_store_read_table(OcssdCtrl *n, Error **errp)
{
    OcssdStore *s = &n->store;
    g_autofree uint8_t *table = g_malloc(TABLE_READ_BYTES);
    uint64_t first, count;
    int ret;

    QEMU_BUILD_BUG_ON((uint64_t)OCSSD_MAX_CHUNKS * OCSSD_IMAGE_TABLE_ENTRY >
                      BDRV_REQUEST_MAX_BYTES);
    for (first = 0; first < n->media.nchunks; first += count) {
        count = MIN(TABLE_READ_BYTES / OCSSD_IMAGE_TABLE_ENTRY,
                    n->media.nchunks - first);
        ret = blk_pread(s->blk, s->layout.table_offset +
                        first * OCSSD_IMAGE_TABLE_ENTRY,
                        ROUND_UP(count * OCSSD_IMAGE_TABLE_ENTRY, TABLE_BLOCK),
                        table, 0);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "ocssd: cannot read the chunk "
                             "table");
            return false;
        }
        if (!ocssd_image_table_decode_part(table, &n->media, first, count,
                                           errp)) {
            error_prepend(errp, "ocssd: refusing the image (left "
                          "unchanged): ");
            return false;
        }
    }
    ocssd_media_recount(&n->media);
    return true;
}

/* An existing image: check everything before writing anything. */
static bool ocssd_store_load(OcssdCtrl *n, int64_t len, Error **errp)
{
    OcssdStore *s = &n->store;
    OcssdMediaParams p;
    int ret;

    if (len < OCSSD_IMAGE_HEADER_SIZE) {
        error_setg(errp, "ocssd: the image (%" PRId64 " bytes) is too small "
                   "to hold an ocssd image header", len);
        return false;
    }
    ret = blk_pread(s->blk, 0, sizeof(s->header), &s->header, 0);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "ocssd: cannot read the image header");
        return false;
    }
    if (!ocssd_image_header_parse(&s->header, len, &p, errp)) {
        error_prepend(errp, "ocssd: refusing the image (left unchanged): ");
        return false;
    }
    if (!ocssd_store_match_params(n, &p, errp) ||
        !ocssd_store_override_times(n, &p, errp)) {
        return false;
    }
    ocssd_image_layout(&p, &s->layout);
    ocssd_media_init(&n->media, &p);
    if (!ocssd_store_read_table(n, errp)) {
        return false;
    }
    if (!ocssd_fault_load_files(n, errp)) {
        return false;
    }
    memcpy(n->uuid.data, s->header.uuid, sizeof(n->uuid.data));
    if (n->params.chunkinfo) {
        warn_report("ocssd: chunkinfo=%s ignored: it presets a new image "
                    "only, and this image is formatted already",
                    n->params.chunkinfo);
    }
    ocssd_store_alloc(n);

    if (ocssd_store_inactive(s)) {
        /*
         * A migration destination: the source still runs on this image.
         * Nothing is written, and what was read is re-read when the VM
         * runs here (ocssd_store_reload), after QEMU activated the image.
         */
        s->stale = true;
    } else if (!s->read_only) {
        uint32_t flags = le32_to_cpu(s->header.flags);

        s->header.power_cycles =
            cpu_to_le64(le64_to_cpu(s->header.power_cycles) + 1);
        if (flags & OCSSD_IMAGE_FLAG_DIRTY) {
            s->header.unsafe_shutdowns =
                cpu_to_le64(le64_to_cpu(s->header.unsafe_shutdowns) + 1);
        }
        /* DIRTY is set when the VM runs (ocssd_store_set_dirty_flag). */
        s->header.flags = cpu_to_le32(flags & ~OCSSD_IMAGE_FLAG_DIRTY);
        if (!ocssd_store_write_header(n, errp)) {
            return false;
        }
        blk_flush(s->blk);
    }
    trace_ocssd_store_load(len, n->media.nchunks, s->read_only);
    return true;
}

bool ocssd_store_open(OcssdCtrl *n, Error **errp)
{
    OcssdStore *s = &n->store;
    Error *err = NULL;
    int64_t len;

    s->blk = n->blkconf.blk;
    s->read_only = !blk_supports_write_perm(s->blk);
    QTAILQ_INIT(&s->writes);
    QTAILQ_INIT(&s->write_queue);
    len = blk_getlength(s->blk);
    if (len < 0) {
        error_setg_errno(errp, -len, "ocssd: cannot get the image size");
        return false;
    }
    if (!blkconf_apply_backend_options(&n->blkconf, s->read_only, false,
                                       errp)) {
        return false;
    }
    /*
     * write-cache=on|off, or with auto the drive's cache mode (on unless
     * cache=writethrough, directsync): whether the volatile write cache
     * is enabled after every controller reset.
     */
    n->params.write_cache = blk_enable_write_cache(s->blk);
    if (len == 0 && s->read_only) {
        error_setg(&err, "ocssd: the image is empty and read-only, so it "
                   "cannot be formatted");
    } else if (len == 0 && ocssd_store_inactive(s)) {
        error_setg(&err, "ocssd: the image is empty on an incoming migration: "
                   "the destination must open the source's image (shared "
                   "storage), which the source formatted; it is not "
                   "formatted here");
    } else if (len == 0) {
        ocssd_store_format(n, &err);
    } else {
        ocssd_store_load(n, len, &err);
    }
    if (err) {
        trace_ocssd_err_store_refused(len, error_get_pretty(err));
        error_propagate(errp, err);
        return false;
    }
    return true;
}

/*
 * The header's DIRTY flag says whether a device has the image open.
 * Set or clear it in the header in memory; false when the header on
 * the image needs no write for it.  Only an image the store opened
 * (s->chunk is allocated once every check has passed) is written: a
 * refused image keeps its header, DIRTY too.
 */
static bool ocssd_store_header_dirty(OcssdStore *s, bool dirty)
{
    uint32_t flags = le32_to_cpu(s->header.flags);
    /* In use again: a state saved with the image no longer matches it. */
    bool unsaved = dirty && s->header.saved_state;

    if (s->read_only || !s->blk || !s->chunk || ocssd_store_inactive(s) ||
        (!!(flags & OCSSD_IMAGE_FLAG_DIRTY) == dirty && !s->header_stale &&
         !unsaved)) {
        return false;
    }
    flags = dirty ? flags | OCSSD_IMAGE_FLAG_DIRTY :
                    flags & ~OCSSD_IMAGE_FLAG_DIRTY;
    s->header.flags = cpu_to_le32(flags);
    if (dirty) {
        s->header.saved_state = 0;
    }
    return true;
}

/*
 * After a failed header update the image's header is not what the one in
 * memory says: the next update is written whatever it changes.
 */
static void ocssd_store_header_result(OcssdStore *s, int ret)
{
    if (ret < 0) {
        trace_ocssd_err_store_header(ret);
    }
    s->header_stale = ret < 0;
}

void ocssd_store_set_dirty_flag(OcssdCtrl *n, bool dirty)
{
    OcssdStore *s = &n->store;

    if (ocssd_store_header_dirty(s, dirty)) {
        Error *err = NULL;
        int ret = -EIO;

        if (!ocssd_store_write_header(n, &err)) {
            error_report_err(err);
        } else {
            ret = blk_flush(s->blk);
        }
        ocssd_store_header_result(s, ret);
    }
}

/*
 * The same without blocking, for the controller (shutdown notification,
 * and the enable after it): the header goes out, then a flush, then cb
 * (may be NULL) runs.  Updates are written one at a time, each with the
 * header as it is when it starts, so the image ends with the last one.
 */
typedef struct OcssdHeaderWaiter {
    OcssdStoreCb *cb;
    void        *opaque;
} OcssdHeaderWaiter;

typedef struct OcssdHeaderWrite {
    OcssdCtrl   *ctrl;
    OcssdImageHeader header;
    QEMUIOVector qiov;
    GSList      *waiters;
} OcssdHeaderWrite;

static void ocssd_store_header_issue(OcssdCtrl *n);

static void ocssd_store_header_flushed(void *opaque, int ret)
{
    OcssdHeaderWrite *hw = opaque;
    OcssdStore *s = &hw->ctrl->store;
    GSList *l;

    ocssd_store_header_result(s, ret);
    s->header_busy = false;
    if (s->header_waiters) {
        ocssd_store_header_issue(hw->ctrl);
    }
    for (l = hw->waiters; l; l = l->next) {
        OcssdHeaderWaiter *w = l->data;

        if (w->cb) {
            w->cb(w->opaque, ret);
        }
    }
    g_slist_free_full(hw->waiters, g_free);
    qemu_iovec_destroy(&hw->qiov);
    g_free(hw);
}

static void ocssd_store_header_written(void *opaque, int ret)
{
    OcssdHeaderWrite *hw = opaque;

    if (ret < 0) {
        ocssd_store_header_flushed(hw, ret);
        return;
    }
    blk_aio_flush(hw->ctrl->store.blk, ocssd_store_header_flushed, hw);
}

static void ocssd_store_header_issue(OcssdCtrl *n)
{
    OcssdStore *s = &n->store;
    OcssdHeaderWrite *hw = g_new0(OcssdHeaderWrite, 1);

    hw->ctrl = n;
    hw->waiters = g_slist_reverse(s->header_waiters);
    s->header_waiters = NULL;
    s->header_busy = true;
    ocssd_image_header_seal(&s->header);
    hw->header = s->header;
    qemu_iovec_init(&hw->qiov, 1);
    qemu_iovec_add(&hw->qiov, &hw->header, sizeof(hw->header));
    trace_ocssd_store_header_write(le32_to_cpu(hw->header.flags));
    blk_aio_pwritev(s->blk, 0, &hw->qiov, 0, ocssd_store_header_written, hw);
}

void ocssd_store_mark_dirty(OcssdCtrl *n, bool dirty, OcssdStoreCb *cb,
                            void *opaque)
{
    OcssdStore *s = &n->store;
    OcssdHeaderWaiter *w;

    /* With an update in flight, cb waits for the one after it. */
    if (!ocssd_store_header_dirty(s, dirty) && !s->header_busy) {
        if (cb) {
            cb(opaque, 0);
        }
        return;
    }
    w = g_new0(OcssdHeaderWaiter, 1);
    w->cb = cb;
    w->opaque = opaque;
    s->header_waiters = g_slist_prepend(s->header_waiters, w);
    if (!s->header_busy) {
        ocssd_store_header_issue(n);
    }
}

/* A synchronous flush for ocssd_store_sync_all(); what names the data. */
static bool ocssd_store_flush_sync(OcssdStore *s, const char *what)
{
    int ret = blk_flush(s->blk);

    if (ret < 0) {
        trace_ocssd_err_store_data_flush(ret);
        error_report("ocssd: cannot flush %s to the image: %s; it stays "
                     "marked in use (unsafe shutdown)", what, strerror(-ret));
        return false;
    }
    return true;
}

/* ocssd_store_sync_all() up to DIRTY: false when something failed. */
static bool ocssd_store_sync_durable(OcssdCtrl *n)
{
    OcssdStore *s = &n->store;
    Error *err = NULL;

    if (!s->blk || s->read_only || !s->chunk || ocssd_store_inactive(s)) {
        return true;
    }
    blk_drain(s->blk);
    /*
     * The data first, so that no table entry gets ahead of it; if that
     * flush fails the table blocks stay dirty, as in a table pass.
     */
    if (s->data_flushed != s->data_done) {
        if (!ocssd_store_flush_sync(s, "the data")) {
            return false;
        }
        s->data_flushed = s->data_done;
    }
    if (!ocssd_store_write_table_sync(n, &err)) {
        error_append_hint(&err, "The image stays marked in use (unsafe "
                          "shutdown).\n");
        error_report_err(err);
        return false;
    }
    if (!ocssd_store_flush_sync(s, "the chunk table")) {
        return false;
    }
    trace_ocssd_store_sync_all();
    return true;
}

/*
 * Quiesce, make everything durable and leave the image clean (VM stop,
 * unplug): wait for all block I/O, write the whole dirty table, flush,
 * clear DIRTY.  When something did not reach stable storage the image
 * stays DIRTY, so that the next open counts an unsafe shutdown.
 */
void ocssd_store_sync_all(OcssdCtrl *n)
{
    if (ocssd_store_sync_durable(n)) {
        ocssd_store_set_dirty_flag(n, false);
    }
}

void ocssd_store_close(OcssdCtrl *n)
{
    OcssdStore *s = &n->store;
    OcssdWriteTicket *t, *tn;
    OcssdBarrier *b, *bn;
    uint64_t i;

    ocssd_store_sync_all(n);
    QTAILQ_FOREACH_SAFE(t, &s->tickets, entry, tn) {
        unsigned j;

        QTAILQ_REMOVE(&s->tickets, t, entry);
        for (j = 0; j < t->nspan; j++) {
            if (!t->span[j]->attached) {
                g_free(t->span[j]);
            }
        }
        g_free(t->span);
        g_free(t);
    }
    QTAILQ_FOREACH_SAFE(b, &s->barriers, entry, bn) {
        QTAILQ_REMOVE(&s->barriers, b, entry);
        g_free(b);
    }
    if (s->chunk) {
        for (i = 0; i < n->media.nchunks; i++) {
            OcssdWriteSpan *sp, *next;

            QTAILQ_FOREACH_SAFE(sp, &s->chunk[i].inflight, entry, next) {
                QTAILQ_REMOVE(&s->chunk[i].inflight, sp, entry);
                g_free(sp);
            }
        }
    }
    g_free(s->chunk);
    g_free(s->dirty);
    s->chunk = NULL;
    s->dirty = NULL;
}

/*
 * Whether two media have the same layout (everything but the times, which
 * a run may change); errp names the first difference, a as "source".
 */
bool ocssd_store_same_layout(const OcssdMediaParams *a,
                             const OcssdMediaParams *b, Error **errp)
{
    OcssdMediaParams ta = *a, tb = *b;
    const struct {
        const char *name;
        bool a, b;
    } flags[] = {
        { "vector_copy", a->vector_copy, b->vector_copy },
        { "multiple_resets", a->multiple_resets, b->multiple_resets },
        { "early_reset", a->early_reset, b->early_reset },
    };
    int i;

    for (i = 0; i < OCSSD_MP__COUNT; i++) {
        if (!ocssd_media_prop_is_time(i) &&
            *media_field(&ta, i) != *media_field(&tb, i)) {
            error_setg(errp, "%s=%" PRIu32 " on the source, %s=%" PRIu32
                       " here", ocssd_media_props[i].name,
                       *media_field(&ta, i), ocssd_media_props[i].name,
                       *media_field(&tb, i));
            return false;
        }
    }
    for (i = 0; i < ARRAY_SIZE(flags); i++) {
        if (flags[i].a != flags[i].b) {
            error_setg(errp, "%s=%s on the source, %s=%s here",
                       flags[i].name, flags[i].a ? "on" : "off",
                       flags[i].name, flags[i].b ? "on" : "off");
            return false;
        }
    }
    return true;
}

/*
 * Read the image again, after a migration or loadvm put this device's
 * state in place (s->stale): the source, or the snapshot, left the image
 * complete and clean; what this device read at realize is older.  The
 * geometry and the UUID must still be the device's, and the image must
 * be the one saved with the state (saved: ocssd_store_mark_saved()'s
 * token, 0 = not checked); the media's times stay the ones the device
 * runs with.  Nothing in flight (the VM has not
 * run since).  A power cycle is not counted: the device did not stop.
 */
bool ocssd_store_reload(OcssdCtrl *n, uint64_t saved, Error **errp)
{
    OcssdStore *s = &n->store;
    OcssdImageHeader h;
    OcssdMediaParams p;
    int64_t len = blk_getlength(s->blk);
    uint64_t i;
    int ret;

    if (len < 0) {
        error_setg_errno(errp, -len, "ocssd: cannot get the image size");
        return false;
    }
    ret = blk_pread(s->blk, 0, sizeof(h), &h, 0);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "ocssd: cannot read the image header");
        return false;
    }
    if (!ocssd_image_header_parse(&h, len, &p, errp)) {
        error_prepend(errp, "ocssd: the image is no longer valid: ");
        return false;
    }
    if (memcmp(h.uuid, n->uuid.data, sizeof(h.uuid))) {
        error_setg(errp, "ocssd: the image is not the one this device "
                   "opened (its UUID differs)");
        return false;
    }
    if (!ocssd_store_same_layout(&n->media.p, &p, errp)) {
        error_prepend(errp, "ocssd: the image's geometry changed: ");
        return false;
    }
    if (saved && le64_to_cpu(h.saved_state) != saved) {
        error_setg(errp, "ocssd: the image does not hold the media of the "
                   "device state being loaded: it changed after that state "
                   "was saved, or the snapshot was taken without it");
        return false;
    }
    if (!ocssd_store_read_table(n, errp)) {
        return false;
    }
    for (i = 0; i < n->media.nchunks; i++) {
        s->chunk[i].wp_done = n->media.chunk[i].wp;
    }
    bitmap_zero(s->dirty, s->table_blocks);
    s->header = h;
    s->stale = false;
    if (!s->read_only &&
        (le32_to_cpu(h.flags) & OCSSD_IMAGE_FLAG_DIRTY)) {
        /* The source did not get it to stable storage. */
        s->header.unsafe_shutdowns =
            cpu_to_le64(le64_to_cpu(h.unsafe_shutdowns) + 1);
        s->header_stale = true;
    }
    trace_ocssd_store_reload(n->media.nchunks,
                             le32_to_cpu(h.flags) & OCSSD_IMAGE_FLAG_DIRTY);
    return true;
}

/*
 * A migration or snapshot saves the device state now (the VM is stopped,
 * the image clean): name that state in the image, so that loading it
 * later onto an image that changed since, or that was not in the
 * snapshot, is refused (ocssd_store_reload).  0 when the image cannot
 * carry the name (read-only, or not written).
 */
uint64_t ocssd_store_mark_saved(OcssdCtrl *n)
{
    OcssdStore *s = &n->store;
    Error *err = NULL;
    uint64_t token;
    int ret = -EIO;

    if (s->read_only || !s->blk || !s->chunk || ocssd_store_inactive(s)) {
        return 0;
    }
    do {
        token = g_random_int() | (uint64_t)g_random_int() << 32;
    } while (!token);
    s->header.saved_state = cpu_to_le64(token);
    /* savevm drains every node around the save: our write goes anyway. */
    blk_set_disable_request_queuing(s->blk, true);
    if (!ocssd_store_write_header(n, &err)) {
        error_report_err(err);
    } else {
        ret = blk_flush(s->blk);
    }
    blk_set_disable_request_queuing(s->blk, false);
    ocssd_store_header_result(s, ret);
    trace_ocssd_store_mark_saved(token, ret);
    return ret < 0 ? 0 : token;
}
