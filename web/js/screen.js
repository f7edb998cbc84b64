// The presenter screen: the statement in large type, live result bars once revealed, the
// live question to the panel while there is one, the participant count, and the join
// address with its QR code (large before the first statement, in a corner afterwards).
// It joins as a screen and only listens; its state comes from the reducer in session.js.
import { Connection, fetchEventInfo } from './connection.js';
import { byId, h, clear, announce } from './dom.js';
import { t, tn, onLanguageChange, setDefaultLanguage } from './i18n.js';
import { startPage, renderBars, resultsSentence, votesText, participantAddress } from './ui.js';
import { createStore, statementText, currentPosition, liveQuestion } from './session.js';

const ui = {
  stage: byId('stage'), title: byId('event-title'), present: byId('present'), conn: byId('conn'), retry: byId('retry'),
  lang: byId('lang'), label: byId('statement-label'), text: byId('statement-text'), results: byId('results'),
  bars: byId('bars'), votes: byId('votes'), status: byId('status'), joinUrl: byId('join-url'),
  hero: byId('join-hero'), heroUrl: byId('hero-url'), questionMeta: byId('question-meta'),
  announcement: byId('announcement'), live: byId('live'),
};

const page = { title: 'Stelling', info: {}, pendingResults: false };
const store = createStore(changed);
let connection = null;

// ?lang=en on the screen's address picks the language without a click (handy for a stream set-up).
const wanted = new URLSearchParams(location.search).get('lang');
if (wanted === 'nl' || wanted === 'en') {
  try { localStorage.setItem('stelling.lang', wanted); } catch { /* ignore */ }
}
const onState = startPage(ui, () => connection);
onLanguageChange(render);
renderJoin();

fetchEventInfo().then((info) => {
  page.info = info || {};
  setDefaultLanguage(page.info.language);
  page.title = page.info.title || page.title;
  renderJoin();
  render();
}, () => { /* the welcome brings the title */ });

connection = new Connection({
  join: () => ({ type: 'join', role: 'screen' }),
  onEvent: store.dispatch,
  onState,
});
connection.start();
render();

function renderJoin() {
  const address = participantAddress(page.info);
  ui.joinUrl.textContent = address;
  ui.heroUrl.textContent = address;
}

function changed(before, event) {
  if (event.type === 'welcome' && store.state.title) page.title = store.state.title;
  if (event.type === 'statement') {
    const now = store.state.current;
    const changed = now && (!before.current || before.current.statement !== now.statement);
    if (changed) announce(ui.live, t('live.statement', { text: statementText(store.state, now.statement) }));
    if (now && now.results === 'visible' && (changed || !before.current || before.current.results !== 'visible')) page.pendingResults = true;
  }
  if (event.type === 'tally' && store.state.tally && page.pendingResults && store.state.current && store.state.current.results === 'visible') {
    page.pendingResults = false;
    announce(ui.live, resultsSentence(store.state.tally));
  }
  const question = liveQuestion(store.state);
  const previous = liveQuestion(before);
  if (question && (!previous || previous.id !== question.id)) announce(ui.live, t('screen.question') + ': ' + question.text);
  render();
}

function sizeOf(text) {
  // Long texts step down a size so they stay on the screen.
  const length = Array.from(text).length;
  return length > 220 ? 's' : length > 120 ? 'm' : 'l';
}

function render() {
  ui.title.textContent = page.title;
  document.title = page.title + ': ' + t('screen.title');
  ui.present.textContent = store.state.present === null ? '' : tn('screen.present', store.state.present);
  ui.announcement.hidden = !store.state.announcement;
  ui.announcement.textContent = store.state.announcement || '';
  const current = store.state.current;
  const question = liveQuestion(store.state);
  ui.hero.hidden = Boolean(current || question);
  ui.questionMeta.hidden = !question;
  if (question) {
    ui.stage.dataset.mode = 'question';
    ui.label.textContent = t('screen.question');
    ui.text.textContent = question.text || '';
    ui.text.dataset.size = sizeOf(question.text || '');
    ui.results.hidden = true;
    ui.status.textContent = '';
    clear(ui.questionMeta);
    ui.questionMeta.append(
      h('span', { class: 'upvotes', text: '▲ ' + tn('q.upvotes', question.upvotes || 0) }),
      h('span', { class: 'asker', text: question.from && question.from.name ? question.from.name : t('q.anonymous.name') }));
    return;
  }
  if (!current) {
    ui.stage.dataset.mode = 'waiting';
    ui.label.textContent = '';
    ui.text.textContent = t('screen.waiting');
    ui.text.dataset.size = 'l';
    ui.results.hidden = true;
    ui.status.textContent = '';
    return;
  }
  const text = statementText(store.state, current.statement);
  ui.label.textContent = t('statement.label', { n: currentPosition(store.state), total: store.state.statements.length });
  ui.text.textContent = text;
  ui.text.dataset.size = sizeOf(text);
  const visible = current.results === 'visible' && store.state.tally;
  ui.stage.dataset.mode = visible ? 'results' : current.voting === 'open' ? 'voting' : 'closed';
  ui.results.hidden = !visible;
  if (visible) {
    renderBars(ui.bars, store.state.tally, { counts: false });
    ui.votes.textContent = votesText(store.state.tally.voters || 0);
  }
  if (current.voting === 'open') ui.status.textContent = t('screen.vote');
  else ui.status.textContent = visible ? t('screen.closed') : t('screen.closed') + '. ' + t('screen.soon');
}
