/*
 * qtests of ocssd live migration and snapshots (docs/migration.rst)
 *
 * A source QEMU and a destination QEMU (-incoming on a unix socket) open
 * the same image; the test drives the device on the source, migrates,
 * and goes on driving it on the destination with the same driver state
 * (qocssd_adopt).  Waits are on QMP events (MIGRATION, RESUME) and on
 * completions in guest memory; no sleeps.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/ocssd.h"
#include "libqos/libqos-pc.h"
#include "hw/block/ocssd-media.h"
/* QList moved to qobject/ in QEMU 9.2. */
#if QEMU_VERSION_MAJOR >= 10
#include "qobject/qlist.h"
#else
#include "qapi/qmp/qlist.h"
#endif

#define CLBA    64
#define TRDT    100000
#define XFER    5140        /* (4096 + 16) bytes at 800 MB/s, rounded up */
#define QOM     QOCSSD_QOM
#define GEO     "num_grp=2,num_pu=2,num_chk=8,clba=64,ws_min=4,ws_opt=8," \
                "mw_cunits=16,trdt=100000,trdm=200000,seed=7"

typedef struct Mig {
    QOcssd      *src;
    QOcssd      *dst;
    char        *image;
    char        *sock;
    char        *cmdline;       /* the device part, both sides */
} Mig;

static char *cmdline_for(const char *drive, const char *image,
                         const char *props)
{
    return g_strdup_printf("-machine q35 %s -device ocssd,drive=oc0,"
                           "addr=04.0,id=oc,%s",
                           drive ? drive : "", props);
}

static void mig_start(Mig *m, const char *props)
{
    g_autofree char *drive = NULL;

    m->image = qocssd_tmp_image();
    m->sock = g_strdup_printf("%s/ocssd-mig-%d.sock", g_get_tmp_dir(),
                              getpid());
    drive = g_strdup_printf("-drive if=none,id=oc0,file=%s,format=raw",
                            m->image);
    m->cmdline = cmdline_for(drive, m->image, props);
    m->src = qocssd_boot_cmdline("%s", m->cmdline);
    m->src->image = m->image;
    qocssd_start_io(m->src);
}

static void mig_finish(Mig *m)
{
    if (m->dst) {
        qocssd_shutdown(m->dst);
    }
    qocssd_shutdown(m->src);        /* removes the image */
    unlink(m->sock);
    g_free(m->sock);
    g_free(m->cmdline);
}

/* Wait for a migration's end on qts; its final status. */
static char *wait_migration(QTestState *qts)
{
    for (;;) {
        QDict *ev = qtest_qmp_eventwait_ref(qts, "MIGRATION");
        const char *status = qdict_get_str(qdict_get_qdict(ev, "data"),
                                           "status");
        char *ret = NULL;

        if (!strcmp(status, "completed") || !strcmp(status, "failed")) {
            ret = g_strdup(status);
        }
        qobject_unref(ev);
        if (ret) {
            return ret;
        }
    }
}

/*
 * Start migrating @from to @uri with migration events on (and the return
 * path when the destination's refusal must reach the source).
 */
static void migrate_start(QTestState *from, const char *uri,
                          bool return_path)
{
    qtest_qmp_assert_success(from, "{'execute': 'migrate-set-capabilities', "
                             "'arguments': {'capabilities': [{'capability': "
                             "'events', 'state': true}, {'capability': "
                             "'return-path', 'state': %i}]}}", return_path);
    qtest_qmp_assert_success(from, "{'execute': 'migrate', 'arguments': "
                             "{'uri': %s}}", uri);
}

/*
 * Migrate to a destination with the same command line; it runs (or, when
 * the source was stopped, waits for cont) with the device adopted.
 */
static void mig_run(Mig *m, bool running)
{
    g_autofree char *status = NULL;
    g_autofree char *uri = g_strdup_printf("unix:%s", m->sock);
    QOSState *qs = qtest_pc_boot("%s -incoming %s", m->cmdline, uri);

    migrate_start(m->src->qts, uri, false);
    status = wait_migration(m->src->qts);
    g_assert_cmpstr(status, ==, "completed");
    if (running) {
        qtest_qmp_eventwait(qs->qts, "RESUME");
    }
    m->dst = qocssd_adopt(m->src, qs);
}

/* ---- data: every sector's bytes derive from its LBA and a tag ------------ */

static uint8_t *mkdata(QOcssd *o, uint64_t slba, unsigned n, uint8_t tag)
{
    size_t len = (size_t)n * o->sec_size, i;
    uint8_t *d = g_malloc(len);

    for (i = 0; i < len; i++) {
        d[i] = (slba + i / o->sec_size) * 13 + i * 7 + tag;
    }
    return d;
}

/* Queue (without ringing) a write of n sectors of tag at a chunk's start. */
static uint16_t enqueue_write(QOcssd *o, uint64_t chunk, unsigned n,
                              uint8_t tag, uint16_t control)
{
    g_autofree uint8_t *data = mkdata(o, qocssd_chunk_slba(o, chunk), n,
                                      tag);
    NvmeCmd cmd = { .opcode = NVME_CMD_WRITE };
    NvmeRwCmd *rw = (NvmeRwCmd *)&cmd;
    uint64_t buf = qocssd_alloc_page(o, (size_t)n * o->sec_size);

    qocssd_memwrite(o, buf, data, (size_t)n * o->sec_size);
    rw->nsid = cpu_to_le32(1);
    rw->slba = cpu_to_le64(qocssd_chunk_slba(o, chunk));
    rw->nlb = cpu_to_le16(n - 1);
    rw->control = cpu_to_le16(control);
    qocssd_set_prp(o, &cmd, buf, (size_t)n * o->sec_size);
    return qocssd_enqueue(o, 1, &cmd);
}

static uint16_t wr(QOcssd *o, uint64_t chunk, uint32_t sec, unsigned n,
                   uint8_t tag)
{
    uint64_t slba = qocssd_chunk_slba(o, chunk) + sec;
    g_autofree uint8_t *d = mkdata(o, slba, n, tag);

    return qocssd_write(o, 1, slba, n, d, NULL, 0);
}

static void rd_check(QOcssd *o, uint64_t chunk, uint32_t sec, unsigned n,
                     uint8_t tag)
{
    uint64_t slba = qocssd_chunk_slba(o, chunk) + sec;
    g_autofree uint8_t *want = mkdata(o, slba, n, tag);
    g_autofree uint8_t *d = g_malloc((size_t)n * o->sec_size);

    g_assert_cmphex(qocssd_read(o, 1, slba, n, d, NULL, 0), ==, 0);
    g_assert_true(memcmp(d, want, (size_t)n * o->sec_size) == 0);
}

static bool rd_zero(QOcssd *o, uint64_t chunk, uint32_t sec)
{
    g_autofree uint8_t *d = g_malloc(o->sec_size);
    size_t i;

    g_assert_cmphex(qocssd_read(o, 1, qocssd_chunk_slba(o, chunk) + sec, 1,
                                d, NULL, 0), ==, 0);
    for (i = 0; i < o->sec_size; i++) {
        if (d[i]) {
            return false;
        }
    }
    return true;
}

static uint16_t rd_status(QOcssd *o, uint64_t chunk, uint32_t sec)
{
    g_autofree uint8_t *d = g_malloc(o->sec_size);

    return qocssd_read(o, 1, qocssd_chunk_slba(o, chunk) + sec, 1, d, NULL,
                       0);
}

static void expect_chunk(QOcssd *o, uint64_t chunk, uint8_t cs, uint64_t wp)
{
    OcssdChunkDescriptor d;

    g_assert_cmphex(qocssd_chunk_info(o, chunk, &d), ==, 0);
    g_assert_cmphex(d.cs, ==, cs);
    g_assert_cmpuint(le64_to_cpu(d.wp), ==, wp);
}

/* The Chunk Notification log's entries (without reading it twice). */
static unsigned notifications(QOcssd *o, OcssdChunkNotification *log)
{
    unsigned i;

    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 0,
                                   sizeof(*log) * OCSSD_NOTIFY_LOG_ENTRIES,
                                   false, log), ==, 0);
    for (i = 0; i < OCSSD_NOTIFY_LOG_ENTRIES && log[i].nc; i++) {
    }
    return i;
}

static void inject(QOcssd *o, const char *prop, uint64_t lba)
{
    qtest_qmp_assert_success(o->qts, "{'execute': 'qom-set', 'arguments': "
                             "{'path': %s, 'property': %s, 'value': %"
                             PRIu64 "}}", QOM, prop, lba);
}

static void enqueue_read(QOcssd *o, uint64_t lba, uint64_t buf)
{
    NvmeCmd cmd = { .opcode = NVME_CMD_READ };
    NvmeRwCmd *rw = (NvmeRwCmd *)&cmd;

    rw->nsid = cpu_to_le32(1);
    rw->slba = cpu_to_le64(lba);
    qocssd_set_prp(o, &cmd, buf, o->sec_size);
    qocssd_enqueue(o, 1, &cmd);
}

/* The registers the guest programmed, as the destination must show them. */
typedef struct Regs {
    uint32_t cc, csts, aqa;
    uint64_t asq, acq;
} Regs;

static void read_regs(QOcssd *o, Regs *r)
{
    r->cc = qocssd_readl(o, 0x14);
    r->csts = qocssd_readl(o, 0x1c);
    r->aqa = qocssd_readl(o, 0x24);
    r->asq = qocssd_readq(o, 0x28);
    r->acq = qocssd_readq(o, 0x30);
}

/* ---- the state a migration carries ----------------------------------- */

/*
 * Queues, registers, features, an open chunk inside its MW_CUNITS window,
 * a notification waiting in the log with an AER outstanding behind it, a
 * pending one-shot fault, a completion waiting for room in a full CQ, a
 * completion the timing model holds, and a command the guest queued while
 * the VM was stopped: all as they were on the destination, and new
 * commands work.
 */
static void test_state(void)
{
    Mig m = { 0 };
    OcssdChunkNotification log[OCSSD_NOTIFY_LOG_ENTRIES];
    Regs before, after;
    QOcssd *o, *d;
    NvmeCqe cqe;
    uint64_t buf;
    int64_t t0;
    uint32_t dw0;
    uint16_t aer_cid, read_cid, write_cid, flush_cid[2];

    mig_start(&m, GEO ",aerl=3");
    o = m.src;

    /* An open chunk: 16 sectors, all inside the 16-sector window. */
    g_assert_cmphex(wr(o, 0, 0, 16, 1), ==, 0);
    g_assert_true(rd_zero(o, 0, 0));
    /* A closed chunk, and one for the one-shot fault. */
    g_assert_cmphex(wr(o, 1, 0, CLBA, 2), ==, 0);
    g_assert_cmphex(wr(o, 2, 0, CLBA, 3), ==, 0);
    inject(o, "inject-read-error", qocssd_chunk_slba(o, 2) + 5);
    /* A feature the guest set. */
    g_assert_cmphex(qocssd_set_features(o, NVME_INTERRUPT_COALESCING,
                                        0x0203, NULL), ==, 0);
    g_assert_cmphex(qocssd_set_features(o, NVME_VOLATILE_WRITE_CACHE, 0,
                                        NULL), ==, 0);
    /* A notification waiting, and an AER outstanding behind it. */
    qocssd_aer_submit(o);
    inject(o, "inject-offline", qocssd_chunk_slba(o, 5));
    qocssd_aer_expect(o, NVME_AER_TYPE_VENDOR_SPECIFIC,
                      OCSSD_AER_INFO_CHUNK_NOTIFICATION,
                      OCSSD_LOG_CHUNK_NOTIFICATION);
    aer_cid = qocssd_aer_submit(o);

    /* A CQ with room for one entry: the second completion waits. */
    g_assert_cmphex(qocssd_create_cq(o, 2, 2, 2, true), ==, 0);
    g_assert_cmphex(qocssd_create_sq(o, 2, 2, 8), ==, 0);
    {
        NvmeCmd f = { .opcode = NVME_CMD_FLUSH, .nsid = cpu_to_le32(1) };
        NvmeCmd f2 = f;

        flush_cid[0] = qocssd_enqueue(o, 2, &f);
        flush_cid[1] = qocssd_submit(o, 2, &f2);
    }
    qocssd_wait_posted(o, 2, &cqe);
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, flush_cid[0]);

    /* A read the timing model holds. */
    qocssd_qom_set_bool(o, "timing", true);
    buf = qocssd_alloc_page(o, o->sec_size);
    t0 = qocssd_clock_ns(o);
    enqueue_read(o, qocssd_chunk_slba(o, 1) + 3, buf);
    read_cid = o->next_cid;
    qocssd_ring_sq(o, 1, o->sq[1].tail);
    qocssd_wait_held(o, 1);

    /* A write the guest queues while the VM is stopped: not fetched. */
    qtest_qmp_assert_success(o->qts, "{'execute': 'stop'}");
    /* (24 sectors: the first 8 are below the MW_CUNITS window) */
    write_cid = enqueue_write(o, 3, 24, 4, 0);
    qocssd_ring_sq(o, 1, o->sq[1].tail);
    g_assert_false(qocssd_peek(o, 1, &cqe));
    read_regs(o, &before);

    mig_run(&m, false);
    d = m.dst;
    g_assert_cmpint(qocssd_qom_get_int(d, "timing-held"), ==, 1);
    read_regs(d, &after);
    g_assert_cmphex(after.cc, ==, before.cc);
    g_assert_cmphex(after.csts, ==, before.csts);
    g_assert_cmphex(after.aqa, ==, before.aqa);
    g_assert_cmphex(after.asq, ==, before.asq);
    g_assert_cmphex(after.acq, ==, before.acq);
    qtest_qmp_assert_success(d->qts, "{'execute': 'cont'}");

    /* The queued write is fetched now, on the destination (and timed). */
    qocssd_wait_held(d, 2);

    /* The held read completes at its time, by the migrated clock. */
    g_assert_cmpint(qocssd_clock_ns(d), <, t0 + TRDT + XFER);
    qtest_clock_step(d->qts, t0 + TRDT + XFER - 1 - qocssd_clock_ns(d));
    g_assert_false(qocssd_peek(d, 1, &cqe));
    qtest_clock_step(d->qts, 1);
    qocssd_wait(d, 1, &cqe);
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, read_cid);
    g_assert_cmphex(qocssd_cqe_status(&cqe), ==, 0);
    {
        g_autofree uint8_t *want = mkdata(d, qocssd_chunk_slba(d, 1) + 3, 1,
                                          2);
        g_autofree uint8_t *got = g_malloc(d->sec_size);

        qocssd_memread(d, buf, got, d->sec_size);
        g_assert_true(memcmp(got, want, d->sec_size) == 0);
    }
    /* The write, once. */
    qtest_clock_step(d->qts, 10 * 1000 * 1000);
    qocssd_wait(d, 1, &cqe);
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, write_cid);
    g_assert_cmphex(qocssd_cqe_status(&cqe), ==, 0);
    g_assert_false(qocssd_peek(d, 1, &cqe));
    qocssd_qom_set_bool(d, "timing", false);

    /* The completion that waited for room comes when the CQ has some. */
    qocssd_wait(d, 2, &cqe);
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, flush_cid[0]);
    qocssd_wait(d, 2, &cqe);
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, flush_cid[1]);
    g_assert_cmphex(qocssd_cqe_status(&cqe), ==, 0);

    /* Features, the image's data, the queued write's data. */
    g_assert_cmphex(qocssd_get_features(d, NVME_INTERRUPT_COALESCING, 0, 0,
                                        &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, 0x0203);
    g_assert_cmphex(qocssd_get_features(d, NVME_VOLATILE_WRITE_CACHE, 0, 0,
                                        &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, 0);
    rd_check(d, 1, 0, CLBA, 2);
    rd_check(d, 3, 0, 8, 4);

    /* The window: still unreadable; 16 more sectors move it past them. */
    expect_chunk(d, 0, OCSSD_CHUNK_OPEN, 16);
    g_assert_true(rd_zero(d, 0, 0));
    g_assert_cmphex(wr(d, 0, 16, 16, 1), ==, 0);
    rd_check(d, 0, 0, 16, 1);

    /* The one-shot fault fires once, here. */
    g_assert_cmphex(rd_status(d, 2, 5), ==, NVME_UNRECOVERED_READ | NVME_DNR);
    rd_check(d, 2, 0, CLBA, 3);

    /*
     * The notification is in the log (and the read error's after it);
     * reading the log lets the outstanding AER go at the next one.
     */
    expect_chunk(d, 5, OCSSD_CHUNK_OFFLINE, 0);
    g_assert_cmpuint(notifications(d, log), ==, 2);
    g_assert_cmphex(le64_to_cpu(log[0].lba), ==, qocssd_chunk_slba(d, 5));
    g_assert_false(qocssd_peek(d, 0, &cqe));
    inject(d, "inject-offline", qocssd_chunk_slba(d, 6));
    qocssd_wait(d, 0, &cqe);
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, aer_cid);
    g_assert_cmphex(le32_to_cpu(cqe.result), ==,
                    NVME_AER_TYPE_VENDOR_SPECIFIC |
                    OCSSD_AER_INFO_CHUNK_NOTIFICATION << 8 |
                    OCSSD_LOG_CHUNK_NOTIFICATION << 16);
    /* (the read took the first two: the count goes on from the source) */
    g_assert_cmpuint(notifications(d, log), ==, 1);
    g_assert_cmpuint(le64_to_cpu(log[0].nc), ==, 3);

    /* New queues and commands work. */
    g_assert_cmphex(qocssd_create_ioq(d, 3, 16, 3), ==, 0);
    g_assert_cmphex(qocssd_flush(d, 3), ==, 0);
    mig_finish(&m);
}

/*
 * A write in flight on a slow backend (every write to the log child takes
 * 200 ms of real time) when the migration stops the source: it completes
 * there, before the device state is saved; the destination finds its
 * completion in guest memory, once, and its data on the image.
 */
static void test_slow_backend(void)
{
    Mig m = { 0 };
    g_autofree char *drive = NULL;
    QOcssd *o, *d;
    NvmeCqe cqe;
    uint16_t cid;

    m.image = qocssd_tmp_image();
    m.sock = g_strdup_printf("%s/ocssd-mig-%d.sock", g_get_tmp_dir(),
                             getpid());
    drive = g_strdup_printf("-blockdev driver=file,filename=%s,node-name=f "
                            "-blockdev driver=null-co,size=1099511627776,"
                            "latency-ns=100000000,node-name=slowlog "
                            "-blockdev driver=blklogwrites,file=f,"
                            "log=slowlog,node-name=oc0", m.image);
    m.cmdline = cmdline_for(drive, m.image, GEO);
    m.src = qocssd_boot_cmdline("%s", m.cmdline);
    m.src->image = m.image;
    o = m.src;
    qocssd_start_io(o);

    cid = enqueue_write(o, 4, 24, 9, NVME_RW_FUA);
    qocssd_ring_sq(o, 1, o->sq[1].tail);
    g_assert_false(qocssd_peek(o, 1, &cqe));   /* in flight: migrate now */
    mig_run(&m, true);
    d = m.dst;
    qocssd_wait(d, 1, &cqe);
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, cid);
    g_assert_cmphex(qocssd_cqe_status(&cqe), ==, 0);
    g_assert_false(qocssd_peek(d, 1, &cqe));
    expect_chunk(d, 4, OCSSD_CHUNK_OPEN, 24);
    rd_check(d, 4, 0, 8, 9);       /* below the MW_CUNITS window */
    mig_finish(&m);
}

/*
 * A destination that is not the source's device: the migration fails
 * while the source still runs, with the reason on the destination's
 * stderr; the source goes on; the destination's image is not modified.
 */
static void refused(const char *dst_props, const char *why)
{
    Mig m = { 0 };
    g_autofree char *other = qocssd_tmp_image();
    g_autofree char *log = g_strdup_printf("%s.log", other);
    g_autofree char *before = NULL, *after = NULL, *err = NULL;
    g_autofree char *status = NULL, *dst_cmd = NULL, *drive = NULL;
    g_autofree char *dst_args = NULL;
    g_autofree char *uri = NULL;
    gsize len_before, len_after;
    QOcssd *first;
    QTestState *dst;
    QDict *rsp;

    /* The other image, formatted by a device of its own. */
    first = qocssd_boot("q35", other, "%s", dst_props);
    qocssd_shutdown(first);
    g_assert_true(g_file_get_contents(other, &before, &len_before, NULL));

    mig_start(&m, GEO);
    g_assert_cmphex(wr(m.src, 0, 0, 24, 1), ==, 0);
    drive = g_strdup_printf("-drive if=none,id=oc0,file=%s,format=raw",
                            other);
    dst_cmd = cmdline_for(drive, other, dst_props);
    uri = g_strdup_printf("unix:%s", m.sock);
    dst_args = g_strdup_printf("%s -incoming %s 2>%s", dst_cmd, uri,
                               log);
    dst = qtest_init(dst_args);
    qtest_set_expected_status(dst, 1);
    migrate_start(m.src->qts, uri, true);
    status = wait_migration(m.src->qts);
    g_assert_cmpstr(status, ==, "failed");
    /* The destination exits (1); 7.2's wait leaves the pid for probe. */
    qtest_wait_qemu(dst);
    qtest_probe_child(dst);
    qtest_quit(dst);

    /* The source runs on, and its device works. */
    rsp = qtest_qmp(m.src->qts, "{'execute': 'query-status'}");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(rsp, "return"), "status"),
                    ==, "running");
    qobject_unref(rsp);
    g_assert_cmphex(wr(m.src, 0, 24, 8, 1), ==, 0);
    rd_check(m.src, 0, 0, 16, 1);

    g_assert_true(g_file_get_contents(log, &err, NULL, NULL));
    if (!strstr(err, why)) {
        g_error("the destination's message lacks \"%s\": %s", why, err);
    }
    g_assert_true(g_file_get_contents(other, &after, &len_after, NULL));
    g_assert_cmpuint(len_after, ==, len_before);
    g_assert_true(memcmp(before, after, len_before) == 0);
    unlink(other);
    unlink(log);
    mig_finish(&m);
}

/*
 * A Doorbell Buffer Config moves with the device: the destination reads
 * the shadow doorbells (two writes in the shadow, the register rung with
 * one: both run) and publishes EventIdx values.
 */
static void test_shadow_doorbells(void)
{
    Mig m = { 0 };
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_DBBUF_CONFIG };
    NvmeCqe cqe;
    uint64_t dbs, eis;
    int i;

    mig_start(&m, GEO);
    dbs = qocssd_alloc_page(m.src, 4096);
    eis = qocssd_alloc_page(m.src, 4096);
    qtest_memset(m.src->qts, dbs, 0, 4096);
    qtest_memset(m.src->qts, eis, 0xee, 4096);
    cmd.dptr.prp1 = cpu_to_le64(dbs);
    cmd.dptr.prp2 = cpu_to_le64(eis);
    g_assert_cmphex(qocssd_exec(m.src, 0, &cmd, NULL), ==, 0);
    mig_run(&m, true);

    enqueue_write(m.dst, 0, 8, 1, 0);
    enqueue_write(m.dst, 1, 8, 2, 0);
    qtest_writel(m.dst->qts, dbs + 8, 2);
    qocssd_ring_sq(m.dst, 1, 1);
    for (i = 0; i < 2; i++) {
        qocssd_wait(m.dst, 1, &cqe);
        g_assert_cmphex(qocssd_cqe_status(&cqe), ==, 0);
        g_assert_cmpuint(le16_to_cpu(cqe.sq_head), ==, 2);
    }
    g_assert_cmpuint(qtest_readl(m.dst->qts, eis + 8), ==, 2);
    mig_finish(&m);
}

static void test_refused_geometry(void)
{
    refused("num_grp=2,num_pu=2,num_chk=4,clba=64,ws_min=4,ws_opt=8,"
            "mw_cunits=16", "the geometry differs: num_chk=8 on the source, "
            "num_chk=4 here");
}

static void test_refused_image(void)
{
    refused(GEO, "the image differs");
}

/*
 * A seeded run goes on with the same random draws after a migration: 32
 * reads fail or not alike whether the device moved after the 16th or not.
 */
static uint64_t read_draws(QOcssd *o, unsigned first, unsigned n)
{
    uint64_t failed = 0;
    unsigned i;

    for (i = first; i < first + n; i++) {
        uint16_t st = rd_status(o, 1, i % CLBA);

        g_assert_true(st == 0 || st == (NVME_UNRECOVERED_READ | NVME_DNR));
        failed |= (uint64_t)(st != 0) << i;
    }
    return failed;
}

static void test_fault_draws(void)
{
    g_autofree char *rules = NULL;
    g_autofree char *props = NULL;
    Mig a = { 0 }, b = { 0 };
    uint64_t whole, moved;
    int fd = g_file_open_tmp("ocssd-readfail-XXXXXX", &rules, NULL);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, "0 0 1 * 0.5\n", 12), ==, 12);
    close(fd);
    props = g_strdup_printf(GEO ",readfail=%s", rules);

    mig_start(&a, props);
    g_assert_cmphex(wr(a.src, 1, 0, CLBA, 1), ==, 0);
    whole = read_draws(a.src, 0, 32);
    mig_finish(&a);

    mig_start(&b, props);
    g_assert_cmphex(wr(b.src, 1, 0, CLBA, 1), ==, 0);
    moved = read_draws(b.src, 0, 16);
    mig_run(&b, true);
    moved |= read_draws(b.dst, 16, 16);
    mig_finish(&b);

    g_assert_cmphex(whole, !=, 0);
    g_assert_cmphex(whole, !=, 0xffffffffULL);
    g_assert_cmphex(moved, ==, whole);
    unlink(rules);
}

/*
 * A migration to a file, restored onto an image a device used in between:
 * the destination refuses to run on it (CSTS.CFS, with the reason) rather
 * than pair the saved state with other media.
 */
static void test_file_stale_image(void)
{
    Mig m = { 0 };
    QOcssd saved, *o;
    QOSState *qs;
    g_autofree char *stream = NULL, *uri = NULL, *log = NULL, *out = NULL;
    g_autofree char *status = NULL;
    int fd = g_file_open_tmp("ocssd-mig-XXXXXX.stream", &stream, NULL);

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    log = g_strdup_printf("%s.log", stream);
    mig_start(&m, GEO);
    g_assert_cmphex(wr(m.src, 0, 0, 24, 1), ==, 0);
    uri = g_strdup_printf("exec:cat > %s", stream);
    migrate_start(m.src->qts, uri, false);
    status = wait_migration(m.src->qts);
    g_assert_cmpstr(status, ==, "completed");
    saved = *m.src;
    m.src->image = NULL;
    qocssd_shutdown(m.src);

    /* Another run uses the image. */
    o = qocssd_boot("q35", m.image, "id=oc");
    qocssd_start_io(o);
    g_assert_cmphex(wr(o, 1, 0, 24, 2), ==, 0);
    qocssd_shutdown(o);

    g_free(uri);
    uri = g_strdup_printf("exec:cat %s", stream);
    qs = qtest_pc_boot("%s -incoming '%s' 2>%s", m.cmdline, uri, log);
    qtest_qmp_eventwait(qs->qts, "RESUME");
    o = qocssd_adopt(&saved, qs);
    g_assert_cmphex(qocssd_readl(o, 0x1c) & NVME_CSTS_FAILED, ==,
                    NVME_CSTS_FAILED);
    qocssd_shutdown(o);
    g_assert_true(g_file_get_contents(log, &out, NULL, NULL));
    if (!strstr(out, "does not hold the media of the device state")) {
        g_error("restore onto a used image: \"%s\"", out);
    }
    unlink(m.image);
    g_free(m.image);
    unlink(stream);
    unlink(log);
    g_free(m.sock);
    g_free(m.cmdline);
}

/* ---- savevm / loadvm ----------------------------------------------------- */

static char *hmp(QOcssd *o, const char *cmd)
{
    return qtest_hmp(o->qts, "%s", cmd);
}

/*
 * The image in a qcow2 file: loadvm brings back the device and the media
 * as they were at savevm, although the guest wrote, reset and opened
 * chunks in between.
 */
static void test_savevm_loadvm(void)
{
    g_autofree char *img = qocssd_tmp_image();
    g_autofree char *cmd = NULL, *out = NULL;
    const char *qemu_img = g_getenv("QTEST_QEMU_IMG");
    QOcssdQueue sq[QOCSSD_MAX_QUEUES], cq[QOCSSD_MAX_QUEUES];
    OcssdChunkNotification log[OCSSD_NOTIFY_LOG_ENTRIES];
    Regs before, after;
    uint16_t cid;
    QOcssd *o;

    if (!qemu_img) {
        g_test_skip("QTEST_QEMU_IMG is not set");
        unlink(img);
        return;
    }
    cmd = g_strdup_printf("%s create -q -f qcow2 %s 0", qemu_img, img);
    g_assert_cmpint(system(cmd), ==, 0);
    o = qocssd_boot_cmdline("-machine q35 -drive if=none,id=oc0,file=%s,"
                            "format=qcow2 -device ocssd,drive=oc0,addr=04.0,"
                            "id=oc," GEO, img);
    o->image = g_strdup(img);
    qocssd_start_io(o);
    g_assert_cmphex(wr(o, 0, 0, 16, 1), ==, 0);
    g_assert_cmphex(wr(o, 1, 0, CLBA, 2), ==, 0);
    qocssd_aer_submit(o);
    inject(o, "inject-offline", qocssd_chunk_slba(o, 7));
    qocssd_aer_expect(o, NVME_AER_TYPE_VENDOR_SPECIFIC,
                      OCSSD_AER_INFO_CHUNK_NOTIFICATION,
                      OCSSD_LOG_CHUNK_NOTIFICATION);
    read_regs(o, &before);
    memcpy(sq, o->sq, sizeof(sq));
    memcpy(cq, o->cq, sizeof(cq));
    cid = o->next_cid;

    out = hmp(o, "savevm s1");
    g_assert_cmpstr(out, ==, "");
    g_clear_pointer(&out, g_free);

    /* The guest goes on: more data, a reset, a new chunk, a log read. */
    g_assert_cmphex(wr(o, 0, 16, 16, 3), ==, 0);
    {
        uint64_t l = qocssd_chunk_slba(o, 1);

        g_assert_cmphex(qocssd_vreset(o, 1, &l, 1, NULL, NULL), ==, 0);
    }
    g_assert_cmphex(wr(o, 2, 0, 8, 4), ==, 0);
    g_assert_cmpuint(notifications(o, log), ==, 1);
    g_assert_cmphex(qocssd_create_ioq(o, 2, 16, 2), ==, 0);

    out = hmp(o, "loadvm s1");
    g_assert_cmpstr(out, ==, "");
    g_clear_pointer(&out, g_free);
    /* The driver's view of its queues goes back with the guest memory. */
    memcpy(o->sq, sq, sizeof(sq));
    memcpy(o->cq, cq, sizeof(cq));
    o->next_cid = cid;

    read_regs(o, &after);
    g_assert_cmphex(after.cc, ==, before.cc);
    g_assert_cmphex(after.csts, ==, before.csts);
    g_assert_cmphex(after.asq, ==, before.asq);
    expect_chunk(o, 0, OCSSD_CHUNK_OPEN, 16);
    expect_chunk(o, 1, OCSSD_CHUNK_CLOSED, CLBA);
    expect_chunk(o, 2, OCSSD_CHUNK_FREE, 0);
    expect_chunk(o, 7, OCSSD_CHUNK_OFFLINE, 0);
    rd_check(o, 1, 0, CLBA, 2);
    g_assert_true(rd_zero(o, 0, 0));        /* inside the window again */
    g_assert_cmpuint(notifications(o, log), ==, 1);
    /* Queue 2 did not exist at savevm: creating it works again. */
    g_assert_cmphex(qocssd_create_ioq(o, 2, 16, 2), ==, 0);
    g_assert_cmphex(wr(o, 0, 16, 32, 5), ==, 0);
    rd_check(o, 0, 0, 16, 1);
    rd_check(o, 0, 16, 16, 5);
    qocssd_shutdown(o);
}

/* Run a snapshot-save/-load job; its error, or NULL. */
static char *snapshot_job(QOcssd *o, const char *cmd, const char *id)
{
    QDict *rsp, *job;
    QList *jobs;
    char *err = NULL;

    qtest_qmp_assert_success(o->qts, "{'execute': %s, 'arguments': "
                             "{'job-id': %s, 'tag': 's1', 'vmstate': 'vm0', "
                             "'devices': ['vm0']}}", cmd, id);
    for (;;) {
        QDict *ev = qtest_qmp_eventwait_ref(o->qts, "JOB_STATUS_CHANGE");
        bool done = !strcmp(qdict_get_str(qdict_get_qdict(ev, "data"),
                                          "status"), "concluded");

        qobject_unref(ev);
        if (done) {
            break;
        }
    }
    rsp = qtest_qmp(o->qts, "{'execute': 'query-jobs'}");
    jobs = qdict_get_qlist(rsp, "return");
    job = qobject_to(QDict, qlist_peek(jobs));
    if (qdict_haskey(job, "error")) {
        err = g_strdup(qdict_get_str(job, "error"));
    }
    qobject_unref(rsp);
    qtest_qmp_assert_success(o->qts, "{'execute': 'job-dismiss', "
                             "'arguments': {'id': %s}}", id);
    return err;
}

/*
 * A snapshot whose device list leaves the ocssd image out cannot be
 * consistent: loading it onto the image as it is now is refused, with the
 * reason.
 */
static void test_snapshot_without_image(void)
{
    g_autofree char *img = qocssd_tmp_image();
    g_autofree char *vm = qocssd_tmp_image();
    g_autofree char *cmd = NULL, *err = NULL, *log = NULL, *out = NULL;
    const char *qemu_img = g_getenv("QTEST_QEMU_IMG");
    QOcssd *o;

    if (!qemu_img) {
        g_test_skip("QTEST_QEMU_IMG is not set");
        unlink(img);
        unlink(vm);
        return;
    }
    log = g_strdup_printf("%s.log", vm);
    cmd = g_strdup_printf("%s create -q -f qcow2 %s 0 && %s create -q -f "
                          "qcow2 %s 64M", qemu_img, img, qemu_img, vm);
    g_assert_cmpint(system(cmd), ==, 0);
    o = qocssd_boot_cmdline("-machine q35 -blockdev driver=file,filename=%s,"
                            "node-name=vmf -blockdev driver=qcow2,file=vmf,"
                            "node-name=vm0 -drive if=none,id=oc0,file=%s,"
                            "format=qcow2 -device ocssd,drive=oc0,addr=04.0,"
                            "id=oc," GEO " 2>%s", vm, img, log);
    o->image = g_strdup(img);
    qocssd_start_io(o);
    g_assert_cmphex(wr(o, 0, 0, 24, 1), ==, 0);
    err = snapshot_job(o, "snapshot-save", "save");
    g_assert_null(err);
    g_assert_cmphex(wr(o, 1, 0, CLBA, 2), ==, 0);

    err = snapshot_job(o, "snapshot-load", "load");
    g_assert_nonnull(err);
    /* (a failed load leaves the VM stopped, its state undefined: QEMU's) */
    qocssd_shutdown(o);
    g_assert_true(g_file_get_contents(log, &out, NULL, NULL));
    if (!strstr(out, "does not hold the media of the device state")) {
        g_error("snapshot-load without the ocssd image: \"%s\"", out);
    }
    unlink(vm);
    unlink(log);
}

/* A raw image cannot hold a snapshot: QEMU refuses savevm, the VM runs on. */
static void test_savevm_raw_refused(void)
{
    QOcssd *o = qocssd_boot_tmp("q35", "id=oc," GEO);
    g_autofree char *out = NULL;

    qocssd_start_io(o);
    out = hmp(o, "savevm s1");
    if (!strstr(out, "does not support snapshots")) {
        g_error("savevm on a raw image: \"%s\"", out);
    }
    g_assert_cmphex(wr(o, 0, 0, 24, 1), ==, 0);
    rd_check(o, 0, 0, 8, 1);
    qocssd_shutdown(o);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/ocssd/migration/state", test_state);
    qtest_add_func("/ocssd/migration/slow-backend", test_slow_backend);
    qtest_add_func("/ocssd/migration/fault-draws", test_fault_draws);
    qtest_add_func("/ocssd/migration/shadow-doorbells",
                   test_shadow_doorbells);
    qtest_add_func("/ocssd/migration/file-stale-image",
                   test_file_stale_image);
    qtest_add_func("/ocssd/migration/refused/geometry",
                   test_refused_geometry);
    qtest_add_func("/ocssd/migration/refused/image", test_refused_image);
    qtest_add_func("/ocssd/snapshot/savevm-loadvm", test_savevm_loadvm);
    qtest_add_func("/ocssd/snapshot/raw-refused", test_savevm_raw_refused);
    qtest_add_func("/ocssd/snapshot/without-image",
                   test_snapshot_without_image);
    return g_test_run();
}
