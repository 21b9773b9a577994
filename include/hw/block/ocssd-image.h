/*
 * ocssd: the persistent media image format (version 1)
 *
 * docs/image-format.rst documents the format field by field.  This module
 * is pure: it lays out, encodes, decodes and validates headers and chunk
 * table entries held in memory buffers.  The device reaches the image
 * through its BlockBackend (hw/block/ocssd-store.c), the ocssd-img tool
 * through plain files; both use this one implementation of the format.
 *
 *   offset 0            header, 4 KiB
 *   table_offset        chunk table: one 32-byte entry per chunk
 *   data_offset         data: sector s of chunk c at (c * clba + s) * sec_size
 *   meta_offset         out-of-band metadata: md_size bytes per sector
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#ifndef HW_BLOCK_OCSSD_IMAGE_H
#define HW_BLOCK_OCSSD_IMAGE_H

#include "qemu/uuid.h"
#include "hw/block/ocssd-media.h"

#define OCSSD_IMAGE_MAGIC           "OCSSDIMG"
#define OCSSD_IMAGE_VERSION         1
#define OCSSD_IMAGE_HEADER_SIZE     4096
#define OCSSD_IMAGE_ALIGN           4096
#define OCSSD_IMAGE_TABLE_ENTRY     32

/* Header flags. */
#define OCSSD_IMAGE_FLAG_DIRTY      (1u << 0)   /* open in a device */
#define OCSSD_IMAGE_FLAGS_KNOWN     OCSSD_IMAGE_FLAG_DIRTY

/* Header mccap bits: the same as the Geometry command's MCCAP. */

typedef struct QEMU_PACKED OcssdImageHeader {
    char        magic[8];
    uint32_t    version;
    uint32_t    header_size;
    uint32_t    flags;
    uint32_t    rsvd20;
    uint8_t     uuid[16];
    /* geometry and media properties (OcssdMediaParams) */
    uint32_t    num_grp;
    uint32_t    num_pu;
    uint32_t    num_chk;
    uint32_t    clba;
    uint32_t    sec_size;
    uint32_t    md_size;
    uint32_t    ws_min;
    uint32_t    ws_opt;
    uint32_t    mw_cunits;
    uint32_t    maxoc;
    uint32_t    maxocpu;
    uint32_t    wit;
    uint32_t    trdt, trdm, twrt, twrm, tcrst, tcrsm;
    uint32_t    mccap;
    uint32_t    rsvd116;
    /* layout */
    uint64_t    table_offset;
    uint64_t    table_size;
    uint64_t    data_offset;
    uint64_t    data_size;
    uint64_t    meta_offset;
    uint64_t    meta_size;
    uint64_t    image_size;
    /* counters kept across runs */
    uint64_t    power_cycles;
    uint64_t    unsafe_shutdowns;
    /* the device state saved with this image (migration, snapshot), or 0 */
    uint64_t    saved_state;
    uint8_t     rsvd200[3892];
    uint32_t    header_crc;     /* CRC32C of bytes 0-4091 (all before it) */
} OcssdImageHeader;

/* A chunk table entry, 32 bytes, each with its own checksum. */
typedef struct QEMU_PACKED OcssdImageChunk {
    uint8_t     state;
    uint8_t     type;
    uint8_t     wli;
    uint8_t     rsvd3;
    uint32_t    erase_count;
    uint64_t    cnlb;
    uint64_t    wp;
    uint32_t    rsvd24;
    uint32_t    crc;            /* CRC32C of bytes 0-27 */
} OcssdImageChunk;

/* Where everything lives, derived from the media parameters. */
typedef struct OcssdImageLayout {
    uint64_t    table_offset, table_size;
    uint64_t    data_offset, data_size;
    uint64_t    meta_offset, meta_size;
    uint64_t    image_size;
} OcssdImageLayout;

void ocssd_image_layout(const OcssdMediaParams *p, OcssdImageLayout *l);
void ocssd_image_header_init(OcssdImageHeader *h, const OcssdMediaParams *p,
                             const QemuUUID *uuid);
void ocssd_image_header_seal(OcssdImageHeader *h);
bool ocssd_image_header_parse(const OcssdImageHeader *h, uint64_t file_size,
                              OcssdMediaParams *p, Error **errp);
void ocssd_image_chunk_encode(const OcssdChunk *c, OcssdImageChunk *e);
bool ocssd_image_chunk_decode(const OcssdImageChunk *e,
                              const OcssdMediaParams *p, OcssdChunk *c,
                              Error **errp);
bool ocssd_image_table_decode(const void *table, OcssdMedia *m,
                              Error **errp);
bool ocssd_image_table_decode_part(const void *entries, OcssdMedia *m,
                                   uint64_t first, uint64_t count,
                                   Error **errp);

/* Byte offsets of a sector's data and metadata. */
static inline uint64_t ocssd_image_data_offset(const OcssdImageLayout *l,
                                               const OcssdMediaParams *p,
                                               uint64_t sector)
{
    return l->data_offset + sector * p->sec_size;
}

static inline uint64_t ocssd_image_meta_offset(const OcssdImageLayout *l,
                                               const OcssdMediaParams *p,
                                               uint64_t sector)
{
    return l->meta_offset + sector * p->md_size;
}

#endif /* HW_BLOCK_OCSSD_IMAGE_H */
