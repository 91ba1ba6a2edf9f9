/**
 * Statement texts and whether they may be exported, shared by the unit test of isPlannableStatement() and the test
 * that runs the same rule as SQL (plannableStatementSql) on a real server.
 */
export const PLANNABLE_CASES: ReadonlyArray<readonly [string, boolean]> = [
  ['SELECT $1', true],
  ['  (SELECT $1) UNION (SELECT $2)', true],
  ['/* app=crm */ -- line\n INSERT INTO t VALUES ($1)', true],
  ['update t set a = $1', true],
  ['DELETE FROM t', true],
  ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE', true],
  ['VALUES ($1), ($2)', true],
  ['TABLE customers', true],
  ['WITH a AS (SELECT $1) INSERT INTO t SELECT * FROM a', true],
  ["CREATE ROLE app LOGIN PASSWORD 'x'", false],
  ["ALTER ROLE app PASSWORD 'x'", false],
  ["SET app.token = 'x'", false],
  ["DO $$ BEGIN PERFORM 'x'; END $$", false],
  ['EXPLAIN ANALYZE SELECT $1', false],
  ["COPY (SELECT 'x') TO STDOUT", false],
  ["SELECT 'x' INTO TEMP t", false],
  ['WITH a AS (SELECT $1) SELECT * INTO t FROM a', false],
  ["PREPARE p AS SELECT 'x'", false],
  ["EXECUTE p('secret')", false],
  ["CALL f('secret')", false],
  ['VACUUM ANALYZE t', false],
  ["/* unterminated SELECT 'x'", false],
  ['', false],
  ["'SELECT'", false],
];
