/*
 * ocssd qtests: malformed commands and doorbell abuse
 *
 * What a buggy or hostile guest can do to the controller, case by case,
 * with the exact NVMe status (and DNR) each deserves: bad queue ids and
 * sizes, queues outside guest RAM, doorbells of queues that do not exist
 * and values beyond the queue, PRP entries with offsets, PRP lists and
 * data outside RAM, chained PRP lists (also ones that point to
 * themselves), transfers beyond MDTS, every kind of bad SGL, NSIDs where
 * they are not allowed, unknown opcodes, fused commands, unknown feature
 * and log page ids, log page offsets.  After each the device must still
 * work: alive() runs an Identify and a write and read back.
 *
 * Each test boots its own QEMU on a fresh image (2 groups x 2 PUs x 4
 * chunks x 64 sectors of 4 KiB, 16 bytes of metadata per sector).
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/ocssd.h"
#include "hw/pci/pci_regs.h"

#define GEO         "num_grp=2,num_pu=2,num_chk=4,clba=64,mw_cunits=0"
#define CLBA        64
#define SCRATCH     15              /* the chunk alive() writes */
#define PAGE        4096
#define OUTSIDE     (1ULL << 40)    /* no RAM, no device there */

#define DNR(s)      ((s) | NVME_DNR)
#define INVF        DNR(NVME_INVALID_FIELD)
#define PRP_OFF     DNR(NVME_INVALID_PRP_OFFSET)
#define XFER        DNR(NVME_DATA_TRAS_ERROR)
#define NSID        DNR(NVME_INVALID_NSID)

/* SGL descriptor type bytes: type << 4 | subtype. */
#define SGL_DATA    (NVME_SGL_DESCR_TYPE_DATA_BLOCK << 4)
#define SGL_SEG     (NVME_SGL_DESCR_TYPE_SEGMENT << 4)
#define SGL_LAST    (NVME_SGL_DESCR_TYPE_LAST_SEGMENT << 4)

/* ---- helpers ------------------------------------------------------------ */

/* Boot q35 with the small geometry plus opts; I/O queue pair 1 ready. */
static QOcssd *boot(const char *opts)
{
    QOcssd *o = qocssd_boot_tmp("q35", GEO "%s%s", *opts ? "," : "", opts);

    qocssd_start_io(o);
    return o;
}

static uint64_t chunk_wp(QOcssd *o, uint64_t chunk)
{
    OcssdChunkDescriptor d;

    g_assert_cmphex(qocssd_chunk_info(o, chunk, &d), ==, 0);
    return le64_to_cpu(d.wp);
}

/* The device still works: an Identify, then a write read back. */
static void alive(QOcssd *o)
{
    uint8_t id[NVME_IDENTIFY_DATA_SIZE];
    g_autofree uint8_t *w = g_malloc(4 * PAGE);
    g_autofree uint8_t *r = g_malloc(4 * PAGE);
    uint64_t slba = qocssd_chunk_slba(o, SCRATCH);
    uint64_t wp = chunk_wp(o, SCRATCH);

    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_CTRL, 0, id), ==, 0);
    g_assert_cmphex(le16_to_cpu(((NvmeIdCtrl *)id)->vid), ==, 0x1d1d);
    if (wp == CLBA) {
        g_assert_cmphex(qocssd_vreset(o, 1, &slba, 1, NULL, NULL), ==, 0);
        wp = 0;
    }
    memset(w, (uint8_t)(wp + 0x31), 4 * PAGE);
    g_assert_cmphex(qocssd_write(o, 1, slba + wp, 4, w, NULL, 0), ==, 0);
    g_assert_cmphex(qocssd_read(o, 1, slba + wp, 4, r, NULL, 0), ==, 0);
    g_assert(!memcmp(w, r, 4 * PAGE));
}

static void finish(QOcssd *o)
{
    alive(o);
    qocssd_shutdown(o);
}

static uint64_t put(QOcssd *o, const void *data, size_t len)
{
    uint64_t addr = qocssd_alloc(o, len);

    qocssd_memwrite(o, addr, data, len);
    return addr;
}

static void put_u64(QOcssd *o, uint64_t addr, uint64_t val)
{
    val = cpu_to_le64(val);
    qocssd_memwrite(o, addr, &val, 8);
}

static uint16_t exec(QOcssd *o, uint16_t qid, NvmeCmd *cmd)
{
    return qocssd_exec(o, qid, cmd, NULL);
}

/* Identify Controller into prp1/prp2. */
static uint16_t identify_prp(QOcssd *o, uint64_t prp1, uint64_t prp2)
{
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_IDENTIFY };

    cmd.cdw10 = cpu_to_le32(NVME_ID_CNS_CTRL);
    cmd.dptr.prp1 = cpu_to_le64(prp1);
    cmd.dptr.prp2 = cpu_to_le64(prp2);
    return exec(o, 0, &cmd);
}

/* A Read/Write of nlb sectors at slba; the caller sets the data pointer. */
static void rw_cmd(NvmeCmd *cmd, uint8_t opcode, uint64_t slba, uint32_t nlb)
{
    NvmeRwCmd *rw = (NvmeRwCmd *)cmd;

    memset(cmd, 0, sizeof(*cmd));
    rw->opcode = opcode;
    rw->nsid = cpu_to_le32(1);
    rw->slba = cpu_to_le64(slba);
    rw->nlb = cpu_to_le16(nlb - 1);
}

static uint16_t rw_prp(QOcssd *o, uint8_t opcode, uint64_t slba,
                       uint32_t nlb, uint64_t prp1, uint64_t prp2)
{
    NvmeCmd cmd;

    rw_cmd(&cmd, opcode, slba, nlb);
    cmd.dptr.prp1 = cpu_to_le64(prp1);
    cmd.dptr.prp2 = cpu_to_le64(prp2);
    return exec(o, 1, &cmd);
}

/* A PRP list of n entries at addr. */
static void put_list(QOcssd *o, uint64_t addr, const uint64_t *ent,
                     unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        put_u64(o, addr + 8 * i, ent[i]);
    }
}

static void sgl(NvmeSglDescriptor *d, uint8_t type, uint64_t addr,
                uint32_t len)
{
    memset(d, 0, sizeof(*d));
    d->addr = cpu_to_le64(addr);
    d->len = cpu_to_le32(len);
    d->type = type;
}

/* Identify Controller through an SGL whose first descriptor is sgl1. */
static uint16_t identify_sgl(QOcssd *o, const NvmeSglDescriptor *sgl1)
{
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_IDENTIFY };

    cmd.flags = NVME_PSDT_SGL_MPTR_CONTIGUOUS << 6;
    cmd.cdw10 = cpu_to_le32(NVME_ID_CNS_CTRL);
    cmd.dptr.sgl = *sgl1;
    return exec(o, 0, &cmd);
}

/* Read the error log, which re-arms the error event. */
static void rearm_errors(QOcssd *o)
{
    NvmeErrorLog log;

    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_ERROR_INFO, 0, 0, sizeof(log),
                                   false, &log), ==, 0);
}

/* An AER waits; a doorbell write of val at qid's SQ or CQ raises info. */
static void doorbell_event(QOcssd *o, uint16_t qid, bool cq, uint32_t val,
                           uint8_t info)
{
    qocssd_aer_submit(o);
    if (cq) {
        qocssd_ring_cq(o, qid, val);
    } else {
        qocssd_ring_sq(o, qid, val);
    }
    qocssd_aer_expect(o, NVME_AER_TYPE_ERROR, info, NVME_LOG_ERROR_INFO);
    rearm_errors(o);
}

static uint16_t admin_dw(QOcssd *o, uint8_t opcode, uint32_t nsid,
                         uint32_t cdw10, uint32_t cdw11)
{
    NvmeCmd cmd = { .opcode = opcode };

    cmd.nsid = cpu_to_le32(nsid);
    cmd.cdw10 = cpu_to_le32(cdw10);
    cmd.cdw11 = cpu_to_le32(cdw11);
    return exec(o, 0, &cmd);
}

/* A page of identify data went to addr (VID first). */
static void assert_identify_at(QOcssd *o, uint64_t addr)
{
    uint16_t vid;

    qocssd_memread(o, addr, &vid, 2);
    g_assert_cmphex(le16_to_cpu(vid), ==, 0x1d1d);
}

/* ---- queues ------------------------------------------------------------- */

/* Extreme queue ids and sizes. */
static void test_queue_bad(void)
{
    QOcssd *o = boot("");
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_CREATE_CQ };
    uint64_t mem = qocssd_alloc(o, PAGE);

    cmd.dptr.prp1 = cpu_to_le64(mem);
    /* 65536 entries, qid 65535, vector 65535. */
    cmd.cdw10 = cpu_to_le32(0xffff0002);
    cmd.cdw11 = cpu_to_le32(3);
    g_assert_cmphex(exec(o, 0, &cmd), ==, DNR(NVME_MAX_QSIZE_EXCEEDED));
    cmd.cdw10 = cpu_to_le32(0x000fffff);
    g_assert_cmphex(exec(o, 0, &cmd), ==, DNR(NVME_INVALID_QID));
    cmd.cdw10 = cpu_to_le32(0x000f0002);
    cmd.cdw11 = cpu_to_le32(0xffff0003);
    g_assert_cmphex(exec(o, 0, &cmd), ==, DNR(NVME_INVALID_IRQ_VECTOR));
    /* An I/O queue may not take the admin queue's id, or use its CQ. */
    cmd.cdw10 = cpu_to_le32(0x000f0000);
    cmd.cdw11 = cpu_to_le32(3);
    g_assert_cmphex(exec(o, 0, &cmd), ==, DNR(NVME_INVALID_QID));
    cmd.opcode = NVME_ADM_CMD_CREATE_SQ;
    cmd.cdw10 = cpu_to_le32(0xffff0002);
    cmd.cdw11 = cpu_to_le32(1 << 16 | 1);
    g_assert_cmphex(exec(o, 0, &cmd), ==, DNR(NVME_MAX_QSIZE_EXCEEDED));
    cmd.cdw10 = cpu_to_le32(0x000f0002);
    cmd.cdw11 = cpu_to_le32(0xffff0001);
    g_assert_cmphex(exec(o, 0, &cmd), ==, DNR(NVME_INVALID_CQID));
    cmd.cdw11 = cpu_to_le32(1);
    g_assert_cmphex(exec(o, 0, &cmd), ==, DNR(NVME_INVALID_CQID));
    g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_DELETE_SQ, 0, 0xffff, 0), ==,
                    DNR(NVME_INVALID_QID));
    g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_DELETE_CQ, 0, 0xffff, 0), ==,
                    DNR(NVME_INVALID_QID));
    /* Reserved bits above the queue id are not part of it. */
    g_assert_cmphex(qocssd_create_ioq(o, 2, 16, 2), ==, 0);
    g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_DELETE_SQ, 0, 0xabcd0002, 0),
                    ==, 0);
    g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_DELETE_CQ, 0, 0xabcd0002, 0),
                    ==, 0);
    finish(o);
}

static void wait_cfs(QOcssd *o)
{
    qocssd_wait_csts(o, NVME_CSTS_FAILED, NVME_CSTS_FAILED);
}

/*
 * Queues in memory that is not there: the command cannot be fetched or
 * its completion posted, which is fatal (CSTS.CFS) until a reset.
 */
static void test_queue_outside_ram(void)
{
    QOcssd *o = boot("");
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_CREATE_CQ };

    /* A CQ outside RAM: its first completion cannot be written. */
    cmd.dptr.prp1 = cpu_to_le64(OUTSIDE);
    cmd.cdw10 = cpu_to_le32(15 << 16 | 2);
    cmd.cdw11 = cpu_to_le32(1);
    g_assert_cmphex(exec(o, 0, &cmd), ==, 0);
    g_assert_cmphex(qocssd_create_sq(o, 2, 2, 16), ==, 0);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = NVME_CMD_FLUSH;
    cmd.nsid = cpu_to_le32(1);
    qocssd_submit(o, 2, &cmd);
    wait_cfs(o);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS) & NVME_CSTS_READY, ==,
                    NVME_CSTS_READY);
    qocssd_disable(o);
    qocssd_start_io(o);
    alive(o);

    /* An SQ outside RAM: its command cannot be fetched. */
    g_assert_cmphex(qocssd_create_cq(o, 3, 16, 3, true), ==, 0);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = NVME_ADM_CMD_CREATE_SQ;
    cmd.dptr.prp1 = cpu_to_le64(OUTSIDE);
    cmd.cdw10 = cpu_to_le32(15 << 16 | 3);
    cmd.cdw11 = cpu_to_le32(3 << 16 | 1);
    g_assert_cmphex(exec(o, 0, &cmd), ==, 0);
    qocssd_ring_sq(o, 3, 1);
    wait_cfs(o);
    qocssd_disable(o);
    qocssd_start_io(o);
    finish(o);
}

/* A write of 4 sectors at slba from a guest buffer, queued on qid. */
static uint16_t queue_write(QOcssd *o, uint16_t qid, uint64_t slba)
{
    NvmeCmd cmd;

    rw_cmd(&cmd, NVME_CMD_WRITE, slba, 4);
    qocssd_set_prp(o, &cmd, qocssd_alloc(o, 4 * PAGE), 4 * PAGE);
    return qocssd_submit(o, qid, &cmd);
}

/*
 * Deleting an SQ whose commands are in flight, or whose completions wait
 * for room in a full CQ, and resetting the controller with commands in
 * flight: the commands are dropped, the device goes on.
 */
static void test_queue_delete_busy(void)
{
    QOcssd *o = boot("");
    NvmeCmd cmd = {};
    NvmeCqe cqe;
    unsigned i;

    /* Completions waiting for a full CQ. */
    g_assert_cmphex(qocssd_create_cq(o, 2, 2, 2, true), ==, 0);
    g_assert_cmphex(qocssd_create_sq(o, 2, 2, 8), ==, 0);
    cmd.opcode = 0x7f;
    for (i = 0; i < 6; i++) {
        qocssd_submit(o, 2, &cmd);
    }
    qocssd_wait_posted(o, 2, &cqe);
    g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_DELETE_SQ, 0, 2, 0), ==, 0);
    o->sq[2].live = false;
    /* The posted completion stays; those waiting are dropped. */
    qocssd_wait(o, 2, &cqe);
    g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_GET_FEATURES, 0,
                             NVME_ARBITRATION, 0), ==, 0);
    g_assert_false(qocssd_peek(o, 2, &cqe));
    g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_DELETE_CQ, 0, 2, 0), ==, 0);

    /* Writes in flight. */
    g_assert_cmphex(qocssd_create_ioq(o, 2, 16, 2), ==, 0);
    for (i = 0; i < 4; i++) {
        queue_write(o, 2, qocssd_chunk_slba(o, 1) + 4 * i);
    }
    g_assert_cmphex(qocssd_delete_ioq(o, 2), ==, 0);
    g_assert_cmpuint(chunk_wp(o, 1) % 4, ==, 0);
    g_assert_cmphex(qocssd_create_ioq(o, 2, 16, 2), ==, 0);
    g_assert_cmphex(qocssd_flush(o, 2), ==, 0);

    /* A controller reset with writes in flight. */
    for (i = 0; i < 4; i++) {
        queue_write(o, 1, qocssd_chunk_slba(o, 2) + 4 * i);
    }
    qocssd_disable(o);
    qocssd_start_io(o);
    g_assert_cmpuint(chunk_wp(o, 2) % 4, ==, 0);
    finish(o);
}

/* ---- commands in flight on a slow backend -------------------------------- */

/*
 * Boot on a new image through blkdebug, whose breakpoints (hold()) keep a
 * read in flight until the test lets it go (release()).  The image is
 * removed at qocssd_shutdown().
 */
static QOcssd *boot_held(void)
{
    char *img = qocssd_tmp_image();
    QOcssd *o = qocssd_boot_cmdline("-machine q35 -drive if=none,id=oc0,"
                                    "file.driver=blkdebug,"
                                    "file.image.filename=%s,driver=raw "
                                    "-device ocssd,drive=oc0,addr=04.0,id=oc,"
                                    GEO, img);
    g_autofree uint8_t *w = g_malloc(4 * PAGE);

    o->image = img;
    qocssd_start_io(o);
    memset(w, 0x3c, 4 * PAGE);
    g_assert_cmphex(qocssd_write(o, 1, qocssd_chunk_slba(o, 1), 4, w, NULL,
                                 0), ==, 0);
    return o;
}

static void hmp_qemu_io(QOcssd *o, const char *cmd)
{
    g_free(qtest_hmp(o->qts, "qemu-io oc0 \"%s\"", cmd));
}

/* The next read of the image waits for release(). */
static void hold(QOcssd *o)
{
    hmp_qemu_io(o, "break read_aio held");
}

static void release(QOcssd *o)
{
    hmp_qemu_io(o, "resume held");
}

/* A read of 4 sectors of chunk 1 into buf, queued on qid. */
static uint16_t queue_read(QOcssd *o, uint16_t qid, uint64_t buf)
{
    NvmeCmd cmd;

    rw_cmd(&cmd, NVME_CMD_READ, qocssd_chunk_slba(o, 1), 4);
    qocssd_set_prp(o, &cmd, buf, 4 * PAGE);
    return qocssd_submit(o, qid, &cmd);
}

static void fill(QOcssd *o, uint64_t addr, uint8_t byte, size_t len)
{
    qtest_memset(o->qts, addr, byte, len);
}

static void expect_filled(QOcssd *o, uint64_t addr, uint8_t byte, size_t len)
{
    g_autofree uint8_t *b = g_malloc(len);
    size_t i;

    qocssd_memread(o, addr, b, len);
    for (i = 0; i < len; i++) {
        if (b[i] != byte) {
            g_error("byte %zu at 0x%" PRIx64 " is 0x%02x, expected 0x%02x",
                    i, addr, b[i], byte);
        }
    }
}

/*
 * Delete I/O SQ with a read in flight completes only once the read is
 * done: a command may touch host memory until then, never after; its
 * completion is not posted to the CQ.
 */
static void test_delete_sq_in_flight(void)
{
    QOcssd *o = boot_held();
    uint64_t buf = qocssd_alloc_page(o, 4 * PAGE);
    NvmeCmd del = { .opcode = NVME_ADM_CMD_DELETE_SQ };
    NvmeCqe cqe;
    unsigned i;

    g_assert_cmphex(qocssd_create_ioq(o, 2, 16, 2), ==, 0);
    fill(o, buf, 0xa5, 4 * PAGE);
    hold(o);
    queue_read(o, 2, buf);
    del.cdw10 = cpu_to_le32(2);
    qocssd_submit(o, 0, &del);
    for (i = 0; i < 1000; i++) {
        g_assert_false(qocssd_peek(o, 0, &cqe));
    }
    expect_filled(o, buf, 0xa5, 4 * PAGE);
    release(o);
    qocssd_wait(o, 0, &cqe);
    g_assert_cmphex(qocssd_cqe_status(&cqe), ==, 0);
    o->sq[2].live = false;
    /* The read finished before: its data is there, its CQE is not. */
    expect_filled(o, buf, 0x3c, 4 * PAGE);
    g_assert_false(qocssd_peek(o, 2, &cqe));
    fill(o, buf, 0x5a, 4 * PAGE);
    g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_DELETE_CQ, 0, 2, 0), ==, 0);
    alive(o);
    expect_filled(o, buf, 0x5a, 4 * PAGE);
    finish(o);
}

/*
 * CC.EN = 0 with a read in flight: CSTS.RDY reads 1 until the read is
 * done, and once it reads 0 nothing touches host memory: neither the
 * data buffer nor the completion queue.
 */
static void test_reset_in_flight(void)
{
    QOcssd *o = boot_held();
    uint64_t buf = qocssd_alloc_page(o, 4 * PAGE);
    uint64_t cq = o->cq[1].addr;
    size_t cq_len = QOCSSD_QSIZE * 16;
    g_autofree uint8_t *cq_before = g_malloc(cq_len);
    g_autofree uint8_t *cq_after = g_malloc(cq_len);
    unsigned i;

    fill(o, buf, 0xa5, 4 * PAGE);
    hold(o);
    queue_read(o, 1, buf);
    qocssd_memread(o, cq, cq_before, cq_len);
    qocssd_writel(o, NVME_REG_CC, 0);
    for (i = 0; i < 1000; i++) {
        g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS) & NVME_CSTS_READY, ==,
                        NVME_CSTS_READY);
    }
    expect_filled(o, buf, 0xa5, 4 * PAGE);
    release(o);
    qocssd_wait_csts(o, NVME_CSTS_READY, 0);
    expect_filled(o, buf, 0x3c, 4 * PAGE);
    fill(o, buf, 0x5a, 4 * PAGE);
    qocssd_memread(o, cq, cq_after, cq_len);
    g_assert_cmpmem(cq_after, cq_len, cq_before, cq_len);

    /*
     * A host that sets CC.EN again before CSTS.RDY reads 0: the device
     * starts once the old commands are done.
     */
    qocssd_start_io(o);
    expect_filled(o, buf, 0x5a, 4 * PAGE);
    hold(o);
    queue_read(o, 1, buf);
    qocssd_writel(o, NVME_REG_CC, 0);
    qocssd_enable(o);
    release(o);
    /* The read's data lands, then (in the same callback) the start. */
    for (i = 0; i < 100000; i++) {
        uint8_t b;

        qocssd_memread(o, buf, &b, 1);
        if (b == 0x3c) {
            break;
        }
    }
    expect_filled(o, buf, 0x3c, 4 * PAGE);
    qocssd_wait_csts(o, NVME_CSTS_READY, NVME_CSTS_READY);
    qocssd_read_geometry(o);
    g_assert_cmphex(qocssd_create_ioq(o, 1, QOCSSD_QSIZE, 1), ==, 0);
    finish(o);
}

/*
 * Boot on a new image whose reads the block layer throttles: on the qtest
 * accelerator the throttle runs on the virtual clock, so reads wait until
 * the test steps it (run_throttled()).  More -device options in opts,
 * more command line in extra.  The image is removed at qocssd_shutdown().
 */
static QOcssd *boot_slow(const char *opts, const char *extra)
{
    char *img = qocssd_tmp_image();
    QOcssd *o = qocssd_boot_cmdline("-machine q35 %s -drive if=none,id=oc0,"
                                    "file=%s,format=raw,"
                                    "throttling.iops-read=100 "
                                    "-device ocssd,drive=oc0,addr=04.0,id=oc,"
                                    GEO ",%s", extra, img, opts);

    o->image = img;
    qocssd_start_io(o);
    return o;
}

static void run_throttled(QOcssd *o)
{
    qtest_clock_step(o->qts, 100LL * 1000 * 1000 * 1000);
}

/* A -device property of the device, read over QMP. */
static uint64_t qom_u64(QOcssd *o, const char *prop)
{
    QDict *rsp = qtest_qmp(o->qts, "{'execute': 'qom-get', 'arguments': "
                           "{'path': '/machine/peripheral/oc', "
                           "'property': %s}}", prop);
    uint64_t val;

    g_assert(qdict_haskey(rsp, "return"));
    val = qdict_get_int(rsp, "return");
    qobject_unref(rsp);
    return val;
}

/* Host Read Commands of the SMART log: the reads the device has taken. */
static uint64_t smart_reads(QOcssd *o)
{
    NvmeSmartLog s;

    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_SMART_INFO, 0xffffffff, 0,
                                   sizeof(s), false, &s), ==, 0);
    return le64_to_cpu(s.host_read_commands[0]);
}

/* A line of /proc/PID/status, in KiB ("VmHWM", "VmRSS"). */
static uint64_t proc_kib(pid_t pid, const char *field)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
    g_autofree char *text = NULL;
    g_autofree char *key = g_strdup_printf("\n%s:", field);
    const char *p;

    g_assert(g_file_get_contents(path, &text, NULL, NULL));
    p = strstr(text, key);
    g_assert(p);
    return g_ascii_strtoull(p + strlen(key), NULL, 10);
}

/*
 * A guest floods the device with large reads on many queues whose CQ it
 * never drains, on a backend that holds them: the buffers of commands in
 * flight stay under bounce_limit (the queues wait for memory), a command
 * gives its memory back when it completes, not when its CQE is posted,
 * and the QEMU process grows by no more than that.  Then every read
 * completes, with its data, once the host drains the CQ.
 */
#define FLOOD_SQS       4
#define FLOOD_DEPTH     64
#define FLOOD_LIMIT     (4 * 1024 * 1024)

static void test_bounce_flood(void)
{
    g_autofree char *pidfile = g_strdup_printf("%s/ocssd-flood-%d.pid",
                                               g_get_tmp_dir(), getpid());
    g_autofree char *extra = g_strdup_printf("-pidfile %s", pidfile);
    g_autofree char *text = NULL;
    g_autofree char *opts = g_strdup_printf("bounce_limit=%d", FLOOD_LIMIT);
    QOcssd *o = boot_slow(opts, extra);
    uint64_t buf = qocssd_alloc_page(o, CLBA * PAGE);
    uint64_t hwm_before, reads_before;
    unsigned q, i, done = 0;
    pid_t pid;
    NvmeCmd cmd;
    NvmeCqe cqe;

    g_assert(g_file_get_contents(pidfile, &text, NULL, NULL));
    pid = atoi(text);
    fill(o, buf, 0x31, CLBA * PAGE);
    rw_cmd(&cmd, NVME_CMD_WRITE, qocssd_chunk_slba(o, 2), CLBA);
    qocssd_set_prp(o, &cmd, buf, CLBA * PAGE);
    g_assert_cmphex(exec(o, 1, &cmd), ==, 0);
    fill(o, buf, 0, CLBA * PAGE);
    g_assert_cmphex(qocssd_create_cq(o, 2, 2, 2, true), ==, 0);
    for (q = 0; q < FLOOD_SQS; q++) {
        g_assert_cmphex(qocssd_create_sq(o, 2 + q, 2, FLOOD_DEPTH), ==, 0);
    }
    /* A read of a whole chunk: 64 x (4 KiB + 16 B + its entry). */
    rw_cmd(&cmd, NVME_CMD_READ, qocssd_chunk_slba(o, 2), CLBA);
    qocssd_set_prp(o, &cmd, buf, CLBA * PAGE);
    hwm_before = proc_kib(pid, "VmHWM");
    reads_before = smart_reads(o);
    for (q = 0; q < FLOOD_SQS; q++) {
        for (i = 0; i < FLOOD_DEPTH - 1; i++) {
            qocssd_enqueue(o, 2 + q, &cmd);
        }
        qocssd_ring_sq(o, 2 + q, o->sq[2 + q].tail);
    }
    /*
     * Everything runs while the CQ (one entry) stays full: until every
     * read was taken (the SMART log counts them) and none is in flight.
     */
    for (i = 0; i < 10000; i++) {
        g_assert_cmpuint(qom_u64(o, "bounce-inflight"), <=, FLOOD_LIMIT);
        if (smart_reads(o) == reads_before + FLOOD_SQS * (FLOOD_DEPTH - 1) &&
            !qom_u64(o, "bounce-inflight")) {
            break;
        }
        run_throttled(o);
    }
    g_assert_cmpuint(i, <, 10000);
    g_assert_cmpuint(qom_u64(o, "bounce-peak"), <=, FLOOD_LIMIT);
    g_assert_cmpuint(qom_u64(o, "bounce-peak"), >, FLOOD_LIMIT / 2);
#ifndef __SANITIZE_ADDRESS__
    /*
     * 252 reads of 260 KiB were asked for: 63 MiB.  (Under ASan freed
     * memory sits in its quarantine, so the process grows anyway.)
     */
    g_assert_cmpuint(proc_kib(pid, "VmHWM") - hwm_before, <,
                     FLOOD_LIMIT / 1024 + 16 * 1024);
#endif
    while (done < FLOOD_SQS * (FLOOD_DEPTH - 1)) {
        qocssd_wait(o, 2, &cqe);
        g_assert_cmphex(qocssd_cqe_status(&cqe), ==, 0);
        done++;
    }
    expect_filled(o, buf, 0x31, CLBA * PAGE);
    unlink(pidfile);
    finish(o);
}

/* ---- doorbells ---------------------------------------------------------- */

/* Doorbells of deleted and never created queues: Invalid Doorbell Register. */
static void test_doorbell_no_queue(void)
{
    QOcssd *o = boot("");
    const uint8_t reg = NVME_AER_INFO_ERR_INVALID_DB_REGISTER;

    g_assert_cmphex(qocssd_create_ioq(o, 2, 16, 2), ==, 0);
    g_assert_cmphex(qocssd_delete_ioq(o, 2), ==, 0);
    doorbell_event(o, 2, false, 1, reg);
    doorbell_event(o, 2, true, 0, reg);
    doorbell_event(o, 7, false, 3, reg);
    doorbell_event(o, 63, true, 1, reg);
    /* Only the SQ of a pair deleted: its CQ's doorbell is fine. */
    g_assert_cmphex(qocssd_create_ioq(o, 2, 16, 2), ==, 0);
    g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_DELETE_SQ, 0, 2, 0), ==, 0);
    doorbell_event(o, 2, false, 1, reg);
    qocssd_ring_cq(o, 2, 0);
    g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_DELETE_CQ, 0, 2, 0), ==, 0);
    finish(o);
}

/*
 * Doorbells past the last queue (num_queues=4: queues 0-3), up to the end
 * of the register page and below the MSI-X table, are ignored.
 */
static void test_doorbell_past_end(void)
{
    QOcssd *o = boot("num_queues=4");
    const uint8_t reg = NVME_AER_INFO_ERR_INVALID_DB_REGISTER;
    uint64_t off;

    /*
     * The register region ends at a 4 KiB boundary: the doorbells of
     * queues past num_queues - 1 inside it are Invalid Doorbell Register.
     */
    doorbell_event(o, 4, false, 1, reg);
    doorbell_event(o, 4, true, 1, reg);
    doorbell_event(o, 511, true, 1, reg);
    for (off = 0x1000 + 4 * 8; off < 0x2000; off += 4) {
        qocssd_writel(o, off, 1);
    }
    qocssd_writeq(o, 0x1000 + 4 * 8, ~0ULL);
    /* The queues that exist are unaffected. */
    g_assert_cmpuint(qocssd_readl(o, NVME_REG_CSTS), ==, NVME_CSTS_READY);
    doorbell_event(o, 3, false, 1, NVME_AER_INFO_ERR_INVALID_DB_REGISTER);
    finish(o);
}

/* An SQ tail at or beyond the queue size: Invalid Doorbell Write Value. */
static void test_doorbell_sq_tail(void)
{
    QOcssd *o = boot("");
    const uint8_t val = NVME_AER_INFO_ERR_INVALID_DB_VALUE;

    doorbell_event(o, 1, false, QOCSSD_QSIZE, val);
    doorbell_event(o, 1, false, 0xffff, val);
    doorbell_event(o, 1, false, 0xffffffff, val);
    doorbell_event(o, 1, false, 0x10000, val);
    /* The admin SQ too; it goes on working. */
    doorbell_event(o, 0, false, QOCSSD_QSIZE, val);
    finish(o);
}

/* A CQ head beyond the entries posted: Invalid Doorbell Write Value. */
static void test_doorbell_cq_head(void)
{
    QOcssd *o = boot("");
    const uint8_t val = NVME_AER_INFO_ERR_INVALID_DB_VALUE;
    NvmeCmd cmd = { .opcode = NVME_CMD_FLUSH };
    NvmeCqe cqe;
    uint16_t cid;

    /* Nothing posted on CQ 1. */
    doorbell_event(o, 1, true, 1, val);
    doorbell_event(o, 1, true, QOCSSD_QSIZE, val);
    doorbell_event(o, 1, true, 0x10000, val);
    doorbell_event(o, 1, true, 0xffffffff, val);
    /* One entry posted: the head may move by one, not two. */
    cmd.nsid = cpu_to_le32(1);
    cid = qocssd_submit(o, 1, &cmd);
    qocssd_wait_posted(o, 1, &cqe);
    doorbell_event(o, 1, true, o->cq[1].head + 2, val);
    /* The entry is still there to consume. */
    qocssd_wait(o, 1, &cqe);
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, cid);
    finish(o);
}

/* Doorbells while the controller is disabled are ignored, no event. */
static void test_doorbell_disabled(void)
{
    QOcssd *o = boot("");

    qocssd_disable(o);
    qocssd_ring_sq(o, 5, 1);
    qocssd_ring_cq(o, 1, 7);
    qocssd_ring_sq(o, 0, 1);
    qocssd_start_io(o);
    /* The first event the AER sees is this one. */
    doorbell_event(o, 1, false, 0xffff, NVME_AER_INFO_ERR_INVALID_DB_VALUE);
    finish(o);
}

/*
 * A 64-bit doorbell write rings the two 32-bit doorbells it covers: an
 * SQ tail and its CQ head.
 */
static void test_doorbell_64bit(void)
{
    QOcssd *o = boot("");
    NvmeCmd cmd = { .opcode = NVME_CMD_FLUSH };
    NvmeCqe cqe;
    uint16_t cid;

    cmd.nsid = cpu_to_le32(1);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    cid = qocssd_enqueue(o, 1, &cmd);
    qocssd_writeq(o, 0x1008, (uint64_t)o->cq[1].head << 32 | o->sq[1].tail);
    qocssd_wait(o, 1, &cqe);
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, cid);
    g_assert_cmphex(qocssd_cqe_status(&cqe), ==, 0);
    /* Each half is checked on its own. */
    qocssd_aer_submit(o);
    qocssd_writeq(o, 0x1008, (uint64_t)o->cq[1].head << 32 | 0xffff);
    qocssd_aer_expect(o, NVME_AER_TYPE_ERROR,
                      NVME_AER_INFO_ERR_INVALID_DB_VALUE, NVME_LOG_ERROR_INFO);
    rearm_errors(o);
    cid = qocssd_enqueue(o, 1, &cmd);
    qocssd_aer_submit(o);
    qocssd_writeq(o, 0x1008, 0xffffULL << 32 | o->sq[1].tail);
    qocssd_aer_expect(o, NVME_AER_TYPE_ERROR,
                      NVME_AER_INFO_ERR_INVALID_DB_VALUE, NVME_LOG_ERROR_INFO);
    qocssd_wait(o, 1, &cqe);
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, cid);
    finish(o);
}

/* Registers take 32- and 64-bit aligned accesses only; others are dropped. */
static void test_mmio_narrow(void)
{
    QOcssd *o = boot("");

    qocssd_disable(o);
    qocssd_writel(o, NVME_REG_AQA, 15 << 16 | 15);
    qpci_io_writeb(&o->dev, o->bar, NVME_REG_CC, 1);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS), ==, 0);
    qpci_io_writew(&o->dev, o->bar, NVME_REG_CC, 1);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS), ==, 0);
    qocssd_writel(o, NVME_REG_CC + 2, 1);
    qocssd_writel(o, NVME_REG_CC - 1, 0x100);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_CC), ==, 0);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS), ==, 0);
    qocssd_writeq(o, NVME_REG_ASQ + 4, ~0ULL);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_AQA), ==, 15 << 16 | 15);
    /* Narrow and misaligned reads answer something, harmlessly. */
    qpci_io_readb(&o->dev, o->bar, NVME_REG_CAP + 1);
    qpci_io_readw(&o->dev, o->bar, NVME_REG_VS + 2);
    qocssd_readl(o, NVME_REG_VS + 1);
    qocssd_readq(o, NVME_REG_CAP + 4);
    /* Doorbells too. */
    qocssd_start_io(o);
    qpci_io_writeb(&o->dev, o->bar, 0x1008, 0xff);
    qpci_io_writew(&o->dev, o->bar, 0x100a, 0xffff);
    qocssd_writel(o, 0x1009, 0xffffffff);
    doorbell_event(o, 1, false, QOCSSD_QSIZE,
                   NVME_AER_INFO_ERR_INVALID_DB_VALUE);
    finish(o);
}

/* ---- PRPs ---------------------------------------------------------------- */

static void test_prp1_offset(void)
{
    QOcssd *o = boot("");
    uint64_t buf = qocssd_alloc(o, 3 * PAGE), slba = qocssd_chunk_slba(o, 0);
    unsigned off;

    for (off = 1; off < 4; off++) {
        g_assert_cmphex(identify_prp(o, buf + off, buf + PAGE), ==, PRP_OFF);
        g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 1, buf + off, 0), ==,
                        PRP_OFF);
        g_assert_cmphex(rw_prp(o, NVME_CMD_WRITE, slba, 4, buf + off, 0), ==,
                        PRP_OFF);
    }
    g_assert_cmpuint(chunk_wp(o, 0), ==, 0);
    /* A dword offset is fine: the rest goes to PRP2. */
    g_assert_cmphex(identify_prp(o, buf + 4, buf + PAGE), ==, 0);
    assert_identify_at(o, buf + 4);
    g_assert_cmphex(identify_prp(o, buf + PAGE - 4, buf + 2 * PAGE), ==, 0);
    assert_identify_at(o, buf + PAGE - 4);
    finish(o);
}

static void test_prp2_offset(void)
{
    QOcssd *o = boot("");
    uint64_t buf = qocssd_alloc(o, 3 * PAGE), slba = qocssd_chunk_slba(o, 0);

    g_assert_cmphex(identify_prp(o, buf + 8, buf + PAGE + 8), ==, PRP_OFF);
    g_assert_cmphex(identify_prp(o, buf + 8, buf + PAGE + 0x800), ==, PRP_OFF);
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 2, buf, buf + PAGE + 4), ==,
                    PRP_OFF);
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 2, buf, buf + 0x200), ==,
                    PRP_OFF);
    finish(o);
}

static void test_prp_list_offset(void)
{
    QOcssd *o = boot("");
    uint64_t d = qocssd_alloc(o, 4 * PAGE), list = qocssd_alloc(o, PAGE);
    uint64_t slba = qocssd_chunk_slba(o, 0);
    uint64_t ent[3] = { d + PAGE, d + 2 * PAGE + 0x10, d + 3 * PAGE };

    put_list(o, list, ent, 3);
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 4, d, list), ==, PRP_OFF);
    g_assert_cmphex(rw_prp(o, NVME_CMD_WRITE, slba, 4, d, list), ==, PRP_OFF);
    g_assert_cmpuint(chunk_wp(o, 0), ==, 0);
    /* The list pointer must be qword aligned... */
    ent[1] = d + 2 * PAGE;
    put_list(o, list + 8, ent, 3);
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 4, d, list + 12), ==,
                    PRP_OFF);
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 4, d, list + 9), ==,
                    PRP_OFF);
    /* ...and may start inside its page. */
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 4, d, list + 8), ==, 0);
    finish(o);
}

/* Data and lists outside guest RAM: Data Transfer Error, nothing written. */
static void test_prp_outside_ram(void)
{
    QOcssd *o = boot("");
    uint64_t d = qocssd_alloc(o, 4 * PAGE), list = qocssd_alloc(o, PAGE);
    uint64_t slba = qocssd_chunk_slba(o, 0);
    uint64_t ent[3] = { d + PAGE, OUTSIDE, d + 3 * PAGE };

    g_assert_cmphex(identify_prp(o, OUTSIDE, 0), ==, XFER);
    g_assert_cmphex(identify_prp(o, d + 2048, OUTSIDE), ==, XFER);
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 1, OUTSIDE, 0), ==, XFER);
    g_assert_cmphex(rw_prp(o, NVME_CMD_WRITE, slba, 4, OUTSIDE, 0), ==, XFER);
    /* The list itself outside RAM. */
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 4, d, OUTSIDE), ==, XFER);
    g_assert_cmphex(rw_prp(o, NVME_CMD_WRITE, slba, 4, d, OUTSIDE), ==, XFER);
    /* An entry of the list outside RAM. */
    put_list(o, list, ent, 3);
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 4, d, list), ==, XFER);
    g_assert_cmphex(rw_prp(o, NVME_CMD_WRITE, slba, 4, d, list), ==, XFER);
    g_assert_cmpuint(chunk_wp(o, 0), ==, 0);
    finish(o);
}

/*
 * Chained PRP lists: a list that starts near the end of its page chains
 * to the next list page from its last entry.
 */
static void test_prp_chain(void)
{
    QOcssd *o = boot("");
    uint64_t d = qocssd_alloc(o, 8 * PAGE), l1 = qocssd_alloc(o, PAGE);
    uint64_t l2 = qocssd_alloc(o, PAGE), slba = qocssd_chunk_slba(o, 0);
    uint64_t first[3] = { d + PAGE, d + 2 * PAGE, l2 };
    uint64_t second[5];
    g_autofree uint8_t *w = g_malloc(8 * PAGE);
    g_autofree uint8_t *r = g_malloc(8 * PAGE);
    unsigned i;

    for (i = 0; i < 8 * PAGE; i++) {
        w[i] = i * 13 + i / PAGE;
    }
    qocssd_memwrite(o, d, w, 8 * PAGE);
    for (i = 0; i < 5; i++) {
        second[i] = d + (3 + i) * PAGE;
    }
    /* 8 pages: PRP1, then 2 entries and a chain in l1, 5 entries in l2. */
    put_list(o, l1 + PAGE - 24, first, 3);
    put_list(o, l2, second, 5);
    g_assert_cmphex(rw_prp(o, NVME_CMD_WRITE, slba, 8, d, l1 + PAGE - 24), ==,
                    0);
    g_assert_cmphex(qocssd_read(o, 1, slba, 8, r, NULL, 0), ==, 0);
    g_assert(!memcmp(w, r, 8 * PAGE));
    /* The same list read back into the buffer. */
    qtest_memset(o->qts, d, 0, 8 * PAGE);
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 8, d, l1 + PAGE - 24), ==,
                    0);
    qocssd_memread(o, d, r, 8 * PAGE);
    g_assert(!memcmp(w, r, 8 * PAGE));

    /* The chain pointer is a list entry: no offset. */
    put_u64(o, l1 + PAGE - 8, l2 + 8);
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 8, d, l1 + PAGE - 24), ==,
                    PRP_OFF);
    /* Outside RAM. */
    put_u64(o, l1 + PAGE - 8, OUTSIDE);
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 8, d, l1 + PAGE - 24), ==,
                    XFER);
    finish(o);
}

/*
 * Lists that make no progress must not hang the device: a list that
 * starts in the last slot of its page holds only a chain pointer, which
 * may point to itself.  A chain back to the start of its own page makes
 * progress and ends.
 */
static void test_prp_chain_loop(void)
{
    QOcssd *o = boot("");
    uint64_t d = qocssd_alloc(o, 8 * PAGE), l = qocssd_alloc(o, PAGE);
    uint64_t l2 = qocssd_alloc(o, PAGE), slba = qocssd_chunk_slba(o, 0);
    uint64_t ent[6];
    unsigned i;

    /* 8 pages: PRP1, then a list at the last slot of its page. */
    put_u64(o, l + PAGE - 8, l + PAGE - 8);
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 8, d, l + PAGE - 8), ==,
                    PRP_OFF);
    g_assert_cmphex(rw_prp(o, NVME_CMD_WRITE, slba, 8, d, l + PAGE - 8), ==,
                    PRP_OFF);
    /* The last slot chains to a good page: still no data in this one. */
    for (i = 0; i < 6; i++) {
        ent[i] = d + (i + 1) * PAGE;
    }
    put_list(o, l2, ent, 6);
    put_u64(o, l + PAGE - 8, l2);
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 8, d, l + PAGE - 8), ==,
                    PRP_OFF);
    /* Even for a transfer that needs just two entries. */
    put_u64(o, l + PAGE - 8, d + PAGE);
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 3, d, l + PAGE - 8), ==,
                    PRP_OFF);
    /* A chain to the start of its own page: PRP1, 1, then 6 pages. */
    for (i = 0; i < 6; i++) {
        ent[i] = d + (i + 2) * PAGE;
    }
    put_list(o, l, ent, 6);
    put_u64(o, l + PAGE - 16, d + PAGE);
    put_u64(o, l + PAGE - 8, l);
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 8, d, l + PAGE - 16), ==,
                    0);
    g_assert_cmpuint(chunk_wp(o, 0), ==, 0);
    finish(o);
}

/* A Get Log Page of pages pages into buf, through PRP1 and list. */
static uint16_t log_prp(QOcssd *o, uint64_t pages, uint64_t buf,
                        uint64_t list)
{
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_GET_LOG_PAGE };
    uint32_t numd = pages * PAGE / 4 - 1;

    cmd.cdw10 = cpu_to_le32(NVME_LOG_ERROR_INFO | numd << 16);
    cmd.cdw11 = cpu_to_le32(numd >> 16);
    cmd.dptr.prp1 = cpu_to_le64(buf);
    cmd.dptr.prp2 = cpu_to_le64(list);
    return exec(o, 0, &cmd);
}

/* The last page of a transfer got the log's zeroes. */
static void assert_zero_page(QOcssd *o, uint64_t addr)
{
    uint8_t page[PAGE], zero[PAGE] = {};

    qocssd_memread(o, addr, page, PAGE);
    g_assert(!memcmp(page, zero, PAGE));
}

/*
 * A list page whose 512 entries are exactly the pages left holds no chain
 * pointer; one more page and its last entry chains (MDTS 10: 4 MiB).
 */
static void test_prp_list_full_page(void)
{
    QOcssd *o = boot("mdts=10");
    uint64_t buf = qocssd_alloc(o, 514 * PAGE), l1 = qocssd_alloc(o, PAGE);
    uint64_t l2 = qocssd_alloc(o, PAGE);
    g_autofree uint64_t *ent = g_new(uint64_t, 512);
    unsigned i;

    for (i = 0; i < 512; i++) {
        ent[i] = buf + (i + 1) * PAGE;
    }
    put_list(o, l1, ent, 512);
    qtest_memset(o->qts, buf, 0xa5, 514 * PAGE);
    g_assert_cmphex(log_prp(o, 513, buf, l1), ==, 0);
    assert_zero_page(o, buf + 512 * PAGE);
    /* 514 pages: 511 in the first list page, then a chain to 2 more. */
    put_u64(o, l1 + 511 * 8, l2);
    put_u64(o, l2, buf + 512 * PAGE);
    put_u64(o, l2 + 8, buf + 513 * PAGE);
    qtest_memset(o->qts, buf, 0xa5, 514 * PAGE);
    g_assert_cmphex(log_prp(o, 514, buf, l1), ==, 0);
    assert_zero_page(o, buf + 512 * PAGE);
    assert_zero_page(o, buf + 513 * PAGE);
    /* A list that starts 8 bytes into its page runs out one entry early. */
    put_list(o, l1 + 8, ent, 511);
    put_u64(o, l1 + PAGE - 8, l2);
    g_assert_cmphex(log_prp(o, 513, buf, l1 + 8), ==, 0);
    finish(o);
}

/*
 * Data, lists and queues at the device's own registers: refused as
 * transfer errors (a fatal one for queues) on every QEMU, without
 * reprogramming the controller on the way.
 */
static void test_dma_own_bar(void)
{
    QOcssd *o = boot("");
    uint64_t bar = o->bar.addr, slba = qocssd_chunk_slba(o, 0);
    uint64_t buf = qocssd_alloc(o, 4 * PAGE), list = qocssd_alloc(o, PAGE);
    uint64_t ent[3] = { buf + PAGE, bar + 0x1000, buf + 3 * PAGE };
    uint64_t cap = qocssd_readq(o, NVME_REG_CAP);
    NvmeSglDescriptor d;
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_CREATE_CQ };

    g_assert_cmphex(identify_prp(o, bar, 0), ==, XFER);
    g_assert_cmphex(identify_prp(o, bar + 0x1000, 0), ==, XFER);
    g_assert_cmphex(identify_prp(o, bar - 8, bar), ==, XFER);
    sgl(&d, SGL_DATA, bar + 0x10, PAGE);
    g_assert_cmphex(identify_sgl(o, &d), ==, XFER);
    sgl(&d, SGL_LAST, bar, 32);
    g_assert_cmphex(identify_sgl(o, &d), ==, XFER);
    g_assert_cmphex(rw_prp(o, NVME_CMD_WRITE, slba, 4, bar, bar + PAGE), ==,
                    XFER);
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 4, buf, bar), ==, XFER);
    put_list(o, list, ent, 3);
    g_assert_cmphex(rw_prp(o, NVME_CMD_READ, slba, 4, buf, list), ==, XFER);
    g_assert_cmpuint(chunk_wp(o, 0), ==, 0);
    g_assert_cmphex(qocssd_readq(o, NVME_REG_CAP), ==, cap);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS), ==, NVME_CSTS_READY);
    alive(o);

    /* A CQ on the registers: its completion is never written there. */
    cmd.dptr.prp1 = cpu_to_le64(bar);
    cmd.cdw10 = cpu_to_le32(15 << 16 | 2);
    cmd.cdw11 = cpu_to_le32(1);
    g_assert_cmphex(exec(o, 0, &cmd), ==, 0);
    g_assert_cmphex(qocssd_create_sq(o, 2, 2, 16), ==, 0);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = NVME_ADM_CMD_IDENTIFY;     /* an I/O opcode 06h: invalid */
    qocssd_submit(o, 2, &cmd);
    wait_cfs(o);
    g_assert_cmphex(qocssd_readq(o, NVME_REG_CAP), ==, cap);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS), ==,
                    NVME_CSTS_READY | NVME_CSTS_FAILED);
    qocssd_disable(o);
    qocssd_start_io(o);
    finish(o);
}

/*
 * MSI-X messages of I/O queue 1 aimed at the controller's own registers
 * (CC, then a doorbell): QEMU 7.2 delivers them (the guest resets its own
 * controller), later QEMUs refuse them; either way the device survives
 * and comes back after a reset.
 */
static void test_msix_own_bar(void)
{
    QOcssd *o = qocssd_boot_tmp("q35", GEO);
    uint8_t cap = qpci_find_capability(&o->dev, PCI_CAP_ID_MSIX, 0);
    const uint64_t target[] = { NVME_REG_CC, 0x1000 + 8 * 9 };
    NvmeCmd cmd = { .opcode = NVME_CMD_FLUSH };
    uint64_t entry;
    NvmeCqe cqe;
    unsigned i;

    qocssd_msix_enable(o);
    entry = (qpci_config_readl(&o->dev, cap + PCI_MSIX_TABLE) &
             ~PCI_MSIX_FLAGS_BIRMASK) + PCI_MSIX_ENTRY_SIZE;
    cmd.nsid = cpu_to_le32(1);
    for (i = 0; i < ARRAY_SIZE(target); i++) {
        qocssd_start_io(o);
        qocssd_writeq(o, entry + PCI_MSIX_ENTRY_LOWER_ADDR,
                      o->bar.addr + target[i]);
        qocssd_writel(o, entry + PCI_MSIX_ENTRY_DATA, 0);
        qocssd_submit(o, 1, &cmd);
        qocssd_wait_posted(o, 1, &cqe);
        g_assert_cmphex(qocssd_cqe_status(&cqe), ==, 0);
        qocssd_readl(o, NVME_REG_CSTS);
        qocssd_disable(o);
    }
    /* Messages back to RAM: everything works. */
    qocssd_msix_enable(o);
    qocssd_start_io(o);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    g_assert_true(qocssd_msix_fired(o, 1));
    finish(o);
}

/* ---- transfer sizes ------------------------------------------------------ */

/* MDTS 2: 16 KiB per command. */
static void test_xfer_mdts(void)
{
    QOcssd *o = boot("mdts=2");
    g_autofree uint8_t *buf = g_malloc0(8 * PAGE);
    uint64_t slba = qocssd_chunk_slba(o, 0);

    g_assert_cmphex(qocssd_read(o, 1, slba, 8, buf, NULL, 0), ==, INVF);
    g_assert_cmphex(qocssd_read(o, 1, slba, 5, buf, NULL, 0), ==, INVF);
    g_assert_cmphex(qocssd_read(o, 1, slba, 4, buf, NULL, 0), ==, 0);
    g_assert_cmphex(qocssd_write(o, 1, slba, 8, buf, NULL, 0), ==, INVF);
    g_assert_cmpuint(chunk_wp(o, 0), ==, 0);
    g_assert_cmphex(qocssd_write(o, 1, slba, 4, buf, NULL, 0), ==, 0);
    g_assert_cmpuint(chunk_wp(o, 0), ==, 4);
    /* Log pages too, even past the end of the log. */
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_ERROR_INFO, 0, 0, 4 * PAGE + 4,
                                   false, buf), ==, INVF);
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_ERROR_INFO, 0, 0, 4 * PAGE,
                                   false, buf), ==, 0);
    finish(o);
}

/* A Get Log Page of almost 16 GiB (NUMD all ones) is refused up front. */
static void test_xfer_huge_log(void)
{
    QOcssd *o = boot("");
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_GET_LOG_PAGE };

    cmd.cdw10 = cpu_to_le32(0xffffu << 16 | OCSSD_LOG_CHUNK_INFO);
    cmd.cdw11 = cpu_to_le32(0xffff);
    cmd.nsid = cpu_to_le32(1);
    cmd.dptr.prp1 = cpu_to_le64(qocssd_alloc(o, PAGE));
    g_assert_cmphex(exec(o, 0, &cmd), ==, INVF);
    finish(o);
}

/* Zero-length SGL data blocks: none where data moves; fine among others. */
static void test_xfer_zero_length(void)
{
    QOcssd *o = boot("");
    uint64_t buf = qocssd_alloc(o, PAGE);
    NvmeSglDescriptor d, seg[3];
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_SET_FEATURES };

    sgl(&d, SGL_DATA, buf, 0);
    g_assert_cmphex(identify_sgl(o, &d), ==, DNR(NVME_DATA_SGL_LEN_INVALID));
    sgl(&seg[0], SGL_DATA, OUTSIDE, 0);
    sgl(&seg[1], SGL_DATA, buf, PAGE);
    sgl(&seg[2], SGL_DATA, 0, 0);
    sgl(&d, SGL_LAST, put(o, seg, sizeof(seg)), sizeof(seg));
    g_assert_cmphex(identify_sgl(o, &d), ==, 0);
    assert_identify_at(o, buf);
    /* Set Features Timestamp moves 8 bytes. */
    cmd.flags = NVME_PSDT_SGL_MPTR_CONTIGUOUS << 6;
    cmd.cdw10 = cpu_to_le32(NVME_TIMESTAMP);
    sgl(&cmd.dptr.sgl, SGL_DATA, buf, 0);
    g_assert_cmphex(exec(o, 0, &cmd), ==, DNR(NVME_DATA_SGL_LEN_INVALID));
    sgl(&cmd.dptr.sgl, SGL_DATA, buf, 8);
    g_assert_cmphex(exec(o, 0, &cmd), ==, 0);
    finish(o);
}

/* ---- SGLs --------------------------------------------------------------- */

/* Good SGLs: split over two blocks, and a segment chained to a last one. */
static void test_sgl_good(void)
{
    QOcssd *o = boot("");
    uint64_t a = qocssd_alloc(o, PAGE), b = qocssd_alloc(o, PAGE);
    NvmeSglDescriptor d, seg[2], last[1];
    uint8_t id[NVME_IDENTIFY_DATA_SIZE], got[NVME_IDENTIFY_DATA_SIZE];

    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_CTRL, 0, id), ==, 0);
    sgl(&seg[0], SGL_DATA, a, 1000);
    sgl(&seg[1], SGL_DATA, b, PAGE - 1000);
    sgl(&d, SGL_LAST, put(o, seg, sizeof(seg)), sizeof(seg));
    g_assert_cmphex(identify_sgl(o, &d), ==, 0);
    qocssd_memread(o, a, got, 1000);
    qocssd_memread(o, b, got + 1000, PAGE - 1000);
    g_assert(!memcmp(id, got, sizeof(id)));

    sgl(&last[0], SGL_DATA, b, PAGE - 1000);
    sgl(&seg[1], SGL_LAST, put(o, last, sizeof(last)), sizeof(last));
    sgl(&d, SGL_SEG, put(o, seg, sizeof(seg)), sizeof(seg));
    qtest_memset(o->qts, a, 0, PAGE);
    qtest_memset(o->qts, b, 0, PAGE);
    g_assert_cmphex(identify_sgl(o, &d), ==, 0);
    qocssd_memread(o, a, got, 1000);
    qocssd_memread(o, b, got + 1000, PAGE - 1000);
    g_assert(!memcmp(id, got, sizeof(id)));
    finish(o);
}

/* One SGL per bad kind, each with its status. */
static void test_sgl_bad(void)
{
    QOcssd *o = boot("");
    uint64_t buf = qocssd_alloc(o, 2 * PAGE);
    const uint16_t type = DNR(NVME_SGL_DESCR_TYPE_INVALID);
    const uint16_t segd = DNR(NVME_INVALID_SGL_SEG_DESCR);
    const uint16_t num = DNR(NVME_INVALID_NUM_SGL_DESCRS);
    const uint16_t len = DNR(NVME_DATA_SGL_LEN_INVALID);
    static const uint8_t bad_types[] = {
        NVME_SGL_DESCR_TYPE_BIT_BUCKET << 4,
        NVME_SGL_DESCR_TYPE_KEYED_DATA_BLOCK << 4,
        0x50, 0x60, 0x70, 0xe0,
        NVME_SGL_DESCR_TYPE_VENDOR_SPECIFIC << 4,
        SGL_DATA | 1, SGL_DATA | 0xf, SGL_LAST | 1,
    };
    NvmeSglDescriptor d, s[2], chain[257];
    uint64_t addr;
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_IDENTIFY };
    unsigned i;

    /* Reserved, unsupported and vendor types; non-zero subtypes. */
    for (i = 0; i < ARRAY_SIZE(bad_types); i++) {
        sgl(&d, bad_types[i], buf, PAGE);
        g_assert_cmphex(identify_sgl(o, &d), ==, type);
    }
    /* ...also inside a segment. */
    sgl(&s[0], SGL_DATA, buf, 2048);
    sgl(&s[1], NVME_SGL_DESCR_TYPE_BIT_BUCKET << 4, 0, 2048);
    sgl(&d, SGL_LAST, put(o, s, sizeof(s)), sizeof(s));
    g_assert_cmphex(identify_sgl(o, &d), ==, type);

    /* A segment descriptor that is not the last of its segment. */
    sgl(&s[0], SGL_LAST, buf, 16);
    sgl(&s[1], SGL_DATA, buf, PAGE);
    sgl(&d, SGL_SEG, put(o, s, sizeof(s)), sizeof(s));
    g_assert_cmphex(identify_sgl(o, &d), ==, segd);
    /* Segment lengths: zero, not a multiple of 16. */
    sgl(&d, SGL_SEG, buf, 0);
    g_assert_cmphex(identify_sgl(o, &d), ==, segd);
    sgl(&d, SGL_LAST, buf, 0);
    g_assert_cmphex(identify_sgl(o, &d), ==, segd);
    sgl(&d, SGL_LAST, buf, 24);
    g_assert_cmphex(identify_sgl(o, &d), ==, segd);
    sgl(&d, SGL_SEG, buf, 8);
    g_assert_cmphex(identify_sgl(o, &d), ==, segd);
    /* A last segment that holds a segment descriptor. */
    sgl(&s[0], SGL_DATA, buf, 2048);
    sgl(&s[1], SGL_LAST, buf, 16);
    sgl(&d, SGL_LAST, put(o, s, sizeof(s)), sizeof(s));
    g_assert_cmphex(identify_sgl(o, &d), ==, segd);
    sgl(&s[1], SGL_SEG, buf, 16);
    sgl(&d, SGL_LAST, put(o, s, sizeof(s)), sizeof(s));
    g_assert_cmphex(identify_sgl(o, &d), ==, segd);
    /* A (non-last) segment that does not end in a segment descriptor. */
    sgl(&s[0], SGL_DATA, buf, 2048);
    sgl(&s[1], SGL_DATA, buf + 2048, 2048);
    sgl(&d, SGL_SEG, put(o, s, sizeof(s)), sizeof(s));
    g_assert_cmphex(identify_sgl(o, &d), ==, segd);

    /* A segment that chains to itself. */
    addr = qocssd_alloc(o, 16);
    sgl(&s[0], SGL_SEG, addr, 16);
    qocssd_memwrite(o, addr, &s[0], 16);
    sgl(&d, SGL_SEG, addr, 16);
    g_assert_cmphex(identify_sgl(o, &d), ==, num);
    /* 256 segment descriptors go, 257 are too many. */
    addr = qocssd_alloc(o, sizeof(chain));
    for (i = 0; i < 256; i++) {
        sgl(&chain[i], i == 254 ? SGL_LAST : SGL_SEG, addr + 16 * (i + 1),
            16);
    }
    sgl(&chain[255], SGL_DATA, buf, PAGE);
    qocssd_memwrite(o, addr, chain, sizeof(chain));
    sgl(&d, SGL_SEG, addr, 16);
    g_assert_cmphex(identify_sgl(o, &d), ==, 0);
    assert_identify_at(o, buf);
    sgl(&chain[255], SGL_LAST, addr + 16 * 256, 16);
    sgl(&chain[254], SGL_SEG, addr + 16 * 255, 16);
    sgl(&chain[256], SGL_DATA, buf, PAGE);
    qocssd_memwrite(o, addr, chain, sizeof(chain));
    g_assert_cmphex(identify_sgl(o, &d), ==, num);
    /* More than 4096 descriptors in one segment. */
    sgl(&d, SGL_LAST, buf, 4097 * 16);
    g_assert_cmphex(identify_sgl(o, &d), ==, num);

    /* Shorter and longer than the transfer. */
    sgl(&d, SGL_DATA, buf, PAGE - 1);
    g_assert_cmphex(identify_sgl(o, &d), ==, len);
    sgl(&d, SGL_DATA, buf, PAGE + 1);
    g_assert_cmphex(identify_sgl(o, &d), ==, len);
    sgl(&s[0], SGL_DATA, buf, 2048);
    sgl(&s[1], SGL_DATA, buf + 2048, 2047);
    sgl(&d, SGL_LAST, put(o, s, sizeof(s)), sizeof(s));
    g_assert_cmphex(identify_sgl(o, &d), ==, len);
    sgl(&s[1], SGL_DATA, buf + 2048, 4096);
    sgl(&d, SGL_LAST, put(o, s, sizeof(s)), sizeof(s));
    g_assert_cmphex(identify_sgl(o, &d), ==, len);

    /* Segments and data outside RAM. */
    sgl(&d, SGL_LAST, OUTSIDE, 32);
    g_assert_cmphex(identify_sgl(o, &d), ==, XFER);
    sgl(&d, SGL_SEG, OUTSIDE, 16);
    g_assert_cmphex(identify_sgl(o, &d), ==, XFER);
    sgl(&d, SGL_DATA, OUTSIDE, PAGE);
    g_assert_cmphex(identify_sgl(o, &d), ==, XFER);

    /* PSDT 11b is reserved. */
    cmd.flags = 3 << 6;
    cmd.cdw10 = cpu_to_le32(NVME_ID_CNS_CTRL);
    sgl(&cmd.dptr.sgl, SGL_DATA, buf, PAGE);
    g_assert_cmphex(exec(o, 0, &cmd), ==, INVF);
    finish(o);
}

/* SGLs on I/O: data and metadata (PSDT 10b: MPTR holds a descriptor). */
static void test_sgl_io(void)
{
    QOcssd *o = boot("");
    uint64_t slba = qocssd_chunk_slba(o, 0), d = qocssd_alloc(o, 4 * PAGE);
    uint64_t m = qocssd_alloc(o, 64), md = qocssd_alloc(o, 16);
    NvmeSglDescriptor desc;
    NvmeCmd cmd;

    g_assert_cmpuint(o->md_size, ==, 16);
    rw_cmd(&cmd, NVME_CMD_WRITE, slba, 4);
    cmd.flags = NVME_PSDT_SGL_MPTR_SGL << 6;
    sgl(&cmd.dptr.sgl, SGL_DATA, d, 4 * PAGE);
    cmd.mptr = cpu_to_le64(md);
    /* Metadata SGL of the wrong length. */
    sgl(&desc, SGL_DATA, m, 63);
    qocssd_memwrite(o, md, &desc, 16);
    g_assert_cmphex(exec(o, 1, &cmd), ==, DNR(NVME_MD_SGL_LEN_INVALID));
    sgl(&desc, SGL_DATA, m, 80);
    qocssd_memwrite(o, md, &desc, 16);
    g_assert_cmphex(exec(o, 1, &cmd), ==, DNR(NVME_MD_SGL_LEN_INVALID));
    /* Of a bad type, outside RAM, behind an MPTR outside RAM. */
    sgl(&desc, NVME_SGL_DESCR_TYPE_BIT_BUCKET << 4, m, 64);
    qocssd_memwrite(o, md, &desc, 16);
    g_assert_cmphex(exec(o, 1, &cmd), ==, DNR(NVME_SGL_DESCR_TYPE_INVALID));
    sgl(&desc, SGL_DATA, OUTSIDE, 64);
    qocssd_memwrite(o, md, &desc, 16);
    g_assert_cmphex(exec(o, 1, &cmd), ==, XFER);
    cmd.mptr = cpu_to_le64(OUTSIDE);
    g_assert_cmphex(exec(o, 1, &cmd), ==, XFER);
    /* A data SGL shorter than the write. */
    cmd.mptr = cpu_to_le64(md);
    sgl(&desc, SGL_DATA, m, 64);
    qocssd_memwrite(o, md, &desc, 16);
    sgl(&cmd.dptr.sgl, SGL_DATA, d, 3 * PAGE);
    g_assert_cmphex(exec(o, 1, &cmd), ==, DNR(NVME_DATA_SGL_LEN_INVALID));
    g_assert_cmpuint(chunk_wp(o, 0), ==, 0);
    /* Right: written. */
    sgl(&cmd.dptr.sgl, SGL_DATA, d, 4 * PAGE);
    g_assert_cmphex(exec(o, 1, &cmd), ==, 0);
    g_assert_cmpuint(chunk_wp(o, 0), ==, 4);
    finish(o);
}

/* ---- namespace ids ------------------------------------------------------- */

static void test_nsid(void)
{
    QOcssd *o = boot("");
    static const uint32_t bad[] = { 0, 2, 0xfffffffe, 0xffffffff };
    uint8_t buf[NVME_IDENTIFY_DATA_SIZE];
    OcssdIdGeo geo;
    NvmeCmd cmd;
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_NS, bad[i], buf), ==,
                        NSID);
        g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_NS_DESCR_LIST, bad[i],
                                        buf), ==, NSID);
        /* Namespace-specific feature: Get needs one namespace. */
        g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_GET_FEATURES, bad[i],
                                 NVME_ERROR_RECOVERY, 0), ==, NSID);
        /* I/O. */
        rw_cmd(&cmd, NVME_CMD_READ, 0, 1);
        cmd.nsid = cpu_to_le32(bad[i]);
        cmd.dptr.prp1 = cpu_to_le64(qocssd_alloc(o, PAGE));
        g_assert_cmphex(exec(o, 1, &cmd), ==, NSID);
        cmd.opcode = NVME_CMD_WRITE;
        g_assert_cmphex(exec(o, 1, &cmd), ==, NSID);
        cmd.opcode = OCSSD_CMD_VECT_READ;
        g_assert_cmphex(exec(o, 1, &cmd), ==, NSID);
        cmd.opcode = NVME_CMD_DSM;
        g_assert_cmphex(exec(o, 1, &cmd), ==, NSID);
    }
    /* Active namespace list: above 0xfffffffd nothing can be listed. */
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_NS_ACTIVE_LIST, 0xfffffffe,
                                    buf), ==, NSID);
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_NS_ACTIVE_LIST, 0xffffffff,
                                    buf), ==, NSID);
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_NS_ACTIVE_LIST, 0xfffffffd,
                                    buf), ==, 0);

    /* Geometry: 1 or every namespace. */
    g_assert_cmphex(qocssd_geometry(o, 0, &geo), ==, NSID);
    g_assert_cmphex(qocssd_geometry(o, 2, &geo), ==, NSID);
    g_assert_cmphex(qocssd_geometry(o, 0xfffffffe, &geo), ==, NSID);
    g_assert_cmphex(qocssd_geometry(o, 0xffffffff, &geo), ==, 0);
    g_assert(!memcmp(&geo, &o->geo, sizeof(geo)));

    /* Set Features of a namespace feature: 1 or all; not 0 or 2. */
    g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_SET_FEATURES, 0,
                             NVME_ERROR_RECOVERY, 0), ==, NSID);
    g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_SET_FEATURES, 2,
                             NVME_ERROR_RECOVERY, 0), ==, NSID);
    /* A controller feature ignores NSID. */
    g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_GET_FEATURES, 2,
                             NVME_ARBITRATION, 0), ==, 0);

    /* Logs: SMART for 0, 1 or all; the chunk logs for 1 or all. */
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_SMART_INFO, 2, 0, 512, false,
                                   buf), ==, NSID);
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_SMART_INFO, 0xfffffffe, 0, 512,
                                   false, buf), ==, NSID);
    for (i = 0; i < 3; i++) {
        g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, bad[i], 0, 32,
                                       false, buf), ==, NSID);
        g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, bad[i],
                                       0, 64, false, buf), ==, NSID);
    }
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, 0xffffffff, 0, 32,
                                   false, buf), ==, 0);
    /* The error log is the controller's: any NSID. */
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_ERROR_INFO, 5, 0, 64, false,
                                   buf), ==, 0);
    finish(o);
}

/* ---- opcodes ------------------------------------------------------------- */

/* (7Ch, Doorbell Buffer Config, is tested in ocssd-ctrl-test.) */
static void test_opcodes(void)
{
    QOcssd *o = boot("vector_copy=off");
    static const uint8_t admin_ops[] = {
        0x03, 0x07, 0x0b, 0x0d, 0x0e, 0x10, 0x11, 0x14, 0x15, 0x18, 0x19,
        0x1a, 0x1c, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x90, 0x91, 0xc0,
        0xe0, 0xe1, 0xe3, 0xff,
    };
    static const uint8_t io_ops[] = {
        0x03, 0x04, 0x05, 0x06, 0x08, 0x0a, 0x0c, 0x0d, 0x0e, 0x11, 0x15,
        0x19, 0x7f, 0x80, 0x93, 0x94, 0x95, 0x9f, 0xe2, 0xff,
    };
    NvmeCmd cmd;
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(admin_ops); i++) {
        memset(&cmd, 0, sizeof(cmd));
        cmd.opcode = admin_ops[i];
        cmd.nsid = cpu_to_le32(1);
        g_assert_cmphex(exec(o, 0, &cmd), ==, DNR(NVME_INVALID_OPCODE));
    }
    for (i = 0; i < ARRAY_SIZE(io_ops); i++) {
        rw_cmd(&cmd, io_ops[i], 0, 1);
        g_assert_cmphex(exec(o, 1, &cmd), ==, DNR(NVME_INVALID_OPCODE));
    }
    g_assert_cmpuint(chunk_wp(o, 0), ==, 0);
    finish(o);
}

/* Fused operations are not supported (Identify FUSES is 0). */
static void test_fused(void)
{
    QOcssd *o = boot("");
    uint64_t buf = qocssd_alloc(o, 4 * PAGE);
    NvmeCmd cmd;
    unsigned fuse;

    for (fuse = 1; fuse <= 3; fuse++) {
        memset(&cmd, 0, sizeof(cmd));
        cmd.opcode = NVME_ADM_CMD_IDENTIFY;
        cmd.flags = fuse;
        cmd.cdw10 = cpu_to_le32(NVME_ID_CNS_CTRL);
        cmd.dptr.prp1 = cpu_to_le64(buf);
        g_assert_cmphex(exec(o, 0, &cmd), ==, INVF);
        rw_cmd(&cmd, NVME_CMD_READ, 0, 1);
        cmd.flags = fuse;
        cmd.dptr.prp1 = cpu_to_le64(buf);
        g_assert_cmphex(exec(o, 1, &cmd), ==, INVF);
    }
    /* A Compare and Write pair: neither runs. */
    rw_cmd(&cmd, NVME_CMD_COMPARE, 0, 4);
    cmd.flags = 1;
    qocssd_set_prp(o, &cmd, buf, 4 * PAGE);
    g_assert_cmphex(exec(o, 1, &cmd), ==, INVF);
    cmd.opcode = NVME_CMD_WRITE;
    cmd.flags = 2;
    g_assert_cmphex(exec(o, 1, &cmd), ==, INVF);
    g_assert_cmpuint(chunk_wp(o, 0), ==, 0);
    finish(o);
}

/* ---- features and logs --------------------------------------------------- */

static void test_features_bad(void)
{
    QOcssd *o = boot("");
    static const uint8_t fids[] = {
        0x00, 0x03, 0x0c, 0x0d, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x78,
        0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0xc0, 0xc9, 0xcb, 0xfe, 0xff,
    };
    unsigned i, sel;

    for (i = 0; i < ARRAY_SIZE(fids); i++) {
        g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_GET_FEATURES, 1, fids[i], 0),
                        ==, INVF);
        g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_SET_FEATURES, 1, fids[i], 0),
                        ==, INVF);
        g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_GET_FEATURES, 1,
                                 fids[i] | 3 << 8, 0), ==, INVF);
    }
    /* Select 100b-111b is reserved. */
    for (sel = 4; sel < 8; sel++) {
        g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_GET_FEATURES, 1,
                                 NVME_ARBITRATION | sel << 8, 0), ==, INVF);
        g_assert_cmphex(admin_dw(o, NVME_ADM_CMD_GET_FEATURES, 1,
                                 NVME_VOLATILE_WRITE_CACHE | sel << 8, 0), ==,
                        INVF);
    }
    finish(o);
}

static void test_log_bad(void)
{
    QOcssd *o = boot("");
    static const uint8_t lids[] = {
        0x00, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0d, 0x70, 0x7f, 0x80, 0x81,
        0xc0, 0xc9, 0xcb, 0xcf, 0xd1, 0xff,
    };
    uint8_t buf[PAGE];
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_GET_LOG_PAGE };
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(lids); i++) {
        g_assert_cmphex(qocssd_get_log(o, lids[i], 1, 0, 64, false, buf), ==,
                        DNR(NVME_INVALID_LOG_ID));
    }
    /* Offsets past the end: error 4 KiB, SMART 512, chunk log 16 x 32. */
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_ERROR_INFO, 0, PAGE, 64, false,
                                   buf), ==, INVF);
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_SMART_INFO, 0, 512, 4, false,
                                   buf), ==, INVF);
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_FW_SLOT_INFO, 0, 512, 4, false,
                                   buf), ==, INVF);
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, 1, 16 * 32, 32,
                                   false, buf), ==, INVF);
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_SMART_INFO, 0, 1ULL << 32, 4,
                                   false, buf), ==, INVF);
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_SMART_INFO, 0, ~3ULL, 4, false,
                                   buf), ==, INVF);
    /* Not dword aligned. */
    for (i = 1; i < 4; i++) {
        g_assert_cmphex(qocssd_get_log(o, NVME_LOG_SMART_INFO, 0, i, 4, false,
                                       buf), ==, INVF);
        g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, 1, 32 + i, 4,
                                       false, buf), ==, INVF);
    }
    /* The last dword, then zeroes past the end. */
    memset(buf, 0xa5, sizeof(buf));
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, 1, 16 * 32 - 8,
                                   16, false, buf), ==, 0);
    g_assert_cmphex(ldq_le_p(buf), ==, 0);            /* WP of chunk 15 */
    g_assert_cmphex(ldq_le_p(buf + 8), ==, 0);
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, 1, 15 * 32, 16,
                                   false, buf), ==, 0);
    g_assert_cmpuint(buf[0], ==, OCSSD_CHUNK_FREE);
    /* Into memory that is not there. */
    cmd.cdw10 = cpu_to_le32(NVME_LOG_SMART_INFO | 127 << 16);
    cmd.dptr.prp1 = cpu_to_le64(OUTSIDE);
    g_assert_cmphex(exec(o, 0, &cmd), ==, XFER);
    finish(o);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/ocssd/malformed/queue/bad-ids-sizes", test_queue_bad);
    qtest_add_func("/ocssd/malformed/queue/outside-ram",
                   test_queue_outside_ram);
    qtest_add_func("/ocssd/malformed/queue/delete-busy",
                   test_queue_delete_busy);
    qtest_add_func("/ocssd/malformed/queue/delete-sq-in-flight",
                   test_delete_sq_in_flight);
    qtest_add_func("/ocssd/malformed/queue/reset-in-flight",
                   test_reset_in_flight);
    qtest_add_func("/ocssd/malformed/queue/bounce-flood", test_bounce_flood);
    qtest_add_func("/ocssd/malformed/doorbell/no-queue",
                   test_doorbell_no_queue);
    qtest_add_func("/ocssd/malformed/doorbell/past-end",
                   test_doorbell_past_end);
    qtest_add_func("/ocssd/malformed/doorbell/sq-tail", test_doorbell_sq_tail);
    qtest_add_func("/ocssd/malformed/doorbell/cq-head", test_doorbell_cq_head);
    qtest_add_func("/ocssd/malformed/doorbell/disabled",
                   test_doorbell_disabled);
    qtest_add_func("/ocssd/malformed/doorbell/64-bit", test_doorbell_64bit);
    qtest_add_func("/ocssd/malformed/mmio/narrow-misaligned",
                   test_mmio_narrow);
    qtest_add_func("/ocssd/malformed/prp/prp1-offset", test_prp1_offset);
    qtest_add_func("/ocssd/malformed/prp/prp2-offset", test_prp2_offset);
    qtest_add_func("/ocssd/malformed/prp/list-offset", test_prp_list_offset);
    qtest_add_func("/ocssd/malformed/prp/outside-ram", test_prp_outside_ram);
    qtest_add_func("/ocssd/malformed/prp/chain", test_prp_chain);
    qtest_add_func("/ocssd/malformed/prp/chain-loop", test_prp_chain_loop);
    qtest_add_func("/ocssd/malformed/dma/own-bar", test_dma_own_bar);
    qtest_add_func("/ocssd/malformed/dma/msix-own-bar", test_msix_own_bar);
    qtest_add_func("/ocssd/malformed/prp/list-full-page",
                   test_prp_list_full_page);
    qtest_add_func("/ocssd/malformed/xfer/mdts", test_xfer_mdts);
    qtest_add_func("/ocssd/malformed/xfer/huge-log", test_xfer_huge_log);
    qtest_add_func("/ocssd/malformed/xfer/zero-length",
                   test_xfer_zero_length);
    qtest_add_func("/ocssd/malformed/sgl/good", test_sgl_good);
    qtest_add_func("/ocssd/malformed/sgl/bad", test_sgl_bad);
    qtest_add_func("/ocssd/malformed/sgl/io", test_sgl_io);
    qtest_add_func("/ocssd/malformed/nsid", test_nsid);
    qtest_add_func("/ocssd/malformed/opcodes", test_opcodes);
    qtest_add_func("/ocssd/malformed/fused", test_fused);
    qtest_add_func("/ocssd/malformed/features", test_features_bad);
    qtest_add_func("/ocssd/malformed/log", test_log_bad);
    return g_test_run();
}
