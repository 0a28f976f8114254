/**
 * Replacing a ticket file without losing an edit made meanwhile.
 *
 * Where the system can swap two names in one step (Linux, with FFI
 * permission: `exchange.ts`), the file is never missing: the new text is
 * swapped into place and what it displaced is compared with what was read;
 * anything else (an editor's save, a shell's `>>`, a write into the open
 * file) is swapped back, and the write is a `write_conflict`.
 *
 * Elsewhere the original is first renamed aside (an atomic step: from then on
 * no editor that saves by renaming can replace what we compare), then
 * compared with what was read; the new text is linked into place only if
 * nobody created the file again meanwhile, and the set-aside file is compared
 * once more before it is dropped. A file created meanwhile stays, and the
 * original is kept beside it as a conflict copy: a shell's `>>` into the
 * missing file creates one holding only what it appended.
 *
 * Whatever a human did at any point is either kept in place or reported as a
 * `write_conflict`, with nothing lost.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { repoEntryPath, repoPath } from "./files.ts";
import { pidGone, processStartedAt } from "../processes.ts";
import { canExchange, exchangeFiles } from "./exchange.ts";

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
  if (canExchange() && swapIntoPlace(path, tmp, expected, next, conflict)) return;
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
    // Someone created the file meanwhile: theirs stays, ours is dropped. An editor's save holds every line of the
    // original it started from, and the original is dropped; otherwise (a shell's `>>` into the missing file made one
    // holding only what it appended) the original is kept beside it.
    if (e instanceof Deno.errors.AlreadyExists) {
      if (holdsEveryLine(readOr(path), readOr(aside))) {
        Deno.removeSync(aside);
        throw conflict();
      }
      const copy = `${path}.baton-conflict-${Date.now()}`;
      Deno.renameSync(aside, copy);
      throw new BatonError(
        "write_conflict",
        `${shown} was created again while Baton was writing it back; the file before is kept as ` +
          `${shown}${copy.slice(path.length)}: merge what is missing by hand`,
        { location: { file: shown } },
      );
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

/** Whether `theirs` holds every line of `original` (nothing of it would be lost by keeping only theirs). */
function holdsEveryLine(theirs: Uint8Array | null, original: Uint8Array | null): boolean {
  if (original === null) return true;
  if (theirs === null) return false;
  const decode = (b: Uint8Array) => new TextDecoder().decode(b).split("\n");
  const have = new Set(decode(theirs));
  return decode(original).every((line) => line.trim() === "" || have.has(line));
}

/**
 * Swaps the new text into place where the system can (the file is never missing), then checks that what it displaced is
 * what was read; if not, swaps back. Returns false, having done nothing, where it cannot swap.
 */
function swapIntoPlace(
  path: string,
  tmp: string,
  expected: Uint8Array,
  next: Uint8Array,
  conflict: () => BatonError,
): boolean {
  const dropTmp = () => {
    try {
      Deno.removeSync(tmp);
    } catch { /* gone */ }
  };
  const now = readOr(path);
  if (now === null || !same(now, expected)) {
    dropTmp();
    throw conflict();
  }
  replaceHooks.between?.("aside");
  let swapped: boolean;
  try {
    swapped = exchangeFiles(tmp, path);
  } catch (e) {
    dropTmp();
    if (e instanceof Deno.errors.NotFound) throw conflict();
    throw e;
  }
  if (!swapped) return false;
  replaceHooks.between?.("linked");
  if (same(readOr(tmp) ?? new Uint8Array(), expected)) {
    dropTmp();
    return true;
  }
  // Saved or written between the comparison and the swap: theirs goes back in place. Ours is dropped unless something
  // was written into it in that moment (then it is kept, as a conflict copy).
  exchangeFiles(tmp, path);
  if (same(readOr(tmp) ?? new Uint8Array(), next)) dropTmp();
  else Deno.renameSync(tmp, `${path}.baton-conflict-${Date.now()}`);
  throw conflict();
}

/**
 * Whether a file is one a replacement writes beside a ticket file: its new text (`NAME.baton-new-PID`), the file set
 * aside (`NAME.baton-old-PID`), or an edit that crossed a write-back (`NAME.baton-conflict-TIME`).
 * @param path the file's name or path
 * @returns true for such a copy
 */
export function isWriteBackCopy(path: string): boolean {
  return /\.baton-(?:new|old|conflict)-\d+$/.test(path);
}

/** A ticket file set aside by a replacement (`NAME.baton-old-PID`): the name and the pid. */
const SET_ASIDE = /^(.+)\.baton-old-(\d+)$/;

/**
 * What a missing ticket file's set-aside copies say to do, for messages.
 * @param shown the ticket file, repository-relative
 * @param aside what {@link setAsideOf} found
 * @returns the advice, or "" when nothing is set aside
 */
export function setAsideAdvice(shown: string, aside: SetAside): string {
  if (aside.state === "several") {
    return `; several copies were set aside by interrupted write-backs (${
      aside.copies.join(", ")
    }): rename the one to keep back to ${shown}`;
  }
  if (aside.state === "running") {
    return `; a write-back that may still be running set it aside as ${aside.copy}: try again once it ended`;
  }
  if (aside.state === "restorable") return `; ${aside.copy} holds it: baton import or baton sync puts it back`;
  return "";
}

/** What is set aside for a missing ticket file, and whether it can be put back. */
export type SetAside =
  | { state: "none" }
  | { state: "restorable" | "running"; copy: string }
  | { state: "several"; copies: string[] };

/**
 * What a replacement left set aside for a ticket file: nothing; one copy
 * whose process is gone (`restorable`: the original with every human edit,
 * as it was when set aside) or still runs (`running`, or cannot be told);
 * several copies (`several`: which holds the last words is the human's to
 * say).
 * @param root the repository root
 * @param shown the ticket file, repository-relative
 * @returns the state, with the copies' repository-relative paths
 */
export function setAsideOf(root: string, shown: string): SetAside {
  const path = repoPath(root, shown);
  const dir = path.slice(0, path.lastIndexOf("/"));
  const base = path.slice(dir.length + 1);
  const shownDir = shown.includes("/") ? shown.slice(0, shown.lastIndexOf("/") + 1) : "";
  let copies: string[];
  try {
    copies = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => SET_ASIDE.exec(n)?.[1] === base).sort();
  } catch {
    return { state: "none" };
  }
  // Only files count: a link of that name is not a copy Baton set aside (what it leads to is never moved).
  copies = copies.filter((c) => {
    try {
      return Deno.lstatSync(`${dir}/${c}`).isFile;
    } catch {
      return false;
    }
  });
  if (!copies.length) return { state: "none" };
  if (copies.length > 1) return { state: "several", copies: copies.map((c) => shownDir + c) };
  const pid = Number(SET_ASIDE.exec(copies[0])![2]);
  let setAt: number;
  try {
    setAt = Deno.lstatSync(`${dir}/${copies[0]}`).ctime?.getTime() ?? Date.now(); // its rename
  } catch {
    return { state: "none" };
  }
  return { state: replacerGone(pid, setAt) ? "restorable" : "running", copy: shownDir + copies[0] };
}

/**
 * Puts back a ticket file that a replacement killed between setting it
 * aside and linking the new text in (`kill -9`, the OOM killer, a power
 * cut) left missing: its one `NAME.baton-old-PID` copy ({@link setAsideOf}
 * says `restorable`) goes back to `NAME` when `NAME` does not exist; its
 * `NAME.baton-new-PID` is removed.
 * @param root the repository root
 * @param shown the ticket file, repository-relative
 * @returns true when it was put back
 */
export function restoreSetAside(root: string, shown: string): boolean {
  const path = repoPath(root, shown);
  if (readOr(path) !== null) return false;
  const aside = setAsideOf(root, shown);
  if (aside.state !== "restorable") return false;
  const copy = repoEntryPath(root, aside.copy); // the copy's own entry, not a path resolved through links
  try {
    if (!Deno.lstatSync(copy).isFile) return false;
    Deno.linkSync(copy, path); // fails when someone created the file meanwhile: theirs stays
  } catch {
    return false;
  }
  Deno.removeSync(copy);
  try {
    Deno.removeSync(`${path}.baton-new-${SET_ASIDE.exec(copy)![2]}`);
  } catch { /* never made, or removed */ }
  return true;
}

/**
 * Puts back every ticket file of a directory that an interrupted replacement
 * left missing (see {@link restoreSetAside}), unless `keep` says its name is
 * not to come back (its ticket's file has another name now).
 * @param root the repository root
 * @param files the directory's files, repository-relative (`listRepoFiles`)
 * @param keep whether a missing name may be put back
 * @returns the ticket files put back
 */
export function restoreAllSetAside(
  root: string,
  files: string[],
  keep: (name: string) => boolean = () => true,
): string[] {
  const missing = new Set<string>();
  for (const f of files) {
    const m = SET_ASIDE.exec(f);
    if (m && !files.includes(m[1]) && keep(m[1])) missing.add(m[1]);
  }
  return [...missing].filter((f) => restoreSetAside(root, f));
}

/** A replacement's new text, written before it is linked in (`NAME.baton-new-PID`): the name and the pid. */
const NEW_COPY = /^(.+)\.baton-new-(\d+)$/;

/**
 * Removes the new texts that replacements killed before they finished (`kill -9` between writing
 * `NAME.baton-new-PID` and removing it) left behind, once their writers are certainly gone. Only Baton's own copy
 * of text it was about to write: the ticket file, and any set-aside copy holding a human's words, stay.
 * @param root the repository root
 * @param files the directory's files, repository-relative (`listRepoFiles`)
 * @returns the files removed
 */
export function removeStrayNewCopies(root: string, files: string[]): string[] {
  const removed: string[] = [];
  for (const f of files) {
    const m = NEW_COPY.exec(f);
    if (!m) continue;
    try {
      const path = repoEntryPath(root, f); // the entry itself, never what a link of that name leads to
      const st = Deno.lstatSync(path);
      if (!st.isFile) continue; // a link (or anything else) is not a copy Baton wrote
      if (!replacerGone(Number(m[2]), st.ctime?.getTime() ?? Date.now())) continue;
      Deno.removeSync(path);
      removed.push(f);
    } catch { /* gone meanwhile, or not ours to judge */ }
  }
  return removed;
}

/**
 * Whether the process that set a file aside at `setAt` is certainly gone: this host's `/proc` has no such pid, or
 * that pid now names a process started later (given out again, after a reboot say). Never this process.
 */
function replacerGone(pid: number, setAt: number): boolean {
  if (pidGone(pid)) return true;
  if (pid === Deno.pid) return false;
  const started = processStartedAt(pid); // null where /proc cannot tell
  return started !== null && started > setAt + 1_000;
}
