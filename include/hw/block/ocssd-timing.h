/*
 * ocssd: the NAND timing model (pure arithmetic, unit tested)
 *
 * docs/timing.rst describes the model; in short: each parallel unit (PU)
 * does one array operation at a time (read TRDT per write unit touched,
 * program TWRT per WS_OPT sectors of a chunk, reset TCRST per chunk), each
 * group is one channel whose transfers take (sec_size + md_size) /
 * channel_mbps per sector, one at a time, granted in the order they are
 * scheduled.  A command is built from its per-sector operations
 * (ocssd_timing_begin / _read / _program / _reset / _end) and the model
 * says when its last operation ends.  Costs O(sectors) per command: no
 * scan over PUs or chunks.
 *
 * With queueing off (the device's timing=off), operations never wait for
 * their PU or channel: the counters and busy time still add up, so a
 * workload's balance over PUs shows without slowing it down.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#ifndef HW_BLOCK_OCSSD_TIMING_H
#define HW_BLOCK_OCSSD_TIMING_H

/* The default channel speed, MB/s (an ONFI 4 / Toggle 3 class bus). */
#define OCSSD_DEFAULT_CHANNEL_MBPS  800

typedef struct OcssdTimingParams {
    uint32_t    trdt, trdm;         /* read a write unit, ns */
    uint32_t    twrt, twrm;         /* program up to WS_OPT sectors, ns */
    uint32_t    tcrst, tcrsm;       /* reset a chunk, ns */
    uint32_t    ws_min;             /* sectors sharing one array read */
    uint32_t    ws_opt;             /* sectors sharing one program */
    uint32_t    xfer_bytes;         /* one sector over the channel */
    uint32_t    channel_mbps;       /* 0: transfers take no time */
    bool        spread;             /* draw each time in [typical, max] */
    bool        queueing;           /* operations wait for PU and channel */
} OcssdTimingParams;

typedef struct OcssdPuStats {
    uint64_t    reads;              /* array reads */
    uint64_t    programs;
    uint64_t    resets;
    uint64_t    sectors_read;
    uint64_t    sectors_written;
    uint64_t    busy_ns;            /* time in array operations */
    uint32_t    max_queue;          /* most operations found waiting */
} OcssdPuStats;

typedef struct OcssdBusStats {
    uint64_t    busy_ns;
    uint64_t    sectors;
} OcssdBusStats;

typedef enum OcssdTimingOpKind {
    OCSSD_TIMING_READ,
    OCSSD_TIMING_PROGRAM,
    OCSSD_TIMING_RESET,
} OcssdTimingOpKind;

typedef struct OcssdTimingPu {
    int64_t     busy_until;
    /* Ends of its operations not yet over, oldest first (a ring). */
    int64_t     *ends;
    uint32_t    ends_head, ends_count, ends_cap;
    /* The operation of the command being built that sectors may join. */
    uint64_t    open_cmd;           /* OcssdTiming.cmd when it is open */
    uint32_t    open_op;            /* index in OcssdTiming.ops */
    uint64_t    open_chunk;
    uint64_t    open_unit;          /* write unit (reads) */
    OcssdPuStats stats;
} OcssdTimingPu;

typedef struct OcssdTimingOp {
    uint32_t    pu;
    uint32_t    sectors;
    uint8_t     kind;               /* OcssdTimingOpKind */
} OcssdTimingOp;

typedef struct OcssdTiming {
    OcssdTimingParams p;
    uint32_t    num_grp;
    uint32_t    num_pu;             /* per group */
    OcssdTimingPu *pu;              /* num_grp * num_pu, group-major */
    int64_t     *bus_busy_until;    /* per group */
    OcssdBusStats *bus;
    uint64_t    rng;                /* the spread's draws */
    int64_t     since;              /* when the statistics were reset */

    /* The command being built. */
    uint64_t    cmd;                /* bumped per command and barrier */
    OcssdTimingOp *ops;
    uint32_t    nops, ops_cap;
    uint32_t    first_op;           /* not yet scheduled */
    int64_t     now;
    int64_t     ready;              /* operations start no earlier */
    int64_t     done;               /* the latest end so far */
} OcssdTiming;

void ocssd_timing_init(OcssdTiming *t, uint32_t num_grp, uint32_t num_pu,
                       const OcssdTimingParams *p, uint64_t seed);
void ocssd_timing_cleanup(OcssdTiming *t);
void ocssd_timing_set_params(OcssdTiming *t, const OcssdTimingParams *p);
void ocssd_timing_stats_reset(OcssdTiming *t, int64_t now);
uint64_t ocssd_timing_xfer_ns(const OcssdTimingParams *p, uint64_t sectors);

/* Building a command: begin, its sectors and chunks, end. */
void ocssd_timing_begin(OcssdTiming *t, int64_t now);
void ocssd_timing_read(OcssdTiming *t, uint32_t pu, uint64_t chunk,
                       uint32_t sec);
void ocssd_timing_program(OcssdTiming *t, uint32_t pu, uint64_t chunk);
void ocssd_timing_reset(OcssdTiming *t, uint32_t pu);
/* What follows starts when everything before has ended (copy). */
void ocssd_timing_barrier(OcssdTiming *t);
/* When the command's last operation ends (now, if it has none). */
int64_t ocssd_timing_end(OcssdTiming *t);

/* The operations a PU has not finished (migration). */
uint32_t ocssd_timing_get_ends(const OcssdTiming *t, uint32_t pu,
                               int64_t *ends);
void ocssd_timing_set_ends(OcssdTiming *t, uint32_t pu, const int64_t *ends,
                           uint32_t count);

#endif /* HW_BLOCK_OCSSD_TIMING_H */
