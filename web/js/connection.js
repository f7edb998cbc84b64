// The WebSocket connection shared by the three pages: stelling.v1, newline-separated
// events, requests with refs answered by ack/error, and reconnect with jittered
// exponential backoff. The page supplies the join message; every (re)connect sends it.

export const PROTOCOL = 'stelling.v1';

/** The WebSocket address of this server. */
export function socketURL() {
  return (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/ws';
}

/**
 * Splits one WebSocket message into its events, in order, ignoring empty lines and
 * lines that are not JSON objects (reported to `onBad`).
 */
export function splitEvents(data, onBad) {
  const events = [];
  for (const line of String(data).split('\n')) {
    if (line.trim() === '') continue;
    try {
      const event = JSON.parse(line);
      if (event && typeof event === 'object' && typeof event.type === 'string') events.push(event);
      else if (onBad) onBad(line);
    } catch {
      if (onBad) onBad(line);
    }
  }
  return events;
}

/** The close code of a connection whose participant a moderator erased. */
export const ERASED_CLOSE_CODE = 4001;

/** Error codes after which reconnecting with the same join is pointless. */
const FATAL_JOIN_ERRORS = new Set(['unauthorized', 'invalid_name', 'invalid_group']);

/**
 * States: 'idle' (not started), 'connecting', 'online' (welcomed), 'waiting' (will retry),
 * 'stopped' (gave up: a join was refused).
 */
export class Connection {
  /**
   * @param {object} options
   * @param {() => object} options.join  makes the join request (called on every connect)
   * @param {(event: object) => void} options.onEvent  every event, welcome included, in order
   * @param {(state: string, info: object) => void} [options.onState]
   * @param {(error: object) => void} [options.onJoinError]  a join was refused
   * @param {() => void} [options.onErased]  the server closed with 4001 (this participant was erased)
   */
  constructor({ join, onEvent, onState = () => {}, onJoinError = () => {}, onErased = () => {}, baseDelay = 500, maxDelay = 20000 }) {
    this.join = join;
    this.onEvent = onEvent;
    this.onState = onState;
    this.onJoinError = onJoinError;
    this.onErased = onErased;
    this.baseDelay = baseDelay;
    this.maxDelay = maxDelay;
    this.state = 'idle';
    this.socket = null;
    this.attempt = 0;
    this.timer = null;
    this.retryAt = 0;
    this.nextRef = 1;
    this.pending = new Map(); // ref -> {resolve, reject}
    this.joinRef = null;
    this.welcomed = false;
    window.addEventListener('online', () => { if (this.state === 'waiting') this.retryNow(); });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.state === 'waiting') this.retryNow();
    });
  }

  setState(state, info = {}) {
    this.state = state;
    this.onState(state, info);
  }

  /** Opens the connection (again); harmless when already open or connecting. */
  start() {
    if (this.socket || this.state === 'connecting' || this.state === 'online') return;
    clearTimeout(this.timer);
    this.timer = null;
    this.welcomed = false;
    this.setState('connecting');
    let socket;
    try {
      socket = new WebSocket(socketURL(), PROTOCOL);
    } catch (error) {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.joinRef = this.makeRef();
      this.sendRaw({ ...this.join(), ref: this.joinRef });
    });
    socket.addEventListener('message', (message) => {
      if (typeof message.data !== 'string') return;
      for (const event of splitEvents(message.data)) this.handle(event);
    });
    socket.addEventListener('close', (close) => this.closed(socket, close));
    // 'error' is always followed by 'close'; the reconnect happens there.
  }

  /** Stops for good: no reconnect. */
  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    this.failPending('stopped');
    if (socket) socket.close(1000);
    this.setState('stopped');
  }

  retryNow() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.state !== 'online' && this.state !== 'connecting') {
      this.state = 'idle';
      this.start();
    }
  }

  makeRef() {
    return 'r' + (this.nextRef++);
  }

  sendRaw(object) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(object));
    return true;
  }

  /**
   * Sends a request with a fresh ref. Resolves with the ack, rejects with the error event
   * (or {code:'offline'} when not connected or the connection drops before the answer).
   */
  request(object) {
    return new Promise((resolve, reject) => {
      if (this.state !== 'online') {
        reject({ type: 'error', code: 'offline' });
        return;
      }
      const ref = this.makeRef();
      this.pending.set(ref, { resolve, reject });
      if (!this.sendRaw({ ...object, ref })) {
        this.pending.delete(ref);
        reject({ type: 'error', code: 'offline' });
      }
    });
  }

  handle(event) {
    if (event.type === 'welcome') {
      this.welcomed = true;
      this.attempt = 0;
      this.setState('online');
      this.onEvent(event);
      return;
    }
    if (event.type === 'error' && event.ref !== undefined && event.ref === this.joinRef && !this.welcomed) {
      if (FATAL_JOIN_ERRORS.has(event.code)) {
        this.onJoinError(event);
        this.stop();
        return;
      }
      // Anything else (rate_limited while a whole office joins at once): close and try
      // again after the jittered backoff, which the close handler schedules, and not before
      // the server's retry_after_ms (Revision 2).
      if (event.code === 'rate_limited' && Number.isFinite(event.retry_after_ms)) this.retryAfter = event.retry_after_ms;
      if (this.socket) this.socket.close(1000);
      return;
    }
    if ((event.type === 'ack' || event.type === 'error') && event.ref !== undefined && this.pending.has(event.ref)) {
      const waiter = this.pending.get(event.ref);
      this.pending.delete(event.ref);
      if (event.type === 'ack') waiter.resolve(event);
      else waiter.reject(event);
      return;
    }
    this.onEvent(event);
  }

  failPending(code) {
    for (const waiter of this.pending.values()) waiter.reject({ type: 'error', code });
    this.pending.clear();
  }

  closed(socket, close) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.failPending('offline');
    if (this.state === 'stopped') return;
    if (close.code === 1008) {
      // Policy violation: the server refused us (a wrong moderator key). Do not hammer it.
      this.onJoinError({ type: 'error', code: 'unauthorized' });
      this.setState('stopped');
      return;
    }
    if (close.code === ERASED_CLOSE_CODE) {
      // The moderator erased this participant: the token no longer resumes; reconnecting
      // would make a new participant behind their back (docs/DECISIONS.md, privacy).
      this.setState('stopped');
      this.onErased();
      return;
    }
    this.scheduleRetry();
  }

  /** Full jitter: a random delay up to base * 2^attempt, capped; at least 250 ms. */
  scheduleRetry() {
    const delay = retryDelay(this.attempt, this.baseDelay, this.maxDelay, this.retryAfter, Math.random());
    this.retryAfter = undefined;
    this.attempt = Math.min(this.attempt + 1, 16);
    this.retryAt = Date.now() + delay;
    this.setState('waiting', { delay, retryAt: this.retryAt });
    this.timer = setTimeout(() => {
      this.timer = null;
      this.state = 'idle';
      this.start();
    }, delay);
  }
}

/**
 * The wait before reconnect `attempt`: full jitter up to base * 2^attempt (capped at `max`), at
 * least 250 ms; after a join refused with `retry_after_ms`, that long plus up to a quarter more
 * of jitter (so a whole office does not come back in the same millisecond). `random` in [0, 1).
 */
export function retryDelay(attempt, base, max, retryAfter, random) {
  if (Number.isFinite(retryAfter) && retryAfter > 0) {
    return Math.round(retryAfter * (1 + random / 4));
  }
  const ceiling = Math.min(max, base * 2 ** attempt);
  return Math.max(250, Math.round(random * ceiling));
}

/** Whether `connection` exists and is welcomed (requests can be sent). */
export function isOnline(connection) {
  return Boolean(connection && connection.state === 'online');
}

/** Fetches /event.json: {title, language, groups, programme, limits}. */
export async function fetchEventInfo() {
  const response = await fetch('/event.json', { cache: 'no-store', headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error('event.json ' + response.status);
  return response.json();
}
