// Private notes on a chat: staff only, never sent to her. Stored with the chat (a staff-only
// event), shown to every staff member who opens it, deleted with it.

import { t } from "../shared/i18n.js";

export class NotesPanel {
  constructor(box, send) {
    this.box = box;
    this.send = send;
    this.list = box.querySelector(".note-list");
    this.form = box.querySelector(".note-form");
    this.field = box.querySelector(".note-field");
    this.status = box.querySelector(".note-status");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = this.field.value.trim();
      if (!body) {
        this.status.textContent = t("staff.note.empty");
        return;
      }
      if (this.send(body)) {
        this.field.value = "";
        this.status.textContent = t("staff.note.saving");
      }
    });
  }

  focus() {
    this.field.focus();
  }

  add(event) {
    if (this.list.querySelector(`[data-seq="${event.seq}"]`)) return;
    const item = document.createElement("li");
    item.dataset.seq = String(event.seq);
    const who = document.createElement("span");
    who.className = "note-by";
    who.textContent = t("staff.note.by", { name: event.by ?? "" });
    const body = document.createElement("p");
    body.dir = "auto";
    body.textContent = event.body;
    item.append(who, body);
    this.list.append(item);
    this.list.hidden = false;
    this.status.textContent = t("staff.note.saved");
  }

  failed(message) {
    this.status.textContent = message;
  }
}
