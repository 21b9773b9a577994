/*
 * ocssd: mapping host data pointers (PRP and SGL) and moving data
 *
 * The one path by which every command that moves data - admin or I/O,
 * standard or vector - turns its DPTR and MPTR into a QEMUSGList, with
 * every entry checked, and copies through QEMU's DMA helpers.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "ocssd.h"
#include "trace.h"

static uint16_t ocssd_dma_error(OcssdRequest *req, uint16_t status,
                                const char *why, uint64_t val)
{
    qemu_log_mask(LOG_GUEST_ERROR, "ocssd: cid %u: %s (0x%" PRIx64 ")\n",
                  req->cmd.cid, why, val);
    trace_ocssd_err_dptr(req->cmd.cid, why, val);
    return status | NVME_DNR;
}

/*
 * DMA to or from the controller's own BAR would re-enter its registers in
 * the middle of a command or completion (QEMU 8.0 and later refuse such
 * re-entrant accesses, 7.2 does not): refuse it the same way everywhere,
 * as a transfer error.
 */
static bool ocssd_dma_hits_bar(OcssdCtrl *n, dma_addr_t addr, dma_addr_t len)
{
    pcibus_t bar = pci_get_bar_addr(PCI_DEVICE(n), 0);

    if (bar == PCI_BAR_UNMAPPED || !len ||
        addr >= bar + memory_region_size(&n->bar0)) {
        return false;
    }
    if (addr >= bar || bar - addr < len) {
        qemu_log_mask(LOG_GUEST_ERROR, "ocssd: DMA of %" PRIu64 " bytes at "
                      "0x%" PRIx64 " refused: the controller's own "
                      "registers\n", (uint64_t)len, (uint64_t)addr);
        trace_ocssd_err_dma_bar(addr, len);
        return true;
    }
    return false;
}

static bool ocssd_sglist_hits_bar(OcssdCtrl *n, QEMUSGList *qsg)
{
    int i;

    for (i = 0; i < qsg->nsg; i++) {
        if (ocssd_dma_hits_bar(n, qsg->sg[i].base, qsg->sg[i].len)) {
            return true;
        }
    }
    return false;
}

/* One contiguous piece of host memory, in (is_write: out) directly. */
static uint16_t ocssd_dma_guest(OcssdCtrl *n, hwaddr addr, void *buf,
                                size_t len, bool is_write)
{
    MemTxResult res;

    if (ocssd_dma_hits_bar(n, addr, len)) {
        return NVME_DATA_TRAS_ERROR | NVME_DNR;
    }
    res = is_write ? pci_dma_write(PCI_DEVICE(n), addr, buf, len) :
                     pci_dma_read(PCI_DEVICE(n), addr, buf, len);
    if (res != MEMTX_OK) {
        qemu_log_mask(LOG_GUEST_ERROR, "ocssd: DMA %s of %zu bytes at "
                      "0x%" HWADDR_PRIx " failed\n",
                      is_write ? "write" : "read", len, addr);
        trace_ocssd_err_dma(addr, len);
        return NVME_DATA_TRAS_ERROR | NVME_DNR;
    }
    return NVME_SUCCESS;
}

uint16_t ocssd_dma_read_guest(OcssdCtrl *n, hwaddr addr, void *buf,
                              size_t len)
{
    return ocssd_dma_guest(n, addr, buf, len, false);
}

uint16_t ocssd_dma_write_guest(OcssdCtrl *n, hwaddr addr, const void *buf,
                               size_t len)
{
    return ocssd_dma_guest(n, addr, (void *)buf, len, true);
}

/*
 * PRP1, then PRP2 as a second page or as a (chained) PRP list.  PRP2 may
 * point anywhere (qword aligned) into a list page; the last entry of a
 * list page chains to the next page, which is page aligned like every
 * other PRP list entry.  A list page must describe at least one data page,
 * so that a chain always makes progress (a list that starts in the last
 * slot of its page, or chains to itself there, would loop forever).
 */
static uint16_t ocssd_map_prp(OcssdCtrl *n, OcssdRequest *req,
                              QEMUSGList *qsg, uint64_t prp1, uint64_t prp2,
                              size_t len)
{
    uint64_t psz = n->page_size;
    size_t trans = MIN(len, psz - (prp1 & (psz - 1)));
    g_autofree uint64_t *list = NULL;
    uint64_t list_addr;

    if (prp1 & 3) {
        return ocssd_dma_error(req, NVME_INVALID_PRP_OFFSET,
                               "PRP1 is not dword aligned", prp1);
    }
    qemu_sglist_add(qsg, prp1, trans);
    len -= trans;
    if (!len) {
        return NVME_SUCCESS;
    }
    if (len <= psz) {
        if (prp2 & (psz - 1)) {
            return ocssd_dma_error(req, NVME_INVALID_PRP_OFFSET,
                                   "PRP2 data page has an offset", prp2);
        }
        qemu_sglist_add(qsg, prp2, len);
        return NVME_SUCCESS;
    }

    if (prp2 & 7) {
        return ocssd_dma_error(req, NVME_INVALID_PRP_OFFSET,
                               "PRP list pointer is not qword aligned", prp2);
    }
    list = g_new(uint64_t, psz / 8);
    list_addr = prp2;
    while (len) {
        unsigned room = (psz - (list_addr & (psz - 1))) / 8;
        uint64_t pages = DIV_ROUND_UP(len, psz);
        unsigned nread = pages > room ? room : pages;
        unsigned ndata = pages > room ? room - 1 : nread, i;
        uint16_t status;

        if (!ndata) {
            trace_ocssd_err_prp_list(req->cmd.cid, list_addr, room, pages);
            return ocssd_dma_error(req, NVME_INVALID_PRP_OFFSET,
                                   "PRP list page holds no data entry, "
                                   "only a chain pointer", list_addr);
        }
        status = ocssd_dma_read_guest(n, list_addr, list, nread * 8);
        if (status) {
            return status;
        }
        for (i = 0; i < ndata; i++) {
            uint64_t ent = le64_to_cpu(list[i]);

            if (ent & (psz - 1)) {
                return ocssd_dma_error(req, NVME_INVALID_PRP_OFFSET,
                                       "PRP list entry has an offset", ent);
            }
            trans = MIN(len, psz);
            qemu_sglist_add(qsg, ent, trans);
            len -= trans;
        }
        if (len) {
            list_addr = le64_to_cpu(list[room - 1]);
            if (list_addr & (psz - 1)) {
                return ocssd_dma_error(req, NVME_INVALID_PRP_OFFSET,
                                       "chained PRP list pointer has an "
                                       "offset", list_addr);
            }
        }
    }
    return NVME_SUCCESS;
}

/*
 * An SGL: data block descriptors, chained through segment descriptors
 * (each the last of its segment) up to a last segment.  It must describe
 * exactly len bytes, or the command fails with len_status (Data or
 * Metadata SGL Length Invalid).
 */
static uint16_t ocssd_map_sgl(OcssdCtrl *n, OcssdRequest *req,
                              QEMUSGList *qsg, const NvmeSglDescriptor *first,
                              size_t len, uint16_t len_status)
{
    g_autofree NvmeSglDescriptor *seg = NULL;
    const NvmeSglDescriptor *d = first;
    unsigned count = 1, segments = 0, i;
    bool in_last = true;        /* the command's descriptor ends the SGL */
    size_t remaining = len;

    for (;;) {
        bool chained = false;

        for (i = 0; i < count; i++) {
            uint8_t type = NVME_SGL_TYPE(d[i].type);
            uint64_t addr = le64_to_cpu(d[i].addr);
            uint32_t dlen = le32_to_cpu(d[i].len);
            uint16_t status;

            if (NVME_SGL_SUBTYPE(d[i].type) != NVME_SGL_DESCR_SUBTYPE_ADDRESS) {
                return ocssd_dma_error(req, NVME_SGL_DESCR_TYPE_INVALID,
                                       "SGL descriptor subtype", d[i].type);
            }
            switch (type) {
            case NVME_SGL_DESCR_TYPE_DATA_BLOCK:
                if (dlen > remaining) {
                    return ocssd_dma_error(req, len_status,
                                           "SGL describes more data than "
                                           "the command moves", dlen);
                }
                if (dlen) {
                    qemu_sglist_add(qsg, addr, dlen);
                    remaining -= dlen;
                }
                break;
            case NVME_SGL_DESCR_TYPE_SEGMENT:
            case NVME_SGL_DESCR_TYPE_LAST_SEGMENT:
                if (i != count - 1 || (in_last && d != first)) {
                    return ocssd_dma_error(req, NVME_INVALID_SGL_SEG_DESCR,
                                           "segment descriptor not at the "
                                           "end of a segment", i);
                }
                if (!dlen || dlen % sizeof(NvmeSglDescriptor)) {
                    return ocssd_dma_error(req, NVME_INVALID_SGL_SEG_DESCR,
                                           "segment length", dlen);
                }
                if (++segments > OCSSD_MAX_SGL_SEGMENTS ||
                    dlen / sizeof(NvmeSglDescriptor) > 4096) {
                    return ocssd_dma_error(req, NVME_INVALID_NUM_SGL_DESCRS,
                                           "too many SGL segments or "
                                           "descriptors", segments);
                }
                count = dlen / sizeof(NvmeSglDescriptor);
                g_free(seg);
                seg = g_new(NvmeSglDescriptor, count);
                status = ocssd_dma_read_guest(n, addr, seg, dlen);
                if (status) {
                    return status;
                }
                in_last = type == NVME_SGL_DESCR_TYPE_LAST_SEGMENT;
                chained = true;
                break;
            default:
                return ocssd_dma_error(req, NVME_SGL_DESCR_TYPE_INVALID,
                                       "unsupported SGL descriptor type",
                                       type);
            }
            if (chained) {
                break;
            }
        }
        if (!chained) {
            if (!in_last) {
                return ocssd_dma_error(req, NVME_INVALID_SGL_SEG_DESCR,
                                       "SGL segment does not end in a "
                                       "segment descriptor", count);
            }
            break;
        }
        d = seg;
    }
    if (remaining) {
        return ocssd_dma_error(req, len_status,
                               "SGL describes less data than the command "
                               "moves", remaining);
    }
    return NVME_SUCCESS;
}

static void ocssd_sglist_init(OcssdCtrl *n, QEMUSGList *qsg)
{
    PCIDevice *pci = PCI_DEVICE(n);

    qemu_sglist_init(qsg, DEVICE(n), 4, pci_get_address_space(pci));
}

/* A transfer of len bytes must fit MDTS (Invalid Field otherwise). */
uint16_t ocssd_check_mdts(OcssdCtrl *n, OcssdRequest *req, size_t len)
{
    if (n->mdts_bytes && len > n->mdts_bytes) {
        trace_ocssd_err_mdts(req->cmd.cid, len, n->mdts_bytes);
        qemu_log_mask(LOG_GUEST_ERROR, "ocssd: cid %u: %zu-byte transfer "
                      "exceeds MDTS (%" PRIu64 " bytes)\n", req->cmd.cid,
                      len, n->mdts_bytes);
        return NVME_INVALID_FIELD | NVME_DNR;
    }
    return NVME_SUCCESS;
}

/* Map the command's data pointer for a transfer of len bytes. */
uint16_t ocssd_map_dptr(OcssdCtrl *n, OcssdRequest *req, size_t len)
{
    NvmeCmd *cmd = &req->cmd;
    uint16_t status;

    status = ocssd_check_mdts(n, req, len);
    if (status) {
        return status;
    }
    ocssd_sglist_init(n, &req->qsg);
    if (!len) {
        return NVME_SUCCESS;
    }
    switch (NVME_CMD_FLAGS_PSDT(cmd->flags)) {
    case NVME_PSDT_PRP:
        status = ocssd_map_prp(n, req, &req->qsg,
                               le64_to_cpu(cmd->dptr.prp1),
                               le64_to_cpu(cmd->dptr.prp2), len);
        break;
    case NVME_PSDT_SGL_MPTR_CONTIGUOUS:
    case NVME_PSDT_SGL_MPTR_SGL:
        status = ocssd_map_sgl(n, req, &req->qsg, &cmd->dptr.sgl, len,
                               NVME_DATA_SGL_LEN_INVALID);
        break;
    default:
        status = ocssd_dma_error(req, NVME_INVALID_FIELD,
                                 "reserved PSDT value", cmd->flags);
        break;
    }
    trace_ocssd_map_dptr(cmd->cid, NVME_CMD_FLAGS_PSDT(cmd->flags), len,
                         req->qsg.nsg, status);
    return status;
}

/*
 * Map the metadata pointer: a contiguous buffer (PSDT 00b/01b) or the
 * address of an SGL segment holding one descriptor (PSDT 10b).
 */
uint16_t ocssd_map_mptr(OcssdCtrl *n, OcssdRequest *req, size_t len)
{
    NvmeCmd *cmd = &req->cmd;
    uint64_t mptr = le64_to_cpu(cmd->mptr);
    NvmeSglDescriptor desc;
    uint16_t status;

    ocssd_sglist_init(n, &req->meta_qsg);
    if (!len) {
        return NVME_SUCCESS;
    }
    switch (NVME_CMD_FLAGS_PSDT(cmd->flags)) {
    case NVME_PSDT_PRP:
        if (mptr & 3) {
            return ocssd_dma_error(req, NVME_INVALID_FIELD,
                                   "MPTR is not dword aligned", mptr);
        }
        /* fall through */
    case NVME_PSDT_SGL_MPTR_CONTIGUOUS:
        qemu_sglist_add(&req->meta_qsg, mptr, len);
        return NVME_SUCCESS;
    case NVME_PSDT_SGL_MPTR_SGL:
        status = ocssd_dma_read_guest(n, mptr, &desc, sizeof(desc));
        if (status) {
            return status;
        }
        return ocssd_map_sgl(n, req, &req->meta_qsg, &desc, len,
                             NVME_MD_SGL_LEN_INVALID);
    default:
        return ocssd_dma_error(req, NVME_INVALID_FIELD, "reserved PSDT value",
                               cmd->flags);
    }
}

/* Device -> host memory. */
uint16_t ocssd_dma_to_guest(OcssdCtrl *n, QEMUSGList *qsg, const void *buf,
                            size_t len)
{
    dma_addr_t residual = 0;

    if (ocssd_sglist_hits_bar(n, qsg)) {
        return NVME_DATA_TRAS_ERROR | NVME_DNR;
    }
    if (dma_buf_read((void *)buf, len, &residual, qsg,
                     MEMTXATTRS_UNSPECIFIED) != MEMTX_OK || residual) {
        trace_ocssd_err_dma(qsg->nsg ? qsg->sg[0].base : 0, len);
        qemu_log_mask(LOG_GUEST_ERROR, "ocssd: DMA to host memory failed "
                      "(%zu bytes)\n", len);
        return NVME_DATA_TRAS_ERROR | NVME_DNR;
    }
    return NVME_SUCCESS;
}

/* Host memory -> device. */
uint16_t ocssd_dma_from_guest(OcssdCtrl *n, QEMUSGList *qsg, void *buf,
                              size_t len)
{
    dma_addr_t residual = 0;

    if (ocssd_sglist_hits_bar(n, qsg)) {
        return NVME_DATA_TRAS_ERROR | NVME_DNR;
    }
    if (dma_buf_write(buf, len, &residual, qsg,
                      MEMTXATTRS_UNSPECIFIED) != MEMTX_OK || residual) {
        trace_ocssd_err_dma(qsg->nsg ? qsg->sg[0].base : 0, len);
        qemu_log_mask(LOG_GUEST_ERROR, "ocssd: DMA from host memory failed "
                      "(%zu bytes)\n", len);
        return NVME_DATA_TRAS_ERROR | NVME_DNR;
    }
    return NVME_SUCCESS;
}

/* Return a structure to the host through the command's DPTR. */
uint16_t ocssd_reply(OcssdCtrl *n, OcssdRequest *req, const void *buf,
                     size_t len)
{
    uint16_t status = ocssd_map_dptr(n, req, len);

    if (!status) {
        status = ocssd_dma_to_guest(n, &req->qsg, buf, len);
    }
    ocssd_request_unmap(req);
    return status;
}

/* Fetch a structure from the host through the command's DPTR. */
uint16_t ocssd_receive(OcssdCtrl *n, OcssdRequest *req, void *buf,
                       size_t len)
{
    uint16_t status = ocssd_map_dptr(n, req, len);

    if (!status) {
        status = ocssd_dma_from_guest(n, &req->qsg, buf, len);
    }
    ocssd_request_unmap(req);
    return status;
}

void ocssd_request_unmap(OcssdRequest *req)
{
    if (req->qsg.sg) {
        qemu_sglist_destroy(&req->qsg);
    }
    if (req->meta_qsg.sg) {
        qemu_sglist_destroy(&req->meta_qsg);
    }
}
