/**
 * A small fake lesson for the harness's own tests (host side): lesson 90, "Copying bytes",
 * whose one component copies bytes in RAM through PhysMem. Tests write it into a temporary
 * folder with the exercise they need (correct, wrong, throwing, hanging, not loading) and
 * grade it as a student would.
 *
 * @module
 */

import { pathToFileURL } from "node:url";

/** The fake lesson's folder name. */
export const FAKE_DIR = "90-copying";

/** Exercises for the fake lesson, by behaviour. */
export const FAKE_EXERCISES: Record<string, string> = {
  correct: `
export function createCopier(mem) {
  return {
    copy(from, to, length) {
      for (let i = 0; i < length; i++) mem.write(to + i, 1, mem.read(from + i, 1));
    },
  };
}`,
  starter: `
export function createCopier(_mem) {
  return {
    copy(_from, _to, _length) {
      throw new Error("not implemented yet: see README.md#copying");
    },
  };
}`,
  wrong: `
export function createCopier(mem) {
  return {
    copy(from, to, length) {
      for (let i = 0; i < length - 1; i++) mem.write(to + i, 1, mem.read(from + i, 1));
    },
  };
}`,
  "hang-touching": `
export function createCopier(mem) {
  return { copy(from) { for (;;) mem.read(from, 1); } };
}`,
  "hang-silent": `
export function createCopier(_mem) {
  return { copy(_from, _to, length) { while (length > 0) { /* never touches memory */ } } };
}`,
  chatty: `
export function createCopier(mem) {
  console.log("copier: hello from the exercise");
  return {
    copy(from, to, length) {
      for (let i = 0; i < length; i++) mem.write(to + i, 1, mem.read(from + i, 1));
    },
  };
}`,
  exits: `
export function createCopier(_mem) {
  return { copy() { Deno.exit(3); } };
}`,
  "wrong-type": `
export function createCopier(mem: string) {
  return { copy(): void { console.log(mem); } };
}`,
  "no-load": `
throw new Error("the exercise breaks at its top level");
export function createCopier() {}`,
  fault: `
export function createCopier(mem) {
  return { copy(_from, to) { mem.write(0x7000_0000_0000, 1, 0n); mem.write(to, 1, 0n); } };
}`,
};

const HARNESS = new URL(".", import.meta.url).href;

/** The fake lesson's lesson.ts, importing the harness from this repository. */
function lessonSource(kernelKey?: string): string {
  return `
import { defineLesson, exercise } from "${HARNESS}define.ts";
import type { CaseContext } from "${HARNESS}context.ts";
import { referenceCopier, type CopierFactory } from "${HARNESS}testing_copier.ts";
import type { createCopier } from "./exercise/copier.ts";

const A = (t: CaseContext<unknown>) =>
  t.board.memoryMap.find((r) => r.type === 0 && r.length >= 0x10000)!.base;

export default defineLesson<{ copier: CopierFactory }>({
  number: 90,
  title: "Copying bytes",
  components: {
    copier: {
      interface: "CopierFactory",${kernelKey ? `\n      kernelKey: "${kernelKey}",` : ""}
      exercise: exercise<typeof createCopier>("exercise/copier.ts", "createCopier"),
      reference: referenceCopier,
    },
  },
  cases: [
    {
      name: "copies 64 bytes",
      points: 2,
      anchor: "copying",
      arch: "both",
      budget: 10_000,
      run(t) {
        const from = A(t), to = from + 0x1000;
        const data = Uint8Array.from({ length: 64 }, () => t.rng.range(1, 255));
        t.board.ram.writeBytes(from, data);
        t.note("copied from " + from.toString(16));
        t.impl.copier(t.mem).copy(from, to, 64);
        const got = t.board.ram.readBytes(to, 64);
        t.equal([...got!], [...data], "the 64 bytes at the destination", {
          hardware: ["RAM at the destination, as the bus reads it"],
        });
      },
    },
    {
      name: "copies nothing when the length is 0",
      points: 1,
      anchor: "edge-cases",
      arch: "riscv64",
      run(t) {
        const from = A(t), to = from + 0x1000;
        t.board.ram.writeBytes(from, new Uint8Array([7]));
        t.impl.copier(t.mem).copy(from, to, 0);
        t.equal(t.board.ram.read(to, 1), 0n, "the destination is untouched");
      },
    },
  ],
});
`;
}

/**
 * Writes the fake lesson with `exercise` (a key of FAKE_EXERCISES) under `root`; its path.
 * `kernelKey` makes its component stand for a kernel component (for `boot --mine` tests).
 */
export function writeFakeLesson(root: string, exercise: string, kernelKey?: string): string {
  const dir = `${root}/${FAKE_DIR}`;
  Deno.mkdirSync(`${dir}/exercise`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/lesson.ts`, lessonSource(kernelKey));
  Deno.writeTextFileSync(
    `${dir}/README.md`,
    "# 90 · Copying bytes\n\n## Copying\n\nCopy.\n\n## Edge cases\n\nNothing.\n",
  );
  setFakeExercise(root, exercise);
  return dir;
}

/** Replaces the fake lesson's exercise. */
export function setFakeExercise(root: string, exercise: string): void {
  const source = FAKE_EXERCISES[exercise];
  if (source === undefined) throw new Error(`no fake exercise ${exercise}`);
  const header = exercise === "wrong-type" ? "" : "// @ts-nocheck: plain JavaScript\n";
  Deno.writeTextFileSync(`${root}/${FAKE_DIR}/exercise/copier.ts`, `${header}${source}\n`);
}

/** The file URL of a path. */
export function fileUrl(path: string): string {
  return pathToFileURL(path).href;
}
