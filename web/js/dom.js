// Small DOM helpers. User text only ever becomes a text node (textContent); no innerHTML.

/** The element with this id (throws when the page lacks it: a programming error). */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error('missing #' + id);
  return element;
}

/**
 * Makes an element. `props`: class (string), text (string, set as textContent),
 * attrs ({name: value}, via setAttribute; null/false values are skipped),
 * dataset ({key: value}), on ({event: handler}). Children: nodes or strings (as text).
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  if (props.class) element.className = props.class;
  if (props.text !== undefined && props.text !== null) element.textContent = String(props.text);
  if (props.attrs) {
    for (const [name, value] of Object.entries(props.attrs)) {
      if (value === null || value === undefined || value === false) continue;
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  if (props.dataset) for (const [key, value] of Object.entries(props.dataset)) element.dataset[key] = String(value);
  if (props.on) for (const [name, handler] of Object.entries(props.on)) element.addEventListener(name, handler);
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Removes every child. */
export function clear(element) {
  while (element.firstChild) element.removeChild(element.firstChild);
}

/** Shows or hides an element with the `hidden` attribute. */
export function show(element, visible) {
  element.hidden = !visible;
}

/** The number of Unicode code points in a string (the protocol's length unit). */
export function codePoints(text) {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** Cuts a string to at most `max` code points. */
export function cutCodePoints(text, max) {
  return Array.from(text).slice(0, max).join('');
}

/** "14:05" from an RFC 3339 time stamp, in local time. */
export function clockTime(stamp) {
  const date = new Date(stamp);
  if (Number.isNaN(date.getTime())) return '';
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
}

/** Writes a message into an aria-live region so screen readers announce it. */
export function announce(region, message) {
  // Clearing first makes a repeated identical message announced again.
  region.textContent = '';
  setTimeout(() => { region.textContent = message; }, 50);
}

/** True when the keyboard focus is in something one types into. */
export function isTyping(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (target.getAttribute('type') || 'text').toLowerCase();
    return !['button', 'submit', 'reset', 'checkbox', 'radio', 'range', 'color', 'file'].includes(type);
  }
  return false;
}
