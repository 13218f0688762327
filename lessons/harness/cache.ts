/**
 * The status cache (host side; uses Deno's file API): the last full grading of each
 * lesson's exercise (both architectures, every case), kept in `.cache/lessons/NN-slug.json`
 * with a SHA-256 of the exercise's files and the lesson's lesson.ts. A result whose hash no
 * longer matches is stale and is never shown as current.
 *
 * @module
 */

import type { LessonEntry } from "./catalog.ts";
import type { LessonReport } from "./report.ts";

/** Where the cache lives unless told otherwise (relative to the repository root). */
export const DEFAULT_CACHE_DIR = ".cache/lessons";

/** What the cache keeps of a grading. */
export interface CachedGrade {
  /** The hash of the files graded. */
  hash: string;
  /** Points earned. */
  score: number;
  /** Points possible. */
  maxScore: number;
  /** Every case passed. */
  passed: boolean;
  /** The seed it ran with. */
  seed: number;
}

/** A lesson's status for the listing and `boot --mine`. */
export type LessonStatus =
  | { state: "not started" }
  | { state: "stale"; cached: CachedGrade }
  | { state: "graded"; cached: CachedGrade };

/** Every file under `dir`, recursively, as paths relative to it, sorted. */
function filesUnder(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(`${dir}/${prefix}`)];
  } catch {
    return out;
  }
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...filesUnder(dir, rel));
    else if (e.isFile) out.push(rel);
  }
  return out.sort();
}

/** SHA-256 (hex) of the lesson's exercise files and its lesson.ts: names and contents. */
export async function exerciseHash(lesson: LessonEntry): Promise<string> {
  const files = [
    "lesson.ts",
    ...filesUnder(`${lesson.path}/exercise`).map((f) => `exercise/${f}`),
  ];
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const f of files) {
    let data: Uint8Array;
    try {
      data = Deno.readFileSync(`${lesson.path}/${f}`);
    } catch {
      data = new Uint8Array();
    }
    parts.push(enc.encode(`${f}\0${data.length}\0`), data);
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const digest = await crypto.subtle.digest("SHA-256", all);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether `report` is a full grading of the exercise, the only kind the cache keeps. */
export function cacheable(report: LessonReport): boolean {
  return report.which === "exercise" && report.only === undefined &&
    report.arches.includes("x86_64") && report.arches.includes("riscv64");
}

/** Records `report` (graded from files whose hash is `hash`) if it is {@link cacheable}. */
export function saveGrade(
  cacheDir: string,
  lesson: LessonEntry,
  report: LessonReport,
  hash: string,
): boolean {
  if (!cacheable(report)) return false;
  const grade: CachedGrade = {
    hash,
    score: report.score,
    maxScore: report.maxScore,
    passed: report.passed,
    seed: report.seed,
  };
  Deno.mkdirSync(cacheDir, { recursive: true });
  Deno.writeTextFileSync(`${cacheDir}/${lesson.dir}.json`, JSON.stringify(grade, null, 2) + "\n");
  return true;
}

/** The cached grade of `lesson`, whatever its hash, if there is a readable one. */
export function readGrade(cacheDir: string, lesson: LessonEntry): CachedGrade | undefined {
  try {
    const g = JSON.parse(Deno.readTextFileSync(`${cacheDir}/${lesson.dir}.json`));
    const ok = typeof g?.hash === "string" && typeof g.score === "number" &&
      typeof g.maxScore === "number" && typeof g.passed === "boolean";
    return ok ? g as CachedGrade : undefined;
  } catch {
    return undefined;
  }
}

/** `lesson`'s status now: its cached grade, checked against the files as they are. */
export async function lessonStatus(cacheDir: string, lesson: LessonEntry): Promise<LessonStatus> {
  const cached = readGrade(cacheDir, lesson);
  if (!cached) return { state: "not started" };
  return cached.hash === await exerciseHash(lesson)
    ? { state: "graded", cached }
    : { state: "stale", cached };
}

/** The status in words, as the listing shows it. */
export function describeStatus(s: LessonStatus): string {
  if (s.state === "not started") return "not started";
  const points = `${s.cached.score} of ${s.cached.maxScore} points`;
  if (s.state === "stale") return `changed since last graded (then: ${points})`;
  return s.cached.passed ? "passed" : points;
}
