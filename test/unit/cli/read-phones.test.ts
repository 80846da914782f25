import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPhonesFile } from '../../../src/cli/read-phones.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phones-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function read(name: string, content: string): Promise<string[]> {
  const path = join(dir, name);
  await writeFile(path, content);
  return readPhonesFile(path);
}

test('one phone per line, skipping blanks and comments', async () => {
  expect(await read('a.txt', '# contacts\n5511999999999\n\n+55 11 98888-7777\r\n')).toEqual([
    '5511999999999',
    '+55 11 98888-7777',
  ]);
});

test('CSV with a phone column, quoted cells and a BOM', async () => {
  expect(await read('b.csv', '\uFEFFname,Phone\n"Silva, Ana",5511999999999\nBob,"+55 11 98888-7777"\n')).toEqual([
    '5511999999999',
    '+55 11 98888-7777',
  ]);
});

test('semicolon-separated CSV as spreadsheets export it', async () => {
  expect(await read('c.csv', 'name;phone\nAna;5511999999999\n')).toEqual(['5511999999999']);
});

test('a CSV without a phone column is an error naming the columns', async () => {
  await expect(read('d.csv', 'name,number\nAna,5511999999999\n')).rejects.toThrow(
    /no "phone" column \(found: name, number\)/,
  );
});
