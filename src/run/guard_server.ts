/**
 * The guard server: while `baton run` runs, the git hooks of its agents
 * (and of anyone committing in the repository) ask it instead of starting
 * a Baton process of their own. Starting one costs a Deno start, the
 * engine's modules and SQLite's WebAssembly compiled again (~0.2 s of CPU,
 * see `bench/hooks.ts`); asking this process costs a `curl` over a Unix
 * socket in the repository's git directory (`<git common dir>/baton/guard.sock`,
 * mode 0600).
 *
 * It answers what `baton guard pre-commit` and `post-commit` answer, with
 * the same engine calls (`Engine.checkCommit`, `Engine.recordCommit`):
 * HTTP 200 to go ahead, 409 refused, the lines to print in the body. Any
 * other answer (or none) makes the hook start `baton guard` itself.
 *
 * @module
 */
import type { Engine } from "../engine/mod.ts";
import { checkLines, commitTrailers } from "../engine/hooks.ts";
import { COMMIT_META_FORMAT, gitCommonDir, gitTry, isSha, parseCommitMeta } from "../repo/git.ts";
import { guardSocketPath, repoRelative, writeTrailersFile } from "../repo/hook_files.ts";

/** A running guard server. */
export interface GuardServer {
  /** The socket's path. */
  path: string;
  /** How many requests it answered. */
  readonly answered: number;
  /** When it last answered (epoch ms; its start before the first request). */
  readonly lastRequestAt: number;
  /** Whether the socket at {@link path} is still this server's (another may have taken its place, or it was removed). */
  owned(): boolean;
  /** Whether {@link GuardServerOptions.stale} said so: it answers nothing any more. */
  readonly retired: boolean;
  /** Stops it and removes the socket. */
  close(): Promise<void>;
}

/** How {@link startGuardServer} starts. */
export interface GuardServerOptions {
  /** Where to say that it could not start (it is an optimisation: the hooks work without it). */
  log?: (line: string) => void;
  /**
   * `true` (`baton run`): take the socket over from whatever answers there (the newest run answers). `false` (the
   * idle server `baton guard serve`): start only when nothing answers.
   */
  replace?: boolean;
  /** What `GET /guard/status` says this server is (`baton run`, `baton guard serve`). */
  kind?: string;
  /**
   * Asked before each request: true when this server should answer no more (its configuration is no longer the
   * repository's). It then answers 503, which makes the hook start `baton guard` itself, and {@link GuardServer.retired}
   * turns true.
   */
  stale?: () => boolean;
}

/** Tells apart the servers one process starts (each binds a name of its own first). */
let serial = 0;

/**
 * Whether a guard server answers on `path` (a connection is accepted).
 * @param path the socket's path
 * @returns true when something listens there
 */
export async function guardServerAnswers(path: string): Promise<boolean> {
  try {
    const c = await Deno.connect({ transport: "unix", path });
    c.close();
    return true;
  } catch {
    return false;
  }
}

/** The claim a hook sends in its headers (an agent), or null (a human). */
function claimOf(h: Headers): { agentId: string; phaseId: number; token: string } | null | "partial" {
  const agentId = h.get("x-baton-agent") ?? "",
    phase = h.get("x-baton-phase") ?? "",
    token = h.get("x-baton-claim") ?? "";
  if (!agentId && !phase && !token) return null;
  if (!agentId || !token || !/^\d+$/.test(phase)) return "partial";
  return { agentId, phaseId: Number(phase), token };
}

const text = (status: number, lines: string[]) =>
  new Response(lines.length ? lines.join("\n") + "\n" : "", { status, headers: { "content-type": "text/plain" } });

/**
 * Starts the guard server for the repository of `engine`.
 * @param engine the engine (open for as long as the server runs)
 * @param opts how: a log for why it could not start, whether it takes the socket over (default true)
 * @returns the server, or null when the repository is not a git repository, the socket cannot be made, or
 *   (`replace: false`) another server answers
 */
export async function startGuardServer(engine: Engine, opts: GuardServerOptions = {}): Promise<GuardServer | null> {
  const log = opts.log ?? (() => {});
  const common = gitCommonDir(engine.cfg.repoRoot);
  if (common === null) return null;
  const path = guardSocketPath(common);
  if (path === null) return null;
  if (opts.replace === false && await guardServerAnswers(path)) return null;
  // Bound under a name of its own, then published as `path` (Deno removes a Unix socket by the path it was bound
  // to when its server stops: bound at `path`, a server would remove the socket of the one that replaced it).
  // Shorter than `guard.sock`, so it fits wherever `path` does.
  const own = `${common}/baton/.g${Deno.pid}${(serial++).toString(36)}`;
  try {
    Deno.mkdirSync(`${common}/baton`, { recursive: true });
    try {
      Deno.removeSync(own);
    } catch { /* none */ }
  } catch (e) {
    log(`guard server: ${(e as Error).message}`);
    return null;
  }
  let answered = 0;
  let lastRequestAt = Date.now();
  let retired = false;
  const since = new Date().toISOString();
  // The hook names the worktree's git directory; the trailers file goes only there (the common one, or a worktree's).
  // Compared with links resolved: the hook's $PWD may go through a link git's path does not.
  const real = (p: string) => {
    try {
      return Deno.realPathSync(p);
    } catch {
      return null;
    }
  };
  const commonReal = real(common) ?? common;
  const validGitDir = (dir: string) => {
    const d = dir.startsWith("/") ? real(dir) : null;
    if (d === null) return null;
    const rest = d.slice(`${commonReal}/worktrees/`.length);
    return d === commonReal || (d.startsWith(`${commonReal}/worktrees/`) && /^[^/]+$/.test(rest) && rest !== "..")
      ? d
      : null;
  };
  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (req.method === "GET" && url.pathname === "/guard/status") {
      return Response.json({ pid: Deno.pid, kind: opts.kind ?? "baton run", since, answered });
    }
    if (retired || opts.stale?.()) {
      retired = true;
      return text(503, []);
    }
    const who = claimOf(req.headers);
    if (req.method !== "POST" || who === "partial") return text(400, []);
    answered++;
    lastRequestAt = Date.now();
    try {
      if (url.pathname === "/guard/pre-commit") {
        const files = (await req.text()).split("\0").filter((f) => f);
        // Hooks installed before it was sent say nothing of the branch (unknown: not checked).
        const branch = req.headers.has("x-baton-branch") ? req.headers.get("x-baton-branch") || null : undefined;
        const r = engine.checkCommit({ ...(who ?? {}), files, ...(branch !== undefined ? { branch } : {}) });
        const lines = checkLines(r, "commit");
        if (r.verdict === "refuse") return text(409, lines);
        const gitDir = req.headers.get("x-baton-git-dir") ?? "";
        const dir = who ? validGitDir(gitDir) : null;
        if (who && dir) {
          writeTrailersFile(
            dir,
            `${who.agentId} ${who.phaseId} ${who.token}`,
            commitTrailers(r.ticketId!, r.phase!, who.agentId),
          );
        }
        return text(200, lines);
      }
      if (url.pathname === "/guard/paths") {
        // An agent CLI's pre-tool hook (baton-guard paths): paths relative to the caller's directory, or absolute.
        const cwd = req.headers.get("x-baton-cwd") ?? "";
        const paths = (await req.text()).split("\0").filter((f) => f);
        const top = cwd.startsWith("/") ? gitTry(cwd, "rev-parse", "--show-toplevel") : null;
        if (!top?.ok) return text(500, []);
        const r = engine.checkCommit({
          ...(who ?? {}),
          files: repoRelative(paths, cwd, top.stdout),
          declare: req.headers.get("x-baton-declare") !== "0",
        });
        return text(r.verdict === "refuse" ? 409 : 200, checkLines(r, "change"));
      }
      if (url.pathname === "/guard/post-commit" && who) {
        const sha = url.searchParams.get("sha") ?? "";
        // The hook sends what git log prints with COMMIT_META_FORMAT (older hooks: `%ct %s`); else git is asked here.
        const body = await req.text();
        const meta = parseCommitMeta(
          /^\d+ /.test(body)
            ? body
            : isSha(sha)
            ? gitTry(engine.cfg.repoRoot, "log", "-1", `--format=${COMMIT_META_FORMAT}`, sha).stdout
            : "",
        );
        const rec = engine.recordCommit({ ...who, sha, ...meta });
        return text(
          200,
          rec.progress
            ? []
            : [`baton: commit ${sha.slice(0, 12)} was made without the claim: recorded, not counted as progress`],
        );
      }
      return text(404, []);
    } catch (e) {
      // The hook falls back to starting baton guard, which reports the error in full.
      log(`guard server: ${(e as Error).message}`);
      return text(500, []);
    }
  };
  let server: Deno.HttpServer<Deno.UnixAddr>;
  let ino: number | null = null;
  try {
    server = Deno.serve({ path: own, transport: "unix", onListen: () => {} }, handler);
  } catch (e) {
    log(`guard server: ${(e as Error).message}`);
    return null;
  }
  try {
    Deno.chmodSync(own, 0o600);
    ino = Deno.statSync(own).ino;
    if (opts.replace === false) {
      // Only where nothing answers: a socket left by a process that died goes; a link fails if another server
      // published its own meanwhile (then that one answers, and this one is not needed).
      if (!await guardServerAnswers(path)) {
        try {
          Deno.removeSync(path);
        } catch { /* none */ }
      }
      Deno.linkSync(own, path);
      Deno.removeSync(own);
    } else {
      Deno.renameSync(own, path); // the newest run answers; the one it replaced sees that and leaves the socket be
    }
  } catch (e) {
    await server.shutdown();
    if (!(e instanceof Deno.errors.AlreadyExists)) log(`guard server: ${(e as Error).message}`);
    return null;
  }
  return {
    path,
    get answered() {
      return answered;
    },
    get lastRequestAt() {
      return lastRequestAt;
    },
    get retired() {
      return retired;
    },
    owned() {
      try {
        return Deno.statSync(path).ino === ino;
      } catch {
        return false;
      }
    },
    async close() {
      await server.shutdown();
      try {
        // Not when another run has put its own socket there since.
        if (Deno.statSync(path).ino === ino) Deno.removeSync(path);
      } catch { /* gone */ }
    },
  };
}
