// The participant page: join, vote, chat, questions to the panel, programme, announcement.
// The state comes from the pure reducer in session.js; this file only renders it
// and sends requests.
import { Connection, fetchEventInfo, isOnline } from './connection.js';
import { byId, h, clear, codePoints, announce } from './dom.js';
import { t, tn, onLanguageChange, setDefaultLanguage } from './i18n.js';
import {
  CHOICES, startPage, renderBars, resultsSentence, turnoutText, errorText,
  renderAnnouncement, renderProgramme, questionElement,
} from './ui.js';
import { createStore, statementText, currentPosition, rankedQuestions, liveQuestion } from './session.js';
import { ChatView } from './chat.js';

const IDENTITY_KEY = 'stelling.participant';
const MAX_CHAT_SHOWN = 300;

const ui = {
  title: byId('event-title'), present: byId('present'), conn: byId('conn'), retry: byId('retry'),
  lang: byId('lang'), banner: byId('announcement'), bannerText: byId('announcement-text'),
  loading: byId('loading'), join: byId('join'), joinForm: byId('join-form'), joinName: byId('join-name'),
  joinGroupField: byId('join-group-field'), joinGroup: byId('join-group'), joinError: byId('join-error'),
  joinSubmit: byId('join-submit'), joinRemember: byId('join-remember'),
  stage: byId('stage'), statementLabel: byId('statement-label'), votingBadge: byId('voting-badge'),
  statementText: byId('statement-text'), vote: byId('vote'), voteStatus: byId('vote-status'),
  voteError: byId('vote-error'), results: byId('results'), bars: byId('bars'), turnout: byId('turnout'),
  chat: byId('chat'), you: byId('you'),
  tabChat: byId('tab-chat'), tabQuestions: byId('tab-questions'), tabQuestionsCount: byId('tab-questions-count'),
  panelChat: byId('panel-chat'), panelQuestions: byId('panel-questions'),
  askForm: byId('ask-form'), askInput: byId('ask-input'), askAnonymous: byId('ask-anonymous'), askSend: byId('ask-send'),
  askClosed: byId('ask-closed'), askError: byId('ask-error'), sortVotes: byId('sort-votes'), sortTime: byId('sort-time'),
  questionList: byId('question-list'), questionsEmpty: byId('questions-empty'),
  answeredWrap: byId('answered-wrap'), answeredCount: byId('answered-count'), answeredList: byId('answered-list'),
  programme: byId('programme'), programmeList: byId('programme-list'),
  footer: byId('footer'), yourId: byId('your-id'), leave: byId('leave'), live: byId('live'),
};

const page = {
  info: { title: 'Stelling', groups: [], programme: [], limits: { chat_chars: 500, name_chars: 40, question_chars: 300 } },
  pendingVote: null,
  resultsToAnnounce: false,
  order: 'votes',
  asking: false,
  upvoting: new Set(),
  erased: false,
};
const store = createStore(changed);
let connection = null;

// ---- identity: sessionStorage by default, localStorage only with "remember me" ----
// (issue 13: shared computers in ministries and libraries must not keep a person.)

function storages() {
  const list = [];
  try { list.push(sessionStorage); } catch { /* blocked */ }
  try { list.push(localStorage); } catch { /* blocked */ }
  return list;
}

function loadIdentity() {
  for (const store of storages()) {
    try {
      const value = JSON.parse(store.getItem(IDENTITY_KEY) || 'null');
      if (value && typeof value.name === 'string') return value;
    } catch { /* ignore a damaged entry */ }
  }
  return null;
}

function saveIdentity(identity) {
  let keep = null;
  let drop = null;
  try {
    keep = identity.remember ? localStorage : sessionStorage;
    drop = identity.remember ? sessionStorage : localStorage;
  } catch { return; }
  try { keep.setItem(IDENTITY_KEY, JSON.stringify(identity)); } catch { /* private mode */ }
  try { drop.removeItem(IDENTITY_KEY); } catch { /* ignore */ }
}

function forgetIdentity() {
  for (const store of storages()) {
    try { store.removeItem(IDENTITY_KEY); } catch { /* ignore */ }
  }
}

// ---- start ----

const onState = startPage(ui, () => connection);
const chat = new ChatView({
  store,
  getConnection: () => connection,
  limits: () => page.info.limits,
  maxShown: MAX_CHAT_SHOWN,
});
onLanguageChange(renderAll);
loadEventInfo(0);
setInterval(() => renderProgramme(ui.programmeList, page.info.programme || []), 30000);

async function loadEventInfo(attempt) {
  try {
    const info = await fetchEventInfo();
    page.info = { ...page.info, ...info, limits: { ...page.info.limits, ...(info.limits || {}) } };
  } catch {
    ui.loading.textContent = t('join.unreachable');
    const delay = Math.min(20000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    setTimeout(() => loadEventInfo(attempt + 1), delay);
    return;
  }
  setDefaultLanguage(page.info.language);
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
  ui.title.textContent = page.info.title || 'Stelling';
  document.title = page.info.title || 'Stelling';
  const groups = page.info.groups || [];
  ui.joinGroupField.hidden = groups.length === 0;
  while (ui.joinGroup.options.length > 1) ui.joinGroup.remove(1);
  for (const group of groups) ui.joinGroup.append(h('option', { text: group, attrs: { value: group } }));
  ui.joinName.setAttribute('maxlength', String(page.info.limits.name_chars || 40));
  ui.programme.hidden = !(page.info.programme || []).length;
  renderProgramme(ui.programmeList, page.info.programme || []);
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
    ui.joinRemember.checked = Boolean(identity.remember);
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
  const max = page.info.limits.name_chars || 40;
  // eslint-disable-next-line no-control-regex
  if (codePoints(name) < 1 || codePoints(name) > max || /[\u0000-\u001f\u007f-\u009f]/.test(name)) {
    ui.joinError.textContent = errorText({ code: 'invalid_name' }, page.info.limits);
    ui.joinName.setAttribute('aria-invalid', 'true');
    ui.joinName.focus();
    return;
  }
  ui.joinName.removeAttribute('aria-invalid');
  const groups = page.info.groups || [];
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
  saveIdentity({
    name, group: groups.length ? group : '', remember: ui.joinRemember.checked,
    resume: previous && previous.resume && !page.erased ? previous.resume : undefined,
  });
  page.erased = false;
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
    onEvent: store.dispatch,
    onState: (s, info) => {
      onState(s, info);
      renderStage();
      renderQuestions();
    },
    onJoinError: (error) => {
      connection = null;
      showJoin(errorText(error, page.info.limits));
    },
    onErased: () => {
      // A moderator erased this participant: forget the token and name here too.
      connection = null;
      page.erased = true;
      forgetIdentity();
      store.reset();
      ui.joinName.value = '';
      ui.conn.hidden = true;
      showJoin(t('erased'));
    },
  });
  connection.start();
}

// ---- events: the reducer makes the state, the page renders what changed ----

function changed(before, event) {
  switch (event.type) {
    case 'welcome': return welcomed(before, event);
    case 'statement': return statementChanged(before);
    case 'tally': return tallied();
    case 'chat': case 'hidden': return chat.render();
    case 'presence': return renderPresent();
    case 'announcement': return announcementChanged(before.announcement);
    case 'chat_mode': return chat.renderMode();
    case 'question': questionChanged(before); return renderQuestions();
    case 'upvotes': case 'questions': case '@upvoted': return renderQuestions();
    case '@chat_wait': return chat.renderMode();
    default: return undefined;
  }
}

/** Tells screen readers which question went to the panel. */
function questionChanged(before) {
  const live = liveQuestion(store.state);
  const previous = liveQuestion(before);
  if (live && (!previous || previous.id !== live.id)) announce(ui.live, t('q.state.live') + ': ' + live.text);
}

function welcomed(before, event) {
  const identity = loadIdentity() || {};
  if (event.resume) {
    saveIdentity({ ...identity, name: event.you.name, group: event.you.group || '', resume: event.resume });
  }
  page.pendingVote = null;
  if (store.state.programme) page.info.programme = store.state.programme;
  if (store.state.title) page.info.title = store.state.title;
  renderEventInfo();
  showApp();
  renderAll();
  chat.render(true);
  chat.scrollToBottom();
  renderAnnouncement(ui.banner, ui.bannerText, store.state.announcement);
  const previous = before.current ? before.current.statement : null;
  if (store.state.current && store.state.current.statement !== previous) {
    announce(ui.live, t('live.statement', { text: statementText(store.state, store.state.current.statement) }));
  }
}

function statementChanged(before) {
  const now = store.state.current;
  if (!now) { renderStage(); return; }
  const changed = !before.current || before.current.statement !== now.statement;
  if (changed) {
    page.pendingVote = null;
    ui.voteError.textContent = '';
    announce(ui.live, t('live.statement', { text: statementText(store.state, now.statement) }));
  } else if (before.current.voting === 'open' && now.voting === 'closed') {
    announce(ui.live, t('live.closed'));
  }
  if (now.results === 'visible' && (changed || before.current.results !== 'visible')) {
    page.resultsToAnnounce = true;
    if (store.state.tally) announceResults();
  }
  if (now.results !== 'visible') page.resultsToAnnounce = false;
  renderStage();
}

function tallied() {
  renderStage();
  if (page.resultsToAnnounce && store.state.tally && store.state.current && store.state.current.results === 'visible') announceResults();
}

function announceResults() {
  page.resultsToAnnounce = false;
  announce(ui.live, resultsSentence(store.state.tally));
}

function announcementChanged(previous) {
  renderAnnouncement(ui.banner, ui.bannerText, store.state.announcement);
  if (store.state.announcement && store.state.announcement !== previous) announce(ui.live, t('announcement') + ': ' + store.state.announcement);
}

// ---- rendering ----

function renderAll() {
  renderPresent();
  renderStage();
  chat.render(true);
  renderYou();
  renderQuestions();
  renderProgramme(ui.programmeList, page.info.programme || []);
}

function renderPresent() {
  if (store.state.present === null || store.state.present === undefined || !store.state.you) {
    ui.present.hidden = true;
    return;
  }
  ui.present.hidden = false;
  ui.present.textContent = tn('present', store.state.present);
}

function renderYou() {
  const you = store.state.you;
  ui.yourId.textContent = you ? you.id : '';
  if (!you) { ui.you.textContent = ''; return; }
  ui.you.textContent = you.group ? t('you.as.group', { name: you.name, group: you.group }) : t('you.as', { name: you.name });
}

function renderStage() {
  const current = store.state.current;
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
  ui.statementLabel.textContent = t('statement.label', { n: currentPosition(store.state), total: store.state.statements.length });
  ui.statementText.textContent = statementText(store.state, current.statement);
  const open = current.voting === 'open';
  ui.votingBadge.hidden = false;
  ui.votingBadge.textContent = t(open ? 'voting.open' : 'voting.closed');
  ui.votingBadge.dataset.state = open ? 'open' : 'closed';
  ui.stage.dataset.voting = open ? 'open' : 'closed';

  const mine = store.state.myVotes[current.statement] || null;
  ui.vote.hidden = false;
  for (const button of ui.vote.querySelectorAll('.vote-btn')) {
    const choice = button.dataset.choice;
    button.setAttribute('aria-pressed', String(choice === mine));
    button.classList.toggle('pending', choice === page.pendingVote);
    button.disabled = !open || !isOnline(connection);
  }
  if (page.pendingVote) ui.voteStatus.textContent = t('vote.sending');
  else if (open) ui.voteStatus.textContent = mine ? t('vote.yours', { choice: t('choice.' + mine) }) : t('vote.none');
  else ui.voteStatus.textContent = mine ? t('vote.closed.yours', { choice: t('choice.' + mine) }) : t('vote.closed.none');

  const visible = current.results === 'visible' && store.state.tally;
  ui.results.hidden = !visible;
  if (visible) {
    renderBars(ui.bars, store.state.tally);
    ui.turnout.textContent = turnoutText(store.state.tally);
  }
}

ui.vote.addEventListener('click', (event) => {
  const button = event.target.closest('.vote-btn');
  if (!button || button.disabled || !store.state.current) return;
  const choice = button.dataset.choice;
  if (!CHOICES.includes(choice)) return;
  const statement = store.state.current.statement;
  page.pendingVote = choice;
  ui.voteError.textContent = '';
  renderStage();
  connection.request({ type: 'vote', statement, choice }).then(() => {
    if (page.pendingVote === choice) page.pendingVote = null;
    store.dispatch({ type: '@voted', statement, choice });
    renderStage();
    announce(ui.live, t('live.vote', { choice: t('choice.' + choice) }));
  }, (error) => {
    if (page.pendingVote === choice) page.pendingVote = null;
    renderStage();
    ui.voteError.textContent = errorText(error, page.info.limits);
  });
});

// ---- tabs: chat and questions ----

function selectTab(which, focus = false) {
  const questions = which === 'questions';
  ui.tabChat.setAttribute('aria-selected', String(!questions));
  ui.tabQuestions.setAttribute('aria-selected', String(questions));
  ui.tabChat.tabIndex = questions ? -1 : 0;
  ui.tabQuestions.tabIndex = questions ? 0 : -1;
  ui.panelChat.hidden = questions;
  ui.panelQuestions.hidden = !questions;
  if (focus) (questions ? ui.tabQuestions : ui.tabChat).focus();
  if (!questions) chat.scrollToBottom();
}

ui.tabChat.addEventListener('click', () => selectTab('chat'));
ui.tabQuestions.addEventListener('click', () => selectTab('questions'));
for (const tab of [ui.tabChat, ui.tabQuestions]) {
  tab.addEventListener('keydown', (event) => {
    if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) {
      event.preventDefault();
      const toQuestions = event.key === 'End' || ((event.key === 'ArrowRight' || event.key === 'ArrowLeft') && tab === ui.tabChat);
      selectTab(toQuestions ? 'questions' : 'chat', true);
    }
  });
}

// ---- questions ----

function ownQuestion(question) {
  const identity = loadIdentity() || {};
  if ((identity.asked || []).includes(question.id)) return true;
  return Boolean(store.state.you && question.from && question.from.id === store.state.you.id);
}

function upvoteButton(question) {
  const mine = store.state.myUpvotes.includes(question.id);
  const count = question.upvotes || 0;
  return h('button', {
    class: 'btn btn-small upvote', attrs: {
      type: 'button', 'aria-pressed': String(mine), disabled: !isOnline(connection), 'aria-busy': page.upvoting.has(question.id) ? 'true' : null,
      'aria-label': t(mine ? 'q.upvote.undo.label' : 'q.upvote.label', { n: count }),
    },
    dataset: { question: question.id },
    on: { click: () => toggleUpvote(question.id) },
  }, h('span', { class: 'upvote-mark', attrs: { 'aria-hidden': 'true' }, text: '▲' }), h('span', { class: 'upvote-count', text: String(count) }));
}

function participantQuestion(question) {
  const own = ownQuestion(question);
  const closed = question.state === 'answered' || question.state === 'dismissed';
  let side;
  if (own || closed || question.state === 'pending') {
    side = h('span', { class: 'upvote-static', attrs: { 'aria-label': tn('q.upvotes', question.upvotes || 0) } },
      h('span', { class: 'upvote-mark', attrs: { 'aria-hidden': 'true' }, text: '▲' }), h('span', { class: 'upvote-count', text: String(question.upvotes || 0) }));
  } else {
    side = upvoteButton(question);
  }
  return questionElement(question, { own, side });
}

function renderQuestions() {
  // A server without Revision 2 questions (no "questions" in the welcome's features) gets no tab.
  const supported = !store.state.welcomed || store.state.features.includes('questions');
  ui.tabQuestions.hidden = !supported;
  if (!supported && !ui.panelQuestions.hidden) selectTab('chat');
  // The lists are redrawn when counts change: keep the keyboard focus on the same upvote button.
  const focused = document.activeElement && document.activeElement.matches && document.activeElement.matches('button.upvote')
    ? document.activeElement.dataset.question : null;
  const visible = rankedQuestions(store.state, { order: page.order, states: ['live', 'open'] });
  const mine = store.state.questions.filter((q) => q.state === 'pending' && ownQuestion(q));
  clear(ui.questionList);
  for (const question of [...mine, ...visible]) ui.questionList.append(participantQuestion(question));
  ui.questionsEmpty.hidden = visible.length + mine.length > 0;
  const answered = rankedQuestions(store.state, { order: 'time', states: ['answered'] });
  ui.answeredWrap.hidden = answered.length === 0;
  ui.answeredCount.textContent = String(answered.length);
  clear(ui.answeredList);
  for (const question of answered) ui.answeredList.append(participantQuestion(question));
  if (focused) {
    const again = ui.panelQuestions.querySelector('button.upvote[data-question="' + CSS.escape(focused) + '"]');
    if (again) again.focus();
  }
  ui.tabQuestionsCount.textContent = visible.length ? '(' + visible.length + ')' : '';
  ui.askClosed.hidden = store.state.questionsOpen;
  ui.askInput.disabled = !store.state.questionsOpen;
  ui.askSend.disabled = !store.state.questionsOpen || page.asking || !isOnline(connection);
  ui.askAnonymous.disabled = !store.state.questionsOpen;
  ui.sortVotes.setAttribute('aria-pressed', String(page.order === 'votes'));
  ui.sortTime.setAttribute('aria-pressed', String(page.order === 'time'));
}

ui.sortVotes.addEventListener('click', () => { page.order = 'votes'; renderQuestions(); });
ui.sortTime.addEventListener('click', () => { page.order = 'time'; renderQuestions(); });

function toggleUpvote(id) {
  if (!connection || page.upvoting.has(id)) return;
  const up = !store.state.myUpvotes.includes(id);
  page.upvoting.add(id);
  ui.askError.textContent = '';
  connection.request({ type: 'upvote', question: id, up }).then(() => {
    page.upvoting.delete(id);
    store.dispatch({ type: '@upvoted', question: id, up });
  }, (error) => {
    page.upvoting.delete(id);
    renderQuestions();
    ui.askError.textContent = errorText(error, page.info.limits);
  });
  renderQuestions();
}

ui.askForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (page.asking || !connection) return;
  const text = ui.askInput.value;
  const max = page.info.limits.question_chars || 300;
  if (text.trim() === '') { ui.askError.textContent = t('error.empty.question'); return; }
  if (codePoints(text) > max) { ui.askError.textContent = t('error.too_long', { max }); return; }
  page.asking = true;
  ui.askError.textContent = '';
  renderQuestions();
  connection.request({ type: 'ask', text, anonymous: ui.askAnonymous.checked }).then((ack) => {
    if (ui.askInput.value === text) ui.askInput.value = '';
    if (ack && typeof ack.id === 'string') {
      const identity = loadIdentity() || {};
      saveIdentity({ ...identity, asked: [...(identity.asked || []), ack.id].slice(-50) });
    }
    announce(ui.live, t('q.asked'));
  }, (error) => {
    ui.askError.textContent = error && error.code === 'rate_limited' && Number.isFinite(error.retry_after_ms)
      ? t('error.rate_limited.wait', { s: Math.max(1, Math.ceil(error.retry_after_ms / 1000)) })
      : errorText(error, { ...page.info.limits, chat_chars: max });
  }).finally(() => {
    page.asking = false;
    renderQuestions();
  });
});

// ---- leaving: removes the token and name from both storages ----

ui.leave.addEventListener('click', () => {
  if (!window.confirm(t('leave.confirm'))) return;
  forgetIdentity();
  if (connection) connection.stop();
  connection = null;
  location.reload();
});

// For the browser tests: lets them drop the socket to exercise the reconnect.
window.stellingDebug = { get connection() { return connection; }, get session() { return store.state; } };
