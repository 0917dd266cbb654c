#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time on a scratch copy of its
# seed corpus; prints TAP.  Usage: run-libfuzzer.sh BUILD_DIR SECONDS
set -u
build=$1 seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
targets=(fuzz-pubkey fuzz-privkey fuzz-username fuzz-cache fuzz-client-response fuzz-authinfo fuzz-directory)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "1..${#targets[@]}"
n=0
for t in "${targets[@]}"; do
	n=$((n + 1))
	mkdir -p "$work/$t"
	log="$work/$t.log"
	if (cd "$work" && "$build/test/fuzz/$t" -max_total_time="$seconds" \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    "$work/$t" "$here/corpus/$t") >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "ok $n - $t: ${execs:-?} inputs in ${seconds}s, no crash"
	else
		echo "not ok $n - $t found a failure"
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -20 | sed 's/^/# /'
		cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$build/" 2>/dev/null
	fi
done
