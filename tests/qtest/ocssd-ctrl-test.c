/*
 * ocssd qtests: the NVMe 1.3 controller
 *
 * Registers (CAP, VS, CC, CSTS, AQA/ASQ/ACQ, INTMS/INTMC), controller
 * reset, fatal status and shutdown; PCI identity; Identify; I/O queue
 * creation and deletion; every feature with every select value; the
 * error, SMART and firmware slot logs; asynchronous events; Abort; I/O on
 * several queue pairs at once; MSI-X, INTx and interrupt coalescing; a
 * completion queue smaller than the commands outstanding; Flush; the pc
 * and q35 machines.
 *
 * Each test boots its own QEMU on a fresh image with a small geometry
 * (2 groups x 2 PUs x 4 chunks x 64 sectors, chunk index =
 * (grp * 2 + pu) * 4 + chk).  Time only moves when a test steps the
 * virtual clock, so timestamps and interrupt coalescing are exact.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qemu/host-utils.h"
#include "qemu/timer.h"
#include "libqtest.h"
#include "libqos/ocssd.h"
#include "hw/pci/pci_regs.h"

#define GEO     "num_grp=2,num_pu=2,num_chk=4,clba=64,mw_cunits=0"
#define INVF    (NVME_INVALID_FIELD | NVME_DNR)
#define INTX_IRQ 11
#define SPIN    1000000
#define ERRLOG  64      /* error log entries */
#define OACS_DBBUF (1 << 8) /* Doorbell Buffer Config (named apart by QEMU) */

/* ---- helpers ------------------------------------------------------------ */

/* Boot a q35 machine with the small geometry plus opts; nothing started. */
static QOcssd *boot(const char *opts)
{
    return qocssd_boot_tmp("q35", GEO "%s%s", *opts ? "," : "", opts);
}

/* Boot and bring up I/O queue pair 1 (vector 1). */
static QOcssd *boot_io(const char *opts)
{
    QOcssd *o = boot(opts);

    qocssd_start_io(o);
    return o;
}

/* The device still answers; then shut it down and drop the image. */
static void finish(QOcssd *o)
{
    uint8_t id[NVME_IDENTIFY_DATA_SIZE];

    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_CTRL, 0, id), ==, 0);
    qocssd_shutdown(o);
}

static uint64_t lba(QOcssd *o, uint64_t chunk, uint32_t sec)
{
    return qocssd_chunk_slba(o, chunk) + sec;
}

static uint16_t admin(QOcssd *o, uint8_t opcode, uint32_t nsid,
                      uint32_t cdw10, uint32_t cdw11, NvmeCqe *cqe)
{
    NvmeCmd cmd = { .opcode = opcode };

    cmd.nsid = cpu_to_le32(nsid);
    cmd.cdw10 = cpu_to_le32(cdw10);
    cmd.cdw11 = cpu_to_le32(cdw11);
    return qocssd_exec(o, 0, &cmd, cqe);
}

/* Create an I/O queue; hi is the CQ's vector or the SQ's CQ id. */
static uint16_t create_q(QOcssd *o, uint8_t opcode, uint16_t qid,
                         uint32_t qsize, uint16_t hi, uint16_t flags,
                         uint64_t prp1)
{
    NvmeCmd cmd = { .opcode = opcode };

    cmd.dptr.prp1 = cpu_to_le64(prp1);
    cmd.cdw10 = cpu_to_le32((qsize - 1) << 16 | qid);
    cmd.cdw11 = cpu_to_le32((uint32_t)hi << 16 | flags);
    return qocssd_exec(o, 0, &cmd, NULL);
}

static uint16_t delete_q(QOcssd *o, uint8_t opcode, uint16_t qid)
{
    return admin(o, opcode, 0, qid, 0, NULL);
}

static uint32_t getf(QOcssd *o, uint8_t fid, uint8_t sel, uint32_t cdw11)
{
    uint32_t dw0;

    g_assert_cmphex(qocssd_get_features(o, fid, sel, cdw11, &dw0), ==, 0);
    return dw0;
}

static void setf(QOcssd *o, uint8_t fid, uint32_t cdw11)
{
    g_assert_cmphex(qocssd_set_features(o, fid, cdw11, NULL), ==, 0);
}

/* Take n completions of qid, in order. */
static void take(QOcssd *o, uint16_t qid, NvmeCqe *cqe, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        qocssd_wait(o, qid, &cqe[i]);
    }
}

/* The completion of cid among n. */
static const NvmeCqe *find_cqe(const NvmeCqe *cqe, unsigned n, uint16_t cid)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        if (le16_to_cpu(cqe[i].cid) == cid) {
            return &cqe[i];
        }
    }
    g_error("no completion for cid %u", cid);
}

static uint32_t aer_result(uint8_t type, uint8_t info, uint8_t log)
{
    return type | info << 8 | log << 16;
}

/* A few admin round trips: QEMU's main loop has run in between. */
static void settle(QOcssd *o)
{
    unsigned i;

    for (i = 0; i < 3; i++) {
        g_assert_cmphex(admin(o, NVME_ADM_CMD_GET_FEATURES, 1,
                              NVME_ARBITRATION, 0, NULL), ==, 0);
    }
}

/* A write of n sectors at slba from a guest buffer filled with tag. */
static uint64_t write_cmd(QOcssd *o, NvmeCmd *cmd, uint8_t opcode,
                          uint64_t slba, unsigned n, uint8_t tag)
{
    NvmeRwCmd *rw = (NvmeRwCmd *)cmd;
    uint64_t buf = qocssd_alloc(o, (size_t)n * o->sec_size);

    memset(cmd, 0, sizeof(*cmd));
    qtest_memset(o->qts, buf, tag, (size_t)n * o->sec_size);
    rw->opcode = opcode;
    rw->nsid = cpu_to_le32(1);
    rw->slba = cpu_to_le64(slba);
    rw->nlb = cpu_to_le16(n - 1);
    qocssd_set_prp(o, cmd, buf, (size_t)n * o->sec_size);
    return buf;
}

/* Read n sectors at slba on qid: every byte must be tag. */
static void read_check(QOcssd *o, uint16_t qid, uint64_t slba, unsigned n,
                       uint8_t tag)
{
    size_t len = (size_t)n * o->sec_size, i;
    g_autofree uint8_t *d = g_malloc(len);

    g_assert_cmphex(qocssd_read(o, qid, slba, n, d, NULL, 0), ==, 0);
    for (i = 0; i < len; i++) {
        if (d[i] != tag) {
            g_error("LBA 0x%" PRIx64 " byte %zu: 0x%02x, expected 0x%02x",
                    slba + i / o->sec_size, i % o->sec_size, d[i], tag);
        }
    }
}

static uint16_t write_tag(QOcssd *o, uint16_t qid, uint64_t slba,
                          unsigned n, uint8_t tag)
{
    g_autofree uint8_t *d = g_malloc((size_t)n * o->sec_size);

    memset(d, tag, (size_t)n * o->sec_size);
    return qocssd_write(o, qid, slba, n, d, NULL, 0);
}

/* The low 64 bits of a SMART log counter. */
#define SMART(s, field) \
    ldq_le_p((uint8_t *)&(s) + offsetof(NvmeSmartLog, field))

/* ---- registers ---------------------------------------------------------- */

static void test_cap_vs(void)
{
    QOcssd *o = boot("mqes=255");
    uint64_t cap;

    qocssd_map(o);
    cap = qocssd_readq(o, NVME_REG_CAP);
    g_assert_cmpuint(NVME_CAP_MQES(cap), ==, 255);
    g_assert_cmpuint(NVME_CAP_CQR(cap), ==, 1);
    g_assert_cmpuint(NVME_CAP_DSTRD(cap), ==, 0);
    g_assert_cmpuint(NVME_CAP_TO(cap), ==, 0xf);
    g_assert_cmpuint(NVME_CAP_NSSRS(cap), ==, 0);
    g_assert_cmphex(NVME_CAP_CSS(cap), ==, 1);
    g_assert_cmpuint(NVME_CAP_MPSMIN(cap), ==, 0);
    g_assert_cmpuint(NVME_CAP_MPSMAX(cap), ==, 4);
    /* The same through two 32-bit reads. */
    g_assert_cmphex(qocssd_readl(o, NVME_REG_CAP), ==, (uint32_t)cap);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_CAP + 4), ==, cap >> 32);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_VS), ==, 0x00010300);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS), ==, 0);
    qocssd_shutdown(o);

    /* Default MQES: 2047. */
    o = boot("");
    qocssd_map(o);
    g_assert_cmpuint(NVME_CAP_MQES(qocssd_readq(o, NVME_REG_CAP)), ==, 2047);
    qocssd_shutdown(o);
}

/* Read-only and reserved registers ignore writes. */
static void test_reg_read_only(void)
{
    QOcssd *o = boot("");
    static const uint32_t zero_regs[] = {
        NVME_REG_CMBLOC, NVME_REG_CMBSZ, 0x40, 0x50, 0x100, 0xe00, 0xffc,
    };
    uint64_t cap;
    unsigned i;

    qocssd_map(o);
    cap = qocssd_readq(o, NVME_REG_CAP);
    qocssd_writel(o, NVME_REG_CAP, 0xffffffff);
    qocssd_writel(o, NVME_REG_CAP + 4, 0xffffffff);
    qocssd_writeq(o, NVME_REG_CAP, 0);
    qocssd_writel(o, NVME_REG_VS, 0x00020000);
    qocssd_writel(o, NVME_REG_CSTS, 0xffffffff);
    qocssd_writel(o, NVME_REG_NSSR, 0x4e564d65);   /* "NVMe" */
    for (i = 0; i < ARRAY_SIZE(zero_regs); i++) {
        qocssd_writel(o, zero_regs[i], 0xffffffff);
    }
    g_assert_cmphex(qocssd_readq(o, NVME_REG_CAP), ==, cap);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_VS), ==, 0x00010300);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS), ==, 0);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_NSSR), ==, 0);
    for (i = 0; i < ARRAY_SIZE(zero_regs); i++) {
        g_assert_cmphex(qocssd_readl(o, zero_regs[i]), ==, 0);
    }

    /* AQA keeps its defined bits, ASQ/ACQ their page address. */
    qocssd_writel(o, NVME_REG_AQA, 0xffffffff);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_AQA), ==, 0x0fff0fff);
    qocssd_writeq(o, NVME_REG_ASQ, 0x12345abcULL);
    g_assert_cmphex(qocssd_readq(o, NVME_REG_ASQ), ==, 0x12345000ULL);
    qocssd_writel(o, NVME_REG_ACQ, 0x6789afff);
    qocssd_writel(o, NVME_REG_ACQ + 4, 0x1);
    g_assert_cmphex(qocssd_readq(o, NVME_REG_ACQ), ==, 0x16789a000ULL);

    /* Enabled: the admin queue registers are frozen, CSTS too. */
    qocssd_start(o);
    cap = qocssd_readq(o, NVME_REG_ASQ);
    qocssd_writel(o, NVME_REG_AQA, 0);
    qocssd_writeq(o, NVME_REG_ASQ, 0x1000);
    qocssd_writeq(o, NVME_REG_ACQ, 0x1000);
    qocssd_writel(o, NVME_REG_CSTS, 0);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_AQA), ==,
                    (QOCSSD_QSIZE - 1) << 16 | (QOCSSD_QSIZE - 1));
    g_assert_cmphex(qocssd_readq(o, NVME_REG_ASQ), ==, cap);
    g_assert_cmphex(qocssd_readq(o, NVME_REG_ACQ), ==, o->cq[0].addr);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS), ==, NVME_CSTS_READY);
    finish(o);
}

/*
 * CC.EN 1 -> 0 is a controller reset: I/O queues and outstanding AERs are
 * gone, features are back to their defaults, Number of Queues may be set
 * again.
 */
static void test_cc_reset(void)
{
    QOcssd *o = boot_io("");
    NvmeCqe cqe;

    g_assert_cmphex(write_tag(o, 1, lba(o, 0, 0), 4, 0x11), ==, 0);
    setf(o, NVME_ARBITRATION, 0x01020300);
    setf(o, NVME_VOLATILE_WRITE_CACHE, 0);
    setf(o, NVME_ERROR_RECOVERY, 1 << 16);
    g_assert_cmphex(qocssd_set_features(o, NVME_NUMBER_OF_QUEUES, 0, NULL),
                    ==, NVME_CMD_SEQ_ERROR | NVME_DNR);
    qocssd_aer_submit(o);

    qocssd_writel(o, NVME_REG_CC, 0);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS), ==, 0);
    /* The AQA/ASQ/ACQ values survive; qocssd_start() sets new ones. */
    g_assert_cmphex(qocssd_readq(o, NVME_REG_ASQ), ==, o->sq[0].addr);
    qocssd_start(o);

    g_assert_cmphex(delete_q(o, NVME_ADM_CMD_DELETE_SQ, 1), ==,
                    NVME_INVALID_QID | NVME_DNR);
    g_assert_cmphex(delete_q(o, NVME_ADM_CMD_DELETE_CQ, 1), ==,
                    NVME_INVALID_QID | NVME_DNR);
    g_assert_cmphex(getf(o, NVME_ARBITRATION, 0, 0), ==, NVME_ARB_AB_NOLIMIT);
    g_assert_cmphex(getf(o, NVME_VOLATILE_WRITE_CACHE, 0, 0), ==, 1);
    g_assert_cmphex(getf(o, NVME_ERROR_RECOVERY, 0, 0), ==, 0);
    g_assert_cmphex(qocssd_set_features(o, NVME_NUMBER_OF_QUEUES, 0x00010001,
                                        NULL), ==, 0);
    g_assert_cmphex(qocssd_create_ioq(o, 1, 16, 1), ==, 0);
    g_assert_cmphex(qocssd_create_ioq(o, 2, 16, 2), ==, 0);
    g_assert_cmphex(qocssd_create_cq(o, 3, 16, 3, true), ==,
                    NVME_INVALID_QID | NVME_DNR);
    /* The old AER is gone: an event completes the new one only. */
    qocssd_aer_submit(o);
    qocssd_ring_sq(o, 5, 1);
    qocssd_aer_expect(o, NVME_AER_TYPE_ERROR,
                      NVME_AER_INFO_ERR_INVALID_DB_REGISTER,
                      NVME_LOG_ERROR_INFO);
    settle(o);
    g_assert_false(qocssd_peek(o, 0, &cqe));
    /* The data written before the reset is still there. */
    read_check(o, 1, lba(o, 0, 0), 4, 0x11);
    finish(o);
}

/* Set up the admin queue registers for a start with cc. */
static void program_admin(QOcssd *o, uint32_t aqa, uint64_t asq,
                          uint64_t acq, uint32_t cc)
{
    qocssd_writel(o, NVME_REG_AQA, aqa);
    qocssd_writeq(o, NVME_REG_ASQ, asq);
    qocssd_writeq(o, NVME_REG_ACQ, acq);
    qocssd_writel(o, NVME_REG_CC, cc);
}

/* Misprogramming at CC.EN: CSTS.CFS, not RDY; a reset clears it. */
static void test_cfs(void)
{
    QOcssd *o = boot("");
    uint64_t q = ROUND_UP(qocssd_alloc(o, 6 * 4096), 8192);
    uint32_t aqa = 15 << 16 | 15, good = 1 | 6 << 16 | 4 << 20;
    const struct {
        uint32_t aqa;
        uint64_t asq, acq;
        uint32_t cc;
    } bad[] = {
        { aqa, q, q + 8192, good | 5 << 7 },        /* MPS > MPSMAX */
        { aqa, q, q + 8192, good | 1 << 4 },        /* reserved CSS */
        { aqa, q, q + 8192, good | 1 << 11 },       /* WRR arbitration */
        { 0, q, q + 8192, good },                   /* 1-entry queues */
        { 15, q, q + 8192, good },                  /* 1-entry ACQ */
        { 15 << 16, q, q + 8192, good },            /* 1-entry ASQ */
        { aqa, 0, q + 8192, good },                 /* no ASQ */
        { aqa, q, 0, good },                        /* no ACQ */
        { aqa, q + 4096, q + 8192, good | 1 << 7 }, /* ASQ not 8K aligned */
        { aqa, q, q + 4096, good | 1 << 7 },        /* ACQ not 8K aligned */
    };
    unsigned i;

    qocssd_map(o);
    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        program_admin(o, bad[i].aqa, bad[i].asq, bad[i].acq, bad[i].cc);
        g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS), ==, NVME_CSTS_FAILED);
        /* A doorbell is ignored by a failed controller. */
        qocssd_ring_sq(o, 0, 1);
        qocssd_writel(o, NVME_REG_CC, 0);
        g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS), ==, 0);
    }
    /* The same queues with 8 KiB pages are fine. */
    program_admin(o, aqa, q, q + 8192, good | 1 << 7);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS), ==, NVME_CSTS_READY);
    qocssd_writel(o, NVME_REG_CC, 0);
    qocssd_start(o);
    finish(o);
}

/* Larger memory pages (8 and 64 KiB): queues, PRPs and I/O follow CC.MPS. */
static void test_mps(const void *page_size)
{
    QOcssd *o = boot("");
    uint64_t mem;

    o->page_size = GPOINTER_TO_UINT(page_size);
    qocssd_start_io(o);
    g_assert_cmphex(NVME_CC_MPS(qocssd_readl(o, NVME_REG_CC)), ==,
                    ctz32(o->page_size) - 12);
    /* 32 and 16 KiB from 4 KiB-aligned buffers: PRP1, PRP2 or a list. */
    g_assert_cmphex(write_tag(o, 1, lba(o, 2, 0), 8, 0x6b), ==, 0);
    g_assert_cmphex(write_tag(o, 1, lba(o, 2, 8), 4, 0x6c), ==, 0);
    read_check(o, 1, lba(o, 2, 0), 8, 0x6b);
    read_check(o, 1, lba(o, 2, 8), 4, 0x6c);
    /* A queue base aligned to 4 KiB only is not page aligned now. */
    mem = qocssd_alloc_page(o, 2 * o->page_size) + 4096;
    g_assert_cmphex(create_q(o, NVME_ADM_CMD_CREATE_CQ, 2, 16, 2, 3, mem), ==,
                    NVME_INVALID_PRP_OFFSET | NVME_DNR);
    finish(o);
}

/*
 * CC.SHN, normal and abrupt: CSTS.SHST reaches "complete"; a controller
 * reset brings the controller back, with the data.
 */
static void test_shutdown(void)
{
    QOcssd *o = boot_io("");
    unsigned shn;

    for (shn = 1; shn <= 2; shn++) {
        g_assert_cmphex(write_tag(o, 1, lba(o, shn, 0), 4, shn), ==, 0);
        qocssd_writel(o, NVME_REG_CC, qocssd_readl(o, NVME_REG_CC) |
                      shn << 14);
        qocssd_wait_csts(o, CSTS_SHST_MASK << CSTS_SHST_SHIFT,
                         NVME_CSTS_SHST_COMPLETE);
        g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS), ==,
                        NVME_CSTS_READY | NVME_CSTS_SHST_COMPLETE);
        qocssd_writel(o, NVME_REG_CC, 0);
        g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS), ==, 0);
        qocssd_start_io(o);
        read_check(o, 1, lba(o, shn, 0), 4, shn);
    }
    finish(o);
}

/* ---- PCI ---------------------------------------------------------------- */

static void test_pci_ids(const void *machine)
{
    QOcssd *o = qocssd_boot_tmp(machine, GEO);

    g_assert_cmphex(qpci_config_readw(&o->dev, PCI_VENDOR_ID), ==, 0x1d1d);
    g_assert_cmphex(qpci_config_readw(&o->dev, PCI_DEVICE_ID), ==, 0x1f1f);
    g_assert_cmphex(qpci_config_readl(&o->dev, PCI_CLASS_REVISION) >> 8, ==,
                    0x010802);
    g_assert_cmphex(qpci_config_readb(&o->dev, PCI_INTERRUPT_PIN), ==, 1);
    g_assert(qpci_find_capability(&o->dev, PCI_CAP_ID_MSIX, 0));
    /* And it works on this machine. */
    qocssd_start_io(o);
    g_assert_cmphex(write_tag(o, 1, lba(o, 3, 0), 8, 0x3c), ==, 0);
    read_check(o, 1, lba(o, 3, 0), 8, 0x3c);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    finish(o);
}

/* ---- identify ------------------------------------------------------------ */

static void assert_padded(const uint8_t *field, size_t size, const char *s)
{
    size_t len = strlen(s), i;

    g_assert(!memcmp(field, s, len));
    for (i = len; i < size; i++) {
        g_assert_cmphex(field[i], ==, ' ');
    }
}

static void test_identify_ctrl(void)
{
    QOcssd *o = boot("serial=OCTEST42,model=TestModel-1,firmware=9.8.7,"
                     "mdts=5,aerl=7");
    NvmeIdCtrl id;

    qocssd_start(o);
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_CTRL, 0, &id), ==, 0);
    g_assert_cmphex(le16_to_cpu(id.vid), ==, 0x1d1d);
    g_assert_cmphex(le16_to_cpu(id.ssvid), ==, 0x1d1d);
    assert_padded(id.sn, sizeof(id.sn), "OCTEST42");
    assert_padded(id.mn, sizeof(id.mn), "TestModel-1");
    assert_padded(id.fr, sizeof(id.fr), "9.8.7");
    g_assert_cmpuint(id.mdts, ==, 5);
    g_assert_cmpuint(id.aerl, ==, 7);
    g_assert_cmphex(le32_to_cpu(id.ver), ==, 0x00010300);
    g_assert_cmphex(id.sqes, ==, 0x66);
    g_assert_cmphex(id.cqes, ==, 0x44);
    g_assert_cmpuint(le32_to_cpu(id.nn), ==, 1);
    g_assert_cmphex(le16_to_cpu(id.oncs) & NVME_ONCS_DSM, ==, NVME_ONCS_DSM);
    g_assert_cmphex(le16_to_cpu(id.oncs) & NVME_ONCS_TIMESTAMP, ==,
                    NVME_ONCS_TIMESTAMP);
    g_assert_cmphex(id.vwc & 1, ==, 1);
    g_assert_cmphex(id.lpa & (NVME_LPA_NS_SMART | NVME_LPA_EXTENDED), ==,
                    NVME_LPA_NS_SMART | NVME_LPA_EXTENDED);
    g_assert_cmpuint(id.elpe, ==, 63);
    g_assert_cmphex(le32_to_cpu(id.sgls) & NVME_CTRL_SGLS_SUPPORT_MASK, ==,
                    NVME_CTRL_SGLS_SUPPORT_NO_ALIGN);
    g_assert_cmphex(le32_to_cpu(id.sgls) & NVME_CTRL_SGLS_KEYED, ==, 0);
    g_assert_cmphex(le32_to_cpu(id.sgls) & NVME_CTRL_SGLS_BITBUCKET, ==, 0);
    g_assert_cmphex(le16_to_cpu(id.oacs), ==, OACS_DBBUF);
    g_assert_cmphex(id.frmw & 1, ==, 1);            /* slot 1 read-only */
    g_assert_cmpuint(id.npss, ==, 0);
    g_assert(!strncmp((char *)id.subnqn, "nqn.", 4));
    qocssd_shutdown(o);

    /* The defaults. */
    o = boot("");
    qocssd_start(o);
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_CTRL, 0, &id), ==, 0);
    g_assert(!memcmp(id.sn, "OC", 2));
    assert_padded(id.mn, sizeof(id.mn), "QEMU Open-Channel SSD 2.0");
    assert_padded(id.fr, sizeof(id.fr), "2.0");
    g_assert_cmpuint(id.mdts, ==, 7);
    g_assert_cmpuint(id.aerl, ==, 3);
    /* CNS 01h ignores NSID. */
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_CTRL, 0xffffffff, &id), ==,
                    0);
    g_assert_cmphex(le16_to_cpu(id.vid), ==, 0x1d1d);
    finish(o);
}

static void test_identify_ns_lists(void)
{
    QOcssd *o = boot("");
    uint8_t buf[NVME_IDENTIFY_DATA_SIZE], zero[NVME_IDENTIFY_DATA_SIZE] = {};
    NvmeIdNs ns;
    NvmeIdNsDescr *d;

    qocssd_start(o);
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_NS, 1, &ns), ==, 0);
    g_assert_cmpuint(ns.vs[0], ==, OCSSD_ID_NS_VS_OCSSD20);

    /* CNS 02h: namespaces above NSID. */
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_NS_ACTIVE_LIST, 0, buf), ==,
                    0);
    g_assert_cmphex(ldl_le_p(buf), ==, 1);
    g_assert(!memcmp(buf + 4, zero, sizeof(buf) - 4));
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_NS_ACTIVE_LIST, 1, buf), ==,
                    0);
    g_assert(!memcmp(buf, zero, sizeof(buf)));
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_NS_ACTIVE_LIST, 1000, buf),
                    ==, 0);
    g_assert(!memcmp(buf, zero, sizeof(buf)));

    /* CNS 03h: an NGUID and a UUID, the NGUID of Identify Namespace. */
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_NS_DESCR_LIST, 1, buf), ==,
                    0);
    d = (NvmeIdNsDescr *)buf;
    g_assert_cmpuint(d->nidt, ==, NVME_NIDT_NGUID);
    g_assert_cmpuint(d->nidl, ==, NVME_NIDL_NGUID);
    g_assert(!memcmp(buf + 4, ns.nguid, 16));
    g_assert(memcmp(buf + 4, zero, 16));
    d = (NvmeIdNsDescr *)(buf + 20);
    g_assert_cmpuint(d->nidt, ==, NVME_NIDT_UUID);
    g_assert_cmpuint(d->nidl, ==, NVME_NIDL_UUID);
    g_assert(memcmp(buf + 24, zero, 16));
    /* Then the end of the list. */
    g_assert(!memcmp(buf + 40, zero, sizeof(buf) - 40));
    finish(o);
}

static void ids_of(QOcssd *o, NvmeIdCtrl *id, NvmeIdNs *ns, uint8_t *descr)
{
    qocssd_start(o);
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_CTRL, 0, id), ==, 0);
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_NS, 1, ns), ==, 0);
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_NS_DESCR_LIST, 1, descr),
                    ==, 0);
}

/* Two devices in one machine: distinct serials, NGUIDs and UUIDs. */
static void test_two_devices(void)
{
    g_autofree char *img0 = qocssd_tmp_image();
    g_autofree char *img1 = qocssd_tmp_image();
    QOcssd *o = qocssd_boot_cmdline(
        "-machine q35 -drive if=none,id=oc0,file=%s,format=raw "
        "-device ocssd,drive=oc0,addr=04.0," GEO " "
        "-drive if=none,id=oc1,file=%s,format=raw "
        "-device ocssd,drive=oc1,addr=05.0," GEO, img0, img1);
    QOcssd *o1 = g_new0(QOcssd, 1);
    NvmeIdCtrl id[2];
    NvmeIdNs ns[2];
    uint8_t descr[2][NVME_IDENTIFY_DATA_SIZE];

    qocssd_init(o1, o->qs->pcibus, &o->qs->alloc, QPCI_DEVFN(5, 0));
    ids_of(o, &id[0], &ns[0], descr[0]);
    ids_of(o1, &id[1], &ns[1], descr[1]);
    g_assert(memcmp(id[0].sn, id[1].sn, sizeof(id[0].sn)));
    g_assert(memcmp(id[0].subnqn, id[1].subnqn, sizeof(id[0].subnqn)));
    g_assert(memcmp(ns[0].nguid, ns[1].nguid, sizeof(ns[0].nguid)));
    g_assert(memcmp(descr[0] + 4, descr[1] + 4, 16));       /* NGUID */
    g_assert(memcmp(descr[0] + 24, descr[1] + 24, 16));     /* UUID */
    qocssd_shutdown(o1);
    finish(o);
    unlink(img0);
    unlink(img1);
}

/* ---- queues ------------------------------------------------------------- */

/* Queue creation and deletion, one row per case, in order. */
static void test_queue_create_delete(void)
{
    QOcssd *o = boot("mqes=255,msix_vectors=8");
    uint64_t mem = qocssd_alloc(o, 256 * 64);
    enum { CQ = NVME_ADM_CMD_CREATE_CQ, SQ = NVME_ADM_CMD_CREATE_SQ,
           DCQ = NVME_ADM_CMD_DELETE_CQ, DSQ = NVME_ADM_CMD_DELETE_SQ };
    enum { PC = 1, IEN = 2, PI = PC | IEN };
    const uint16_t qid = NVME_INVALID_QID | NVME_DNR;
    const uint16_t cqid = NVME_INVALID_CQID | NVME_DNR;
    const uint16_t qsz = NVME_MAX_QSIZE_EXCEEDED | NVME_DNR;
    const uint16_t vec = NVME_INVALID_IRQ_VECTOR | NVME_DNR;
    const uint16_t prp = NVME_INVALID_PRP_OFFSET | NVME_DNR;
    const uint16_t del = NVME_INVALID_QUEUE_DEL | NVME_DNR;
    /* hi: the CQ's vector or the SQ's CQ id; off: added to the base. */
    const struct {
        uint8_t opcode;
        uint16_t qid;
        uint32_t qsize;
        uint16_t hi, flags;
        int64_t off;
        uint16_t status;
    } c[] = {
        { CQ, 0, 16, 0, PI, 0, qid },
        { CQ, 64, 16, 0, PI, 0, qid },          /* num_queues is 64 */
        { CQ, 0xffff, 16, 0, PI, 0, qid },
        { CQ, 1, 257, 0, PI, 0, qsz },          /* MQES + 2 */
        { CQ, 1, 1, 0, PI, 0, qsz },
        { CQ, 1, 16, 8, PI, 0, vec },           /* 8 MSI-X vectors */
        { CQ, 1, 16, 0xffff, PI, 0, vec },
        { CQ, 1, 16, 0, IEN, 0, INVF },         /* not contiguous */
        { CQ, 1, 16, 0, PI, 64, prp },
        { CQ, 1, 16, 0, PI, -1, prp },          /* address 0 */
        { CQ, 1, 256, 7, PI, 0, 0 },            /* largest, last vector */
        { CQ, 1, 16, 0, PI, 0, qid },           /* exists */
        { CQ, 63, 2, 0xffff, PC, 0, 0 },        /* no IEN: any vector */
        { SQ, 0, 16, 1, PC, 0, qid },
        { SQ, 64, 16, 1, PC, 0, qid },
        { SQ, 1, 16, 0, PC, 0, cqid },
        { SQ, 1, 16, 2, PC, 0, cqid },          /* no such CQ */
        { SQ, 1, 16, 64, PC, 0, cqid },
        { SQ, 1, 257, 1, PC, 0, qsz },
        { SQ, 1, 1, 1, PC, 0, qsz },
        { SQ, 1, 16, 1, 0, 0, INVF },
        { SQ, 1, 16, 1, PC, 8, prp },
        { SQ, 1, 256, 1, PC, 0, 0 },
        { SQ, 1, 16, 1, PC, 0, qid },
        { SQ, 2, 16, 1, PC, 0, 0 },             /* two SQs on CQ 1 */
        { DCQ, 1, 0, 0, 0, 0, del },            /* in use */
        { DSQ, 0, 0, 0, 0, 0, qid },
        { DCQ, 0, 0, 0, 0, 0, qid },
        { DSQ, 3, 0, 0, 0, 0, qid },
        { DSQ, 64, 0, 0, 0, 0, qid },
        { DCQ, 2, 0, 0, 0, 0, qid },
        { DSQ, 1, 0, 0, 0, 0, 0 },
        { DSQ, 1, 0, 0, 0, 0, qid },
        { DCQ, 1, 0, 0, 0, 0, del },            /* SQ 2 still uses it */
        { DSQ, 2, 0, 0, 0, 0, 0 },
        { DCQ, 1, 0, 0, 0, 0, 0 },
        { DCQ, 63, 0, 0, 0, 0, 0 },
    };
    unsigned i;

    qocssd_start(o);
    for (i = 0; i < ARRAY_SIZE(c); i++) {
        uint16_t status;

        if (c[i].opcode == DCQ || c[i].opcode == DSQ) {
            status = delete_q(o, c[i].opcode, c[i].qid);
        } else {
            status = create_q(o, c[i].opcode, c[i].qid, c[i].qsize, c[i].hi,
                              c[i].flags, c[i].off < 0 ? 0 : mem + c[i].off);
        }
        if (status != c[i].status) {
            g_error("case %u: status 0x%x, expected 0x%x", i, status,
                    c[i].status);
        }
    }

    /* Recreated, a queue pair does I/O. */
    qocssd_read_geometry(o);
    g_assert_cmphex(qocssd_create_ioq(o, 1, 32, 1), ==, 0);
    g_assert_cmphex(write_tag(o, 1, lba(o, 0, 0), 4, 0x77), ==, 0);
    read_check(o, 1, lba(o, 0, 0), 4, 0x77);
    finish(o);
}

/* No MSI-X: one interrupt vector. */
static void test_queue_intx_vectors(void)
{
    QOcssd *o = boot("msix_vectors=0");

    g_assert(!qpci_find_capability(&o->dev, PCI_CAP_ID_MSIX, 0));
    qocssd_start(o);
    g_assert_cmphex(qocssd_create_cq(o, 1, 16, 1, true), ==,
                    NVME_INVALID_IRQ_VECTOR | NVME_DNR);
    g_assert_cmphex(qocssd_create_cq(o, 1, 16, 0, true), ==, 0);
    g_assert_cmphex(qocssd_get_features(o, NVME_INTERRUPT_VECTOR_CONF, 0, 1,
                                        NULL), ==, INVF);
    finish(o);
}

/* num_queues and Set Features Number of Queues bound the queue ids. */
static void test_num_queues(void)
{
    QOcssd *o = boot("num_queues=4");
    uint32_t dw0;

    qocssd_start(o);
    g_assert_cmphex(getf(o, NVME_NUMBER_OF_QUEUES, NVME_GETFEAT_SELECT_CURRENT,
                         0), ==, 0x00020002);
    g_assert_cmphex(getf(o, NVME_NUMBER_OF_QUEUES, NVME_GETFEAT_SELECT_DEFAULT,
                         0), ==, 0x00020002);
    g_assert_cmphex(qocssd_create_cq(o, 4, 16, 1, true), ==,
                    NVME_INVALID_QID | NVME_DNR);
    g_assert_cmphex(qocssd_create_cq(o, 3, 16, 1, true), ==, 0);
    g_assert_cmphex(delete_q(o, NVME_ADM_CMD_DELETE_CQ, 3), ==, 0);
    qocssd_shutdown(o);

    o = boot("num_queues=8");
    qocssd_start(o);
    /* 65536 queues cannot be asked for. */
    g_assert_cmphex(qocssd_set_features(o, NVME_NUMBER_OF_QUEUES, 0xffff,
                                        NULL), ==, INVF);
    g_assert_cmphex(qocssd_set_features(o, NVME_NUMBER_OF_QUEUES,
                                        0xffff0000, NULL), ==, INVF);
    /* More than there are: capped; the larger of the two counts. */
    g_assert_cmphex(qocssd_set_features(o, NVME_NUMBER_OF_QUEUES, 0x00ff00ff,
                                        &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, 0x00060006);
    g_assert_cmphex(qocssd_set_features(o, NVME_NUMBER_OF_QUEUES, 0x00010000,
                                        &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, 0x00010001);
    g_assert_cmphex(getf(o, NVME_NUMBER_OF_QUEUES, NVME_GETFEAT_SELECT_CURRENT,
                         0), ==, 0x00010001);
    g_assert_cmphex(getf(o, NVME_NUMBER_OF_QUEUES, NVME_GETFEAT_SELECT_DEFAULT,
                         0), ==, 0x00060006);
    g_assert_cmphex(qocssd_create_cq(o, 3, 16, 1, true), ==,
                    NVME_INVALID_QID | NVME_DNR);
    g_assert_cmphex(qocssd_create_ioq(o, 2, 16, 2), ==, 0);
    g_assert_cmphex(qocssd_create_sq(o, 3, 2, 16), ==,
                    NVME_INVALID_QID | NVME_DNR);
    /* Not once queues exist. */
    g_assert_cmphex(qocssd_set_features(o, NVME_NUMBER_OF_QUEUES, 0x00040004,
                                        NULL), ==,
                    NVME_CMD_SEQ_ERROR | NVME_DNR);
    finish(o);
}

/* ---- features ----------------------------------------------------------- */

/* current == cur, default == saved == dflt, capabilities == cap. */
static void check_feature(QOcssd *o, uint8_t fid, uint32_t cdw11,
                          uint32_t cur, uint32_t dflt, uint32_t cap)
{
    g_assert_cmphex(getf(o, fid, NVME_GETFEAT_SELECT_CURRENT, cdw11), ==, cur);
    g_assert_cmphex(getf(o, fid, NVME_GETFEAT_SELECT_DEFAULT, cdw11), ==,
                    dflt);
    g_assert_cmphex(getf(o, fid, NVME_GETFEAT_SELECT_SAVED, cdw11), ==, dflt);
    g_assert_cmphex(getf(o, fid, NVME_GETFEAT_SELECT_CAP, cdw11), ==, cap);
}

/* Set value, which reads back as expect; the default stays dflt. */
static void set_feature(QOcssd *o, uint8_t fid, uint32_t value,
                        uint32_t expect, uint32_t dflt, uint32_t cap)
{
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_SET_FEATURES };

    setf(o, fid, value);
    check_feature(o, fid, 0, expect, dflt, cap);
    /* Nothing is saveable. */
    cmd.nsid = cpu_to_le32(1);
    cmd.cdw10 = cpu_to_le32(fid | 1u << 31);
    cmd.cdw11 = cpu_to_le32(value);
    g_assert_cmphex(qocssd_exec(o, 0, &cmd, NULL), ==,
                    NVME_FID_NOT_SAVEABLE | NVME_DNR);
}

static void test_features_simple(void)
{
    QOcssd *o = boot("");
    const uint32_t ch = NVME_FEAT_CAP_CHANGE;

    qocssd_start(o);
    check_feature(o, NVME_ARBITRATION, 0, NVME_ARB_AB_NOLIMIT,
                  NVME_ARB_AB_NOLIMIT, ch);
    set_feature(o, NVME_ARBITRATION, 0x40302001, 0x40302001,
                NVME_ARB_AB_NOLIMIT, ch);

    check_feature(o, NVME_POWER_MANAGEMENT, 0, 0, 0, ch);
    set_feature(o, NVME_POWER_MANAGEMENT, 0x20, 0x20, 0, ch);
    g_assert_cmphex(qocssd_set_features(o, NVME_POWER_MANAGEMENT, 1, NULL),
                    ==, INVF);
    g_assert_cmphex(getf(o, NVME_POWER_MANAGEMENT, 0, 0), ==, 0x20);

    check_feature(o, NVME_VOLATILE_WRITE_CACHE, 0, 1, 1, ch);
    set_feature(o, NVME_VOLATILE_WRITE_CACHE, 0, 0, 1, ch);

    check_feature(o, NVME_INTERRUPT_COALESCING, 0, 0, 0, ch);
    set_feature(o, NVME_INTERRUPT_COALESCING, 0x0a05, 0x0a05, 0, ch);

    check_feature(o, NVME_WRITE_ATOMICITY, 0, 0, 0, ch);
    set_feature(o, NVME_WRITE_ATOMICITY, 1, 1, 0, ch);

    check_feature(o, NVME_ASYNCHRONOUS_EVENT_CONF, 0, 0, 0, ch);
    set_feature(o, NVME_ASYNCHRONOUS_EVENT_CONF, 0x1f, 0x1f, 0, ch);

    check_feature(o, OCSSD_FEAT_MEDIA_FEEDBACK, 0, 0, 0, ch);
    set_feature(o, OCSSD_FEAT_MEDIA_FEEDBACK, 3, 3, 0, ch);

    check_feature(o, NVME_NUMBER_OF_QUEUES, 0, 0x003e003e, 0x003e003e, ch);
    finish(o);
}

/* Error Recovery is namespace specific: TLER and DULBE. */
static void test_feature_error_recovery(void)
{
    QOcssd *o = boot_io("");
    const uint32_t cap = NVME_FEAT_CAP_CHANGE | NVME_FEAT_CAP_NS;
    uint8_t buf[4096];

    check_feature(o, NVME_ERROR_RECOVERY, 0, 0, 0, cap);
    g_assert_cmphex(qocssd_read(o, 1, lba(o, 0, 0), 1, buf, NULL, 0), ==, 0);
    set_feature(o, NVME_ERROR_RECOVERY, 1 << 16 | 0x10, 1 << 16 | 0x10, 0,
                cap);
    g_assert_cmphex(qocssd_read(o, 1, lba(o, 0, 0), 1, buf, NULL, 0), ==,
                    NVME_DULB | NVME_DNR);
    setf(o, NVME_ERROR_RECOVERY, 0);
    g_assert_cmphex(qocssd_read(o, 1, lba(o, 0, 0), 1, buf, NULL, 0), ==, 0);
    /* Set Features may name every namespace. */
    g_assert_cmphex(admin(o, NVME_ADM_CMD_SET_FEATURES, 0xffffffff,
                          NVME_ERROR_RECOVERY, 1 << 16, NULL), ==, 0);
    g_assert_cmphex(getf(o, NVME_ERROR_RECOVERY, 0, 0), ==, 1 << 16);
    finish(o);
}

static void test_feature_temperature(void)
{
    QOcssd *o = boot("");
    const uint32_t ch = NVME_FEAT_CAP_CHANGE, under = 1 << 20;

    qocssd_start(o);
    check_feature(o, NVME_TEMPERATURE_THRESHOLD, 0, 343, 343, ch);
    check_feature(o, NVME_TEMPERATURE_THRESHOLD, under, 0, 0, ch);
    setf(o, NVME_TEMPERATURE_THRESHOLD, 350);
    setf(o, NVME_TEMPERATURE_THRESHOLD, under | 273);
    check_feature(o, NVME_TEMPERATURE_THRESHOLD, 0, 350, 343, ch);
    check_feature(o, NVME_TEMPERATURE_THRESHOLD, under, 273, 0, ch);
    /* TMPSEL Fh: every sensor, that is the composite one. */
    setf(o, NVME_TEMPERATURE_THRESHOLD, 0xf << 16 | 360);
    g_assert_cmphex(getf(o, NVME_TEMPERATURE_THRESHOLD, 0, 0), ==, 360);
    /* Only the composite sensor exists; THSEL 2h-3h are reserved. */
    g_assert_cmphex(qocssd_get_features(o, NVME_TEMPERATURE_THRESHOLD, 0,
                                        1 << 16, NULL), ==, INVF);
    g_assert_cmphex(qocssd_get_features(o, NVME_TEMPERATURE_THRESHOLD, 0,
                                        2 << 20, NULL), ==, INVF);
    g_assert_cmphex(qocssd_set_features(o, NVME_TEMPERATURE_THRESHOLD,
                                        1 << 16 | 300, NULL), ==, INVF);
    g_assert_cmphex(qocssd_set_features(o, NVME_TEMPERATURE_THRESHOLD,
                                        3 << 20 | 300, NULL), ==, INVF);
    g_assert_cmphex(getf(o, NVME_TEMPERATURE_THRESHOLD, 0, 0), ==, 360);
    finish(o);
}

static void test_feature_iv_config(void)
{
    QOcssd *o = boot("msix_vectors=4");
    const uint32_t ch = NVME_FEAT_CAP_CHANGE;

    qocssd_start(o);
    check_feature(o, NVME_INTERRUPT_VECTOR_CONF, 3, 3, 3, ch);
    check_feature(o, NVME_INTERRUPT_VECTOR_CONF, 0, 0, 0, ch);
    setf(o, NVME_INTERRUPT_VECTOR_CONF, NVME_INTVC_NOCOALESCING | 2);
    check_feature(o, NVME_INTERRUPT_VECTOR_CONF, 2,
                  NVME_INTVC_NOCOALESCING | 2, 2, ch);
    check_feature(o, NVME_INTERRUPT_VECTOR_CONF, 1, 1, 1, ch);
    g_assert_cmphex(qocssd_get_features(o, NVME_INTERRUPT_VECTOR_CONF, 0, 4,
                                        NULL), ==, INVF);
    g_assert_cmphex(qocssd_set_features(o, NVME_INTERRUPT_VECTOR_CONF, 4,
                                        NULL), ==, INVF);
    finish(o);
}

static uint16_t timestamp_io(QOcssd *o, bool set, uint8_t sel, uint64_t *ts)
{
    NvmeCmd cmd = { .opcode = set ? NVME_ADM_CMD_SET_FEATURES :
                                    NVME_ADM_CMD_GET_FEATURES };
    uint64_t le = cpu_to_le64(*ts);
    uint16_t status;

    cmd.cdw10 = cpu_to_le32(NVME_TIMESTAMP | (uint32_t)sel << 8);
    status = qocssd_admin_data(o, &cmd, &le, sizeof(le), set, NULL);
    *ts = le64_to_cpu(le);
    return status;
}

static uint64_t get_timestamp(QOcssd *o)
{
    uint64_t ts = 0;

    g_assert_cmphex(timestamp_io(o, false, 0, &ts), ==, 0);
    return ts;
}

/*
 * Timestamp: milliseconds in bits 47:0, origin in bits 51:49 (1 = set by
 * the host, 0 = counting from a controller reset).
 */
static void test_feature_timestamp(void)
{
    QOcssd *o = boot("");
    const uint64_t host = 1ULL << 49, t = 0x123456789abULL;
    uint64_t t0, ts;

    qocssd_start(o);
    t0 = get_timestamp(o);
    g_assert_cmphex(t0 >> 48, ==, 0);
    qtest_clock_step(o->qts, 7 * SCALE_MS);
    g_assert_cmphex(get_timestamp(o), ==, t0 + 7);

    ts = t;
    g_assert_cmphex(timestamp_io(o, true, 0, &ts), ==, 0);
    g_assert_cmphex(get_timestamp(o), ==, host | t);
    qtest_clock_step(o->qts, 3 * SCALE_MS);
    g_assert_cmphex(get_timestamp(o), ==, host | (t + 3));
    /* Bits 63:48 of the host's value are not the time. */
    ts = 0xffff000000000010ULL;
    g_assert_cmphex(timestamp_io(o, true, 0, &ts), ==, 0);
    g_assert_cmphex(get_timestamp(o), ==, host | 0x10);
    /* The default and saved values are 0. */
    g_assert_cmphex(timestamp_io(o, false, NVME_GETFEAT_SELECT_DEFAULT, &ts),
                    ==, 0);
    g_assert_cmphex(ts, ==, 0);
    g_assert_cmphex(timestamp_io(o, false, NVME_GETFEAT_SELECT_SAVED, &ts),
                    ==, 0);
    g_assert_cmphex(ts, ==, 0);
    g_assert_cmphex(getf(o, NVME_TIMESTAMP, NVME_GETFEAT_SELECT_CAP, 0), ==,
                    NVME_FEAT_CAP_CHANGE);

    /* A controller reset starts the count again from 0. */
    qtest_clock_step(o->qts, 5 * SCALE_MS);
    qocssd_disable(o);
    qocssd_start(o);
    qtest_clock_step(o->qts, 2 * SCALE_MS);
    g_assert_cmphex(get_timestamp(o), ==, 2);
    finish(o);
}

/* ---- log pages ----------------------------------------------------------- */

static void test_log_error(void)
{
    QOcssd *o = boot_io("");
    NvmeErrorLog log[ERRLOG], one;
    NvmeSmartLog smart;
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_IDENTIFY };
    uint16_t cid1, cid2;
    unsigned i;

    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_ERROR_INFO, 0, 0, sizeof(log),
                                   false, log), ==, 0);
    for (i = 0; i < ARRAY_SIZE(log); i++) {
        g_assert_cmpuint(log[i].error_count, ==, 0);
    }

    /* An admin command that fails... */
    cmd.cdw10 = cpu_to_le32(0x55);
    g_assert_cmphex(qocssd_exec(o, 0, &cmd, NULL), ==, INVF);
    cid1 = o->next_cid;
    /* ...and an I/O command. */
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = NVME_CMD_READ;
    cmd.nsid = cpu_to_le32(7);
    g_assert_cmphex(qocssd_exec(o, 1, &cmd, NULL), ==,
                    NVME_INVALID_NSID | NVME_DNR);
    cid2 = o->next_cid;

    /* Newest first. */
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_ERROR_INFO, 0, 0, sizeof(log),
                                   false, log), ==, 0);
    g_assert_cmpuint(le64_to_cpu(log[0].error_count), ==, 2);
    g_assert_cmpuint(le16_to_cpu(log[0].sqid), ==, 1);
    g_assert_cmpuint(le16_to_cpu(log[0].cid), ==, cid2);
    g_assert_cmphex(le16_to_cpu(log[0].status_field) >> 1, ==,
                    NVME_INVALID_NSID | NVME_DNR);
    g_assert_cmpuint(le32_to_cpu(log[0].nsid), ==, 7);
    g_assert_cmpuint(le64_to_cpu(log[1].error_count), ==, 1);
    g_assert_cmpuint(le16_to_cpu(log[1].sqid), ==, 0);
    g_assert_cmpuint(le16_to_cpu(log[1].cid), ==, cid1);
    g_assert_cmphex(le16_to_cpu(log[1].status_field) >> 1, ==, INVF);
    g_assert_cmphex(le16_to_cpu(log[1].param_error_location), ==,
                    offsetof(NvmeCmd, cdw10));
    g_assert_cmpuint(log[2].error_count, ==, 0);

    /* LPOL: one entry from the middle. */
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_ERROR_INFO, 0, sizeof(one),
                                   sizeof(one), false, &one), ==, 0);
    g_assert(!memcmp(&one, &log[1], sizeof(one)));
    /* The SMART log counts them. */
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_SMART_INFO, 0xffffffff, 0,
                                   sizeof(smart), false, &smart), ==, 0);
    g_assert_cmpuint(SMART(smart, number_of_error_log_entries), ==, 2);

    /* The ring keeps the newest 64. */
    for (i = 0; i < ERRLOG; i++) {
        g_assert_cmphex(admin(o, 0xee, 0, 0, 0, NULL), ==,
                        NVME_INVALID_OPCODE | NVME_DNR);
    }
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_ERROR_INFO, 0, 0, sizeof(log),
                                   false, log), ==, 0);
    for (i = 0; i < ARRAY_SIZE(log); i++) {
        g_assert_cmpuint(le64_to_cpu(log[i].error_count), ==,
                         ERRLOG + 2 - i);
        g_assert_cmphex(le16_to_cpu(log[i].status_field) >> 1, ==,
                        NVME_INVALID_OPCODE | NVME_DNR);
    }
    finish(o);
}

/* NUMDU: a transfer of more than 64 Ki dwords; past the log's end, zeroes. */
static void test_log_numdu(void)
{
    QOcssd *o = boot("");
    const size_t len = (0x10000 + 2) * 4;
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_GET_LOG_PAGE };
    g_autofree uint8_t *buf = g_malloc(len);
    NvmeFwSlotInfoLog fw;
    size_t i;

    qocssd_start(o);
    cmd.cdw10 = cpu_to_le32(NVME_LOG_FW_SLOT_INFO | 1u << 16);
    cmd.cdw11 = cpu_to_le32(1);
    g_assert_cmphex(qocssd_admin_data(o, &cmd, buf, len, false, NULL), ==, 0);
    g_assert_cmpuint(buf[0], ==, 1);
    g_assert(!memcmp(buf + 8, "2.0     ", 8));
    for (i = sizeof(fw); i < len; i++) {
        g_assert_cmphex(buf[i], ==, 0);
    }
    /* LPOL: an offset into the log. */
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = NVME_ADM_CMD_GET_LOG_PAGE;
    cmd.cdw10 = cpu_to_le32(NVME_LOG_FW_SLOT_INFO | 1u << 16);
    cmd.cdw12 = cpu_to_le32(8);
    g_assert_cmphex(qocssd_admin_data(o, &cmd, buf, 8, false, NULL), ==, 0);
    g_assert(!memcmp(buf, "2.0     ", 8));
    finish(o);
}

static void test_log_smart(void)
{
    QOcssd *o = boot_io("");
    NvmeSmartLog s0, s1;
    uint8_t part[8];
    unsigned i;

    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_SMART_INFO, 0xffffffff, 0,
                                   sizeof(s0), false, &s0), ==, 0);
    g_assert_cmpuint(s0.critical_warning, ==, 0);
    g_assert_cmpuint(le16_to_cpu(s0.temperature), ==, 323);
    g_assert_cmpuint(s0.available_spare, ==, 100);
    g_assert_cmpuint(s0.available_spare_threshold, ==, 10);
    g_assert_cmpuint(s0.percentage_used, ==, 0);
    g_assert_cmpuint(SMART(s0, data_units_written), ==, 0);
    g_assert_cmpuint(SMART(s0, data_units_read), ==, 0);
    g_assert_cmpuint(SMART(s0, host_write_commands), ==, 0);
    g_assert_cmpuint(SMART(s0, host_read_commands), ==, 0);

    /* 3 writes of 64 sectors (1536 units of 512 bytes), 5 reads of 8. */
    for (i = 0; i < 3; i++) {
        g_assert_cmphex(write_tag(o, 1, lba(o, i, 0), 64, i), ==, 0);
    }
    for (i = 0; i < 5; i++) {
        read_check(o, 1, lba(o, 0, 8 * i), 8, 0);
    }
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_SMART_INFO, 1, 0, sizeof(s1),
                                   false, &s1), ==, 0);
    g_assert_cmpuint(SMART(s1, host_write_commands), ==, 3);
    g_assert_cmpuint(SMART(s1, host_read_commands), ==, 5);
    /* Thousands of 512-byte units, rounded up. */
    g_assert_cmpuint(SMART(s1, data_units_written), ==, 2);
    g_assert_cmpuint(SMART(s1, data_units_read), ==, 1);
    /* NSID 0 too, and a partial read at an offset. */
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_SMART_INFO, 0, 48, 8, false,
                                   part), ==, 0);
    g_assert(!memcmp(part, (uint8_t *)&s1 + 48, 8));
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_SMART_INFO, 2, 0, sizeof(s1),
                                   false, &s1), ==,
                    NVME_INVALID_NSID | NVME_DNR);
    finish(o);
}

static void test_log_fw_slot(void)
{
    QOcssd *o = boot("firmware=FW-1.5");
    NvmeFwSlotInfoLog fw;
    uint8_t zero[sizeof(fw.frs2)] = {};

    qocssd_start(o);
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_FW_SLOT_INFO, 0xffffffff, 0,
                                   sizeof(fw), false, &fw), ==, 0);
    g_assert_cmpuint(fw.afi & 7, ==, 1);
    assert_padded(fw.frs1, sizeof(fw.frs1), "FW-1.5");
    g_assert(!memcmp(fw.frs2, zero, sizeof(zero)));
    g_assert(!memcmp(fw.frs7, zero, sizeof(zero)));
    finish(o);
}

/* ---- asynchronous events ------------------------------------------------ */

/* AERL + 1 requests wait; one more fails; an event completes one. */
static void test_aer_limit(void)
{
    QOcssd *o = boot("aerl=2");
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_ASYNC_EV_REQ };
    NvmeErrorLog log;
    NvmeCqe cqe;
    uint16_t cid[3];
    unsigned i;

    qocssd_start(o);
    for (i = 0; i < 3; i++) {
        cid[i] = qocssd_aer_submit(o);
    }
    g_assert_cmphex(qocssd_exec(o, 0, &cmd, NULL), ==,
                    NVME_AER_LIMIT_EXCEEDED | NVME_DNR);
    settle(o);
    g_assert_false(qocssd_peek(o, 0, &cqe));

    /* A doorbell of a queue that does not exist. */
    qocssd_ring_cq(o, 9, 0);
    qocssd_wait(o, 0, &cqe);
    g_assert_cmphex(qocssd_cqe_status(&cqe), ==, 0);
    g_assert(le16_to_cpu(cqe.cid) == cid[0] || le16_to_cpu(cqe.cid) == cid[1]
             || le16_to_cpu(cqe.cid) == cid[2]);
    g_assert_cmphex(le32_to_cpu(cqe.result), ==,
                    aer_result(NVME_AER_TYPE_ERROR,
                               NVME_AER_INFO_ERR_INVALID_DB_REGISTER,
                               NVME_LOG_ERROR_INFO));
    /* Now there is room for one more. */
    qocssd_aer_submit(o);
    g_assert_cmphex(qocssd_exec(o, 0, &cmd, NULL), ==,
                    NVME_AER_LIMIT_EXCEEDED | NVME_DNR);

    /* The error type is masked until its log page is read... */
    qocssd_ring_sq(o, 9, 1);
    settle(o);
    g_assert_false(qocssd_peek(o, 0, &cqe));
    /* ...with RAE set it stays masked... */
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_ERROR_INFO, 0, 0, sizeof(log),
                                   true, &log), ==, 0);
    qocssd_ring_sq(o, 9, 1);
    settle(o);
    g_assert_false(qocssd_peek(o, 0, &cqe));
    /* ...a read with RAE clear unmasks it. */
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_ERROR_INFO, 0, 0, sizeof(log),
                                   false, &log), ==, 0);
    qocssd_ring_sq(o, 9, 1);
    qocssd_aer_expect(o, NVME_AER_TYPE_ERROR,
                      NVME_AER_INFO_ERR_INVALID_DB_REGISTER,
                      NVME_LOG_ERROR_INFO);
    finish(o);
}

/*
 * Crossing a temperature threshold is a SMART event when the Async Event
 * Configuration enables it; the SMART log shows the warning.
 */
static void test_aer_temperature(void)
{
    QOcssd *o = boot("");
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_SET_FEATURES };
    NvmeSmartLog smart;
    NvmeCqe cqe[2];
    uint16_t aer, set;

    qocssd_start(o);
    aer = qocssd_aer_submit(o);
    /* Disabled: no event. */
    setf(o, NVME_TEMPERATURE_THRESHOLD, 300);
    settle(o);
    g_assert_false(qocssd_peek(o, 0, &cqe[0]));
    setf(o, NVME_TEMPERATURE_THRESHOLD, 343);

    setf(o, NVME_ASYNCHRONOUS_EVENT_CONF, NVME_SMART_TEMPERATURE);
    cmd.cdw10 = cpu_to_le32(NVME_TEMPERATURE_THRESHOLD);
    cmd.cdw11 = cpu_to_le32(300);
    set = qocssd_submit(o, 0, &cmd);
    take(o, 0, cqe, 2);
    g_assert_cmphex(qocssd_cqe_status(find_cqe(cqe, 2, set)), ==, 0);
    g_assert_cmphex(qocssd_cqe_status(find_cqe(cqe, 2, aer)), ==, 0);
    g_assert_cmphex(le32_to_cpu(find_cqe(cqe, 2, aer)->result), ==,
                    aer_result(NVME_AER_TYPE_SMART,
                               NVME_AER_INFO_SMART_TEMP_THRESH,
                               NVME_LOG_SMART_INFO));

    /* Masked until the SMART log is read. */
    aer = qocssd_aer_submit(o);
    setf(o, NVME_TEMPERATURE_THRESHOLD, 343);
    setf(o, NVME_TEMPERATURE_THRESHOLD, 1 << 20 | 330);    /* under */
    settle(o);
    g_assert_false(qocssd_peek(o, 0, &cqe[0]));
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_SMART_INFO, 0, 0,
                                   sizeof(smart), false, &smart), ==, 0);
    g_assert_cmphex(smart.critical_warning & NVME_SMART_TEMPERATURE, ==,
                    NVME_SMART_TEMPERATURE);
    setf(o, NVME_TEMPERATURE_THRESHOLD, 1 << 20 | 0);
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_SMART_INFO, 0, 0,
                                   sizeof(smart), false, &smart), ==, 0);
    g_assert_cmphex(smart.critical_warning & NVME_SMART_TEMPERATURE, ==, 0);
    /* Armed again: the next crossing completes the waiting request. */
    cmd.cdw11 = cpu_to_le32(1 << 20 | 330);
    set = qocssd_submit(o, 0, &cmd);
    take(o, 0, cqe, 2);
    g_assert_cmphex(qocssd_cqe_status(find_cqe(cqe, 2, set)), ==, 0);
    g_assert_cmphex(le32_to_cpu(find_cqe(cqe, 2, aer)->result), ==,
                    aer_result(NVME_AER_TYPE_SMART,
                               NVME_AER_INFO_SMART_TEMP_THRESH,
                               NVME_LOG_SMART_INFO));
    finish(o);
}

/*
 * Events that come while no AER is outstanding wait, one per type, and
 * complete the next requests in the order they came.
 */
static void test_aer_queued(void)
{
    QOcssd *o = boot("");
    NvmeCqe cqe;

    qocssd_start(o);
    setf(o, NVME_ASYNCHRONOUS_EVENT_CONF, NVME_SMART_TEMPERATURE);
    qocssd_ring_sq(o, 7, 1);
    qocssd_ring_sq(o, 0, 0xffff);       /* same type: not queued again */
    setf(o, NVME_TEMPERATURE_THRESHOLD, 300);
    settle(o);
    qocssd_aer_submit(o);
    qocssd_aer_expect(o, NVME_AER_TYPE_ERROR,
                      NVME_AER_INFO_ERR_INVALID_DB_REGISTER,
                      NVME_LOG_ERROR_INFO);
    qocssd_aer_submit(o);
    qocssd_aer_expect(o, NVME_AER_TYPE_SMART, NVME_AER_INFO_SMART_TEMP_THRESH,
                      NVME_LOG_SMART_INFO);
    qocssd_aer_submit(o);
    settle(o);
    g_assert_false(qocssd_peek(o, 0, &cqe));
    finish(o);
}

/* ---- other admin commands ------------------------------------------------ */

static void test_abort(void)
{
    QOcssd *o = boot_io("");
    NvmeCqe cqe;
    uint16_t aer = qocssd_aer_submit(o);

    /* Abort of an outstanding AER, and of a command that does not exist. */
    g_assert_cmphex(admin(o, NVME_ADM_CMD_ABORT, 0, (uint32_t)aer << 16, 0,
                          &cqe), ==, 0);
    g_assert_cmphex(le32_to_cpu(cqe.result) & 1, ==, 1);
    g_assert_cmphex(admin(o, NVME_ADM_CMD_ABORT, 0, 0x1234u << 16 | 1, 0,
                          &cqe), ==, 0);
    g_assert_cmphex(le32_to_cpu(cqe.result) & 1, ==, 1);
    /* The AER is still outstanding. */
    settle(o);
    g_assert_false(qocssd_peek(o, 0, &cqe));
    finish(o);
}

/* ---- I/O ---------------------------------------------------------------- */

/* Four queue pairs with two writes each in flight at once. */
static void test_multi_queue_io(void)
{
    QOcssd *o = boot_io("");
    NvmeCmd cmd;
    NvmeCqe cqe[2];
    uint16_t cid[5][2];
    unsigned q, i;

    for (q = 2; q <= 4; q++) {
        g_assert_cmphex(qocssd_create_ioq(o, q, 8, q), ==, 0);
    }
    for (i = 0; i < 2; i++) {
        for (q = 1; q <= 4; q++) {
            write_cmd(o, &cmd, NVME_CMD_WRITE, lba(o, q * 3, i * 16), 16,
                      q * 16 + i);
            cid[q][i] = qocssd_submit(o, q, &cmd);
        }
    }
    for (q = 1; q <= 4; q++) {
        take(o, q, cqe, 2);
        for (i = 0; i < 2; i++) {
            const NvmeCqe *c = find_cqe(cqe, 2, cid[q][i]);

            g_assert_cmphex(qocssd_cqe_status(c), ==, 0);
            g_assert_cmpuint(le16_to_cpu(c->sq_id), ==, q);
        }
    }
    for (q = 1; q <= 4; q++) {
        for (i = 0; i < 2; i++) {
            read_check(o, 5 - q, lba(o, q * 3, i * 16), 16, q * 16 + i);
        }
    }
    /* Reads on every queue at once. */
    for (q = 1; q <= 4; q++) {
        write_cmd(o, &cmd, NVME_CMD_READ, lba(o, q * 3, 0), 16, 0);
        cid[q][0] = qocssd_submit(o, q, &cmd);
    }
    for (q = 1; q <= 4; q++) {
        qocssd_wait(o, q, &cqe[0]);
        g_assert_cmpuint(le16_to_cpu(cqe[0].cid), ==, cid[q][0]);
        g_assert_cmphex(qocssd_cqe_status(&cqe[0]), ==, 0);
    }
    finish(o);
}

/*
 * Completions wait while their CQ is full and arrive as the host frees
 * entries.  Half the commands fail at once (an unknown opcode), so their
 * completions are all waiting when the first one is posted.
 */
static void test_cq_full(void)
{
    QOcssd *o = boot_io("");
    NvmeCmd cmd = {};
    NvmeCqe cqe, first;
    uint16_t cid[6];
    bool seen[6] = {};
    unsigned i, j;

    /* A 2-entry CQ holds one completion. */
    g_assert_cmphex(qocssd_create_cq(o, 2, 2, 2, true), ==, 0);
    g_assert_cmphex(qocssd_create_sq(o, 2, 2, 8), ==, 0);
    cmd.nsid = cpu_to_le32(1);
    for (i = 0; i < ARRAY_SIZE(cid); i++) {
        cmd.opcode = i < 3 ? 0x7f : NVME_CMD_FLUSH;
        cid[i] = qocssd_submit(o, 2, &cmd);
    }
    qocssd_wait_posted(o, 2, &first);
    settle(o);
    /* Nothing overwrote the first entry or went past it. */
    qocssd_memread(o, o->cq[2].addr, &cqe, sizeof(cqe));
    g_assert(!memcmp(&cqe, &first, sizeof(cqe)));
    qocssd_memread(o, o->cq[2].addr + 16, &cqe, sizeof(cqe));
    g_assert_cmphex(le16_to_cpu(cqe.status) & 1, ==, 0);
    /* The host frees entries one by one: every completion arrives. */
    for (i = 0; i < ARRAY_SIZE(cid); i++) {
        qocssd_wait(o, 2, &cqe);
        for (j = 0; j < ARRAY_SIZE(cid); j++) {
            if (cid[j] == le16_to_cpu(cqe.cid)) {
                g_assert_false(seen[j]);
                seen[j] = true;
                g_assert_cmphex(qocssd_cqe_status(&cqe), ==, j < 3 ?
                                (NVME_INVALID_OPCODE | NVME_DNR) : 0);
            }
        }
    }
    for (j = 0; j < ARRAY_SIZE(cid); j++) {
        g_assert_true(seen[j]);
    }
    settle(o);
    g_assert_false(qocssd_peek(o, 2, &cqe));
    /* Queue 2 still works. */
    g_assert_cmphex(qocssd_flush(o, 2), ==, 0);
    finish(o);
}

static void test_flush(void)
{
    QOcssd *o = boot_io("");
    NvmeCmd cmd = { .opcode = NVME_CMD_FLUSH };
    NvmeCqe cqe;

    g_assert_cmphex(write_tag(o, 1, lba(o, 1, 0), 4, 0x21), ==, 0);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    cmd.nsid = cpu_to_le32(0xffffffff);
    g_assert_cmphex(qocssd_exec(o, 1, &cmd, &cqe), ==, 0);
    /* The CQE reports how far the device has read the SQ. */
    g_assert_cmpuint(le16_to_cpu(cqe.sq_head), ==, o->sq[1].tail);
    cmd.nsid = 0;
    g_assert_cmphex(qocssd_exec(o, 1, &cmd, NULL), ==,
                    NVME_INVALID_NSID | NVME_DNR);
    cmd.nsid = cpu_to_le32(2);
    g_assert_cmphex(qocssd_exec(o, 1, &cmd, NULL), ==,
                    NVME_INVALID_NSID | NVME_DNR);
    /* Without a volatile write cache, too. */
    setf(o, NVME_VOLATILE_WRITE_CACHE, 0);
    g_assert_cmphex(write_tag(o, 1, lba(o, 1, 4), 4, 0x22), ==, 0);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    read_check(o, 1, lba(o, 1, 0), 4, 0x21);
    read_check(o, 1, lba(o, 1, 4), 4, 0x22);
    finish(o);
}

/* ---- interrupts ---------------------------------------------------------- */

static void assert_fired(QOcssd *o, unsigned nvec, uint32_t expect)
{
    unsigned v;

    for (v = 0; v < nvec; v++) {
        if (qocssd_msix_fired(o, v) != !!(expect & (1u << v))) {
            g_error("MSI-X vector %u %s", v, expect & (1u << v) ?
                    "did not fire" : "fired");
        }
    }
}

static void test_msix(void)
{
    QOcssd *o = boot("msix_vectors=8");
    uint8_t id[NVME_IDENTIFY_DATA_SIZE];

    qocssd_msix_enable(o);
    qocssd_start(o);
    qocssd_read_geometry(o);
    g_assert_cmphex(qocssd_create_ioq(o, 1, 16, 1), ==, 0);
    g_assert_cmphex(qocssd_create_ioq(o, 2, 16, 5), ==, 0);
    g_assert_cmphex(qocssd_create_cq(o, 3, 16, 5, true), ==, 0);
    g_assert_cmphex(qocssd_create_sq(o, 3, 3, 16), ==, 0);
    g_assert_cmphex(qocssd_create_cq(o, 4, 16, 6, false), ==, 0);
    g_assert_cmphex(qocssd_create_sq(o, 4, 4, 16), ==, 0);
    assert_fired(o, 8, 1);          /* the admin commands: vector 0 */

    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    assert_fired(o, 8, 1 << 1);
    g_assert_cmphex(qocssd_flush(o, 2), ==, 0);
    assert_fired(o, 8, 1 << 5);
    g_assert_cmphex(qocssd_flush(o, 3), ==, 0);
    assert_fired(o, 8, 1 << 5);
    /* A CQ without interrupts signals nothing. */
    g_assert_cmphex(qocssd_flush(o, 4), ==, 0);
    assert_fired(o, 8, 0);
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_CTRL, 0, id), ==, 0);
    assert_fired(o, 8, 1);
    /* INTMS/INTMC mean nothing with MSI-X. */
    qocssd_writel(o, NVME_REG_INTMS, 1 << 1);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_INTMS), ==, 0);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    assert_fired(o, 8, 1 << 1);
    finish(o);
}

/*
 * Interrupt coalescing: I/O completions wait for THR + 1 of them or TIME
 * * 100 us; the admin queue and vectors configured without coalescing
 * signal at once.
 */
static void test_coalescing(void)
{
    QOcssd *o = boot("msix_vectors=4");
    NvmeCmd cmd = { .opcode = NVME_CMD_FLUSH };
    NvmeCqe cqe;

    qocssd_msix_enable(o);
    qocssd_start(o);
    qocssd_read_geometry(o);
    g_assert_cmphex(qocssd_create_ioq(o, 1, 16, 1), ==, 0);
    g_assert_cmphex(qocssd_create_ioq(o, 2, 16, 2), ==, 0);
    setf(o, NVME_INTERRUPT_COALESCING, 10 << 8 | 1);   /* 1 ms, 2 CQEs */
    setf(o, NVME_INTERRUPT_VECTOR_CONF, NVME_INTVC_NOCOALESCING | 2);
    assert_fired(o, 4, 1);

    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    assert_fired(o, 4, 0);
    qtest_clock_step(o->qts, 999 * SCALE_US);
    assert_fired(o, 4, 0);
    qtest_clock_step(o->qts, SCALE_US);
    assert_fired(o, 4, 1 << 1);

    /* Two completions reach the threshold. */
    cmd.nsid = cpu_to_le32(1);
    qocssd_submit(o, 1, &cmd);
    qocssd_submit(o, 1, &cmd);
    qocssd_wait(o, 1, &cqe);
    qocssd_wait(o, 1, &cqe);
    settle(o);
    assert_fired(o, 4, 1 << 1 | 1);

    /* Vector 2 does not coalesce. */
    g_assert_cmphex(qocssd_flush(o, 2), ==, 0);
    assert_fired(o, 4, 1 << 2);
    finish(o);
}

static void wait_irq(QOcssd *o, bool level)
{
    unsigned i;

    for (i = 0; i < SPIN; i++) {
        if (qtest_get_irq(o->qts, INTX_IRQ) == level) {
            return;
        }
        qocssd_readl(o, NVME_REG_CSTS);
    }
    g_error("INTx stayed %s", level ? "low" : "high");
}

/* pc, INTA observed at INTX_IRQ, I/O queue pair 1 on vector 1. */
/* ---- shadow doorbells (Doorbell Buffer Config) -------------------------- */

typedef struct Shadow {
    uint64_t dbs, eis;
} Shadow;

static uint16_t dbbuf_config(QOcssd *o, uint64_t dbs, uint64_t eis)
{
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_DBBUF_CONFIG };

    cmd.dptr.prp1 = cpu_to_le64(dbs);
    cmd.dptr.prp2 = cpu_to_le64(eis);
    return qocssd_exec(o, 0, &cmd, NULL);
}

/* Both pages, the EventIdx one filled with a pattern the device replaces. */
static Shadow shadow_setup(QOcssd *o)
{
    Shadow s = {
        .dbs = qocssd_alloc_page(o, o->page_size),
        .eis = qocssd_alloc_page(o, o->page_size),
    };

    qtest_memset(o->qts, s.dbs, 0, o->page_size);
    qtest_memset(o->qts, s.eis, 0xee, o->page_size);
    g_assert_cmphex(dbbuf_config(o, s.dbs, s.eis), ==, 0);
    return s;
}

static void shadow_put(QOcssd *o, uint64_t page, uint16_t qid, bool cq,
                       uint32_t val)
{
    qtest_writel(o->qts, page + qid * 8 + (cq ? 4 : 0), val);
}

static uint32_t shadow_get(QOcssd *o, uint64_t page, uint16_t qid, bool cq)
{
    return qtest_readl(o->qts, page + qid * 8 + (cq ? 4 : 0));
}

/* Queue n commands with an unknown opcode (they complete at once). */
static void enqueue_invalid(QOcssd *o, uint16_t qid, unsigned n)
{
    NvmeCmd cmd = { .opcode = 0x7f, .nsid = cpu_to_le32(1) };

    while (n--) {
        qocssd_enqueue(o, qid, &cmd);
    }
}

/* Consume the next completion, telling the device through the shadow. */
static void shadow_consume(QOcssd *o, Shadow *s, uint16_t qid, NvmeCqe *cqe)
{
    QOcssdQueue *cq = &o->cq[qid];

    qocssd_wait_posted(o, qid, cqe);
    cq->head = (cq->head + 1) % cq->size;
    if (!cq->head) {
        cq->phase ^= 1;
    }
    shadow_put(o, s->dbs, qid, true, cq->head);
}

/*
 * Doorbell Buffer Config: the device takes I/O SQ tails and CQ heads from
 * the host's shadow page, publishes EventIdx values (an SQ's when it has
 * fetched up to its tail, a CQ's when the CQ is full, every head on INTx),
 * ignores impossible shadow values, and forgets it all at a controller
 * reset.
 */
static void test_shadow_doorbells(void)
{
    QOcssd *o = boot_io("");
    NvmeCqe cqe;
    Shadow s;
    unsigned i;

    /* Buffers must be page aligned; PRPs only. */
    g_assert_cmphex(dbbuf_config(o, 0x100000 + 512, 0x200000), ==,
                    NVME_INVALID_FIELD | NVME_DNR);
    g_assert_cmphex(dbbuf_config(o, 0x100000, 0x200000 + 8), ==,
                    NVME_INVALID_FIELD | NVME_DNR);
    s = shadow_setup(o);
    /* The existing queue's values were written to both pages. */
    g_assert_cmpuint(shadow_get(o, s.dbs, 1, false), ==, 0);
    g_assert_cmpuint(shadow_get(o, s.eis, 1, false), ==, 0);
    g_assert_cmpuint(shadow_get(o, s.eis, 1, true), ==, 0);
    /* The admin queue keeps its registers. */
    g_assert_cmpuint(shadow_get(o, s.eis, 0, false), ==, 0xeeeeeeee);

    /*
     * Two commands in the shadow, the register rung with one: both are
     * fetched (the CQE's SQ head says how far), and the EventIdx says
     * where the device caught up.
     */
    enqueue_invalid(o, 1, 2);
    shadow_put(o, s.dbs, 1, false, 2);
    qocssd_ring_sq(o, 1, 1);
    for (i = 0; i < 2; i++) {
        qocssd_wait(o, 1, &cqe);
        g_assert_cmphex(qocssd_cqe_status(&cqe), ==,
                        NVME_INVALID_OPCODE | NVME_DNR);
        g_assert_cmpuint(le16_to_cpu(cqe.sq_head), ==, 2);
    }
    g_assert_cmpuint(shadow_get(o, s.eis, 1, false), ==, 2);
    /* MSI-X is off: each rung CQ head is published (INTx needs them). */
    g_assert_cmpuint(shadow_get(o, s.eis, 1, true), ==, 2);

    /* An impossible shadow tail is ignored: the register's value holds. */
    enqueue_invalid(o, 1, 1);
    shadow_put(o, s.dbs, 1, false, QOCSSD_QSIZE + 5);
    qocssd_ring_sq(o, 1, 3);
    qocssd_wait(o, 1, &cqe);
    g_assert_cmpuint(le16_to_cpu(cqe.sq_head), ==, 3);
    settle(o);
    g_assert_false(qocssd_peek(o, 1, &cqe));
    shadow_put(o, s.dbs, 1, false, 3);

    /*
     * A 4-entry CQ fills with three completions; the device asks for a
     * ring at the head it knows.  The host consumes them through the
     * shadow only; the next completion finds the room there.
     */
    g_assert_cmphex(qocssd_create_cq(o, 2, 4, 2, true), ==, 0);
    g_assert_cmphex(qocssd_create_sq(o, 2, 2, 16), ==, 0);
    enqueue_invalid(o, 2, 5);
    shadow_put(o, s.dbs, 2, false, 5);
    qocssd_ring_sq(o, 2, 5);
    for (i = 0; i < 3; i++) {
        shadow_consume(o, &s, 2, &cqe);
    }
    settle(o);
    g_assert_cmpuint(shadow_get(o, s.eis, 2, true), ==, 0);
    g_assert_false(qocssd_peek(o, 2, &cqe));
    enqueue_invalid(o, 2, 1);
    shadow_put(o, s.dbs, 2, false, 6);
    qocssd_ring_sq(o, 2, 6);
    for (i = 0; i < 3; i++) {
        shadow_consume(o, &s, 2, &cqe);
        g_assert_cmpuint(le16_to_cpu(cqe.sq_head), ==, 6);
    }
    settle(o);
    g_assert_false(qocssd_peek(o, 2, &cqe));

    /* A controller reset ends it: shadow values are not read any more. */
    qocssd_disable(o);
    qocssd_start_io(o);
    shadow_put(o, s.dbs, 1, false, 4);
    enqueue_invalid(o, 1, 1);
    qocssd_ring_sq(o, 1, 1);
    qocssd_wait(o, 1, &cqe);
    g_assert_cmpuint(le16_to_cpu(cqe.sq_head), ==, 1);
    settle(o);
    g_assert_false(qocssd_peek(o, 1, &cqe));
    finish(o);

    /* shadow_doorbells=off: not offered, the command is unknown. */
    o = boot_io("shadow_doorbells=off");
    {
        NvmeIdCtrl id;

        g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_CTRL, 0, &id), ==, 0);
        g_assert_cmphex(le16_to_cpu(id.oacs), ==, 0);
    }
    g_assert_cmphex(dbbuf_config(o, 0x100000, 0x200000), ==,
                    NVME_INVALID_OPCODE | NVME_DNR);
    finish(o);
}

static QOcssd *boot_intx(void)
{
    QOcssd *o = qocssd_boot_tmp("pc", GEO);

    qtest_irq_intercept_in(o->qts, "ioapic");
    qocssd_intx_route(o, INTX_IRQ);
    qocssd_start_io(o);
    g_assert_false(qtest_get_irq(o->qts, INTX_IRQ));
    return o;
}

/*
 * INTx when MSI-X is off (pc: PIIX3 routes INTA to an I/O APIC input):
 * asserted while a CQ holds unconsumed entries, masked by INTMS per
 * vector, unmasked by INTMC.
 */
static void test_intx(void)
{
    QOcssd *o = boot_intx();
    NvmeCmd cmd = { .opcode = NVME_CMD_FLUSH };
    NvmeCqe cqe;

    cmd.nsid = cpu_to_le32(1);
    qocssd_submit(o, 1, &cmd);
    qocssd_wait_posted(o, 1, &cqe);
    g_assert_true(qtest_get_irq(o->qts, INTX_IRQ));
    /* Masking another vector changes nothing; masking vector 1 does. */
    qocssd_writel(o, NVME_REG_INTMS, 1 << 0);
    g_assert_true(qtest_get_irq(o->qts, INTX_IRQ));
    qocssd_writel(o, NVME_REG_INTMS, 1 << 1);
    g_assert_false(qtest_get_irq(o->qts, INTX_IRQ));
    g_assert_cmphex(qocssd_readl(o, NVME_REG_INTMS), ==, 3);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_INTMC), ==, 3);
    qocssd_writel(o, NVME_REG_INTMC, 1 << 1);
    g_assert_true(qtest_get_irq(o->qts, INTX_IRQ));
    g_assert_cmphex(qocssd_readl(o, NVME_REG_INTMS), ==, 1);
    /* Consuming the entry deasserts it. */
    g_assert_true(qocssd_poll(o, 1, &cqe));
    g_assert_false(qtest_get_irq(o->qts, INTX_IRQ));

    /* A completion while masked is signalled at unmask. */
    qocssd_writel(o, NVME_REG_INTMS, 1 << 1);
    qocssd_submit(o, 1, &cmd);
    qocssd_wait_posted(o, 1, &cqe);
    settle(o);
    g_assert_false(qtest_get_irq(o->qts, INTX_IRQ));
    qocssd_writel(o, NVME_REG_INTMC, 1 << 1);
    wait_irq(o, true);
    g_assert_true(qocssd_poll(o, 1, &cqe));
    wait_irq(o, false);

    /* The admin queue interrupts on vector 0. */
    qocssd_writel(o, NVME_REG_INTMC, 1);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    g_assert_false(qtest_get_irq(o->qts, INTX_IRQ));
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = NVME_ADM_CMD_GET_FEATURES;
    cmd.cdw10 = cpu_to_le32(NVME_ARBITRATION);
    qocssd_submit(o, 0, &cmd);
    qocssd_wait_posted(o, 0, &cqe);
    g_assert_true(qtest_get_irq(o->qts, INTX_IRQ));
    g_assert_true(qocssd_poll(o, 0, &cqe));
    g_assert_false(qtest_get_irq(o->qts, INTX_IRQ));
    finish(o);
}

/*
 * INTx with interrupt coalescing: a completion the host has already
 * consumed when the aggregation time runs out asserts nothing; one still
 * in the queue does.
 */
static void test_intx_coalescing(void)
{
    QOcssd *o = boot_intx();
    NvmeCmd cmd = { .opcode = NVME_CMD_FLUSH };
    NvmeCqe cqe;

    setf(o, NVME_INTERRUPT_COALESCING, 10 << 8 | 1);   /* 1 ms, 2 CQEs */

    cmd.nsid = cpu_to_le32(1);
    qocssd_submit(o, 1, &cmd);
    qocssd_wait(o, 1, &cqe);
    g_assert_false(qtest_get_irq(o->qts, INTX_IRQ));
    qtest_clock_step(o->qts, SCALE_MS);
    g_assert_false(qtest_get_irq(o->qts, INTX_IRQ));

    qocssd_submit(o, 1, &cmd);
    qocssd_wait_posted(o, 1, &cqe);
    g_assert_false(qtest_get_irq(o->qts, INTX_IRQ));
    qtest_clock_step(o->qts, SCALE_MS);
    g_assert_true(qtest_get_irq(o->qts, INTX_IRQ));
    g_assert_true(qocssd_poll(o, 1, &cqe));
    g_assert_false(qtest_get_irq(o->qts, INTX_IRQ));
    finish(o);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/ocssd/ctrl/regs/cap-vs", test_cap_vs);
    qtest_add_func("/ocssd/ctrl/regs/read-only", test_reg_read_only);
    qtest_add_func("/ocssd/ctrl/regs/cc-reset", test_cc_reset);
    qtest_add_func("/ocssd/ctrl/regs/cfs", test_cfs);
    qtest_add_data_func("/ocssd/ctrl/regs/mps-8k", GUINT_TO_POINTER(8192),
                        test_mps);
    qtest_add_data_func("/ocssd/ctrl/regs/mps-64k", GUINT_TO_POINTER(65536),
                        test_mps);
    qtest_add_func("/ocssd/ctrl/regs/shutdown", test_shutdown);
    qtest_add_data_func("/ocssd/ctrl/pci/pc", "pc", test_pci_ids);
    qtest_add_data_func("/ocssd/ctrl/pci/q35", "q35", test_pci_ids);
    qtest_add_func("/ocssd/ctrl/identify/ctrl", test_identify_ctrl);
    qtest_add_func("/ocssd/ctrl/identify/ns-lists", test_identify_ns_lists);
    qtest_add_func("/ocssd/ctrl/identify/two-devices", test_two_devices);
    qtest_add_func("/ocssd/ctrl/queues/create-delete",
                   test_queue_create_delete);
    qtest_add_func("/ocssd/ctrl/queues/intx-vectors", test_queue_intx_vectors);
    qtest_add_func("/ocssd/ctrl/queues/num-queues", test_num_queues);
    qtest_add_func("/ocssd/ctrl/features/simple", test_features_simple);
    qtest_add_func("/ocssd/ctrl/features/error-recovery",
                   test_feature_error_recovery);
    qtest_add_func("/ocssd/ctrl/features/temperature",
                   test_feature_temperature);
    qtest_add_func("/ocssd/ctrl/features/iv-config", test_feature_iv_config);
    qtest_add_func("/ocssd/ctrl/features/timestamp", test_feature_timestamp);
    qtest_add_func("/ocssd/ctrl/log/error", test_log_error);
    qtest_add_func("/ocssd/ctrl/log/numdu", test_log_numdu);
    qtest_add_func("/ocssd/ctrl/log/smart", test_log_smart);
    qtest_add_func("/ocssd/ctrl/log/fw-slot", test_log_fw_slot);
    qtest_add_func("/ocssd/ctrl/aer/limit-and-mask", test_aer_limit);
    qtest_add_func("/ocssd/ctrl/aer/temperature", test_aer_temperature);
    qtest_add_func("/ocssd/ctrl/aer/queued", test_aer_queued);
    qtest_add_func("/ocssd/ctrl/abort", test_abort);
    qtest_add_func("/ocssd/ctrl/io/multi-queue", test_multi_queue_io);
    qtest_add_func("/ocssd/ctrl/io/cq-full", test_cq_full);
    qtest_add_func("/ocssd/ctrl/io/shadow-doorbells", test_shadow_doorbells);
    qtest_add_func("/ocssd/ctrl/io/flush", test_flush);
    qtest_add_func("/ocssd/ctrl/irq/msix", test_msix);
    qtest_add_func("/ocssd/ctrl/irq/coalescing", test_coalescing);
    qtest_add_func("/ocssd/ctrl/irq/intx", test_intx);
    qtest_add_func("/ocssd/ctrl/irq/intx-coalescing", test_intx_coalescing);
    return g_test_run();
}
