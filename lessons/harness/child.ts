/**
 * The child process that grades a lesson for sandbox.ts (host side; uses Deno's I/O): it
 * reads one {@link GradeRequest} as JSON from stdin and writes each {@link GradeMessage} as
 * one line on stdout, marked with {@link MESSAGE_MARK} so that what the exercise prints
 * with console.log can share the stream.
 *
 * It runs with read permission only: the student's code can read the repository and
 * nothing more.
 *
 * @module
 */

import { type GradeMessage, type GradeRequest, serveGrading } from "./protocol.ts";

/** The prefix of a protocol line on the child's stdout. */
export const MESSAGE_MARK = "\u0001lesson-harness ";

if (import.meta.main) {
  const request: GradeRequest = JSON.parse(await new Response(Deno.stdin.readable).text());
  const enc = new TextEncoder();
  await serveGrading(request, (m: GradeMessage) => {
    const bytes = enc.encode(MESSAGE_MARK + JSON.stringify(m) + "\n");
    for (let at = 0; at < bytes.length;) at += Deno.stdout.writeSync(bytes.subarray(at));
  });
}
