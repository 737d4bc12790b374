// A supervisor joining a chat visibly. A chat she reads from an alert offers "Join this chat";
// once joined (`supervising`), she writes in it beside the adviser, and everyone in the chat,
// her included, sees that a supervisor joined (`joined`, stored in the conversation).

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
    socket.on("error", (event) => {
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
  }
}
