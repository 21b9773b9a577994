/*
 * ocssd-img: create, inspect and check ocssd media images
 *
 *   ocssd-img create [-f] [-o name=value[,...]] FILE
 *   ocssd-img info [--json] FILE
 *   ocssd-img check [--repair] FILE
 *
 * The tool works on plain files (or block devices) with pread/pwrite; a
 * device reaches the same images through QEMU's block layer.  Both use
 * hw/block/ocssd-image.c for the format (docs/image-format.rst) and
 * hw/block/ocssd-media.c for the geometry rules, so the tool accepts and
 * rejects exactly what the device does, with the same property names.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/uuid.h"
#include "hw/block/ocssd-image.h"

/* check's exit codes, as qemu-img check's. */
enum {
    EXIT_CLEAN = 0,
    EXIT_FAILED = 1,        /* could not check (bad usage, I/O error) */
    EXIT_CORRUPT = 2,
};

static void usage(FILE *f)
{
    fprintf(f,
"Usage: ocssd-img COMMAND [OPTIONS] FILE\n"
"\n"
"Commands:\n"
"  create [-f] [-o name=value[,...]] FILE\n"
"        make FILE a new, empty (every chunk free), sparse ocssd image.\n"
"        -o takes the device's media properties: num_grp, num_pu, num_chk,\n"
"        clba, sec_size, md_size, ws_min, ws_opt, mw_cunits, maxoc,\n"
"        maxocpu, wit, trdt, trdm, twrt, twrm, tcrst, tcrsm, vector_copy,\n"
"        multiple_resets, early_reset (on/off).  Unset ones take the\n"
"        device's defaults.  -f overwrites a FILE that is not empty.\n"
"  info [--json] FILE\n"
"        geometry, media properties, chunk counts per state and a chunk\n"
"        state map per parallel unit.\n"
"  check [--repair] FILE\n"
"        verify the header, every chunk table entry and the file size.\n"
"        Exit status: 0 clean, 2 corrupt, 1 check failed.  --repair\n"
"        rewrites damaged chunk table entries as offline chunks.\n"
"  help\n");
}

/* ---- options ---------------------------------------------------------- */

static const struct {
    const char *name;
    size_t offset;
} u32_opts[] = {
#define O(f) { #f, offsetof(OcssdMediaParams, f) }
    O(num_grp), O(num_pu), O(num_chk), O(clba), O(sec_size), O(md_size),
    O(ws_min), O(ws_opt), O(mw_cunits), O(maxoc), O(maxocpu), O(wit),
    O(trdt), O(trdm), O(twrt), O(twrm), O(tcrst), O(tcrsm),
#undef O
};

static const struct {
    const char *name;
    size_t offset;
} bool_opts[] = {
#define B(f) { #f, offsetof(OcssdMediaParams, f) }
    B(vector_copy), B(multiple_resets), B(early_reset),
#undef B
};

static bool parse_options(const char *opts, OcssdMediaParams *p, Error **errp)
{
    g_auto(GStrv) items = g_strsplit(opts, ",", -1);
    int i, j;

    for (i = 0; items[i]; i++) {
        char *eq = strchr(items[i], '=');
        const char *val;
        bool found = false;

        if (!*items[i]) {
            continue;
        }
        if (!eq) {
            error_setg(errp, "option '%s' needs a value (name=value)",
                       items[i]);
            return false;
        }
        *eq = 0;
        val = eq + 1;
        for (j = 0; j < ARRAY_SIZE(u32_opts) && !found; j++) {
            uint64_t v;

            if (strcmp(items[i], u32_opts[j].name)) {
                continue;
            }
            found = true;
            if (qemu_strtou64(val, NULL, 0, &v) < 0 || v > UINT32_MAX) {
                error_setg(errp, "%s=%s is invalid: expected a number from 0 "
                           "to %" PRIu32, items[i], val, UINT32_MAX);
                return false;
            }
            *(uint32_t *)((uint8_t *)p + u32_opts[j].offset) = v;
        }
        for (j = 0; j < ARRAY_SIZE(bool_opts) && !found; j++) {
            bool *b = (bool *)((uint8_t *)p + bool_opts[j].offset);

            if (strcmp(items[i], bool_opts[j].name)) {
                continue;
            }
            found = true;
            if (!strcmp(val, "on") || !strcmp(val, "true")) {
                *b = true;
            } else if (!strcmp(val, "off") || !strcmp(val, "false")) {
                *b = false;
            } else {
                error_setg(errp, "%s=%s is invalid: expected on or off",
                           items[i], val);
                return false;
            }
        }
        if (!found) {
            error_setg(errp, "unknown option '%s' (see ocssd-img help)",
                       items[i]);
            return false;
        }
    }
    return true;
}

/* ---- file access ------------------------------------------------------ */

typedef struct Image {
    const char *path;
    int fd;
    uint64_t size;
    OcssdImageHeader header;
    OcssdMediaParams p;
    OcssdImageLayout layout;
    uint8_t *table;
} Image;

static bool pread_full(int fd, void *buf, size_t len, uint64_t off,
                       const char *path, Error **errp)
{
    ssize_t r = pread(fd, buf, len, off);

    if (r != (ssize_t)len) {
        error_setg_errno(errp, r < 0 ? errno : EIO, "%s: cannot read %zu "
                         "bytes at offset %" PRIu64, path, len, off);
        return false;
    }
    return true;
}

static bool pwrite_full(int fd, const void *buf, size_t len, uint64_t off,
                        const char *path, Error **errp)
{
    ssize_t r = pwrite(fd, buf, len, off);

    if (r != (ssize_t)len) {
        error_setg_errno(errp, r < 0 ? errno : EIO, "%s: cannot write %zu "
                         "bytes at offset %" PRIu64, path, len, off);
        return false;
    }
    return true;
}

/*
 * Open and check the header: EXIT_CLEAN, EXIT_FAILED (the file cannot be
 * read) or EXIT_CORRUPT (it is no valid ocssd image).
 */
static int image_open(Image *img, const char *path, bool writable,
                      Error **errp)
{
    struct stat st;

    memset(img, 0, sizeof(*img));
    img->path = path;
    img->fd = qemu_open(path, writable ? O_RDWR : O_RDONLY, errp);
    if (img->fd < 0) {
        return EXIT_FAILED;
    }
    if (fstat(img->fd, &st) < 0) {
        error_setg_errno(errp, errno, "%s: cannot stat", path);
        return EXIT_FAILED;
    }
    img->size = st.st_size;
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(img->fd, 0, SEEK_END);

        img->size = end < 0 ? 0 : end;
    }
    if (img->size < OCSSD_IMAGE_HEADER_SIZE) {
        error_setg(errp, "%s: %" PRIu64 " bytes is too small to hold an "
                   "ocssd image header", path, img->size);
        return EXIT_CORRUPT;
    }
    if (!pread_full(img->fd, &img->header, sizeof(img->header), 0, path,
                    errp)) {
        return EXIT_FAILED;
    }
    if (!ocssd_image_header_parse(&img->header, img->size, &img->p, errp)) {
        error_prepend(errp, "%s: ", path);
        return EXIT_CORRUPT;
    }
    ocssd_image_layout(&img->p, &img->layout);
    img->table = g_malloc(img->layout.table_size);
    if (!pread_full(img->fd, img->table, img->layout.table_size,
                    img->layout.table_offset, path, errp)) {
        return EXIT_FAILED;
    }
    return EXIT_CLEAN;
}

static void image_close(Image *img)
{
    if (img->fd >= 0) {
        qemu_close(img->fd);
    }
    g_free(img->table);
}

/* ---- create ------------------------------------------------------------ */

static int cmd_create(int argc, char **argv)
{
    OcssdMediaParams p = ocssd_media_default_params;
    OcssdImageHeader h;
    OcssdImageLayout l;
    OcssdMedia m;
    QemuUUID uuid;
    Error *err = NULL;
    g_autofree uint8_t *table = NULL;
    const char *path;
    bool force = false;
    struct stat st;
    uint64_t i;
    int c, fd;

    optind = 1;
    while ((c = getopt(argc, argv, "fo:h")) != -1) {
        switch (c) {
        case 'f':
            force = true;
            break;
        case 'o':
            if (!parse_options(optarg, &p, &err)) {
                error_report_err(err);
                return EXIT_FAILED;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_FAILED;
        }
    }
    if (optind != argc - 1) {
        error_report("create: expected exactly one FILE (see ocssd-img help)");
        return EXIT_FAILED;
    }
    path = argv[optind];
    if (!ocssd_media_params_check(&p, &err)) {
        error_report_err(err);
        return EXIT_FAILED;
    }
    if (!stat(path, &st) && S_ISREG(st.st_mode) && st.st_size && !force) {
        error_report("%s exists and is not empty: not overwriting it "
                     "(use -f)", path);
        return EXIT_FAILED;
    }

    ocssd_image_layout(&p, &l);
    ocssd_media_init(&m, &p);
    qemu_uuid_generate(&uuid);
    ocssd_image_header_init(&h, &p, &uuid);
    h.power_cycles = 0;
    ocssd_image_header_seal(&h);
    table = g_malloc0(l.table_size);
    for (i = 0; i < m.nchunks; i++) {
        ocssd_image_chunk_encode(&m.chunk[i],
                                 (OcssdImageChunk *)table + i);
    }
    ocssd_media_cleanup(&m);

    fd = qemu_create(path, O_RDWR, 0644, &err);
    if (fd < 0) {
        error_report_err(err);
        return EXIT_FAILED;
    }
    /* Sparse: only the header and the table are written. */
    if (fstat(fd, &st) < 0 ||
        (S_ISREG(st.st_mode) &&
         (ftruncate(fd, 0) < 0 || ftruncate(fd, l.image_size) < 0))) {
        error_report("%s: cannot size the image to %" PRIu64 " bytes: %s",
                     path, l.image_size, strerror(errno));
        qemu_close(fd);
        return EXIT_FAILED;
    }
    if (!pwrite_full(fd, table, l.table_size, l.table_offset, path, &err) ||
        !pwrite_full(fd, &h, sizeof(h), 0, path, &err)) {
        error_report_err(err);
        qemu_close(fd);
        return EXIT_FAILED;
    }
    if (fsync(fd) < 0) {
        error_report("%s: fsync: %s", path, strerror(errno));
        qemu_close(fd);
        return EXIT_FAILED;
    }
    qemu_close(fd);
    printf("Formatting '%s', %" PRIu32 " groups x %" PRIu32 " PUs x %" PRIu32
           " chunks x %" PRIu32 " sectors of %" PRIu32 "+%" PRIu32
           " bytes, image size %" PRIu64 "\n", path, p.num_grp, p.num_pu,
           p.num_chk, p.clba, p.sec_size, p.md_size, l.image_size);
    return 0;
}

/*
 * Options of info and check: one optional --FLAG, --help, one FILE.
 * Returns the FILE, or NULL with *exit_code set.
 */
static const char *parse_file_args(int argc, char **argv, const char *cmd,
                                   const char *flag, bool *flag_set,
                                   int *exit_code)
{
    const struct option longopts[] = {
        { flag, no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { }
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            *flag_set = true;
            break;
        case 'h':
            usage(stdout);
            *exit_code = 0;
            return NULL;
        default:
            usage(stderr);
            *exit_code = EXIT_FAILED;
            return NULL;
        }
    }
    if (optind != argc - 1) {
        error_report("%s: expected exactly one FILE (see ocssd-img help)", cmd);
        *exit_code = EXIT_FAILED;
        return NULL;
    }
    return argv[optind];
}

/* ---- info -------------------------------------------------------------- */

static char state_char(uint8_t state)
{
    switch (state) {
    case OCSSD_CHUNK_FREE:
        return '.';
    case OCSSD_CHUNK_OPEN:
        return 'o';
    case OCSSD_CHUNK_CLOSED:
        return 'C';
    case OCSSD_CHUNK_OFFLINE:
        return 'X';
    default:
        return '?';
    }
}

enum { ST_FREE, ST_OPEN, ST_CLOSED, ST_OFFLINE, ST_BAD, ST__N };

static int state_index(uint8_t state)
{
    switch (state) {
    case OCSSD_CHUNK_FREE:
        return ST_FREE;
    case OCSSD_CHUNK_OPEN:
        return ST_OPEN;
    case OCSSD_CHUNK_CLOSED:
        return ST_CLOSED;
    case OCSSD_CHUNK_OFFLINE:
        return ST_OFFLINE;
    default:
        return ST_BAD;
    }
}

static const char *const state_names[ST__N] = {
    "free", "open", "closed", "offline", "damaged",
};

/*
 * Decode every table entry for display; damaged entries show as '?' (and
 * count as "damaged"), check says why.
 */
static void decode_states(Image *img, OcssdMedia *m, uint8_t *state)
{
    uint64_t i;

    for (i = 0; i < m->nchunks; i++) {
        if (ocssd_image_chunk_decode((OcssdImageChunk *)img->table + i,
                                     &img->p, &m->chunk[i], NULL)) {
            state[i] = m->chunk[i].state;
        } else {
            state[i] = 0;
        }
    }
}

static int cmd_info(int argc, char **argv)
{
    Image img;
    OcssdMedia m;
    Error *err = NULL;
    g_autofree uint8_t *state = NULL;
    uint64_t count[ST__N] = { 0 }, i;
    bool json = false;
    g_autofree char *uuid = NULL;
    QemuUUID u;
    uint32_t grp, pu, chk;
    const char *path;
    int s, ret;

    path = parse_file_args(argc, argv, "info", "json", &json, &ret);
    if (!path) {
        return ret;
    }
    if (image_open(&img, path, false, &err) != EXIT_CLEAN) {
        error_report_err(err);
        image_close(&img);
        return EXIT_FAILED;
    }
    ocssd_media_init(&m, &img.p);
    state = g_malloc0(m.nchunks);
    decode_states(&img, &m, state);
    for (i = 0; i < m.nchunks; i++) {
        count[state_index(state[i])]++;
    }
    memcpy(u.data, img.header.uuid, sizeof(u.data));
    uuid = qemu_uuid_unparse_strdup(&u);

    if (json) {
        printf("{\n  \"filename\": \"%s\",\n  \"format-version\": %d,\n"
               "  \"uuid\": \"%s\",\n  \"image-size\": %" PRIu64 ",\n"
               "  \"clean\": %s,\n  \"power-cycles\": %" PRIu64 ",\n"
               "  \"unsafe-shutdowns\": %" PRIu64 ",\n", img.path,
               OCSSD_IMAGE_VERSION, uuid, img.layout.image_size,
               le32_to_cpu(img.header.flags) & OCSSD_IMAGE_FLAG_DIRTY ?
               "false" : "true",
               le64_to_cpu(img.header.power_cycles),
               le64_to_cpu(img.header.unsafe_shutdowns));
        printf("  \"media\": {");
        for (i = 0; i < ARRAY_SIZE(u32_opts); i++) {
            printf("%s\n    \"%s\": %" PRIu32, i ? "," : "", u32_opts[i].name,
                   *(uint32_t *)((uint8_t *)&img.p + u32_opts[i].offset));
        }
        for (i = 0; i < ARRAY_SIZE(bool_opts); i++) {
            printf(",\n    \"%s\": %s", bool_opts[i].name,
                   *(bool *)((uint8_t *)&img.p + bool_opts[i].offset) ?
                   "true" : "false");
        }
        printf("\n  },\n  \"chunks\": {\n    \"total\": %" PRIu64, m.nchunks);
        for (s = 0; s < ST__N; s++) {
            printf(",\n    \"%s\": %" PRIu64, state_names[s], count[s]);
        }
        printf("\n  },\n  \"parallel-units\": [");
        for (grp = 0; grp < img.p.num_grp; grp++) {
            for (pu = 0; pu < img.p.num_pu; pu++) {
                uint64_t base = ((uint64_t)grp * img.p.num_pu + pu) *
                                img.p.num_chk;

                printf("%s\n    { \"group\": %" PRIu32 ", \"pu\": %" PRIu32
                       ", \"map\": \"", grp || pu ? "," : "", grp, pu);
                for (chk = 0; chk < img.p.num_chk; chk++) {
                    putchar(state_char(state[base + chk]));
                }
                printf("\" }");
            }
        }
        printf("\n  ]\n}\n");
    } else {
        printf("image: %s\nformat: ocssd image version %d\nuuid: %s\n"
               "image size: %" PRIu64 " bytes (%" PRIu64 " data + %" PRIu64
               " metadata)\nstate: %s\npower cycles: %" PRIu64
               "\nunsafe shutdowns: %" PRIu64 "\n", img.path,
               OCSSD_IMAGE_VERSION, uuid, img.layout.image_size,
               img.layout.data_size, img.layout.meta_size,
               le32_to_cpu(img.header.flags) & OCSSD_IMAGE_FLAG_DIRTY ?
               "in use or not closed cleanly" : "clean",
               le64_to_cpu(img.header.power_cycles),
               le64_to_cpu(img.header.unsafe_shutdowns));
        printf("geometry: %" PRIu32 " groups x %" PRIu32 " parallel units x %"
               PRIu32 " chunks x %" PRIu32 " sectors; sector %" PRIu32
               " bytes + %" PRIu32 " metadata\n", img.p.num_grp,
               img.p.num_pu, img.p.num_chk, img.p.clba, img.p.sec_size,
               img.p.md_size);
        printf("LBA format: grp %u bits, pu %u, chk %u, sector %u\n",
               m.lbaf.grp_len, m.lbaf.pu_len, m.lbaf.chk_len,
               m.lbaf.lbk_len);
        printf("media: ws_min %" PRIu32 " ws_opt %" PRIu32 " mw_cunits %"
               PRIu32 " maxoc %" PRIu32 " maxocpu %" PRIu32 " wit %" PRIu32
               "\n       vector_copy %s multiple_resets %s early_reset %s\n",
               img.p.ws_min, img.p.ws_opt, img.p.mw_cunits, img.p.maxoc,
               img.p.maxocpu, img.p.wit, img.p.vector_copy ? "on" : "off",
               img.p.multiple_resets ? "on" : "off",
               img.p.early_reset ? "on" : "off");
        printf("chunks: %" PRIu64 " total", m.nchunks);
        for (s = 0; s < ST__N; s++) {
            if (s != ST_BAD || count[s]) {
                printf(", %" PRIu64 " %s", count[s], state_names[s]);
            }
        }
        printf("\nchunk map ('.' free, 'o' open, 'C' closed, 'X' offline, "
               "'?' damaged):\n");
        for (grp = 0; grp < img.p.num_grp; grp++) {
            for (pu = 0; pu < img.p.num_pu; pu++) {
                uint64_t base = ((uint64_t)grp * img.p.num_pu + pu) *
                                img.p.num_chk;

                printf("  grp %3" PRIu32 " pu %3" PRIu32 " ", grp, pu);
                for (chk = 0; chk < img.p.num_chk; chk++) {
                    if (chk && chk % 64 == 0) {
                        printf("\n                  ");
                    }
                    putchar(state_char(state[base + chk]));
                }
                putchar('\n');
            }
        }
    }
    ocssd_media_cleanup(&m);
    image_close(&img);
    return 0;
}

/* ---- check ------------------------------------------------------------- */

static int cmd_check(int argc, char **argv)
{
    Image img;
    OcssdMedia m;
    Error *err = NULL;
    bool repair = false;
    uint64_t bad = 0, repaired = 0, i;
    const char *path;
    int ret;

    path = parse_file_args(argc, argv, "check", "repair", &repair, &ret);
    if (!path) {
        return ret;
    }
    ret = image_open(&img, path, repair, &err);
    if (ret != EXIT_CLEAN) {
        /* Without a valid header nothing else can be checked. */
        error_report_err(err);
        image_close(&img);
        if (ret == EXIT_CORRUPT) {
            printf("%s: corrupt: the header is not valid (not repairable)\n",
                   path);
        }
        return ret;
    }
    ocssd_media_init(&m, &img.p);
    for (i = 0; i < m.nchunks; i++) {
        OcssdImageChunk *e = (OcssdImageChunk *)img.table + i;
        OcssdAddr a;

        if (ocssd_image_chunk_decode(e, &img.p, &m.chunk[i], &err)) {
            continue;
        }
        bad++;
        ocssd_chunk_addr(&m, i, &a);
        printf("chunk table entry %" PRIu64 " (grp %" PRIu32 " pu %" PRIu32
               " chk %" PRIu32 "): %s%s\n", i, a.grp, a.pu, a.chk,
               error_get_pretty(err), repair ? " - marked offline" : "");
        error_free(err);
        err = NULL;
        if (repair) {
            OcssdChunk off = {
                .state = OCSSD_CHUNK_OFFLINE,
                .type = OCSSD_CHUNK_TYPE_SEQUENTIAL,
                .cnlb = img.p.clba,
            };

            ocssd_image_chunk_encode(&off, e);
            repaired++;
        }
    }
    if (repaired) {
        if (!pwrite_full(img.fd, img.table, img.layout.table_size,
                         img.layout.table_offset, img.path, &err) ||
            fsync(img.fd) < 0) {
            if (err) {
                error_report_err(err);
            }
            ocssd_media_cleanup(&m);
            image_close(&img);
            return EXIT_FAILED;
        }
    }
    if (le32_to_cpu(img.header.flags) & OCSSD_IMAGE_FLAG_DIRTY) {
        printf("note: the image is in use or was not closed cleanly\n");
    }
    printf("%s: %" PRIu64 " chunks checked, %" PRIu64 " damaged%s\n",
           img.path, m.nchunks, bad,
           repaired ? ", repaired" : (bad ? "" : ": no errors"));
    ocssd_media_cleanup(&m);
    image_close(&img);
    return bad && !repaired ? EXIT_CORRUPT : EXIT_CLEAN;
}

int main(int argc, char **argv)
{
    const char *cmd;

    error_init(argv[0]);
    if (argc < 2) {
        usage(stderr);
        return EXIT_FAILED;
    }
    cmd = argv[1];
    argc--;
    argv++;
    if (!strcmp(cmd, "create")) {
        return cmd_create(argc, argv);
    } else if (!strcmp(cmd, "info")) {
        return cmd_info(argc, argv);
    } else if (!strcmp(cmd, "check")) {
        return cmd_check(argc, argv);
    } else if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") ||
               !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    error_report("unknown command '%s' (see ocssd-img help)", cmd);
    return EXIT_FAILED;
}
