#!/usr/bin/env bash
# Builds the benchmarks jar when needed and runs a Raft-layer benchmark (see BENCHMARKS.md, "Raft layer").
#
#   benchmarks/raft.sh append [--partitions 6] [--rpc grpc|netty] [--single-write true|false] [--inflight 8]
#                             [--warmup-s 5] [--duration-s 20] [--raft.<key> <value> ...]
#       Replicated append throughput and latency: 3 RaftNodes in one JVM, a closed-loop driver.
#   benchmarks/raft.sh groups [--groups 1000] [--rpc grpc|netty] [--idle-s 45]
#                             [--node-jvm-opts "-Xmx2g -XX:MaxDirectMemorySize=4g"] [--raft.<key> <value> ...]
#       Memory, threads, idle CPU, loopback traffic and leader stability per group: 3 node JVMs.
#   benchmarks/raft.sh append --help       # every option and its default
#
# On a shared machine run it under the build lock: flock /tmp/sluice-mvn.lock benchmarks/raft.sh ...
# Data goes to a fresh directory under SLUICE_BENCH_DIR (default /tmp), deleted at the end; all traffic
# stays on 127.0.0.1; every run stops by itself.
# JVM flags: the root pom's sluice.jvm.flags (benchmarks/target/jvm.flags), then SLUICE_RAFT_COMMON_JVM_OPTS
# (default below), then for `append` SLUICE_RAFT_APPEND_JVM_OPTS (default below) and for the `groups`
# coordinator a small heap; the `groups` node JVMs get the coordinator's flags plus --node-jvm-opts.
#
# Why ForkJoinPool.common.parallelism=2: with 2 CPUs the common pool's parallelism is 1, and then
# CompletableFuture's *Async methods without an executor start a new thread per task. Ratis 3.3.0 calls
# thenComposeAsync that way on every follower append (ServerImplUtils.NavigableIndices.append): about
# 400 new threads a second in one 3-node JVM. Set SLUICE_RAFT_COMMON_JVM_OPTS= (empty) to measure without.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
jar="$here/target/benchmarks.jar"
flags_file="$here/target/jvm.flags"

if [ $# -lt 1 ]; then
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
what="$1"
shift
case "$what" in
    append) main=dev.sluice.benchmarks.raft.RaftAppendBench
            jvm_opts="${SLUICE_RAFT_APPEND_JVM_OPTS:--Xms2g -Xmx2g -XX:MaxDirectMemorySize=2g}" ;;
    groups) main=dev.sluice.benchmarks.raft.RaftGroupCountBench
            jvm_opts="-Xmx256m" ;;
    *) echo "unknown benchmark '$what': append or groups" >&2; exit 2 ;;
esac

# Build when the jar is missing or older than any source or pom it is made from (tests not compiled).
if [ ! -f "$jar" ] || [ ! -f "$flags_file" ] \
    || [ -n "$(find "$root/pom.xml" "$here/pom.xml" "$here/src" "$root/partition-store/pom.xml" \
        "$root/partition-store/src/main" "$root/ratis-log/pom.xml" "$root/ratis-log/src/main" \
        -newer "$jar" -print -quit)" ]; then
    echo "Building benchmarks/target/benchmarks.jar ..." >&2
    (cd "$root" && mvn -B -q -pl benchmarks -am package -Dmaven.test.skip=true -Dspotless.check.skip=true \
        -Djacoco.skip=true)
fi

common_opts="${SLUICE_RAFT_COMMON_JVM_OPTS--Djava.util.concurrent.ForkJoinPool.common.parallelism=2}"
bench_dir=()
if [ -n "${SLUICE_BENCH_DIR:-}" ]; then
    bench_dir=("-Dsluice.bench.dir=$SLUICE_BENCH_DIR")
fi
# shellcheck disable=SC2046,SC2086
exec java $(tr '\n' ' ' <"$flags_file") $common_opts $jvm_opts "${bench_dir[@]}" -cp "$jar" "$main" "$@"
