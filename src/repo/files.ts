/**
 * The one way into the repository's files. Every read and write of a file
 * Baton knows by a repository-relative path (ticket markdown, templates,
 * files an agent's context includes, `.workflow/` itself, what `baton init`
 * writes) resolves the path here first: links are followed, and a path that
 * ends up outside the repository is refused. A ticket that is a link to
 * `/etc/passwd`, or a `tickets/` directory linked elsewhere, is never read
 * or written through.
 *
 * `tests/repo_files_test.ts` fails when a module under `src/` opens files by
 * another route, outside the short list of modules whose files are not the
 * repository's (the database's own files, a backup the user names, …).
 *
 * @module
 */
import { BatonError } from "../errors.ts";

const realRoots = new Map<string, string>();

/** The repository root with its links resolved (cached: it does not move while Baton runs). */
function realRoot(root: string): string {
  let r = realRoots.get(root);
  if (r === undefined) {
    r = Deno.realPathSync(root);
    realRoots.set(root, r);
  }
  return r;
}

const inside = (real: string, root: string) => real === root || real.startsWith(root.endsWith("/") ? root : `${root}/`);

/** The nearest existing ancestor of a path (itself when it exists). */
function existingAncestor(path: string): string {
  let p = path;
  for (;;) {
    try {
      Deno.lstatSync(p);
      return p;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      const i = p.lastIndexOf("/");
      if (i <= 0) return "/";
      p = p.slice(0, i);
    }
  }
}

/**
 * Resolves a repository-relative path to the real file it names, refusing
 * anything outside the repository: an absolute path, `..` past the root, or
 * a link (of the file or of any directory on the way) that leads out. A path
 * that does not exist yet is judged by its nearest existing ancestor, so a
 * file about to be created is checked too.
 *
 * @param root the repository root (absolute)
 * @param rel the path, relative to the root
 * @returns the absolute path with every link resolved (for a missing file: its resolved parent plus the rest)
 * @throws {BatonError} `forbidden` when it leads outside the repository; `invalid_argument` for an absolute path
 *   or a NUL byte
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { repoPath } from "./files.ts";
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.symlink("/etc/passwd", `${root}/t.md`);
 * assert.throws(() => repoPath(root, "t.md"), { code: "forbidden" });
 * assert.equal(repoPath(root, "tickets/new.md"), `${root}/tickets/new.md`);
 * ```
 */
export function repoPath(root: string, rel: string): string {
  if (rel.includes("\0")) throw new BatonError("invalid_argument", "A repository path contains a NUL byte");
  if (rel.startsWith("/")) {
    throw new BatonError("invalid_argument", `${rel} is an absolute path; Baton takes paths inside the repository`);
  }
  const base = realRoot(root);
  const parts: string[] = [];
  for (const part of rel.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (!parts.length) throw outside(rel);
      parts.pop();
    } else parts.push(part);
  }
  const path = parts.length ? `${base}/${parts.join("/")}` : base;
  const anchor = existingAncestor(path);
  const real = Deno.realPathSync(anchor);
  if (!inside(real, base)) throw outside(rel);
  return real + path.slice(anchor.length);
}

function outside(rel: string): BatonError {
  return new BatonError("forbidden", `${rel} leads outside the repository (through a link, or by its path): refused`, {
    location: { file: rel },
  });
}

/**
 * The path of a repository entry itself: its directory resolved through links (and refused when that leads
 * outside the repository), its own name not, so that a link is the link and not what it leads to.
 * @param root the repository root
 * @param rel the entry, relative to it
 * @returns its absolute path
 * @throws {BatonError} `forbidden` when its directory leads outside the repository
 * @example
 * ```ts
 * import { repoEntryPath } from "./files.ts";
 * repoEntryPath(await Deno.makeTempDir(), "tickets/0001.md.baton-new-42");
 * ```
 */
export function repoEntryPath(root: string, rel: string): string {
  const slash = rel.lastIndexOf("/");
  return `${repoPath(root, slash < 0 ? "." : rel.slice(0, slash))}/${rel.slice(slash + 1)}`;
}

/**
 * Reads a repository file's bytes.
 * @param root the repository root
 * @param rel the path, relative to it
 * @returns the bytes
 * @throws {BatonError} `forbidden` outside the repository; `Deno.errors.NotFound` and other I/O errors as they come
 * @example
 * ```ts
 * import { readRepoFile } from "./files.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/a.md`, "# A\n");
 * readRepoFile(root, "a.md");
 * ```
 */
export function readRepoFile(root: string, rel: string): Uint8Array {
  return Deno.readFileSync(repoPath(root, rel));
}

/**
 * Reads a repository file as UTF-8 text.
 * @param root the repository root
 * @param rel the path, relative to it
 * @returns the text
 * @throws {BatonError} `forbidden` outside the repository; I/O errors as they come
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRepoText } from "./files.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/a.md`, "# A\n");
 * assert.equal(readRepoText(root, "a.md"), "# A\n");
 * ```
 */
export function readRepoText(root: string, rel: string): string {
  return Deno.readTextFileSync(repoPath(root, rel));
}

/**
 * Reads at most the first `maxBytes` of a repository file as UTF-8 text, for
 * showing: a file larger than that is cut after its last whole line within
 * the limit (never inside a character), and its full size is returned with
 * the text, so that the caller can say what was left out.
 * @param root the repository root
 * @param rel the path, relative to it
 * @param maxBytes the most bytes read
 * @returns the text, the file's size in bytes, and whether the text is all of it
 * @throws {BatonError} `forbidden` outside the repository; I/O errors as they come
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRepoTextHead } from "./files.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/a.md`, "# A\nline two\n");
 * assert.deepEqual(readRepoTextHead(root, "a.md", 8), { text: "# A\n", size: 13, whole: false });
 * ```
 */
export function readRepoTextHead(
  root: string,
  rel: string,
  maxBytes: number,
): { text: string; size: number; whole: boolean } {
  const file = Deno.openSync(repoPath(root, rel), { read: true });
  try {
    const size = file.statSync().size;
    const buf = new Uint8Array(Math.min(size, maxBytes));
    let got = 0;
    while (got < buf.length) {
      const n = file.readSync(buf.subarray(got));
      if (n === null || n === 0) break;
      got += n;
    }
    if (size <= maxBytes && got === size) {
      return { text: new TextDecoder().decode(buf.subarray(0, got)), size, whole: true };
    }
    // Cut after the last newline read (a line, and a character, is never split); a single line longer than the limit
    // is cut before its last character read, which may be partial.
    const nl = buf.subarray(0, got).lastIndexOf(0x0a);
    let end = nl >= 0 ? nl + 1 : got;
    if (nl < 0) { while (end > 0 && (buf[end - 1] & 0xc0) === 0x80) end--; // inside a multi-byte character
     }
    if (nl < 0 && end > 0 && buf[end - 1] >= 0xc0) end--; // its first byte
    return { text: new TextDecoder().decode(buf.subarray(0, end)), size, whole: false };
  } finally {
    file.close();
  }
}

/**
 * Creates a new repository file (never replacing one), its directories too.
 * Written under a temporary name and linked into place, so that a failure
 * (a full disk) leaves neither a partial file nor the temporary one.
 * @param root the repository root
 * @param rel the path, relative to it
 * @param data the content
 * @throws {BatonError} `forbidden` outside the repository; `Deno.errors.AlreadyExists` when the file exists;
 *   I/O errors (the partial file is removed first)
 * @example
 * ```ts
 * import { createRepoFile } from "./files.ts";
 * const root = await Deno.makeTempDir();
 * createRepoFile(root, "tickets/0001_a.md", "# Ticket 0001: A\n");
 * ```
 */
export function createRepoFile(root: string, rel: string, data: string | Uint8Array): void {
  const path = repoPath(root, rel);
  const dir = path.slice(0, path.lastIndexOf("/"));
  Deno.mkdirSync(dir, { recursive: true });
  repoPath(root, rel); // the directories just made may not lead out either (a link raced in)
  const tmp = `${path}.baton-new-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const f = Deno.openSync(tmp, { write: true, createNew: true });
    try {
      f.writeSync(typeof data === "string" ? new TextEncoder().encode(data) : data);
      f.syncSync();
    } finally {
      f.close();
    }
    Deno.linkSync(tmp, path); // AlreadyExists when the file is there: never replaced
  } finally {
    try {
      Deno.removeSync(tmp);
    } catch { /* never made */ }
  }
}

/**
 * A repository-relative directory as Baton writes paths under it: no `./`,
 * no trailing or doubled slashes; the repository root is "".
 * @param rel the directory as configured (`tickets`, `./tickets/`, `.`)
 * @returns the normal form (`tickets`, `tickets`, "")
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { repoDir } from "./files.ts";
 * assert.equal(repoDir("./docs//tickets/"), "docs/tickets");
 * assert.equal(repoDir("."), "");
 * ```
 */
export function repoDir(rel: string): string {
  return rel.split("/").filter((p) => p !== "" && p !== ".").join("/");
}

/**
 * A path under a repository directory.
 * @param dir the directory, as {@link repoDir} gives it ("" for the root)
 * @param name the path under it
 * @returns the repository-relative path
 * @throws nothing
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { underRepoDir } from "./files.ts";
 * assert.equal(underRepoDir("tickets", "0001.md"), "tickets/0001.md");
 * assert.equal(underRepoDir("", "0001.md"), "0001.md");
 * ```
 */
export function underRepoDir(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

/**
 * Lists a repository directory, recursively: the files (not links that lead
 * out, not directories reached through such links) as repository-relative
 * paths. Git's own files (`.git`) are not listed, nor another checkout inside
 * the repository (a directory with a `.git` of its own: a linked worktree, a
 * submodule, a nested repository), nor the directories in `skip`.
 * @param root the repository root
 * @param rel the directory, relative to it
 * @param links when given, gets the listed paths that are links (for {@link withoutAliases})
 * @param skip repository-relative directories (as {@link repoDir} gives them) left out with what is under them
 * @returns the files' paths, sorted; empty when the directory does not exist
 * @throws {BatonError} `forbidden` when the directory itself leads outside the repository
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listRepoFiles } from "./files.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/t/logs`, { recursive: true });
 * await Deno.writeTextFile(`${root}/t/a.md`, "");
 * await Deno.writeTextFile(`${root}/t/logs/b.md`, "");
 * assert.deepEqual(listRepoFiles(root, "t", undefined, new Set(["t/logs"])), ["t/a.md"]);
 * ```
 */
export function listRepoFiles(root: string, rel: string, links?: Set<string>, skip?: ReadonlySet<string>): string[] {
  const base = repoDir(rel);
  repoPath(root, base); // the directory itself
  const out: string[] = [];
  const walk = (dirRel: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dirRel ? `${realRoot(root)}/${dirRel}` : realRoot(root))];
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    // Another checkout: its files are another working copy's (or another repository's), not this one's.
    if (dirRel !== base && entries.some((e) => e.name === ".git")) return;
    for (const e of entries) {
      if (e.name === ".git") continue;
      const r = underRepoDir(dirRel, e.name);
      if (e.isDirectory) {
        if (!skip?.has(r)) walk(r);
      } else if (e.isFile) out.push(r);
      else if (e.isSymlink) {
        // A link is followed only while it stays inside the repository.
        try {
          const real = repoPath(root, r);
          const st = Deno.statSync(real);
          if (st.isFile) {
            out.push(r);
            links?.add(r);
          }
        } catch { /* leads out, or dangles: not a ticket */ }
      }
    }
  };
  walk(base);
  return out.sort();
}

/**
 * Appends text to a repository file (created when missing).
 * @param root the repository root
 * @param rel the path, relative to it
 * @param text what to append
 * @throws {BatonError} `forbidden` outside the repository; I/O errors
 * @example
 * ```ts
 * import { appendRepoText } from "./files.ts";
 * appendRepoText(await Deno.makeTempDir(), ".gitignore", "x.db\n");
 * ```
 */
export function appendRepoText(root: string, rel: string, text: string): void {
  Deno.writeTextFileSync(repoPath(root, rel), text, { append: true });
}

/**
 * Removes a repository file (a missing one is fine).
 * @param root the repository root
 * @param rel the path, relative to it
 * @throws {BatonError} `forbidden` outside the repository; I/O errors other than a missing file
 * @example
 * ```ts
 * import { removeRepoFile } from "./files.ts";
 * removeRepoFile(await Deno.makeTempDir(), "gone.md");
 * ```
 */
export function removeRepoFile(root: string, rel: string): void {
  try {
    Deno.removeSync(repoPath(root, rel));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/**
 * Repository files without the links among them that lead to another of them (aliases): each file once. A file
 * that is not a link is kept over the links to it; of links only, the first in order.
 * @param root the repository root
 * @param files repository-relative paths (from {@link listRepoFiles})
 * @param links when given, the paths among them that are links (what {@link listRepoFiles} gave): the others are
 * known not to be, and are not looked at
 * @returns them, aliases left out, in their order
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withoutAliases } from "./files.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/a.md`, "");
 * await Deno.symlink("a.md", `${root}/b.md`);
 * assert.deepEqual(withoutAliases(root, ["a.md", "b.md"]), ["a.md"]);
 * ```
 */
export function withoutAliases(root: string, files: string[], links?: Set<string>): string[] {
  const real = new Map<string, { path: string; link: boolean }>();
  // A file that is not a link is its directory's real path and its name: one directory resolved for all its files.
  const realDirs = new Map<string, string | null>();
  const realDir = (dir: string) => {
    let r = realDirs.get(dir);
    if (r === undefined) {
      try {
        r = repoPath(root, dir);
      } catch {
        r = null; // leads out
      }
      realDirs.set(dir, r);
    }
    return r;
  };
  for (const f of files) {
    let id: string, link: boolean;
    try {
      link = links ? links.has(f) : Deno.lstatSync(`${realRoot(root)}/${f}`).isSymlink; // its own name is a link
      const slash = f.lastIndexOf("/");
      const dir = link ? null : realDir(slash < 0 ? "" : f.slice(0, slash));
      if (!link && dir === null) continue;
      id = link ? repoPath(root, f) : `${dir}/${f.slice(slash + 1)}`; // every link resolved
    } catch {
      continue; // gone meanwhile, or leads out: not a file of the repository
    }
    const had = real.get(id);
    if (!had || (had.link && !link)) real.set(id, { path: f, link });
  }
  const kept = new Set([...real.values()].map((v) => v.path));
  return files.filter((f) => kept.has(f));
}

/**
 * Whether a repository file exists (a path that leads outside the repository does not).
 * @param root the repository root
 * @param rel the path, relative to it
 * @returns true when it names a file or directory there
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { repoFileExists } from "./files.ts";
 * assert.equal(repoFileExists(await Deno.makeTempDir(), "none.md"), false);
 * ```
 */
export function repoFileExists(root: string, rel: string): boolean {
  try {
    Deno.statSync(repoPath(root, rel));
    return true;
  } catch {
    return false;
  }
}

/**
 * A repository file's text, or null when it does not exist (other errors are thrown).
 * @param root the repository root
 * @param rel the path, relative to it
 * @param maxBytes refuse a file larger than this (`invalid_argument`, naming it)
 * @returns the text, or null
 * @throws {BatonError} `forbidden` outside the repository; `invalid_argument` over `maxBytes`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRepoTextIfAny } from "./files.ts";
 * assert.equal(readRepoTextIfAny(await Deno.makeTempDir(), "none.yaml"), null);
 * ```
 */
export function readRepoTextIfAny(root: string, rel: string, maxBytes = Infinity): string | null {
  let path: string;
  try {
    path = repoPath(root, rel);
    const size = Deno.statSync(path).size;
    if (size > maxBytes) {
      throw new BatonError(
        "invalid_argument",
        `${rel} is ${size.toLocaleString("en")} bytes; Baton reads at most ${maxBytes.toLocaleString("en")} here`,
        { location: { file: rel } },
      );
    }
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}
