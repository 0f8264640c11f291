import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IN_FLIGHT_INTERVAL_MS, inFlightIntervalOf } from '../../worker/in-flight';

test('the in-flight gauges are read every 10 s unless the plugin or COASTY_IN_FLIGHT_INTERVAL_MS says otherwise', () => {
  assert.equal(inFlightIntervalOf(undefined, {}), IN_FLIGHT_INTERVAL_MS);
  assert.equal(IN_FLIGHT_INTERVAL_MS, 10_000);
  assert.equal(inFlightIntervalOf(undefined, { COASTY_IN_FLIGHT_INTERVAL_MS: ' 500 ' }), 500);
  assert.equal(inFlightIntervalOf(2000, { COASTY_IN_FLIGHT_INTERVAL_MS: '500' }), 2000, 'the option wins');
});

test('a bad interval is refused up front, naming where it came from and the range', () => {
  for (const raw of ['0', '99', '1.5', '10s', '-1', '3600001']) {
    assert.throws(
      () => inFlightIntervalOf(undefined, { COASTY_IN_FLIGHT_INTERVAL_MS: raw }),
      new RegExp(
        `^Error: COASTY_IN_FLIGHT_INTERVAL_MS must be a whole number of milliseconds from 100 to 3600000 \\(an hour\\), got "${raw.replace('.', '\\.')}"$`,
      ),
    );
  }
  assert.throws(() => inFlightIntervalOf(50, {}), /^Error: inFlightMetrics\.intervalMs must be .* got "50"$/);
});
