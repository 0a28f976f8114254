/**
 * Tool input and output schemas (valibot), turned into the Standard Schema +
 * JSON Schema objects the MCP SDK validates with and lists in `tools/list`.
 *
 * Inputs are strict objects (an unknown or misspelt argument is refused rather
 * than silently ignored: `phaseId` instead of `phase_id` must not fall back
 * to the session's phase). Outputs name the fields a model relies on and allow
 * more. Everything is kept small: the whole `tools/list` answer is measured
 * by the tests.
 *
 * @module
 */
import * as v from "valibot";
import { toStandardJsonSchema } from "@valibot/to-json-schema";
import type { StandardSchemaWithJSON } from "@modelcontextprotocol/server";

type Json = Record<string, unknown>;
const isObj = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);

/**
 * Makes a generated JSON Schema smaller without changing what it accepts
 * (except `required` below the root of an output schema, see {@link schema}):
 * no `$schema`, no empty `required`/`properties`, no `propertyNames: string`
 * (always true in JSON), no empty `additionalProperties`.
 */
function compact(node: Json, depth: number, io: "input" | "output"): Json {
  const out: Json = {};
  for (const [k, val] of Object.entries(node)) {
    if (k === "$schema") continue;
    if (k === "required" && Array.isArray(val) && (val.length === 0 || (io === "output" && depth > 0))) continue;
    if (k === "properties" && isObj(val)) {
      if (Object.keys(val).length === 0) continue;
      out[k] = Object.fromEntries(Object.entries(val).map(([n, s]) => [n, isObj(s) ? compact(s, depth + 1, io) : s]));
      continue;
    }
    if (k === "propertyNames" && isObj(val) && val.type === "string" && Object.keys(val).length === 1) continue;
    if (k === "additionalProperties" && isObj(val) && Object.keys(val).length === 0) continue;
    if ((k === "items" || k === "additionalProperties") && isObj(val)) {
      out[k] = compact(val, depth + 1, io);
      continue;
    }
    // Nullable values stay `anyOf: [{type: X}, {type: "null"}]`: some clients mis-read `type: [X, "null"]`.
    if (k === "anyOf" && Array.isArray(val)) {
      out[k] = val.map((s) => (isObj(s) ? compact(s, depth + 1, io) : s));
      continue;
    }
    out[k] = val;
  }
  return out;
}

/**
 * Wraps a valibot schema for the SDK, with a compact JSON Schema (the whole
 * `tools/list` answer is sent to every model on every session). Output
 * schemas list `required` at their root only: the server validates every
 * result against the full valibot schema anyway.
 *
 * @param s the valibot schema
 * @returns the Standard Schema with JSON Schema conversion
 */
export function schema<S extends v.GenericSchema>(s: S): StandardSchemaWithJSON<v.InferInput<S>, v.InferOutput<S>> {
  const std = toStandardJsonSchema(s)["~standard"];
  return {
    "~standard": {
      ...std,
      jsonSchema: {
        input: (o: { target: string }) => compact(std.jsonSchema.input(o), 0, "input"),
        output: (o: { target: string }) => compact(std.jsonSchema.output(o), 0, "output"),
      },
    },
  } as StandardSchemaWithJSON<v.InferInput<S>, v.InferOutput<S>>;
}

const d = v.description;
const id: v.GenericSchema<number> = v.pipe(v.number(), v.integer(), v.minValue(1));
const text: v.GenericSchema<string> = v.pipe(v.string(), v.minLength(1));

// ---------------------------------------------------------------------------
// Inputs: pieces shared by several tools

/** `agent_id`: optional, the session's agent by default. */
export const agentArg = v.optional(v.pipe(text, d("default: this session's agent")));
/** `phase_id`: optional, the session's claimed phase by default. */
export const phaseArg = v.optional(v.pipe(id, d("default: the phase you claimed")));
/** `token`: optional, the remembered claim token by default. */
export const tokenArg = v.optional(v.pipe(text, d("only if the server lost your claim")));
/** A list of repository-relative paths or globs. */
export const pathsArg = v.pipe(v.array(text), v.minLength(1), v.maxLength(500), d("repo-relative paths or globs"));
/** A list of artifact paths. */
export const artifactsArg = v.optional(v.pipe(v.array(text), v.maxLength(500), d("paths you produced")));
/** Agent types. */
export const capabilitiesArg = v.pipe(v.array(text), v.minLength(1), v.maxLength(50));
/** `since`: a duration back from now or a date. */
export const sinceArg = v.optional(v.pipe(text, d("e.g. 2h, 3d, 30m, or an ISO date")));

/** The arguments of the tools acting on a held phase. */
export const heldArgs = { phase_id: phaseArg, agent_id: agentArg, token: tokenArg };

// ---------------------------------------------------------------------------
// Outputs

/** An object whose fields the tool's description and text tell (nested objects are not spelt out, to keep `tools/list` small). */
export const Obj = v.looseObject({});
/** A phase (the engine's `Phase`: id, ticketId, name, status, …; dates as ISO strings). */
export const PhaseOut = Obj;
/** A gate (id, phaseId, ticketId, kind, status, …). */
export const GateOut = Obj;
/** Overlaps with other agents' declarations ({pattern, otherPattern, phaseId, ticketId, phase, agentId}). */
export const OverlapsOut = v.array(Obj);
/** What to do next, for the model. */
export const next = v.string();

/** The structured content of every error result. */
export const ErrorOut = v.looseObject({ code: v.string(), message: v.string() });
