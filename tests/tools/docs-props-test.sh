#!/bin/sh
# Every property `-device ocssd,help` lists is documented in the user guide
# (TAP).
#
#   sh tests/tools/docs-props-test.sh QEMU_BUILD_DIR
set -u

obj=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
guide=$top/docs/user-guide.rst
props=$("$obj/qemu-system-x86_64" -device ocssd,help 2>&1 |
        sed -n 's/^  \([a-zA-Z0-9_-]*\)=.*/\1/p')
n=0
fails=0
if [ -z "$props" ]; then
    echo "not ok 1 - -device ocssd,help lists properties"
    echo "1..1"
    exit 1
fi
for p in $props; do
    n=$((n + 1))
    if grep -q "\`\`$p\`\`" "$guide"; then
        echo "ok $n - property $p is documented"
    else
        echo "not ok $n - property $p is documented in docs/user-guide.rst"
        fails=$((fails + 1))
    fi
done
echo "1..$n"
[ "$fails" -eq 0 ]
