import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCsv } from '../../client/process-file/csv';

const fieldsOf = (text: string) => parseCsv(text).records.map((r) => r.fields);

describe('parseCsv (RFC 4180)', () => {
  it('reads plain rows with LF, CRLF or CR line ends and a final line end or none', () => {
    const expected = [
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
    ];
    assert.deepEqual(fieldsOf('a,b\n1,2\n3,4\n'), expected);
    assert.deepEqual(fieldsOf('a,b\r\n1,2\r\n3,4'), expected);
    assert.deepEqual(fieldsOf('a,b\r1,2\r3,4\r'), expected);
  });

  it('reads quoted fields with commas, escaped quotes and line breaks', () => {
    const { records, problems } = parseCsv('id,note\n1,"a, b"\n2,"say ""hi"""\n3,"two\r\nlines"\n4,x\n');
    assert.deepEqual(problems, []);
    assert.deepEqual(
      records.map((r) => r.fields),
      [
        ['id', 'note'],
        ['1', 'a, b'],
        ['2', 'say "hi"'],
        ['3', 'two\r\nlines'],
        ['4', 'x'],
      ],
    );
    assert.deepEqual(
      records.map((r) => r.line),
      [1, 2, 3, 4, 6],
    );
  });

  it('keeps empty fields, skips blank lines, strips a BOM', () => {
    assert.deepEqual(fieldsOf('\uFEFFa,b,c\n\n1,,\n,"",3\n\n'), [
      ['a', 'b', 'c'],
      ['1', '', ''],
      ['', '', '3'],
    ]);
  });

  it('reports a quote that never closes and text after a closing quote', () => {
    assert.deepEqual(parseCsv('a,b\n1,"open\n2,3\n').problems, [
      { line: 2, column: 3, message: 'a quoted field starts here and never closes (a missing ")' },
    ]);
    const { problems } = parseCsv('a,b\n"x"y,2\n');
    assert.equal(problems[0]?.line, 2);
    assert.equal(problems[0]?.column, 4);
  });
});
