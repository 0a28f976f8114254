/**
 * Terminal output for the CLI: aligned tables, colour only on a terminal
 * and never with NO_COLOR, local times for people (JSON has ISO times).
 *
 * @module
 */

/** Whether to colour output written to stdout. */
export function useColor(): boolean {
  if (Deno.env.get("NO_COLOR") !== undefined) return false;
  try {
    return Deno.stdout.isTerminal();
  } catch {
    return false;
  }
}

const codes = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, blue: 34, cyan: 36 } as const;

/** Colours text when colour is on. */
export function paint(text: string, style: keyof typeof codes): string {
  return useColor() ? `\x1b[${codes[style]}m${text}\x1b[0m` : text;
}

/** A date for people: local time, minutes (`-` for none). */
export function localTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Renders rows as an aligned table with a header. Empty: a "(none)" line. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  if (rows.length === 0) return paint("(none)", "dim");
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? "-" : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [paint(line(headers), "bold"), ...cells.map(line)].join("\n");
}
