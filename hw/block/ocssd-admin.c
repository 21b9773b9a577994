/*
 * ocssd: admin commands, features, log pages and asynchronous events
 *
 * One function per command; each returns an NVMe status (or
 * NVME_NO_COMPLETE for an Asynchronous Event Request, completed when an
 * event arrives).
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/cutils.h"
#include "ocssd.h"
#include "trace.h"

#define OCSSD_SPARE_THRESHOLD   10      /* percent */

static uint16_t ocssd_invalid(OcssdRequest *req, uint16_t status,
                              uint16_t param, const char *why)
{
    qemu_log_mask(LOG_GUEST_ERROR, "ocssd: admin opcode 0x%02x cid %u: %s\n",
                  req->cmd.opcode, req->cmd.cid, why);
    trace_ocssd_err_admin(req->cmd.opcode, req->cmd.cid, why);
    req->err_param = param;
    return status | NVME_DNR;
}

/* Byte offset of a command dword, for the error log's parameter field. */
#define CDW(x)  offsetof(NvmeCmd, cdw##x)

/* NSID of a command on the namespace: 1, or FFFFFFFFh where allowed. */
static bool ocssd_nsid_ok(uint32_t nsid, bool broadcast_ok)
{
    return nsid == OCSSD_NSID || (broadcast_ok && nsid == NVME_NSID_BROADCAST);
}

/* ---- asynchronous events -------------------------------------------- */

static void ocssd_aer_process(OcssdCtrl *n)
{
    while (n->outstanding_aers && !QTAILQ_EMPTY(&n->aer_queue)) {
        OcssdAsyncEvent *ev = QTAILQ_FIRST(&n->aer_queue);
        OcssdRequest *req;

        QTAILQ_REMOVE(&n->aer_queue, ev, entry);
        n->aer_queued--;
        n->aer_masked |= 1 << ev->result.event_type;
        req = n->aer_reqs[--n->outstanding_aers];
        req->cqe.result = cpu_to_le32(ev->result.event_type |
                                      ev->result.event_info << 8 |
                                      ev->result.log_page << 16);
        trace_ocssd_aer_complete(ev->result.event_type,
                                 ev->result.event_info, ev->result.log_page);
        g_free(ev);
        ocssd_request_complete(req);
    }
}

/*
 * Queue an event.  An event type already reported and not yet cleared by
 * reading its log page is masked; SMART events also obey the Asynchronous
 * Event Configuration feature.
 */
void ocssd_aer_enqueue(OcssdCtrl *n, uint8_t type, uint8_t info,
                       uint8_t log_page)
{
    OcssdAsyncEvent *ev;

    if (type == NVME_AER_TYPE_SMART &&
        !(NVME_AEC_SMART(n->features.async_config) & (1 << info))) {
        trace_ocssd_aer_disabled(type, info);
        return;
    }
    if (n->aer_masked & (1 << type) || n->aer_queued >= OCSSD_AER_MAX_QUEUED) {
        trace_ocssd_aer_masked(type, info);
        return;
    }
    QTAILQ_FOREACH(ev, &n->aer_queue, entry) {
        if (ev->result.event_type == type) {
            trace_ocssd_aer_masked(type, info);
            return;
        }
    }
    ev = g_new0(OcssdAsyncEvent, 1);
    ev->result.event_type = type;
    ev->result.event_info = info;
    ev->result.log_page = log_page;
    QTAILQ_INSERT_TAIL(&n->aer_queue, ev, entry);
    n->aer_queued++;
    trace_ocssd_aer_enqueue(type, info, log_page);
    ocssd_aer_process(n);
}

static void ocssd_aer_clear(OcssdCtrl *n, uint8_t type)
{
    n->aer_masked &= ~(1 << type);
    ocssd_aer_process(n);
}

/*
 * Outstanding AERs die with their queue at a controller reset.  Called
 * once the queues are gone: completing the requests against the orphaned
 * admin queue drops their completions and lets the queue be freed.
 */
void ocssd_aer_drop_outstanding(OcssdCtrl *n)
{
    OcssdAsyncEvent *ev, *next;

    while (n->outstanding_aers) {
        ocssd_request_complete(n->aer_reqs[--n->outstanding_aers]);
    }
    QTAILQ_FOREACH_SAFE(ev, &n->aer_queue, entry, next) {
        QTAILQ_REMOVE(&n->aer_queue, ev, entry);
        g_free(ev);
    }
    n->aer_queued = 0;
    n->aer_masked = 0;
}

static uint16_t ocssd_async_event_request(OcssdCtrl *n, OcssdRequest *req)
{
    if (n->outstanding_aers > n->params.aerl) {
        trace_ocssd_err_aer_limit(n->outstanding_aers);
        return NVME_AER_LIMIT_EXCEEDED | NVME_DNR;
    }
    n->aer_reqs[n->outstanding_aers++] = req;
    trace_ocssd_aer_request(req->cmd.cid, n->outstanding_aers);
    ocssd_aer_process(n);
    return NVME_NO_COMPLETE;
}

/* ---- queues ---------------------------------------------------------- */

static uint16_t ocssd_admin_create_cq(OcssdCtrl *n, OcssdRequest *req)
{
    NvmeCreateCq *c = (NvmeCreateCq *)&req->cmd;
    uint16_t cqid = le16_to_cpu(c->cqid), vector = le16_to_cpu(c->irq_vector);
    uint16_t flags = le16_to_cpu(c->cq_flags);
    uint32_t qsize = le16_to_cpu(c->qsize) + 1;
    uint64_t prp1 = le64_to_cpu(c->prp1);

    trace_ocssd_admin_create_cq(cqid, qsize, flags, vector, prp1);
    if (!cqid || cqid >= n->params.num_queues || cqid > n->num_io_queues ||
        n->cq[cqid]) {
        return ocssd_invalid(req, NVME_INVALID_QID, CDW(10),
                             "invalid or existing completion queue id");
    }
    if (qsize < 2 || qsize > n->params.mqes + 1) {
        return ocssd_invalid(req, NVME_MAX_QSIZE_EXCEEDED, CDW(10) + 2,
                             "completion queue size");
    }
    if (!NVME_CQ_FLAGS_PC(flags)) {
        return ocssd_invalid(req, NVME_INVALID_FIELD, CDW(11),
                             "queues must be physically contiguous");
    }
    if (NVME_CQ_FLAGS_IEN(flags) && vector >= n->num_vectors) {
        return ocssd_invalid(req, NVME_INVALID_IRQ_VECTOR, CDW(11) + 2,
                             "interrupt vector out of range");
    }
    if (!prp1 || prp1 & (n->page_size - 1)) {
        return ocssd_invalid(req, NVME_INVALID_PRP_OFFSET,
                             offsetof(NvmeCmd, dptr),
                             "queue base is not page aligned");
    }
    if (NVME_CC_IOCQES(ldl_le_p(&n->bar.cc)) != 4) {
        return ocssd_invalid(req, NVME_INVALID_FIELD, CDW(10),
                             "CC.IOCQES is not 4 (16-byte entries)");
    }
    n->queues_created = true;
    return ocssd_create_cq(n, cqid, vector, NVME_CQ_FLAGS_IEN(flags), prp1,
                           qsize);
}

static uint16_t ocssd_admin_create_sq(OcssdCtrl *n, OcssdRequest *req)
{
    NvmeCreateSq *c = (NvmeCreateSq *)&req->cmd;
    uint16_t sqid = le16_to_cpu(c->sqid), cqid = le16_to_cpu(c->cqid);
    uint16_t flags = le16_to_cpu(c->sq_flags);
    uint32_t qsize = le16_to_cpu(c->qsize) + 1;
    uint64_t prp1 = le64_to_cpu(c->prp1);

    trace_ocssd_admin_create_sq(sqid, cqid, qsize, flags, prp1);
    if (!sqid || sqid >= n->params.num_queues || sqid > n->num_io_queues ||
        n->sq[sqid]) {
        return ocssd_invalid(req, NVME_INVALID_QID, CDW(10),
                             "invalid or existing submission queue id");
    }
    if (!cqid || cqid >= n->params.num_queues || !n->cq[cqid]) {
        return ocssd_invalid(req, NVME_INVALID_CQID, CDW(11) + 2,
                             "completion queue does not exist");
    }
    if (qsize < 2 || qsize > n->params.mqes + 1) {
        return ocssd_invalid(req, NVME_MAX_QSIZE_EXCEEDED, CDW(10) + 2,
                             "submission queue size");
    }
    if (!NVME_SQ_FLAGS_PC(flags)) {
        return ocssd_invalid(req, NVME_INVALID_FIELD, CDW(11),
                             "queues must be physically contiguous");
    }
    if (!prp1 || prp1 & (n->page_size - 1)) {
        return ocssd_invalid(req, NVME_INVALID_PRP_OFFSET,
                             offsetof(NvmeCmd, dptr),
                             "queue base is not page aligned");
    }
    if (NVME_CC_IOSQES(ldl_le_p(&n->bar.cc)) != 6) {
        return ocssd_invalid(req, NVME_INVALID_FIELD, CDW(10),
                             "CC.IOSQES is not 6 (64-byte entries)");
    }
    n->queues_created = true;
    return ocssd_create_sq(n, sqid, cqid, prp1, qsize);
}

static uint16_t ocssd_admin_delete_sq(OcssdCtrl *n, OcssdRequest *req)
{
    uint16_t qid = le16_to_cpu(((NvmeDeleteQ *)&req->cmd)->qid);

    trace_ocssd_admin_delete_sq(qid);
    if (!qid || qid >= n->params.num_queues || !n->sq[qid]) {
        return ocssd_invalid(req, NVME_INVALID_QID, CDW(10),
                             "submission queue does not exist");
    }
    /* Completes once no command of the queue can touch host memory. */
    return ocssd_delete_sq(n, qid, req) ? NVME_SUCCESS : NVME_NO_COMPLETE;
}

static uint16_t ocssd_admin_delete_cq(OcssdCtrl *n, OcssdRequest *req)
{
    uint16_t qid = le16_to_cpu(((NvmeDeleteQ *)&req->cmd)->qid);

    trace_ocssd_admin_delete_cq(qid);
    if (!qid || qid >= n->params.num_queues || !n->cq[qid]) {
        return ocssd_invalid(req, NVME_INVALID_QID, CDW(10),
                             "completion queue does not exist");
    }
    if (!QTAILQ_EMPTY(&n->cq[qid]->sq_list)) {
        return ocssd_invalid(req, NVME_INVALID_QUEUE_DEL, CDW(10),
                             "submission queues still use it");
    }
    ocssd_delete_cq(n, qid);
    return NVME_SUCCESS;
}

/* ---- identify --------------------------------------------------------- */

void ocssd_identify_init(OcssdCtrl *n)
{
    NvmeIdCtrl *id = &n->id_ctrl;
    NvmeIdNs *ns = &n->id_ns;
    g_autofree char *subnqn = g_strdup_printf("nqn.2019-08.org.qemu:ocssd:%s",
                                              n->serial);

    memset(id, 0, sizeof(*id));
    id->vid = cpu_to_le16(0x1d1d);
    id->ssvid = cpu_to_le16(0x1d1d);
    strpadcpy((char *)id->sn, sizeof(id->sn), n->serial, ' ');
    strpadcpy((char *)id->mn, sizeof(id->mn), n->params.model, ' ');
    strpadcpy((char *)id->fr, sizeof(id->fr), n->params.firmware, ' ');
    id->rab = 6;
    id->ieee[0] = 0x00;     /* locally administered: no OUI */
    id->mdts = n->params.mdts;
    id->cntlid = 0;
    id->ver = cpu_to_le32(0x00010300);
    id->oacs = cpu_to_le16(n->params.shadow_doorbells ? OCSSD_OACS_DBBUF : 0);
    id->acl = 3;
    id->aerl = n->params.aerl;
    id->frmw = (1 << 1) | NVME_FRMW_SLOT1_RO;
    id->lpa = NVME_LPA_NS_SMART | NVME_LPA_EXTENDED;
    id->elpe = OCSSD_ERROR_LOG_ENTRIES - 1;
    id->npss = 0;
    id->wctemp = cpu_to_le16(343);
    id->cctemp = cpu_to_le16(373);
    id->sqes = (6 << 4) | 6;
    id->cqes = (4 << 4) | 4;
    id->nn = cpu_to_le32(1);
    id->oncs = cpu_to_le16(NVME_ONCS_DSM | NVME_ONCS_FEATURES |
                           NVME_ONCS_TIMESTAMP);
    id->vwc = NVME_VWC_PRESENT;
    id->sgls = cpu_to_le32(NVME_CTRL_SGLS_SUPPORT_NO_ALIGN |
                           NVME_CTRL_SGLS_MPTR_CONTIGUOUS |
                           NVME_CTRL_SGLS_MPTR_SGL);
    pstrcpy((char *)id->subnqn, sizeof(id->subnqn), subnqn);
    id->psd[0].mp = cpu_to_le16(0x9c4);
    id->psd[0].enlat = cpu_to_le32(0x10);
    id->psd[0].exlat = cpu_to_le32(0x4);

    memset(ns, 0, sizeof(*ns));
    ns->nsze = cpu_to_le64(n->media.nsze);
    ns->ncap = ns->nsze;
    ns->nuse = ns->nsze;
    ns->nsfeat = 1 << 2;    /* DAE: Deallocated or Unwritten Block Error */
    ns->nlbaf = 0;
    ns->flbas = 0;
    ns->mc = n->media.p.md_size ? NVME_ID_NS_MC_SEPARATE : 0;
    ns->dlfeat = 1;         /* unwritten blocks read as zeroes */
    memcpy(ns->nguid, n->uuid.data, sizeof(ns->nguid));
    ns->lbaf[0].ms = cpu_to_le16(n->media.p.md_size);
    ns->lbaf[0].ds = ctz32(n->media.p.sec_size);
    ns->vs[0] = OCSSD_ID_NS_VS_OCSSD20;
}

static uint16_t ocssd_admin_identify(OcssdCtrl *n, OcssdRequest *req)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    uint8_t cns = le32_to_cpu(req->cmd.cdw10) & 0xff;
    uint8_t buf[NVME_IDENTIFY_DATA_SIZE] = { 0 };

    trace_ocssd_admin_identify(cns, nsid);
    switch (cns) {
    case NVME_ID_CNS_NS:
        if (!ocssd_nsid_ok(nsid, false)) {
            return ocssd_invalid(req, NVME_INVALID_NSID, offsetof(NvmeCmd,
                                 nsid), "identify: no such namespace");
        }
        return ocssd_reply(n, req, &n->id_ns, sizeof(n->id_ns));
    case NVME_ID_CNS_CTRL:
        return ocssd_reply(n, req, &n->id_ctrl, sizeof(n->id_ctrl));
    case NVME_ID_CNS_NS_ACTIVE_LIST:
        if (nsid >= NVME_NSID_BROADCAST - 1) {
            return ocssd_invalid(req, NVME_INVALID_NSID, offsetof(NvmeCmd,
                                 nsid), "active namespace list: NSID");
        }
        if (nsid < OCSSD_NSID) {
            stl_le_p(buf, OCSSD_NSID);
        }
        return ocssd_reply(n, req, buf, sizeof(buf));
    case NVME_ID_CNS_NS_DESCR_LIST: {
        NvmeIdNsDescr *d;

        if (!ocssd_nsid_ok(nsid, false)) {
            return ocssd_invalid(req, NVME_INVALID_NSID, offsetof(NvmeCmd,
                                 nsid), "descriptor list: no such namespace");
        }
        /* NGUID and UUID, both the image's UUID: stable and unique. */
        d = (NvmeIdNsDescr *)buf;
        d->nidt = NVME_NIDT_NGUID;
        d->nidl = NVME_NIDL_NGUID;
        memcpy(buf + sizeof(*d), n->uuid.data, NVME_NIDL_NGUID);
        d = (NvmeIdNsDescr *)(buf + sizeof(*d) + NVME_NIDL_NGUID);
        d->nidt = NVME_NIDT_UUID;
        d->nidl = NVME_NIDL_UUID;
        memcpy((uint8_t *)d + sizeof(*d), n->uuid.data, NVME_NIDL_UUID);
        return ocssd_reply(n, req, buf, sizeof(buf));
    }
    default:
        return ocssd_invalid(req, NVME_INVALID_FIELD, CDW(10),
                             "unsupported identify CNS");
    }
}

static uint16_t ocssd_admin_geometry(OcssdCtrl *n, OcssdRequest *req)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    OcssdIdGeo geo;

    trace_ocssd_admin_geometry(nsid);
    if (!ocssd_nsid_ok(nsid, true)) {
        return ocssd_invalid(req, NVME_INVALID_NSID, offsetof(NvmeCmd, nsid),
                             "geometry: no such namespace");
    }
    ocssd_media_geometry(&n->media, &geo);
    return ocssd_reply(n, req, &geo, sizeof(geo));
}

/* ---- log pages -------------------------------------------------------- */

/* SMART counters are 128-bit little-endian. */
static void ocssd_put128(void *v, uint64_t val)
{
    stq_le_p(v, val);
    stq_le_p((uint8_t *)v + 8, 0);
}

static void ocssd_smart_log(OcssdCtrl *n, NvmeSmartLog *s)
{
    OcssdMedia *m = &n->media;
    uint64_t offline = m->nchunks - m->wli_count, i;
    uint8_t wli_max = 0;
    int64_t hours = (qemu_clock_get_ms(QEMU_CLOCK_REALTIME) - n->start_ms) /
                    3600000;

    for (i = 0; i < m->nchunks; i++) {
        wli_max = MAX(wli_max, m->chunk[i].wli);
    }
    memset(s, 0, sizeof(*s));
    s->temperature = cpu_to_le16(n->temperature);
    s->available_spare = 100 - offline * 100 / m->nchunks;
    s->available_spare_threshold = OCSSD_SPARE_THRESHOLD;
    s->percentage_used = wli_max * 100 / UINT8_MAX;
    if (s->available_spare < OCSSD_SPARE_THRESHOLD) {
        s->critical_warning |= NVME_SMART_SPARE;
    }
    if (n->temperature >= n->features.temp_over ||
        n->temperature <= n->features.temp_under) {
        s->critical_warning |= NVME_SMART_TEMPERATURE;
    }
    if (n->store.read_only) {
        s->critical_warning |= NVME_SMART_MEDIA_READ_ONLY;
    }
    ocssd_put128(s->data_units_read, DIV_ROUND_UP(n->smart.units_read, 1000));
    ocssd_put128(s->data_units_written,
                 DIV_ROUND_UP(n->smart.units_written, 1000));
    ocssd_put128(s->host_read_commands, n->smart.read_cmds);
    ocssd_put128(s->host_write_commands, n->smart.write_cmds);
    ocssd_put128(s->controller_busy_time, n->smart.busy_ns / 60000000000ULL);
    ocssd_put128(s->power_cycles, le64_to_cpu(n->store.header.power_cycles));
    ocssd_put128(s->power_on_hours, hours);
    ocssd_put128(s->unsafe_shutdowns,
                 le64_to_cpu(n->store.header.unsafe_shutdowns));
    ocssd_put128(s->media_errors, n->smart.media_errors);
    ocssd_put128(s->number_of_error_log_entries, n->error_count);
}

/* Fill dst with bytes [off, off + len) of the chunk information log. */
static void ocssd_chunk_log(OcssdCtrl *n, uint8_t *dst, uint64_t off,
                            uint64_t len)
{
    uint64_t size = n->media.nchunks * sizeof(OcssdChunkDescriptor);
    uint64_t end = MIN(off + len, size), pos = off;

    while (pos < end) {
        uint64_t idx = pos / sizeof(OcssdChunkDescriptor);
        uint64_t skip = pos % sizeof(OcssdChunkDescriptor);
        uint64_t take = MIN(sizeof(OcssdChunkDescriptor) - skip, end - pos);
        OcssdChunkDescriptor d;

        ocssd_media_chunk_descriptor(&n->media, idx, &d);
        memcpy(dst + (pos - off), (uint8_t *)&d + skip, take);
        pos += take;
    }
}

static uint16_t ocssd_admin_get_log(OcssdCtrl *n, OcssdRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint32_t dw11 = le32_to_cpu(req->cmd.cdw11);
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    uint8_t lid = dw10 & 0xff;
    bool rae = dw10 & (1 << 15);
    uint64_t numd = ((uint64_t)(dw11 & 0xffff) << 16 | dw10 >> 16) + 1;
    uint64_t len = numd * 4;
    uint64_t off = (uint64_t)le32_to_cpu(req->cmd.cdw13) << 32 |
                   le32_to_cpu(req->cmd.cdw12);
    uint64_t size;
    g_autofree uint8_t *buf = NULL;
    g_autofree uint8_t *log = NULL;
    uint16_t status;
    uint64_t i;

    trace_ocssd_admin_get_log(lid, nsid, off, len, rae);
    switch (lid) {
    case NVME_LOG_ERROR_INFO:
        size = sizeof(n->error_log);
        break;
    case NVME_LOG_SMART_INFO:
        if (nsid && !ocssd_nsid_ok(nsid, true)) {
            return ocssd_invalid(req, NVME_INVALID_NSID, offsetof(NvmeCmd,
                                 nsid), "SMART log: no such namespace");
        }
        size = sizeof(NvmeSmartLog);
        break;
    case NVME_LOG_FW_SLOT_INFO:
        size = sizeof(NvmeFwSlotInfoLog);
        break;
    case OCSSD_LOG_CHUNK_INFO:
    case OCSSD_LOG_CHUNK_NOTIFICATION:
        if (!ocssd_nsid_ok(nsid, true)) {
            return ocssd_invalid(req, NVME_INVALID_NSID, offsetof(NvmeCmd,
                                 nsid), "chunk log: no such namespace");
        }
        size = lid == OCSSD_LOG_CHUNK_INFO ?
               n->media.nchunks * sizeof(OcssdChunkDescriptor) :
               sizeof(n->media.notify.entry);
        break;
    default:
        return ocssd_invalid(req, NVME_INVALID_LOG_ID, CDW(10),
                             "unsupported log page");
    }
    if (off & 3) {
        return ocssd_invalid(req, NVME_INVALID_FIELD, CDW(12),
                             "log page offset is not dword aligned");
    }
    if (off >= size) {
        return ocssd_invalid(req, NVME_INVALID_FIELD, CDW(12),
                             "log page offset beyond the log");
    }
    if (n->mdts_bytes && len > n->mdts_bytes) {
        return ocssd_invalid(req, NVME_INVALID_FIELD, CDW(10),
                             "log page transfer exceeds MDTS");
    }

    buf = g_malloc0(len);
    if (lid == OCSSD_LOG_CHUNK_INFO) {
        ocssd_chunk_log(n, buf, off, len);
    } else {
        log = g_malloc0(size);
        switch (lid) {
        case NVME_LOG_ERROR_INFO:
            /* newest first */
            for (i = 0; i < MIN(n->error_count, OCSSD_ERROR_LOG_ENTRIES);
                 i++) {
                memcpy(log + i * sizeof(NvmeErrorLog),
                       &n->error_log[(n->error_count - 1 - i) %
                                     OCSSD_ERROR_LOG_ENTRIES],
                       sizeof(NvmeErrorLog));
            }
            break;
        case NVME_LOG_SMART_INFO:
            ocssd_smart_log(n, (NvmeSmartLog *)log);
            break;
        case NVME_LOG_FW_SLOT_INFO: {
            NvmeFwSlotInfoLog *fw = (NvmeFwSlotInfoLog *)log;

            fw->afi = 1;
            strpadcpy((char *)fw->frs1, sizeof(fw->frs1), n->params.firmware,
                      ' ');
            break;
        }
        case OCSSD_LOG_CHUNK_NOTIFICATION:
            memcpy(log, n->media.notify.entry, size);
            break;
        }
        memcpy(buf, log + off, MIN(len, size - off));
    }

    status = ocssd_reply(n, req, buf, len);
    if (status || rae) {
        return status;
    }
    /* Reading a log page (RAE clear) clears its asynchronous event. */
    switch (lid) {
    case NVME_LOG_ERROR_INFO:
        ocssd_aer_clear(n, NVME_AER_TYPE_ERROR);
        break;
    case NVME_LOG_SMART_INFO:
        ocssd_aer_clear(n, NVME_AER_TYPE_SMART);
        break;
    case OCSSD_LOG_CHUNK_NOTIFICATION:
        ocssd_notify_clear(&n->media.notify);
        ocssd_aer_clear(n, NVME_AER_TYPE_VENDOR_SPECIFIC);
        break;
    }
    return NVME_SUCCESS;
}

/* ---- features --------------------------------------------------------- */

void ocssd_features_init(OcssdCtrl *n)
{
    OcssdFeatures *f = &n->features;
    uint32_t i;

    f->arbitration = NVME_ARB_AB_NOLIMIT;
    f->power_mgmt = 0;
    f->temp_over = 343;         /* WCTEMP */
    f->temp_under = 0;
    f->err_rec = 0;
    f->vwc = n->params.write_cache;
    f->int_coalescing = 0;
    f->write_atomicity = 0;
    f->async_config = 0;
    f->media_feedback = 0;
    /* A controller reset starts the timestamp again from 0. */
    f->timestamp = 0;
    f->timestamp_set_ms = qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL);
    f->timestamp_set = false;
    for (i = 0; i < n->num_vectors; i++) {
        f->iv_config[i] = i;
    }
    if (n->store.blk) {
        blk_set_enable_write_cache(n->store.blk, f->vwc);
    }
}

/* Which features exist, are namespace specific, can be changed. */
static uint32_t ocssd_feature_cap(uint8_t fid)
{
    switch (fid) {
    case NVME_ARBITRATION:
    case NVME_POWER_MANAGEMENT:
    case NVME_TEMPERATURE_THRESHOLD:
    case NVME_VOLATILE_WRITE_CACHE:
    case NVME_NUMBER_OF_QUEUES:
    case NVME_INTERRUPT_COALESCING:
    case NVME_INTERRUPT_VECTOR_CONF:
    case NVME_WRITE_ATOMICITY:
    case NVME_ASYNCHRONOUS_EVENT_CONF:
    case NVME_TIMESTAMP:
    case OCSSD_FEAT_MEDIA_FEEDBACK:
        return NVME_FEAT_CAP_CHANGE;
    case NVME_ERROR_RECOVERY:
        return NVME_FEAT_CAP_CHANGE | NVME_FEAT_CAP_NS;
    default:
        return 0;
    }
}

static uint64_t ocssd_timestamp_now(OcssdCtrl *n)
{
    OcssdFeatures *f = &n->features;
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL);
    uint64_t ts = f->timestamp + (now - f->timestamp_set_ms);

    /* bits 47:0 milliseconds, bit 49:51 origin: 1 = set by the host */
    return (ts & ((1ULL << 48) - 1)) | (uint64_t)(f->timestamp_set ? 1 : 0)
                                        << 49;
}

static uint16_t ocssd_check_temp_sel(OcssdRequest *req, uint32_t dw11,
                                     bool set)
{
    uint8_t tmpsel = NVME_TEMP_TMPSEL(dw11), thsel = NVME_TEMP_THSEL(dw11);

    if (!(tmpsel == NVME_TEMP_TMPSEL_COMPOSITE || (set && tmpsel == 0xf))) {
        return ocssd_invalid(req, NVME_INVALID_FIELD, CDW(11),
                             "temperature threshold: only the composite "
                             "sensor exists");
    }
    if (thsel != NVME_TEMP_THSEL_OVER && thsel != NVME_TEMP_THSEL_UNDER) {
        return ocssd_invalid(req, NVME_INVALID_FIELD, CDW(11),
                             "temperature threshold: THSEL");
    }
    return NVME_SUCCESS;
}

static uint16_t ocssd_admin_get_features(OcssdCtrl *n, OcssdRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint32_t dw11 = le32_to_cpu(req->cmd.cdw11);
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    uint8_t fid = NVME_GETSETFEAT_FID(dw10), sel = NVME_GETFEAT_SELECT(dw10);
    uint32_t cap = ocssd_feature_cap(fid), result = 0;
    OcssdFeatures *f = &n->features;
    bool dflt;
    uint16_t status;

    trace_ocssd_admin_get_features(fid, sel, dw11);
    if (!cap) {
        return ocssd_invalid(req, NVME_INVALID_FIELD, CDW(10),
                             "unsupported feature identifier");
    }
    if (sel > NVME_GETFEAT_SELECT_CAP) {
        return ocssd_invalid(req, NVME_INVALID_FIELD, CDW(10),
                             "reserved feature select value");
    }
    /* Set Features may name every namespace, Get Features one only. */
    if ((cap & NVME_FEAT_CAP_NS) && !ocssd_nsid_ok(nsid, false)) {
        return ocssd_invalid(req, NVME_INVALID_NSID, offsetof(NvmeCmd, nsid),
                             "namespace feature: not one namespace");
    }
    if (sel == NVME_GETFEAT_SELECT_CAP) {
        req->cqe.result = cpu_to_le32(cap);
        return NVME_SUCCESS;
    }
    /* Nothing is saveable, so the saved value is the default. */
    dflt = sel != NVME_GETFEAT_SELECT_CURRENT;

    switch (fid) {
    case NVME_ARBITRATION:
        result = dflt ? NVME_ARB_AB_NOLIMIT : f->arbitration;
        break;
    case NVME_POWER_MANAGEMENT:
        result = dflt ? 0 : f->power_mgmt;
        break;
    case NVME_TEMPERATURE_THRESHOLD:
        status = ocssd_check_temp_sel(req, dw11, false);
        if (status) {
            return status;
        }
        if (NVME_TEMP_THSEL(dw11) == NVME_TEMP_THSEL_OVER) {
            result = dflt ? 343 : f->temp_over;
        } else {
            result = dflt ? 0 : f->temp_under;
        }
        break;
    case NVME_ERROR_RECOVERY:
        result = dflt ? 0 : f->err_rec;
        break;
    case NVME_VOLATILE_WRITE_CACHE:
        result = dflt ? n->params.write_cache : f->vwc;
        break;
    case NVME_NUMBER_OF_QUEUES:
        result = dflt ? (n->params.num_queues - 2) * 0x10001u :
                 (n->num_io_queues - 1) * 0x10001u;
        break;
    case NVME_INTERRUPT_COALESCING:
        result = dflt ? 0 : f->int_coalescing;
        break;
    case NVME_INTERRUPT_VECTOR_CONF:
        if ((dw11 & 0xffff) >= n->num_vectors) {
            return ocssd_invalid(req, NVME_INVALID_FIELD, CDW(11),
                                 "interrupt vector out of range");
        }
        result = dflt ? (dw11 & 0xffff) : f->iv_config[dw11 & 0xffff];
        break;
    case NVME_WRITE_ATOMICITY:
        result = dflt ? 0 : f->write_atomicity;
        break;
    case NVME_ASYNCHRONOUS_EVENT_CONF:
        result = dflt ? 0 : f->async_config;
        break;
    case NVME_TIMESTAMP: {
        uint64_t ts = dflt ? 0 : cpu_to_le64(ocssd_timestamp_now(n));

        return ocssd_reply(n, req, &ts, sizeof(ts));
    }
    case OCSSD_FEAT_MEDIA_FEEDBACK:
        result = dflt ? 0 : f->media_feedback;
        break;
    }
    req->cqe.result = cpu_to_le32(result);
    return NVME_SUCCESS;
}

static void ocssd_check_temperature(OcssdCtrl *n)
{
    if (n->temperature >= n->features.temp_over ||
        n->temperature <= n->features.temp_under) {
        trace_ocssd_temperature_event(n->temperature, n->features.temp_over,
                                      n->features.temp_under);
        ocssd_aer_enqueue(n, NVME_AER_TYPE_SMART,
                          NVME_AER_INFO_SMART_TEMP_THRESH,
                          NVME_LOG_SMART_INFO);
    }
}

static uint16_t ocssd_admin_set_features(OcssdCtrl *n, OcssdRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint32_t dw11 = le32_to_cpu(req->cmd.cdw11);
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    uint8_t fid = NVME_GETSETFEAT_FID(dw10);
    uint32_t cap = ocssd_feature_cap(fid);
    OcssdFeatures *f = &n->features;
    uint16_t status;

    trace_ocssd_admin_set_features(fid, dw11);
    if (!cap) {
        return ocssd_invalid(req, NVME_INVALID_FIELD, CDW(10),
                             "unsupported feature identifier");
    }
    if (NVME_SETFEAT_SAVE(dw10)) {
        return ocssd_invalid(req, NVME_FID_NOT_SAVEABLE, CDW(10),
                             "features are not saveable");
    }
    if ((cap & NVME_FEAT_CAP_NS) && !ocssd_nsid_ok(nsid, true)) {
        return ocssd_invalid(req, NVME_INVALID_NSID, offsetof(NvmeCmd, nsid),
                             "namespace feature: no such namespace");
    }

    switch (fid) {
    case NVME_ARBITRATION:
        f->arbitration = dw11;
        break;
    case NVME_POWER_MANAGEMENT:
        if ((dw11 & 0x1f) > n->id_ctrl.npss) {
            return ocssd_invalid(req, NVME_INVALID_FIELD, CDW(11),
                                 "no such power state");
        }
        f->power_mgmt = dw11 & 0xff;
        break;
    case NVME_TEMPERATURE_THRESHOLD:
        status = ocssd_check_temp_sel(req, dw11, true);
        if (status) {
            return status;
        }
        if (NVME_TEMP_THSEL(dw11) == NVME_TEMP_THSEL_OVER) {
            f->temp_over = NVME_TEMP_TMPTH(dw11);
        } else {
            f->temp_under = NVME_TEMP_TMPTH(dw11);
        }
        ocssd_check_temperature(n);
        break;
    case NVME_ERROR_RECOVERY:
        f->err_rec = dw11 & (0xffff | (1 << 16));
        break;
    case NVME_VOLATILE_WRITE_CACHE:
        f->vwc = dw11 & 1;
        blk_set_enable_write_cache(n->store.blk, f->vwc);
        break;
    case NVME_NUMBER_OF_QUEUES: {
        uint32_t nsqr = (dw11 & 0xffff) + 1, ncqr = (dw11 >> 16) + 1;
        uint32_t max = n->params.num_queues - 1;

        if ((dw11 & 0xffff) == 0xffff || dw11 >> 16 == 0xffff) {
            return ocssd_invalid(req, NVME_INVALID_FIELD, CDW(11),
                                 "number of queues: 65536 requested");
        }
        if (n->queues_created) {
            return ocssd_invalid(req, NVME_CMD_SEQ_ERROR, CDW(10),
                                 "number of queues after creating queues");
        }
        /* One count for both: queues are created in pairs by hosts. */
        n->num_io_queues = MIN(MAX(nsqr, ncqr), max);
        req->cqe.result = cpu_to_le32((n->num_io_queues - 1) * 0x10001u);
        return NVME_SUCCESS;
    }
    case NVME_INTERRUPT_COALESCING:
        f->int_coalescing = dw11 & 0xffff;
        break;
    case NVME_INTERRUPT_VECTOR_CONF:
        if ((dw11 & 0xffff) >= n->num_vectors) {
            return ocssd_invalid(req, NVME_INVALID_FIELD, CDW(11),
                                 "interrupt vector out of range");
        }
        f->iv_config[dw11 & 0xffff] = dw11 & (0xffff | NVME_INTVC_NOCOALESCING);
        break;
    case NVME_WRITE_ATOMICITY:
        f->write_atomicity = dw11 & 1;
        break;
    case NVME_ASYNCHRONOUS_EVENT_CONF:
        f->async_config = dw11 & 0x1f;
        break;
    case NVME_TIMESTAMP: {
        uint64_t ts;

        status = ocssd_receive(n, req, &ts, sizeof(ts));
        if (status) {
            return status;
        }
        f->timestamp = le64_to_cpu(ts) & ((1ULL << 48) - 1);
        f->timestamp_set_ms = qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL);
        f->timestamp_set = true;
        break;
    }
    case OCSSD_FEAT_MEDIA_FEEDBACK:
        f->media_feedback = dw11 & (OCSSD_MEDIA_FEEDBACK_HECC |
                                    OCSSD_MEDIA_FEEDBACK_VHECC);
        break;
    }
    return NVME_SUCCESS;
}

/*
 * Doorbell Buffer Config: PRP1 is the shadow doorbell page, PRP2 the
 * EventIdx page, both page aligned (ocssd-ctrl.c uses them).
 */
static uint16_t ocssd_admin_dbbuf_config(OcssdCtrl *n, OcssdRequest *req)
{
    uint64_t dbs = le64_to_cpu(req->cmd.dptr.prp1);
    uint64_t eis = le64_to_cpu(req->cmd.dptr.prp2);

    trace_ocssd_admin_dbbuf_config(dbs, eis);
    if (!n->params.shadow_doorbells) {
        return ocssd_invalid(req, NVME_INVALID_OPCODE, 0,
                             "Doorbell Buffer Config is off "
                             "(shadow_doorbells=off)");
    }
    if (NVME_CMD_FLAGS_PSDT(req->cmd.flags) != NVME_PSDT_PRP) {
        return ocssd_invalid(req, NVME_INVALID_FIELD, 1,
                             "Doorbell Buffer Config takes PRPs");
    }
    if ((dbs | eis) & (n->page_size - 1)) {
        return ocssd_invalid(req, NVME_INVALID_FIELD,
                             offsetof(NvmeCmd, dptr),
                             "shadow doorbell or EventIdx buffer is not "
                             "page aligned");
    }
    ocssd_shadow_doorbells_config(n, dbs, eis);
    return NVME_SUCCESS;
}

/* Abort is best effort: this device never aborts (dword 0 bit 0 = 1). */
static uint16_t ocssd_admin_abort(OcssdCtrl *n, OcssdRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);

    trace_ocssd_admin_abort(dw10 & 0xffff, dw10 >> 16);
    req->cqe.result = cpu_to_le32(1);
    return NVME_SUCCESS;
}

uint16_t ocssd_admin_cmd(OcssdCtrl *n, OcssdRequest *req)
{
    switch (req->cmd.opcode) {
    case NVME_ADM_CMD_DELETE_SQ:
        return ocssd_admin_delete_sq(n, req);
    case NVME_ADM_CMD_CREATE_SQ:
        return ocssd_admin_create_sq(n, req);
    case NVME_ADM_CMD_GET_LOG_PAGE:
        return ocssd_admin_get_log(n, req);
    case NVME_ADM_CMD_DELETE_CQ:
        return ocssd_admin_delete_cq(n, req);
    case NVME_ADM_CMD_CREATE_CQ:
        return ocssd_admin_create_cq(n, req);
    case NVME_ADM_CMD_IDENTIFY:
        return ocssd_admin_identify(n, req);
    case NVME_ADM_CMD_ABORT:
        return ocssd_admin_abort(n, req);
    case NVME_ADM_CMD_SET_FEATURES:
        return ocssd_admin_set_features(n, req);
    case NVME_ADM_CMD_GET_FEATURES:
        return ocssd_admin_get_features(n, req);
    case NVME_ADM_CMD_ASYNC_EV_REQ:
        return ocssd_async_event_request(n, req);
    case NVME_ADM_CMD_DBBUF_CONFIG:
        return ocssd_admin_dbbuf_config(n, req);
    case OCSSD_ADM_CMD_GEOMETRY:
        return ocssd_admin_geometry(n, req);
    default:
        return ocssd_invalid(req, NVME_INVALID_OPCODE, 0,
                             "unsupported admin opcode");
    }
}
