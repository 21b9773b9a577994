/*
 * vbench: timed NVMe passthrough commands for the benchmark guest
 * (scripts/bench builds it with gcc -static and adds it to the guest's
 * initramfs; nvme-cli starts one process per command, far too slow to
 * time commands under TCG).
 *
 *   vbench io DEV OP MODE SLBA CMDS NLB LBADS MS LABEL [MARKER]
 *       OP write|read, MODE vector|standard.  CMDS commands of NLB logical
 *       blocks each, one at a time (NVME_IOCTL_IO64_CMD), command i
 *       covering SLBA + i*NLB .. + NLB-1: a standard Write (01h) / Read
 *       (02h) of that range, or an Open-Channel Vector Write (91h) /
 *       Vector Read (92h) whose LBA list holds the same NLB addresses.
 *       MS > 0: a metadata buffer of NLB*MS bytes goes with each command.
 *   vbench chunklog DEV CHUNKS PIECE LABEL [MARKER]
 *       read the Chunk Information log (CAh, 32 bytes per chunk) of
 *       CHUNKS chunks through DEV (the controller, /dev/nvme0) in Get Log
 *       Page commands of at most PIECE bytes (log page offset), and count
 *       the chunk states.
 *
 * The LBA list of a vector command lives in guest memory the device reads
 * by physical address: the program locks one page and looks its frame up
 * in /proc/self/pagemap (root; the guest has no IOMMU, so physical ==
 * DMA address).
 *
 * MARKER (a file, the host's marker serial port) gets "BENCH-MARK begin
 * LABEL" right before the first command and "BENCH-MARK end LABEL" right
 * after the last, so the host reads QEMU's CPU time over exactly the
 * commands.  The result is one line on stdout:
 *   BENCH-V LABEL cmds=N blocks=N ns=N lat_mean_ns=N lat_p99_ns=N
 *           lat_max_ns=N errors=N first_status=0xN
 *   BENCH-LOG LABEL chunks=N bytes=N cmds=N ns=N free=N closed=N open=N
 *           offline=N other=N errors=N first_error=N
 * Exit status 0 when every command succeeded.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/nvme_ioctl.h>

#define OP_WRITE        0x01
#define OP_READ         0x02
#define OP_VECT_WRITE   0x91
#define OP_VECT_READ    0x92
#define ADM_GET_LOG     0x02
#define LOG_CHUNK_INFO  0xca
#define MAX_VECTOR      64

static int marker_fd = -1;

static void die(const char *what)
{
    fprintf(stderr, "vbench: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void mark(const char *what, const char *label)
{
    char line[256];
    int n;

    if (marker_fd < 0) {
        return;
    }
    n = snprintf(line, sizeof(line), "BENCH-MARK %s %s\n", what, label);
    if (write(marker_fd, line, n) != n) {
        die("write to the marker port");
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The physical address of a locked, touched page of this process. */
static uint64_t phys_addr(void *p)
{
    uint64_t entry, va = (uintptr_t)p;
    long page = sysconf(_SC_PAGESIZE);
    int fd = open("/proc/self/pagemap", O_RDONLY);

    if (fd < 0) {
        die("open /proc/self/pagemap");
    }
    if (pread(fd, &entry, 8, (va / page) * 8) != 8) {
        die("read /proc/self/pagemap");
    }
    close(fd);
    if (!(entry & (1ull << 63)) || !(entry & ((1ull << 55) - 1))) {
        errno = EPERM;
        die("no frame in /proc/self/pagemap (not root?)");
    }
    return (entry & ((1ull << 55) - 1)) * page + va % page;
}

static int run_io(char **argv)
{
    const char *dev = argv[2], *op = argv[3], *mode = argv[4];
    uint64_t slba = strtoull(argv[5], NULL, 0);
    long cmds = strtol(argv[6], NULL, 0), nlb = strtol(argv[7], NULL, 0);
    long lbads = strtol(argv[8], NULL, 0), ms = strtol(argv[9], NULL, 0);
    const char *label = argv[10];
    int write_op = !strcmp(op, "write");
    int vector = !strcmp(mode, "vector");
    uint64_t *lat, *list = NULL, list_pa = 0, sum = 0, t0, t1;
    void *data, *md = NULL;
    long i, errors = 0;
    unsigned first_status = 0;
    int fd;

    if ((!write_op && strcmp(op, "read")) || (!vector && strcmp(mode, "standard")) ||
        cmds < 1 || nlb < 1 || nlb > MAX_VECTOR || lbads < 512 || ms < 0) {
        fprintf(stderr, "vbench io: bad arguments\n");
        return 2;
    }
    fd = open(dev, O_RDWR);
    if (fd < 0) {
        die(dev);
    }
    if (posix_memalign(&data, 4096, nlb * lbads)) {
        die("allocate the data buffer");
    }
    memset(data, 0x5a, nlb * lbads);
    if (ms && posix_memalign(&md, 4096, nlb * ms)) {
        die("allocate the metadata buffer");
    }
    if (md) {
        memset(md, 0xa5, nlb * ms);
    }
    if (vector) {
        if (posix_memalign((void **)&list, 4096, 4096)) {
            die("allocate the LBA list");
        }
        memset(list, 0, 4096);
        if (mlock(list, 4096)) {
            die("mlock the LBA list");
        }
        list_pa = phys_addr(list);
    }
    lat = calloc(cmds, sizeof(*lat));
    if (!lat) {
        die("allocate the latency array");
    }

    mark("begin", label);
    t0 = now_ns();
    for (i = 0; i < cmds; i++) {
        struct nvme_passthru_cmd64 c = { 0 };
        uint64_t lba = slba + (uint64_t)i * nlb, s;
        long j;
        int rc;

        c.nsid = 1;
        c.addr = (uintptr_t)data;
        c.data_len = nlb * lbads;
        if (md) {
            c.metadata = (uintptr_t)md;
            c.metadata_len = nlb * ms;
        }
        c.cdw12 = nlb - 1;
        if (vector) {
            for (j = 0; j < nlb; j++) {
                list[j] = lba + j;
            }
            c.opcode = write_op ? OP_VECT_WRITE : OP_VECT_READ;
            c.cdw10 = (uint32_t)list_pa;
            c.cdw11 = list_pa >> 32;
        } else {
            c.opcode = write_op ? OP_WRITE : OP_READ;
            c.cdw10 = (uint32_t)lba;
            c.cdw11 = lba >> 32;
        }
        s = now_ns();
        rc = ioctl(fd, NVME_IOCTL_IO64_CMD, &c);
        lat[i] = now_ns() - s;
        if (rc != 0) {
            if (!errors) {
                first_status = rc < 0 ? (unsigned)(0x10000 + errno) : (unsigned)rc;
            }
            errors++;
        }
    }
    t1 = now_ns();
    mark("end", label);

    for (i = 0; i < cmds; i++) {
        sum += lat[i];
    }
    qsort(lat, cmds, sizeof(*lat), cmp_u64);
    printf("BENCH-V %s cmds=%ld blocks=%ld ns=%" PRIu64 " lat_mean_ns=%" PRIu64
           " lat_p99_ns=%" PRIu64 " lat_max_ns=%" PRIu64 " errors=%ld"
           " first_status=0x%x\n", label, cmds, cmds * nlb, t1 - t0,
           sum / cmds, lat[(cmds * 99 + 99) / 100 - 1], lat[cmds - 1], errors,
           first_status);
    return errors ? 1 : 0;
}

static int run_chunklog(char **argv)
{
    const char *dev = argv[2];
    uint64_t chunks = strtoull(argv[3], NULL, 0);
    uint64_t piece = strtoull(argv[4], NULL, 0), total = chunks * 32, off;
    const char *label = argv[5];
    uint64_t count[5] = { 0 }, t0, t1;
    long cmds = 0, errors = 0;
    int first_error = 0;
    uint8_t *buf;
    int fd;

    if (!chunks || piece < 4096 || piece % 32) {
        fprintf(stderr, "vbench chunklog: bad arguments\n");
        return 2;
    }
    fd = open(dev, O_RDWR);
    if (fd < 0) {
        die(dev);
    }
    if (posix_memalign((void **)&buf, 4096, piece)) {
        die("allocate the log buffer");
    }
    mark("begin", label);
    t0 = now_ns();
    for (off = 0; off < total; off += piece) {
        uint64_t len = total - off < piece ? total - off : piece;
        uint32_t numd = len / 4 - 1;
        struct nvme_passthru_cmd64 c = { 0 };
        uint64_t k;
        int rc;

        c.opcode = ADM_GET_LOG;
        c.nsid = 1;
        c.addr = (uintptr_t)buf;
        c.data_len = len;
        c.cdw10 = LOG_CHUNK_INFO | (numd & 0xffff) << 16;
        c.cdw11 = numd >> 16;
        c.cdw12 = (uint32_t)off;
        c.cdw13 = off >> 32;
        cmds++;
        rc = ioctl(fd, NVME_IOCTL_ADMIN64_CMD, &c);
        if (rc != 0) {
            if (!errors++) {
                first_error = rc < 0 ? -errno : rc;
            }
            continue;
        }
        for (k = 0; k < len; k += 32) {
            switch (buf[k]) {
            case 1: count[0]++; break;
            case 2: count[1]++; break;
            case 4: count[2]++; break;
            case 8: count[3]++; break;
            default: count[4]++; break;
            }
        }
    }
    t1 = now_ns();
    mark("end", label);
    printf("BENCH-LOG %s chunks=%" PRIu64 " bytes=%" PRIu64 " cmds=%ld ns=%" PRIu64
           " free=%" PRIu64 " closed=%" PRIu64 " open=%" PRIu64 " offline=%" PRIu64
           " other=%" PRIu64 " errors=%ld first_error=%d\n", label, chunks, total,
           cmds, t1 - t0, count[0], count[1], count[2], count[3], count[4], errors,
           first_error);
    return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
    int nargs;

    if (argc >= 2 && !strcmp(argv[1], "io")) {
        nargs = 11;
    } else if (argc >= 2 && !strcmp(argv[1], "chunklog")) {
        nargs = 6;
    } else {
        nargs = -1;
    }
    if (nargs < 0 || (argc != nargs && argc != nargs + 1)) {
        fprintf(stderr, "usage: vbench io DEV write|read vector|standard SLBA CMDS NLB"
                " LBADS MS LABEL [MARKER]\n"
                "       vbench chunklog DEV CHUNKS PIECE LABEL [MARKER]\n");
        return 2;
    }
    if (argc == nargs + 1) {
        marker_fd = open(argv[nargs], O_WRONLY | O_NOCTTY);
        if (marker_fd < 0) {
            die(argv[nargs]);
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    return nargs == 11 ? run_io(argv) : run_chunklog(argv);
}
