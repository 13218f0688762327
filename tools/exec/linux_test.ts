import assert from "node:assert/strict";
import {
  EBADF,
  EFAULT,
  ENOSYS,
  LinuxProcess,
  MAX_RW_COUNT,
  RISCV64_SYSCALLS,
  X86_64_SYSCALLS,
} from "./linux.ts";

/** A process whose user memory is the 100 bytes at 0x1000, filled with their offsets. */
function process() {
  const written: [number, number[]][] = [];
  const memory = {
    read(va: number, length: number) {
      const from = Math.max(va, 0x1000), to = Math.min(va + length, 0x1064);
      if (va < 0x1000 || from >= to) return new Uint8Array(0);
      return Uint8Array.from({ length: to - from }, (_, i) => (from - 0x1000 + i) & 0xff);
    },
  };
  return {
    p: new LinuxProcess(RISCV64_SYSCALLS, memory, (fd, b) => written.push([fd, [...b]])),
    written,
  };
}

Deno.test("linux: write copies from user memory to fd 1 and 2 only", () => {
  const { p, written } = process();
  assert.deepEqual(p.syscall(64n, [1n, 0x1000n, 3n]), { kind: "return", value: 3n, name: "write" });
  assert.deepEqual(p.syscall(64n, [2n, 0x1010n, 2n]).kind, "return");
  assert.deepEqual(written, [[1, [0, 1, 2]], [2, [16, 17]]]);
  assert.equal(p.write(0n, 0x1000n, 1n), BigInt(-EBADF));
  assert.equal(p.write(3n, 0x1000n, 1n), BigInt(-EBADF));
  assert.equal(p.write(1n, 0x9000n, 1n), BigInt(-EFAULT), "nothing readable");
  assert.equal(p.write(1n, -1n, 1n), BigInt(-EFAULT), "a negative address");
  assert.equal(p.write(1n, 0x1060n, 10n), 4n, "a partial copy returns its length");
  assert.equal(p.write(1n, 0x9000n, 0n), 0n, "count 0 reads nothing");
  assert.equal(p.write(1n, 0x1000n, -1n), 100n, "count is a size_t: huge, capped, then partial");
  assert.ok(MAX_RW_COUNT < 2 ** 31);
});

Deno.test("linux: exit keeps 8 bits; unknown calls are ENOSYS; numbers are per architecture", () => {
  const { p } = process();
  assert.deepEqual(p.syscall(93n, [0x1ffn]), { kind: "exit", status: 0xff, name: "exit" });
  assert.deepEqual(p.syscall(94n, [-2n]), { kind: "exit", status: 254, name: "exit_group" });
  assert.deepEqual(p.syscall(1n, [1n, 0x1000n, 1n]), {
    kind: "return",
    value: BigInt(-ENOSYS),
    name: "syscall 1",
  });
  assert.deepEqual(X86_64_SYSCALLS, { write: 1, exit: 60, exitGroup: 231 });
});
