import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Glob, segmentRegExp } from '../../src/exporter/sources/log-glob.js';
import { makeFifo, makeTempDir, removeDir } from '../helpers/tail.js';

describe('segmentRegExp', () => {
  it.each([
    ['*.log', '0.log', true],
    ['*.log', '0.log.20261201-041200', false],
    ['*.log', '.hidden.log', false],
    ['.*.log', '.hidden.log', true],
    ['*_crm-*', 'crm_crm-api-7d9f_0f1e', true],
    ['*_crm-*', 'crm_other_0f1e', false],
    ['?.log', '1.log', true],
    ['?.log', '10.log', false],
    ['[0-9].log', '7.log', true],
    ['[!0-9].log', '7.log', false],
    ['[!0-9].log', 'x.log', true],
    ['a+b(c).log', 'a+b(c).log', true],
    ['a.log', 'aXlog', false],
    ['[ab', '[ab', true],
  ])('%s ~ %s: %s', (glob, name, want) => {
    expect(segmentRegExp(glob).test(name)).toBe(want);
  });
});

describe('Glob.match on a real tree', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('lists regular files segment by segment, sorted; not directories, FIFOs, dangling links or rotated files', async () => {
    const files = ['pods/crm_crm-a_1/crm/0.log', 'pods/crm_crm-a_1/crm/1.log', 'pods/crm_crm-b_2/crm/0.log'];
    for (const f of files) {
      await mkdir(join(dir, f, '..'), { recursive: true });
      await writeFile(join(dir, f), '');
    }
    await writeFile(join(dir, 'pods/crm_crm-a_1/crm/0.log.20261201-041200'), '');
    await mkdir(join(dir, 'pods/crm_crm-b_2/crm/dir.log'));
    await makeFifo(join(dir, 'pods/crm_crm-b_2/crm/fifo.log'));
    await symlink(join(dir, 'nowhere'), join(dir, 'pods/crm_crm-b_2/crm/dangling.log'));
    await mkdir(join(dir, 'pods/other_x_3/crm'), { recursive: true });
    await writeFile(join(dir, 'pods/other_x_3/crm/0.log'), '');
    await writeFile(join(dir, 'pods/crm_crm-c_4'), ''); // a file where a directory is expected
    const errors: Error[] = [];
    const found = await new Glob(join(dir, 'pods/*_crm-*/*/*.log')).match((e) => errors.push(e));
    expect(found).toEqual(files.map((f) => join(dir, f)));
    expect(errors).toEqual([]);
  });

  it('matches nothing (and reports nothing) when the directory does not exist', async () => {
    const errors: Error[] = [];
    expect(await new Glob(join(dir, 'missing/*/*.log')).match((e) => errors.push(e))).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('never matches rotated files, whatever the glob', async () => {
    await mkdir(join(dir, 'c'), { recursive: true });
    const names = ['0.log', '0.log.20261201-041200', '0.log.20261201-041100.gz', '0.log.20261201-041000.tmp'];
    for (const n of [...names, 'x-json.log', 'x-json.log.1', 'x-json.log.12']) await writeFile(join(dir, 'c', n), '');
    expect(await new Glob(join(dir, 'c/*')).match()).toEqual([join(dir, 'c/0.log'), join(dir, 'c/x-json.log')]);
  });

  it('a literal path is one file when it is there', async () => {
    await writeFile(join(dir, 'a.log'), '');
    expect(await new Glob(join(dir, 'a.log')).match()).toEqual([join(dir, 'a.log')]);
  });
});
