import { parse } from 'csv-parse/sync';
import { newInstance, type NewInstance } from './instance-input.js';

export interface CsvProblem {
  line: number;
  message: string;
}

export interface InstanceCsv {
  instances: (NewInstance & { line: number })[];
  problems: CsvProblem[];
}

const HEADER = /^\s*id\s*[,;]\s*token\b/i;

/**
 * `instances import`'s file: `id,token[,label]` per line, with or without a header line,
 * comma or semicolon separated. A bad row becomes a problem with its line number and never
 * stops the others; a problem never quotes the row, which holds a token.
 */
export function parseInstanceCsv(text: string): InstanceCsv {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const delimiter = (lines[0] ?? '').includes(';') && !(lines[0] ?? '').includes(',') ? ';' : ',';
  const instances: InstanceCsv['instances'] = [];
  const problems: CsvProblem[] = [];
  const seen = new Map<string, number>();
  let first = true;
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    const isHeader = first && HEADER.test(raw);
    first = false;
    if (isHeader) return;
    // One line at a time: a stray quote spoils its own line, never the rest of the file.
    let record: string[];
    try {
      record = (parse(raw, { delimiter, trim: true, relax_column_count: true }) as string[][])[0] ?? [];
    } catch {
      problems.push({ line, message: 'unreadable CSV (check its quotes)' });
      return;
    }
    const [id = '', token = '', label, ...extra] = record;
    if (extra.some((value) => value !== '')) {
      problems.push({ line, message: 'expected at most 3 columns: id,token,label' });
      return;
    }
    const parsed = newInstance.safeParse({ id, token, ...(label ? { label } : {}) });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      problems.push({ line, message: `${issue.path.join('.') || 'row'}: ${issue.message}` });
      return;
    }
    const earlier = seen.get(parsed.data.id);
    if (earlier !== undefined) {
      problems.push({ line, message: `instance ${parsed.data.id} is already on line ${earlier}` });
      return;
    }
    seen.set(parsed.data.id, line);
    instances.push({ ...parsed.data, line });
  });
  return { instances, problems };
}
