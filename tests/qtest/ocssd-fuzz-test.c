/*
 * ocssd qtests: random commands never crash or hang the device
 *
 * A seeded generator (so every run is the same run) sends thousands of
 * admin and I/O commands with random opcodes, flags, NSIDs, command dwords
 * and data pointers, and random-but-plausible guest memory behind them:
 * PRP lists, SGL segments, LBA lists and DSM ranges.  Any status is
 * acceptable; what must hold is that every command completes, QEMU stays
 * up (under ASan/UBSan in the qemu-10.0-asan build, any memory error
 * aborts it), and afterwards the device still answers correctly.
 *
 * Guest memory the device may read as addresses (the scratch pages that
 * data pointers point into) is refilled before every command with qwords
 * that either point back into the scratch pages or lie above 4 GiB, where
 * this machine has no RAM: whatever the device follows, it cannot reach
 * the test's own queues.  LBA lists live in a page of their own that no
 * data pointer points to.
 *
 * OCSSD_FUZZ_SEED and OCSSD_FUZZ_COMMANDS override the seed and the count
 * for longer runs by hand.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/ocssd.h"

#define GEO             "num_grp=2,num_pu=2,num_chk=4,clba=64,mw_cunits=8," \
                        "md_size=16,mdts=5,early_reset=on,multiple_resets=on"
#define SCRATCH_PAGES   8
#define SCRATCH_SIZE    (SCRATCH_PAGES * 4096)
#define OUTSIDE_RAM     (1ULL << 40)
#define NCHUNK          16
#define CLBA            64
#define WS_MIN          4
#define REFRESH         25      /* commands between chunk log reads */

typedef struct Fuzz {
    QOcssd      *o;
    uint64_t    rng;
    uint64_t    scratch;
    uint64_t    lba_page;
    uint64_t    nsze;
    uint64_t    wp[NCHUNK];     /* from the chunk log, every REFRESH */
    unsigned    nrun;           /* runs at write pointers in lba_page */
    uint16_t    run_start[512];
    uint16_t    run_len[512];
    uint8_t     buf[SCRATCH_SIZE];
} Fuzz;

/* xorshift64*: small, and the same sequence on every host. */
static uint64_t rnd(Fuzz *f)
{
    f->rng ^= f->rng >> 12;
    f->rng ^= f->rng << 25;
    f->rng ^= f->rng >> 27;
    return f->rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t rnd_below(Fuzz *f, uint64_t n)
{
    return rnd(f) % n;
}

static bool chance(Fuzz *f, unsigned percent)
{
    return rnd_below(f, 100) < percent;
}

/* An address the device may follow: into the scratch pages, or no RAM. */
static uint64_t safe_addr(Fuzz *f)
{
    switch (rnd_below(f, 8)) {
    case 0:
        return OUTSIDE_RAM + (rnd(f) & ~(0xffffULL << 48) & ~3ULL);
    case 1:
        return rnd(f) | (1ULL << 63);           /* any type byte in an SGL */
    case 2:
        return f->scratch + (rnd_below(f, SCRATCH_SIZE) & ~3ULL);
    default:
        return f->scratch + rnd_below(f, SCRATCH_PAGES) * 4096 +
               (chance(f, 80) ? 0 : rnd_below(f, 4096) & ~3ULL);
    }
}

/* A data pointer, metadata pointer or list pointer of a command. */
static uint64_t pointer(Fuzz *f)
{
    switch (rnd_below(f, 16)) {
    case 0:
        return 0;
    case 1:
        return f->o->bar.addr + rnd_below(f, 0x2000);   /* our registers */
    case 2:
        return rnd(f);
    default:
        return safe_addr(f);
    }
}

/* An LBA: mostly inside the namespace, often at a chunk's start. */
static uint64_t lba(Fuzz *f)
{
    switch (rnd_below(f, 8)) {
    case 0:
        return rnd(f);
    case 1:
        return f->nsze + rnd_below(f, 64);
    case 2:
    case 3:
        return rnd_below(f, f->nsze) & ~63ULL;
    default:
        return rnd_below(f, f->nsze);
    }
}

/*
 * Where a command is likely to get past the first rule: the write pointer
 * of a chunk (for writes), a written sector (for reads).
 */
static uint64_t chunk_wp_lba(Fuzz *f)
{
    uint64_t chunk = rnd_below(f, NCHUNK);

    return qocssd_chunk_slba(f->o, chunk) + f->wp[chunk];
}

static uint64_t written_lba(Fuzz *f)
{
    uint64_t chunk = rnd_below(f, NCHUNK);

    return qocssd_chunk_slba(f->o, chunk) +
           (f->wp[chunk] ? rnd_below(f, f->wp[chunk]) : 0);
}

static void refresh_wp(Fuzz *f)
{
    OcssdChunkDescriptor d;
    unsigned i;

    for (i = 0; i < NCHUNK; i++) {
        g_assert_cmphex(qocssd_chunk_info(f->o, i, &d), ==, 0);
        f->wp[i] = le64_to_cpu(d.wp);
    }
}

static void refill_memory(Fuzz *f)
{
    uint64_t q[4096 / 8];
    unsigned i, j;

    for (i = 0; i < SCRATCH_SIZE / 8; i++) {
        uint64_t v = safe_addr(f);

        memcpy(f->buf + i * 8, &v, 8);
    }
    qtest_bufwrite(f->o->qts, f->scratch, f->buf, SCRATCH_SIZE);
    /* Random LBAs, and runs of WS_MIN..64 sectors at write pointers. */
    f->nrun = 0;
    for (i = 0; i < ARRAY_SIZE(q); ) {
        uint64_t start = chunk_wp_lba(f);
        unsigned run = chance(f, 50) ? 1 : WS_MIN * (1 + rnd_below(f, 16));

        if (run > 1 && i + run <= ARRAY_SIZE(q)) {
            f->run_start[f->nrun] = i;
            f->run_len[f->nrun++] = run;
        }
        for (j = 0; j < run && i < ARRAY_SIZE(q); j++, i++) {
            q[i] = cpu_to_le64(run == 1 ? lba(f) : start + j);
        }
    }
    qtest_bufwrite(f->o->qts, f->lba_page, q, sizeof(q));
}

static uint32_t nsid(Fuzz *f)
{
    static const uint32_t odd[] = { 0, 2, 0xffffffff };

    if (chance(f, 85)) {
        return 1;
    }
    return chance(f, 70) ? odd[rnd_below(f, ARRAY_SIZE(odd))] :
           (uint32_t)rnd(f);
}

/* Command dword i (CPU order; the host is little-endian, as NVMe). */
static uint32_t dw_get(const NvmeCmd *cmd, unsigned i)
{
    return ldl_le_p((const uint8_t *)cmd + i * 4);
}

static void dw_set(NvmeCmd *cmd, unsigned i, uint32_t val)
{
    stl_le_p((uint8_t *)cmd + i * 4, val);
}

/* The dwords an admin opcode reads: plausible values, most of the time. */
static void random_admin_fields(Fuzz *f, NvmeCmd *cmd)
{
    static const uint8_t lids[] = { 1, 2, 3, 0xca, 0xd0 };
    uint32_t d10 = dw_get(cmd, 10);

    switch (cmd->opcode) {
    case NVME_ADM_CMD_CREATE_SQ:
    case NVME_ADM_CMD_CREATE_CQ:
    case NVME_ADM_CMD_DELETE_SQ:
    case NVME_ADM_CMD_DELETE_CQ:
        /* Never the harness's queues 0 and 1. */
        if ((d10 & 0xffff) < 2) {
            dw_set(cmd, 10, (d10 & ~0xffffu) | (2 + rnd_below(f, 70)));
        }
        break;
    case NVME_ADM_CMD_GET_LOG_PAGE:
        if (chance(f, 70)) {
            dw_set(cmd, 10, lids[rnd_below(f, ARRAY_SIZE(lids))] |
                   (d10 & 0x8000) | (uint32_t)rnd_below(f, 2048) << 16);
            if (chance(f, 80)) {
                dw_set(cmd, 11, 0);
            }
            if (chance(f, 70)) {
                dw_set(cmd, 12, rnd_below(f, 1024) * 4);
            }
            if (chance(f, 90)) {
                dw_set(cmd, 13, 0);
            }
        }
        break;
    case NVME_ADM_CMD_SET_FEATURES:
    case NVME_ADM_CMD_GET_FEATURES:
        if (chance(f, 80)) {
            dw_set(cmd, 10, (d10 & 0xff00) | (chance(f, 10) ?
                   OCSSD_FEAT_MEDIA_FEEDBACK : rnd_below(f, 16)));
        }
        break;
    case NVME_ADM_CMD_IDENTIFY:
        if (chance(f, 80)) {
            dw_set(cmd, 10, rnd_below(f, 4));
        }
        break;
    }
}

/* Random command dwords, with the fields the opcode reads made likely. */
static void random_cmd(Fuzz *f, NvmeCmd *cmd, bool admin)
{
    static const uint8_t admin_ops[] = {
        NVME_ADM_CMD_GET_LOG_PAGE, NVME_ADM_CMD_IDENTIFY,
        NVME_ADM_CMD_ABORT, NVME_ADM_CMD_SET_FEATURES,
        NVME_ADM_CMD_GET_FEATURES, OCSSD_ADM_CMD_GEOMETRY,
        NVME_ADM_CMD_CREATE_SQ, NVME_ADM_CMD_CREATE_CQ,
        NVME_ADM_CMD_DELETE_SQ, NVME_ADM_CMD_DELETE_CQ,
    };
    static const uint8_t io_ops[] = {
        NVME_CMD_FLUSH, NVME_CMD_WRITE, NVME_CMD_READ, NVME_CMD_DSM,
        OCSSD_CMD_VECT_RESET, OCSSD_CMD_VECT_WRITE, OCSSD_CMD_VECT_READ,
        OCSSD_CMD_VECT_COPY,
    };
    unsigned i;

    for (i = 0; i < 16; i++) {
        dw_set(cmd, i, rnd(f));
    }
    if (admin) {
        cmd->opcode = admin_ops[rnd_below(f, ARRAY_SIZE(admin_ops))];
        /*
         * Not an Asynchronous Event Request: it completes only on an
         * event, and the harness waits for every command.
         */
        if (chance(f, 5)) {
            cmd->opcode = rnd(f);
            if (cmd->opcode == NVME_ADM_CMD_ASYNC_EV_REQ) {
                cmd->opcode = NVME_ADM_CMD_IDENTIFY;
            }
        }
    } else {
        cmd->opcode = chance(f, 95) ?
                      io_ops[rnd_below(f, ARRAY_SIZE(io_ops))] : rnd(f);
    }
    /* PSDT: PRP most of the time, the SGL kinds, now and then anything. */
    cmd->flags = chance(f, 60) ? 0 : chance(f, 90) ?
                 (rnd_below(f, 3) << 6) : rnd(f);
    cmd->nsid = cpu_to_le32(nsid(f));
    cmd->mptr = cpu_to_le64(pointer(f));
    cmd->dptr.prp1 = cpu_to_le64(pointer(f));
    cmd->dptr.prp2 = cpu_to_le64(pointer(f));

    if (admin) {
        random_admin_fields(f, cmd);
    }
    if (!admin) {
        switch (cmd->opcode) {
        case NVME_CMD_WRITE:
        case NVME_CMD_READ: {
            NvmeRwCmd *rw = (NvmeRwCmd *)cmd;

            if (chance(f, 50)) {
                rw->slba = cpu_to_le64(cmd->opcode == NVME_CMD_WRITE ?
                                       chunk_wp_lba(f) : written_lba(f));
                rw->nlb = cpu_to_le16(WS_MIN * (1 + rnd_below(f, 4)) - 1);
            } else {
                rw->slba = cpu_to_le64(lba(f));
                rw->nlb = cpu_to_le16(chance(f, 50) ? rnd_below(f, 8) :
                                      chance(f, 60) ? rnd_below(f, 64) :
                                      rnd(f));
            }
            rw->control = cpu_to_le16(chance(f, 80) ?
                                      (chance(f, 20) ? NVME_RW_FUA : 0) :
                                      rnd(f));
            break;
        }
        case NVME_CMD_DSM:
            dw_set(cmd, 10, chance(f, 80) ? rnd_below(f, 4) :
                   dw_get(cmd, 10) & 0xff);
            if (chance(f, 80)) {
                dw_set(cmd, 11, NVME_DSMGMT_AD);
            }
            break;
        case OCSSD_CMD_VECT_RESET:
        case OCSSD_CMD_VECT_WRITE:
        case OCSSD_CMD_VECT_READ:
        case OCSSD_CMD_VECT_COPY: {
            OcssdVectorCmd *v = (OcssdVectorCmd *)cmd;
            uint32_t nlb = chance(f, 90) ? rnd_below(f, 64) : rnd(f);
            unsigned run = f->nrun ? rnd_below(f, f->nrun) : 0;

            uint64_t list = f->lba_page + rnd_below(f, 448) * 8;
            uint64_t other = f->lba_page + rnd_below(f, 448) * 8;

            if (f->nrun && chance(f, 50)) {
                /* A whole run in order at a write pointer: where to write. */
                nlb = f->run_len[run] - 1;
                *(cmd->opcode == OCSSD_CMD_VECT_COPY ? &other : &list) =
                    f->lba_page + f->run_start[run] * 8;
            } else if (chance(f, 10)) {
                list = pointer(f);
            }
            v->cdw12 = cpu_to_le32(nlb | (chance(f, 20) ? OCSSD_VECTOR_FUA :
                                          0));
            /* One LBA (NLB 0) goes in the list pointer itself. */
            v->lbal = cpu_to_le64(nlb ? list : lba(f));
            v->dlbal = cpu_to_le64(nlb ? other : lba(f));
            if (chance(f, 20)) {
                v->mptr = 0;
            }
            break;
        }
        }
    }
}

/* The device answers as a healthy one does. */
static void check_alive(Fuzz *f)
{
    uint8_t id[NVME_IDENTIFY_DATA_SIZE];
    OcssdIdGeo geo;

    g_assert_cmphex(qocssd_identify(f->o, NVME_ID_CNS_CTRL, 0, id), ==, 0);
    g_assert_cmphex(id[0] | id[1] << 8, ==, 0x1d1d);
    g_assert_cmphex(qocssd_geometry(f->o, 1, &geo), ==, 0);
    g_assert_cmpuint(le32_to_cpu(geo.num_chk), ==, 4);
    g_assert_cmpuint(le32_to_cpu(geo.clba), ==, 64);
    g_assert_cmphex(qocssd_readl(f->o, NVME_REG_CSTS), ==, NVME_CSTS_READY);
}

static void test_random_commands(void)
{
    const char *seed_env = g_getenv("OCSSD_FUZZ_SEED");
    const char *count_env = g_getenv("OCSSD_FUZZ_COMMANDS");
    uint64_t seed = seed_env ? g_ascii_strtoull(seed_env, NULL, 0) :
                    0x0c55d2c0ffee1234ULL;
    unsigned count = count_env ? atoi(count_env) : 3000;
    g_autofree Fuzz *f = g_new0(Fuzz, 1);
    unsigned i, admin = 0, io = 0, failed = 0;
    g_autofree uint8_t *data = g_malloc(4 * 4096);
    g_autofree uint8_t *back = g_malloc(4 * 4096);
    uint64_t chunk_lba;

    g_test_message("seed 0x%" PRIx64 ", %u commands", seed, count);
    f->rng = seed ? seed : 1;
    f->o = qocssd_boot_tmp("q35", GEO);
    qocssd_start_io(f->o);
    f->nsze = 1ULL << (f->o->geo.lbaf.grp_len + f->o->geo.lbaf.pu_len +
                       f->o->geo.lbaf.chk_len + f->o->geo.lbaf.lbk_len);
    f->scratch = qocssd_alloc_page(f->o, SCRATCH_SIZE);
    f->lba_page = qocssd_alloc_page(f->o, 4096);

    for (i = 0; i < count; i++) {
        bool is_admin = chance(f, 35);
        NvmeCmd cmd;
        NvmeCqe cqe;

        if (i % REFRESH == 0) {
            refresh_wp(f);
        }
        refill_memory(f);
        random_cmd(f, &cmd, is_admin);
        if (qocssd_exec(f->o, is_admin ? 0 : 1, &cmd, &cqe)) {
            failed++;
        }
        admin += is_admin;
        io += !is_admin;
        if (i % 500 == 499) {
            check_alive(f);
        }
    }
    g_test_message("%u admin and %u I/O commands, %u failed", admin, io,
                   failed);
    /* Some succeeded and some failed, or the generator tests nothing. */
    g_assert_cmpuint(failed, >, count / 10);
    g_assert_cmpuint(failed, <, count);

    /*
     * Still a working Open-Channel device: reset a chunk (free, open or
     * closed: early_reset and multiple_resets are on), fill it, read it.
     */
    check_alive(f);
    chunk_lba = qocssd_chunk_slba(f->o, 5);
    g_assert_cmphex(qocssd_vreset(f->o, 1, &chunk_lba, 1, NULL, NULL), ==, 0);
    memset(data, 0x5a, 4 * 4096);
    for (i = 0; i < 64; i += 4) {
        g_assert_cmphex(qocssd_write(f->o, 1, chunk_lba + i, 4, data, NULL,
                                     0), ==, 0);
    }
    g_assert_cmphex(qocssd_read(f->o, 1, chunk_lba + 60, 4, back, NULL, 0),
                    ==, 0);
    g_assert(!memcmp(back, data, 4 * 4096));
    qocssd_shutdown(f->o);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/ocssd/fuzz/random-commands", test_random_commands);
    return g_test_run();
}
