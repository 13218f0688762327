#!/usr/bin/env bash
# Builds prog.c with GCC at several optimization levels (freestanding, static, integer
# registers only), runs each binary natively to record its expected output, and leaves
# the binaries and outputs here for gcc_test.ts (which needs only Deno).
set -euo pipefail
cd "$(dirname "$0")"
common=(-ffreestanding -nostdlib -static -no-pie -fno-pie -mgeneral-regs-only
        -fno-stack-protector -fno-asynchronous-unwind-tables -Wl,--build-id=none -Wall)
build() { # name, flags...
  local name=$1; shift
  gcc "${common[@]}" "$@" -o "$name.elf" prog.c -lgcc
  strip "$name.elf"
  set +e; ./"$name.elf" > "$name.out"; status=$?; set -e
  echo "$status" > "$name.status"
  echo "$name: $(stat -c %s "$name.elf") bytes, exit $status, $(wc -l < "$name.out") lines"
}
build O0 -O0
build O1 -O1
build O2 -O2
build Os -Os
build O2-popcnt-lzcnt -O2 -mpopcnt -mlzcnt
