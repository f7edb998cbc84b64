// Every string exists in Dutch and English: `node --test tests-browser/i18n.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { STRINGS } from '../web/js/i18n.js';

test('Dutch and English have the same keys', () => {
  const nl = Object.keys(STRINGS.nl).sort();
  const en = Object.keys(STRINGS.en).sort();
  assert.deepEqual(nl.filter((k) => !en.includes(k)), [], 'missing in English');
  assert.deepEqual(en.filter((k) => !nl.includes(k)), [], 'missing in Dutch');
});

test('every data-i18n key in the pages and every t() key in the scripts exists', () => {
  const web = new URL('../web/', import.meta.url);
  const used = new Set();
  for (const page of ['index.html', 'moderator.html', 'screen.html']) {
    const html = readFileSync(new URL(page, web), 'utf8');
    for (const match of html.matchAll(/data-i18n="([^"]+)"/g)) used.add(match[1]);
    for (const match of html.matchAll(/data-i18n-attr="([^"]+)"/g)) {
      for (const pair of match[1].split(';')) used.add(pair.split(':')[1].trim());
    }
  }
  for (const file of readdirSync(new URL('js/', web))) {
    const source = readFileSync(new URL('js/' + file, web), 'utf8');
    for (const match of source.matchAll(/\bt\('([a-z0-9_.]+)'/g)) if (!match[1].endsWith('.')) used.add(match[1]);
    for (const match of source.matchAll(/\btn\('([a-z0-9_.]+)'/g)) { used.add(match[1] + '.one'); used.add(match[1] + '.other'); }
  }
  const missing = [...used].filter((key) => STRINGS.nl[key] === undefined);
  assert.deepEqual(missing, []);
});
