// Keyboard shortcuts for the common actions, listed on the `?` overlay (a dialog).
//
// Alt+letter and Ctrl+/ work anywhere, even while writing a reply; they are matched by the
// physical key (event.code), so they work on any keyboard layout and with a Mac's Option key.
// "?" opens the list only outside a text box, so typing a question never opens it. Nothing
// fires while a dialog is open or when the console is not shown.

import { t } from "../shared/i18n.js";

const $ = (id) => document.getElementById(id);

// `code`: event.code with Alt (or Ctrl for `ctrl`); `key`: a plain key outside text boxes.
// `shown`: the key as the list shows it; the modifier's name comes from the catalogue.
export const SHORTCUTS = [
  { action: "take_next", code: "KeyN", shown: "N" },
  { action: "next_chat", code: "ArrowDown", shown: "↓" },
  { action: "previous_chat", code: "ArrowUp", shown: "↑" },
  { action: "canned", code: "Slash", ctrl: true, shown: "/" },
  { action: "note", code: "KeyP", shown: "P" },
  { action: "transfer", code: "KeyT", shown: "T" },
  { action: "escalate", code: "KeyS", shown: "S" },
  { action: "end", code: "KeyX", shown: "X" },
  { action: "help", key: "?", shown: "?" },
];

function keysShown(shortcut) {
  if (shortcut.key) return shortcut.shown;
  return t(shortcut.ctrl ? "staff.keys.with_ctrl" : "staff.keys.with_alt", { key: shortcut.shown });
}

const ACTION_WORDS = {
  take_next: "staff.keys.take_next",
  next_chat: "staff.keys.next_chat",
  previous_chat: "staff.keys.previous_chat",
  canned: "staff.keys.canned",
  note: "staff.keys.note",
  transfer: "staff.keys.transfer",
  escalate: "staff.keys.escalate",
  end: "staff.keys.end",
  help: "staff.keys.help",
};

function typingIn(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  if (target.tagName === "TEXTAREA" || target.tagName === "SELECT") return true;
  return target.tagName === "INPUT" && !["checkbox", "radio", "button", "submit", "reset"].includes(target.type);
}

export function matchShortcut(event) {
  if (event.isComposing) return null;
  for (const shortcut of SHORTCUTS) {
    if (shortcut.key) {
      const plain = !event.ctrlKey && !event.altKey && !event.metaKey;
      if (plain && event.key === shortcut.key && !typingIn(event.target)) return shortcut;
    } else if (shortcut.ctrl) {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.code === shortcut.code) return shortcut;
    } else if (event.altKey && !event.ctrlKey && !event.metaKey && event.code === shortcut.code) {
      // Alt+arrows on a list box open it: leave that to the browser.
      if (event.target instanceof HTMLSelectElement && shortcut.code.startsWith("Arrow")) return null;
      return shortcut;
    }
  }
  return null;
}

export class KeyboardShortcuts {
  // `chats`: the ChatTabs; the actions press the same buttons a mouse would.
  constructor(chats) {
    this.chats = chats;
    this.dialog = $("keys-dialog");
    this.opener = null;
    $("keys-open").addEventListener("click", (event) => this.open(event.currentTarget));
    $("keys-close").addEventListener("click", () => this.dialog.close());
    this.dialog.addEventListener("close", () => {
      const back = this.opener?.isConnected ? this.opener : $("keys-open");
      back?.focus();
    });
    document.addEventListener("keydown", (event) => this.keydown(event));
  }

  keydown(event) {
    if (event.defaultPrevented || $("console").hidden) return;
    if (document.querySelector("dialog[open]")) return;
    const shortcut = matchShortcut(event);
    if (!shortcut) return;
    event.preventDefault();
    this[shortcut.action]?.();
  }

  open(opener = document.activeElement) {
    this.opener = opener;
    $("keys-rows").replaceChildren(
      ...SHORTCUTS.map((shortcut) => {
        const row = document.createElement("tr");
        const keys = document.createElement("td");
        const kbd = document.createElement("kbd");
        kbd.textContent = keysShown(shortcut);
        keys.append(kbd);
        const what = document.createElement("td");
        what.textContent = t(ACTION_WORDS[shortcut.action]);
        row.append(keys, what);
        return row;
      }),
    );
    this.dialog.showModal();
    $("keys-close").focus();
  }

  help() {
    this.open();
  }

  say(key) {
    // Cleared first so the same words are announced again.
    const status = $("keys-status");
    status.textContent = "";
    setTimeout(() => {
      status.textContent = t(key);
    }, 50);
  }

  take_next() {
    const button = $("take-next");
    if (button.offsetParent === null) return this.say("staff.keys.cannot_take");
    if (button.disabled) {
      button.focus();
      return this.say("staff.keys.cannot_take");
    }
    button.click();
  }

  next_chat() {
    this.step(1);
  }

  previous_chat() {
    this.step(-1);
  }

  step(by) {
    const ids = [...this.chats.chats.keys()];
    if (ids.length === 0) return this.say("staff.keys.no_chat");
    const at = ids.indexOf(this.chats.selectedId);
    const id = ids[(Math.max(at, 0) + by + ids.length) % ids.length];
    this.chats.select(id);
    const chat = this.chats.get(id);
    const reply = chat.part(".composer");
    // Straight to her reply box when the chat takes replies, else to its tab.
    if (!reply.hidden) chat.part(".composer textarea").focus();
    else chat.tab.focus();
  }

  // The selected chat's control, when it is shown.
  control(selector) {
    const chat = this.chats.get(this.chats.selectedId);
    const control = chat?.part(selector);
    if (!control || control.closest("[hidden]")) {
      this.say(chat ? "staff.keys.not_here" : "staff.keys.no_chat");
      return null;
    }
    control.scrollIntoView({ block: "nearest" });
    return control;
  }

  canned() {
    this.control(".canned-open")?.click();
  }

  note() {
    this.control(".note-field")?.focus();
  }

  transfer() {
    this.control(".transfer-open")?.click();
  }

  escalate() {
    this.control(".escalate")?.click();
  }

  end() {
    this.control(".end")?.click();
  }
}
