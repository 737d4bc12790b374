// The audit log for supervisors and admins: who did what, to what, when and why.

import { HttpError, getJson } from "../shared/http.js";
import { parseTime, t } from "../shared/i18n.js";

const $ = (id) => document.getElementById(id);
const LIMIT = 200;

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function when(iso) {
  const date = parseTime(iso);
  if (!date) return "";
  return new Intl.DateTimeFormat("en-GB", { dateStyle: "short", timeStyle: "medium" }).format(date);
}

export class AuditPanel {
  constructor() {
    this.form = $("audit-form");
    this.rows = $("audit-rows");
    this.status = $("audit-status");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.load();
    });
  }

  async load() {
    const data = new FormData(this.form);
    const params = new URLSearchParams({ limit: String(LIMIT) });
    for (const name of ["action", "actor", "subject"]) {
      const value = String(data.get(name) ?? "").trim();
      if (value) params.set(name, value);
    }
    this.status.textContent = t("staff.audit.loading");
    try {
      const entries = (await getJson(`/api/audit?${params}`)) ?? [];
      this.rows.replaceChildren(...entries.map((entry) => this.row(entry)));
      this.status.textContent = entries.length ? t("staff.audit.count", { count: entries.length }) : t("staff.audit.none");
      $("audit-table").hidden = entries.length === 0;
    } catch (error) {
      const detail = error instanceof HttpError && typeof error.detail === "string" ? error.detail : null;
      this.status.textContent = detail ?? t("staff.error.general");
    }
  }

  row(entry) {
    const tr = document.createElement("tr");
    const details = entry.details && Object.keys(entry.details).length ? JSON.stringify(entry.details) : "";
    for (const text of [when(entry.at), entry.actor, entry.action, entry.subject, entry.reason ?? "", details]) {
      tr.append(cell(text ?? ""));
    }
    return tr;
  }
}
