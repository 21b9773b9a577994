/*
 * ocssd qtests: the persistent media image
 *
 * What the image keeps over a restart, an unplug and a kill -9 (after a
 * Flush, FUA writes, a VM stop, CC.SHN, or with writes still in flight):
 * data, metadata, the chunk table, the header's DIRTY flag and counters;
 * which images and properties the device refuses (always leaving the file
 * byte-identical, as does ocssd-img check), geometries past the size
 * limit included, at realize and at device_add; read-only drives; qcow2 and
 * 512-byte-sector images; sparse 4 TiB images; overlapping writes across
 * a chunk reset; and every fault-injection mode with its status and its
 * chunk notification.  ocssd-media-test.c has the statuses of the
 * run-time (QMP) injections; here are their notifications.
 *
 * Each test boots its own QEMU on its own image; the geometry is 2 groups
 * x 2 PUs x 4 chunks x 64 sectors of 4096 + 16 bytes unless it says
 * otherwise (chunk index = (grp * 2 + pu) * 4 + chk).  QEMUs expected to
 * fail realize run outside libqtest, with their stderr captured.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include <sys/wait.h>
#include "qemu/crc32c.h"
#include "qemu/host-utils.h"
#include "libqtest.h"
#include "libqos/ocssd.h"
#include "hw/block/ocssd-image.h"

#define GEO         "num_grp=2,num_pu=2,num_chk=4,clba=64"
#define NCHUNK      16
#define CLBA        64

#define WF          (NVME_WRITE_FAULT | NVME_DNR)
#define OFFL        (OCSSD_OFFLINE_CHUNK | NVME_DNR)

/* ---- images and QEMU processes ---------------------------------------- */

/* Remove img and the files next to it (side_file()). */
static void drop_image(char *img)
{
    static const char *const sides[] = { "rules", "pid" };
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(sides); i++) {
        g_autofree char *side = g_strdup_printf("%s.%s", img, sides[i]);

        unlink(side);
    }
    unlink(img);
    g_free(img);
}

/* A file next to img: "rules" (fault files) or "pid". */
static char *side_file(const char *img, const char *suffix,
                       const char *contents)
{
    char *path = g_strdup_printf("%s.%s", img, suffix);

    if (contents) {
        g_assert(g_file_set_contents(path, contents, -1, NULL));
    }
    return path;
}

/*
 * A new image and a fault file for prop holding text; *opts gets the
 * device options: the small geometry without MW_CUNITS window, prop=FILE.
 */
static char *fault_image(const char *prop, const char *text, char **opts)
{
    char *img = qocssd_tmp_image();
    g_autofree char *rules = side_file(img, "rules", text);

    *opts = g_strdup_printf(GEO ",mw_cunits=0,%s=%s", prop, rules);
    return img;
}

static uint64_t file_size(const char *path)
{
    struct stat st;

    g_assert_cmpint(stat(path, &st), ==, 0);
    return st.st_size;
}

static char *file_sha256(const char *path)
{
    g_autofree char *data = NULL;
    gsize len;

    g_assert(g_file_get_contents(path, &data, &len, NULL));
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)data,
                                       len);
}

/*
 * Boot QEMU on img (the device "oc" at 04.0) with I/O queue pair 1 ready.
 * drive_opts go to -drive (the format first), dev_opts to -device, extra
 * to the command line.
 */
static QOcssd *boot_with(const char *img, const char *drive_opts,
                         const char *dev_opts, const char *extra)
{
    QOcssd *o = qocssd_boot_cmdline("-machine q35 -drive if=none,id=oc0,"
                                    "file=%s,%s -device ocssd,"
                                    "drive=oc0,addr=04.0,id=oc%s%s %s", img,
                                    drive_opts, *dev_opts ? "," : "",
                                    dev_opts, extra);

    qocssd_start_io(o);
    return o;
}

static QOcssd *boot(const char *img, const char *dev_opts)
{
    return boot_with(img, "format=raw", dev_opts, "");
}

/* Boot with a pid file, so that crash() can kill -9 this QEMU. */
static QOcssd *boot_killable(const char *img, const char *drive_opts,
                             const char *dev_opts, char **pidfile)
{
    g_autofree char *extra = NULL;

    *pidfile = side_file(img, "pid", NULL);
    extra = g_strdup_printf("-pidfile %s", *pidfile);
    return boot_with(img, drive_opts, dev_opts, extra);
}

/* A new raw image, the small geometry without MW_CUNITS window, killable. */
static QOcssd *boot_new_killable(char **img, char **pidfile)
{
    *img = qocssd_tmp_image();
    return boot_killable(*img, "format=raw", GEO ",mw_cunits=0", pidfile);
}

/*
 * kill -9 the QEMU.  libqtest counts a QEMU that a signal killed as a
 * failure when it reaps it (qtest_quit(), and qtest_kill_qemu() only
 * sends SIGTERM), so the test reaps it itself and releases the libqos
 * state without qtest_quit(); the QTestState's two sockets stay open
 * until the test program exits.
 */
static void crash(QOcssd *o, char *pidfile)
{
    QOSState *qs = o->qs;
    g_autofree char *text = NULL;
    pid_t pid;
    int status;

    g_assert(g_file_get_contents(pidfile, &text, NULL, NULL));
    pid = atoi(text);
    g_assert_cmpint(pid, >, 0);
    qtest_remove_abrt_handler(qs->qts);
    g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFSIGNALED(status));
    g_assert_cmpint(WTERMSIG(status), ==, SIGKILL);
    qs->ops->qpci_free(qs->pcibus);
    alloc_destroy(&qs->alloc);
    g_free(qs);
    g_free(o);
    unlink(pidfile);
    g_free(pidfile);
}

/* The device still answers; then QEMU exits cleanly (SIGTERM). */
static void finish(QOcssd *o)
{
    uint8_t id[NVME_IDENTIFY_DATA_SIZE];

    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_CTRL, 0, id), ==, 0);
    qocssd_shutdown(o);
}

/*
 * Run a QEMU outside libqtest: one that fails realize exits before any
 * monitor could answer.  "quit" on the monitor ends one that started.
 * Returns the exit status; *err gets what QEMU wrote to stderr.
 */
static int G_GNUC_PRINTF(2, 3) run_qemu(char **err, const char *fmt, ...)
{
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *args = NULL, *cmd = NULL;
    g_autoptr(GError) gerr = NULL;
    char *argv[] = { (char *)"/bin/sh", (char *)"-c", NULL, NULL };
    va_list ap;
    int status;

    g_assert(qemu);
    va_start(ap, fmt);
    args = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    cmd = g_strdup_printf("echo quit | %s -machine q35 -accel qtest "
                          "-display none -nodefaults -monitor stdio %s",
                          qemu, args);
    argv[2] = cmd;
    g_test_message("running: %s", cmd);
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                      NULL, NULL, err, &status, &gerr)) {
        g_error("cannot run QEMU: %s", gerr->message);
    }
    g_assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* A QEMU on img with the device (dev_opts) starts and quits. */
static void run_ok(const char *img, const char *drive_opts,
                   const char *dev_opts)
{
    g_autofree char *err = NULL;
    int ret = run_qemu(&err, "-drive if=none,id=oc0,file=%s,format=raw%s "
                       "-device ocssd,drive=oc0%s%s", img, drive_opts,
                       *dev_opts ? "," : "", dev_opts);

    if (ret) {
        g_error("QEMU exited with %d:\n%s", ret, err);
    }
}

static void expect_text(const char *text, const char *const *needles)
{
    for (; *needles; needles++) {
        if (!strstr(text, *needles)) {
            g_error("the output lacks \"%s\":\n%s", *needles, text);
        }
    }
}

/*
 * QEMU with the device on img (drive_opts, dev_opts) must fail realize,
 * say each of the NULL-terminated needles on stderr, and leave img
 * byte-identical.
 */
static void expect_refused(const char *img, const char *drive_opts,
                           const char *dev_opts, const char *const *needles)
{
    g_autofree char *before = file_sha256(img), *after = NULL;
    g_autofree char *err = NULL;
    uint64_t size = file_size(img);
    int ret = run_qemu(&err, "-drive if=none,id=oc0,file=%s,format=raw%s "
                       "-device ocssd,drive=oc0%s%s", img, drive_opts,
                       *dev_opts ? "," : "", dev_opts);

    if (ret != 1) {
        g_error("QEMU exited with %d, expected 1:\n%s", ret, err);
    }
    expect_text(err, needles);
    g_assert_cmpuint(file_size(img), ==, size);
    after = file_sha256(img);
    g_assert_cmpstr(after, ==, before);
}

/* The ocssd-img tool: $OCSSD_IMG, else next to QEMU in the build tree. */
static char *tool_path(void)
{
    const char *env = g_getenv("OCSSD_IMG");
    g_autofree char *dir = NULL;
    char *path;

    if (env) {
        return g_strdup(env);
    }
    dir = g_path_get_dirname(g_getenv("QTEST_QEMU_BINARY"));
    path = g_build_filename(dir, "ocssd", "ocssd-img", NULL);
    if (!g_file_test(path, G_FILE_TEST_IS_EXECUTABLE)) {
        g_free(path);
        return NULL;
    }
    return path;
}

/*
 * `ocssd-img check img` exits with want (0 clean, 2 corrupt), prints each
 * of needles, and leaves img as it was.
 */
static void tool_check(const char *img, int want, const char *const *needles)
{
    g_autofree char *before = file_sha256(img), *after = NULL;
    g_autofree char *tool = tool_path(), *out = NULL, *err = NULL;
    g_autoptr(GError) gerr = NULL;
    char *argv[] = { tool, (char *)"check", (char *)img, NULL };
    int status;

    if (!tool) {
        g_test_message("ocssd-img not found (set OCSSD_IMG): check skipped");
        return;
    }
    if (!g_spawn_sync(NULL, argv, NULL, 0, NULL, NULL, &out, &err, &status,
                      &gerr)) {
        g_error("cannot run %s: %s", tool, gerr->message);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != want) {
        g_error("ocssd-img check: status 0x%x, expected exit %d:\n%s%s",
                status, want, out, err);
    }
    expect_text(out, needles);
    after = file_sha256(img);
    g_assert_cmpstr(after, ==, before);
}

/* ---- the image file, read and patched directly ------------------------- */

static void img_io(const char *img, bool write, void *buf, size_t len,
                   uint64_t off)
{
    int fd = open(img, write ? O_WRONLY : O_RDONLY);
    ssize_t r;

    g_assert(fd >= 0);
    r = write ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
    g_assert_cmpint(r, ==, len);
    close(fd);
}

static void img_header(const char *img, OcssdImageHeader *h)
{
    img_io(img, false, h, sizeof(*h), 0);
    g_assert(!memcmp(h->magic, OCSSD_IMAGE_MAGIC, sizeof(h->magic)));
}

/* Write a header back, with a valid checksum if seal. */
static void img_put_header(const char *img, OcssdImageHeader *h, bool seal)
{
    if (seal) {
        h->header_crc = cpu_to_le32(crc32c(0xffffffff, (uint8_t *)h,
                                           offsetof(OcssdImageHeader,
                                                    header_crc)));
    }
    img_io(img, true, h, sizeof(*h), 0);
}

static uint64_t img_entry_offset(const char *img, uint64_t chunk)
{
    OcssdImageHeader h;

    img_header(img, &h);
    return le64_to_cpu(h.table_offset) + chunk * sizeof(OcssdImageChunk);
}

static uint32_t entry_crc(const OcssdImageChunk *e)
{
    return crc32c(0xffffffff, (const uint8_t *)e,
                  offsetof(OcssdImageChunk, crc));
}

static void img_entry(const char *img, uint64_t chunk, OcssdImageChunk *e)
{
    img_io(img, false, e, sizeof(*e), img_entry_offset(img, chunk));
}

static void img_put_entry(const char *img, uint64_t chunk, OcssdImageChunk *e,
                          bool seal)
{
    if (seal) {
        e->crc = cpu_to_le32(entry_crc(e));
    }
    img_io(img, true, e, sizeof(*e), img_entry_offset(img, chunk));
}

/* The header's DIRTY flag and counters. */
static void expect_header(const char *img, bool dirty, uint64_t power_cycles,
                          uint64_t unsafe_shutdowns)
{
    OcssdImageHeader h;

    img_header(img, &h);
    g_assert_cmphex(le32_to_cpu(h.flags), ==,
                    dirty ? OCSSD_IMAGE_FLAG_DIRTY : 0);
    g_assert_cmpuint(le64_to_cpu(h.power_cycles), ==, power_cycles);
    g_assert_cmpuint(le64_to_cpu(h.unsafe_shutdowns), ==, unsafe_shutdowns);
}

/* ---- data, chunks, logs -------------------------------------------------- */

/* Data and metadata of the sector at lba, written with tag (tag > 0). */
static void sector_pattern(QOcssd *o, uint64_t lba, uint8_t tag, uint8_t *d,
                           uint8_t *m)
{
    uint32_t j;

    for (j = 0; j < o->sec_size; j++) {
        d[j] = (uint8_t)((lba * 0x9d) ^ (j * 7) ^ (j >> 7) ^ (tag * 0x35) ^
                         0x11);
    }
    for (j = 0; m && j < o->md_size; j++) {
        m[j] = (uint8_t)(lba * 0x3b + j * 5 + tag * 0x47 + 0x80);
    }
}

/* Buffers for the sectors of lbas, in list order. */
static void patterns(QOcssd *o, const uint64_t *lbas, unsigned n, uint8_t tag,
                     uint8_t **d, uint8_t **m)
{
    unsigned i;

    *d = g_malloc((size_t)n * o->sec_size);
    *m = g_malloc((size_t)n * o->md_size + 1);
    for (i = 0; i < n; i++) {
        sector_pattern(o, lbas[i], tag, *d + (size_t)i * o->sec_size,
                       *m + (size_t)i * o->md_size);
    }
}

static uint64_t *lba_run(QOcssd *o, uint64_t chunk, uint32_t sec, unsigned n)
{
    uint64_t *l = g_new(uint64_t, n);
    unsigned i;

    for (i = 0; i < n; i++) {
        l[i] = qocssd_chunk_slba(o, chunk) + sec + i;
    }
    return l;
}

/* Standard write of n sectors of chunk from sec, tagged. */
static uint16_t wr(QOcssd *o, uint64_t chunk, uint32_t sec, unsigned n,
                   uint8_t tag, uint16_t control)
{
    g_autofree uint64_t *l = lba_run(o, chunk, sec, n);
    g_autofree uint8_t *d = NULL, *m = NULL;

    patterns(o, l, n, tag, &d, &m);
    return qocssd_write(o, 1, l[0], n, d, m, control);
}

/* Vector write of a list of LBAs, tagged. */
static uint16_t vwr(QOcssd *o, const uint64_t *lbas, unsigned n, uint8_t tag,
                    uint32_t flags, uint64_t *bitmap)
{
    g_autofree uint8_t *d = NULL, *m = NULL;

    patterns(o, lbas, n, tag, &d, &m);
    return qocssd_vector(o, 1, OCSSD_CMD_VECT_WRITE, lbas, n, d, m, flags,
                         bitmap);
}

static void expect_bytes(const uint8_t *got, const uint8_t *want, size_t len,
                         uint64_t lba, const char *what)
{
    size_t j;

    for (j = 0; j < len; j++) {
        if (got[j] != want[j]) {
            g_error("LBA 0x%" PRIx64 " %s byte %zu: 0x%02x, expected 0x%02x",
                    lba, what, j, got[j], want[j]);
        }
    }
}

/*
 * Standard read of n sectors of chunk from sec: status want_status, and
 * the data and metadata written with tag (tag 0: zeroes).
 */
static void rd_expect(QOcssd *o, uint64_t chunk, uint32_t sec, unsigned n,
                      uint8_t tag, uint16_t want_status)
{
    g_autofree uint64_t *l = lba_run(o, chunk, sec, n);
    g_autofree uint8_t *d = g_malloc((size_t)n * o->sec_size);
    g_autofree uint8_t *m = g_malloc((size_t)n * o->md_size + 1);
    g_autofree uint8_t *wd = NULL, *wm = NULL;
    unsigned i;

    g_assert_cmphex(qocssd_read(o, 1, l[0], n, d, m, 0), ==, want_status);
    patterns(o, l, n, tag, &wd, &wm);
    if (!tag) {
        memset(wd, 0, (size_t)n * o->sec_size);
        memset(wm, 0, (size_t)n * o->md_size);
    }
    for (i = 0; i < n; i++) {
        expect_bytes(d + (size_t)i * o->sec_size,
                     wd + (size_t)i * o->sec_size, o->sec_size, l[i], "data");
        expect_bytes(m + (size_t)i * o->md_size, wm + (size_t)i * o->md_size,
                     o->md_size, l[i], "metadata");
    }
}

static uint16_t rd_status(QOcssd *o, uint64_t chunk, uint32_t sec,
                          unsigned n)
{
    g_autofree uint8_t *d = g_malloc((size_t)n * o->sec_size);

    return qocssd_read(o, 1, qocssd_chunk_slba(o, chunk) + sec, n, d, NULL,
                       0);
}

static void rd_check(QOcssd *o, uint64_t chunk, uint32_t sec, unsigned n,
                     uint8_t tag)
{
    rd_expect(o, chunk, sec, n, tag, 0);
}

static uint16_t vreset(QOcssd *o, uint64_t chunk)
{
    uint64_t l = qocssd_chunk_slba(o, chunk);

    return qocssd_vreset(o, 1, &l, 1, NULL, NULL);
}

static uint16_t dsm_reset(QOcssd *o, uint64_t chunk)
{
    uint64_t slba = qocssd_chunk_slba(o, chunk);
    uint32_t nlb = CLBA;

    return qocssd_dsm(o, 1, &slba, &nlb, 1);
}

/* A chunk as the Chunk Information log or the image's table shows it. */
typedef struct ChunkWant {
    uint64_t    chunk;
    uint8_t     cs;
    uint64_t    wp;
    uint8_t     wli;
} ChunkWant;

/* What want says of chunk; chunks it does not list are new and free. */
static ChunkWant chunk_want(const ChunkWant *want, unsigned n, uint64_t chunk)
{
    ChunkWant w = { chunk, OCSSD_CHUNK_FREE, 0, 0 };
    unsigned i;

    for (i = 0; i < n; i++) {
        if (want[i].chunk == chunk) {
            w = want[i];
        }
    }
    return w;
}

static void expect_chunk_fields(const char *where, const ChunkWant *w,
                                uint8_t cs, uint64_t wp, uint8_t wli)
{
    if (cs != w->cs || wp != w->wp || wli != w->wli) {
        g_error("%s: chunk %" PRIu64 " state 0x%x wp %" PRIu64 " wli %u, "
                "expected state 0x%x wp %" PRIu64 " wli %u", where, w->chunk,
                cs, wp, wli, w->cs, w->wp, w->wli);
    }
}

/* The device's chunk log holds exactly want (16-chunk geometry). */
static void expect_chunks(QOcssd *o, const ChunkWant *want, unsigned n)
{
    OcssdChunkDescriptor d[NCHUNK];
    uint64_t c;

    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_INFO, 1, 0, sizeof(d),
                                   false, d), ==, 0);
    for (c = 0; c < NCHUNK; c++) {
        ChunkWant w = chunk_want(want, n, c);

        expect_chunk_fields("chunk log", &w, d[c].cs, le64_to_cpu(d[c].wp),
                            d[c].wli);
        g_assert_cmphex(d[c].ct, ==, OCSSD_CHUNK_TYPE_SEQUENTIAL);
        g_assert_cmphex(le64_to_cpu(d[c].slba), ==, qocssd_chunk_slba(o, c));
        g_assert_cmpuint(le64_to_cpu(d[c].cnlb), ==, CLBA);
    }
}

/* The image file's chunk table holds exactly want, every entry sealed. */
static void expect_image_chunks(const char *img, const ChunkWant *want,
                                unsigned n)
{
    uint64_t c;

    for (c = 0; c < NCHUNK; c++) {
        ChunkWant w = chunk_want(want, n, c);
        OcssdImageChunk e;

        img_entry(img, c, &e);
        g_assert_cmphex(le32_to_cpu(e.crc), ==, entry_crc(&e));
        expect_chunk_fields("image table", &w, e.state, le64_to_cpu(e.wp),
                            e.wli);
        g_assert_cmpuint(le32_to_cpu(e.erase_count), ==, w.wli);
        g_assert_cmpuint(le64_to_cpu(e.cnlb), ==, CLBA);
    }
}

static void smart_log(QOcssd *o, NvmeSmartLog *s)
{
    g_assert_cmphex(qocssd_get_log(o, NVME_LOG_SMART_INFO, 0xffffffff, 0,
                                   sizeof(*s), false, s), ==, 0);
}

static void expect_smart(QOcssd *o, uint64_t power_cycles,
                         uint64_t unsafe_shutdowns)
{
    NvmeSmartLog s;

    smart_log(o, &s);
    g_assert_cmpuint(le64_to_cpu(s.power_cycles[0]), ==, power_cycles);
    g_assert_cmpuint(le64_to_cpu(s.unsafe_shutdowns[0]), ==,
                     unsafe_shutdowns);
}

/* CC.SHN (normal shutdown) and wait for CSTS.SHST "complete". */
static void shutdown_notify(QOcssd *o)
{
    uint32_t cc = qocssd_readl(o, NVME_REG_CC);

    NVME_SET_CC_SHN(cc, 1);
    qocssd_writel(o, NVME_REG_CC, cc);
    qocssd_wait_csts(o, CSTS_SHST_MASK << CSTS_SHST_SHIFT,
                     NVME_CSTS_SHST_COMPLETE);
}

static void inject(QOcssd *o, const char *prop, uint64_t lba)
{
    qtest_qmp_assert_success(o->qts, "{'execute': 'qom-set', 'arguments': "
                             "{'path': '/machine/peripheral/oc', "
                             "'property': %s, 'value': %" PRIu64 "}}",
                             prop, lba);
}

/*
 * The AER submitted before completed with a chunk notification event;
 * the D0h log holds nentries entries, one of them about lba with state
 * and mask.  Reading the log (RAE clear) empties it and rearms the event.
 */
static void expect_notification(QOcssd *o, uint64_t lba, uint16_t state,
                                uint8_t mask, unsigned nentries)
{
    OcssdChunkNotification log[OCSSD_NOTIFY_LOG_ENTRIES];
    unsigned i, found = 0;

    qocssd_aer_expect(o, NVME_AER_TYPE_VENDOR_SPECIFIC,
                      OCSSD_AER_INFO_CHUNK_NOTIFICATION,
                      OCSSD_LOG_CHUNK_NOTIFICATION);
    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 0,
                                   sizeof(log), false, log), ==, 0);
    for (i = 0; i < OCSSD_NOTIFY_LOG_ENTRIES && log[i].nc; i++) {
        g_assert_cmpuint(le32_to_cpu(log[i].nsid), ==, 1);
        if (le64_to_cpu(log[i].lba) == lba &&
            le16_to_cpu(log[i].state) == state && log[i].mask == mask) {
            found++;
        }
    }
    g_assert_cmpuint(i, ==, nentries);
    if (!found) {
        g_error("no notification about LBA 0x%" PRIx64 " state 0x%x mask "
                "0x%x", lba, state, mask);
    }
}

/* ---- restart ------------------------------------------------------------- */

/*
 * Data, metadata and the chunk log survive CC.SHN and a restart; the
 * restarted device takes its geometry from the image alone.
 */
static void test_restart(void)
{
    char *img = qocssd_tmp_image();
    QOcssd *o = boot(img, GEO ",md_size=8,mw_cunits=8,wit=7,early_reset=on");
    const ChunkWant want[] = {
        { 1, OCSSD_CHUNK_OPEN, 16, 0 },
        { 2, OCSSD_CHUNK_CLOSED, CLBA, 0 },
        { 4, OCSSD_CHUNK_OPEN, 8, 1 },
        { 7, OCSSD_CHUNK_FREE, 0, 1 },
        { 10, OCSSD_CHUNK_OPEN, 4, 0 },
        { 11, OCSSD_CHUNK_OPEN, 8, 0 },
    };
    g_autofree uint64_t *vl = NULL, *l11 = NULL;
    NvmeIdCtrl id;
    char serial[sizeof(id.sn)];
    uint64_t bm;

    g_assert_cmpuint(o->md_size, ==, 8);
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_CTRL, 0, &id), ==, 0);
    memcpy(serial, id.sn, sizeof(serial));
    g_assert_cmphex(wr(o, 1, 0, 16, 1, 0), ==, 0);
    g_assert_cmphex(wr(o, 2, 0, CLBA, 2, 0), ==, 0);        /* closed */
    g_assert_cmphex(wr(o, 4, 0, CLBA, 3, 0), ==, 0);
    g_assert_cmphex(vreset(o, 4), ==, 0);                   /* reset */
    g_assert_cmphex(wr(o, 4, 0, 8, 4, 0), ==, 0);           /* reused */
    g_assert_cmphex(wr(o, 7, 0, 32, 5, 0), ==, 0);
    g_assert_cmphex(vreset(o, 7), ==, 0);                   /* early reset */
    vl = lba_run(o, 10, 0, 12);
    l11 = lba_run(o, 11, 0, 8);
    memcpy(vl + 4, l11, 8 * sizeof(*vl));
    g_assert_cmphex(vwr(o, vl, 12, 6, 0, &bm), ==, 0);
    expect_chunks(o, want, ARRAY_SIZE(want));

    /*
     * After the shutdown notification the image holds all of it and is
     * clean; enabling the controller again marks it in use before
     * CSTS.RDY, and the next shutdown notification clean again.
     */
    shutdown_notify(o);
    expect_image_chunks(img, want, ARRAY_SIZE(want));
    expect_header(img, false, 1, 0);
    qocssd_disable(o);
    qocssd_start_io(o);
    expect_header(img, true, 1, 0);
    shutdown_notify(o);
    expect_header(img, false, 1, 0);
    qocssd_shutdown(o);
    expect_header(img, false, 1, 0);

    /* No media options: the image has them. */
    o = boot(img, "");
    g_assert_cmpuint(le16_to_cpu(o->geo.num_grp), ==, 2);
    g_assert_cmpuint(le16_to_cpu(o->geo.num_pu), ==, 2);
    g_assert_cmpuint(le32_to_cpu(o->geo.num_chk), ==, 4);
    g_assert_cmpuint(le32_to_cpu(o->geo.clba), ==, CLBA);
    g_assert_cmpuint(le32_to_cpu(o->geo.mw_cunits), ==, 8);
    g_assert_cmpuint(o->geo.wit, ==, 7);
    g_assert_cmphex(le32_to_cpu(o->geo.mccap), ==,
                    OCSSD_MCCAP_VECTOR_COPY | OCSSD_MCCAP_EARLY_RESET);
    g_assert_cmpuint(o->sec_size, ==, 4096);
    g_assert_cmpuint(o->md_size, ==, 8);
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_CTRL, 0, &id), ==, 0);
    g_assert(!memcmp(id.sn, serial, sizeof(serial)));
    expect_chunks(o, want, ARRAY_SIZE(want));
    rd_check(o, 1, 0, 16, 1);       /* all below WP, the window too */
    rd_check(o, 2, 0, CLBA, 2);
    rd_check(o, 4, 0, 8, 4);
    rd_expect(o, 4, 8, 8, 0, 0);    /* the old generation is gone */
    rd_expect(o, 7, 0, 32, 0, 0);
    rd_check(o, 10, 0, 4, 6);
    rd_check(o, 11, 0, 8, 6);
    expect_smart(o, 2, 0);
    /* The write pointers go on from where they were. */
    g_assert_cmphex(wr(o, 1, 16, 8, 7, 0), ==, 0);
    g_assert_cmphex(wr(o, 1, 16, 8, 7, 0), ==,
                    OCSSD_OUT_OF_ORDER_WRITE | NVME_DNR);
    g_assert_cmphex(wr(o, 2, 0, 4, 7, 0), ==, WF);
    finish(o);
    expect_header(img, false, 2, 0);
    drop_image(img);
}

/*
 * Media properties that contradict an existing image fail realize with
 * both values named; the image, clean or left dirty by a crash, is not
 * touched.  Properties that agree are fine.
 */
static void test_contradicting_props(void)
{
    static const struct {
        const char *opt;
        const char *have;
    } cases[] = {
        { "num_grp=1", "num_grp=2" },
        { "num_pu=4", "num_pu=2" },
        { "num_chk=8", "num_chk=4" },
        { "clba=128", "clba=64" },
        { "sec_size=512", "sec_size=4096" },
        { "md_size=16", "md_size=8" },
        { "ws_min=8", "ws_min=4" },
        { "mw_cunits=0", "mw_cunits=24" },
        { "wit=3", "wit=10" },
        { "early_reset=off", "early_reset=on" },
        { "vector_copy=off", "vector_copy=on" },
        { "multiple_resets=on", "multiple_resets=off" },
    };
    char *img = qocssd_tmp_image();
    OcssdImageHeader h;
    unsigned i, dirty;

    run_ok(img, "", GEO ",md_size=8,early_reset=on");
    for (dirty = 0; dirty < 2; dirty++) {
        if (dirty) {
            /* As a kill -9 leaves it. */
            img_header(img, &h);
            h.flags = cpu_to_le32(OCSSD_IMAGE_FLAG_DIRTY);
            img_put_header(img, &h, true);
        }
        for (i = 0; i < ARRAY_SIZE(cases); i++) {
            const char *needles[] = { cases[i].opt, cases[i].have,
                                      "contradicts the image", NULL };

            expect_refused(img, "", cases[i].opt, needles);
        }
    }
    run_ok(img, "", GEO ",md_size=8,early_reset=on,vector_copy=on");
    expect_header(img, false, 2, 1);
    drop_image(img);
}

/* ---- crash consistency ----------------------------------------------- */

/*
 * What a Flush covered and what a reset did survive kill -9; the image is
 * clean to ocssd-img check and counts the unsafe shutdown.
 */
static void test_crash_flush(void)
{
    char *img, *pidfile;
    QOcssd *o = boot_new_killable(&img, &pidfile);
    const ChunkWant want[] = {
        { 1, OCSSD_CHUNK_OPEN, 8, 0 },
        { 3, OCSSD_CHUNK_CLOSED, CLBA, 0 },
        { 5, OCSSD_CHUNK_FREE, 0, 1 },
        { 6, OCSSD_CHUNK_CLOSED, CLBA, 1 },
    };
    const char *dirty_note[] = { "0 damaged: no errors",
                                 "not closed cleanly", NULL };
    const char *clean[] = { "0 damaged: no errors", NULL };
    OcssdChunkDescriptor d;
    uint64_t wp;

    g_assert_cmphex(wr(o, 1, 0, 8, 1, 0), ==, 0);
    g_assert_cmphex(wr(o, 3, 0, CLBA, 2, 0), ==, 0);
    g_assert_cmphex(wr(o, 5, 0, CLBA, 3, 0), ==, 0);
    g_assert_cmphex(wr(o, 6, 0, CLBA, 3, 0), ==, 0);
    g_assert_cmphex(vreset(o, 6), ==, 0);
    g_assert_cmphex(wr(o, 6, 0, CLBA, 4, 0), ==, 0);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    g_assert_cmphex(vreset(o, 5), ==, 0);       /* durable on completion */
    /* Not flushed: may or may not survive, but never half. */
    g_assert_cmphex(wr(o, 1, 8, 8, 5, 0), ==, 0);
    crash(o, pidfile);

    expect_header(img, true, 1, 0);
    tool_check(img, 0, dirty_note);

    o = boot(img, "");
    g_assert_cmphex(qocssd_chunk_info(o, 1, &d), ==, 0);
    wp = le64_to_cpu(d.wp);
    g_assert_cmphex(d.cs, ==, OCSSD_CHUNK_OPEN);
    g_assert_true(wp == 8 || wp == 16);
    {
        ChunkWant now[ARRAY_SIZE(want)];

        memcpy(now, want, sizeof(want));
        now[0].wp = wp;
        expect_chunks(o, now, ARRAY_SIZE(now));
    }
    rd_check(o, 1, 0, 8, 1);
    if (wp == 16) {
        rd_check(o, 1, 8, 8, 5);
    }
    rd_check(o, 3, 0, CLBA, 2);
    rd_expect(o, 5, 0, CLBA, 0, 0);
    rd_check(o, 6, 0, CLBA, 4);
    expect_smart(o, 2, 1);
    expect_header(img, true, 2, 1);
    finish(o);
    expect_header(img, false, 2, 1);
    tool_check(img, 0, clean);
    drop_image(img);
}

/* FUA writes (standard and vector) survive kill -9, chunk states too. */
static void test_crash_fua(void)
{
    char *img = qocssd_tmp_image(), *pidfile;
    QOcssd *o = boot_killable(img, "format=raw", GEO, &pidfile);
    const ChunkWant want[] = {
        { 2, OCSSD_CHUNK_CLOSED, CLBA, 0 },
        { 9, OCSSD_CHUNK_OPEN, 4, 0 },
        { 12, OCSSD_CHUNK_CLOSED, CLBA, 0 },
        { 14, OCSSD_CHUNK_OPEN, 8, 0 },
    };
    const char *dirty_note[] = { "0 damaged: no errors",
                                 "not closed cleanly", NULL };
    g_autofree uint64_t *vl = NULL, *l14 = NULL;
    uint64_t bm;

    g_assert_cmphex(wr(o, 2, 0, CLBA, 1, NVME_RW_FUA), ==, 0);
    g_assert_cmphex(wr(o, 12, 0, 32, 2, 0), ==, 0);
    g_assert_cmphex(wr(o, 12, 32, 32, 2, NVME_RW_FUA), ==, 0);
    vl = lba_run(o, 9, 0, 12);
    l14 = lba_run(o, 14, 0, 8);
    memcpy(vl + 4, l14, 8 * sizeof(*vl));
    g_assert_cmphex(vwr(o, vl, 12, 3, OCSSD_VECTOR_FUA, &bm), ==, 0);
    g_assert_cmphex(bm, ==, 0);
    crash(o, pidfile);

    expect_image_chunks(img, want, ARRAY_SIZE(want));
    tool_check(img, 0, dirty_note);
    o = boot(img, "");
    expect_chunks(o, want, ARRAY_SIZE(want));
    rd_check(o, 2, 0, CLBA, 1);
    rd_check(o, 12, 0, CLBA, 2);
    rd_check(o, 9, 0, 4, 3);
    rd_check(o, 14, 0, 8, 3);
    expect_smart(o, 2, 1);
    finish(o);
    drop_image(img);
}

/*
 * Unflushed writes, then a VM stop or a completed shutdown notification:
 * the image holds everything, so kill -9 then loses nothing.  Either has
 * left the image clean too (no unsafe shutdown).
 */
static void crash_after(bool stop)
{
    char *img, *pidfile;
    QOcssd *o = boot_new_killable(&img, &pidfile);
    const ChunkWant want[] = {
        { 1, OCSSD_CHUNK_OPEN, 24, 0 },
        { 8, OCSSD_CHUNK_CLOSED, CLBA, 0 },
    };

    g_assert_cmphex(wr(o, 1, 0, 24, 1, 0), ==, 0);
    g_assert_cmphex(wr(o, 8, 0, CLBA, 2, 0), ==, 0);
    if (stop) {
        qtest_qmp_assert_success(o->qts, "{'execute': 'stop'}");
    } else {
        shutdown_notify(o);
    }
    expect_header(img, false, 1, 0);
    expect_image_chunks(img, want, ARRAY_SIZE(want));
    crash(o, pidfile);

    o = boot(img, "");
    expect_chunks(o, want, ARRAY_SIZE(want));
    rd_check(o, 1, 0, 24, 1);
    rd_check(o, 8, 0, CLBA, 2);
    expect_smart(o, 2, 0);
    finish(o);
    drop_image(img);
}

static void test_crash_after_stop(void)
{
    crash_after(true);
}

static void test_crash_after_shutdown(void)
{
    crash_after(false);
}

/*
 * Put n commands in I/O queue 1 and ring its doorbell once, so that the
 * device takes them in one go; wait for their n completions (in any
 * order) and return each command's status.
 */
static void submit_batch(QOcssd *o, NvmeCmd *cmds, unsigned n,
                         uint16_t *status)
{
    uint16_t first = o->next_cid + 1;
    unsigned i, done;

    g_assert_cmpuint(n, <, o->sq[1].size);
    for (i = 0; i < n; i++) {
        qocssd_enqueue(o, 1, &cmds[i]);
    }
    qocssd_ring_sq(o, 1, o->sq[1].tail);
    for (done = 0; done < n; done++) {
        NvmeCqe cqe;
        uint16_t cid;

        qocssd_wait(o, 1, &cqe);
        cid = le16_to_cpu(cqe.cid);
        g_assert_cmpuint((uint16_t)(cid - first), <, n);
        status[(uint16_t)(cid - first)] = qocssd_cqe_status(&cqe);
    }
}

/* A standard write command of chunk's sectors [sec, sec + n), tagged. */
static void write_cmd(QOcssd *o, NvmeCmd *cmd, uint64_t chunk, uint32_t sec,
                      unsigned n, uint8_t tag)
{
    g_autofree uint64_t *l = lba_run(o, chunk, sec, n);
    g_autofree uint8_t *d = NULL, *m = NULL;
    NvmeRwCmd *rw = (NvmeRwCmd *)cmd;
    uint64_t daddr = qocssd_alloc(o, (size_t)n * o->sec_size);
    uint64_t maddr = qocssd_alloc(o, (size_t)n * o->md_size);

    patterns(o, l, n, tag, &d, &m);
    qocssd_memwrite(o, daddr, d, (size_t)n * o->sec_size);
    qocssd_memwrite(o, maddr, m, (size_t)n * o->md_size);
    memset(cmd, 0, sizeof(*cmd));
    rw->opcode = NVME_CMD_WRITE;
    rw->nsid = cpu_to_le32(1);
    rw->slba = cpu_to_le64(l[0]);
    rw->nlb = cpu_to_le16(n - 1);
    qocssd_set_prp(o, cmd, daddr, (size_t)n * o->sec_size);
    cmd->mptr = cpu_to_le64(maddr);
}

/*
 * The device on img through blkdebug, with more -drive options (",file.*"
 * ones are blkdebug's, or ""); hmp_qemu_io sets its breakpoints.
 */
static QOcssd *boot_blkdebug(const char *img, const char *blkdebug_opts)
{
    QOcssd *o = qocssd_boot_cmdline("-machine q35 -drive if=none,id=oc0,"
                                    "file.driver=blkdebug,"
                                    "file.image.filename=%s%s,driver=raw "
                                    "-device ocssd,drive=oc0,addr=04.0,"
                                    "id=oc," GEO ",mw_cunits=0", img,
                                    blkdebug_opts);

    qocssd_start_io(o);
    return o;
}

static void hmp_qemu_io(QOcssd *o, const char *cmd)
{
    g_free(qtest_hmp(o->qts, "qemu-io oc0 \"%s\"", cmd));
}

/*
 * A shutdown notification withdrawn (CC.SHN back to 0) while its flush is
 * held, a write, and a new notification: the first one's flush finishing
 * must not report the second complete while the write is still on its
 * way (blkdebug breakpoints hold the flush and the write).
 */
static void test_shutdown_superseded(void)
{
    char *img = qocssd_tmp_image();
    QOcssd *o = boot_blkdebug(img, "");
    const ChunkWant want[] = { { 1, OCSSD_CHUNK_OPEN, 16, 0 } };
    NvmeCmd cmd;
    NvmeCqe cqe;
    uint32_t cc;
    unsigned i;

    hmp_qemu_io(o, "break flush_to_os first");
    cc = qocssd_readl(o, NVME_REG_CC);
    qocssd_writel(o, NVME_REG_CC, cc | 1 << CC_SHN_SHIFT);
    qocssd_writel(o, NVME_REG_CC, cc);
    hmp_qemu_io(o, "break write_aio data");
    write_cmd(o, &cmd, 1, 0, 16, 1);
    qocssd_submit(o, 1, &cmd);
    qocssd_writel(o, NVME_REG_CC, cc | 1 << CC_SHN_SHIFT);
    hmp_qemu_io(o, "resume first");
    /*
     * However long the first flush's completion takes to run, the second
     * notification stays in progress while the write is held.
     */
    for (i = 0; i < 20000; i++) {
        g_assert_cmphex(NVME_CSTS_SHST(qocssd_readl(o, NVME_REG_CSTS)), ==,
                        1);
    }
    g_assert_false(qocssd_peek(o, 1, &cqe));
    hmp_qemu_io(o, "resume data");
    qocssd_wait(o, 1, &cqe);
    g_assert_cmphex(qocssd_cqe_status(&cqe), ==, 0);
    qocssd_wait_csts(o, CSTS_SHST_MASK << CSTS_SHST_SHIFT,
                     NVME_CSTS_SHST_COMPLETE);
    expect_image_chunks(img, want, ARRAY_SIZE(want));
    expect_header(img, false, 1, 0);
    qocssd_shutdown(o);
    drop_image(img);
}

/*
 * A Flush taken in one go with writes accepted after it: the chunk table
 * it writes pairs each chunk's durable write pointer with the state the
 * chunk had at that write pointer, never with the state writes still in
 * flight will give it.  After kill -9 each chunk is either as the Flush
 * left it or as the later writes did: never closed (or open) early.
 */
static void test_crash_flush_in_flight(void)
{
    static const struct {
        uint64_t chunk;
        uint32_t flushed;       /* WP the Flush covers */
    } chunks[] = { { 2, 4 }, { 3, 0 }, { 9, 8 } };
    unsigned round;

    for (round = 0; round < 8; round++) {
        char *img, *pidfile;
        QOcssd *o = boot_new_killable(&img, &pidfile);
        NvmeCmd cmds[7];
        uint16_t status[7];
        unsigned i, n = 0;

        /* Before the Flush: chunk 2 to 4, chunk 9 to 8. */
        write_cmd(o, &cmds[n++], 2, 0, 4, 1);
        write_cmd(o, &cmds[n++], 9, 0, 8, 1);
        memset(&cmds[n], 0, sizeof(cmds[n]));
        cmds[n].opcode = NVME_CMD_FLUSH;
        cmds[n++].nsid = cpu_to_le32(1);
        /* After it: all three to the end (closed). */
        write_cmd(o, &cmds[n++], 2, 4, CLBA - 4, 2);
        write_cmd(o, &cmds[n++], 3, 0, CLBA, 2);
        write_cmd(o, &cmds[n++], 9, 8, CLBA - 8, 2);
        submit_batch(o, cmds, n, status);
        for (i = 0; i < n; i++) {
            g_assert_cmphex(status[i], ==, 0);
        }
        crash(o, pidfile);

        for (i = 0; i < ARRAY_SIZE(chunks); i++) {
            OcssdImageChunk e;
            uint64_t wp;

            img_entry(img, chunks[i].chunk, &e);
            wp = le64_to_cpu(e.wp);
            if (wp == chunks[i].flushed) {
                g_assert_cmphex(e.state, ==, wp ? OCSSD_CHUNK_OPEN :
                                OCSSD_CHUNK_FREE);
            } else {
                g_assert_cmpuint(wp, ==, CLBA);
                g_assert_cmphex(e.state, ==, OCSSD_CHUNK_CLOSED);
            }
        }
        o = boot(img, "");
        rd_check(o, 2, 0, 4, 1);
        rd_check(o, 9, 0, 8, 1);
        finish(o);
        drop_image(img);
    }
}

/* The PIIX ACPI PCI hotplug eject register (bus 0, a bit per slot). */
#define PIIX_PCIHP_EJECT    0xae08

/*
 * Unplug writes everything and leaves the image clean: kill -9 after it
 * loses nothing and is no unsafe shutdown (pc machine: ACPI hotplug).
 */
static void test_unplug(void)
{
    char *img = qocssd_tmp_image();
    char *pidfile = side_file(img, "pid", NULL);
    const ChunkWant want[] = {
        { 5, OCSSD_CHUNK_OPEN, 12, 0 },
        { 6, OCSSD_CHUNK_CLOSED, CLBA, 0 },
    };
    QOcssd *o = qocssd_boot_cmdline("-machine pc -pidfile %s -drive "
                                    "if=none,id=oc0,file=%s,format=raw "
                                    "-device ocssd,drive=oc0,addr=04.0,"
                                    "id=oc," GEO ",mw_cunits=0", pidfile,
                                    img);

    qocssd_start_io(o);
    g_assert_cmphex(wr(o, 5, 0, 12, 1, 0), ==, 0);
    g_assert_cmphex(wr(o, 6, 0, CLBA, 2, 0), ==, 0);
    expect_header(img, true, 1, 0);
    /*
     * device_del answered before the eject, so that the eject finds the
     * request; the eject unrealizes the device before it returns, and
     * DEVICE_DELETED comes once the object (and its hold on the drive) is
     * gone.
     */
    qtest_qmp_assert_success(o->qts, "{'execute': 'device_del', "
                             "'arguments': {'id': 'oc'}}");
    qtest_outl(o->qts, PIIX_PCIHP_EJECT, 1 << 4);
    qtest_qmp_eventwait(o->qts, "DEVICE_DELETED");
    expect_header(img, false, 1, 0);
    expect_image_chunks(img, want, ARRAY_SIZE(want));
    o->mapped = false;
    crash(o, pidfile);

    o = boot(img, "");
    expect_chunks(o, want, ARRAY_SIZE(want));
    rd_check(o, 5, 0, 12, 1);
    rd_check(o, 6, 0, CLBA, 2);
    expect_smart(o, 2, 0);
    finish(o);
    drop_image(img);
}

/* A Vector Chunk Reset command of one chunk (the LBA inline). */
static void reset_cmd(QOcssd *o, NvmeCmd *cmd, uint64_t chunk)
{
    OcssdVectorCmd *v = (OcssdVectorCmd *)cmd;

    memset(cmd, 0, sizeof(*cmd));
    v->opcode = OCSSD_CMD_VECT_RESET;
    v->nsid = cpu_to_le32(1);
    v->lbal = cpu_to_le64(qocssd_chunk_slba(o, chunk));
}

/*
 * The backing store refuses a write (blkdebug: EIO on the chunk's data):
 * the write fails with Write Fault, and the chunk, whose write pointer
 * had moved past data that is not there, goes offline with a
 * notification; so it stays after a restart.
 */
static void test_write_error(void)
{
    char *img = qocssd_tmp_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    const ChunkWant want[] = {
        { 1, OCSSD_CHUNK_OFFLINE, 16, 0 },
        { 2, OCSSD_CHUNK_OPEN, 8, 0 },
    };
    OcssdImageHeader h;
    g_autofree char *eio = NULL;

    qocssd_shutdown(o);
    img_header(img, &h);
    eio = g_strdup_printf(",file.inject-error.0.event=write_aio,"
                          "file.inject-error.0.sector=%" PRIu64 ","
                          "file.inject-error.0.errno=5,"
                          "file.inject-error.0.once=on",
                          (le64_to_cpu(h.data_offset) + 1 * CLBA * 4096) /
                          512);
    o = boot_blkdebug(img, eio);
    qocssd_aer_submit(o);
    g_assert_cmphex(wr(o, 1, 0, 16, 1, 0), ==, NVME_WRITE_FAULT | NVME_DNR);
    expect_notification(o, qocssd_chunk_slba(o, 1),
                        OCSSD_NOTIFY_ERR_UNRECOVERABLE,
                        OCSSD_NOTIFY_MASK_CHUNK, 1);
    g_assert_cmphex(qocssd_read(o, 1, qocssd_chunk_slba(o, 1), 16, NULL,
                                NULL, 0), ==, OCSSD_OFFLINE_CHUNK | NVME_DNR);
    /* Other chunks go on working. */
    g_assert_cmphex(wr(o, 2, 0, 8, 2, 0), ==, 0);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    expect_chunks(o, want, ARRAY_SIZE(want));
    qocssd_shutdown(o);

    o = boot(img, "");
    expect_chunks(o, want, ARRAY_SIZE(want));
    rd_check(o, 2, 0, 8, 2);
    finish(o);
    drop_image(img);
}

/*
 * A reset completes only once its chunk table entry is on stable storage,
 * with the volatile write cache on (the default) too: while the image's
 * flush is held (blkdebug), the reset stays in flight.
 */
static void test_reset_durable(void)
{
    char *img = qocssd_tmp_image();
    QOcssd *o = boot_blkdebug(img, "");
    const ChunkWant want[] = { { 3, OCSSD_CHUNK_FREE, 0, 1 } };
    uint32_t vwc;
    NvmeCmd cmd;
    NvmeCqe cqe;
    unsigned i;

    g_assert_cmphex(qocssd_get_features(o, NVME_VOLATILE_WRITE_CACHE, 0, 0,
                                        &vwc), ==, 0);
    g_assert_cmpuint(vwc, ==, 1);
    g_assert_cmphex(wr(o, 3, 0, CLBA, 1, 0), ==, 0);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    hmp_qemu_io(o, "break flush_to_os reset");
    reset_cmd(o, &cmd, 3);
    qocssd_submit(o, 1, &cmd);
    for (i = 0; i < 20000; i++) {
        g_assert_false(qocssd_peek(o, 1, &cqe));
    }
    hmp_qemu_io(o, "resume reset");
    qocssd_wait(o, 1, &cqe);
    g_assert_cmphex(qocssd_cqe_status(&cqe), ==, 0);
    expect_image_chunks(img, want, ARRAY_SIZE(want));
    qocssd_shutdown(o);
    drop_image(img);
}

/*
 * A write, a reset of its chunk and a new write at the start of the chunk
 * taken in one go: the chunk holds the new write's data, never the data
 * of the generation the reset discarded, however the block layer orders
 * the two writes.
 */
static void test_reset_in_flight(void)
{
    char *img = qocssd_tmp_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    unsigned round;

    for (round = 0; round < 16; round++) {
        uint64_t chunk = round % NCHUNK;
        NvmeCmd cmds[3];
        uint16_t status[3];

        write_cmd(o, &cmds[0], chunk, 0, CLBA, 1);
        reset_cmd(o, &cmds[1], chunk);
        write_cmd(o, &cmds[2], chunk, 0, 8, 2);
        submit_batch(o, cmds, 3, status);
        g_assert_cmphex(status[0], ==, 0);
        g_assert_cmphex(status[1], ==, 0);
        g_assert_cmphex(status[2], ==, 0);
        rd_check(o, chunk, 0, 8, 2);
    }
    finish(o);
    drop_image(img);
}

/* ---- backend failures (blkdebug) --------------------------------------- */

/* boot_blkdebug with a pid file, so that crash() can kill -9 it. */
static QOcssd *boot_blkdebug_killable(const char *img,
                                      const char *blkdebug_opts,
                                      char **pidfile)
{
    QOcssd *o;

    *pidfile = side_file(img, "pid", NULL);
    o = qocssd_boot_cmdline("-machine q35 -pidfile %s -drive if=none,"
                            "id=oc0,file.driver=blkdebug,"
                            "file.image.filename=%s%s,driver=raw "
                            "-device ocssd,drive=oc0,addr=04.0,id=oc," GEO
                            ",mw_cunits=0", *pidfile, img, blkdebug_opts);
    qocssd_start_io(o);
    return o;
}

/*
 * blkdebug rules failing I/O of iotype (with EIO) inside a window that the
 * test opens and closes with window_toggle(): every read of the image
 * moves blkdebug's state on by one.  An event in state 4 arms the error
 * (blkdebug keeps it armed until a later event arms another rule), one in
 * state 5 arms a rule that matches nothing instead.  Opening an image
 * reads it twice (header, chunk table: states 1 -> 3), each toggle reads
 * its first sector through qemu-io (3 -> 4 opens the window, 4 -> 5
 * closes it).  The device's own reads would move the state too, so a
 * test reads nothing through the device before it closes the window.
 * match is more of the rule (",file.inject-error.0.sector=N") or "".
 */
static char *window_rules(const char *event, const char *iotype,
                          const char *match)
{
    GString *s = g_string_new("");
    unsigned i;

    for (i = 0; i < 4; i++) {
        g_string_append_printf(s, ",file.set-state.%u.event=read_aio,"
                               "file.set-state.%u.state=%u,"
                               "file.set-state.%u.new_state=%u", i, i, i + 1,
                               i, i + 2);
    }
    g_string_append_printf(s, ",file.inject-error.0.event=%s,"
                           "file.inject-error.0.state=4,"
                           "file.inject-error.0.iotype=%s,"
                           "file.inject-error.0.errno=5%s"
                           ",file.inject-error.1.event=%s,"
                           "file.inject-error.1.state=5,"
                           "file.inject-error.1.iotype=block-status,"
                           "file.inject-error.1.sector=%llu", event, iotype,
                           match, event, 1ULL << 40);
    return g_string_free(s, false);
}

static void window_toggle(QOcssd *o)
{
    hmp_qemu_io(o, "read 0 512");
}

/* The image's table block holding chunk, in 512-byte sectors. */
static uint64_t table_sector(const char *img, uint64_t chunk)
{
    return img_entry_offset(img, chunk) / 512;
}

/* A new image, formatted (and shut down cleanly: power cycle 1). */
static char *formatted_image(void)
{
    char *img = qocssd_tmp_image();

    qocssd_shutdown(boot(img, GEO ",mw_cunits=0"));
    return img;
}

/*
 * A chunk table write the image refuses (transient): the Flush that needed
 * it fails, without DNR, and the table block stays to be written, so the
 * next Flush writes it; after a kill -9 the chunk is as that Flush left it.
 */
static void test_table_write_error(void)
{
    char *img = formatted_image(), *pidfile;
    g_autofree char *match = g_strdup_printf(",file.inject-error.0.sector="
                                             "%" PRIu64, table_sector(img, 1));
    g_autofree char *rules = window_rules("write_aio", "write", match);
    const ChunkWant want[] = { { 1, OCSSD_CHUNK_OPEN, 16, 0 } };
    QOcssd *o = boot_blkdebug_killable(img, rules, &pidfile);

    g_assert_cmphex(wr(o, 1, 0, 16, 1, 0), ==, 0);
    window_toggle(o);
    g_assert_cmphex(qocssd_flush(o, 1), ==, NVME_WRITE_FAULT);
    g_assert_cmphex(qocssd_flush(o, 1), ==, NVME_WRITE_FAULT);
    expect_image_chunks(img, NULL, 0);
    window_toggle(o);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    expect_image_chunks(img, want, ARRAY_SIZE(want));
    crash(o, pidfile);

    o = boot(img, "");
    expect_chunks(o, want, ARRAY_SIZE(want));
    rd_check(o, 1, 0, 16, 1);
    expect_smart(o, 3, 1);
    finish(o);
    drop_image(img);
}

/*
 * The table write that makes a reset durable fails: the image still holds
 * the chunk's old generation, so the reset fails (Offline Chunk) and the
 * chunk goes offline with a notification, in memory and, at the next
 * table write, on the image.  The same through Dataset Management.
 */
static void test_reset_table_error(void)
{
    char *img = formatted_image(), *pidfile;
    g_autofree char *match = g_strdup_printf(",file.inject-error.0.sector="
                                             "%" PRIu64, table_sector(img, 2));
    g_autofree char *rules = window_rules("write_aio", "write", match);
    const ChunkWant want[] = {
        { 2, OCSSD_CHUNK_OFFLINE, 0, 1 },
        { 3, OCSSD_CHUNK_OFFLINE, 0, 1 },
        { 4, OCSSD_CHUNK_FREE, 0, 1 },
    };
    QOcssd *o = boot_blkdebug_killable(img, rules, &pidfile);
    uint64_t bm, l[2];
    OcssdChunkDescriptor d[2];

    g_assert_cmphex(wr(o, 2, 0, CLBA, 1, 0), ==, 0);
    g_assert_cmphex(wr(o, 3, 0, CLBA, 1, 0), ==, 0);
    g_assert_cmphex(wr(o, 4, 0, CLBA, 1, 0), ==, 0);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    qocssd_aer_submit(o);
    window_toggle(o);
    /* The descriptors it returns show the chunk as the failure left it. */
    l[0] = qocssd_chunk_slba(o, 2);
    l[1] = (uint64_t)1 << 62;                   /* out of range */
    g_assert_cmphex(qocssd_vreset(o, 1, l, 2, d, &bm), ==, OFFL);
    g_assert_cmphex(bm, ==, 0x3);
    g_assert_cmphex(d[0].cs, ==, OCSSD_CHUNK_OFFLINE);
    expect_notification(o, qocssd_chunk_slba(o, 2),
                        OCSSD_NOTIFY_ERR_UNRECOVERABLE,
                        OCSSD_NOTIFY_MASK_CHUNK, 1);
    g_assert_cmphex(dsm_reset(o, 3), ==, OFFL);
    window_toggle(o);
    g_assert_cmphex(vreset(o, 4), ==, 0);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    expect_chunks(o, want, ARRAY_SIZE(want));
    expect_image_chunks(img, want, ARRAY_SIZE(want));
    crash(o, pidfile);

    o = boot(img, "");
    expect_chunks(o, want, ARRAY_SIZE(want));
    expect_smart(o, 3, 1);
    finish(o);
    drop_image(img);
}

/*
 * Flushes of the image fail for a while: a Flush fails without DNR and a
 * later one succeeds; a FUA write, which was to be durable at completion,
 * fails and takes its chunk offline (its write pointer had moved past
 * data that may not be on stable storage).  Writes before the window are
 * durable after the later Flush and a kill -9.
 */
static void test_flush_error(void)
{
    char *img = formatted_image(), *pidfile;
    g_autofree char *rules = window_rules("flush_to_disk", "flush", "");
    const ChunkWant want[] = {
        { 1, OCSSD_CHUNK_OPEN, 16, 0 },
        { 5, OCSSD_CHUNK_OFFLINE, 8, 0 },
        { 6, OCSSD_CHUNK_OPEN, 8, 0 },
    };
    QOcssd *o = boot_blkdebug_killable(img, rules, &pidfile);

    g_assert_cmphex(wr(o, 1, 0, 16, 1, 0), ==, 0);
    qocssd_aer_submit(o);
    window_toggle(o);
    g_assert_cmphex(qocssd_flush(o, 1), ==, NVME_WRITE_FAULT);
    g_assert_cmphex(wr(o, 5, 0, 8, 2, NVME_RW_FUA), ==, WF);
    expect_notification(o, qocssd_chunk_slba(o, 5),
                        OCSSD_NOTIFY_ERR_UNRECOVERABLE,
                        OCSSD_NOTIFY_MASK_CHUNK, 1);
    window_toggle(o);
    g_assert_cmphex(wr(o, 6, 0, 8, 3, NVME_RW_FUA), ==, 0);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    expect_chunks(o, want, ARRAY_SIZE(want));
    crash(o, pidfile);

    o = boot(img, "");
    expect_chunks(o, want, ARRAY_SIZE(want));
    rd_check(o, 1, 0, 16, 1);
    rd_check(o, 6, 0, 8, 3);
    expect_smart(o, 3, 1);
    finish(o);
    drop_image(img);
}

/*
 * The flush at VM stop fails: the image must stay marked in use, so that
 * the next start counts the unsafe shutdown (the table may not hold what
 * the guest was told is written).
 */
static void test_stop_flush_error(void)
{
    char *img = formatted_image(), *pidfile;
    g_autofree char *rules = window_rules("flush_to_disk", "flush", "");
    QOcssd *o = boot_blkdebug_killable(img, rules, &pidfile);

    g_assert_cmphex(wr(o, 1, 0, 16, 1, 0), ==, 0);
    expect_header(img, true, 2, 0);
    window_toggle(o);
    qtest_qmp_assert_success(o->qts, "{'execute': 'stop'}");
    expect_header(img, true, 2, 0);
    crash(o, pidfile);

    o = boot(img, "");
    expect_smart(o, 3, 1);
    finish(o);
    drop_image(img);
}

/*
 * Header writes the image refuses.  At a shutdown notification: CSTS.SHST
 * still completes (the host must be able to power off), the image stays
 * marked in use, and the next start counts an unsafe shutdown.  When the
 * controller is enabled (marking the image in use): controller fatal
 * status, since a crash would go uncounted; a reset and a new enable,
 * once the header can be written, bring it up.
 */
static void test_header_write_error(void)
{
    char *img = formatted_image(), *pidfile;
    g_autofree char *rules = window_rules("write_aio", "write",
                                          ",file.inject-error.0.sector=0");
    QOcssd *o = boot_blkdebug_killable(img, rules, &pidfile);
    uint8_t id[NVME_IDENTIFY_DATA_SIZE];
    uint32_t cc = 0;

    g_assert_cmphex(wr(o, 1, 0, 16, 1, 0), ==, 0);
    window_toggle(o);
    shutdown_notify(o);
    expect_header(img, true, 2, 0);
    /* Enabled again: marking the image in use fails. */
    qocssd_disable(o);
    NVME_SET_CC_EN(cc, 1);
    NVME_SET_CC_MPS(cc, ctz32(o->page_size) - 12);
    NVME_SET_CC_IOSQES(cc, 6);
    NVME_SET_CC_IOCQES(cc, 4);
    qocssd_writel(o, NVME_REG_CC, cc);
    qocssd_wait_csts(o, NVME_CSTS_FAILED, NVME_CSTS_FAILED);
    g_assert_cmphex(qocssd_readl(o, NVME_REG_CSTS) & NVME_CSTS_READY, ==, 0);
    window_toggle(o);
    qocssd_disable(o);
    qocssd_start_io(o);
    g_assert_cmphex(qocssd_identify(o, NVME_ID_CNS_CTRL, 0, id), ==, 0);
    rd_check(o, 1, 0, 16, 1);
    crash(o, pidfile);

    o = boot(img, "");
    expect_smart(o, 3, 1);
    rd_check(o, 1, 0, 16, 1);
    finish(o);
    drop_image(img);
}

/*
 * The image refuses reads of a chunk's data: transient (once), the read
 * fails with Unrecovered Read Error, without DNR, and a retry succeeds;
 * permanent, every read of it fails.  Nothing else changes: the chunk
 * keeps its state, and after a restart on a healthy image its data is
 * there.
 */
static void test_read_error(void)
{
    char *img = formatted_image(), *pidfile;
    QOcssd *o = boot(img, "");
    g_autofree char *rules = NULL;
    const ChunkWant want[] = { { 1, OCSSD_CHUNK_OPEN, 16, 0 } };
    OcssdImageHeader h;
    uint64_t sector;
    unsigned i;

    g_assert_cmphex(wr(o, 1, 0, 16, 1, 0), ==, 0);
    qocssd_shutdown(o);
    img_header(img, &h);
    sector = (le64_to_cpu(h.data_offset) + 1 * CLBA * 4096) / 512;
    rules = g_strdup_printf(",file.inject-error.0.event=read_aio,"
                            "file.inject-error.0.sector=%" PRIu64 ","
                            "file.inject-error.0.errno=5,"
                            "file.inject-error.0.once=on,"
                            "file.inject-error.1.event=read_aio,"
                            "file.inject-error.1.sector=%" PRIu64 ","
                            "file.inject-error.1.errno=5", sector,
                            sector + 8 * 4096 / 512);
    o = boot_blkdebug_killable(img, rules, &pidfile);
    g_assert_cmphex(rd_status(o, 1, 0, 4), ==, NVME_UNRECOVERED_READ);
    rd_check(o, 1, 0, 4, 1);
    for (i = 0; i < 3; i++) {
        g_assert_cmphex(rd_status(o, 1, 8, 4), ==, NVME_UNRECOVERED_READ);
    }
    expect_chunks(o, want, ARRAY_SIZE(want));
    crash(o, pidfile);

    o = boot(img, "");
    expect_chunks(o, want, ARRAY_SIZE(want));
    rd_check(o, 1, 0, 16, 1);
    finish(o);
    drop_image(img);
}

/*
 * A read whose host takes no metadata back (MPTR 0) does not read the
 * image's metadata area: an error there fails only the reads that take
 * the metadata.
 */
static void test_read_meta_skipped(void)
{
    char *img = formatted_image(), *pidfile;
    QOcssd *o = boot(img, "");
    g_autofree char *rules = NULL;
    g_autofree uint8_t *d = NULL, *m = NULL, *wd = NULL, *wm = NULL;
    g_autofree uint64_t *l = NULL;
    OcssdImageHeader h;
    uint32_t md_size = o->md_size;
    uint64_t sector;

    g_assert_cmpuint(md_size, >, 0);
    g_assert_cmphex(wr(o, 1, 0, 16, 1, 0), ==, 0);
    qocssd_shutdown(o);
    img_header(img, &h);
    sector = (le64_to_cpu(h.meta_offset) + (uint64_t)CLBA * md_size) / 512;
    rules = g_strdup_printf(",file.inject-error.0.event=read_aio,"
                            "file.inject-error.0.sector=%" PRIu64 ","
                            "file.inject-error.0.errno=5", sector);
    o = boot_blkdebug_killable(img, rules, &pidfile);
    d = g_malloc(4 * o->sec_size);
    m = g_malloc(4 * md_size);
    l = lba_run(o, 1, 0, 4);
    patterns(o, l, 4, 1, &wd, &wm);
    g_assert_cmphex(qocssd_read(o, 1, l[0], 4, d, NULL, 0), ==, 0);
    g_assert_true(memcmp(d, wd, 4 * o->sec_size) == 0);
    g_assert_cmphex(qocssd_read(o, 1, qocssd_chunk_slba(o, 1), 4, d, m, 0),
                    ==, NVME_UNRECOVERED_READ);
    crash(o, pidfile);
    drop_image(img);
}

/*
 * A write that closes a chunk is still in flight (held by blkdebug) when
 * the host resets the chunk, and the image then refuses it: the write
 * fails, but the chunk's new generation, which holds none of its data,
 * stays free and usable; it does not go offline.
 */
static void test_reset_then_write_lost(void)
{
    char *img = formatted_image(), *pidfile;
    OcssdImageHeader h;
    g_autofree char *rules = NULL;
    const ChunkWant want[] = { { 3, OCSSD_CHUNK_OPEN, 8, 1 } };
    NvmeCmd cmds[2];
    NvmeCqe cqe;
    uint16_t wcid;
    QOcssd *o;
    unsigned i;

    img_header(img, &h);
    rules = g_strdup_printf(",file.inject-error.0.event=write_aio,"
                            "file.inject-error.0.sector=%" PRIu64 ","
                            "file.inject-error.0.errno=5,"
                            "file.inject-error.0.once=on",
                            (le64_to_cpu(h.data_offset) +
                             3 * CLBA * 4096) / 512);
    o = boot_blkdebug_killable(img, rules, &pidfile);
    hmp_qemu_io(o, "break write_aio w");
    write_cmd(o, &cmds[0], 3, 0, CLBA, 1);
    reset_cmd(o, &cmds[1], 3);
    wcid = qocssd_enqueue(o, 1, &cmds[0]);
    qocssd_enqueue(o, 1, &cmds[1]);
    qocssd_ring_sq(o, 1, o->sq[1].tail);
    /* The reset waits for the write accepted before it. */
    for (i = 0; i < 1000; i++) {
        g_assert_false(qocssd_peek(o, 1, &cqe));
    }
    hmp_qemu_io(o, "resume w");
    for (i = 0; i < 2; i++) {
        qocssd_wait(o, 1, &cqe);
        g_assert_cmphex(qocssd_cqe_status(&cqe), ==,
                        cqe.cid == wcid ? WF : 0);
    }
    g_assert_cmphex(wr(o, 3, 0, 8, 2, 0), ==, 0);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    expect_chunks(o, want, ARRAY_SIZE(want));
    crash(o, pidfile);

    o = boot(img, "");
    expect_chunks(o, want, ARRAY_SIZE(want));
    rd_check(o, 3, 0, 8, 2);
    finish(o);
    drop_image(img);
}

/* Run QTEST_QEMU_IMG with args; false if there is none. */
static bool qemu_img(const char *const *args)
{
    const char *tool = g_getenv("QTEST_QEMU_IMG");
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) gerr = NULL;
    g_autofree char *out = NULL;
    int status;

    if (!tool) {
        return false;
    }
    g_ptr_array_add(argv, (char *)tool);
    for (; *args; args++) {
        g_ptr_array_add(argv, (char *)*args);
    }
    g_ptr_array_add(argv, NULL);
    if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL,
                      G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                      &status, &gerr)) {
        g_error("cannot run %s: %s", tool, gerr->message);
    }
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    return true;
}

/*
 * The image on another block driver: an empty qcow2 file is formatted,
 * and what a Flush covered survives kill -9 in it.
 */
static void test_qcow2(void)
{
    char *img = qocssd_tmp_image(), *pidfile;
    const char *create[] = { "create", "-q", "-f", "qcow2", img, "0", NULL };
    const ChunkWant want[] = {
        { 3, OCSSD_CHUNK_OPEN, 16, 0 },
        { 4, OCSSD_CHUNK_FREE, 0, 1 },
        { 6, OCSSD_CHUNK_CLOSED, CLBA, 0 },
    };
    QOcssd *o;

    if (!qemu_img(create)) {
        g_test_skip("QTEST_QEMU_IMG is not set");
        drop_image(img);
        return;
    }
    o = boot_killable(img, "format=qcow2", GEO ",mw_cunits=0", &pidfile);
    g_assert_cmphex(wr(o, 3, 0, 16, 1, 0), ==, 0);
    g_assert_cmphex(wr(o, 4, 0, CLBA, 2, 0), ==, 0);
    g_assert_cmphex(vreset(o, 4), ==, 0);
    g_assert_cmphex(wr(o, 6, 0, CLBA, 3, 0), ==, 0);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    crash(o, pidfile);

    o = boot_with(img, "format=qcow2", "", "");
    expect_chunks(o, want, ARRAY_SIZE(want));
    rd_check(o, 3, 0, 16, 1);
    rd_expect(o, 4, 0, 8, 0, 0);
    rd_check(o, 6, 0, CLBA, 3);
    expect_smart(o, 2, 1);
    finish(o);
    drop_image(img);
}

/* 512-byte sectors without metadata: the same over a restart. */
static void test_restart_512(void)
{
    char *img = qocssd_tmp_image();
    QOcssd *o = boot(img, GEO ",sec_size=512,md_size=0,ws_min=8,ws_opt=16,"
                     "mw_cunits=0");
    const ChunkWant want[] = {
        { 0, OCSSD_CHUNK_CLOSED, CLBA, 0 },
        { 15, OCSSD_CHUNK_OPEN, 8, 0 },
    };
    OcssdImageHeader h;

    g_assert_cmpuint(o->sec_size, ==, 512);
    g_assert_cmpuint(o->md_size, ==, 0);
    g_assert_cmphex(wr(o, 0, 0, CLBA, 1, 0), ==, 0);
    g_assert_cmphex(wr(o, 15, 0, 8, 2, 0), ==, 0);
    finish(o);
    img_header(img, &h);
    g_assert_cmpuint(le64_to_cpu(h.meta_size), ==, 0);
    g_assert_cmpuint(file_size(img), ==, 4096 + 4096 + NCHUNK * CLBA * 512);

    o = boot(img, "");
    g_assert_cmpuint(o->sec_size, ==, 512);
    g_assert_cmpuint(le32_to_cpu(o->geo.ws_min), ==, 8);
    expect_chunks(o, want, ARRAY_SIZE(want));
    rd_check(o, 0, 0, CLBA, 1);
    rd_check(o, 15, 0, 8, 2);
    finish(o);
    drop_image(img);
}

/* ---- malformed images ----------------------------------------------------- */

#define MGEO    "num_grp=1,num_pu=2,num_chk=4,clba=16,mw_cunits=0"

typedef struct Malformed {
    const char *name;
    void (*damage)(const char *img, uint64_t arg);
    uint64_t arg;
    const char *needles[3];
} Malformed;

static void bad_magic(const char *img, uint64_t arg)
{
    OcssdImageHeader h;

    img_header(img, &h);
    h.magic[0] = 'X';
    img_put_header(img, &h, true);
}

/* A file of zeroes, as qemu-img create or truncate -s make it. */
static void zeroes(const char *img, uint64_t size)
{
    g_assert_cmpint(truncate(img, 0), ==, 0);
    g_assert_cmpint(truncate(img, size), ==, 0);
}

/* The header's 32-bit field at offset off becomes val (sealed). */
static void header_u32(const char *img, uint64_t off_val)
{
    OcssdImageHeader h;
    uint32_t off = off_val >> 32, val = off_val;

    img_header(img, &h);
    stl_le_p((uint8_t *)&h + off, val);
    img_put_header(img, &h, true);
}

#define HDR(field, val) \
    ((uint64_t)offsetof(OcssdImageHeader, field) << 32 | (uint32_t)(val))

static void header_crc_bad(const char *img, uint64_t arg)
{
    OcssdImageHeader h;

    img_header(img, &h);
    h.rsvd200[arg] ^= 0x20;
    img_put_header(img, &h, false);
}

static void layout_bad(const char *img, uint64_t arg)
{
    OcssdImageHeader h;

    img_header(img, &h);
    h.data_offset = cpu_to_le64(le64_to_cpu(h.data_offset) + 4096);
    img_put_header(img, &h, true);
}

static void truncate_to(const char *img, uint64_t arg)
{
    g_assert_cmpint(truncate(img, arg), ==, 0);
}

static void truncate_short(const char *img, uint64_t arg)
{
    OcssdImageHeader h;

    img_header(img, &h);
    truncate_to(img, le64_to_cpu(h.image_size) - arg);
}

static void entry_crc_bad(const char *img, uint64_t chunk)
{
    OcssdImageChunk e;

    img_entry(img, chunk, &e);
    e.wp ^= cpu_to_le64(1);
    img_put_entry(img, chunk, &e, false);
}

/*
 * Chunk table entry values (sealed): arg = chunk << 48 | what << 40 |
 * value, what 0 state, 1 type, 2 cnlb, 3 wp, 4 closed with this wp,
 * 5 open with this wp.
 */
static void entry_value(const char *img, uint64_t arg)
{
    uint64_t chunk = arg >> 48, val = arg & 0xffffffffff;
    OcssdImageChunk e;

    img_entry(img, chunk, &e);
    switch ((arg >> 40) & 0xff) {
    case 0:
        e.state = val;
        break;
    case 1:
        e.type = val;
        break;
    case 2:
        e.cnlb = cpu_to_le64(val);
        break;
    case 3:
        e.wp = cpu_to_le64(val);
        break;
    case 4:
        e.state = OCSSD_CHUNK_CLOSED;
        e.wp = cpu_to_le64(val);
        break;
    case 5:
        e.state = OCSSD_CHUNK_OPEN;
        e.wp = cpu_to_le64(val);
        break;
    }
    img_put_entry(img, chunk, &e, true);
}

#define ENT(chunk, what, val) \
    ((uint64_t)(chunk) << 48 | (uint64_t)(what) << 40 | (val))

/*
 * Geometries at and past the size limit (OCSSD_MAX_CHUNKS = 2^24 chunks):
 * num_grp, num_pu, num_chk, clba, ws_min, ws_opt, sec_size, md_size.
 */
static const uint32_t limit_geo[][8] = {
    { 97, 257, 673, 16, 4, 8, 4096, 16 },     /* 2^24 + 1 chunks */
    { 1, 1, (1u << 24) + 1, 16, 4, 8, 4096, 16 },
    { 65535, 65535, 1, 1, 1, 1, 512, 0 },     /* the issue's header */
    { 256, 256, 256, 16, 4, 8, 4096, 16 },    /* 2^24 chunks: the limit */
};

/*
 * A consistent header (sealed, layout fields following the geometry) for
 * limit_geo[arg] on the small image: the geometry limit, not the layout
 * or the file size, must be what refuses it.
 */
static void header_geo(const char *img, uint64_t arg)
{
    const uint32_t *g = limit_geo[arg];
    uint64_t nchunks = (uint64_t)g[0] * g[1] * g[2];
    uint64_t nsectors = nchunks * g[3];
    OcssdImageHeader h;

    img_header(img, &h);
    h.num_grp = cpu_to_le32(g[0]);
    h.num_pu = cpu_to_le32(g[1]);
    h.num_chk = cpu_to_le32(g[2]);
    h.clba = cpu_to_le32(g[3]);
    h.ws_min = cpu_to_le32(g[4]);
    h.ws_opt = cpu_to_le32(g[5]);
    h.sec_size = cpu_to_le32(g[6]);
    h.md_size = cpu_to_le32(g[7]);
    h.table_offset = cpu_to_le64(4096);
    h.table_size = cpu_to_le64(ROUND_UP(nchunks * 32, 4096));
    h.data_offset = cpu_to_le64(4096 + le64_to_cpu(h.table_size));
    h.data_size = cpu_to_le64(nsectors * g[6]);
    h.meta_offset = cpu_to_le64(le64_to_cpu(h.data_offset) +
                                le64_to_cpu(h.data_size));
    h.meta_size = cpu_to_le64(ROUND_UP(nsectors * g[7], 4096));
    h.image_size = cpu_to_le64(le64_to_cpu(h.meta_offset) +
                               le64_to_cpu(h.meta_size));
    img_put_header(img, &h, true);
}

/* The refusal of a geometry past the chunk limit, after its numbers. */
#define LIMIT_MSG \
    "chunks is too many: at most 16777216 (2^24) chunks are supported, " \
    "as the device keeps every chunk's state in memory (about 1 GiB at " \
    "the limit); lower num_grp, num_pu or num_chk (a larger clba keeps " \
    "the capacity)"
#define HEADER_LIMIT_MSG \
    "ocssd: refusing the image (left unchanged): ocssd image header holds " \
    "an invalid geometry: "

static const Malformed malformed[] = {
    { "bad-magic", bad_magic, 0,
      { "not an ocssd image (bad magic", "left unchanged" } },
    { "zeroes", zeroes, 1 << 20,
      { "not an ocssd image (it starts with zeroes",
        "only a zero-length file is formatted" } },
    { "version", header_u32, HDR(version, 2),
      { "unsupported ocssd image format version 2",
        "this build reads version 1" } },
    { "header-checksum", header_crc_bad, 100,
      { "header checksum mismatch (stored 0x", "the header is damaged" } },
    { "header-size", header_u32, HDR(header_size, 512),
      { "header size 512 is invalid (expected 4096)" } },
    { "unknown-flags", header_u32, HDR(flags, 0x5),
      { "unknown flags 0x4" } },
    { "unknown-mccap", header_u32, HDR(mccap, 0x11),
      { "unknown mccap bits 0x11" } },
    { "geometry-sec-size", header_u32, HDR(sec_size, 1000),
      { "invalid geometry", "sec_size=1000 is invalid" } },
    { "geometry-ws-min", header_u32, HDR(ws_min, 3),
      { "invalid geometry", "ws_min=3 is invalid" } },
    { "geometry-num-chk", header_u32, HDR(num_chk, 0),
      { "invalid geometry", "num_chk=0 is invalid" } },
    { "layout", layout_bad, 0,
      { "layout fields do not match its geometry" } },
    /* The block layer sees sizes in 512-byte units. */
    { "truncated", truncate_short, 512,
      { "ocssd image is truncated",
        "536064 bytes, its geometry needs 536576" } },
    { "truncated-to-table", truncate_to, 8192,
      { "ocssd image is truncated: 8192 bytes, its geometry needs 536576" } },
    { "too-small", truncate_to, 1024,
      { "the image (1024 bytes) is too small to hold an ocssd image "
        "header" } },
    { "table-checksum", entry_crc_bad, 5,
      { "chunk table entry 5 (grp 0 pu 1 chk 1): checksum mismatch",
        "left unchanged" } },
    { "table-checksum-last", entry_crc_bad, 7,
      { "chunk table entry 7 (grp 0 pu 1 chk 3): checksum mismatch" } },
    { "chunk-state", entry_value, ENT(6, 0, 3),
      { "entry 6 (grp 0 pu 1 chk 2): invalid state 0x3" } },
    { "chunk-state-zero", entry_value, ENT(0, 0, 0),
      { "entry 0 (grp 0 pu 0 chk 0): invalid state 0x0" } },
    { "chunk-type", entry_value, ENT(2, 1, OCSSD_CHUNK_TYPE_RANDOM),
      { "entry 2 (grp 0 pu 0 chk 2): invalid chunk type 0x2" } },
    { "chunk-cnlb-zero", entry_value, ENT(3, 2, 0),
      { "entry 3 (grp 0 pu 0 chk 3): invalid CNLB 0" } },
    { "chunk-cnlb-big", entry_value, ENT(3, 2, 32),
      { "entry 3 (grp 0 pu 0 chk 3): invalid CNLB 32" } },
    { "chunk-wp-free", entry_value, ENT(1, 3, 4),
      { "entry 1 (grp 0 pu 0 chk 1): write pointer 4 impossible for a "
        "free chunk" } },
    { "chunk-wp-past-clba", entry_value, ENT(4, 4, 17),
      { "entry 4 (grp 0 pu 1 chk 0): write pointer 17 impossible",
        "chunk of 16 sectors" } },
    { "chunk-wp-open-full", entry_value, ENT(5, 5, 16),
      { "entry 5 (grp 0 pu 1 chk 1): write pointer 16 impossible" } },
    { "geometry-limit", header_geo, 0,
      { HEADER_LIMIT_MSG "num_grp=97 x num_pu=257 x num_chk=673 = "
        "16777217 " LIMIT_MSG } },
    { "geometry-limit-num-chk", header_geo, 1,
      { HEADER_LIMIT_MSG "num_grp=1 x num_pu=1 x num_chk=16777217 = "
        "16777217 " LIMIT_MSG } },
    { "geometry-limit-65535-pus", header_geo, 2,
      { HEADER_LIMIT_MSG "num_grp=65535 x num_pu=65535 x num_chk=1 = "
        "4294836225 " LIMIT_MSG } },
    /* At the limit the geometry passes; this small file is too short. */
    { "geometry-at-limit", header_geo, 3,
      { "ocssd: refusing the image (left unchanged): ocssd image is "
        "truncated: 536576 bytes, its geometry needs 1104343470080" } },
};

/*
 * Each damage is refused with its own message and leaves the image
 * byte-identical, whether the image was closed cleanly or not.
 */
static void test_malformed(const void *opaque)
{
    const Malformed *c = opaque;
    const char *none[] = { NULL };
    unsigned dirty;

    for (dirty = 0; dirty < 2; dirty++) {
        char *img = qocssd_tmp_image();
        const char *needles[4] = { c->needles[0], c->needles[1],
                                   c->needles[2] };

        run_ok(img, "", MGEO);
        if (dirty) {
            OcssdImageHeader h;

            img_header(img, &h);
            h.flags = cpu_to_le32(OCSSD_IMAGE_FLAG_DIRTY);
            img_put_header(img, &h, true);
        }
        c->damage(img, c->arg);
        expect_refused(img, "", "", needles);
        /* ocssd-img refuses what the device refuses. */
        tool_check(img, 2, none);
        /* The same with the image's own geometry given. */
        expect_refused(img, "", MGEO, needles);
        drop_image(img);
    }
}

/* ---- read-only drives ---------------------------------------------------- */

/*
 * readonly=on: reads work, writes and resets are Write Faults, and the
 * image (here one a kill -9 left dirty) is not written at all.
 */
static void test_read_only(void)
{
    char *img, *pidfile;
    QOcssd *o = boot_new_killable(&img, &pidfile);
    const ChunkWant want[] = {
        { 1, OCSSD_CHUNK_OPEN, 8, 0 },
        { 2, OCSSD_CHUNK_CLOSED, CLBA, 0 },
    };
    const char *empty[] = { "empty and read-only", NULL };
    g_autofree char *before = NULL, *after = NULL;
    g_autofree uint64_t *vl = NULL;
    NvmeSmartLog s;
    uint64_t bm;

    g_assert_cmphex(wr(o, 1, 0, 8, 1, 0), ==, 0);
    g_assert_cmphex(wr(o, 2, 0, CLBA, 2, 0), ==, 0);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    crash(o, pidfile);
    expect_header(img, true, 1, 0);
    before = file_sha256(img);

    o = boot_with(img, "format=raw,readonly=on", "", "");
    expect_chunks(o, want, ARRAY_SIZE(want));
    rd_check(o, 1, 0, 8, 1);
    rd_check(o, 2, 0, CLBA, 2);
    rd_expect(o, 3, 0, 8, 0, 0);
    g_assert_cmphex(wr(o, 1, 8, 8, 3, 0), ==, WF);
    g_assert_cmphex(wr(o, 3, 0, 8, 3, NVME_RW_FUA), ==, WF);
    vl = lba_run(o, 1, 8, 8);
    g_assert_cmphex(vwr(o, vl, 8, 3, 0, &bm), ==, WF);
    g_assert_cmphex(bm, ==, 0xff);
    g_assert_cmphex(vreset(o, 2), ==, WF);
    g_assert_cmphex(dsm_reset(o, 2), ==, WF);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    expect_chunks(o, want, ARRAY_SIZE(want));
    rd_check(o, 1, 0, 8, 1);
    smart_log(o, &s);
    g_assert_cmphex(s.critical_warning & NVME_SMART_MEDIA_READ_ONLY, ==,
                    NVME_SMART_MEDIA_READ_ONLY);
    g_assert_cmpuint(le64_to_cpu(s.unsafe_shutdowns[0]), ==, 0);
    shutdown_notify(o);
    finish(o);
    after = file_sha256(img);
    g_assert_cmpstr(after, ==, before);
    drop_image(img);

    /* An empty read-only image cannot be formatted. */
    img = qocssd_tmp_image();
    expect_refused(img, ",readonly=on", GEO, empty);
    drop_image(img);
}

/* ---- fault injection from files ----------------------------------------- */

/*
 * chunkinfo presets a new image's chunks; on a formatted image it is
 * ignored with a warning, so the image keeps what happened since.
 */
static void test_chunkinfo(void)
{
    g_autofree char *opts = NULL;
    char *img = fault_image("chunkinfo",
        "# GRP PU CHK STATE [WP [WLI]]\n"
        "0 0 1 closed\n"
        "0 0 2 closed 32       # closed early\n"
        "0 1 0 open 16 5\n"
        "1 * * free 0 9        # a worn group\n"
        "1 1 3 offline\n"
        "\n"
        "0 1 3 open 0x8\n", &opts);
    ChunkWant want[] = {
        { 1, OCSSD_CHUNK_CLOSED, CLBA, 0 },
        { 2, OCSSD_CHUNK_CLOSED, 32, 0 },
        { 4, OCSSD_CHUNK_OPEN, 16, 5 },
        { 7, OCSSD_CHUNK_OPEN, 8, 0 },
        { 8, OCSSD_CHUNK_FREE, 0, 9 }, { 9, OCSSD_CHUNK_FREE, 0, 9 },
        { 10, OCSSD_CHUNK_FREE, 0, 9 }, { 11, OCSSD_CHUNK_FREE, 0, 9 },
        { 12, OCSSD_CHUNK_FREE, 0, 9 }, { 13, OCSSD_CHUNK_FREE, 0, 9 },
        { 14, OCSSD_CHUNK_FREE, 0, 9 },
        { 15, OCSSD_CHUNK_OFFLINE, 0, 0 },
    };
    g_autofree char *err = NULL;
    const char *warned[] = { "chunkinfo=", "ignored", NULL };
    QOcssd *o = boot(img, opts);

    expect_chunks(o, want, ARRAY_SIZE(want));
    expect_image_chunks(img, want, ARRAY_SIZE(want));
    /* The presets behave as their states. */
    g_assert_cmphex(wr(o, 4, 16, 8, 1, 0), ==, 0);
    g_assert_cmphex(wr(o, 7, 0, 4, 1, 0), ==,
                    OCSSD_OUT_OF_ORDER_WRITE | NVME_DNR);
    g_assert_cmphex(wr(o, 1, 0, 4, 1, 0), ==, WF);
    g_assert_cmphex(vreset(o, 15), ==, OFFL);
    g_assert_cmphex(vreset(o, 1), ==, 0);
    rd_check(o, 4, 16, 8, 1);
    finish(o);
    want[0] = (ChunkWant) { 1, OCSSD_CHUNK_FREE, 0, 1 };
    want[2].wp = 24;

    /* Booted again with the same chunkinfo: the image keeps its state. */
    g_assert_cmpint(run_qemu(&err, "-drive if=none,id=oc0,file=%s,"
                             "format=raw -device ocssd,drive=oc0,%s", img,
                             opts), ==, 0);
    expect_text(err, warned);
    o = boot(img, opts);
    expect_chunks(o, want, ARRAY_SIZE(want));
    finish(o);
    drop_image(img);
}

/* A bad line in a fault file fails realize, naming the file and line. */
static void test_fault_file_errors(void)
{
    static const struct {
        const char *prop;
        const char *text;
        const char *needle;
    } cases[] = {
        { "chunkinfo", "0 0 0 closed\n0 0 9 closed\n",
          "line 2: chunk '9' is not a number below 4 or '*'" },
        { "chunkinfo", "0 0 0 shut\n",
          "line 1: state 'shut' is not free, open, closed or offline" },
        { "chunkinfo", "0 0 0 open 3\n",
          "line 1: write pointer 3 must be a nonzero multiple of ws_min=4" },
        { "chunkinfo", "# open chunks need a write pointer\n0 0 0 open\n",
          "line 2: write pointer 0 must be a nonzero multiple" },
        { "chunkinfo", "0 0 0 closed 68\n",
          "line 1: write pointer 68 impossible for a closed chunk" },
        { "resetfail", "0 0 1\n", "line 1: expected \"GRP PU CHK "
          "PROBABILITY\"" },
        { "resetfail", "0 2 0 1\n",
          "line 1: parallel unit '2' is not a number below 2" },
        { "writefail", "* * * 64 0.5\n",
          "line 1: sector '64' is not a number below 64" },
        { "writefail", "* * * * 0.5 later\n",
          "line 1: 'later' is not early-close or next-unit" },
        { "readfail", "* * * * 1.5\n",
          "line 1: probability '1.5' must be a number from 0 to 1" },
        { "highecc", "2 0 0 0 1\n",
          "line 1: group '2' is not a number below 2" },
    };
    unsigned i, existing;

    for (existing = 0; existing < 2; existing++) {
        for (i = 0; i < ARRAY_SIZE(cases); i++) {
            g_autofree char *opts = NULL;
            char *img = fault_image(cases[i].prop, cases[i].text, &opts);
            const char *where = strstr(opts, cases[i].prop);
            const char *needles[] = { where, cases[i].needle, NULL };

            if (existing) {
                if (!strcmp(cases[i].prop, "chunkinfo")) {
                    drop_image(img);
                    continue;       /* ignored on an existing image */
                }
                run_ok(img, "", GEO ",mw_cunits=0");
            }
            /* A refused configuration formats nothing either. */
            expect_refused(img, "", opts, needles);
            drop_image(img);
        }
    }
}

/* resetfail: the reset fails, the chunk goes offline (0x2C0), notified. */
static void test_resetfail(void)
{
    g_autofree char *opts = NULL;
    char *img = fault_image("resetfail",
        "* * * 0\n"
        "0 0 1 1      # always fails\n"
        "0 0 3 1.0\n", &opts);
    QOcssd *o = boot(img, opts);
    ChunkWant want[] = {
        { 1, OCSSD_CHUNK_OFFLINE, CLBA, 0 },
        { 2, OCSSD_CHUNK_FREE, 0, 1 },
        { 3, OCSSD_CHUNK_OFFLINE, CLBA, 0 },
    };

    g_assert_cmphex(wr(o, 1, 0, CLBA, 1, 0), ==, 0);
    g_assert_cmphex(wr(o, 2, 0, CLBA, 1, 0), ==, 0);
    g_assert_cmphex(wr(o, 3, 0, CLBA, 1, 0), ==, 0);
    qocssd_aer_submit(o);
    g_assert_cmphex(vreset(o, 1), ==, OFFL);
    expect_notification(o, qocssd_chunk_slba(o, 1),
                        OCSSD_NOTIFY_ERR_UNRECOVERABLE,
                        OCSSD_NOTIFY_MASK_CHUNK, 1);
    g_assert_cmphex(vreset(o, 2), ==, 0);
    /* Dataset Management resets the same way. */
    qocssd_aer_submit(o);
    g_assert_cmphex(dsm_reset(o, 3), ==, OFFL);
    expect_notification(o, qocssd_chunk_slba(o, 3),
                        OCSSD_NOTIFY_ERR_UNRECOVERABLE,
                        OCSSD_NOTIFY_MASK_CHUNK, 1);
    expect_chunks(o, want, ARRAY_SIZE(want));
    /* Resets are durable when they complete, failed ones too. */
    expect_image_chunks(img, want, ARRAY_SIZE(want));
    g_assert_cmphex(rd_status(o, 1, 0, 4), ==, OFFL);
    finish(o);
    drop_image(img);
}

/* Vector read of lbas; on success the data and metadata of tag. */
static uint16_t vrd(QOcssd *o, const uint64_t *lbas, unsigned n, uint8_t tag,
                    uint64_t *bitmap)
{
    g_autofree uint8_t *d = g_malloc((size_t)n * o->sec_size);
    g_autofree uint8_t *m = g_malloc((size_t)n * o->md_size + 1);
    g_autofree uint8_t *wd = NULL, *wm = NULL;
    uint16_t status;
    unsigned i;

    status = qocssd_vector(o, 1, OCSSD_CMD_VECT_READ, lbas, n, d, m, 0,
                           bitmap);
    patterns(o, lbas, n, tag, &wd, &wm);
    for (i = 0; tag && i < n; i++) {
        if (*bitmap & (1ULL << i) &&
            QOCSSD_SC(status) != OCSSD_HIGH_ECC) {
            continue;
        }
        expect_bytes(d + (size_t)i * o->sec_size,
                     wd + (size_t)i * o->sec_size, o->sec_size, lbas[i],
                     "data");
        expect_bytes(m + (size_t)i * o->md_size, wm + (size_t)i * o->md_size,
                     o->md_size, lbas[i], "metadata");
    }
    return status;
}

/* The notification log is empty. */
static void expect_no_notification(QOcssd *o)
{
    OcssdChunkNotification log[4];

    g_assert_cmphex(qocssd_get_log(o, OCSSD_LOG_CHUNK_NOTIFICATION, 1, 0,
                                   sizeof(log), false, log), ==, 0);
    g_assert_cmpuint(log[0].nc, ==, 0);
}

/*
 * writefail: early-close (0x2F1: closed, WP where it was) and next-unit
 * (0x2F0: open, the unit consumed), each with a chunk notification.
 */
static void test_writefail(void)
{
    g_autofree char *opts = NULL;
    char *img = fault_image("writefail",
        "# GRP PU CHK SEC PROBABILITY [early-close|next-unit]\n"
        "* * * * 0\n"
        "0 0 2 8 1              # early close, the default\n"
        "0 0 3 4 1 next-unit\n"
        "0 1 0 * 1 early-close\n", &opts);
    const ChunkWant want[] = {
        { 2, OCSSD_CHUNK_CLOSED, 8, 0 },
        { 3, OCSSD_CHUNK_OPEN, 12, 0 },
        { 4, OCSSD_CHUNK_CLOSED, 0, 0 },
        { 5, OCSSD_CHUNK_OPEN, 4, 0 },
    };
    g_autofree uint64_t *vl = NULL, *l4 = NULL;
    QOcssd *o = boot(img, opts);
    NvmeSmartLog s;
    uint64_t bm;

    g_assert_cmphex(wr(o, 2, 0, 8, 1, 0), ==, 0);
    qocssd_aer_submit(o);
    g_assert_cmphex(wr(o, 2, 8, 8, 1, 0), ==,
                    OCSSD_CHUNK_EARLY_CLOSE | NVME_DNR);
    expect_notification(o, qocssd_chunk_slba(o, 2),
                        OCSSD_NOTIFY_ERR_HIGH, OCSSD_NOTIFY_MASK_CHUNK, 1);
    g_assert_cmphex(wr(o, 2, 8, 4, 1, 0), ==, WF);
    rd_check(o, 2, 0, 8, 1);
    rd_expect(o, 2, 8, 8, 0, 0);

    g_assert_cmphex(wr(o, 3, 0, 4, 1, 0), ==, 0);
    qocssd_aer_submit(o);
    g_assert_cmphex(wr(o, 3, 4, 4, 1, 0), ==,
                    OCSSD_WRITE_NEXT_UNIT | NVME_DNR);
    expect_notification(o, qocssd_chunk_slba(o, 3),
                        OCSSD_NOTIFY_ERR_HIGH, OCSSD_NOTIFY_MASK_CHUNK, 1);
    g_assert_cmphex(wr(o, 3, 8, 4, 2, 0), ==, 0);
    rd_check(o, 3, 0, 4, 1);
    rd_expect(o, 3, 4, 4, 0, 0);
    rd_check(o, 3, 8, 4, 2);

    /* A vector write: the failing chunk's share fails, the rest goes. */
    vl = lba_run(o, 5, 0, 8);
    l4 = lba_run(o, 4, 0, 4);
    memcpy(vl + 4, l4, 4 * sizeof(*vl));
    qocssd_aer_submit(o);
    g_assert_cmphex(vwr(o, vl, 8, 3, 0, &bm), ==,
                    OCSSD_CHUNK_EARLY_CLOSE | NVME_DNR);
    g_assert_cmphex(bm, ==, 0xf0);
    expect_notification(o, qocssd_chunk_slba(o, 4),
                        OCSSD_NOTIFY_ERR_HIGH, OCSSD_NOTIFY_MASK_CHUNK, 1);
    rd_check(o, 5, 0, 4, 3);
    expect_chunks(o, want, ARRAY_SIZE(want));
    smart_log(o, &s);
    g_assert_cmpuint(le64_to_cpu(s.media_errors[0]), ==, 3);
    finish(o);

    /* The failures' chunk states are the image's now. */
    o = boot(img, "");
    expect_chunks(o, want, ARRAY_SIZE(want));
    finish(o);
    drop_image(img);
}

/* readfail: written sectors fail with 0x281 (notified per sector). */
static void test_readfail(void)
{
    g_autofree char *opts = NULL;
    char *img = fault_image("readfail", "0 0 1 * 1\n", &opts);
    QOcssd *o = boot(img, opts);
    uint64_t slba, l[3], bm;
    NvmeSmartLog s;

    g_assert_cmphex(wr(o, 1, 0, 8, 1, 0), ==, 0);
    g_assert_cmphex(wr(o, 2, 0, 8, 1, 0), ==, 0);
    slba = qocssd_chunk_slba(o, 1);
    qocssd_aer_submit(o);
    g_assert_cmphex(rd_status(o, 1, 2, 4), ==,
                    NVME_UNRECOVERED_READ | NVME_DNR);
    expect_notification(o, slba + 2, OCSSD_NOTIFY_ERR_UNRECOVERABLE,
                        OCSSD_NOTIFY_MASK_SECTOR, 4);
    /* Unwritten sectors never fail, other chunks neither. */
    rd_expect(o, 1, 8, 8, 0, 0);
    rd_check(o, 2, 0, 8, 1);
    expect_no_notification(o);
    /* Vector reads fail per entry. */
    l[0] = slba + 8;
    l[1] = slba + 5;
    l[2] = qocssd_chunk_slba(o, 2) + 3;
    qocssd_aer_submit(o);
    g_assert_cmphex(vrd(o, l, 3, 0, &bm), ==,
                    NVME_UNRECOVERED_READ | NVME_DNR);
    g_assert_cmphex(bm, ==, 0x2);
    expect_notification(o, slba + 5, OCSSD_NOTIFY_ERR_UNRECOVERABLE,
                        OCSSD_NOTIFY_MASK_SECTOR, 1);
    smart_log(o, &s);
    g_assert_cmpuint(le64_to_cpu(s.media_errors[0]), ==, 5);
    finish(o);
    drop_image(img);
}

static void set_media_feedback(QOcssd *o, uint32_t bits)
{
    g_assert_cmphex(qocssd_set_features(o, OCSSD_FEAT_MEDIA_FEEDBACK, bits,
                                        NULL), ==, 0);
}

/*
 * highecc: the read succeeds with its data and a notification; High ECC
 * (0x2D0, no DNR) when Media Feedback asks for it.
 */
static void test_highecc(void)
{
    g_autofree char *opts = NULL;
    char *img = fault_image("highecc", "0 0 1 3 1\n", &opts);
    QOcssd *o = boot(img, opts);
    g_autofree uint64_t *l = NULL;
    uint64_t slba, bm;

    g_assert_cmphex(wr(o, 1, 0, 8, 1, 0), ==, 0);
    slba = qocssd_chunk_slba(o, 1);
    l = lba_run(o, 1, 0, 8);
    qocssd_aer_submit(o);
    rd_check(o, 1, 0, 8, 1);
    expect_notification(o, slba + 3, OCSSD_NOTIFY_ERR_HIGH,
                        OCSSD_NOTIFY_MASK_SECTOR, 1);
    set_media_feedback(o, OCSSD_MEDIA_FEEDBACK_HECC);
    qocssd_aer_submit(o);
    rd_expect(o, 1, 0, 8, 1, OCSSD_HIGH_ECC);
    expect_notification(o, slba + 3, OCSSD_NOTIFY_ERR_HIGH,
                        OCSSD_NOTIFY_MASK_SECTOR, 1);
    qocssd_aer_submit(o);
    g_assert_cmphex(vrd(o, l, 8, 1, &bm), ==, 0);   /* HECC: not vectors */
    g_assert_cmphex(bm, ==, 0);
    expect_notification(o, slba + 3, OCSSD_NOTIFY_ERR_HIGH,
                        OCSSD_NOTIFY_MASK_SECTOR, 1);
    set_media_feedback(o, OCSSD_MEDIA_FEEDBACK_VHECC);
    qocssd_aer_submit(o);
    g_assert_cmphex(vrd(o, l, 8, 1, &bm), ==, OCSSD_HIGH_ECC);
    g_assert_cmphex(bm, ==, 0x8);
    expect_notification(o, slba + 3, OCSSD_NOTIFY_ERR_HIGH,
                        OCSSD_NOTIFY_MASK_SECTOR, 1);
    rd_check(o, 1, 0, 8, 1);                        /* VHECC: not these */
    finish(o);
    drop_image(img);
}

/*
 * Run-time injection over QMP: each kind's chunk notification and AER
 * (ocssd-media-test.c checks their statuses); offline chunks stay
 * offline on the image.
 */
static void test_runtime_notifications(void)
{
    char *img = qocssd_tmp_image();
    QOcssd *o = boot(img, GEO ",mw_cunits=0");
    const ChunkWant want[] = {
        { 0, OCSSD_CHUNK_CLOSED, 8, 0 },
        { 1, OCSSD_CHUNK_OPEN, 4, 0 },
        { 3, OCSSD_CHUNK_OFFLINE, CLBA, 0 },
        { 5, OCSSD_CHUNK_OFFLINE, 0, 0 },
    };
    uint64_t s0, nsze;
    QDict *rsp;

    s0 = qocssd_chunk_slba(o, 0);
    g_assert_cmphex(wr(o, 0, 0, 8, 1, 0), ==, 0);
    g_assert_cmphex(wr(o, 3, 0, CLBA, 1, 0), ==, 0);

    qocssd_aer_submit(o);
    inject(o, "inject-offline", qocssd_chunk_slba(o, 5) + 3);
    expect_notification(o, qocssd_chunk_slba(o, 5),
                        OCSSD_NOTIFY_ERR_UNRECOVERABLE,
                        OCSSD_NOTIFY_MASK_CHUNK, 1);

    qocssd_aer_submit(o);
    inject(o, "inject-write-next-unit", qocssd_chunk_slba(o, 1) + 2);
    g_assert_cmphex(wr(o, 1, 0, 4, 1, 0), ==,
                    OCSSD_WRITE_NEXT_UNIT | NVME_DNR);
    expect_notification(o, qocssd_chunk_slba(o, 1),
                        OCSSD_NOTIFY_ERR_HIGH, OCSSD_NOTIFY_MASK_CHUNK, 1);

    qocssd_aer_submit(o);
    inject(o, "inject-read-error", s0 + 1);
    g_assert_cmphex(rd_status(o, 0, 0, 4), ==,
                    NVME_UNRECOVERED_READ | NVME_DNR);
    expect_notification(o, s0 + 1, OCSSD_NOTIFY_ERR_UNRECOVERABLE,
                        OCSSD_NOTIFY_MASK_SECTOR, 1);

    qocssd_aer_submit(o);
    inject(o, "inject-high-ecc", s0 + 2);
    rd_check(o, 0, 0, 4, 1);
    expect_notification(o, s0 + 2, OCSSD_NOTIFY_ERR_HIGH,
                        OCSSD_NOTIFY_MASK_SECTOR, 1);

    qocssd_aer_submit(o);
    inject(o, "inject-write-error", s0 + 9);
    g_assert_cmphex(wr(o, 0, 8, 4, 1, 0), ==,
                    OCSSD_CHUNK_EARLY_CLOSE | NVME_DNR);
    expect_notification(o, s0, OCSSD_NOTIFY_ERR_HIGH,
                        OCSSD_NOTIFY_MASK_CHUNK, 1);

    qocssd_aer_submit(o);
    inject(o, "inject-reset-fail", qocssd_chunk_slba(o, 3) + 7);
    g_assert_cmphex(vreset(o, 3), ==, OFFL);
    expect_notification(o, qocssd_chunk_slba(o, 3),
                        OCSSD_NOTIFY_ERR_UNRECOVERABLE,
                        OCSSD_NOTIFY_MASK_CHUNK, 1);
    expect_chunks(o, want, ARRAY_SIZE(want));

    /* An LBA outside the namespace is refused, named. */
    nsze = 1ULL << (o->geo.lbaf.grp_len + o->geo.lbaf.pu_len +
                    o->geo.lbaf.chk_len + o->geo.lbaf.lbk_len);
    rsp = qtest_qmp(o->qts, "{'execute': 'qom-set', 'arguments': "
                    "{'path': '/machine/peripheral/oc', "
                    "'property': 'inject-offline', 'value': %" PRIu64 "}}",
                    nsze);
    g_assert(qdict_haskey(rsp, "error"));
    {
        g_autofree char *want_desc = g_strdup_printf(
            "0x%" PRIx64 " is not a valid LBA", nsze);
        const char *desc = qdict_get_str(qdict_get_qdict(rsp, "error"),
                                         "desc");

        g_assert_nonnull(strstr(desc, want_desc));
    }
    qobject_unref(rsp);
    expect_no_notification(o);
    finish(o);

    o = boot(img, "");
    expect_chunks(o, want, ARRAY_SIZE(want));
    finish(o);
    drop_image(img);
}

/* Two vector reads of chunk 0's 64 sectors: which entries failed. */
static void seeded_reads(const char *img, const char *fault_opts,
                         uint64_t seed, bool write, uint64_t *bm)
{
    g_autofree char *opts = g_strdup_printf("%s,seed=%" PRIu64, fault_opts,
                                            seed);
    QOcssd *o = boot(img, opts);
    g_autofree uint64_t *l = lba_run(o, 0, 0, CLBA);
    unsigned i;

    if (write) {
        g_assert_cmphex(wr(o, 0, 0, CLBA, 1, 0), ==, 0);
    }
    for (i = 0; i < 2; i++) {
        uint16_t status = vrd(o, l, CLBA, 1, &bm[i]);

        g_assert_cmphex(status, ==,
                        bm[i] ? NVME_UNRECOVERED_READ | NVME_DNR : 0);
    }
    finish(o);
}

/*
 * seed=N: the same seed fails the same reads, a different seed others
 * (the generator is fixed, so these bitmaps are too).
 */
static void test_seed(void)
{
    g_autofree char *opts = NULL;
    char *img = fault_image("readfail", "0 0 0 * 0.5\n", &opts);
    uint64_t a[2], b[2], c[2];

    seeded_reads(img, opts, 42, true, a);
    seeded_reads(img, opts, 42, false, b);
    seeded_reads(img, opts, 43, false, c);
    g_test_message("seed 42: 0x%016" PRIx64 " 0x%016" PRIx64 ", seed 43: "
                   "0x%016" PRIx64, a[0], a[1], c[0]);
    g_assert_cmphex(a[0], ==, b[0]);
    g_assert_cmphex(a[1], ==, b[1]);
    g_assert_cmphex(a[0], !=, 0);
    g_assert_cmphex(a[0], !=, UINT64_MAX);
    g_assert_cmphex(a[0], !=, a[1]);
    g_assert_cmphex(c[0], !=, a[0]);
    drop_image(img);
}

/* ---- sparse images ---------------------------------------------------------- */

#define BIG_GEO "num_grp=8,num_pu=16,num_chk=1024,clba=8192"

/*
 * The image's allocated extents: [0, data_offset) (header and table),
 * then exactly the sectors' data and metadata written.
 */
static void expect_extents(const char *img, const OcssdImageHeader *h,
                           uint64_t sector, unsigned n)
{
    uint64_t data = le64_to_cpu(h->data_offset);
    uint64_t d = data + sector * 4096;
    uint64_t m = le64_to_cpu(h->meta_offset) + sector * 16;
    int fd = open(img, O_RDONLY);
    off_t r;

    g_assert(fd >= 0);
    r = lseek(fd, 0, SEEK_HOLE);
    if (r < 0 && errno == EINVAL) {
        g_test_message("no SEEK_HOLE on this file system: extents unchecked");
        close(fd);
        return;
    }
    g_assert_cmpint(lseek(fd, 0, SEEK_DATA), ==, 0);
    g_assert_cmpint(r, ==, data);
    g_assert_cmpint(lseek(fd, data, SEEK_DATA), ==, d);
    g_assert_cmpint(lseek(fd, d, SEEK_HOLE), ==, d + n * 4096);
    g_assert_cmpint(lseek(fd, d + n * 4096, SEEK_DATA), ==,
                    ROUND_DOWN(m, 4096));
    r = lseek(fd, m, SEEK_HOLE);
    g_assert_cmpint(r, >=, m + n * 16);
    g_assert_cmpint(r, <=, ROUND_UP(m + n * 16, 4096));
    g_assert_cmpint(lseek(fd, r, SEEK_DATA), ==, -1);
    g_assert_cmpint(errno, ==, ENXIO);
    close(fd);
}

/*
 * A new 4 TiB image takes the table's few megabytes of disk; sectors are
 * written only when the guest writes them.
 */
static void test_sparse(void)
{
    char *img = qocssd_tmp_image();
    QOcssd *o = boot(img, BIG_GEO);
    uint64_t chunk = 100000, sector = chunk * 8192;
    OcssdImageHeader h;
    OcssdChunkDescriptor cd;
    struct stat st;

    img_header(img, &h);
    g_assert_cmpuint(le64_to_cpu(h.data_size), ==, 4ULL << 40);
    g_assert_cmpuint(le64_to_cpu(h.table_size), ==, 4ULL << 20);
    g_assert_cmpuint(file_size(img), ==, le64_to_cpu(h.image_size));
    g_assert_cmpint(stat(img, &st), ==, 0);
    g_test_message("a new 4 TiB image: %" PRIu64 " bytes on disk",
                   (uint64_t)st.st_blocks * 512);
    g_assert_cmpuint((uint64_t)st.st_blocks * 512, <=,
                     le64_to_cpu(h.data_offset) + (64 << 10));

    g_assert_cmphex(wr(o, chunk, 0, 4, 1, 0), ==, 0);
    g_assert_cmphex(qocssd_flush(o, 1), ==, 0);
    expect_extents(img, &h, sector, 4);
    /* Reading free chunks and the shutdown add nothing. */
    rd_expect(o, 7, 0, 8, 0, 0);
    g_assert_cmphex(qocssd_chunk_info(o, chunk, &cd), ==, 0);
    g_assert_cmpuint(le64_to_cpu(cd.wp), ==, 4);
    finish(o);
    expect_extents(img, &h, sector, 4);
    g_assert_cmpint(stat(img, &st), ==, 0);
    g_assert_cmpuint((uint64_t)st.st_blocks * 512, <=,
                     le64_to_cpu(h.data_offset) + (64 << 10));
    drop_image(img);
}

/* ---- geometry limits ------------------------------------------------ */

/*
 * Properties past the chunk limit on an empty image: realize refuses
 * them, before it allocates or writes anything (the image stays empty).
 */
static void test_geometry_limit_props(void)
{
    static const struct {
        const char *opts;
        const char *msg;
    } cases[] = {
        { "num_grp=97,num_pu=257,num_chk=673",
          "ocssd: num_grp=97 x num_pu=257 x num_chk=673 = 16777217 "
          LIMIT_MSG },
        { "num_chk=16777217,num_grp=1,num_pu=1",
          "ocssd: num_grp=1 x num_pu=1 x num_chk=16777217 = 16777217 "
          LIMIT_MSG },
        { "num_grp=65535,num_pu=65535,num_chk=1,clba=1,ws_min=1,ws_opt=1,"
          "mw_cunits=0",
          "ocssd: num_grp=65535 x num_pu=65535 x num_chk=1 = 4294836225 "
          LIMIT_MSG },
    };
    char *img = qocssd_tmp_image();
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        const char *needles[] = { cases[i].msg, NULL };

        expect_refused(img, "", cases[i].opts, needles);
        g_assert_cmpuint(file_size(img), ==, 0);
    }
    drop_image(img);
}

/*
 * device_add past the limit fails with the message and the running VM,
 * its other ocssd device included, goes on (it used to abort QEMU,
 * allocating 128 GiB of chunk state).
 */
static void test_geometry_limit_hotplug(void)
{
    char *img = qocssd_tmp_image(), *empty = qocssd_tmp_image();
    const char *needles[] = {
        "ocssd: num_grp=65535 x num_pu=65535 x num_chk=1 = 4294836225 "
        LIMIT_MSG, NULL
    };
    QOcssd *o = qocssd_boot_cmdline("-machine pc -drive if=none,id=oc0,"
                                    "file=%s,format=raw -drive if=none,"
                                    "id=oc1,file=%s,format=raw -device "
                                    "ocssd,drive=oc0,addr=04.0,id=oc," GEO
                                    ",mw_cunits=0", img, empty);
    QDict *rsp;

    qocssd_start_io(o);
    g_assert_cmphex(wr(o, 1, 0, 8, 1, 0), ==, 0);
    rsp = qtest_qmp(o->qts, "{'execute': 'device_add', 'arguments': "
                    "{'driver': 'ocssd', 'id': 'big', 'drive': 'oc1', "
                    "'addr': '05.0', 'num_grp': 65535, 'num_pu': 65535, "
                    "'num_chk': 1, 'clba': 1, 'ws_min': 1, 'ws_opt': 1, "
                    "'mw_cunits': 0, 'sec_size': 512, 'md_size': 0}}");
    g_assert(qdict_haskey(rsp, "error"));
    expect_text(qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"),
                needles);
    qobject_unref(rsp);
    g_assert_cmpuint(file_size(empty), ==, 0);
    rd_check(o, 1, 0, 8, 1);
    finish(o);
    drop_image(empty);
    drop_image(img);
}

/* Size, allocated blocks and the first MiB (header, table start). */
static char *sparse_digest(const char *img)
{
    g_autofree uint8_t *buf = g_malloc0(1 << 20);
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    struct stat st;
    int fd = open(img, O_RDONLY);

    g_assert(fd >= 0);
    g_assert_cmpint(fstat(fd, &st), ==, 0);
    g_assert_cmpint(pread(fd, buf, 1 << 20, 0), ==, 1 << 20);
    close(fd);
    g_checksum_update(sum, (guchar *)&st.st_size, sizeof(st.st_size));
    g_checksum_update(sum, (guchar *)&st.st_blocks, sizeof(st.st_blocks));
    g_checksum_update(sum, buf, 1 << 20);
    return g_strdup(g_checksum_get_string(sum));
}

/*
 * The issue's image: 65535 x 65535 parallel units of one 1-sector chunk,
 * in a sparse file as large as its header says (2.2 TB, a hole but for
 * the header and the first table blocks), so that no size check can
 * refuse it first.  The device and ocssd-img refuse it with the limit and
 * leave it as it was; realize used to allocate 128 GiB for it and abort.
 */
static void test_geometry_limit_sparse(void)
{
    char *img = qocssd_tmp_image();
    g_autofree char *before = NULL, *after = NULL, *err = NULL;
    g_autofree char *tool = tool_path(), *out = NULL, *terr = NULL;
    const char *needles[] = {
        HEADER_LIMIT_MSG "num_grp=65535 x num_pu=65535 x num_chk=1 = "
        "4294836225 " LIMIT_MSG, NULL
    };
    OcssdImageHeader h;
    int ret;

    run_ok(img, "", MGEO);
    header_geo(img, 2);
    img_header(img, &h);
    if (truncate(img, le64_to_cpu(h.image_size)) < 0) {
        g_test_skip("no sparse file of the header's size on this file "
                    "system");
        drop_image(img);
        return;
    }
    before = sparse_digest(img);
    ret = run_qemu(&err, "-drive if=none,id=oc0,file=%s,format=raw "
                   "-device ocssd,drive=oc0", img);
    if (ret != 1) {
        g_error("QEMU exited with %d, expected 1:\n%s", ret, err);
    }
    expect_text(err, needles);
    if (tool) {
        const char *cmds[] = { "check", "info" };
        const char *tneedles[] = {
            "ocssd image header holds an invalid geometry: num_grp=65535 x "
            "num_pu=65535 x num_chk=1 = 4294836225 " LIMIT_MSG, NULL
        };
        unsigned i;

        for (i = 0; i < ARRAY_SIZE(cmds); i++) {
            char *argv[] = { tool, (char *)cmds[i], img, NULL };
            g_autoptr(GError) gerr = NULL;
            int status;

            g_free(out);
            g_free(terr);
            if (!g_spawn_sync(NULL, argv, NULL, 0, NULL, NULL, &out, &terr,
                              &status, &gerr)) {
                g_error("cannot run %s: %s", tool, gerr->message);
            }
            g_assert_true(WIFEXITED(status));
            /* check: corrupt (2); info: failed (1) */
            g_assert_cmpint(WEXITSTATUS(status), ==, i ? 1 : 2);
            expect_text(terr, tneedles);
        }
    }
    after = sparse_digest(img);
    g_assert_cmpstr(after, ==, before);
    drop_image(img);
}

int main(int argc, char **argv)
{
    unsigned i;

    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/ocssd/image/restart", test_restart);
    qtest_add_func("/ocssd/image/contradicting-props",
                   test_contradicting_props);
    qtest_add_func("/ocssd/image/crash/flush", test_crash_flush);
    qtest_add_func("/ocssd/image/crash/fua", test_crash_fua);
    qtest_add_func("/ocssd/image/crash/flush-in-flight",
                   test_crash_flush_in_flight);
    qtest_add_func("/ocssd/image/crash/after-stop", test_crash_after_stop);
    qtest_add_func("/ocssd/image/crash/after-shutdown",
                   test_crash_after_shutdown);
    qtest_add_func("/ocssd/image/shutdown-superseded",
                   test_shutdown_superseded);
    qtest_add_func("/ocssd/image/reset-durable", test_reset_durable);
    qtest_add_func("/ocssd/image/write-error", test_write_error);
    qtest_add_func("/ocssd/image/backend/table-write-error",
                   test_table_write_error);
    qtest_add_func("/ocssd/image/backend/reset-table-error",
                   test_reset_table_error);
    qtest_add_func("/ocssd/image/backend/flush-error", test_flush_error);
    qtest_add_func("/ocssd/image/backend/stop-flush-error",
                   test_stop_flush_error);
    qtest_add_func("/ocssd/image/backend/header-write-error",
                   test_header_write_error);
    qtest_add_func("/ocssd/image/backend/read-error", test_read_error);
    qtest_add_func("/ocssd/image/backend/read-meta-skipped",
                   test_read_meta_skipped);
    qtest_add_func("/ocssd/image/backend/reset-then-write-lost",
                   test_reset_then_write_lost);
    qtest_add_func("/ocssd/image/unplug", test_unplug);
    qtest_add_func("/ocssd/image/reset-in-flight", test_reset_in_flight);
    qtest_add_func("/ocssd/image/qcow2", test_qcow2);
    qtest_add_func("/ocssd/image/restart-512", test_restart_512);
    for (i = 0; i < ARRAY_SIZE(malformed); i++) {
        g_autofree char *path = g_strdup_printf("/ocssd/image/malformed/%s",
                                                malformed[i].name);

        qtest_add_data_func(path, &malformed[i], test_malformed);
    }
    qtest_add_func("/ocssd/image/read-only", test_read_only);
    qtest_add_func("/ocssd/image/fault/chunkinfo", test_chunkinfo);
    qtest_add_func("/ocssd/image/fault/file-errors", test_fault_file_errors);
    qtest_add_func("/ocssd/image/fault/resetfail", test_resetfail);
    qtest_add_func("/ocssd/image/fault/writefail", test_writefail);
    qtest_add_func("/ocssd/image/fault/readfail", test_readfail);
    qtest_add_func("/ocssd/image/fault/highecc", test_highecc);
    qtest_add_func("/ocssd/image/fault/runtime-notifications",
                   test_runtime_notifications);
    qtest_add_func("/ocssd/image/fault/seed", test_seed);
    qtest_add_func("/ocssd/image/sparse", test_sparse);
    qtest_add_func("/ocssd/image/geometry-limit/properties",
                   test_geometry_limit_props);
    qtest_add_func("/ocssd/image/geometry-limit/hotplug",
                   test_geometry_limit_hotplug);
    qtest_add_func("/ocssd/image/geometry-limit/sparse",
                   test_geometry_limit_sparse);
    return g_test_run();
}
