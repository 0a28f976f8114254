/**
 * Git's conflict markers in a ticket file: a merge, rebase or stash that
 * stopped on a conflict leaves both sides in the file (`<<<<<<<`, `=======`,
 * `>>>>>>>`). Such a file says two things at once: its checkboxes are not
 * imported (a gate checked on one side only is not approved), and nothing is
 * written into it until a human resolves it.
 *
 * @module
 */

/**
 * The line of the first unresolved conflict in `text`: a `<<<<<<<` line
 * followed by a `=======` line and then a `>>>>>>>` line, outside fenced code
 * blocks (a ticket may show markers as an example; a lone `=======` is also
 * Markdown's underline of a heading).
 * @param text the file's text
 * @returns the 1-based line of its `<<<<<<<`, or null when there is none
 */
export function conflictMarkerLine(text: string): number | null {
  if (!text.includes("<<<<<<<")) return null;
  let fence: string | null = null;
  let open = -1, middle = false;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, "");
    const f = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (f && (fence === null || (f[0] === fence[0] && f.length >= fence.length))) {
      fence = fence === null ? f : null;
      continue;
    }
    if (fence !== null) continue;
    if (/^<{7}(?: |$)/.test(line)) [open, middle] = [i, false];
    else if (open >= 0 && /^={7}$/.test(line)) middle = true;
    else if (open >= 0 && middle && /^>{7}(?: |$)/.test(line)) return open + 1;
  }
  return null;
}
