# Guest test: I/O on the Open-Channel namespace through Linux, nvme-cli and
# fio: chunk life cycle, the rules' status codes, vector commands, DSM.
. /lib.sh

geometry
c0=$(lba 0 0 0 0)       # chunk 0
c1=$(lba 0 0 1 0)       # chunk 1
chunk_log

# a chunk's life: free -> open -> closed -> (reset) free
pattern /tmp/w $CLBA a
check "write half a chunk at the write pointer" write_lba $c0 $((CLBA / 2)) /tmp/w
chunk_log
expect "chunk 0 is open" 4 "$(chunk_state 0)"
expect "chunk 0 write pointer" $((CLBA / 2)) "$(chunk_wp 0)"
dd if=/tmp/w of=/tmp/w2 bs=$SEC_SIZE skip=$((CLBA / 2)) 2>/dev/null
check "write the rest" write_lba $((c0 + CLBA / 2)) $((CLBA / 2)) /tmp/w2
chunk_log
expect "chunk 0 is closed when full" 2 "$(chunk_state 0)"
expect "closed chunk WP = CNLB" $CLBA "$(chunk_wp 0)"
check "read the chunk back" read_lba $c0 $CLBA /tmp/r
check "the data read is the data written" cmp -s /tmp/w /tmp/r

# rules and their status codes
pattern /tmp/s 8 b
expect "write to a closed chunk: Write Fault" 0x280 \
    "$(status write_lba $c0 $WS_MIN /tmp/s)"
expect "write not at the write pointer: Out of Order Write" 0x2f2 \
    "$(status write_lba $((c1 + WS_MIN)) $WS_MIN /tmp/s)"
expect "write not a multiple of WS_MIN: Invalid Field" 0x002 \
    "$(status write_lba $c1 1 /tmp/s)"
expect "reset of a free chunk: Invalid Reset" 0x2c1 \
    "$(status vector 0x90 $c1)"
expect "read of unwritten sectors without DULBE succeeds" 0x000 \
    "$(status read_lba $c1 1 /tmp/r)"
check "set DULBE (error recovery feature)" \
    nvme set-feature $CTRL --feature-id=5 --value=0x10000 --namespace-id=1
expect "read of unwritten sectors with DULBE: 0x287" 0x287 \
    "$(status read_lba $c1 1 /tmp/r)"
check "clear DULBE" \
    nvme set-feature $CTRL --feature-id=5 --value=0 --namespace-id=1

# the MW_CUNITS window: the last MW_CUNITS written sectors read as zeroes
if [ "$MW_CUNITS" -gt 0 ]; then
    pattern /tmp/m $((2 * MW_CUNITS)) m
    write_lba $c1 $((2 * MW_CUNITS)) /tmp/m
    read_lba $((c1 + 2 * MW_CUNITS - 1)) 1 /tmp/r
    dd if=/dev/zero of=/tmp/z bs=$SEC_SIZE count=1 2>/dev/null
    check "a sector inside the MW_CUNITS window reads as unwritten" cmp -s /tmp/z /tmp/r
    read_lba $c1 1 /tmp/r
    dd if=/tmp/m of=/tmp/m0 bs=$SEC_SIZE count=1 2>/dev/null
    check "a sector below the window reads back" cmp -s /tmp/m0 /tmp/r
fi

# vector commands with one inline LBA (NLB 0); a list needs guest physical
# addresses, which user space cannot give (the qtests cover lists)
pattern /tmp/v 1 v
expect "vector write (91h) of one sector, WS_MIN > 1: Invalid Field" 0x002 \
    "$(status vector 0x91 $((c1 + 2 * MW_CUNITS)) --data-len=$SEC_SIZE -w -i /tmp/v)"
expect "vector reset (90h) of an open chunk: Invalid Reset" 0x2c1 \
    "$(status vector 0x90 $c1)"
vector 0x92 $((c0 + 5)) --data-len=$SEC_SIZE -r -b > /tmp/r 2>/dev/null
dd if=/tmp/w of=/tmp/w5 bs=$SEC_SIZE skip=5 count=1 2>/dev/null
check "vector read (92h) returns the sector's data" cmp -s /tmp/w5 /tmp/r
expect "vector reset (90h) of a closed chunk" 0x000 "$(status vector 0x90 $c0)"
chunk_log
expect "chunk 0 is free after the reset" 1 "$(chunk_state 0)"
expect "its wear index grew" 1 "$(chunk_wli 0)"
expect "vector reset of the same chunk again: Invalid Reset" 0x2c1 \
    "$(status vector 0x90 $c0)"

# Dataset Management deallocate = chunk reset, whole chunks only
c3=$(lba 1 0 3 0)
pattern /tmp/f $CLBA f
write_lba $c3 $CLBA /tmp/f > /dev/null
expect "DSM deallocate of part of a chunk: Invalid Field" 0x002 \
    "$(status nvme dsm $NS --namespace-id=1 --ad --slbs=$c3 --blocks=$WS_MIN)"
expect "DSM deallocate of a whole chunk" 0x000 \
    "$(status nvme dsm $NS --namespace-id=1 --ad --slbs=$c3 --blocks=$CLBA)"
chunk_log
ci=$(( (1 * NUM_PU + 0) * NUM_CHK + 3 ))
expect "the deallocated chunk is free" 1 "$(chunk_state $ci)"

# fio: sequential writes with 8 in flight, into fresh chunks of one PU
c4=$(lba 1 1 4 0)
fio --name=seq --filename=$NS --direct=1 --ioengine=libaio --iodepth=8 \
    --rw=write --bs=$((WS_OPT * SEC_SIZE)) --offset=$((c4 * SEC_SIZE)) \
    --size=$((2 * CLBA * SEC_SIZE)) --output=/tmp/fio.out > /dev/null 2>&1
check "fio: queue depth 8 sequential writes through two chunks" \
    grep -q "err= 0" /tmp/fio.out
chunk_log
ci=$(( (1 * NUM_PU + 1) * NUM_CHK + 4 ))
expect "fio filled the first chunk" 2 "$(chunk_state $ci)"
expect "and the second" 2 "$(chunk_state $((ci + 1)))"
finish
