#!/usr/bin/env bash
# Regenerates decode_cases.json from decode_cases.s with GNU as and objdump (Debian's
# binutils). The JSON is committed; decode_test.ts needs only Deno.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
as --64 -o "$tmp/cases.o" decode_cases.s
objdump -d -M intel --no-show-raw-insn -w "$tmp/cases.o" > "$tmp/text.txt"
objdump -d -M intel -w "$tmp/cases.o" > "$tmp/raw.txt"
python3 - "$tmp/raw.txt" > decode_cases.json <<'PY'
import json, re, sys
rows = []
for line in open(sys.argv[1]):
    m = re.match(r"^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*\t(.*)$", line)
    if m:
        rows.append(f"{m.group(2).replace(' ', '')} {m.group(3).strip()}")
print('{\n  "generator": "emulator/x86_64/testdata/gen_decode.sh (GNU as, objdump)",\n  "rows": [')
print(",\n".join("    " + json.dumps(r) for r in rows))
print("  ]\n}")
PY
echo "decode_cases.json: $(grep -c '^    "' decode_cases.json) instructions"
