// A room's messages on screen, in `seq` order. One's own message shows at once as "sending"
// and is confirmed by its ack or its echo. Every text anyone wrote is set with textContent
// and marked dir="auto", so a message in Arabic reads right to left in an English room and
// nothing anyone writes ever becomes markup.

import { formatTime } from "../shared/i18n.js";
import { itemAtSeq, placeBySeq } from "../shared/transcript.js";

export class RoomLog {
  // words(key, params) gives the page's words; decorate(item, event) adds per-message
  // controls (report for a participant, mentor actions for a mentor).
  constructor(list, { isOwn, words, decorate = () => {} }) {
    this.list = list;
    this.isOwn = isOwn;
    this.words = words;
    this.decorate = decorate;
    this.waiting = new Map(); // client_id -> item, not yet acknowledged
    this.mine = new Map(); // client_id -> item, confirmed
  }

  build(kind, name, body, at) {
    const item = document.createElement("div");
    item.className = `msg msg-${kind}`;
    const meta = document.createElement("p");
    meta.className = "msg-meta";
    const who = document.createElement("bdi");
    who.className = "msg-who";
    who.textContent = name;
    const time = document.createElement("span");
    time.className = "msg-time";
    time.textContent = at ? formatTime(at) : "";
    meta.append(who, time);
    const text = document.createElement("p");
    text.className = "msg-body";
    text.dir = "auto";
    text.textContent = body;
    const state = document.createElement("p");
    state.className = "msg-state";
    state.setAttribute("aria-live", "polite");
    item.append(meta, text, state);
    return item;
  }

  label(event) {
    if (this.isOwn(event)) return this.words("rooms.room.you");
    if (event.sender === "mentor") return this.words("rooms.room.mentor", { name: event.name });
    return event.name ?? "";
  }

  // One's own message before the server has it.
  pending(clientId, body) {
    const item = this.build("own", this.words("rooms.room.you"), body, new Date().toISOString());
    item.classList.add("is-sending");
    item.querySelector(".msg-state").textContent = this.words("chat.sending");
    this.waiting.set(clientId, item);
    this.list.append(item);
    this.scroll();
    return item;
  }

  state(clientId, text, failed = false) {
    const item = this.waiting.get(clientId);
    if (!item) return;
    item.querySelector(".msg-state").textContent = text;
    item.classList.toggle("is-failed", failed);
    item.classList.toggle("is-held", !failed);
    if (failed) {
      item.classList.remove("is-sending");
      this.waiting.delete(clientId);
    }
  }

  confirm(clientId, seq) {
    const item = this.waiting.get(clientId);
    if (!item) return;
    this.waiting.delete(clientId);
    this.mine.set(clientId, item);
    item.classList.remove("is-sending", "is-held", "is-failed");
    item.querySelector(".msg-state").textContent = "";
    this.place(item, seq);
  }

  bodyOf(clientId) {
    return this.waiting.get(clientId)?.querySelector(".msg-body").textContent ?? null;
  }

  drop(clientId) {
    this.waiting.get(clientId)?.remove();
    this.waiting.delete(clientId);
  }

  // A message from the stream (live or replayed).
  message(event) {
    const own = this.isOwn(event);
    if (own && this.waiting.has(event.client_id)) {
      const item = this.waiting.get(event.client_id);
      item.querySelector(".msg-body").textContent = event.body ?? "";
      this.confirm(event.client_id, event.seq);
      return item;
    }
    if (own && this.mine.has(event.client_id)) {
      // Confirmed by its ack already; the stored text is the truth (details may be removed).
      const item = this.mine.get(event.client_id);
      if (event.hidden) this.hide(event.seq);
      else item.querySelector(".msg-body").textContent = event.body ?? "";
      return item;
    }
    const kind = own ? "own" : event.sender === "mentor" ? "mentor" : "other";
    const item = this.build(kind, this.label(event), event.body ?? "", event.at);
    item.dataset.participant = String(event.participant ?? "");
    if (own) this.mine.set(event.client_id, item);
    this.place(item, event.seq);
    if (event.hidden) this.hide(event.seq);
    else this.decorate(item, event);
    this.scroll();
    return item;
  }

  // The mentor took a message out of the room: its words go, a quiet line stays.
  hide(seq) {
    const item = this.at(seq);
    if (!item) return;
    item.classList.add("is-hidden");
    item.querySelector(".msg-body").textContent = this.words("rooms.notice.hidden");
    item.querySelector(".msg-body").dir = "";
    for (const control of item.querySelectorAll(".msg-controls")) control.remove();
  }

  notice(text, seq, kind = "info") {
    const item = document.createElement("p");
    item.className = `msg-notice notice-${kind}`;
    const words = document.createElement("bdi");
    words.textContent = text;
    item.append(words);
    this.place(item, seq);
    this.scroll();
    return item;
  }

  at(seq) {
    return itemAtSeq(this.list, seq);
  }

  place(item, seq) {
    placeBySeq(this.list, item, seq);
  }

  scroll() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  clear() {
    this.waiting.clear();
    this.mine.clear();
    this.list.replaceChildren();
  }
}
