// Staff tools for women who wait, were moved from a room or come back with a return code:
// read what she wrote before taking her, see the mentor's note and the hand-over in the chat,
// and write the hand-over summary she sees at the end (and may keep for next time).

import { t } from "../shared/i18n.js";
import { levelName } from "./levels.js";

let socket = null;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Added to a queue row: the mentor's note, and a button to read what she has written.
export function queueExtras(entry) {
  const parts = [];
  if (entry.note) parts.push(el("p", "queue-note", t("staff.queue.mentor_note", { note: entry.note })));
  const read = el("button", "secondary queue-read", t("staff.queue.read"));
  read.type = "button";
  read.setAttribute("aria-label", t("staff.queue.read_label"));
  read.addEventListener("click", () => socket?.send({ type: "read_waiting", conversation_id: entry.conversation_id }));
  parts.push(read);
  return parts;
}

function showWaitingMessages(event) {
  let region = document.getElementById("waiting-read");
  if (!region) {
    region = el("section", "waiting-read");
    region.id = "waiting-read";
    region.setAttribute("aria-live", "polite");
    document.getElementById("queue-panel").append(region);
  }
  const title = el("h3", "", t("staff.waiting.read_title", { id: event.conversation_id }));
  const list = el("ul", "waiting-read-list");
  for (const message of event.messages) {
    const item = el("li", "", message.body);
    item.dir = "auto";
    list.append(item);
  }
  const close = el("button", "secondary", t("staff.waiting.close"));
  close.type = "button";
  close.addEventListener("click", () => region.replaceChildren());
  region.replaceChildren(title, event.messages.length ? list : el("p", "hint", t("staff.waiting.read_none")), close);
  title.tabIndex = -1;
  title.focus();
}

// The hand-over summary form, once per chat the adviser is in.
function summaryForm(chat) {
  if (!chat || chat.observer || chat.panel.querySelector(".handover-form")) return;
  const form = el("details", "handover-form");
  form.append(el("summary", "", t("staff.summary.title")));
  const hint = el("p", "hint", t("staff.summary.hint"));
  const field = el("textarea");
  field.rows = 3;
  field.maxLength = 1000;
  field.id = `handover-${chat.id}`;
  hint.id = `handover-hint-${chat.id}`;
  field.setAttribute("aria-describedby", hint.id);
  const label = el("label", "", t("staff.summary.label"));
  label.htmlFor = field.id;
  const save = el("button", "", t("staff.summary.save"));
  save.type = "button";
  const status = el("p", "status-line handover-status");
  status.setAttribute("role", "status");
  save.addEventListener("click", () => {
    const summary = field.value.trim();
    if (summary) socket?.send({ type: "handover_summary", conversation_id: chat.id, summary });
  });
  form.append(hint, label, field, save, status);
  const anchor = chat.panel.querySelector(".end-area") ?? chat.panel.querySelector(".composer");
  anchor ? anchor.before(form) : chat.panel.append(form);
}

export function installWaitingTools({ socket: staffSocket, chats }) {
  socket = staffSocket;
  socket.on("waiting_messages", showWaitingMessages);
  socket.on("triage", (event) => {
    const chat = chats.get(event.conversation_id);
    summaryForm(chat);
    if (chat && event.note) chat.transcript.addNotice(t("staff.chat.mentor_note", { note: event.note }), event.seq);
  });
  socket.on("moved_to_adviser", (event) =>
    chats.open(event.conversation_id).transcript.addNotice(t("staff.chat.moved", { level: levelName(event.risk_level) }), event.seq),
  );
  socket.on("handover", (event) => {
    const chat = chats.open(event.conversation_id);
    const name = event.previous_adviser ?? t("staff.unknown");
    const text = event.summary
      ? t("staff.chat.handover", { name, summary: event.summary })
      : t("staff.chat.handover_none", { name });
    chat.transcript.addNotice(text, event.seq);
  });
  socket.on("summary", (event) => {
    const chat = chats.open(event.conversation_id);
    chat.transcript.addNotice(t("staff.chat.summary_saved", { summary: event.summary }), event.seq);
    const status = chat.panel.querySelector(".handover-status");
    if (status) status.textContent = t("staff.summary.saved");
  });
}
