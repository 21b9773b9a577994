/*
 * ocssd: the Open-Channel 2.0 media model
 *
 * Geometry, address decoding and the chunk rules of the spec digest,
 * sections 3 and 4.  See include/hw/block/ocssd-media.h.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/host-utils.h"
#include "hw/block/ocssd-media.h"

const OcssdMediaParams ocssd_media_default_params = {
    .num_grp = OCSSD_DEFAULT_NUM_GRP,
    .num_pu = OCSSD_DEFAULT_NUM_PU,
    .num_chk = OCSSD_DEFAULT_NUM_CHK,
    .clba = OCSSD_DEFAULT_CLBA,
    .sec_size = OCSSD_DEFAULT_SEC_SIZE,
    .md_size = OCSSD_DEFAULT_MD_SIZE,
    .ws_min = OCSSD_DEFAULT_WS_MIN,
    .ws_opt = OCSSD_DEFAULT_WS_OPT,
    .mw_cunits = OCSSD_DEFAULT_MW_CUNITS,
    .maxoc = OCSSD_DEFAULT_MAXOC,
    .maxocpu = OCSSD_DEFAULT_MAXOCPU,
    .wit = OCSSD_DEFAULT_WIT,
    .trdt = OCSSD_DEFAULT_TRDT,
    .trdm = OCSSD_DEFAULT_TRDM,
    .twrt = OCSSD_DEFAULT_TWRT,
    .twrm = OCSSD_DEFAULT_TWRM,
    .tcrst = OCSSD_DEFAULT_TCRST,
    .tcrsm = OCSSD_DEFAULT_TCRSM,
    .vector_copy = true,
    .multiple_resets = false,
    .early_reset = false,
};

#define MP_U32(id, f, d) \
    [OCSSD_MP_##id] = { #f, offsetof(OcssdMediaParams, f), false, d }
#define MP_BOOL(f, d) { #f, offsetof(OcssdMediaParams, f), true, d }

const OcssdMediaPropInfo ocssd_media_props[OCSSD_MEDIA_NPROPS] = {
    MP_U32(NUM_GRP, num_grp, "groups (1-65535) [media]"),
    MP_U32(NUM_PU, num_pu, "parallel units per group (1-65535) [media]"),
    MP_U32(NUM_CHK, num_chk, "chunks per parallel unit; num_grp x num_pu x "
           "num_chk <= 16777216 [media]"),
    MP_U32(CLBA, clba, "sectors per chunk (a multiple of ws_min) [media]"),
    MP_U32(SEC_SIZE, sec_size, "sector size in bytes: 512 or 4096 [media]"),
    MP_U32(MD_SIZE, md_size, "out-of-band metadata bytes per sector (0-64) "
           "[media]"),
    MP_U32(WS_MIN, ws_min, "minimum write size in sectors, divides clba "
           "[media]"),
    MP_U32(WS_OPT, ws_opt, "optimal write size in sectors, a multiple of "
           "ws_min [media]"),
    MP_U32(MW_CUNITS, mw_cunits, "sectors below the write pointer not yet "
           "readable (0 = none, < clba) [media]"),
    MP_U32(MAXOC, maxoc, "maximum open chunks (0 = no limit) [media]"),
    MP_U32(MAXOCPU, maxocpu, "maximum open chunks per parallel unit (0 = "
           "no limit) [media]"),
    MP_U32(WIT, wit, "wear-level index delta threshold for notifications "
           "(0-255, 0 = none) [media]"),
    MP_U32(TRDT, trdt, "typical time to read a write unit, ns [media, "
           "run-time settable]"),
    MP_U32(TRDM, trdm, "maximum time to read a write unit, ns [media, "
           "run-time settable]"),
    MP_U32(TWRT, twrt, "typical time to program up to ws_opt sectors, ns "
           "[media, run-time settable]"),
    MP_U32(TWRM, twrm, "maximum time to program up to ws_opt sectors, ns "
           "[media, run-time settable]"),
    MP_U32(TCRST, tcrst, "typical chunk reset time, ns [media, run-time "
           "settable]"),
    MP_U32(TCRSM, tcrsm, "maximum chunk reset time, ns [media, run-time "
           "settable]"),
    MP_BOOL(vector_copy, "MCCAP: Vector Copy supported (auto: image, or on) "
            "[media]"),
    MP_BOOL(multiple_resets, "MCCAP: a free chunk may be reset (auto: image, "
            "or off) [media]"),
    MP_BOOL(early_reset, "an open chunk may be reset (auto: image, or off) "
            "[media]"),
};

#undef MP_U32
#undef MP_BOOL

/* Bits needed to hold values 0 .. count - 1. */
static uint8_t field_bits(uint64_t count)
{
    return count <= 1 ? 0 : 64 - clz64(count - 1);
}

bool ocssd_media_params_check(const OcssdMediaParams *p, Error **errp)
{
    uint64_t nchunks;

    if (p->num_grp < 1 || p->num_grp > UINT16_MAX) {
        error_setg(errp, "num_grp=%" PRIu32 " is invalid: groups must be "
                   "1 to 65535", p->num_grp);
        return false;
    }
    if (p->num_pu < 1 || p->num_pu > UINT16_MAX) {
        error_setg(errp, "num_pu=%" PRIu32 " is invalid: parallel units per "
                   "group must be 1 to 65535", p->num_pu);
        return false;
    }
    if (p->num_chk < 1) {
        error_setg(errp, "num_chk=0 is invalid: a parallel unit needs at "
                   "least one chunk");
        return false;
    }
    if (p->clba < 1) {
        error_setg(errp, "clba=0 is invalid: a chunk needs at least one "
                   "sector");
        return false;
    }
    if (p->sec_size != 512 && p->sec_size != 4096) {
        error_setg(errp, "sec_size=%" PRIu32 " is invalid: the sector size "
                   "must be 512 or 4096", p->sec_size);
        return false;
    }
    if (p->md_size > 64) {
        error_setg(errp, "md_size=%" PRIu32 " is invalid: the metadata size "
                   "must be 0 to 64 bytes per sector", p->md_size);
        return false;
    }
    if (p->ws_min < 1 || p->clba % p->ws_min) {
        error_setg(errp, "ws_min=%" PRIu32 " is invalid: it must be at least "
                   "1 and divide clba=%" PRIu32, p->ws_min, p->clba);
        return false;
    }
    if (p->ws_opt < 1 || p->ws_opt % p->ws_min || p->ws_opt > p->clba) {
        error_setg(errp, "ws_opt=%" PRIu32 " is invalid: it must be a "
                   "multiple of ws_min=%" PRIu32 " and at most clba=%" PRIu32,
                   p->ws_opt, p->ws_min, p->clba);
        return false;
    }
    if (p->mw_cunits >= p->clba) {
        error_setg(errp, "mw_cunits=%" PRIu32 " is invalid: it must be "
                   "smaller than clba=%" PRIu32 " (0 = no window)",
                   p->mw_cunits, p->clba);
        return false;
    }
    if (p->wit > UINT8_MAX) {
        error_setg(errp, "wit=%" PRIu32 " is invalid: the wear-index "
                   "threshold must be 0 to 255", p->wit);
        return false;
    }
    if (p->maxocpu > p->num_chk) {
        error_setg(errp, "maxocpu=%" PRIu32 " is invalid: it must not exceed "
                   "num_chk=%" PRIu32 " (0 = no limit)", p->maxocpu,
                   p->num_chk);
        return false;
    }
    nchunks = (uint64_t)p->num_grp * p->num_pu * p->num_chk;
    if (p->maxoc > nchunks) {
        error_setg(errp, "maxoc=%" PRIu32 " is invalid: it must not exceed "
                   "the %" PRIu64 " chunks of the device (0 = no limit)",
                   p->maxoc, nchunks);
        return false;
    }
    if (p->trdm < p->trdt || p->twrm < p->twrt || p->tcrsm < p->tcrst) {
        error_setg(errp, "timing is invalid: trdm, twrm and tcrsm (maximum "
                   "times) must not be below trdt, twrt and tcrst (typical)");
        return false;
    }
    return ocssd_media_check_limits(p, errp);
}

/*
 * The size limits of a geometry, the one place the device (properties
 * and image headers) and ocssd-img check them: the LBA fields must fit
 * the namespace size, the data and metadata a QEMU block device, and the
 * chunks the memory the device keeps for them (OCSSD_MAX_CHUNKS).  Pure
 * arithmetic, so it runs before anything is allocated or written.
 */
bool ocssd_media_check_limits(const OcssdMediaParams *p, Error **errp)
{
    uint64_t nchunks = (uint64_t)p->num_grp * p->num_pu * p->num_chk;
    uint64_t bytes;
    unsigned bits;

    bits = field_bits(p->num_grp) + field_bits(p->num_pu) +
           field_bits(p->num_chk) + field_bits(p->clba);
    if (bits > 63) {
        error_setg(errp, "the geometry needs %u LBA address bits "
                   "(num_grp, num_pu, num_chk, clba); at most 63 fit the "
                   "64-bit namespace size", bits);
        return false;
    }
    /* The data and metadata must fit a QEMU block device (int64_t). */
    if (umul64_overflow(nchunks, p->clba, &bytes) ||
        umul64_overflow(bytes, p->sec_size + p->md_size, &bytes) ||
        bytes > INT64_MAX / 2) {
        error_setg(errp, "the geometry's capacity overflows: %" PRIu64
                   " chunks of %" PRIu32 " sectors of %" PRIu32 "+%" PRIu32
                   " bytes", nchunks, p->clba, p->sec_size, p->md_size);
        return false;
    }
    /*
     * (nchunks is exact: the fields take at most 63 bits together.)  Every
     * parallel unit has a chunk, so this bounds the per-PU state too.
     */
    if (nchunks > OCSSD_MAX_CHUNKS) {
        error_setg(errp, "num_grp=%" PRIu32 " x num_pu=%" PRIu32 " x "
                   "num_chk=%" PRIu32 " = %" PRIu64 " chunks is too many: "
                   "at most %u (2^24) chunks are supported, as the device "
                   "keeps every chunk's state in memory (about 1 GiB at the "
                   "limit); lower num_grp, num_pu or num_chk (a larger clba "
                   "keeps the capacity)", p->num_grp, p->num_pu, p->num_chk,
                   nchunks, OCSSD_MAX_CHUNKS);
        return false;
    }
    return true;
}

void ocssd_media_init(OcssdMedia *m, const OcssdMediaParams *p)
{
    OcssdLbaFormat *f = &m->lbaf;
    uint64_t i;

    memset(m, 0, sizeof(*m));
    m->p = *p;
    m->mw_strict = true;
    f->grp_len = field_bits(p->num_grp);
    f->pu_len = field_bits(p->num_pu);
    f->chk_len = field_bits(p->num_chk);
    f->lbk_len = field_bits(p->clba);
    f->chk_off = f->lbk_len;
    f->pu_off = f->chk_off + f->chk_len;
    f->grp_off = f->pu_off + f->pu_len;
    m->nsze = 1ULL << (f->grp_off + f->grp_len);
    m->nchunks = (uint64_t)p->num_grp * p->num_pu * p->num_chk;
    m->nsectors = m->nchunks * p->clba;
    m->chunk = g_new0(OcssdChunk, m->nchunks);
    m->open_pu = g_new0(uint32_t, (size_t)p->num_grp * p->num_pu);
    for (i = 0; i < m->nchunks; i++) {
        m->chunk[i].state = OCSSD_CHUNK_FREE;
        m->chunk[i].type = OCSSD_CHUNK_TYPE_SEQUENTIAL;
        m->chunk[i].cnlb = p->clba;
    }
    ocssd_media_recount(m);
}

void ocssd_media_cleanup(OcssdMedia *m)
{
    g_free(m->chunk);
    g_free(m->open_pu);
    m->chunk = NULL;
    m->open_pu = NULL;
}

static uint64_t chunk_pu(const OcssdMedia *m, uint64_t chunk)
{
    return chunk / m->p.num_chk;
}

/*
 * Recompute what is derived from the chunk table (after it was loaded or
 * preset): open-chunk counts, wear statistics, the MW_CUNITS floor (after
 * a restart every sector below WP is readable: digest section 4).
 */
void ocssd_media_recount(OcssdMedia *m)
{
    uint64_t i;

    m->open_total = 0;
    memset(m->open_pu, 0, sizeof(uint32_t) * m->p.num_grp * m->p.num_pu);
    m->wli_sum = 0;
    m->wli_count = 0;
    memset(m->wli_hist, 0, sizeof(m->wli_hist));
    m->wli_nevent = 0;
    for (i = 0; i < m->nchunks; i++) {
        OcssdChunk *c = &m->chunk[i];

        c->mw_floor = c->wp;
        if (c->state == OCSSD_CHUNK_OPEN) {
            m->open_total++;
            m->open_pu[chunk_pu(m, i)]++;
        }
        if (c->state != OCSSD_CHUNK_OFFLINE) {
            m->wli_sum += c->wli;
            m->wli_count++;
            m->wli_hist[c->wli]++;
        }
    }
}

bool ocssd_lba_decode(const OcssdMedia *m, uint64_t lba, OcssdAddr *a)
{
    const OcssdLbaFormat *f = &m->lbaf;

    if (lba >= m->nsze) {
        return false;
    }
    a->sec = lba & ((1ULL << f->lbk_len) - 1);
    a->chk = (lba >> f->chk_off) & ((1ULL << f->chk_len) - 1);
    a->pu = (lba >> f->pu_off) & ((1ULL << f->pu_len) - 1);
    a->grp = (lba >> f->grp_off) & ((1ULL << f->grp_len) - 1);
    return a->grp < m->p.num_grp && a->pu < m->p.num_pu &&
           a->chk < m->p.num_chk && a->sec < m->p.clba;
}

uint64_t ocssd_lba_encode(const OcssdMedia *m, const OcssdAddr *a)
{
    const OcssdLbaFormat *f = &m->lbaf;

    return (uint64_t)a->grp << f->grp_off | (uint64_t)a->pu << f->pu_off |
           (uint64_t)a->chk << f->chk_off | a->sec;
}

/* Chunk index: the order of the Chunk Information log (grp, pu, chk). */
uint64_t ocssd_chunk_index(const OcssdMedia *m, const OcssdAddr *a)
{
    return ((uint64_t)a->grp * m->p.num_pu + a->pu) * m->p.num_chk + a->chk;
}

void ocssd_chunk_addr(const OcssdMedia *m, uint64_t chunk, OcssdAddr *a)
{
    a->sec = 0;
    a->chk = chunk % m->p.num_chk;
    a->pu = (chunk / m->p.num_chk) % m->p.num_pu;
    a->grp = chunk / m->p.num_chk / m->p.num_pu;
}

uint64_t ocssd_chunk_slba(const OcssdMedia *m, uint64_t chunk)
{
    OcssdAddr a;

    ocssd_chunk_addr(m, chunk, &a);
    return ocssd_lba_encode(m, &a);
}

void ocssd_media_geometry(const OcssdMedia *m, OcssdIdGeo *geo)
{
    const OcssdMediaParams *p = &m->p;

    memset(geo, 0, sizeof(*geo));
    geo->mjr = 2;
    geo->mnr = 0;
    geo->lbaf.grp_len = m->lbaf.grp_len;
    geo->lbaf.pu_len = m->lbaf.pu_len;
    geo->lbaf.chk_len = m->lbaf.chk_len;
    geo->lbaf.lbk_len = m->lbaf.lbk_len;
    geo->mccap = cpu_to_le32((p->vector_copy ? OCSSD_MCCAP_VECTOR_COPY : 0) |
                             (p->multiple_resets ?
                              OCSSD_MCCAP_MULTIPLE_RESETS : 0) |
                             (p->early_reset ? OCSSD_MCCAP_EARLY_RESET : 0));
    geo->wit = p->wit;
    geo->num_grp = cpu_to_le16(p->num_grp);
    geo->num_pu = cpu_to_le16(p->num_pu);
    geo->num_chk = cpu_to_le32(p->num_chk);
    geo->clba = cpu_to_le32(p->clba);
    geo->ws_min = cpu_to_le32(p->ws_min);
    geo->ws_opt = cpu_to_le32(p->ws_opt);
    geo->mw_cunits = cpu_to_le32(p->mw_cunits);
    geo->maxoc = cpu_to_le32(p->maxoc);
    geo->maxocpu = cpu_to_le32(p->maxocpu);
    geo->trdt = cpu_to_le32(p->trdt);
    geo->trdm = cpu_to_le32(p->trdm);
    geo->twrt = cpu_to_le32(p->twrt);
    geo->twrm = cpu_to_le32(p->twrm);
    geo->tcrst = cpu_to_le32(p->tcrst);
    geo->tcrsm = cpu_to_le32(p->tcrsm);
}

void ocssd_media_chunk_descriptor(const OcssdMedia *m, uint64_t chunk,
                                  OcssdChunkDescriptor *d)
{
    const OcssdChunk *c = &m->chunk[chunk];

    memset(d, 0, sizeof(*d));
    d->cs = c->state;
    d->ct = c->type;
    d->wli = c->wli;
    d->slba = cpu_to_le64(ocssd_chunk_slba(m, chunk));
    d->cnlb = cpu_to_le64(c->cnlb);
    d->wp = cpu_to_le64(c->wp);
}

/*
 * Whether a chunk's persistent state is possible: a known state and type,
 * CNLB within CLBA, a multiple of WS_MIN, equal to CLBA unless the type
 * says the chunk deviates, and a write pointer the state allows (OPEN may
 * have WP 0: the table holds the durable WP, which may lag).
 */
bool ocssd_media_chunk_check(const OcssdMediaParams *p, const OcssdChunk *c,
                             Error **errp)
{
    if (c->state != OCSSD_CHUNK_FREE && c->state != OCSSD_CHUNK_CLOSED &&
        c->state != OCSSD_CHUNK_OPEN && c->state != OCSSD_CHUNK_OFFLINE) {
        error_setg(errp, "invalid state 0x%x", c->state);
        return false;
    }
    if (!(c->type & OCSSD_CHUNK_TYPE_SEQUENTIAL) ||
        (c->type & ~(OCSSD_CHUNK_TYPE_SEQUENTIAL |
                     OCSSD_CHUNK_TYPE_SHRINKED))) {
        error_setg(errp, "invalid chunk type 0x%x", c->type);
        return false;
    }
    if (c->cnlb == 0 || c->cnlb > p->clba ||
        (c->cnlb != p->clba && !(c->type & OCSSD_CHUNK_TYPE_SHRINKED)) ||
        c->cnlb % p->ws_min) {
        error_setg(errp, "invalid CNLB %" PRIu64 " (clba %" PRIu32
                   ", ws_min %" PRIu32 ")", c->cnlb, p->clba, p->ws_min);
        return false;
    }
    if (c->wp > c->cnlb || (c->state == OCSSD_CHUNK_FREE && c->wp) ||
        (c->state == OCSSD_CHUNK_OPEN && c->wp == c->cnlb)) {
        error_setg(errp, "write pointer %" PRIu64 " impossible for a %s "
                   "chunk of %" PRIu64 " sectors", c->wp,
                   ocssd_chunk_state_name(c->state), c->cnlb);
        return false;
    }
    return true;
}

/*
 * Decode every entry.  An LBA beyond the namespace is out of range for
 * any command; one inside it that names no sector (a hole: a field at or
 * beyond its count) is a Write Fault for writes and out of range
 * otherwise (digest section 3).
 */
uint16_t ocssd_media_decode_entries(const OcssdMedia *m, OcssdIoEntry *e,
                                    unsigned n, bool is_write)
{
    uint16_t first = NVME_SUCCESS;
    unsigned i;

    for (i = 0; i < n; i++) {
        e[i].zeroes = false;
        if (ocssd_lba_decode(m, e[i].lba, &e[i].addr)) {
            e[i].chunk = ocssd_chunk_index(m, &e[i].addr);
            e[i].sector = e[i].chunk * m->p.clba + e[i].addr.sec;
            e[i].status = NVME_SUCCESS;
            continue;
        }
        e[i].status = (is_write && e[i].lba < m->nsze ? NVME_WRITE_FAULT :
                       NVME_LBA_RANGE) | NVME_DNR;
        if (first == NVME_SUCCESS) {
            first = e[i].status;
        }
    }
    return first;
}

/*
 * A standard Read or Write covers SLBA .. SLBA + NLB - 1, which must lie in
 * one chunk: a write past the chunk's end is a Write Fault, a read of it is
 * out of range.  A range reaching beyond the namespace is out of range for
 * both (NVMe's rule, checked before the media's).
 */
uint16_t ocssd_media_check_range(const OcssdMedia *m, uint64_t slba,
                                 uint32_t nlb, bool is_write)
{
    const OcssdChunk *c;
    OcssdAddr a;

    /* NVMe: any LBA of the range beyond the namespace is out of range. */
    if (slba >= m->nsze || nlb > m->nsze - slba) {
        return NVME_LBA_RANGE | NVME_DNR;
    }
    if (!ocssd_lba_decode(m, slba, &a)) {
        return (is_write ? NVME_WRITE_FAULT : NVME_LBA_RANGE) | NVME_DNR;
    }
    if ((uint64_t)a.sec + nlb <= m->p.clba) {
        return NVME_SUCCESS;
    }
    if (!is_write) {
        return NVME_LBA_RANGE | NVME_DNR;
    }
    /*
     * A write past the chunk's end: the write rules' precedence still
     * applies (a closed chunk, then a start other than WP, come first).
     */
    c = &m->chunk[ocssd_chunk_index(m, &a)];
    if (!(c->state & (OCSSD_CHUNK_CLOSED | OCSSD_CHUNK_OFFLINE)) &&
        a.sec != c->wp) {
        return OCSSD_OUT_OF_ORDER_WRITE | NVME_DNR;
    }
    return NVME_WRITE_FAULT | NVME_DNR;
}

/* An open chunk a write command fills up, closing it. */
typedef struct OcssdClosing {
    unsigned    last;           /* list position of its last entry */
    uint64_t    pu;
} OcssdClosing;

static uint16_t first_failure(const OcssdIoEntry *e, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        if (e[i].status != NVME_SUCCESS) {
            return e[i].status;
        }
    }
    return NVME_SUCCESS;
}

/*
 * The write rules, per chunk the command writes to.  A chunk's entries in
 * one command are written all together or not at all; each failing entry
 * carries the chunk's reason.  In order of precedence:
 *  - CLOSED or OFFLINE chunk: Write Fault;
 *  - the entries are not WP, WP+1, ... in list order: Out of Order Write;
 *  - they run past the chunk's last sector: Write Fault;
 *  - their count is not a multiple of WS_MIN: Invalid Field;
 *  - the chunk would be left open beyond MAXOC / MAXOCPU: Write Fault.
 * Entries run in list order: an open chunk the command fills up is closed
 * from its last entry on, so a chunk the command opens after that point
 * may take its place.
 * Entries must have been decoded (ocssd_media_decode_entries) first;
 * entries that already failed are skipped.
 */
uint16_t ocssd_media_check_write(const OcssdMedia *m, OcssdIoEntry *e,
                                 unsigned n)
{
    g_autofree bool *done = g_new0(bool, n);
    /* The PU of each chunk the command opens: a few (one per chunk). */
    g_autofree uint64_t *opening_pu = NULL;
    g_autofree OcssdClosing *closing = NULL;
    uint32_t opening = 0;
    unsigned i, j, nclosing = 0;

    for (i = 0; i < n; i++) {
        const OcssdChunk *c;
        uint64_t expect, count = 0, pu;
        uint16_t status = NVME_SUCCESS;
        unsigned last = i;

        if (done[i] || e[i].status != NVME_SUCCESS) {
            continue;
        }
        c = &m->chunk[e[i].chunk];
        pu = chunk_pu(m, e[i].chunk);
        expect = c->wp;
        for (j = i; j < n; j++) {
            if (done[j] || e[j].status != NVME_SUCCESS ||
                e[j].chunk != e[i].chunk) {
                continue;
            }
            if (e[j].addr.sec != expect && status == NVME_SUCCESS) {
                status = OCSSD_OUT_OF_ORDER_WRITE | NVME_DNR;
            }
            expect++;
            count++;
            last = j;
        }

        if (c->state & (OCSSD_CHUNK_CLOSED | OCSSD_CHUNK_OFFLINE)) {
            status = NVME_WRITE_FAULT | NVME_DNR;
        } else if (status != NVME_SUCCESS) {
            /* out of order */
        } else if (c->wp + count > c->cnlb) {
            status = NVME_WRITE_FAULT | NVME_DNR;
        } else if (count % m->p.ws_min) {
            status = NVME_INVALID_FIELD | NVME_DNR;
        } else if (c->state == OCSSD_CHUNK_FREE && count < c->cnlb) {
            /* The write opens the chunk at entry i and leaves it open. */
            uint32_t closed = 0, closed_pu = 0, opening_here = 0;
            unsigned k;

            if (!opening_pu) {
                opening_pu = g_new(uint64_t, n);
            }
            for (k = 0; k < opening; k++) {
                opening_here += opening_pu[k] == pu;
            }
            for (k = 0; k < nclosing; k++) {
                if (closing[k].last < i) {
                    closed++;
                    closed_pu += closing[k].pu == pu;
                }
            }
            if ((m->p.maxoc &&
                 m->open_total + opening - closed >= m->p.maxoc) ||
                (m->p.maxocpu &&
                 m->open_pu[pu] + opening_here - closed_pu >=
                 m->p.maxocpu)) {
                status = NVME_WRITE_FAULT | NVME_DNR;
            } else {
                opening_pu[opening++] = pu;
            }
        } else if (c->state == OCSSD_CHUNK_OPEN && c->wp + count == c->cnlb) {
            /* The write closes the chunk at its last entry. */
            if (!closing) {
                closing = g_new(OcssdClosing, n);
            }
            closing[nclosing].last = last;
            closing[nclosing++].pu = pu;
        }

        for (j = i; j < n; j++) {
            if (!done[j] && e[j].status == NVME_SUCCESS &&
                e[j].chunk == e[i].chunk) {
                done[j] = true;
                e[j].status = status;
            }
        }
    }
    return first_failure(e, n);
}

static void chunk_set_state(OcssdMedia *m, uint64_t chunk, uint8_t state)
{
    OcssdChunk *c = &m->chunk[chunk];
    uint64_t pu = chunk_pu(m, chunk);

    if (c->state == OCSSD_CHUNK_OPEN) {
        m->open_total--;
        m->open_pu[pu]--;
    }
    if (state == OCSSD_CHUNK_OPEN) {
        m->open_total++;
        m->open_pu[pu]++;
    }
    c->state = state;
}

/*
 * Apply a checked write.  Entries that succeeded advance their chunk's WP
 * (FREE -> OPEN at the first sector, -> CLOSED at the last).  Two
 * injected failures change the chunk too: Write Next Unit consumes the
 * sectors and leaves the chunk open, Chunk Early Close closes it with
 * its WP where it was.
 */
void ocssd_media_commit_write(OcssdMedia *m, OcssdIoEntry *e, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        OcssdChunk *c;
        uint16_t sc = e[i].status & ~NVME_DNR;

        if (sc != NVME_SUCCESS && sc != OCSSD_WRITE_NEXT_UNIT &&
            sc != OCSSD_CHUNK_EARLY_CLOSE) {
            continue;
        }
        c = &m->chunk[e[i].chunk];
        if (sc == OCSSD_CHUNK_EARLY_CLOSE) {
            chunk_set_state(m, e[i].chunk, OCSSD_CHUNK_CLOSED);
            continue;
        }
        if (c->state == OCSSD_CHUNK_FREE) {
            chunk_set_state(m, e[i].chunk, OCSSD_CHUNK_OPEN);
        }
        if (c->state != OCSSD_CHUNK_OPEN) {
            continue;
        }
        c->wp++;
        if (c->wp == c->cnlb) {
            chunk_set_state(m, e[i].chunk, OCSSD_CHUNK_CLOSED);
        }
    }
}

/*
 * Whether a sector holds readable data: below WP, and outside the
 * MW_CUNITS window of an open chunk (the last MW_CUNITS sectors below WP,
 * unless they were already below WP when the image was opened).
 */
bool ocssd_media_sector_readable(const OcssdMedia *m, uint64_t chunk,
                                 uint64_t sec)
{
    const OcssdChunk *c = &m->chunk[chunk];
    uint64_t window;

    if (c->state == OCSSD_CHUNK_FREE || sec >= c->wp) {
        return false;
    }
    if (c->state != OCSSD_CHUNK_OPEN || !m->mw_strict || sec < c->mw_floor) {
        return true;
    }
    window = c->wp > m->p.mw_cunits ? c->wp - m->p.mw_cunits : 0;
    return sec < window;
}

/*
 * The read rules, per entry: an offline chunk fails with Offline Chunk; a
 * sector past the chunk's CNLB is out of range; an unreadable sector
 * (never written, or inside the MW_CUNITS window) fails with Deallocated
 * or Unwritten Logical Block when DULBE is set and reads as zeroes
 * otherwise.
 */
uint16_t ocssd_media_check_read(const OcssdMedia *m, OcssdIoEntry *e,
                                unsigned n, bool dulbe)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        const OcssdChunk *c;

        if (e[i].status != NVME_SUCCESS) {
            continue;
        }
        c = &m->chunk[e[i].chunk];
        if (c->state == OCSSD_CHUNK_OFFLINE) {
            e[i].status = OCSSD_OFFLINE_CHUNK | NVME_DNR;
        } else if (e[i].addr.sec >= c->cnlb) {
            e[i].status = NVME_LBA_RANGE | NVME_DNR;
        } else if (!ocssd_media_sector_readable(m, e[i].chunk,
                                                e[i].addr.sec)) {
            if (dulbe) {
                e[i].status = NVME_DULB | NVME_DNR;
            } else {
                e[i].zeroes = true;
            }
        }
    }
    return first_failure(e, n);
}

/*
 * Reset rules: CLOSED -> FREE; FREE only with MCCAP "multiple resets";
 * OPEN only with early reset; OFFLINE never (Offline Chunk).
 */
uint16_t ocssd_media_check_reset(const OcssdMedia *m, uint64_t chunk)
{
    switch (m->chunk[chunk].state) {
    case OCSSD_CHUNK_CLOSED:
        return NVME_SUCCESS;
    case OCSSD_CHUNK_FREE:
        return m->p.multiple_resets ? NVME_SUCCESS :
               OCSSD_INVALID_RESET | NVME_DNR;
    case OCSSD_CHUNK_OPEN:
        return m->p.early_reset ? NVME_SUCCESS :
               OCSSD_INVALID_RESET | NVME_DNR;
    default:
        return OCSSD_OFFLINE_CHUNK | NVME_DNR;
    }
}

/*
 * Whether wear index wli lies outside the band average +- WIT, where the
 * average is sum / count, compared exactly (no rounding).  WIT 0 means no
 * band: nothing is ever outside.
 */
static bool wli_outside(uint32_t wit, uint64_t sum, uint64_t count,
                        uint64_t wli)
{
    if (!wit || !count) {
        return false;
    }
    return wli * count > sum + wit * count || (wli + wit) * count < sum;
}

static void wli_event_add(OcssdMedia *m, uint64_t chunk)
{
    if (m->wli_nevent == ARRAY_SIZE(m->wli_event)) {
        /* The notification log would drop the oldest too. */
        memmove(&m->wli_event[0], &m->wli_event[1],
                sizeof(m->wli_event[0]) * (m->wli_nevent - 1));
        m->wli_nevent--;
    }
    m->wli_event[m->wli_nevent++] = chunk;
}

/*
 * The wear statistics changed from (old_sum, old_count): queue an event
 * for every chunk (not offline) whose wear index was inside the band and
 * is now outside it.  The changed chunk, if any (changed < nchunks), is
 * judged on its old and new index; every other chunk keeps its index, and
 * only leaves the band because the average moved.  Indexes are 0-255, so
 * the chunks are only scanned for an index that has just left the band.
 */
static void wli_band_update(OcssdMedia *m, uint64_t old_sum,
                            uint64_t old_count, uint64_t changed,
                            uint8_t changed_old_wli)
{
    uint32_t wit = m->p.wit;
    uint64_t v, i;

    if (!wit) {
        return;
    }
    if (changed < m->nchunks &&
        m->chunk[changed].state != OCSSD_CHUNK_OFFLINE &&
        !wli_outside(wit, old_sum, old_count, changed_old_wli) &&
        wli_outside(wit, m->wli_sum, m->wli_count, m->chunk[changed].wli)) {
        wli_event_add(m, changed);
    }
    for (v = 0; v < ARRAY_SIZE(m->wli_hist); v++) {
        uint64_t others = m->wli_hist[v];

        if (changed < m->nchunks &&
            m->chunk[changed].state != OCSSD_CHUNK_OFFLINE &&
            m->chunk[changed].wli == v) {
            others--;
        }
        if (!others || wli_outside(wit, old_sum, old_count, v) ||
            !wli_outside(wit, m->wli_sum, m->wli_count, v)) {
            continue;
        }
        for (i = 0; i < m->nchunks; i++) {
            if (i != changed && m->chunk[i].wli == v &&
                m->chunk[i].state != OCSSD_CHUNK_OFFLINE) {
                wli_event_add(m, i);
            }
        }
    }
}

/*
 * Reset a chunk the rules allow to be reset: FREE, WP 0, one more erase,
 * wear index + 1 (saturating).  Returns true when wear-index events are
 * pending (ocssd_media_wli_event): this chunk, or others as the average
 * moved, left the band average +- WIT.
 */
bool ocssd_media_reset(OcssdMedia *m, uint64_t chunk)
{
    OcssdChunk *c = &m->chunk[chunk];
    uint64_t old_sum = m->wli_sum, old_count = m->wli_count;
    uint8_t old_wli = c->wli;

    if (c->state == OCSSD_CHUNK_OFFLINE) {
        /* Not a rule the media allows; keep the statistics right anyway. */
        m->wli_sum += c->wli;
        m->wli_count++;
        m->wli_hist[c->wli]++;
        old_sum = m->wli_sum;
        old_count = m->wli_count;
    }
    chunk_set_state(m, chunk, OCSSD_CHUNK_FREE);
    c->wp = 0;
    c->mw_floor = 0;
    c->erase_count++;
    if (c->wli < UINT8_MAX) {
        m->wli_hist[c->wli]--;
        c->wli++;
        m->wli_hist[c->wli]++;
        m->wli_sum++;
    }
    wli_band_update(m, old_sum, old_count, chunk, old_wli);
    return m->wli_nevent > 0;
}

/*
 * An offline chunk leaves the wear statistics; the average moves, which
 * may take other chunks out of the band (see ocssd_media_wli_event).
 */
void ocssd_media_set_offline(OcssdMedia *m, uint64_t chunk)
{
    OcssdChunk *c = &m->chunk[chunk];
    uint64_t old_sum = m->wli_sum, old_count = m->wli_count;

    if (c->state == OCSSD_CHUNK_OFFLINE) {
        return;
    }
    chunk_set_state(m, chunk, OCSSD_CHUNK_OFFLINE);
    m->wli_sum -= c->wli;
    m->wli_count--;
    m->wli_hist[c->wli]--;
    wli_band_update(m, old_sum, old_count, m->nchunks, 0);
}

/* Take the oldest pending wear-index event: the chunk that left the band. */
bool ocssd_media_wli_event(OcssdMedia *m, uint64_t *chunk)
{
    if (!m->wli_nevent) {
        return false;
    }
    *chunk = m->wli_event[0];
    m->wli_nevent--;
    memmove(&m->wli_event[0], &m->wli_event[1],
            sizeof(m->wli_event[0]) * m->wli_nevent);
    return true;
}

/*
 * Dataset Management deallocate resets whole chunks: the range must start
 * at a chunk's first sector and cover exactly its CNLB sectors.
 */
uint16_t ocssd_media_check_dsm_range(const OcssdMedia *m, uint64_t slba,
                                     uint32_t nlb, uint64_t *chunk)
{
    OcssdAddr a;

    if (!ocssd_lba_decode(m, slba, &a)) {
        return NVME_LBA_RANGE | NVME_DNR;
    }
    *chunk = ocssd_chunk_index(m, &a);
    if (a.sec != 0 || nlb != m->chunk[*chunk].cnlb) {
        return NVME_INVALID_FIELD | NVME_DNR;
    }
    return NVME_SUCCESS;
}

void ocssd_notify_add(OcssdNotifyLog *log, uint64_t lba, uint32_t nsid,
                      uint16_t state, uint8_t mask, uint16_t nlb)
{
    OcssdChunkNotification *n;

    if (log->count == OCSSD_NOTIFY_LOG_ENTRIES) {
        /* Full: the oldest entry goes (the host sees the gap in NC). */
        memmove(&log->entry[0], &log->entry[1],
                sizeof(log->entry[0]) * (OCSSD_NOTIFY_LOG_ENTRIES - 1));
        log->count--;
    }
    n = &log->entry[log->count++];
    memset(n, 0, sizeof(*n));
    n->nc = cpu_to_le64(++log->nc);
    n->lba = cpu_to_le64(lba);
    n->nsid = cpu_to_le32(nsid);
    n->state = cpu_to_le16(state);
    n->mask = mask;
    n->nlb = cpu_to_le16(nlb);
}

void ocssd_notify_clear(OcssdNotifyLog *log)
{
    log->count = 0;
    memset(log->entry, 0, sizeof(log->entry));
}

const char *ocssd_chunk_state_name(uint8_t state)
{
    switch (state) {
    case OCSSD_CHUNK_FREE:
        return "free";
    case OCSSD_CHUNK_CLOSED:
        return "closed";
    case OCSSD_CHUNK_OPEN:
        return "open";
    case OCSSD_CHUNK_OFFLINE:
        return "offline";
    default:
        return "invalid";
    }
}
