/*
 * ocssd qtests: images aged by `ocssd-img age`, booted by the device
 *
 * ocssd-img ages an image (raw, or qcow2 made by the tool) and reports
 * every chunk in its JSON output; the device boots the image, and its
 * Chunk Information log must say what the tool reported: state, wear
 * index, write pointer, size and start LBA of every chunk.  Closed and
 * open chunks read back the tool's pattern, data and OOB metadata, up to
 * the write pointer; the device then writes on from it.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include <sys/wait.h>
#include "qapi/error.h"
#include "qemu/host-utils.h"
#include "libqtest.h"
#include "libqos/ocssd.h"
/* QDict comes with libqtest.h; the others moved to qobject/ in QEMU 9.2. */
#if QEMU_VERSION_MAJOR >= 10
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#else
#include "qapi/qmp/qjson.h"
#include "qapi/qmp/qlist.h"
#endif

#define GEO     "num_grp=2,num_pu=3,num_chk=8,clba=64,mw_cunits=0"
#define AGING   "erase_mean=40,erase_spread=8,pu_skew=0.5,offline=0.1," \
                "closed=0.4,open=0.2,seed=7"
#define SEED    7

static char *tool_path(void)
{
    const char *env = g_getenv("OCSSD_IMG");
    g_autofree char *dir = NULL;

    if (env) {
        return g_strdup(env);
    }
    dir = g_path_get_dirname(g_getenv("QTEST_QEMU_BINARY"));
    return g_build_filename(dir, "ocssd", "ocssd-img", NULL);
}

/* Run ocssd-img with args; it must succeed.  Returns its stdout. */
static char *run_tool(const char *const *args)
{
    g_autofree char *tool = tool_path();
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) gerr = NULL;
    g_autofree char *err = NULL;
    char *out = NULL;
    int status;

    g_ptr_array_add(argv, tool);
    for (; *args; args++) {
        g_ptr_array_add(argv, (char *)*args);
    }
    g_ptr_array_add(argv, NULL);
    if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, 0, NULL, NULL, &out,
                      &err, &status, &gerr)) {
        g_error("cannot run %s: %s", tool, gerr->message);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        g_error("%s failed (status 0x%x):\n%s%s", tool, status, out, err);
    }
    return out;
}

static uint8_t state_of(const char *name)
{
    if (!strcmp(name, "free")) {
        return OCSSD_CHUNK_FREE;
    } else if (!strcmp(name, "open")) {
        return OCSSD_CHUNK_OPEN;
    } else if (!strcmp(name, "closed")) {
        return OCSSD_CHUNK_CLOSED;
    } else if (!strcmp(name, "offline")) {
        return OCSSD_CHUNK_OFFLINE;
    }
    g_error("unexpected chunk state \"%s\"", name);
}

/* Sector lba as `ocssd-img age` writes it (docs/user-guide.rst). */
static void check_pattern(const uint8_t *d, const uint8_t *md, uint32_t ss,
                          uint32_t ms, uint64_t lba, uint32_t erase_count)
{
    uint32_t k;

    g_assert_cmpmem(d, 8, "OCSSDAGE", 8);
    g_assert_cmphex(ldq_le_p(d + 8), ==, lba);
    g_assert_cmphex(ldq_le_p(d + 16), ==, SEED);
    g_assert_cmpuint(ldq_le_p(d + 24), ==, erase_count);
    for (k = 32; k < ss; k++) {
        g_assert_cmphex(d[k], ==, (uint8_t)(lba + k));
    }
    if (ms >= 16) {
        g_assert_cmphex(ldq_le_p(md), ==, lba);
        g_assert_cmpmem(md + 8, 8, "OCSSDAGE", 8);
    }
}

static void test_aged(const char *fmt)
{
    g_autofree char *img = qocssd_tmp_image();
    const char *args[] = {
        "age", "-f", fmt, "-o", GEO, "-a", AGING, "--output=json", img, NULL
    };
    g_autofree char *json = NULL;
    QDict *doc, *count;
    QList *table;
    const QListEntry *e;
    unsigned seen[4] = { 0 }, checked = 0;
    QOcssd *o;

    if (!strcmp(fmt, "qcow2")) {
        unlink(img);        /* the tool creates it, in the format given */
    }
    json = run_tool(args);
    doc = qobject_to(QDict, qobject_from_json(json, &error_abort));
    g_assert(doc);
    g_assert_cmpstr(qdict_get_str(doc, "driver"), ==, fmt);
    count = qdict_get_qdict(doc, "chunks");
    g_assert_cmpint(qdict_get_int(count, "total"), ==, 48);
    g_assert_cmpint(qdict_get_int(count, "offline"), ==, 5);
    g_assert_cmpint(qdict_get_int(count, "closed") +
                    qdict_get_int(count, "open"), ==, 19 + 10);
    table = qdict_get_qlist(doc, "chunk-table");
    g_assert(table);

    o = qocssd_boot_cmdline("-machine q35 -drive if=none,id=oc0,file=%s,"
                            "format=%s -device ocssd,drive=oc0,addr=04.0,"
                            "id=oc", img, fmt);
    qocssd_start_io(o);
    for (e = qlist_first(table); e; e = qlist_next(e)) {
        QDict *c = qobject_to(QDict, qlist_entry_obj(e));
        uint64_t i = qdict_get_int(c, "index");
        uint8_t st = state_of(qdict_get_str(c, "state"));
        OcssdChunkDescriptor d;

        g_assert_cmphex(qocssd_chunk_info(o, i, &d), ==, 0);
        g_assert_cmphex(d.cs, ==, st);
        g_assert_cmpuint(d.wli, ==, qdict_get_int(c, "wli"));
        g_assert_cmpuint(le64_to_cpu(d.wp), ==, qdict_get_int(c, "wp"));
        g_assert_cmpuint(le64_to_cpu(d.cnlb), ==, qdict_get_int(c, "cnlb"));
        g_assert_cmpuint(le64_to_cpu(d.slba), ==, qdict_get_int(c, "slba"));
        g_assert_cmpuint(d.wli, ==, MIN(qdict_get_int(c, "erase-count"),
                                        255));
        seen[ctz32(st)]++;

        /* Data below the write pointer: the first and the last sector. */
        if ((st == OCSSD_CHUNK_CLOSED || st == OCSSD_CHUNK_OPEN) &&
            checked < 6) {
            uint64_t wp = le64_to_cpu(d.wp), slba = le64_to_cpu(d.slba);
            uint64_t lbas[2] = { slba, slba + wp - 1 };
            uint32_t ec = qdict_get_int(c, "erase-count");
            int k;

            for (k = 0; k < 2; k++) {
                g_autofree uint8_t *buf = g_malloc(o->sec_size);
                g_autofree uint8_t *md = g_malloc0(o->md_size + 1);

                g_assert_cmphex(qocssd_read(o, 1, lbas[k], 1, buf, md, 0),
                                ==, 0);
                check_pattern(buf, md, o->sec_size, o->md_size, lbas[k], ec);
            }
            checked++;
        }
        /* An open chunk takes writes at its write pointer. */
        if (st == OCSSD_CHUNK_OPEN) {
            g_autofree uint8_t *buf = g_malloc0(4 * o->sec_size);

            g_assert_cmphex(qocssd_write(o, 1, le64_to_cpu(d.slba) +
                                         le64_to_cpu(d.wp), 4, buf, NULL, 0),
                            ==, 0);
        }
    }
    g_assert_cmpuint(seen[ctz32(OCSSD_CHUNK_OFFLINE)], ==, 5);
    g_assert_cmpuint(seen[ctz32(OCSSD_CHUNK_CLOSED)], ==,
                     qdict_get_int(count, "closed"));
    g_assert_cmpuint(seen[ctz32(OCSSD_CHUNK_OPEN)], ==,
                     qdict_get_int(count, "open"));
    g_assert_cmpuint(checked, ==, 6);
    qocssd_shutdown(o);
    qobject_unref(doc);
    unlink(img);
}

static void test_aged_raw(void)
{
    test_aged("raw");
}

static void test_aged_qcow2(void)
{
    test_aged("qcow2");
}

int main(int argc, char **argv)
{
    g_autofree char *tool = NULL;

    g_test_init(&argc, &argv, NULL);
    tool = tool_path();
    if (!g_file_test(tool, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_message("ocssd-img not found (set OCSSD_IMG): nothing to do");
        return g_test_run();
    }
    qtest_add_func("/ocssd/age/raw", test_aged_raw);
    qtest_add_func("/ocssd/age/qcow2", test_aged_qcow2);
    return g_test_run();
}
