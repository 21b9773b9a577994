/*
 * ocssd: the timing model in the device - completions held back by the
 * model's latency, its run-time properties and the per-PU statistics
 *
 * The model itself (ocssd-timing.c) is arithmetic: the I/O commands
 * (ocssd-io.c) tell it their operations when they are accepted and it
 * says when the last one ends (OcssdRequest.due_ns).  With timing=on a
 * request whose data is done before that time waits here, in a binary
 * heap ordered by (due_ns, arrival), for one QEMU_CLOCK_VIRTUAL timer:
 * nothing blocks or polls, and the clock stops with the VM and steps
 * with qtest.  With timing=off nothing waits; the model still counts.
 *
 * A held request has done its work (the image holds its data, its status
 * is set): only posting its completion waits.  A deleted queue's held
 * requests still wait for their time, as commands the media is busy with
 * do (Delete I/O SQ and CSTS.RDY wait for them); a reset that cannot wait
 * (system reset, unplug) or timing=off releases them at once.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "ocssd.h"
#include "trace.h"

int64_t ocssd_latency_now(void)
{
    return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

/* The model's parameters from the medium and the properties. */
static void ocssd_latency_params(OcssdCtrl *n, OcssdTimingParams *tp)
{
    const OcssdMediaParams *m = &n->media.p;

    *tp = (OcssdTimingParams) {
        .trdt = m->trdt, .trdm = m->trdm,
        .twrt = m->twrt, .twrm = m->twrm,
        .tcrst = m->tcrst, .tcrsm = m->tcrsm,
        .ws_min = m->ws_min, .ws_opt = m->ws_opt,
        .xfer_bytes = m->sec_size + m->md_size,
        .channel_mbps = n->params.channel_mbps,
        .spread = n->params.timing_spread,
        .queueing = n->params.timing,
    };
}

/* ---- held completions: a binary heap on (due_ns, seq) ------------------ */

static bool ocssd_held_before(OcssdRequest *a, OcssdRequest *b)
{
    return a->due_ns < b->due_ns ||
           (a->due_ns == b->due_ns && a->due_seq < b->due_seq);
}

static void ocssd_held_set(OcssdLatency *l, unsigned i, OcssdRequest *req)
{
    l->held[i] = req;
    req->held_idx = i;
}

static void ocssd_held_up(OcssdLatency *l, unsigned i)
{
    OcssdRequest *req = l->held[i];

    while (i && ocssd_held_before(req, l->held[(i - 1) / 2])) {
        ocssd_held_set(l, i, l->held[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    ocssd_held_set(l, i, req);
}

static void ocssd_held_down(OcssdLatency *l, unsigned i)
{
    OcssdRequest *req = l->held[i];

    for (;;) {
        unsigned c = 2 * i + 1;

        if (c >= l->nheld) {
            break;
        }
        if (c + 1 < l->nheld && ocssd_held_before(l->held[c + 1],
                                                  l->held[c])) {
            c++;
        }
        if (!ocssd_held_before(l->held[c], req)) {
            break;
        }
        ocssd_held_set(l, i, l->held[c]);
        i = c;
    }
    ocssd_held_set(l, i, req);
}

/* Take the request at i out of the heap. */
static OcssdRequest *ocssd_held_remove(OcssdLatency *l, unsigned i)
{
    OcssdRequest *req = l->held[i];

    if (i != --l->nheld) {
        ocssd_held_set(l, i, l->held[l->nheld]);
        ocssd_held_down(l, i);
        ocssd_held_up(l, l->held[i]->held_idx);
    }
    return req;
}

static OcssdRequest *ocssd_held_pop(OcssdLatency *l)
{
    return ocssd_held_remove(l, 0);
}

static void ocssd_held_insert(OcssdLatency *l, OcssdRequest *req)
{
    if (l->nheld == l->held_cap) {
        l->held_cap = MAX(64, l->held_cap * 2);
        l->held = g_renew(OcssdRequest *, l->held, l->held_cap);
    }
    ocssd_held_set(l, l->nheld++, req);
    ocssd_held_up(l, req->held_idx);
}

static void ocssd_latency_arm(OcssdLatency *l)
{
    if (l->nheld) {
        timer_mod(l->timer, l->held[0]->due_ns);
    } else {
        timer_del(l->timer);
    }
}

static void ocssd_latency_timer(void *opaque)
{
    OcssdCtrl *n = opaque;
    OcssdLatency *l = &n->latency;
    int64_t now = ocssd_latency_now();

    while (l->nheld && l->held[0]->due_ns <= now) {
        OcssdRequest *req = ocssd_held_pop(l);

        trace_ocssd_latency_release(req->sq->sqid, req->cmd.cid, req->due_ns);
        ocssd_request_complete_now(req);
    }
    ocssd_latency_arm(l);
}

/*
 * ocssd_request_complete(): hold a request whose model time has not come
 * (timing=on).  True when it is held.
 */
bool ocssd_latency_hold(OcssdRequest *req)
{
    OcssdCtrl *n = ocssd_req_ctrl(req);
    OcssdLatency *l = &n->latency;
    int64_t now = ocssd_latency_now();

    if (!n->params.timing || req->due_ns <= now) {
        return false;
    }
    req->due_seq = l->seq++;
    ocssd_held_insert(l, req);
    trace_ocssd_latency_hold(req->sq->sqid, req->cmd.cid, req->due_ns,
                             req->due_ns - now);
    if (l->held[0] == req) {
        ocssd_latency_arm(l);
    }
    return true;
}

/* Complete every held request now, earliest first. */
void ocssd_latency_release_all(OcssdCtrl *n)
{
    OcssdLatency *l = &n->latency;

    while (l->nheld) {
        ocssd_request_complete_now(ocssd_held_pop(l));
    }
    ocssd_latency_arm(l);
}

/*
 * Complete now the held requests of deleted queues (their completions are
 * dropped): a VM that stops does not wait for the media's time
 * (ocssd_migration_quiesce).
 */
void ocssd_latency_release_orphans(OcssdCtrl *n)
{
    OcssdLatency *l = &n->latency;
    unsigned i = 0;

    while (i < l->nheld) {
        OcssdRequest *req = l->held[i];

        if (n->sq[req->sq->sqid] == req->sq) {
            i++;
            continue;
        }
        ocssd_held_remove(l, i);
        trace_ocssd_latency_release(req->sq->sqid, req->cmd.cid, req->due_ns);
        ocssd_request_complete_now(req);
        i = 0;      /* the heap moved */
    }
    ocssd_latency_arm(l);
}

/* A migration brings a held request back, at its place in the order. */
void ocssd_latency_restore(OcssdRequest *req, uint64_t due_seq)
{
    req->due_seq = due_seq;
    ocssd_held_insert(&ocssd_req_ctrl(req)->latency, req);
}

void ocssd_latency_arm_timer(OcssdCtrl *n)
{
    ocssd_latency_arm(&n->latency);
}

/* ---- the model's life ------------------------------------------------ */

void ocssd_latency_init(OcssdCtrl *n)
{
    OcssdLatency *l = &n->latency;
    OcssdTimingParams tp;
    uint64_t seed = n->params.seed ? n->params.seed ^ 0x74696d696e67ULL :
                    g_random_int() | (uint64_t)g_random_int() << 32;

    ocssd_latency_params(n, &tp);
    ocssd_timing_init(&l->model, n->media.p.num_grp, n->media.p.num_pu, &tp,
                      seed);
    l->model.since = ocssd_latency_now();
    l->timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, ocssd_latency_timer, n);
}

void ocssd_latency_cleanup(OcssdCtrl *n)
{
    OcssdLatency *l = &n->latency;

    if (l->timer) {
        timer_free(l->timer);
        l->timer = NULL;
    }
    ocssd_timing_cleanup(&l->model);
    g_free(l->held);
    l->held = NULL;
    l->nheld = l->held_cap = 0;
}

/*
 * A timing property changed at run time: the next operations use it.
 * With timing now off, nothing waits any longer.
 */
void ocssd_latency_changed(OcssdCtrl *n)
{
    OcssdTimingParams tp;

    ocssd_latency_params(n, &tp);
    ocssd_timing_set_params(&n->latency.model, &tp);
    trace_ocssd_latency_params(tp.queueing, tp.spread, tp.trdt, tp.twrt,
                               tp.tcrst, tp.channel_mbps);
    if (!tp.queueing) {
        ocssd_latency_release_all(n);
    }
}

/* ---- commands tell the model their operations ---------------------------- */

void ocssd_latency_begin(OcssdCtrl *n)
{
    ocssd_timing_begin(&n->latency.model, ocssd_latency_now());
}

static uint32_t ocssd_latency_pu(OcssdCtrl *n, uint64_t chunk)
{
    return chunk / n->media.p.num_chk;
}

void ocssd_latency_read(OcssdCtrl *n, const OcssdIoEntry *e)
{
    ocssd_timing_read(&n->latency.model, ocssd_latency_pu(n, e->chunk),
                      e->chunk, e->addr.sec);
}

void ocssd_latency_program(OcssdCtrl *n, const OcssdIoEntry *e)
{
    ocssd_timing_program(&n->latency.model, ocssd_latency_pu(n, e->chunk),
                         e->chunk);
}

void ocssd_latency_reset(OcssdCtrl *n, uint64_t chunk)
{
    ocssd_timing_reset(&n->latency.model, ocssd_latency_pu(n, chunk));
}

void ocssd_latency_barrier(OcssdCtrl *n)
{
    ocssd_timing_barrier(&n->latency.model);
}

void ocssd_latency_end(OcssdCtrl *n, OcssdRequest *req)
{
    req->due_ns = ocssd_timing_end(&n->latency.model);
    trace_ocssd_latency_cmd(req->cmd.cid, req->due_ns - n->latency.model.now);
}

/* ---- properties -------------------------------------------------------- */

static void ocssd_visit_u64(Visitor *v, const char *name, uint64_t val,
                            Error **errp)
{
    visit_type_uint64(v, name, &val, errp);
}

/*
 * pu-stats: {"time-ns", "since-ns", "timing", "num-grp", "num-pu",
 * "groups": [{"grp", "bus-busy-ns", "bus-sectors"}],
 * "pus": [{"grp", "pu", "reads", "programs", "resets", "sectors-read",
 * "sectors-written", "busy-ns", "max-queue"}]} (docs/pu-stats.rst).
 * A walk of the output visitor: no QObject built by hand.
 */
static void ocssd_latency_get_stats(Object *obj, Visitor *v,
                                    const char *name, void *opaque,
                                    Error **errp)
{
    OcssdCtrl *n = OCSSD(obj);
    OcssdTiming *t = &n->latency.model;
    bool timing = n->params.timing;
    uint32_t g, u;

    if (!t->pu) {
        error_setg(errp, "ocssd: pu-stats: the device is not realized");
        return;
    }
    if (!visit_start_struct(v, name, NULL, 0, errp)) {
        return;
    }
    ocssd_visit_u64(v, "time-ns", ocssd_latency_now(), &error_abort);
    ocssd_visit_u64(v, "since-ns", t->since, &error_abort);
    visit_type_bool(v, "timing", &timing, &error_abort);
    ocssd_visit_u64(v, "num-grp", t->num_grp, &error_abort);
    ocssd_visit_u64(v, "num-pu", t->num_pu, &error_abort);
    visit_start_list(v, "groups", NULL, 0, &error_abort);
    for (g = 0; g < t->num_grp; g++) {
        visit_start_struct(v, NULL, NULL, 0, &error_abort);
        ocssd_visit_u64(v, "grp", g, &error_abort);
        ocssd_visit_u64(v, "bus-busy-ns", t->bus[g].busy_ns, &error_abort);
        ocssd_visit_u64(v, "bus-sectors", t->bus[g].sectors, &error_abort);
        visit_end_struct(v, NULL);
    }
    visit_end_list(v, NULL);
    visit_start_list(v, "pus", NULL, 0, &error_abort);
    for (g = 0; g < t->num_grp; g++) {
        for (u = 0; u < t->num_pu; u++) {
            const OcssdPuStats *s = &t->pu[g * t->num_pu + u].stats;

            visit_start_struct(v, NULL, NULL, 0, &error_abort);
            ocssd_visit_u64(v, "grp", g, &error_abort);
            ocssd_visit_u64(v, "pu", u, &error_abort);
            ocssd_visit_u64(v, "reads", s->reads, &error_abort);
            ocssd_visit_u64(v, "programs", s->programs, &error_abort);
            ocssd_visit_u64(v, "resets", s->resets, &error_abort);
            ocssd_visit_u64(v, "sectors-read", s->sectors_read, &error_abort);
            ocssd_visit_u64(v, "sectors-written", s->sectors_written,
                            &error_abort);
            ocssd_visit_u64(v, "busy-ns", s->busy_ns, &error_abort);
            ocssd_visit_u64(v, "max-queue", s->max_queue, &error_abort);
            visit_end_struct(v, NULL);
        }
    }
    visit_end_list(v, NULL);
    visit_end_struct(v, NULL);
}

static void ocssd_latency_set_stats_reset(Object *obj, Visitor *v,
                                          const char *name, void *opaque,
                                          Error **errp)
{
    OcssdCtrl *n = OCSSD(obj);
    bool reset;

    if (!visit_type_bool(v, name, &reset, errp)) {
        return;
    }
    if (!n->latency.model.pu) {
        error_setg(errp, "ocssd: pu-stats-reset: the device is not realized");
        return;
    }
    if (reset) {
        ocssd_timing_stats_reset(&n->latency.model, ocssd_latency_now());
        trace_ocssd_latency_stats_reset();
    }
}

static void ocssd_latency_get_held(Object *obj, Visitor *v, const char *name,
                                   void *opaque, Error **errp)
{
    uint32_t held = OCSSD(obj)->latency.nheld;

    visit_type_uint32(v, name, &held, errp);
}

void ocssd_latency_add_properties(Object *obj)
{
    object_property_add(obj, "pu-stats", "any", ocssd_latency_get_stats,
                        NULL, NULL, NULL);
    object_property_set_description(obj, "pu-stats",
                                    "per-PU and per-group statistics of the "
                                    "timing model, JSON (read-only)");
    object_property_add(obj, "pu-stats-reset", "bool", NULL,
                        ocssd_latency_set_stats_reset, NULL, NULL);
    object_property_set_description(obj, "pu-stats-reset",
                                    "write true to zero pu-stats");
    object_property_add(obj, "timing-held", "uint32", ocssd_latency_get_held,
                        NULL, NULL, NULL);
    object_property_set_description(obj, "timing-held",
                                    "completions waiting for the timing "
                                    "model (read-only)");
}
