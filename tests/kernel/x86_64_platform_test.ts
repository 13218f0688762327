// x86-64 only: what the PC's platform adds (the LAPIC timer's calibration, the TSS's IST
// stacks, the ACPI tables).
import assert from "node:assert/strict";
import { FAILURE_CODE, rsp0Address, run, start } from "./x86_64.ts";
import { panicReport as report } from "./board.ts";
import { LAPIC_TIMER_HZ } from "../../emulator/x86_64/pc.ts";

Deno.test("x86_64: boot: the LAPIC timer's frequency is measured, not told, and close to the board's", () => {
  const r = run({ programs: [] });
  const hz = r.kernel.platform.timerHz;
  assert.ok(Math.abs(hz - LAPIC_TIMER_HZ) / LAPIC_TIMER_HZ < 5e-4, `${hz} Hz`);
  assert.notEqual(hz, LAPIC_TIMER_HZ, "rounded to kHz: a measurement, not the constant");
});

Deno.test("x86_64: panic: an RSP0 that points nowhere is a double fault on its IST stack, then a panic", () => {
  const { sys, output } = start({
    cmdline: "tick_hz=10000",
    // No system calls: the next trap is the timer's interrupt.
    programs: [{ name: "chatty", assembly: "_start: jmp _start" }],
  });
  assert.equal(sys.machine.run(400_000).kind, "paused");
  sys.machine.bus.write(rsp0Address(sys), 8, 0xffff_8000_4000_0000n); // past the end of RAM
  const reason = sys.machine.run(2e9);
  const out = output();
  assert.equal(reason.kind === "shutdown" && reason.code, FAILURE_CODE, out);
  const lines = report(out);
  // The kernel's first check (TSS.RSP0 against the current thread) names the bad stack; the
  // trap line says how it was found: a #DF on the known-good IST1 stack.
  assert.match(
    lines[0],
    /the trap found the kernel stack at 0x4000_0000, but the current thread 2/,
  );
  assert.match(
    lines[2],
    /trap: other from kernel at pc 0x1_00\w\w: vector 8 \(#DF double fault\), error code 0x0/,
  );
  assert.match(sys.machine.messages.join("\n"), /double fault: #PF page fault.* while delivering/);
});

Deno.test("x86_64: panic: a corrupt ACPI table is a boot panic that names it", () => {
  const { sys, output } = start({ programs: [] });
  const madt = sys.board.acpi.tables.APIC;
  sys.machine.bus.write(madt + 40, 1, 0x55n); // a MADT byte changes: its checksum no longer holds
  const reason = sys.machine.run(2e9);
  assert.equal(reason.kind === "shutdown" && reason.code, FAILURE_CODE);
  const lines = report(output());
  assert.match(
    lines[0],
    /KERNEL PANIC on cpu0: Error: ACPI: the APIC at 0x\S+ has a wrong checksum/,
  );
  assert.match(lines[1], /thread: none \(during boot: reading the firmware's tables\)/);
});
