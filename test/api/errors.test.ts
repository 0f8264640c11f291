import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { normalizeBaseUrl, readConfigFromEnv } from '../../api/config';
import {
  CoastyApiError,
  ConfigError,
  ConflictError,
  ForbiddenError,
  InvalidRequestError,
  NON_RETRYABLE_ERROR_TYPES,
  NetworkError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  ServerError,
  StreamProtocolError,
  UnauthorizedError,
  UnexpectedContentTypeError,
  UnexpectedStatusError,
  UnprocessableError,
  parseRetryAfter,
  toFailureOptions,
} from '../../api/errors';
import { RunsClient } from '../../api/runs-client';
import { deadPort, json, startServer, type TestServer } from './helpers/http-server';

const KEY = 'sk_live_ThisIsTheSecretKey_123';
const RUN = { machine_id: 'm1', task: 'do it' };

function assertNoKey(error: unknown): void {
  assert.ok(error instanceof Error);
  for (const text of [
    error.message,
    String(error),
    error.stack ?? '',
    JSON.stringify(error),
    inspect(error, { depth: 5 }),
  ]) {
    assert.ok(!text.includes(KEY), `the API key leaked into: ${text.slice(0, 300)}`);
  }
}

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');
  test('delta-seconds', () => {
    assert.equal(parseRetryAfter('7', now), 7000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter(['3', '9'], now), 3000);
  });
  test('HTTP-date, relative to now, never negative', () => {
    assert.equal(parseRetryAfter('Sun, 01 Jun 2025 12:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Sun, 01 Jun 2025 11:00:00 GMT', now), 0);
  });
  test('absent or invalid', () => {
    for (const value of [undefined, null, '', 'soon', '-5', '1.5', '12abc']) {
      assert.equal(parseRetryAfter(value, now), undefined, String(value));
    }
  });
});

describe('error classes from status and body', () => {
  let server: TestServer;
  let client: RunsClient;
  const answers = new Map<string, { status: number; body: string; headers?: Record<string, string> }>();

  // Each case is routed by the machine id of the run it tries to create.
  before(async () => {
    server = await startServer((_req, res, index) => {
      const request = server.requests[index];
      const name = request ? (JSON.parse(request.body) as { machine_id: string }).machine_id : '';
      const answer = answers.get(name);
      if (!answer) return json(res, 500, { error: { type: 'test', message: `no case ${name}` } });
      res.writeHead(answer.status, {
        'content-type': 'application/json',
        'x-request-id': 'req_42',
        ...answer.headers,
      });
      res.end(answer.body);
    });
    client = new RunsClient({ baseUrl: server.url, apiKey: KEY });
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  function answer(name: string, status: number, body: unknown, headers?: Record<string, string>): void {
    answers.set(name, { status, body: typeof body === 'string' ? body : JSON.stringify(body), headers });
  }

  async function failWith(
    name: string,
    status: number,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<CoastyApiError> {
    answer(name, status, body, headers);
    const error = await client.createRun({ ...RUN, machine_id: name }).then(
      () => assert.fail(`case ${name} did not fail`),
      (caught: unknown) => caught,
    );
    assertNoKey(error);
    assert.ok(error instanceof CoastyApiError, `not a CoastyApiError: ${String(error)}`);
    return error;
  }

  const table = [
    {
      status: 400,
      Kind: InvalidRequestError,
      type: 'invalid_request',
      errorType: 'CoastyInvalidRequest',
      advice: /field "machine_id"/,
    },
    {
      status: 401,
      Kind: UnauthorizedError,
      type: 'unauthorized',
      errorType: 'CoastyUnauthorized',
      advice: /COASTY_API_KEY/,
    },
    {
      status: 403,
      Kind: ForbiddenError,
      type: 'forbidden',
      errorType: 'CoastyForbidden',
      advice: /COASTY_API_KEY/,
    },
    {
      status: 404,
      Kind: NotFoundError,
      type: 'not_found',
      errorType: 'CoastyNotFound',
      advice: /COASTY_BASE_URL/,
    },
    {
      status: 409,
      Kind: ConflictError,
      type: 'conflict',
      errorType: 'CoastyConflict',
      advice: /Idempotency-Key/,
    },
    {
      status: 413,
      Kind: PayloadTooLargeError,
      type: 'payload_too_large',
      errorType: 'CoastyPayloadTooLarge',
      advice: /Shorten/,
    },
    {
      status: 422,
      Kind: UnprocessableError,
      type: 'unprocessable',
      errorType: 'CoastyUnprocessable',
      advice: /field values/,
    },
    {
      status: 429,
      Kind: RateLimitedError,
      type: 'rate_limited',
      errorType: 'CoastyRateLimited',
      advice: /retry in 2 s/,
    },
    { status: 500, Kind: ServerError, type: 'internal', errorType: 'CoastyServerError', advice: /retry/ },
    { status: 503, Kind: ServerError, type: 'unavailable', errorType: 'CoastyServerError', advice: /retry/ },
    {
      status: 418,
      Kind: UnexpectedStatusError,
      type: 'teapot',
      errorType: 'CoastyUnexpectedStatus',
      advice: /not part of the documented API/,
    },
  ] as const;

  for (const row of table) {
    test(`${row.status} -> ${row.Kind.name}`, async () => {
      const name = `case_${row.status}`;
      const error = await failWith(
        name,
        row.status,
        {
          error: {
            type: row.type,
            message: `server says ${row.status}`,
            param: row.status === 400 ? 'machine_id' : undefined,
          },
        },
        row.status === 429 ? { 'retry-after': '2' } : undefined,
      );
      assert.ok(error instanceof row.Kind);
      assert.equal(error.status, row.status);
      assert.equal(error.type, row.type);
      assert.equal(error.errorType, row.errorType);
      assert.equal(error.name, row.Kind.name);
      assert.equal(error.retryable, row.status === 429 || row.status >= 500);
      assert.equal(error.requestId, 'req_42');
      assert.match(error.message, new RegExp(`POST /v1/runs failed with HTTP ${row.status}`));
      assert.match(error.message, new RegExp(`server says ${row.status}`));
      assert.match(error.message, row.advice);
      if (row.status === 400) assert.equal(error.param, 'machine_id');
      if (row.status === 429) assert.equal(error.retryAfterMs, 2000);
      assert.equal(NON_RETRYABLE_ERROR_TYPES.includes(error.errorType), !error.retryable);
    });
  }

  test('503 with an HTTP-date Retry-After', async () => {
    const when = new Date(Date.now() + 60_000).toUTCString();
    const error = await failWith(
      'case_503_date',
      503,
      { error: { type: 'unavailable', message: 'later' } },
      { 'retry-after': when },
    );
    assert.ok(error instanceof ServerError);
    assert.ok(
      error.retryAfterMs !== undefined && error.retryAfterMs > 55_000 && error.retryAfterMs <= 60_000,
    );
    assert.equal(toFailureOptions(error).nextRetryDelayMs, error.retryAfterMs);
    assert.equal(toFailureOptions(error).nonRetryable, false);
  });

  test('a non-JSON error body is quoted, at most about 200 characters', async () => {
    const html = `<html><body>${'Bad gateway '.repeat(100)}</body></html>`;
    const error = await failWith('case_html', 502, html, { 'content-type': 'text/html' });
    assert.ok(error instanceof ServerError);
    assert.equal(error.type, 'server_error');
    assert.match(error.message, /non-JSON body: "<html><body>Bad gateway/);
    const quoted = /"(.*)"/.exec(error.message)?.[1] ?? '';
    assert.ok(quoted.length <= 201, `quoted ${quoted.length} characters`);
  });

  test('an empty error body', async () => {
    const error = await failWith('case_empty', 401, '');
    assert.ok(error instanceof UnauthorizedError);
    assert.match(error.message, /empty body.*check COASTY_API_KEY/i);
  });

  test('the key never appears, even when the server echoes it', async () => {
    const echo = `Bearer ${KEY} is not valid (key ${KEY})`;
    for (const [name, status, body] of [
      ['echo_json', 401, { error: { type: 'unauthorized', message: echo, param: KEY } }],
      ['echo_text', 500, `oops ${echo}`],
      ['echo_ok', 200, `<p>${echo}</p>`],
    ] as const) {
      answer(name, status, body);
      const error = await client.createRun({ ...RUN, machine_id: name }).then(
        () => assert.fail('did not fail'),
        (caught: unknown) => caught,
      );
      assertNoKey(error);
      assert.match((error as Error).message, /REDACTED/);
    }
  });
});

describe('the key stays out of the client and config errors', () => {
  test('toString, JSON and inspect of a client', async () => {
    const client = new RunsClient({ baseUrl: 'http://127.0.0.1:9', apiKey: KEY });
    for (const text of [
      String(client),
      JSON.stringify(client),
      inspect(client, { showHidden: true, depth: 5 }),
      `${client}`,
    ]) {
      assert.ok(!text.includes(KEY), text);
    }
    assert.deepEqual(JSON.parse(JSON.stringify(client)), { baseUrl: 'http://127.0.0.1:9/v1' });
    await client.close();
  });

  test('fromEnv says what to set', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ COASTY_BASE_URL: 'http://h' }, /COASTY_API_KEY is not set/],
      [{ COASTY_API_KEY: KEY }, /COASTY_BASE_URL is not set/],
      [
        { COASTY_API_KEY: KEY, COASTY_BASE_URL: 'not a url' },
        /COASTY_BASE_URL is not a valid URL: "not a url"/,
      ],
      [{ COASTY_API_KEY: KEY, COASTY_BASE_URL: `x${KEY}` }, /not a valid URL/],
      [{ COASTY_API_KEY: KEY, COASTY_BASE_URL: 'ftp://h' }, /http:\/\/ or https:\/\//],
      [{ COASTY_API_KEY: KEY, COASTY_BASE_URL: `https://u:${KEY}@h/v1` }, /must not contain credentials/],
      [{ COASTY_API_KEY: `${KEY}\n`, COASTY_BASE_URL: 'http://h' }, /whitespace or control characters/],
    ];
    for (const [env, expected] of cases) {
      assert.throws(
        () => RunsClient.fromEnv(env),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.equal(error.retryable, false);
          assert.match(error.message, expected);
          assertNoKey(error);
          return true;
        },
      );
    }
  });

  test('COASTY_BASE_URL with or without /v1', () => {
    for (const [raw, expected] of [
      ['http://127.0.0.1:8080', 'http://127.0.0.1:8080/v1'],
      ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080/v1'],
      ['http://127.0.0.1:8080/v1', 'http://127.0.0.1:8080/v1'],
      ['https://api.example.com/v1/', 'https://api.example.com/v1'],
      ['https://example.com/coasty', 'https://example.com/coasty/v1'],
    ]) {
      assert.equal(normalizeBaseUrl(raw as string), expected);
    }
    assert.deepEqual(readConfigFromEnv({ COASTY_BASE_URL: 'http://h:1', COASTY_API_KEY: 'k' }), {
      baseUrl: 'http://h:1/v1',
      apiKey: 'k',
    });
  });
});

describe('classification for Temporal', () => {
  test('NON_RETRYABLE_ERROR_TYPES holds errorTypes and class names of non-retryable errors only', () => {
    for (const name of [
      'CoastyInvalidRequest',
      'InvalidRequestError',
      'CoastyUnauthorized',
      'CoastyConflict',
      'CoastyStreamProtocol',
      'CoastyConfig',
    ]) {
      assert.ok(NON_RETRYABLE_ERROR_TYPES.includes(name), name);
    }
    for (const name of [
      'CoastyRateLimited',
      'CoastyServerError',
      'CoastyNetworkError',
      'CoastyUnexpectedContentType',
      'NetworkError',
    ]) {
      assert.ok(!NON_RETRYABLE_ERROR_TYPES.includes(name), name);
    }
  });

  test('stream protocol errors: malformed is final, a wrong content type is retryable', () => {
    const malformed = new StreamProtocolError({ message: 'bad' });
    const contentType = new UnexpectedContentTypeError({ message: 'html' });
    assert.equal(malformed.retryable, false);
    assert.equal(contentType.retryable, true);
    assert.ok(contentType instanceof StreamProtocolError);
    assert.equal(contentType.errorType, 'CoastyUnexpectedContentType');
  });

  test('no answer at all is a retryable NetworkError naming the base URL', async () => {
    const port = await deadPort();
    const client = new RunsClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: KEY });
    await assert.rejects(client.getRun('run_1'), (error: unknown) => {
      assert.ok(error instanceof NetworkError);
      assert.equal(error.retryable, true);
      assert.match(
        error.message,
        /GET \/v1\/runs\/run_1 got no answer from http:\/\/127\.0\.0\.1:\d+\/v1: .*ECONNREFUSED/,
      );
      assert.match(error.message, /Check COASTY_BASE_URL/);
      assertNoKey(error);
      return true;
    });
    await client.close();
  });
});
