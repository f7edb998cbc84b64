// The session reducer (web/js/session.js) in Node: `node --test tests-browser/session.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  initialState, reduce, reduceAll, rankedQuestions, liveQuestion, turnout, chatAllowance, chatModeOf,
  currentPosition, statementText, MAX_CHAT, healthProblem,
} from '../web/js/session.js';

const welcome = (session = {}, extra = {}) => ({
  type: 'welcome',
  you: { id: 'p1', name: 'Anna', role: 'participant', group: 'Rijk' },
  resume: 'tok',
  features: ['chat_mode', 'questions'],
  session: {
    title: 'Seminar',
    statements: [{ id: 's1', text: 'Een' }, { id: 's2', text: 'Twee' }],
    current: { statement: 's1', voting: 'open', results: 'hidden' },
    present: 3,
    myVotes: { s1: 'agree' },
    tally: null,
    chat: [{ id: 1, text: 'hoi', from: { id: 'p2', name: 'Bob', role: 'participant' } }],
    announcement: null,
    ...session,
  },
  ...extra,
});

const question = (id, upvotes, state = 'open', from = { id: 'p2', name: 'Bob' }) => ({ id, text: 'vraag ' + id, from, at: '2026-12-02T14:00:00.000Z', upvotes, state });

test('the welcome sets identity, statements, votes, chat and the revision 2 fields', () => {
  const s = reduce(initialState(), welcome({ chatMode: { mode: 'slow', seconds: 20 }, questions: [question('q1', 2)], questionsOpen: false, myUpvotes: ['q1'] }));
  assert.equal(s.welcomed, true);
  assert.equal(s.you.id, 'p1');
  assert.equal(s.resume, 'tok');
  assert.deepEqual(s.features, ['chat_mode', 'questions']);
  assert.equal(statementText(s, 's1'), 'Een');
  assert.equal(currentPosition(s), 1);
  assert.deepEqual(s.myVotes, { s1: 'agree' });
  assert.equal(s.chat.length, 1);
  assert.deepEqual(s.chatMode, { mode: 'slow', seconds: 20 });
  assert.equal(s.questions.length, 1);
  assert.equal(s.questionsOpen, false);
  assert.deepEqual(s.myUpvotes, ['q1']);
});

test('a welcome without revision 2 fields means open chat, open questions, none asked', () => {
  const s = reduce(initialState(), welcome());
  assert.deepEqual(s.chatMode, { mode: 'open' });
  assert.equal(s.questionsOpen, true);
  assert.deepEqual(s.questions, []);
  assert.deepEqual(s.myUpvotes, []);
});

test('a second welcome (a reconnect) replaces the chat instead of doubling it', () => {
  const s = reduceAll(initialState(), [welcome(), { type: 'chat', message: { id: 2, text: 'b' } }, welcome()]);
  assert.deepEqual(s.chat.map((m) => m.id), [1]);
});

test('a tally of the current statement is kept; another statement\'s is kept aside only', () => {
  let s = reduce(initialState(), welcome());
  s = reduce(s, { type: 'tally', statement: 's1', agree: 1, disagree: 0, pass: 0, voters: 1, present: 3 });
  assert.equal(s.tally.voters, 1);
  s = reduce(s, { type: 'statement', current: { statement: 's2', voting: 'open', results: 'hidden' } });
  assert.equal(s.tally, null, 'a new statement starts without a tally');
  s = reduce(s, { type: 'tally', statement: 's1', agree: 2, disagree: 0, pass: 0, voters: 2, present: 3 });
  assert.equal(s.tally, null, 'the closing tally of the statement left does not become the current one');
  assert.equal(s.tallies.s1.voters, 2, 'but the console keeps it');
});

test('the statement event keeps the list unless it sends one, and keeps the tally on the same statement', () => {
  let s = reduce(initialState(), welcome());
  s = reduce(s, { type: 'tally', statement: 's1', agree: 1, disagree: 0, pass: 0, voters: 1, present: 3 });
  s = reduce(s, { type: 'statement', current: { statement: 's1', voting: 'closed', results: 'visible' } });
  assert.equal(s.statements.length, 2);
  assert.equal(s.tally.voters, 1);
  s = reduce(s, { type: 'statement', current: { statement: 's1', voting: 'closed', results: 'visible' }, statements: [{ id: 's1', text: 'Een' }, { id: 's2', text: 'Twee' }, { id: 's3', text: 'Drie' }] });
  assert.equal(s.statements.length, 3);
});

test('chat messages are appended once, hidden ones dropped, and the list is bounded', () => {
  let s = reduce(initialState(), welcome());
  s = reduce(s, { type: 'chat', message: { id: 2, text: 'twee' } });
  s = reduce(s, { type: 'chat', message: { id: 2, text: 'twee' } });
  assert.deepEqual(s.chat.map((m) => m.id), [1, 2]);
  s = reduce(s, { type: 'hidden', message: 1 });
  assert.deepEqual(s.chat.map((m) => m.id), [2]);
  for (let i = 3; i < MAX_CHAT + 20; i++) s = reduce(s, { type: 'chat', message: { id: i, text: 'x' } });
  assert.equal(s.chat.length, MAX_CHAT);
  assert.equal(s.chat[s.chat.length - 1].id, MAX_CHAT + 19);
});

test('presence, announcement and chat mode events', () => {
  let s = reduce(initialState(), welcome());
  s = reduceAll(s, [{ type: 'presence', present: 9 }, { type: 'announcement', text: 'Pauze' }, { type: 'chat_mode', mode: 'closed' }]);
  assert.equal(s.present, 9);
  assert.equal(s.announcement, 'Pauze');
  assert.deepEqual(s.chatMode, { mode: 'closed' });
  s = reduceAll(s, [{ type: 'announcement', text: null }, { type: 'chat_mode', mode: 'slow', seconds: 45 }]);
  assert.equal(s.announcement, null);
  assert.deepEqual(s.chatMode, { mode: 'slow', seconds: 45 });
  assert.deepEqual(chatModeOf({ mode: 'loud' }), { mode: 'open' });
});

test('questions: asked, state changed, upvote counts, dismissed without text dropped', () => {
  let s = reduce(initialState(), welcome({ questions: [question('q1', 0)] }));
  s = reduce(s, { type: 'question', question: question('q2', 0) });
  s = reduce(s, { type: 'upvotes', counts: { q2: 5, q9: 1 } });
  assert.deepEqual(rankedQuestions(s).map((q) => q.id), ['q2', 'q1']);
  assert.deepEqual(rankedQuestions(s, { order: 'time' }).map((q) => q.id), ['q2', 'q1']);
  s = reduce(s, { type: 'question', question: { ...question('q1', 0), state: 'live' } });
  assert.equal(liveQuestion(s).id, 'q1');
  s = reduce(s, { type: 'question', question: { id: 'q2', state: 'dismissed' } });
  assert.deepEqual(s.questions.map((q) => q.id), ['q1']);
  s = reduce(s, { type: 'question', question: { ...question('q1', 0), state: 'answered' } });
  assert.equal(liveQuestion(s), null);
  assert.deepEqual(rankedQuestions(s), []);
  assert.deepEqual(rankedQuestions(s, { states: ['answered'] }).map((q) => q.id), ['q1']);
});

test('ties in upvotes rank the older question first', () => {
  const s = reduce(initialState(), welcome({ questions: [question('q1', 3), question('q2', 3), question('q3', 4)] }));
  assert.deepEqual(rankedQuestions(s).map((q) => q.id), ['q3', 'q1', 'q2']);
});

test('a dismissed question with its text (for moderators and the asker) stays, marked dismissed', () => {
  let s = reduce(initialState(), welcome({ questions: [question('q1', 0)] }));
  s = reduce(s, { type: 'question', question: { ...question('q1', 0), state: 'dismissed' } });
  assert.equal(s.questions[0].state, 'dismissed');
});

test('questions open and close', () => {
  let s = reduce(initialState(), welcome());
  s = reduce(s, { type: 'questions', open: false });
  assert.equal(s.questionsOpen, false);
  s = reduce(s, { type: 'questions', open: true });
  assert.equal(s.questionsOpen, true);
});

test('an upvote toggles once; the count is the server\'s, whichever of ack and event comes first', () => {
  let s = reduce(initialState(), welcome({ questions: [question('q1', 2)] }));
  s = reduce(s, { type: 'upvotes', counts: { q1: 3 } }); // the event before the ack
  s = reduce(s, { type: '@upvoted', question: 'q1', up: true });
  s = reduce(s, { type: '@upvoted', question: 'q1', up: true });
  assert.deepEqual(s.myUpvotes, ['q1']);
  assert.equal(s.questions[0].upvotes, 3, 'not counted twice');
  s = reduce(s, { type: '@upvoted', question: 'q1', up: false });
  assert.deepEqual(s.myUpvotes, []);
  s = reduce(s, { type: 'upvotes', counts: { q1: 2 } }); // the event after the ack
  assert.equal(s.questions[0].upvotes, 2);
});

test('own vote, mute and errors are bookkept', () => {
  let s = reduce(initialState(), welcome());
  s = reduceAll(s, [{ type: '@voted', statement: 's1', choice: 'pass' }, { type: '@muted', participant: 'p2', muted: true },
    { type: 'error', code: 'forbidden', message: 'no' }, { type: 'ack', ref: 'x' }]);
  assert.equal(s.myVotes.s1, 'pass');
  assert.deepEqual(s.muted, ['p2']);
  assert.equal(s.lastError.code, 'forbidden');
  assert.equal(s.acks, 1);
  s = reduce(s, { type: '@muted', participant: 'p2', muted: false });
  assert.deepEqual(s.muted, []);
});

test('the reducer does not change the state it is given', () => {
  const before = reduce(initialState(), welcome({ questions: [question('q1', 2)] }));
  const copy = JSON.stringify(before);
  reduceAll(before, [{ type: 'chat', message: { id: 5 } }, { type: 'upvotes', counts: { q1: 9 } }, { type: '@upvoted', question: 'q1', up: true },
    { type: 'hidden', message: 1 }, { type: 'question', question: question('q2', 0) }]);
  assert.equal(JSON.stringify(before), copy);
});

test('unknown events and garbage leave the state as it was', () => {
  const s = reduce(initialState(), welcome());
  assert.equal(reduce(s, { type: 'future_thing', x: 1 }), s);
  assert.equal(reduce(s, null), s);
  assert.equal(reduce(s, { type: 'upvotes', counts: { nope: 1 } }), s);
});

test('turnout never exceeds 100%: voters / max(present, voters)', () => {
  assert.equal(turnout({ voters: 12, present: 10 }).share, 1);
  assert.equal(turnout({ voters: 5, present: 10 }).share, 0.5);
  assert.equal(turnout(null, 4).share, 0);
  assert.equal(turnout({ voters: 0, present: 0 }).share, 0);
});

test('chat allowance: closed stops participants only; a wait counts down', () => {
  let s = reduce(initialState(), welcome());
  assert.equal(chatAllowance(s, 1000).allowed, true);
  s = reduce(s, { type: 'chat_mode', mode: 'closed' });
  assert.deepEqual(chatAllowance(s, 1000), { allowed: false, reason: 'closed', waitMs: 0 });
  const moderator = reduce(s, { ...welcome({ chatMode: { mode: 'closed' } }), you: { id: 'm1', role: 'moderator', name: 'M' } });
  assert.equal(chatAllowance(moderator, 1000).allowed, true);
  s = reduceAll(s, [{ type: 'chat_mode', mode: 'slow', seconds: 30 }, { type: '@chat_wait', until: 31000 }]);
  assert.deepEqual(chatAllowance(s, 1000), { allowed: false, reason: 'wait', waitMs: 30000 });
  assert.equal(chatAllowance(s, 31000).allowed, true);
});

test('the store calls back only when an event changed the state', async () => {
  const { createStore } = await import('../web/js/session.js');
  const calls = [];
  const store = createStore((before, event) => calls.push([before.present, event.type]));
  store.dispatch(welcome());
  store.dispatch({ type: 'unknown' });
  store.dispatch({ type: 'presence', present: 4 });
  assert.deepEqual(calls, [[null, 'welcome'], [3, 'presence']]);
  assert.equal(store.state.present, 4);
  store.reset();
  assert.equal(store.state.welcomed, false);
});

test('the console\'s health banner: a failing store and an unreachable Redis, each with its reason', () => {
  assert.deepEqual(healthProblem(503, { status: 'store failing', reason: 'disk full' }), { problem: 'store', reason: 'disk full' });
  assert.deepEqual(healthProblem(503, { status: 'redis unreachable', reason: 'no answer from redis://127.0.0.1:6379/0 for 3 s' }),
    { problem: 'redis', reason: 'no answer from redis://127.0.0.1:6379/0 for 3 s' });
  assert.deepEqual(healthProblem(503, { status: 'redis unreachable' }), { problem: 'redis', reason: '' });
});

test('the health banner goes once /healthz is 200, and stays away for what it does not know', () => {
  assert.equal(healthProblem(200, { status: 'ok' }), null);
  assert.equal(healthProblem(200, { status: 'redis unreachable', reason: 'x' }), null, 'a 200 is healthy whatever it says');
  assert.equal(healthProblem(503, { status: 'stopping' }), null, 'a stopping server: the connection indicator says so');
  assert.equal(healthProblem(502, null), null, 'no JSON (a proxy\'s error page)');
  assert.equal(healthProblem(503, 'redis unreachable'), null);
});
