// x86-64 only: a return to ring 3 by SYSRETQ or IRETQ, and the SYSRET pitfall.
import assert from "node:assert/strict";
import { EXIT, run, stopped, userLines, WORKER } from "./x86_64.ts";
import { Trace } from "../../emulator/core/trace.ts";
import { RAX, RCX } from "../../emulator/x86_64/regs.ts";
import { SYSCALL_ENTRY } from "../../arch/x86_64/traps.ts";

const FAST = "tick_hz=10000";

/** Yields `n` times through `insn`, then exits 0. */
const yielder = (insn: string, n: number) => `
_start:
    mov   r12, ${n}
.again:
    mov   eax, 4
    ${insn}
    dec   r12
    jnz   .again
    ${EXIT(0)}
`;

/** How each return to ring 3 was made, by program: counts of "sysretq" and "iretq". */
function returns(programs: { name: string; assembly: string }[]) {
  const trace = new Trace(0).enable("kernel");
  const counts = { sysretq: 0, iretq: 0 };
  trace.listen((e) => {
    const how = e.data.return;
    if (how === "sysretq" || how === "iretq") counts[how]++;
  });
  const r = run({ cmdline: FAST, trace, programs });
  assert.equal(stopped(r), "shutdown 0", r.out);
  return counts;
}

Deno.test("x86_64: sysret: a thread that entered by syscall leaves by sysretq, even after a switch", () => {
  const n = 50;
  const c = returns([
    { name: "a", assembly: yielder("syscall", n) },
    { name: "b", assembly: yielder("syscall", n) },
  ]);
  // Each thread's first entry into ring 3 is from the state initUserState wrote (RCX = 0, not
  // RIP): iretq. Every return from a yield, to the other thread, is sysretq.
  assert.equal(c.iretq, 2, JSON.stringify(c));
  assert.ok(c.sysretq >= 2 * n - 1, JSON.stringify(c));
});

Deno.test("x86_64: sysret: int 0x69 and preemption return by iretq (RCX is the thread's own)", () => {
  const n = 50;
  const c = returns([
    { name: "a", assembly: yielder("int 0x69", n) },
    { name: "b", assembly: yielder("int 0x69", n) },
  ]);
  assert.equal(c.sysretq, 0, JSON.stringify(c));
  assert.ok(c.iretq >= 2 * n, JSON.stringify(c));
  const spin = returns([{
    name: "spin",
    assembly: "_start: mov ecx, 3000000\n.l: dec ecx\n jnz .l\n" + EXIT(0),
  }]);
  assert.ok(spin.iretq > 20, `preempted by the timer: ${JSON.stringify(spin)}`);
  assert.equal(spin.sysretq, 0, "the exit is its only syscall, and it does not return");
});

/**
 * Sets RCX to a non-canonical value and R11 to a value SYSRET could not restore, then yields
 * through int 0x69 and computes across preemptions: a kernel that returned to it by SYSRETQ
 * (taking RIP from RCX) would #GP in ring 0. Exits 0 when RCX and R11 survived, else 1.
 */
const HOSTILE = `
_start:
    mov   rcx, 0x8000000000000000
    mov   r11, 0x1234
    mov   r12, 20
.again:
    mov   eax, 4                ; yield
    int   0x69
    mov   eax, 100000
.work:
    dec   eax
    jnz   .work
    dec   r12
    jnz   .again
    mov   rax, 0x8000000000000000
    cmp   rcx, rax
    jne   .bad
    cmp   r11, 0x1234
    jne   .bad
    ${EXIT(0)}
.bad:
    ${EXIT(1)}
`;

Deno.test("x86_64: sysret: a thread whose RCX is not canonical never makes the kernel SYSRET to it", () => {
  const r = run({
    cmdline: FAST,
    programs: [{ name: "hostile", assembly: HOSTILE }, { name: "worker", assembly: WORKER }],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.match(r.out, /\(hostile\) exited with status 0 \(preempted [1-9]\d* times?\)/, r.out);
  assert.deepEqual(userLines(r.out, "worker"), ["step", "step", "step", "done"]);
  assert.equal(r.messages.length, 0, r.messages.join("\n"));
});

Deno.test("x86_64: sysret: a return to a non-canonical RCX is the thread's #GP, not the kernel's", () => {
  // What CVE-2012-0217 exploits: a SYSCALL whose return address is not canonical (a syscall
  // at the very top of the lower half). The kernel maps nothing there, so the test makes
  // that state directly: its syscall entry stands in for such a thread on syscall 4242.
  const r = run(
    {
      cmdline: FAST,
      programs: [
        { name: "pitfall", assembly: "_start: mov eax, 4242\n syscall\n" + EXIT(0) },
        { name: "worker", assembly: WORKER },
      ],
    },
    2e9,
    (sys) => {
      sys.machine.kernelText.register(SYSCALL_ENTRY, "syscall_entry", (cpu) => {
        if (cpu.regs[RAX] === 4242n) cpu.regs[RCX] = 0x0000_8000_0000_0000n;
        sys.arch.syscallEntry(cpu);
      });
    },
  );
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.match(r.out, /\(pitfall\) killed: access fault at pc 0x8000_0000_0000/);
  assert.match(
    r.out,
    /vector 13 \(#GP general protection\), error code 0x0, the return address 0x8000_0000_0000 is not canonical: SYSRET to it would raise #GP in ring 0/,
  );
  assert.match(r.out, /\(pitfall\) exited with status -11/);
  assert.deepEqual(userLines(r.out, "worker"), ["step", "step", "step", "done"]);
  assert.equal(r.messages.length, 0, r.messages.join("\n"));
});
