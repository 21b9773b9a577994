/*
 * Open-Channel SSD 2.0 additions to NVMe: wire structures and constants
 *
 * Everything NVMe 1.3 defines comes from QEMU's include/block/nvme.h; this
 * header adds only what the Open-Channel 2.0 specification defines on top
 * (docs/ocssd-spec-decisions.rst lists the choices the project made where
 * the specification leaves one).  Fields are little-endian on the wire.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#ifndef HW_BLOCK_OCSSD_SPEC_H
#define HW_BLOCK_OCSSD_SPEC_H

#include "qemu/bswap.h"
#include "block/nvme.h"

/* Identify Namespace vendor-specific byte 384: "Open-Channel 2.0". */
#define OCSSD_ID_NS_VS_OCSSD20      0x01

enum OcssdAdminCommands {
    OCSSD_ADM_CMD_GEOMETRY          = 0xe2,
};

enum OcssdIoCommands {
    OCSSD_CMD_VECT_RESET            = 0x90,
    OCSSD_CMD_VECT_WRITE            = 0x91,
    OCSSD_CMD_VECT_READ             = 0x92,
    OCSSD_CMD_VECT_COPY             = 0x93,
};

enum OcssdLogIds {
    OCSSD_LOG_CHUNK_INFO            = 0xca,
    OCSSD_LOG_CHUNK_NOTIFICATION    = 0xd0,
};

enum OcssdFeatureIds {
    OCSSD_FEAT_MEDIA_FEEDBACK       = 0xca,
};

/* Media Feedback feature, CDW11. */
enum OcssdMediaFeedback {
    OCSSD_MEDIA_FEEDBACK_HECC       = 1 << 0,   /* standard reads */
    OCSSD_MEDIA_FEEDBACK_VHECC      = 1 << 1,   /* vector reads */
};

/* Status codes, SCT 2h (Media and Data Integrity Errors), as SCT << 8 | SC. */
enum OcssdStatusCodes {
    OCSSD_OFFLINE_CHUNK             = 0x02c0,
    OCSSD_INVALID_RESET             = 0x02c1,
    OCSSD_HIGH_ECC                  = 0x02d0,
    OCSSD_WRITE_NEXT_UNIT           = 0x02f0,
    OCSSD_CHUNK_EARLY_CLOSE         = 0x02f1,
    OCSSD_OUT_OF_ORDER_WRITE        = 0x02f2,
};

/* Chunk states (one-hot) and types, chunk descriptor CS and CT. */
enum OcssdChunkState {
    OCSSD_CHUNK_FREE                = 1 << 0,
    OCSSD_CHUNK_CLOSED              = 1 << 1,
    OCSSD_CHUNK_OPEN                = 1 << 2,
    OCSSD_CHUNK_OFFLINE             = 1 << 3,
};

enum OcssdChunkType {
    OCSSD_CHUNK_TYPE_SEQUENTIAL     = 1 << 0,
    OCSSD_CHUNK_TYPE_RANDOM         = 1 << 1,
    OCSSD_CHUNK_TYPE_SHRINKED       = 1 << 4,
};

/* Geometry MCCAP. */
enum OcssdMccap {
    OCSSD_MCCAP_VECTOR_COPY         = 1 << 0,
    OCSSD_MCCAP_MULTIPLE_RESETS     = 1 << 1,
    /* Project decision: not in the specification, see ocssd-spec.rst. */
    OCSSD_MCCAP_EARLY_RESET         = 1 << 2,
};

/* Geometry LBA format: bit lengths of each address field. */
typedef struct QEMU_PACKED OcssdIdLbaf {
    uint8_t     grp_len;
    uint8_t     pu_len;
    uint8_t     chk_len;
    uint8_t     lbk_len;
    uint8_t     rsvd4[4];
} OcssdIdLbaf;

/* Geometry, admin command E2h: 4096 bytes. */
typedef struct QEMU_PACKED OcssdIdGeo {
    uint8_t     mjr;
    uint8_t     mnr;
    uint8_t     rsvd2[6];
    OcssdIdLbaf lbaf;
    uint32_t    mccap;
    uint8_t     rsvd20[12];
    uint8_t     wit;
    uint8_t     rsvd33[31];
    uint16_t    num_grp;
    uint16_t    num_pu;
    uint32_t    num_chk;
    uint32_t    clba;
    uint8_t     rsvd76[52];
    uint32_t    ws_min;
    uint32_t    ws_opt;
    uint32_t    mw_cunits;
    uint32_t    maxoc;
    uint32_t    maxocpu;
    uint8_t     rsvd148[44];
    uint32_t    trdt;
    uint32_t    trdm;
    uint32_t    twrt;
    uint32_t    twrm;
    uint32_t    tcrst;
    uint32_t    tcrsm;
    uint8_t     rsvd216[2856];
    uint8_t     vs[1024];
} OcssdIdGeo;

/* Chunk Information log page (CAh): one descriptor per chunk. */
typedef struct QEMU_PACKED OcssdChunkDescriptor {
    uint8_t     cs;
    uint8_t     ct;
    uint8_t     wli;
    uint8_t     rsvd3[5];
    uint64_t    slba;
    uint64_t    cnlb;
    uint64_t    wp;
} OcssdChunkDescriptor;

/* Chunk Notification log page (D0h): 64-byte entries, newest last. */
typedef struct QEMU_PACKED OcssdChunkNotification {
    uint64_t    nc;
    uint64_t    lba;
    uint32_t    nsid;
    uint16_t    state;
    uint8_t     mask;
    uint8_t     rsvd23[9];
    uint16_t    nlb;
    uint8_t     rsvd34[30];
} OcssdChunkNotification;

enum OcssdNotificationState {
    OCSSD_NOTIFY_ERR_LOW            = 1 << 0,
    OCSSD_NOTIFY_ERR_MEDIUM         = 1 << 1,
    OCSSD_NOTIFY_ERR_HIGH           = 1 << 2,
    OCSSD_NOTIFY_ERR_UNRECOVERABLE  = 1 << 3,
    OCSSD_NOTIFY_REFRESHED          = 1 << 4,
    OCSSD_NOTIFY_WLI                = 1 << 8,
};

enum OcssdNotificationMask {
    OCSSD_NOTIFY_MASK_SECTOR        = 1 << 0,
    OCSSD_NOTIFY_MASK_CHUNK         = 1 << 1,
    OCSSD_NOTIFY_MASK_PU            = 1 << 2,
    OCSSD_NOTIFY_MASK_GROUP         = 1 << 3,
};

/*
 * Vector commands (90h-93h).  CDW10-11 hold the LBA list pointer, or the
 * single LBA itself when NLB is 0; CDW12 bits 5:0 hold NLB (0's based).
 */
typedef struct QEMU_PACKED OcssdVectorCmd {
    uint8_t     opcode;
    uint8_t     flags;
    uint16_t    cid;
    uint32_t    nsid;
    uint64_t    rsvd2;
    uint64_t    mptr;
    NvmeCmdDptr dptr;
    uint64_t    lbal;
    uint32_t    cdw12;
    uint32_t    cdw13;
    uint64_t    dlbal;          /* Vector Copy: destination LBA list */
} OcssdVectorCmd;

#define OCSSD_VECTOR_MAX_LBAS       64
#define OCSSD_VECTOR_NLB(cdw12)     ((cdw12) & 0x3f)
#define OCSSD_VECTOR_FUA            (1u << 30)
#define OCSSD_VECTOR_LR             (1u << 31)

/* Asynchronous event: vendor specific (7h), log page D0h. */
#define OCSSD_AER_INFO_CHUNK_NOTIFICATION   0x00

static inline void ocssd_spec_build_checks(void)
{
    QEMU_BUILD_BUG_ON(sizeof(OcssdIdLbaf) != 8);
    QEMU_BUILD_BUG_ON(sizeof(OcssdIdGeo) != 4096);
    QEMU_BUILD_BUG_ON(offsetof(OcssdIdGeo, lbaf) != 8);
    QEMU_BUILD_BUG_ON(offsetof(OcssdIdGeo, mccap) != 16);
    QEMU_BUILD_BUG_ON(offsetof(OcssdIdGeo, wit) != 32);
    QEMU_BUILD_BUG_ON(offsetof(OcssdIdGeo, num_grp) != 64);
    QEMU_BUILD_BUG_ON(offsetof(OcssdIdGeo, num_chk) != 68);
    QEMU_BUILD_BUG_ON(offsetof(OcssdIdGeo, clba) != 72);
    QEMU_BUILD_BUG_ON(offsetof(OcssdIdGeo, ws_min) != 128);
    QEMU_BUILD_BUG_ON(offsetof(OcssdIdGeo, maxocpu) != 144);
    QEMU_BUILD_BUG_ON(offsetof(OcssdIdGeo, trdt) != 192);
    QEMU_BUILD_BUG_ON(offsetof(OcssdIdGeo, tcrsm) != 212);
    QEMU_BUILD_BUG_ON(offsetof(OcssdIdGeo, vs) != 3072);
    QEMU_BUILD_BUG_ON(sizeof(OcssdChunkDescriptor) != 32);
    QEMU_BUILD_BUG_ON(sizeof(OcssdChunkNotification) != 64);
    QEMU_BUILD_BUG_ON(offsetof(OcssdChunkNotification, state) != 20);
    QEMU_BUILD_BUG_ON(offsetof(OcssdChunkNotification, nlb) != 32);
    QEMU_BUILD_BUG_ON(sizeof(OcssdVectorCmd) != 64);
    QEMU_BUILD_BUG_ON(offsetof(OcssdVectorCmd, lbal) != 40);
    QEMU_BUILD_BUG_ON(offsetof(OcssdVectorCmd, dlbal) != 56);
}

#endif /* HW_BLOCK_OCSSD_SPEC_H */
