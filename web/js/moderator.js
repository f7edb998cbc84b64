// The moderator console: statements, voting, results, chat moderation, announcement, exports.
import { Connection, fetchEventInfo } from './connection.js';
import { byId, h, clear, codePoints, clockTime, announce, isTyping } from './dom.js';
import { t, tn, applyStatic, bindLanguageToggle, onLanguageChange, setDefaultLanguage, formatNumber, formatPercent } from './i18n.js';
import { CHOICES, connectionIndicator, renderBars, errorText, renderAnnouncement, resultsSentence } from './ui.js';
import { mountAnalysis } from './analysis.js';

const KEY_STORAGE = 'stelling.moderator.key';
const NAME_STORAGE = 'stelling.moderator.name';
const MAX_CHAT_SHOWN = 500;

const ui = {
  title: byId('event-title'), present: byId('present'), conn: byId('conn'), retry: byId('retry'),
  lang: byId('lang'), signout: byId('signout'), banner: byId('announcement'), bannerText: byId('announcement-text'),
  login: byId('login'), loginForm: byId('login-form'), loginKey: byId('login-key'), loginName: byId('login-name'),
  loginError: byId('login-error'), console: byId('console'),
  statementList: byId('statement-list'), addForm: byId('add-form'), addText: byId('add-text'), addFeedback: byId('add-feedback'),
  votingBadge: byId('voting-badge'), resultsBadge: byId('results-badge'), currentLabel: byId('current-label'),
  currentText: byId('current-text'), next: byId('btn-next'), close: byId('btn-close'), open: byId('btn-open'),
  reveal: byId('btn-reveal'), revealLabel: byId('btn-reveal-label'), controlFeedback: byId('control-feedback'),
  bars: byId('bars'), turnout: byId('turnout'), turnoutFill: byId('turnout-fill'),
  groupsWrap: byId('groups-wrap'), groupsBody: byId('groups-body'),
  chatList: byId('chat-list'), chatEmpty: byId('chat-empty'), chatForm: byId('chat-form'), chatInput: byId('chat-input'),
  chatSend: byId('chat-send'), chatError: byId('chat-error'), chatFeedback: byId('chat-feedback'),
  announceCurrent: byId('announce-current'), announceForm: byId('announce-form'), announceText: byId('announce-text'),
  announceRemove: byId('announce-remove'), announceFeedback: byId('announce-feedback'),
  exportFeedback: byId('export-feedback'), live: byId('live'),
  storeAlert: byId('store-alert'), storeAlertText: byId('store-alert-text'),
};

const state = {
  info: { title: 'Stelling', groups: [], limits: { chat_chars: 500, name_chars: 40 } },
  you: null,
  statements: [],
  groups: [],
  current: null,
  tally: null,
  present: null,
  announcement: null,
  messages: new Map(),
  muted: new Set(),
  shown: new Set(), // statements shown during this console's life
};
let connection = null;

// ---- key handling: sessionStorage only; a #key=… fragment moves there and leaves the address bar ----

function takeKeyFromFragment() {
  const match = /^#key=(.+)$/.exec(location.hash);
  if (!match) return;
  let key = match[1];
  try { key = decodeURIComponent(key); } catch { /* keep it raw */ }
  try { sessionStorage.setItem(KEY_STORAGE, key); } catch { /* ignore */ }
  history.replaceState(null, '', location.pathname + location.search);
}

function storedKey() {
  try { return sessionStorage.getItem(KEY_STORAGE) || ''; } catch { return ''; }
}

function storedName() {
  try { return sessionStorage.getItem(NAME_STORAGE) || ''; } catch { return ''; }
}

takeKeyFromFragment();
applyStatic();
mountAnalysis(ui.console, storedKey);
bindLanguageToggle(ui.lang);
const onState = connectionIndicator(ui.conn, ui.retry, () => connection);
onLanguageChange(renderAll);

fetchEventInfo().then((info) => {
  state.info = { ...state.info, ...info, limits: { ...state.info.limits, ...(info.limits || {}) } };
  setDefaultLanguage(info.language);
  renderTitle();
}, () => { /* the welcome brings the title; the language stays as it is */ });

if (storedKey()) connect();
else showLogin('');

function renderTitle() {
  ui.title.textContent = state.info.title || 'Stelling';
  document.title = (state.info.title || 'Stelling') + ': ' + t('mod.title');
}

function showLogin(message) {
  ui.console.hidden = true;
  ui.signout.hidden = true;
  ui.present.hidden = true;
  ui.login.hidden = false;
  ui.loginError.textContent = message;
  ui.loginName.value = storedName();
  ui.loginKey.value = '';
  if (message) ui.loginKey.setAttribute('aria-invalid', 'true');
  ui.loginKey.focus();
}

ui.loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = ui.loginKey.value.trim();
  if (!key) {
    ui.loginError.textContent = t('error.unauthorized');
    ui.loginKey.setAttribute('aria-invalid', 'true');
    ui.loginKey.focus();
    return;
  }
  ui.loginKey.removeAttribute('aria-invalid');
  try {
    sessionStorage.setItem(KEY_STORAGE, key);
    const name = ui.loginName.value.trim();
    if (name) sessionStorage.setItem(NAME_STORAGE, name); else sessionStorage.removeItem(NAME_STORAGE);
  } catch { /* ignore */ }
  connect();
});

ui.signout.addEventListener('click', () => {
  try { sessionStorage.removeItem(KEY_STORAGE); } catch { /* ignore */ }
  if (connection) connection.stop();
  connection = null;
  ui.conn.hidden = true;
  showLogin('');
});

function connect() {
  if (connection) connection.stop();
  ui.login.hidden = true;
  ui.console.hidden = false;
  ui.signout.hidden = false;
  ui.conn.hidden = false;
  connection = new Connection({
    join: () => {
      const message = { type: 'join', role: 'moderator', key: storedKey() };
      const name = storedName();
      if (name) message.name = name;
      return message;
    },
    onEvent: handleEvent,
    onState: (s, info) => { onState(s, info); renderControls(); },
    onJoinError: (error) => {
      connection = null;
      if (error.code === 'unauthorized') {
        try { sessionStorage.removeItem(KEY_STORAGE); } catch { /* ignore */ }
      }
      ui.conn.hidden = true;
      showLogin(errorText(error, state.info.limits));
    },
  });
  connection.start();
}

// ---- events ----

function handleEvent(event) {
  switch (event.type) {
    case 'welcome': return welcome(event);
    case 'statement': return statementChanged(event);
    case 'tally': return tallied(event);
    case 'chat': return chatReceived(event.message);
    case 'hidden': return messageHidden(event.message);
    case 'presence': state.present = event.present; return renderPresent();
    case 'announcement': state.announcement = event.text || null; return renderAnnouncementState();
    default: return;
  }
}

function welcome(event) {
  const session = event.session || {};
  state.you = event.you;
  state.statements = session.statements || [];
  state.groups = session.groups || [];
  state.current = session.current || null;
  state.tally = session.tally || null;
  state.present = session.present ?? null;
  state.announcement = session.announcement ?? null;
  if (session.title) state.info.title = session.title;
  if (state.current) state.shown.add(state.current.statement);
  state.messages = new Map();
  for (const message of session.chat || []) state.messages.set(message.id, message);
  renderTitle();
  renderAll();
  renderChatList(true);
}

function statementChanged(event) {
  const before = state.current;
  if (Array.isArray(event.statements)) state.statements = event.statements;
  state.current = event.current || null;
  if (state.current) {
    state.shown.add(state.current.statement);
    if (!before || before.statement !== state.current.statement) {
      state.tally = null;
      announce(ui.live, t('live.statement', { text: statementText(state.current.statement) }));
    }
  }
  renderStatements();
  renderCurrent();
}

function tallied(tally) {
  if (!state.current || tally.statement !== state.current.statement) return;
  state.tally = tally;
  renderTally();
}

// ---- rendering ----

function renderAll() {
  renderTitle();
  renderPresent();
  renderStatements();
  renderCurrent();
  renderChatList(false);
  renderAnnouncementState();
}

function renderPresent() {
  if (state.present === null || state.present === undefined) { ui.present.hidden = true; return; }
  ui.present.hidden = false;
  ui.present.textContent = tn('present', state.present);
  renderTally();
}

function statementText(id) {
  const statement = state.statements.find((s) => s.id === id);
  return statement ? statement.text : '';
}

function renderStatements() {
  clear(ui.statementList);
  state.statements.forEach((statement, index) => {
    const isCurrent = state.current && state.current.statement === statement.id;
    const badges = [];
    if (isCurrent) {
      badges.push(h('span', { class: 'badge', dataset: { state: state.current.voting }, text: t(state.current.voting === 'open' ? 'voting.open' : 'voting.closed') }));
      if (state.current.results === 'visible') badges.push(h('span', { class: 'badge', dataset: { state: 'visible' }, text: t('results.visible') }));
    } else {
      badges.push(h('span', { class: 'st-state', text: t(state.shown.has(statement.id) ? 'mod.state.shown' : 'mod.state.new') }));
    }
    const go = h('button', {
      class: 'btn btn-small', text: t('mod.goto'),
      attrs: { type: 'button', 'aria-label': t('mod.goto.label', { n: index + 1 }), disabled: isCurrent || !online() },
      on: { click: () => command({ type: 'goto', statement: statement.id }) },
    });
    const li = h('li', { class: 'st-item' + (isCurrent ? ' current' : ''), dataset: { id: statement.id } },
      h('span', { class: 'st-num', text: String(index + 1) }),
      h('div', { class: 'st-body' }, h('p', { class: 'st-text', text: statement.text }), h('div', { class: 'st-badges' }, badges)),
      go);
    if (isCurrent) li.setAttribute('aria-current', 'step');
    ui.statementList.append(li);
  });
}

function online() {
  return connection && connection.state === 'online';
}

function renderCurrent() {
  const current = state.current;
  if (!current) {
    ui.currentLabel.textContent = '';
    ui.currentText.textContent = t('mod.none');
    ui.currentText.classList.add('waiting');
    ui.votingBadge.hidden = true;
    ui.resultsBadge.hidden = true;
  } else {
    const index = state.statements.findIndex((s) => s.id === current.statement);
    ui.currentLabel.textContent = t('statement.label', { n: index + 1, total: state.statements.length });
    ui.currentText.textContent = statementText(current.statement);
    ui.currentText.classList.remove('waiting');
    ui.votingBadge.hidden = false;
    ui.votingBadge.dataset.state = current.voting;
    ui.votingBadge.textContent = t(current.voting === 'open' ? 'voting.open' : 'voting.closed');
    ui.resultsBadge.hidden = false;
    ui.resultsBadge.dataset.state = current.results === 'visible' ? 'visible' : 'closed';
    ui.resultsBadge.textContent = t(current.results === 'visible' ? 'results.visible' : 'results.hidden');
  }
  renderControls();
  renderTally();
}

function renderControls() {
  const current = state.current;
  const on = online();
  const index = current ? state.statements.findIndex((s) => s.id === current.statement) : -1;
  ui.next.disabled = !on || index >= state.statements.length - 1;
  ui.close.disabled = !on || !current || current.voting !== 'open';
  ui.open.disabled = !on || !current || current.voting === 'open';
  ui.reveal.disabled = !on || !current;
  const visible = current && current.results === 'visible';
  ui.revealLabel.textContent = t(visible ? 'mod.unreveal' : 'mod.reveal');
  ui.reveal.setAttribute('aria-pressed', String(Boolean(visible)));
  for (const button of ui.statementList.querySelectorAll('button')) {
    button.disabled = !on || button.closest('.st-item').classList.contains('current');
  }
}

function renderTally() {
  const tally = state.tally && state.current && state.tally.statement === state.current.statement ? state.tally : null;
  renderBars(ui.bars, tally || { agree: 0, disagree: 0, pass: 0, voters: 0 });
  const voters = tally ? tally.voters : 0;
  const present = tally ? tally.present : state.present || 0;
  ui.turnout.textContent = t('mod.turnout.value', {
    voters: formatNumber(voters), present: formatNumber(present), pct: formatPercent(voters, present),
  });
  ui.turnoutFill.style.width = (present > 0 ? Math.min(100, (100 * voters) / present) : 0).toFixed(1) + '%';
  const groups = state.groups || [];
  ui.groupsWrap.hidden = groups.length === 0;
  clear(ui.groupsBody);
  for (const group of groups) {
    const counts = (tally && tally.groups && tally.groups[group]) || { agree: 0, disagree: 0, pass: 0 };
    const total = (counts.agree || 0) + (counts.disagree || 0) + (counts.pass || 0);
    const cell = (n) => h('td', { class: 'num', text: total ? `${formatNumber(n)} (${formatPercent(n, total)})` : formatNumber(n) });
    ui.groupsBody.append(h('tr', {},
      h('th', { attrs: { scope: 'row' }, text: group }),
      ...CHOICES.map((choice) => cell(counts[choice] || 0)),
      h('td', { class: 'num total', text: formatNumber(total) })));
  }
}

function renderAnnouncementState() {
  renderAnnouncement(ui.banner, ui.bannerText, state.announcement);
  ui.announceCurrent.textContent = state.announcement || t('mod.announce.none');
  ui.announceRemove.disabled = !state.announcement;
}

// ---- commands ----

const feedbackTimers = new WeakMap();

/** Shows the outcome of an action; a success fades after a few seconds, an error stays. */
function feedback(element, text, ok = true) {
  element.textContent = text;
  element.classList.toggle('error', !ok);
  clearTimeout(feedbackTimers.get(element));
  if (ok) feedbackTimers.set(element, setTimeout(() => { if (element.textContent === text) element.textContent = ''; }, 5000));
}

function command(request, element = ui.controlFeedback) {
  if (!connection) return Promise.reject({ code: 'offline' });
  return connection.request(request).then((ack) => {
    feedback(element, t('mod.done'));
    return ack;
  }, (error) => {
    feedback(element, errorText(error, state.info.limits), false);
    throw error;
  }).catch(() => undefined);
}

function next() { if (!ui.next.disabled) command({ type: 'next' }); }
function closeVoting() { if (!ui.close.disabled) command({ type: 'close' }); }
function openVoting() { if (!ui.open.disabled) command({ type: 'open' }); }
function toggleReveal() {
  if (ui.reveal.disabled || !state.current) return;
  const visible = state.current.results !== 'visible';
  command({ type: 'reveal', visible }).then((ack) => {
    if (ack && visible && state.tally) announce(ui.live, resultsSentence(state.tally));
  });
}

ui.next.addEventListener('click', next);
ui.close.addEventListener('click', closeVoting);
ui.open.addEventListener('click', openVoting);
ui.reveal.addEventListener('click', toggleReveal);

document.addEventListener('keydown', (event) => {
  if (ui.console.hidden || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
  if (isTyping(event.target)) return;
  switch (event.key.toLowerCase()) {
    case 'n': event.preventDefault(); next(); break;
    case 'c': event.preventDefault(); closeVoting(); break;
    case 'o': event.preventDefault(); openVoting(); break;
    case 'r': event.preventDefault(); toggleReveal(); break;
    default: break;
  }
});

ui.addForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = ui.addText.value;
  if (text.trim() === '') { feedback(ui.addFeedback, errorText({ code: 'empty' }), false); return; }
  if (codePoints(text) > (state.info.limits.chat_chars || 500)) {
    feedback(ui.addFeedback, errorText({ code: 'too_long' }, state.info.limits), false);
    return;
  }
  command({ type: 'add', text }, ui.addFeedback).then((ack) => {
    if (ack) { ui.addText.value = ''; feedback(ui.addFeedback, t('mod.add.done')); }
  });
});

ui.announceForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = ui.announceText.value.trim();
  if (text === '') { feedback(ui.announceFeedback, errorText({ code: 'empty' }), false); return; }
  if (codePoints(text) > (state.info.limits.chat_chars || 500)) {
    feedback(ui.announceFeedback, errorText({ code: 'too_long' }, state.info.limits), false);
    return;
  }
  command({ type: 'announce', text }, ui.announceFeedback).then((ack) => { if (ack) ui.announceText.value = ''; });
});

ui.announceRemove.addEventListener('click', () => command({ type: 'announce', text: '' }, ui.announceFeedback));

// ---- chat ----

function isNearBottom() {
  const list = ui.chatList;
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

function messageElement(message) {
  const from = message.from || {};
  const own = state.you && from.id === state.you.id;
  const isModerator = from.role === 'moderator';
  const muted = state.muted.has(from.id);
  const actions = [
    h('button', {
      class: 'btn btn-small', text: t('mod.hide'),
      attrs: { type: 'button', 'aria-label': t('mod.hide.label', { name: from.name || '' }) },
      on: { click: () => command({ type: 'hide', message: message.id }, ui.chatFeedback) },
    }),
  ];
  if (!isModerator && from.id) {
    actions.push(h('button', {
      class: 'btn btn-small' + (muted ? '' : ' btn-danger'), text: t(muted ? 'mod.unmute' : 'mod.mute'),
      attrs: { type: 'button', 'aria-pressed': String(muted), 'aria-label': t(muted ? 'mod.unmute.label' : 'mod.mute.label', { name: from.name || '' }) },
      on: { click: () => toggleMute(from.id) },
    }));
  }
  const tags = [];
  if (own) tags.push(h('span', { class: 'msg-tag', text: t('chat.you') }));
  else if (isModerator) tags.push(h('span', { class: 'msg-tag msg-tag-mod', text: t('chat.moderator') }));
  if (muted) tags.push(h('span', { class: 'msg-tag msg-tag-muted', text: t('mod.muted') }));
  return h('li', { class: 'msg' + (own ? ' own' : '') + (isModerator ? ' from-moderator' : ''), dataset: { id: message.id, from: from.id || '' } },
    h('div', { class: 'msg-head' },
      h('span', { class: 'msg-name', text: from.name || '' }),
      ...tags,
      h('time', { class: 'msg-time', text: clockTime(message.at), attrs: { datetime: message.at } })),
    h('p', { class: 'msg-text', text: message.text }),
    h('div', { class: 'msg-actions' }, actions));
}

function toggleMute(participant) {
  const muted = !state.muted.has(participant);
  command({ type: 'mute', participant, muted }, ui.chatFeedback).then((ack) => {
    if (!ack) return;
    if (muted) state.muted.add(participant); else state.muted.delete(participant);
    renderChatList(false);
  });
}

function renderChatList(toBottom) {
  const stick = toBottom || isNearBottom();
  const scroll = ui.chatList.scrollTop;
  clear(ui.chatList);
  const messages = [...state.messages.values()].slice(-MAX_CHAT_SHOWN);
  for (const message of messages) ui.chatList.append(messageElement(message));
  ui.chatEmpty.hidden = messages.length > 0;
  ui.chatList.scrollTop = stick ? ui.chatList.scrollHeight : scroll;
}

function chatReceived(message) {
  if (!message || state.messages.has(message.id)) return;
  const stick = isNearBottom();
  state.messages.set(message.id, message);
  ui.chatList.append(messageElement(message));
  while (ui.chatList.children.length > MAX_CHAT_SHOWN) ui.chatList.firstElementChild.remove();
  if (state.messages.size > MAX_CHAT_SHOWN * 2) state.messages = new Map([...state.messages.entries()].slice(-MAX_CHAT_SHOWN));
  ui.chatEmpty.hidden = true;
  if (stick) ui.chatList.scrollTop = ui.chatList.scrollHeight;
}

function messageHidden(id) {
  state.messages.delete(id);
  for (const element of ui.chatList.querySelectorAll('.msg')) {
    if (element.dataset.id === String(id)) element.remove();
  }
  ui.chatEmpty.hidden = state.messages.size > 0;
}

ui.chatInput.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.chatForm.requestSubmit();
  }
});

ui.chatForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = ui.chatInput.value;
  if (text.trim() === '') { ui.chatError.textContent = errorText({ code: 'empty' }); return; }
  if (codePoints(text) > (state.info.limits.chat_chars || 500)) {
    ui.chatError.textContent = errorText({ code: 'too_long' }, state.info.limits);
    return;
  }
  if (!connection) return;
  ui.chatSend.disabled = true;
  ui.chatError.textContent = '';
  connection.request({ type: 'chat', text }).then(() => {
    if (ui.chatInput.value === text) ui.chatInput.value = '';
  }, (error) => {
    ui.chatError.textContent = errorText(error, state.info.limits);
  }).finally(() => { ui.chatSend.disabled = false; });
});

// ---- exports: fetched with the key in a header, saved through a Blob link ----

for (const button of document.querySelectorAll('[data-export]')) {
  button.addEventListener('click', () => download(button.dataset.export, button));
}

async function download(file, button) {
  const key = storedKey();
  button.disabled = true;
  feedback(ui.exportFeedback, t('mod.export.busy', { file }));
  try {
    let response;
    try {
      response = await fetch('/export/' + file, { headers: { Authorization: 'Bearer ' + key }, cache: 'no-store' });
    } catch {
      feedback(ui.exportFeedback, t('mod.export.network', { file }), false);
      return;
    }
    if (response.status === 401 || response.status === 403) {
      feedback(ui.exportFeedback, t('mod.export.unauthorized', { file }), false);
      return;
    }
    if (!response.ok) {
      feedback(ui.exportFeedback, t('mod.export.unavailable', { file, status: response.status }), false);
      return;
    }
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = h('a', { attrs: { href: url, download: exportName(file) }, class: 'visually-hidden' });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    feedback(ui.exportFeedback, t('mod.export.done', { file: exportName(file) }));
  } finally {
    button.disabled = false;
  }
}

function exportName(file) {
  const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  const dot = file.lastIndexOf('.');
  return 'stelling-' + file.slice(0, dot) + '-' + stamp + file.slice(dot);
}

// ---- store health: PROTOCOL.md has no event for it, so the console asks /healthz ----

const HEALTH_INTERVAL_MS = 5000;
let storeFailure = null;

async function checkHealth() {
  try {
    const response = await fetch('/healthz', { cache: 'no-store' });
    const body = await response.json().catch(() => ({}));
    storeFailure = body.status === 'store failing' ? (body.reason || '') : null;
  } catch {
    storeFailure = null; // the connection state already says when the server is unreachable
  }
  renderStoreAlert();
}

function renderStoreAlert() {
  ui.storeAlert.hidden = storeFailure === null;
  if (storeFailure !== null) ui.storeAlertText.textContent = t('mod.store.failing', { reason: storeFailure });
}

onLanguageChange(renderStoreAlert);
setInterval(checkHealth, HEALTH_INTERVAL_MS);
checkHealth();
