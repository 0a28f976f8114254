/**
 * The example workflow Baton ships (`.workflow.example/`): what `baton init`
 * copies and the demo runs on. Read from beside this module: on disk in a
 * checkout, inside a compiled binary, or over the network from JSR.
 *
 * @module
 */
import { BatonError } from "../errors.ts";

const EXAMPLE = new URL("../../.workflow.example/", import.meta.url);

/**
 * One file of the shipped example.
 * @param name its path inside `.workflow.example/`
 * @returns its text
 * @throws {BatonError} `internal` when it cannot be read
 * @example
 * ```ts
 * import { readShippedExample } from "./example.ts";
 * const phases = await readShippedExample("phases.yaml");
 * if (!phases.includes("phases:")) throw new Error("the example workflow");
 * ```
 */
export async function readShippedExample(name: string): Promise<string> {
  const url = new URL(name, EXAMPLE);
  if (url.protocol === "file:") return await Deno.readTextFile(url);
  const res = await fetch(url);
  if (!res.ok) throw new BatonError("internal", `Cannot read the example file ${name}: HTTP ${res.status}`);
  return await res.text();
}
