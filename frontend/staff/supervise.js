// A supervisor joining a chat visibly. A chat she reads from an alert offers "Join this chat";
// once joined (`supervising`), she writes in it beside the adviser, and everyone in the chat,
// her included, sees that a supervisor joined (`joined`, stored in the conversation).
// She may also take the chat over with a note (`take_over`): it becomes hers (`took_over`),
// the adviser's console lets it go, and she is told someone else is now talking with her.

import { t } from "../shared/i18n.js";

export class Supervision {
  // `chats`: the ChatTabs; `socket()`: the console's socket now.
  constructor(chats, socket) {
    this.chats = chats;
    this.socket = socket;
  }

  attach(socket) {
    // Who this console is, so a message from other staff in the chat shows as theirs.
    socket.on("welcome", (welcome) => {
      this.chats.myName = welcome.name ?? null;
    });
    socket.on("joined", (event) => {
      const chat = this.chats.get(event.conversation_id);
      chat?.transcript.addNotice(t("staff.supervise.joined", { name: event.name ?? "" }), event.seq);
    });
    socket.on("supervising", (event) => {
      for (const id of event.conversations ?? []) this.writable(this.chats.open(id));
    });
    socket.on("taken_over", (event) => {
      const chat = this.chats.get(event.conversation_id);
      chat?.transcript.addNotice(t("staff.takeover.notice", { name: event.adviser_name ?? "" }), event.seq);
    });
    socket.on("takeover_note", (event) => {
      const chat = this.chats.get(event.conversation_id);
      const text = event.note
        ? t("staff.takeover.note_from", { by: event.by, from: event.from, note: event.note })
        : t("staff.takeover.from", { by: event.by, from: event.from });
      chat?.transcript.addNotice(text, event.seq);
    });
    socket.on("took_over", (event) => this.tookOver(this.chats.open(event.conversation_id)));
    socket.on("error", (event) => {
      if (event.ref === "take_over") {
        const chat = this.chats.get(event.conversation_id ?? this.chats.selectedId);
        const status = chat?.panel.querySelector(".takeover-status");
        const key = event.code === "conversation_ended" ? "staff.takeover.ended" : "staff.takeover.failed";
        if (status) status.textContent = t(key);
        return;
      }
      if (event.ref !== "supervise") return;
      for (const chat of this.chats.chats.values()) {
        const status = chat.panel.querySelector(".supervise-status");
        if (status && chat.observer) status.textContent = t("staff.supervise.failed");
      }
    });
  }

  // A chat she only reads: the button that joins it.
  offer(chat) {
    if (!chat?.observer || chat.panel.querySelector(".supervise")) return;
    const box = document.createElement("div");
    box.className = "supervise row";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "supervise-join";
    button.textContent = t("staff.supervise.join");
    const status = document.createElement("p");
    status.className = "supervise-status status-line";
    status.setAttribute("role", "status");
    const hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent = t("staff.supervise.hint");
    button.addEventListener("click", () => {
      status.textContent = "";
      this.socket()?.send({ type: "supervise", conversation_id: chat.id });
    });
    box.append(button, hint, status);
    chat.part(".chat-observer").after(box);
    this.offerTakeOver(chat);
  }

  // "Take over this chat…": a note saying why, then the chat is hers.
  offerTakeOver(chat) {
    if (!chat || chat.ended || chat.panel.querySelector(".takeover")) return;
    const box = document.createElement("div");
    box.className = "takeover";
    const open = document.createElement("button");
    open.type = "button";
    open.className = "secondary takeover-open";
    open.textContent = t("staff.takeover.open");
    const form = document.createElement("form");
    form.className = "takeover-form tool-box";
    form.method = "post";
    form.hidden = true;
    const label = document.createElement("label");
    label.htmlFor = `takeover-note-${chat.id}`;
    label.textContent = t("staff.takeover.note");
    const note = document.createElement("textarea");
    note.id = label.htmlFor;
    note.className = "takeover-note";
    note.rows = 2;
    note.maxLength = 2000;
    note.dir = "auto";
    const hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent = t("staff.takeover.hint");
    const buttons = document.createElement("div");
    buttons.className = "row";
    const send = document.createElement("button");
    send.type = "submit";
    send.textContent = t("staff.takeover.send");
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "secondary";
    cancel.textContent = t("staff.takeover.cancel");
    buttons.append(send, cancel);
    form.append(label, note, hint, buttons);
    const status = document.createElement("p");
    status.className = "takeover-status status-line";
    status.setAttribute("role", "status");
    open.addEventListener("click", () => {
      form.hidden = false;
      status.textContent = "";
      note.focus();
    });
    cancel.addEventListener("click", () => {
      form.hidden = true;
      open.focus();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const sent = this.socket()?.send({ type: "take_over", conversation_id: chat.id, note: note.value.trim() });
      if (sent !== false) status.textContent = t("staff.takeover.sending");
    });
    box.append(open, form, status);
    (chat.panel.querySelector(".supervise") ?? chat.part(".chat-observer")).after(box);
  }

  // The chat is hers now: she writes, ends, transfers and wraps it up like any of her chats.
  tookOver(chat) {
    chat.supervising = false;
    chat.observer = false;
    chat.tools.away = false;
    chat.panel.querySelector(".supervise")?.remove();
    chat.panel.querySelector(".takeover")?.remove();
    chat.part(".chat-observer").hidden = true;
    chat.part(".composer").hidden = false;
    chat.part(".end").hidden = false;
    chat.part(".chat-tools").hidden = false;
    chat.part(".transfer-open").hidden = false;
    chat.transcript.addNotice(t("staff.takeover.yours"));
    chat.setTabLabel();
  }

  // Joined: she writes in it; the adviser keeps the chat (transfer is theirs).
  writable(chat) {
    if (chat.ended || chat.supervising) return;
    chat.supervising = true;
    chat.observer = false;
    chat.panel.querySelector(".supervise")?.remove();
    chat.part(".chat-observer").hidden = true;
    chat.part(".composer").hidden = false;
    chat.part(".end").hidden = false;
    chat.part(".chat-tools").hidden = false;
    chat.part(".transfer-open").hidden = true;
    chat.setTabLabel();
    this.offerTakeOver(chat);
  }
}
