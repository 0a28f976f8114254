/**
 * The guard server without `baton run`: `baton guard serve`.
 *
 * A hook that finds no guard server answering starts `baton guard` (a Deno
 * start, the engine, SQLite's WebAssembly: ~0.3 s). That process then starts
 * `baton guard serve` in the background ({@link offerGuardServer}), which
 * answers the hooks of the next commits over the same Unix socket `baton run`
 * uses, and stops on its own: after `hooks.server_idle_minutes` without a
 * request, when another server takes the socket (`baton run` starting), when
 * Baton's hooks are uninstalled, when `.workflow/` changes (the hook that
 * finds it so starts `baton guard`, which reads the new configuration and
 * starts a new server), on SIGINT/SIGTERM. git does the same for its
 * file-system monitor (`core.fsmonitor`). `hooks.server: off` turns it off.
 *
 * The server starts with an environment of its own: no claim (`BATON_*`), no
 * `GIT_*` of the hook that started it. Who commits comes with each request.
 *
 * @module
 */
import { workflowFilesText } from "../config/cache.ts";
import type { Engine } from "../engine/mod.ts";
import { gitCommonDir } from "../repo/git.ts";
import { guardSocketPath } from "../repo/hook_files.ts";
import { stopSignals } from "../signals.ts";
import type { Io } from "./command.ts";
import { selfCommand } from "./hooks.ts";

/** Where Baton's hooks live and where the guard server listens, for the repository of `repoRoot`. */
function places(repoRoot: string): { socket: string; hooksDir: string } | null {
  const common = gitCommonDir(repoRoot);
  if (common === null) return null;
  const socket = guardSocketPath(common);
  return socket === null ? null : { socket, hooksDir: `${common}/baton/hooks` };
}

const exists = (p: string) => {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
};

/** The environment of the server: this one without a claim (`BATON_*` but the repository's) and without git's hook variables. */
function serverEnv(): Record<string, string> {
  const keep = new Set(["BATON_REPO"]);
  return Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) =>
      !k.startsWith("GIT_") && (!k.startsWith("BATON_") || keep.has(k))
    ),
  );
}

/**
 * Starts `baton guard serve` in the background when `hooks.server` is `auto`,
 * Baton's hooks are installed, and no guard server answers. It is an
 * optimisation: anything that goes wrong is ignored (the hooks work without it).
 * @param engine the engine of the hook that found no server
 * @returns whether a server was started
 */
export async function offerGuardServer(engine: Engine): Promise<boolean> {
  if (engine.cfg.config.hooks.server !== "auto") return false;
  const at = places(engine.cfg.repoRoot);
  if (at === null || !exists(at.hooksDir)) return false;
  const { guardServerAnswers } = await import("../run/guard_server.ts");
  if (await guardServerAnswers(at.socket)) return false;
  try {
    const [cmd, ...args] = selfCommand();
    new Deno.Command(cmd, {
      args: [...args, "guard", "serve"],
      cwd: engine.cfg.repoRoot,
      env: serverEnv(),
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
      // Its own session: a terminal's Ctrl-C and the end of the hook leave it running.
      detached: true,
    }).spawn().unref();
    return true;
  } catch {
    return false;
  }
}

/**
 * `baton guard serve`: answers the hooks until idle for
 * `hooks.server_idle_minutes`, until another server takes the socket, until
 * Baton's hooks are uninstalled, or until SIGINT/SIGTERM.
 * @param engine the engine (open while it serves)
 * @param io where to say why it did not start
 * @param tickMs how often it looks whether to stop (default 1 s)
 * @returns 0 (also when another server already answers: nothing to do)
 */
export async function serveGuard(engine: Engine, io: Io, tickMs = 1000): Promise<number> {
  const at = places(engine.cfg.repoRoot);
  if (at === null) return 0;
  const { startGuardServer } = await import("../run/guard_server.ts");
  // The configuration this engine loaded (the text it was loaded from has not changed since: compare it now).
  const loaded = workflowFilesText(engine.cfg.repoRoot);
  const server = await startGuardServer(engine, {
    replace: false,
    kind: "baton guard serve",
    log: (l) => io.err(`baton: ${l}`),
    stale: () => workflowFilesText(engine.cfg.repoRoot) !== loaded,
  });
  if (server === null) return 0;
  const idleMs = engine.cfg.config.hooks.server_idle_minutes * 60_000;
  const signals = stopSignals((l) => io.err(`baton: ${l}`));
  let stop = false;
  signals.first.then(() => stop = true);
  try {
    while (
      !stop && !server.retired && server.owned() && exists(at.hooksDir) && Date.now() - server.lastRequestAt < idleMs
    ) {
      await Promise.race([new Promise((r) => setTimeout(r, Math.min(tickMs, idleMs))), signals.first]);
    }
  } finally {
    signals.dispose();
    await server.close();
  }
  return 0;
}
