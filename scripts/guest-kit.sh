# Shell functions for assembling a test guest's initramfs from Debian
# packages (sourced by scripts/build-guest and scripts/build-lightnvm-guest).
#
# The caller sets $APT (scripts/private-apt.sh), and $work, a scratch
# directory; packages are downloaded into $work/debs and unpacked into
# $work/x, and nothing is installed on the host.

kit_die() { echo "${0##*/}: $*" >&2; exit 1; }

# kit_download PKG...: fetch the packages not fetched yet, unpack them into
# $work/x, and remember which package each file came from.
kit_download() {
    mkdir -p "$work/debs" "$work/x"
    for _p in "$@"; do
        ls "$work/debs/${_p}_"*.deb >/dev/null 2>&1 && continue
        (cd "$work/debs" && $APT download "$_p" >/dev/null 2>&1) ||
            kit_die "cannot download the Debian package '$_p'"
        dpkg-deb -x "$work/debs/${_p}_"*.deb "$work/x"
        dpkg-deb -c "$work/debs/${_p}_"*.deb |
            awk -v p="$_p" '{ sub("^\\./", "/", $6); print $6, p }' >> "$work/owners"
    done
}

# kit_find_lib SONAME NEEDING-FILE: the unpacked library file, honouring
# the needing file's RUNPATH.
kit_find_lib() {
    _x=$work/x
    _rp=$(readelf -d "$2" 2>/dev/null |
          sed -n 's/.*(R[UN]*PATH).*\[\(.*\)\]/\1/p' | tr ':' ' ')
    for _d in $_rp; do
        case "$_d" in /*) [ -e "$_x$_d/$1" ] && { echo "$_x$_d/$1"; return 0; } ;; esac
    done
    for _d in "$_x/lib/x86_64-linux-gnu" "$_x/usr/lib/x86_64-linux-gnu" \
              "$_x/lib64" "$_x/usr/lib"; do
        [ -e "$_d/$1" ] && { echo "$_d/$1"; return 0; }
    done
    return 1
}

# kit_needed_closure FILE...: the library files the programs (paths under
# $work/x) need through their ELF NEEDED entries, transitively; a library
# not unpacked yet is a line "MISSING <soname> <needing file>".
kit_needed_closure() {
    _todo=$*
    _seen=" "
    while [ -n "$_todo" ]; do
        _next=
        for _f in $_todo; do
            for _so in $(readelf -d "$_f" 2>/dev/null |
                         sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
                case "$_seen" in *" $_so "*) continue ;; esac
                if _lib=$(kit_find_lib "$_so" "$_f"); then
                    _seen="$_seen$_so "
                    echo "$_lib"
                    _next="$_next $_lib"
                else
                    echo "MISSING $_so ${_f#$work/x}"
                fi
            done
        done
        _todo=$_next
    done
}

kit_owner_of() {        # the package a file (path in the guest) came from
    awk -v f="$1" '$1 == f { print $2; exit }' "$work/owners"
}

# kit_fetch_libs FILE...: download packages until every library the
# programs need is unpacked.  A library not unpacked yet comes from a
# dependency (or pre-dependency) of the package that holds the file
# needing it.
kit_fetch_libs() {
    _round=0
    while :; do
        _missing=$(kit_needed_closure "$@" | grep '^MISSING ' || true)
        [ -z "$_missing" ] && break
        _round=$((_round + 1))
        [ $_round -le 10 ] || kit_die "cannot find the libraries: $_missing"
        _new=
        for _needer in $(echo "$_missing" | awk '{ print $3 }' | sort -u); do
            _pkg=$(kit_owner_of "$_needer")
            # libraries are found through symlinks: try the link's target too
            [ -n "$_pkg" ] || _pkg=$(kit_owner_of "$(dirname "$_needer")/$(readlink \
                                     "$work/x$_needer" 2>/dev/null || echo none)")
            [ -n "$_pkg" ] || kit_die "no package holds $_needer"
            for _d in $(dpkg-deb -f "$work/debs/${_pkg}_"*.deb Pre-Depends Depends |
                        sed 's/^[A-Za-z-]*: //' | tr ',' '\n' |
                        sed 's/|.*//; s/(.*//; s/:any//; s/ //g'); do
                ls "$work/debs/${_d}_"*.deb >/dev/null 2>&1 || _new="$_new $_d"
            done
        done
        _new=$(echo $_new | tr ' ' '\n' | sort -u | tr '\n' ' ')
        [ -n "${_new% }" ] || kit_die "no dependency provides: $_missing"
        echo "${0##*/}: fetching libraries: $_new" >&2
        kit_download $_new
    done
}

# kit_root ROOT FILE...: a root file system skeleton in ROOT with busybox,
# the programs (paths under $work/x, kept at their place) and the libraries
# they need.
kit_root() {
    _r=$1
    shift
    mkdir -p "$_r/bin" "$_r/sbin" "$_r/usr/bin" "$_r/usr/sbin" "$_r/proc" \
             "$_r/sys" "$_r/dev" "$_r/tmp" "$_r/etc" "$_r/lib64" \
             "$_r/lib/x86_64-linux-gnu" "$_r/var/tmp" "$_r/mnt"
    cp "$work/x/bin/busybox" "$_r/bin/busybox"
    for _f in "$@"; do
        mkdir -p "$_r$(dirname "${_f#$work/x}")"
        cp "$_f" "$_r${_f#$work/x}"
    done
    for _lib in $(kit_needed_closure "$@"); do
        mkdir -p "$_r$(dirname "${_lib#$work/x}")"
        cp -L "$_lib" "$_r${_lib#$work/x}"
    done
    cp -L "$work/x/lib64/ld-linux-x86-64.so.2" "$_r/lib64/" 2>/dev/null ||
        cp -L "$work/x/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$_r/lib64/"
    echo "root:x:0:0:root:/:/bin/sh" > "$_r/etc/passwd"
    echo "root:x:0:" > "$_r/etc/group"
}

# kit_init ROOT DEVICE [END]: the guest's /init.  It mounts /proc, /sys,
# /dev and /tmp, waits briefly for DEVICE, runs /test.sh if there is one,
# prints "OCSSD-GUEST-EXIT=<status>" and ends with END ("poweroff -f"; a
# kernel without ACPI cannot power off, and "reboot -f" ends QEMU run with
# -no-reboot); without /test.sh it starts a shell on the console first.
kit_init() {
    sed "s|@DEVICE@|$2|; s|@END@|${3:-poweroff -f}|" > "$1/init" <<'INIT'
#!/bin/busybox sh
# ocssd test guest: run /test.sh, report its status, power off.
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
# The NVMe driver probes asynchronously: wait for the namespace, briefly.
i=0
while [ ! -e @DEVICE@ ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
if [ -f /test.sh ]; then
    cd /tmp
    sh /test.sh
    rc=$?
    sync
    echo "OCSSD-GUEST-EXIT=$rc"
else
    echo "ocssd test guest: no /test.sh; shell on the console (exit powers off)"
    setsid cttyhack sh
fi
@END@
INIT
    chmod 755 "$1/init"
}

# kit_cpio ROOT FILE: the initramfs archive of ROOT
kit_cpio() {
    (cd "$1" && find . | sort | cpio -o -H newc --quiet -R 0:0) | gzip -6 > "$2"
}
