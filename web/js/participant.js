// The participant page: join, vote, chat, programme, announcement.
import { Connection, fetchEventInfo } from './connection.js';
import { byId, h, clear, codePoints, clockTime, announce } from './dom.js';
import { t, tn, applyStatic, bindLanguageToggle, onLanguageChange, setDefaultLanguage } from './i18n.js';
import {
  CHOICES, connectionIndicator, renderBars, resultsSentence, turnoutText, errorText,
  renderAnnouncement, renderProgramme,
} from './ui.js';

const IDENTITY_KEY = 'stelling.participant';
const MAX_CHAT_SHOWN = 300;

const ui = {
  title: byId('event-title'), present: byId('present'), conn: byId('conn'), retry: byId('retry'),
  lang: byId('lang'), banner: byId('announcement'), bannerText: byId('announcement-text'),
  loading: byId('loading'), join: byId('join'), joinForm: byId('join-form'), joinName: byId('join-name'),
  joinGroupField: byId('join-group-field'), joinGroup: byId('join-group'), joinError: byId('join-error'),
  joinSubmit: byId('join-submit'),
  stage: byId('stage'), statementLabel: byId('statement-label'), votingBadge: byId('voting-badge'),
  statementText: byId('statement-text'), vote: byId('vote'), voteStatus: byId('vote-status'),
  voteError: byId('vote-error'), results: byId('results'), bars: byId('bars'), turnout: byId('turnout'),
  chat: byId('chat'), you: byId('you'), chatList: byId('chat-list'), chatEmpty: byId('chat-empty'),
  chatForm: byId('chat-form'), chatInput: byId('chat-input'), chatSend: byId('chat-send'),
  chatError: byId('chat-error'), chatCounter: byId('chat-counter'), chatCounterLabel: byId('chat-counter-label'),
  programme: byId('programme'), programmeList: byId('programme-list'),
  footer: byId('footer'), leave: byId('leave'), live: byId('live'), liveAssertive: byId('live-assertive'),
};

const state = {
  info: { title: 'Stelling', groups: [], programme: [], limits: { chat_chars: 500, name_chars: 40 } },
  you: null,
  statements: [],
  current: null,
  tally: null,
  myVotes: {},
  pendingVote: null,
  present: null,
  announcement: null,
  messages: new Map(), // id -> message
  sendingChat: false,
  resultsToAnnounce: false,
};
let connection = null;

// ---- identity (localStorage: the same person after a reload or a dropped network) ----

function loadIdentity() {
  try {
    const value = JSON.parse(localStorage.getItem(IDENTITY_KEY) || 'null');
    if (value && typeof value.name === 'string') return value;
  } catch { /* ignore a damaged entry */ }
  return null;
}

function saveIdentity(identity) {
  try { localStorage.setItem(IDENTITY_KEY, JSON.stringify(identity)); } catch { /* private mode */ }
}

function forgetIdentity() {
  try { localStorage.removeItem(IDENTITY_KEY); } catch { /* ignore */ }
}

// ---- start ----

applyStatic();
bindLanguageToggle(ui.lang);
const onState = connectionIndicator(ui.conn, ui.retry, () => connection);
onLanguageChange(renderAll);
loadEventInfo(0);
setInterval(() => renderProgramme(ui.programmeList, state.info.programme || []), 30000);

async function loadEventInfo(attempt) {
  try {
    const info = await fetchEventInfo();
    state.info = { ...state.info, ...info, limits: { ...state.info.limits, ...(info.limits || {}) } };
  } catch {
    ui.loading.textContent = t('join.unreachable');
    const delay = Math.min(20000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    setTimeout(() => loadEventInfo(attempt + 1), delay);
    return;
  }
  setDefaultLanguage(state.info.language);
  renderEventInfo();
  const identity = loadIdentity();
  if (identity) {
    showApp();
    connect();
  } else {
    showJoin();
  }
}

function renderEventInfo() {
  ui.title.textContent = state.info.title || 'Stelling';
  document.title = state.info.title || 'Stelling';
  const groups = state.info.groups || [];
  ui.joinGroupField.hidden = groups.length === 0;
  while (ui.joinGroup.options.length > 1) ui.joinGroup.remove(1);
  for (const group of groups) ui.joinGroup.append(h('option', { text: group, attrs: { value: group } }));
  ui.joinName.setAttribute('maxlength', String(state.info.limits.name_chars || 40));
  ui.programme.hidden = !(state.info.programme || []).length;
  renderProgramme(ui.programmeList, state.info.programme || []);
  renderCounter();
}

// ---- join ----

function showJoin(errorMessage = '') {
  ui.loading.hidden = true;
  ui.stage.hidden = true;
  ui.chat.hidden = true;
  ui.footer.hidden = true;
  ui.join.hidden = false;
  ui.present.hidden = true;
  document.body.classList.add('joining');
  ui.joinError.textContent = errorMessage;
  const identity = loadIdentity();
  if (identity) {
    ui.joinName.value = identity.name || '';
    ui.joinGroup.value = identity.group || '';
  }
  ui.joinSubmit.disabled = false;
  if (errorMessage) ui.joinName.focus();
}

function showApp() {
  document.body.classList.remove('joining');
  ui.loading.hidden = true;
  ui.join.hidden = true;
  ui.stage.hidden = false;
  ui.chat.hidden = false;
  ui.footer.hidden = false;
}

ui.joinForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const name = ui.joinName.value.trim();
  const max = state.info.limits.name_chars || 40;
  // eslint-disable-next-line no-control-regex
  if (codePoints(name) < 1 || codePoints(name) > max || /[\u0000-\u001f\u007f-\u009f]/.test(name)) {
    ui.joinError.textContent = errorText({ code: 'invalid_name' }, state.info.limits);
    ui.joinName.setAttribute('aria-invalid', 'true');
    ui.joinName.focus();
    return;
  }
  ui.joinName.removeAttribute('aria-invalid');
  const groups = state.info.groups || [];
  const group = ui.joinGroup.value;
  if (groups.length && !groups.includes(group)) {
    ui.joinError.textContent = errorText({ code: 'invalid_group' });
    ui.joinGroup.setAttribute('aria-invalid', 'true');
    ui.joinGroup.focus();
    return;
  }
  ui.joinGroup.removeAttribute('aria-invalid');
  ui.joinError.textContent = '';
  ui.joinSubmit.disabled = true;
  const previous = loadIdentity();
  saveIdentity({ name, group: groups.length ? group : '', resume: previous && previous.resume ? previous.resume : undefined });
  connect();
});

function connect() {
  if (connection) connection.stop();
  ui.conn.hidden = false;
  connection = new Connection({
    join: () => {
      const identity = loadIdentity() || {};
      const message = { type: 'join', name: identity.name || '' };
      if (identity.group) message.group = identity.group;
      if (identity.resume) message.resume = identity.resume;
      return message;
    },
    onEvent: handleEvent,
    onState: (s, info) => {
      onState(s, info);
      renderStage();
    },
    onJoinError: (error) => {
      connection = null;
      showJoin(errorText(error, state.info.limits));
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
    case 'announcement': return announcementChanged(event.text);
    case 'error': return; // errors without a ref of ours: nothing a person can act on
    default: return;
  }
}

function welcome(event) {
  const session = event.session || {};
  const identity = loadIdentity() || {};
  state.you = event.you;
  if (event.resume) {
    saveIdentity({ ...identity, name: event.you.name, group: event.you.group || '', resume: event.resume });
  }
  const previousStatement = state.current ? state.current.statement : null;
  state.statements = session.statements || [];
  state.current = session.current || null;
  state.myVotes = session.myVotes || {};
  state.tally = session.tally || null;
  state.present = session.present ?? null;
  state.pendingVote = null;
  if (session.programme) state.info.programme = session.programme;
  if (session.title) { state.info.title = session.title; }
  renderEventInfo();
  state.messages = new Map();
  for (const message of session.chat || []) state.messages.set(message.id, message);
  showApp();
  renderAll();
  renderChatList(true);
  announcementChanged(session.announcement ?? null, { quiet: true });
  if (state.current && state.current.statement !== previousStatement) {
    announce(ui.live, t('live.statement', { text: statementText(state.current.statement) }));
  }
}

function statementChanged(event) {
  const before = state.current;
  if (Array.isArray(event.statements)) state.statements = event.statements;
  state.current = event.current || null;
  const now = state.current;
  if (!now) { state.tally = null; renderStage(); return; }
  const changed = !before || before.statement !== now.statement;
  if (changed) {
    state.tally = null;
    state.pendingVote = null;
    ui.voteError.textContent = '';
    announce(ui.live, t('live.statement', { text: statementText(now.statement) }));
  } else if (before.voting === 'open' && now.voting === 'closed') {
    announce(ui.live, t('live.closed'));
  }
  if (now.results === 'visible' && (changed || before.results !== 'visible')) {
    state.resultsToAnnounce = true;
    if (state.tally && state.tally.statement === now.statement) announceResults();
  }
  if (now.results !== 'visible') state.resultsToAnnounce = false;
  renderStage();
}

function tallied(tally) {
  if (!state.current || tally.statement !== state.current.statement) return;
  state.tally = tally;
  renderStage();
  if (state.resultsToAnnounce && state.current.results === 'visible') announceResults();
}

function announceResults() {
  state.resultsToAnnounce = false;
  announce(ui.live, resultsSentence(state.tally));
}

function announcementChanged(text, { quiet = false } = {}) {
  const changed = text !== state.announcement;
  state.announcement = text || null;
  renderAnnouncement(ui.banner, ui.bannerText, state.announcement);
  if (changed && state.announcement && !quiet) announce(ui.live, t('announcement') + ': ' + state.announcement);
}

// ---- rendering ----

function renderAll() {
  renderPresent();
  renderStage();
  renderChatList(false);
  renderYou();
  renderCounter();
  renderProgramme(ui.programmeList, state.info.programme || []);
}

function renderPresent() {
  if (state.present === null || state.present === undefined || !state.you) {
    ui.present.hidden = true;
    return;
  }
  ui.present.hidden = false;
  ui.present.textContent = tn('present', state.present);
}

function renderYou() {
  if (!state.you) { ui.you.textContent = ''; return; }
  ui.you.textContent = state.you.group
    ? t('you.as.group', { name: state.you.name, group: state.you.group })
    : t('you.as', { name: state.you.name });
}

function statementText(id) {
  const statement = state.statements.find((s) => s.id === id);
  return statement ? statement.text : '';
}

function renderStage() {
  const current = state.current;
  if (!current) {
    ui.statementLabel.textContent = '';
    ui.votingBadge.hidden = true;
    ui.statementText.textContent = t('statement.none');
    ui.statementText.classList.add('waiting');
    ui.vote.hidden = true;
    ui.voteStatus.textContent = '';
    ui.results.hidden = true;
    return;
  }
  ui.statementText.classList.remove('waiting');
  const index = state.statements.findIndex((s) => s.id === current.statement);
  ui.statementLabel.textContent = t('statement.label', { n: index + 1, total: state.statements.length });
  ui.statementText.textContent = statementText(current.statement);
  const open = current.voting === 'open';
  ui.votingBadge.hidden = false;
  ui.votingBadge.textContent = t(open ? 'voting.open' : 'voting.closed');
  ui.votingBadge.dataset.state = open ? 'open' : 'closed';
  ui.stage.dataset.voting = open ? 'open' : 'closed';

  const mine = state.myVotes[current.statement] || null;
  const online = connection && connection.state === 'online';
  ui.vote.hidden = false;
  for (const button of ui.vote.querySelectorAll('.vote-btn')) {
    const choice = button.dataset.choice;
    button.setAttribute('aria-pressed', String(choice === mine));
    button.classList.toggle('pending', choice === state.pendingVote);
    button.disabled = !open || !online;
  }
  if (state.pendingVote) ui.voteStatus.textContent = t('vote.sending');
  else if (open) ui.voteStatus.textContent = mine ? t('vote.yours', { choice: t('choice.' + mine) }) : t('vote.none');
  else ui.voteStatus.textContent = mine ? t('vote.closed.yours', { choice: t('choice.' + mine) }) : t('vote.closed.none');

  const visible = current.results === 'visible' && state.tally && state.tally.statement === current.statement;
  ui.results.hidden = !visible;
  if (visible) {
    renderBars(ui.bars, state.tally);
    ui.turnout.textContent = turnoutText(state.tally);
  }
}

ui.vote.addEventListener('click', (event) => {
  const button = event.target.closest('.vote-btn');
  if (!button || button.disabled || !state.current) return;
  const choice = button.dataset.choice;
  if (!CHOICES.includes(choice)) return;
  const statement = state.current.statement;
  state.pendingVote = choice;
  ui.voteError.textContent = '';
  renderStage();
  connection.request({ type: 'vote', statement, choice }).then(() => {
    state.myVotes[statement] = choice;
    if (state.pendingVote === choice) state.pendingVote = null;
    renderStage();
    announce(ui.live, t('live.vote', { choice: t('choice.' + choice) }));
  }, (error) => {
    if (state.pendingVote === choice) state.pendingVote = null;
    renderStage();
    ui.voteError.textContent = errorText(error, state.info.limits);
  });
});

// ---- chat ----

function isNearBottom() {
  const list = ui.chatList;
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

function scrollToBottom() {
  ui.chatList.scrollTop = ui.chatList.scrollHeight;
}

function messageElement(message) {
  const own = state.you && message.from && message.from.id === state.you.id;
  const moderator = message.from && message.from.role === 'moderator';
  const classes = ['msg'];
  if (own) classes.push('own');
  if (moderator) classes.push('from-moderator');
  const tags = [];
  if (own) tags.push(h('span', { class: 'msg-tag', text: t('chat.you') }));
  if (moderator) tags.push(h('span', { class: 'msg-tag msg-tag-mod', text: t('chat.moderator') }));
  return h('li', { class: classes.join(' '), dataset: { id: message.id } },
    h('div', { class: 'msg-head' },
      h('span', { class: 'msg-name', text: message.from ? message.from.name : '' }),
      ...tags,
      h('time', { class: 'msg-time', text: clockTime(message.at), attrs: { datetime: message.at } })),
    h('p', { class: 'msg-text', text: message.text }));
}

function renderChatList(toBottom) {
  const stick = toBottom || isNearBottom();
  clear(ui.chatList);
  const messages = [...state.messages.values()].slice(-MAX_CHAT_SHOWN);
  for (const message of messages) ui.chatList.append(messageElement(message));
  ui.chatEmpty.hidden = messages.length > 0;
  if (stick) scrollToBottom();
}

function chatReceived(message) {
  if (!message || state.messages.has(message.id)) return;
  const stick = isNearBottom() || (state.you && message.from && message.from.id === state.you.id);
  state.messages.set(message.id, message);
  ui.chatList.append(messageElement(message));
  while (ui.chatList.children.length > MAX_CHAT_SHOWN) ui.chatList.firstElementChild.remove();
  if (state.messages.size > MAX_CHAT_SHOWN * 2) {
    const keep = [...state.messages.entries()].slice(-MAX_CHAT_SHOWN);
    state.messages = new Map(keep);
  }
  ui.chatEmpty.hidden = true;
  if (stick) scrollToBottom();
}

function messageHidden(id) {
  state.messages.delete(id);
  for (const element of ui.chatList.querySelectorAll('.msg')) {
    if (element.dataset.id === String(id)) element.remove();
  }
  ui.chatEmpty.hidden = state.messages.size > 0;
}

function renderCounter() {
  const max = state.info.limits.chat_chars || 500;
  const n = codePoints(ui.chatInput.value);
  ui.chatCounter.textContent = t('chat.counter', { n, max });
  ui.chatCounter.classList.toggle('over', n > max);
  ui.chatCounter.classList.toggle('near', n <= max && n > max * 0.9);
  ui.chatCounterLabel.textContent = t('chat.counter.label', { left: Math.max(0, max - n) });
  ui.chatInput.setAttribute('aria-invalid', String(n > max));
}

ui.chatInput.addEventListener('input', () => {
  renderCounter();
  if (ui.chatError.textContent && !state.sendingChat) ui.chatError.textContent = '';
});

ui.chatInput.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.chatForm.requestSubmit();
  }
});

ui.chatForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (state.sendingChat) return;
  const text = ui.chatInput.value;
  const max = state.info.limits.chat_chars || 500;
  if (text.trim() === '') { ui.chatError.textContent = errorText({ code: 'empty' }); return; }
  if (codePoints(text) > max) { ui.chatError.textContent = errorText({ code: 'too_long' }, state.info.limits); return; }
  if (!connection) return;
  state.sendingChat = true;
  ui.chatSend.disabled = true;
  ui.chatError.textContent = '';
  connection.request({ type: 'chat', text }).then(() => {
    if (ui.chatInput.value === text) ui.chatInput.value = '';
    renderCounter();
  }, (error) => {
    ui.chatError.textContent = errorText(error, state.info.limits);
  }).finally(() => {
    state.sendingChat = false;
    ui.chatSend.disabled = false;
  });
});

// ---- leaving ----

ui.leave.addEventListener('click', () => {
  if (!window.confirm(t('leave.confirm'))) return;
  forgetIdentity();
  if (connection) connection.stop();
  connection = null;
  state.you = null;
  location.reload();
});

// For the browser tests: lets them drop the socket to exercise the reconnect.
window.stellingDebug = { get connection() { return connection; } };
