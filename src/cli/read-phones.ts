import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';

/**
 * Phones from a file: one per line, or a CSV whose header has a `phone` column (comma or
 * semicolon separated, as spreadsheets export). Blank lines and `#` comments are skipped.
 */
export async function readPhonesFile(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  const delimiter = firstLine.includes(';') ? ';' : ',';
  const records: string[][] = parse(text, {
    bom: true,
    comment: '#',
    delimiter,
    skip_empty_lines: true,
    relax_column_count: true,
    trim: true,
  });
  const [header, ...rows] = records;
  if (header === undefined) return [];
  const columns = header.map((column) => column.toLowerCase());
  if (columns.length === 1 && columns[0] !== 'phone') return records.map((record) => record[0] ?? '');
  const index = columns.indexOf('phone');
  if (index === -1) throw new Error(`${path}: CSV header has no "phone" column (found: ${columns.join(', ')})`);
  return rows.map((row) => row[index] ?? '');
}
