import { describe, expect, it } from 'vitest';
import { isPlannableStatement, redactStatement, statementLabel } from '../../src/exporter/parsers/statement-text.js';
import { PLANNABLE_CASES } from '../helpers/statement-cases.js';

describe('redactStatement', () => {
  it.each([
    // already normalised by pg_stat_statements: unchanged
    ['SELECT id FROM customers WHERE email = $1 LIMIT $2', 'SELECT id FROM customers WHERE email = $1 LIMIT $2'],
    ['SELECT a$b, t1.c2 FROM "T 1" t1', 'SELECT a$b, t1.c2 FROM "T 1" t1'],
    // string literals of every kind
    ["CREATE ROLE app LOGIN PASSWORD 'hunter2'", 'CREATE ROLE app LOGIN PASSWORD ?'],
    ["ALTER ROLE app PASSWORD 'it''s-a-secret' VALID UNTIL 'infinity'", 'ALTER ROLE app PASSWORD ? VALID UNTIL ?'],
    ["ALTER USER app WITH ENCRYPTED PASSWORD E'sec\\'ret\\\\' LOGIN", 'ALTER USER app WITH ENCRYPTED PASSWORD ? LOGIN'],
    ["alter role app password e'x''y'", 'alter role app password ?'],
    ["SELECT U&'d\\0061t\\+000061', B'1010', X'1F', N'nat'", 'SELECT ?, ?, ?, ?'],
    ['ALTER ROLE app PASSWORD $$hunter2$$', 'ALTER ROLE app PASSWORD ?'],
    ['ALTER ROLE app PASSWORD $pw$a $$ b$pw$ LOGIN', 'ALTER ROLE app PASSWORD ? LOGIN'],
    ["DO $body$ BEGIN PERFORM set_config('x', 'token', false); END $body$", 'DO ?'],
    // numbers, not parameters or identifiers
    ['SELECT 42, 3.14, .5, 1e10, 0x1F, 1_000 FROM t2 WHERE a = $12', 'SELECT ?, ?, ?, ?, ?, ? FROM t2 WHERE a = $12'],
    // comments go, including nested ones and those holding quotes
    ["SELECT 1 -- password 'x'\nFROM t", 'SELECT ?  \nFROM t'],
    ['/* key=abc /* nested */ still */SELECT $1', ' SELECT $1'],
    // quoted identifiers are kept, even holding a quote or a doubled double quote
    [`SELECT "it's" FROM "a""b" WHERE c = 'x'`, `SELECT "it's" FROM "a""b" WHERE c = ?`],
    // cut texts: an unterminated literal, comment or dollar quote hides everything after it
    ["ALTER ROLE app PASSWORD 'hunt", 'ALTER ROLE app PASSWORD ?'],
    ['SELECT $1 /* sec', 'SELECT $1  '],
    ['ALTER ROLE app PASSWORD $q$hunt', 'ALTER ROLE app PASSWORD ?'],
    // a backslash in a plain literal may be an escape (standard_conforming_strings = off): hidden to the end
    ["SELECT 'a\\' , 'secret' FROM t", 'SELECT ?'],
    ["SELECT 'a\\'' secret'", 'SELECT ?'],
  ])('%j -> %j', (text, expected) => {
    expect(redactStatement(text)).toBe(expected);
  });

  it('leaves no character of any literal, whatever it holds', () => {
    const secret = `p@ss/w:rd?#%2F"\\$$'`;
    for (const text of [
      `ALTER ROLE a PASSWORD '${secret.replace(/'/g, "''")}'`,
      `ALTER ROLE a PASSWORD E'${secret.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`,
      `ALTER ROLE a PASSWORD $z$${secret}$z$`,
    ]) {
      expect(redactStatement(text)).toBe('ALTER ROLE a PASSWORD ?');
    }
  });
});

describe('isPlannableStatement', () => {
  it.each(PLANNABLE_CASES)('%j -> %s', (text, expected) => {
    expect(isPlannableStatement(text)).toBe(expected);
  });
});

describe('statementLabel', () => {
  it.each([
    ['SELECT  $1', 200, 'SELECT $1'],
    ['\n  SELECT *\n\tFROM t\r\n WHERE a = $1  ', 200, 'SELECT * FROM t WHERE a = $1'],
    ['SELECT 1234567890, $1', 10, 'SELECT ?, '],
    ['SELECT "héllo wörld"', 13, 'SELECT "héllo'],
    ['SELECT "😀😀😀"', 10, 'SELECT "😀😀'],
    ["SELECT $1 -- note\nFROM t WHERE b = 'x'", 200, 'SELECT $1 FROM t WHERE b = ?'],
  ])('statementLabel(%j, %i) = %j', (text, max, expected) => {
    expect(statementLabel(text, max)).toBe(expected);
  });

  it('is undefined for statements that must not be exported', () => {
    expect(statementLabel("CREATE ROLE app PASSWORD 'hunter2'", 200)).toBeUndefined();
  });
});
