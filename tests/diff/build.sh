#!/usr/bin/env bash
# Builds the differential test programs and records what QEMU makes of them.
#
#   tests/diff/build.sh [ARCH...]      (default: every architecture configured below)
#
# For each ARCH and each src/NAME.c (rt.c is the shared runtime), at -O0 and -O2:
#   ARCH/NAME-O0.elf, ARCH/NAME-O2.elf    static, no libc, linked by the ARCH toolchain
#   ARCH/expected.json                    stdout and exit status of every run in src/RUNS,
#                                         under qemu-ARCH (user mode), written by record.ts
# Both are committed: the tests need only Deno. Rebuild after editing a program.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

# -z separate-code: the code gets a segment of its own (R+X), apart from the headers
# (R) and the data (RW), as on a modern Linux toolchain.
COMMON="-static -nostdlib -ffreestanding -fno-pic -Wall -Wextra -Wl,-z,separate-code"

# build_arch ARCH COMPILER FLAGS...: compiles every program for ARCH, then records.
build_arch() {
  local arch=$1 cc=$2
  shift 2
  if ! command -v "$cc" >/dev/null; then
    echo "build.sh: $cc is not installed, skipping $arch" >&2
    return
  fi
  mkdir -p "$arch"
  rm -f "$arch"/*.elf
  for src in src/*.c; do
    local name
    name=$(basename "$src" .c)
    [ "$name" = rt ] && continue
    for opt in O0 O2; do
      # shellcheck disable=SC2086
      "$cc" "$@" $COMMON -"$opt" -o "$arch/$name-$opt.elf" "$src" src/rt.c
    done
  done
  deno run --allow-read --allow-write --allow-run "$here/record.ts" "$arch" "$cc"
  deno fmt --quiet "$arch/expected.json"
}

arches=("$@")
[ ${#arches[@]} -eq 0 ] && arches=(riscv64 x86_64)
for arch in "${arches[@]}"; do
  case "$arch" in
    riscv64) build_arch riscv64 riscv64-linux-gnu-gcc -march=rv64imac -mabi=lp64 ;;
    # x86_64: the host gcc, no SSE or x87 so that only general-purpose registers are used,
    # and no PIE (a static executable at 0x400000, as the exec layer and QEMU load it).
    x86_64) build_arch x86_64 gcc -mgeneral-regs-only -no-pie ;;
    *) echo "build.sh: unknown architecture $arch" >&2; exit 1 ;;
  esac
done
