// Wrap-up: when a chat has ended, a short summary, outcome codes and categories (the service's
// own list), recorded before the chat can leave the adviser's list.

import { getJson } from "../shared/http.js";
import { t } from "../shared/i18n.js";

let codes = null;

function loadCodes() {
  if (!codes) codes = getJson("/api/staff/outcomes").catch((error) => {
    codes = null;
    throw error;
  });
  return codes;
}

function boxes(container, name, list, prefix) {
  container.replaceChildren(
    ...list.map((code) => {
      const label = document.createElement("label");
      label.className = "option";
      const input = document.createElement("input");
      input.type = "checkbox";
      input.name = name;
      input.value = code.id;
      input.id = `${prefix}-${code.id}`;
      label.append(input, " ", code.label);
      return label;
    }),
  );
}

export class WrapUpForm {
  constructor(box, id, send) {
    this.box = box;
    this.id = id;
    this.send = send;
    this.done = false;
    this.form = box.querySelector(".wrapup-form");
    this.summary = box.querySelector(".wrapup-summary");
    this.status = box.querySelector(".wrapup-status");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  async show() {
    if (this.done) return;
    this.box.hidden = false;
    try {
      const list = await loadCodes();
      this.minimum = list.min_outcomes;
      if (!this.box.querySelector(".wrapup-outcomes input")) {
        boxes(this.box.querySelector(".wrapup-outcomes"), "outcome", list.outcomes, `outcome-${this.id}`);
        boxes(this.box.querySelector(".wrapup-categories"), "category", list.categories, `category-${this.id}`);
      }
    } catch {
      this.status.textContent = t("staff.wrapup.load_failed");
    }
  }

  checked(name) {
    return [...this.form.querySelectorAll(`input[name=${name}]:checked`)].map((input) => input.value);
  }

  submit() {
    const summary = this.summary.value.trim();
    const outcomes = this.checked("outcome");
    if (!summary) {
      this.status.textContent = t("staff.wrapup.need_summary");
      this.summary.focus();
      return;
    }
    if (outcomes.length < (this.minimum ?? 1)) {
      this.status.textContent = t("staff.wrapup.need_outcome");
      this.form.querySelector("input[name=outcome]")?.focus();
      return;
    }
    const event = { type: "wrap_up", conversation_id: this.id, summary, outcomes, categories: this.checked("category") };
    if (this.send(event)) this.status.textContent = t("staff.wrapup.saving");
  }

  recorded() {
    this.done = true;
    this.form.hidden = true;
    this.status.textContent = t("staff.wrapup.done");
  }

  failed(message) {
    this.status.textContent = message;
  }
}
