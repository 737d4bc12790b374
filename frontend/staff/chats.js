// The adviser's open chats, one tab each, several at once.

import { t, translatePage } from "../shared/i18n.js";
import { Transcript, newClientId } from "../shared/transcript.js";
import { TypingIndicator, TypingNotifier } from "../shared/typing.js";
import { languageName, riskText, safeToTalkText, topicName } from "./queue.js";

const ENDED_TEXT = {
  adviser: "staff.chat.ended_by_you",
  visitor: "staff.chat.ended_by_visitor",
};

class Chat {
  constructor(tabs, id, details) {
    this.tabs = tabs;
    this.id = id;
    this.ended = false;
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
      isOwn: (event) => event.sender === "adviser",
      text: (state) => ({ sending: t("staff.chat.sending"), sent: t("staff.chat.sent"), failed: t("staff.chat.failed") })[state],
    });
    this.typing = new TypingNotifier((active) =>
      this.tabs.socket.send({ type: "typing", conversation_id: id, active }),
    );
    this.visitorTyping = new TypingIndicator((active) => {
      this.part(".typing").textContent = active ? t("staff.chat.typing") : "";
    });
    this.wire();
  }

  describe(details) {
    if (!details) return;
    this.part(".chat-meta").textContent = t("staff.chat.meta", {
      language: languageName(details.language),
      topic: topicName(details.topic),
      safe: safeToTalkText(details.safe_to_talk),
      risk: riskText(details.risk_level),
    });
  }

  setTabLabel() {
    const key = this.leftQuickly ? "staff.chat.tab_left" : this.ended ? "staff.chat.tab_ended" : "staff.chat.tab";
    this.tab.textContent = t(key, { id: this.id });
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
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) form.requestSubmit();
    });
    field.addEventListener("input", () => this.typing.input());
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
    if (!body || this.ended) return;
    const clientId = newClientId();
    this.transcript.addPending(clientId, body, t("staff.chat.you"));
    this.tabs.socket.send({ type: "message", conversation_id: this.id, client_id: clientId, body });
    this.typing.stop();
  }

  resend() {
    for (const { clientId, body } of this.transcript.unacknowledged()) {
      this.tabs.socket.send({ type: "message", conversation_id: this.id, client_id: clientId, body });
    }
  }

  message(event) {
    this.transcript.add(event);
    if (event.sender === "visitor") {
      this.visitorTyping.clear();
      if (!this.selected) {
        this.unread = true;
        this.setTabLabel();
      }
    }
  }

  end(event) {
    this.ended = true;
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

export class ChatTabs {
  constructor({ tabList, panels, template, empty, details }) {
    this.tabList = tabList;
    this.panels = panels;
    this.template = template;
    this.empty = empty;
    this.details = details; // conversation_id -> what the queue said about it, or null
    this.chats = new Map();
    this.socket = null;
    tabList.addEventListener("keydown", (event) => this.arrowKeys(event));
  }

  get(id) {
    return this.chats.get(id);
  }

  open(id, { focus = false } = {}) {
    let chat = this.chats.get(id);
    if (!chat) {
      chat = new Chat(this, id, this.details(id));
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
