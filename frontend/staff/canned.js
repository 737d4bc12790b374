// Canned replies: a searchable library grouped by purpose. Ctrl+/ in the reply box (or the
// button) opens the search; arrows choose, Enter puts the reply in the box in her language,
// where the adviser can change it before sending and the kinder-wording check reads it.

import { getJson } from "../shared/http.js";
import { t } from "../shared/i18n.js";

let library = null; // one fetch per page, shared by every chat

async function loadLibrary() {
  if (!library) library = getJson("/api/staff/canned").catch((error) => {
    library = null;
    throw error;
  });
  return library;
}

export function forgetCannedLibrary() {
  library = null;
}

export class CannedPicker {
  // `box`: the .canned element; `field`: the reply textarea; `language()`: her language code.
  constructor(box, field, language, onInsert) {
    this.box = box;
    this.field = field;
    this.language = language;
    this.onInsert = onInsert;
    this.search = box.querySelector(".canned-search");
    this.list = box.querySelector(".canned-list");
    this.status = box.querySelector(".canned-status");
    this.items = [];
    this.active = 0;
    this.search.addEventListener("input", () => this.render());
    this.search.addEventListener("keydown", (event) => this.keys(event));
    this.list.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) this.insert(Number(option.dataset.index));
    });
  }

  async open() {
    this.box.hidden = false;
    this.search.value = "";
    this.search.focus();
    try {
      this.library = await loadLibrary();
      this.render();
    } catch {
      this.status.textContent = t("staff.canned.load_failed");
    }
  }

  close(focusField = true) {
    this.box.hidden = true;
    if (focusField) this.field.focus();
  }

  matches() {
    const words = this.search.value.toLocaleLowerCase().split(/\s+/).filter(Boolean);
    const lang = this.language() ?? "en";
    const found = [];
    for (const group of this.library?.groups ?? []) {
      for (const reply of group.replies) {
        const text = reply.text[lang] ?? reply.text.en;
        const haystack = `${group.title} ${reply.title} ${text} ${reply.text.en}`.toLocaleLowerCase();
        if (words.every((word) => haystack.includes(word))) {
          found.push({ group, reply, text, translated: lang in reply.text });
        }
      }
    }
    return found;
  }

  render() {
    this.items = this.matches();
    this.active = 0;
    let lastGroup = null;
    const rows = [];
    this.items.forEach((item, index) => {
      if (item.group !== lastGroup) {
        lastGroup = item.group;
        const heading = document.createElement("li");
        heading.className = "canned-group";
        heading.setAttribute("role", "presentation");
        heading.textContent = item.group.title;
        rows.push(heading);
      }
      const option = document.createElement("li");
      option.setAttribute("role", "option");
      option.id = `${this.list.id}-${index}`;
      option.dataset.index = String(index);
      const title = document.createElement("strong");
      title.textContent = item.reply.title;
      const text = document.createElement("span");
      text.className = "canned-text";
      text.textContent = item.text;
      text.dir = "auto";
      option.append(title, " ", text);
      if (!item.translated) {
        const note = document.createElement("span");
        note.className = "hint";
        note.textContent = ` ${t("staff.canned.english_only")}`;
        option.append(note);
      }
      rows.push(option);
    });
    this.list.replaceChildren(...rows);
    this.status.textContent = t("staff.canned.count", { count: this.items.length });
    this.highlight();
  }

  highlight() {
    for (const option of this.list.querySelectorAll("[role=option]")) {
      const on = Number(option.dataset.index) === this.active;
      option.setAttribute("aria-selected", String(on));
      if (on) option.scrollIntoView?.({ block: "nearest" });
    }
    const current = this.items.length ? `${this.list.id}-${this.active}` : "";
    if (current) this.search.setAttribute("aria-activedescendant", current);
    else this.search.removeAttribute("aria-activedescendant");
  }

  keys(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!this.items.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.items.length) % this.items.length;
      this.highlight();
      event.preventDefault();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (this.items.length) this.insert(this.active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      this.close();
    }
  }

  // The reply goes into the box (after what is there), never straight to her.
  insert(index) {
    const item = this.items[index];
    if (!item) return;
    const before = this.field.value.trim();
    this.field.value = before ? `${before} ${item.text}` : item.text;
    this.close();
    this.field.setSelectionRange(this.field.value.length, this.field.value.length);
    this.onInsert(this.field.value);
  }
}
