import assert from "node:assert/strict";
import { run, stopped, userLines } from "./helpers.ts";
import { bootSystem, X86_SUCCESS_STATUS } from "../../arch/x86_64/boot.ts";
import { LAPIC_TIMER_HZ } from "../../emulator/x86_64/pc.ts";

Deno.test("boot: the demo boots on the PC, logs each stage, runs its programs interleaved, powers off", () => {
  const r = run({}); // the demo programs, the default 100 Hz tick, 256 MiB
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.equal(r.reason.kind === "shutdown" && r.reason.code, X86_SUCCESS_STATUS);
  const out = r.out;
  // The boot log, stage by stage, in order.
  const stages = [
    /cpu0 info {2}kernel: booting on x86_64, cpu0 of 1/,
    /console: COM1 \(16550A\) at port 0x3f8 at 115200 baud/,
    /firmware: ACPI 2\.0\+ RSDP at 0x\w+ \(OEM DENOPC\)/,
    /firmware: XSDT at 0x\w+ lists APIC, HPET, MCFG/,
    /firmware: MADT: 1 CPU\(s\) \(local APIC ids 0\), local APIC at 0xfee0_0000/,
    /firmware: MADT: I\/O APIC 0 at 0xfec0_0000, GSIs from 0/,
    /firmware: MADT: ISA IRQ 0 -> GSI 2/,
    /firmware: HPET at 0xfed0_0000/,
    /memory map \(10 entries\):/,
    / 0x20_0000\.\.0x24_\w+ +\d+ KiB {2}kernel and modules/,
    / 0x\w+\.\.0x1000_0000 +253\.\d MiB {2}usable/,
    /pmm: 254\.\d MiB free of 254\.\d MiB in 3 run\(s\)/,
    /vmm: direct map: 0x10_0000\.\.0x1000_0000 at 0xffff_8000_0010_0000: 256 × 4 KiB pages, 127 × 2 MiB pages/,
    /vmm: device lapic: 0xfee0_0000 at 0xffff_c000_fee0_0000: 1 × 4 KiB page/,
    /vmm: device hpet: 0xfed0_0000 at 0xffff_c000_fed0_0000/,
    /vmm: paging on \(x86_64\), direct map at 0xffff_8000_0000_0000, 264 page-table frames/,
    /pmm: reclaimed 96 KiB of bootloader memory/,
    /heap: .* address spaces: 4095 ASIDs/,
    /timer: local APIC timer in TSC-deadline mode .* measured against the HPET .*, 143\.1\d MHz; tick 100 Hz/,
    /proc: started process 1 \(compute-a\)/,
    /proc: started process 3 \(ts-clock\), \d+ bytes image, normal 100/,
    /sched: starting with 3 process\(es\)/,
    /all processes have exited; .*0 user\); powering off/,
  ];
  let at = 0;
  for (const s of stages) {
    const m = s.exec(out.slice(at));
    assert.ok(m, `${s} after offset ${at}:\n${out}`);
    at += m.index + m[0].length;
  }
  // The programs' lines: the same numbers as on RISC-V.
  const a = userLines(out, "compute-a"), b = userLines(out, "compute-b");
  assert.equal(a.length, 7);
  assert.equal(b.length, 7);
  // 1^2 + ... + 1200000^2 = 1200000 * 1200001 * 2400001 / 6
  assert.equal(a[0], "round 1: sum of squares = 576000720000200000");
  assert.equal(a[5], "round 6: sum of squares = 13735561477743890304");
  assert.equal(b[0], "round 1: xorshift state = 7290476056423008982");
  assert.equal(a[6], "done");
  assert.equal(b[6], "done");
  const ts = userLines(out, "ts-clock");
  assert.equal(ts[0], "hello from TypeScript (pid 3)");
  assert.equal(ts.length, 6);
  for (const line of ts.slice(1)) assert.match(line, /asked for 7 ms, woke after 7\.00\d ms/);
  // Interleaved by preemption: b starts before a is done, and ts-clock runs in between.
  const order = userLines(out).map((l) => l[l.indexOf("-") + 1]).join("");
  assert.match(order, /a.*b.*a.*b/, order);
  assert.ok(order.indexOf("b") < order.lastIndexOf("a"), order);
  assert.match(out, /process 1 \(compute-a\) exited with status 0 \(preempted [1-9]\d* times?\)/);
});

Deno.test("boot: the LAPIC timer's frequency is measured, not told, and close to the board's", () => {
  const r = run({ programs: [] });
  const hz = r.kernel.platform.timerHz;
  assert.ok(Math.abs(hz - LAPIC_TIMER_HZ) / LAPIC_TIMER_HZ < 5e-4, `${hz} Hz`);
  assert.notEqual(hz, LAPIC_TIMER_HZ, "rounded to kHz: a measurement, not the constant");
});

Deno.test("boot: the same seed and inputs give the same bytes; the log does not depend on the seed", () => {
  const small = {
    cmdline: "tick_hz=10000",
    programs: [{
      name: "p",
      assembly:
        "_start: mov ecx, 100000\n.l: dec ecx\n jnz .l\n mov eax, 2\n xor edi, edi\n syscall",
    }],
  };
  const one = run({ ...small, seed: 5 }).out, two = run({ ...small, seed: 5 }).out;
  assert.equal(one, two);
  assert.equal(run({ ...small, seed: 6 }).out, one, "one CPU: the interleaving does not matter");
});

Deno.test("boot: more memory and more CPUs boot too; only the boot CPU runs", () => {
  const r = run({
    memory: 4 * 2 ** 30,
    cpus: 4,
    cmdline: "tick_hz=10000",
    programs: [{ name: "p", assembly: "xor edi, edi\n mov eax, 2\n syscall" }],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.match(r.out, /kernel: booting on x86_64, cpu0 of 4/);
  assert.match(r.out, /MADT: 4 CPU\(s\) \(local APIC ids 0, 1, 2, 3\)/);
  assert.match(
    r.out,
    /direct map: 0x1_0000_0000\.\.0x1_5000_0000 at 0xffff_8001_0000_0000: 1 × 1 GiB page, 128 × 2 MiB pages/,
  );
  assert.deepEqual(r.sys.board.cpus.map((c) => c.state), [
    "running",
    "stopped",
    "stopped",
    "stopped",
  ]);
});

Deno.test("boot: bootSystem refuses impossible options with a message", () => {
  assert.throws(() => bootSystem({ memory: 1 << 20 }), /PC RAM must be 4 MiB/);
  assert.throws(
    () => bootSystem({ programs: [{ name: "bad", assembly: "frobnicate rax" }] }),
    /frobnicate/,
  );
  assert.throws(() => bootSystem({ programs: [{ name: "empty" }] }), /give assembly, an image/);
});

Deno.test("boot: with no programs, the kernel boots and powers off at once", () => {
  const r = run({ programs: [] });
  assert.equal(stopped(r), "shutdown 0");
  assert.match(r.out, /sched: starting with 0 process\(es\)\n.*all processes have exited/);
});
