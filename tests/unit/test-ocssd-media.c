/*
 * Unit tests of the ocssd media model (hw/block/ocssd-media.c)
 *
 * The chunk rules of the spec digest (sections 3 and 4) and the project's
 * decisions, exercised on the model alone: no QEMU, no PCI, no image.
 * Writes go through the same three steps as the device's I/O path
 * (decode, check, commit), reads through decode and check.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/block/ocssd-media.h"

#define WF      (NVME_WRITE_FAULT | NVME_DNR)
#define OOO     (OCSSD_OUT_OF_ORDER_WRITE | NVME_DNR)
#define INVF    (NVME_INVALID_FIELD | NVME_DNR)
#define RANGE   (NVME_LBA_RANGE | NVME_DNR)
#define DULB    (NVME_DULB | NVME_DNR)
#define OFFL    (OCSSD_OFFLINE_CHUNK | NVME_DNR)
#define INVR    (OCSSD_INVALID_RESET | NVME_DNR)

/* 2 groups x 2 PUs x 4 chunks x 64 sectors, WS_MIN 4, MW_CUNITS 8. */
static OcssdMediaParams small_params(void)
{
    OcssdMediaParams p = ocssd_media_default_params;

    p.num_grp = 2;
    p.num_pu = 2;
    p.num_chk = 4;
    p.clba = 64;
    p.ws_min = 4;
    p.ws_opt = 8;
    p.mw_cunits = 8;
    p.maxoc = 0;
    p.maxocpu = 0;
    p.wit = 0;
    return p;
}

static void media_new(OcssdMedia *m, const OcssdMediaParams *p)
{
    g_assert_true(ocssd_media_params_check(p, &error_abort));
    ocssd_media_init(m, p);
}

static uint64_t lba_of(const OcssdMedia *m, uint64_t chunk, uint64_t sec)
{
    return ocssd_chunk_slba(m, chunk) + sec;
}

/* A write of the given LBAs, as the device runs it: decode, check, commit. */
static uint16_t write_lbas(OcssdMedia *m, const uint64_t *lba, unsigned n,
                           OcssdIoEntry *out)
{
    g_autofree OcssdIoEntry *e = g_new0(OcssdIoEntry, n);
    uint16_t first, st;
    unsigned i;

    for (i = 0; i < n; i++) {
        e[i].lba = lba[i];
    }
    first = ocssd_media_decode_entries(m, e, n, true);
    st = ocssd_media_check_write(m, e, n);
    if (first == NVME_SUCCESS) {
        first = st;
    }
    ocssd_media_commit_write(m, e, n);
    if (out) {
        memcpy(out, e, sizeof(*e) * n);
    }
    /* The first failure in list order, as the completion reports it. */
    for (i = 0; i < n; i++) {
        if (e[i].status) {
            return e[i].status;
        }
    }
    return NVME_SUCCESS;
}

/* Write count sectors of one chunk starting at sector sec. */
static uint16_t write_run(OcssdMedia *m, uint64_t chunk, uint64_t sec,
                          unsigned count)
{
    g_autofree uint64_t *lba = g_new(uint64_t, count);
    unsigned i;

    for (i = 0; i < count; i++) {
        lba[i] = lba_of(m, chunk, sec + i);
    }
    return write_lbas(m, lba, count, NULL);
}

/* Read one sector: its status, and whether it reads as zeroes. */
static uint16_t read_one(OcssdMedia *m, uint64_t lba, bool dulbe,
                         bool *zeroes)
{
    OcssdIoEntry e = { .lba = lba };
    uint16_t st = ocssd_media_decode_entries(m, &e, 1, false);

    if (!st) {
        st = ocssd_media_check_read(m, &e, 1, dulbe);
    }
    g_assert_cmphex(st, ==, e.status);
    if (zeroes) {
        *zeroes = e.zeroes;
    }
    return st;
}

static bool readable(OcssdMedia *m, uint64_t chunk, uint64_t sec)
{
    bool z;

    g_assert_cmphex(read_one(m, lba_of(m, chunk, sec), false, &z), ==, 0);
    g_assert_cmphex(read_one(m, lba_of(m, chunk, sec), true, NULL), ==,
                    z ? DULB : 0);
    return !z;
}

static void fill_chunk(OcssdMedia *m, uint64_t chunk)
{
    g_assert_cmphex(write_run(m, chunk, m->chunk[chunk].wp,
                              m->chunk[chunk].cnlb - m->chunk[chunk].wp),
                    ==, 0);
    g_assert_cmpuint(m->chunk[chunk].state, ==, OCSSD_CHUNK_CLOSED);
}

/* ---- parameters --------------------------------------------------------- */

static void test_params_defaults(void)
{
    g_assert_true(ocssd_media_params_check(&ocssd_media_default_params,
                                           &error_abort));
}

typedef struct ParamCase {
    const char *what;
    void (*set)(OcssdMediaParams *p);
    const char *message;        /* NULL: valid */
} ParamCase;

#define PC(name, body) \
    static void set_##name(OcssdMediaParams *p) { body; }
PC(grp0, p->num_grp = 0)
PC(grp_big, p->num_grp = 65536)
PC(pu0, p->num_pu = 0)
PC(pu_big, p->num_pu = 70000)
PC(chk0, p->num_chk = 0)
PC(clba0, p->clba = 0)
PC(sec_size, p->sec_size = 1024)
PC(md_size, p->md_size = 65)
PC(ws_min0, p->ws_min = 0)
PC(clba_ws_min, (p->clba = 66, p->ws_min = 4))
PC(ws_opt_mult, p->ws_opt = 6)
PC(ws_opt0, p->ws_opt = 0)
PC(ws_opt_big, p->ws_opt = 68)
PC(mw_eq, p->mw_cunits = 64)
PC(mw_big, p->mw_cunits = 100)
PC(wit_big, p->wit = 256)
PC(maxocpu, p->maxocpu = 5)
PC(maxoc, p->maxoc = 17)
PC(timing, p->trdm = p->trdt - 1)
PC(bits, (p->num_grp = 65535, p->num_pu = 65535, p->num_chk = 0xffffffff,
          p->clba = 4, p->ws_opt = 4, p->mw_cunits = 0))
PC(capacity, (p->num_grp = 1, p->num_pu = 1, p->num_chk = 1u << 26,
              p->clba = 1u << 26))
PC(ok_ones, (p->num_grp = 1, p->num_pu = 1, p->num_chk = 1, p->clba = 1,
             p->ws_min = 1, p->ws_opt = 1, p->mw_cunits = 0))
PC(ok_mw_max, p->mw_cunits = 63)
PC(ok_maxoc_all, (p->maxoc = 16, p->maxocpu = 4))
PC(ok_ws_opt_clba, p->ws_opt = 64)
PC(ok_wit, p->wit = 255)
PC(ok_odd, (p->num_grp = 3, p->num_pu = 5, p->num_chk = 7, p->clba = 12,
            p->ws_min = 3, p->ws_opt = 6, p->mw_cunits = 5))
#undef PC

static const ParamCase param_cases[] = {
#define C(name, msg) { #name, set_##name, msg }
    C(grp0, "num_grp=0 is invalid"),
    C(grp_big, "num_grp=65536 is invalid"),
    C(pu0, "num_pu=0 is invalid"),
    C(pu_big, "num_pu=70000 is invalid"),
    C(chk0, "num_chk=0 is invalid"),
    C(clba0, "clba=0 is invalid"),
    C(sec_size, "sec_size=1024 is invalid"),
    C(md_size, "md_size=65 is invalid"),
    C(ws_min0, "ws_min=0 is invalid"),
    C(clba_ws_min, "ws_min=4 is invalid: it must be at least 1 and divide "
      "clba=66"),
    C(ws_opt_mult, "ws_opt=6 is invalid: it must be a multiple of ws_min=4"),
    C(ws_opt0, "ws_opt=0 is invalid"),
    C(ws_opt_big, "ws_opt=68 is invalid"),
    C(mw_eq, "mw_cunits=64 is invalid: it must be smaller than clba=64"),
    C(mw_big, "mw_cunits=100 is invalid"),
    C(wit_big, "wit=256 is invalid"),
    C(maxocpu, "maxocpu=5 is invalid: it must not exceed num_chk=4"),
    C(maxoc, "maxoc=17 is invalid: it must not exceed the 16 chunks"),
    C(timing, "timing is invalid"),
    C(bits, "the geometry needs 66 LBA address bits"),
    C(capacity, "the geometry's capacity overflows"),
    C(ok_ones, NULL),
    C(ok_mw_max, NULL),
    C(ok_maxoc_all, NULL),
    C(ok_ws_opt_clba, NULL),
    C(ok_wit, NULL),
    C(ok_odd, NULL),
#undef C
};

static void test_params_validation(void)
{
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(param_cases); i++) {
        OcssdMediaParams p = small_params();
        Error *err = NULL;
        bool ok;

        param_cases[i].set(&p);
        ok = ocssd_media_params_check(&p, &err);
        if (!param_cases[i].message) {
            if (err) {
                g_error("%s: unexpected error: %s", param_cases[i].what,
                        error_get_pretty(err));
            }
            g_assert_true(ok);
            continue;
        }
        g_assert_false(ok);
        g_assert_nonnull(err);
        if (!strstr(error_get_pretty(err), param_cases[i].message)) {
            g_error("%s: message '%s' lacks '%s'", param_cases[i].what,
                    error_get_pretty(err), param_cases[i].message);
        }
        error_free(err);
    }
}

/* ---- addresses ---------------------------------------------------------- */

static uint8_t bits_for(uint64_t count)
{
    uint8_t b = 0;

    while ((1ULL << b) < count) {
        b++;
    }
    return b;
}

/* Every LBA of the namespace: a sector round-trips, a hole is refused. */
static void check_all_addresses(const OcssdMediaParams *p)
{
    OcssdMedia m;
    uint64_t lba, valid = 0;

    media_new(&m, p);
    g_assert_cmpuint(m.lbaf.grp_len, ==, bits_for(p->num_grp));
    g_assert_cmpuint(m.lbaf.pu_len, ==, bits_for(p->num_pu));
    g_assert_cmpuint(m.lbaf.chk_len, ==, bits_for(p->num_chk));
    g_assert_cmpuint(m.lbaf.lbk_len, ==, bits_for(p->clba));
    g_assert_cmpuint(m.nsze, ==, 1ULL << (m.lbaf.grp_len + m.lbaf.pu_len +
                                          m.lbaf.chk_len + m.lbaf.lbk_len));
    g_assert_cmpuint(m.nchunks, ==,
                     (uint64_t)p->num_grp * p->num_pu * p->num_chk);
    for (lba = 0; lba < m.nsze; lba++) {
        OcssdAddr a, b;
        uint64_t sec = lba & ((1ULL << m.lbaf.lbk_len) - 1);
        uint64_t chk = (lba >> m.lbaf.lbk_len) &
                       ((1ULL << m.lbaf.chk_len) - 1);
        uint64_t pu = (lba >> (m.lbaf.lbk_len + m.lbaf.chk_len)) &
                      ((1ULL << m.lbaf.pu_len) - 1);
        uint64_t grp = lba >> (m.lbaf.lbk_len + m.lbaf.chk_len +
                               m.lbaf.pu_len);
        bool hole = grp >= p->num_grp || pu >= p->num_pu ||
                    chk >= p->num_chk || sec >= p->clba;
        uint64_t chunk;

        g_assert_cmpint(ocssd_lba_decode(&m, lba, &a), ==, !hole);
        if (hole) {
            continue;
        }
        valid++;
        g_assert_cmpuint(a.grp, ==, grp);
        g_assert_cmpuint(a.pu, ==, pu);
        g_assert_cmpuint(a.chk, ==, chk);
        g_assert_cmpuint(a.sec, ==, sec);
        g_assert_cmpuint(ocssd_lba_encode(&m, &a), ==, lba);
        chunk = ocssd_chunk_index(&m, &a);
        g_assert_cmpuint(chunk, ==, (grp * p->num_pu + pu) * p->num_chk +
                         chk);
        ocssd_chunk_addr(&m, chunk, &b);
        g_assert_cmpuint(b.grp, ==, grp);
        g_assert_cmpuint(b.pu, ==, pu);
        g_assert_cmpuint(b.chk, ==, chk);
        g_assert_cmpuint(b.sec, ==, 0);
        g_assert_cmpuint(ocssd_chunk_slba(&m, chunk), ==, lba - sec);
    }
    g_assert_cmpuint(valid, ==, m.nsectors);
    g_assert_false(ocssd_lba_decode(&m, m.nsze, &(OcssdAddr) { 0 }));
    g_assert_false(ocssd_lba_decode(&m, UINT64_MAX, &(OcssdAddr) { 0 }));
    ocssd_media_cleanup(&m);
}

static void test_addr_small_geometries(void)
{
    static const uint32_t g[][5] = {
        /* grp, pu, chk, clba, ws_min */
        { 2, 2, 4, 64, 4 },     /* powers of two: no holes */
        { 3, 5, 7, 12, 3 },     /* none a power of two */
        { 1, 1, 1, 1, 1 },      /* counts of 1: zero-bit fields */
        { 1, 3, 1, 5, 1 },
        { 5, 1, 3, 1, 1 },
        { 2, 1, 9, 33, 1 },
        { 7, 6, 1, 48, 16 },
    };
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(g); i++) {
        OcssdMediaParams p = small_params();

        p.num_grp = g[i][0];
        p.num_pu = g[i][1];
        p.num_chk = g[i][2];
        p.clba = g[i][3];
        p.ws_min = g[i][4];
        p.ws_opt = g[i][4];
        p.mw_cunits = 0;
        check_all_addresses(&p);
    }
}

/* Boundary addresses of geometries with wide fields. */
static void check_wide(uint32_t grp, uint32_t pu, uint32_t chk, uint32_t clba)
{
    OcssdMediaParams p = small_params();
    OcssdMedia m;
    uint64_t gv[] = { 0, grp - 1 }, pv[] = { 0, pu - 1 }, cv[] = { 0, chk - 1 };
    uint64_t sv[] = { 0, MIN(1, clba - 1), clba / 2, clba - 1 };
    unsigned a, b, c, d;

    p.num_grp = grp;
    p.num_pu = pu;
    p.num_chk = chk;
    p.clba = clba;
    p.ws_min = 1;
    p.ws_opt = 1;
    p.mw_cunits = 0;
    media_new(&m, &p);
    g_assert_cmpuint(m.lbaf.grp_len + m.lbaf.pu_len + m.lbaf.chk_len +
                     m.lbaf.lbk_len, ==, bits_for(grp) + bits_for(pu) +
                     bits_for(chk) + bits_for(clba));
    for (a = 0; a < 2; a++) {
        for (b = 0; b < 2; b++) {
            for (c = 0; c < 2; c++) {
                for (d = 0; d < 4; d++) {
                    OcssdAddr x = { gv[a], pv[b], cv[c], sv[d] }, y;
                    uint64_t lba = ocssd_lba_encode(&m, &x);

                    g_assert_cmpuint(lba, <, m.nsze);
                    g_assert_true(ocssd_lba_decode(&m, lba, &y));
                    g_assert_cmpuint(y.grp, ==, x.grp);
                    g_assert_cmpuint(y.pu, ==, x.pu);
                    g_assert_cmpuint(y.chk, ==, x.chk);
                    g_assert_cmpuint(y.sec, ==, x.sec);
                }
            }
        }
    }
    /* One past each field's count is a hole (when the field has room). */
    if (clba < (1ULL << m.lbaf.lbk_len)) {
        OcssdAddr x = { 0, 0, 0, clba }, y;

        g_assert_false(ocssd_lba_decode(&m, ocssd_lba_encode(&m, &x), &y));
    }
    if (grp < (1ULL << m.lbaf.grp_len)) {
        OcssdAddr x = { grp, 0, 0, 0 }, y;

        g_assert_false(ocssd_lba_decode(&m, ocssd_lba_encode(&m, &x), &y));
    }
    g_assert_false(ocssd_lba_decode(&m, m.nsze, &(OcssdAddr) { 0 }));
    ocssd_media_cleanup(&m);
}

static void test_addr_wide_fields(void)
{
    check_wide(65535, 1, 1, 1);             /* 16-bit group field */
    check_wide(1, 65535, 1, 1);             /* 16-bit PU field */
    check_wide(1, 1, 1000003, 1);           /* 20-bit chunk field */
    check_wide(1, 1, 1, 0x80000001u);       /* 32-bit sector field */
    check_wide(3, 5, 7, 0x40000003u);       /* 39 bits in all */
    check_wide(65535, 3, 1, 4097);          /* 31 bits, odd counts */
}

/* ---- size limits -------------------------------------------------------- */

typedef struct LimitCase {
    uint32_t grp, pu, chk, clba, sec_size, md_size;
    const char *message;        /* NULL: within the limits */
} LimitCase;

#define TOO_MANY \
    "chunks is too many: at most 16777216 (2^24) chunks are supported, " \
    "as the device keeps every chunk's state in memory (about 1 GiB at " \
    "the limit); lower num_grp, num_pu or num_chk (a larger clba keeps " \
    "the capacity)"

static const LimitCase limit_cases[] = {
    /* chunks: 2^24 in any shape, then one more */
    { 256, 256, 256, 64, 4096, 16, NULL },
    { 1, 1, 1u << 24, 64, 4096, 16, NULL },
    { 65535, 256, 1, 64, 4096, 16, NULL },          /* 2^24 - 256 PUs */
    { 16, 16, 65536, 1, 512, 0, NULL },
    { 97, 257, 673, 64, 4096, 16,
      "num_grp=97 x num_pu=257 x num_chk=673 = 16777217 " TOO_MANY },
    { 1, 1, (1u << 24) + 1, 64, 4096, 16,
      "num_grp=1 x num_pu=1 x num_chk=16777217 = 16777217 " TOO_MANY },
    { 256, 256, 257, 64, 4096, 16,
      "num_grp=256 x num_pu=256 x num_chk=257 = 16842752 " TOO_MANY },
    { 65535, 257, 1, 1, 4096, 16,
      "num_grp=65535 x num_pu=257 x num_chk=1 = 16842495 " TOO_MANY },
    /* the geometry of the issue: 2^32 - 2^17 + 1 parallel units */
    { 65535, 65535, 1, 1, 512, 0,
      "num_grp=65535 x num_pu=65535 x num_chk=1 = 4294836225 " TOO_MANY },
    /* capacity: data + metadata at most 2^62 - 1 bytes */
    { 1, 1, 1u << 24, (1u << 26) - 1, 4096, 0, NULL },
    { 1, 1, 1u << 24, 1u << 26, 4096, 0,
      "the geometry's capacity overflows: 16777216 chunks of 67108864 "
      "sectors of 4096+0 bytes" },
    /* address bits: 63 pass (the capacity refuses), 64 do not */
    { 65535, 65535, 1u << 31, 1, 512, 0,
      "the geometry's capacity overflows" },
    { 65535, 65535, 0xffffffff, 1, 512, 0,
      "the geometry needs 64 LBA address bits" },
    { 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 4096, 64,
      "the geometry needs 128 LBA address bits" },
};

/*
 * ocssd_media_check_limits at and just past each bound (the geometries
 * at the limit are only checked: realizing one takes a second and 1 GiB).
 */
static void test_params_limits(void)
{
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(limit_cases); i++) {
        const LimitCase *c = &limit_cases[i];
        OcssdMediaParams p = small_params();
        Error *err = NULL;
        bool ok;

        p.num_grp = c->grp;
        p.num_pu = c->pu;
        p.num_chk = c->chk;
        p.clba = c->clba;
        p.sec_size = c->sec_size;
        p.md_size = c->md_size;
        ok = ocssd_media_check_limits(&p, &err);
        if (!c->message) {
            if (err) {
                g_error("case %u: unexpected error: %s", i,
                        error_get_pretty(err));
            }
            g_assert_true(ok);
            continue;
        }
        g_assert_false(ok);
        if (!strstr(error_get_pretty(err), c->message)) {
            g_error("case %u: message '%s' lacks '%s'", i,
                    error_get_pretty(err), c->message);
        }
        error_free(err);
    }
}

/*
 * ocssd_media_params_check applies the limits: the same geometries with
 * otherwise valid media properties, at the limit and one chunk past it.
 */
static void test_params_limits_checked(void)
{
    OcssdMediaParams p = small_params();
    Error *err = NULL;

    p.num_grp = 256;
    p.num_pu = 256;
    p.num_chk = 256;
    g_assert_true(ocssd_media_params_check(&p, &error_abort));
    p.num_chk = 257;
    g_assert_false(ocssd_media_params_check(&p, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "num_grp=256 x num_pu=256 x num_chk=257 = 16842752 "
                    TOO_MANY);
    error_free(err);
    err = NULL;

    p = small_params();
    p.num_grp = 65535;
    p.num_pu = 65535;
    p.num_chk = 1;
    p.clba = 1;
    p.ws_min = 1;
    p.ws_opt = 1;
    p.mw_cunits = 0;
    g_assert_false(ocssd_media_params_check(&p, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "num_grp=65535 x num_pu=65535 x num_chk=1 = 4294836225 "
                    TOO_MANY);
    error_free(err);
}

/* ---- geometry and descriptors ------------------------------------------- */

static void test_geometry(void)
{
    OcssdMediaParams p = small_params();
    OcssdMedia m;
    OcssdIdGeo geo;
    unsigned i;

    p.num_grp = 3;
    p.num_pu = 5;
    p.num_chk = 7;
    p.clba = 48;
    p.ws_min = 4;
    p.ws_opt = 12;
    p.mw_cunits = 16;
    p.maxoc = 9;
    p.maxocpu = 3;
    p.wit = 17;
    p.trdt = 1;
    p.trdm = 2;
    p.twrt = 3;
    p.twrm = 4;
    p.tcrst = 5;
    p.tcrsm = 6;
    p.vector_copy = false;
    p.multiple_resets = true;
    p.early_reset = true;
    media_new(&m, &p);
    ocssd_media_geometry(&m, &geo);
    g_assert_cmpuint(geo.mjr, ==, 2);
    g_assert_cmpuint(geo.mnr, ==, 0);
    g_assert_cmpuint(geo.lbaf.grp_len, ==, 2);
    g_assert_cmpuint(geo.lbaf.pu_len, ==, 3);
    g_assert_cmpuint(geo.lbaf.chk_len, ==, 3);
    g_assert_cmpuint(geo.lbaf.lbk_len, ==, 6);
    g_assert_cmphex(le32_to_cpu(geo.mccap), ==,
                    OCSSD_MCCAP_MULTIPLE_RESETS | OCSSD_MCCAP_EARLY_RESET);
    g_assert_cmpuint(geo.wit, ==, 17);
    g_assert_cmpuint(le16_to_cpu(geo.num_grp), ==, 3);
    g_assert_cmpuint(le16_to_cpu(geo.num_pu), ==, 5);
    g_assert_cmpuint(le32_to_cpu(geo.num_chk), ==, 7);
    g_assert_cmpuint(le32_to_cpu(geo.clba), ==, 48);
    g_assert_cmpuint(le32_to_cpu(geo.ws_min), ==, 4);
    g_assert_cmpuint(le32_to_cpu(geo.ws_opt), ==, 12);
    g_assert_cmpuint(le32_to_cpu(geo.mw_cunits), ==, 16);
    g_assert_cmpuint(le32_to_cpu(geo.maxoc), ==, 9);
    g_assert_cmpuint(le32_to_cpu(geo.maxocpu), ==, 3);
    g_assert_cmpuint(le32_to_cpu(geo.trdt), ==, 1);
    g_assert_cmpuint(le32_to_cpu(geo.trdm), ==, 2);
    g_assert_cmpuint(le32_to_cpu(geo.twrt), ==, 3);
    g_assert_cmpuint(le32_to_cpu(geo.twrm), ==, 4);
    g_assert_cmpuint(le32_to_cpu(geo.tcrst), ==, 5);
    g_assert_cmpuint(le32_to_cpu(geo.tcrsm), ==, 6);
    /* Reserved ranges are zero. */
    for (i = 0; i < sizeof(geo.rsvd2); i++) {
        g_assert_cmpuint(geo.rsvd2[i], ==, 0);
    }
    for (i = 0; i < sizeof(geo.rsvd216); i++) {
        g_assert_cmpuint(geo.rsvd216[i], ==, 0);
    }
    ocssd_media_cleanup(&m);

    p.vector_copy = true;
    p.multiple_resets = false;
    p.early_reset = false;
    media_new(&m, &p);
    ocssd_media_geometry(&m, &geo);
    g_assert_cmphex(le32_to_cpu(geo.mccap), ==, OCSSD_MCCAP_VECTOR_COPY);
    ocssd_media_cleanup(&m);
}

static void test_chunk_descriptor(void)
{
    OcssdMediaParams p = small_params();
    OcssdChunkDescriptor d;
    OcssdMedia m;
    uint64_t chunk = 13;    /* grp 1, pu 1, chk 1 */

    p.num_chk = 4;
    media_new(&m, &p);
    ocssd_media_chunk_descriptor(&m, chunk, &d);
    g_assert_cmpuint(d.cs, ==, OCSSD_CHUNK_FREE);
    g_assert_cmpuint(d.ct, ==, OCSSD_CHUNK_TYPE_SEQUENTIAL);
    g_assert_cmpuint(d.wli, ==, 0);
    g_assert_cmphex(le64_to_cpu(d.slba), ==, 1ULL << 9 | 1 << 8 | 1 << 6);
    g_assert_cmpuint(le64_to_cpu(d.cnlb), ==, 64);
    g_assert_cmpuint(le64_to_cpu(d.wp), ==, 0);
    g_assert_cmphex(write_run(&m, chunk, 0, 8), ==, 0);
    ocssd_media_chunk_descriptor(&m, chunk, &d);
    g_assert_cmpuint(d.cs, ==, OCSSD_CHUNK_OPEN);
    g_assert_cmpuint(le64_to_cpu(d.wp), ==, 8);
    fill_chunk(&m, chunk);
    g_assert_cmpuint(ocssd_media_check_reset(&m, chunk), ==, 0);
    ocssd_media_reset(&m, chunk);
    ocssd_media_chunk_descriptor(&m, chunk, &d);
    g_assert_cmpuint(d.cs, ==, OCSSD_CHUNK_FREE);
    g_assert_cmpuint(d.wli, ==, 1);
    g_assert_cmpuint(le64_to_cpu(d.wp), ==, 0);
    ocssd_media_set_offline(&m, chunk);
    ocssd_media_chunk_descriptor(&m, chunk, &d);
    g_assert_cmpuint(d.cs, ==, OCSSD_CHUNK_OFFLINE);
    ocssd_media_cleanup(&m);
}

/*
 * Descriptors on counts that are not powers of two (the SLBA is the LBA
 * format's address, not index x CLBA), and of a chunk with a deviating
 * number of sectors (CT bit 4, CNLB below CLBA).
 */
static void test_chunk_descriptor_odd(void)
{
    OcssdMediaParams p = small_params();
    OcssdChunkDescriptor d;
    OcssdMedia m;
    OcssdAddr a = { .grp = 2, .pu = 1, .chk = 3 };
    uint64_t chunk;

    p.num_grp = 3;
    p.num_pu = 3;
    p.num_chk = 5;
    p.clba = 48;
    media_new(&m, &p);
    chunk = ocssd_chunk_index(&m, &a);
    g_assert_cmpuint(chunk, ==, (2 * 3 + 1) * 5 + 3);
    ocssd_media_chunk_descriptor(&m, chunk, &d);
    /* 2 + 2 + 3 + 6 bits */
    g_assert_cmphex(le64_to_cpu(d.slba), ==, 2ULL << 11 | 1 << 9 | 3 << 6);
    g_assert_cmpuint(le64_to_cpu(d.cnlb), ==, 48);

    m.chunk[chunk].type |= OCSSD_CHUNK_TYPE_SHRINKED;
    m.chunk[chunk].cnlb = 32;
    ocssd_media_chunk_descriptor(&m, chunk, &d);
    g_assert_cmphex(d.ct, ==, OCSSD_CHUNK_TYPE_SEQUENTIAL |
                    OCSSD_CHUNK_TYPE_SHRINKED);
    g_assert_cmpuint(le64_to_cpu(d.cnlb), ==, 32);
    ocssd_media_cleanup(&m);
}

/* ---- the chunk state machine --------------------------------------------- */

static void test_state_transitions(void)
{
    OcssdMediaParams p = small_params();
    OcssdMedia m;
    OcssdChunk *c;

    media_new(&m, &p);
    c = &m.chunk[5];
    g_assert_cmpuint(c->state, ==, OCSSD_CHUNK_FREE);
    g_assert_cmpuint(c->wp, ==, 0);

    /* FREE --write at sector 0--> OPEN */
    g_assert_cmphex(write_run(&m, 5, 0, 4), ==, 0);
    g_assert_cmpuint(c->state, ==, OCSSD_CHUNK_OPEN);
    g_assert_cmpuint(c->wp, ==, 4);
    g_assert_cmpuint(m.open_total, ==, 1);
    g_assert_cmpuint(m.open_pu[1], ==, 1);

    /* OPEN stays OPEN until the last sector. */
    g_assert_cmphex(write_run(&m, 5, 4, 56), ==, 0);
    g_assert_cmpuint(c->state, ==, OCSSD_CHUNK_OPEN);
    g_assert_cmpuint(c->wp, ==, 60);

    /* --write of the last sector--> CLOSED */
    g_assert_cmphex(write_run(&m, 5, 60, 4), ==, 0);
    g_assert_cmpuint(c->state, ==, OCSSD_CHUNK_CLOSED);
    g_assert_cmpuint(c->wp, ==, 64);
    g_assert_cmpuint(m.open_total, ==, 0);
    g_assert_cmpuint(m.open_pu[1], ==, 0);

    /* CLOSED --reset--> FREE, WP 0, wear grows. */
    g_assert_cmphex(ocssd_media_check_reset(&m, 5), ==, 0);
    ocssd_media_reset(&m, 5);
    g_assert_cmpuint(c->state, ==, OCSSD_CHUNK_FREE);
    g_assert_cmpuint(c->wp, ==, 0);
    g_assert_cmpuint(c->wli, ==, 1);
    g_assert_cmpuint(c->erase_count, ==, 1);
    g_assert_cmpuint(m.wli_sum, ==, 1);

    /* FREE --one write of the whole chunk--> CLOSED, never counted open. */
    g_assert_cmphex(write_run(&m, 5, 0, 64), ==, 0);
    g_assert_cmpuint(c->state, ==, OCSSD_CHUNK_CLOSED);
    g_assert_cmpuint(m.open_total, ==, 0);

    /* any --media failure--> OFFLINE */
    ocssd_media_set_offline(&m, 5);
    g_assert_cmpuint(c->state, ==, OCSSD_CHUNK_OFFLINE);
    g_assert_cmpuint(m.wli_count, ==, m.nchunks - 1);
    g_assert_cmpuint(m.wli_sum, ==, 0);
    ocssd_media_cleanup(&m);
}

/* Injected write failures: Write Next Unit and Chunk Early Close. */
static void test_injected_write_failures(void)
{
    OcssdMediaParams p = small_params();
    OcssdIoEntry e[8];
    OcssdMedia m;
    unsigned i;

    media_new(&m, &p);
    g_assert_cmphex(write_run(&m, 0, 0, 8), ==, 0);

    /* Write Next Unit: the sectors are consumed, the chunk stays open. */
    for (i = 0; i < 4; i++) {
        e[i].lba = lba_of(&m, 0, 8 + i);
    }
    ocssd_media_decode_entries(&m, e, 4, true);
    g_assert_cmphex(ocssd_media_check_write(&m, e, 4), ==, 0);
    for (i = 0; i < 4; i++) {
        e[i].status = OCSSD_WRITE_NEXT_UNIT | NVME_DNR;
    }
    ocssd_media_commit_write(&m, e, 4);
    g_assert_cmpuint(m.chunk[0].state, ==, OCSSD_CHUNK_OPEN);
    g_assert_cmpuint(m.chunk[0].wp, ==, 12);
    g_assert_cmpuint(m.open_total, ==, 1);

    /* Chunk Early Close: closed, WP where it was. */
    for (i = 0; i < 4; i++) {
        e[i].lba = lba_of(&m, 0, 12 + i);
    }
    ocssd_media_decode_entries(&m, e, 4, true);
    g_assert_cmphex(ocssd_media_check_write(&m, e, 4), ==, 0);
    for (i = 0; i < 4; i++) {
        e[i].status = OCSSD_CHUNK_EARLY_CLOSE | NVME_DNR;
    }
    ocssd_media_commit_write(&m, e, 4);
    g_assert_cmpuint(m.chunk[0].state, ==, OCSSD_CHUNK_CLOSED);
    g_assert_cmpuint(m.chunk[0].wp, ==, 12);
    g_assert_cmpuint(m.open_total, ==, 0);
    /* Every sector below WP of the early-closed chunk is readable. */
    for (i = 0; i < 12; i++) {
        g_assert_true(readable(&m, 0, i));
    }
    g_assert_false(readable(&m, 0, 12));
    /* And it takes no more writes. */
    g_assert_cmphex(write_run(&m, 0, 12, 4), ==, WF);
    ocssd_media_cleanup(&m);
}

/* ---- write rules, one by one -------------------------------------------- */

static void test_write_closed_offline(void)
{
    OcssdMediaParams p = small_params();
    OcssdMedia m;

    media_new(&m, &p);
    fill_chunk(&m, 1);
    g_assert_cmphex(write_run(&m, 1, 0, 4), ==, WF);
    g_assert_cmphex(write_run(&m, 1, 64 - 4, 4), ==, WF);
    ocssd_media_set_offline(&m, 2);
    g_assert_cmphex(write_run(&m, 2, 0, 4), ==, WF);
    g_assert_cmpuint(m.chunk[2].state, ==, OCSSD_CHUNK_OFFLINE);
    g_assert_cmpuint(m.chunk[2].wp, ==, 0);
    ocssd_media_cleanup(&m);
}

static void test_write_out_of_order(void)
{
    OcssdMediaParams p = small_params();
    OcssdMedia m;
    uint64_t lba[8];
    unsigned i;

    media_new(&m, &p);
    /* Not at WP (FREE chunk: WP 0). */
    g_assert_cmphex(write_run(&m, 0, 4, 4), ==, OOO);
    g_assert_cmpuint(m.chunk[0].state, ==, OCSSD_CHUNK_FREE);
    g_assert_cmphex(write_run(&m, 0, 0, 8), ==, 0);
    /* Behind WP, and ahead of it. */
    g_assert_cmphex(write_run(&m, 0, 4, 4), ==, OOO);
    g_assert_cmphex(write_run(&m, 0, 12, 4), ==, OOO);
    /* At WP but not ascending in list order. */
    for (i = 0; i < 4; i++) {
        lba[i] = lba_of(&m, 0, 11 - i);
    }
    g_assert_cmphex(write_lbas(&m, lba, 4, NULL), ==, OOO);
    /* A repeated LBA. */
    lba[0] = lba[1] = lba_of(&m, 0, 8);
    lba[2] = lba_of(&m, 0, 9);
    lba[3] = lba_of(&m, 0, 10);
    g_assert_cmphex(write_lbas(&m, lba, 4, NULL), ==, OOO);
    /* A gap. */
    for (i = 0; i < 4; i++) {
        lba[i] = lba_of(&m, 0, 8 + i + (i >= 2));
    }
    g_assert_cmphex(write_lbas(&m, lba, 4, NULL), ==, OOO);
    g_assert_cmpuint(m.chunk[0].wp, ==, 8);
    /* Interleaving two chunks, each in order, is fine. */
    for (i = 0; i < 8; i++) {
        lba[i] = i % 2 ? lba_of(&m, 3, i / 2) : lba_of(&m, 0, 8 + i / 2);
    }
    g_assert_cmphex(write_lbas(&m, lba, 8, NULL), ==, 0);
    g_assert_cmpuint(m.chunk[0].wp, ==, 12);
    g_assert_cmpuint(m.chunk[3].wp, ==, 4);
    ocssd_media_cleanup(&m);
}

static void test_write_past_end(void)
{
    OcssdMediaParams p = small_params();
    OcssdMedia m;
    uint64_t lba[8];
    unsigned i;

    media_new(&m, &p);
    g_assert_cmphex(write_run(&m, 0, 0, 60), ==, 0);
    /* Vector: WP 60..63 then sector 0 of the next chunk is two chunks. */
    for (i = 0; i < 8; i++) {
        lba[i] = lba_of(&m, 0, 60) + i;
    }
    g_assert_cmphex(write_lbas(&m, lba, 8, NULL), ==, 0);
    g_assert_cmpuint(m.chunk[0].state, ==, OCSSD_CHUNK_CLOSED);
    g_assert_cmpuint(m.chunk[1].wp, ==, 4);
    /* A shrunk chunk ends at CNLB, before CLBA. */
    m.chunk[2].type |= OCSSD_CHUNK_TYPE_SHRINKED;
    m.chunk[2].cnlb = 32;
    g_assert_cmphex(write_run(&m, 2, 0, 28), ==, 0);
    g_assert_cmphex(write_run(&m, 2, 28, 8), ==, WF);
    g_assert_cmpuint(m.chunk[2].wp, ==, 28);
    g_assert_cmphex(write_run(&m, 2, 28, 4), ==, 0);
    g_assert_cmpuint(m.chunk[2].state, ==, OCSSD_CHUNK_CLOSED);
    g_assert_cmpuint(m.chunk[2].wp, ==, 32);
    ocssd_media_cleanup(&m);
}

static void test_write_ws_min(void)
{
    OcssdMediaParams p = small_params();
    OcssdMedia m;
    unsigned n;

    media_new(&m, &p);
    for (n = 1; n < 12; n++) {
        g_assert_cmphex(write_run(&m, 0, 0, n), ==, n % 4 ? INVF : 0);
        if (!(n % 4)) {
            g_assert_cmpuint(m.chunk[0].wp, ==, n);
            g_assert_cmphex(ocssd_media_check_reset(&m, 0), ==, INVR);
            m.p.early_reset = true;
            ocssd_media_reset(&m, 0);
            m.p.early_reset = false;
        } else {
            g_assert_cmpuint(m.chunk[0].state, ==, OCSSD_CHUNK_FREE);
        }
    }
    ocssd_media_cleanup(&m);
}

static void test_write_maxoc(void)
{
    OcssdMediaParams p = small_params();
    OcssdIoEntry e[8];
    OcssdMedia m;
    uint64_t lba[8];
    unsigned i;

    p.maxoc = 2;
    media_new(&m, &p);
    g_assert_cmphex(write_run(&m, 0, 0, 4), ==, 0);
    g_assert_cmphex(write_run(&m, 5, 0, 4), ==, 0);
    g_assert_cmpuint(m.open_total, ==, 2);
    /* A third chunk may not open... */
    g_assert_cmphex(write_run(&m, 9, 0, 4), ==, WF);
    g_assert_cmpuint(m.chunk[9].state, ==, OCSSD_CHUNK_FREE);
    /*
     * ...but an open one takes more, and a whole-chunk write never stays
     * open (project decision: it does not count against the limit).
     */
    g_assert_cmphex(write_run(&m, 0, 4, 4), ==, 0);
    g_assert_cmphex(write_run(&m, 9, 0, 64), ==, 0);
    g_assert_cmpuint(m.chunk[9].state, ==, OCSSD_CHUNK_CLOSED);
    /* Closing one frees a slot. */
    fill_chunk(&m, 0);
    g_assert_cmpuint(m.open_total, ==, 1);
    g_assert_cmphex(write_run(&m, 10, 0, 4), ==, 0);
    g_assert_cmpuint(m.open_total, ==, 2);
    ocssd_media_cleanup(&m);

    /* Two chunks opening in one command with one slot: list order wins. */
    p.maxoc = 1;
    media_new(&m, &p);
    for (i = 0; i < 8; i++) {
        lba[i] = i < 4 ? lba_of(&m, 6, i) : lba_of(&m, 2, i - 4);
    }
    g_assert_cmphex(write_lbas(&m, lba, 8, e), ==, WF);
    for (i = 0; i < 8; i++) {
        g_assert_cmphex(e[i].status, ==, i < 4 ? 0 : WF);
    }
    g_assert_cmpuint(m.chunk[6].state, ==, OCSSD_CHUNK_OPEN);
    g_assert_cmpuint(m.chunk[2].state, ==, OCSSD_CHUNK_FREE);
    ocssd_media_cleanup(&m);
}

static void test_write_maxocpu(void)
{
    OcssdMediaParams p = small_params();
    OcssdMedia m;

    p.maxocpu = 1;
    media_new(&m, &p);
    /* Chunks 0-3 are PU 0 of group 0, 4-7 PU 1, 8-11 group 1 PU 0. */
    g_assert_cmphex(write_run(&m, 0, 0, 4), ==, 0);
    g_assert_cmphex(write_run(&m, 1, 0, 4), ==, WF);
    g_assert_cmphex(write_run(&m, 4, 0, 4), ==, 0);
    g_assert_cmphex(write_run(&m, 8, 0, 4), ==, 0);
    g_assert_cmphex(write_run(&m, 12, 0, 4), ==, 0);
    g_assert_cmphex(write_run(&m, 13, 0, 4), ==, WF);
    g_assert_cmpuint(m.open_total, ==, 4);
    g_assert_cmpuint(m.open_pu[0], ==, 1);
    g_assert_cmpuint(m.open_pu[3], ==, 1);
    /* An early reset of the open chunk frees its PU's slot. */
    m.p.early_reset = true;
    g_assert_cmphex(ocssd_media_check_reset(&m, 0), ==, 0);
    ocssd_media_reset(&m, 0);
    g_assert_cmpuint(m.open_pu[0], ==, 0);
    g_assert_cmphex(write_run(&m, 1, 0, 4), ==, 0);
    /* Offline takes an open chunk out of the count too. */
    ocssd_media_set_offline(&m, 1);
    g_assert_cmpuint(m.open_pu[0], ==, 0);
    g_assert_cmpuint(m.open_total, ==, 3);
    g_assert_cmphex(write_run(&m, 2, 0, 4), ==, 0);
    ocssd_media_cleanup(&m);
}

/*
 * Entries run in list order: a chunk one command fills up is closed after
 * its last entry, and a chunk the command opens after that may take its
 * slot (MAXOC and MAXOCPU); one opened before it may not.
 */
static void test_write_max_open_close_first(void)
{
    OcssdMediaParams p = small_params();
    OcssdIoEntry e[12];
    OcssdMedia m;
    uint64_t lba[12];
    unsigned i, limit;

    for (limit = 0; limit < 2; limit++) {
        p.maxoc = limit ? 0 : 1;
        p.maxocpu = limit ? 1 : 0;
        media_new(&m, &p);
        g_assert_cmphex(write_run(&m, 0, 0, 56), ==, 0);
        /* Chunk 0 56..63 closes it, then chunk 1 opens: fine. */
        for (i = 0; i < 8; i++) {
            lba[i] = lba_of(&m, 0, 56 + i);
        }
        for (i = 0; i < 4; i++) {
            lba[8 + i] = lba_of(&m, 1, i);
        }
        g_assert_cmphex(write_lbas(&m, lba, 12, e), ==, 0);
        g_assert_cmpuint(m.chunk[0].state, ==, OCSSD_CHUNK_CLOSED);
        g_assert_cmpuint(m.chunk[1].state, ==, OCSSD_CHUNK_OPEN);
        g_assert_cmpuint(m.open_total, ==, 1);
        /* Chunk 2 opens while chunk 1 is still open: one too many. */
        g_assert_cmphex(write_run(&m, 1, 4, 52), ==, 0);
        for (i = 0; i < 4; i++) {
            lba[i] = lba_of(&m, 2, i);
            lba[4 + i] = lba_of(&m, 1, 56 + i);
            lba[8 + i] = lba_of(&m, 1, 60 + i);
        }
        g_assert_cmphex(write_lbas(&m, lba, 12, e), ==, WF);
        for (i = 0; i < 12; i++) {
            g_assert_cmphex(e[i].status, ==, i < 4 ? WF : 0);
        }
        g_assert_cmpuint(m.chunk[1].state, ==, OCSSD_CHUNK_CLOSED);
        g_assert_cmpuint(m.chunk[2].state, ==, OCSSD_CHUNK_FREE);
        g_assert_cmpuint(m.open_total, ==, 0);
        ocssd_media_cleanup(&m);
    }

    /* Under MAXOCPU only a chunk of the same PU gives its slot. */
    p.maxoc = 0;
    p.maxocpu = 1;
    media_new(&m, &p);
    g_assert_cmphex(write_run(&m, 0, 0, 56), ==, 0);      /* PU 0 */
    g_assert_cmphex(write_run(&m, 4, 0, 4), ==, 0);       /* PU 1 */
    for (i = 0; i < 8; i++) {
        lba[i] = lba_of(&m, 0, 56 + i);
    }
    for (i = 0; i < 4; i++) {
        lba[8 + i] = lba_of(&m, 5, i);                    /* PU 1 */
    }
    g_assert_cmphex(write_lbas(&m, lba, 12, e), ==, WF);
    for (i = 0; i < 12; i++) {
        g_assert_cmphex(e[i].status, ==, i < 8 ? 0 : WF);
    }
    g_assert_cmpuint(m.chunk[0].state, ==, OCSSD_CHUNK_CLOSED);
    g_assert_cmpuint(m.chunk[5].state, ==, OCSSD_CHUNK_FREE);

    /* Chunk 4 closes at its last entry, after chunk 6 opened: too many. */
    g_assert_cmphex(write_run(&m, 4, 4, 52), ==, 0);
    for (i = 0; i < 4; i++) {
        lba[i] = lba_of(&m, 4, 56 + i);
        lba[4 + i] = lba_of(&m, 6, i);
        lba[8 + i] = lba_of(&m, 4, 60 + i);
    }
    g_assert_cmphex(write_lbas(&m, lba, 12, e), ==, WF);
    for (i = 0; i < 12; i++) {
        g_assert_cmphex(e[i].status, ==, i / 4 == 1 ? WF : 0);
    }
    g_assert_cmpuint(m.chunk[4].state, ==, OCSSD_CHUNK_CLOSED);
    g_assert_cmpuint(m.chunk[6].state, ==, OCSSD_CHUNK_FREE);
    ocssd_media_cleanup(&m);
}

/* Chunks one command opens count against MAXOCPU among themselves. */
static void test_write_maxocpu_one_command(void)
{
    OcssdMediaParams p = small_params();
    OcssdIoEntry e[12];
    OcssdMedia m;
    uint64_t lba[12];
    unsigned i;

    p.maxocpu = 1;
    media_new(&m, &p);
    /* Chunks 4 and 5 (group 0 PU 1), then 8 (group 1 PU 0). */
    for (i = 0; i < 4; i++) {
        lba[i] = lba_of(&m, 4, i);
        lba[4 + i] = lba_of(&m, 5, i);
        lba[8 + i] = lba_of(&m, 8, i);
    }
    g_assert_cmphex(write_lbas(&m, lba, 12, e), ==, WF);
    for (i = 0; i < 12; i++) {
        g_assert_cmphex(e[i].status, ==, i / 4 == 1 ? WF : 0);
    }
    g_assert_cmpuint(m.chunk[4].state, ==, OCSSD_CHUNK_OPEN);
    g_assert_cmpuint(m.chunk[5].state, ==, OCSSD_CHUNK_FREE);
    g_assert_cmpuint(m.chunk[8].state, ==, OCSSD_CHUNK_OPEN);
    g_assert_cmpuint(m.open_pu[1], ==, 1);
    ocssd_media_cleanup(&m);
}

/*
 * Precedence for writes: CLOSED/OFFLINE, then not at WP, then past the
 * chunk end, then WS_MIN, then MAXOC/MAXOCPU.
 */
static void test_write_precedence(void)
{
    OcssdMediaParams p = small_params();
    OcssdMedia m;
    uint64_t lba[12];
    unsigned i;

    p.maxoc = 1;
    media_new(&m, &p);
    fill_chunk(&m, 0);
    ocssd_media_set_offline(&m, 1);
    g_assert_cmphex(write_run(&m, 2, 0, 60), ==, 0);   /* the open one */

    /* closed + out of order + not WS_MIN */
    g_assert_cmphex(write_run(&m, 0, 3, 3), ==, WF);
    /* offline + out of order + not WS_MIN */
    g_assert_cmphex(write_run(&m, 1, 5, 1), ==, WF);
    /* out of order + past the end + not WS_MIN */
    g_assert_cmphex(write_run(&m, 2, 58, 5), ==, OOO);
    /* out of order + not WS_MIN */
    g_assert_cmphex(write_run(&m, 2, 56, 3), ==, OOO);
    /* out of order (free chunk) + over MAXOC */
    g_assert_cmphex(write_run(&m, 3, 4, 4), ==, OOO);
    /* past the end + not WS_MIN + over MAXOC: a chunk shrunk to 8 */
    m.chunk[3].type |= OCSSD_CHUNK_TYPE_SHRINKED;
    m.chunk[3].cnlb = 8;
    for (i = 0; i < 9; i++) {
        lba[i] = lba_of(&m, 3, i);
    }
    g_assert_cmphex(write_lbas(&m, lba, 9, NULL), ==, WF);
    /* not WS_MIN + over MAXOC */
    g_assert_cmphex(write_run(&m, 3, 0, 6), ==, INVF);
    /* over MAXOC alone */
    g_assert_cmphex(write_run(&m, 3, 0, 4), ==, WF);
    g_assert_cmpuint(m.chunk[3].state, ==, OCSSD_CHUNK_FREE);
    ocssd_media_cleanup(&m);
}

/* Within one command each chunk's writes happen all together or not at all. */
static void test_write_per_chunk_all_or_nothing(void)
{
    OcssdMediaParams p = small_params();
    OcssdIoEntry e[12];
    OcssdMedia m;
    uint64_t lba[12];
    unsigned i;

    media_new(&m, &p);
    fill_chunk(&m, 7);
    /* A0..A3, B0..B2 (3: not WS_MIN), A4..A7, C0..C1 (closed chunk) */
    for (i = 0; i < 4; i++) {
        lba[i] = lba_of(&m, 4, i);
        lba[7 + i] = lba_of(&m, 4, 4 + i);
    }
    for (i = 0; i < 3; i++) {
        lba[4 + i] = lba_of(&m, 5, i);
    }
    lba[11] = lba_of(&m, 7, 0);
    g_assert_cmphex(write_lbas(&m, lba, 12, e), ==, INVF);
    for (i = 0; i < 12; i++) {
        uint16_t want = i >= 4 && i < 7 ? INVF : i == 11 ? WF : 0;

        g_assert_cmphex(e[i].status, ==, want);
    }
    g_assert_cmpuint(m.chunk[4].wp, ==, 8);
    g_assert_cmpuint(m.chunk[5].state, ==, OCSSD_CHUNK_FREE);
    g_assert_cmpuint(m.chunk[5].wp, ==, 0);

    /* One out-of-order entry fails the whole chunk's share. */
    for (i = 0; i < 8; i++) {
        lba[i] = lba_of(&m, 4, 8 + i + (i == 7));
    }
    g_assert_cmphex(write_lbas(&m, lba, 8, e), ==, OOO);
    for (i = 0; i < 8; i++) {
        g_assert_cmphex(e[i].status, ==, OOO);
    }
    g_assert_cmpuint(m.chunk[4].wp, ==, 8);
    ocssd_media_cleanup(&m);
}

/* ---- holes and the namespace's end -------------------------------------- */

static void test_holes(void)
{
    OcssdMediaParams p = small_params();
    OcssdIoEntry e[4], e5[5];
    OcssdMedia m;
    uint64_t lba[4], l5[5], chunk;
    OcssdAddr a;
    unsigned i;

    p.num_grp = 3;      /* 2 bits: group 3 is a hole */
    p.num_chk = 3;      /* 2 bits: chunk 3 is a hole */
    p.clba = 48;        /* 6 bits: sectors 48-63 are holes */
    media_new(&m, &p);

    a = (OcssdAddr) { 0, 0, 0, 48 };
    lba[0] = ocssd_lba_encode(&m, &a);
    a = (OcssdAddr) { 0, 0, 3, 0 };
    lba[1] = ocssd_lba_encode(&m, &a);
    a = (OcssdAddr) { 3, 0, 0, 0 };
    lba[2] = ocssd_lba_encode(&m, &a);
    lba[3] = m.nsze;
    g_assert_cmpuint(lba[2], <, m.nsze);

    /* Inside the namespace: Write Fault for writes, out of range else. */
    for (i = 0; i < 4; i++) {
        e[i].lba = lba[i];
    }
    g_assert_cmphex(ocssd_media_decode_entries(&m, e, 4, true), ==, WF);
    g_assert_cmphex(e[0].status, ==, WF);
    g_assert_cmphex(e[1].status, ==, WF);
    g_assert_cmphex(e[2].status, ==, WF);
    g_assert_cmphex(e[3].status, ==, RANGE);
    g_assert_cmphex(ocssd_media_decode_entries(&m, e, 4, false), ==, RANGE);
    for (i = 0; i < 4; i++) {
        g_assert_cmphex(e[i].status, ==, RANGE);
    }

    /* A hole among a chunk's entries fails alone: it is no sector. */
    for (i = 0; i < 5; i++) {
        l5[i] = lba_of(&m, 0, i - (i > 2));
    }
    a = (OcssdAddr) { 0, 0, 1, 60 };
    l5[2] = ocssd_lba_encode(&m, &a);
    g_assert_cmphex(write_lbas(&m, l5, 5, e5), ==, WF);
    for (i = 0; i < 5; i++) {
        g_assert_cmphex(e5[i].status, ==, i == 2 ? WF : 0);
    }
    g_assert_cmpuint(m.chunk[0].wp, ==, 4);
    g_assert_cmpuint(m.chunk[1].wp, ==, 0);

    /* Standard commands: the range's start decides the hole's status. */
    g_assert_cmphex(ocssd_media_check_range(&m, lba_of(&m, 0, 48), 1, true),
                    ==, WF);
    g_assert_cmphex(ocssd_media_check_range(&m, lba_of(&m, 0, 48), 1, false),
                    ==, RANGE);
    /* Dataset Management names a chunk by an LBA: a hole is out of range. */
    g_assert_cmphex(ocssd_media_check_dsm_range(&m, lba_of(&m, 1, 0), 48,
                                                &chunk), ==, 0);
    a = (OcssdAddr) { 0, 0, 3, 0 };
    g_assert_cmphex(ocssd_media_check_dsm_range(&m, ocssd_lba_encode(&m, &a),
                                                48, &chunk), ==, RANGE);
    ocssd_media_cleanup(&m);
}

/* Standard Read/Write ranges: one chunk, the namespace, and precedence. */
static void test_standard_range(void)
{
    OcssdMediaParams p = small_params();
    OcssdMedia m;
    uint64_t last = 15;

    media_new(&m, &p);
    g_assert_cmphex(ocssd_media_check_range(&m, lba_of(&m, 1, 0), 64, true),
                    ==, 0);
    g_assert_cmphex(ocssd_media_check_range(&m, lba_of(&m, 1, 60), 4, false),
                    ==, 0);
    /* Reads crossing into the next chunk are out of range. */
    g_assert_cmphex(ocssd_media_check_range(&m, lba_of(&m, 1, 60), 8, false),
                    ==, RANGE);
    /* A write from WP past the chunk's end: Write Fault. */
    g_assert_cmphex(ocssd_media_check_range(&m, lba_of(&m, 1, 0), 65, true),
                    ==, WF);
    g_assert_cmphex(write_run(&m, 1, 0, 60), ==, 0);
    g_assert_cmphex(ocssd_media_check_range(&m, lba_of(&m, 1, 60), 8, true),
                    ==, WF);
    /* Not at WP and past the end: out of order comes first. */
    g_assert_cmphex(ocssd_media_check_range(&m, lba_of(&m, 1, 56), 12, true),
                    ==, OOO);
    g_assert_cmphex(ocssd_media_check_range(&m, lba_of(&m, 2, 8), 60, true),
                    ==, OOO);
    /* Closed and past the end: Write Fault. */
    fill_chunk(&m, 3);
    g_assert_cmphex(ocssd_media_check_range(&m, lba_of(&m, 3, 8), 60, true),
                    ==, WF);
    /* Past the namespace: out of range for both (NVMe's rule first). */
    g_assert_cmphex(ocssd_media_check_range(&m, lba_of(&m, last, 60), 8,
                                            true), ==, RANGE);
    g_assert_cmphex(ocssd_media_check_range(&m, lba_of(&m, last, 60), 8,
                                            false), ==, RANGE);
    g_assert_cmphex(ocssd_media_check_range(&m, m.nsze, 1, true), ==, RANGE);
    g_assert_cmphex(ocssd_media_check_range(&m, UINT64_MAX, 1, false), ==,
                    RANGE);
    g_assert_cmphex(ocssd_media_check_range(&m, lba_of(&m, last, 63), 1,
                                            false), ==, 0);
    ocssd_media_cleanup(&m);
}

/* ---- reads --------------------------------------------------------------- */

static void test_read_unwritten(void)
{
    OcssdMediaParams p = small_params();
    OcssdMedia m;
    bool z;
    unsigned i;

    p.mw_cunits = 0;
    media_new(&m, &p);
    /* A FREE chunk: every sector is unwritten. */
    for (i = 0; i < 64; i += 21) {
        g_assert_cmphex(read_one(&m, lba_of(&m, 0, i), false, &z), ==, 0);
        g_assert_true(z);
        g_assert_cmphex(read_one(&m, lba_of(&m, 0, i), true, &z), ==, DULB);
    }
    /* At and beyond WP. */
    g_assert_cmphex(write_run(&m, 0, 0, 8), ==, 0);
    for (i = 0; i < 64; i++) {
        g_assert_cmpint(readable(&m, 0, i), ==, i < 8);
    }
    /* Offline: Offline Chunk, whatever DULBE says. */
    ocssd_media_set_offline(&m, 0);
    g_assert_cmphex(read_one(&m, lba_of(&m, 0, 0), false, NULL), ==, OFFL);
    g_assert_cmphex(read_one(&m, lba_of(&m, 0, 40), true, NULL), ==, OFFL);
    /* Past a shrunk chunk's CNLB: out of range. */
    m.chunk[1].type |= OCSSD_CHUNK_TYPE_SHRINKED;
    m.chunk[1].cnlb = 16;
    g_assert_cmphex(read_one(&m, lba_of(&m, 1, 16), false, NULL), ==, RANGE);
    g_assert_cmphex(read_one(&m, lba_of(&m, 1, 15), false, &z), ==, 0);
    g_assert_true(z);
    ocssd_media_cleanup(&m);
}

static void test_read_mw_cunits(void)
{
    OcssdMediaParams p = small_params();
    OcssdMedia m;
    unsigned i;

    p.mw_cunits = 12;
    media_new(&m, &p);
    /* WP 8 < MW_CUNITS: nothing readable yet. */
    g_assert_cmphex(write_run(&m, 0, 0, 8), ==, 0);
    for (i = 0; i < 8; i++) {
        g_assert_false(readable(&m, 0, i));
    }
    /* WP 32: 0..19 readable, 20..31 in the window. */
    g_assert_cmphex(write_run(&m, 0, 8, 24), ==, 0);
    for (i = 0; i < 40; i++) {
        g_assert_cmpint(readable(&m, 0, i), ==, i < 20);
    }
    /* The window moves with WP. */
    g_assert_cmphex(write_run(&m, 0, 32, 4), ==, 0);
    g_assert_true(readable(&m, 0, 23));
    g_assert_false(readable(&m, 0, 24));
    /* Off (mw_cunits_strict=off): everything below WP. */
    m.mw_strict = false;
    for (i = 0; i < 40; i++) {
        g_assert_cmpint(readable(&m, 0, i), ==, i < 36);
    }
    m.mw_strict = true;
    /* A restart (chunk table reloaded): everything below WP. */
    ocssd_media_recount(&m);
    for (i = 0; i < 40; i++) {
        g_assert_cmpint(readable(&m, 0, i), ==, i < 36);
    }
    /* ...and sectors written after it are in the window again. */
    g_assert_cmphex(write_run(&m, 0, 36, 4), ==, 0);
    g_assert_true(readable(&m, 0, 35));
    g_assert_false(readable(&m, 0, 36));
    g_assert_false(readable(&m, 0, 39));
    /* Closed: every sector. */
    fill_chunk(&m, 0);
    for (i = 0; i < 64; i++) {
        g_assert_true(readable(&m, 0, i));
    }
    /* After a reset the floor is gone. */
    ocssd_media_reset(&m, 0);
    g_assert_cmphex(write_run(&m, 0, 0, 16), ==, 0);
    g_assert_true(readable(&m, 0, 3));
    g_assert_false(readable(&m, 0, 4));
    ocssd_media_cleanup(&m);

    /* MW_CUNITS 0: no window. */
    p.mw_cunits = 0;
    media_new(&m, &p);
    g_assert_cmphex(write_run(&m, 0, 0, 4), ==, 0);
    g_assert_true(readable(&m, 0, 3));
    g_assert_false(readable(&m, 0, 4));
    ocssd_media_cleanup(&m);
}

/* ---- resets -------------------------------------------------------------- */

static void test_reset_rules(void)
{
    static const struct {
        bool multiple, early;
    } flags[] = { { false, false }, { true, false }, { false, true },
                  { true, true } };
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(flags); i++) {
        OcssdMediaParams p = small_params();
        OcssdMedia m;

        p.multiple_resets = flags[i].multiple;
        p.early_reset = flags[i].early;
        media_new(&m, &p);
        /* FREE */
        g_assert_cmphex(ocssd_media_check_reset(&m, 0), ==,
                        flags[i].multiple ? 0 : INVR);
        if (flags[i].multiple) {
            ocssd_media_reset(&m, 0);
            g_assert_cmpuint(m.chunk[0].state, ==, OCSSD_CHUNK_FREE);
            g_assert_cmpuint(m.chunk[0].wli, ==, 1);
        }
        /* OPEN */
        g_assert_cmphex(write_run(&m, 1, 0, 4), ==, 0);
        g_assert_cmphex(ocssd_media_check_reset(&m, 1), ==,
                        flags[i].early ? 0 : INVR);
        if (flags[i].early) {
            ocssd_media_reset(&m, 1);
            g_assert_cmpuint(m.chunk[1].state, ==, OCSSD_CHUNK_FREE);
            g_assert_cmpuint(m.chunk[1].wp, ==, 0);
            g_assert_cmpuint(m.open_total, ==, 0);
        }
        /* CLOSED: always */
        fill_chunk(&m, 2);
        g_assert_cmphex(ocssd_media_check_reset(&m, 2), ==, 0);
        ocssd_media_reset(&m, 2);
        g_assert_cmpuint(m.chunk[2].state, ==, OCSSD_CHUNK_FREE);
        /* OFFLINE: never */
        ocssd_media_set_offline(&m, 3);
        g_assert_cmphex(ocssd_media_check_reset(&m, 3), ==, OFFL);
        ocssd_media_cleanup(&m);
    }
}

static void test_dsm_range(void)
{
    OcssdMediaParams p = small_params();
    OcssdMedia m;
    uint64_t chunk = 99;

    media_new(&m, &p);
    g_assert_cmphex(ocssd_media_check_dsm_range(&m, lba_of(&m, 6, 0), 64,
                                                &chunk), ==, 0);
    g_assert_cmpuint(chunk, ==, 6);
    g_assert_cmphex(ocssd_media_check_dsm_range(&m, lba_of(&m, 6, 0), 60,
                                                &chunk), ==, INVF);
    g_assert_cmphex(ocssd_media_check_dsm_range(&m, lba_of(&m, 6, 0), 128,
                                                &chunk), ==, INVF);
    g_assert_cmphex(ocssd_media_check_dsm_range(&m, lba_of(&m, 6, 4), 64,
                                                &chunk), ==, INVF);
    g_assert_cmphex(ocssd_media_check_dsm_range(&m, m.nsze, 64, &chunk), ==,
                    RANGE);
    m.chunk[6].type |= OCSSD_CHUNK_TYPE_SHRINKED;
    m.chunk[6].cnlb = 32;
    g_assert_cmphex(ocssd_media_check_dsm_range(&m, lba_of(&m, 6, 0), 32,
                                                &chunk), ==, 0);
    g_assert_cmphex(ocssd_media_check_dsm_range(&m, lba_of(&m, 6, 0), 64,
                                                &chunk), ==, INVF);
    ocssd_media_cleanup(&m);
}

/* ---- open-chunk accounting ----------------------------------------------- */

static void test_open_accounting(void)
{
    OcssdMediaParams p = small_params();
    OcssdMedia m;
    uint64_t i;

    p.early_reset = true;
    media_new(&m, &p);
    for (i = 0; i < m.nchunks; i += 3) {
        g_assert_cmphex(write_run(&m, i, 0, 4), ==, 0);
    }
    g_assert_cmpuint(m.open_total, ==, 6);      /* 0 3 6 9 12 15 */
    g_assert_cmpuint(m.open_pu[0], ==, 2);      /* 0 3 */
    g_assert_cmpuint(m.open_pu[1], ==, 1);      /* 6 */
    g_assert_cmpuint(m.open_pu[2], ==, 1);      /* 9 */
    g_assert_cmpuint(m.open_pu[3], ==, 2);      /* 12 15 */
    fill_chunk(&m, 3);
    ocssd_media_reset(&m, 6);
    ocssd_media_set_offline(&m, 12);
    g_assert_cmpuint(m.open_total, ==, 3);
    g_assert_cmpuint(m.open_pu[0], ==, 1);
    g_assert_cmpuint(m.open_pu[1], ==, 0);
    g_assert_cmpuint(m.open_pu[3], ==, 1);
    /* A reload recounts the same. */
    m.open_total = 99;
    m.open_pu[0] = 99;
    ocssd_media_recount(&m);
    g_assert_cmpuint(m.open_total, ==, 3);
    g_assert_cmpuint(m.open_pu[0], ==, 1);
    g_assert_cmpuint(m.open_pu[1], ==, 0);
    g_assert_cmpuint(m.open_pu[2], ==, 1);
    g_assert_cmpuint(m.open_pu[3], ==, 1);
    g_assert_cmpuint(m.wli_count, ==, m.nchunks - 1);
    g_assert_cmpuint(m.wli_sum, ==, 1);
    ocssd_media_cleanup(&m);
}

/* ---- wear-index notifications ------------------------------------------- */

static unsigned wli_events(OcssdMedia *m, uint64_t *out, unsigned max)
{
    unsigned n = 0;
    uint64_t chunk;

    while (ocssd_media_wli_event(m, &chunk)) {
        g_assert_cmpuint(n, <, max);
        out[n++] = chunk;
    }
    return n;
}

static void test_wear_crossing(void)
{
    OcssdMediaParams p = small_params();
    uint64_t ev[16];
    OcssdMedia m;
    unsigned i;

    p.wit = 2;
    p.multiple_resets = true;
    media_new(&m, &p);
    /* 16 chunks at 0; chunk 0 at 1, 2: inside avg + 2. */
    g_assert_false(ocssd_media_reset(&m, 0));
    g_assert_false(ocssd_media_reset(&m, 0));
    g_assert_cmpuint(wli_events(&m, ev, 16), ==, 0);
    /* 3 > 3/16 + 2: it left the band. */
    g_assert_true(ocssd_media_reset(&m, 0));
    g_assert_cmpuint(wli_events(&m, ev, 16), ==, 1);
    g_assert_cmpuint(ev[0], ==, 0);
    /* Still outside: no new event. */
    g_assert_false(ocssd_media_reset(&m, 0));
    g_assert_cmpuint(m.chunk[0].wli, ==, 4);

    /* Everyone else catches up to 2: chunk 0 (4) is inside again. */
    for (i = 1; i < 16; i++) {
        ocssd_media_reset(&m, i);
        ocssd_media_reset(&m, i);
    }
    g_assert_cmpuint(wli_events(&m, ev, 16), ==, 0);
    /* avg = (4 + 30) / 16 = 2.125: 4 is inside (< 4.125). */
    /* Chunk 0 goes to 5: 5 > 35/16 + 2 = 4.1875: it leaves again. */
    g_assert_true(ocssd_media_reset(&m, 0));
    g_assert_cmpuint(wli_events(&m, ev, 16), ==, 1);
    g_assert_cmpuint(ev[0], ==, 0);
    ocssd_media_cleanup(&m);
}

/*
 * A wear-statistics step: reset (R) or take offline (O) a chunk, then the
 * chunks expected to have left the band, in order (-1 ends the list).
 * Worked out by hand from avg = sum / count over chunks not offline.
 */
typedef struct WearStep {
    char        op;
    unsigned    chunk;
    int         left[4];
} WearStep;

static void run_wear_steps(unsigned nchunks, unsigned wit,
                           const WearStep *step, unsigned nsteps)
{
    OcssdMediaParams p = small_params();
    OcssdMedia m;
    uint64_t ev[16];
    unsigned i, j, n;

    p.num_grp = 1;
    p.num_pu = 1;
    p.num_chk = nchunks;
    p.wit = wit;
    p.multiple_resets = true;
    media_new(&m, &p);
    for (i = 0; i < nsteps; i++) {
        bool pending;

        if (step[i].op == 'R') {
            pending = ocssd_media_reset(&m, step[i].chunk);
        } else {
            ocssd_media_set_offline(&m, step[i].chunk);
            pending = m.wli_nevent > 0;
        }
        n = wli_events(&m, ev, ARRAY_SIZE(ev));
        g_assert_cmpint(pending, ==, n > 0);
        for (j = 0; j < ARRAY_SIZE(step[i].left) && step[i].left[j] >= 0;
             j++) {
            g_assert_cmpuint(j, <, n);
            g_assert_cmpuint(ev[j], ==, step[i].left[j]);
        }
        if (j != n) {
            g_error("step %u (%c %u): %u chunks left the band, expected %u",
                    i, step[i].op, step[i].chunk, n, j);
        }
    }
    ocssd_media_cleanup(&m);
}

#define NONE    { -1 }

/* Others leave the band below as the average rises, exactly (no rounding). */
static void test_wear_others_below(void)
{
    static const WearStep steps[] = {
        { 'R', 1, NONE },           /* 0 1 0 0   avg 0.25 */
        { 'R', 2, NONE },           /* 0 1 1 0   avg 0.5 */
        { 'R', 3, NONE },           /* 0 1 1 1   avg 0.75 */
        { 'R', 1, NONE },           /* 0 2 1 1   avg 1: 0 + 1 < 1 is false */
        /* 0 2 2 1   avg 1.25: chunk 0 below (avg rounded down: missed) */
        { 'R', 2, { 0, -1 } },
        { 'R', 3, NONE },           /* 0 2 2 2   still outside: no event */
        { 'R', 0, NONE },           /* 1 2 2 2   avg 1.75: back inside */
        { 'R', 1, NONE },           /* 1 3 2 2   avg 2: 3 > 3 is false */
        { 'R', 2, { 0, -1 } },      /* 1 3 3 2   avg 2.25: 0 below again */
        { 'R', 3, NONE },           /* 1 3 3 3   avg 2.5 */
    };

    run_wear_steps(4, 1, steps, ARRAY_SIZE(steps));
}

/* An offline chunk leaves the average: others may leave the band. */
static void test_wear_offline(void)
{
    static const WearStep below[] = {
        { 'R', 2, NONE },           /* 0 0 1 0 */
        { 'R', 2, { 2, -1 } },      /* 0 0 2 0   avg 0.5: 2 > 1.5 */
        { 'R', 3, NONE },           /* 0 0 2 1 */
        { 'R', 3, NONE },           /* 0 0 2 2   avg 1: all inside */
        { 'O', 0, { 1, -1 } },      /* x 0 2 2   avg 4/3: 0 + 1 < 4/3 */
        { 'R', 3, { 3, -1 } },      /* x 0 2 3   avg 5/3: 3 > 8/3 */
        { 'R', 3, NONE },           /* x 0 2 4   (2 stays inside) */
    };
    static const WearStep above[] = {
        { 'R', 0, NONE },           /* 1 0 0 0 */
        { 'R', 1, NONE },
        { 'R', 2, NONE },
        { 'R', 3, NONE },           /* 1 1 1 1 */
        { 'R', 2, NONE },           /* 1 1 2 1 */
        { 'R', 3, NONE },           /* 1 1 2 2 */
        { 'R', 2, { 2, -1 } },      /* 1 1 3 2   avg 7/4: 3 > 2.75 */
        { 'R', 3, NONE },           /* 1 1 3 3   avg 2: 2 back inside */
        { 'O', 3, { 2, -1 } },      /* 1 1 3 x   avg 5/3: 3 > 8/3 */
        { 'O', 2, NONE },           /* 1 1 x x   avg 1 */
        { 'O', 1, NONE },
        { 'O', 0, NONE },           /* nothing left to average */
    };

    run_wear_steps(4, 1, below, ARRAY_SIZE(below));
    run_wear_steps(4, 1, above, ARRAY_SIZE(above));
}

/* WIT 0: never. */
static void test_wear_wit0(void)
{
    OcssdMediaParams p = small_params();
    uint64_t ev[16];
    OcssdMedia m;
    unsigned i;

    p.multiple_resets = true;
    p.wit = 0;
    media_new(&m, &p);
    for (i = 0; i < 200; i++) {
        g_assert_false(ocssd_media_reset(&m, 0));
    }
    ocssd_media_set_offline(&m, 1);
    g_assert_cmpuint(m.chunk[0].wli, ==, 200);
    g_assert_cmpuint(wli_events(&m, ev, 16), ==, 0);
    ocssd_media_cleanup(&m);
}

static void test_wear_saturates(void)
{
    OcssdMediaParams p = small_params();
    OcssdMedia m;
    unsigned i;

    p.multiple_resets = true;
    media_new(&m, &p);
    for (i = 0; i < 300; i++) {
        ocssd_media_reset(&m, 0);
    }
    g_assert_cmpuint(m.chunk[0].wli, ==, 255);
    g_assert_cmpuint(m.chunk[0].erase_count, ==, 300);
    g_assert_cmpuint(m.wli_sum, ==, 255);
    ocssd_media_cleanup(&m);
}

/* ---- notification log ---------------------------------------------------- */

static void test_notify_ring(void)
{
    OcssdNotifyLog log = { 0 };
    unsigned i;

    ocssd_notify_add(&log, 0x1234, 1, OCSSD_NOTIFY_WLI,
                     OCSSD_NOTIFY_MASK_CHUNK, 7);
    g_assert_cmpuint(log.count, ==, 1);
    g_assert_cmpuint(le64_to_cpu(log.entry[0].nc), ==, 1);
    g_assert_cmphex(le64_to_cpu(log.entry[0].lba), ==, 0x1234);
    g_assert_cmpuint(le32_to_cpu(log.entry[0].nsid), ==, 1);
    g_assert_cmphex(le16_to_cpu(log.entry[0].state), ==, 0x100);
    g_assert_cmphex(log.entry[0].mask, ==, 0x2);
    g_assert_cmpuint(le16_to_cpu(log.entry[0].nlb), ==, 7);
    /* Wire offsets of the digest's table. */
    g_assert_cmpuint(((uint8_t *)&log.entry[0])[20], ==, 0x00);
    g_assert_cmpuint(((uint8_t *)&log.entry[0])[21], ==, 0x01);
    g_assert_cmpuint(((uint8_t *)&log.entry[0])[22], ==, 0x02);
    g_assert_cmpuint(((uint8_t *)&log.entry[0])[32], ==, 7);

    /* 70 events: the newest 64 remain, oldest first, NC never 0. */
    for (i = 2; i <= 70; i++) {
        ocssd_notify_add(&log, i, 1, OCSSD_NOTIFY_ERR_HIGH,
                         OCSSD_NOTIFY_MASK_SECTOR, 0);
    }
    g_assert_cmpuint(log.count, ==, OCSSD_NOTIFY_LOG_ENTRIES);
    for (i = 0; i < OCSSD_NOTIFY_LOG_ENTRIES; i++) {
        g_assert_cmpuint(le64_to_cpu(log.entry[i].nc), ==, 7 + i);
        g_assert_cmpuint(le64_to_cpu(log.entry[i].lba), ==, 7 + i);
    }
    /* Reading clears it; the count goes on. */
    ocssd_notify_clear(&log);
    g_assert_cmpuint(log.count, ==, 0);
    for (i = 0; i < OCSSD_NOTIFY_LOG_ENTRIES; i++) {
        g_assert_cmpuint(log.entry[i].nc, ==, 0);
    }
    ocssd_notify_add(&log, 5, 1, OCSSD_NOTIFY_REFRESHED,
                     OCSSD_NOTIFY_MASK_PU, 0);
    g_assert_cmpuint(le64_to_cpu(log.entry[0].nc), ==, 71);
}

/*
 * Wear events queue like the log: the newest 64 remain.  100 chunks, WIT
 * 1, each reset twice in turn: chunks 0-48 leave above the band as they
 * reach 2 (the average is still below 1); when the average passes 1,
 * chunks 51-99 (still 0) leave below it, all at once.  98 events.
 */
static void test_wear_event_queue(void)
{
    OcssdMediaParams p = small_params();
    uint64_t chunk;
    OcssdMedia m;
    unsigned i, n = 0;

    p.num_grp = 1;
    p.num_pu = 1;
    p.num_chk = 100;
    p.wit = 1;
    p.multiple_resets = true;
    media_new(&m, &p);
    for (i = 0; i < 100; i++) {
        ocssd_media_reset(&m, i);
        ocssd_media_reset(&m, i);
    }
    g_assert_cmpuint(m.wli_nevent, ==, OCSSD_NOTIFY_LOG_ENTRIES);
    while (ocssd_media_wli_event(&m, &chunk)) {
        /* 34..48, then 51..99 */
        g_assert_cmpuint(chunk, ==, n < 15 ? 34 + n : 51 + (n - 15));
        n++;
    }
    g_assert_cmpuint(n, ==, OCSSD_NOTIFY_LOG_ENTRIES);
    ocssd_media_cleanup(&m);
}

/* ---- the chunk table check (image load) ---------------------------------- */

static void test_chunk_check(void)
{
    OcssdMediaParams p = small_params();
    OcssdChunk ok = { .state = OCSSD_CHUNK_OPEN,
                      .type = OCSSD_CHUNK_TYPE_SEQUENTIAL, .cnlb = 64,
                      .wp = 8 };
    OcssdChunk c;
    Error *err = NULL;

    g_assert_true(ocssd_media_chunk_check(&p, &ok, &error_abort));
    c = ok;
    c.state = 3;
    g_assert_false(ocssd_media_chunk_check(&p, &c, &err));
    error_free_or_abort(&err);
    c = ok;
    c.type = OCSSD_CHUNK_TYPE_RANDOM;
    g_assert_false(ocssd_media_chunk_check(&p, &c, &err));
    error_free_or_abort(&err);
    c = ok;
    c.cnlb = 32;
    g_assert_false(ocssd_media_chunk_check(&p, &c, &err));
    error_free_or_abort(&err);
    c.type |= OCSSD_CHUNK_TYPE_SHRINKED;
    g_assert_true(ocssd_media_chunk_check(&p, &c, &error_abort));
    c.cnlb = 30;        /* not WS_MIN */
    g_assert_false(ocssd_media_chunk_check(&p, &c, &err));
    error_free_or_abort(&err);
    c = ok;
    c.wp = 64;          /* open and full */
    g_assert_false(ocssd_media_chunk_check(&p, &c, &err));
    error_free_or_abort(&err);
    c = ok;
    c.state = OCSSD_CHUNK_FREE;     /* free with a WP */
    g_assert_false(ocssd_media_chunk_check(&p, &c, &err));
    error_free_or_abort(&err);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ocssd/media/params/defaults", test_params_defaults);
    g_test_add_func("/ocssd/media/params/validation", test_params_validation);
    g_test_add_func("/ocssd/media/params/limits", test_params_limits);
    g_test_add_func("/ocssd/media/params/limits-checked",
                    test_params_limits_checked);
    g_test_add_func("/ocssd/media/addr/small-geometries",
                    test_addr_small_geometries);
    g_test_add_func("/ocssd/media/addr/wide-fields", test_addr_wide_fields);
    g_test_add_func("/ocssd/media/geometry", test_geometry);
    g_test_add_func("/ocssd/media/chunk-descriptor", test_chunk_descriptor);
    g_test_add_func("/ocssd/media/chunk-descriptor-odd",
                    test_chunk_descriptor_odd);
    g_test_add_func("/ocssd/media/state/transitions", test_state_transitions);
    g_test_add_func("/ocssd/media/state/injected-write-failures",
                    test_injected_write_failures);
    g_test_add_func("/ocssd/media/write/closed-offline",
                    test_write_closed_offline);
    g_test_add_func("/ocssd/media/write/out-of-order",
                    test_write_out_of_order);
    g_test_add_func("/ocssd/media/write/past-end", test_write_past_end);
    g_test_add_func("/ocssd/media/write/ws-min", test_write_ws_min);
    g_test_add_func("/ocssd/media/write/maxoc", test_write_maxoc);
    g_test_add_func("/ocssd/media/write/maxocpu", test_write_maxocpu);
    g_test_add_func("/ocssd/media/write/maxocpu-one-command",
                    test_write_maxocpu_one_command);
    g_test_add_func("/ocssd/media/write/max-open-close-first",
                    test_write_max_open_close_first);
    g_test_add_func("/ocssd/media/write/precedence", test_write_precedence);
    g_test_add_func("/ocssd/media/write/per-chunk-all-or-nothing",
                    test_write_per_chunk_all_or_nothing);
    g_test_add_func("/ocssd/media/holes", test_holes);
    g_test_add_func("/ocssd/media/standard-range", test_standard_range);
    g_test_add_func("/ocssd/media/read/unwritten", test_read_unwritten);
    g_test_add_func("/ocssd/media/read/mw-cunits", test_read_mw_cunits);
    g_test_add_func("/ocssd/media/reset/rules", test_reset_rules);
    g_test_add_func("/ocssd/media/dsm-range", test_dsm_range);
    g_test_add_func("/ocssd/media/open-accounting", test_open_accounting);
    g_test_add_func("/ocssd/media/wear/crossing", test_wear_crossing);
    g_test_add_func("/ocssd/media/wear/others-below", test_wear_others_below);
    g_test_add_func("/ocssd/media/wear/offline", test_wear_offline);
    g_test_add_func("/ocssd/media/wear/wit0", test_wear_wit0);
    g_test_add_func("/ocssd/media/wear/saturates", test_wear_saturates);
    g_test_add_func("/ocssd/media/wear/event-queue", test_wear_event_queue);
    g_test_add_func("/ocssd/media/notify/ring", test_notify_ring);
    g_test_add_func("/ocssd/media/chunk-check", test_chunk_check);
    return g_test_run();
}
