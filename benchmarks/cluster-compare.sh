#!/usr/bin/env bash
# Side-by-side cluster benchmark: the same client tools against Apache Kafka 4.3.1
# (../shared/bench/kafka-local.sh) and against Sluice (bin/sluice local), one after the other, on this
# machine, 3 nodes, RF 3, min ISR 2, acks=all. Per system and round it measures, on a fresh cluster:
#
#   default   Kafka's ProducerPerformance at max rate, the 4.3 client's default batching
#   batched   the same with batch.size=262144 linger.ms=20
#   fixed     the default producer at a fixed 5,000 records/s for 10 s (latency when not saturated)
#   consume   kcat (librdkafka) reading every record from the beginning in assign mode, timed
#
#   benchmarks/cluster-compare.sh [--records N] [--record-size B] [--partitions P] [--rounds R]
#                                 [--kafka-fsync] [--only sluice|kafka]
#
# Run from the project's root. Prints one line per system, round and workload, then medians. Traffic
# stays on 127.0.0.1; every process it starts is stopped by PID. Needs kcat for the consume column.
set -euo pipefail
records=300000 size=1024 partitions=6 rounds=2 kfsync= only=
while [ $# -gt 0 ]; do
  case "$1" in
    --records) records=$2; shift 2 ;;
    --record-size) size=$2; shift 2 ;;
    --partitions) partitions=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --kafka-fsync) kfsync=--fsync; shift ;;
    --only) only=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
root=$(pwd)
[ -x "$root/bin/sluice" ] || { echo "run from the project's root" >&2; exit 2; }
shared=${SLUICE_SHARED:-$root/../shared}
lib=$("$shared/bench/kafka-local.sh" --fetch-only)
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'cleanup; trap - EXIT; exit 130' INT TERM

start() { # $1 system, $2 round; sets BOOTSTRAP and pid
  local dir=$work/$1-$2
  mkdir -p "$dir"
  if [ "$1" = kafka ]; then
    setsid "$shared/bench/kafka-local.sh" --data-dir "$dir/data" --base-port 29092 $kfsync >"$dir/out" 2>"$dir/err" &
  else
    setsid "$root/bin/sluice" local --data-dir "$dir/data" --base-port 39092 >"$dir/out" 2>"$dir/err" &
  fi
  pid=$!
  BOOTSTRAP=
  for _ in $(seq 1 300); do
    BOOTSTRAP=$(grep -m1 -oE '^bootstrap\.servers=[^ ]+' "$dir/out" 2>/dev/null | cut -d= -f2 || true)
    [ -n "$BOOTSTRAP" ] && return 0
    kill -0 "$pid" 2>/dev/null || { echo "$1 exited early: $(tail -n 3 "$dir/err")" >&2; return 1; }
    sleep 1
  done
  echo "$1: no bootstrap line in 300 s" >&2
  return 1
}
stop() {
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=
}

perf() { # $1 topic, $2 records, $3 throughput, extra producer props...; prints the summary line
  local topic=$1 n=$2 rate=$3
  shift 3
  java -cp "$lib/*" org.apache.kafka.tools.ProducerPerformance --topic "$topic" --num-records "$n" \
    --record-size "$size" --throughput "$rate" \
    --producer-props bootstrap.servers="$BOOTSTRAP" acks=all "$@" 2>/dev/null | tail -n 1
}

fields() { # summary line -> "rec/s MB/s p50 p99 p99.9"
  local p=$1
  echo "$(echo "$p" | grep -oE '[0-9.]+ records/sec' | cut -d' ' -f1) \
$(echo "$p" | grep -oE '\(([0-9.]+) MB/sec\)' | tr -d '()' | cut -d' ' -f1) \
$(echo "$p" | grep -oE '[0-9]+ ms 50th' | cut -d' ' -f1) \
$(echo "$p" | grep -oE '[0-9]+ ms 99th' | cut -d' ' -f1) \
$(echo "$p" | grep -oE '[0-9]+ ms 99.9th' | cut -d' ' -f1)"
}

create() {
  java -cp "$lib/*" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --create --topic "$1" \
    --partitions "$partitions" --replication-factor 3 >/dev/null 2>&1
}

measure() { # $1 system, $2 round
  start "$1" "$2" || return 1
  create warmup && create bench && create batched && create fixed
  perf warmup $((records / 5)) -1 >/dev/null
  echo "$1 $2 default $(fields "$(perf bench "$records" -1)")"
  echo "$1 $2 batched $(fields "$(perf batched "$records" -1 batch.size=262144 linger.ms=20)")"
  echo "$1 $2 fixed $(fields "$(perf fixed 50000 5000)")"
  if command -v kcat >/dev/null; then
    local t0 t1 n
    t0=$(date +%s.%N)
    n=$(timeout 300 kcat -b "$BOOTSTRAP" -t bench -C -o beginning -e -q -f '\n' 2>/dev/null | wc -l)
    t1=$(date +%s.%N)
    python3 -c "import sys; n,s,t0,t1=int(sys.argv[1]),int(sys.argv[2]),float(sys.argv[3]),float(sys.argv[4]); \
d=t1-t0; print(f'$1 $2 consume {n/d:.1f} {n*s/d/1e6:.2f} NA NA NA ({n} records)')" "$n" "$size" "$t0" "$t1"
  fi
  stop
}

echo "system round workload rec/s MB/s p50_ms p99_ms p99.9_ms   (records=$records size=$size partitions=$partitions RF=3 acks=all ${kfsync:+kafka-fsync})"
results=$work/results
: >"$results"
for r in $(seq 1 "$rounds"); do
  for s in kafka sluice; do
    [ -n "$only" ] && [ "$only" != "$s" ] && continue
    if ! measure "$s" "$r" >"$work/run"; then
      [ -n "$pid" ] && stop
      echo "$s $r failed" >>"$work/run"
    fi
    cat "$work/run"
    cat "$work/run" >>"$results"
  done
done
python3 - "$results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if "failed" not in l and len(l.split()) >= 8]
def med(system, workload, i):
    v = [float(r[i]) for r in rows if r[0] == system and r[2] == workload and r[i] not in ("NA", "")]
    return statistics.median(v) if v else float("nan")
print("median                     kafka      sluice   sluice/kafka")
for workload, i, name in (("default", 3, "rec/s"), ("default", 6, "p99 ms"), ("batched", 3, "rec/s"),
                          ("batched", 6, "p99 ms"), ("fixed", 6, "p99 ms"), ("consume", 4, "MB/s")):
    k, s = med("kafka", workload, i), med("sluice", workload, i)
    ratio = f"{s / k:.2f}" if k == k and k and s == s else "n/a"
    print(f"{workload:8} {name:8} {k:>12.1f} {s:>12.1f}   {ratio}")
PY
