/*
 * libqos driver for the ocssd device (NVMe Open-Channel SSD 2.0)
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qemu/module.h"
#include "qemu/host-utils.h"
#include "../libqtest.h"
#include "libqos-pc.h"
#include "hw/pci/pci_regs.h"
#include "ocssd.h"

/*
 * Completions arrive from the device's bottom halves and block I/O; each
 * poll is a qtest round trip that lets QEMU's main loop run.  A device that
 * never completes fails the test here instead of hanging it.
 */
#define QOCSSD_POLL_LIMIT   2000000

#define DB(qid, cq)         (0x1000 + ((2 * (qid)) + (cq)) * 4)

/* ---- setup -------------------------------------------------------------- */

void qocssd_init(QOcssd *o, QPCIBus *bus, QGuestAllocator *alloc, int devfn)
{
    QPCIAddress addr = { .devfn = devfn };

    qpci_device_init(&o->dev, bus, &addr);
    o->alloc = alloc;
    o->qts = bus->qts;
    o->page_size = 4096;
}

static QOcssd * G_GNUC_PRINTF(1, 0) qocssd_vboot(const char *cmdline_fmt,
                                                va_list ap)
{
    QOcssd *o = g_new0(QOcssd, 1);
    g_autofree char *cmdline = g_strdup_vprintf(cmdline_fmt, ap);

    o->qs = qtest_pc_boot("%s", cmdline);
    qocssd_init(o, o->qs->pcibus, &o->qs->alloc, QOCSSD_DEVFN);
    return o;
}

QOcssd *qocssd_boot_cmdline(const char *cmdline_fmt, ...)
{
    va_list ap;
    QOcssd *o;

    va_start(ap, cmdline_fmt);
    o = qocssd_vboot(cmdline_fmt, ap);
    va_end(ap);
    return o;
}

QOcssd *qocssd_boot(const char *machine, const char *image,
                    const char *device_opts_fmt, ...)
{
    g_autofree char *opts = NULL;
    va_list ap;

    va_start(ap, device_opts_fmt);
    opts = g_strdup_vprintf(device_opts_fmt, ap);
    va_end(ap);
    return qocssd_boot_cmdline("-machine %s -drive if=none,id=oc0,file=%s,"
                               "format=raw -device ocssd,drive=oc0,addr=04.0"
                               "%s%s", machine, image, *opts ? "," : "",
                               opts);
}

char *qocssd_tmp_image(void)
{
    char *path;
    int fd = g_file_open_tmp("ocssd-test-XXXXXX.img", &path, NULL);

    g_assert(fd >= 0);
    close(fd);
    return path;
}

QOcssd *qocssd_boot_tmp(const char *machine, const char *device_opts_fmt,
                        ...)
{
    g_autofree char *opts = NULL;
    char *image = qocssd_tmp_image();
    va_list ap;
    QOcssd *o;

    va_start(ap, device_opts_fmt);
    opts = g_strdup_vprintf(device_opts_fmt, ap);
    va_end(ap);
    o = qocssd_boot(machine, image, "%s", opts);
    o->image = image;
    return o;
}

QOcssd *qocssd_adopt(QOcssd *src, QOSState *qs)
{
    QOcssd *o = g_new(QOcssd, 1);

    *o = *src;
    o->qs = qs;
    o->qts = qs->qts;
    o->dev.bus = qs->pcibus;
    o->image = NULL;
    return o;
}

void qocssd_shutdown(QOcssd *o)
{
    if (o->mapped) {
        qpci_iounmap(&o->dev, o->bar);
    }
    if (o->qs) {
        qtest_shutdown(o->qs);
    }
    if (o->image) {
        unlink(o->image);
        g_free(o->image);
    }
    g_free(o);
}

/* ---- registers ---------------------------------------------------------- */

void qocssd_map(QOcssd *o)
{
    if (!o->mapped) {
        qpci_device_enable(&o->dev);
        o->bar = qpci_iomap(&o->dev, 0, &o->bar_size);
        o->mapped = true;
    }
}

uint32_t qocssd_readl(QOcssd *o, uint64_t off)
{
    return qpci_io_readl(&o->dev, o->bar, off);
}

uint64_t qocssd_readq(QOcssd *o, uint64_t off)
{
    return qpci_io_readq(&o->dev, o->bar, off);
}

void qocssd_writel(QOcssd *o, uint64_t off, uint32_t val)
{
    qpci_io_writel(&o->dev, o->bar, off, val);
}

void qocssd_writeq(QOcssd *o, uint64_t off, uint64_t val)
{
    qpci_io_writeq(&o->dev, o->bar, off, val);
}

void qocssd_ring_sq(QOcssd *o, uint16_t qid, uint32_t tail)
{
    qocssd_writel(o, DB(qid, 0), tail);
}

void qocssd_ring_cq(QOcssd *o, uint16_t qid, uint32_t head)
{
    qocssd_writel(o, DB(qid, 1), head);
}

static void qocssd_queue_init(QOcssd *o, QOcssdQueue *q, uint16_t size,
                              size_t entry)
{
    q->addr = qocssd_alloc_page(o, size * entry);
    q->size = size;
    q->head = q->tail = 0;
    q->phase = 1;
    q->live = true;
    qtest_memset(o->qts, q->addr, 0, size * entry);
}

void qocssd_start(QOcssd *o)
{
    qocssd_map(o);
    qocssd_disable(o);
    qocssd_enable(o);
    /* As a host does: poll CSTS.RDY (the device may update its image). */
    qocssd_wait_csts(o, NVME_CSTS_READY, NVME_CSTS_READY);
}

void qocssd_enable(QOcssd *o)
{
    uint32_t cc = 0;

    memset(o->sq, 0, sizeof(o->sq));
    memset(o->cq, 0, sizeof(o->cq));
    qocssd_queue_init(o, &o->sq[0], QOCSSD_QSIZE, 64);
    qocssd_queue_init(o, &o->cq[0], QOCSSD_QSIZE, 16);
    qocssd_writel(o, NVME_REG_AQA, (QOCSSD_QSIZE - 1) << 16 |
                  (QOCSSD_QSIZE - 1));
    qocssd_writeq(o, NVME_REG_ASQ, o->sq[0].addr);
    qocssd_writeq(o, NVME_REG_ACQ, o->cq[0].addr);
    NVME_SET_CC_EN(cc, 1);
    NVME_SET_CC_MPS(cc, ctz32(o->page_size) - 12);
    NVME_SET_CC_IOSQES(cc, 6);
    NVME_SET_CC_IOCQES(cc, 4);
    qocssd_writel(o, NVME_REG_CC, cc);
}

void qocssd_wait_csts(QOcssd *o, uint32_t mask, uint32_t want)
{
    uint32_t csts = 0;
    unsigned i;

    for (i = 0; i < QOCSSD_POLL_LIMIT; i++) {
        csts = qocssd_readl(o, NVME_REG_CSTS);
        if ((csts & mask) == want) {
            return;
        }
    }
    g_error("ocssd: CSTS 0x%x never matched 0x%x under mask 0x%x", csts,
            want, mask);
}

/*
 * CC.EN = 0, and wait for CSTS.RDY = 0 as a host does: the device holds it
 * until no command of the old queues can touch host memory.
 */
void qocssd_disable(QOcssd *o)
{
    qocssd_writel(o, NVME_REG_CC, 0);
    qocssd_wait_csts(o, NVME_CSTS_READY, 0);
}

void qocssd_start_io(QOcssd *o)
{
    qocssd_start(o);
    qocssd_read_geometry(o);
    g_assert_cmphex(qocssd_create_ioq(o, 1, QOCSSD_QSIZE, 1), ==, 0);
}

/* ---- memory ------------------------------------------------------------- */

uint64_t qocssd_alloc(QOcssd *o, size_t size)
{
    return guest_alloc(o->alloc, MAX(size, 1));
}

uint64_t qocssd_alloc_page(QOcssd *o, size_t size)
{
    /* The allocator's pages are 4 KiB. */
    return ROUND_UP(qocssd_alloc(o, size + o->page_size - 4096),
                    o->page_size);
}

void qocssd_memwrite(QOcssd *o, uint64_t addr, const void *buf, size_t len)
{
    qtest_memwrite(o->qts, addr, buf, len);
}

void qocssd_memread(QOcssd *o, uint64_t addr, void *buf, size_t len)
{
    qtest_memread(o->qts, addr, buf, len);
}

/* PRP1/PRP2, or a PRP list, for a contiguous guest buffer. */
void qocssd_set_prp(QOcssd *o, NvmeCmd *cmd, uint64_t addr, size_t len)
{
    uint64_t psz = o->page_size, first = psz - (addr & (psz - 1));
    uint64_t npages, i, list;
    g_autofree uint64_t *ents = NULL;

    cmd->flags &= ~(3 << 6);
    cmd->dptr.prp1 = cpu_to_le64(addr);
    cmd->dptr.prp2 = 0;
    if (len <= first) {
        return;
    }
    if (len - first <= psz) {
        cmd->dptr.prp2 = cpu_to_le64(addr + first);
        return;
    }
    npages = DIV_ROUND_UP(len - first, psz);
    g_assert(npages <= psz / 8);        /* one list page is enough here */
    ents = g_new(uint64_t, npages);
    for (i = 0; i < npages; i++) {
        ents[i] = cpu_to_le64(addr + first + i * psz);
    }
    list = qocssd_alloc(o, npages * 8);
    qocssd_memwrite(o, list, ents, npages * 8);
    cmd->dptr.prp2 = cpu_to_le64(list);
}

/* One SGL data block descriptor (PSDT 01b). */
void qocssd_set_sgl(NvmeCmd *cmd, uint64_t addr, uint32_t len)
{
    cmd->flags = (cmd->flags & ~(3 << 6)) | NVME_PSDT_SGL_MPTR_CONTIGUOUS << 6;
    cmd->dptr.sgl.addr = cpu_to_le64(addr);
    cmd->dptr.sgl.len = cpu_to_le32(len);
    memset(cmd->dptr.sgl.rsvd, 0, sizeof(cmd->dptr.sgl.rsvd));
    cmd->dptr.sgl.type = NVME_SGL_DESCR_TYPE_DATA_BLOCK << 4;
}

/* ---- queues and commands -------------------------------------------------- */

uint16_t qocssd_enqueue(QOcssd *o, uint16_t qid, NvmeCmd *cmd)
{
    QOcssdQueue *sq = &o->sq[qid];

    g_assert(qid < QOCSSD_MAX_QUEUES && sq->live);
    cmd->cid = cpu_to_le16(++o->next_cid);
    qocssd_memwrite(o, sq->addr + (uint64_t)sq->tail * 64, cmd, 64);
    sq->tail = (sq->tail + 1) % sq->size;
    return o->next_cid;
}

uint16_t qocssd_submit(QOcssd *o, uint16_t qid, NvmeCmd *cmd)
{
    uint16_t cid = qocssd_enqueue(o, qid, cmd);

    qocssd_ring_sq(o, qid, o->sq[qid].tail);
    return cid;
}

bool qocssd_peek(QOcssd *o, uint16_t qid, NvmeCqe *cqe)
{
    QOcssdQueue *cq = &o->cq[qid];

    qocssd_memread(o, cq->addr + (uint64_t)cq->head * 16, cqe, 16);
    return (le16_to_cpu(cqe->status) & 1) == cq->phase;
}

bool qocssd_poll(QOcssd *o, uint16_t qid, NvmeCqe *cqe)
{
    QOcssdQueue *cq = &o->cq[qid];

    if (!qocssd_peek(o, qid, cqe)) {
        return false;
    }
    cq->head = (cq->head + 1) % cq->size;
    if (!cq->head) {
        cq->phase ^= 1;
    }
    qocssd_ring_cq(o, qid, cq->head);
    return true;
}

void qocssd_wait_posted(QOcssd *o, uint16_t qid, NvmeCqe *cqe)
{
    unsigned i;

    for (i = 0; i < QOCSSD_POLL_LIMIT; i++) {
        if (qocssd_peek(o, qid, cqe)) {
            return;
        }
    }
    g_error("ocssd: no completion on queue %u", qid);
}

void qocssd_wait(QOcssd *o, uint16_t qid, NvmeCqe *cqe)
{
    qocssd_wait_posted(o, qid, cqe);
    g_assert_true(qocssd_poll(o, qid, cqe));
}

uint16_t qocssd_exec(QOcssd *o, uint16_t qid, NvmeCmd *cmd, NvmeCqe *cqe)
{
    NvmeCqe local;
    uint16_t cid = qocssd_submit(o, qid, cmd);

    cqe = cqe ? cqe : &local;
    qocssd_wait(o, qid, cqe);
    g_assert_cmpuint(le16_to_cpu(cqe->cid), ==, cid);
    g_assert_cmpuint(le16_to_cpu(cqe->sq_id), ==, qid);
    return qocssd_cqe_status(cqe);
}

uint16_t qocssd_create_cq(QOcssd *o, uint16_t qid, uint16_t size,
                          uint16_t vector, bool ien)
{
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_CREATE_CQ };
    QOcssdQueue q;
    uint16_t status;

    qocssd_queue_init(o, &q, size, 16);
    cmd.dptr.prp1 = cpu_to_le64(q.addr);
    cmd.cdw10 = cpu_to_le32((uint32_t)(size - 1) << 16 | qid);
    cmd.cdw11 = cpu_to_le32((uint32_t)vector << 16 | (ien ? 2 : 0) | 1);
    status = qocssd_exec(o, 0, &cmd, NULL);
    if (!status && qid < QOCSSD_MAX_QUEUES) {
        o->cq[qid] = q;
    }
    return status;
}

uint16_t qocssd_create_sq(QOcssd *o, uint16_t qid, uint16_t cqid,
                          uint16_t size)
{
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_CREATE_SQ };
    QOcssdQueue q;
    uint16_t status;

    qocssd_queue_init(o, &q, size, 64);
    cmd.dptr.prp1 = cpu_to_le64(q.addr);
    cmd.cdw10 = cpu_to_le32((uint32_t)(size - 1) << 16 | qid);
    cmd.cdw11 = cpu_to_le32((uint32_t)cqid << 16 | 1);
    status = qocssd_exec(o, 0, &cmd, NULL);
    if (!status && qid < QOCSSD_MAX_QUEUES) {
        o->sq[qid] = q;
    }
    return status;
}

uint16_t qocssd_create_ioq(QOcssd *o, uint16_t qid, uint16_t size,
                           uint16_t vector)
{
    uint16_t status = qocssd_create_cq(o, qid, size, vector, true);

    return status ? status : qocssd_create_sq(o, qid, qid, size);
}

uint16_t qocssd_delete_ioq(QOcssd *o, uint16_t qid)
{
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_DELETE_SQ };
    uint16_t status;

    cmd.cdw10 = cpu_to_le32(qid);
    status = qocssd_exec(o, 0, &cmd, NULL);
    if (status) {
        return status;
    }
    o->sq[qid].live = false;
    cmd.opcode = NVME_ADM_CMD_DELETE_CQ;
    status = qocssd_exec(o, 0, &cmd, NULL);
    if (!status) {
        o->cq[qid].live = false;
    }
    return status;
}

/* ---- admin helpers ------------------------------------------------------- */

uint16_t qocssd_admin_data(QOcssd *o, NvmeCmd *cmd, void *buf, size_t len,
                           bool to_device, NvmeCqe *cqe)
{
    uint64_t addr = qocssd_alloc(o, len);
    uint16_t status;

    if (to_device) {
        qocssd_memwrite(o, addr, buf, len);
    } else {
        qtest_memset(o->qts, addr, 0xa5, len);
    }
    qocssd_set_prp(o, cmd, addr, len);
    status = qocssd_exec(o, 0, cmd, cqe);
    if (!to_device) {
        qocssd_memread(o, addr, buf, len);
    }
    guest_free(o->alloc, addr);
    return status;
}

uint16_t qocssd_identify(QOcssd *o, uint8_t cns, uint32_t nsid, void *buf)
{
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_IDENTIFY };

    cmd.nsid = cpu_to_le32(nsid);
    cmd.cdw10 = cpu_to_le32(cns);
    return qocssd_admin_data(o, &cmd, buf, NVME_IDENTIFY_DATA_SIZE, false,
                             NULL);
}

uint16_t qocssd_geometry(QOcssd *o, uint32_t nsid, OcssdIdGeo *geo)
{
    NvmeCmd cmd = { .opcode = OCSSD_ADM_CMD_GEOMETRY };

    cmd.nsid = cpu_to_le32(nsid);
    return qocssd_admin_data(o, &cmd, geo, sizeof(*geo), false, NULL);
}

void qocssd_read_geometry(QOcssd *o)
{
    NvmeIdNs ns;

    g_assert_cmphex(qocssd_geometry(o, 1, &o->geo), ==, 0);
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_NS, 1, &ns), ==, 0);
    o->sec_size = 1u << ns.lbaf[0].ds;
    o->md_size = le16_to_cpu(ns.lbaf[0].ms);
}

uint16_t qocssd_get_log(QOcssd *o, uint8_t lid, uint32_t nsid, uint64_t off,
                        uint32_t len, bool rae, void *buf)
{
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_GET_LOG_PAGE };
    uint32_t numd = len / 4 - 1;

    cmd.nsid = cpu_to_le32(nsid);
    cmd.cdw10 = cpu_to_le32(lid | (rae ? 1 << 15 : 0) | numd << 16);
    cmd.cdw11 = cpu_to_le32(numd >> 16);
    cmd.cdw12 = cpu_to_le32(off);
    cmd.cdw13 = cpu_to_le32(off >> 32);
    return qocssd_admin_data(o, &cmd, buf, len, false, NULL);
}

uint16_t qocssd_get_features(QOcssd *o, uint8_t fid, uint8_t sel,
                             uint32_t cdw11, uint32_t *dw0)
{
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_GET_FEATURES };
    NvmeCqe cqe;
    uint16_t status;

    cmd.nsid = cpu_to_le32(1);
    cmd.cdw10 = cpu_to_le32(fid | (uint32_t)sel << 8);
    cmd.cdw11 = cpu_to_le32(cdw11);
    status = qocssd_exec(o, 0, &cmd, &cqe);
    if (dw0) {
        *dw0 = le32_to_cpu(cqe.result);
    }
    return status;
}

uint16_t qocssd_set_features(QOcssd *o, uint8_t fid, uint32_t cdw11,
                             uint32_t *dw0)
{
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_SET_FEATURES };
    NvmeCqe cqe;
    uint16_t status;

    cmd.nsid = cpu_to_le32(1);
    cmd.cdw10 = cpu_to_le32(fid);
    cmd.cdw11 = cpu_to_le32(cdw11);
    status = qocssd_exec(o, 0, &cmd, &cqe);
    if (dw0) {
        *dw0 = le32_to_cpu(cqe.result);
    }
    return status;
}

uint16_t qocssd_chunk_info(QOcssd *o, uint64_t chunk, OcssdChunkDescriptor *d)
{
    return qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, 1, chunk * sizeof(*d),
                          sizeof(*d), false, d);
}

uint16_t qocssd_aer_submit(QOcssd *o)
{
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_ASYNC_EV_REQ };

    return qocssd_submit(o, 0, &cmd);
}

void qocssd_aer_expect(QOcssd *o, uint8_t type, uint8_t info, uint8_t log)
{
    NvmeCqe cqe;

    qocssd_wait(o, 0, &cqe);
    g_assert_cmphex(qocssd_cqe_status(&cqe), ==, 0);
    g_assert_cmphex(le32_to_cpu(cqe.result), ==,
                    type | info << 8 | log << 16);
}

/* ---- addressing -------------------------------------------------------- */

uint64_t qocssd_lba(QOcssd *o, uint32_t grp, uint32_t pu, uint32_t chk,
                    uint32_t sec)
{
    const OcssdIdLbaf *f = &o->geo.lbaf;

    return (uint64_t)grp << (f->pu_len + f->chk_len + f->lbk_len) |
           (uint64_t)pu << (f->chk_len + f->lbk_len) |
           (uint64_t)chk << f->lbk_len | sec;
}

uint64_t qocssd_chunk_slba(QOcssd *o, uint64_t chunk)
{
    uint32_t num_chk = le32_to_cpu(o->geo.num_chk);
    uint32_t num_pu = le16_to_cpu(o->geo.num_pu);

    return qocssd_lba(o, chunk / num_chk / num_pu, (chunk / num_chk) % num_pu,
                      chunk % num_chk, 0);
}

/* ---- I/O helpers --------------------------------------------------------- */

/* Stage data (and metadata) in guest memory, run cmd, copy results back. */
static uint16_t qocssd_io(QOcssd *o, uint16_t qid, NvmeCmd *cmd, void *data,
                          void *meta, uint32_t nsec, bool to_device,
                          NvmeCqe *cqe)
{
    size_t len = (size_t)nsec * o->sec_size, mlen = (size_t)nsec * o->md_size;
    uint64_t daddr = 0, maddr = 0;
    uint16_t status;

    g_assert(o->sec_size);      /* qocssd_read_geometry() first */
    if (data) {
        daddr = qocssd_alloc(o, len);
        if (to_device) {
            qocssd_memwrite(o, daddr, data, len);
        } else {
            qtest_memset(o->qts, daddr, 0xa5, len);
        }
        qocssd_set_prp(o, cmd, daddr, len);
    }
    if (meta && mlen) {
        maddr = qocssd_alloc(o, mlen);
        if (to_device) {
            qocssd_memwrite(o, maddr, meta, mlen);
        } else {
            qtest_memset(o->qts, maddr, 0xa5, mlen);
        }
        cmd->mptr = cpu_to_le64(maddr);
    }
    status = qocssd_exec(o, qid, cmd, cqe);
    if (!to_device && data) {
        qocssd_memread(o, daddr, data, len);
    }
    if (!to_device && maddr) {
        qocssd_memread(o, maddr, meta, mlen);
    }
    if (daddr) {
        guest_free(o->alloc, daddr);
    }
    if (maddr) {
        guest_free(o->alloc, maddr);
    }
    return status;
}

static uint16_t qocssd_rw(QOcssd *o, uint16_t qid, uint8_t opc, uint64_t slba,
                          uint32_t nlb, void *data, void *meta,
                          uint16_t control)
{
    NvmeCmd cmd = { .opcode = opc };
    NvmeRwCmd *rw = (NvmeRwCmd *)&cmd;

    rw->nsid = cpu_to_le32(1);
    rw->slba = cpu_to_le64(slba);
    rw->nlb = cpu_to_le16(nlb - 1);
    rw->control = cpu_to_le16(control);
    return qocssd_io(o, qid, &cmd, data, meta, nlb, opc == NVME_CMD_WRITE,
                     NULL);
}

uint16_t qocssd_write(QOcssd *o, uint16_t qid, uint64_t slba, uint32_t nlb,
                      const void *data, const void *meta, uint16_t control)
{
    return qocssd_rw(o, qid, NVME_CMD_WRITE, slba, nlb, (void *)data,
                     (void *)meta, control);
}

uint16_t qocssd_read(QOcssd *o, uint16_t qid, uint64_t slba, uint32_t nlb,
                     void *data, void *meta, uint16_t control)
{
    return qocssd_rw(o, qid, NVME_CMD_READ, slba, nlb, data, meta, control);
}

uint16_t qocssd_flush(QOcssd *o, uint16_t qid)
{
    NvmeCmd cmd = { .opcode = NVME_CMD_FLUSH };

    cmd.nsid = cpu_to_le32(1);
    return qocssd_exec(o, qid, &cmd, NULL);
}

uint16_t qocssd_dsm(QOcssd *o, uint16_t qid, const uint64_t *slba,
                    const uint32_t *nlb, unsigned nr)
{
    NvmeCmd cmd = { .opcode = NVME_CMD_DSM };
    g_autofree NvmeDsmRange *r = g_new0(NvmeDsmRange, nr);
    uint64_t addr = qocssd_alloc(o, nr * sizeof(*r));
    unsigned i;
    uint16_t status;

    for (i = 0; i < nr; i++) {
        r[i].slba = cpu_to_le64(slba[i]);
        r[i].nlb = cpu_to_le32(nlb[i]);
    }
    qocssd_memwrite(o, addr, r, nr * sizeof(*r));
    cmd.nsid = cpu_to_le32(1);
    cmd.cdw10 = cpu_to_le32(nr - 1);
    cmd.cdw11 = cpu_to_le32(NVME_DSMGMT_AD);
    qocssd_set_prp(o, &cmd, addr, nr * sizeof(*r));
    status = qocssd_exec(o, qid, &cmd, NULL);
    guest_free(o->alloc, addr);
    return status;
}

/* Put an LBA list in guest memory, or inline for a single LBA. */
static uint64_t qocssd_lba_list(QOcssd *o, const uint64_t *lbas, unsigned n)
{
    g_autofree uint64_t *le = g_new(uint64_t, n);
    uint64_t addr;
    unsigned i;

    if (n == 1) {
        return lbas[0];
    }
    for (i = 0; i < n; i++) {
        le[i] = cpu_to_le64(lbas[i]);
    }
    addr = qocssd_alloc(o, n * 8);
    qocssd_memwrite(o, addr, le, n * 8);
    return addr;
}

static void qocssd_vector_cmd(QOcssd *o, NvmeCmd *cmd, uint8_t opcode,
                              const uint64_t *lbas, unsigned n, uint32_t flags)
{
    OcssdVectorCmd *v = (OcssdVectorCmd *)cmd;

    memset(cmd, 0, sizeof(*cmd));
    v->opcode = opcode;
    v->nsid = cpu_to_le32(1);
    v->lbal = cpu_to_le64(qocssd_lba_list(o, lbas, n));
    v->cdw12 = cpu_to_le32((n - 1) | flags);
}

static uint64_t qocssd_bitmap(const NvmeCqe *cqe)
{
    return (uint64_t)le32_to_cpu(cqe->dw1) << 32 | le32_to_cpu(cqe->result);
}

uint16_t qocssd_vector(QOcssd *o, uint16_t qid, uint8_t opcode,
                       const uint64_t *lbas, unsigned n, void *data,
                       void *meta, uint32_t cdw12_flags, uint64_t *bitmap)
{
    NvmeCmd cmd;
    NvmeCqe cqe;
    uint16_t status;

    qocssd_vector_cmd(o, &cmd, opcode, lbas, n, cdw12_flags);
    status = qocssd_io(o, qid, &cmd, data, meta, n,
                       opcode == OCSSD_CMD_VECT_WRITE, &cqe);
    if (bitmap) {
        *bitmap = qocssd_bitmap(&cqe);
    }
    return status;
}

uint16_t qocssd_vreset(QOcssd *o, uint16_t qid, const uint64_t *lbas,
                       unsigned n, OcssdChunkDescriptor *out,
                       uint64_t *bitmap)
{
    NvmeCmd cmd;
    NvmeCqe cqe;
    uint64_t maddr = 0;
    uint16_t status;

    qocssd_vector_cmd(o, &cmd, OCSSD_CMD_VECT_RESET, lbas, n, 0);
    if (out) {
        maddr = qocssd_alloc(o, n * sizeof(*out));
        cmd.mptr = cpu_to_le64(maddr);
    }
    status = qocssd_exec(o, qid, &cmd, &cqe);
    if (out) {
        qocssd_memread(o, maddr, out, n * sizeof(*out));
        guest_free(o->alloc, maddr);
    }
    if (bitmap) {
        *bitmap = qocssd_bitmap(&cqe);
    }
    return status;
}

uint16_t qocssd_vcopy(QOcssd *o, uint16_t qid, const uint64_t *src,
                      const uint64_t *dst, unsigned n, uint64_t *bitmap)
{
    NvmeCmd cmd;
    NvmeCqe cqe;
    uint16_t status;

    qocssd_vector_cmd(o, &cmd, OCSSD_CMD_VECT_COPY, src, n, 0);
    ((OcssdVectorCmd *)&cmd)->dlbal = cpu_to_le64(qocssd_lba_list(o, dst, n));
    status = qocssd_exec(o, qid, &cmd, &cqe);
    if (bitmap) {
        *bitmap = qocssd_bitmap(&cqe);
    }
    return status;
}

/* ---- interrupts --------------------------------------------------------- */

/*
 * Program every MSI-X vector to write 0x0c550000 | vector to its own word
 * of a guest buffer (QEMU delivers MSI writes to RAM like any DMA), and
 * enable MSI-X.  The device's BAR0 mapping is reused for the table.
 */
void qocssd_msix_enable(QOcssd *o)
{
    uint8_t cap = qpci_find_capability(&o->dev, PCI_CAP_ID_MSIX, 0);
    uint16_t ctrl;
    uint32_t table;
    uint16_t i;

    g_assert(cap);
    qocssd_map(o);
    ctrl = qpci_config_readw(&o->dev, cap + PCI_MSIX_FLAGS);
    table = qpci_config_readl(&o->dev, cap + PCI_MSIX_TABLE);
    g_assert_cmpuint(table & PCI_MSIX_FLAGS_BIRMASK, ==, 0);
    table &= ~PCI_MSIX_FLAGS_BIRMASK;
    o->msix_vectors = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1;
    o->msix_buf = qocssd_alloc(o, o->msix_vectors * 4);
    qtest_memset(o->qts, o->msix_buf, 0, o->msix_vectors * 4);
    for (i = 0; i < o->msix_vectors; i++) {
        uint64_t e = table + i * PCI_MSIX_ENTRY_SIZE;

        qocssd_writel(o, e + PCI_MSIX_ENTRY_LOWER_ADDR,
                      o->msix_buf + i * 4);
        qocssd_writel(o, e + PCI_MSIX_ENTRY_UPPER_ADDR,
                      (o->msix_buf + i * 4) >> 32);
        qocssd_writel(o, e + PCI_MSIX_ENTRY_DATA, 0x0c550000 | i);
        qocssd_writel(o, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    }
    qpci_config_writew(&o->dev, cap + PCI_MSIX_FLAGS,
                       (ctrl & ~PCI_MSIX_FLAGS_MASKALL) |
                       PCI_MSIX_FLAGS_ENABLE);
}

/* Whether vector fired since the last call (and forget it). */
bool qocssd_msix_fired(QOcssd *o, uint16_t vector)
{
    uint32_t val = qtest_readl(o->qts, o->msix_buf + vector * 4);

    qtest_writel(o->qts, o->msix_buf + vector * 4, 0);
    return val == (0x0c550000u | vector);
}

/*
 * pc machine: route the device's INTA (PIIX3 PIRQ of slot 4) to ISA IRQ
 * irq, whose I/O APIC input qtest_get_irq() observes.
 */
void qocssd_intx_route(QOcssd *o, int irq)
{
    QPCIDevice *piix3 = qpci_device_find(o->dev.bus, QPCI_DEVFN(1, 0));
    int pirq = ((o->dev.devfn >> 3) - 1) & 3;

    g_assert(piix3);
    qpci_config_writeb(piix3, 0x60 + pirq, irq);
    g_free(piix3);
}

/* ---- qos graph ---------------------------------------------------------- */

static void *ocssd_get_driver(void *obj, const char *interface)
{
    QOcssd *o = obj;

    if (!g_strcmp0(interface, "pci-device")) {
        return &o->dev;
    }
    fprintf(stderr, "%s not present in ocssd\n", interface);
    g_assert_not_reached();
}

static void ocssd_destructor(QOSGraphObject *obj)
{
    QOcssd *o = (QOcssd *)obj;

    if (o->mapped) {
        qpci_iounmap(&o->dev, o->bar);
        o->mapped = false;
    }
}

static void *ocssd_create(void *pci_bus, QGuestAllocator *alloc, void *addr)
{
    QOcssd *o = g_new0(QOcssd, 1);
    QPCIAddress *a = addr;

    qocssd_init(o, pci_bus, alloc, a->devfn);
    o->obj.get_driver = ocssd_get_driver;
    o->obj.destructor = ocssd_destructor;
    return &o->obj;
}

static char *qos_image;

static void ocssd_remove_qos_image(void)
{
    unlink(qos_image);
}

/*
 * Graph tests share one image, formatted by the first QEMU that starts:
 * the device needs a real (zero-length at first) file.
 */
static void ocssd_register_nodes(void)
{
    QOSGraphEdgeOptions opts = {
        .extra_device_opts = "addr=04.0,drive=ocssd0,num_grp=2,num_pu=2,"
                             "num_chk=8,clba=64",
    };
    int fd = g_file_open_tmp("ocssd-qos-XXXXXX.img", &qos_image, NULL);

    g_assert(fd >= 0);
    close(fd);
    atexit(ocssd_remove_qos_image);
    opts.before_cmd_line = g_strdup_printf("-drive id=ocssd0,if=none,file=%s,"
                                           "format=raw", qos_image);

    add_qpci_address(&opts, &(QPCIAddress) { .devfn = QOCSSD_DEVFN });
    qos_node_create_driver("ocssd", ocssd_create);
    qos_node_consumes("ocssd", "pci-bus", &opts);
    qos_node_produces("ocssd", "pci-device");
    g_free((char *)opts.before_cmd_line);       /* the edge keeps a copy */
}

libqos_init(ocssd_register_nodes);

/* ---- QOM ----------------------------------------------------------------- */

void qocssd_qom_set_bool(QOcssd *o, const char *prop, bool val)
{
    qtest_qmp_assert_success(o->qts, "{'execute': 'qom-set', 'arguments': "
                             "{'path': %s, 'property': %s, 'value': %i}}",
                             QOCSSD_QOM, prop, val);
}

void qocssd_qom_set_int(QOcssd *o, const char *prop, int64_t val)
{
    qtest_qmp_assert_success(o->qts, "{'execute': 'qom-set', 'arguments': "
                             "{'path': %s, 'property': %s, 'value': %"
                             PRId64 "}}", QOCSSD_QOM, prop, val);
}

int64_t qocssd_qom_get_int(QOcssd *o, const char *prop)
{
    QDict *rsp = qtest_qmp(o->qts, "{'execute': 'qom-get', 'arguments': "
                           "{'path': %s, 'property': %s}}", QOCSSD_QOM, prop);
    int64_t val = qdict_get_int(rsp, "return");

    qobject_unref(rsp);
    return val;
}

QDict *qocssd_pu_stats(QOcssd *o)
{
    QDict *rsp = qtest_qmp(o->qts, "{'execute': 'qom-get', 'arguments': "
                           "{'path': %s, 'property': 'pu-stats'}}",
                           QOCSSD_QOM);
    QDict *ret = qdict_get_qdict(rsp, "return");

    qobject_ref(ret);
    qobject_unref(rsp);
    return ret;
}

int64_t qocssd_clock_ns(QOcssd *o)
{
    QDict *s = qocssd_pu_stats(o);
    int64_t now = qdict_get_int(s, "time-ns");

    qobject_unref(s);
    return now;
}

void qocssd_wait_held(QOcssd *o, int64_t n)
{
    int i;

    for (i = 0; i < 100000; i++) {
        if (qocssd_qom_get_int(o, "timing-held") == n) {
            return;
        }
    }
    g_error("the device never held %" PRId64 " completions", n);
}
