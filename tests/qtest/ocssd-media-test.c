/*
 * ocssd qtests: the Open-Channel 2.0 namespace, rule by rule
 *
 * Every rule and status code of the spec digest (sections 2-8) and the
 * project's decisions, seen from the host: Geometry and Identify, the
 * Chunk Information and Chunk Notification logs, the chunk state machine
 * through standard and vector commands, DULBE, the MW_CUNITS window,
 * Dataset Management, vector lists and their completion bitmap, copy,
 * MAXOC/MAXOCPU, metadata through MPTR, FUA, Media Feedback, and many
 * appends to one chunk in flight at once.
 *
 * Each test boots its own QEMU on a fresh image (small geometry: 2 groups
 * x 2 PUs x 4 chunks x 64 sectors unless it says otherwise; chunk index =
 * (grp * 2 + pu) * 4 + chk).
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/ocssd.h"
#include "qemu/crc32c.h"
#include "hw/block/ocssd-image.h"

#define GEO     "num_grp=2,num_pu=2,num_chk=4,clba=64"
#define NCHUNK  16
#define CLBA    64

#define WF      (NVME_WRITE_FAULT | NVME_DNR)
#define OOO     (OCSSD_OUT_OF_ORDER_WRITE | NVME_DNR)
#define INVF    (NVME_INVALID_FIELD | NVME_DNR)
#define RANGE   (NVME_LBA_RANGE | NVME_DNR)
#define DULB    (NVME_DULB | NVME_DNR)
#define OFFL    (OCSSD_OFFLINE_CHUNK | NVME_DNR)
#define INVR    (OCSSD_INVALID_RESET | NVME_DNR)

/* ---- helpers ------------------------------------------------------------ */

static char *new_image(void)
{
    char *path;
    int fd = g_file_open_tmp("ocssd-media-XXXXXX.img", &path, NULL);

    g_assert(fd >= 0);
    close(fd);
    return path;
}

/* Boot on img (the device's id is "oc"), with I/O queue pair 1 ready. */
static QOcssd * G_GNUC_PRINTF(2, 3) boot(const char *img, const char *fmt,
                                         ...)
{
    g_autofree char *opts = NULL;
    va_list ap;
    QOcssd *o;

    va_start(ap, fmt);
    opts = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    o = qocssd_boot("q35", img, "id=oc,%s", opts);
    qocssd_start_io(o);
    return o;
}

/* The device still answers; then shut it down and drop the image. */
static void finish(QOcssd *o, char *img)
{
    uint8_t id[NVME_IDENTIFY_DATA_SIZE];

    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_CTRL, 0, id), ==, 0);
    qocssd_shutdown(o);
    if (img) {
        unlink(img);
        g_free(img);
    }
}

static uint64_t lba(QOcssd *o, uint64_t chunk, uint32_t sec)
{
    return qocssd_chunk_slba(o, chunk) + sec;
}

static uint64_t nsze(QOcssd *o)
{
    const OcssdIdLbaf *f = &o->geo.lbaf;

    return 1ULL << (f->grp_len + f->pu_len + f->chk_len + f->lbk_len);
}

static void range(QOcssd *o, uint64_t *lbas, uint64_t chunk, uint32_t sec,
                  unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        lbas[i] = lba(o, chunk, sec + i);
    }
}

/* Data and metadata that name their LBA and a tag in every byte. */
static uint8_t data_byte(uint64_t lba, size_t j, uint8_t tag)
{
    return (uint8_t)(lba * 151 + j * 7 + (j >> 8) + tag * 29 + 1);
}

static uint8_t meta_byte(uint64_t lba, size_t j, uint8_t tag)
{
    return (uint8_t)(lba * 37 + j * 11 + tag * 13 + 0x80);
}

static uint8_t *mkdata(QOcssd *o, const uint64_t *lbas, unsigned n,
                       uint8_t tag)
{
    uint8_t *d = g_malloc((size_t)n * o->sec_size);
    unsigned i;
    size_t j;

    for (i = 0; i < n; i++) {
        for (j = 0; j < o->sec_size; j++) {
            d[(size_t)i * o->sec_size + j] = data_byte(lbas[i], j, tag);
        }
    }
    return d;
}

static uint8_t *mkmeta(QOcssd *o, const uint64_t *lbas, unsigned n,
                       uint8_t tag)
{
    uint8_t *m = g_malloc0((size_t)n * o->md_size + 1);
    unsigned i;
    size_t j;

    for (i = 0; i < n; i++) {
        for (j = 0; j < o->md_size; j++) {
            m[(size_t)i * o->md_size + j] = meta_byte(lbas[i], j, tag);
        }
    }
    return m;
}

/* Entry i of a read buffer holds lbas[i]'s data (and metadata). */
static void check_sector(QOcssd *o, const uint8_t *d, const uint8_t *m,
                         uint64_t lba, uint8_t tag)
{
    size_t j;

    for (j = 0; j < o->sec_size; j++) {
        if (d[j] != data_byte(lba, j, tag)) {
            g_error("LBA 0x%" PRIx64 " byte %zu: 0x%02x, expected 0x%02x",
                    lba, j, d[j], data_byte(lba, j, tag));
        }
    }
    for (j = 0; m && j < o->md_size; j++) {
        if (m[j] != meta_byte(lba, j, tag)) {
            g_error("LBA 0x%" PRIx64 " metadata byte %zu: 0x%02x, expected "
                    "0x%02x", lba, j, m[j], meta_byte(lba, j, tag));
        }
    }
}

static void check_zero(const uint8_t *b, size_t len)
{
    size_t j;

    for (j = 0; j < len; j++) {
        if (b[j]) {
            g_error("byte %zu is 0x%02x, expected zero", j, b[j]);
        }
    }
}

/* Standard write of n sectors at slba, data and metadata tagged. */
static uint16_t wr(QOcssd *o, uint64_t slba, unsigned n, uint8_t tag)
{
    g_autofree uint64_t *l = g_new(uint64_t, n);
    g_autofree uint8_t *d = NULL, *m = NULL;
    unsigned i;

    for (i = 0; i < n; i++) {
        l[i] = slba + i;
    }
    d = mkdata(o, l, n, tag);
    m = mkmeta(o, l, n, tag);
    return qocssd_write(o, 1, slba, n, d, m, 0);
}

/* Standard read of n sectors at slba that must succeed with tag's data. */
static void rd_check(QOcssd *o, uint64_t slba, unsigned n, uint8_t tag)
{
    g_autofree uint8_t *d = g_malloc((size_t)n * o->sec_size);
    g_autofree uint8_t *m = g_malloc((size_t)n * o->md_size + 1);
    unsigned i;

    g_assert_cmphex(qocssd_read(o, 1, slba, n, d, m, 0), ==, 0);
    for (i = 0; i < n; i++) {
        check_sector(o, d + (size_t)i * o->sec_size,
                     m + (size_t)i * o->md_size, slba + i, tag);
    }
}

/* Standard read of n sectors that must succeed and return zeroes. */
static void rd_zero(QOcssd *o, uint64_t slba, unsigned n)
{
    g_autofree uint8_t *d = g_malloc((size_t)n * o->sec_size);
    g_autofree uint8_t *m = g_malloc((size_t)n * o->md_size + 1);

    g_assert_cmphex(qocssd_read(o, 1, slba, n, d, m, 0), ==, 0);
    check_zero(d, (size_t)n * o->sec_size);
    check_zero(m, (size_t)n * o->md_size);
}

static uint16_t rd_status(QOcssd *o, uint64_t slba, unsigned n)
{
    g_autofree uint8_t *d = g_malloc((size_t)n * o->sec_size);

    return qocssd_read(o, 1, slba, n, d, NULL, 0);
}

/* Fill a chunk from its WP to its end. */
static void fill_chunk(QOcssd *o, uint64_t chunk, uint8_t tag)
{
    OcssdChunkDescriptor d;
    uint64_t wp;

    g_assert_cmphex(qocssd_chunk_info(o, chunk, &d), ==, 0);
    wp = le64_to_cpu(d.wp);
    g_assert_cmphex(wr(o, lba(o, chunk, wp), CLBA - wp, tag), ==, 0);
}

static void expect_chunk(QOcssd *o, uint64_t chunk, uint8_t cs, uint64_t wp,
                         uint8_t wli)
{
    OcssdChunkDescriptor d;

    g_assert_cmphex(qocssd_chunk_info(o, chunk, &d), ==, 0);
    g_assert_cmphex(d.cs, ==, cs);
    g_assert_cmphex(d.ct, ==, OCSSD_CHUNK_TYPE_SEQUENTIAL);
    g_assert_cmpuint(d.wli, ==, wli);
    g_assert_cmphex(le64_to_cpu(d.slba), ==, qocssd_chunk_slba(o, chunk));
    g_assert_cmpuint(le64_to_cpu(d.cnlb), ==, le32_to_cpu(o->geo.clba));
    g_assert_cmpuint(le64_to_cpu(d.wp), ==, wp);
}

static uint16_t vreset1(QOcssd *o, uint64_t chunk)
{
    uint64_t l = qocssd_chunk_slba(o, chunk);

    return qocssd_vreset(o, 1, &l, 1, NULL, NULL);
}

static void inject(QOcssd *o, const char *prop, uint64_t lba)
{
    qtest_qmp_assert_success(o->qts, "{'execute': 'qom-set', 'arguments': "
                             "{'path': '/machine/peripheral/oc', "
                             "'property': %s, 'value': %" PRIu64 "}}",
                             prop, lba);
}

static void set_dulbe(QOcssd *o, bool on)
{
    uint32_t dw0;

    g_assert_cmphex(qocssd_set_features(o, NVME_ERROR_RECOVERY,
                                        on ? 1u << 16 : 0, NULL), ==, 0);
    g_assert_cmphex(qocssd_get_features(o, NVME_ERROR_RECOVERY, 0, 0, &dw0),
                    ==, 0);
    g_assert_cmphex(dw0 & (1u << 16), ==, on ? 1u << 16 : 0);
}

/* ---- Geometry (E2h) and Identify Namespace ---------------------------- */

static void test_geometry_defaults(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO);
    OcssdIdGeo *g = &o->geo, bad;
    const uint8_t *raw = (const uint8_t *)g;
    size_t i;

    g_assert_cmpuint(g->mjr, ==, 2);
    g_assert_cmpuint(g->mnr, ==, 0);
    g_assert_cmpuint(g->lbaf.grp_len, ==, 1);
    g_assert_cmpuint(g->lbaf.pu_len, ==, 1);
    g_assert_cmpuint(g->lbaf.chk_len, ==, 2);
    g_assert_cmpuint(g->lbaf.lbk_len, ==, 6);
    /* vector_copy defaults on, multiple_resets and early_reset off. */
    g_assert_cmphex(le32_to_cpu(g->mccap), ==, OCSSD_MCCAP_VECTOR_COPY);
    g_assert_cmpuint(g->wit, ==, OCSSD_DEFAULT_WIT);
    g_assert_cmpuint(le16_to_cpu(g->num_grp), ==, 2);
    g_assert_cmpuint(le16_to_cpu(g->num_pu), ==, 2);
    g_assert_cmpuint(le32_to_cpu(g->num_chk), ==, 4);
    g_assert_cmpuint(le32_to_cpu(g->clba), ==, 64);
    g_assert_cmpuint(le32_to_cpu(g->ws_min), ==, OCSSD_DEFAULT_WS_MIN);
    g_assert_cmpuint(le32_to_cpu(g->ws_opt), ==, OCSSD_DEFAULT_WS_OPT);
    g_assert_cmpuint(le32_to_cpu(g->mw_cunits), ==, OCSSD_DEFAULT_MW_CUNITS);
    g_assert_cmpuint(le32_to_cpu(g->maxoc), ==, 0);
    g_assert_cmpuint(le32_to_cpu(g->maxocpu), ==, 0);
    g_assert_cmpuint(le32_to_cpu(g->trdt), ==, OCSSD_DEFAULT_TRDT);
    g_assert_cmpuint(le32_to_cpu(g->trdm), ==, OCSSD_DEFAULT_TRDM);
    g_assert_cmpuint(le32_to_cpu(g->twrt), ==, OCSSD_DEFAULT_TWRT);
    g_assert_cmpuint(le32_to_cpu(g->twrm), ==, OCSSD_DEFAULT_TWRM);
    g_assert_cmpuint(le32_to_cpu(g->tcrst), ==, OCSSD_DEFAULT_TCRST);
    g_assert_cmpuint(le32_to_cpu(g->tcrsm), ==, OCSSD_DEFAULT_TCRSM);
    /* Reserved bytes are zero (the helper's buffer starts as 0xa5). */
    for (i = 0; i < sizeof(*g); i++) {
        bool field = i < 2 || (i >= 8 && i < 12) || (i >= 16 && i < 20) ||
                     i == 32 || (i >= 64 && i < 76) ||
                     (i >= 128 && i < 148) || (i >= 192 && i < 216) ||
                     i >= 3072;

        if (!field && raw[i]) {
            g_error("geometry byte %zu (reserved) is 0x%02x", i, raw[i]);
        }
    }
    /* A namespace that does not exist: Invalid Namespace or Format. */
    g_assert_cmphex(qocssd_geometry(o, 2, &bad), ==,
                    NVME_INVALID_NSID | NVME_DNR);
    g_assert_cmphex(qocssd_geometry(o, 0, &bad), ==,
                    NVME_INVALID_NSID | NVME_DNR);
    finish(o, img);
}

static void test_geometry_custom(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, "num_grp=3,num_pu=5,num_chk=7,clba=48,ws_min=4,"
                     "ws_opt=12,mw_cunits=16,maxoc=9,maxocpu=3,wit=17,"
                     "trdt=11,trdm=12,twrt=13,twrm=14,tcrst=15,tcrsm=16,"
                     "vector_copy=off,multiple_resets=on,early_reset=on");
    OcssdIdGeo *g = &o->geo;
    NvmeCmd cmd = { .opcode = OCSSD_CMD_VECT_COPY };

    g_assert_cmpuint(g->lbaf.grp_len, ==, 2);
    g_assert_cmpuint(g->lbaf.pu_len, ==, 3);
    g_assert_cmpuint(g->lbaf.chk_len, ==, 3);
    g_assert_cmpuint(g->lbaf.lbk_len, ==, 6);
    g_assert_cmphex(le32_to_cpu(g->mccap), ==,
                    OCSSD_MCCAP_MULTIPLE_RESETS | OCSSD_MCCAP_EARLY_RESET);
    g_assert_cmpuint(g->wit, ==, 17);
    g_assert_cmpuint(le16_to_cpu(g->num_grp), ==, 3);
    g_assert_cmpuint(le16_to_cpu(g->num_pu), ==, 5);
    g_assert_cmpuint(le32_to_cpu(g->num_chk), ==, 7);
    g_assert_cmpuint(le32_to_cpu(g->clba), ==, 48);
    g_assert_cmpuint(le32_to_cpu(g->ws_min), ==, 4);
    g_assert_cmpuint(le32_to_cpu(g->ws_opt), ==, 12);
    g_assert_cmpuint(le32_to_cpu(g->mw_cunits), ==, 16);
    g_assert_cmpuint(le32_to_cpu(g->maxoc), ==, 9);
    g_assert_cmpuint(le32_to_cpu(g->maxocpu), ==, 3);
    g_assert_cmpuint(le32_to_cpu(g->trdt), ==, 11);
    g_assert_cmpuint(le32_to_cpu(g->trdm), ==, 12);
    g_assert_cmpuint(le32_to_cpu(g->twrt), ==, 13);
    g_assert_cmpuint(le32_to_cpu(g->twrm), ==, 14);
    g_assert_cmpuint(le32_to_cpu(g->tcrst), ==, 15);
    g_assert_cmpuint(le32_to_cpu(g->tcrsm), ==, 16);
    /* No MCCAP bit 0: Vector Copy is an invalid opcode. */
    cmd.nsid = cpu_to_le32(1);
    g_assert_cmphex(qocssd_exec(o, 1, &cmd, NULL), ==,
                    NVME_INVALID_OPCODE | NVME_DNR);
    finish(o, img);
}

static void test_identify_ns(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO);
    NvmeIdNs ns;

    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_NS, 1, &ns), ==, 0);
    /* 1 + 1 + 2 + 6 address bits: every LBA format address is inside. */
    g_assert_cmpuint(le64_to_cpu(ns.nsze), ==, 1024);
    g_assert_cmpuint(le64_to_cpu(ns.ncap), ==, 1024);
    g_assert_cmpuint(le64_to_cpu(ns.nuse), ==, 1024);
    g_assert_cmphex(ns.vs[0], ==, OCSSD_ID_NS_VS_OCSSD20);
    g_assert_cmpuint(ns.nlbaf, ==, 0);
    g_assert_cmpuint(ns.flbas, ==, 0);
    g_assert_cmpuint(ns.lbaf[0].ds, ==, 12);
    g_assert_cmpuint(le16_to_cpu(ns.lbaf[0].ms), ==, 16);
    g_assert_true(ns.mc & NVME_ID_NS_MC_SEPARATE);
    finish(o, img);

    /* Odd counts, 512-byte sectors without metadata. */
    img = new_image();
    o = boot(img, "num_grp=3,num_pu=5,num_chk=7,clba=48,sec_size=512,"
             "md_size=0,mw_cunits=8");
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_NS, 1, &ns), ==, 0);
    g_assert_cmpuint(le64_to_cpu(ns.nsze), ==, 1ULL << (2 + 3 + 3 + 6));
    g_assert_cmpuint(le64_to_cpu(ns.ncap), ==, 1ULL << 14);
    g_assert_cmpuint(le64_to_cpu(ns.nuse), ==, 1ULL << 14);
    g_assert_cmphex(ns.vs[0], ==, OCSSD_ID_NS_VS_OCSSD20);
    g_assert_cmpuint(ns.lbaf[0].ds, ==, 9);
    g_assert_cmpuint(le16_to_cpu(ns.lbaf[0].ms), ==, 0);
    finish(o, img);
}

/* ---- Chunk Information log (CAh) ---------------------------------------- */

static void test_chunk_log_transitions(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    OcssdChunkDescriptor all[NCHUNK];
    uint64_t c;

    /* Every chunk, in grp/pu/chk order, FREE with its SLBA. */
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, 1, 0,
                                   sizeof(all), false, all), ==, 0);
    for (c = 0; c < NCHUNK; c++) {
        g_assert_cmphex(all[c].cs, ==, OCSSD_CHUNK_FREE);
        g_assert_cmphex(all[c].ct, ==, OCSSD_CHUNK_TYPE_SEQUENTIAL);
        g_assert_cmpuint(all[c].wli, ==, 0);
        g_assert_cmphex(le64_to_cpu(all[c].slba), ==,
                        (c / 8) << 9 | (c / 4 % 2) << 8 | (c % 4) << 6);
        g_assert_cmpuint(le64_to_cpu(all[c].cnlb), ==, CLBA);
        g_assert_cmpuint(le64_to_cpu(all[c].wp), ==, 0);
    }
    /* NSID FFFFFFFFh means the namespace too. */
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, 0xffffffff, 0,
                                   sizeof(all), false, all), ==, 0);
    g_assert_cmphex(le64_to_cpu(all[13].slba), ==, 0x340);

    /* FREE -> OPEN -> CLOSED -> FREE (wear 1) -> OFFLINE */
    g_assert_cmphex(wr(o, lba(o, 13, 0), 8, 1), ==, 0);
    expect_chunk(o, 13, OCSSD_CHUNK_OPEN, 8, 0);
    g_assert_cmphex(wr(o, lba(o, 13, 8), 52, 1), ==, 0);
    expect_chunk(o, 13, OCSSD_CHUNK_OPEN, 60, 0);
    g_assert_cmphex(wr(o, lba(o, 13, 60), 4, 1), ==, 0);
    expect_chunk(o, 13, OCSSD_CHUNK_CLOSED, 64, 0);
    g_assert_cmphex(vreset1(o, 13), ==, 0);
    expect_chunk(o, 13, OCSSD_CHUNK_FREE, 0, 1);
    g_assert_cmphex(wr(o, lba(o, 13, 0), 4, 2), ==, 0);
    expect_chunk(o, 13, OCSSD_CHUNK_OPEN, 4, 1);
    inject(o, "inject-offline", lba(o, 13, 0));
    expect_chunk(o, 13, OCSSD_CHUNK_OFFLINE, 4, 1);
    /* The others did not move. */
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, 1, 0,
                                   sizeof(all), false, all), ==, 0);
    for (c = 0; c < NCHUNK; c++) {
        if (c != 13) {
            g_assert_cmphex(all[c].cs, ==, OCSSD_CHUNK_FREE);
            g_assert_cmpuint(le64_to_cpu(all[c].wp), ==, 0);
        }
    }
    g_assert_cmphex(all[13].cs, ==, OCSSD_CHUNK_OFFLINE);
    g_assert_cmpuint(all[13].wli, ==, 1);
    finish(o, img);
}

static void test_chunk_log_partial(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO);
    uint8_t full[NCHUNK * 32], part[NCHUNK * 32 + 256];
    static const struct {
        uint32_t off, len;
    } cut[] = {
        { 0, 4 }, { 4, 4 }, { 4, 28 }, { 8, 32 }, { 36, 44 }, { 100, 12 },
        { 28, 100 }, { 500, 12 }, { 508, 4 }, { 256, 256 },
        { 480, 96 },    /* runs past the end: zeroes there */
        { 4, 508 }, { 0, 768 },
    };
    unsigned i;

    /* Chunks in various states, so every descriptor differs. */
    g_assert_cmphex(wr(o, lba(o, 0, 0), 8, 1), ==, 0);
    fill_chunk(o, 3, 1);
    g_assert_cmphex(wr(o, lba(o, 6, 0), 16, 1), ==, 0);
    g_assert_cmphex(wr(o, lba(o, 15, 0), 12, 1), ==, 0);
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, 1, 0,
                                   sizeof(full), false, full), ==, 0);
    for (i = 0; i < ARRAY_SIZE(cut); i++) {
        uint32_t inside = MIN(cut[i].len, sizeof(full) - cut[i].off);

        memset(part, 0xa5, sizeof(part));
        g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, 1,
                                       cut[i].off, cut[i].len, false, part),
                        ==, 0);
        if (memcmp(part, full + cut[i].off, inside)) {
            g_error("log slice %u+%u differs", cut[i].off, cut[i].len);
        }
        check_zero(part + inside, cut[i].len - inside);
    }
    /* An offset at or past the end, or not dword aligned: Invalid Field. */
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, 1, sizeof(full),
                                   4, false, part), ==, INVF);
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, 1, 1ULL << 32,
                                   4, false, part), ==, INVF);
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, 1, 2, 8, false,
                                   part), ==, INVF);
    /* No such namespace. */
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, 2, 0, 32, false,
                                   part), ==, NVME_INVALID_NSID | NVME_DNR);
    finish(o, img);
}

/*
 * Counts that are not powers of two: each descriptor's SLBA is its
 * position's address in the LBA format, not index x CLBA.
 */
static void test_chunk_log_odd_geometry(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, "num_grp=3,num_pu=3,num_chk=5,clba=48,"
                     "mw_cunits=0");
    OcssdChunkDescriptor all[45];
    uint32_t g, p, c;

    g_assert_cmphex(wr(o, qocssd_lba(o, 2, 1, 3, 0), 8, 1), ==, 0);
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, 1, 0,
                                   sizeof(all), false, all), ==, 0);
    for (g = 0; g < 3; g++) {
        for (p = 0; p < 3; p++) {
            for (c = 0; c < 5; c++) {
                OcssdChunkDescriptor *d = &all[(g * 3 + p) * 5 + c];
                bool written = g == 2 && p == 1 && c == 3;

                g_assert_cmphex(le64_to_cpu(d->slba), ==,
                                qocssd_lba(o, g, p, c, 0));
                g_assert_cmpuint(le64_to_cpu(d->cnlb), ==, 48);
                g_assert_cmphex(d->cs, ==, written ? OCSSD_CHUNK_OPEN :
                                OCSSD_CHUNK_FREE);
                g_assert_cmpuint(le64_to_cpu(d->wp), ==, written ? 8 : 0);
            }
        }
    }
    finish(o, img);
}

/* Where the image file keeps a chunk's table entry. */
static int image_chunk_open(const char *img, uint64_t chunk, int flags,
                            off_t *off)
{
    OcssdImageHeader h;
    int fd = open(img, flags);

    g_assert(fd >= 0);
    g_assert_cmpint(pread(fd, &h, sizeof(h), 0), ==, sizeof(h));
    g_assert(!memcmp(h.magic, OCSSD_IMAGE_MAGIC, 8));
    *off = le64_to_cpu(h.table_offset) + chunk * sizeof(OcssdImageChunk);
    return fd;
}

/* The chunk table entry of a chunk as the image file holds it now. */
static void image_chunk(const char *img, uint64_t chunk, OcssdImageChunk *e)
{
    off_t off;
    int fd = image_chunk_open(img, chunk, O_RDONLY, &off);

    g_assert_cmpint(pread(fd, e, sizeof(*e), off), ==, sizeof(*e));
    close(fd);
}

/* Rewrite it (in an image no device has open), checksum included. */
static void image_chunk_put(const char *img, uint64_t chunk,
                            OcssdImageChunk *e)
{
    off_t off;
    int fd = image_chunk_open(img, chunk, O_RDWR, &off);

    e->crc = cpu_to_le32(crc32c(0xffffffff, (const uint8_t *)e,
                                offsetof(OcssdImageChunk, crc)));
    g_assert_cmpint(pwrite(fd, e, sizeof(*e), off), ==, sizeof(*e));
    close(fd);
}

/*
 * A chunk with a deviating number of sectors (CT bit 4, CNLB 32 of CLBA
 * 64): the log says so, and its end is CNLB for writes, reads, the state
 * machine and Dataset Management.
 */
static void test_chunk_deviating(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    OcssdChunkDescriptor d;
    OcssdImageChunk e;
    uint64_t l[12], bm, s;
    uint32_t n;
    g_autofree uint8_t *buf = NULL;

    qocssd_shutdown(o);
    image_chunk(img, 5, &e);
    e.type = OCSSD_CHUNK_TYPE_SEQUENTIAL | OCSSD_CHUNK_TYPE_SHRINKED;
    e.cnlb = cpu_to_le64(32);
    image_chunk_put(img, 5, &e);
    o = boot(img, GEO);

    g_assert_cmphex(qocssd_chunk_info(o, 5, &d), ==, 0);
    g_assert_cmphex(d.cs, ==, OCSSD_CHUNK_FREE);
    g_assert_cmphex(d.ct, ==, OCSSD_CHUNK_TYPE_SEQUENTIAL |
                    OCSSD_CHUNK_TYPE_SHRINKED);
    g_assert_cmpuint(le64_to_cpu(d.cnlb), ==, 32);
    g_assert_cmphex(le64_to_cpu(d.slba), ==, qocssd_chunk_slba(o, 5));
    /* Writes end at CNLB: standard and vector, past it is a Write Fault. */
    g_assert_cmphex(wr(o, lba(o, 5, 0), 24, 1), ==, 0);
    g_assert_cmphex(wr(o, lba(o, 5, 24), 16, 1), ==, WF);
    range(o, l, 5, 24, 12);
    buf = mkdata(o, l, 12, 1);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, 12, buf,
                                  NULL, 0, &bm), ==, WF);
    g_assert_cmphex(bm, ==, 0xfff);
    g_assert_cmphex(qocssd_chunk_info(o, 5, &d), ==, 0);
    g_assert_cmphex(d.cs, ==, OCSSD_CHUNK_OPEN);
    g_assert_cmpuint(le64_to_cpu(d.wp), ==, 24);
    /* The last sector written closes it, at WP = CNLB. */
    g_assert_cmphex(wr(o, lba(o, 5, 24), 8, 1), ==, 0);
    g_assert_cmphex(qocssd_chunk_info(o, 5, &d), ==, 0);
    g_assert_cmphex(d.cs, ==, OCSSD_CHUNK_CLOSED);
    g_assert_cmpuint(le64_to_cpu(d.wp), ==, 32);
    rd_check(o, lba(o, 5, 0), 32, 1);
    /* Sectors beyond CNLB do not exist: out of range, DULBE or not. */
    g_assert_cmphex(rd_status(o, lba(o, 5, 32), 4), ==, RANGE);
    g_assert_cmphex(rd_status(o, lba(o, 5, 28), 8), ==, RANGE);
    l[0] = lba(o, 5, 40);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, l, 1, buf,
                                  NULL, 0, &bm), ==, RANGE);
    /* Dataset Management: one range of exactly CNLB sectors. */
    s = lba(o, 5, 0);
    n = CLBA;
    g_assert_cmphex(qocssd_dsm(o, 1, &s, &n, 1), ==, INVF);
    n = 32;
    g_assert_cmphex(qocssd_dsm(o, 1, &s, &n, 1), ==, 0);
    g_assert_cmphex(qocssd_chunk_info(o, 5, &d), ==, 0);
    g_assert_cmphex(d.cs, ==, OCSSD_CHUNK_FREE);
    g_assert_cmpuint(d.wli, ==, 1);
    g_assert_cmpuint(le64_to_cpu(d.cnlb), ==, 32);
    finish(o, img);
}

/* ---- write rules --------------------------------------------------------- */

static void test_write_out_of_order(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    uint64_t l[4];
    g_autofree uint8_t *d = NULL;
    uint64_t bm;

    /* A FREE chunk's WP is 0. */
    g_assert_cmphex(wr(o, lba(o, 2, 4), 4, 1), ==, OOO);
    expect_chunk(o, 2, OCSSD_CHUNK_FREE, 0, 0);
    g_assert_cmphex(wr(o, lba(o, 2, 0), 8, 1), ==, 0);
    /* Behind WP, ahead of it. */
    g_assert_cmphex(wr(o, lba(o, 2, 4), 4, 1), ==, OOO);
    g_assert_cmphex(wr(o, lba(o, 2, 12), 4, 1), ==, OOO);
    expect_chunk(o, 2, OCSSD_CHUNK_OPEN, 8, 0);
    /* Vector: at WP but descending. */
    l[0] = lba(o, 2, 11);
    l[1] = lba(o, 2, 10);
    l[2] = lba(o, 2, 9);
    l[3] = lba(o, 2, 8);
    d = mkdata(o, l, 4, 1);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, 4, d, NULL,
                                  0, &bm), ==, OOO);
    g_assert_cmphex(bm, ==, 0xf);
    expect_chunk(o, 2, OCSSD_CHUNK_OPEN, 8, 0);
    rd_check(o, lba(o, 2, 0), 8, 1);
    finish(o, img);
}

static void test_write_ws_min(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO);
    uint64_t l[6];
    g_autofree uint8_t *d = NULL;
    uint64_t bm;
    unsigned n;

    for (n = 1; n < 8; n++) {
        if (n != 4) {
            g_assert_cmphex(wr(o, lba(o, 1, 0), n, 1), ==, INVF);
        }
    }
    expect_chunk(o, 1, OCSSD_CHUNK_FREE, 0, 0);
    /* Vector: 6 sectors of one chunk, 2 of them beyond a WS_MIN unit. */
    range(o, l, 1, 0, 6);
    d = mkdata(o, l, 6, 1);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, 6, d, NULL,
                                  0, &bm), ==, INVF);
    g_assert_cmphex(bm, ==, 0x3f);
    expect_chunk(o, 1, OCSSD_CHUNK_FREE, 0, 0);
    g_assert_cmphex(wr(o, lba(o, 1, 0), 12, 1), ==, 0);
    expect_chunk(o, 1, OCSSD_CHUNK_OPEN, 12, 0);
    finish(o, img);
}

static void test_write_closed_offline(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO);

    fill_chunk(o, 4, 1);
    expect_chunk(o, 4, OCSSD_CHUNK_CLOSED, 64, 0);
    g_assert_cmphex(wr(o, lba(o, 4, 0), 4, 2), ==, WF);
    g_assert_cmphex(wr(o, lba(o, 4, 60), 4, 2), ==, WF);
    rd_check(o, lba(o, 4, 0), 64, 1);

    /* Offline: writes fail, reads and resets say Offline Chunk. */
    g_assert_cmphex(wr(o, lba(o, 5, 0), 8, 1), ==, 0);
    inject(o, "inject-offline", lba(o, 5, 3));
    expect_chunk(o, 5, OCSSD_CHUNK_OFFLINE, 8, 0);
    g_assert_cmphex(wr(o, lba(o, 5, 8), 4, 2), ==, WF);
    g_assert_cmphex(wr(o, lba(o, 5, 0), 4, 2), ==, WF);
    g_assert_cmphex(rd_status(o, lba(o, 5, 0), 4), ==, OFFL);
    g_assert_cmphex(rd_status(o, lba(o, 5, 40), 4), ==, OFFL);
    g_assert_cmphex(vreset1(o, 5), ==, OFFL);
    expect_chunk(o, 5, OCSSD_CHUNK_OFFLINE, 8, 0);
    /* Offline wins over DULBE. */
    set_dulbe(o, true);
    g_assert_cmphex(rd_status(o, lba(o, 5, 40), 4), ==, OFFL);
    finish(o, img);
}

static void test_write_past_end_and_ranges(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO);
    uint64_t top = nsze(o);

    g_assert_cmpuint(top, ==, 1024);
    /* From WP past the end of the chunk: Write Fault. */
    g_assert_cmphex(wr(o, lba(o, 1, 0), 60, 1), ==, 0);
    g_assert_cmphex(wr(o, lba(o, 1, 60), 8, 1), ==, WF);
    /* One sector past it is past it too, read or write. */
    g_assert_cmphex(wr(o, lba(o, 1, 60), 5, 1), ==, WF);
    g_assert_cmphex(rd_status(o, lba(o, 1, 60), 5), ==, RANGE);
    g_assert_cmphex(rd_status(o, lba(o, 1, 63), 2), ==, RANGE);
    expect_chunk(o, 1, OCSSD_CHUNK_OPEN, 60, 0);
    expect_chunk(o, 2, OCSSD_CHUNK_FREE, 0, 0);
    /* Not at WP and past the end: the out-of-order rule comes first. */
    g_assert_cmphex(wr(o, lba(o, 1, 56), 12, 1), ==, OOO);
    g_assert_cmphex(wr(o, lba(o, 3, 8), 60, 1), ==, OOO);
    /* Closed and past the end: Write Fault. */
    fill_chunk(o, 1, 1);
    g_assert_cmphex(wr(o, lba(o, 1, 8), 60, 1), ==, WF);
    /* A standard read crossing into the next chunk: LBA Out of Range. */
    g_assert_cmphex(rd_status(o, lba(o, 1, 60), 8), ==, RANGE);
    rd_check(o, lba(o, 1, 56), 8, 1);
    /* Beyond the namespace: LBA Out of Range, read or write. */
    g_assert_cmphex(wr(o, top, 4, 1), ==, RANGE);
    g_assert_cmphex(rd_status(o, top, 4), ==, RANGE);
    g_assert_cmphex(wr(o, lba(o, 15, 60), 8, 1), ==, RANGE);
    g_assert_cmphex(rd_status(o, lba(o, 15, 60), 8), ==, RANGE);
    g_assert_cmphex(rd_status(o, UINT64_MAX - 3, 1), ==, RANGE);
    finish(o, img);
}

/* Addresses inside the namespace that name no sector (holes). */
static void test_holes(void)
{
    char *img = new_image();
    /* 3 groups (2 bits), 3 chunks (2 bits), 48 sectors (6 bits). */
    QOcssd *o = boot(img, "num_grp=3,num_pu=2,num_chk=3,clba=48,"
                     "mw_cunits=0");
    uint64_t sec_hole = qocssd_lba(o, 0, 0, 0, 50);
    uint64_t chk_hole = qocssd_lba(o, 0, 1, 3, 0);
    uint64_t grp_hole = qocssd_lba(o, 3, 0, 0, 0);
    uint64_t l[5], bm;
    g_autofree uint8_t *d = NULL;

    g_assert_cmpuint(grp_hole, <, nsze(o));
    g_assert_cmphex(wr(o, sec_hole, 4, 1), ==, WF);
    g_assert_cmphex(wr(o, chk_hole, 4, 1), ==, WF);
    g_assert_cmphex(wr(o, grp_hole, 4, 1), ==, WF);
    g_assert_cmphex(rd_status(o, sec_hole, 1), ==, RANGE);
    g_assert_cmphex(rd_status(o, chk_hole, 1), ==, RANGE);
    g_assert_cmphex(rd_status(o, grp_hole, 1), ==, RANGE);
    /* A chunk's last sectors, and its end, on a 48-sector chunk. */
    g_assert_cmphex(wr(o, qocssd_lba(o, 0, 0, 0, 0), 44, 1), ==, 0);
    g_assert_cmphex(wr(o, qocssd_lba(o, 0, 0, 0, 44), 8, 1), ==, WF);
    g_assert_cmphex(wr(o, qocssd_lba(o, 0, 0, 0, 44), 4, 1), ==, 0);
    g_assert_cmphex(rd_status(o, qocssd_lba(o, 0, 0, 0, 44), 8), ==, RANGE);

    /* Vector: holes fail alone, next to good entries; reads too. */
    l[0] = qocssd_lba(o, 1, 1, 2, 0);
    l[1] = sec_hole;
    l[2] = qocssd_lba(o, 1, 1, 2, 1);
    l[3] = qocssd_lba(o, 1, 1, 2, 2);
    l[4] = qocssd_lba(o, 1, 1, 2, 3);
    d = mkdata(o, l, 5, 3);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, 5, d, NULL,
                                  0, &bm), ==, WF);
    g_assert_cmphex(bm, ==, 0x2);
    l[1] = grp_hole;
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, l, 5, d, NULL,
                                  0, &bm), ==, RANGE);
    g_assert_cmphex(bm, ==, 0x2);
    check_sector(o, d, NULL, l[0], 3);
    check_sector(o, d + 4 * o->sec_size, NULL, l[4], 3);

    /* Vector Chunk Reset ignores the sector bits, even of a hole. */
    g_assert_cmphex(wr(o, qocssd_lba(o, 0, 1, 2, 0), 48, 1), ==, 0);
    l[0] = qocssd_lba(o, 0, 1, 2, 50);
    g_assert_cmphex(qocssd_vreset(o, 1, l, 1, NULL, &bm), ==, 0);
    l[0] = qocssd_lba(o, 0, 0, 0, 63);
    l[1] = qocssd_lba(o, 0, 1, 2, 0);
    g_assert_cmphex(qocssd_vreset(o, 1, l, 2, NULL, &bm), ==, INVR);
    g_assert_cmphex(bm, ==, 0x2);
    finish(o, img);
}

/* ---- resets -------------------------------------------------------------- */

/* Reset in every state, through Vector Chunk Reset and through DSM. */
static void check_resets(const char *flags, bool multiple, bool early,
                         bool dsm)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0,%s", flags);
    uint32_t cnlb = CLBA;

    /* MCCAP bit 1 is multiple resets, bit 2 (a Decision) early reset. */
    g_assert_cmphex(le32_to_cpu(o->geo.mccap), ==, OCSSD_MCCAP_VECTOR_COPY |
                    (multiple ? OCSSD_MCCAP_MULTIPLE_RESETS : 0) |
                    (early ? OCSSD_MCCAP_EARLY_RESET : 0));

#define RESET(c) (dsm ? qocssd_dsm(o, 1, (uint64_t[]) {                     \
                                   qocssd_chunk_slba(o, c) }, &cnlb, 1)     \
                      : vreset1(o, c))

    /* FREE */
    g_assert_cmphex(RESET(0), ==, multiple ? 0 : INVR);
    expect_chunk(o, 0, OCSSD_CHUNK_FREE, 0, multiple ? 1 : 0);
    /* OPEN */
    g_assert_cmphex(wr(o, lba(o, 1, 0), 8, 1), ==, 0);
    g_assert_cmphex(RESET(1), ==, early ? 0 : INVR);
    if (early) {
        expect_chunk(o, 1, OCSSD_CHUNK_FREE, 0, 1);
        /* It starts over at sector 0. */
        g_assert_cmphex(wr(o, lba(o, 1, 8), 4, 2), ==, OOO);
        g_assert_cmphex(wr(o, lba(o, 1, 0), 4, 2), ==, 0);
        rd_check(o, lba(o, 1, 0), 4, 2);
    } else {
        expect_chunk(o, 1, OCSSD_CHUNK_OPEN, 8, 0);
    }
    /* CLOSED: always, WP 0, wear + 1, again writable from sector 0. */
    fill_chunk(o, 2, 1);
    g_assert_cmphex(RESET(2), ==, 0);
    expect_chunk(o, 2, OCSSD_CHUNK_FREE, 0, 1);
    g_assert_cmphex(wr(o, lba(o, 2, 0), 4, 3), ==, 0);
    rd_check(o, lba(o, 2, 0), 4, 3);
    fill_chunk(o, 2, 3);
    g_assert_cmphex(RESET(2), ==, 0);
    expect_chunk(o, 2, OCSSD_CHUNK_FREE, 0, 2);
    /* OFFLINE: never. */
    inject(o, "inject-offline", lba(o, 3, 0));
    g_assert_cmphex(RESET(3), ==, OFFL);
    expect_chunk(o, 3, OCSSD_CHUNK_OFFLINE, 0, 0);
#undef RESET
    finish(o, img);
}

static void test_reset_states(void)
{
    check_resets("multiple_resets=off,early_reset=off", false, false, false);
    check_resets("multiple_resets=on,early_reset=off", true, false, false);
    check_resets("multiple_resets=off,early_reset=on", false, true, false);
    check_resets("multiple_resets=on,early_reset=on", true, true, true);
    check_resets("multiple_resets=off,early_reset=off", false, false, true);
}

/* Vector Chunk Reset with MPTR: the descriptors after the reset. */
static void test_reset_descriptors(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO);
    OcssdChunkDescriptor out[6];
    uint64_t l[6], bm;

    fill_chunk(o, 8, 1);
    g_assert_cmphex(wr(o, lba(o, 9, 0), 8, 1), ==, 0);
    inject(o, "inject-offline", lba(o, 10, 0));
    fill_chunk(o, 11, 1);
    l[0] = lba(o, 8, 37);           /* CLOSED; sector bits are ignored */
    l[1] = lba(o, 7, 0);            /* FREE */
    l[2] = lba(o, 9, 5);            /* OPEN */
    l[3] = lba(o, 10, 0);           /* OFFLINE */
    l[4] = nsze(o) + 64;            /* beyond the namespace */
    l[5] = lba(o, 11, 63);          /* CLOSED */
    memset(out, 0xa5, sizeof(out));
    g_assert_cmphex(qocssd_vreset(o, 1, l, 6, out, &bm), ==, INVR);
    g_assert_cmphex(bm, ==, 0x1e);
    g_assert_cmphex(out[0].cs, ==, OCSSD_CHUNK_FREE);
    g_assert_cmpuint(out[0].wli, ==, 1);
    g_assert_cmphex(le64_to_cpu(out[0].slba), ==, qocssd_chunk_slba(o, 8));
    g_assert_cmpuint(le64_to_cpu(out[0].cnlb), ==, CLBA);
    g_assert_cmpuint(le64_to_cpu(out[0].wp), ==, 0);
    g_assert_cmphex(out[1].cs, ==, OCSSD_CHUNK_FREE);
    g_assert_cmpuint(out[1].wli, ==, 0);
    g_assert_cmphex(le64_to_cpu(out[1].slba), ==, qocssd_chunk_slba(o, 7));
    g_assert_cmphex(out[2].cs, ==, OCSSD_CHUNK_OPEN);
    g_assert_cmpuint(le64_to_cpu(out[2].wp), ==, 8);
    g_assert_cmphex(out[3].cs, ==, OCSSD_CHUNK_OFFLINE);
    g_assert_cmphex(le64_to_cpu(out[3].slba), ==, qocssd_chunk_slba(o, 10));
    check_zero((uint8_t *)&out[4], sizeof(out[4]));
    g_assert_cmphex(out[5].cs, ==, OCSSD_CHUNK_FREE);
    g_assert_cmpuint(out[5].wli, ==, 1);
    g_assert_cmphex(le64_to_cpu(out[5].slba), ==, qocssd_chunk_slba(o, 11));
    expect_chunk(o, 8, OCSSD_CHUNK_FREE, 0, 1);
    expect_chunk(o, 11, OCSSD_CHUNK_FREE, 0, 1);
    /* Without MPTR (it is optional). */
    fill_chunk(o, 8, 2);
    g_assert_cmphex(qocssd_vreset(o, 1, l, 1, NULL, &bm), ==, 0);
    g_assert_cmphex(bm, ==, 0);
    expect_chunk(o, 8, OCSSD_CHUNK_FREE, 0, 2);
    finish(o, img);
}

/* The wear-level index is one byte: it stops at 255. */
static void test_reset_wli_saturates(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",wit=0,multiple_resets=on");
    unsigned i;

    for (i = 0; i < 255; i++) {
        g_assert_cmphex(vreset1(o, 7), ==, 0);
    }
    expect_chunk(o, 7, OCSSD_CHUNK_FREE, 0, 255);
    g_assert_cmphex(vreset1(o, 7), ==, 0);
    g_assert_cmphex(vreset1(o, 7), ==, 0);
    expect_chunk(o, 7, OCSSD_CHUNK_FREE, 0, 255);
    fill_chunk(o, 7, 1);
    g_assert_cmphex(vreset1(o, 7), ==, 0);
    expect_chunk(o, 7, OCSSD_CHUNK_FREE, 0, 255);
    finish(o, img);
}

/* ---- reads: unwritten sectors, DULBE, the MW_CUNITS window ------------- */

static void test_read_dulbe(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    uint64_t l[6], bm;
    g_autofree uint8_t *d = g_malloc(6 * 4096);
    g_autofree uint8_t *m = g_malloc(6 * 16);

    /* Without DULBE: zeroes, data and metadata. */
    set_dulbe(o, false);
    rd_zero(o, lba(o, 0, 0), 64);
    g_assert_cmphex(wr(o, lba(o, 0, 0), 8, 1), ==, 0);
    rd_zero(o, lba(o, 0, 8), 8);
    rd_zero(o, lba(o, 0, 60), 4);
    rd_check(o, lba(o, 0, 0), 8, 1);

    /* With DULBE: Deallocated or Unwritten Logical Block, with DNR. */
    set_dulbe(o, true);
    g_assert_cmphex(rd_status(o, lba(o, 1, 0), 1), ==, DULB);
    g_assert_cmphex(rd_status(o, lba(o, 0, 8), 4), ==, DULB);
    g_assert_cmphex(rd_status(o, lba(o, 0, 4), 8), ==, DULB);
    rd_check(o, lba(o, 0, 0), 8, 1);

    /* Vector: the unwritten entries fail, the others carry data. */
    l[0] = lba(o, 0, 7);
    l[1] = lba(o, 0, 8);
    l[2] = lba(o, 0, 0);
    l[3] = lba(o, 3, 0);
    l[4] = lba(o, 0, 3);
    l[5] = lba(o, 0, 63);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, l, 6, d, m, 0,
                                  &bm), ==, DULB);
    g_assert_cmphex(bm, ==, 0x2a);
    check_sector(o, d, m, l[0], 1);
    check_sector(o, d + 2 * 4096, m + 2 * 16, l[2], 1);
    check_sector(o, d + 4 * 4096, m + 4 * 16, l[4], 1);
    check_zero(d + 1 * 4096, 4096);
    check_zero(d + 3 * 4096, 4096);
    check_zero(d + 5 * 4096, 4096);

    /* And back off. */
    set_dulbe(o, false);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, l, 6, d, m, 0,
                                  &bm), ==, 0);
    g_assert_cmphex(bm, ==, 0);
    check_zero(d + 3 * 4096, 4096);
    check_zero(m + 3 * 16, 16);
    check_sector(o, d + 4 * 4096, m + 4 * 16, l[4], 1);
    finish(o, img);
}

/* MW_CUNITS 24, WS_MIN 4: the last 24 sectors below WP are not readable. */
static void test_read_mw_cunits(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO);

    g_assert_cmpuint(le32_to_cpu(o->geo.mw_cunits), ==, 24);
    g_assert_cmphex(wr(o, lba(o, 6, 0), 32, 1), ==, 0);
    rd_check(o, lba(o, 6, 0), 8, 1);        /* below the window */
    rd_zero(o, lba(o, 6, 8), 24);           /* inside it: unwritten */
    {
        /* Straddling the window's edge: the part inside is unwritten. */
        g_autofree uint8_t *d = g_malloc(8 * 4096);
        unsigned i;

        g_assert_cmphex(qocssd_read(o, 1, lba(o, 6, 4), 8, d, NULL, 0), ==,
                        0);
        for (i = 0; i < 4; i++) {
            check_sector(o, d + i * 4096, NULL, lba(o, 6, 4 + i), 1);
        }
        check_zero(d + 4 * 4096, 4 * 4096);
    }
    set_dulbe(o, true);
    rd_check(o, lba(o, 6, 0), 8, 1);
    g_assert_cmphex(rd_status(o, lba(o, 6, 8), 1), ==, DULB);
    g_assert_cmphex(rd_status(o, lba(o, 6, 31), 1), ==, DULB);
    g_assert_cmphex(rd_status(o, lba(o, 6, 4), 8), ==, DULB);
    /* 24 more sectors: the window moves. */
    g_assert_cmphex(wr(o, lba(o, 6, 32), 24, 1), ==, 0);
    rd_check(o, lba(o, 6, 0), 32, 1);
    g_assert_cmphex(rd_status(o, lba(o, 6, 32), 1), ==, DULB);
    /* Closed: every sector. */
    g_assert_cmphex(wr(o, lba(o, 6, 56), 8, 1), ==, 0);
    expect_chunk(o, 6, OCSSD_CHUNK_CLOSED, 64, 0);
    rd_check(o, lba(o, 6, 0), 64, 1);
    finish(o, img);
}

/* After a restart every sector below WP is readable. */
static void test_read_mw_cunits_restart(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO);

    g_assert_cmphex(wr(o, lba(o, 6, 0), 32, 1), ==, 0);
    rd_zero(o, lba(o, 6, 8), 24);
    qocssd_shutdown(o);

    o = boot(img, GEO);
    expect_chunk(o, 6, OCSSD_CHUNK_OPEN, 32, 0);
    set_dulbe(o, true);
    rd_check(o, lba(o, 6, 0), 32, 1);
    /* What is written now is in the window again. */
    g_assert_cmphex(wr(o, lba(o, 6, 32), 8, 2), ==, 0);
    rd_check(o, lba(o, 6, 0), 32, 1);
    g_assert_cmphex(rd_status(o, lba(o, 6, 32), 8), ==, DULB);
    finish(o, img);
}

static void test_read_mw_cunits_strict_off(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits_strict=off");

    /* The geometry still reports the window; the device serves it. */
    g_assert_cmpuint(le32_to_cpu(o->geo.mw_cunits), ==, 24);
    g_assert_cmphex(wr(o, lba(o, 6, 0), 32, 1), ==, 0);
    set_dulbe(o, true);
    rd_check(o, lba(o, 6, 0), 32, 1);
    g_assert_cmphex(rd_status(o, lba(o, 6, 32), 1), ==, DULB);
    finish(o, img);
}

/* ---- Dataset Management ------------------------------------------------- */

static void test_dsm(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO);
    uint64_t s[3];
    uint32_t n[3];

    fill_chunk(o, 0, 1);
    fill_chunk(o, 1, 1);
    /* Partial ranges are refused, nothing happens. */
    s[0] = lba(o, 0, 0);
    n[0] = 60;
    g_assert_cmphex(qocssd_dsm(o, 1, s, n, 1), ==, INVF);
    s[0] = lba(o, 0, 4);
    n[0] = 64;
    g_assert_cmphex(qocssd_dsm(o, 1, s, n, 1), ==, INVF);
    s[0] = lba(o, 0, 0);
    n[0] = 128;         /* two chunks in one range */
    g_assert_cmphex(qocssd_dsm(o, 1, s, n, 1), ==, INVF);
    /* One bad range among good ones: no chunk is reset. */
    s[0] = lba(o, 0, 0);
    n[0] = 64;
    s[1] = lba(o, 1, 0);
    n[1] = 32;
    g_assert_cmphex(qocssd_dsm(o, 1, s, n, 2), ==, INVF);
    expect_chunk(o, 0, OCSSD_CHUNK_CLOSED, 64, 0);
    expect_chunk(o, 1, OCSSD_CHUNK_CLOSED, 64, 0);
    s[1] = nsze(o);
    n[1] = 64;
    g_assert_cmphex(qocssd_dsm(o, 1, s, n, 2), ==, RANGE);
    expect_chunk(o, 0, OCSSD_CHUNK_CLOSED, 64, 0);
    /* Whole chunks: reset. */
    s[1] = lba(o, 1, 0);
    g_assert_cmphex(qocssd_dsm(o, 1, s, n, 2), ==, 0);
    expect_chunk(o, 0, OCSSD_CHUNK_FREE, 0, 1);
    expect_chunk(o, 1, OCSSD_CHUNK_FREE, 0, 1);
    rd_zero(o, lba(o, 0, 0), 8);
    /* Whole-chunk ranges, one of a FREE chunk: the reset rules apply. */
    fill_chunk(o, 2, 1);
    s[0] = lba(o, 2, 0);
    s[1] = lba(o, 3, 0);
    g_assert_cmphex(qocssd_dsm(o, 1, s, n, 2), ==, INVR);
    expect_chunk(o, 2, OCSSD_CHUNK_FREE, 0, 1);
    /* ONCS advertises Dataset Management. */
    {
        NvmeIdCtrl id;

        g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_CTRL, 0, &id), ==, 0);
        g_assert_true(le16_to_cpu(id.oncs) & NVME_ONCS_DSM);
    }
    finish(o, img);
}

/* DSM without the deallocate attribute (hints only) changes nothing. */
static uint16_t dsm_attr(QOcssd *o, uint64_t slba, uint32_t nlb,
                         uint32_t attr)
{
    NvmeCmd cmd = { .opcode = NVME_CMD_DSM };
    NvmeDsmRange r = { .slba = cpu_to_le64(slba), .nlb = cpu_to_le32(nlb) };
    uint64_t addr = qocssd_alloc(o, sizeof(r));

    qocssd_memwrite(o, addr, &r, sizeof(r));
    cmd.nsid = cpu_to_le32(1);
    cmd.cdw11 = cpu_to_le32(attr);
    qocssd_set_prp(o, &cmd, addr, sizeof(r));
    return qocssd_exec(o, 1, &cmd, NULL);
}

static void test_dsm_attributes_and_order(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO);
    uint64_t s[3];
    uint32_t n[3] = { CLBA, CLBA, CLBA };

    fill_chunk(o, 0, 1);
    /* Integral read/write hints, no deallocate: nothing is reset. */
    g_assert_cmphex(dsm_attr(o, lba(o, 0, 0), CLBA, 0x3), ==, 0);
    expect_chunk(o, 0, OCSSD_CHUNK_CLOSED, 64, 0);
    g_assert_cmphex(dsm_attr(o, lba(o, 0, 0), CLBA, NVME_DSMGMT_AD), ==, 0);
    expect_chunk(o, 0, OCSSD_CHUNK_FREE, 0, 1);
    /*
     * Every range is reset in order; the status is the first failure's:
     * FREE (Invalid Reset) before OFFLINE (Offline Chunk), and the other
     * way round.
     */
    fill_chunk(o, 2, 1);
    inject(o, "inject-offline", lba(o, 3, 0));
    s[0] = lba(o, 1, 0);
    s[1] = lba(o, 3, 0);
    s[2] = lba(o, 2, 0);
    g_assert_cmphex(qocssd_dsm(o, 1, s, n, 3), ==, INVR);
    expect_chunk(o, 2, OCSSD_CHUNK_FREE, 0, 1);
    fill_chunk(o, 2, 1);
    s[0] = lba(o, 3, 0);
    s[1] = lba(o, 1, 0);
    g_assert_cmphex(qocssd_dsm(o, 1, s, n, 3), ==, OFFL);
    expect_chunk(o, 2, OCSSD_CHUNK_FREE, 0, 2);
    finish(o, img);
}

/* ---- vector commands ---------------------------------------------------- */

/* Mixed good and bad entries: the exact bitmap, the first failure. */
static void test_vector_mixed(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    uint64_t l[64], bm;
    g_autofree uint8_t *d = NULL, *m = NULL;
    unsigned i;

    fill_chunk(o, 15, 9);                   /* C: closed */
    g_assert_cmphex(wr(o, lba(o, 14, 0), 4, 9), ==, 0);    /* B: WP 4 */
    /*
     * 0-3 A 0..3 (good), 4 beyond the namespace, 5-8 B 0..3 (behind WP),
     * 9-10 C (closed), 11-14 D 0..3 (good), 15-16 E 0..1 (not WS_MIN)
     */
    range(o, l, 0, 0, 4);
    l[4] = nsze(o) + 5;
    range(o, l + 5, 14, 0, 4);
    range(o, l + 9, 15, 0, 2);
    range(o, l + 11, 4, 0, 4);
    range(o, l + 15, 8, 0, 2);
    d = mkdata(o, l, 17, 1);
    m = mkmeta(o, l, 17, 1);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, 17, d, m,
                                  0, &bm), ==, RANGE);
    g_assert_cmphex(bm, ==, 0x1u << 4 | 0xfu << 5 | 0x3u << 9 | 0x3u << 15);
    expect_chunk(o, 0, OCSSD_CHUNK_OPEN, 4, 0);
    expect_chunk(o, 4, OCSSD_CHUNK_OPEN, 4, 0);
    expect_chunk(o, 8, OCSSD_CHUNK_FREE, 0, 0);
    expect_chunk(o, 14, OCSSD_CHUNK_OPEN, 4, 0);
    rd_check(o, lba(o, 0, 0), 4, 1);
    rd_check(o, lba(o, 4, 0), 4, 1);
    rd_check(o, lba(o, 14, 0), 4, 9);

    /* The first failure in list order, whatever its kind. */
    range(o, l, 1, 0, 4);
    range(o, l + 4, 15, 0, 4);              /* closed */
    range(o, l + 8, 14, 8, 4);              /* ahead of WP */
    g_free(d);
    d = mkdata(o, l, 12, 2);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, 12, d,
                                  NULL, 0, &bm), ==, WF);
    g_assert_cmphex(bm, ==, 0xff0);
    range(o, l, 14, 8, 4);
    range(o, l + 4, 15, 0, 4);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, 8, d,
                                  NULL, 0, &bm), ==, OOO);
    g_assert_cmphex(bm, ==, 0xff);

    /* Reads, 64 entries, failures in both bitmap dwords. */
    inject(o, "inject-offline", lba(o, 13, 0));
    for (i = 0; i < 64; i++) {
        l[i] = lba(o, 15, i);
    }
    l[0] = lba(o, 13, 0);                   /* offline */
    l[33] = nsze(o);                        /* beyond */
    l[40] = lba(o, 13, 7);                  /* offline */
    l[63] = qocssd_lba(o, 1, 1, 3, 60);     /* chunk 15 again: fine */
    g_free(d);
    g_free(m);
    d = g_malloc(64 * 4096);
    m = g_malloc(64 * 16);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, l, 64, d, m, 0,
                                  &bm), ==, OFFL);
    g_assert_cmphex(bm, ==, 1ULL | 1ULL << 33 | 1ULL << 40);
    for (i = 0; i < 64; i++) {
        if (i == 0 || i == 33 || i == 40) {
            check_zero(d + i * 4096, 4096);
        } else {
            check_sector(o, d + i * 4096, m + i * 16, l[i], 9);
        }
    }
    finish(o, img);
}

/* NLB is 0's based, 6 bits: 64 LBAs work, a 65th (bit 6) is refused. */
static void test_vector_nlb_limit(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    uint64_t l[64], bm;
    g_autofree uint8_t *d = NULL, *m = NULL, *r = NULL, *rm = NULL;
    unsigned i, j;

    range(o, l, 5, 0, 64);
    d = mkdata(o, l, 64, 4);
    m = mkmeta(o, l, 64, 4);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, 64, d, m,
                                  0, &bm), ==, 0);
    g_assert_cmphex(bm, ==, 0);
    expect_chunk(o, 5, OCSSD_CHUNK_CLOSED, 64, 0);
    /* Read them back in reverse list order. */
    for (i = 0; i < 64; i++) {
        l[i] = lba(o, 5, 63 - i);
    }
    r = g_malloc(64 * 4096);
    rm = g_malloc(64 * 16);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, l, 64, r, rm, 0,
                                  &bm), ==, 0);
    for (i = 0; i < 64; i++) {
        check_sector(o, r + i * 4096, rm + i * 16, l[i], 4);
    }

    /*
     * CDW12 bits 29:6 are ignored (spec digest section 7): liblightnvm
     * puts its own flags there.  A write, a read and a reset with all of
     * them set do what they do with them clear.
     */
    range(o, l, 7, 0, 8);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, 8, d, m,
                                  0x3fffffc0, &bm), ==, 0);
    g_assert_cmphex(bm, ==, 0);
    expect_chunk(o, 7, OCSSD_CHUNK_OPEN, 8, 0);
    memset(r, 0, 8 * 4096);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, l, 8, r, rm,
                                  0x3fffffc0, &bm), ==, 0);
    for (i = 0; i < 8; i++) {
        /* d and m were made for chunk 5's LBAs: compare bytes as sent. */
        g_assert_cmpmem(r + i * 4096, 4096, d + i * 4096, 4096);
        g_assert_cmpmem(rm + i * 16, 16, m + i * 16, 16);
    }
    /*
     * One bit at a time, as the list's single inline LBA too (NLB 0):
     * chunk 7 to its end (bits 6-19), then chunk 8 (bits 20-29).
     */
    for (i = 6; i < 30; i++) {
        l[0] = i < 20 ? lba(o, 7, 8 + (i - 6) * 4) : lba(o, 8, (i - 20) * 4);
        for (j = 1; j < 4; j++) {
            l[j] = l[0] + j;
        }
        g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, 4, d, m,
                                      1u << i, &bm), ==, 0);
        g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, l, 1, r,
                                      rm, 1u << i, &bm), ==, 0);
        g_assert_cmpmem(r, 4096, d, 4096);
    }
    expect_chunk(o, 7, OCSSD_CHUNK_CLOSED, CLBA, 0);
    expect_chunk(o, 8, OCSSD_CHUNK_OPEN, 40, 0);
    l[0] = lba(o, 7, 0);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_RESET, l, 1, NULL,
                                  NULL, 0x3fffffc0, &bm), ==, 0);
    expect_chunk(o, 7, OCSSD_CHUNK_FREE, 0, 1);
    /* FUA (bit 30) and Limited Retry (bit 31) are not. */
    range(o, l, 6, 0, 4);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, 4, d, m,
                                  OCSSD_VECTOR_FUA | OCSSD_VECTOR_LR, &bm),
                    ==, 0);
    range(o, l, 6, 4, 4);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, 4, d, m,
                                  OCSSD_VECTOR_LR, &bm), ==, 0);
    range(o, l, 6, 0, 8);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, l, 8, r, rm,
                                  OCSSD_VECTOR_FUA | OCSSD_VECTOR_LR, &bm),
                    ==, 0);
    expect_chunk(o, 6, OCSSD_CHUNK_OPEN, 8, 0);
    finish(o, img);
}

/* An LBA list the device cannot read: a data transfer error. */
static void test_vector_list_outside_ram(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    NvmeCmd cmd;
    NvmeCqe cqe;
    OcssdVectorCmd *v = (OcssdVectorCmd *)&cmd;
    static const uint8_t ops[] = { OCSSD_CMD_VECT_RESET, OCSSD_CMD_VECT_WRITE,
                                   OCSSD_CMD_VECT_READ, OCSSD_CMD_VECT_COPY };
    static const uint64_t where[] = { 1ULL << 40, 0xfffffffffffff000ULL };
    unsigned i, j;

    for (i = 0; i < ARRAY_SIZE(ops); i++) {
        for (j = 0; j < ARRAY_SIZE(where); j++) {
            memset(&cmd, 0, sizeof(cmd));
            v->opcode = ops[i];
            v->nsid = cpu_to_le32(1);
            v->lbal = cpu_to_le64(where[j]);
            v->dlbal = cpu_to_le64(where[j]);
            v->cdw12 = cpu_to_le32(3);
            qocssd_set_prp(o, &cmd, qocssd_alloc(o, 4 * 4096), 4 * 4096);
            g_assert_cmphex(qocssd_exec(o, 1, &cmd, &cqe), ==,
                            NVME_DATA_TRAS_ERROR | NVME_DNR);
            /* Every entry failed. */
            g_assert_cmphex(le32_to_cpu(cqe.result), ==, 0xf);
            g_assert_cmphex(le32_to_cpu(cqe.dw1), ==, 0);
        }
    }
    /* Nothing changed, and the device still works. */
    expect_chunk(o, 0, OCSSD_CHUNK_FREE, 0, 0);
    g_assert_cmphex(wr(o, lba(o, 0, 0), 4, 1), ==, 0);
    rd_check(o, lba(o, 0, 0), 4, 1);
    finish(o, img);
}

/*
 * A vector command whose data cannot move fails as a whole: every entry's
 * bit is set, not only those the chunk rules refused, and nothing is
 * written (a host reads the bitmap to know what was written).
 */
static uint16_t vector_raw(QOcssd *o, uint8_t opcode, const uint64_t *lbas,
                           unsigned n, uint64_t dptr, uint64_t mptr,
                           uint64_t *bitmap)
{
    g_autofree uint64_t *le = g_new(uint64_t, n);
    uint64_t list = qocssd_alloc(o, n * 8);
    NvmeCmd cmd;
    OcssdVectorCmd *v = (OcssdVectorCmd *)&cmd;
    NvmeCqe cqe;
    uint16_t status;
    unsigned i;

    for (i = 0; i < n; i++) {
        le[i] = cpu_to_le64(lbas[i]);
    }
    qocssd_memwrite(o, list, le, n * 8);
    memset(&cmd, 0, sizeof(cmd));
    v->opcode = opcode;
    v->nsid = cpu_to_le32(1);
    v->lbal = cpu_to_le64(list);
    v->cdw12 = cpu_to_le32(n - 1);
    v->mptr = cpu_to_le64(mptr);
    qocssd_set_prp(o, &cmd, dptr, (size_t)n * o->sec_size);
    status = qocssd_exec(o, 1, &cmd, &cqe);
    *bitmap = (uint64_t)le32_to_cpu(cqe.dw1) << 32 | le32_to_cpu(cqe.result);
    return status;
}

static void test_vector_transfer_error(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    uint64_t nowhere = 1ULL << 40, l[64], bm;
    uint64_t buf = qocssd_alloc(o, 40 * 4096), mbuf = qocssd_alloc(o, 640);
    unsigned i;

    /* Write: data outside guest RAM; one entry also beyond the namespace. */
    range(o, l, 0, 0, 4);
    l[4] = nsze(o);
    g_assert_cmphex(vector_raw(o, OCSSD_CMD_VECT_WRITE, l, 5, nowhere, 0,
                               &bm), ==, NVME_DATA_TRAS_ERROR | NVME_DNR);
    g_assert_cmphex(bm, ==, 0x1f);
    expect_chunk(o, 0, OCSSD_CHUNK_FREE, 0, 0);
    /* Metadata outside guest RAM. */
    g_assert_cmphex(vector_raw(o, OCSSD_CMD_VECT_WRITE, l, 4, buf, nowhere,
                               &bm), ==, NVME_DATA_TRAS_ERROR | NVME_DNR);
    g_assert_cmphex(bm, ==, 0xf);
    expect_chunk(o, 0, OCSSD_CHUNK_FREE, 0, 0);
    /* The same command with good buffers goes through. */
    g_assert_cmphex(vector_raw(o, OCSSD_CMD_VECT_WRITE, l, 4, buf, mbuf,
                               &bm), ==, 0);
    g_assert_cmphex(bm, ==, 0);
    expect_chunk(o, 0, OCSSD_CHUNK_OPEN, 4, 0);

    /* Read, 40 entries (bits in both dwords), data outside guest RAM. */
    for (i = 0; i < 40; i++) {
        l[i] = lba(o, 0, i % 4);
    }
    l[39] = lba(o, 5, 0);                   /* unwritten: fine */
    g_assert_cmphex(vector_raw(o, OCSSD_CMD_VECT_READ, l, 40, nowhere, 0,
                               &bm), ==, NVME_DATA_TRAS_ERROR | NVME_DNR);
    g_assert_cmphex(bm, ==, (1ULL << 40) - 1);
    g_assert_cmphex(vector_raw(o, OCSSD_CMD_VECT_READ, l, 40, buf, nowhere,
                               &bm), ==, NVME_DATA_TRAS_ERROR | NVME_DNR);
    g_assert_cmphex(bm, ==, (1ULL << 40) - 1);
    g_assert_cmphex(vector_raw(o, OCSSD_CMD_VECT_READ, l, 40, buf, mbuf,
                               &bm), ==, 0);
    g_assert_cmphex(bm, ==, 0);
    /* 64 entries: all 64 bits. */
    for (i = 40; i < 64; i++) {
        l[i] = lba(o, 0, i % 4);
    }
    g_assert_cmphex(vector_raw(o, OCSSD_CMD_VECT_READ, l, 64, nowhere, 0,
                               &bm), ==, NVME_DATA_TRAS_ERROR | NVME_DNR);
    g_assert_cmphex(bm, ==, UINT64_MAX);
    finish(o, img);
}

/* Vector Copy: across chunks, with metadata, inside the device. */
static void test_vector_copy(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    uint64_t src[12], dst[12], bm;
    g_autofree uint8_t *d = g_malloc(12 * 4096), *m = g_malloc(12 * 16);
    unsigned i;

    g_assert_cmphex(wr(o, lba(o, 0, 0), 8, 1), ==, 0);
    g_assert_cmphex(wr(o, lba(o, 12, 0), 8, 2), ==, 0);
    /* A0..3 + B0..3 -> C0..7 (one chunk), B4..7 -> D0..3 (another). */
    range(o, src, 0, 0, 4);
    range(o, src + 4, 12, 0, 8);
    range(o, dst, 6, 0, 8);
    range(o, dst + 8, 9, 0, 4);
    g_assert_cmphex(qocssd_vcopy(o, 1, src, dst, 12, &bm), ==, 0);
    g_assert_cmphex(bm, ==, 0);
    expect_chunk(o, 6, OCSSD_CHUNK_OPEN, 8, 0);
    expect_chunk(o, 9, OCSSD_CHUNK_OPEN, 4, 0);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, dst, 12, d, m,
                                  0, &bm), ==, 0);
    for (i = 0; i < 12; i++) {
        check_sector(o, d + i * 4096, m + i * 16, src[i], i < 4 ? 1 : 2);
    }
    /* The sources are untouched. */
    rd_check(o, lba(o, 0, 0), 8, 1);

    /* A destination that breaks the write rules fails its chunk's share. */
    range(o, src, 0, 0, 8);
    range(o, dst, 6, 8, 4);                 /* good */
    range(o, dst + 4, 9, 8, 4);             /* ahead of WP 4 */
    g_assert_cmphex(qocssd_vcopy(o, 1, src, dst, 8, &bm), ==, OOO);
    g_assert_cmphex(bm, ==, 0xf0);
    expect_chunk(o, 6, OCSSD_CHUNK_OPEN, 12, 0);
    expect_chunk(o, 9, OCSSD_CHUNK_OPEN, 4, 0);
    /*
     * A source that fails (DULBE, unwritten) takes its destination
     * chunk's share of the command with it, each entry with its reason.
     */
    set_dulbe(o, true);
    range(o, src, 0, 4, 4);
    src[3] = lba(o, 3, 0);                  /* unwritten */
    range(o, dst, 9, 4, 4);
    g_assert_cmphex(qocssd_vcopy(o, 1, src, dst, 4, &bm), ==, DULB);
    g_assert_cmphex(bm, ==, 0xf);
    expect_chunk(o, 9, OCSSD_CHUNK_OPEN, 4, 0);

    /* High ECC on a source (VHECC): reported, and the data is copied... */
    g_assert_cmphex(qocssd_set_features(o, OCSSD_FEAT_MEDIA_FEEDBACK,
                                        OCSSD_MEDIA_FEEDBACK_VHECC, NULL),
                    ==, 0);
    range(o, src, 0, 0, 4);
    range(o, dst, 11, 0, 4);
    inject(o, "inject-high-ecc", src[1]);
    g_assert_cmphex(qocssd_vcopy(o, 1, src, dst, 4, &bm), ==,
                    OCSSD_HIGH_ECC);
    g_assert_cmphex(bm, ==, 0x2);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, dst, 4, d, m,
                                  0, &bm), ==, 0);
    for (i = 0; i < 4; i++) {
        check_sector(o, d + i * 4096, m + i * 16, src[i], 1);
    }
    /* ...but a destination that fails outranks it. */
    fill_chunk(o, 10, 1);
    range(o, dst, 10, 0, 4);
    inject(o, "inject-high-ecc", src[0]);
    g_assert_cmphex(qocssd_vcopy(o, 1, src, dst, 4, &bm), ==, WF);
    g_assert_cmphex(bm, ==, 0xf);
    finish(o, img);
}

/* ---- MAXOC / MAXOCPU ---------------------------------------------------- */

/* One vector write: n1 sectors of chunk c1 from s1, then n2 of c2 from s2. */
static uint16_t vwrite2(QOcssd *o, uint64_t c1, uint32_t s1, unsigned n1,
                        uint64_t c2, uint32_t s2, unsigned n2, uint64_t *bm)
{
    uint64_t l[64];
    g_autofree uint8_t *d = NULL;

    g_assert_cmpuint(n1 + n2, <=, 64);
    range(o, l, c1, s1, n1);
    range(o, l + n1, c2, s2, n2);
    d = mkdata(o, l, n1 + n2, 2);
    return qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, n1 + n2, d, NULL, 0,
                         bm);
}

static void test_maxoc(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",maxoc=2");
    uint64_t bm;

    g_assert_cmpuint(le32_to_cpu(o->geo.maxoc), ==, 2);
    g_assert_cmphex(wr(o, lba(o, 0, 0), 4, 1), ==, 0);
    g_assert_cmphex(wr(o, lba(o, 5, 0), 4, 1), ==, 0);
    g_assert_cmphex(wr(o, lba(o, 9, 0), 4, 1), ==, WF);
    expect_chunk(o, 9, OCSSD_CHUNK_FREE, 0, 0);
    /* Open chunks take more writes. */
    g_assert_cmphex(wr(o, lba(o, 0, 4), 4, 1), ==, 0);
    /* A write that fills a chunk whole never leaves it open: allowed. */
    g_assert_cmphex(wr(o, lba(o, 9, 0), 64, 1), ==, 0);
    expect_chunk(o, 9, OCSSD_CHUNK_CLOSED, 64, 0);
    /* Closing one frees a slot. */
    fill_chunk(o, 0, 1);
    g_assert_cmphex(wr(o, lba(o, 10, 0), 4, 1), ==, 0);
    g_assert_cmphex(wr(o, lba(o, 11, 0), 4, 1), ==, WF);
    /* Vector: the chunk over the limit fails, the others go on. */
    fill_chunk(o, 10, 1);
    g_assert_cmphex(vwrite2(o, 12, 0, 4, 13, 0, 4, &bm), ==, WF);
    g_assert_cmphex(bm, ==, 0xf0);
    expect_chunk(o, 12, OCSSD_CHUNK_OPEN, 4, 0);
    expect_chunk(o, 13, OCSSD_CHUNK_FREE, 0, 0);
    /*
     * Entries run in list order: chunk 5 filled up by the command closes
     * before chunk 13 opens, which takes its slot...
     */
    g_assert_cmphex(wr(o, lba(o, 5, 4), 52, 2), ==, 0);
    g_assert_cmphex(vwrite2(o, 5, 56, 8, 13, 0, 4, &bm), ==, 0);
    expect_chunk(o, 5, OCSSD_CHUNK_CLOSED, 64, 0);
    expect_chunk(o, 13, OCSSD_CHUNK_OPEN, 4, 0);
    /*
     * ...but chunk 14 opening before chunk 12 closes is one too many,
     * also when chunk 12's entries start before chunk 14's.
     */
    g_assert_cmphex(wr(o, lba(o, 12, 4), 52, 2), ==, 0);
    {
        uint64_t l[12];
        g_autofree uint8_t *d = NULL;

        range(o, l, 12, 56, 4);
        range(o, l + 4, 14, 0, 4);
        range(o, l + 8, 12, 60, 4);
        d = mkdata(o, l, 12, 2);
        g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, 12, d,
                                      NULL, 0, &bm), ==, WF);
        g_assert_cmphex(bm, ==, 0xf0);
    }
    expect_chunk(o, 12, OCSSD_CHUNK_CLOSED, 64, 0);
    expect_chunk(o, 14, OCSSD_CHUNK_FREE, 0, 0);
    finish(o, img);
}

static void test_maxocpu(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",maxocpu=1,early_reset=on");
    uint64_t l[12], bm;
    g_autofree uint8_t *d = NULL;

    g_assert_cmpuint(le32_to_cpu(o->geo.maxocpu), ==, 1);
    /* Chunks 0-3: group 0 PU 0; 4-7: PU 1; 8-11: group 1 PU 0. */
    g_assert_cmphex(wr(o, lba(o, 0, 0), 4, 1), ==, 0);
    g_assert_cmphex(wr(o, lba(o, 1, 0), 4, 1), ==, WF);
    g_assert_cmphex(wr(o, lba(o, 4, 0), 4, 1), ==, 0);
    g_assert_cmphex(wr(o, lba(o, 8, 0), 4, 1), ==, 0);
    g_assert_cmphex(wr(o, lba(o, 9, 0), 4, 1), ==, WF);
    /* An early reset of the open chunk frees its PU. */
    g_assert_cmphex(vreset1(o, 0), ==, 0);
    g_assert_cmphex(wr(o, lba(o, 1, 0), 4, 1), ==, 0);
    g_assert_cmphex(wr(o, lba(o, 0, 0), 4, 1), ==, WF);
    /*
     * One vector command opening two chunks of the free PU (group 1 PU 1):
     * the second is one too many; the open chunk 1 takes more.
     */
    range(o, l, 12, 0, 4);
    range(o, l + 4, 13, 0, 4);
    range(o, l + 8, 1, 4, 4);
    d = mkdata(o, l, 12, 1);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, 12, d, NULL,
                                  0, &bm), ==, WF);
    g_assert_cmphex(bm, ==, 0xf0);
    expect_chunk(o, 12, OCSSD_CHUNK_OPEN, 4, 0);
    expect_chunk(o, 13, OCSSD_CHUNK_FREE, 0, 0);
    expect_chunk(o, 1, OCSSD_CHUNK_OPEN, 8, 0);
    /*
     * A chunk the command fills up frees a slot of its own PU only:
     * closing chunk 1 (PU 0) lets no second chunk of PU 1 open...
     */
    g_assert_cmphex(wr(o, lba(o, 1, 8), 48, 1), ==, 0);
    g_assert_cmphex(vwrite2(o, 1, 56, 8, 5, 0, 4, &bm), ==, WF);
    g_assert_cmphex(bm, ==, 0xf00);
    expect_chunk(o, 1, OCSSD_CHUNK_CLOSED, 64, 0);
    expect_chunk(o, 5, OCSSD_CHUNK_FREE, 0, 0);
    /* ...closing chunk 4 (PU 1) does. */
    g_assert_cmphex(wr(o, lba(o, 4, 4), 52, 1), ==, 0);
    g_assert_cmphex(vwrite2(o, 4, 56, 8, 5, 0, 4, &bm), ==, 0);
    expect_chunk(o, 4, OCSSD_CHUNK_CLOSED, 64, 0);
    expect_chunk(o, 5, OCSSD_CHUNK_OPEN, 4, 0);
    finish(o, img);
}

/* ---- metadata through MPTR ---------------------------------------------- */

static void test_metadata(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    uint64_t l[8], r[8], bm;
    g_autofree uint8_t *d = NULL, *m = NULL;
    g_autofree uint8_t *rd = g_malloc(8 * 4096), *rm = g_malloc(8 * 16);
    uint8_t low[8 * 16];
    unsigned i;

    /* Standard write and read, with metadata. */
    g_assert_cmphex(wr(o, lba(o, 0, 0), 8, 1), ==, 0);
    rd_check(o, lba(o, 0, 0), 8, 1);
    /* A read with MPTR 0 moves no metadata, and still the data. */
    g_assert_cmphex(qocssd_read(o, 1, lba(o, 0, 0), 8, rd, NULL, 0), ==, 0);
    for (i = 0; i < 8; i++) {
        check_sector(o, rd + i * 4096, NULL, lba(o, 0, i), 1);
    }
    /*
     * A write with MPTR 0 stores zeroed metadata: guest address 0 is no
     * buffer, neither read (by writes) nor written (by reads).
     */
    memset(low, 0x5a, sizeof(low));
    qocssd_memwrite(o, 0, low, sizeof(low));
    range(o, l, 0, 8, 4);
    d = mkdata(o, l, 4, 2);
    g_assert_cmphex(qocssd_write(o, 1, l[0], 4, d, NULL, 0), ==, 0);
    memset(rm, 0xa5, 8 * 16);
    g_assert_cmphex(qocssd_read(o, 1, l[0], 4, rd, rm, 0), ==, 0);
    check_zero(rm, 4 * 16);
    g_assert_cmphex(qocssd_read(o, 1, lba(o, 0, 0), 8, rd, NULL, 0), ==, 0);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, l, 4, rd, NULL,
                                  0, &bm), ==, 0);
    memset(rm, 0, 8 * 16);
    qocssd_memread(o, 0, rm, 8 * 16);
    if (memcmp(rm, low, 8 * 16)) {
        g_error("a read with MPTR 0 wrote guest memory at address 0");
    }

    /*
     * Vector write across two chunks, interleaved, then read in another
     * order: metadata entry i goes with LBA i.
     */
    for (i = 0; i < 8; i++) {
        l[i] = i % 2 ? lba(o, 3, i / 2) : lba(o, 7, i / 2);
        r[i] = i < 4 ? lba(o, 7, 3 - i) : lba(o, 3, i - 4);
    }
    g_free(d);
    d = mkdata(o, l, 8, 3);
    m = mkmeta(o, l, 8, 3);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, 8, d, m, 0,
                                  &bm), ==, 0);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, r, 8, rd, rm, 0,
                                  &bm), ==, 0);
    for (i = 0; i < 8; i++) {
        check_sector(o, rd + i * 4096, rm + i * 16, r[i], 3);
    }
    /* Standard read of what the vector wrote, and vice versa. */
    rd_check(o, lba(o, 3, 0), 4, 3);
    range(o, r, 0, 0, 8);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, r, 8, rd, rm, 0,
                                  &bm), ==, 0);
    for (i = 0; i < 8; i++) {
        check_sector(o, rd + i * 4096, rm + i * 16, r[i], 1);
    }
    finish(o, img);
}

/* ---- many appends to one chunk in flight -------------------------------- */

static void test_qd32_appends(void)
{
    char *img = new_image();
    /* One 128-sector chunk takes 32 writes of WS_MIN (4) sectors. */
    QOcssd *o = boot(img, "num_grp=1,num_pu=1,num_chk=2,clba=128");
    QOcssdQueue *sq = &o->sq[1];
    uint16_t cids[32];
    bool seen[32] = { false };
    uint64_t l[128];
    unsigned i, j;

    range(o, l, 0, 0, 128);
    for (i = 0; i < 32; i++) {
        g_autofree uint8_t *d = mkdata(o, l + 4 * i, 4, 5);
        g_autofree uint8_t *m = mkmeta(o, l + 4 * i, 4, 5);
        uint64_t daddr = qocssd_alloc(o, 4 * 4096);
        uint64_t maddr = qocssd_alloc(o, 4 * 16);
        NvmeCmd cmd = { .opcode = NVME_CMD_WRITE };
        NvmeRwCmd *rw = (NvmeRwCmd *)&cmd;

        qocssd_memwrite(o, daddr, d, 4 * 4096);
        qocssd_memwrite(o, maddr, m, 4 * 16);
        rw->nsid = cpu_to_le32(1);
        rw->slba = cpu_to_le64(l[4 * i]);
        rw->nlb = cpu_to_le16(3);
        rw->mptr = cpu_to_le64(maddr);
        qocssd_set_prp(o, &cmd, daddr, 4 * 4096);
        cmd.cid = cpu_to_le16(++o->next_cid);
        cids[i] = o->next_cid;
        qocssd_memwrite(o, sq->addr + (uint64_t)sq->tail * 64, &cmd, 64);
        sq->tail = (sq->tail + 1) % sq->size;
    }
    /* One doorbell: the device sees all 32 before any completes. */
    qocssd_ring_sq(o, 1, sq->tail);
    for (i = 0; i < 32; i++) {
        NvmeCqe cqe;

        qocssd_wait(o, 1, &cqe);
        g_assert_cmphex(qocssd_cqe_status(&cqe), ==, 0);
        for (j = 0; j < 32; j++) {
            if (cids[j] == le16_to_cpu(cqe.cid)) {
                g_assert_false(seen[j]);
                seen[j] = true;
                break;
            }
        }
        g_assert_cmpuint(j, <, 32);
    }
    expect_chunk(o, 0, OCSSD_CHUNK_CLOSED, 128, 0);
    rd_check(o, lba(o, 0, 0), 128, 5);
    finish(o, img);
}

/* ---- FUA ----------------------------------------------------------------- */

static void test_fua(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    OcssdImageChunk e;
    uint64_t l[4], bm;
    g_autofree uint8_t *d = NULL, *m = NULL;
    uint32_t dw0;

    g_assert_cmphex(qocssd_get_features(o, NVME_VOLATILE_WRITE_CACHE, 0, 0,
                                        &dw0), ==, 0);
    g_assert_cmpuint(dw0 & 1, ==, 1);
    /* A FUA write completes once the image holds it, chunk table too. */
    range(o, l, 2, 0, 4);
    d = mkdata(o, l, 4, 1);
    m = mkmeta(o, l, 4, 1);
    g_assert_cmphex(qocssd_write(o, 1, l[0], 4, d, m, NVME_RW_FUA), ==, 0);
    image_chunk(img, 2, &e);
    g_assert_cmpuint(e.state, ==, OCSSD_CHUNK_OPEN);
    g_assert_cmpuint(le64_to_cpu(e.wp), ==, 4);
    /* Vector FUA (CDW12 bit 30). */
    range(o, l, 2, 4, 4);
    g_free(d);
    g_free(m);
    d = mkdata(o, l, 4, 1);
    m = mkmeta(o, l, 4, 1);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, 4, d, m,
                                  OCSSD_VECTOR_FUA, &bm), ==, 0);
    image_chunk(img, 2, &e);
    g_assert_cmpuint(le64_to_cpu(e.wp), ==, 8);
    /* Without a volatile write cache every write is durable at once. */
    g_assert_cmphex(qocssd_set_features(o, NVME_VOLATILE_WRITE_CACHE, 0,
                                        NULL), ==, 0);
    g_assert_cmphex(wr(o, lba(o, 2, 8), 4, 1), ==, 0);
    image_chunk(img, 2, &e);
    g_assert_cmpuint(le64_to_cpu(e.wp), ==, 12);
    rd_check(o, lba(o, 2, 0), 12, 1);
    finish(o, img);
}

/* The volatile write cache's setting after each controller reset. */
static uint32_t vwc(QOcssd *o, uint8_t sel)
{
    uint32_t dw0;

    g_assert_cmphex(qocssd_get_features(o, NVME_VOLATILE_WRITE_CACHE, sel, 0,
                                        &dw0), ==, 0);
    return dw0 & 1;
}

/*
 * write-cache=off: the cache is off (current and default), every write is
 * on the image when it completes, and a controller reset turns the cache
 * off again after the host turned it on.  write-cache=auto follows the
 * drive's cache mode.
 */
static void test_write_cache_property(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0,write-cache=off");
    OcssdImageChunk e;

    g_assert_cmpuint(vwc(o, NVME_GETFEAT_SELECT_CURRENT), ==, 0);
    g_assert_cmpuint(vwc(o, NVME_GETFEAT_SELECT_DEFAULT), ==, 0);
    g_assert_cmphex(wr(o, lba(o, 1, 0), 4, 1), ==, 0);
    image_chunk(img, 1, &e);
    g_assert_cmpuint(e.state, ==, OCSSD_CHUNK_OPEN);
    g_assert_cmpuint(le64_to_cpu(e.wp), ==, 4);

    g_assert_cmphex(qocssd_set_features(o, NVME_VOLATILE_WRITE_CACHE, 1,
                                        NULL), ==, 0);
    g_assert_cmpuint(vwc(o, NVME_GETFEAT_SELECT_CURRENT), ==, 1);
    qocssd_writel(o, NVME_REG_CC, 0);
    qocssd_wait_csts(o, NVME_CSTS_READY, 0);
    qocssd_start_io(o);
    g_assert_cmpuint(vwc(o, NVME_GETFEAT_SELECT_CURRENT), ==, 0);
    g_assert_cmphex(wr(o, lba(o, 1, 4), 4, 1), ==, 0);
    image_chunk(img, 1, &e);
    g_assert_cmpuint(le64_to_cpu(e.wp), ==, 8);
    rd_check(o, lba(o, 1, 0), 8, 1);
    finish(o, img);

    /* auto: on with the default cache mode, off with writethrough. */
    img = new_image();
    o = qocssd_boot_cmdline("-machine q35 -drive if=none,id=oc0,file=%s,"
                            "format=raw,cache=writethrough -device ocssd,"
                            "drive=oc0,addr=04.0,id=oc," GEO, img);
    qocssd_start_io(o);
    g_assert_cmpuint(vwc(o, NVME_GETFEAT_SELECT_CURRENT), ==, 0);
    g_assert_cmpuint(vwc(o, NVME_GETFEAT_SELECT_DEFAULT), ==, 0);
    finish(o, img);
    img = new_image();
    o = boot(img, GEO ",write-cache=auto");
    g_assert_cmpuint(vwc(o, NVME_GETFEAT_SELECT_CURRENT), ==, 1);
    g_assert_cmpuint(vwc(o, NVME_GETFEAT_SELECT_DEFAULT), ==, 1);
    finish(o, img);
}

/* ---- Media Feedback (CAh): High ECC ------------------------------------- */

static void test_media_feedback(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    uint64_t l[4], bm;
    g_autofree uint8_t *d = g_malloc(4 * 4096), *m = g_malloc(4 * 16);
    uint32_t dw0;
    unsigned i;

    g_assert_cmphex(wr(o, lba(o, 0, 0), 8, 1), ==, 0);
    g_assert_cmphex(qocssd_get_features(o, OCSSD_FEAT_MEDIA_FEEDBACK, 0, 0,
                                        &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, 0);

    /* Off: a read that needed high ECC is a plain success. */
    inject(o, "inject-high-ecc", lba(o, 0, 2));
    rd_check(o, lba(o, 0, 0), 4, 1);

    /* HECC: standard reads report it, with the data, without DNR. */
    g_assert_cmphex(qocssd_set_features(o, OCSSD_FEAT_MEDIA_FEEDBACK,
                                        OCSSD_MEDIA_FEEDBACK_HECC, NULL),
                    ==, 0);
    g_assert_cmphex(qocssd_get_features(o, OCSSD_FEAT_MEDIA_FEEDBACK, 0, 0,
                                        &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, OCSSD_MEDIA_FEEDBACK_HECC);
    inject(o, "inject-high-ecc", lba(o, 0, 2));
    g_assert_cmphex(qocssd_read(o, 1, lba(o, 0, 0), 4, d, m, 0), ==,
                    OCSSD_HIGH_ECC);
    for (i = 0; i < 4; i++) {
        check_sector(o, d + i * 4096, m + i * 16, lba(o, 0, i), 1);
    }
    rd_check(o, lba(o, 0, 0), 4, 1);        /* the injection was once */
    /* ...but not vector reads. */
    inject(o, "inject-high-ecc", lba(o, 0, 5));
    range(o, l, 0, 4, 4);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, l, 4, d, m, 0,
                                  &bm), ==, 0);
    g_assert_cmphex(bm, ==, 0);

    /* VHECC: vector reads report it, the entry's bit set, data there. */
    g_assert_cmphex(qocssd_set_features(o, OCSSD_FEAT_MEDIA_FEEDBACK,
                                        OCSSD_MEDIA_FEEDBACK_VHECC | 0xfc,
                                        NULL), ==, 0);
    g_assert_cmphex(qocssd_get_features(o, OCSSD_FEAT_MEDIA_FEEDBACK, 0, 0,
                                        &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, OCSSD_MEDIA_FEEDBACK_VHECC);
    inject(o, "inject-high-ecc", lba(o, 0, 6));
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, l, 4, d, m, 0,
                                  &bm), ==, OCSSD_HIGH_ECC);
    g_assert_cmphex(bm, ==, 0x4);
    for (i = 0; i < 4; i++) {
        check_sector(o, d + i * 4096, m + i * 16, l[i], 1);
    }
    /* A real failure in the same command comes first if it is first. */
    inject(o, "inject-high-ecc", lba(o, 0, 6));
    l[0] = nsze(o);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, l, 4, d, m, 0,
                                  &bm), ==, RANGE);
    g_assert_cmphex(bm, ==, 0x5);
    /* ...and standard reads no longer report it. */
    inject(o, "inject-high-ecc", lba(o, 0, 1));
    rd_check(o, lba(o, 0, 0), 4, 1);
    finish(o, img);
}

/* ---- Chunk Notification log (D0h) and the vendor AER ------------------ */

static uint16_t aer_submit(QOcssd *o)
{
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_ASYNC_EV_REQ };

    return qocssd_submit(o, 0, &cmd);
}

static void aer_expect(QOcssd *o, uint16_t cid)
{
    NvmeCqe cqe;
    uint32_t dw0;

    qocssd_wait(o, 0, &cqe);
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, cid);
    g_assert_cmphex(qocssd_cqe_status(&cqe), ==, 0);
    dw0 = le32_to_cpu(cqe.result);
    g_assert_cmphex(dw0 & 0x7, ==, NVME_AER_TYPE_VENDOR_SPECIFIC);
    g_assert_cmphex((dw0 >> 8) & 0xff, ==, OCSSD_AER_INFO_CHUNK_NOTIFICATION);
    g_assert_cmphex((dw0 >> 16) & 0xff, ==, OCSSD_LOG_CHUNK_NOTIFICATION);
}

static void test_notify_wli(void)
{
    char *img = new_image();
    /* 16 chunks, WIT 2: a chunk at 3 resets (others at 0) is above. */
    QOcssd *o = boot(img, GEO ",wit=2,multiple_resets=on");
    OcssdChunkNotification log[OCSSD_NOTIFY_LOG_ENTRIES];
    NvmeCqe cqe;
    uint16_t cid;
    unsigned i;

    g_assert_cmpuint(o->geo.wit, ==, 2);
    cid = aer_submit(o);
    g_assert_cmphex(vreset1(o, 0), ==, 0);
    g_assert_cmphex(vreset1(o, 0), ==, 0);
    g_assert_false(qocssd_poll(o, 0, &cqe));
    g_assert_cmphex(vreset1(o, 0), ==, 0);      /* 3 > 3/16 + 2 */
    aer_expect(o, cid);

    /* RAE set: the log is read and kept. */
    for (i = 0; i < 2; i++) {
        memset(log, 0xa5, sizeof(log));
        g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 0,
                                       sizeof(log), true, log), ==, 0);
        g_assert_cmpuint(le64_to_cpu(log[0].nc), ==, 1);
        g_assert_cmphex(le64_to_cpu(log[0].lba), ==,
                        qocssd_chunk_slba(o, 0));
        g_assert_cmpuint(le32_to_cpu(log[0].nsid), ==, 1);
        g_assert_cmphex(le16_to_cpu(log[0].state), ==, OCSSD_NOTIFY_WLI);
        g_assert_cmphex(log[0].mask, ==, OCSSD_NOTIFY_MASK_CHUNK);
        g_assert_cmpuint(le16_to_cpu(log[0].nlb), ==, 0);
        check_zero((uint8_t *)&log[1], sizeof(log) - sizeof(log[0]));
    }
    /* RAE clear: read, then cleared. */
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 0,
                                   sizeof(log[0]), false, log), ==, 0);
    g_assert_cmpuint(le64_to_cpu(log[0].nc), ==, 1);
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 0,
                                   sizeof(log), true, log), ==, 0);
    check_zero((uint8_t *)log, sizeof(log));

    /* Chunk 0 stays outside: no new event; chunk 1 leaving is one. */
    cid = aer_submit(o);
    g_assert_cmphex(vreset1(o, 0), ==, 0);
    g_assert_cmphex(vreset1(o, 1), ==, 0);
    g_assert_cmphex(vreset1(o, 1), ==, 0);
    g_assert_false(qocssd_poll(o, 0, &cqe));
    g_assert_cmphex(vreset1(o, 1), ==, 0);      /* 3 > 7/16 + 2 */
    aer_expect(o, cid);
    /* A partial read at an odd offset: entry 0's state and mask. */
    memset(log, 0xa5, 8);
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 20, 4,
                                   true, log), ==, 0);
    g_assert_cmphex(((uint8_t *)log)[0], ==, 0x00);
    g_assert_cmphex(((uint8_t *)log)[1], ==, 0x01);
    g_assert_cmphex(((uint8_t *)log)[2], ==, OCSSD_NOTIFY_MASK_CHUNK);
    g_assert_cmphex(((uint8_t *)log)[3], ==, 0x00);
    g_assert_cmphex(((uint8_t *)log)[4], ==, 0xa5);
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION,
                                   0xffffffff, 0, 128, false, log), ==, 0);
    g_assert_cmpuint(le64_to_cpu(log[0].nc), ==, 2);
    g_assert_cmphex(le64_to_cpu(log[0].lba), ==, qocssd_chunk_slba(o, 1));
    g_assert_cmpuint(log[1].nc, ==, 0);
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 0,
                                   sizeof(log), true, log), ==, 0);
    check_zero((uint8_t *)log, sizeof(log));
    finish(o, img);
}

/*
 * The band average +- WIT is closed: an index exactly on an edge is
 * inside.  WIT 1, 16 chunks: chunks 1-15 reset once (average 15/16), then
 * chunk 1 again: average 1, chunk 1 at 2 and chunk 0 at 0, both on an
 * edge - no event.  Chunk 1 once more (average 17/16): chunk 1 is above
 * the band, chunk 0 below it, each an event (the reset chunk first).
 */
static void test_notify_band_edges(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",wit=1");
    OcssdChunkNotification log[4];
    uint64_t c;

    for (c = 1; c < NCHUNK; c++) {
        fill_chunk(o, c, 1);
        g_assert_cmphex(vreset1(o, c), ==, 0);
    }
    fill_chunk(o, 1, 1);
    g_assert_cmphex(vreset1(o, 1), ==, 0);
    expect_chunk(o, 1, OCSSD_CHUNK_FREE, 0, 2);
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 0,
                                   sizeof(log), true, log), ==, 0);
    check_zero((uint8_t *)log, sizeof(log));
    fill_chunk(o, 1, 1);
    g_assert_cmphex(vreset1(o, 1), ==, 0);
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 0,
                                   sizeof(log), false, log), ==, 0);
    g_assert_cmpuint(le64_to_cpu(log[0].nc), ==, 1);
    g_assert_cmphex(le64_to_cpu(log[0].lba), ==, qocssd_chunk_slba(o, 1));
    g_assert_cmphex(le16_to_cpu(log[0].state), ==, OCSSD_NOTIFY_WLI);
    g_assert_cmphex(log[0].mask, ==, OCSSD_NOTIFY_MASK_CHUNK);
    g_assert_cmpuint(le64_to_cpu(log[1].nc), ==, 2);
    g_assert_cmphex(le64_to_cpu(log[1].lba), ==, qocssd_chunk_slba(o, 0));
    g_assert_cmphex(le16_to_cpu(log[1].state), ==, OCSSD_NOTIFY_WLI);
    g_assert_cmphex(log[1].mask, ==, OCSSD_NOTIFY_MASK_CHUNK);
    check_zero((uint8_t *)&log[2], 2 * sizeof(log[0]));
    finish(o, img);
}

/*
 * The band is around the average of the chunks that are not offline.
 * WIT 1: chunk 0 at 17 resets pushes the 15 others (at 0) below the band,
 * then goes offline: the others are the whole average again (0), so chunk
 * 1 at 1 is inside the band and at 2 above it.
 */
static void test_notify_band_offline(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",wit=1,multiple_resets=on");
    OcssdChunkNotification log[OCSSD_NOTIFY_LOG_ENTRIES];
    unsigned i;

    for (i = 0; i < 17; i++) {
        g_assert_cmphex(vreset1(o, 0), ==, 0);
    }
    /* Chunk 0 above (at its 2nd reset), then 1..15 below (at the 17th). */
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 0,
                                   sizeof(log), false, log), ==, 0);
    g_assert_cmphex(le64_to_cpu(log[0].lba), ==, qocssd_chunk_slba(o, 0));
    for (i = 1; i < NCHUNK; i++) {
        g_assert_cmphex(le64_to_cpu(log[i].lba), ==, qocssd_chunk_slba(o, i));
        g_assert_cmphex(le16_to_cpu(log[i].state), ==, OCSSD_NOTIFY_WLI);
    }
    g_assert_cmpuint(log[NCHUNK].nc, ==, 0);
    inject(o, "inject-offline", lba(o, 0, 0));
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 0,
                                   sizeof(log), false, log), ==, 0);
    g_assert_cmphex(vreset1(o, 1), ==, 0);
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 0,
                                   sizeof(log), true, log), ==, 0);
    check_zero((uint8_t *)log, sizeof(log));
    g_assert_cmphex(vreset1(o, 1), ==, 0);
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 0,
                                   sizeof(log), false, log), ==, 0);
    g_assert_cmphex(le64_to_cpu(log[0].lba), ==, qocssd_chunk_slba(o, 1));
    g_assert_cmphex(le16_to_cpu(log[0].state), ==, OCSSD_NOTIFY_WLI);
    g_assert_cmpuint(log[1].nc, ==, 0);
    finish(o, img);
}

/*
 * The log holds the newest 64 notifications, oldest first; NC counts on
 * past the ones dropped.  Also: each High ECC read is notified, about its
 * sector, whether Media Feedback reports it or not.
 */
static void test_notify_log_full(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    OcssdChunkNotification log[OCSSD_NOTIFY_LOG_ENTRIES + 2];
    unsigned i, n = OCSSD_NOTIFY_LOG_ENTRIES + 3;

    fill_chunk(o, 9, 1);
    for (i = 0; i < n; i++) {
        inject(o, "inject-high-ecc", lba(o, 9, i % CLBA));
        rd_check(o, lba(o, 9, i % CLBA), 1, 1);
    }
    memset(log, 0xa5, sizeof(log));
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 0,
                                   sizeof(log), false, log), ==, 0);
    for (i = 0; i < OCSSD_NOTIFY_LOG_ENTRIES; i++) {
        unsigned k = n - OCSSD_NOTIFY_LOG_ENTRIES + i;   /* 0's based */

        g_assert_cmpuint(le64_to_cpu(log[i].nc), ==, k + 1);
        g_assert_cmphex(le64_to_cpu(log[i].lba), ==, lba(o, 9, k % CLBA));
        g_assert_cmpuint(le32_to_cpu(log[i].nsid), ==, 1);
        g_assert_cmphex(le16_to_cpu(log[i].state), ==, OCSSD_NOTIFY_ERR_HIGH);
        g_assert_cmphex(log[i].mask, ==, OCSSD_NOTIFY_MASK_SECTOR);
        g_assert_cmpuint(le16_to_cpu(log[i].nlb), ==, 0);
    }
    /* Past the log's end: zeroes. */
    check_zero((uint8_t *)&log[OCSSD_NOTIFY_LOG_ENTRIES], 2 * sizeof(log[0]));
    finish(o, img);
}

/* WIT 0: resets never notify. */
static void test_notify_wit0(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",wit=0,multiple_resets=on");
    OcssdChunkNotification log[4];
    unsigned i;

    for (i = 0; i < 20; i++) {
        g_assert_cmphex(vreset1(o, 0), ==, 0);
    }
    expect_chunk(o, 0, OCSSD_CHUNK_FREE, 0, 20);
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 0,
                                   sizeof(log), false, log), ==, 0);
    check_zero((uint8_t *)log, sizeof(log));
    finish(o, img);
}

/* ---- injected media failures: 0x2F0, 0x2F1, 0x281, reset failure ------ */

/* The notification log (read with RAE set) has an entry about lba. */
static void expect_notified(QOcssd *o, uint64_t lba, uint16_t state,
                            uint8_t mask)
{
    OcssdChunkNotification log[OCSSD_NOTIFY_LOG_ENTRIES];
    unsigned i;

    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 0,
                                   sizeof(log), true, log), ==, 0);
    for (i = 0; i < OCSSD_NOTIFY_LOG_ENTRIES && log[i].nc; i++) {
        if (le64_to_cpu(log[i].lba) == lba &&
            le16_to_cpu(log[i].state) == state && log[i].mask == mask) {
            return;
        }
    }
    g_error("no notification (state 0x%x, mask 0x%x) about LBA 0x%" PRIx64,
            state, mask, lba);
}

static void test_injected_failures(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    uint64_t l[8], bm;
    g_autofree uint8_t *d = NULL, *m = NULL;
    g_autofree uint8_t *r = g_malloc(8 * 4096);
    unsigned i;

    /* Write Next Unit: the unit is consumed, the chunk stays open. */
    g_assert_cmphex(wr(o, lba(o, 0, 0), 8, 1), ==, 0);
    inject(o, "inject-write-next-unit", lba(o, 0, 10));
    g_assert_cmphex(wr(o, lba(o, 0, 8), 4, 1), ==,
                    OCSSD_WRITE_NEXT_UNIT | NVME_DNR);
    expect_chunk(o, 0, OCSSD_CHUNK_OPEN, 12, 0);
    /* Each failed write is notified: error rate high, about the chunk. */
    expect_notified(o, lba(o, 0, 0), OCSSD_NOTIFY_ERR_HIGH,
                    OCSSD_NOTIFY_MASK_CHUNK);
    g_assert_cmphex(wr(o, lba(o, 0, 8), 4, 1), ==, OOO);
    g_assert_cmphex(wr(o, lba(o, 0, 12), 4, 1), ==, 0);
    rd_check(o, lba(o, 0, 12), 4, 1);

    /* Chunk Early Close: closed, WP where it was. */
    inject(o, "inject-write-error", lba(o, 0, 17));
    g_assert_cmphex(wr(o, lba(o, 0, 16), 8, 1), ==,
                    OCSSD_CHUNK_EARLY_CLOSE | NVME_DNR);
    expect_chunk(o, 0, OCSSD_CHUNK_CLOSED, 16, 0);
    g_assert_cmphex(wr(o, lba(o, 0, 16), 4, 1), ==, WF);
    rd_check(o, lba(o, 0, 0), 8, 1);
    rd_zero(o, lba(o, 0, 16), 8);
    g_assert_cmphex(vreset1(o, 0), ==, 0);

    /* Vector: the failure takes its chunk's share, the other chunk goes. */
    range(o, l, 1, 0, 4);
    range(o, l + 4, 2, 0, 4);
    inject(o, "inject-write-error", l[6]);
    d = mkdata(o, l, 8, 2);
    m = mkmeta(o, l, 8, 2);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, l, 8, d, m,
                                  0, &bm), ==,
                    OCSSD_CHUNK_EARLY_CLOSE | NVME_DNR);
    g_assert_cmphex(bm, ==, 0xf0);
    expect_chunk(o, 1, OCSSD_CHUNK_OPEN, 4, 0);
    expect_chunk(o, 2, OCSSD_CHUNK_CLOSED, 0, 0);
    expect_notified(o, lba(o, 2, 0), OCSSD_NOTIFY_ERR_HIGH,
                    OCSSD_NOTIFY_MASK_CHUNK);

    /* Unrecovered Read Error: standard reads fail whole... */
    inject(o, "inject-read-error", l[2]);
    g_assert_cmphex(qocssd_read(o, 1, l[0], 4, r, NULL, 0), ==,
                    NVME_UNRECOVERED_READ | NVME_DNR);
    /* ...vector reads per entry, the others with their data. */
    inject(o, "inject-read-error", l[1]);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, l, 4, r, NULL,
                                  0, &bm), ==,
                    NVME_UNRECOVERED_READ | NVME_DNR);
    g_assert_cmphex(bm, ==, 0x2);
    for (i = 0; i < 4; i++) {
        if (i == 1) {
            check_zero(r + 4096, 4096);
        } else {
            check_sector(o, r + i * 4096, NULL, l[i], 2);
        }
    }
    /* It was once. */
    rd_check(o, l[0], 4, 2);
    /* The failed read is in the notification log, about the sector. */
    expect_notified(o, l[1], OCSSD_NOTIFY_ERR_UNRECOVERABLE,
                    OCSSD_NOTIFY_MASK_SECTOR);

    /* A reset that fails takes the chunk offline: Offline Chunk. */
    fill_chunk(o, 3, 1);
    inject(o, "inject-reset-fail", lba(o, 3, 0));
    g_assert_cmphex(vreset1(o, 3), ==, OFFL);
    expect_chunk(o, 3, OCSSD_CHUNK_OFFLINE, 64, 0);
    g_assert_cmphex(rd_status(o, lba(o, 3, 0), 4), ==, OFFL);
    expect_notified(o, lba(o, 3, 0), OCSSD_NOTIFY_ERR_UNRECOVERABLE,
                    OCSSD_NOTIFY_MASK_CHUNK);
    finish(o, img);
}

/*
 * The sectors a Write Next Unit failure consumed read as zeroes, never as
 * what an earlier generation of the chunk held there.
 */
static void test_next_unit_zeroes(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");

    fill_chunk(o, 4, 1);
    g_assert_cmphex(vreset1(o, 4), ==, 0);
    g_assert_cmphex(wr(o, lba(o, 4, 0), 8, 3), ==, 0);
    inject(o, "inject-write-next-unit", lba(o, 4, 9));
    g_assert_cmphex(wr(o, lba(o, 4, 8), 4, 3), ==,
                    OCSSD_WRITE_NEXT_UNIT | NVME_DNR);
    expect_chunk(o, 4, OCSSD_CHUNK_OPEN, 12, 1);
    rd_zero(o, lba(o, 4, 8), 4);
    rd_check(o, lba(o, 4, 0), 8, 3);
    finish(o, img);
}

/*
 * High ECC is a success with information, never a failure's cover: a
 * read whose first sector needed high ECC and a later one failed reports
 * the failure, for standard reads (there the data of the failed sector
 * would be zeroes a host takes for data) and for vector reads and copies
 * (bitmap: both entries).  High ECC is reported when nothing failed.
 */
static void test_high_ecc_precedence(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    g_autofree uint8_t *d = g_malloc(128 * 4096), *m = g_malloc(128 * 16);
    uint64_t l[2], src[8], dst[8], bm;

    g_assert_cmphex(wr(o, lba(o, 0, 0), 8, 1), ==, 0);
    g_assert_cmphex(qocssd_set_features(o, OCSSD_FEAT_MEDIA_FEEDBACK,
                                        OCSSD_MEDIA_FEEDBACK_HECC |
                                        OCSSD_MEDIA_FEEDBACK_VHECC, NULL),
                    ==, 0);
    set_dulbe(o, true);

    /* Standard: high ECC at 0, unwritten at 8. */
    inject(o, "inject-high-ecc", lba(o, 0, 0));
    g_assert_cmphex(qocssd_read(o, 1, lba(o, 0, 0), 12, d, m, 0), ==, DULB);
    /* ...high ECC at 0, a read failure at 5. */
    inject(o, "inject-high-ecc", lba(o, 0, 0));
    inject(o, "inject-read-error", lba(o, 0, 5));
    g_assert_cmphex(qocssd_read(o, 1, lba(o, 0, 0), 8, d, m, 0), ==,
                    NVME_UNRECOVERED_READ | NVME_DNR);
    /* ...high ECC alone. */
    inject(o, "inject-high-ecc", lba(o, 0, 3));
    g_assert_cmphex(qocssd_read(o, 1, lba(o, 0, 0), 8, d, m, 0), ==,
                    OCSSD_HIGH_ECC);

    /* Vector read: high ECC first, unwritten second. */
    l[0] = lba(o, 0, 1);
    l[1] = lba(o, 0, 9);
    inject(o, "inject-high-ecc", l[0]);
    g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, l, 2, d, m, 0,
                                  &bm), ==, DULB);
    g_assert_cmphex(bm, ==, 0x3);
    check_sector(o, d, m, l[0], 1);

    /*
     * Vector copy: a high-ECC source first (its destination chunk takes
     * the copy), a failing source later (its destination chunk's share
     * fails with it).
     */
    range(o, src, 0, 0, 8);
    range(o, dst, 1, 0, 4);
    range(o, dst + 4, 2, 0, 4);
    inject(o, "inject-high-ecc", src[0]);
    inject(o, "inject-read-error", src[4]);
    g_assert_cmphex(qocssd_vcopy(o, 1, src, dst, 8, &bm), ==,
                    NVME_UNRECOVERED_READ | NVME_DNR);
    g_assert_cmphex(bm, ==, 0xf1);
    expect_chunk(o, 1, OCSSD_CHUNK_OPEN, 4, 0);

    /* A standard read of a whole chunk, all unwritten (chunk 3 is free). */
    g_assert_cmphex(qocssd_read(o, 1, lba(o, 3, 0), CLBA, d, m, 0), ==,
                    DULB);
    finish(o, img);
}

/*
 * A standard read of more than 64 unwritten sectors with DULBE set: each
 * entry fails, and the bitmap (vector commands only, 64 bits) is not
 * shifted past its width (UBSan checks that in the sanitizer builds).
 */
static void test_read_dulbe_long(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, "num_grp=1,num_pu=1,num_chk=2,clba=256,"
                     "mw_cunits=0");
    g_autofree uint8_t *d = g_malloc(128 * 4096);
    NvmeCqe cqe;
    NvmeCmd cmd;
    NvmeRwCmd *rw = (NvmeRwCmd *)&cmd;

    set_dulbe(o, true);
    g_assert_cmphex(qocssd_read(o, 1, lba(o, 1, 0), 128, d, NULL, 0), ==,
                    DULB);
    g_assert_cmphex(wr(o, lba(o, 0, 0), 64, 1), ==, 0);
    /* Written 0-63, unwritten 64-127: the CQE's dword 0 stays 0. */
    memset(&cmd, 0, sizeof(cmd));
    rw->opcode = NVME_CMD_READ;
    rw->nsid = cpu_to_le32(1);
    rw->slba = cpu_to_le64(lba(o, 0, 0));
    rw->nlb = cpu_to_le16(127);
    qocssd_set_prp(o, &cmd, qocssd_alloc(o, 128 * 4096), 128 * 4096);
    g_assert_cmphex(qocssd_exec(o, 1, &cmd, &cqe), ==, DULB);
    g_assert_cmphex(le32_to_cpu(cqe.result), ==, 0);
    g_assert_cmphex(le32_to_cpu(cqe.dw1), ==, 0);
    finish(o, img);
}

/*
 * Vector Copy whose every destination fails by injection: the failure
 * takes effect as it does on a Vector Write with the same injection: an
 * early close closes the destination chunk where its WP was, a Write
 * Next Unit failure consumes the unit (read back as zeroes).
 */
static void test_copy_injected_destinations(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    g_autofree uint8_t *d = NULL, *m = NULL;
    uint64_t src[4], dst[4], bm;
    OcssdChunkDescriptor via_write, via_copy;
    static const struct {
        const char *prop;
        uint16_t status;
    } kinds[] = {
        { "inject-write-error", OCSSD_CHUNK_EARLY_CLOSE | NVME_DNR },
        { "inject-write-next-unit", OCSSD_WRITE_NEXT_UNIT | NVME_DNR },
    };
    unsigned k;

    range(o, src, 0, 0, 4);
    d = mkdata(o, src, 4, 1);
    m = mkmeta(o, src, 4, 1);
    g_assert_cmphex(wr(o, src[0], 4, 1), ==, 0);
    for (k = 0; k < ARRAY_SIZE(kinds); k++) {
        uint64_t wchunk = 2 + 2 * k, cchunk = 3 + 2 * k;

        /* The same injection on a Vector Write... */
        range(o, dst, wchunk, 0, 4);
        inject(o, kinds[k].prop, dst[0]);
        g_assert_cmphex(qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, dst, 4, d,
                                      m, 0, &bm), ==, kinds[k].status);
        g_assert_cmphex(bm, ==, 0xf);
        /* ...and on a Vector Copy. */
        range(o, dst, cchunk, 0, 4);
        inject(o, kinds[k].prop, dst[0]);
        g_assert_cmphex(qocssd_vcopy(o, 1, src, dst, 4, &bm), ==,
                        kinds[k].status);
        g_assert_cmphex(bm, ==, 0xf);
        g_assert_cmphex(qocssd_chunk_info(o, wchunk, &via_write), ==, 0);
        g_assert_cmphex(qocssd_chunk_info(o, cchunk, &via_copy), ==, 0);
        g_assert_cmphex(via_copy.cs, ==, via_write.cs);
        g_assert_cmpuint(le64_to_cpu(via_copy.wp), ==,
                         le64_to_cpu(via_write.wp));
    }
    expect_chunk(o, 3, OCSSD_CHUNK_CLOSED, 0, 0);
    expect_chunk(o, 5, OCSSD_CHUNK_OPEN, 4, 0);
    rd_zero(o, lba(o, 5, 0), 4);
    finish(o, img);
}

/*
 * A chunk going offline leaves the wear statistics and moves the band
 * average +- WIT: the chunks that leave the band with it are notified
 * then, not at some later reset.  WIT 1: chunk 1 at 2 resets, chunk 0
 * at 16 (average 18/16: chunk 1 inside); chunk 0 goes offline (average
 * 2/15: chunk 1 above the band).
 */
static void test_notify_offline_moves_band(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO ",wit=1,multiple_resets=on");
    OcssdChunkNotification log[OCSSD_NOTIFY_LOG_ENTRIES];
    unsigned i;

    g_assert_cmphex(vreset1(o, 1), ==, 0);
    g_assert_cmphex(vreset1(o, 1), ==, 0);
    for (i = 0; i < 16; i++) {
        g_assert_cmphex(vreset1(o, 0), ==, 0);
    }
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 0,
                                   sizeof(log), false, log), ==, 0);
    inject(o, "inject-offline", lba(o, 0, 0));
    expect_notified(o, lba(o, 0, 0), OCSSD_NOTIFY_ERR_UNRECOVERABLE,
                    OCSSD_NOTIFY_MASK_CHUNK);
    expect_notified(o, lba(o, 1, 0), OCSSD_NOTIFY_WLI,
                    OCSSD_NOTIFY_MASK_CHUNK);
    finish(o, img);
}

/* Flush: every completed write is on the image afterwards. */
static void test_flush(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO);
    OcssdImageChunk e;

    g_assert_cmphex(wr(o, lba(o, 5, 0), 8, 1), ==, 0);
    g_assert_cmphex(wr(o, lba(o, 9, 0), 64, 1), ==, 0);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    image_chunk(img, 5, &e);
    g_assert_cmpuint(e.state, ==, OCSSD_CHUNK_OPEN);
    g_assert_cmpuint(le64_to_cpu(e.wp), ==, 8);
    image_chunk(img, 9, &e);
    g_assert_cmpuint(e.state, ==, OCSSD_CHUNK_CLOSED);
    g_assert_cmpuint(le64_to_cpu(e.wp), ==, 64);
    /* Resets are on the image when they complete. */
    g_assert_cmphex(vreset1(o, 9), ==, 0);
    image_chunk(img, 9, &e);
    g_assert_cmpuint(e.state, ==, OCSSD_CHUNK_FREE);
    g_assert_cmpuint(e.wli, ==, 1);
    g_assert_cmpuint(le64_to_cpu(e.wp), ==, 0);
    finish(o, img);
}

/* I/O to a namespace that does not exist. */
static void test_io_bad_nsid(void)
{
    char *img = new_image();
    QOcssd *o = boot(img, GEO);
    static const uint8_t ops[] = { NVME_CMD_WRITE, NVME_CMD_READ, NVME_CMD_DSM,
                                   OCSSD_CMD_VECT_RESET, OCSSD_CMD_VECT_WRITE,
                                   OCSSD_CMD_VECT_READ, OCSSD_CMD_VECT_COPY };
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(ops); i++) {
        NvmeCmd cmd = { .opcode = ops[i] };

        cmd.nsid = cpu_to_le32(2);
        qocssd_set_prp(o, &cmd, qocssd_alloc(o, 4096), 4096);
        g_assert_cmphex(qocssd_exec(o, 1, &cmd, NULL), ==,
                        NVME_INVALID_NSID | NVME_DNR);
    }
    expect_chunk(o, 0, OCSSD_CHUNK_FREE, 0, 0);
    finish(o, img);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/ocssd/media/geometry/defaults", test_geometry_defaults);
    qtest_add_func("/ocssd/media/geometry/custom", test_geometry_custom);
    qtest_add_func("/ocssd/media/identify-ns", test_identify_ns);
    qtest_add_func("/ocssd/media/chunk-log/transitions",
                   test_chunk_log_transitions);
    qtest_add_func("/ocssd/media/chunk-log/partial", test_chunk_log_partial);
    qtest_add_func("/ocssd/media/chunk-log/odd-geometry",
                   test_chunk_log_odd_geometry);
    qtest_add_func("/ocssd/media/chunk-log/deviating", test_chunk_deviating);
    qtest_add_func("/ocssd/media/write/out-of-order", test_write_out_of_order);
    qtest_add_func("/ocssd/media/write/ws-min", test_write_ws_min);
    qtest_add_func("/ocssd/media/write/closed-offline",
                   test_write_closed_offline);
    qtest_add_func("/ocssd/media/write/past-end-and-ranges",
                   test_write_past_end_and_ranges);
    qtest_add_func("/ocssd/media/holes", test_holes);
    qtest_add_func("/ocssd/media/reset/states", test_reset_states);
    qtest_add_func("/ocssd/media/reset/descriptors", test_reset_descriptors);
    qtest_add_func("/ocssd/media/reset/wli-saturates",
                   test_reset_wli_saturates);
    qtest_add_func("/ocssd/media/read/dulbe", test_read_dulbe);
    qtest_add_func("/ocssd/media/read/mw-cunits", test_read_mw_cunits);
    qtest_add_func("/ocssd/media/read/mw-cunits-restart",
                   test_read_mw_cunits_restart);
    qtest_add_func("/ocssd/media/read/mw-cunits-strict-off",
                   test_read_mw_cunits_strict_off);
    qtest_add_func("/ocssd/media/dsm", test_dsm);
    qtest_add_func("/ocssd/media/dsm-attributes-and-order",
                   test_dsm_attributes_and_order);
    qtest_add_func("/ocssd/media/vector/mixed", test_vector_mixed);
    qtest_add_func("/ocssd/media/vector/nlb-limit", test_vector_nlb_limit);
    qtest_add_func("/ocssd/media/vector/list-outside-ram",
                   test_vector_list_outside_ram);
    qtest_add_func("/ocssd/media/vector/transfer-error",
                   test_vector_transfer_error);
    qtest_add_func("/ocssd/media/vector/copy", test_vector_copy);
    qtest_add_func("/ocssd/media/maxoc", test_maxoc);
    qtest_add_func("/ocssd/media/maxocpu", test_maxocpu);
    qtest_add_func("/ocssd/media/metadata", test_metadata);
    qtest_add_func("/ocssd/media/qd32-appends", test_qd32_appends);
    qtest_add_func("/ocssd/media/fua", test_fua);
    qtest_add_func("/ocssd/media/write-cache-property",
                   test_write_cache_property);
    qtest_add_func("/ocssd/media/media-feedback", test_media_feedback);
    qtest_add_func("/ocssd/media/notify/wli", test_notify_wli);
    qtest_add_func("/ocssd/media/notify/wit0", test_notify_wit0);
    qtest_add_func("/ocssd/media/notify/band-edges", test_notify_band_edges);
    qtest_add_func("/ocssd/media/notify/band-offline",
                   test_notify_band_offline);
    qtest_add_func("/ocssd/media/notify/log-full", test_notify_log_full);
    qtest_add_func("/ocssd/media/injected-failures", test_injected_failures);
    qtest_add_func("/ocssd/media/next-unit-zeroes", test_next_unit_zeroes);
    qtest_add_func("/ocssd/media/high-ecc-precedence",
                   test_high_ecc_precedence);
    qtest_add_func("/ocssd/media/read/dulbe-long", test_read_dulbe_long);
    qtest_add_func("/ocssd/media/copy-injected-destinations",
                   test_copy_injected_destinations);
    qtest_add_func("/ocssd/media/notify/offline-moves-band",
                   test_notify_offline_moves_band);
    qtest_add_func("/ocssd/media/flush", test_flush);
    qtest_add_func("/ocssd/media/io-bad-nsid", test_io_bad_nsid);
    return g_test_run();
}
