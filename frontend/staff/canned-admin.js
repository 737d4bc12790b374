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
  }

  async load() {
    const status = $("canned-admin-status");
    try {
      this.library = await getJson("/api/staff/canned");
    } catch {
      status.textContent = t("staff.canned_admin.load_failed");
      return;
    }
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
    $("canned-admin-form").hidden = false;
    status.textContent = "";
    this.fill();
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
    const status = $("canned-admin-status");
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
    } catch (error) {
      const detail = typeof error?.detail === "string" ? error.detail : "";
      status.textContent = t("staff.canned_admin.refused", { detail });
    }
  }
}
