// The presenter screen: the statement in large type, live result bars once revealed,
// the participant count and the join address. It joins as a screen and only listens.
import { Connection, fetchEventInfo } from './connection.js';
import { byId, announce } from './dom.js';
import { t, tn, applyStatic, bindLanguageToggle, onLanguageChange, setDefaultLanguage } from './i18n.js';
import { connectionIndicator, renderBars, resultsSentence, votesText } from './ui.js';

const ui = {
  stage: byId('stage'), title: byId('event-title'), present: byId('present'), conn: byId('conn'), retry: byId('retry'),
  lang: byId('lang'), label: byId('statement-label'), text: byId('statement-text'), results: byId('results'),
  bars: byId('bars'), votes: byId('votes'), status: byId('status'), joinUrl: byId('join-url'),
  announcement: byId('announcement'), live: byId('live'),
};

const state = { title: 'Stelling', statements: [], current: null, tally: null, present: null, announcement: null, pendingResults: false };
let connection = null;

// ?lang=en on the screen's address picks the language without a click (handy for a stream set-up).
const wanted = new URLSearchParams(location.search).get('lang');
applyStatic();
bindLanguageToggle(ui.lang);
if (wanted === 'nl' || wanted === 'en') {
  try { localStorage.setItem('stelling.lang', wanted); } catch { /* ignore */ }
  applyStatic();
}
const onState = connectionIndicator(ui.conn, ui.retry, () => connection);
onLanguageChange(render);
ui.joinUrl.textContent = location.origin + '/';

fetchEventInfo().then((info) => {
  setDefaultLanguage(info.language);
  state.title = info.title || state.title;
  render();
}, () => { /* the welcome brings the title */ });

connection = new Connection({
  join: () => ({ type: 'join', role: 'screen' }),
  onEvent: handleEvent,
  onState,
});
connection.start();
render();

function handleEvent(event) {
  switch (event.type) {
    case 'welcome': {
      const session = event.session || {};
      state.title = session.title || state.title;
      state.statements = session.statements || [];
      state.current = session.current || null;
      state.tally = session.tally || null;
      state.present = session.present ?? null;
      state.announcement = session.announcement ?? null;
      break;
    }
    case 'statement': {
      const before = state.current;
      if (Array.isArray(event.statements)) state.statements = event.statements;
      state.current = event.current || null;
      if (!state.current || !before || before.statement !== state.current.statement) {
        state.tally = null;
        if (state.current) {
          const statement = state.statements.find((s) => s.id === state.current.statement);
          announce(ui.live, t('live.statement', { text: statement ? statement.text : '' }));
        }
      }
      if (state.current && state.current.results === 'visible' && (!before || before.results !== 'visible' || before.statement !== state.current.statement)) {
        state.pendingResults = true;
      }
      break;
    }
    case 'tally':
      if (state.current && event.statement === state.current.statement) {
        state.tally = event;
        if (state.pendingResults && state.current.results === 'visible') {
          state.pendingResults = false;
          announce(ui.live, resultsSentence(event));
        }
      }
      break;
    case 'presence': state.present = event.present; break;
    case 'announcement': state.announcement = event.text || null; break;
    default: return;
  }
  render();
}

function render() {
  ui.title.textContent = state.title;
  document.title = state.title + ': ' + t('screen.title');
  ui.present.textContent = state.present === null ? '' : tn('screen.present', state.present);
  ui.announcement.hidden = !state.announcement;
  ui.announcement.textContent = state.announcement || '';
  const current = state.current;
  if (!current) {
    ui.stage.dataset.mode = 'waiting';
    ui.label.textContent = '';
    ui.text.textContent = t('screen.waiting');
    ui.results.hidden = true;
    ui.status.textContent = '';
    return;
  }
  const index = state.statements.findIndex((s) => s.id === current.statement);
  const statement = state.statements[index];
  const text = statement ? statement.text : '';
  ui.label.textContent = t('statement.label', { n: index + 1, total: state.statements.length });
  ui.text.textContent = text;
  // Long statements step down a size so they stay on the screen.
  const length = Array.from(text).length;
  ui.text.dataset.size = length > 220 ? 's' : length > 120 ? 'm' : 'l';
  const visible = current.results === 'visible' && state.tally && state.tally.statement === current.statement;
  ui.stage.dataset.mode = visible ? 'results' : current.voting === 'open' ? 'voting' : 'closed';
  ui.results.hidden = !visible;
  if (visible) {
    renderBars(ui.bars, state.tally, { counts: false });
    ui.votes.textContent = votesText(state.tally.voters || 0);
  }
  if (current.voting === 'open') ui.status.textContent = t('screen.vote');
  else ui.status.textContent = visible ? t('screen.closed') : t('screen.closed') + '. ' + t('screen.soon');
}
