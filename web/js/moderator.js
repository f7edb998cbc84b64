// The moderator console: statements, voting, results, questions, chat moderation and
// chat modes, announcement, erasure, exports and the join QR code. The state comes
// from the pure reducer in session.js; the chat list and form from chat.js.
import { Connection, fetchEventInfo, isOnline } from './connection.js';
import { byId, h, clear, codePoints, announce, isTyping } from './dom.js';
import { t, tn, onLanguageChange, setDefaultLanguage, formatNumber, formatPercent } from './i18n.js';
import { CHOICES, startPage, renderBars, errorText, renderAnnouncement, resultsSentence, questionElement, participantAddress } from './ui.js';
import { createStore, statementText, currentPosition, rankedQuestions, liveQuestion, turnout, healthProblem } from './session.js';
import { ChatView } from './chat.js';
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
  questionsPanel: byId('questions-panel'), questionsToggle: byId('questions-toggle'), questionsState: byId('questions-state'),
  liveQuestion: byId('live-question'), liveList: byId('live-list'), pendingWrap: byId('pending-wrap'),
  pendingCount: byId('pending-count'), pendingList: byId('pending-list'), openList: byId('open-list'),
  openEmpty: byId('open-empty'), answeredWrap: byId('answered-wrap'), answeredCount: byId('answered-count'),
  answeredList: byId('answered-list'), questionFeedback: byId('question-feedback'),
  chatModeForm: byId('chat-mode-form'), modeSeconds: byId('mode-seconds'), chatFeedback: byId('chat-feedback'),
  announceCurrent: byId('announce-current'), announceForm: byId('announce-form'), announceText: byId('announce-text'),
  announceRemove: byId('announce-remove'), announceFeedback: byId('announce-feedback'),
  exportFeedback: byId('export-feedback'), exportNames: byId('export-names'),
  eraseForm: byId('erase-form'), eraseId: byId('erase-id'), eraseFeedback: byId('erase-feedback'),
  joinUrl: byId('join-url'), qrEnlarge: byId('qr-enlarge'), qrDialog: byId('qr-dialog'), qrDialogUrl: byId('qr-dialog-url'),
  live: byId('live'), storeAlert: byId('store-alert'), storeAlertText: byId('store-alert-text'),
};

const page = {
  info: { title: 'Stelling', groups: [], limits: { chat_chars: 500, name_chars: 40 } },
  shown: new Set(), // statements shown during this console's life
};
const store = createStore(changed);
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
const onState = startPage(ui, () => connection);
const chat = new ChatView({
  store,
  getConnection: () => connection,
  limits: () => page.info.limits,
  actions: chatActions,
  maxShown: MAX_CHAT_SHOWN,
});
mountAnalysis(ui.console, () => (store.state.welcomed ? storedKey() : ''));
onLanguageChange(renderAll);

fetchEventInfo().then((info) => {
  page.info = { ...page.info, ...info, limits: { ...page.info.limits, ...(info.limits || {}) } };
  setDefaultLanguage(info.language);
  renderTitle();
  renderJoin();
}, () => { /* the welcome brings the title; the language stays as it is */ });

if (storedKey()) connect();
else showLogin('');

function renderTitle() {
  ui.title.textContent = page.info.title || 'Stelling';
  document.title = (page.info.title || 'Stelling') + ': ' + t('mod.title');
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
  // The console itself appears with the welcome: a wrong key never shows it (nor lets the
  // analysis panel ask /analysis.json with that key).
  ui.signout.hidden = false;
  ui.conn.hidden = false;
  connection = new Connection({
    join: () => {
      const message = { type: 'join', role: 'moderator', key: storedKey() };
      const name = storedName();
      if (name) message.name = name;
      return message;
    },
    onEvent: store.dispatch,
    onState: (s, info) => { onState(s, info); renderControls(); renderQuestions(); },
    onJoinError: (error) => {
      connection = null;
      if (error.code === 'unauthorized') {
        try { sessionStorage.removeItem(KEY_STORAGE); } catch { /* ignore */ }
      }
      ui.conn.hidden = true;
      showLogin(errorText(error, page.info.limits));
    },
  });
  connection.start();
}

// ---- events: the reducer makes the state, the console renders what changed ----

function changed(before, event) {
  switch (event.type) {
    case 'welcome':
      ui.console.hidden = false;
      if (store.state.title) page.info.title = store.state.title;
      if (store.state.current) page.shown.add(store.state.current.statement);
      renderAll();
      chat.scrollToBottom();
      return;
    case 'statement': return statementChanged(before);
    case 'tally': return renderTally();
    case 'chat': case 'hidden': return chat.render();
    case 'presence': renderPresent(); return renderTally();
    case 'announcement': return renderAnnouncementState();
    case 'chat_mode': return renderChatMode();
    case 'question': case 'upvotes': case 'questions': return renderQuestions();
    case '@muted': chat.render(true); return renderQuestions();
    default: return undefined;
  }
}

function statementChanged(before) {
  const current = store.state.current;
  if (current) {
    page.shown.add(current.statement);
    if (!before.current || before.current.statement !== current.statement) {
      announce(ui.live, t('live.statement', { text: statementText(store.state, current.statement) }));
    }
  }
  renderStatements();
  renderCurrent();
}

// ---- rendering ----

function renderAll() {
  renderTitle();
  renderPresent();
  renderStatements();
  renderCurrent();
  chat.render(true);
  renderChatMode();
  renderQuestions();
  renderAnnouncementState();
  renderJoin();
}

function renderPresent() {
  if (store.state.present === null || store.state.present === undefined) { ui.present.hidden = true; return; }
  ui.present.hidden = false;
  ui.present.textContent = tn('present', store.state.present);
}

function renderStatements() {
  clear(ui.statementList);
  const current = store.state.current;
  store.state.statements.forEach((statement, index) => {
    const isCurrent = current && current.statement === statement.id;
    const badges = [];
    if (isCurrent) {
      badges.push(h('span', { class: 'badge', dataset: { state: current.voting }, text: t(current.voting === 'open' ? 'voting.open' : 'voting.closed') }));
      if (current.results === 'visible') badges.push(h('span', { class: 'badge', dataset: { state: 'visible' }, text: t('results.visible') }));
    } else {
      badges.push(h('span', { class: 'st-state', text: t(page.shown.has(statement.id) ? 'mod.state.shown' : 'mod.state.new') }));
    }
    const go = h('button', {
      class: 'btn btn-small', text: t('mod.goto'),
      attrs: { type: 'button', 'aria-label': t('mod.goto.label', { n: index + 1 }), disabled: isCurrent || !isOnline(connection) },
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

function renderCurrent() {
  const current = store.state.current;
  if (!current) {
    ui.currentLabel.textContent = '';
    ui.currentText.textContent = t('mod.none');
    ui.currentText.classList.add('waiting');
    ui.votingBadge.hidden = true;
    ui.resultsBadge.hidden = true;
  } else {
    ui.currentLabel.textContent = t('statement.label', { n: currentPosition(store.state), total: store.state.statements.length });
    ui.currentText.textContent = statementText(store.state, current.statement);
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
  const current = store.state.current;
  const on = isOnline(connection);
  const position = currentPosition(store.state);
  ui.next.disabled = !on || position >= store.state.statements.length;
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
  const tally = store.state.tally;
  renderBars(ui.bars, tally || { agree: 0, disagree: 0, pass: 0, voters: 0 });
  // Never above 100%: voters / max(present, voters) (issue 11 §7).
  const { voters, base, share } = turnout(tally, store.state.present);
  ui.turnout.textContent = t('mod.turnout.value', {
    voters: formatNumber(voters), present: formatNumber(base), pct: formatPercent(voters, base),
  });
  ui.turnoutFill.style.width = (100 * share).toFixed(1) + '%';
  const groups = store.state.groups || [];
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
  renderAnnouncement(ui.banner, ui.bannerText, store.state.announcement);
  ui.announceCurrent.textContent = store.state.announcement || t('mod.announce.none');
  ui.announceRemove.disabled = !store.state.announcement;
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

/** Sends a request; resolves with the ack, or undefined after showing the error. */
function command(request, element = ui.controlFeedback) {
  if (!connection) return Promise.resolve(undefined);
  return connection.request(request).then((ack) => {
    feedback(element, t('mod.done'));
    return ack;
  }, (error) => {
    feedback(element, errorText(error, page.info.limits), false);
    return undefined;
  });
}

function next() { if (!ui.next.disabled) command({ type: 'next' }); }
function closeVoting() { if (!ui.close.disabled) command({ type: 'close' }); }
function openVoting() { if (!ui.open.disabled) command({ type: 'open' }); }
function toggleReveal() {
  if (ui.reveal.disabled || !store.state.current) return;
  const visible = store.state.current.results !== 'visible';
  command({ type: 'reveal', visible }).then((ack) => {
    if (ack && visible && store.state.tally) announce(ui.live, resultsSentence(store.state.tally));
  });
}

ui.next.addEventListener('click', next);
ui.close.addEventListener('click', closeVoting);
ui.open.addEventListener('click', openVoting);
ui.reveal.addEventListener('click', toggleReveal);

document.addEventListener('keydown', (event) => {
  if (ui.console.hidden || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
  if (isTyping(event.target) || ui.qrDialog.open) return;
  const focused = event.target instanceof Element ? event.target.closest('.question[data-id]') : null;
  switch (event.key.toLowerCase()) {
    case 'n': event.preventDefault(); next(); break;
    case 'c': event.preventDefault(); closeVoting(); break;
    case 'o': event.preventDefault(); openVoting(); break;
    case 'r': event.preventDefault(); toggleReveal(); break;
    case 'l': {
      event.preventDefault();
      const target = focused ? focused.dataset.id : (rankedQuestions(store.state, { states: ['open'] })[0] || {}).id;
      if (target) setQuestionState(target, 'live');
      break;
    }
    case 'a': {
      event.preventDefault();
      const target = focused ? focused.dataset.id : (liveQuestion(store.state) || {}).id;
      if (target) setQuestionState(target, 'answered');
      break;
    }
    case 'd': if (focused) { event.preventDefault(); setQuestionState(focused.dataset.id, 'dismissed'); } break;
    case 'g': if (focused) { event.preventDefault(); setQuestionState(focused.dataset.id, 'open'); } break;
    default: break;
  }
});

ui.addForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = ui.addText.value;
  if (text.trim() === '') { feedback(ui.addFeedback, errorText({ code: 'empty' }), false); return; }
  if (codePoints(text) > (page.info.limits.chat_chars || 500)) {
    feedback(ui.addFeedback, errorText({ code: 'too_long' }, page.info.limits), false);
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
  if (codePoints(text) > (page.info.limits.chat_chars || 500)) {
    feedback(ui.announceFeedback, errorText({ code: 'too_long' }, page.info.limits), false);
    return;
  }
  command({ type: 'announce', text }, ui.announceFeedback).then((ack) => { if (ack) ui.announceText.value = ''; });
});

ui.announceRemove.addEventListener('click', () => command({ type: 'announce', text: '' }, ui.announceFeedback));

// ---- chat: hide, mute, erase per message; the chat mode ----

function personActions(from, element) {
  const actions = [];
  if (!from || !from.id || from.role === 'moderator') return actions;
  const muted = store.state.muted.includes(from.id);
  actions.push(h('button', {
    class: 'btn btn-small' + (muted ? '' : ' btn-danger'), text: t(muted ? 'mod.unmute' : 'mod.mute'),
    attrs: { type: 'button', 'aria-pressed': String(muted), 'aria-label': t(muted ? 'mod.unmute.label' : 'mod.mute.label', { name: from.name || from.id }) },
    on: { click: () => toggleMute(from.id, element) },
  }));
  actions.push(h('button', {
    class: 'btn btn-small btn-quiet erase', text: t('mod.erase.short'),
    attrs: { type: 'button', 'aria-label': t('mod.erase.label.person', { name: from.name || from.id, id: from.id }) },
    dataset: { participant: from.id },
    on: { click: () => erase(from.id, from.name, element) },
  }));
  return actions;
}

function chatActions(message) {
  const from = message.from || {};
  return [
    h('button', {
      class: 'btn btn-small', text: t('mod.hide'),
      attrs: { type: 'button', 'aria-label': t('mod.hide.label', { name: from.name || '' }) },
      on: { click: () => command({ type: 'hide', message: message.id }, ui.chatFeedback) },
    }),
    ...personActions(from, ui.chatFeedback),
  ];
}

function toggleMute(participant, element) {
  const muted = !store.state.muted.includes(participant);
  command({ type: 'mute', participant, muted }, element).then((ack) => {
    if (ack) store.dispatch({ type: '@muted', participant, muted });
  });
}

function renderChatMode() {
  const mode = store.state.chatMode;
  for (const radio of ui.chatModeForm.querySelectorAll('input[name="chat-mode"]')) radio.checked = radio.value === mode.mode;
  if (mode.mode === 'slow') ui.modeSeconds.value = String(mode.seconds);
  chat.renderMode();
}

ui.chatModeForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const chosen = ui.chatModeForm.querySelector('input[name="chat-mode"]:checked');
  const mode = chosen ? chosen.value : 'open';
  const request = { type: 'chat_mode', mode };
  if (mode === 'slow') {
    const seconds = Number(ui.modeSeconds.value);
    if (!Number.isInteger(seconds) || seconds < 5 || seconds > 600) {
      feedback(ui.chatFeedback, t('mod.chatmode.range'), false);
      ui.modeSeconds.focus();
      return;
    }
    request.seconds = seconds;
  }
  command(request, ui.chatFeedback);
});

// ---- erasure (a moderator request Stelling adds; docs/DECISIONS.md "Privacy") ----

function erase(participant, name, element = ui.eraseFeedback) {
  const who = name ? name + ' (' + participant + ')' : participant;
  if (!window.confirm(t('mod.erase.confirm', { who }))) return Promise.resolve(undefined);
  return command({ type: 'erase', participant }, element).then((ack) => {
    if (ack) feedback(element, t('mod.erase.done', { who }));
    return ack;
  });
}

ui.eraseForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const id = ui.eraseId.value.trim();
  if (!id) { feedback(ui.eraseFeedback, t('error.unknown_participant'), false); ui.eraseId.focus(); return; }
  erase(id, '', ui.eraseFeedback).then((ack) => { if (ack) ui.eraseId.value = ''; });
});

// ---- questions: the queue ----

function setQuestionState(question, state) {
  return command({ type: 'question_state', question, state }, ui.questionFeedback);
}

function questionActions(question) {
  const actions = [];
  const button = (key, state, shortcut) => h('button', {
    class: 'btn btn-small' + (state === 'dismissed' ? ' btn-danger' : state === 'live' ? ' btn-primary' : ''),
    text: t(key), attrs: { type: 'button', 'aria-keyshortcuts': shortcut, disabled: !isOnline(connection) },
    dataset: { action: state },
    on: { click: () => setQuestionState(question.id, state) },
  });
  if (question.state === 'pending') actions.push(button('q.approve', 'open', 'G'));
  if (question.state === 'open' || question.state === 'pending') actions.push(button('q.live', 'live', 'L'));
  if (question.state === 'live') actions.push(button('q.answered', 'answered', 'A'));
  if (question.state === 'answered') actions.push(button('q.reopen', 'open', 'G'));
  if (question.state !== 'dismissed') actions.push(button('q.dismiss', 'dismissed', 'D'));
  return [...actions, ...personActions(question.from, ui.questionFeedback)];
}

function moderatorQuestion(question) {
  const side = h('span', { class: 'upvote-static', attrs: { 'aria-label': tn('q.upvotes', question.upvotes || 0) } },
    h('span', { class: 'upvote-mark', attrs: { 'aria-hidden': 'true' }, text: '▲' }),
    h('span', { class: 'upvote-count', text: String(question.upvotes || 0) }));
  const li = questionElement(question, { side, actions: questionActions(question) });
  li.tabIndex = 0;
  if (question.from && store.state.muted.includes(question.from.id)) {
    li.querySelector('.msg-head').append(h('span', { class: 'msg-tag msg-tag-muted', text: t('mod.muted') }));
  }
  return li;
}

function fillList(list, questions) {
  const focusedId = document.activeElement && document.activeElement.closest ? (document.activeElement.closest('.question') || {}).dataset : null;
  clear(list);
  for (const question of questions) list.append(moderatorQuestion(question));
  if (focusedId && focusedId.id) {
    const again = list.querySelector('.question[data-id="' + CSS.escape(focusedId.id) + '"]');
    if (again) again.focus();
  }
}

function renderQuestions() {
  // A server without Revision 2 (no "questions"/"chat_mode" in the welcome's features) gets neither control.
  const features = store.state.features;
  ui.questionsPanel.hidden = store.state.welcomed && !features.includes('questions');
  ui.chatModeForm.hidden = store.state.welcomed && !features.includes('chat_mode');
  const live = liveQuestion(store.state);
  ui.liveQuestion.hidden = !live;
  fillList(ui.liveList, live ? [live] : []);
  const pending = store.state.questions.filter((q) => q.state === 'pending');
  ui.pendingWrap.hidden = pending.length === 0;
  ui.pendingCount.textContent = String(pending.length);
  fillList(ui.pendingList, pending);
  const open = rankedQuestions(store.state, { states: ['open'] });
  fillList(ui.openList, open);
  ui.openEmpty.hidden = open.length > 0;
  const answered = rankedQuestions(store.state, { order: 'time', states: ['answered'] });
  ui.answeredWrap.hidden = answered.length === 0;
  ui.answeredCount.textContent = String(answered.length);
  fillList(ui.answeredList, answered);
  ui.questionsToggle.textContent = t(store.state.questionsOpen ? 'mod.questions.close' : 'mod.questions.open');
  ui.questionsToggle.setAttribute('aria-pressed', String(store.state.questionsOpen));
  ui.questionsToggle.disabled = !isOnline(connection);
  ui.questionsState.textContent = t(store.state.questionsOpen ? 'mod.questions.isopen' : 'mod.questions.isclosed');
}

ui.questionsToggle.addEventListener('click', () => command({ type: 'questions', open: !store.state.questionsOpen }, ui.questionFeedback));

// ---- the join address and QR code (the same address the screen shows) ----

function renderJoin() {
  const address = participantAddress(page.info);
  ui.joinUrl.textContent = address;
  ui.qrDialogUrl.textContent = address;
}

ui.qrEnlarge.addEventListener('click', () => {
  renderJoin();
  if (typeof ui.qrDialog.showModal === 'function') ui.qrDialog.showModal();
  else ui.qrDialog.setAttribute('open', '');
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
      const names = ui.exportNames.checked ? '?names=1' : '';
      response = await fetch('/export/' + file + names, { headers: { Authorization: 'Bearer ' + key }, cache: 'no-store' });
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
    const link = h('a', { attrs: { href: url, download: exportName(file, ui.exportNames.checked) }, class: 'visually-hidden' });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    feedback(ui.exportFeedback, t('mod.export.done', { file: exportName(file, ui.exportNames.checked) }));
  } finally {
    button.disabled = false;
  }
}

/** stelling-votes-20261202-1405.csv, or stelling-votes-names-… for an export with names. */
function exportName(file, names = false) {
  const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  const dot = file.lastIndexOf('.');
  return 'stelling-' + file.slice(0, dot) + (names ? '-names' : '') + '-' + stamp + file.slice(dot);
}

// ---- store and Redis health: PROTOCOL.md has no event for it, so the console asks /healthz ----

const HEALTH_INTERVAL_MS = 5000;
let healthAlert = null; // healthProblem(): { problem: 'store' | 'redis', reason } or null

async function checkHealth() {
  try {
    const response = await fetch('/healthz', { cache: 'no-store' });
    const body = await response.json().catch(() => null);
    healthAlert = healthProblem(response.status, body);
  } catch {
    healthAlert = null; // the connection state already says when the server is unreachable
  }
  renderStoreAlert();
}

function renderStoreAlert() {
  ui.storeAlert.hidden = healthAlert === null;
  ui.storeAlert.dataset.problem = healthAlert ? healthAlert.problem : '';
  if (healthAlert !== null) {
    const params = { reason: healthAlert.reason };
    ui.storeAlertText.textContent = healthAlert.problem === 'redis' ? t('mod.redis.unreachable', params) : t('mod.store.failing', params);
  }
}

onLanguageChange(renderStoreAlert);
setInterval(checkHealth, HEALTH_INTERVAL_MS);
checkHealth();
