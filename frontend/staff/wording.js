// Kinder wording while the adviser types: a moment after she stops (debounced), the draft
// is checked on the server and suggestions appear under the box. It only suggests: sending
// never waits for it. The server's `ack.wording` for a sent message is shown the same way.

import { postJson } from "../shared/http.js";
import { t } from "../shared/i18n.js";

const QUIET_MS = 400;

export class WordingHelper {
  // `box` is where suggestions are drawn; `csrf()` gives the CSRF token.
  constructor(box, csrf) {
    this.box = box;
    this.csrf = csrf;
    this.timer = 0;
    this.asked = 0;
  }

  // The draft changed.
  input(text) {
    clearTimeout(this.timer);
    if (!text.trim()) {
      this.asked += 1;
      this.show([], null);
      return;
    }
    this.timer = setTimeout(() => this.check(text), QUIET_MS);
  }

  async check(text) {
    const asked = ++this.asked;
    try {
      const found = await postJson("/api/staff/wording", { text }, { "X-CSRF-Token": this.csrf() ?? "" });
      if (asked === this.asked) this.show(found ?? [], "staff.wording.draft");
    } catch {
      // Suggestions are a help, not a step: if the check fails, nothing is in the way.
    }
  }

  // The draft went out: whatever was shown for it no longer applies.
  sent() {
    clearTimeout(this.timer);
    this.asked += 1;
    this.show([], null);
  }

  // The ack of a sent message carried suggestions.
  fromAck(suggestions) {
    if (suggestions?.length) this.show(suggestions, "staff.wording.sent");
  }

  show(suggestions, titleKey) {
    if (!suggestions.length) {
      this.box.replaceChildren();
      this.box.hidden = true;
      return;
    }
    const title = document.createElement("p");
    title.className = "wording-title";
    title.textContent = t(titleKey);
    const list = document.createElement("ul");
    list.className = "wording-list";
    for (const item of suggestions) {
      const li = document.createElement("li");
      const phrase = document.createElement("q");
      phrase.textContent = item.phrase;
      const better = document.createElement("strong");
      better.textContent = item.suggestion;
      const why = document.createElement("span");
      why.className = "wording-why";
      why.textContent = item.why;
      li.append(phrase, ` ${t("staff.wording.try")} `, better, ". ", why);
      list.append(li);
    }
    this.box.replaceChildren(title, list);
    this.box.hidden = false;
  }
}
