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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ocssd/image/layout", test_layout);
    return g_test_run();
}
