/*
 * Unit tests of the ocssd image format (hw/block/ocssd-image.c)
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/block/ocssd-image.h"

static void test_layout(void)
{
    OcssdImageLayout l;

    ocssd_image_layout(&ocssd_media_default_params, &l);
    g_assert_cmpuint(l.table_offset, ==, OCSSD_IMAGE_HEADER_SIZE);
    g_assert_cmpuint(l.data_offset % OCSSD_IMAGE_ALIGN, ==, 0);
    g_assert_cmpuint(l.image_size, ==, l.meta_offset + l.meta_size);
}

static OcssdMediaParams geo(uint32_t grp, uint32_t pu, uint32_t chk,
                            uint32_t clba)
{
    OcssdMediaParams p = ocssd_media_default_params;

    p.num_grp = grp;
    p.num_pu = pu;
    p.num_chk = chk;
    p.clba = clba;
    p.ws_min = 1;
    p.ws_opt = 1;
    p.mw_cunits = 0;
    return p;
}

/*
 * At the chunk limit (2^24) the table is 512 MiB, one block-layer request
 * (BDRV_REQUEST_MAX_BYTES is 2 GiB - 512), and a header parses: the limit
 * is checked on the header alone, allocating nothing.
 */
static void test_header_at_limit(void)
{
    OcssdMediaParams p = geo(256, 256, 256, 16), q;
    OcssdImageHeader h;
    OcssdImageLayout l;
    QemuUUID uuid = { };

    ocssd_image_layout(&p, &l);
    g_assert_cmpuint(l.table_size, ==, (uint64_t)OCSSD_MAX_CHUNKS *
                     OCSSD_IMAGE_TABLE_ENTRY);
    g_assert_cmpuint(l.table_size, <=, (uint64_t)INT_MAX - 511);
    ocssd_image_header_init(&h, &p, &uuid);
    g_assert_true(ocssd_image_header_parse(&h, l.image_size, &q,
                                           &error_abort));
    g_assert_cmpuint(q.num_chk, ==, 256);
}

/*
 * Past it a header with a valid checksum and a consistent layout is
 * refused by the limit, before its size is looked at (the 65535 x 65535
 * parallel units of the issue in a file of one block).
 */
static void test_header_past_limit(void)
{
    static const struct {
        uint32_t grp, pu, chk, clba;
        const char *message;
    } cases[] = {
        { 97, 257, 673, 16, "num_grp=97 x num_pu=257 x num_chk=673 = "
          "16777217 chunks is too many: at most 16777216 (2^24) chunks are "
          "supported" },
        { 65535, 65535, 1, 1, "num_grp=65535 x num_pu=65535 x num_chk=1 = "
          "4294836225 chunks is too many" },
    };
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        OcssdMediaParams p = geo(cases[i].grp, cases[i].pu, cases[i].chk,
                                 cases[i].clba), q;
        g_autofree char *want = g_strdup_printf(
            "ocssd image header holds an invalid geometry: %s",
            cases[i].message);
        OcssdImageHeader h;
        OcssdImageLayout l;
        QemuUUID uuid = { };
        Error *err = NULL;

        ocssd_image_layout(&p, &l);
        ocssd_image_header_init(&h, &p, &uuid);
        g_assert_false(ocssd_image_header_parse(&h, 4096, &q, &err));
        g_assert_true(g_str_has_prefix(error_get_pretty(err), want));
        error_free(err);
        err = NULL;
        g_assert_false(ocssd_image_header_parse(&h, l.image_size, &q, &err));
        g_assert_true(g_str_has_prefix(error_get_pretty(err), want));
        error_free(err);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ocssd/image/layout", test_layout);
    g_test_add_func("/ocssd/image/header-at-limit", test_header_at_limit);
    g_test_add_func("/ocssd/image/header-past-limit", test_header_past_limit);
    return g_test_run();
}
