# Guest test, first boot: write data, flush, leave a chunk open.
. /lib.sh

geometry
c=$(lba 1 1 1 0)
pattern /tmp/p $((CLBA / 2)) persist
check "write half a chunk" write_lba $c $((CLBA / 2)) /tmp/p
check "flush" nvme flush $CTRL --namespace-id=1
finish
