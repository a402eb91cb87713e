#!/usr/bin/env bash
# Measures the raw limits of the disk under a directory (default /tmp, where the JMH benchmarks write),
# to compare the partition-store benchmarks with:
#   - sequential write, 1 MiB blocks, O_DIRECT (dd oflag=direct) and through the page cache with one
#     fdatasync at the end (dd conv=fdatasync), 2 GiB each; and, shaped like the log's segments, eight
#     256 MiB files written through the page cache, each fdatasync'd when complete (the partition log
#     fsyncs every segment when it rolls);
#   - sequential read, 1 MiB blocks, O_DIRECT (dd iflag=direct), 2 GiB;
#   - synced small writes: fio, sequential 16 KiB and 4 KiB writes, each followed by fsync (--fsync=1),
#     and 16 KiB writes each followed by fdatasync (--fdatasync=1; what PartitionLog.flush() does for a
#     segment file), 64 MiB each.
# Needs fio (installed with apt-get when missing and run as root). Takes about a minute or two.
# Run it under the shared build lock on a shared machine: flock /tmp/sluice-mvn.lock benchmarks/raw-disk.sh
# Usage: benchmarks/raw-disk.sh [directory]
set -euo pipefail

dir="${1:-/tmp}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/target/raw-disk"
mkdir -p "$out"
ddfile="$dir/sluice-raw-disk-dd.bin"
fiofile="$dir/sluice-raw-disk-fio.bin"
trap 'rm -f "$ddfile" "$ddfile".? "$fiofile"' EXIT

if ! command -v fio >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "fio is missing; installing it with apt-get" >&2
        apt-get update -qq >/dev/null && apt-get install -y -qq fio >/dev/null
    else
        echo "fio is missing: install it (apt-get install fio)" >&2
        exit 1
    fi
fi

# dd prints its result on the last line of stderr: "... bytes (...) copied, 2.5 s, 859 MB/s"
run_dd() {
    local name="$1"
    shift
    dd "$@" 2>"$out/$name.txt"
    tail -n 1 "$out/$name.txt" | sed -E 's/.*copied, //'
}

run_fio() {
    local name="$1"
    shift
    rm -f "$fiofile"
    fio --name="$name" --filename="$fiofile" --ioengine=psync --rw=write --size=64m "$@" >"$out/$name.txt"
    local iops sync
    iops="$(grep -m1 -E '^ +write: IOPS=' "$out/$name.txt" | sed -E 's/^ +write: //; s/;.*//')"
    sync="$(grep -m1 -E '^ +sync \((u|m|n)sec\):' "$out/$name.txt" | sed -E 's/^ +//')"
    echo "$iops | $sync"
}

echo "== Raw disk limits: $dir on $(df --output=source "$dir" | tail -n 1), $(date -u '+%Y-%m-%d %H:%M UTC')"
sync
echo "seq write, O_DIRECT      dd bs=1M count=2048 oflag=direct     : $(run_dd dd-write-direct if=/dev/zero of="$ddfile" bs=1M count=2048 oflag=direct)"
rm -f "$ddfile"
echo "seq write, fdatasync     dd bs=1M count=2048 conv=fdatasync   : $(run_dd dd-write-fdatasync if=/dev/zero of="$ddfile" bs=1M count=2048 conv=fdatasync)"
echo "seq read, O_DIRECT       dd bs=1M iflag=direct (2 GiB)        : $(run_dd dd-read-direct if="$ddfile" of=/dev/null bs=1M iflag=direct)"
rm -f "$ddfile"
start_ns="$(date +%s%N)"
for i in 1 2 3 4 5 6 7 8; do
    dd if=/dev/zero of="$ddfile.$i" bs=1M count=256 conv=fdatasync 2>"$out/dd-write-segments.txt"
done
end_ns="$(date +%s%N)"
rm -f "$ddfile".?
echo "seq write, 8 x 256 MiB   dd bs=1M count=256 conv=fdatasync x8 : $(awk -v ns=$((end_ns - start_ns)) \
    'BEGIN { s = ns / 1e9; printf "%.2f s, %.0f MB/s", s, 8 * 256 * 1048576 / s / 1e6 }')"
echo "write+fsync 16 KiB       fio --bs=16k --size=64m --fsync=1     : $(run_fio fsync-16k --bs=16k --fsync=1)"
echo "write+fsync 4 KiB        fio --bs=4k --size=64m --fsync=1      : $(run_fio fsync-4k --bs=4k --fsync=1)"
echo "write+fdatasync 16 KiB   fio --bs=16k --size=64m --fdatasync=1 : $(run_fio fdatasync-16k --bs=16k --fdatasync=1)"
echo "(full outputs in $out)"
