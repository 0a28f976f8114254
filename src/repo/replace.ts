/**
 * Replacing a ticket file without losing an edit made meanwhile.
 *
 * The original is first renamed aside (an atomic step: from then on no
 * editor that saves by renaming can replace what we compare), then compared
 * with what was read; the new text is linked into place only if nobody
 * created the file again meanwhile, and the set-aside file is compared once
 * more before it is dropped. Whatever an editor did at any point is either
 * kept in place or reported as a `write_conflict`, with nothing lost.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { repoPath } from "./files.ts";
import { processStart } from "../processes.ts";

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

function readOr(path: string): Uint8Array | null {
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

const BOM = [0xef, 0xbb, 0xbf];

/**
 * The bytes to write for `text` in place of a file that held `original`:
 * UTF-8, with the byte-order mark the original began with (decoding drops it
 * from the text, and a human's file keeps it).
 * @param original the bytes the file held
 * @param text the new text, as decoded (without the mark)
 * @returns the bytes to write
 */
export function encodeLike(original: Uint8Array, text: string): Uint8Array {
  const body = new TextEncoder().encode(text);
  if (!BOM.every((b, i) => original[i] === b) || text.startsWith("\uFEFF")) return body;
  const out = new Uint8Array(BOM.length + body.length);
  out.set(BOM);
  out.set(body, BOM.length);
  return out;
}

/** Test seam: runs between the steps of a replacement, to imitate an editor saving at the worst moment. */
export const replaceHooks: { between?: (step: "start" | "aside" | "linked") => void } = {};

/**
 * Replaces a repository file by `next` if it still holds `expected`. The
 * path is resolved through `repo/files.ts` first: a file that leads outside
 * the repository is never replaced.
 * @param root the repository root
 * @param shown the file, repository-relative (also how messages name it)
 * @param expected the bytes it was read with
 * @param next the new bytes
 * @throws {BatonError} `forbidden` (outside the repository), `write_conflict` when the file changed (the change is
 *   kept), I/O errors (the temporary file is removed)
 */
export function replaceIfUnchanged(root: string, shown: string, expected: Uint8Array, next: Uint8Array): void {
  const path = repoPath(root, shown);
  const tmp = `${path}.baton-new-${Deno.pid}`;
  const aside = `${path}.baton-old-${Deno.pid}`;
  const conflict = () =>
    new BatonError("write_conflict", `${shown} changed on disk while Baton was writing it back; try again`, {
      location: { file: shown },
    });
  const f = Deno.openSync(tmp, { write: true, createNew: true });
  try {
    try {
      f.writeSync(next);
      f.syncSync();
    } finally {
      f.close();
    }
  } catch (e) {
    // A full disk: nothing is left behind, the ticket file is untouched.
    try {
      Deno.removeSync(tmp);
    } catch { /* never made */ }
    throw e;
  }
  try {
    const mode = Deno.statSync(path).mode;
    if (mode !== null) Deno.chmodSync(tmp, mode & 0o7777);
  } catch { /* the rename below reports a missing file */ }
  replaceHooks.between?.("start");
  try {
    Deno.renameSync(path, aside);
  } catch (e) {
    Deno.removeSync(tmp);
    if (e instanceof Deno.errors.NotFound) throw conflict();
    throw e;
  }
  replaceHooks.between?.("aside");
  const putBack = () => {
    try {
      Deno.linkSync(aside, path); // fails when an editor created the file again: theirs stays
      Deno.removeSync(aside);
    } catch {
      Deno.renameSync(aside, `${path}.baton-conflict-${Date.now()}`);
    }
  };
  if (!same(readOr(aside) ?? new Uint8Array(), expected)) {
    Deno.removeSync(tmp);
    putBack();
    throw conflict();
  }
  try {
    Deno.linkSync(tmp, path);
  } catch (e) {
    Deno.removeSync(tmp);
    // Someone saved the file meanwhile: their version is in place; ours is dropped, the old one too.
    if (e instanceof Deno.errors.AlreadyExists) {
      Deno.removeSync(aside);
      throw conflict();
    }
    putBack();
    throw e;
  }
  Deno.removeSync(tmp);
  replaceHooks.between?.("linked");
  // An editor that had the file open wrote into the one set aside: keep their edit, drop ours.
  if (!same(readOr(aside) ?? new Uint8Array(), expected)) {
    Deno.renameSync(aside, path);
    throw conflict();
  }
  Deno.removeSync(aside);
}

/** A ticket file set aside by a replacement (`NAME.baton-old-PID`): the name and the pid. */
const SET_ASIDE = /^(.+)\.baton-old-(\d+)$/;

/**
 * Puts back a ticket file that a replacement killed between setting it
 * aside and linking the new text in (`kill -9`, the OOM killer, a power
 * cut) left missing: `NAME.baton-old-PID`, the original with every human
 * edit, goes back to `NAME` when `NAME` does not exist and process PID of
 * this host is gone; its `NAME.baton-new-PID` is removed. A set-aside file
 * whose name exists again is left for `baton doctor` to report.
 * @param root the repository root
 * @param shown the ticket file, repository-relative
 * @returns true when it was put back
 */
export function restoreSetAside(root: string, shown: string): boolean {
  const path = repoPath(root, shown);
  if (readOr(path) !== null) return false;
  const dir = path.slice(0, path.lastIndexOf("/"));
  const base = path.slice(dir.length + 1);
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch {
    return false;
  }
  for (const name of names) {
    const m = SET_ASIDE.exec(name);
    if (!m || m[1] !== base || !replacerGone(Number(m[2]))) continue;
    try {
      Deno.linkSync(`${dir}/${name}`, path); // fails when someone created the file meanwhile: theirs stays
    } catch {
      return false;
    }
    Deno.removeSync(`${dir}/${name}`);
    try {
      Deno.removeSync(`${path}.baton-new-${m[2]}`);
    } catch { /* never made, or removed */ }
    return true;
  }
  return false;
}

/**
 * Puts back every ticket file of a directory that an interrupted replacement
 * left missing (see {@link restoreSetAside}).
 * @param root the repository root
 * @param files the directory's files, repository-relative (`listRepoFiles`)
 * @returns the ticket files put back
 */
export function restoreAllSetAside(root: string, files: string[]): string[] {
  const missing = new Set<string>();
  for (const f of files) {
    const m = SET_ASIDE.exec(f);
    if (m && !files.includes(m[1])) missing.add(m[1]);
  }
  return [...missing].filter((f) => restoreSetAside(root, f));
}

/** Whether the process that set a file aside is certainly gone (this host's `/proc` says so; never this process). */
function replacerGone(pid: number): boolean {
  return pid !== Deno.pid && processStart(pid) === null && processStart(Deno.pid) !== null;
}
