#!/usr/bin/env bash
# Regenerates flags_vectors.json from the host CPU (needs an x86-64 host with gcc).
# The vectors are committed; the test that replays them needs only Deno.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -O1 -mno-red-zone -Wall -o "$tmp/flags_gen" flags_gen.c
host=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
"$tmp/flags_gen" "$host" > flags_vectors.json
echo "flags_vectors.json: $(grep -c '^    "' flags_vectors.json) vectors from $host"
