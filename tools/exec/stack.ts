/**
 * The initial stack of a Linux process (System V ABI, "Process Initialization"; Linux
 * fs/binfmt_elf.c `create_elf_tables`), built as bytes for the loader to copy in:
 *
 * ```
 * top ->  strings: argv[], envp[], the executable's name; 16 random bytes (AT_RANDOM)
 *         padding to 16 bytes
 *         auxv: (type, value) pairs ending with AT_NULL
 *         NULL, envp[m-1] ... envp[0]
 *         NULL, argv[n-1] ... argv[0]
 * sp  ->  argc                                   (sp is 16-byte aligned)
 * ```
 *
 * Every word is 8 bytes, little-endian: the layout is the same on riscv64 and x86_64.
 *
 * @module
 */

/** Auxiliary vector entry types (linux/include/uapi/linux/auxvec.h). */
export const AT_NULL = 0;
/** Address of the program headers. */
export const AT_PHDR = 3;
/** Size of one program header. */
export const AT_PHENT = 4;
/** Number of program headers. */
export const AT_PHNUM = 5;
/** The page size. */
export const AT_PAGESZ = 6;
/** Base address of the interpreter (0: none). */
export const AT_BASE = 7;
/** Flags (0). */
export const AT_FLAGS = 8;
/** The program's entry point. */
export const AT_ENTRY = 9;
/** Real and effective user and group IDs. */
export const AT_UID = 11;
/** See {@link AT_UID}. */
export const AT_EUID = 12;
/** See {@link AT_UID}. */
export const AT_GID = 13;
/** See {@link AT_UID}. */
export const AT_EGID = 14;
/** Hardware capabilities (RISC-V: one bit per single-letter extension). */
export const AT_HWCAP = 16;
/** Clock ticks per second for times(). */
export const AT_CLKTCK = 17;
/** Secure mode (0). */
export const AT_SECURE = 23;
/** Address of 16 random bytes. */
export const AT_RANDOM = 25;
/** Address of the executable's file name. */
export const AT_EXECFN = 31;

/** What goes on the stack. */
export interface StackSpec {
  /** The address just above the stack (16-byte aligned). */
  top: number;
  /** argv, argv[0] being the program's name. */
  args: readonly string[];
  /** The environment, as "NAME=value". */
  env: readonly string[];
  /** Auxiliary vector entries (without AT_RANDOM, AT_EXECFN and AT_NULL, added here). */
  auxv: readonly (readonly [number, number])[];
  /** The 16 bytes AT_RANDOM points at (from the seeded generator: runs stay reproducible). */
  random: Uint8Array;
}

/** The stack's contents and the initial stack pointer. */
export interface InitialStack {
  /** The initial sp (points at argc). */
  sp: number;
  /** The bytes from sp up to top. */
  bytes: Uint8Array;
}

/** Lays out the initial stack (see the module comment). */
export function buildInitialStack(spec: StackSpec): InitialStack {
  const enc = new TextEncoder();
  // Strings from the top down, remembering where each lands.
  let cursor = spec.top;
  const pieces: { at: number; bytes: Uint8Array }[] = [];
  const place = (bytes: Uint8Array): number => {
    cursor -= bytes.length;
    pieces.push({ at: cursor, bytes });
    return cursor;
  };
  const cstring = (s: string) => place(new Uint8Array([...enc.encode(s), 0]));
  const execfn = cstring(spec.args[0] ?? "");
  const envp = spec.env.map(cstring);
  const argv = spec.args.map(cstring);
  cursor = Math.floor(cursor / 16) * 16; // addresses exceed 2^32: no bitwise operators
  const random = place(spec.random.slice(0, 16));

  const auxv: [number, number][] = [
    ...spec.auxv.map(([t, v]): [number, number] => [t, v]),
    [AT_RANDOM, random],
    [AT_EXECFN, execfn],
    [AT_NULL, 0],
  ];
  const words = [
    argv.length,
    ...argv,
    0,
    ...envp,
    0,
    ...auxv.flat(),
  ];
  const sp = Math.floor((cursor - words.length * 8) / 16) * 16;
  const bytes = new Uint8Array(spec.top - sp);
  const dv = new DataView(bytes.buffer);
  words.forEach((w, i) => dv.setBigUint64(i * 8, BigInt.asUintN(64, BigInt(w)), true));
  for (const p of pieces) bytes.set(p.bytes, p.at - sp);
  return { sp, bytes };
}
