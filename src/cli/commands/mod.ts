/**
 * Every `baton` command, in the order `baton --help` lists them.
 *
 * @module
 */
import type { Command } from "../command.ts";
import { DECIDING } from "./deciding.ts";
import { HEALTH } from "./health.ts";
import { HOOKS } from "./hooks.ts";
import { MERGING } from "./merging.ts";
import { LOOKING } from "./looking.ts";
import { RUNNING } from "./running.ts";
import { SETUP } from "./setup.ts";
import { WORKING } from "./working.ts";

/** The command table. */
export const COMMANDS: readonly Command[] = [
  ...SETUP,
  ...LOOKING,
  ...DECIDING,
  ...WORKING,
  ...RUNNING,
  ...MERGING,
  ...HOOKS,
  ...HEALTH,
];
