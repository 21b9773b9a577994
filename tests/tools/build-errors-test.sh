#!/bin/sh
# Bad input to the build gets a one-line explanation and a non-zero exit,
# and leaves no configuration or build copy that looks fine (TAP).
#
#   sh tests/tools/build-errors-test.sh [QEMU_BUILD_DIR]   (the argument is
#   unused: these checks need no QEMU build)
#
# Runs a copy of ./configure and scripts/ in a scratch directory, so the
# checkout's own build/config.mak is never touched.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
repo=$tmp/repo
mkdir -p "$repo"
cp "$top/configure" "$repo/"
cp -r "$top/scripts" "$repo/"

n=0
fails=0

# expect_fail NAME PATTERN COMMAND...: the command exits non-zero, its
# stderr matches PATTERN (grep -E), and no build/config.mak appeared.
expect_fail() {
    name=$1 pattern=$2
    shift 2
    n=$((n + 1))
    rm -f "$repo/build/config.mak"
    if "$@" > "$tmp/out" 2> "$tmp/err"; then
        echo "not ok $n - $name: exited 0"
        fails=$((fails + 1))
    elif ! grep -Eq -e "$pattern" "$tmp/err"; then
        echo "not ok $n - $name: stderr does not match '$pattern'"
        sed 's/^/#   /' "$tmp/err"
        fails=$((fails + 1))
    elif [ -e "$repo/build/config.mak" ]; then
        echo "not ok $n - $name: a build/config.mak was written"
        fails=$((fails + 1))
    else
        echo "ok $n - $name"
    fi
}

cfg() {
    "$repo/configure" --cache-dir="$tmp/cache" "$@"
}

expect_fail "unknown configure option" "unknown option '--frobnicate'" \
    cfg --frobnicate
expect_fail "unsupported --qemu version" "QEMU '9.9' is not supported" \
    cfg --qemu=9.9
expect_fail "relative --prefix" "--prefix must be an absolute path" \
    cfg --prefix=opt/qemu
expect_fail "--qemu-src that does not exist" "is not a directory" \
    cfg --qemu-src="$tmp/nosuch"
mkdir -p "$tmp/empty"
expect_fail "--qemu-src that is not a QEMU tree" "is not a QEMU source tree" \
    cfg --qemu-src="$tmp/empty"

# A tree that looks like QEMU 9.2.
fake=$tmp/qemu-9.2
mkdir -p "$fake/hw/block" "$fake/include/block"
echo 9.2.0 > "$fake/VERSION"
: > "$fake/meson.build"
: > "$fake/include/block/nvme.h"
expect_fail "--qemu-src of an unsupported version" \
    "QEMU 9\\.2\\.0 is not supported \\(supported: 10\\.0 7\\.2\\)" \
    cfg --qemu-src="$fake"

# A missing build tool: every command of the machine but ninja.
mkdir -p "$tmp/bin"
for d in /usr/local/bin /usr/bin /bin; do
    for f in "$d"/*; do
        b=${f##*/}
        [ "$b" = ninja ] || [ -e "$tmp/bin/$b" ] || ln -s "$f" "$tmp/bin/$b"
    done
done
expect_fail "a missing build dependency names its Debian package" \
    "missing Debian packages:.*ninja-build" \
    env PATH="$tmp/bin" /bin/sh "$repo/configure" --cache-dir="$tmp/cache"

# The overlay refuses a build directory it did not make, or made from
# another tree, instead of building on it.
mkdir -p "$tmp/stale"
expect_fail "overlay onto a directory that is not a build copy" \
    "not a complete build copy.*make clean" \
    "$repo/scripts/overlay" "$fake" "$tmp/stale"
echo "layout 0, QEMU 7.2.0 from /elsewhere" > "$tmp/stale/.ocssd-overlay"
expect_fail "overlay onto a build copy of another QEMU tree" \
    "was made from .*run 'make clean'" \
    "$repo/scripts/overlay" "$fake" "$tmp/stale"
expect_fail "overlay of something that is not a QEMU tree" \
    "is not a QEMU tree" \
    "$repo/scripts/overlay" "$tmp/empty" "$tmp/copy"
n=$((n + 1))
if [ -e "$tmp/copy" ]; then
    echo "not ok $n - a refused overlay leaves no build copy"
    fails=$((fails + 1))
else
    echo "ok $n - a refused overlay leaves no build copy"
fi

echo "1..$n"
[ "$fails" -eq 0 ]
