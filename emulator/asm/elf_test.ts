import assert from "node:assert/strict";
import { Prng } from "../core/prng.ts";
import {
  ElfError,
  type ElfSpec,
  EM_RISCV,
  EM_X86_64,
  PF_R,
  PF_W,
  PF_X,
  readElf,
  writeElf,
} from "./elf.ts";
import { assembleRiscvElf } from "./riscv/assemble_elf.ts";
import { userProgramElf } from "./user_program_elf.ts";

/** A two-segment program with a .bss tail and symbols, like a linker would write. */
function sample(overrides: Partial<ElfSpec> = {}): Uint8Array {
  const text = new Uint8Array(40).map((_, i) => i + 1);
  const data = new Uint8Array([9, 8, 7, 6]);
  return writeElf({
    machine: EM_RISCV,
    entry: 0x10008,
    segments: [
      { vaddr: 0x10000, memsz: text.length, flags: PF_R | PF_X, data: text },
      { vaddr: 0x11000, memsz: 64, flags: PF_R | PF_W, data },
    ],
    symbols: [
      { name: "_start", value: 0x10008, global: true },
      { name: "loop", value: 0x10010 },
      { name: "counter", value: 0x11004, size: 8, global: true },
      { name: "LIMIT", value: -1, absolute: true },
    ],
    ...overrides,
  });
}

/** Asserts that readElf refuses `bytes` with an ElfError matching `re`. */
function refuses(bytes: Uint8Array, re: RegExp, machine?: number) {
  assert.throws(() => readElf(bytes, { machine }), (e: unknown) => {
    assert.ok(e instanceof ElfError, `expected ElfError, got ${e}`);
    assert.match(e.message, re);
    return true;
  });
}

/** A copy of the sample with `edit` applied to a DataView over it. */
function patched(edit: (dv: DataView, bytes: Uint8Array) => void, base = sample()): Uint8Array {
  const copy = base.slice();
  edit(new DataView(copy.buffer), copy);
  return copy;
}

const PH = 64; // the first program header
const PH2 = 64 + 56;

Deno.test("elf: what writeElf writes, readElf reads back", () => {
  const image = readElf(sample(), { machine: EM_RISCV });
  assert.equal(image.machine, EM_RISCV);
  assert.equal(image.entry, 0x10008);
  assert.equal(image.segments.length, 2);
  const [text, data] = image.segments;
  assert.deepEqual([text.vaddr, text.memsz, text.flags, text.data.length], [
    0x10000,
    40,
    PF_R | PF_X,
    40,
  ]);
  assert.equal(text.data[39], 40);
  assert.deepEqual([data.vaddr, data.memsz, data.flags, [...data.data]], [
    0x11000,
    64,
    PF_R | PF_W,
    [9, 8, 7, 6],
  ]);
  assert.equal(text.offset % 4096, 0, "p_offset is congruent to p_vaddr modulo the page size");
  assert.deepEqual(
    image.symbols.map((s) => [s.name, s.value, s.global]),
    [["loop", 0x10010, false], ["LIMIT", -1, false], ["_start", 0x10008, true], [
      "counter",
      0x11004,
      true,
    ]],
    "locals come before globals, as the gABI requires",
  );
  assert.equal(image.symbols.find((s) => s.name === "counter")!.size, 8);
  assert.equal(image.phnum, 2);
});

const readelf = (() => {
  try {
    new Deno.Command("riscv64-linux-gnu-readelf", { args: ["--version"] }).outputSync();
    return true;
  } catch {
    return false;
  }
})();

Deno.test({
  name:
    "elf: riscv64-linux-gnu-readelf accepts every image we write, without warnings (needs binutils)",
  ignore: !readelf,
  async fn(t) {
    const images: [string, Uint8Array, RegExp][] = [
      [
        "writeElf",
        sample(),
        /LOAD\s+0x001000 0x0000000000010000 0x0000000000010000 0x000028 0x000028 R E 0x1000/,
      ],
      [
        "assembleRiscvElf",
        assembleRiscvElf(
          ".globl _start\n_start: la a0, d\n ret\n.data\nd: .word 1\n.bss\n.zero 64\n",
        ).elf,
        /LOAD\s+0x002000 0x0000000000011000 0x0000000000011000 0x000004 0x000048 RW {2}0x1000/,
      ],
      ["userProgramElf riscv64", userProgramElf("riscv64", "init"), /Machine:\s+RISC-V/],
      [
        "userProgramElf x86_64",
        userProgramElf("x86_64", "init"),
        /Machine:\s+Advanced Micro Devices X86-64/,
      ],
    ];
    for (const [name, bytes, expect] of images) {
      await t.step(name, () => {
        const path = Deno.makeTempFileSync({ suffix: ".elf" });
        try {
          Deno.writeFileSync(path, bytes);
          const out = new Deno.Command("riscv64-linux-gnu-readelf", { args: ["-a", "-W", path] })
            .outputSync();
          const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
          assert.equal(out.code, 0, text);
          assert.doesNotMatch(text, /warning|error|corrupt/i);
          assert.match(text, /Type:\s+EXEC/);
          assert.match(text, expect);
          assert.match(text, /GLOBAL DEFAULT\s+\d+ _start/);
        } finally {
          Deno.removeSync(path);
        }
      });
    }
  },
});

Deno.test("elf: malformed files are refused with what, where and what to check", async (t) => {
  await t.step("too short, bad magic, class, endianness, version", () => {
    refuses(new Uint8Array(10), /the file is 10 bytes, shorter than the 64-byte ELF64 header/);
    refuses(
      patched((dv) => dv.setUint8(1, 0x46)),
      /bad magic at offset 0: 7f 46 4c 46, expected 7f 45 4c 46/,
    );
    refuses(
      patched((dv) => dv.setUint8(4, 1)),
      /EI_CLASS at offset 0x4 is 1 \(32-bit\): only ELFCLASS64/,
    );
    refuses(patched((dv) => dv.setUint8(5, 2)), /EI_DATA at offset 0x5 is 2 \(big-endian\)/);
    refuses(patched((dv) => dv.setUint8(6, 0)), /EI_VERSION at offset 0x6 is 0/);
  });
  await t.step("type and machine", () => {
    refuses(
      patched((dv) => dv.setUint16(16, 1, true)),
      /e_type at offset 0x10 is 1, a relocatable object file: link it first/,
    );
    refuses(
      patched((dv) => dv.setUint16(16, 3, true)),
      /position-independent executable: link with -static -no-pie/,
    );
    refuses(
      patched((dv) => dv.setUint16(18, 40, true)),
      /e_machine at offset 0x12 is 40 \(ARM\): this emulator runs RISC-V/,
    );
    refuses(
      sample(),
      /e_machine at offset 0x12 is 243 \(RISC-V\), but this loader runs 62 \(x86-64\) programs/,
      EM_X86_64,
    );
  });
  await t.step("program header table", () => {
    refuses(
      patched((dv) => dv.setUint16(56, 0, true)),
      /e_phnum at offset 0x38 is 0: the file has no program headers/,
    );
    refuses(
      patched((dv) => dv.setUint16(54, 32, true)),
      /e_phentsize at offset 0x36 is 32, expected 56/,
    );
    refuses(
      patched((dv) => dv.setUint16(56, 1000, true)),
      /more than 256 program headers is absurd/,
    );
    refuses(
      patched((dv) => dv.setBigUint64(32, 0x100000n, true)),
      /program headers at offset 0x100000 .* outside the \d+-byte file/,
    );
    refuses(
      sample().subarray(0, 100),
      /the 2 program headers at offset 0x40 \(e_phoff\) end at 0xb0, outside the 100-byte file/,
    );
  });
  await t.step("segments", () => {
    refuses(
      patched((dv) => dv.setBigUint64(PH + 32, 41n, true)),
      /segment 0 .*: p_filesz 0x29 exceeds p_memsz 0x28/,
    );
    refuses(
      patched((dv) => dv.setBigUint64(PH2 + 40, 1n << 40n, true)),
      /segment 1 .*: p_memsz 0x10000000000 is absurd/,
    );
    refuses(
      patched((dv) => dv.setBigUint64(PH2 + 8, 0x100000n, true)),
      /segment 1 .*: its 4 file bytes at p_offset 0x100000 run past the end/,
    );
    refuses(
      patched((dv) => dv.setBigUint64(PH2 + 16, 0x10020n, true)),
      /p_offset 0x2000 and p_vaddr 0x10020 differ modulo p_align 0x1000/,
    );
    refuses(
      patched((dv) => {
        dv.setBigUint64(PH2 + 16, 0x10000n, true);
        dv.setBigUint64(PH2 + 8, 0x1000n, true);
      }),
      /segment 1 at 0x10000\+0x40 overlaps load segment 0 at 0x10000\+0x28/,
    );
    refuses(
      patched((dv) => dv.setBigUint64(PH2 + 48, 3000n, true)),
      /p_align 3000 is not a power of two/,
    );
    refuses(
      patched((dv) => dv.setBigUint64(PH2 + 16, 0x7fff_ffff_ffe0n, true)),
      /reaches beyond the 2\^47 bytes of user address space/,
    );
    refuses(
      patched((dv) => dv.setBigUint64(PH2 + 16, 1n << 60n, true)),
      /p_vaddr .* is 0x1000000000000000, beyond 2\^53/,
    );
    refuses(
      patched((dv) => dv.setUint32(PH, 3, true)),
      /program header 0 at offset 0x40 is PT_INTERP: .*link it with -static/,
    );
    refuses(
      patched((dv) => (dv.setUint32(PH, 6, true), dv.setUint32(PH2, 4, true))),
      /no PT_LOAD segment: nothing to load/,
    );
  });
  await t.step("entry point", () => {
    refuses(
      patched((dv) => dv.setBigUint64(24, 0x11000n, true)),
      /e_entry 0x11000 .* lies in no executable segment/,
    );
    refuses(
      patched((dv) => dv.setUint32(PH + 4, PF_R, true)),
      /e_entry 0x10008 .* lies in no executable segment/,
    );
  });
  await t.step("section headers and .symtab", () => {
    const good = sample();
    const dv = new DataView(good.buffer);
    const shoff = Number(dv.getBigUint64(40, true)), shnum = dv.getUint16(60, true);
    const symtab = Array.from({ length: shnum }, (_, i) => shoff + 64 * i).find((o) =>
      dv.getUint32(o + 4, true) === 2
    )!;
    refuses(
      patched((d) => d.setUint16(58, 40, true)),
      /e_shentsize at offset 0x3a is 40, expected 64/,
    );
    refuses(good.subarray(0, shoff + 10), /section headers at e_shoff .* run past the end/);
    refuses(
      patched((d) => d.setBigUint64(symtab + 56, 16n, true)),
      /\.symtab .* has sh_entsize 16, expected 24/,
    );
    refuses(
      patched((d) => d.setUint32(symtab + 40, 99, true)),
      /\.symtab's sh_link 99 names no section/,
    );
    refuses(
      patched((d) => d.setUint32(symtab + 40, 1, true)),
      /\.symtab's sh_link 1 is not a string table/,
    );
    const symOff = Number(dv.getBigUint64(symtab + 24, true));
    refuses(
      patched((d) => d.setUint32(symOff + 24, 100000, true)),
      /st_name 100000 is outside \.strtab/,
    );
  });
});

Deno.test("elf: writeElf refuses segments that cannot be loaded", () => {
  const seg = { vaddr: 0x10000, memsz: 4, flags: PF_R | PF_X, data: new Uint8Array(8) };
  assert.throws(
    () => writeElf({ machine: EM_RISCV, entry: 0x10000, segments: [seg] }),
    /8 bytes of data exceed its memsz 4/,
  );
  assert.throws(
    () =>
      writeElf({
        machine: EM_RISCV,
        entry: 0x10000,
        segments: [{ ...seg, memsz: 8 }, { ...seg, vaddr: 0x10004, data: new Uint8Array(4) }],
      }),
    /segment 1 at 0x10004 overlaps or precedes segment 0/,
  );
});

Deno.test("elf: fuzzed files (seeded byte flips and truncations) only ever raise ElfError", () => {
  const base = sample();
  const prng = new Prng(2024);
  let accepted = 0, refused = 0;
  for (let i = 0; i < 3000; i++) {
    let bytes = base.slice();
    if (prng.range(0, 3) === 0) {
      bytes = bytes.subarray(0, prng.range(0, bytes.length - 1));
    } else {
      const flips = prng.range(1, 8);
      for (let f = 0; f < flips; f++) {
        // Half of the flips land in the headers, where they matter most.
        const at = prng.range(0, 1) ? prng.range(0, 0xb0) : prng.range(0, bytes.length - 1);
        bytes[at] = prng.range(0, 1) ? prng.range(0, 255) : bytes[at] ^ (1 << prng.range(0, 7));
      }
    }
    try {
      readElf(bytes);
      accepted++;
    } catch (e) {
      if (!(e instanceof ElfError)) throw new Error(`case ${i}: ${e}`);
      refused++;
    }
  }
  assert.ok(refused > 500 && accepted > 100, `refused ${refused}, accepted ${accepted}`);
});
