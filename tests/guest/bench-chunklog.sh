# The scale curve's guest part (run by scripts/bench): the whole Chunk
# Information log (CAh, 32 bytes per chunk) read through the controller
# with vbench, in Get Log Page commands of PIECE bytes.  /test.env:
# CHUNKS, PIECE, MARK (the host's marker port).  Numbers, no verdict.
. /lib.sh

stty -F $MARK raw -echo 2> /dev/null
echo "BENCH-MARK hello chunklog" > $MARK
if out=$(/vbench chunklog $CTRL $CHUNKS $PIECE chunklog $MARK 2>&1); then
    echo "$out"
    pass "chunk log of $CHUNKS chunks"
else
    echo "$out"
    fail "chunk log of $CHUNKS chunks"
fi
echo "BENCH-MARK done chunklog" > $MARK
finish
