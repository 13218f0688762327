import assert from "node:assert/strict";
import { AT_ENTRY, AT_EXECFN, AT_NULL, AT_PAGESZ, AT_RANDOM, buildInitialStack } from "./stack.ts";

/** Reads the stack back as a program would, from sp. */
function parse(stack: { sp: number; bytes: Uint8Array }) {
  const dv = new DataView(stack.bytes.buffer);
  const word = (va: number) => Number(dv.getBigUint64(va - stack.sp, true));
  const str = (va: number) => {
    let end = va - stack.sp;
    while (stack.bytes[end]) end++;
    return new TextDecoder().decode(stack.bytes.subarray(va - stack.sp, end));
  };
  let at = stack.sp;
  const argc = word(at);
  const argv: string[] = [];
  for (at += 8; word(at); at += 8) argv.push(str(word(at)));
  assert.equal(argv.length, argc);
  const env: string[] = [];
  for (at += 8; word(at); at += 8) env.push(str(word(at)));
  const auxv = new Map<number, number>();
  for (at += 8; word(at) !== AT_NULL; at += 16) auxv.set(word(at), word(at + 8));
  return {
    argc,
    argv,
    env,
    auxv,
    str,
    bytesAt: (va: number, n: number) => stack.bytes.slice(va - stack.sp, va - stack.sp + n),
  };
}

Deno.test("stack: argc, argv, envp and auxv in the System V layout", () => {
  const top = 2 ** 47 - 4096;
  const random = new Uint8Array(16).map((_, i) => i * 3);
  for (const args of [["prog"], ["prog", "a"], ["prog", "one", "two", "three four", ""]]) {
    const stack = buildInitialStack({
      top,
      args,
      env: ["HOME=/", "TERM=dumb"],
      auxv: [[AT_PAGESZ, 4096], [AT_ENTRY, 0x10078]],
      random,
    });
    assert.equal(stack.sp % 16, 0, "sp is 16-byte aligned");
    assert.equal(stack.sp + stack.bytes.length, top);
    const p = parse(stack);
    assert.deepEqual(p.argv, args);
    assert.deepEqual(p.env, ["HOME=/", "TERM=dumb"]);
    assert.equal(p.auxv.get(AT_PAGESZ), 4096);
    assert.equal(p.auxv.get(AT_ENTRY), 0x10078);
    assert.equal(p.str(p.auxv.get(AT_EXECFN)!), "prog");
    assert.deepEqual([...p.bytesAt(p.auxv.get(AT_RANDOM)!, 16)], [...random]);
  }
});
