/*
 * ocssd: fault injection
 *
 * Files named by properties (the names of the older Open-Channel QEMU
 * forks, so existing test rigs keep working; docs/fault-injection.rst has
 * the formats):
 *   chunkinfo=FILE   chunk states, write pointers, wear when formatting
 *   resetfail=FILE   per-chunk probability that a reset fails (offline)
 *   writefail=FILE   per-sector probability that a write fails
 *   readfail=FILE    per-sector probability of an unrecovered read error
 *   highecc=FILE     per-sector probability of a high-ECC read
 * Every line names chunks as "GRP PU CHK" (and sectors as "... SEC"),
 * each field a number or '*' for all.  The random draws come from a
 * generator seeded by the `seed` property, so runs are reproducible.
 *
 * Run-time injection: QOM properties written with qom-set (inject-*) make
 * the next access to one sector or chunk fail, or a chunk go offline now.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "ocssd.h"
#include "trace.h"

#define ANY UINT32_MAX

struct OcssdFaultRule {
    uint32_t    grp, pu, chk, sec;      /* ANY matches all */
    double      prob;
    uint16_t    status;
};

/* One-shot injections, keyed by kind and sector (or chunk) index. */
enum OcssdOnce {
    ONCE_READ_ERROR = 1,
    ONCE_HIGH_ECC,
    ONCE_WRITE_EARLY_CLOSE,
    ONCE_WRITE_NEXT_UNIT,
    ONCE_RESET_FAIL,
};

static gint64 *once_key(enum OcssdOnce kind, uint64_t index)
{
    gint64 *k = g_new(gint64, 1);

    *k = (gint64)((uint64_t)kind << 58 | index);
    return k;
}

static bool once_take(OcssdFault *f, enum OcssdOnce kind, uint64_t index)
{
    gint64 k = (gint64)((uint64_t)kind << 58 | index);

    return f->once && g_hash_table_remove(f->once, &k);
}

/* splitmix64: small, good enough, and the same on every host. */
static double ocssd_fault_draw(OcssdFault *f)
{
    uint64_t z = (f->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (z >> 11) * (1.0 / (1ULL << 53));
}

static bool field_matches(uint32_t rule, uint32_t val)
{
    return rule == ANY || rule == val;
}

/* The last matching rule decides. */
static const OcssdFaultRule *ocssd_fault_match(GArray *rules,
                                               const OcssdAddr *a,
                                               bool with_sec)
{
    const OcssdFaultRule *hit = NULL;
    guint i;

    if (!rules) {
        return NULL;
    }
    for (i = 0; i < rules->len; i++) {
        const OcssdFaultRule *r = &g_array_index(rules, OcssdFaultRule, i);

        if (field_matches(r->grp, a->grp) && field_matches(r->pu, a->pu) &&
            field_matches(r->chk, a->chk) &&
            (!with_sec || field_matches(r->sec, a->sec))) {
            hit = r;
        }
    }
    return hit;
}

static bool ocssd_fault_fires(OcssdFault *f, const OcssdFaultRule *r)
{
    return r && r->prob > 0 && ocssd_fault_draw(f) < r->prob;
}

/* ---- parsing ---------------------------------------------------------- */

typedef struct OcssdFaultFile {
    const char  *prop;
    const char  *path;
    unsigned    line;
    Error       **errp;
} OcssdFaultFile;

static bool parse_field(OcssdFaultFile *ff, const char *tok, uint32_t limit,
                        const char *what, uint32_t *out)
{
    uint64_t v;

    if (!strcmp(tok, "*")) {
        *out = ANY;
        return true;
    }
    if (qemu_strtou64(tok, NULL, 0, &v) < 0 || v >= limit) {
        error_setg(ff->errp, "ocssd: %s=%s line %u: %s '%s' is not a number "
                   "below %" PRIu32 " or '*'", ff->prop, ff->path, ff->line,
                   what, tok, limit);
        return false;
    }
    *out = v;
    return true;
}

static bool parse_prob(OcssdFaultFile *ff, const char *tok, double *out)
{
    char *end;
    double v = g_ascii_strtod(tok, &end);

    if (*end || end == tok || !(v >= 0.0 && v <= 1.0)) {
        error_setg(ff->errp, "ocssd: %s=%s line %u: probability '%s' must be "
                   "a number from 0 to 1", ff->prop, ff->path, ff->line, tok);
        return false;
    }
    *out = v;
    return true;
}

/*
 * Read a rule file: each non-blank, non-comment line is split into
 * whitespace-separated words and handed to parse_line.
 */
static bool ocssd_fault_read_file(OcssdFaultFile *ff,
                                  bool (*parse_line)(OcssdFaultFile *ff,
                                                     char **tok, int ntok,
                                                     void *opaque),
                                  void *opaque)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) gerr = NULL;
    g_auto(GStrv) lines = NULL;
    int i;

    if (!g_file_get_contents(ff->path, &text, NULL, &gerr)) {
        error_setg(ff->errp, "ocssd: %s=%s: %s", ff->prop, ff->path,
                   gerr->message);
        return false;
    }
    lines = g_strsplit(text, "\n", -1);
    for (i = 0; lines[i]; i++) {
        g_auto(GStrv) tok = NULL;
        char *hash = strchr(lines[i], '#');
        int ntok = 0, j;

        ff->line = i + 1;
        if (hash) {
            *hash = 0;
        }
        tok = g_strsplit_set(g_strstrip(lines[i]), " \t", -1);
        for (j = 0; tok[j]; j++) {
            if (*tok[j]) {
                tok[ntok++] = tok[j];
            } else {
                g_free(tok[j]);
            }
        }
        tok[ntok] = NULL;
        if (ntok && !parse_line(ff, tok, ntok, opaque)) {
            return false;
        }
    }
    return true;
}

typedef struct RuleParse {
    OcssdMedia  *media;
    GArray      *rules;
    bool        with_sec;
    bool        with_status;
} RuleParse;

static bool parse_rule_line(OcssdFaultFile *ff, char **tok, int ntok,
                            void *opaque)
{
    RuleParse *rp = opaque;
    const OcssdMediaParams *p = &rp->media->p;
    int nfix = rp->with_sec ? 5 : 4;
    OcssdFaultRule r = { .sec = ANY };

    if (ntok < nfix || ntok > nfix + (rp->with_status ? 1 : 0)) {
        error_setg(ff->errp, "ocssd: %s=%s line %u: expected \"GRP PU CHK%s "
                   "PROBABILITY%s\"", ff->prop, ff->path, ff->line,
                   rp->with_sec ? " SEC" : "",
                   rp->with_status ? " [early-close|next-unit]" : "");
        return false;
    }
    if (!parse_field(ff, tok[0], p->num_grp, "group", &r.grp) ||
        !parse_field(ff, tok[1], p->num_pu, "parallel unit", &r.pu) ||
        !parse_field(ff, tok[2], p->num_chk, "chunk", &r.chk) ||
        (rp->with_sec && !parse_field(ff, tok[3], p->clba, "sector",
                                      &r.sec)) ||
        !parse_prob(ff, tok[nfix - 1], &r.prob)) {
        return false;
    }
    if (rp->with_status) {
        if (ntok == nfix || !strcmp(tok[nfix], "early-close")) {
            r.status = OCSSD_CHUNK_EARLY_CLOSE;
        } else if (!strcmp(tok[nfix], "next-unit")) {
            r.status = OCSSD_WRITE_NEXT_UNIT;
        } else {
            error_setg(ff->errp, "ocssd: %s=%s line %u: '%s' is not "
                       "early-close or next-unit", ff->prop, ff->path,
                       ff->line, tok[nfix]);
            return false;
        }
    }
    g_array_append_val(rp->rules, r);
    return true;
}

static bool ocssd_fault_load_rules(OcssdCtrl *n, const char *prop,
                                   const char *path, bool with_sec,
                                   bool with_status, GArray **out,
                                   Error **errp)
{
    OcssdFaultFile ff = { .prop = prop, .path = path, .errp = errp };
    RuleParse rp = {
        .media = &n->media,
        .rules = g_array_new(false, false, sizeof(OcssdFaultRule)),
        .with_sec = with_sec,
        .with_status = with_status,
    };

    if (!path) {
        return true;
    }
    if (!ocssd_fault_read_file(&ff, parse_rule_line, &rp)) {
        g_array_free(rp.rules, true);
        return false;
    }
    *out = rp.rules;
    trace_ocssd_fault_rules(prop, rp.rules->len);
    return true;
}

/* chunkinfo: "GRP PU CHK STATE [WP [WLI]]" */
static bool parse_chunkinfo_line(OcssdFaultFile *ff, char **tok, int ntok,
                                 void *opaque)
{
    OcssdMedia *m = opaque;
    const OcssdMediaParams *p = &m->p;
    OcssdChunk proto = { .type = OCSSD_CHUNK_TYPE_SEQUENTIAL,
                         .cnlb = p->clba };
    uint32_t grp, pu, chk, g, u, c;
    uint64_t v;
    Error *err = NULL;

    if (ntok < 4 || ntok > 6) {
        error_setg(ff->errp, "ocssd: %s=%s line %u: expected \"GRP PU CHK "
                   "STATE [WP [WLI]]\"", ff->prop, ff->path, ff->line);
        return false;
    }
    if (!parse_field(ff, tok[0], p->num_grp, "group", &grp) ||
        !parse_field(ff, tok[1], p->num_pu, "parallel unit", &pu) ||
        !parse_field(ff, tok[2], p->num_chk, "chunk", &chk)) {
        return false;
    }
    if (!strcmp(tok[3], "free")) {
        proto.state = OCSSD_CHUNK_FREE;
    } else if (!strcmp(tok[3], "open")) {
        proto.state = OCSSD_CHUNK_OPEN;
    } else if (!strcmp(tok[3], "closed")) {
        proto.state = OCSSD_CHUNK_CLOSED;
    } else if (!strcmp(tok[3], "offline")) {
        proto.state = OCSSD_CHUNK_OFFLINE;
    } else {
        error_setg(ff->errp, "ocssd: %s=%s line %u: state '%s' is not free, "
                   "open, closed or offline", ff->prop, ff->path, ff->line,
                   tok[3]);
        return false;
    }
    if (ntok > 4) {
        if (qemu_strtou64(tok[4], NULL, 0, &v) < 0) {
            error_setg(ff->errp, "ocssd: %s=%s line %u: write pointer '%s' "
                       "is not a number", ff->prop, ff->path, ff->line,
                       tok[4]);
            return false;
        }
        proto.wp = v;
    } else if (proto.state == OCSSD_CHUNK_CLOSED) {
        proto.wp = proto.cnlb;
    }
    if (ntok > 5) {
        if (qemu_strtou64(tok[5], NULL, 0, &v) < 0 || v > UINT8_MAX) {
            error_setg(ff->errp, "ocssd: %s=%s line %u: wear index '%s' is "
                       "not a number from 0 to 255", ff->prop, ff->path,
                       ff->line, tok[5]);
            return false;
        }
        proto.wli = v;
        proto.erase_count = v;
    }
    if ((proto.state == OCSSD_CHUNK_OPEN && !proto.wp) ||
        proto.wp % p->ws_min ||
        !ocssd_media_chunk_check(p, &proto, &err)) {
        if (!err) {
            error_setg(&err, "write pointer %" PRIu64 " must be a nonzero "
                       "multiple of ws_min=%" PRIu32, proto.wp, p->ws_min);
        }
        error_propagate_prepend(ff->errp, err, "ocssd: %s=%s line %u: ",
                                ff->prop, ff->path, ff->line);
        return false;
    }

    for (g = 0; g < p->num_grp; g++) {
        for (u = 0; u < p->num_pu; u++) {
            for (c = 0; c < p->num_chk; c++) {
                OcssdAddr a = { .grp = g, .pu = u, .chk = c };

                if (field_matches(grp, g) && field_matches(pu, u) &&
                    field_matches(chk, c)) {
                    m->chunk[ocssd_chunk_index(m, &a)] = proto;
                }
            }
        }
    }
    return true;
}

/*
 * chunkinfo presets a new image's chunks; the device calls this while
 * formatting (an existing image keeps its own chunk table).
 */
bool ocssd_fault_apply_chunkinfo(OcssdCtrl *n, Error **errp)
{
    OcssdFaultFile ff = { .prop = "chunkinfo", .path = n->params.chunkinfo,
                          .errp = errp };

    if (!ff.path) {
        return true;
    }
    if (!ocssd_fault_read_file(&ff, parse_chunkinfo_line, &n->media)) {
        return false;
    }
    ocssd_media_recount(&n->media);
    return true;
}

/* ---- decisions -------------------------------------------------------- */

bool ocssd_fault_reset_fails(OcssdCtrl *n, uint64_t chunk)
{
    OcssdFault *f = &n->fault;
    OcssdAddr a;

    if (once_take(f, ONCE_RESET_FAIL, chunk)) {
        return true;
    }
    ocssd_chunk_addr(&n->media, chunk, &a);
    return ocssd_fault_fires(f, ocssd_fault_match(f->resetfail, &a, false));
}

/* NVME_SUCCESS, or the injected write failure for this sector. */
uint16_t ocssd_fault_write(OcssdCtrl *n, const OcssdIoEntry *e)
{
    OcssdFault *f = &n->fault;
    const OcssdFaultRule *r;

    if (once_take(f, ONCE_WRITE_EARLY_CLOSE, e->sector)) {
        return OCSSD_CHUNK_EARLY_CLOSE;
    }
    if (once_take(f, ONCE_WRITE_NEXT_UNIT, e->sector)) {
        return OCSSD_WRITE_NEXT_UNIT;
    }
    r = ocssd_fault_match(f->writefail, &e->addr, true);
    return ocssd_fault_fires(f, r) ? r->status : NVME_SUCCESS;
}

/* NVME_SUCCESS, NVME_UNRECOVERED_READ or OCSSD_HIGH_ECC for this sector. */
uint16_t ocssd_fault_read(OcssdCtrl *n, const OcssdIoEntry *e)
{
    OcssdFault *f = &n->fault;

    if (once_take(f, ONCE_READ_ERROR, e->sector)) {
        return NVME_UNRECOVERED_READ;
    }
    if (once_take(f, ONCE_HIGH_ECC, e->sector)) {
        return OCSSD_HIGH_ECC;
    }
    if (ocssd_fault_fires(f, ocssd_fault_match(f->readfail, &e->addr, true))) {
        return NVME_UNRECOVERED_READ;
    }
    if (ocssd_fault_fires(f, ocssd_fault_match(f->highecc, &e->addr, true))) {
        return OCSSD_HIGH_ECC;
    }
    return NVME_SUCCESS;
}

/* ---- run-time injection (qom-set) ------------------------------------ */

typedef struct OcssdInjectProp {
    const char      *name;
    enum OcssdOnce  kind;       /* 0: take the chunk offline now */
    const char      *desc;
} OcssdInjectProp;

static const OcssdInjectProp ocssd_inject_props[] = {
    { "inject-offline", 0,
      "LBA: its chunk goes offline now (with a chunk notification)" },
    { "inject-read-error", ONCE_READ_ERROR,
      "LBA: the next read of this sector fails (Unrecovered Read Error)" },
    { "inject-high-ecc", ONCE_HIGH_ECC,
      "LBA: the next read of this sector needs high ECC" },
    { "inject-write-error", ONCE_WRITE_EARLY_CLOSE,
      "LBA: the next write of this sector fails (Chunk Early Close)" },
    { "inject-write-next-unit", ONCE_WRITE_NEXT_UNIT,
      "LBA: the next write of this sector fails (Write Next Unit)" },
    { "inject-reset-fail", ONCE_RESET_FAIL,
      "LBA: the next reset of its chunk fails (the chunk goes offline)" },
};

static void ocssd_inject_get(Object *obj, Visitor *v, const char *name,
                             void *opaque, Error **errp)
{
    uint64_t none = 0;

    visit_type_uint64(v, name, &none, errp);
}

static void ocssd_inject_set(Object *obj, Visitor *v, const char *name,
                             void *opaque, Error **errp)
{
    OcssdCtrl *n = OCSSD(obj);
    const OcssdInjectProp *ip = opaque;
    OcssdMedia *m = &n->media;
    OcssdAddr a;
    uint64_t lba, chunk, sector;

    if (!visit_type_uint64(v, name, &lba, errp)) {
        return;
    }
    if (!DEVICE(obj)->realized) {
        error_setg(errp, "ocssd: %s works on a running device only", name);
        return;
    }
    if (!ocssd_lba_decode(m, lba, &a)) {
        error_setg(errp, "ocssd: %s: 0x%" PRIx64 " is not a valid LBA of "
                   "this device", name, lba);
        return;
    }
    chunk = ocssd_chunk_index(m, &a);
    sector = chunk * m->p.clba + a.sec;
    trace_ocssd_fault_inject(name, lba);
    if (ip->kind == 0) {
        ocssd_chunk_offline(n, chunk, "injected at run time");
        return;
    }
    g_hash_table_add(n->fault.once,
                     once_key(ip->kind, ip->kind == ONCE_RESET_FAIL ?
                              chunk : sector));
}

void ocssd_fault_add_properties(Object *obj)
{
    int i;

    for (i = 0; i < ARRAY_SIZE(ocssd_inject_props); i++) {
        const OcssdInjectProp *ip = &ocssd_inject_props[i];

        object_property_add(obj, ip->name, "uint64", ocssd_inject_get,
                            ocssd_inject_set, NULL, (void *)ip);
        object_property_set_description(obj, ip->name, ip->desc);
    }
}

/*
 * The pending one-shot injections, for a migration: their keys (kind and
 * index), in a new array the caller frees.
 */
uint32_t ocssd_fault_get_once(OcssdCtrl *n, uint64_t **keys)
{
    GHashTableIter it;
    gpointer k;
    uint32_t count = 0;

    *keys = g_new(uint64_t, g_hash_table_size(n->fault.once));
    g_hash_table_iter_init(&it, n->fault.once);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        (*keys)[count++] = *(gint64 *)k;
    }
    return count;
}

/* Replace them with a migration's; false when a key is not one of ours. */
bool ocssd_fault_set_once(OcssdCtrl *n, const uint64_t *keys, uint32_t count)
{
    uint32_t i;

    for (i = 0; i < count; i++) {
        uint64_t kind = keys[i] >> 58, index = keys[i] & ((1ULL << 58) - 1);
        uint64_t limit = kind == ONCE_RESET_FAIL ? n->media.nchunks :
                         n->media.nsectors;

        if (kind < ONCE_READ_ERROR || kind > ONCE_RESET_FAIL ||
            index >= limit) {
            return false;
        }
    }
    g_hash_table_remove_all(n->fault.once);
    for (i = 0; i < count; i++) {
        g_hash_table_add(n->fault.once,
                         once_key(keys[i] >> 58, keys[i] & ((1ULL << 58) - 1)));
    }
    return true;
}

/*
 * Parse every rule file (resetfail, writefail, readfail, highecc) against
 * the medium's geometry.  The store calls this before it writes anything,
 * so that a bad file refuses the device before an empty image is
 * formatted or an existing one is touched.
 */
bool ocssd_fault_load_files(OcssdCtrl *n, Error **errp)
{
    OcssdFault *f = &n->fault;
    OcssdParams *p = &n->params;

    return ocssd_fault_load_rules(n, "resetfail", p->resetfail, false, false,
                                  &f->resetfail, errp) &&
           ocssd_fault_load_rules(n, "writefail", p->writefail, true, true,
                                  &f->writefail, errp) &&
           ocssd_fault_load_rules(n, "readfail", p->readfail, true, false,
                                  &f->readfail, errp) &&
           ocssd_fault_load_rules(n, "highecc", p->highecc, true, false,
                                  &f->highecc, errp);
}

/* The random draws and the run-time injections (the files are loaded). */
void ocssd_fault_init(OcssdCtrl *n)
{
    OcssdFault *f = &n->fault;
    OcssdParams *p = &n->params;

    f->rng = p->seed ? p->seed : g_random_int() | (uint64_t)g_random_int()
                                                   << 32;
    f->once = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                    NULL);
}

void ocssd_fault_cleanup(OcssdCtrl *n)
{
    OcssdFault *f = &n->fault;

    GArray **rules[] = { &f->resetfail, &f->writefail, &f->readfail,
                         &f->highecc };
    int i;

    for (i = 0; i < ARRAY_SIZE(rules); i++) {
        if (*rules[i]) {
            g_array_free(*rules[i], true);
        }
    }
    if (f->once) {
        g_hash_table_destroy(f->once);
    }
    memset(f, 0, sizeof(*f));
}
