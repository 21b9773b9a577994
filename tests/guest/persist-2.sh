# Guest test, second boot on the same image: what the first flushed is there.
. /lib.sh

geometry
c=$(lba 1 1 1 0)
ci=$(( (1 * NUM_PU + 1) * NUM_CHK + 1 ))
chunk_log
expect "the chunk is still open" 4 "$(chunk_state $ci)"
expect "its write pointer survived" $((CLBA / 2)) "$(chunk_wp $ci)"
pattern /tmp/p $((CLBA / 2)) persist
check "read the data back (the MW_CUNITS window ends at restart)" \
    read_lba $c $((CLBA / 2)) /tmp/r
check "the data survived the reboot" cmp -s /tmp/p /tmp/r
expect "the next write continues at the write pointer" 0x000 \
    "$(status write_lba $((c + CLBA / 2)) $WS_MIN /tmp/p)"
finish
