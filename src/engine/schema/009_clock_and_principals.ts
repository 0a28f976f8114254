/**
 * Migration 9: one clock for every process, and agents that belong to whoever
 * registered them.
 *
 * `clock` keeps the latest time any transaction used and which engine wrote
 * it: time never goes back for anyone (a process whose clock is a day behind
 * claims with the database's time), and a process may judge a lease expired
 * by its own clock only as far as it has watched the time pass itself (see
 * `engine/clock.ts`). `agents.principal` is the token holder (or session)
 * that registered the agent: nobody else may act as it without its claim
 * token.
 */
export default {
  version: 9,
  name: "clock_and_principals",
  sql: `
CREATE TABLE clock (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  now    INTEGER NOT NULL,
  writer TEXT NOT NULL
) STRICT;
INSERT INTO clock (id, now, writer) VALUES (1, 0, '');
ALTER TABLE agents ADD COLUMN principal TEXT;
`,
};
