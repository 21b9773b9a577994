/*
 * ocssd smoke test: boot, write a chunk, read it back
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/ocssd.h"

static char *new_image(void)
{
    char *path;
    int fd = g_file_open_tmp("ocssd-test-XXXXXX.img", &path, NULL);

    g_assert(fd >= 0);
    close(fd);
    return path;
}

static void test_write_read(void)
{
    g_autofree char *img = new_image();
    QOcssd *o = qocssd_boot("q35", img, "num_grp=2,num_pu=2,num_chk=4,"
                            "clba=64,mw_cunits=0");
    uint32_t n = 8;
    g_autofree uint8_t *w = NULL, *r = NULL, *mw = NULL, *mr = NULL;
    OcssdChunkDescriptor d;
    unsigned i;

    qocssd_start_io(o);
    w = g_malloc(n * o->sec_size);
    r = g_malloc(n * o->sec_size);
    mw = g_malloc(n * o->md_size);
    mr = g_malloc(n * o->md_size);
    for (i = 0; i < n * o->sec_size; i++) {
        w[i] = i * 7 + 3;
    }
    memset(mw, 0x5a, n * o->md_size);
    g_assert_cmphex(qocssd_write(o, 1, 0, n, w, mw, 0), ==, 0);
    g_assert_cmphex(qocssd_chunk_info(o, 0, &d), ==, 0);
    g_assert_cmpuint(d.cs, ==, OCSSD_CHUNK_OPEN);
    g_assert_cmpuint(le64_to_cpu(d.wp), ==, n);
    g_assert_cmphex(qocssd_read(o, 1, 0, n, r, mr, 0), ==, 0);
    g_assert(!memcmp(w, r, n * o->sec_size));
    g_assert(!memcmp(mw, mr, n * o->md_size));
    g_assert_cmphex(qocssd_write(o, 1, 4, 4, w, NULL, 0), ==,
                    OCSSD_OUT_OF_ORDER_WRITE | NVME_DNR);
    qocssd_shutdown(o);
    unlink(img);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/ocssd/smoke/write-read", test_write_read);
    return g_test_run();
}
