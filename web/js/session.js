// The state of one session as a page sees it, made from the server's events by a pure
// reducer: `reduce(state, event)` returns a new state and never touches the DOM, the
// clock or the network, so Node tests it (tests-browser/session.test.mjs). The three
// pages keep one state each and render from it.
//
// Events are those of PROTOCOL.md (welcome, statement, tally, chat, hidden, presence,
// announcement, chat_mode, question, upvotes, questions, ack, error) plus a few local
// actions whose type starts with '@' (the page's own outcomes: a vote acknowledged, an
// upvote toggled, a mute sent, a chat wait started). Times, where needed, come in the
// action (`now`), never from a clock here.

/** Chat messages kept in the state (the newest). */
export const MAX_CHAT = 500;

/** The state before the welcome. */
export function initialState() {
  return {
    welcomed: false,
    you: null,
    resume: null,
    features: [],
    title: null,
    programme: null,
    groups: [],
    statements: [],
    current: null,
    tally: null, // the tally of the current statement, when this client may see it
    tallies: {}, // the last tally seen per statement (the console keeps closing counts)
    present: null,
    myVotes: {},
    chat: [], // visible chat messages, oldest first
    announcement: null,
    chatMode: { mode: 'open' },
    chatWaitUntil: 0, // ms since the epoch before which this client's chat would be refused
    questions: [], // question objects this client may see, in order of asking
    questionsOpen: true,
    myUpvotes: [],
    muted: [], // participants this console muted (the protocol has no list of mutes)
    lastError: null, // the last error event without a ref of ours
    acks: 0, // how many acks arrived outside a request (bookkeeping for tests)
  };
}

const CHAT_MODES = new Set(['open', 'slow', 'closed']);

/** Normalises a chat mode object; anything unknown counts as open. */
export function chatModeOf(value) {
  if (!value || !CHAT_MODES.has(value.mode)) return { mode: 'open' };
  if (value.mode === 'slow') {
    const seconds = Number.isFinite(value.seconds) ? value.seconds : 30;
    return { mode: 'slow', seconds };
  }
  return { mode: value.mode };
}

function withTally(state, tally) {
  const tallies = { ...state.tallies, [tally.statement]: tally };
  const isCurrent = state.current && state.current.statement === tally.statement;
  return { ...state, tallies, tally: isCurrent ? tally : state.tally };
}

function appendChat(chat, message) {
  if (!message || message.id === undefined || chat.some((m) => m.id === message.id)) return chat;
  const next = chat.concat([message]);
  return next.length > MAX_CHAT ? next.slice(next.length - MAX_CHAT) : next;
}

function upsertQuestion(questions, question) {
  if (!question || typeof question.id !== 'string') return questions;
  const index = questions.findIndex((q) => q.id === question.id);
  // A dismissed question without text (what everyone but moderators and the asker gets)
  // only tells a page to drop it.
  if (question.state === 'dismissed' && question.text === undefined) {
    return index < 0 ? questions : questions.filter((q) => q.id !== question.id);
  }
  if (index < 0) return questions.concat([question]);
  const next = questions.slice();
  next[index] = { ...questions[index], ...question };
  return next;
}

/** The reducer: the state after `event`. Unknown events leave the state as it was. */
export function reduce(state, event) {
  if (!event || typeof event.type !== 'string') return state;
  switch (event.type) {
    case 'welcome': {
      const session = event.session || {};
      const current = session.current || null;
      let next = {
        ...state,
        welcomed: true,
        you: event.you || null,
        resume: event.resume || state.resume,
        features: Array.isArray(event.features) ? event.features : [],
        title: session.title ?? state.title,
        programme: session.programme ?? state.programme,
        groups: session.groups || [],
        statements: session.statements || [],
        current,
        tally: null,
        present: session.present ?? null,
        myVotes: { ...(session.myVotes || {}) },
        chat: (session.chat || []).slice(-MAX_CHAT),
        announcement: session.announcement ?? null,
        chatMode: chatModeOf(session.chatMode),
        questions: Array.isArray(session.questions) ? session.questions.slice() : [],
        questionsOpen: session.questionsOpen !== false,
        myUpvotes: Array.isArray(session.myUpvotes) ? session.myUpvotes.slice() : [],
      };
      if (session.tally && current && session.tally.statement === current.statement) next = withTally(next, session.tally);
      return next;
    }
    case 'statement': {
      const current = event.current || null;
      const statements = Array.isArray(event.statements) ? event.statements : state.statements;
      const same = current && state.current && current.statement === state.current.statement;
      // A new current statement starts without a tally until the server sends one.
      return { ...state, current, statements, tally: same ? state.tally : null };
    }
    case 'tally':
      if (typeof event.statement !== 'string') return state;
      return withTally(state, event);
    case 'chat':
      return { ...state, chat: appendChat(state.chat, event.message) };
    case 'hidden':
      return { ...state, chat: state.chat.filter((m) => m.id !== event.message) };
    case 'presence':
      return typeof event.present === 'number' ? { ...state, present: event.present } : state;
    case 'announcement':
      return { ...state, announcement: event.text || null };
    case 'chat_mode':
      return { ...state, chatMode: chatModeOf(event) };
    case 'question':
      return { ...state, questions: upsertQuestion(state.questions, event.question) };
    case 'upvotes': {
      const counts = event.counts || {};
      if (!state.questions.some((q) => counts[q.id] !== undefined)) return state;
      return { ...state, questions: state.questions.map((q) => (counts[q.id] === undefined ? q : { ...q, upvotes: counts[q.id] })) };
    }
    case 'questions':
      return { ...state, questionsOpen: event.open !== false };
    case 'ack':
      return { ...state, acks: state.acks + 1 };
    case 'error':
      return { ...state, lastError: { code: event.code, message: event.message } };

    // ---- local actions ----
    case '@voted':
      return { ...state, myVotes: { ...state.myVotes, [event.statement]: event.choice } };
    case '@upvoted': {
      const has = state.myUpvotes.includes(event.question);
      if (event.up === has) return state;
      const myUpvotes = event.up ? state.myUpvotes.concat([event.question]) : state.myUpvotes.filter((id) => id !== event.question);
      // The count is left to the server's `upvotes` event (at most 500 ms later): it may
      // arrive before or after the ack, so counting here as well could count twice.
      return { ...state, myUpvotes };
    }
    case '@muted': {
      const muted = state.muted.filter((id) => id !== event.participant);
      if (event.muted !== false) muted.push(event.participant);
      return { ...state, muted };
    }
    case '@chat_wait':
      // Started by a `rate_limited` with retry_after_ms, or by one's own message in slow mode.
      return { ...state, chatWaitUntil: Math.max(state.chatWaitUntil, event.until || 0) };
    default:
      return state;
  }
}

/** Applies events in order. */
export function reduceAll(state, events) {
  return events.reduce(reduce, state);
}

/** The text of statement `id`, or ''. */
export function statementText(state, id) {
  const statement = state.statements.find((s) => s.id === id);
  return statement ? statement.text : '';
}

/** 1-based position of the current statement, 0 when none. */
export function currentPosition(state) {
  if (!state.current) return 0;
  return state.statements.findIndex((s) => s.id === state.current.statement) + 1;
}

/** The live question, or null. */
export function liveQuestion(state) {
  return state.questions.find((q) => q.state === 'live') || null;
}

/**
 * Questions for a list: `open` and `live` ones (and `pending` when `pending` is true),
 * by upvotes (most first, then oldest first) or by time (newest first).
 */
export function rankedQuestions(state, { order = 'votes', states = ['live', 'open'] } = {}) {
  const index = new Map(state.questions.map((q, i) => [q.id, i]));
  const list = state.questions.filter((q) => states.includes(q.state));
  if (order === 'time') return list.sort((a, b) => index.get(b.id) - index.get(a.id));
  return list.sort((a, b) => (b.upvotes || 0) - (a.upvotes || 0) || index.get(a.id) - index.get(b.id));
}

/** Whether this client asked question `q` (the asker sees `from` even when anonymous, or knows it asked). */
export function isOwnQuestion(state, question, asked = []) {
  if (asked.includes(question.id)) return true;
  return Boolean(state.you && question.from && question.from.id === state.you.id);
}

/**
 * Turnout as a share that never exceeds 1: voters / max(present, voters). The tally's
 * `present` may be lower than its voters when people left after voting.
 */
export function turnout(tally, present = null) {
  const voters = tally ? tally.voters || 0 : 0;
  const here = tally && typeof tally.present === 'number' ? tally.present : present || 0;
  const base = Math.max(here, voters);
  return { voters, base, share: base > 0 ? voters / base : 0 };
}

/**
 * Whether this participant may send chat now, and if not why: 'closed' (chat mode closed,
 * participants only) or 'wait' with the milliseconds left.
 */
export function chatAllowance(state, now) {
  const isModerator = state.you && state.you.role === 'moderator';
  if (!isModerator && state.chatMode.mode === 'closed') return { allowed: false, reason: 'closed', waitMs: 0 };
  const waitMs = Math.max(0, state.chatWaitUntil - now);
  if (!isModerator && waitMs > 0) return { allowed: false, reason: 'wait', waitMs };
  return { allowed: true, reason: null, waitMs: 0 };
}

/**
 * What the console's health banner says, from /healthz's answer (`status` the HTTP status,
 * `body` its JSON, or null when there was none): `{ problem: 'store', reason }` while the
 * server cannot write its database, `{ problem: 'redis', reason }` while a cluster node cannot
 * reach Redis (docs/SCALING.md), null when healthy or when the answer says nothing we know
 * (a server that is stopping, or unreachable: the connection indicator says that already).
 */
export function healthProblem(status, body) {
  if (status === 200 || !body || typeof body !== 'object') return null;
  const reason = typeof body.reason === 'string' ? body.reason : '';
  if (body.status === 'store failing') return { problem: 'store', reason };
  if (body.status === 'redis unreachable') return { problem: 'redis', reason };
  return null;
}

/**
 * Holds one page's state: `dispatch(event)` reduces it and, when it changed, calls
 * `onChange(before, event)` (the page renders; `store.state` is the state after).
 */
export function createStore(onChange) {
  const store = {
    state: initialState(),
    dispatch(event) {
      const before = store.state;
      store.state = reduce(before, event);
      if (store.state !== before) onChange(before, event);
    },
    /** Back to the state before the welcome (a participant who was erased). */
    reset() {
      store.state = initialState();
    },
  };
  return store;
}
