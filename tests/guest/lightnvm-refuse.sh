# lightnvm guest test on a geometry pblk must refuse: REFUSE is the
# message pblk gives.  lightnvm registers the device all the same.
. /lib.sh
. /lightnvm-lib.sh

g="[$NUM_GRP grp x $NUM_PU pu x $NUM_CHK chk x $CLBA, ws $WS_MIN/$WS_OPT]"
check "$g lightnvm registers the device" test -d /sys/block/nvme0n1/lightnvm
check "$g pblk refuses it" refused create_target
check "$g ... saying why: $REFUSE" kmsg "$REFUSE"
check "$g no target is left" test ! -e $DEV
finish
