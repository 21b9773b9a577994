/*
 * ocssd: the NAND timing model (pure arithmetic, unit tested)
 *
 * See include/hw/block/ocssd-timing.h and docs/timing.rst.  A command's
 * sectors are first gathered into operations (sectors of one write unit
 * share an array read, up to WS_OPT sectors of a chunk share a program),
 * then the operations are scheduled in the order they were made:
 *
 *   read:    array [max(ready, PU free), +tRD]; then the channel
 *            [max(array end, channel free), +transfer]; ends with it
 *   program: the channel [max(ready, channel free), +transfer]; then the
 *            array [max(transfer end, PU free), +tWR]; ends with it
 *   reset:   array [max(ready, PU free), +tCRS]
 *
 * A PU is free again when its array operation ends (its page register
 * holds the data while the channel moves it).
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "hw/block/ocssd-timing.h"

void ocssd_timing_init(OcssdTiming *t, uint32_t num_grp, uint32_t num_pu,
                       const OcssdTimingParams *p, uint64_t seed)
{
    memset(t, 0, sizeof(*t));
    t->p = *p;
    t->num_grp = num_grp;
    t->num_pu = num_pu;
    t->pu = g_new0(OcssdTimingPu, (size_t)num_grp * num_pu);
    t->bus_busy_until = g_new0(int64_t, num_grp);
    t->bus = g_new0(OcssdBusStats, num_grp);
    t->rng = seed;
}

void ocssd_timing_cleanup(OcssdTiming *t)
{
    uint64_t i;

    if (t->pu) {
        for (i = 0; i < (uint64_t)t->num_grp * t->num_pu; i++) {
            g_free(t->pu[i].ends);
        }
    }
    g_free(t->pu);
    g_free(t->bus_busy_until);
    g_free(t->bus);
    g_free(t->ops);
    memset(t, 0, sizeof(*t));
}

void ocssd_timing_set_params(OcssdTiming *t, const OcssdTimingParams *p)
{
    t->p = *p;
}

void ocssd_timing_stats_reset(OcssdTiming *t, int64_t now)
{
    uint64_t i;

    for (i = 0; i < (uint64_t)t->num_grp * t->num_pu; i++) {
        memset(&t->pu[i].stats, 0, sizeof(t->pu[i].stats));
    }
    memset(t->bus, 0, sizeof(*t->bus) * t->num_grp);
    t->since = now;
}

/* ceil(sectors * bytes * 1000 / MB/s) ns; no time on an unlimited bus. */
uint64_t ocssd_timing_xfer_ns(const OcssdTimingParams *p, uint64_t sectors)
{
    if (!p->channel_mbps) {
        return 0;
    }
    return DIV_ROUND_UP(sectors * p->xfer_bytes * 1000, p->channel_mbps);
}

/* splitmix64: the spread's draws, reproducible from the seed. */
static uint64_t ocssd_timing_rand(OcssdTiming *t)
{
    uint64_t z = (t->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* One operation's time: typical, or a draw in [typical, max]. */
static uint64_t ocssd_timing_draw(OcssdTiming *t, uint32_t typ, uint32_t max)
{
    if (!t->p.spread || max <= typ) {
        return typ;
    }
    return typ + ocssd_timing_rand(t) % ((uint64_t)max - typ + 1);
}

/* ---- building a command ------------------------------------------------ */

void ocssd_timing_begin(OcssdTiming *t, int64_t now)
{
    t->cmd++;
    t->nops = 0;
    t->first_op = 0;
    t->now = t->ready = t->done = now;
}

static void ocssd_timing_add_op(OcssdTiming *t, uint32_t pu, uint8_t kind)
{
    OcssdTimingPu *u = &t->pu[pu];

    if (t->nops == t->ops_cap) {
        t->ops_cap = MAX(16, t->ops_cap * 2);
        t->ops = g_renew(OcssdTimingOp, t->ops, t->ops_cap);
    }
    t->ops[t->nops] = (OcssdTimingOp) { .pu = pu, .sectors = 1,
                                        .kind = kind };
    u->open_cmd = t->cmd;
    u->open_op = t->nops++;
}

/* The PU's open operation of this command, if it is of this kind. */
static OcssdTimingOp *ocssd_timing_open_op(OcssdTiming *t, uint32_t pu,
                                           uint8_t kind, uint64_t chunk)
{
    OcssdTimingPu *u = &t->pu[pu];
    OcssdTimingOp *op;

    if (u->open_cmd != t->cmd) {
        return NULL;
    }
    op = &t->ops[u->open_op];
    return op->kind == kind && u->open_chunk == chunk ? op : NULL;
}

void ocssd_timing_read(OcssdTiming *t, uint32_t pu, uint64_t chunk,
                       uint32_t sec)
{
    uint64_t unit = sec / MAX(t->p.ws_min, 1);
    OcssdTimingOp *op = ocssd_timing_open_op(t, pu, OCSSD_TIMING_READ, chunk);

    if (op && t->pu[pu].open_unit == unit) {
        op->sectors++;
        return;
    }
    ocssd_timing_add_op(t, pu, OCSSD_TIMING_READ);
    t->pu[pu].open_chunk = chunk;
    t->pu[pu].open_unit = unit;
}

void ocssd_timing_program(OcssdTiming *t, uint32_t pu, uint64_t chunk)
{
    OcssdTimingOp *op = ocssd_timing_open_op(t, pu, OCSSD_TIMING_PROGRAM,
                                             chunk);

    if (op && op->sectors < MAX(t->p.ws_opt, 1)) {
        op->sectors++;
        return;
    }
    ocssd_timing_add_op(t, pu, OCSSD_TIMING_PROGRAM);
    t->pu[pu].open_chunk = chunk;
}

void ocssd_timing_reset(OcssdTiming *t, uint32_t pu)
{
    ocssd_timing_add_op(t, pu, OCSSD_TIMING_RESET);
    t->pu[pu].open_cmd = 0;         /* nothing joins a reset */
}

/* ---- scheduling ---------------------------------------------------------- */

/* Append an operation's end to a PU's ring (growing it). */
static void ocssd_timing_push(OcssdTimingPu *u, int64_t end)
{
    if (u->ends_count == u->ends_cap) {
        uint32_t cap = MAX(8, u->ends_cap * 2), i;
        int64_t *ends = g_new(int64_t, cap);

        for (i = 0; i < u->ends_count; i++) {
            ends[i] = u->ends[(u->ends_head + i) % u->ends_cap];
        }
        g_free(u->ends);
        u->ends = ends;
        u->ends_cap = cap;
        u->ends_head = 0;
    }
    u->ends[(u->ends_head + u->ends_count) % u->ends_cap] = end;
    u->ends_count++;
}

/*
 * The operations not over when one more arrives: the deepest queue seen.
 * Ends on a PU never decrease (each operation starts after the one
 * before), so the ring drops from its head.
 */
static void ocssd_timing_queue(OcssdTimingPu *u, int64_t now, int64_t end)
{
    while (u->ends_count && u->ends[u->ends_head] <= now) {
        u->ends_head = (u->ends_head + 1) % u->ends_cap;
        u->ends_count--;
    }
    u->stats.max_queue = MAX(u->stats.max_queue, u->ends_count);
    ocssd_timing_push(u, end);
}

/*
 * A PU's operations not yet over, oldest first, into ends (room for
 * t->pu[pu].ends_count): what a migration carries (ocssd-migration.c).
 */
uint32_t ocssd_timing_get_ends(const OcssdTiming *t, uint32_t pu,
                               int64_t *ends)
{
    const OcssdTimingPu *u = &t->pu[pu];
    uint32_t i;

    for (i = 0; i < u->ends_count; i++) {
        ends[i] = u->ends[(u->ends_head + i) % u->ends_cap];
    }
    return u->ends_count;
}

/* Give a PU back the operations ocssd_timing_get_ends() found, in order. */
void ocssd_timing_set_ends(OcssdTiming *t, uint32_t pu, const int64_t *ends,
                           uint32_t count)
{
    OcssdTimingPu *u = &t->pu[pu];
    uint32_t i;

    u->ends_head = u->ends_count = 0;
    for (i = 0; i < count; i++) {
        ocssd_timing_push(u, ends[i]);
    }
}

/* The array part of an operation on its PU, from `from`: its end. */
static int64_t ocssd_timing_array(OcssdTiming *t, OcssdTimingPu *u,
                                  int64_t from, uint64_t len)
{
    int64_t start = t->p.queueing ? MAX(from, u->busy_until) : from;

    if (t->p.queueing) {
        ocssd_timing_queue(u, t->now, start + len);
        u->busy_until = start + len;
    }
    u->stats.busy_ns += len;
    return start + len;
}

/* A transfer on the group's channel, from `from`: its end. */
static int64_t ocssd_timing_channel(OcssdTiming *t, uint32_t grp,
                                    int64_t from, uint32_t sectors)
{
    uint64_t len = ocssd_timing_xfer_ns(&t->p, sectors);
    int64_t start = t->p.queueing ? MAX(from, t->bus_busy_until[grp]) : from;

    if (t->p.queueing && len) {
        t->bus_busy_until[grp] = start + len;
    }
    t->bus[grp].busy_ns += len;
    t->bus[grp].sectors += sectors;
    return start + len;
}

static int64_t ocssd_timing_schedule(OcssdTiming *t, const OcssdTimingOp *op)
{
    OcssdTimingPu *u = &t->pu[op->pu];
    uint32_t grp = op->pu / t->num_pu;
    int64_t end;

    switch (op->kind) {
    case OCSSD_TIMING_READ:
        u->stats.reads++;
        u->stats.sectors_read += op->sectors;
        end = ocssd_timing_array(t, u, t->ready,
                                 ocssd_timing_draw(t, t->p.trdt, t->p.trdm));
        return ocssd_timing_channel(t, grp, end, op->sectors);
    case OCSSD_TIMING_PROGRAM:
        u->stats.programs++;
        u->stats.sectors_written += op->sectors;
        end = ocssd_timing_channel(t, grp, t->ready, op->sectors);
        return ocssd_timing_array(t, u, end,
                                  ocssd_timing_draw(t, t->p.twrt, t->p.twrm));
    default:
        u->stats.resets++;
        return ocssd_timing_array(t, u, t->ready,
                                  ocssd_timing_draw(t, t->p.tcrst,
                                                    t->p.tcrsm));
    }
}

static void ocssd_timing_flush(OcssdTiming *t)
{
    for (; t->first_op < t->nops; t->first_op++) {
        t->done = MAX(t->done, ocssd_timing_schedule(t,
                                                     &t->ops[t->first_op]));
    }
}

void ocssd_timing_barrier(OcssdTiming *t)
{
    ocssd_timing_flush(t);
    t->ready = t->done;
    t->cmd++;                       /* no operation joins across it */
}

int64_t ocssd_timing_end(OcssdTiming *t)
{
    ocssd_timing_flush(t);
    t->cmd++;
    return t->done;
}
