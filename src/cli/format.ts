/**
 * Terminal output for the CLI: aligned tables, colour only on a TTY and
 * never with NO_COLOR, local times for humans and ISO in JSON.
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

/** A date for humans: local time, minutes. */
export function localTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A duration for humans: 45s, 12m, 3h05m, 2d04h. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, "0")}h`;
}

/** Renders rows as an aligned table with a header. Empty: a "(none)" line. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  if (rows.length === 0) return paint("(none)", "dim");
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? "-" : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [paint(line(headers), "bold"), ...cells.map(line)].join("\n");
}

/** Converts ms timestamps in known fields of a value to ISO strings, for --json. */
export function isoDates<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (k, v) => {
    if (typeof v === "number" && /(At|_at|^at|since|Since)$/.test(k) && v > 946684800000) {
      return new Date(v).toISOString();
    }
    return v;
  }));
}
