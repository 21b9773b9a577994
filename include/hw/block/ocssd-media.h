/*
 * ocssd: the Open-Channel 2.0 media model
 *
 * Geometry, address decoding, chunk states and write pointers, and every
 * rule of the chunk state machine (spec digest sections 3 and 4).  Plain C
 * with no knowledge of PCI, queues or the image file, so the rules can be
 * unit tested on their own (tests/unit/test-ocssd-media.c) and so the
 * standard and vector command paths share one implementation of them.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#ifndef HW_BLOCK_OCSSD_MEDIA_H
#define HW_BLOCK_OCSSD_MEDIA_H

#include "hw/block/ocssd-spec.h"

/*
 * What describes a medium: the geometry and the media behaviour the
 * Geometry command reports.  The image header stores exactly this.
 */
typedef struct OcssdMediaParams {
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
    bool        vector_copy;
    bool        multiple_resets;
    bool        early_reset;
} OcssdMediaParams;

/* Built-in defaults for a new medium (the device's property defaults). */
#define OCSSD_DEFAULT_NUM_GRP       2
#define OCSSD_DEFAULT_NUM_PU        4
#define OCSSD_DEFAULT_NUM_CHK       60
#define OCSSD_DEFAULT_CLBA          4096
#define OCSSD_DEFAULT_SEC_SIZE      4096
#define OCSSD_DEFAULT_MD_SIZE       16
#define OCSSD_DEFAULT_WS_MIN        4
#define OCSSD_DEFAULT_WS_OPT        8
#define OCSSD_DEFAULT_MW_CUNITS     24
#define OCSSD_DEFAULT_MAXOC         0
#define OCSSD_DEFAULT_MAXOCPU       0
#define OCSSD_DEFAULT_WIT           10
#define OCSSD_DEFAULT_TRDT          70000
#define OCSSD_DEFAULT_TRDM          100000
#define OCSSD_DEFAULT_TWRT          1900000
#define OCSSD_DEFAULT_TWRM          3500000
#define OCSSD_DEFAULT_TCRST         3000000
#define OCSSD_DEFAULT_TCRSM         10000000

extern const OcssdMediaParams ocssd_media_default_params;

/*
 * The media properties, in one table for `-device ocssd` and `ocssd-img
 * -o`: the same names, the same help texts.  The uint32_t fields come
 * first, in the order of enum OcssdMediaProp (a property the user set has
 * its bit in the device's OcssdParams.media_set: an existing image
 * supplies the ones left unset); the three MCCAP flags (bool) follow.
 */
enum OcssdMediaProp {
    OCSSD_MP_NUM_GRP, OCSSD_MP_NUM_PU, OCSSD_MP_NUM_CHK, OCSSD_MP_CLBA,
    OCSSD_MP_SEC_SIZE, OCSSD_MP_MD_SIZE, OCSSD_MP_WS_MIN, OCSSD_MP_WS_OPT,
    OCSSD_MP_MW_CUNITS, OCSSD_MP_MAXOC, OCSSD_MP_MAXOCPU, OCSSD_MP_WIT,
    OCSSD_MP_TRDT, OCSSD_MP_TRDM, OCSSD_MP_TWRT, OCSSD_MP_TWRM,
    OCSSD_MP_TCRST, OCSSD_MP_TCRSM,
    OCSSD_MP__COUNT,
};

typedef struct OcssdMediaPropInfo {
    const char  *name;
    size_t      offset;         /* in OcssdMediaParams */
    bool        is_bool;        /* bool field, else uint32_t */
    const char  *desc;          /* help text, with the allowed range */
} OcssdMediaPropInfo;

#define OCSSD_MEDIA_NPROPS          (OCSSD_MP__COUNT + 3)
extern const OcssdMediaPropInfo ocssd_media_props[OCSSD_MEDIA_NPROPS];

static inline uint32_t *ocssd_media_param_u32(OcssdMediaParams *p, int i)
{
    return (uint32_t *)((uint8_t *)p + ocssd_media_props[i].offset);
}

static inline bool *ocssd_media_param_bool(OcssdMediaParams *p, int i)
{
    return (bool *)((uint8_t *)p + ocssd_media_props[i].offset);
}

/*
 * The most chunks (num_grp x num_pu x num_chk) a geometry may have
 * (docs/image-format.rst, "Limits"; ocssd_media_check_limits()).  The
 * device keeps the state of every chunk in memory, up to 60 bytes of it
 * (the media model's OcssdChunk, 32; the store's OcssdStoreChunk, 24; the
 * per-PU open count, 4, when a parallel unit has one chunk; measured 56
 * to 60), so 2^24 chunks cost about 1 GiB, and the chunk table on the
 * image (32 bytes per chunk, 512 MiB) stays well below the largest single
 * block-layer request (2 GiB).
 */
#define OCSSD_MAX_CHUNKS            (1u << 24)

/* Bit layout of an LBA (digest section 3). */
typedef struct OcssdLbaFormat {
    uint8_t     grp_len, pu_len, chk_len, lbk_len;
    uint8_t     grp_off, pu_off, chk_off;
} OcssdLbaFormat;

typedef struct OcssdAddr {
    uint32_t    grp;
    uint32_t    pu;
    uint32_t    chk;
    uint32_t    sec;
} OcssdAddr;

typedef struct OcssdChunk {
    uint8_t     state;          /* OcssdChunkState */
    uint8_t     type;           /* OcssdChunkType */
    uint8_t     wli;            /* wear-level index */
    uint32_t    erase_count;
    uint64_t    cnlb;           /* sectors in this chunk */
    uint64_t    wp;             /* write pointer, advanced at acceptance */
    /*
     * Run-time only: sectors below mw_floor are readable even inside the
     * MW_CUNITS window (everything below WP when the image was opened).
     */
    uint64_t    mw_floor;
} OcssdChunk;

/* Chunk Notification log (D0h). */
#define OCSSD_NOTIFY_LOG_ENTRIES    64

typedef struct OcssdNotifyLog {
    OcssdChunkNotification entry[OCSSD_NOTIFY_LOG_ENTRIES];
    unsigned    count;          /* valid entries, oldest first */
    uint64_t    nc;             /* notification count of the newest entry */
} OcssdNotifyLog;

typedef struct OcssdMedia {
    OcssdMediaParams p;
    OcssdLbaFormat lbaf;
    uint64_t    nchunks;
    uint64_t    nsectors;       /* nchunks * clba: the data region */
    uint64_t    nsze;           /* 2^(all address bits): the namespace size */
    bool        mw_strict;      /* enforce the MW_CUNITS read window */
    OcssdChunk  *chunk;
    uint32_t    open_total;
    uint32_t    *open_pu;       /* open chunks per parallel unit */
    uint64_t    wli_sum;        /* over chunks that are not offline */
    uint64_t    wli_count;
    uint64_t    wli_hist[256];  /* chunks (not offline) per wear index */
    /*
     * Chunks whose wear index left the band average +- WIT, oldest first,
     * waiting for the device to notify them (ocssd_media_wli_event).
     */
    uint64_t    wli_event[OCSSD_NOTIFY_LOG_ENTRIES];
    unsigned    wli_nevent;
    OcssdNotifyLog notify;
} OcssdMedia;

/*
 * One sector of an I/O command, in command (list) order.  The standard
 * commands expand their range into entries too, so both paths go through
 * the same checks.
 */
typedef struct OcssdIoEntry {
    uint64_t    lba;
    OcssdAddr   addr;
    uint64_t    chunk;          /* chunk index, valid once decoded */
    uint64_t    sector;         /* sector index in the data region */
    uint16_t    status;         /* NVME_SUCCESS or why this entry failed */
    bool        zeroes;         /* a read that returns zeroes (unwritten) */
    /*
     * A write: the chunk's erase count when the write was accepted, so
     * that a failure found later is pinned on that generation of the
     * chunk, not on one a reset started since.
     */
    uint32_t    gen;
} OcssdIoEntry;

/* Geometry and addresses. */
bool ocssd_media_params_check(const OcssdMediaParams *p, Error **errp);
bool ocssd_media_check_limits(const OcssdMediaParams *p, Error **errp);
void ocssd_media_init(OcssdMedia *m, const OcssdMediaParams *p);
void ocssd_media_cleanup(OcssdMedia *m);
void ocssd_media_recount(OcssdMedia *m);
bool ocssd_media_chunk_check(const OcssdMediaParams *p, const OcssdChunk *c,
                             Error **errp);
bool ocssd_lba_decode(const OcssdMedia *m, uint64_t lba, OcssdAddr *a);
uint64_t ocssd_lba_encode(const OcssdMedia *m, const OcssdAddr *a);
uint64_t ocssd_chunk_index(const OcssdMedia *m, const OcssdAddr *a);
void ocssd_chunk_addr(const OcssdMedia *m, uint64_t chunk, OcssdAddr *a);
uint64_t ocssd_chunk_slba(const OcssdMedia *m, uint64_t chunk);
void ocssd_media_geometry(const OcssdMedia *m, OcssdIdGeo *geo);
void ocssd_media_chunk_descriptor(const OcssdMedia *m, uint64_t chunk,
                                  OcssdChunkDescriptor *d);

/* Rules (each returns NVME_SUCCESS or the status of the first failure). */
uint16_t ocssd_media_decode_entries(const OcssdMedia *m, OcssdIoEntry *e,
                                    unsigned n, bool is_write);
uint16_t ocssd_media_check_range(const OcssdMedia *m, uint64_t slba,
                                 uint32_t nlb, bool is_write);
uint16_t ocssd_media_check_write(const OcssdMedia *m, OcssdIoEntry *e,
                                 unsigned n);
void ocssd_media_commit_write(OcssdMedia *m, OcssdIoEntry *e, unsigned n);
uint16_t ocssd_media_check_read(const OcssdMedia *m, OcssdIoEntry *e,
                                unsigned n, bool dulbe);
uint16_t ocssd_media_check_reset(const OcssdMedia *m, uint64_t chunk);
bool ocssd_media_reset(OcssdMedia *m, uint64_t chunk);
void ocssd_media_set_offline(OcssdMedia *m, uint64_t chunk);
bool ocssd_media_wli_event(OcssdMedia *m, uint64_t *chunk);
uint16_t ocssd_media_check_dsm_range(const OcssdMedia *m, uint64_t slba,
                                     uint32_t nlb, uint64_t *chunk);
bool ocssd_media_sector_readable(const OcssdMedia *m, uint64_t chunk,
                                 uint64_t sec);

/* Chunk Notification log. */
void ocssd_notify_add(OcssdNotifyLog *log, uint64_t lba, uint32_t nsid,
                      uint16_t state, uint8_t mask, uint16_t nlb);
void ocssd_notify_clear(OcssdNotifyLog *log);

const char *ocssd_chunk_state_name(uint8_t state);

#endif /* HW_BLOCK_OCSSD_MEDIA_H */
