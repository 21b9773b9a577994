/*
 * Unit tests of the ocssd media model (hw/block/ocssd-media.c)
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/block/ocssd-media.h"

static void test_defaults_valid(void)
{
    g_assert_true(ocssd_media_params_check(&ocssd_media_default_params,
                                           &error_abort));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ocssd/media/defaults-valid", test_defaults_valid);
    return g_test_run();
}
