/*
 * ocssd-img age: bring an image to a described aged state
 *
 * Wear (erase counts: a mean, a spread, a skew across the parallel
 * units), a fraction of chunks offline (the most worn ones more likely),
 * fractions closed and open, holding data a host can recognise
 * (docs/user-guide.rst, "Aging an image").  Everything is drawn from one
 * seed with a generator of our own, so a seed gives the same image on
 * every host.  Every setting and the image are checked before anything is
 * written: a refused run leaves the image as it was.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include <math.h>
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/option.h"
#include "qemu/help_option.h"
#include "block/block.h"
#include "ocssd-img.h"

/* The data pattern's first 8 bytes, in data and in OOB metadata. */
#define AGE_MAGIC   "OCSSDAGE"

static QemuOptsList aging_opts = {
    .name = "aging",
    .head = QTAILQ_HEAD_INITIALIZER(aging_opts.head),
    .desc = {
        { .name = "seed", .type = QEMU_OPT_NUMBER,
          .help = "seed of every draw; the same seed, the same image "
                  "(default 1)" },
        { .name = "erase_mean", .type = QEMU_OPT_STRING,
          .help = "erase cycles added per chunk, mean (>= 0, default 0)" },
        { .name = "erase_spread", .type = QEMU_OPT_STRING,
          .help = "standard deviation of the erase cycles (>= 0, "
                  "default 0)" },
        { .name = "pu_skew", .type = QEMU_OPT_STRING,
          .help = "wear across the parallel units: the first PU's mean is "
                  "(1 - pu_skew) x erase_mean, the last's (1 + pu_skew) x "
                  "(0-1, default 0)" },
        { .name = "offline", .type = QEMU_OPT_STRING,
          .help = "fraction of chunks offline, the worn ones more likely "
                  "(0-1, default 0)" },
        { .name = "closed", .type = QEMU_OPT_STRING,
          .help = "fraction of chunks closed: written in full (0-1, "
                  "default 0)" },
        { .name = "open", .type = QEMU_OPT_STRING,
          .help = "fraction of chunks open: written in part (0-1, within "
                  "maxoc and maxocpu, default 0)" },
        { .name = "data", .type = QEMU_OPT_BOOL,
          .help = "write the pattern and its OOB metadata into closed and "
                  "open chunks (default on)" },
        { }
    },
};

typedef struct AgeSpec {
    uint64_t    seed;
    double      erase_mean, erase_spread, pu_skew;
    double      offline, closed, open;
    bool        data;
} AgeSpec;

static bool get_fraction(QemuOpts *opts, const char *name, double max,
                         double *v, Error **errp)
{
    const char *s = qemu_opt_get(opts, name);

    *v = 0;
    if (!s) {
        return true;
    }
    if (qemu_strtod_finite(s, NULL, v) < 0 || *v < 0 || *v > max) {
        if (max == 1) {
            error_setg(errp, "%s=%s is invalid: expected a number from 0 "
                       "to 1", name, s);
        } else {
            error_setg(errp, "%s=%s is invalid: expected a number >= 0",
                       name, s);
        }
        return false;
    }
    return true;
}

static bool parse_spec(const char *str, AgeSpec *a, Error **errp)
{
    QemuOpts *opts = qemu_opts_parse(&aging_opts, str, false, errp);
    bool ok;

    if (!opts) {
        error_append_hint(errp, "See 'ocssd-img age -a help'.\n");
        return false;
    }
    a->seed = qemu_opt_get_number(opts, "seed", 1);
    a->data = qemu_opt_get_bool(opts, "data", true);
    ok = get_fraction(opts, "erase_mean", 1e9, &a->erase_mean, errp) &&
         get_fraction(opts, "erase_spread", 1e9, &a->erase_spread, errp) &&
         get_fraction(opts, "pu_skew", 1, &a->pu_skew, errp) &&
         get_fraction(opts, "offline", 1, &a->offline, errp) &&
         get_fraction(opts, "closed", 1, &a->closed, errp) &&
         get_fraction(opts, "open", 1, &a->open, errp);
    qemu_opts_del(opts);
    if (ok && a->offline + a->closed + a->open > 1 + 1e-9) {
        error_setg(errp, "offline=%g + closed=%g + open=%g is more than "
                   "all chunks: the three fractions must add up to 1 at "
                   "most", a->offline, a->closed, a->open);
        ok = false;
    }
    return ok;
}

/*
 * The pattern of one sector (docs/user-guide.rst): AGE_MAGIC, the
 * sector's LBA, the seed and its chunk's erase count (little endian),
 * then byte k = (LBA + k) mod 256.  Its OOB metadata: the LBA, then
 * AGE_MAGIC, as far as md_size goes.
 */
static void age_pattern(uint8_t *buf, uint32_t sec_size, uint8_t *md,
                        uint32_t md_size, uint64_t lba, uint64_t seed,
                        uint32_t erase_count)
{
    uint8_t mdbuf[16];
    uint32_t k;

    for (k = 32; k < sec_size; k++) {
        buf[k] = lba + k;
    }
    memcpy(buf, AGE_MAGIC, 8);
    stq_le_p(buf + 8, lba);
    stq_le_p(buf + 16, seed);
    stq_le_p(buf + 24, erase_count);
    stq_le_p(mdbuf, lba);
    memcpy(mdbuf + 8, AGE_MAGIC, 8);
    for (k = 0; k < md_size; k++) {
        md[k] = mdbuf[k % 16];
    }
}

/* Write sectors [0, wp) of chunk i with the pattern. */
static bool age_write_chunk(OcssdImg *img, const OcssdMedia *m, uint64_t i,
                            uint64_t seed, Error **errp)
{
    const OcssdChunk *c = &m->chunk[i];
    uint64_t first = i * img->p.clba, slba = ocssd_chunk_slba(m, i), s;
    g_autofree uint8_t *data = g_malloc(c->wp * img->p.sec_size);
    g_autofree uint8_t *md = g_malloc0(c->wp * img->p.md_size + 1);
    int ret;

    for (s = 0; s < c->wp; s++) {
        age_pattern(data + s * img->p.sec_size, img->p.sec_size,
                    md + s * img->p.md_size, img->p.md_size, slba + s, seed,
                    c->erase_count);
    }
    ret = blk_pwrite(img->blk,
                     ocssd_image_data_offset(&img->layout, &img->p, first),
                     c->wp * img->p.sec_size, data, 0);
    if (ret >= 0 && img->p.md_size) {
        ret = blk_pwrite(img->blk,
                         ocssd_image_meta_offset(&img->layout, &img->p,
                                                 first),
                         c->wp * img->p.md_size, md, 0);
    }
    if (ret < 0) {
        error_setg_errno(errp, -ret, "%s: cannot write chunk %" PRIu64 "'s "
                         "data", img->name, i);
        return false;
    }
    return true;
}

typedef struct Pick {
    double      key;
    uint64_t    chunk;
} Pick;

static int pick_cmp(const void *a, const void *b)
{
    const Pick *x = a, *y = b;

    return x->key < y->key ? 1 : x->key > y->key ? -1 :
           x->chunk < y->chunk ? -1 : x->chunk > y->chunk;
}

/*
 * Draw the aged state into m (nothing is written here).  Returns the
 * number of open chunks the limits (maxoc, maxocpu, a chunk of one write
 * unit) turned into closed ones.
 */
static uint64_t age_draw(OcssdMedia *m, const AgeSpec *a)
{
    const OcssdMediaParams *p = &m->p;
    uint64_t npu = (uint64_t)p->num_grp * p->num_pu, n = m->nchunks;
    uint64_t want_off, have_off = 0, nfree = 0, i, k, limited = 0;
    uint64_t n_closed, n_open, open_total = 0;
    g_autofree Pick *pick = g_new(Pick, n);
    g_autofree uint32_t *open_pu = g_new0(uint32_t, npu);
    OcssdRng rng = { .s = a->seed };

    /* Wear: every chunk that is not offline gets its erase cycles. */
    for (i = 0; i < n; i++) {
        OcssdChunk *c = &m->chunk[i];
        uint64_t pu = i / p->num_chk;
        double f = npu > 1 ? 2.0 * pu / (npu - 1) - 1 : 0;
        double add = a->erase_mean * (1 + a->pu_skew * f) +
                     a->erase_spread * ocssd_rng_normal(&rng);
        uint64_t cycles = add > 0 ? (uint64_t)(add + 0.5) : 0;

        if (c->state == OCSSD_CHUNK_OFFLINE) {
            have_off++;
            continue;
        }
        c->erase_count = MIN((uint64_t)c->erase_count + cycles, UINT32_MAX);
        c->wli = MIN((uint64_t)c->wli + cycles, UINT8_MAX);
    }

    /*
     * Offline: chunks that are offline stay so; more are drawn, weighted
     * by wear (Efraimidis-Spirakis: the largest u^(1/w)).
     */
    want_off = (uint64_t)(a->offline * n + 0.5);
    for (i = 0; i < n; i++) {
        double w = m->chunk[i].erase_count + 1.0;

        pick[i].chunk = i;
        pick[i].key = m->chunk[i].state == OCSSD_CHUNK_OFFLINE ? INFINITY :
                      log(1.0 - ocssd_rng_uniform(&rng)) / w;
    }
    qsort(pick, n, sizeof(*pick), pick_cmp);
    for (k = 0; k < n; k++) {
        OcssdChunk *c = &m->chunk[pick[k].chunk];

        if (c->state == OCSSD_CHUNK_OFFLINE) {
            continue;
        }
        if (have_off < want_off) {
            c->state = OCSSD_CHUNK_OFFLINE;
            c->wp = 0;
            have_off++;
        } else {
            /* Erased: free until drawn closed or open below. */
            c->state = OCSSD_CHUNK_FREE;
            c->wp = 0;
            pick[nfree++].chunk = pick[k].chunk;
        }
    }

    /* Closed and open: among the rest, in a random order. */
    for (i = nfree; i > 1; i--) {
        uint64_t j = ocssd_rng_next(&rng) % i;
        uint64_t t = pick[i - 1].chunk;

        pick[i - 1].chunk = pick[j].chunk;
        pick[j].chunk = t;
    }
    n_closed = MIN((uint64_t)(a->closed * n + 0.5), nfree);
    n_open = MIN((uint64_t)(a->open * n + 0.5), nfree - n_closed);
    for (k = 0; k < n_closed + n_open; k++) {
        uint64_t ci = pick[k].chunk, pu = ci / p->num_chk;
        OcssdChunk *c = &m->chunk[ci];
        uint64_t units = c->cnlb / p->ws_min;

        if (k < n_closed) {
            c->state = OCSSD_CHUNK_CLOSED;
            c->wp = c->cnlb;
        } else if (units < 2 || (p->maxoc && open_total >= p->maxoc) ||
                   (p->maxocpu && open_pu[pu] >= p->maxocpu)) {
            limited++;
            c->state = OCSSD_CHUNK_CLOSED;
            c->wp = c->cnlb;
        } else {
            c->state = OCSSD_CHUNK_OPEN;
            c->wp = p->ws_min * (1 + ocssd_rng_next(&rng) % (units - 1));
            open_total++;
            open_pu[pu]++;
        }
    }
    ocssd_media_recount(m);
    return limited;
}

static void age_spec_dict(QDict *d, const AgeSpec *a)
{
    qdict_put_int(d, "seed", a->seed);
    put_double(d, "erase_mean", a->erase_mean);
    put_double(d, "erase_spread", a->erase_spread);
    put_double(d, "pu_skew", a->pu_skew);
    put_double(d, "offline", a->offline);
    put_double(d, "closed", a->closed);
    put_double(d, "open", a->open);
    qdict_put_bool(d, "data", a->data);
}

int ocssd_img_cmd_age(int argc, char **argv)
{
    static const struct option longopts[] = {
        OCSSD_IMG_OPEN_LONGOPTS,
        { "aging", required_argument, NULL, 'a' },
        { "output", required_argument, NULL, 'O' },
        { "help", no_argument, NULL, 'h' },
        { }
    };
    OcssdImgOpen o = { };
    OcssdMediaParams p = ocssd_media_default_params;
    AgeSpec a = { .seed = 1, .data = true };
    const char *spec = NULL, *name;
    g_autofree uint8_t *state = NULL;
    bool json = false, media = false, help, ok = true;
    uint64_t limited, i;
    OcssdImg img;
    OcssdMedia m;
    Error *err = NULL;
    int c, ret;

    optind = 1;
    while ((c = getopt_long(argc, argv, OCSSD_IMG_OPEN_SHORTOPTS "o:a:h",
                            longopts, NULL)) != -1) {
        if (!ocssd_img_parse_common(c, optarg, &o)) {
            continue;
        }
        switch (c) {
        case 'o':
            if (!ocssd_img_parse_media(optarg, &p, &help)) {
                return help ? EXIT_CLEAN : EXIT_FAILED;
            }
            media = true;
            break;
        case 'a':
            if (is_help_option(optarg)) {
                printf("Aging settings (-a name=value,...):\n");
                qemu_opts_print_help(&aging_opts, false);
                return EXIT_CLEAN;
            }
            spec = optarg;
            break;
        case 'O':
            if (!strcmp(optarg, "json") || !strcmp(optarg, "human")) {
                json = !strcmp(optarg, "json");
                break;
            }
            error_report("--output=%s: expected human or json", optarg);
            return EXIT_FAILED;
        case 'h':
            printf("Usage: ocssd-img age [-f FMT|--image-opts] [-o MEDIA] "
                   "-a SETTINGS [--output=human|json] FILE\n");
            qemu_opts_print_help(&aging_opts, false);
            return EXIT_CLEAN;
        default:
            error_report("age: see ocssd-img help");
            return EXIT_FAILED;
        }
    }
    if (optind != argc - 1) {
        error_report("age: expected exactly one FILE (see ocssd-img help)");
        return EXIT_FAILED;
    }
    name = argv[optind];
    if (!spec) {
        error_report("age: %s: say how old with -a (e.g. -a erase_mean=300,"
                     "erase_spread=60,offline=0.02,closed=0.5; -a help "
                     "lists the settings)", name);
        return EXIT_FAILED;
    }
    if (!parse_spec(spec, &a, &err)) {
        error_prepend(&err, "age: -a %s: ", spec);
        error_report_err(err);
        return EXIT_FAILED;
    }

    /* An existing image, or an empty or new one formatted first. */
    if (!o.image_opts && !path_has_protocol(name) && access(name, F_OK) < 0 &&
        errno == ENOENT) {
        memset(&img, 0, sizeof(img));
        img.empty = true;
        ret = EXIT_CORRUPT;
        error_setg(&err, "%s does not exist", name);
    } else {
        ret = ocssd_img_open(&img, &o, name, true, &err);
    }
    if (ret == EXIT_CLEAN && media) {
        error_report("%s is an ocssd image already: -o sets the geometry "
                     "of a new (empty) image only; leave it out", name);
        ocssd_img_close(&img);
        return EXIT_FAILED;
    }
    if (ret == EXIT_CORRUPT && img.empty) {
        error_free(err);
        err = NULL;
        ocssd_img_close(&img);
        if (!ocssd_img_create(&img, &o, name, &p, true, &err)) {
            error_report_err(err);
            return EXIT_FAILED;
        }
    } else if (ret != EXIT_CLEAN) {
        error_report_err(err);
        ocssd_img_close(&img);
        return EXIT_FAILED;
    }

    ocssd_media_init(&m, &img.p);
    state = g_malloc0(m.nchunks);
    if (!ocssd_img_decode(&img, &m, state)) {
        error_report("%s: its chunk table has damaged entries: run "
                     "'ocssd-img check --repair' first (nothing written)",
                     name);
        ocssd_media_cleanup(&m);
        ocssd_img_close(&img);
        return EXIT_FAILED;
    }
    limited = age_draw(&m, &a);
    for (i = 0; i < m.nchunks && ok; i++) {
        ocssd_image_chunk_encode(&m.chunk[i],
                                 (OcssdImageChunk *)img.table + i);
        if (a.data && m.chunk[i].wp && m.chunk[i].state !=
            OCSSD_CHUNK_OFFLINE) {
            ok = age_write_chunk(&img, &m, i, a.seed, &err);
        }
    }
    /* The table, then the header (which flushes): data before metadata. */
    ok = ok && ocssd_img_write_table(&img, &err) &&
         ocssd_img_write_header(&img, &err);
    if (!ok) {
        error_report_err(err);
        ocssd_media_cleanup(&m);
        ocssd_img_close(&img);
        return EXIT_FAILED;
    }
    if (limited) {
        warn_report("%s: %" PRIu64 " chunks drawn open were closed instead "
                    "(maxoc, maxocpu, or a chunk of one write unit)", name,
                    limited);
    }
    if (json) {
        QDict *d = ocssd_img_info_dict(&img, true), *s = qdict_new();

        age_spec_dict(s, &a);
        qdict_put_int(s, "open-limited", limited);
        qdict_put(d, "aging", s);
        ocssd_img_print_json(QOBJECT(d));
        qobject_unref(d);
    } else {
        uint64_t n[4] = { 0 };

        for (i = 0; i < m.nchunks; i++) {
            uint8_t st = m.chunk[i].state;

            n[st == OCSSD_CHUNK_OPEN ? 1 : st == OCSSD_CHUNK_CLOSED ? 2 :
              st == OCSSD_CHUNK_OFFLINE ? 3 : 0]++;
        }
        printf("%s aged (seed %" PRIu64 "): %" PRIu64 " chunks, %" PRIu64
               " free, %" PRIu64 " open, %" PRIu64 " closed, %" PRIu64
               " offline; see 'ocssd-img info' and 'ocssd-img map'\n",
               name, a.seed, m.nchunks, n[0], n[1], n[2], n[3]);
    }
    ocssd_media_cleanup(&m);
    ocssd_img_close(&img);
    return EXIT_CLEAN;
}
