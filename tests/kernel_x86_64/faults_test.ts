import assert from "node:assert/strict";
import { EXIT, PUTS, run, stopped, userLines } from "./helpers.ts";
import type { SyscallContext } from "../../servers/demo/syscalls.ts";
import type { UserProgram } from "../../emulator/core/user_program.ts";

const FAST = "tick_hz=10000";

/** Prints "step" three times with some work between, then "done", and exits 0. */
const WORKER = `
    section .text
_start:
    mov   r12, 3
.again:
    mov   ecx, 20000
.work:
    dec   ecx
    jnz   .work
    ${PUTS("step")}
    dec   r12
    jnz   .again
    ${PUTS("done")}
    ${EXIT(0)}
    section .data
step: db "step", 10, 0
done: db "done", 10, 0
`;

const faulty = (body: string) => `
    section .text
_start:
    mov   ecx, 5000
.spin:
    dec   ecx
    jnz   .spin
${body}
    ${EXIT(0)}
`;

Deno.test("faults: a program that writes to kernel memory is killed, and the others finish", () => {
  const r = run({
    cmdline: FAST,
    programs: [
      { name: "writer", assembly: faulty("mov rax, 0xffff800000200000\n mov qword [rax], 0") },
      { name: "worker", assembly: WORKER },
    ],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.deepEqual(userLines(r.out, "worker"), ["step", "step", "step", "done"]);
  assert.match(
    r.out,
    /warn {2}thread 2 of process 1 \(writer\) killed: page fault at pc 0x1_00\w\w/,
  );
  assert.match(
    r.out,
    /vector 14 \(#PF page fault\), error code 0x7 \(protection violation, write, user\), CR2 0xffff_8000_0020_0000/,
  );
  // The walk, in the CPU's own words: the direct map's leaf is a supervisor page.
  assert.match(r.out, /write of 0xffff_8000_0020_0000: .*U\/S = 0/);
  assert.match(
    r.out,
    /registers: rip=0x1_00\w\w rflags=0x2\d\d rax=0xffff_8000_0020_0000 .* rsp=0x7fff_ffff_f000 /,
  );
  assert.match(r.out, /process 1 \(writer\) exited with status -11/);
  assert.match(r.out, /process 2 \(worker\) exited with status 0/);
});

Deno.test("faults: every kind of user exception kills only its thread", () => {
  const cases: Record<string, [string, RegExp]> = {
    "load-unmapped": [
      "mov rax, 0x40000000\n mov rbx, [rax]",
      /#PF page fault\), error code 0x4 \(not present, read, user\), CR2 0x4000_0000/,
    ],
    "jump-kernel": [
      "mov rax, 0xffffffff80001000\n jmp rax",
      /#PF page fault\), error code 0x15 \(protection violation, instruction fetch, user\)/,
    ],
    illegal: ["ud2", /vector 6 \(#UD invalid opcode\)/],
    breakpoint: ["int3", /vector 3 \(#BP breakpoint\)/],
    "divide-by-zero": ["xor ecx, ecx\n div rcx", /vector 0 \(#DE divide error\)/],
    privileged: ["hlt", /vector 13 \(#GP general protection\), error code 0x0/],
    "int-0x80": ["int 0x80", /vector 13 \(#GP general protection\), error code 0x402/],
    "port-io": [
      "mov dx, 0x3f8\n in al, dx",
      /vector 13 \(#GP general protection\), error code 0x0/,
    ],
    "non-canonical": [
      "mov rax, 0x8000000000000000\n mov rbx, [rax]",
      /vector 13 \(#GP general protection\), error code 0x0/,
    ],
    "device-access": [
      "mov rax, 0xfee00000\n mov ebx, [rax]",
      /#PF page fault\), error code 0x4 \(not present, read, user\), CR2 0xfee0_0000/,
    ],
  };
  const r = run({
    cmdline: FAST,
    programs: [
      ...Object.entries(cases).map(([name, [body]]) => ({ name, assembly: faulty(body) })),
      { name: "worker", assembly: WORKER },
    ],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  const lines = r.out.split("\n");
  for (const [name, [, cause]] of Object.entries(cases)) {
    const report = lines.findIndex((l) => l.includes(`(${name}) killed`));
    assert.ok(report >= 0, `${name} was killed:\n${r.out}`);
    assert.match(lines[report + 1], cause, name);
    assert.match(r.out, new RegExp(`\\(${name}\\) exited with status -11`));
  }
  assert.match(r.out, /\(privileged\) killed: access fault/);
  // A #GP names no faulting address, so its report has no page walk (of a made-up 0).
  const gp = lines.findIndex((l) => l.includes("(privileged) killed"));
  assert.match(
    lines[gp + 2],
    /warn +registers: /,
    "no walk line between the cause and the registers",
  );
  // A page fault does name one, and its report walks it.
  const pf = lines.findIndex((l) => l.includes("(load-unmapped) killed"));
  assert.match(lines[pf + 2], /warn +read of 0x4000_0000: /);
  assert.match(r.out, /\(illegal\) killed: illegal instruction/);
  assert.match(r.out, /\(divide-by-zero\) killed: other/);
  assert.deepEqual(userLines(r.out, "worker"), ["step", "step", "step", "done"]);
});

function* poker<Y>(ctx: SyscallContext<Y>): Generator<Y, void, void> {
  yield* ctx.syscall(6n); // time(): a first syscall, so the fault comes from a running thread
  // Kernel memory (a user context takes addresses as signed 64-bit numbers): killed here.
  ctx.write(-0x7fff_ffe0_0000, new Uint8Array([1, 2, 3]));
  yield* ctx.syscall(2n, 7n); // never reached
}

Deno.test("faults: a TypeScript thread's bad access kills it the same way", () => {
  const r = run({
    cmdline: FAST,
    programs: [
      { name: "ts-poker", typescript: poker as UserProgram },
      { name: "worker", assembly: WORKER },
    ],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.match(r.out, /\(ts-poker\) killed: page fault at pc 0x1_0005/, "in the ts.resume step");
  assert.match(r.out, /write of 0xffff_8000_0020_0000/);
  assert.match(r.out, /process 1 \(ts-poker\) exited with status -11/);
  assert.deepEqual(userLines(r.out, "worker"), ["step", "step", "step", "done"]);
  assert.ok(r.messages.length === 0, r.messages.join("\n"));
});

function* thrower<Y>(ctx: SyscallContext<Y>): Generator<Y, void, void> {
  yield* ctx.syscall(6n);
  throw new Error("this program is broken");
}

Deno.test("faults: a TypeScript program that throws dies by an invalid opcode, alone", () => {
  const r = run({
    cmdline: FAST,
    programs: [
      { name: "thrower", typescript: thrower as UserProgram },
      { name: "worker", assembly: WORKER },
    ],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.match(r.out, /\(thrower\) killed: illegal instruction at pc 0x1_0005/, "at ts.resume");
  assert.match(r.messages.join("\n"), /"thrower" \(thread 1\) threw Error: this program is broken/);
  assert.deepEqual(userLines(r.out, "worker"), ["step", "step", "step", "done"]);
});
