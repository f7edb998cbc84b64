// Strings in Dutch (first) and English, the language toggle, and static translation of
// elements marked with data-i18n="key" (text) or data-i18n-attr="attr:key;attr:key".

const STRINGS = {
  nl: {
    'lang.toggle': 'English',
    'lang.toggle.label': 'Switch to English',
    'skip': 'Naar de inhoud',
    'conn.connecting': 'Verbinden…',
    'conn.online': 'Verbonden',
    'conn.waiting': 'Verbinding verbroken',
    'conn.countdown': 'opnieuw over {s} s',
    'conn.stopped': 'Niet verbonden',
    'conn.retry': 'Nu opnieuw verbinden',
    'present.one': '1 aanwezig',
    'present.other': '{n} aanwezig',
    'choice.agree': 'Eens',
    'choice.disagree': 'Oneens',
    'choice.pass': 'Geen mening',
    'statement.label': 'Stelling {n} van {total}',
    'statement.none': 'Nog geen stelling. De moderator begint zo.',
    'voting.open': 'Stemming open',
    'voting.closed': 'Stemming gesloten',
    'results.title': 'Uitslag',
    'results.hidden': 'Uitslag verborgen',
    'results.visible': 'Uitslag zichtbaar',
    'results.votes.one': '1 stem',
    'results.votes.other': '{n} stemmen',
    'results.turnout': '{voters} van {present} aanwezigen stemden ({pct})',
    'results.waiting': 'De uitslag verschijnt zodra de moderator die toont.',
    'results.bar': '{choice}: {pct} ({n})',
    'announcement': 'Mededeling',
    'programme.title': 'Programma',
    'programme.now': 'nu',
    'chat.title': 'Chat',
    'chat.you': 'u',
    'chat.moderator': 'moderator',
    'chat.label': 'Uw bericht',
    'chat.placeholder': 'Typ een bericht…',
    'chat.send': 'Versturen',
    'chat.counter': '{n} / {max}',
    'chat.counter.label': '{left} tekens over',
    'chat.empty': 'Nog geen berichten.',
    'chat.log': 'Chatberichten',
    'join.title': 'Doe mee',
    'join.intro': 'Vul uw naam in om mee te praten en te stemmen over de stellingen.',
    'join.name': 'Naam',
    'join.name.hint': 'Uw naam staat bij uw chatberichten. Hoe u stemt, zien andere deelnemers niet.',
    'join.group': 'Groep',
    'join.group.choose': 'Kies uw groep…',
    'join.group.hint': 'De uitslag wordt ook per groep bekeken.',
    'join.submit': 'Deelnemen',
    'join.loading': 'Het evenement wordt geladen…',
    'join.unreachable': 'De server is niet bereikbaar. We proberen het opnieuw.',
    'you.as': 'U doet mee als {name}',
    'you.as.group': 'U doet mee als {name} ({group})',
    'leave': 'Afmelden',
    'leave.confirm': 'Afmelden? Op dit apparaat wordt u dan niet meer herkend.',
    'vote.legend': 'Uw stem',
    'vote.none': 'U heeft nog niet gestemd.',
    'vote.yours': 'Uw stem: {choice}. U kunt die wijzigen zolang de stemming open is.',
    'vote.sending': 'Uw stem wordt verstuurd…',
    'vote.closed.yours': 'De stemming is gesloten. U stemde: {choice}.',
    'vote.closed.none': 'De stemming is gesloten. U heeft niet gestemd.',
    'live.statement': 'Nieuwe stelling: {text}',
    'live.vote': 'Uw stem is geregistreerd: {choice}.',
    'live.closed': 'De stemming is gesloten.',
    'live.results': 'Uitslag: eens {agree}, oneens {disagree}, geen mening {pass}.',
    'error.rate_limited': 'U stuurt wat snel achter elkaar. Wacht een paar seconden en probeer het opnieuw.',
    'error.muted': 'De moderator heeft uw chat uitgezet. Stemmen kan nog steeds.',
    'error.too_long': 'Dat bericht is te lang: maximaal {max} tekens.',
    'error.empty': 'Typ eerst een bericht.',
    'error.voting_closed': 'De stemming over deze stelling is al gesloten.',
    'error.unknown_statement': 'Deze stelling is niet (meer) bekend.',
    'error.invalid_choice': 'Die keuze is niet geldig.',
    'error.offline': 'Er is nu geen verbinding. Probeer het zo opnieuw.',
    'error.stopped': 'Er is nu geen verbinding. Probeer het zo opnieuw.',
    'error.invalid_name': 'Vul een naam in van 1 tot {max} tekens.',
    'error.invalid_group': 'Kies een van de groepen.',
    'error.unauthorized': 'Deze sleutel klopt niet. Controleer hem en probeer het opnieuw.',
    'error.forbidden': 'Dat mag u in deze rol niet doen.',
    'error.no_more_statements': 'Dit was de laatste stelling.',
    'error.no_current_statement': 'Er wordt nog geen stelling getoond.',
    'error.unknown_message': 'Dat bericht is niet (meer) bekend.',
    'error.unknown_participant': 'Die deelnemer is niet bekend.',
    'error.generic': 'Dat lukte niet ({code}). Probeer het opnieuw.',
    'mod.title': 'Moderator',
    'mod.key.title': 'Aanmelden als moderator',
    'mod.key.label': 'Moderatorsleutel',
    'mod.key.hint': 'De sleutel wordt alleen in dit tabblad bewaard en verdwijnt als u het sluit.',
    'mod.key.name': 'Uw naam (optioneel)',
    'mod.key.submit': 'Aanmelden',
    'mod.signout': 'Afmelden',
    'mod.statements': 'Stellingen',
    'mod.state.current': 'nu',
    'mod.state.shown': 'getoond',
    'mod.state.new': 'niet getoond',
    'mod.goto': 'Toon',
    'mod.goto.label': 'Toon stelling {n}',
    'mod.current': 'Huidige stelling',
    'mod.none': 'Er wordt nog geen stelling getoond. Kies “Volgende stelling” om te beginnen.',
    'mod.next': 'Volgende stelling',
    'mod.close': 'Stemming sluiten',
    'mod.open': 'Stemming openen',
    'mod.reveal': 'Uitslag tonen',
    'mod.unreveal': 'Uitslag verbergen',
    'mod.add.label': 'Nieuwe stelling toevoegen',
    'mod.add.submit': 'Toevoegen',
    'mod.add.done': 'Stelling toegevoegd.',
    'mod.tally': 'Live telling',
    'mod.turnout': 'Opkomst',
    'mod.turnout.value': '{voters} van {present} aanwezig ({pct})',
    'mod.groups': 'Per groep',
    'mod.group': 'Groep',
    'mod.total': 'Totaal',
    'mod.tally.none': 'Nog geen stemmen.',
    'mod.hide': 'Verbergen',
    'mod.hide.label': 'Bericht van {name} verbergen',
    'mod.mute': 'Chat uitzetten',
    'mod.unmute': 'Chat aanzetten',
    'mod.mute.label': 'Chat van {name} uitzetten',
    'mod.unmute.label': 'Chat van {name} weer aanzetten',
    'mod.muted': 'chat uit',
    'mod.announce': 'Mededeling',
    'mod.announce.label': 'Tekst van de mededeling',
    'mod.announce.submit': 'Vastzetten',
    'mod.announce.remove': 'Weghalen',
    'mod.announce.current': 'Nu vastgezet:',
    'mod.announce.none': 'Er is geen mededeling vastgezet.',
    'mod.export': 'Exporteren',
    'mod.export.hint': 'Downloads met de uitslagen, stemmen en chat van deze sessie.',
    'mod.export.results': 'Uitslagen (CSV)',
    'mod.export.votes': 'Stemmen (CSV)',
    'mod.export.chat': 'Chat (CSV)',
    'mod.export.session': 'Hele sessie (JSON)',
    'mod.export.report': 'Verslag (HTML)',
    'mod.export.busy': '{file} wordt opgehaald…',
    'mod.export.done': '{file} is gedownload.',
    'mod.export.unavailable': '{file} is nog niet beschikbaar (de server antwoordde {status}). Probeer het later opnieuw.',
    'mod.store.failing': 'De server kan niet naar de database schrijven ({reason}). Stemmen en chatberichten worden pas bevestigd als dat weer lukt; er gaat niets verloren.',
    'mod.export.unauthorized': 'De server weigerde de sleutel voor {file}.',
    'mod.export.network': '{file} kon niet worden opgehaald: de server is niet bereikbaar.',
    'mod.shortcuts': 'Sneltoetsen',
    'mod.shortcuts.next': 'volgende stelling',
    'mod.shortcuts.close': 'stemming sluiten',
    'mod.shortcuts.open': 'stemming openen',
    'mod.shortcuts.reveal': 'uitslag tonen of verbergen',
    'mod.shortcuts.note': 'Sneltoetsen werken niet terwijl u in een invoerveld typt.',
    'mod.done': 'Gedaan.',
    'screen.title': 'Presentatiescherm',
    'screen.join': 'Doe mee via',
    'screen.waiting': 'Zo meteen de eerste stelling.',
    'screen.vote': 'Stem nu mee: eens, oneens of geen mening',
    'screen.closed': 'De stemming is gesloten',
    'screen.soon': 'De uitslag volgt zo.',
    'screen.present.one': '1 deelnemer',
    'screen.present.other': '{n} deelnemers',
  },
  en: {
    'lang.toggle': 'Nederlands',
    'lang.toggle.label': 'Schakel naar Nederlands',
    'skip': 'Skip to content',
    'conn.connecting': 'Connecting…',
    'conn.online': 'Connected',
    'conn.waiting': 'Connection lost',
    'conn.countdown': 'retrying in {s} s',
    'conn.stopped': 'Not connected',
    'conn.retry': 'Reconnect now',
    'present.one': '1 present',
    'present.other': '{n} present',
    'choice.agree': 'Agree',
    'choice.disagree': 'Disagree',
    'choice.pass': 'No opinion',
    'statement.label': 'Statement {n} of {total}',
    'statement.none': 'No statement yet. The moderator will start shortly.',
    'voting.open': 'Voting open',
    'voting.closed': 'Voting closed',
    'results.title': 'Results',
    'results.hidden': 'Results hidden',
    'results.visible': 'Results shown',
    'results.votes.one': '1 vote',
    'results.votes.other': '{n} votes',
    'results.turnout': '{voters} of {present} present voted ({pct})',
    'results.waiting': 'The results appear once the moderator reveals them.',
    'results.bar': '{choice}: {pct} ({n})',
    'announcement': 'Announcement',
    'programme.title': 'Programme',
    'programme.now': 'now',
    'chat.title': 'Chat',
    'chat.you': 'you',
    'chat.moderator': 'moderator',
    'chat.label': 'Your message',
    'chat.placeholder': 'Type a message…',
    'chat.send': 'Send',
    'chat.counter': '{n} / {max}',
    'chat.counter.label': '{left} characters left',
    'chat.empty': 'No messages yet.',
    'chat.log': 'Chat messages',
    'join.title': 'Join',
    'join.intro': 'Enter your name to chat and vote on the statements.',
    'join.name': 'Name',
    'join.name.hint': 'Your name is shown with your chat messages. Other participants do not see how you vote.',
    'join.group': 'Group',
    'join.group.choose': 'Choose your group…',
    'join.group.hint': 'The results are also looked at per group.',
    'join.submit': 'Join',
    'join.loading': 'Loading the event…',
    'join.unreachable': 'The server cannot be reached. Trying again.',
    'you.as': 'You take part as {name}',
    'you.as.group': 'You take part as {name} ({group})',
    'leave': 'Sign out',
    'leave.confirm': 'Sign out? This device will no longer recognise you.',
    'vote.legend': 'Your vote',
    'vote.none': 'You have not voted yet.',
    'vote.yours': 'Your vote: {choice}. You can change it while voting is open.',
    'vote.sending': 'Sending your vote…',
    'vote.closed.yours': 'Voting is closed. You voted: {choice}.',
    'vote.closed.none': 'Voting is closed. You did not vote.',
    'live.statement': 'New statement: {text}',
    'live.vote': 'Your vote is registered: {choice}.',
    'live.closed': 'Voting is closed.',
    'live.results': 'Results: agree {agree}, disagree {disagree}, no opinion {pass}.',
    'error.rate_limited': 'You are sending a little fast. Please wait a few seconds and try again.',
    'error.muted': 'The moderator has turned off your chat. You can still vote.',
    'error.too_long': 'That message is too long: at most {max} characters.',
    'error.empty': 'Please type a message first.',
    'error.voting_closed': 'Voting on this statement has already closed.',
    'error.unknown_statement': 'This statement is not (or no longer) known.',
    'error.invalid_choice': 'That choice is not valid.',
    'error.offline': 'There is no connection right now. Please try again shortly.',
    'error.stopped': 'There is no connection right now. Please try again shortly.',
    'error.invalid_name': 'Please enter a name of 1 to {max} characters.',
    'error.invalid_group': 'Please choose one of the groups.',
    'error.unauthorized': 'This key is not right. Check it and try again.',
    'error.forbidden': 'Your role does not allow that.',
    'error.no_more_statements': 'That was the last statement.',
    'error.no_current_statement': 'No statement is shown yet.',
    'error.unknown_message': 'That message is not (or no longer) known.',
    'error.unknown_participant': 'That participant is not known.',
    'error.generic': 'That did not work ({code}). Please try again.',
    'mod.title': 'Moderator',
    'mod.key.title': 'Sign in as moderator',
    'mod.key.label': 'Moderator key',
    'mod.key.hint': 'The key is kept in this tab only and disappears when you close it.',
    'mod.key.name': 'Your name (optional)',
    'mod.key.submit': 'Sign in',
    'mod.signout': 'Sign out',
    'mod.statements': 'Statements',
    'mod.state.current': 'now',
    'mod.state.shown': 'shown',
    'mod.state.new': 'not shown',
    'mod.goto': 'Show',
    'mod.goto.label': 'Show statement {n}',
    'mod.current': 'Current statement',
    'mod.none': 'No statement is shown yet. Choose “Next statement” to begin.',
    'mod.next': 'Next statement',
    'mod.close': 'Close voting',
    'mod.open': 'Open voting',
    'mod.reveal': 'Reveal results',
    'mod.unreveal': 'Hide results',
    'mod.add.label': 'Add a new statement',
    'mod.add.submit': 'Add',
    'mod.add.done': 'Statement added.',
    'mod.tally': 'Live tally',
    'mod.turnout': 'Turnout',
    'mod.turnout.value': '{voters} of {present} present ({pct})',
    'mod.groups': 'By group',
    'mod.group': 'Group',
    'mod.total': 'Total',
    'mod.tally.none': 'No votes yet.',
    'mod.hide': 'Hide',
    'mod.hide.label': 'Hide message from {name}',
    'mod.mute': 'Mute chat',
    'mod.unmute': 'Unmute chat',
    'mod.mute.label': 'Mute chat of {name}',
    'mod.unmute.label': 'Unmute chat of {name}',
    'mod.muted': 'muted',
    'mod.announce': 'Announcement',
    'mod.announce.label': 'Text of the announcement',
    'mod.announce.submit': 'Pin',
    'mod.announce.remove': 'Remove',
    'mod.announce.current': 'Pinned now:',
    'mod.announce.none': 'No announcement is pinned.',
    'mod.export': 'Export',
    'mod.export.hint': 'Downloads with the results, votes and chat of this session.',
    'mod.export.results': 'Results (CSV)',
    'mod.export.votes': 'Votes (CSV)',
    'mod.export.chat': 'Chat (CSV)',
    'mod.export.session': 'Whole session (JSON)',
    'mod.export.report': 'Report (HTML)',
    'mod.export.busy': 'Fetching {file}…',
    'mod.export.done': '{file} downloaded.',
    'mod.export.unavailable': '{file} is not available yet (the server answered {status}). Please try again later.',
    'mod.store.failing': 'The server cannot write to its database ({reason}). Votes and chat messages are acknowledged only once it can again; nothing is lost.',
    'mod.export.unauthorized': 'The server refused the key for {file}.',
    'mod.export.network': '{file} could not be fetched: the server cannot be reached.',
    'mod.shortcuts': 'Keyboard shortcuts',
    'mod.shortcuts.next': 'next statement',
    'mod.shortcuts.close': 'close voting',
    'mod.shortcuts.open': 'open voting',
    'mod.shortcuts.reveal': 'reveal or hide results',
    'mod.shortcuts.note': 'Shortcuts do not work while you type in a field.',
    'mod.done': 'Done.',
    'screen.title': 'Presenter screen',
    'screen.join': 'Join at',
    'screen.waiting': 'The first statement follows shortly.',
    'screen.vote': 'Vote now: agree, disagree or no opinion',
    'screen.closed': 'Voting is closed',
    'screen.soon': 'The results follow shortly.',
    'screen.present.one': '1 participant',
    'screen.present.other': '{n} participants',
  },
};

export const LANGUAGES = ['nl', 'en'];
const STORAGE_KEY = 'stelling.lang';
let defaultLanguage = 'nl';
const listeners = [];

function stored() {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return LANGUAGES.includes(value) ? value : null;
  } catch {
    return null;
  }
}

/** The language in use: the visitor's choice, else the event's. */
export function language() {
  return stored() || defaultLanguage;
}

/** Sets the event's language (from /event.json), used when the visitor chose none. */
export function setDefaultLanguage(lang) {
  if (LANGUAGES.includes(lang) && lang !== defaultLanguage) {
    defaultLanguage = lang;
    changed();
  }
}

/** Chooses a language and remembers it on this device. */
export function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) return;
  try { localStorage.setItem(STORAGE_KEY, lang); } catch { /* private mode: still switch */ }
  changed();
}

/** Calls `listener` whenever the language changes. */
export function onLanguageChange(listener) {
  listeners.push(listener);
}

function changed() {
  applyStatic(document);
  for (const listener of listeners) listener(language());
}

/** The string for `key` with {name} placeholders filled from `params`. */
export function t(key, params = {}) {
  const table = STRINGS[language()] || STRINGS.nl;
  let text = table[key] ?? STRINGS.nl[key] ?? key;
  for (const [name, value] of Object.entries(params)) text = text.split('{' + name + '}').join(String(value));
  return text;
}

/** Plural: key.one for 1, key.other otherwise, with {n}. */
export function tn(key, n, params = {}) {
  return t(key + (n === 1 ? '.one' : '.other'), { n: formatNumber(n), ...params });
}

export function formatNumber(n) {
  return Number(n).toLocaleString(language() === 'nl' ? 'nl-NL' : 'en-GB');
}

/** "61%" / "61 %" as the language writes a percentage with no decimals. */
export function formatPercent(part, whole) {
  const value = whole > 0 ? part / whole : 0;
  return value.toLocaleString(language() === 'nl' ? 'nl-NL' : 'en-GB', { style: 'percent', maximumFractionDigits: 0 });
}

/** Translates the static text: data-i18n="key" and data-i18n-attr="attr:key;attr:key". */
export function applyStatic(root = document) {
  document.documentElement.lang = language();
  for (const element of root.querySelectorAll('[data-i18n]')) element.textContent = t(element.dataset.i18n);
  for (const element of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of element.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key) element.setAttribute(attr, t(key));
    }
  }
}

/** Wires a button as the language toggle: it names the other language in that language. */
export function bindLanguageToggle(button) {
  const render = () => {
    const other = language() === 'nl' ? 'en' : 'nl';
    button.textContent = t('lang.toggle');
    button.setAttribute('lang', other);
    button.setAttribute('aria-label', t('lang.toggle.label'));
  };
  button.addEventListener('click', () => setLanguage(language() === 'nl' ? 'en' : 'nl'));
  onLanguageChange(render);
  render();
}
