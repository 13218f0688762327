import assert from "node:assert/strict";
import { encode } from "../../emulator/asm/riscv/encode.ts";
import { decodeMemoryInstruction } from "./riscv64_misaligned.ts";

Deno.test("misaligned: every load and store form decodes to its size, sign and register", () => {
  const cases: [number, ReturnType<typeof decodeMemoryInstruction>][] = [
    [encode("lb", 5, 1, 6), { store: false, size: 1, signed: true, reg: 5, length: 4 }],
    [encode("lh", 5, 1, 6), { store: false, size: 2, signed: true, reg: 5, length: 4 }],
    [encode("lw", 31, -8, 6), { store: false, size: 4, signed: true, reg: 31, length: 4 }],
    [encode("ld", 1, 0, 2), { store: false, size: 8, signed: false, reg: 1, length: 4 }],
    [encode("lbu", 5, 1, 6), { store: false, size: 1, signed: false, reg: 5, length: 4 }],
    [encode("lhu", 5, 1, 6), { store: false, size: 2, signed: false, reg: 5, length: 4 }],
    [encode("lwu", 5, 1, 6), { store: false, size: 4, signed: false, reg: 5, length: 4 }],
    [encode("sb", 7, 3, 8), { store: true, size: 1, signed: false, reg: 7, length: 4 }],
    [encode("sh", 7, 3, 8), { store: true, size: 2, signed: false, reg: 7, length: 4 }],
    [encode("sw", 7, 3, 8), { store: true, size: 4, signed: false, reg: 7, length: 4 }],
    [encode("sd", 7, 3, 8), { store: true, size: 8, signed: false, reg: 7, length: 4 }],
    [encode("c.lw", 9, 4, 10), { store: false, size: 4, signed: true, reg: 9, length: 2 }],
    [encode("c.ld", 15, 8, 10), { store: false, size: 8, signed: false, reg: 15, length: 2 }],
    [encode("c.sw", 9, 4, 10), { store: true, size: 4, signed: false, reg: 9, length: 2 }],
    [encode("c.sd", 8, 8, 10), { store: true, size: 8, signed: false, reg: 8, length: 2 }],
    [encode("c.lwsp", 20, 4, 2), { store: false, size: 4, signed: true, reg: 20, length: 2 }],
    [encode("c.ldsp", 20, 8, 2), { store: false, size: 8, signed: false, reg: 20, length: 2 }],
    [encode("c.swsp", 21, 4, 2), { store: true, size: 4, signed: false, reg: 21, length: 2 }],
    [encode("c.sdsp", 21, 8, 2), { store: true, size: 8, signed: false, reg: 21, length: 2 }],
  ];
  for (const [bits, want] of cases) {
    assert.deepEqual(decodeMemoryInstruction(bits), want, bits.toString(16));
  }
  for (
    const other of [
      encode("addi", 1, 1, 1),
      encode("amoadd.w", 1, 2, 3),
      encode("c.addi", 8, 1),
      encode("lr.d", 1, 2),
    ]
  ) {
    assert.equal(decodeMemoryInstruction(other), undefined);
  }
});
