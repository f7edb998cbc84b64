// The chat view the participant page and the moderator console share: the message list
// (drawn from the session state, appended in place when only new messages came), the
// compose form (Enter sends, Shift+Enter a new line, length counter, kind errors) and the
// chat mode (closed: input off with a message; slow: a countdown until the next message).
import { h, clear, codePoints, clockTime } from './dom.js';
import { t, onLanguageChange } from './i18n.js';
import { chatAllowance } from './session.js';
import { errorText } from './ui.js';

/** The elements of a chat on a page, by their ids; the counter and mode line are optional. */
export function chatElements(doc = document) {
  const get = (id) => doc.getElementById(id);
  return {
    list: get('chat-list'), empty: get('chat-empty'), form: get('chat-form'), input: get('chat-input'),
    send: get('chat-send'), error: get('chat-error'), counter: get('chat-counter'),
    counterLabel: get('chat-counter-label'), mode: get('chat-mode'),
  };
}

/** The list of messages, the form and the mode line of one page. */
export class ChatView {
  /**
   * @param {object} o
   * @param {object} [o.elements]  list, empty, form, input, send, error, and optionally
   *   counter, counterLabel (length counter) and mode (the chat mode line); by default
   *   the elements with the usual ids (chatElements)
   * @param {object} o.store  the page's store (session.js createStore): state and dispatch
   * @param {() => object|null} o.getConnection  the page's Connection, if any
   * @param {() => object} o.limits  {chat_chars}
   * @param {(message: object, state: object) => Node[]} [o.actions]  extra buttons per message
   * @param {number} [o.maxShown]
   */
  constructor({ elements = chatElements(), store, getConnection, limits, actions = null, maxShown = 300 }) {
    this.el = elements;
    this.store = store;
    this.getConnection = getConnection;
    this.limits = limits;
    this.actions = actions;
    this.maxShown = maxShown;
    this.shown = []; // ids drawn, in order
    this.sending = false;
    this.ticker = null;
    this.bind();
    onLanguageChange(() => this.render(true));
  }

  bind() {
    const { input, form, error } = this.el;
    input.addEventListener('input', () => {
      this.renderCounter();
      if (error.textContent && !this.sending) error.textContent = '';
    });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  submit() {
    if (this.sending) return;
    const { input, error } = this.el;
    const text = input.value;
    const limits = this.limits();
    const max = limits.chat_chars || 500;
    if (text.trim() === '') { error.textContent = errorText({ code: 'empty' }); return; }
    if (codePoints(text) > max) { error.textContent = errorText({ code: 'too_long' }, limits); return; }
    const allowance = chatAllowance(this.store.state, Date.now());
    if (!allowance.allowed) {
      error.textContent = allowance.reason === 'closed' ? t('error.chat_closed') : t('chat.wait', { s: Math.ceil(allowance.waitMs / 1000) });
      return;
    }
    this.sending = true;
    this.renderMode();
    error.textContent = '';
    const connection = this.getConnection();
    const sent = connection ? connection.request({ type: 'chat', text }) : Promise.reject({ code: 'offline' });
    sent.then(() => {
      if (input.value === text) input.value = '';
      const state = this.store.state;
      const isModerator = state.you && state.you.role === 'moderator';
      if (!isModerator && state.chatMode.mode === 'slow') {
        this.store.dispatch({ type: '@chat_wait', until: Date.now() + state.chatMode.seconds * 1000 });
      }
      this.renderCounter();
    }, (failure) => {
      if (failure && failure.code === 'rate_limited' && Number.isFinite(failure.retry_after_ms)) {
        this.store.dispatch({ type: '@chat_wait', until: Date.now() + failure.retry_after_ms });
        error.textContent = t('error.rate_limited.wait', { s: Math.max(1, Math.ceil(failure.retry_after_ms / 1000)) });
      } else {
        error.textContent = errorText(failure, limits);
      }
    }).finally(() => {
      this.sending = false;
      this.renderMode();
    });
  }

  isNearBottom() {
    const list = this.el.list;
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  messageElement(message, state) {
    const from = message.from || {};
    const own = Boolean(state.you && from.id === state.you.id);
    const isModerator = from.role === 'moderator';
    const tags = [];
    if (own) tags.push(h('span', { class: 'msg-tag', text: t('chat.you') }));
    else if (isModerator) tags.push(h('span', { class: 'msg-tag msg-tag-mod', text: t('chat.moderator') }));
    if (state.muted.includes(from.id)) tags.push(h('span', { class: 'msg-tag msg-tag-muted', text: t('mod.muted') }));
    const actions = this.actions ? this.actions(message, state) : [];
    return h('li', { class: 'msg' + (own ? ' own' : '') + (isModerator ? ' from-moderator' : ''), dataset: { id: message.id, from: from.id || '' } },
      h('div', { class: 'msg-head' },
        h('span', { class: 'msg-name', text: from.name || '' }),
        ...tags,
        h('time', { class: 'msg-time', text: clockTime(message.at), attrs: { datetime: message.at } })),
      h('p', { class: 'msg-text', text: message.text }),
      actions.length ? h('div', { class: 'msg-actions' }, actions) : null);
  }

  /** Draws the list from the state: appends when only new messages came, else redraws. */
  render(full = false) {
    const state = this.store.state;
    const { list, empty } = this.el;
    const messages = state.chat.slice(-this.maxShown);
    const ids = messages.map((m) => m.id);
    const stick = this.isNearBottom();
    const prefix = this.shown.length;
    const appendOnly = !full && prefix <= ids.length && this.shown.every((id, i) => ids[i] === id);
    const ownNew = messages.slice(prefix).some((m) => state.you && m.from && m.from.id === state.you.id);
    if (appendOnly) {
      for (const message of messages.slice(prefix)) list.append(this.messageElement(message, state));
    } else {
      const scroll = list.scrollTop;
      clear(list);
      for (const message of messages) list.append(this.messageElement(message, state));
      list.scrollTop = scroll;
    }
    this.shown = ids;
    empty.hidden = messages.length > 0;
    if (stick || ownNew) list.scrollTop = list.scrollHeight;
    this.renderMode();
    this.renderCounter();
  }

  scrollToBottom() {
    this.el.list.scrollTop = this.el.list.scrollHeight;
  }

  renderCounter() {
    const { counter, counterLabel, input } = this.el;
    const max = this.limits().chat_chars || 500;
    const n = codePoints(input.value);
    input.setAttribute('aria-invalid', String(n > max));
    if (!counter) return;
    counter.textContent = t('chat.counter', { n, max });
    counter.classList.toggle('over', n > max);
    counter.classList.toggle('near', n <= max && n > max * 0.9);
    if (counterLabel) counterLabel.textContent = t('chat.counter.label', { left: Math.max(0, max - n) });
  }

  /** The chat mode line and the state of the input; ticks once a second while waiting. */
  renderMode() {
    const state = this.store.state;
    const { mode: line, input, send } = this.el;
    const allowance = chatAllowance(state, Date.now());
    const closed = allowance.reason === 'closed';
    input.disabled = closed;
    send.disabled = closed || this.sending || allowance.reason === 'wait';
    const chatMode = state.chatMode;
    let text = '';
    if (closed) text = t('chat.mode.closed');
    else if (allowance.reason === 'wait') text = t('chat.wait', { s: Math.ceil(allowance.waitMs / 1000) });
    else if (chatMode.mode === 'slow') text = t('chat.mode.slow', { s: chatMode.seconds });
    else if (chatMode.mode === 'closed') text = t('chat.mode.closed.moderator');
    if (line) {
      line.textContent = text;
      line.hidden = text === '';
      line.dataset.mode = chatMode.mode;
    }
    if (allowance.reason === 'wait' && !this.ticker) {
      this.ticker = setInterval(() => this.renderMode(), 1000);
    } else if (allowance.reason !== 'wait' && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
  }
}
