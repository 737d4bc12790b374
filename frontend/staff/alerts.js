// Supervisors' alerts: danger in a chat, an escalation, a reported message. Each is drawn the
// moment it arrives (never batched), newest first, with a button that opens the chat.
// Live alerts are not stored, so on start the panel also lists open escalations and reports.

import { getJson, postJson } from "../shared/http.js";
import { formatTime, parseTime, t } from "../shared/i18n.js";
import { categoryName, levelBadge, quoted } from "./levels.js";
import { escalationLevelName } from "./safety.js";

const $ = (id) => document.getElementById(id);
const ESCALATION_LEVEL_AS_RISK = { signpost: "low", supervisor: "high", emergency: "imminent" };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function keyOf(alert) {
  if (alert.kind === "escalation") return `escalation:${alert.escalation_id}`;
  if (alert.kind === "report") return `report:${alert.report_id}`;
  return null; // every risk alert is its own
}

export class AlertsPanel {
  // `openChat(conversationId)` joins and shows the chat; `csrf()` gives the CSRF token.
  constructor({ openChat, csrf }) {
    this.openChat = openChat;
    this.csrf = csrf;
    this.panel = $("alerts-panel");
    this.list = $("alerts-list");
    this.seen = new Set();
    this.unseen = 0;
    $("alerts-seen").addEventListener("click", () => this.markSeen());
  }

  reset() {
    this.list.replaceChildren();
    this.seen.clear();
    this.unseen = 0;
    this.drawCount();
  }

  // A live `alert` event.
  add(alert) {
    this.insert(alert, true);
  }

  // What is still open from before this page was loaded.
  async loadOpen() {
    try {
      const [escalations, reports] = await Promise.all([getJson("/api/escalations?status=open"), getJson("/api/reports")]);
      for (const e of escalations ?? []) {
        this.insert({ kind: "escalation", conversation_id: e.conversation_id, at: e.at, escalation_id: e.id, level: e.level, reason: e.reason }, false);
      }
      for (const r of reports ?? []) {
        if (r.place !== "conversation") continue;
        this.insert({ kind: "report", conversation_id: Number(r.place_id), at: r.at, report_id: r.id, seq: r.seq, reason: r.reason }, false);
      }
    } catch {
      $("alerts-status").textContent = t("staff.alerts.load_failed");
    }
  }

  insert(alert, fresh) {
    const key = keyOf(alert);
    if (key && this.seen.has(key)) return;
    if (key) this.seen.add(key);
    const item = this.item(alert, fresh);
    // Newest first: before the first item that is older.
    const at = parseTime(alert.at)?.getTime() ?? Date.now();
    item.dataset.at = String(at);
    const later = [...this.list.children].find((other) => Number(other.dataset.at) <= at);
    this.list.insertBefore(item, later ?? null);
    if (fresh) {
      this.unseen += 1;
      this.drawCount();
      $("alerts-status").textContent = t("staff.alerts.announce", { title: item.querySelector(".alert-title").textContent });
    }
  }

  item(alert, fresh) {
    const level = alert.kind === "escalation" ? ESCALATION_LEVEL_AS_RISK[alert.level] : alert.level;
    const item = el("li", `alert-item kind-${alert.kind}${fresh ? " is-new" : ""}`);
    const head = el("p", "alert-head");
    if (level) head.append(levelBadge(level, alert.kind === "escalation" ? escalationLevelName(alert.level) : undefined), " ");
    const titles = { risk: "staff.alerts.risk", escalation: "staff.alerts.escalation", report: "staff.alerts.report", danger_now: "staff.alerts.danger_now" };
    head.append(el("strong", "alert-title", t(titles[alert.kind] ?? "staff.alerts.other", { id: alert.conversation_id })));
    head.append(" ", el("span", "alert-time", formatTime(alert.at)));
    if (fresh) head.append(" ", el("span", "new-mark", t("staff.alerts.new")));
    item.append(head);
    if (alert.categories?.length) item.append(el("p", "alert-line", t("staff.alerts.categories", { categories: alert.categories.map(categoryName).join(", ") })));
    if (alert.phrases?.length) item.append(el("p", "alert-line", t("staff.alerts.phrases", { phrases: quoted(alert.phrases) })));
    if (alert.reason) item.append(el("p", "alert-line", t("staff.alerts.reason", { reason: alert.reason })));
    if (alert.kind === "report" && alert.seq) item.append(el("p", "alert-line", t("staff.alerts.message", { seq: alert.seq })));
    const row = el("div", "row");
    const open = el("button", "", t("staff.alerts.open", { id: alert.conversation_id }));
    open.type = "button";
    open.addEventListener("click", () => {
      item.classList.remove("is-new");
      item.querySelector(".new-mark")?.remove();
      this.recount();
      this.openChat(alert.conversation_id);
    });
    row.append(open);
    item.append(row);
    if (alert.kind === "report") item.append(this.closeReportForm(alert.report_id));
    return item;
  }

  closeReportForm(reportId) {
    const form = el("form", "report-close");
    form.method = "post";
    const id = `report-close-${reportId}`;
    const label = el("label", "", t("staff.alerts.report_outcome"));
    label.htmlFor = id;
    const field = el("input");
    field.type = "text";
    field.id = id;
    field.maxLength = 500;
    const save = el("button", "secondary", t("staff.alerts.close_report"));
    save.type = "submit";
    const status = el("p", "report-close-status");
    status.setAttribute("role", "status");
    form.append(label, field, save, status);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const outcome = field.value.trim();
      if (!outcome) {
        status.textContent = t("staff.alerts.outcome_needed");
        field.focus();
        return;
      }
      try {
        await postJson(`/api/reports/${reportId}/close`, { outcome }, { "X-CSRF-Token": this.csrf() ?? "" });
        form.replaceChildren(el("p", "report-closed", t("staff.alerts.report_closed", { outcome })));
      } catch (error) {
        status.textContent = error?.detail ? String(error.detail) : t("staff.error.general");
      }
    });
    return form;
  }

  markSeen() {
    for (const item of this.list.querySelectorAll(".is-new")) {
      item.classList.remove("is-new");
      item.querySelector(".new-mark")?.remove();
    }
    this.recount();
  }

  recount() {
    this.unseen = this.list.querySelectorAll(".is-new").length;
    this.drawCount();
  }

  drawCount() {
    this.panel.classList.toggle("has-new", this.unseen > 0);
    $("alerts-count").textContent = this.unseen ? t("staff.alerts.count", { count: this.unseen }) : "";
    $("alerts-seen").hidden = this.unseen === 0;
    $("alerts-empty").hidden = this.list.children.length > 0;
  }

  showError(text) {
    $("alerts-status").textContent = text;
  }
}
