// The supervisors' live board: the queue by language and by risk, the longest wait against
// the service's target, each adviser's status and load, and the flagged chats. The queue part
// is drawn from the queue news this console already holds (queue.js); the rest comes as
// `board` once and `board_changes` after, each naming only what changed. Nothing she wrote is
// on the board.

import { parseTime, t } from "../shared/i18n.js";
import { LEVEL_RANK, levelBadge } from "./levels.js";
import { languageName, riskText } from "./queue.js";

const STATUS = { online: "staff.board.status.online", away: "staff.board.status.away", offline: "staff.board.status.offline" };
const STATUS_ORDER = { online: 0, away: 1, offline: 2 };
const RISKS = ["imminent", "high", "medium", "low", "none"];
const WAIT = { ok: "staff.board.wait.ok", near: "staff.board.wait.near", over: "staff.board.wait.over" };
// The wait is drawn again this often, so its colour follows the clock between news.
const REDRAW_MS = 5000;
// Amber from this share of the target, red past it.
const NEAR = 0.75;

const $ = (id) => document.getElementById(id);

function cell(text, tag = "td") {
  const element = document.createElement(tag);
  element.textContent = text;
  if (tag === "th") element.scope = "row";
  return element;
}

function row(...cells) {
  const tr = document.createElement("tr");
  tr.append(...cells);
  return tr;
}

export function durationText(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  return whole < 60
    ? t("staff.board.seconds", { count: whole })
    : t("staff.board.minutes", { count: Math.floor(whole / 60) });
}

// "ok", "near" or "over": the longest wait against the target.
export function waitState(seconds, target) {
  if (seconds >= target) return "over";
  return seconds >= target * NEAR ? "near" : "ok";
}

export class Board {
  // `queue`: the console's QueueView; `openChat(id)`: open a chat to read (and join or take over).
  constructor({ queue, openChat }) {
    this.queue = queue;
    this.openChat = openChat;
    this.panel = $("board");
    this.target = 120;
    this.advisers = new Map();
    this.flagged = new Map();
    this.loaded = false;
    setInterval(() => this.loaded && this.drawQueue(), REDRAW_MS);
  }

  attach(socket) {
    socket.on("board", (event) => this.load(event));
    socket.on("board_changes", (event) => this.apply(event));
    socket.on("queue_snapshot", () => this.loaded && this.drawQueue());
    socket.on("queue_changes", () => this.loaded && this.drawQueue());
  }

  show(visible) {
    this.panel.hidden = !visible;
  }

  load(event) {
    this.target = Number(event.wait_target_seconds) || this.target;
    this.advisers = new Map((event.advisers ?? []).map((a) => [a.staff_id, a]));
    this.flagged = new Map((event.flagged ?? []).map((f) => [f.conversation_id, f]));
    this.loaded = true;
    this.draw();
  }

  apply(event) {
    for (const id of event.gone_advisers ?? []) this.advisers.delete(id);
    for (const adviser of event.advisers ?? []) this.advisers.set(adviser.staff_id, adviser);
    for (const id of event.unflagged ?? []) this.flagged.delete(id);
    for (const chat of event.flagged ?? []) this.flagged.set(chat.conversation_id, chat);
    if (this.loaded) this.draw();
  }

  draw() {
    this.drawQueue();
    this.drawAdvisers();
    this.drawFlagged();
  }

  drawQueue(now = Date.now()) {
    const entries = this.queue.entries;
    const byLanguage = new Map();
    const byRisk = new Map();
    let oldest = null;
    for (const entry of entries) {
      byLanguage.set(entry.language ?? "", (byLanguage.get(entry.language ?? "") ?? 0) + 1);
      const risk = entry.risk_level ?? "none";
      byRisk.set(risk, (byRisk.get(risk) ?? 0) + 1);
      const since = parseTime(entry.waiting_since);
      if (since && (oldest === null || since < oldest)) oldest = since;
    }
    $("board-waiting").textContent = t("staff.board.waiting", { count: entries.length });
    const wait = $("board-wait");
    if (oldest === null) {
      wait.className = "board-wait wait-ok";
      wait.textContent = t("staff.board.no_wait", { target: durationText(this.target) });
    } else {
      const seconds = (now - oldest.getTime()) / 1000;
      const state = waitState(seconds, this.target);
      wait.className = `board-wait wait-${state}`;
      wait.textContent = t(WAIT[state], {
        wait: durationText(seconds),
        target: durationText(this.target),
      });
    }
    const languages = [...byLanguage.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    $("board-languages").replaceChildren(
      ...(languages.length
        ? languages.map(([code, count]) => row(cell(languageName(code || null), "th"), cell(String(count))))
        : [row(Object.assign(cell(t("staff.board.none_waiting")), { colSpan: 2 }))]),
    );
    const risks = RISKS.filter((level) => byRisk.has(level));
    $("board-risks").replaceChildren(
      ...(risks.length
        ? risks.map((level) => {
            const name = cell("", "th");
            name.append(levelBadge(level, riskText(level)));
            return row(name, cell(String(byRisk.get(level))));
          })
        : [row(Object.assign(cell(t("staff.board.none_waiting")), { colSpan: 2 }))]),
    );
  }

  drawAdvisers() {
    const advisers = [...this.advisers.values()].sort(
      (a, b) => (STATUS_ORDER[a.status] ?? 3) - (STATUS_ORDER[b.status] ?? 3) || a.name.localeCompare(b.name),
    );
    $("board-advisers").replaceChildren(
      ...(advisers.length
        ? advisers.map((adviser) => {
            const status = cell(t(STATUS[adviser.status] ?? "staff.unknown"));
            status.className = `board-status status-${adviser.status}`;
            const full = adviser.chats >= adviser.capacity;
            const load = cell(
              t(full ? "staff.board.load_full" : "staff.board.load", { chats: adviser.chats, capacity: adviser.capacity }),
            );
            const tr = row(cell(adviser.name, "th"), status, load);
            tr.dataset.staffId = String(adviser.staff_id);
            if (full) tr.classList.add("is-full");
            return tr;
          })
        : [row(Object.assign(cell(t("staff.board.no_advisers")), { colSpan: 3 }))]),
    );
  }

  drawFlagged() {
    const flagged = [...this.flagged.values()].sort(
      (a, b) => (LEVEL_RANK[b.risk_level] ?? 0) - (LEVEL_RANK[a.risk_level] ?? 0) || a.conversation_id - b.conversation_id,
    );
    $("board-flagged-empty").hidden = flagged.length > 0;
    $("board-flagged").replaceChildren(
      ...flagged.map((chat) => {
        const item = document.createElement("li");
        item.className = "board-flag";
        item.dataset.conversationId = String(chat.conversation_id);
        const who = document.createElement("span");
        who.textContent =
          chat.status === "active"
            ? t("staff.board.flagged_with", { id: chat.conversation_id, name: chat.adviser_name ?? "" })
            : t("staff.board.flagged_waiting", { id: chat.conversation_id });
        const open = document.createElement("button");
        open.type = "button";
        open.className = "secondary compact";
        open.textContent = t("staff.board.open");
        open.setAttribute("aria-label", t("staff.board.open_chat", { id: chat.conversation_id }));
        open.hidden = chat.status !== "active";
        open.addEventListener("click", () => this.openChat(chat.conversation_id));
        item.append(levelBadge(chat.risk_level, riskText(chat.risk_level)), " ", who, " ", open);
        return item;
      }),
    );
  }
}
