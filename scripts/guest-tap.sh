# Shell functions for the Linux guest test runners (sourced by
# scripts/guest-check and scripts/guest-lightnvm): one boot per guest
# script on an ocssd device, its "ok - ..."/"not ok - ..." lines numbered
# into the runner's TAP stream.
#
# The runner sets $top, $tmp, $qemu, $timeout, $KERNEL and $INITRD, and
# counts in $n, $passed and $failed; $boot_add lists files the guests get
# besides tests/guest/lib.sh.

# geometry NAME PROPS [VAR=VALUE...]: the matching /test.env, $tmp/NAME.env
geometry() {
    props=$2
    val() { echo ",$props," | sed -n "s/.*,$1=\([^,]*\),.*/\1/p"; }
    cat > "$tmp/$1.env" <<ENV
NUM_GRP=$(val num_grp)
NUM_PU=$(val num_pu)
NUM_CHK=$(val num_chk)
CLBA=$(val clba)
WS_MIN=$(val ws_min)
WS_OPT=$(val ws_opt)
MW_CUNITS=$(val mw_cunits)
SEC_SIZE=$(val sec_size)
MD_SIZE=$(val md_size)
SERIAL=guestcheck
ENV
    _env=$1
    shift 2
    for _v in "$@"; do
        echo "$_v" >> "$tmp/$_env.env"
    done
}

# tap_log SCRIPT LOG STATUS: the checks of a guest's console log as TAP
# lines; one failure more when the guest crashed, hung or never ran its
# checks (STATUS other than 0 or 1, or no check at all).
tap_log() {
    checks=0
    while IFS= read -r line; do
        case "$line" in
        "ok - "*|"not ok - "*)
            n=$((n + 1))
            checks=$((checks + 1))
            case "$line" in
            ok*) passed=$((passed + 1)); echo "ok $n - [$1] ${line#ok - }" ;;
            *) failed=$((failed + 1)); echo "not ok $n - [$1] ${line#not ok - }" ;;
            esac
            ;;
        esac
    done < "$2"
    if [ "$3" -ne 0 ] && [ "$3" -ne 1 ] || [ $checks -eq 0 ]; then
        n=$((n + 1))
        failed=$((failed + 1))
        echo "not ok $n - [$1] the guest ran to completion (status $3)"
        sed 's/^/#   /' "$tmp/run.out" | tail -n 20
        tail -n 20 "$2" | sed 's/^/#   console: /'
    fi
}

# boot SCRIPT IMAGE ENV PROPS [QEMU ARGS]: one guest run, its checks as
# TAP lines
boot() {
    script=$1 image=$2 env=$3 props=$4
    shift 4
    log=$tmp/$env.${script%.sh}.console
    t0=$(date +%s)
    _adds=
    for _f in $boot_add; do
        _adds="$_adds --add $_f"
    done
    # $_adds splits on purpose: file names under the repo have no blanks
    "$top/scripts/run-guest" --qemu "$qemu" --kernel "$KERNEL" \
        --initrd "$INITRD" --timeout "$timeout" --log "$log" \
        --script "$top/tests/guest/$script" --add "$top/tests/guest/lib.sh" \
        $_adds --env "$tmp/$env.env" -- \
        -drive "if=none,id=oc0,file=$image,format=raw" \
        -device "ocssd,drive=oc0,serial=guestcheck,$props" "$@" \
        > "$tmp/run.out" 2>&1
    tap_log "$script" "$log" $?
    echo "# $script: $(($(date +%s) - t0)) s"
}

# fresh NAME: an empty image file (the device formats it), its path
fresh() {
    rm -f "$tmp/$1.img"
    : > "$tmp/$1.img"
    echo "$tmp/$1.img"
}
