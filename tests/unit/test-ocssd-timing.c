/*
 * Unit tests of the ocssd timing model (hw/block/ocssd-timing.c)
 *
 * The model's arithmetic on its own (docs/timing.rst): operations per
 * command, PU serialization, the shared channel, the spread, statistics.
 * Times are exact: the model is integer arithmetic on nanoseconds.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "hw/block/ocssd-timing.h"

#define TRD     1000
#define TWR     20000
#define TCRS    50000
#define T0      1000000

/* 2 groups x 4 PUs; WS_MIN 4, WS_OPT 8; 1000-byte sectors at 10 GB/s. */
static OcssdTimingParams params(void)
{
    return (OcssdTimingParams) {
        .trdt = TRD, .trdm = 2 * TRD, .twrt = TWR, .twrm = 2 * TWR,
        .tcrst = TCRS, .tcrsm = 2 * TCRS, .ws_min = 4, .ws_opt = 8,
        .xfer_bytes = 1000, .channel_mbps = 10000, .queueing = true,
    };
}

#define XFER    100         /* one sector: 1000 B at 10000 MB/s */

static void setup(OcssdTiming *t)
{
    OcssdTimingParams p = params();

    ocssd_timing_init(t, 2, 4, &p, 42);
}

/* Read `n` sectors from sector `sec` of chunk 0 of PU `pu`, at `now`. */
static int64_t read_cmd(OcssdTiming *t, int64_t now, uint32_t pu,
                        uint32_t sec, unsigned n)
{
    unsigned i;

    ocssd_timing_begin(t, now);
    for (i = 0; i < n; i++) {
        ocssd_timing_read(t, pu, 0, sec + i);
    }
    return ocssd_timing_end(t);
}

static void test_xfer(void)
{
    OcssdTimingParams p = params();

    g_assert_cmpuint(ocssd_timing_xfer_ns(&p, 1), ==, XFER);
    p.xfer_bytes = 4112;
    p.channel_mbps = 800;
    g_assert_cmpuint(ocssd_timing_xfer_ns(&p, 1), ==, 5140);
    p.channel_mbps = 3;         /* rounded up */
    g_assert_cmpuint(ocssd_timing_xfer_ns(&p, 1), ==, 1370667);
    p.channel_mbps = 0;
    g_assert_cmpuint(ocssd_timing_xfer_ns(&p, 64), ==, 0);
}

/* One read: the array read, then the channel. */
static void test_one_read(void)
{
    OcssdTiming t;

    setup(&t);
    g_assert_cmpint(read_cmd(&t, T0, 0, 0, 1), ==, T0 + TRD + XFER);
    g_assert_cmpuint(t.pu[0].stats.reads, ==, 1);
    g_assert_cmpuint(t.pu[0].stats.sectors_read, ==, 1);
    g_assert_cmpuint(t.pu[0].stats.busy_ns, ==, TRD);
    g_assert_cmpuint(t.bus[0].busy_ns, ==, XFER);
    g_assert_cmpuint(t.pu[0].stats.max_queue, ==, 0);
    ocssd_timing_cleanup(&t);
}

/* Sectors of one write unit share an array read; a second unit costs one. */
static void test_write_units(void)
{
    OcssdTiming t;

    setup(&t);
    g_assert_cmpint(read_cmd(&t, T0, 0, 0, 4), ==, T0 + TRD + 4 * XFER);
    g_assert_cmpuint(t.pu[0].stats.reads, ==, 1);
    /* Sectors 2..5: units 0 and 1, two array reads back to back. */
    g_assert_cmpint(read_cmd(&t, T0 + 100 * TRD, 0, 2, 4), ==,
                    T0 + 100 * TRD + 2 * TRD + 2 * XFER);
    g_assert_cmpuint(t.pu[0].stats.reads, ==, 3);
    g_assert_cmpuint(t.pu[0].stats.sectors_read, ==, 8);
    ocssd_timing_cleanup(&t);
}

/* N reads on one PU are serialized; the PU is free after each array read. */
static void test_one_pu_serialized(void)
{
    OcssdTiming t;
    int i;

    setup(&t);
    for (i = 0; i < 4; i++) {
        g_assert_cmpint(read_cmd(&t, T0, 1, 4 * i, 1), ==,
                        T0 + (i + 1) * TRD + XFER);
    }
    g_assert_cmpuint(t.pu[1].stats.max_queue, ==, 3);
    g_assert_cmpuint(t.pu[1].stats.busy_ns, ==, 4 * TRD);
    /* Once they are over, the next one finds no queue. */
    g_assert_cmpint(read_cmd(&t, T0 + 10 * TRD, 1, 0, 1), ==,
                    T0 + 11 * TRD + XFER);
    g_assert_cmpuint(t.pu[1].stats.max_queue, ==, 3);
    ocssd_timing_cleanup(&t);
}

/* N PUs of one group overlap their array reads and share the channel. */
static void test_one_group_channel(void)
{
    OcssdTiming t;
    int i;

    setup(&t);
    for (i = 0; i < 4; i++) {
        g_assert_cmpint(read_cmd(&t, T0, i, 0, 1), ==,
                        T0 + TRD + (i + 1) * XFER);
    }
    g_assert_cmpuint(t.bus[0].busy_ns, ==, 4 * XFER);
    g_assert_cmpuint(t.bus[1].busy_ns, ==, 0);
    ocssd_timing_cleanup(&t);
}

/* PUs of different groups are fully parallel. */
static void test_groups_parallel(void)
{
    OcssdTiming t;

    setup(&t);
    g_assert_cmpint(read_cmd(&t, T0, 0, 0, 1), ==, T0 + TRD + XFER);
    g_assert_cmpint(read_cmd(&t, T0, 4, 0, 1), ==, T0 + TRD + XFER);
    g_assert_cmpuint(t.bus[0].busy_ns, ==, XFER);
    g_assert_cmpuint(t.bus[1].busy_ns, ==, XFER);
    ocssd_timing_cleanup(&t);
}

/*
 * One vector command across PUs: each PU's program overlaps; the
 * channel moves every sector first.  8 sectors on PU 0, 8 on PU 1.
 */
static void test_vector_program(void)
{
    OcssdTiming t;
    int i;

    setup(&t);
    ocssd_timing_begin(&t, T0);
    for (i = 0; i < 16; i++) {
        ocssd_timing_program(&t, i / 8, 0);
    }
    /* PU 0: channel T0..T0+8X, program; PU 1: channel ..+16X, program. */
    g_assert_cmpint(ocssd_timing_end(&t), ==, T0 + 16 * XFER + TWR);
    g_assert_cmpuint(t.pu[0].stats.programs, ==, 1);
    g_assert_cmpuint(t.pu[1].stats.programs, ==, 1);
    g_assert_cmpuint(t.pu[0].stats.sectors_written, ==, 8);
    g_assert_cmpint(t.pu[0].busy_until, ==, T0 + 8 * XFER + TWR);
    ocssd_timing_cleanup(&t);
}

/* WS_OPT sectors (or part of) of a chunk per program; chunks apart. */
static void test_program_units(void)
{
    OcssdTiming t;
    int i;

    setup(&t);
    ocssd_timing_begin(&t, T0);
    for (i = 0; i < 12; i++) {
        ocssd_timing_program(&t, 0, 0);     /* 8 + 4: two programs */
    }
    ocssd_timing_program(&t, 0, 1);         /* another chunk: a third */
    g_assert_cmpint(ocssd_timing_end(&t), ==, T0 + 8 * XFER + 3 * TWR);
    g_assert_cmpuint(t.pu[0].stats.programs, ==, 3);
    g_assert_cmpuint(t.pu[0].stats.sectors_written, ==, 13);
    ocssd_timing_cleanup(&t);
}

/* A read after a program on one PU waits for the program. */
static void test_read_after_program(void)
{
    OcssdTiming t;
    int i;

    setup(&t);
    ocssd_timing_begin(&t, T0);
    for (i = 0; i < 4; i++) {
        ocssd_timing_program(&t, 2, 0);
    }
    g_assert_cmpint(ocssd_timing_end(&t), ==, T0 + 4 * XFER + TWR);
    g_assert_cmpint(read_cmd(&t, T0, 2, 0, 1), ==,
                    T0 + 4 * XFER + TWR + TRD + XFER);
    g_assert_cmpuint(t.pu[2].stats.max_queue, ==, 1);
    ocssd_timing_cleanup(&t);
}

static void test_reset(void)
{
    OcssdTiming t;

    setup(&t);
    ocssd_timing_begin(&t, T0);
    ocssd_timing_reset(&t, 3);
    ocssd_timing_reset(&t, 3);
    ocssd_timing_reset(&t, 4);
    g_assert_cmpint(ocssd_timing_end(&t), ==, T0 + 2 * TCRS);
    g_assert_cmpuint(t.pu[3].stats.resets, ==, 2);
    g_assert_cmpuint(t.pu[4].stats.resets, ==, 1);
    g_assert_cmpuint(t.bus[0].busy_ns, ==, 0);
    ocssd_timing_cleanup(&t);
}

/* Copy: the programs start when the reads have ended. */
static void test_barrier(void)
{
    OcssdTiming t;

    setup(&t);
    ocssd_timing_begin(&t, T0);
    ocssd_timing_read(&t, 0, 0, 0);
    ocssd_timing_barrier(&t);
    ocssd_timing_program(&t, 5, 0);
    g_assert_cmpint(ocssd_timing_end(&t), ==,
                    T0 + TRD + XFER + XFER + TWR);
    ocssd_timing_cleanup(&t);
}

/* No operation: the command is done when it starts. */
static void test_empty(void)
{
    OcssdTiming t;

    setup(&t);
    ocssd_timing_begin(&t, T0);
    g_assert_cmpint(ocssd_timing_end(&t), ==, T0);
    ocssd_timing_cleanup(&t);
}

/* Queueing off: nothing waits, the counters still count. */
static void test_no_queueing(void)
{
    OcssdTiming t;
    OcssdTimingParams p = params();
    int i;

    p.queueing = false;
    ocssd_timing_init(&t, 2, 4, &p, 1);
    for (i = 0; i < 3; i++) {
        g_assert_cmpint(read_cmd(&t, T0, 0, 0, 1), ==, T0 + TRD + XFER);
    }
    g_assert_cmpuint(t.pu[0].stats.reads, ==, 3);
    g_assert_cmpuint(t.pu[0].stats.busy_ns, ==, 3 * TRD);
    g_assert_cmpuint(t.bus[0].busy_ns, ==, 3 * XFER);
    g_assert_cmpuint(t.pu[0].stats.max_queue, ==, 0);
    ocssd_timing_stats_reset(&t, T0 + 5);
    g_assert_cmpuint(t.pu[0].stats.reads, ==, 0);
    g_assert_cmpuint(t.bus[0].busy_ns, ==, 0);
    g_assert_cmpint(t.since, ==, T0 + 5);
    ocssd_timing_cleanup(&t);
}

/* The spread: within [typical, max], the same draws for the same seed. */
static void test_spread(void)
{
    OcssdTimingParams p = params();
    OcssdTiming a, b;
    bool varied = false;
    int64_t first = -1;
    int i;

    p.spread = true;
    p.channel_mbps = 0;
    ocssd_timing_init(&a, 2, 4, &p, 7);
    ocssd_timing_init(&b, 2, 4, &p, 7);
    for (i = 0; i < 200; i++) {
        int64_t now = T0 + (int64_t)i * 10 * TRD;
        int64_t ta = read_cmd(&a, now, 0, 0, 1) - now;
        int64_t tb = read_cmd(&b, now, 0, 0, 1) - now;

        g_assert_cmpint(ta, ==, tb);
        g_assert_cmpint(ta, >=, TRD);
        g_assert_cmpint(ta, <=, 2 * TRD);
        if (first < 0) {
            first = ta;
        } else if (ta != first) {
            varied = true;
        }
    }
    g_assert_true(varied);
    ocssd_timing_cleanup(&a);
    ocssd_timing_cleanup(&b);
}

/* The waiting queue grows past its first allocation and wraps. */
static void test_queue_ring(void)
{
    OcssdTiming t;
    int i;

    setup(&t);
    for (i = 0; i < 20; i++) {
        read_cmd(&t, T0, 0, 0, 1);
    }
    g_assert_cmpuint(t.pu[0].stats.max_queue, ==, 19);
    /* Half are over at T0 + 10 TRD: the ring drops them, then grows. */
    for (i = 0; i < 30; i++) {
        read_cmd(&t, T0 + 10 * TRD, 0, 0, 1);
    }
    g_assert_cmpuint(t.pu[0].stats.max_queue, ==, 10 + 29);
    g_assert_cmpint(t.pu[0].busy_until, ==, T0 + 50 * TRD);
    ocssd_timing_cleanup(&t);
}

/*
 * A migration carries each PU's unfinished operations: a model given them
 * (ocssd_timing_set_ends) schedules and counts queues as the original.
 */
static void test_ends_carried(void)
{
    OcssdTiming a, b;
    int64_t ends[16], t1, t2;
    uint32_t n, i;

    setup(&a);
    setup(&b);
    for (i = 0; i < 5; i++) {
        read_cmd(&a, 0, 1, i * 4, 1);
    }
    n = ocssd_timing_get_ends(&a, 1, ends);
    g_assert_cmpuint(n, ==, 5);
    for (i = 1; i < n; i++) {
        g_assert_cmpint(ends[i], >, ends[i - 1]);
    }
    ocssd_timing_set_ends(&b, 1, ends, n);
    b.pu[1].busy_until = a.pu[1].busy_until;
    b.bus_busy_until[0] = a.bus_busy_until[0];
    t1 = read_cmd(&a, TRD, 1, 40, 1);
    t2 = read_cmd(&b, TRD, 1, 40, 1);
    g_assert_cmpint(t1, ==, t2);
    /* At TRD the first read has ended: 4 were still waiting. */
    g_assert_cmpuint(b.pu[1].stats.max_queue, ==, 4);
    g_assert_cmpuint(ocssd_timing_get_ends(&b, 1, ends), ==, 5);
    ocssd_timing_cleanup(&a);
    ocssd_timing_cleanup(&b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ocssd/timing/xfer", test_xfer);
    g_test_add_func("/ocssd/timing/one-read", test_one_read);
    g_test_add_func("/ocssd/timing/write-units", test_write_units);
    g_test_add_func("/ocssd/timing/one-pu-serialized",
                    test_one_pu_serialized);
    g_test_add_func("/ocssd/timing/one-group-channel",
                    test_one_group_channel);
    g_test_add_func("/ocssd/timing/groups-parallel", test_groups_parallel);
    g_test_add_func("/ocssd/timing/vector-program", test_vector_program);
    g_test_add_func("/ocssd/timing/program-units", test_program_units);
    g_test_add_func("/ocssd/timing/read-after-program",
                    test_read_after_program);
    g_test_add_func("/ocssd/timing/reset", test_reset);
    g_test_add_func("/ocssd/timing/barrier", test_barrier);
    g_test_add_func("/ocssd/timing/empty", test_empty);
    g_test_add_func("/ocssd/timing/no-queueing", test_no_queueing);
    g_test_add_func("/ocssd/timing/spread", test_spread);
    g_test_add_func("/ocssd/timing/queue-ring", test_queue_ring);
    g_test_add_func("/ocssd/timing/ends-carried", test_ends_carried);
    return g_test_run();
}
