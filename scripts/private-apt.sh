# Shell functions for reaching Debian's archive through a private apt
# configuration (sourced by scripts that download Debian packages).
#
# The archive URI is read from the machine's own apt sources, which are
# never changed; package lists and downloads live under a directory of
# ours.  After `private_apt_setup SUITE DIR`, "$APT" is an apt-get command
# line bound to that configuration (use it unquoted: $APT download foo).

private_apt_die() { echo "${0##*/}: $*" >&2; exit 1; }

# Print the first non-security Debian archive URI of the machine's sources.
private_apt_archive_uri() {
    _uri=
    for _f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$_f" ] || continue
        _uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++)
                    if ($i !~ /security/) { print $i; exit } }' "$_f")
        [ -n "$_uri" ] && break
    done
    if [ -z "$_uri" ]; then
        for _f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [ -r "$_f" ] || continue
            _uri=$(awk '$1 == "deb" || $1 == "deb-src" {
                        for (i = 2; i <= NF; i++)
                            if ($i ~ /:\/\// && $i !~ /security/) { print $i; exit } }' "$_f")
            [ -n "$_uri" ] && break
        done
    fi
    echo "$_uri"
}

# private_apt_setup SUITE DIR: write DIR/sources.list for SUITE (binary
# and source entries, component main), refresh the lists when they are
# missing or older than a day, and set $APT.
private_apt_setup() {
    _suite=$1 _dir=$2
    _uri=$(private_apt_archive_uri)
    [ -n "$_uri" ] || private_apt_die "no Debian archive URI found in /etc/apt/sources.list*"
    _keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -r "$_keyring" ] || private_apt_die "$_keyring missing: install debian-archive-keyring"
    mkdir -p "$_dir/lists/partial" "$_dir/cache/archives/partial"
    # An empty package status: what the host has installed must not pick
    # the versions we download.
    : > "$_dir/status"
    cat > "$_dir/sources.list.new" <<LIST
deb [signed-by=$_keyring] $_uri $_suite main
deb-src [signed-by=$_keyring] $_uri $_suite main
LIST
    mv "$_dir/sources.list.new" "$_dir/sources.list"
    APT="apt-get -q -o Dir::Etc::sourcelist=$_dir/sources.list
        -o Dir::Etc::sourceparts=- -o Dir::State::Lists=$_dir/lists
        -o Dir::Cache=$_dir/cache -o Dir::Cache::archives=$_dir/cache/archives
        -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
        -o Dir::State::status=$_dir/status
        -o APT::Sandbox::User=root -o Acquire::Retries=3"
    if [ -z "$(find "$_dir/lists" -maxdepth 1 -name '*_InRelease' -mtime -1 2>/dev/null)" ]; then
        echo "${0##*/}: updating private package lists for $_suite from $_uri" >&2
        $APT update >&2 ||
            private_apt_die "cannot reach the Debian archive $_uri (suite $_suite): no network?"
    fi
}
