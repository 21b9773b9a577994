#!/usr/bin/env python3
# An independent reader of ocssd image checksums, written from
# docs/image-format.rst alone (sections Header, Chunk table entry and
# Checksums): a bitwise CRC-32C, no library CRC, no code of the device.
#
#   image-crc.py --selftest      check the CRC against the documented
#                                check values
#   image-crc.py IMAGE           verify the header checksum and every chunk
#                                table entry's checksum; print a summary
#
# Exit status: 0 every checksum matches, 1 a mismatch or a malformed
# image, 2 usage.
import struct
import sys

POLY_REFLECTED = 0x82F63B78       # 0x1EDC6F41 bit-reflected
HEADER_SIZE = 4096
HEADER_CRC_AT = 4092              # covers bytes 0-4091
ENTRY_SIZE = 32
ENTRY_CRC_AT = 28                 # covers bytes 0-27 of the entry
STATES = {1: "free", 2: "closed", 4: "open", 8: "offline"}


def crc32c(data):
    """CRC-32C: reflected, initial value and final XOR 0xFFFFFFFF."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            if crc & 1:
                crc = (crc >> 1) ^ POLY_REFLECTED
            else:
                crc >>= 1
    return crc ^ 0xFFFFFFFF


def selftest():
    ok = True
    for data, want in ((b"123456789", 0xE3069283),
                       (bytes(28), 0xF7C9C769)):
        got = crc32c(data)
        if got != want:
            print("CRC of %r is 0x%08x, expected 0x%08x" % (data[:12], got,
                                                             want))
            ok = False
    if ok:
        print("check values match")
    return 0 if ok else 1


def verify(path):
    with open(path, "rb") as f:
        header = f.read(HEADER_SIZE)
        if len(header) < HEADER_SIZE:
            print("%s: shorter than a header" % path)
            return 1
        if header[0:8] != b"OCSSDIMG":
            print("%s: bad magic %r" % (path, header[0:8]))
            return 1
        header_crc, = struct.unpack_from("<I", header, HEADER_CRC_AT)
        computed = crc32c(header[:HEADER_CRC_AT])
        if header_crc != computed:
            print("header checksum mismatch: stored 0x%08x, computed 0x%08x"
                  % (header_crc, computed))
            return 1
        num_grp, num_pu, num_chk, clba = struct.unpack_from("<4I", header, 40)
        table_offset, table_size = struct.unpack_from("<2Q", header, 120)
        nchunks = num_grp * num_pu * num_chk
        if table_size < nchunks * ENTRY_SIZE:
            print("table_size %d too small for %d chunks"
                  % (table_size, nchunks))
            return 1
        f.seek(table_offset)
        table = f.read(nchunks * ENTRY_SIZE)
    if len(table) != nchunks * ENTRY_SIZE:
        print("%s: chunk table cut short" % path)
        return 1
    bad = 0
    counts = dict((name, 0) for name in STATES.values())
    for c in range(nchunks):
        e = table[c * ENTRY_SIZE:(c + 1) * ENTRY_SIZE]
        stored, = struct.unpack_from("<I", e, ENTRY_CRC_AT)
        computed = crc32c(e[:ENTRY_CRC_AT])
        if stored != computed:
            grp, rest = divmod(c, num_pu * num_chk)
            pu, chk = divmod(rest, num_chk)
            print("entry %d (grp %d pu %d chk %d): checksum mismatch: stored "
                  "0x%08x, computed 0x%08x"
                  % (c, grp, pu, chk, stored, computed))
            bad += 1
            continue
        state = STATES.get(e[0], "unknown")
        counts[state] = counts.get(state, 0) + 1
    print("header crc 0x%08x ok; %d groups x %d PUs x %d chunks x %d sectors;"
          " %d entries, %d bad; %s"
          % (header_crc, num_grp, num_pu, num_chk, clba, nchunks, bad,
             " ".join("%s=%d" % kv for kv in sorted(counts.items()))))
    return 1 if bad else 0


def main(argv):
    if len(argv) == 2 and argv[1] == "--selftest":
        return selftest()
    if len(argv) == 2 and not argv[1].startswith("-"):
        return verify(argv[1])
    print("usage: image-crc.py --selftest | IMAGE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
