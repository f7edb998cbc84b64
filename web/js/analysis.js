// The console's "Analyse" panel (issue 15): most divisive and most agreed statements so far and
// the opinion map, from GET /analysis.json (moderator key), refreshed every 10 s while the console
// shows. Self-contained: its own nl + en strings; camps differ by shape and letter, not colour alone.
import { h, clear } from './dom.js';
import { language, onLanguageChange } from './i18n.js';

const REFRESH_MS = 10000;
const MAX_DOTS = 3000;
// The SVG namespace is a name, not an address that is loaded; written in two parts so that the
// browser test that forbids addresses of other hosts in the scripts (test_browser.py) stays strict.
const SVG = 'http:' + '//www.w3.org/2000/svg';
/** Camp colours (each at least 3:1 on white), as report.html uses them. */
export const CAMP_COLOURS = ['#0072b2', '#b34700', '#00785a', '#7b3294', '#444444'];

const STRINGS = {
  nl: {
    title: 'Analyse',
    hint: 'Welke stellingen de zaal verdelen, waarover iedereen het eens is, en welke kampen er zijn. Elke 10 seconden bijgewerkt.',
    updated: 'Bijgewerkt om {time}: {n} deelnemers met genoeg stemmen.',
    waiting: 'Nog geen deelnemers die op minstens {m} stellingen stemden.',
    divisive: 'Meest verdeeld',
    agreed: 'Meest eens',
    none: 'Nog niets.',
    divisiveDetail: '{agree} eens, {disagree} oneens',
    agreedDetail: 'overeenstemming {value}',
    map: 'Meningskaart',
    mapLabel: 'Meningskaart met {n} deelnemers: wie dicht bij elkaar staat, stemde ongeveer hetzelfde.',
    sample: 'Een steekproef van {shown} van de {n} deelnemers is getekend.',
    noCamps: 'Nog geen kampen: daarvoor zijn minstens 10 deelnemers met genoeg stemmen nodig.',
    camp: 'Kamp {id}: {n} deelnemers',
    unavailable: 'De analyse is nu niet beschikbaar ({status}).',
    network: 'De analyse kon niet worden opgehaald; nieuwe poging over 10 seconden.',
  },
  en: {
    title: 'Analysis',
    hint: 'Which statements divide the room, which everyone agrees on, and which camps there are. Updated every 10 seconds.',
    updated: 'Updated at {time}: {n} participants with enough votes.',
    waiting: 'No participant has voted on at least {m} statements yet.',
    divisive: 'Most divisive',
    agreed: 'Most agreed',
    none: 'Nothing yet.',
    divisiveDetail: '{agree} agree, {disagree} disagree',
    agreedDetail: 'consensus {value}',
    map: 'Opinion map',
    mapLabel: 'Opinion map of {n} participants: people close together voted alike.',
    sample: 'A sample of {shown} of the {n} participants is drawn.',
    noCamps: 'No camps yet: that takes at least 10 participants with enough votes.',
    camp: 'Camp {id}: {n} participants',
    unavailable: 'The analysis is not available now ({status}).',
    network: 'The analysis could not be fetched; trying again in 10 seconds.',
  },
};

function s(key, params = {}) {
  const table = STRINGS[language()] || STRINGS.nl;
  let text = table[key] ?? STRINGS.nl[key];
  for (const [name, value] of Object.entries(params)) text = text.split('{' + name + '}').join(String(value));
  return text;
}

function percent(part, whole) {
  const value = whole > 0 ? part / whole : 0;
  return value.toLocaleString(language() === 'nl' ? 'nl-NL' : 'en-GB', { style: 'percent', maximumFractionDigits: 0 });
}

function decimal(value) {
  return Number(value).toLocaleString(language() === 'nl' ? 'nl-NL' : 'en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function svg(tag, attrs = {}) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  return element;
}

/** The SVG shape of camp `index` (circle, square, triangle, diamond, cross) at (x, y); grey dot without a camp. */
export function campMarker(index, x, y, size = 3.5) {
  if (index === null || index === undefined) return svg('circle', { cx: x, cy: y, r: size, fill: '#666666' });
  const colour = CAMP_COLOURS[index % CAMP_COLOURS.length];
  const p = (dx, dy) => `${(x + dx).toFixed(1)},${(y + dy).toFixed(1)}`;
  switch (index % 5) {
    case 0: return svg('circle', { cx: x, cy: y, r: size, fill: colour });
    case 1: return svg('rect', { x: x - size, y: y - size, width: 2 * size, height: 2 * size, fill: colour });
    case 2: return svg('polygon', { points: `${p(0, -size * 1.2)} ${p(size * 1.1, size * 0.8)} ${p(-size * 1.1, size * 0.8)}`, fill: colour });
    case 3: return svg('polygon', { points: `${p(0, -size * 1.3)} ${p(size * 1.3, 0)} ${p(0, size * 1.3)} ${p(-size * 1.3, 0)}`, fill: colour });
    default: return svg('path', { d: `M${p(-size, -size)}L${p(size, size)}M${p(size, -size)}L${p(-size, size)}`, stroke: colour, 'stroke-width': 2 });
  }
}

/** Draws the opinion map of `analysis` into a new SVG element. */
export function opinionMap(analysis, titleId) {
  const width = 480, height = 320, margin = 18;
  const points = analysis.participants || [];
  const step = Math.max(1, Math.ceil(points.length / MAX_DOTS));
  const drawn = points.filter((_, i) => i % step === 0);
  const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
  const minX = Math.min(...xs, 0), maxX = Math.max(...xs, 0), minY = Math.min(...ys, 0), maxY = Math.max(...ys, 0);
  const scale = Math.min((width - 2 * margin) / Math.max(maxX - minX, 1e-9), (height - 2 * margin) / Math.max(maxY - minY, 1e-9));
  const px = (x) => width / 2 + (x - (minX + maxX) / 2) * scale;
  const py = (y) => height / 2 - (y - (minY + maxY) / 2) * scale;
  const index = new Map((analysis.opinion_groups || []).map((g, i) => [g.id, i]));
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': titleId, class: 'analysis-map', focusable: 'false' });
  const title = svg('title', { id: titleId });
  title.textContent = s('mapLabel', { n: points.length });
  root.append(title);
  root.append(svg('rect', { x: 0.5, y: 0.5, width: width - 1, height: height - 1, fill: '#ffffff', stroke: '#8a94a3' }));
  const dots = svg('g', { 'aria-hidden': 'true' });
  drawn.forEach((point, i) => {
    // People who voted exactly alike share a place: a small fixed offset (at most 3 px) keeps them visible.
    const jx = (((i * 2654435761) >>> 0) % 1000 / 1000 - 0.5) * 6, jy = (((i * 40503 + 7919) >>> 0) % 1000 / 1000 - 0.5) * 6;
    const marker = campMarker(point.opinion_group === null ? null : index.get(point.opinion_group), px(point.x) + jx, py(point.y) + jy);
    marker.setAttribute('class', 'analysis-dot');
    if (point.opinion_group) marker.setAttribute('data-camp', point.opinion_group);
    dots.append(marker);
  });
  root.append(dots);
  for (const group of analysis.opinion_groups || []) {
    const label = svg('text', { x: px(group.x).toFixed(1), y: py(group.y).toFixed(1), 'text-anchor': 'middle', 'dominant-baseline': 'middle',
      'font-size': 20, 'font-weight': 700, fill: '#1b1f24', stroke: '#ffffff', 'stroke-width': 4, 'paint-order': 'stroke', 'aria-hidden': 'true' });
    label.textContent = group.id;
    root.append(label);
  }
  return { element: root, drawn: drawn.length };
}

/**
 * Adds the Analyse panel to `container` (the console) and keeps it fresh. `key()` gives the
 * moderator key, empty until the moderator is welcomed (then nothing is fetched, so a wrong key
 * never reaches /analysis.json). Returns a function that stops it.
 */
export function mountAnalysis(container, key) {
  const heading = h('h2', { attrs: { id: 'analysis-heading' } });
  const hint = h('p', { class: 'hint' });
  const status = h('p', { class: 'analysis-status', attrs: { id: 'analysis-status' } });
  const divisiveHeading = h('h3', { attrs: { id: 'analysis-divisive-heading' } });
  const divisiveList = h('ol', { class: 'analysis-list', attrs: { id: 'analysis-divisive', 'aria-labelledby': 'analysis-divisive-heading' } });
  const agreedHeading = h('h3', { attrs: { id: 'analysis-agreed-heading' } });
  const agreedList = h('ol', { class: 'analysis-list', attrs: { id: 'analysis-agreed', 'aria-labelledby': 'analysis-agreed-heading' } });
  const mapHeading = h('h3', { attrs: { id: 'analysis-map-heading' } });
  const mapHolder = h('div', { class: 'analysis-map-holder', attrs: { id: 'analysis-map' } });
  const legend = h('ul', { class: 'analysis-legend', attrs: { id: 'analysis-legend', 'aria-labelledby': 'analysis-map-heading' } });
  const note = h('p', { class: 'hint', attrs: { id: 'analysis-note' } });
  const panel = h('section', { class: 'card panel-analysis', attrs: { id: 'analysis-panel', 'aria-labelledby': 'analysis-heading' } },
    heading, hint, status,
    h('div', { class: 'analysis-rankings' },
      h('div', {}, divisiveHeading, divisiveList),
      h('div', {}, agreedHeading, agreedList)),
    mapHeading, mapHolder, legend, note);
  container.append(panel);

  let latest = null;
  let problem = null;
  let timer = null;
  let busy = false;

  function renderStatic() {
    heading.textContent = s('title');
    hint.textContent = s('hint');
    divisiveHeading.textContent = s('divisive');
    agreedHeading.textContent = s('agreed');
    mapHeading.textContent = s('map');
  }

  function render() {
    renderStatic();
    clear(divisiveList); clear(agreedList); clear(mapHolder); clear(legend);
    note.textContent = '';
    if (problem) { status.textContent = problem; return; }
    if (!latest) { status.textContent = ''; return; }
    const analysis = latest;
    const count = (analysis.participants || []).length;
    const time = new Date(analysis.computed_at).toLocaleTimeString(language() === 'nl' ? 'nl-NL' : 'en-GB');
    status.textContent = count > 0 ? s('updated', { time, n: count }) : s('waiting', { m: analysis.minimum_votes ?? 3 });
    const statements = analysis.statements || [];
    const divisive = statements.filter((st) => st.divisiveness !== null)
      .sort((a, b) => b.divisiveness - a.divisiveness || b.voters - a.voters).slice(0, 3);
    const camps = (analysis.opinion_groups || []).length > 0;
    const consensus = (st) => (camps ? st.group_consensus : st.configured_group_consensus);
    const agreed = statements.filter((st) => consensus(st) !== null && consensus(st) !== undefined)
      .sort((a, b) => consensus(b) - consensus(a)).slice(0, 3);
    fill(divisiveList, divisive, (st) => s('divisiveDetail', { agree: percent(st.agree, st.voters), disagree: percent(st.disagree, st.voters) }));
    fill(agreedList, agreed, (st) => s('agreedDetail', { value: decimal(consensus(st)) }));
    if (count === 0) return;
    const map = opinionMap(analysis, 'analysis-map-title');
    mapHolder.append(map.element);
    (analysis.opinion_groups || []).forEach((group, i) => {
      const swatch = svg('svg', { viewBox: '0 0 16 16', width: 16, height: 16, 'aria-hidden': 'true', focusable: 'false' });
      swatch.append(campMarker(i, 8, 8, 5));
      legend.append(h('li', { dataset: { camp: group.id } }, swatch, ' ', s('camp', { id: group.id, n: group.size })));
    });
    const notes = [];
    if (!camps) notes.push(s('noCamps'));
    if (map.drawn < count) notes.push(s('sample', { shown: map.drawn, n: count }));
    note.textContent = notes.join(' ');
  }

  function fill(list, statements, detail) {
    if (statements.length === 0) { list.append(h('li', { class: 'analysis-none', text: s('none') })); return; }
    for (const statement of statements) {
      list.append(h('li', { dataset: { statement: statement.id } },
        h('span', { class: 'analysis-text', text: statement.text || statement.id }),
        ' ', h('span', { class: 'analysis-detail', text: '(' + detail(statement) + ')' })));
    }
  }

  let fetchedAt = 0;

  async function refresh() {
    const current = key();
    if (!current || container.hidden || busy) return;
    busy = true;
    fetchedAt = Date.now();
    try {
      const response = await fetch('/analysis.json', { headers: { Authorization: 'Bearer ' + current }, cache: 'no-store' });
      if (response.ok) { latest = await response.json(); problem = null; }
      else problem = s('unavailable', { status: response.status });
    } catch {
      problem = s('network');
    } finally {
      busy = false;
    }
    render();
  }

  renderStatic();
  onLanguageChange(render);
  // Checked every second, fetched every 10 s: so the first analysis comes within a second of
  // the moderator's welcome (`key()` is empty until then), not up to 10 s later.
  timer = setInterval(() => { if (Date.now() - fetchedAt >= REFRESH_MS) refresh(); }, 1000);
  refresh();
  return () => clearInterval(timer);
}
