# TAP helpers shared by the tool tests (sourced, not run): a scratch
# directory $tmp removed at exit, the counters n and fails, and ok /
# not_ok / expect.  Each test ends with: echo "1..$n"; [ "$fails" -eq 0 ]
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0

ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}

not_ok() {
    n=$((n + 1))
    fails=$((fails + 1))
    echo "not ok $n - $1"
    [ -f "$tmp/out" ] && sed 's/^/#   /' "$tmp/out"
}

# expect NAME STATUS PATTERN COMMAND...: exit status and an output line.
expect() {
    name=$1 want=$2 pattern=$3
    shift 3
    "$@" > "$tmp/out" 2>&1
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "# expected exit $want, got $got: $*" >> "$tmp/out"
        not_ok "$name"
    elif [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/out"; then
        echo "# output lacks: $pattern" >> "$tmp/out"
        not_ok "$name"
    else
        ok "$name"
    fi
}
