// Admins edit the canned-reply library: choose a reply and a language, change its title or
// text, save. The server checks the whole library as it checks the data file (a mistake is
// shown and nothing changes), keeps the version and writes the audit log.

import { HttpError, getJson } from "../shared/http.js";
import { t } from "../shared/i18n.js";
import { forgetCannedLibrary } from "./canned.js";

const $ = (id) => document.getElementById(id);

export class CannedAdmin {
  constructor(csrf) {
    this.csrf = csrf;
    this.library = null;
    $("canned-admin-load").addEventListener("click", () => this.load());
    $("canned-admin-reply").addEventListener("change", () => this.fill());
    $("canned-admin-language").addEventListener("change", () => this.fill());
    $("canned-admin-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    $("canned-admin-remove").addEventListener("click", () => this.remove());
    $("canned-admin-add").addEventListener("submit", (event) => {
      event.preventDefault();
      this.add();
    });
  }

  async load() {
    try {
      this.library = await getJson("/api/staff/canned");
    } catch {
      $("canned-admin-status").textContent = t("staff.canned_admin.load_failed");
      return;
    }
    this.draw();
    $("canned-admin-status").textContent = "";
    this.fill();
  }

  draw() {
    const replies = $("canned-admin-reply");
    replies.replaceChildren(
      ...this.library.groups.map((group) => {
        const optgroup = document.createElement("optgroup");
        optgroup.label = group.title;
        optgroup.append(...group.replies.map((reply) => new Option(reply.title, reply.id)));
        return optgroup;
      }),
    );
    $("canned-admin-language").replaceChildren(
      ...this.library.languages.map((code) => new Option(t(`staff.lang.${code}`), code)),
    );
    $("canned-admin-add-group").replaceChildren(
      ...this.library.groups.map((group) => new Option(group.title, group.id)),
    );
    $("canned-admin-form").hidden = false;
    $("canned-admin-add").hidden = false;
  }

  // A new reply gets an id made from its title; the server refuses a repeated one.
  async add() {
    const title = $("canned-admin-add-title").value.trim();
    const text = $("canned-admin-add-text").value.trim();
    const id = title.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 40);
    const groups = structuredClone(this.library.groups);
    const group = groups.find((each) => each.id === $("canned-admin-add-group").value);
    if (!group) return;
    group.replies.push({ id: /^[a-z]/.test(id) ? id : `reply_${id}`, title, text: { en: text } });
    if (await this.put(groups)) {
      $("canned-admin-add-title").value = "";
      $("canned-admin-add-text").value = "";
      this.reload(group.replies.at(-1).id);
    }
  }

  async remove() {
    const reply = this.reply();
    if (!reply) return;
    const groups = structuredClone(this.library.groups)
      .map((group) => ({ ...group, replies: group.replies.filter((each) => each.id !== reply.id) }))
      .filter((group) => group.replies.length);
    if (await this.put(groups)) this.reload(null);
  }

  // Redraw the lists from the saved library, keeping the status line.
  reload(selected) {
    const status = $("canned-admin-status").textContent;
    this.draw();
    if (selected) $("canned-admin-reply").value = selected;
    this.fill();
    $("canned-admin-status").textContent = status;
  }

  reply() {
    const id = $("canned-admin-reply").value;
    for (const group of this.library.groups) for (const reply of group.replies) if (reply.id === id) return reply;
    return null;
  }

  fill() {
    const reply = this.reply();
    if (!reply) return;
    $("canned-admin-title-field").value = reply.title;
    $("canned-admin-text").value = reply.text[$("canned-admin-language").value] ?? "";
  }

  async save() {
    const reply = this.reply();
    if (!reply) return;
    const language = $("canned-admin-language").value;
    const text = $("canned-admin-text").value.trim();
    const groups = structuredClone(this.library.groups);
    for (const group of groups) {
      for (const each of group.replies) {
        if (each.id !== reply.id) continue;
        each.title = $("canned-admin-title-field").value.trim();
        if (text) each.text[language] = text;
        else delete each.text[language];
      }
    }
    await this.put(groups);
  }

  // Save the whole library; true if the server took it.
  async put(groups) {
    const status = $("canned-admin-status");
    try {
      const response = await fetch("/api/admin/canned", {
        method: "PUT",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": this.csrf() ?? "" },
        body: JSON.stringify({ groups }),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new HttpError(response.status, body.detail);
      this.library = body;
      forgetCannedLibrary();
      const notes = (body.wording ?? []).map((note) => `${note.reply} (${note.language}): ${note.phrases.join(", ")}`);
      status.textContent = notes.length
        ? t("staff.canned_admin.saved_with_wording", { notes: notes.join("; ") })
        : t("staff.canned_admin.saved");
      return true;
    } catch (error) {
      const detail = typeof error?.detail === "string" ? error.detail : "";
      status.textContent = t("staff.canned_admin.refused", { detail });
      return false;
    }
  }
}
