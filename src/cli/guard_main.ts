/**
 * `baton guard …` started by `cli.ts` without the command table or the
 * markdown write-back: a commit waits for this process, so it loads the
 * engine and nothing else (see `bench/hooks.ts`).
 *
 * @module
 */
import { BatonError, treatmentOf } from "../errors.ts";
import { commandHelp, type Io, parseCommand } from "./command.ts";
import { GUARD, guardRequest } from "./commands/hooks.ts";
import { runGuard } from "./guard.ts";

const stdio: Io = { out: (l) => console.log(l), err: (l) => console.error(l) };

/**
 * Runs `baton guard ARGS…`.
 * @param args the arguments after `guard`
 * @param io where to print
 * @returns the exit code
 */
export async function guardMain(args: string[], io: Io = stdio): Promise<number> {
  try {
    const { values, positionals } = parseCommand(GUARD, args);
    if (values.help) {
      io.out(commandHelp([GUARD]));
      return 0;
    }
    const repo = (values.repo as string | undefined) ?? Deno.cwd();
    return await runGuard(guardRequest(positionals, values), Deno.cwd(), async (fn) => {
      const { openEngineWithoutWriteBackLate } = await import("../open/late.ts");
      const e = await openEngineWithoutWriteBackLate(repo);
      try {
        return (await fn(e)) ?? 0;
      } finally {
        e.close();
      }
    }, io);
  } catch (e) {
    io.err(`baton: error: ${e instanceof Error ? e.message : String(e)}`);
    return e instanceof BatonError ? treatmentOf(e).exit : 1;
  }
}
