// The tools on one chat's panel: canned replies, private notes, transfer, wrap-up. Kept apart
// from chats.js, which calls `attachTools(chat)` once and tells the tools what happened.

import { t } from "../shared/i18n.js";
import { CannedPicker } from "./canned.js";
import { NotesPanel } from "./notes.js";
import { TransferForm, transferRefusal } from "./transfer.js";
import { WrapUpForm } from "./wrapup.js";

function label(panel, selector, field, id) {
  const control = panel.querySelector(field);
  control.id = id;
  panel.querySelector(selector).htmlFor = id;
  return control;
}

export class ChatTools {
  constructor(chat) {
    this.chat = chat;
    const { id, panel } = chat;
    const send = (event) => chat.tabs.socket.send({ conversation_id: id, ...event });
    const field = panel.querySelector(".composer textarea");
    label(panel, ".canned-label", ".canned-search", `canned-search-${id}`);
    panel.querySelector(".canned-list").id = `canned-list-${id}`;
    panel.querySelector(".canned-search").setAttribute("aria-controls", `canned-list-${id}`);
    label(panel, ".note-label", ".note-field", `note-${id}`);
    label(panel, ".transfer-to-label", ".transfer-to", `transfer-to-${id}`);
    label(panel, ".transfer-note-label", ".transfer-note", `transfer-note-${id}`);
    label(panel, ".wrapup-summary-label", ".wrapup-summary", `wrapup-summary-${id}`);
    this.canned = new CannedPicker(
      panel.querySelector(".canned"),
      field,
      () => chat.details?.language,
      (text) => chat.wording.input(text),
    );
    this.notes = new NotesPanel(panel.querySelector(".notes"), (body) => send({ type: "note", body }));
    this.transfer = new TransferForm(panel.querySelector(".transfer"), (event) => send({ type: "transfer", ...event }));
    this.wrapup = new WrapUpForm(panel.querySelector(".wrapup"), id, (event) => chat.tabs.socket.send(event));
    panel.querySelector(".canned-open").addEventListener("click", () => this.canned.open());
    panel.querySelector(".transfer-open").addEventListener("click", (event) => this.transfer.open(event.currentTarget));
    field.addEventListener("keydown", (event) => {
      if (event.key === "/" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.canned.open();
      }
    });
    if (chat.observer) {
      panel.querySelector(".chat-tools").hidden = true;
    }
  }

  // The chat ended: the adviser who had it wraps it up before closing it.
  ended() {
    const { panel } = this.chat;
    panel.querySelector(".chat-tools").hidden = true;
    this.canned.close(false);
    this.transfer.box.hidden = true;
    if (this.chat.observer || this.away) return;
    panel.querySelector(".close").hidden = !this.wrapup.done;
    this.wrapup.show();
  }

  wrappedUp() {
    this.wrapup.recorded();
    this.chat.panel.querySelector(".close").hidden = false;
  }

  // She was told someone else is joining; staff see who handed it to whom and why.
  transferred(event) {
    this.chat.transcript.addNotice(t("staff.transfer.notice", { name: event.adviser_name }), event.seq);
  }

  transferNote(event) {
    const text = event.note
      ? t("staff.transfer.note_from", { from: event.from, to: event.to, note: event.note })
      : t("staff.transfer.from", { from: event.from, to: event.to });
    this.chat.transcript.addNotice(text, event.seq);
  }

  // A supervisor took the chat over: this console may read it, not write, and says why.
  takenAway(event) {
    this.handedOver(
      event.note
        ? t("staff.takeover.taken_away_note", { name: event.by, note: event.note })
        : t("staff.takeover.taken_away", { name: event.by }),
    );
  }

  // This console handed the chat on: it may read what it has, not write.
  handedOver(text = t("staff.transfer.handed_over")) {
    this.away = true;
    const { panel } = this.chat;
    this.chat.observer = true;
    for (const part of [".composer", ".end", ".chat-tools", ".transfer", ".canned", ".end-confirm"]) {
      panel.querySelector(part).hidden = true;
    }
    panel.querySelector(".close").hidden = false;
    const note = panel.querySelector(".chat-observer");
    note.textContent = text;
    note.hidden = false;
    this.chat.setTabLabel();
  }

  error(event, text) {
    if (event.ref === "note") this.notes.failed(text);
    else if (event.ref === "transfer") this.transfer.failed(event.code === "transfer_refused" ? transferRefusal(event) : text);
    else if (event.ref === "wrap_up") this.wrapup.failed(event.message && event.code !== "not_found" ? `${text} (${event.message})` : text);
  }
}
