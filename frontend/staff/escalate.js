// The "Escalate" dialog: level (each with what it does), reason, her consent, a hand-off
// note, and for a signpost the kinds of help to show her. One <dialog> serves every chat.

import { t } from "../shared/i18n.js";
import { RISK_CATEGORIES, categoryName } from "./levels.js";

const $ = (id) => document.getElementById(id);

export class EscalateDialog {
  // `send(event)` sends the escalate event; false when it could not be sent.
  constructor(send) {
    this.send = send;
    this.dialog = $("escalate-dialog");
    this.form = $("escalate-form");
    this.error = $("escalate-error");
    this.conversationId = null;
    this.opener = null;
    this.form.addEventListener("submit", (event) => this.submit(event));
    $("escalate-cancel").addEventListener("click", () => this.close());
    this.form.addEventListener("change", () => this.showCategories());
    this.dialog.addEventListener("close", () => this.opener?.focus());
  }

  drawCategories() {
    const box = $("escalate-category-list");
    box.replaceChildren(
      ...RISK_CATEGORIES.map((category) => {
        const label = document.createElement("label");
        label.className = "choice";
        const input = document.createElement("input");
        input.type = "checkbox";
        input.name = "categories";
        input.value = category;
        const text = document.createElement("span");
        text.textContent = categoryName(category);
        label.append(input, text);
        return label;
      }),
    );
  }

  open(conversationId, opener) {
    this.conversationId = conversationId;
    this.opener = opener;
    this.form.reset();
    // Drawn on opening, when the catalogue has long been loaded.
    this.drawCategories();
    this.error.hidden = true;
    this.error.textContent = "";
    $("escalate-title").textContent = t("staff.escalate.title", { id: conversationId });
    this.showCategories();
    this.dialog.showModal();
  }

  get pending() {
    return this.dialog.open ? this.conversationId : null;
  }

  showCategories() {
    const level = new FormData(this.form).get("level");
    $("escalate-categories").hidden = level !== "signpost";
  }

  submit(event) {
    event.preventDefault();
    const data = new FormData(this.form);
    const level = data.get("level");
    const consent = data.get("consent");
    const reason = String(data.get("reason") ?? "").trim();
    const missing = !level ? "escalate-level-first" : !reason ? "escalate-reason" : !consent ? "escalate-consent-first" : null;
    if (missing) {
      const key = { "escalate-level-first": "staff.escalate.need_level", "escalate-reason": "staff.escalate.need_reason", "escalate-consent-first": "staff.escalate.need_consent" }[missing];
      this.showError(t(key));
      $(missing).focus();
      return;
    }
    const payload = {
      type: "escalate",
      conversation_id: this.conversationId,
      level,
      reason,
      consent,
      handoff_note: String(data.get("handoff_note") ?? "").trim(),
    };
    if (level === "signpost") payload.categories = data.getAll("categories");
    if (!this.send(payload)) {
      this.showError(t("staff.error.general"));
      return;
    }
    $("escalate-submit").disabled = true;
  }

  // The server took it (`escalated`).
  done() {
    $("escalate-submit").disabled = false;
    this.close();
  }

  showError(text) {
    $("escalate-submit").disabled = false;
    this.error.textContent = text;
    this.error.hidden = false;
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }
}
