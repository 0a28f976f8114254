/**
 * Health of an open engine's database: what it is (path, mode, schema
 * version, WAL size, ticket count) and the checks `baton doctor` runs.
 *
 * @module
 */
import { BatonError } from "../errors.ts";
import { CORRUPT_HINT } from "../storage/sqlite.ts";
import { divergedMigration, divergedText } from "../storage/migrate.ts";
import { upgradedMeanwhile } from "./database.ts";
import { latestVersion, migrations } from "./schema/mod.ts";
import type { Core } from "./core.ts";
import { orphanedDeclarations } from "./sql/coordination.ts";
import { journalMode, schemaVersion, ticketTotal } from "./sql/maintenance.ts";
import { waitingWithTarget } from "./sql/deps.ts";
import { staleLeases } from "./sql/phases.ts";
import type { HealthCheck, StorageInfo } from "./types.ts";

/** WAL size past which `doctor` warns (long readers pin it, or checkpoints fail). */
const WAL_WARN_BYTES = 64 * 1024 * 1024;

function walBytes(path: string): number {
  try {
    return Deno.statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}

/** `Engine.storageInfo`. */
export function storageInfo(core: Core): StorageInfo {
  return {
    path: core.db.path,
    journalMode: journalMode(core.db),
    schemaVersion: schemaVersion(core.db),
    schemaKnown: latestVersion,
    walBytes: walBytes(core.db.path),
    tickets: ticketTotal(core.db),
    heapBytes: core.db.heapBytes(),
    cachedStatements: core.db.cachedStatements,
    writes: core.db.writeStats(),
  };
}

/** `Engine.healthChecks`: integrity, schema, WAL size, orphaned declarations, missing dependencies, expired leases. */
export function healthChecks(core: Core, now: number): HealthCheck[] {
  const checks: HealthCheck[] = [];
  let integrity: string;
  try {
    integrity = core.db.integrityCheck();
  } catch (e) {
    integrity = e instanceof BatonError ? e.message : String(e);
  }
  checks.push({
    name: "integrity",
    ok: integrity === "ok",
    detail: integrity === "ok"
      ? "ok"
      : `database_corrupt: ${integrity.split("\n").slice(0, 3).join("; ")}${
        integrity.includes(CORRUPT_HINT) ? "" : `. ${CORRUPT_HINT}`
      }`,
  });
  const version = schemaVersion(core.db);
  const diverged = divergedMigration(core.db, migrations, version);
  checks.push({
    name: "schema",
    ok: !diverged && version <= latestVersion,
    detail: version > latestVersion
      ? upgradedMeanwhile(core.db.path, version).message
      : diverged
      ? `version ${version}, ${divergedText(diverged)}`
      : `version ${version}`,
  });
  const reserve = core.db.reserveBytes;
  checks.push({
    name: "checksums",
    ok: true,
    detail: reserve === 8
      ? "every page carries a checksum, verified on each read"
      : "off: this database was created before page checksums (a restore of a backup keeps them off)",
  });
  const wal = walBytes(core.db.path);
  checks.push({
    name: "wal",
    ok: wal < WAL_WARN_BYTES,
    detail: `${(wal / 1024 / 1024).toFixed(1)} MB${
      wal >= WAL_WARN_BYTES ? " (run 'baton sweep' and check for long readers)" : ""
    }`,
  });
  const orphaned = orphanedDeclarations(core.db);
  checks.push({
    name: "declarations",
    ok: orphaned.length === 0,
    detail: orphaned.length
      ? `${orphaned.length} declaration(s) of phases no longer held: ${
        orphaned.map((o) => `${o.pattern} (${o.agent_id})`).join(", ")
      }`
      : "no orphaned file declarations",
  });
  const missing = waitingWithTarget(core.db).filter((d) => !d.other);
  checks.push({
    name: "dependencies",
    ok: missing.length === 0,
    detail: missing.length
      ? `${missing.length} dependenc${missing.length === 1 ? "y" : "ies"} on tickets that do not exist: ${
        missing.map((d) => `${d.ticket_id} → ${d.depends_on}`).join(", ")
      }`
      : "every dependency names a ticket",
  });
  const stale = staleLeases(core.db, now).length;
  checks.push({
    name: "leases",
    ok: stale === 0,
    detail: stale ? `${stale} claim(s) past their lease (run 'baton sweep')` : "no expired leases",
  });
  return checks;
}
