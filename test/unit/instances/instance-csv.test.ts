import { parseInstanceCsv } from '../../../src/instances/instance-csv.js';

describe('parseInstanceCsv', () => {
  test('reads id,token[,label] with or without a header, comma or semicolon', () => {
    expect(parseInstanceCsv('id,token,label\r\nA1,tok-a,Shop A\r\nB2,tok-b\r\n')).toEqual({
      instances: [
        { id: 'A1', token: 'tok-a', label: 'Shop A', line: 2 },
        { id: 'B2', token: 'tok-b', line: 3 },
      ],
      problems: [],
    });
    expect(parseInstanceCsv('\uFEFFA1;tok-a;"Shop; A"\n').instances).toEqual([
      { id: 'A1', token: 'tok-a', label: 'Shop; A', line: 1 },
    ]);
    expect(parseInstanceCsv('A1,tok-a,"Shop, A"\n# a comment\n\nB2,tok-b\n').instances.map((row) => row.line)).toEqual([
      1, 4,
    ]);
  });

  test('a bad row is reported with its line number and the others still go in, without quoting a token', () => {
    const { instances, problems } = parseInstanceCsv(
      [
        'id,token,label',
        'A1,tok-a',
        'bad id,secret-tok-1',
        'A1,secret-tok-2',
        '"C3,secret-tok-3',
        'D4,',
        'E5,secret-tok-5,label,extra',
        'F6,tok-f,Shop F',
      ].join('\n'),
    );
    expect(instances.map((row) => [row.id, row.line])).toEqual([
      ['A1', 2],
      ['F6', 8],
    ]);
    expect(problems.map((problem) => problem.line)).toEqual([3, 4, 5, 6, 7]);
    expect(problems[1]!.message).toBe('instance A1 is already on line 2');
    expect(JSON.stringify(problems)).not.toMatch(/secret-tok/);
  });
});
