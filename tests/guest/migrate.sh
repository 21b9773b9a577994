# Guest test of migration (run by scripts/guest-migrate): records are
# written and checked without a pause while the host migrates the VM, then
# every record is read again on the destination.
#
# Record i is one optimal write unit (WS_OPT sectors) whose content is a
# function of i alone, so any record can be made again to check it.  The
# records go round-robin over every parallel unit; within a PU they fill
# its chunks 0, 1, ... sequentially, as Open-Channel requires.  One writer
# per PU runs in the background, so several commands can be in flight when
# the VM stops.  Each writer reads every record back at once, flushes every
# FLUSH_EVERY records, and prints "record I" on the console: the host waits
# for such lines before it migrates.
#
# MW_CUNITS may be 0 or one record (WS_OPT).  With a window, the record just
# written must read as zeroes while its chunk is open (the window covers
# it) and the one before it as written: each read back covers both, so a
# window lost (or invented) by the migration shows.
#
# With LOAD=N (> 0) fio reads at random, N commands deep, beside the
# writers until writer 0 has written record LOAD_UNTIL (or to the end), so
# that the device is rarely idle when the VM stops (the host may throttle
# the drive to keep commands in flight longer).  It reads the last chunk of
# the last PU, written first: reads of unwritten sectors never reach the
# image.
#
# /test.env adds RECORDS (how many), FLUSH_EVERY, LOAD and LOAD_UNTIL to
# the geometry.
. /lib.sh

RECORDS=${RECORDS:-160}
FLUSH_EVERY=${FLUSH_EVERY:-4}
LOAD=${LOAD:-0}
WU=$WS_OPT                      # sectors per record
PUS=$((NUM_GRP * NUM_PU))
RPC=$((CLBA / WU))              # records per chunk
BYTES=$((WU * SEC_SIZE))

# Record I: every sector repeats its own "<record>.<sector>:" tag, so a
# sector out of place shows.  scripts/guest-migrate makes the same bytes
# to check the image.
SECTOR_AWK='function sector(rec, s,   t, line) {
    t = sprintf("mig-%06d.%03d:", rec, s)
    line = t
    while (length(line) < ss)
        line = line line
    return substr(line, 1, ss)
}'

# gen FILE I COUNT STEP: records I, I + STEP, ... (COUNT of them) in FILE
gen() {
    awk -v rec=$2 -v n=$3 -v step=$4 -v wu=$WU -v ss=$SEC_SIZE "$SECTOR_AWK"'
    BEGIN {
        for (r = 0; r < n; r++)
            for (s = 0; s < wu; s++)
                printf "%s", sector(rec + r * step, s)
    }' > "$1"
}

# gen_writer P: every record of writer P, record I in /tmp/rec.I
gen_writer() {
    awk -v p=$1 -v pus=$PUS -v n=$RECORDS -v wu=$WU -v ss=$SEC_SIZE "$SECTOR_AWK"'
    BEGIN {
        for (i = p; i < n; i += pus) {
            f = "/tmp/rec." i
            for (s = 0; s < wu; s++)
                printf "%s", sector(i, s) > f
            close(f)
        }
    }'
}

# writer P: records P, P + PUS, P + 2 * PUS, ...  (a background process:
# what went wrong goes to /tmp/err.P, the records done to /tmp/done.P).
# Writer 0 stops the load once it has written record LOAD_UNTIL.
writer() {
    _w=$1
    _i=$_w
    _n=0
    : > /tmp/done.$_w
    gen_writer $_w
    while [ $_i -lt $RECORDS ]; do
        _k=$((_i / PUS))                        # the PU's _k-th record
        _j=$((_k % RPC))                        # its place in its chunk
        _l=$(( (((_w / NUM_PU) << PU_LEN | (_w % NUM_PU)) << (CHK_LEN + LBK_LEN)) |
               ((_k / RPC) << LBK_LEN) | (_j * WU) ))
        if ! nvme write $NS --force --start-block=$_l --block-count=$((WU - 1)) \
                --data-size=$BYTES --data=/tmp/rec.$_i > /tmp/out.$_w 2>&1; then
            echo "record $_i: the write at LBA $_l failed:" \
                "$(tr '\n' ' ' < /tmp/out.$_w)" >> /tmp/err.$_w
            return 1
        fi
        # what a read of _rn sectors from _rl must return: _x
        _rl=$_l
        _rn=$WU
        _x=/tmp/rec.$_i
        if [ "$MW_CUNITS" -gt 0 ]; then
            _x=/tmp/x.$_w
            _last=/tmp/zero                     # in the window
            [ $_j -eq $((RPC - 1)) ] && _last=/tmp/rec.$_i  # it closed the chunk
            if [ $_j -gt 0 ]; then
                _rl=$((_l - WU))
                _rn=$((2 * WU))
                cat /tmp/rec.$((_i - PUS)) $_last > $_x
            else
                _x=$_last
            fi
            rm -f /tmp/r.$_w                    # the reads vary in length
        fi
        if ! nvme read $NS --start-block=$_rl --block-count=$((_rn - 1)) \
                --data-size=$((_rn * SEC_SIZE)) --data=/tmp/r.$_w \
                > /tmp/out.$_w 2>&1; then
            echo "record $_i: the read at LBA $_rl failed:" \
                "$(tr '\n' ' ' < /tmp/out.$_w)" >> /tmp/err.$_w
            return 1
        fi
        if ! cmp -s $_x /tmp/r.$_w; then
            echo "record $_i: read back ($_rn sectors at LBA $_rl), it differs" \
                "from what was written$(cmp $_x /tmp/r.$_w 2>&1 |
                                        sed 's/^[^:]*:/:/; s/,.*//')" \
                >> /tmp/err.$_w
            return 1
        fi
        echo $_i >> /tmp/done.$_w
        echo "record $_i"
        if [ $_w -eq 0 ] && [ $_i -ge "${LOAD_UNTIL:-0}" ] && [ -f /tmp/load.pid ]; then
            read _pid < /tmp/load.pid
            rm -f /tmp/load.pid
            kill -INT $_pid
        fi
        _n=$((_n + 1))
        if [ $((_n % FLUSH_EVERY)) -eq 0 ] &&
           ! nvme flush $NS --namespace-id=1 > /tmp/out.$_w 2>&1; then
            echo "record $_i: the flush after it failed:" \
                "$(tr '\n' ' ' < /tmp/out.$_w)" >> /tmp/err.$_w
            return 1
        fi
        _i=$((_i + PUS))
    done
    nvme flush $NS --namespace-id=1 > /tmp/out.$_w 2>&1 ||
        echo "the last flush failed: $(tr '\n' ' ' < /tmp/out.$_w)" >> /tmp/err.$_w
}

if ! geometry; then
    fail "read the geometry"
    finish
fi
need=$(( (RECORDS + PUS - 1) / PUS ))          # records in the busiest PU
check "the records fit: $RECORDS records of $WU sectors in $PUS PUs" \
    test $((WS_OPT % WS_MIN)) -eq 0 -a $((CLBA % WU)) -eq 0 -a \
      $(( (need + RPC - 1) / RPC )) -lt $NUM_CHK -a \
      \( "$MW_CUNITS" -eq 0 -o "$MW_CUNITS" -eq $WU \) -a $RPC -gt 1
[ $FAILS -eq 0 ] || finish
dd if=/dev/zero of=/tmp/zero bs=$BYTES count=1 2>/dev/null
echo "writing $RECORDS records: $PUS writers, $RPC records a chunk, MW_CUNITS $MW_CUNITS"

rm -f /tmp/load.pid
if [ "$LOAD" -gt 0 ]; then
    load_lba=$(lba $((NUM_GRP - 1)) $((NUM_PU - 1)) $((NUM_CHK - 1)) 0)
    dd if=/dev/zero of=/tmp/fill bs=$SEC_SIZE count=$CLBA 2>/dev/null
    quiet() { "$@" > /dev/null 2>&1; }
    check "the chunk the load reads is written" \
        quiet write_lba $load_lba $CLBA /tmp/fill
    fio --name=load --filename=$NS --direct=1 --ioengine=libaio \
        --iodepth=$LOAD --rw=randread --bs=$BYTES --norandommap \
        --offset=$((load_lba * SEC_SIZE)) --size=$((CLBA * SEC_SIZE)) \
        --time_based --runtime=3600 --output=/tmp/load.out > /dev/null 2>&1 &
    load_pid=$!
    # the writers start once fio reads (it takes a while to start)
    dev=${NS#/dev/}
    r0=$(awk '{ print $1 }' /sys/block/$dev/stat)
    t=0
    while [ $(($(awk '{ print $1 }' /sys/block/$dev/stat) - r0)) -lt 20 ] &&
          [ $t -lt 100 ]; do
        sleep 0.1
        t=$((t + 1))
    done
    echo $load_pid > /tmp/load.pid
fi

pids=
p=0
while [ $p -lt $PUS ]; do
    rm -f /tmp/err.$p
    writer $p &
    pids="$pids $!"
    p=$((p + 1))
done
wait $pids
echo "writers done"
if [ "$LOAD" -gt 0 ]; then
    [ -f /tmp/load.pid ] && kill -INT $load_pid
    wait $load_pid
    load_rc=$?                  # fio ends with status 128 when interrupted
    check "fio random reads ($LOAD deep) beside the writers: no error (status $load_rc)" \
        test \( $load_rc -eq 0 -o $load_rc -eq 128 \) -a \
             -n "$(grep "err= 0" /tmp/load.out)"
    grep -m 1 "read: IOPS" /tmp/load.out
fi

# What the writers saw, one check per writer.
p=0
while [ $p -lt $PUS ]; do
    want=$(( (RECORDS - p + PUS - 1) / PUS ))
    got=$(wc -l < /tmp/done.$p)
    if [ -s /tmp/err.$p ]; then
        fail "writer $p (group $((p / NUM_PU)) PU $((p % NUM_PU))):" \
             "$got of $want records; $(head -n 1 /tmp/err.$p)"
    else
        expect "writer $p (group $((p / NUM_PU)) PU $((p % NUM_PU))): records written and read back at once" \
               $want $got
    fi
    p=$((p + 1))
done

# Every record again, written before, during and after the migration: a
# chunk's records at a time, in reads of 32 sectors (lib.sh's read_lba).
# The last record of an open chunk is in the MW_CUNITS window, if any.
bad=0
first=
p=0
while [ $p -lt $PUS ]; do
    n=$(( (RECORDS - p + PUS - 1) / PUS ))     # records of this PU
    c=0
    while [ $((c * RPC)) -lt $n ]; do
        r=$((n - c * RPC))
        [ $r -gt $RPC ] && r=$RPC
        i0=$(( (c * RPC) * PUS + p ))           # the chunk's first record
        if [ "$MW_CUNITS" -gt 0 ] && [ $r -lt $RPC ]; then
            # the chunk is open: its last record is in the window
            gen /tmp/w $i0 $((r - 1)) $PUS
            cat /tmp/zero >> /tmp/w
        else
            gen /tmp/w $i0 $r $PUS
        fi
        l=$(lba $((p / NUM_PU)) $((p % NUM_PU)) $c 0)
        if ! read_lba $l $((r * WU)) /tmp/r > /tmp/out 2>&1; then
            bad=$((bad + r))
            [ -n "$first" ] || first="PU $p chunk $c: the read failed"
        elif ! cmp -s /tmp/w /tmp/r; then
            # which records differ
            k=0
            while [ $k -lt $r ]; do
                dd if=/tmp/w of=/tmp/w1 bs=$BYTES skip=$k count=1 2>/dev/null
                dd if=/tmp/r of=/tmp/r1 bs=$BYTES skip=$k count=1 2>/dev/null
                if ! cmp -s /tmp/w1 /tmp/r1; then
                    bad=$((bad + 1))
                    [ -n "$first" ] ||
                        first="record $((i0 + k * PUS)) at LBA $((l + k * WU))"
                fi
                k=$((k + 1))
            done
        fi
        c=$((c + 1))
    done
    p=$((p + 1))
done
expect "every record reads back intact at the end${first:+ (first bad: $first)}" \
    0 $bad

# The chunk table agrees: each chunk holds exactly its records.
chunk_log
bad=0
first=
p=0
while [ $p -lt $PUS ]; do
    n=$(( (RECORDS - p + PUS - 1) / PUS ))     # records of this PU
    c=0
    while [ $c -lt $NUM_CHK ]; do
        r=$((n - c * RPC))
        [ $r -lt 0 ] && r=0
        [ $r -gt $RPC ] && r=$RPC
        [ "$LOAD" -gt 0 ] && [ $p -eq $((PUS - 1)) ] &&
            [ $c -eq $((NUM_CHK - 1)) ] && r=$RPC     # the load's chunk
        case $r in
        0) want_s=1 want_wp=0 ;;                  # free (WP not checked)
        $RPC) want_s=2 want_wp=$CLBA ;;           # closed
        *) want_s=4 want_wp=$((r * WU)) ;;        # open
        esac
        ci=$((p * NUM_CHK + c))
        s=$(chunk_state $ci)
        wp=$(chunk_wp $ci)
        [ $want_s -eq 1 ] && wp=0
        if [ "$s" != $want_s ] || [ "$wp" != $want_wp ]; then
            bad=$((bad + 1))
            [ -n "$first" ] || first="PU $p chunk $c: state $s WP $wp, expected $want_s/$want_wp"
        fi
        c=$((c + 1))
    done
    p=$((p + 1))
done
expect "the chunk states and write pointers match the records${first:+ ($first)}" \
    0 $bad

# The kernel saw no timeout, reset or I/O error, before or after the
# migration.
dmesg | grep -iv 'command line' > /tmp/dmesg
grep -iE 'nvme.*(timeout|reset|abort|fail|error|disabl)|I/O error|critical medium' \
    /tmp/dmesg > /tmp/dmesg.bad
if [ -s /tmp/dmesg.bad ]; then
    fail "no NVMe timeout, reset or I/O error in the kernel log:" \
         "$(head -n 3 /tmp/dmesg.bad | tr '\n' '|')"
else
    pass "no NVMe timeout, reset or I/O error in the kernel log"
fi
finish
