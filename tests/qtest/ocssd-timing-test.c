/*
 * qtests of the ocssd timing model (docs/timing.rst), on the virtual clock
 *
 * Under qtest the virtual clock moves only when the test steps it, so a
 * completion's time is exact: a test submits at t0, waits (without moving
 * the clock) until the device holds the completions (timing-held), then
 * steps to one nanosecond before each expected time (nothing new posted)
 * and to the time itself (posted).  No sleeps, no wall-clock thresholds.
 *
 * Set-up writes run with timing off; the test turns it on with qom-set,
 * which is itself the run-time change the model must take.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/ocssd.h"
/* QDict comes with libqtest.h; QList moved to qobject/ in QEMU 9.2. */
#if QEMU_VERSION_MAJOR >= 10
#include "qobject/qlist.h"
#else
#include "qapi/qmp/qlist.h"
#endif

#define TRDT    100000
#define TRDM    200000
#define TWRT    1000000
#define TWRM    2000000
#define TCRST   3000000
#define TCRSM   6000000
#define XFER    5140        /* (4096 + 16) bytes at 800 MB/s, rounded up */
#define CLBA    64
#define QOM     QOCSSD_QOM

static QOcssd *boot(const char *extra)
{
    QOcssd *o = qocssd_boot_tmp("q35", "id=oc,num_grp=2,num_pu=4,num_chk=4,"
                                "clba=%d,ws_min=4,ws_opt=8,mw_cunits=0,"
                                "trdt=%d,trdm=%d,twrt=%d,twrm=%d,tcrst=%d,"
                                "tcrsm=%d,channel_mbps=800,seed=5%s%s", CLBA,
                                TRDT, TRDM, TWRT, TWRM, TCRST, TCRSM,
                                *extra ? "," : "", extra);

    qocssd_start_io(o);
    return o;
}

/* The number of CQEs posted on queue 1 and not yet consumed. */
static unsigned posted(QOcssd *o)
{
    QOcssdQueue *cq = &o->cq[1];
    unsigned n = 0;
    NvmeCqe cqe;

    for (n = 0; n < cq->size; n++) {
        uint16_t slot = (cq->head + n) % cq->size;
        uint8_t phase = cq->phase ^ (cq->head + n >= cq->size);

        qocssd_memread(o, cq->addr + slot * 16ull, &cqe, sizeof(cqe));
        if ((le16_to_cpu(cqe.status) & 1) != phase) {
            break;
        }
    }
    return n;
}

/*
 * Step to each of the (ascending) times t0 + due[i]: before it, i
 * completions are posted; at it, i + 1 (or more, for equal times).
 * Consumes them, checking success.
 */
static void expect_times(QOcssd *o, int64_t t0, const int64_t *due,
                         unsigned n)
{
    unsigned i, j;
    NvmeCqe cqe;

    for (i = 0; i < n; i++) {
        int64_t now = qocssd_clock_ns(o);

        if (t0 + due[i] - 1 > now) {
            qtest_clock_step(o->qts, t0 + due[i] - 1 - now);
            g_assert_cmpuint(posted(o), ==, i);
        }
        now = qocssd_clock_ns(o);
        if (t0 + due[i] > now) {
            qtest_clock_step(o->qts, t0 + due[i] - now);
        }
        for (j = 0; j < 100000 && posted(o) < i + 1; j++) {
            /* the CQ's bottom half runs between qtest commands */
        }
        g_assert_cmpuint(posted(o), >=, i + 1);
    }
    g_assert_cmpuint(posted(o), ==, n);
    for (i = 0; i < n; i++) {
        g_assert_true(qocssd_poll(o, 1, &cqe));
        g_assert_cmphex(qocssd_cqe_status(&cqe), ==, 0);
    }
}

/* Timing on (the run-time change): the virtual time it took effect. */
static int64_t timing_on(QOcssd *o)
{
    qocssd_qom_set_bool(o, "timing", true);
    return qocssd_clock_ns(o);
}

static void ring(QOcssd *o);

/* Ring the queued commands; their n completions come at t0 + due[i]. */
static void complete_at(QOcssd *o, int64_t t0, const int64_t *due, unsigned n)
{
    ring(o);
    qocssd_wait_held(o, n);
    expect_times(o, t0, due, n);
}

/* Standard read of one sector (data to a scratch buffer), not rung. */
static void enqueue_read(QOcssd *o, uint64_t lba, uint32_t nlb)
{
    NvmeCmd cmd = { .opcode = NVME_CMD_READ };
    NvmeRwCmd *rw = (NvmeRwCmd *)&cmd;
    size_t len = (size_t)nlb * o->sec_size;

    rw->nsid = cpu_to_le32(1);
    rw->slba = cpu_to_le64(lba);
    rw->nlb = cpu_to_le16(nlb - 1);
    qocssd_set_prp(o, &cmd, qocssd_alloc_page(o, len), len);
    qocssd_enqueue(o, 1, &cmd);
}

/* A vector command on an LBA list (data buffer of zeroes), not rung. */
static void enqueue_vector(QOcssd *o, uint8_t opcode, const uint64_t *lbas,
                           unsigned n)
{
    NvmeCmd cmd = { 0 };
    OcssdVectorCmd *v = (OcssdVectorCmd *)&cmd;
    uint64_t list = qocssd_alloc(o, n * sizeof(uint64_t));
    size_t len = (size_t)n * o->sec_size;
    unsigned i;

    for (i = 0; i < n; i++) {
        uint64_t le = cpu_to_le64(lbas[i]);

        qocssd_memwrite(o, list + i * 8, &le, 8);
    }
    v->opcode = opcode;
    v->nsid = cpu_to_le32(1);
    v->lbal = cpu_to_le64(n == 1 ? lbas[0] : list);
    v->cdw12 = cpu_to_le32(n - 1);
    if (opcode != OCSSD_CMD_VECT_RESET) {
        uint64_t buf = qocssd_alloc_page(o, len);

        qtest_memset(o->qts, buf, 0, len);
        qocssd_set_prp(o, &cmd, buf, len);
    }
    qocssd_enqueue(o, 1, &cmd);
}

static void ring(QOcssd *o)
{
    qocssd_ring_sq(o, 1, o->sq[1].tail);
}

/* Write the first `n` sectors of chunk `chk` of grp/pu (timing off). */
static void fill(QOcssd *o, uint32_t grp, uint32_t pu, uint32_t chk,
                 uint32_t n)
{
    g_autofree uint8_t *buf = g_malloc0((size_t)n * o->sec_size);

    g_assert_cmphex(qocssd_write(o, 1, qocssd_lba(o, grp, pu, chk, 0), n,
                                 buf, NULL, 0), ==, 0);
}

/* One read: the array read, then one sector over the channel. */
static void test_one_read(void)
{
    QOcssd *o = boot("");
    const int64_t due[] = { TRDT + XFER };
    int64_t t0;

    fill(o, 0, 0, 0, 8);
    t0 = timing_on(o);
    enqueue_read(o, qocssd_lba(o, 0, 0, 0, 0), 1);
    complete_at(o, t0, due, 1);
    g_assert_cmpint(qocssd_qom_get_int(o, "timing-held"), ==, 0);
    qocssd_shutdown(o);
}

/* N reads on one PU (distinct write units): one after the other. */
static void test_one_pu(void)
{
    QOcssd *o = boot("");
    const int64_t due[] = { TRDT + XFER, 2 * TRDT + XFER, 3 * TRDT + XFER,
                            4 * TRDT + XFER };
    int64_t t0;
    int i;

    fill(o, 0, 0, 0, 16);
    t0 = timing_on(o);
    for (i = 0; i < 4; i++) {
        enqueue_read(o, qocssd_lba(o, 0, 0, 0, 4 * i), 1);
    }
    complete_at(o, t0, due, 4);
    qocssd_shutdown(o);
}

/* N reads on N PUs of one group: array reads overlap, the channel not. */
static void test_one_group(void)
{
    QOcssd *o = boot("");
    const int64_t due[] = { TRDT + XFER, TRDT + 2 * XFER, TRDT + 3 * XFER,
                            TRDT + 4 * XFER };
    int64_t t0;
    int i;

    for (i = 0; i < 4; i++) {
        fill(o, 0, i, 0, 4);
    }
    t0 = timing_on(o);
    for (i = 0; i < 4; i++) {
        enqueue_read(o, qocssd_lba(o, 0, i, 0, 0), 1);
    }
    complete_at(o, t0, due, 4);
    qocssd_shutdown(o);
}

/* PUs of different groups: fully parallel (both at one time). */
static void test_two_groups(void)
{
    QOcssd *o = boot("");
    const int64_t due[] = { TRDT + XFER, TRDT + XFER };
    int64_t t0;

    fill(o, 0, 0, 0, 4);
    fill(o, 1, 0, 0, 4);
    t0 = timing_on(o);
    enqueue_read(o, qocssd_lba(o, 0, 0, 0, 0), 1);
    enqueue_read(o, qocssd_lba(o, 1, 0, 0, 0), 1);
    complete_at(o, t0, due, 2);
    qocssd_shutdown(o);
}

/*
 * A vector write of 8 sectors (WS_OPT) to each of two PUs of group 0:
 * the channel moves all 16, each PU programs once; the command ends with
 * the second program.
 */
static void test_vector_write(void)
{
    QOcssd *o = boot("");
    const int64_t due[] = { 16 * XFER + TWRT };
    uint64_t lbas[16];
    int64_t t0;
    int i;

    for (i = 0; i < 16; i++) {
        lbas[i] = qocssd_lba(o, 0, i / 8, 1, i % 8);
    }
    t0 = timing_on(o);
    enqueue_vector(o, OCSSD_CMD_VECT_WRITE, lbas, 16);
    complete_at(o, t0, due, 1);
    qocssd_shutdown(o);
}

/* A read queued behind a program on its PU. */
static void test_read_after_program(void)
{
    QOcssd *o = boot("");
    const int64_t due[] = { 8 * XFER + TWRT, 8 * XFER + TWRT + TRDT + XFER };
    uint64_t lbas[8];
    int64_t t0;
    int i;

    fill(o, 0, 3, 0, 4);
    for (i = 0; i < 8; i++) {
        lbas[i] = qocssd_lba(o, 0, 3, 1, i);
    }
    t0 = timing_on(o);
    enqueue_vector(o, OCSSD_CMD_VECT_WRITE, lbas, 8);
    enqueue_read(o, qocssd_lba(o, 0, 3, 0, 0), 1);
    complete_at(o, t0, due, 2);
    qocssd_shutdown(o);
}

/* Resets: TCRST per chunk; two chunks of one PU one after the other. */
static void test_reset(void)
{
    QOcssd *o = boot("");
    const int64_t due[] = { 2 * TCRST };
    uint64_t lbas[3];
    int64_t t0;

    fill(o, 0, 2, 0, CLBA);
    fill(o, 0, 2, 1, CLBA);
    fill(o, 1, 2, 0, CLBA);
    lbas[0] = qocssd_lba(o, 0, 2, 0, 0);
    lbas[1] = qocssd_lba(o, 0, 2, 1, 0);
    lbas[2] = qocssd_lba(o, 1, 2, 0, 0);
    t0 = timing_on(o);
    enqueue_vector(o, OCSSD_CMD_VECT_RESET, lbas, 3);
    complete_at(o, t0, due, 1);
    qocssd_shutdown(o);
}

/* DSM deallocate goes through the model as resets. */
static void test_dsm(void)
{
    QOcssd *o = boot("");
    const int64_t due[] = { TCRST };
    NvmeDsmRange r = { 0 };
    NvmeCmd cmd = { .opcode = NVME_CMD_DSM };
    uint64_t addr = qocssd_alloc(o, sizeof(r));
    int64_t t0;

    fill(o, 0, 1, 0, CLBA);
    r.slba = cpu_to_le64(qocssd_lba(o, 0, 1, 0, 0));
    r.nlb = cpu_to_le32(CLBA);
    qocssd_memwrite(o, addr, &r, sizeof(r));
    cmd.nsid = cpu_to_le32(1);
    cmd.cdw11 = cpu_to_le32(NVME_DSMGMT_AD);
    qocssd_set_prp(o, &cmd, addr, sizeof(r));
    t0 = timing_on(o);
    qocssd_enqueue(o, 1, &cmd);
    complete_at(o, t0, due, 1);
    qocssd_shutdown(o);
}

/*
 * Copy of one write unit: one array read, its 4 sectors over the channel
 * to the controller and 4 back to the destination's group, one program.
 */
static void test_copy(void)
{
    QOcssd *o = boot("vector_copy=on");
    const int64_t due[] = { TRDT + 4 * XFER + 4 * XFER + TWRT };
    NvmeCmd cmd = { 0 };
    OcssdVectorCmd *v = (OcssdVectorCmd *)&cmd;
    uint64_t src = qocssd_alloc(o, 32), dst = qocssd_alloc(o, 32);
    int64_t t0;
    int i;

    fill(o, 0, 0, 0, 4);
    for (i = 0; i < 4; i++) {
        uint64_t s = cpu_to_le64(qocssd_lba(o, 0, 0, 0, i));
        uint64_t d = cpu_to_le64(qocssd_lba(o, 1, 3, 0, i));

        qocssd_memwrite(o, src + 8 * i, &s, 8);
        qocssd_memwrite(o, dst + 8 * i, &d, 8);
    }
    v->opcode = OCSSD_CMD_VECT_COPY;
    v->nsid = cpu_to_le32(1);
    v->lbal = cpu_to_le64(src);
    v->dlbal = cpu_to_le64(dst);
    v->cdw12 = cpu_to_le32(3);
    t0 = timing_on(o);
    qocssd_enqueue(o, 1, &cmd);
    complete_at(o, t0, due, 1);
    qocssd_shutdown(o);
}

/* A run-time TRDT change: the Geometry command and the next read. */
static void test_runtime_trdt(void)
{
    QOcssd *o = boot("");
    const int64_t due[] = { 50000 + XFER };
    OcssdIdGeo geo;
    QDict *rsp;
    int64_t t0;

    fill(o, 0, 0, 0, 4);
    qocssd_qom_set_bool(o, "timing", true);
    qocssd_qom_set_int(o, "trdt", 50000);
    g_assert_cmphex(qocssd_geometry(o, 1, &geo), ==, 0);
    g_assert_cmpuint(le32_to_cpu(geo.trdt), ==, 50000);
    g_assert_cmpint(qocssd_qom_get_int(o, "trdt"), ==, 50000);
    /* Above the maximum: refused, nothing changes. */
    rsp = qtest_qmp(o->qts, "{'execute': 'qom-set', 'arguments': {'path': "
                    "%s, 'property': 'trdt', 'value': %d}}", QOM, TRDM + 1);
    g_assert_true(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    g_assert_cmphex(qocssd_geometry(o, 1, &geo), ==, 0);
    g_assert_cmpuint(le32_to_cpu(geo.trdt), ==, 50000);

    t0 = qocssd_clock_ns(o);
    enqueue_read(o, qocssd_lba(o, 0, 0, 0, 0), 1);
    complete_at(o, t0, due, 1);
    qocssd_shutdown(o);
}

/* The completion times of 8 reads, one at a time, with the spread on. */
static void spread_times(int64_t *out)
{
    QOcssd *o = boot("timing_spread=on");
    NvmeCqe cqe;
    int i;

    fill(o, 0, 0, 0, 4);
    qocssd_qom_set_bool(o, "timing", true);
    for (i = 0; i < 8; i++) {
        int64_t t0 = qocssd_clock_ns(o), t = t0;

        enqueue_read(o, qocssd_lba(o, 0, 0, 0, 0), 1);
        ring(o);
        qocssd_wait_held(o, 1);
        while (!posted(o)) {
            t = qtest_clock_step_next(o->qts);
        }
        g_assert_true(qocssd_poll(o, 1, &cqe));
        out[i] = t - t0;
    }
    qocssd_shutdown(o);
}

/* Each time within [typical, max]; the same seed draws the same times. */
static void test_spread(void)
{
    int64_t a[8], b[8];
    bool varied = false;
    int i;

    spread_times(a);
    spread_times(b);
    for (i = 0; i < 8; i++) {
        g_assert_cmpint(a[i], ==, b[i]);
        g_assert_cmpint(a[i], >=, TRDT + XFER);
        g_assert_cmpint(a[i], <=, TRDM + XFER);
        varied |= a[i] != a[0];
    }
    g_assert_true(varied);
}

static QDict *pu_entry(QDict *stats, int idx)
{
    QList *pus = qdict_get_qlist(stats, "pus");
    QListEntry *e;

    QLIST_FOREACH_ENTRY(pus, e) {
        if (idx-- == 0) {
            return qobject_to(QDict, qlist_entry_obj(e));
        }
    }
    g_assert_not_reached();
}

/*
 * Statistics against the commands issued, with timing off (they count
 * anyway) and on (the waiting queue), and their reset.
 */
static void test_stats(void)
{
    QOcssd *o = boot("");
    /* Four sectors per read: the channel moves 4 after each. */
    const int64_t due[] = { TRDT + 4 * XFER, 2 * TRDT + 4 * XFER,
                            3 * TRDT + 4 * XFER };
    QDict *s, *pu, *grp;
    int64_t t0;
    int i;

    /* Timing off: 16 sectors to g0/pu1 (2 programs), 4 to g1/pu0. */
    fill(o, 0, 1, 0, 16);
    fill(o, 1, 0, 0, 4);
    s = qocssd_pu_stats(o);
    g_assert_false(qdict_get_bool(s, "timing"));
    g_assert_cmpint(qdict_get_int(s, "num-grp"), ==, 2);
    g_assert_cmpint(qdict_get_int(s, "num-pu"), ==, 4);
    g_assert_cmpint(qlist_size(qdict_get_qlist(s, "pus")), ==, 8);
    pu = pu_entry(s, 1);
    g_assert_cmpint(qdict_get_int(pu, "grp"), ==, 0);
    g_assert_cmpint(qdict_get_int(pu, "pu"), ==, 1);
    g_assert_cmpint(qdict_get_int(pu, "programs"), ==, 2);
    g_assert_cmpint(qdict_get_int(pu, "sectors-written"), ==, 16);
    g_assert_cmpint(qdict_get_int(pu, "busy-ns"), ==, 2 * TWRT);
    g_assert_cmpint(qdict_get_int(pu, "reads"), ==, 0);
    pu = pu_entry(s, 4);
    g_assert_cmpint(qdict_get_int(pu, "grp"), ==, 1);
    g_assert_cmpint(qdict_get_int(pu, "programs"), ==, 1);
    g_assert_cmpint(qdict_get_int(pu, "sectors-written"), ==, 4);
    grp = qobject_to(QDict, qlist_peek(qdict_get_qlist(s, "groups")));
    g_assert_cmpint(qdict_get_int(grp, "bus-busy-ns"), ==, 16 * XFER);
    g_assert_cmpint(qdict_get_int(grp, "bus-sectors"), ==, 16);
    g_assert_cmpint(qdict_get_int(pu_entry(s, 0), "busy-ns"), ==, 0);
    qobject_unref(s);

    /* Reset: zeroes, and since-ns moves to now. */
    qocssd_qom_set_bool(o, "pu-stats-reset", true);
    s = qocssd_pu_stats(o);
    g_assert_cmpint(qdict_get_int(pu_entry(s, 1), "programs"), ==, 0);
    g_assert_cmpint(qdict_get_int(s, "since-ns"), ==,
                    qdict_get_int(s, "time-ns"));
    qobject_unref(s);

    /* Timing on: three reads of one PU, two of them waited. */
    t0 = timing_on(o);
    for (i = 0; i < 3; i++) {
        enqueue_read(o, qocssd_lba(o, 0, 1, 0, 4 * i), 4);
    }
    ring(o);
    qocssd_wait_held(o, 3);
    s = qocssd_pu_stats(o);
    g_assert_true(qdict_get_bool(s, "timing"));
    pu = pu_entry(s, 1);
    g_assert_cmpint(qdict_get_int(pu, "reads"), ==, 3);
    g_assert_cmpint(qdict_get_int(pu, "sectors-read"), ==, 12);
    g_assert_cmpint(qdict_get_int(pu, "busy-ns"), ==, 3 * TRDT);
    g_assert_cmpint(qdict_get_int(pu, "max-queue"), ==, 2);
    qobject_unref(s);
    expect_times(o, t0, due, 3);
    qocssd_shutdown(o);
}

/*
 * CC.EN = 0 with completions held: CSTS.RDY stays 1 until their time
 * (the media is busy with them), then reads 0; nothing is posted.
 */
static void test_disable_held(void)
{
    QOcssd *o = boot("");
    int64_t t0;

    fill(o, 0, 0, 0, 4);
    t0 = timing_on(o);
    enqueue_read(o, qocssd_lba(o, 0, 0, 0, 0), 1);
    enqueue_read(o, qocssd_lba(o, 0, 0, 0, 0), 1);
    ring(o);
    qocssd_wait_held(o, 2);
    qocssd_writel(o, NVME_REG_CC, 0);
    qtest_clock_step(o->qts, t0 + 2 * TRDT + XFER - 1 - qocssd_clock_ns(o));
    g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS) & NVME_CSTS_READY, ==, 1);
    qtest_clock_step(o->qts, 1);
    g_assert_cmpint(qocssd_qom_get_int(o, "timing-held"), ==, 0);
    qocssd_wait_csts(o, NVME_CSTS_READY, 0);
    g_assert_cmpuint(posted(o), ==, 0);
    /* The controller comes back and works. */
    qocssd_start_io(o);
    qocssd_qom_set_bool(o, "timing", false);
    fill(o, 0, 0, 1, 4);
    qocssd_shutdown(o);
}

/* A system reset releases what is held at once. */
static void test_system_reset_held(void)
{
    QOcssd *o = boot("");

    fill(o, 0, 0, 0, 4);
    qocssd_qom_set_bool(o, "timing", true);
    enqueue_read(o, qocssd_lba(o, 0, 0, 0, 0), 1);
    ring(o);
    qocssd_wait_held(o, 1);
    qtest_qmp_assert_success(o->qts, "{'execute': 'system_reset'}");
    g_assert_cmpint(qocssd_qom_get_int(o, "timing-held"), ==, 0);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS) & NVME_CSTS_READY, ==, 0);
    qocssd_shutdown(o);
}

/* timing=off releases what is held: completions come at once. */
static void test_off_releases(void)
{
    QOcssd *o = boot("");
    NvmeCqe cqe;

    fill(o, 0, 0, 0, 4);
    qocssd_qom_set_bool(o, "timing", true);
    enqueue_read(o, qocssd_lba(o, 0, 0, 0, 0), 1);
    ring(o);
    qocssd_wait_held(o, 1);
    qocssd_qom_set_bool(o, "timing", false);
    g_assert_cmpint(qocssd_qom_get_int(o, "timing-held"), ==, 0);
    qocssd_wait(o, 1, &cqe);
    g_assert_cmphex(qocssd_cqe_status(&cqe), ==, 0);
    qocssd_shutdown(o);
}

/* A read refused by the rules takes no time (and is not held). */
static void test_refused_no_time(void)
{
    QOcssd *o = boot("");
    g_autofree uint8_t *buf = g_malloc(4096);
    QDict *s;

    qocssd_qom_set_bool(o, "timing", true);
    /* DULBE on: an unwritten sector is an error, completed at once. */
    g_assert_cmphex(qocssd_set_features(o, NVME_ERROR_RECOVERY, 1u << 16,
                                        NULL), ==, 0);
    g_assert_cmphex(QOCSSD_SC(qocssd_read(o, 1, qocssd_lba(o, 0, 0, 0, 0),
                                          1, buf, NULL, 0)), ==, NVME_DULB);
    s = qocssd_pu_stats(o);
    g_assert_cmpint(qdict_get_int(pu_entry(s, 0), "reads"), ==, 0);
    qobject_unref(s);
    qocssd_shutdown(o);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/ocssd/timing/one-read", test_one_read);
    qtest_add_func("/ocssd/timing/one-pu-serialized", test_one_pu);
    qtest_add_func("/ocssd/timing/one-group-channel", test_one_group);
    qtest_add_func("/ocssd/timing/two-groups-parallel", test_two_groups);
    qtest_add_func("/ocssd/timing/vector-write", test_vector_write);
    qtest_add_func("/ocssd/timing/read-after-program",
                   test_read_after_program);
    qtest_add_func("/ocssd/timing/reset", test_reset);
    qtest_add_func("/ocssd/timing/dsm", test_dsm);
    qtest_add_func("/ocssd/timing/copy", test_copy);
    qtest_add_func("/ocssd/timing/runtime-trdt", test_runtime_trdt);
    qtest_add_func("/ocssd/timing/spread", test_spread);
    qtest_add_func("/ocssd/timing/stats", test_stats);
    qtest_add_func("/ocssd/timing/disable-held", test_disable_held);
    qtest_add_func("/ocssd/timing/system-reset-held",
                   test_system_reset_held);
    qtest_add_func("/ocssd/timing/off-releases", test_off_releases);
    qtest_add_func("/ocssd/timing/refused-no-time", test_refused_no_time);
    return g_test_run();
}
