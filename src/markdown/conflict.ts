/**
 * Git's conflict markers in a ticket file: a merge, rebase or stash that
 * stopped on a conflict leaves both sides in the file (`<<<<<<<`, `=======`,
 * `>>>>>>>`). Such a file says two things at once: its checkboxes are not
 * imported (a gate checked on one side only is not approved), and nothing is
 * written into it until a human resolves it.
 *
 * @module
 */

/** A fence line: its character, its length, and whether it has an info string (then it cannot close a fence). */
function fenceOf(line: string): { char: string; length: number; info: boolean } | null {
  const m = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
  if (!m || (m[1][0] === "`" && m[2].includes("`"))) return null;
  return { char: m[1][0], length: m[1].length, info: m[2].trim() !== "" };
}

/**
 * The line of the first unresolved conflict in `text`: a `<<<<<<<` line,
 * then a `=======` line, then a `>>>>>>>` line, each of one marker size (git's
 * `conflict-marker-size`, 7 by default). Markers shown as an example are not
 * one: the whole block inside a code fence that opened before it and closes
 * after it (CommonMark's rules: a closing fence has no info string), with no
 * fence line among the markers (a fence that is itself in conflict is not an
 * example). A real conflict inside a fence looks like an example: the caller
 * asks git whether the file is unmerged too.
 * @param text the file's text
 * @returns the 1-based line of its `<<<<<<<`, or null when there is none
 */
export function conflictMarkerLine(text: string): number | null {
  if (!text.includes("<<<<<<<")) return null;
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  let fence: { char: string; length: number } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const f = fenceOf(lines[i]);
    if (f) {
      if (!fence) fence = f;
      else if (f.char === fence.char && f.length >= fence.length && !f.info) fence = null;
      continue;
    }
    const open = /^(<{7,})(?: |$)/.exec(lines[i])?.[1].length;
    if (!open) continue;
    const middle = lines.findIndex((l, j) => j > i && l === "=".repeat(open));
    if (middle < 0) continue;
    const end = lines.findIndex((l, j) => j > middle && new RegExp(`^>{${open}}(?: |$)`).test(l));
    if (end < 0) continue;
    const example = fence !== null && !lines.slice(i, end + 1).some((l) => fenceOf(l)) &&
      lines.slice(end + 1).some((l) => {
        const c = fenceOf(l);
        return c !== null && c.char === fence!.char && c.length >= fence!.length && !c.info;
      });
    if (!example) return i + 1;
    i = end; // the example's lines are the fence's content
  }
  return null;
}
