/*
 * ocssd-img: what its commands share
 *
 * An image is opened through QEMU's block layer (a BlockBackend), as
 * qemu-img opens one: any format (raw, qcow2, ...) and protocol (file,
 * nbd, ...) QEMU has.  The format itself is hw/block/ocssd-image.c, the
 * device's own code.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#ifndef TOOLS_OCSSD_IMG_H
#define TOOLS_OCSSD_IMG_H

/* QEMU 7.2 -> 10.0: headers moved (sysemu/ -> system/, qapi/qmp/ -> qobject/). */
#if QEMU_VERSION_MAJOR >= 10
#include "system/block-backend.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "qobject/qbool.h"
#include "qobject/qstring.h"
#else
#include "sysemu/block-backend.h"
#include "qapi/qmp/qdict.h"
#include "qapi/qmp/qjson.h"
#include "qapi/qmp/qlist.h"
#include "qapi/qmp/qnum.h"
#include "qapi/qmp/qbool.h"
#include "qapi/qmp/qstring.h"
#endif
#include "hw/block/ocssd-image.h"

static inline void put_double(QDict *d, const char *key, double v)
{
    qdict_put(d, key, qnum_from_double(v));
}

/* Exit codes, as qemu-img check's. */
enum {
    EXIT_CLEAN = 0,
    EXIT_FAILED = 1,        /* could not do it (usage, I/O error, refused) */
    EXIT_CORRUPT = 2,
};

/* How to reach an image: the options every command takes. */
typedef struct OcssdImgOpen {
    const char  *fmt;           /* -f: a QEMU format driver, or probe */
    bool        image_opts;     /* --image-opts: the name is driver options */
    bool        force_share;    /* -U: open even if another QEMU holds it */
} OcssdImgOpen;

/* An open ocssd image: its header and chunk table, read and checked. */
typedef struct OcssdImg {
    const char  *name;          /* as the user named it */
    BlockBackend *blk;
    int64_t     size;           /* of the block node */
    OcssdImageHeader header;
    OcssdMediaParams p;
    OcssdImageLayout layout;
    uint8_t     *table;
    bool        empty;          /* refused: length 0 or a zero header */
} OcssdImg;

BlockBackend *ocssd_img_blk_open(const OcssdImgOpen *o, const char *name,
                                 bool writable, Error **errp);
int ocssd_img_open(OcssdImg *img, const OcssdImgOpen *o, const char *name,
                   bool writable, Error **errp);
void ocssd_img_close(OcssdImg *img);
bool ocssd_img_create(OcssdImg *img, const OcssdImgOpen *o,
                      const char *name, const OcssdMediaParams *p,
                      bool force, Error **errp);
bool ocssd_img_parse_media(const char *str, OcssdMediaParams *p, bool *help);
bool ocssd_img_write_table(OcssdImg *img, Error **errp);
bool ocssd_img_write_header(OcssdImg *img, Error **errp);
bool ocssd_img_decode(OcssdImg *img, OcssdMedia *m, uint8_t *state);
const char *ocssd_img_state_name(uint8_t state);
QDict *ocssd_img_info_dict(OcssdImg *img, bool chunks);
void ocssd_img_print_json(QObject *obj);

/* Deterministic pseudo-random numbers (the same on every host). */
typedef struct OcssdRng {
    uint64_t    s;
} OcssdRng;

uint64_t ocssd_rng_next(OcssdRng *r);
double ocssd_rng_uniform(OcssdRng *r);      /* [0, 1) */
double ocssd_rng_normal(OcssdRng *r);       /* mean 0, deviation 1 */

int ocssd_img_cmd_age(int argc, char **argv);
int ocssd_img_cmd_map(int argc, char **argv);
int ocssd_img_parse_common(int c, const char *arg, OcssdImgOpen *o);

/* The long options every command takes, and their short letters. */
#define OCSSD_IMG_OPEN_SHORTOPTS "f:U"
#define OCSSD_IMG_OPEN_LONGOPTS \
    { "image-opts", no_argument, NULL, 'I' }, \
    { "force-share", no_argument, NULL, 'U' }, \
    { "format", required_argument, NULL, 'f' }

#endif /* TOOLS_OCSSD_IMG_H */
