/**
 * Migration 15: the retention policy finds old rows through indexes. Every
 * writer process checks hourly whether anything is due, and each run deletes
 * in bounded batches so as never to hold the write lock long; but finding
 * the rows scanned the idempotency keys (each holding the answer it
 * replays) and the file declarations whole. With 100,000 keys (53 MB), a
 * process's first write took ~220 ms instead of ~20, ~200 of them in a prune
 * transaction that held every other writer back and deleted nothing
 * (decision 054). An idempotent call now writes one more index page; a
 * declaration's release, one.
 */
export default {
  version: 15,
  name: "retention_indexes",
  sql: `
CREATE INDEX idempotency_created ON idempotency(created_at);
CREATE INDEX file_declarations_released ON file_declarations(released_at) WHERE released_at IS NOT NULL;
`,
};
