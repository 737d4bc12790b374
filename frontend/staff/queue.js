// The waiting queue as staff see it: how long, language, topic, "safe to talk?", risk and
// priority. Nothing that identifies the visitor is ever sent, so nothing of that is shown.

import { parseTime, t } from "../shared/i18n.js";
import { levelBadge } from "./levels.js";
import { queueExtras } from "./waiting.js";

const LANGUAGE_NAMES = {
  en: "staff.lang.en",
  pl: "staff.lang.pl",
  ar: "staff.lang.ar",
  ur: "staff.lang.ur",
  bn: "staff.lang.bn",
  pa: "staff.lang.pa",
  so: "staff.lang.so",
};
const TOPIC_NAMES = {
  talk: "staff.topic.talk",
  drugs: "staff.topic.drugs",
  alcohol: "staff.topic.alcohol",
  abuse: "staff.topic.abuse",
  children: "staff.topic.children",
  health: "staff.topic.health",
  sexual_violence: "staff.topic.sexual_violence",
  forced_marriage: "staff.topic.forced_marriage",
  sex_work: "staff.topic.sex_work",
  other: "staff.topic.other",
};
const RISK_NAMES = {
  none: "staff.risk.none",
  low: "staff.risk.low",
  medium: "staff.risk.medium",
  high: "staff.risk.high",
  imminent: "staff.risk.imminent",
};
const REFRESH_MS = 15000;
const MAX_ROWS = 200;

// The server's order: risk (priority) first, then the longest wait, then the id.
function queueOrder(a, b) {
  return (
    (b.priority ?? 0) - (a.priority ?? 0) ||
    String(a.waiting_since).localeCompare(String(b.waiting_since)) ||
    a.conversation_id - b.conversation_id
  );
}

const label = (names, value) => (value && names[value] ? t(names[value]) : value ?? t("staff.unknown"));

export function languageName(code) {
  return label(LANGUAGE_NAMES, code);
}

export function topicName(code) {
  return label(TOPIC_NAMES, code);
}

export function safeToTalkText(value) {
  if (value === true) return t("staff.safe.yes");
  if (value === false) return t("staff.safe.no");
  if (value === "unsure") return t("staff.safe.unsure");
  return t("staff.safe.unanswered");
}

// 0 is her turn in order; anything above moved her ahead (risk, or a mentor's move).
export function priorityText(priority) {
  const level = Number(priority) || 0;
  return level > 0 ? t("staff.queue.priority.raised", { level }) : t("staff.queue.priority.normal");
}

export function riskText(level) {
  return label(RISK_NAMES, level);
}

export function waitingText(since, now = Date.now()) {
  const start = parseTime(since);
  if (!start) return t("staff.unknown");
  const minutes = Math.max(0, Math.floor((now - start.getTime()) / 60000));
  return minutes < 1 ? t("staff.queue.just_now") : t("staff.queue.minutes", { minutes });
}

export class QueueView {
  constructor({ rows, summary }) {
    this.rows = rows;
    this.summary = summary;
    this.entries = [];
    this.known = new Map(); // conversation_id -> the last entry seen, for the chat's header
    this.gone = new Set(); // chats that left the queue: they never come back
    setInterval(() => this.draw(), REFRESH_MS);
  }

  update(snapshot) {
    this.entries = (snapshot.waiting ?? []).filter((e) => !this.gone.has(e.conversation_id));
    for (const entry of this.entries) this.known.set(entry.conversation_id, entry);
    this.available = snapshot.available_advisers ?? 0;
    this.draw();
  }

  // What changed since the last news (queue_changes): only the changed chats travel. A chat
  // that left never returns, so a late "added" for it is ignored whatever order news came in.
  applyChanges(changes) {
    for (const id of changes.removed ?? []) this.gone.add(id);
    const byId = new Map(this.entries.map((e) => [e.conversation_id, e]));
    for (const id of changes.removed ?? []) byId.delete(id);
    for (const entry of changes.added ?? []) {
      if (!this.gone.has(entry.conversation_id)) byId.set(entry.conversation_id, entry);
    }
    for (const entry of changes.changed ?? []) {
      if (byId.has(entry.conversation_id)) byId.set(entry.conversation_id, entry);
    }
    for (const entry of byId.values()) this.known.set(entry.conversation_id, entry);
    this.entries = [...byId.values()].sort(queueOrder);
    this.available = changes.available_advisers ?? this.available;
    this.draw();
  }

  details(conversationId) {
    return this.known.get(conversationId) ?? null;
  }

  get length() {
    return this.entries.length;
  }

  draw() {
    const count = this.entries.length;
    this.summary.textContent = count
      ? t("staff.queue.count", { count, available: this.available })
      : t("staff.queue.empty");
    // The first in line are what an adviser acts on; a surge of thousands is summed up.
    const shown = this.entries.slice(0, MAX_ROWS).map((entry) => this.row(entry));
    if (count > MAX_ROWS) shown.push(this.moreRow(count - MAX_ROWS));
    this.rows.replaceChildren(...shown);
  }

  moreRow(more) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 6;
    td.textContent = t("staff.queue.more", { count: more });
    tr.append(td);
    return tr;
  }

  row(entry) {
    const tr = document.createElement("tr");
    const risky = entry.risk_level && entry.risk_level !== "none";
    if (risky) tr.classList.add("is-risky");
    const cells = [
      waitingText(entry.waiting_since),
      entry.any_adviser
        ? `${languageName(entry.language)} · ${t("staff.queue.any_adviser")}`
        : languageName(entry.language),
      topicName(entry.topic),
      safeToTalkText(entry.safe_to_talk),
      riskText(entry.risk_level),
      priorityText(entry.priority),
    ];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    // The risk as a worded badge too, in the level's colour, so the eye finds it at once.
    if (risky) tr.children[4].replaceChildren(levelBadge(entry.risk_level, riskText(entry.risk_level)));
    tr.children[2].append(...queueExtras(entry));
    return tr;
  }
}
