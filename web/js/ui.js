// Pieces of interface the three pages share: the connection indicator, result bars,
// the announcement banner and error texts.
import { h, clear, clockTime } from './dom.js';
import { t, tn, formatPercent, formatNumber, onLanguageChange, applyStatic, bindLanguageToggle } from './i18n.js';
import { turnout } from './session.js';

export const CHOICES = ['agree', 'disagree', 'pass'];

/**
 * Shows the connection state in `element` (a role=status pill) and offers `retryButton`
 * while waiting to reconnect. Returns the onState callback for Connection.
 */
export function connectionIndicator(element, retryButton, getConnection) {
  let state = 'connecting';
  let info = {};
  let ticker = null;
  // The label is a polite status; the ticking countdown sits outside it, hidden from
  // screen readers, so they hear a change of state and not every second.
  const label = element.querySelector('.conn-label') || element;
  let countdown = element.parentElement.querySelector('.conn-countdown');
  if (!countdown) {
    countdown = h('span', { class: 'conn-countdown', attrs: { 'aria-hidden': 'true' } });
    element.after(countdown);
  }
  const render = () => {
    element.dataset.state = state;
    label.textContent = t('conn.' + (state === 'idle' ? 'connecting' : state));
    if (state === 'waiting') {
      const seconds = Math.max(1, Math.ceil((info.retryAt - Date.now()) / 1000));
      countdown.textContent = t('conn.countdown', { s: seconds });
      countdown.hidden = false;
    } else {
      countdown.textContent = '';
      countdown.hidden = true;
    }
    if (retryButton) retryButton.hidden = !(state === 'waiting' || state === 'stopped');
  };
  if (retryButton) {
    retryButton.addEventListener('click', () => {
      const connection = getConnection();
      if (connection) connection.retryNow();
    });
  }
  onLanguageChange(render);
  render();
  return (newState, newInfo = {}) => {
    state = newState;
    info = newInfo;
    clearInterval(ticker);
    ticker = null;
    if (state === 'waiting') ticker = setInterval(render, 1000);
    render();
  };
}

/**
 * Draws (or updates in place, so the widths animate) the three result bars of `tally`
 * in `container`. Percentages are of the voters.
 */
export function renderBars(container, tally, { counts = true } = {}) {
  const voters = tally ? tally.voters || 0 : 0;
  if (!container.dataset.built) {
    clear(container);
    for (const choice of CHOICES) {
      const fill = h('span', { class: 'bar-fill' });
      const row = h('div', { class: 'bar-row', dataset: { choice } },
        h('span', { class: 'bar-label' }),
        h('span', { class: 'bar-track', attrs: { 'aria-hidden': 'true' } }, fill),
        h('span', { class: 'bar-value' }));
      container.append(row);
    }
    container.dataset.built = '1';
    container.setAttribute('role', 'list');
    for (const row of container.children) row.setAttribute('role', 'listitem');
  }
  for (const row of container.children) {
    const choice = row.dataset.choice;
    const n = tally ? tally[choice] || 0 : 0;
    const pct = formatPercent(n, voters);
    row.querySelector('.bar-label').textContent = t('choice.' + choice);
    row.querySelector('.bar-value').textContent = counts ? pct + ' (' + formatNumber(n) + ')' : pct;
    row.querySelector('.bar-fill').style.width = (voters > 0 ? (100 * n) / voters : 0).toFixed(2) + '%';
    row.setAttribute('aria-label', t('results.bar', { choice: t('choice.' + choice), pct, n: formatNumber(n) }));
  }
}

/** The sentence a screen reader hears for revealed results. */
export function resultsSentence(tally) {
  const voters = tally.voters || 0;
  return t('live.results', {
    agree: formatPercent(tally.agree || 0, voters),
    disagree: formatPercent(tally.disagree || 0, voters),
    pass: formatPercent(tally.pass || 0, voters),
  });
}

/** "12 of 40 present voted (30%)"; never above 100% (voters / max(present, voters)). */
export function turnoutText(tally) {
  const { voters, base } = turnout(tally);
  return t('results.turnout', { voters: formatNumber(voters), present: formatNumber(base), pct: formatPercent(voters, base) });
}

export function votesText(n) {
  return tn('results.votes', n);
}

/**
 * One question as a list item: its state (live, answered, waiting for approval), the
 * asker (or "anonymous"), the time, the text, and `side` (an upvote button or count)
 * and `actions` (the console's buttons). Moderators and the asker get `from` even for an
 * anonymous question: they see the name marked as anonymous.
 */
export function questionElement(question, { own = false, side = null, actions = [] } = {}) {
  const anonymous = !question.from || question.anonymous === true;
  let who = question.from && question.from.name ? question.from.name : t('q.anonymous.name');
  if (question.from && question.anonymous === true) who += ' (' + t('q.anonymous.name').toLowerCase() + ')';
  const tags = [];
  if (question.state === 'live') tags.push(h('span', { class: 'badge q-badge', dataset: { state: 'live' }, text: t('q.state.live') }));
  if (question.state === 'answered') tags.push(h('span', { class: 'badge q-badge', dataset: { state: 'answered' }, text: t('q.state.answered') }));
  if (question.state === 'pending') tags.push(h('span', { class: 'badge q-badge', dataset: { state: 'pending' }, text: t('q.state.pending') }));
  if (question.state === 'dismissed') tags.push(h('span', { class: 'badge q-badge', dataset: { state: 'dismissed' }, text: t('q.state.dismissed') }));
  if (own) tags.push(h('span', { class: 'msg-tag', text: t('q.yours') }));
  return h('li', { class: 'question' + (own ? ' own' : '') + (anonymous ? ' anonymous' : ''), dataset: { id: question.id, state: question.state || 'open' } },
    side ? h('div', { class: 'q-side' }, side) : null,
    h('div', { class: 'q-body' },
      h('div', { class: 'msg-head' },
        h('span', { class: 'msg-name', text: who }),
        ...tags,
        question.at ? h('time', { class: 'msg-time', text: clockTime(question.at), attrs: { datetime: question.at } }) : null),
      h('p', { class: 'q-text', text: question.text || '' }),
      actions.length ? h('div', { class: 'msg-actions' }, actions) : null));
}

/** A kind sentence for an error event (or {code}). */
export function errorText(error, limits = {}) {
  const code = error && error.code ? error.code : 'generic';
  const params = { max: code === 'invalid_name' ? limits.name_chars ?? 40 : limits.chat_chars ?? 500, code };
  const key = 'error.' + code;
  const text = t(key, params);
  return text === key ? t('error.generic', { code }) : text;
}

/** Shows `text` in the banner element (hidden when null/empty). */
export function renderAnnouncement(banner, textElement, text) {
  if (text) {
    textElement.textContent = text;
    banner.hidden = false;
  } else {
    textElement.textContent = '';
    banner.hidden = true;
  }
}

/** The index (0-based) of the programme item running now, by local time of day, or -1. */
export function currentProgrammeIndex(programme, now = new Date()) {
  const minutes = now.getHours() * 60 + now.getMinutes();
  let index = -1;
  programme.forEach((item, i) => {
    const match = /^(\d{1,2})[:.](\d{2})$/.exec(String(item.time).trim());
    if (match && Number(match[1]) * 60 + Number(match[2]) <= minutes) index = i;
  });
  return index;
}

/** Fills an <ol> with the programme, marking the current item. */
export function renderProgramme(list, programme) {
  clear(list);
  const current = currentProgrammeIndex(programme);
  programme.forEach((item, i) => {
    const li = h('li', { class: i === current ? 'current' : '' },
      h('span', { class: 'prog-time', text: item.time }),
      h('span', { class: 'prog-item', text: item.item }),
      i === current ? h('span', { class: 'prog-now', text: t('programme.now') }) : null);
    if (i === current) li.setAttribute('aria-current', 'time');
    list.append(li);
  });
}

/**
 * The participant page's address to show and encode: the server's `public_url` when
 * /event.json gives it (`publicUrl`), else this browser's origin.
 */
export function participantAddress(info = {}) {
  const configured = info.publicUrl || info.public_url;
  if (typeof configured === 'string' && configured.trim() !== '') return configured.trim();
  return location.origin + '/';
}

/**
 * What every page does first: translate the static text, wire the language button
 * (`ui.lang`) and the connection pill (`ui.conn`, `ui.retry`). Returns the onState
 * callback for Connection.
 */
export function startPage(ui, getConnection) {
  // The join code: <img data-qr> gets /qr.svg here, after the error handler is in place, so
  // that a server without /qr.svg (before Revision 2) shows no broken image, only the address.
  for (const image of document.querySelectorAll('img[data-qr]')) {
    image.addEventListener('error', () => { image.hidden = true; });
    image.src = '/qr.svg';
  }
  applyStatic();
  bindLanguageToggle(ui.lang);
  return connectionIndicator(ui.conn, ui.retry, getConnection);
}
