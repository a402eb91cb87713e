#!/usr/bin/env bash
# Builds the JMH benchmarks when needed and runs them, then prints a summary with MB/s.
#
#   benchmarks/run.sh                      # every benchmark (about 4 minutes on 2 cores)
#   benchmarks/run.sh AppendBenchmark      # a regex of benchmark names, and/or any other JMH options
#   benchmarks/run.sh -l                   # list the benchmarks
#
# On a shared machine run it under the build lock: flock /tmp/sluice-mvn.lock benchmarks/run.sh
# (the script takes no lock itself, so that wrapping it in flock cannot deadlock).
#
# Iterations are set per benchmark in the sources (3 x 2 s warm-up, 5 x 5 s measurement; 5 x 5 s
# warm-up for AppendBenchmark.append); -wi/-w/-i/-r on the command line replace them for every benchmark.
# Defaults, each replaced when the same option is given: -f 1, results as CSV in
# benchmarks/target/jmh-result.csv (summarised at the end), and for the forked JVMs the root pom's
# sluice.jvm.flags (written to benchmarks/target/jvm.flags by the build) and a 1 GiB heap
# (-jvmArgsAppend).
# SLUICE_BENCH_DIR (default /tmp) is where the benchmark logs are created (and deleted after).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
jar="$here/target/benchmarks.jar"
flags_file="$here/target/jvm.flags"
result="$here/target/jmh-result.csv"

# Build when the jar is missing or older than any source or pom it is made from. Tests are not even
# compiled (-Dmaven.test.skip), so work in progress in another module's tests cannot break the build.
if [ ! -f "$jar" ] || [ ! -f "$flags_file" ] \
    || [ -n "$(find "$root/pom.xml" "$here/pom.xml" "$here/src" "$root/partition-store/pom.xml" \
        "$root/partition-store/src/main" -newer "$jar" -print -quit)" ]; then
    echo "Building benchmarks/target/benchmarks.jar ..." >&2
    (cd "$root" && mvn -B -q -pl benchmarks -am package -Dmaven.test.skip=true -Dspotless.check.skip=true)
fi

has_option() {
    local name="$1"
    shift
    for arg in "$@"; do
        [ "$arg" = "$name" ] && return 0
    done
    return 1
}

args=()
for default in "-f 1" "-rf csv"; do
    read -r name value <<<"$default"
    has_option "$name" "$@" || args+=("$name" "$value")
done
has_option -rff "$@" || args+=(-rff "$result")
if ! has_option -jvmArgsAppend "$@"; then
    jvm_args="$(tr '\n' ' ' <"$flags_file") -Xms1g -Xmx1g"
    if [ -n "${SLUICE_BENCH_DIR:-}" ]; then
        jvm_args="$jvm_args -Dsluice.bench.dir=$SLUICE_BENCH_DIR"
    fi
    args+=(-jvmArgsAppend "$jvm_args")
fi

# Listing, help and the like print no results.
if has_option -l "$@" || has_option -lp "$@" || has_option -h "$@" || has_option -lprof "$@"; then
    exec java -jar "$jar" "$@"
fi

rm -f "$result"
java -jar "$jar" "${args[@]}" "$@"

if has_option -rf "$@" || has_option -rff "$@" || [ ! -f "$result" ]; then
    exit 0
fi
# JMH's CSV: "Benchmark","Mode","Threads","Samples","Score","Score Error (99.9%)","Unit","Param: ...",...
# The :bytes and :records rows are the Counters (per second) of the benchmark row of the same name.
awk -F',' '
    function unquote(s) { gsub(/"/, "", s); return s }
    function fmt(v, e) { return sprintf("%.1f ± %.1f", v, e) }
    { sub(/\r$/, "") }
    NR == 1 { for (i = 8; i <= NF; i++) pname[i] = substr(unquote($i), 8); nf = NF; next }
    unquote($2) != "thrpt" { next }
    {
        name = unquote($1); score = unquote($5); err = unquote($6)
        if (err == "NaN") err = 0
        params = ""
        for (i = 8; i <= nf; i++) {
            v = unquote($i)
            if (v != "" && pname[i] != "recordBytes" && pname[i] != "batchBytes") params = params " " pname[i] "=" v
        }
        split(name, parts, ":")
        key = parts[1] params
        if (!(key in seen)) {
            seen[key] = 1; order[++n] = key; plabel[key] = params
            m = split(parts[1], segs, "."); label[key] = segs[m - 1] "." segs[m]
        }
        if (parts[2] == "") { ops[key] = fmt(score, err) }
        else if (parts[2] == "bytes") { mbs[key] = fmt(score / 1e6, err / 1e6) }
        else if (parts[2] == "records") { recs[key] = fmt(score, err) }
    }
    END {
        if (n == 0) exit
        print ""
        print "Summary (1 op = 1 batch for Append*/BatchValidator*, 1 fetch for Read*; MB = 10^6 bytes; ± is JMH'"'"'s 99.9% CI)"
        printf "%-72s %22s %18s %24s\n", "benchmark", "ops/s", "MB/s", "records/s"
        for (k = 1; k <= n; k++) {
            key = order[k]
            printf "%-72s %22s %18s %24s\n", label[key] plabel[key], ops[key], mbs[key], recs[key]
        }
    }
' "$result"
