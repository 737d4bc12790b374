// The adviser's open chats, one tab each, several at once.

import { t, translatePage } from "../shared/i18n.js";
import { addReportControl, markReported, reportFailed } from "../shared/report.js";
import { resent } from "../shared/resend.js";
import { Transcript, newClientId } from "../shared/transcript.js";
import { TypingIndicator, TypingNotifier } from "../shared/typing.js";
import { higher, levelBadge, levelName } from "./levels.js";
import { languageName, safeToTalkText, topicName } from "./queue.js";
import { SafetyPanel, escalationLevelName, flagLabel } from "./safety.js";
import { ChatTools } from "./chat-tools.js";
import { WordingHelper } from "./wording.js";

const ENDED_TEXT = {
  adviser: "staff.chat.ended_by_you",
  visitor: "staff.chat.ended_by_visitor",
  left: "staff.chat.ended_left",
};

// The visitor pages' agreed words (one per language, from /api/config): a message that is
// only that word means it is not safe for her to talk now.
let quietWords = new Set();

export function setQuietWords(words) {
  if (Array.isArray(words)) quietWords = new Set(words.map((word) => String(word).toLocaleLowerCase()));
}

const STAFF_REFUSALS = {
  empty: "staff.refused.empty",
  too_long: "staff.refused.too_long",
};

class Chat {
  // `observer`: a supervisor reading someone else's chat; she cannot write in it.
  constructor(tabs, id, details, { observer = false } = {}) {
    this.tabs = tabs;
    this.id = id;
    this.ended = false;
    this.observer = observer;
    this.level = "none";
    this.details = null;
    this.pendingFlags = new Map(); // message_seq -> flag, for a message not on screen yet
    this.flaggedSeqs = new Set();
    this.panel = tabs.template.content.firstElementChild.cloneNode(true);
    this.tab = document.createElement("button");
    this.build(details);
  }

  part(selector) {
    return this.panel.querySelector(selector);
  }

  build(details) {
    const { id, panel, tab } = this;
    panel.id = `chat-${id}`;
    panel.setAttribute("aria-labelledby", `tab-${id}`);
    panel.hidden = true;
    translatePage(panel);
    const field = this.part("textarea");
    field.id = `reply-${id}`;
    this.part(".composer label").htmlFor = field.id;
    this.part(".log").setAttribute("aria-label", t("staff.chat.log", { id }));
    this.part(".end-confirm").setAttribute("aria-label", t("staff.chat.end_question"));
    this.part(".chat-title").textContent = t("staff.chat.title", { id });
    this.part(".safety").setAttribute("aria-label", t("staff.safety.label", { id }));
    this.part(".wording").id = `wording-${id}`;
    field.setAttribute("aria-describedby", `wording-${id}`);
    this.describe(details);

    tab.type = "button";
    tab.id = `tab-${id}`;
    tab.className = "chat-tab";
    tab.setAttribute("role", "tab");
    tab.setAttribute("aria-controls", panel.id);
    tab.setAttribute("aria-selected", "false");
    tab.tabIndex = -1;
    this.setTabLabel();

    this.transcript = new Transcript(this.part(".log"), {
      who: (event) => (event.sender === "visitor" ? t("staff.chat.visitor") : event.sender_name ?? t("staff.chat.you")),
      // Another staff member's message (a supervisor who joined, the adviser before a
      // transfer) is not this console's own.
      isOwn: (event) =>
        event.sender === "adviser" &&
        (!event.sender_name || !this.tabs.myName || event.sender_name === this.tabs.myName),
      text: (state) => ({ sending: t("staff.chat.sending"), sent: t("staff.chat.sent"), failed: t("staff.chat.failed") })[state],
    });
    this.typing = new TypingNotifier((active) =>
      this.tabs.socket.send({ type: "typing", conversation_id: id, active }),
    );
    this.visitorTyping = new TypingIndicator((active) => {
      this.part(".typing").textContent = active ? t("staff.chat.typing") : "";
    });
    this.safety = new SafetyPanel(this.part(".safety"), {
      outcome: (escalationId, code, outcome) =>
        this.tabs.socket.send({ type: "escalation_outcome", escalation_id: escalationId, code, outcome }),
    });
    this.wording = new WordingHelper(this.part(".wording"), () => this.tabs.csrf());
    if (this.observer) {
      this.part(".composer").hidden = true;
      this.part(".end").hidden = true;
      const note = this.part(".chat-observer");
      note.textContent = t("staff.chat.observer");
      note.hidden = false;
    }
    this.tools = new ChatTools(this);
    this.wire();
  }

  describe(details) {
    if (details) this.details = details;
    if (details?.risk_level) this.level = higher(this.level, details.risk_level);
    const known = this.details;
    if (known) {
      this.part(".chat-meta").textContent = t("staff.chat.meta", {
        language: languageName(known.language),
        topic: topicName(known.topic),
        safe: safeToTalkText(known.safe_to_talk),
        risk: levelName(this.level),
      });
    }
    const risk = this.part(".chat-risk");
    risk.replaceChildren();
    if (this.level !== "none") risk.append(levelBadge(this.level, t("staff.chat.highest_risk", { level: levelName(this.level) })));
  }

  tabKey() {
    if (this.leftQuickly) return "staff.chat.tab_left";
    if (this.ended) return "staff.chat.tab_ended";
    if (this.notSafeNow) return "staff.chat.tab_not_safe";
    return this.observer ? "staff.chat.tab_reading" : "staff.chat.tab";
  }

  setTabLabel() {
    const key = this.tabKey();
    this.tab.textContent = t(key, { id: this.id });
    if (this.level && this.level !== "none") this.tab.append(" ", levelBadge(this.level));
    if (this.unread) {
      const mark = document.createElement("span");
      mark.className = "unread";
      mark.textContent = t("staff.chat.unread");
      this.tab.append(" ", mark);
    }
  }

  wire() {
    const form = this.part(".composer");
    const field = this.part("textarea");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send(field.value.trim());
      field.value = "";
      field.focus();
    });
    field.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
      // The Enter that sends must not also put a newline in the emptied box: that newline
      // would count as typing and tell her "typing…" again just after the message.
      event.preventDefault();
      form.requestSubmit();
    });
    field.addEventListener("input", () => {
      this.typing.input();
      this.wording.input(field.value);
    });
    this.part(".escalate").addEventListener("click", (event) => this.tabs.escalate(this.id, event.currentTarget));
    const end = this.part(".end");
    const confirm = this.part(".end-confirm");
    end.addEventListener("click", () => {
      end.hidden = true;
      confirm.hidden = false;
      this.part(".end-no").focus();
    });
    this.part(".end-no").addEventListener("click", () => {
      confirm.hidden = true;
      end.hidden = false;
      end.focus();
    });
    this.part(".end-yes").addEventListener("click", () => {
      this.tabs.socket.send({ type: "end", conversation_id: this.id });
    });
    this.part(".close").addEventListener("click", () => this.tabs.close(this.id));
  }

  send(body) {
    if (!body || this.ended || this.observer) return;
    const clientId = newClientId();
    this.transcript.addPending(clientId, body, t("staff.chat.you"));
    this.tabs.socket.send({ type: "message", conversation_id: this.id, client_id: clientId, body });
    this.typing.stop();
    this.wording.sent();
  }

  // Send a waiting message again with its client_id; false when it no longer waits.
  resendOne(clientId) {
    const body = this.transcript.pendingBody(clientId);
    if (body === null || this.ended) return false;
    this.tabs.socket.send({ type: "message", conversation_id: this.id, client_id: clientId, body });
    return true;
  }

  acknowledged(ack) {
    resent(ack.client_id);
    this.transcript.confirm(ack.client_id, ack.seq);
    this.wording.fromAck(ack.wording);
  }

  refused(clientId, reason) {
    if (this.transcript.pendingBody(clientId) === null) return false;
    this.transcript.fail(clientId, t(STAFF_REFUSALS[reason] ?? "staff.refused.other"));
    return true;
  }

  // A staff-only flag: a worded badge on the message, the details in the safety panel.
  flag(event) {
    // One message has one flag; a repeat (the same verdict told twice) adds nothing.
    if (typeof event.message_seq === "number") {
      if (this.flaggedSeqs.has(event.message_seq)) return;
      this.flaggedSeqs.add(event.message_seq);
    }
    this.safety.addFlag(event);
    this.raise(event.level);
    if (typeof event.message_seq === "number") {
      const item = this.transcript.itemAt(event.message_seq);
      if (item) this.badge(item, event);
      else this.pendingFlags.set(event.message_seq, event);
    } else if (event.danger_now) {
      this.transcript.addNotice(t("staff.flag.danger_now"), event.seq, "alert");
    } else {
      this.transcript.addNotice(t("staff.flag.refused_notice", { label: flagLabel(event) }), event.seq, "alert");
    }
  }

  badge(item, flag) {
    const meta = item.querySelector(".msg-meta");
    item.classList.add("is-flagged", `flag-${flag.level ?? "none"}`);
    meta.append(levelBadge(flag.level, t("staff.flag.badge", { label: flagLabel(flag) })));
  }

  raise(level) {
    const before = this.level;
    this.level = higher(this.level, level ?? "none");
    if (before !== this.level) {
      this.describe(null);
      this.setTabLabel();
    }
  }

  helplines(event) {
    const names = (event.helplines ?? []).map((h) => h.name).join(", ");
    this.transcript.addNotice(t("staff.chat.helplines_shown", { names }), event.seq);
  }

  escalation(event) {
    this.safety.addEscalation(event);
    this.transcript.addNotice(
      t("staff.chat.escalated", { level: escalationLevelName(event.level), name: event.by ?? "" }),
      event.seq,
    );
  }

  escalationOutcome(event) {
    this.safety.closeEscalation(event);
    this.transcript.addNotice(t("staff.chat.outcome_recorded", { name: event.by ?? "" }), event.seq);
  }

  report(seq, reason) {
    const sent = this.tabs.socket.send({ type: "report", conversation_id: this.id, seq, reason });
    if (sent) this.tabs.reporting.push({ id: this.id, seq });
    return sent;
  }

  reported(event) {
    markReported(this.transcript.itemAt(event.seq), t("staff.report.done"));
  }

  reportFailed(seq) {
    reportFailed(this.transcript.itemAt(seq), t("staff.report.failed"));
  }

  resend() {
    for (const { clientId, body } of this.transcript.unacknowledged()) {
      this.tabs.socket.send({ type: "message", conversation_id: this.id, client_id: clientId, body });
    }
  }

  message(event) {
    this.transcript.add(event);
    const item = this.transcript.itemAt(event.seq);
    const flag = this.pendingFlags.get(event.seq);
    if (flag && item) {
      this.pendingFlags.delete(event.seq);
      this.badge(item, flag);
    }
    if (event.sender === "visitor" && item && !this.observer) {
      addReportControl(item, reportWords(), (reason) => this.report(event.seq, reason));
    }
    if (event.sender === "visitor") {
      this.notSafe(quietWords.has(String(event.body ?? "").trim().toLocaleLowerCase()), event.seq);
      this.visitorTyping.clear();
      if (!this.selected) {
        this.unread = true;
        this.setTabLabel();
      }
    }
  }

  // She sent the agreed word: a clear alert, kept until she writes something else.
  notSafe(now, seq) {
    if (now === Boolean(this.notSafeNow)) return;
    this.notSafeNow = now;
    const alert = this.part(".chat-alert");
    alert.hidden = !now;
    alert.textContent = now ? t("staff.chat.not_safe") : "";
    if (now) this.transcript.addNotice(t("staff.chat.not_safe"), seq, "alert");
    this.setTabLabel();
  }

  // She went offline (her page closed, or its connection or node died), or came back.
  presence(event) {
    if (this.ended) return;
    this.offline = !event.here;
    const status = this.part(".chat-presence");
    status.hidden = !this.offline;
    status.textContent = this.offline ? t("staff.chat.offline") : "";
    this.transcript.addNotice(t(event.here ? "staff.chat.back" : "staff.chat.went_offline"), event.seq);
  }

  end(event) {
    this.ended = true;
    this.part(".chat-presence").hidden = true;
    this.leftQuickly = event.by === "quick_exit";
    for (const { clientId } of this.transcript.unacknowledged()) this.transcript.fail(clientId);
    this.typing.stop(false);
    this.visitorTyping.clear();
    const text = this.leftQuickly ? t("staff.chat.quick_exit") : t(ENDED_TEXT[event.by] ?? "staff.chat.ended");
    this.transcript.addNotice(text, event.seq, this.leftQuickly ? "alert" : "info");
    const alert = this.part(".chat-alert");
    alert.hidden = !this.leftQuickly;
    alert.textContent = this.leftQuickly ? t("staff.chat.quick_exit") : "";
    this.part(".composer").hidden = true;
    this.part(".end").hidden = true;
    this.part(".end-confirm").hidden = true;
    this.part(".close").hidden = false;
    this.wording.sent();
    this.tools.ended();
    this.setTabLabel();
  }

  select(selected) {
    this.selected = selected;
    this.panel.hidden = !selected;
    this.tab.setAttribute("aria-selected", String(selected));
    this.tab.tabIndex = selected ? 0 : -1;
    if (selected && this.unread) {
      this.unread = false;
      this.setTabLabel();
    }
  }
}

function reportWords() {
  return {
    button: t("staff.report.button"),
    question: t("staff.report.question"),
    reason: t("staff.report.reason"),
    send: t("staff.report.send"),
    cancel: t("staff.report.cancel"),
    sending: t("staff.report.sending"),
    failed: t("staff.report.failed"),
  };
}

export class ChatTabs {
  // `csrf()` gives the CSRF token; `escalate(id, opener)` opens the escalate dialog.
  constructor({ tabList, panels, template, empty, details, csrf = () => null, escalate = () => {} }) {
    this.tabList = tabList;
    this.panels = panels;
    this.template = template;
    this.empty = empty;
    this.details = details; // conversation_id -> what the queue said about it, or null
    this.chats = new Map();
    this.socket = null;
    this.csrf = csrf;
    this.escalate = escalate;
    this.reporting = []; // {id, seq} of reports sent and not yet answered
    tabList.addEventListener("keydown", (event) => this.arrowKeys(event));
  }

  // Chats this adviser is answering (not ended, not only watched): what counts to capacity.
  get activeCount() {
    return [...this.chats.values()].filter((chat) => !chat.ended && !chat.observer && !chat.supervising).length;
  }

  get(id) {
    return this.chats.get(id);
  }

  open(id, { focus = false, observer = false } = {}) {
    let chat = this.chats.get(id);
    if (!chat) {
      chat = new Chat(this, id, this.details(id), { observer });
      this.chats.set(id, chat);
      this.tabList.append(chat.tab);
      this.panels.append(chat.panel);
      chat.tab.addEventListener("click", () => this.select(id));
      if (!this.selectedId || focus) this.select(id);
    }
    this.empty.hidden = this.chats.size > 0;
    return chat;
  }

  select(id) {
    this.selectedId = id;
    for (const [other, chat] of this.chats) chat.select(other === id);
    this.onSelect?.(id);
  }

  close(id) {
    const chat = this.chats.get(id);
    if (!chat) return;
    chat.tab.remove();
    chat.panel.remove();
    this.chats.delete(id);
    this.socket.forget(id);
    if (this.selectedId === id) {
      this.selectedId = null;
      const next = this.chats.keys().next();
      if (!next.done) this.select(next.value);
    }
    this.empty.hidden = this.chats.size > 0;
  }

  closeAll() {
    for (const id of [...this.chats.keys()]) this.close(id);
  }

  // Left and Right move between tabs, as in every tab list.
  arrowKeys(event) {
    const ids = [...this.chats.keys()];
    const at = ids.indexOf(this.selectedId);
    if (at < 0 || !["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
    const forward = (event.key === "ArrowRight") !== (document.dir === "rtl");
    let next = event.key === "Home" ? 0 : event.key === "End" ? ids.length - 1 : at + (forward ? 1 : -1);
    next = (next + ids.length) % ids.length;
    this.select(ids[next]);
    this.chats.get(ids[next]).tab.focus();
    event.preventDefault();
  }

  // After a (re)connection: resend what was not acknowledged, and pick up chats that ended
  // while we were away (the server only resumes active chats by itself).
  reconnected(activeIds) {
    for (const [id, chat] of this.chats) {
      if (chat.ended) continue;
      if (activeIds.includes(id)) chat.resend();
      else this.socket.send({ type: "join", conversation_id: id, last_seq: this.socket.lastSeq(id) });
    }
  }
}
