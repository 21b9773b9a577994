/*
 * ocssd: the persistent media image format (version 1)
 *
 * See include/hw/block/ocssd-image.h and docs/image-format.rst.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/crc32c.h"
#include "qemu/cutils.h"
#include "hw/block/ocssd-image.h"

static void ocssd_image_build_checks(void)
{
    QEMU_BUILD_BUG_ON(sizeof(OcssdImageHeader) != OCSSD_IMAGE_HEADER_SIZE);
    QEMU_BUILD_BUG_ON(offsetof(OcssdImageHeader, num_grp) != 40);
    QEMU_BUILD_BUG_ON(offsetof(OcssdImageHeader, table_offset) != 120);
    QEMU_BUILD_BUG_ON(offsetof(OcssdImageHeader, power_cycles) != 176);
    QEMU_BUILD_BUG_ON(sizeof(OcssdImageChunk) != OCSSD_IMAGE_TABLE_ENTRY);
    QEMU_BUILD_BUG_ON(offsetof(OcssdImageChunk, crc) != 28);
}

void ocssd_image_layout(const OcssdMediaParams *p, OcssdImageLayout *l)
{
    uint64_t nchunks = (uint64_t)p->num_grp * p->num_pu * p->num_chk;
    uint64_t nsectors = nchunks * p->clba;

    ocssd_image_build_checks();
    l->table_offset = OCSSD_IMAGE_HEADER_SIZE;
    l->table_size = ROUND_UP(nchunks * OCSSD_IMAGE_TABLE_ENTRY,
                             OCSSD_IMAGE_ALIGN);
    l->data_offset = l->table_offset + l->table_size;
    l->data_size = nsectors * p->sec_size;
    l->meta_offset = l->data_offset + l->data_size;
    l->meta_size = ROUND_UP(nsectors * p->md_size, OCSSD_IMAGE_ALIGN);
    l->image_size = l->meta_offset + l->meta_size;
}

static uint32_t mccap_of(const OcssdMediaParams *p)
{
    return (p->vector_copy ? OCSSD_MCCAP_VECTOR_COPY : 0) |
           (p->multiple_resets ? OCSSD_MCCAP_MULTIPLE_RESETS : 0) |
           (p->early_reset ? OCSSD_MCCAP_EARLY_RESET : 0);
}

void ocssd_image_header_init(OcssdImageHeader *h, const OcssdMediaParams *p,
                             const QemuUUID *uuid)
{
    OcssdImageLayout l;

    ocssd_image_layout(p, &l);
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, OCSSD_IMAGE_MAGIC, sizeof(h->magic));
    h->version = cpu_to_le32(OCSSD_IMAGE_VERSION);
    h->header_size = cpu_to_le32(OCSSD_IMAGE_HEADER_SIZE);
    memcpy(h->uuid, uuid->data, sizeof(h->uuid));
    h->num_grp = cpu_to_le32(p->num_grp);
    h->num_pu = cpu_to_le32(p->num_pu);
    h->num_chk = cpu_to_le32(p->num_chk);
    h->clba = cpu_to_le32(p->clba);
    h->sec_size = cpu_to_le32(p->sec_size);
    h->md_size = cpu_to_le32(p->md_size);
    h->ws_min = cpu_to_le32(p->ws_min);
    h->ws_opt = cpu_to_le32(p->ws_opt);
    h->mw_cunits = cpu_to_le32(p->mw_cunits);
    h->maxoc = cpu_to_le32(p->maxoc);
    h->maxocpu = cpu_to_le32(p->maxocpu);
    h->wit = cpu_to_le32(p->wit);
    h->trdt = cpu_to_le32(p->trdt);
    h->trdm = cpu_to_le32(p->trdm);
    h->twrt = cpu_to_le32(p->twrt);
    h->twrm = cpu_to_le32(p->twrm);
    h->tcrst = cpu_to_le32(p->tcrst);
    h->tcrsm = cpu_to_le32(p->tcrsm);
    h->mccap = cpu_to_le32(mccap_of(p));
    h->table_offset = cpu_to_le64(l.table_offset);
    h->table_size = cpu_to_le64(l.table_size);
    h->data_offset = cpu_to_le64(l.data_offset);
    h->data_size = cpu_to_le64(l.data_size);
    h->meta_offset = cpu_to_le64(l.meta_offset);
    h->meta_size = cpu_to_le64(l.meta_size);
    h->image_size = cpu_to_le64(l.image_size);
    ocssd_image_header_seal(h);
}

static uint32_t header_crc(const OcssdImageHeader *h)
{
    return crc32c(0xffffffff, (const uint8_t *)h,
                  offsetof(OcssdImageHeader, header_crc));
}

/* Recompute the checksum after changing a header field. */
void ocssd_image_header_seal(OcssdImageHeader *h)
{
    h->header_crc = cpu_to_le32(header_crc(h));
}

/*
 * Check a header read from an image of file_size bytes and extract its
 * media parameters.  Every rejection says what is wrong, so that a user
 * can tell a truncated copy from a foreign file or a damaged header.
 */
bool ocssd_image_header_parse(const OcssdImageHeader *h, uint64_t file_size,
                              OcssdMediaParams *p, Error **errp)
{
    OcssdImageLayout l;
    uint32_t version = le32_to_cpu(h->version), mccap;

    if (buffer_is_zero(h->magic, sizeof(h->magic))) {
        /* Likely made by habit with qemu-img create or truncate -s. */
        error_setg(errp, "not an ocssd image (it starts with zeroes, not "
                   "\"%s\"): only a zero-length file is formatted; make one "
                   "with 'ocssd-img create' or 'truncate -s 0'",
                   OCSSD_IMAGE_MAGIC);
        return false;
    }
    if (memcmp(h->magic, OCSSD_IMAGE_MAGIC, sizeof(h->magic))) {
        error_setg(errp, "not an ocssd image (bad magic; expected \"%s\")",
                   OCSSD_IMAGE_MAGIC);
        return false;
    }
    if (version != OCSSD_IMAGE_VERSION) {
        error_setg(errp, "unsupported ocssd image format version %" PRIu32
                   " (this build reads version %d)", version,
                   OCSSD_IMAGE_VERSION);
        return false;
    }
    if (le32_to_cpu(h->header_crc) != header_crc(h)) {
        error_setg(errp, "ocssd image header checksum mismatch "
                   "(stored 0x%08" PRIx32 ", computed 0x%08" PRIx32
                   "): the header is damaged",
                   le32_to_cpu(h->header_crc), header_crc(h));
        return false;
    }
    if (le32_to_cpu(h->header_size) != OCSSD_IMAGE_HEADER_SIZE) {
        error_setg(errp, "ocssd image header size %" PRIu32 " is invalid "
                   "(expected %d)", le32_to_cpu(h->header_size),
                   OCSSD_IMAGE_HEADER_SIZE);
        return false;
    }
    if (le32_to_cpu(h->flags) & ~OCSSD_IMAGE_FLAGS_KNOWN) {
        error_setg(errp, "ocssd image has unknown flags 0x%" PRIx32,
                   le32_to_cpu(h->flags) & ~OCSSD_IMAGE_FLAGS_KNOWN);
        return false;
    }
    mccap = le32_to_cpu(h->mccap);
    if (mccap & ~(OCSSD_MCCAP_VECTOR_COPY | OCSSD_MCCAP_MULTIPLE_RESETS |
                  OCSSD_MCCAP_EARLY_RESET)) {
        error_setg(errp, "ocssd image has unknown mccap bits 0x%" PRIx32,
                   mccap);
        return false;
    }

    p->num_grp = le32_to_cpu(h->num_grp);
    p->num_pu = le32_to_cpu(h->num_pu);
    p->num_chk = le32_to_cpu(h->num_chk);
    p->clba = le32_to_cpu(h->clba);
    p->sec_size = le32_to_cpu(h->sec_size);
    p->md_size = le32_to_cpu(h->md_size);
    p->ws_min = le32_to_cpu(h->ws_min);
    p->ws_opt = le32_to_cpu(h->ws_opt);
    p->mw_cunits = le32_to_cpu(h->mw_cunits);
    p->maxoc = le32_to_cpu(h->maxoc);
    p->maxocpu = le32_to_cpu(h->maxocpu);
    p->wit = le32_to_cpu(h->wit);
    p->trdt = le32_to_cpu(h->trdt);
    p->trdm = le32_to_cpu(h->trdm);
    p->twrt = le32_to_cpu(h->twrt);
    p->twrm = le32_to_cpu(h->twrm);
    p->tcrst = le32_to_cpu(h->tcrst);
    p->tcrsm = le32_to_cpu(h->tcrsm);
    p->vector_copy = mccap & OCSSD_MCCAP_VECTOR_COPY;
    p->multiple_resets = mccap & OCSSD_MCCAP_MULTIPLE_RESETS;
    p->early_reset = mccap & OCSSD_MCCAP_EARLY_RESET;
    if (!ocssd_media_params_check(p, errp)) {
        error_prepend(errp, "ocssd image header holds an invalid geometry: ");
        return false;
    }

    ocssd_image_layout(p, &l);
    if (le64_to_cpu(h->table_offset) != l.table_offset ||
        le64_to_cpu(h->table_size) != l.table_size ||
        le64_to_cpu(h->data_offset) != l.data_offset ||
        le64_to_cpu(h->data_size) != l.data_size ||
        le64_to_cpu(h->meta_offset) != l.meta_offset ||
        le64_to_cpu(h->meta_size) != l.meta_size ||
        le64_to_cpu(h->image_size) != l.image_size) {
        error_setg(errp, "ocssd image layout fields do not match its "
                   "geometry (the header is inconsistent)");
        return false;
    }
    if (file_size < l.image_size) {
        error_setg(errp, "ocssd image is truncated: %" PRIu64 " bytes, its "
                   "geometry needs %" PRIu64, file_size, l.image_size);
        return false;
    }
    return true;
}

void ocssd_image_chunk_encode(const OcssdChunk *c, OcssdImageChunk *e)
{
    memset(e, 0, sizeof(*e));
    e->state = c->state;
    e->type = c->type;
    e->wli = c->wli;
    e->erase_count = cpu_to_le32(c->erase_count);
    e->cnlb = cpu_to_le64(c->cnlb);
    e->wp = cpu_to_le64(c->wp);
    e->crc = cpu_to_le32(crc32c(0xffffffff, (const uint8_t *)e,
                                offsetof(OcssdImageChunk, crc)));
}

/* Decode one table entry and check it: checksum, then the chunk itself. */
bool ocssd_image_chunk_decode(const OcssdImageChunk *e,
                              const OcssdMediaParams *p, OcssdChunk *c,
                              Error **errp)
{
    uint32_t crc = crc32c(0xffffffff, (const uint8_t *)e,
                          offsetof(OcssdImageChunk, crc));

    if (le32_to_cpu(e->crc) != crc) {
        error_setg(errp, "checksum mismatch");
        return false;
    }
    c->state = e->state;
    c->type = e->type;
    c->wli = e->wli;
    c->erase_count = le32_to_cpu(e->erase_count);
    c->cnlb = le64_to_cpu(e->cnlb);
    c->wp = le64_to_cpu(e->wp);
    c->mw_floor = c->wp;
    return ocssd_media_chunk_check(p, c, errp);
}

/*
 * Decode count table entries, those of chunks first .. first + count - 1,
 * into m (a table read in pieces; ocssd_media_recount() after the last).
 */
bool ocssd_image_table_decode_part(const void *entries, OcssdMedia *m,
                                   uint64_t first, uint64_t count,
                                   Error **errp)
{
    const OcssdImageChunk *e = entries;
    uint64_t i;

    assert(first <= m->nchunks && count <= m->nchunks - first);
    for (i = 0; i < count; i++) {
        uint64_t chunk = first + i;

        if (!ocssd_image_chunk_decode(&e[i], &m->p, &m->chunk[chunk],
                                      errp)) {
            OcssdAddr a;

            ocssd_chunk_addr(m, chunk, &a);
            error_prepend(errp, "ocssd image chunk table entry %" PRIu64
                          " (grp %" PRIu32 " pu %" PRIu32 " chk %" PRIu32
                          "): ", chunk, a.grp, a.pu, a.chk);
            return false;
        }
    }
    return true;
}

/* Decode a whole table (m->nchunks entries) into m and recount. */
bool ocssd_image_table_decode(const void *table, OcssdMedia *m, Error **errp)
{
    if (!ocssd_image_table_decode_part(table, m, 0, m->nchunks, errp)) {
        return false;
    }
    ocssd_media_recount(m);
    return true;
}
