/*
 * ocssd-img: create, inspect, check, draw and age ocssd media images
 *
 *   ocssd-img create [OPEN] [--force] [-o name=value[,...]] FILE
 *   ocssd-img info [OPEN] [--output=human|json] [--chunks] FILE
 *   ocssd-img check [OPEN] [--output=human|json] [--repair] FILE
 *   ocssd-img map [OPEN] --output=svg|png [-O OUT] FILE
 *   ocssd-img age [OPEN] [-o MEDIA] -a name=value[,...] FILE
 *   OPEN: [-f FORMAT | --image-opts] [-U]
 *
 * The tool reaches an image through QEMU's block layer, as qemu-img does
 * and as the device does: a raw file, a qcow2 file, an NBD export, any
 * driver QEMU has.  hw/block/ocssd-image.c is the format
 * (docs/image-format.rst) and hw/block/ocssd-media.c the geometry rules
 * and the media properties' names and help texts, so the tool accepts and
 * rejects exactly what the device does.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include <math.h>
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/option.h"
#include "qemu/help_option.h"
#include "qemu/config-file.h"
#include "qemu/uuid.h"
#include "crypto/init.h"
#include "block/block.h"
#include "ocssd-img.h"

static void usage(FILE *f)
{
    fprintf(f,
"Usage: ocssd-img COMMAND [OPTIONS] FILE\n"
"\n"
"FILE is opened through QEMU's block layer: a file name, a protocol URL\n"
"(nbd://HOST/EXPORT, nbd+unix:///EXPORT?socket=PATH, ...) or, with\n"
"--image-opts, driver options (driver=qcow2,file.filename=a.qcow2).\n"
"Options of every command:\n"
"  -f, --format=FMT   the image's format (raw, qcow2, ...); probed if unset\n"
"  --image-opts       FILE is a list of block driver options\n"
"  -U, --force-share  open an image another QEMU holds (info, check, map)\n"
"\n"
"Commands:\n"
"  create [--force] [-o name=value[,...]] FILE\n"
"        make FILE a new, empty (every chunk free) ocssd image, as the\n"
"        device formats an empty one.  -o takes the device's media\n"
"        properties ('-o help' lists them).  A FILE that does not exist is\n"
"        created (format -f, raw by default); --force overwrites one that\n"
"        holds data.\n"
"  info [--output=human|json] [--chunks] FILE\n"
"        geometry, media properties, counters, chunk counts and wear, a\n"
"        chunk state map per parallel unit; --chunks: every chunk (json).\n"
"  check [--output=human|json] [--repair] FILE\n"
"        verify the header, every chunk table entry and the size.  Exit\n"
"        status: 0 clean, 2 corrupt, 1 check failed.  --repair rewrites\n"
"        damaged chunk table entries as offline chunks.\n"
"  map --output=svg|png [-O OUTFILE] FILE\n"
"        draw the chunk states and the wear (erase counts) per parallel\n"
"        unit, one row per PU, one cell per chunk (OUTFILE: FILE.svg/.png).\n"
"  age [-o MEDIA] -a name=value[,...] [--output=human|json] FILE\n"
"        bring FILE (formatted first if empty) to an aged state: erase\n"
"        counts, offline, closed and open chunks with data, from a seed\n"
"        ('-a help' lists the settings).\n"
"  help\n");
}

/* ---- options ---------------------------------------------------------- */

/* -o: the media properties, from the table the device uses too. */
static QemuOptDesc media_opts_desc[OCSSD_MEDIA_NPROPS + 1];

static void media_opts_init(void)
{
    int i;

    for (i = 0; i < OCSSD_MEDIA_NPROPS; i++) {
        media_opts_desc[i] = (QemuOptDesc) {
            .name = ocssd_media_props[i].name,
            .type = ocssd_media_props[i].is_bool ? QEMU_OPT_BOOL :
                                                   QEMU_OPT_NUMBER,
            .help = ocssd_media_props[i].desc,
        };
    }
}

/*
 * Parse -o into p.  "help" prints the properties: same names and texts
 * as -device ocssd,help.  Returns false on an error (reported) or help
 * (*help set).
 */
bool ocssd_img_parse_media(const char *str, OcssdMediaParams *p, bool *help)
{
    QemuOptsList *list;
    QemuOpts *opts;
    Error *err = NULL;
    int i;

    *help = false;
    list = g_malloc0(sizeof(*list) + sizeof(media_opts_desc));
    list->name = "ocssd-media";
    QTAILQ_INIT(&list->head);
    memcpy(list->desc, media_opts_desc, sizeof(media_opts_desc));
    if (is_help_option(str)) {
        printf("Media properties (defaults: the device's; ranges as "
               "-device ocssd,help):\n");
        qemu_opts_print_help(list, false);
        *help = true;
        g_free(list);
        return false;
    }
    opts = qemu_opts_parse(list, str, false, &err);
    if (!opts) {
        error_reportf_err(err, "-o %s: ", str);
        error_printf("(see ocssd-img create -o help)\n");
        g_free(list);
        return false;
    }
    for (i = 0; i < OCSSD_MEDIA_NPROPS; i++) {
        const char *name = ocssd_media_props[i].name;
        const char *val = qemu_opt_get(opts, name);
        uint64_t v;

        if (!val) {
            continue;
        }
        if (ocssd_media_props[i].is_bool) {
            *ocssd_media_param_bool(p, i) = qemu_opt_get_bool(opts, name,
                                                              false);
            continue;
        }
        v = qemu_opt_get_number(opts, name, 0);
        if (v > UINT32_MAX) {
            error_report("%s=%s is invalid: expected a number from 0 to %"
                         PRIu32, name, val, UINT32_MAX);
            qemu_opts_del(opts);
            g_free(list);
            return false;
        }
        *ocssd_media_param_u32(p, i) = v;
    }
    qemu_opts_del(opts);
    g_free(list);
    return true;
}

/* The options to open an image; 0 when c is one of them. */
int ocssd_img_parse_common(int c, const char *arg, OcssdImgOpen *o)
{
    switch (c) {
    case 'f':
        o->fmt = arg;
        return 0;
    case 'I':
        o->image_opts = true;
        return 0;
    case 'U':
        o->force_share = true;
        return 0;
    }
    return -1;
}

/* ---- opening an image through the block layer ------------------------- */

static QemuOptsList source_opts = {
    .name = "source",
    .implied_opt_name = "file",
    .head = QTAILQ_HEAD_INITIALIZER(source_opts.head),
    .desc = {
        { }
    },
};

BlockBackend *ocssd_img_blk_open(const OcssdImgOpen *o, const char *name,
                                 bool writable, Error **errp)
{
    int flags = writable ? BDRV_O_RDWR | BDRV_O_RESIZE : 0;
    g_autofree char *probed = NULL;
    const char *fmt = o->fmt;
    QDict *options;
    BlockBackend *blk;

    if (writable && !fmt && !o->image_opts) {
        /*
         * Probe read-only first and open with the format found: QEMU
         * guards block 0 of a raw image probed for writing (and warns),
         * while an ocssd header never looks like another format.
         */
        blk = blk_new_open(name, NULL, NULL, 0, NULL);
        if (blk) {
            probed = g_strdup(bdrv_get_format_name(blk_bs(blk)));
            fmt = probed;
            blk_unref(blk);
        }
    }

    if (o->image_opts) {
        QemuOpts *opts;

        if (o->fmt) {
            error_setg(errp, "--image-opts and -f are mutually exclusive: "
                       "give the format as driver=FMT");
            return NULL;
        }
        opts = qemu_opts_parse(&source_opts, name, true, errp);
        if (!opts) {
            error_prepend(errp, "%s: ", name);
            return NULL;
        }
        options = qemu_opts_to_qdict(opts, NULL);
        qemu_opts_del(opts);
    } else {
        options = qdict_new();
        if (fmt) {
            qdict_put_str(options, "driver", fmt);
        }
    }
    if (o->force_share) {
        if (writable) {
            qobject_unref(options);
            error_setg(errp, "%s: -U (--force-share) is for reading only: "
                       "an image another QEMU uses is not written", name);
            return NULL;
        }
        qdict_put_bool(options, BDRV_OPT_FORCE_SHARE, true);
    }
    blk = blk_new_open(o->image_opts ? NULL : name, NULL, options, flags,
                       errp);
    if (!blk) {
        error_prepend(errp, "cannot open '%s': ", name);
        if (!writable) {
            error_append_hint(errp, "If a running QEMU holds the image, -U "
                              "(--force-share) reads it anyway.\n");
        }
    }
    return blk;
}

static bool blk_read(OcssdImg *img, uint64_t off, void *buf, size_t len,
                     const char *what, Error **errp)
{
    int ret = blk_pread(img->blk, off, len, buf, 0);

    if (ret < 0) {
        error_setg_errno(errp, -ret, "%s: cannot read the %s (%zu bytes at "
                         "offset %" PRIu64 ")", img->name, what, len, off);
        return false;
    }
    return true;
}

static bool blk_write(OcssdImg *img, uint64_t off, const void *buf,
                      size_t len, const char *what, Error **errp)
{
    int ret = blk_pwrite(img->blk, off, len, buf, 0);

    if (ret < 0) {
        error_setg_errno(errp, -ret, "%s: cannot write the %s (%zu bytes at "
                         "offset %" PRIu64 ")", img->name, what, len, off);
        return false;
    }
    return true;
}

/*
 * Open and check the header, read the chunk table: EXIT_CLEAN,
 * EXIT_FAILED (cannot open or read) or EXIT_CORRUPT (no valid ocssd image).
 */
int ocssd_img_open(OcssdImg *img, const OcssdImgOpen *o, const char *name,
                   bool writable, Error **errp)
{
    memset(img, 0, sizeof(*img));
    img->name = name;
    img->blk = ocssd_img_blk_open(o, name, writable, errp);
    if (!img->blk) {
        return EXIT_FAILED;
    }
    img->size = blk_getlength(img->blk);
    if (img->size < 0) {
        error_setg_errno(errp, -img->size, "%s: cannot get its size", name);
        return EXIT_FAILED;
    }
    if (img->size < OCSSD_IMAGE_HEADER_SIZE) {
        img->empty = img->size == 0;
        error_setg(errp, "%s: %" PRId64 " bytes is too small to hold an "
                   "ocssd image header: make it an image with 'ocssd-img "
                   "create'", name, img->size);
        return EXIT_CORRUPT;
    }
    if (!blk_read(img, 0, &img->header, sizeof(img->header), "header",
                  errp)) {
        return EXIT_FAILED;
    }
    if (!ocssd_image_header_parse(&img->header, img->size, &img->p, errp)) {
        img->empty = buffer_is_zero(&img->header, sizeof(img->header));
        error_prepend(errp, "%s: ", name);
        return EXIT_CORRUPT;
    }
    ocssd_image_layout(&img->p, &img->layout);
    img->table = g_malloc(img->layout.table_size);
    if (!blk_read(img, img->layout.table_offset, img->table,
                  img->layout.table_size, "chunk table", errp)) {
        return EXIT_FAILED;
    }
    return EXIT_CLEAN;
}

void ocssd_img_close(OcssdImg *img)
{
    if (img->blk) {
        blk_unref(img->blk);
        img->blk = NULL;
    }
    g_free(img->table);
    img->table = NULL;
}

bool ocssd_img_write_table(OcssdImg *img, Error **errp)
{
    return blk_write(img, img->layout.table_offset, img->table,
                     img->layout.table_size, "chunk table", errp);
}

/* Seal and write the header, then flush everything written before. */
bool ocssd_img_write_header(OcssdImg *img, Error **errp)
{
    int ret;

    ocssd_image_header_seal(&img->header);
    if (!blk_write(img, 0, &img->header, sizeof(img->header), "header",
                   errp)) {
        return false;
    }
    ret = blk_flush(img->blk);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "%s: cannot flush", img->name);
        return false;
    }
    return true;
}

/* ---- create ------------------------------------------------------------ */

/* What a new image's table holds: every chunk free. */
static void format_table(OcssdImg *img)
{
    OcssdMedia m;
    uint64_t i;

    ocssd_media_init(&m, &img->p);
    img->table = g_malloc0(img->layout.table_size);
    for (i = 0; i < m.nchunks; i++) {
        ocssd_image_chunk_encode(&m.chunk[i],
                                 (OcssdImageChunk *)img->table + i);
    }
    ocssd_media_cleanup(&m);
}

/*
 * Make name a new, empty ocssd image of geometry p, as the device formats
 * an empty image: the header and the chunk table (the data stays sparse).
 * Everything is checked before anything is written; a file this call
 * created is removed again when it fails.
 */
bool ocssd_img_create(OcssdImg *img, const OcssdImgOpen *o,
                      const char *name, const OcssdMediaParams *p,
                      bool force, Error **errp)
{
    g_autofree uint8_t *head = g_malloc0(OCSSD_IMAGE_HEADER_SIZE);
    bool created = false, empty;
    QemuUUID uuid;
    int ret;

    memset(img, 0, sizeof(*img));
    img->name = name;
    img->p = *p;
    if (!ocssd_media_params_check(p, errp)) {
        error_append_hint(errp, "See 'ocssd-img create -o help'.\n");
        return false;
    }
    ocssd_image_layout(p, &img->layout);

    if (!o->image_opts && !path_has_protocol(name) &&
        access(name, F_OK) < 0 && errno == ENOENT) {
        Error *err = NULL;

        bdrv_img_create(name, o->fmt ? o->fmt : "raw", NULL, NULL, NULL, 0,
                        0, true, &err);
        if (err) {
            error_propagate_prepend(errp, err, "%s: cannot create it: ",
                                    name);
            return false;
        }
        created = true;
    }
    img->blk = ocssd_img_blk_open(o, name, true, errp);
    if (!img->blk) {
        goto fail;
    }
    img->size = blk_getlength(img->blk);
    if (img->size < 0) {
        error_setg_errno(errp, -img->size, "%s: cannot get its size", name);
        goto fail;
    }
    empty = img->size == 0;
    if (!empty) {
        ret = blk_pread(img->blk, 0, MIN(img->size, OCSSD_IMAGE_HEADER_SIZE),
                        head, 0);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "%s: cannot read its first "
                             "bytes", name);
            goto fail;
        }
        empty = buffer_is_zero(head, OCSSD_IMAGE_HEADER_SIZE);
    }
    if (!empty && !force) {
        error_setg(errp, "%s holds data (%s): not overwriting it; --force "
                   "does", name,
                   memcmp(head, OCSSD_IMAGE_MAGIC, 8) ? "its first 4 KiB are "
                   "not zero" : "an ocssd image");
        goto fail;
    }

    /* --force on a resizable image: drop the old data first. */
    if (!empty && img->size) {
        blk_truncate(img->blk, 0, true, PREALLOC_MODE_OFF, 0, NULL);
        img->size = blk_getlength(img->blk);
    }
    if (img->size < (int64_t)img->layout.image_size) {
        Error *err = NULL;

        ret = blk_truncate(img->blk, img->layout.image_size, false,
                           PREALLOC_MODE_OFF, 0, &err);
        if (ret < 0) {
            error_setg(errp, "%s: its %" PRId64 " bytes cannot hold the "
                       "geometry's %" PRIu64 " and it cannot grow (%s): "
                       "make it at least that large, or choose a smaller "
                       "geometry", name, img->size, img->layout.image_size,
                       error_get_pretty(err));
            error_free(err);
            goto fail;
        }
        img->size = blk_getlength(img->blk);
    }

    format_table(img);
    qemu_uuid_generate(&uuid);
    ocssd_image_header_init(&img->header, p, &uuid);
    if (!ocssd_img_write_table(img, errp) ||
        !ocssd_img_write_header(img, errp)) {
        goto fail;
    }
    return true;

fail:
    ocssd_img_close(img);
    if (created) {
        unlink(name);
    }
    return false;
}

static int cmd_create(int argc, char **argv)
{
    static const struct option longopts[] = {
        OCSSD_IMG_OPEN_LONGOPTS,
        { "force", no_argument, NULL, 'F' },
        { "help", no_argument, NULL, 'h' },
        { }
    };
    OcssdMediaParams p = ocssd_media_default_params;
    OcssdImgOpen o = { };
    OcssdImg img;
    Error *err = NULL;
    bool force = false, help;
    const char *name;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, OCSSD_IMG_OPEN_SHORTOPTS "o:qh",
                            longopts, NULL)) != -1) {
        if (!ocssd_img_parse_common(c, optarg, &o)) {
            continue;
        }
        switch (c) {
        case 'F':
            force = true;
            break;
        case 'o':
            if (!ocssd_img_parse_media(optarg, &p, &help)) {
                return help ? EXIT_CLEAN : EXIT_FAILED;
            }
            break;
        case 'q':
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
    name = argv[optind];
    if (!ocssd_img_create(&img, &o, name, &p, force, &err)) {
        error_report_err(err);
        return EXIT_FAILED;
    }
    printf("Formatting '%s', %" PRIu32 " groups x %" PRIu32 " PUs x %" PRIu32
           " chunks x %" PRIu32 " sectors of %" PRIu32 "+%" PRIu32
           " bytes, image size %" PRIu64 " (%s)\n", name, p.num_grp,
           p.num_pu, p.num_chk, p.clba, p.sec_size, p.md_size,
           img.layout.image_size,
           bdrv_get_format_name(blk_bs(img.blk)));
    ocssd_img_close(&img);
    return 0;
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

/* The schema's state names (docs/image-format.rst); 0 is "damaged". */
const char *ocssd_img_state_name(uint8_t state)
{
    switch (state) {
    case OCSSD_CHUNK_FREE:
        return "free";
    case OCSSD_CHUNK_OPEN:
        return "open";
    case OCSSD_CHUNK_CLOSED:
        return "closed";
    case OCSSD_CHUNK_OFFLINE:
        return "offline";
    default:
        return "damaged";
    }
}

/*
 * Decode every table entry into m; a damaged entry's state is 0 in
 * state[] (check says why).  False if any is damaged.
 */
bool ocssd_img_decode(OcssdImg *img, OcssdMedia *m, uint8_t *state)
{
    bool all = true;
    uint64_t i;

    for (i = 0; i < m->nchunks; i++) {
        if (ocssd_image_chunk_decode((OcssdImageChunk *)img->table + i,
                                     &img->p, &m->chunk[i], NULL)) {
            state[i] = m->chunk[i].state;
        } else {
            state[i] = 0;
            all = false;
        }
    }
    return all;
}

void ocssd_img_print_json(QObject *obj)
{
    GString *s = qobject_to_json_pretty(obj, true);

    printf("%s\n", s->str);
    g_string_free(s, true);
}

static const char *const count_names[] = {
    "free", "open", "closed", "offline", "damaged",
};

/*
 * The info document (docs/image-format.rst, "ocssd-img info --output=json"):
 * every key is always present; "chunk-table" only with chunks.
 */
QDict *ocssd_img_info_dict(OcssdImg *img, bool chunks)
{
    QDict *d = qdict_new(), *geo = qdict_new(), *media = qdict_new();
    QDict *lbaf = qdict_new(), *count = qdict_new(), *wear = qdict_new();
    QList *pus = qlist_new(), *table = NULL;
    g_autofree uint8_t *state = NULL;
    g_autofree char *uuid = NULL;
    uint64_t n[ARRAY_SIZE(count_names)] = { 0 };
    uint64_t ec_sum = 0, wli_sum = 0, worn = 0, i;
    uint32_t ec_min = UINT32_MAX, ec_max = 0, wli_min = 255, wli_max = 0;
    OcssdMedia m;
    QemuUUID u;
    int s;

    ocssd_media_init(&m, &img->p);
    state = g_malloc0(m.nchunks);
    ocssd_img_decode(img, &m, state);
    memcpy(u.data, img->header.uuid, sizeof(u.data));
    uuid = qemu_uuid_unparse_strdup(&u);

    qdict_put_str(d, "filename", img->name);
    qdict_put_str(d, "driver", bdrv_get_format_name(blk_bs(img->blk)));
    qdict_put_str(d, "format", "ocssd");
    qdict_put_int(d, "format-version", OCSSD_IMAGE_VERSION);
    qdict_put_str(d, "uuid", uuid);
    qdict_put_int(d, "image-size", img->layout.image_size);
    qdict_put_int(d, "virtual-size", img->size);
    qdict_put_bool(d, "clean", !(le32_to_cpu(img->header.flags) &
                                 OCSSD_IMAGE_FLAG_DIRTY));
    qdict_put_int(d, "power-cycles", le64_to_cpu(img->header.power_cycles));
    qdict_put_int(d, "unsafe-shutdowns",
                  le64_to_cpu(img->header.unsafe_shutdowns));
    qdict_put_bool(d, "saved-state", img->header.saved_state != 0);

    qdict_put_int(geo, "num_grp", img->p.num_grp);
    qdict_put_int(geo, "num_pu", img->p.num_pu);
    qdict_put_int(geo, "num_chk", img->p.num_chk);
    qdict_put_int(geo, "clba", img->p.clba);
    qdict_put_int(geo, "sec_size", img->p.sec_size);
    qdict_put_int(geo, "md_size", img->p.md_size);
    qdict_put(d, "geometry", geo);
    for (i = 0; i < OCSSD_MEDIA_NPROPS; i++) {
        if (ocssd_media_props[i].is_bool) {
            qdict_put_bool(media, ocssd_media_props[i].name,
                           *ocssd_media_param_bool(&img->p, i));
        } else {
            qdict_put_int(media, ocssd_media_props[i].name,
                          *ocssd_media_param_u32(&img->p, i));
        }
    }
    qdict_put(d, "media", media);
    qdict_put_int(lbaf, "grp-bits", m.lbaf.grp_len);
    qdict_put_int(lbaf, "pu-bits", m.lbaf.pu_len);
    qdict_put_int(lbaf, "chk-bits", m.lbaf.chk_len);
    qdict_put_int(lbaf, "sector-bits", m.lbaf.lbk_len);
    qdict_put(d, "lba-format", lbaf);

    if (chunks) {
        table = qlist_new();
    }
    for (i = 0; i < m.nchunks; i++) {
        const OcssdChunk *c = &m.chunk[i];

        s = state[i] == OCSSD_CHUNK_FREE ? 0 :
            state[i] == OCSSD_CHUNK_OPEN ? 1 :
            state[i] == OCSSD_CHUNK_CLOSED ? 2 :
            state[i] == OCSSD_CHUNK_OFFLINE ? 3 : 4;
        n[s]++;
        if (state[i] && state[i] != OCSSD_CHUNK_OFFLINE) {
            worn++;
            ec_sum += c->erase_count;
            wli_sum += c->wli;
            ec_min = MIN(ec_min, c->erase_count);
            ec_max = MAX(ec_max, c->erase_count);
            wli_min = MIN(wli_min, c->wli);
            wli_max = MAX(wli_max, c->wli);
        }
        if (table) {
            QDict *e = qdict_new();
            OcssdAddr a;

            ocssd_chunk_addr(&m, i, &a);
            qdict_put_int(e, "index", i);
            qdict_put_int(e, "group", a.grp);
            qdict_put_int(e, "pu", a.pu);
            qdict_put_int(e, "chunk", a.chk);
            qdict_put_int(e, "slba", ocssd_chunk_slba(&m, i));
            qdict_put_str(e, "state", ocssd_img_state_name(state[i]));
            if (state[i]) {
                qdict_put_int(e, "type", c->type);
                qdict_put_int(e, "wli", c->wli);
                qdict_put_int(e, "erase-count", c->erase_count);
                qdict_put_int(e, "cnlb", c->cnlb);
                qdict_put_int(e, "wp", c->wp);
            }
            qlist_append(table, e);
        }
    }
    qdict_put_int(count, "total", m.nchunks);
    for (s = 0; s < ARRAY_SIZE(count_names); s++) {
        qdict_put_int(count, count_names[s], n[s]);
    }
    qdict_put(d, "chunks", count);
    qdict_put_int(wear, "chunks", worn);
    qdict_put_int(wear, "erase-count-min", worn ? ec_min : 0);
    qdict_put_int(wear, "erase-count-max", ec_max);
    put_double(wear, "erase-count-mean",
                     worn ? (double)ec_sum / worn : 0);
    qdict_put_int(wear, "wli-min", worn ? wli_min : 0);
    qdict_put_int(wear, "wli-max", wli_max);
    put_double(wear, "wli-mean", worn ? (double)wli_sum / worn : 0);
    qdict_put(d, "wear", wear);

    for (i = 0; i < (uint64_t)img->p.num_grp * img->p.num_pu; i++) {
        QDict *e = qdict_new();
        g_autofree char *map = g_malloc(img->p.num_chk + 1);
        uint32_t chk;

        for (chk = 0; chk < img->p.num_chk; chk++) {
            map[chk] = state_char(state[i * img->p.num_chk + chk]);
        }
        map[chk] = 0;
        qdict_put_int(e, "group", i / img->p.num_pu);
        qdict_put_int(e, "pu", i % img->p.num_pu);
        qdict_put_str(e, "map", map);
        qlist_append(pus, e);
    }
    qdict_put(d, "parallel-units", pus);
    if (table) {
        qdict_put(d, "chunk-table", table);
    }
    ocssd_media_cleanup(&m);
    return d;
}

static void print_info_human(OcssdImg *img, QDict *d)
{
    QDict *count = qdict_get_qdict(d, "chunks");
    QDict *wear = qdict_get_qdict(d, "wear");
    QDict *lbaf = qdict_get_qdict(d, "lba-format");
    QList *pus = qdict_get_qlist(d, "parallel-units");
    const QListEntry *e;
    int s;

    printf("image: %s\nformat: ocssd image version %d (in %s)\nuuid: %s\n"
           "image size: %" PRIu64 " bytes (%" PRIu64 " data + %" PRIu64
           " metadata)\nstate: %s\npower cycles: %" PRIu64
           "\nunsafe shutdowns: %" PRIu64 "\n", img->name,
           OCSSD_IMAGE_VERSION, qdict_get_str(d, "driver"),
           qdict_get_str(d, "uuid"), img->layout.image_size,
           img->layout.data_size, img->layout.meta_size,
           qdict_get_bool(d, "clean") ? "clean" :
           "in use or not closed cleanly",
           le64_to_cpu(img->header.power_cycles),
           le64_to_cpu(img->header.unsafe_shutdowns));
    printf("geometry: %" PRIu32 " groups x %" PRIu32 " parallel units x %"
           PRIu32 " chunks x %" PRIu32 " sectors; sector %" PRIu32
           " bytes + %" PRIu32 " metadata\n", img->p.num_grp,
           img->p.num_pu, img->p.num_chk, img->p.clba, img->p.sec_size,
           img->p.md_size);
    printf("LBA format: grp %" PRId64 " bits, pu %" PRId64 ", chk %" PRId64
           ", sector %" PRId64 "\n", qdict_get_int(lbaf, "grp-bits"),
           qdict_get_int(lbaf, "pu-bits"), qdict_get_int(lbaf, "chk-bits"),
           qdict_get_int(lbaf, "sector-bits"));
    printf("media: ws_min %" PRIu32 " ws_opt %" PRIu32 " mw_cunits %"
           PRIu32 " maxoc %" PRIu32 " maxocpu %" PRIu32 " wit %" PRIu32
           "\n       vector_copy %s multiple_resets %s early_reset %s\n",
           img->p.ws_min, img->p.ws_opt, img->p.mw_cunits, img->p.maxoc,
           img->p.maxocpu, img->p.wit, img->p.vector_copy ? "on" : "off",
           img->p.multiple_resets ? "on" : "off",
           img->p.early_reset ? "on" : "off");
    printf("chunks: %" PRId64 " total", qdict_get_int(count, "total"));
    for (s = 0; s < ARRAY_SIZE(count_names); s++) {
        int64_t v = qdict_get_int(count, count_names[s]);

        if (strcmp(count_names[s], "damaged") || v) {
            printf(", %" PRId64 " %s", v, count_names[s]);
        }
    }
    printf("\nwear: erase count %" PRId64 "-%" PRId64 ", mean %.1f; wear "
           "index %" PRId64 "-%" PRId64 ", mean %.1f\n",
           qdict_get_int(wear, "erase-count-min"),
           qdict_get_int(wear, "erase-count-max"),
           qdict_get_double(wear, "erase-count-mean"),
           qdict_get_int(wear, "wli-min"), qdict_get_int(wear, "wli-max"),
           qdict_get_double(wear, "wli-mean"));
    printf("chunk map ('.' free, 'o' open, 'C' closed, 'X' offline, "
           "'?' damaged):\n");
    for (e = qlist_first(pus); e; e = qlist_next(e)) {
        QDict *pu = qobject_to(QDict, qlist_entry_obj(e));
        const char *map = qdict_get_str(pu, "map");
        size_t len = strlen(map), i;

        printf("  grp %3" PRId64 " pu %3" PRId64 " ",
               qdict_get_int(pu, "group"), qdict_get_int(pu, "pu"));
        for (i = 0; i < len; i++) {
            if (i && i % 64 == 0) {
                printf("\n                  ");
            }
            putchar(map[i]);
        }
        putchar('\n');
    }
}

/* --output=human|json (and --json, an alias of --output=json). */
static bool parse_output(const char *arg, bool *json)
{
    if (!strcmp(arg, "json")) {
        *json = true;
    } else if (!strcmp(arg, "human")) {
        *json = false;
    } else {
        error_report("--output=%s: expected human or json", arg);
        return false;
    }
    return true;
}

static int cmd_info(int argc, char **argv)
{
    static const struct option longopts[] = {
        OCSSD_IMG_OPEN_LONGOPTS,
        { "output", required_argument, NULL, 'o' },
        { "json", no_argument, NULL, 'j' },
        { "chunks", no_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { }
    };
    OcssdImgOpen o = { };
    OcssdImg img;
    Error *err = NULL;
    bool json = false, chunks = false;
    QDict *d;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, OCSSD_IMG_OPEN_SHORTOPTS "h",
                            longopts, NULL)) != -1) {
        if (!ocssd_img_parse_common(c, optarg, &o)) {
            continue;
        }
        switch (c) {
        case 'o':
            if (!parse_output(optarg, &json)) {
                return EXIT_FAILED;
            }
            break;
        case 'j':
            json = true;
            break;
        case 'c':
            chunks = true;
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
        error_report("info: expected exactly one FILE (see ocssd-img help)");
        return EXIT_FAILED;
    }
    if (ocssd_img_open(&img, &o, argv[optind], false, &err) != EXIT_CLEAN) {
        error_report_err(err);
        ocssd_img_close(&img);
        return EXIT_FAILED;
    }
    d = ocssd_img_info_dict(&img, chunks);
    if (json) {
        ocssd_img_print_json(QOBJECT(d));
    } else {
        print_info_human(&img, d);
    }
    qobject_unref(d);
    ocssd_img_close(&img);
    return 0;
}

/* ---- check ------------------------------------------------------------- */

/* One problem check found, for --output=json and the human report. */
static void check_problem(QList *problems, bool json, const char *what,
                          const OcssdMedia *m, int64_t chunk,
                          const char *msg, bool repaired)
{
    QDict *p = qdict_new();

    qdict_put_str(p, "what", what);
    if (chunk >= 0) {
        OcssdAddr a;

        ocssd_chunk_addr(m, chunk, &a);
        qdict_put_int(p, "index", chunk);
        qdict_put_int(p, "group", a.grp);
        qdict_put_int(p, "pu", a.pu);
        qdict_put_int(p, "chunk", a.chk);
        if (!json) {
            printf("chunk table entry %" PRId64 " (grp %" PRIu32 " pu %"
                   PRIu32 " chk %" PRIu32 "): %s%s\n", chunk, a.grp, a.pu,
                   a.chk, msg, repaired ? " - marked offline" : "");
        }
    }
    qdict_put_str(p, "message", msg);
    qdict_put_bool(p, "repaired", repaired);
    qlist_append(problems, p);
}

static int cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        OCSSD_IMG_OPEN_LONGOPTS,
        { "output", required_argument, NULL, 'o' },
        { "repair", no_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { }
    };
    OcssdImgOpen o = { };
    OcssdImg img;
    OcssdMedia m;
    Error *err = NULL;
    bool repair = false, json = false;
    uint64_t bad = 0, repaired = 0, i;
    QList *problems = qlist_new();
    QDict *d = qdict_new();
    const char *name;
    int c, ret;

    optind = 1;
    while ((c = getopt_long(argc, argv, OCSSD_IMG_OPEN_SHORTOPTS "rh",
                            longopts, NULL)) != -1) {
        if (!ocssd_img_parse_common(c, optarg, &o)) {
            continue;
        }
        switch (c) {
        case 'o':
            if (!parse_output(optarg, &json)) {
                return EXIT_FAILED;
            }
            break;
        case 'r':
            repair = true;
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
        error_report("check: expected exactly one FILE (see ocssd-img help)");
        return EXIT_FAILED;
    }
    name = argv[optind];
    qdict_put_str(d, "filename", name);
    ret = ocssd_img_open(&img, &o, name, repair, &err);
    if (ret != EXIT_CLEAN) {
        /* Without a valid header nothing else can be checked. */
        if (ret == EXIT_CORRUPT) {
            check_problem(problems, true, "header", NULL, -1,
                          error_get_pretty(err), false);
        }
        error_report_err(err);
        ocssd_img_close(&img);
        if (json) {
            qdict_put_str(d, "result", ret == EXIT_CORRUPT ? "corrupt" :
                          "failed");
            qdict_put_bool(d, "header-valid", false);
            qdict_put(d, "problems", problems);
            ocssd_img_print_json(QOBJECT(d));
        } else {
            qobject_unref(problems);
            if (ret == EXIT_CORRUPT) {
                printf("%s: corrupt: the header is not valid (not "
                       "repairable)\n", name);
            }
        }
        qobject_unref(d);
        return ret;
    }
    ocssd_media_init(&m, &img.p);
    for (i = 0; i < m.nchunks; i++) {
        OcssdImageChunk *e = (OcssdImageChunk *)img.table + i;

        if (ocssd_image_chunk_decode(e, &img.p, &m.chunk[i], &err)) {
            continue;
        }
        bad++;
        check_problem(problems, json, "chunk", &m, i, error_get_pretty(err),
                      repair);
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
    ret = bad && !repaired ? EXIT_CORRUPT : EXIT_CLEAN;
    if (repaired) {
        int r;

        if (!ocssd_img_write_table(&img, &err)) {
            error_report_err(err);
            ret = EXIT_FAILED;
        } else if ((r = blk_flush(img.blk)) < 0) {
            error_report("%s: cannot flush: %s", name, strerror(-r));
            ret = EXIT_FAILED;
        }
    }
    if (json) {
        qdict_put_str(d, "result", ret == EXIT_CLEAN ? "clean" :
                      ret == EXIT_CORRUPT ? "corrupt" : "failed");
        qdict_put_bool(d, "header-valid", true);
        qdict_put_bool(d, "in-use", le32_to_cpu(img.header.flags) &
                       OCSSD_IMAGE_FLAG_DIRTY);
        qdict_put_int(d, "chunks-checked", m.nchunks);
        qdict_put_int(d, "damaged", bad);
        qdict_put_int(d, "repaired", repaired);
        qdict_put(d, "problems", problems);
        ocssd_img_print_json(QOBJECT(d));
    } else {
        qobject_unref(problems);
        if (le32_to_cpu(img.header.flags) & OCSSD_IMAGE_FLAG_DIRTY) {
            printf("note: the image is in use or was not closed cleanly\n");
        }
        printf("%s: %" PRIu64 " chunks checked, %" PRIu64 " damaged%s\n",
               name, m.nchunks, bad,
               repaired ? ", repaired" : (bad ? "" : ": no errors"));
    }
    qobject_unref(d);
    ocssd_media_cleanup(&m);
    ocssd_img_close(&img);
    return ret;
}

/* ---- pseudo-random numbers: splitmix64 --------------------------------- */

uint64_t ocssd_rng_next(OcssdRng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double ocssd_rng_uniform(OcssdRng *r)
{
    return (ocssd_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Box-Muller; one draw of the pair is enough here. */
double ocssd_rng_normal(OcssdRng *r)
{
    double u1 = ocssd_rng_uniform(r), u2 = ocssd_rng_uniform(r);

    return sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
}

int main(int argc, char **argv)
{
    const char *cmd;

#ifdef CONFIG_POSIX
    signal(SIGPIPE, SIG_IGN);
#endif
    error_init(argv[0]);
    module_call_init(MODULE_INIT_TRACE);
    qemu_init_exec_dir(argv[0]);
    qemu_init_main_loop(&error_fatal);
    qcrypto_init(&error_fatal);
    module_call_init(MODULE_INIT_QOM);
    bdrv_init();
    media_opts_init();

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
    } else if (!strcmp(cmd, "map")) {
        return ocssd_img_cmd_map(argc, argv);
    } else if (!strcmp(cmd, "age")) {
        return ocssd_img_cmd_age(argc, argv);
    } else if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") ||
               !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    error_report("unknown command '%s' (see ocssd-img help)", cmd);
    return EXIT_FAILED;
}
