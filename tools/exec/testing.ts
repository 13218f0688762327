/**
 * What the ports' tests share (riscv64_test.ts, x86_64_test.ts): running an ELF file under
 * the exec layer and reading back what it wrote.
 *
 * @module
 */

import { execElf, type ExecOptions, type ExecResult } from "./exec.ts";

/** A finished run and what the program wrote. */
export interface TestRun {
  /** How the run ended. */
  result: ExecResult;
  /** Every write to fd 1 or 2, in order. */
  out: { fd: number; bytes: Uint8Array }[];
  /** Everything written to `fd`, decoded as UTF-8. */
  text(fd: number): string;
  /** The `k`th write to stdout as little-endian 64-bit words. */
  words(k: number): bigint[];
}

/**
 * Runs `elf` with argv ["prog"] and a 50 ms virtual-time limit unless `options` says
 * otherwise, collecting what it writes.
 */
export function runElf(elf: Uint8Array, options: Partial<ExecOptions> = {}): TestRun {
  const out: { fd: number; bytes: Uint8Array }[] = [];
  const result = execElf(elf, {
    args: ["prog"],
    limitNs: 50_000_000,
    output: (fd, bytes) => out.push({ fd, bytes: bytes.slice() }),
    ...options,
  });
  const text = (fd: number) =>
    new TextDecoder().decode(
      new Uint8Array(out.filter((o) => o.fd === fd).flatMap((o) => [...o.bytes])),
    );
  const words = (k: number) => {
    const b = out.filter((o) => o.fd === 1)[k].bytes;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return Array.from({ length: b.length / 8 }, (_, i) => dv.getBigUint64(8 * i, true));
  };
  return { result, out, text, words };
}
