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
import { gitTry } from "../repo/git.ts";
import { guardSocketPath, repoRelative, writeTrailersFile } from "../repo/hook_files.ts";

/** A running guard server. */
export interface GuardServer {
  /** The socket's path. */
  path: string;
  /** How many requests it answered. */
  readonly answered: number;
  /** Stops it and removes the socket. */
  close(): Promise<void>;
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
 * @param log where to say that it could not start (it is an optimisation: the hooks work without it)
 * @returns the server, or null when the repository is not a git repository or the socket cannot be made
 */
export function startGuardServer(engine: Engine, log: (line: string) => void = () => {}): GuardServer | null {
  const common = gitTry(engine.cfg.repoRoot, "rev-parse", "--path-format=absolute", "--git-common-dir");
  if (!common.ok) return null;
  const path = guardSocketPath(common.stdout);
  if (path === null) return null;
  try {
    Deno.mkdirSync(`${common.stdout}/baton`, { recursive: true });
    try {
      Deno.removeSync(path); // a socket left by a run that died (a live one is replaced: the newest run answers, and the older one leaves it in place when it stops)
    } catch { /* none */ }
  } catch (e) {
    log(`guard server: ${(e as Error).message}`);
    return null;
  }
  let answered = 0;
  // The hook names the worktree's git directory; the trailers file goes only there (the common one, or a worktree's).
  // Compared with links resolved: the hook's $PWD may go through a link git's path does not.
  const real = (p: string) => {
    try {
      return Deno.realPathSync(p);
    } catch {
      return null;
    }
  };
  const commonReal = real(common.stdout) ?? common.stdout;
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
    const who = claimOf(req.headers);
    if (req.method !== "POST" || who === "partial") return text(400, []);
    answered++;
    try {
      if (url.pathname === "/guard/pre-commit") {
        const files = (await req.text()).split("\0").filter((f) => f);
        const r = engine.checkCommit({ ...(who ?? {}), files });
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
        // The hook sends `COMMIT-TIME SUBJECT` (git log's %ct %s); else git is asked here.
        const body = await req.text();
        const meta = /^\d+ /.test(body)
          ? body
          : /^[0-9a-f]{7,64}$/.test(sha)
          ? gitTry(engine.cfg.repoRoot, "log", "-1", "--format=%ct %s", sha).stdout
          : "";
        const [ct, ...subject] = meta.replace(/\n$/, "").split(" ");
        const rec = engine.recordCommit({
          ...who,
          sha,
          subject: subject.join(" "),
          committedAt: Number(ct) * 1000 || undefined,
        });
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
    server = Deno.serve({ path, transport: "unix", onListen: () => {} }, handler);
    Deno.chmodSync(path, 0o600);
    ino = Deno.statSync(path).ino;
  } catch (e) {
    log(`guard server: ${(e as Error).message}`);
    return null;
  }
  return {
    path,
    get answered() {
      return answered;
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
