/* global document, window, fetch, DOMParser, EventSource */
// Live updates for serve's pages (the only script; pages work without it). The server says when the
// page changed (Server-Sent Events); the page is fetched again and each [data-live] list is merged:
// new entries added, gone ones removed, changed ones replaced unless someone is typing in them.
(() => {
  'use strict';
  // A process page's activity: one line per event of its stream (GET /api/processes/{id}/events).
  // Agent text goes in as text (textContent), never as markup.
  const activity = document.querySelector('[data-events]');
  const eventsSource = document.body.dataset.eventsSource;
  if (activity && eventsSource && typeof EventSource !== 'undefined') {
    const describe = (event) => {
      const where = event.step || event.item || '';
      const parts = [event.timestamp.slice(11, 19), event.type, where];
      if (event.action && typeof event.action === 'object') {
        parts.push(event.action.type + (event.action.url ? ` ${event.action.url}` : ''));
      }
      if (event.observation) parts.push(event.observation);
      if (event.type === 'decision') parts.push(`${event.action} by ${event.by || 'the timeout policy'}`);
      if (event.payload && event.payload.reason) parts.push(event.payload.reason);
      if (event.status && event.type === 'process_finished') parts.push(event.status);
      return parts.filter(Boolean).join(' · ');
    };
    const stream = new EventSource(eventsSource);
    stream.onmessage = (message) => {
      const event = JSON.parse(message.data);
      const item = document.createElement('li');
      item.dataset.eventId = event.id;
      item.className = `event event-${event.type}`;
      item.textContent = describe(event);
      activity.append(item);
    };
  }

  const source = document.body.dataset.liveSource;
  if (!source || typeof EventSource === 'undefined') return;

  const busy = (element) => {
    const active = document.activeElement;
    if (!active || !element.contains(active)) return false;
    return active.value !== undefined && active.value !== '';
  };

  const merge = (current, next) => {
    const wanted = new Map();
    for (const child of next.children) if (child.dataset.key) wanted.set(child.dataset.key, child);
    for (const child of [...current.children]) {
      if (child.dataset.key && !wanted.has(child.dataset.key) && !busy(child)) child.remove();
    }
    let previous = null;
    for (const [key, fresh] of wanted) {
      let existing = null;
      for (const child of current.children) if (child.dataset.key === key) existing = child;
      const node = document.importNode(fresh, true);
      if (!existing) {
        current.insertBefore(node, previous ? previous.nextSibling : current.firstChild);
        previous = node;
      } else {
        if (existing.dataset.hash !== fresh.dataset.hash && !busy(existing)) existing.replaceWith(node);
        previous = existing.isConnected ? existing : node;
      }
    }
  };

  let refreshing = false;
  let again = false;
  const refresh = async () => {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      const response = await fetch(window.location.href, {
        credentials: 'same-origin',
        headers: { Accept: 'text/html', 'X-Live-Refresh': '1' },
      });
      if (!response.ok) return;
      const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
      for (const list of document.querySelectorAll('[data-live]')) {
        const next = doc.querySelector(`[data-live="${list.dataset.live}"]`);
        if (next) merge(list, next);
      }
      for (const selector of ['[data-count]', '[data-status]']) {
        const mine = document.querySelector(selector);
        const theirs = doc.querySelector(selector);
        if (mine && theirs) mine.textContent = theirs.textContent;
      }
      const empty = document.querySelector('p.empty');
      const theirsEmpty = doc.querySelector('p.empty');
      if (empty && theirsEmpty) empty.hidden = theirsEmpty.hidden;
      document.body.dataset.liveVersion = String(Number(document.body.dataset.liveVersion || 0) + 1);
    } finally {
      refreshing = false;
      if (again) {
        again = false;
        void refresh();
      }
    }
  };

  let first = true;
  const events = new EventSource(source);
  events.addEventListener('changed', () => {
    // The first event says what the server had when we connected: the page shows that already,
    // unless it changed between the page load and the connection.
    if (first) {
      first = false;
      if (document.body.dataset.liveVersion === undefined) {
        document.body.dataset.liveVersion = '0';
      }
    }
    void refresh();
  });
})();
