/**
 * The chapter conventions of lessons/README.md, as code: GitHub's heading anchors (which
 * cases link to) and the architecture tab groups (which the site renders as tabs). The
 * course site may use these directly; tests/lessons_test.ts checks every chapter with them.
 *
 * Portable: no Deno or Node API.
 *
 * @module
 */

import type { ArchName } from "./define.ts";

/**
 * GitHub's anchor for a heading's text: lower-cased, every character that is not a letter,
 * a digit, a space, a hyphen or an underscore removed, spaces turned into hyphens.
 * Inline code marks and emphasis are removed with the other punctuation.
 */
export function githubAnchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
}

/** A fenced code block. */
export interface Fence {
  /** The line of its opening fence, from 1. */
  line: number;
  /** Its info string, trimmed. */
  info: string;
  /** Its contents. */
  code: string;
  /** The line after its closing fence, from 1. */
  endLine: number;
}

/** The fenced code blocks of a Markdown text (``` or ~~~, three or more). */
export function fences(markdown: string): Fence[] {
  const lines = markdown.split("\n");
  const out: Fence[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(lines[i]);
    if (!open) continue;
    const marker = open[1];
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = new RegExp(`^ {0,3}${marker[0]}{${marker.length},}\\s*$`);
      if (close.test(lines[j])) break;
      body.push(lines[j]);
    }
    out.push({ line: i + 1, info: open[2].trim(), code: body.join("\n"), endLine: j + 2 });
    i = j;
  }
  return out;
}

/** The anchors of every heading outside code blocks, with GitHub's -1, -2 for repeats. */
export function headingAnchors(markdown: string): string[] {
  const inFence = new Set<number>();
  for (const f of fences(markdown)) for (let l = f.line; l < f.endLine; l++) inFence.add(l);
  const seen = new Map<string, number>();
  const anchors: string[] = [];
  markdown.split("\n").forEach((text, i) => {
    const m = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(text);
    if (!m || inFence.has(i + 1)) return;
    const base = githubAnchor(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.push(n === 0 ? base : `${base}-${n}`);
  });
  return anchors;
}

/** One block of a tab group. */
export interface ArchBlock {
  /** The highlighting language. */
  lang: string;
  /** The architecture its tab is labelled with. */
  arch: ArchName;
  /** The code. */
  code: string;
  /** Its opening line. */
  line: number;
}

/** The architecture tab groups of a chapter, and the convention's violations. */
export function archGroups(markdown: string): { groups: ArchBlock[][]; problems: string[] } {
  const lines = markdown.split("\n");
  const groups: ArchBlock[][] = [];
  const problems: string[] = [];
  let current: ArchBlock[] = [];
  let lastEnd = -1;
  const close = () => {
    if (current.length) groups.push(current);
    current = [];
  };
  for (const f of fences(markdown)) {
    const words = f.info.split(/\s+/);
    const arch = words[1];
    const tagged = words.length >= 2 && (arch === "x86_64" || arch === "riscv64");
    if (words.length >= 2 && !tagged && /x86|risc|amd64|arm/i.test(arch)) {
      problems.push(`line ${f.line}: "${f.info}": the architecture must be x86_64 or riscv64`);
    }
    if (tagged && words.length > 2) {
      problems.push(`line ${f.line}: "${f.info}": nothing may follow the architecture`);
    }
    // Only blank lines between this block and the previous one: the same group.
    const between = lastEnd < 0 ? ["x"] : lines.slice(lastEnd - 1, f.line - 1);
    const adjacent = between.every((l) => l.trim() === "");
    if (!tagged || !adjacent) close();
    if (tagged) {
      const block = { lang: words[0], arch: arch as ArchName, code: f.code, line: f.line };
      if (current.some((b) => b.arch === block.arch)) {
        problems.push(`line ${f.line}: a tab group has two ${block.arch} blocks`);
      }
      current.push(block);
    }
    lastEnd = f.endLine;
  }
  close();
  return { groups: groups.filter((g) => g.length > 1), problems };
}
