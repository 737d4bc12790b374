// A conversation on screen: messages in `seq` order, one's own shown at once as "sending"
// and confirmed by the server's ack (or by its echo on the stream), then kept in place.
// Message bodies are only ever set with textContent: nothing anyone writes becomes markup.

import { formatTime } from "./i18n.js";

export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Older phones on plain http: 122 random bits are as good for a resend key.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Items with a seq sit in seq order in `list`; those without one (one's own, still sending)
// stay below them. An item given no seq of its own (a local notice) goes after everything
// numbered so far. Used by 1:1 transcripts and room logs alike.
export function placeBySeq(list, item, seq) {
  const at = typeof seq === "number" ? seq : lastSeqIn(list) + 0.5;
  item.dataset.seq = String(at);
  const after = [...list.children].find(
    (other) => other !== item && (!other.dataset.seq || Number(other.dataset.seq) > at),
  );
  list.insertBefore(item, after ?? null);
}

function lastSeqIn(list) {
  const numbered = [...list.children].filter((other) => other.dataset.seq);
  return numbered.length ? Number(numbered[numbered.length - 1].dataset.seq) : 0;
}

// The item placed at this seq (a message or a numbered notice), if it is on screen.
export function itemAtSeq(list, seq) {
  return list.querySelector(`:scope > [data-seq="${Number(seq)}"]`);
}

export class Transcript {
  // `who(event)` gives the sender's label; `isOwn(event)` says whether this page sent it;
  // `text(state)` gives the status words for "sending", "sent" and "failed".
  constructor(list, { who, isOwn, text }) {
    this.list = list;
    this.who = who;
    this.isOwn = isOwn;
    this.text = text;
    this.waiting = new Map(); // client_id -> {body, item}, not yet acknowledged
    this.shown = new Map(); // client_id -> item, for one's own confirmed messages
  }

  item(kind, label, body, at) {
    const item = document.createElement("div");
    item.className = `msg msg-${kind}`;
    const meta = document.createElement("p");
    meta.className = "msg-meta";
    const name = document.createElement("span");
    name.className = "msg-who";
    name.textContent = label;
    meta.append(name);
    const time = document.createElement("span");
    time.className = "msg-time";
    time.textContent = at ? formatTime(at) : "";
    meta.append(time);
    const text = document.createElement("p");
    text.className = "msg-body";
    // Each message takes the direction of its own script, whatever the page's language.
    text.dir = "auto";
    text.textContent = body;
    const state = document.createElement("p");
    state.className = "msg-state";
    item.append(meta, text, state);
    return item;
  }

  // One's own message, shown before the server has it.
  addPending(clientId, body, label) {
    const item = this.item("own", label, body, new Date().toISOString());
    item.classList.add("is-sending");
    item.querySelector(".msg-state").textContent = this.text("sending");
    this.waiting.set(clientId, { body, item });
    this.list.append(item);
    this.scroll();
    return item;
  }

  confirm(clientId, seq) {
    const pending = this.waiting.get(clientId);
    if (!pending) return;
    this.waiting.delete(clientId);
    this.shown.set(clientId, pending.item);
    pending.item.classList.remove("is-sending", "is-failed");
    pending.item.querySelector(".msg-state").textContent = this.text("sent");
    this.place(pending.item, seq);
  }

  // `reason` (optional) says why in words, e.g. a refused message's translated reason.
  fail(clientId, reason) {
    const pending = this.waiting.get(clientId);
    if (!pending) return;
    this.waiting.delete(clientId);
    pending.item.classList.replace("is-sending", "is-failed");
    pending.item.querySelector(".msg-state").textContent = this.text("failed");
    if (reason) {
      const why = document.createElement("p");
      why.className = "msg-reason";
      why.textContent = reason;
      pending.item.append(why);
    }
  }

  // The text of one's own message still waiting for its ack (null once confirmed or failed).
  pendingBody(clientId) {
    return this.waiting.get(clientId)?.body ?? null;
  }

  // The confirmed item at this seq (a message or a numbered notice), if it is on screen.
  itemAt(seq) {
    return itemAtSeq(this.list, seq);
  }

  // A message event from the stream (live or replayed).
  add(event) {
    const own = this.isOwn(event);
    if (own && (this.waiting.has(event.client_id) || this.shown.has(event.client_id))) {
      this.confirm(event.client_id, event.seq);
      return;
    }
    const item = this.item(own ? "own" : "other", this.who(event), event.body ?? "", event.at);
    if (own) {
      item.querySelector(".msg-state").textContent = this.text("sent");
      this.shown.set(event.client_id, item);
    }
    this.place(item, event.seq);
    this.scroll();
  }

  // A line from the system (joined, ended, a warning) in the flow of the conversation.
  addNotice(text, seq, kind = "info") {
    const item = document.createElement("p");
    item.className = `msg-notice msg-notice-${kind}`;
    item.textContent = text;
    this.place(item, seq);
    this.scroll();
    return item;
  }

  place(item, seq) {
    placeBySeq(this.list, item, seq);
  }

  unacknowledged() {
    return [...this.waiting].map(([clientId, { body }]) => ({ clientId, body }));
  }

  scroll() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  clear() {
    this.waiting.clear();
    this.shown.clear();
    this.list.replaceChildren();
  }
}
