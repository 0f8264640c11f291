export { loadProcessFile, parseProcessText, type ParseOptions } from './load';
export { ProcessFileError, formatIssue, type ProcessFileIssue } from './errors';
export { processJsonSchema } from './schema';
export { parseCsv, type CsvRecord, type CsvProblem } from './csv';
export { parseDuration } from './duration';
export type { GivenInputs } from './inputs';
