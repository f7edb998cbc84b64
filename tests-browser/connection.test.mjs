// The reconnect delay of web/js/connection.js in Node: `node --test tests-browser/connection.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryDelay, splitEvents } from '../web/js/connection.js';

test('the reconnect delay is full jitter up to base times two to the attempt, at least 250 ms, capped', () => {
  assert.equal(retryDelay(0, 500, 20000, undefined, 0), 250);
  assert.equal(retryDelay(0, 500, 20000, undefined, 0.999), 500);
  assert.equal(retryDelay(3, 500, 20000, undefined, 0.5), 2000);
  assert.equal(retryDelay(10, 500, 20000, undefined, 0.5), 10000);
});

test('a join refused with retry_after_ms waits that long plus at most a quarter of jitter', () => {
  assert.equal(retryDelay(0, 500, 20000, 4000, 0), 4000);
  assert.equal(retryDelay(0, 500, 20000, 4000, 0.999), 4999);
  // Longer than the backoff would be: the server knows when its bucket has a token.
  assert.ok(retryDelay(0, 500, 20000, 60000, 0.5) > 60000);
  // A value that is not a positive number is ignored.
  assert.equal(retryDelay(0, 500, 20000, Number.NaN, 0.999), 500);
  assert.equal(retryDelay(0, 500, 20000, 0, 0.999), 500);
});

test('one message splits into its events, bad lines reported', () => {
  const bad = [];
  const events = splitEvents('{"type":"ack","ref":"1"}\n\nnot json\n{"x":1}\n{"type":"presence","present":3}', (line) => bad.push(line));
  assert.deepEqual(events.map((event) => event.type), ['ack', 'presence']);
  assert.deepEqual(bad, ['not json', '{"x":1}']);
});
