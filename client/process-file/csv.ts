// RFC 4180 CSV: quoted fields with "" escapes, commas and line breaks inside quotes,
// CRLF, LF or CR line ends, a leading BOM. Blank lines are skipped.

export interface CsvRecord {
  /** Line on which the record starts (1-based). */
  line: number;
  fields: string[];
}

export interface CsvProblem {
  line: number;
  column: number;
  message: string;
}

export function parseCsv(input: string): { records: CsvRecord[]; problems: CsvProblem[] } {
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const records: CsvRecord[] = [];
  const problems: CsvProblem[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let fields: string[] = [];
  let recordLine = 1;
  let pending = false;

  const newline = (): void => {
    i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1;
    line++;
    lineStart = i;
  };
  const isLineEnd = (c: string | undefined): boolean => c === '\n' || c === '\r';
  const endRecord = (): void => {
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: recordLine, fields });
    fields = [];
    pending = false;
  };

  while (i < text.length) {
    if (!pending) {
      recordLine = line;
      pending = true;
    }
    let field = '';
    if (text[i] === '"') {
      const openLine = line;
      const openColumn = i - lineStart + 1;
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i];
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        if (isLineEnd(c)) {
          field += c === '\r' && text[i + 1] === '\n' ? '\r\n' : c;
          newline();
          continue;
        }
        field += c;
        i++;
      }
      if (!closed) {
        problems.push({
          line: openLine,
          column: openColumn,
          message: 'a quoted field starts here and never closes (a missing ")',
        });
      } else if (i < text.length && text[i] !== ',' && !isLineEnd(text[i])) {
        problems.push({
          line,
          column: i - lineStart + 1,
          message: 'unexpected text after a closing quote; inside quotes write "" for a quote',
        });
        while (i < text.length && text[i] !== ',' && !isLineEnd(text[i])) field += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && !isLineEnd(text[i])) field += text[i++];
    }
    fields.push(field);
    if (i >= text.length) break;
    if (text[i] === ',') {
      i++;
      if (i >= text.length) fields.push('');
      continue;
    }
    newline();
    endRecord();
  }
  if (pending) endRecord();
  return { records, problems };
}
