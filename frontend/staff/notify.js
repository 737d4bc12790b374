// Notifications that reveal nothing. The tab's title counts chats waiting in the queue (for
// an adviser who is available), new messages in chats not on screen, and open alerts (for a
// supervisor); optionally a sound and a desktop notification for a new chat, a new message
// in a chat not on screen, and a new alert. Only counts and chat numbers are ever shown:
// never any words of hers, since a screen can be seen by someone passing.
//
// The two choices (both off until the staff member turns them on) are kept in this staff
// member's own browser. Only the staff console stores anything: visitor pages never do.

import { t } from "../shared/i18n.js";

const $ = (id) => document.getElementById(id);
const STORE = "willow.staff.notifications";
// Messages older than this when they reach the page are history being replayed (a reload,
// a reconnection), not news.
const HISTORY_MS = 15_000;
const NEWS = {
  new_chat: "staff.notify.new_chat",
  new_message: "staff.notify.new_message",
  alert: "staff.notify.alert",
};

function loadChoices() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE) ?? "{}");
    return { sound: saved.sound === true, desktop: saved.desktop === true };
  } catch {
    return { sound: false, desktop: false };
  }
}

export class Notifier {
  // `chats`: the ChatTabs; `queue`: the QueueView; `available()`: the adviser takes chats.
  constructor({ chats, queue, available }) {
    this.chats = chats;
    this.queue = queue;
    this.available = available;
    this.choices = loadChoices();
    this.unread = new Map(); // conversation_id -> new messages not yet looked at
    this.lastSeq = new Map(); // conversation_id -> highest message seq counted
    this.waiting = null; // conversation ids in the queue, after the first snapshot
    this.audio = null;
    this.dialog = $("notify-dialog");
    this.wireSettings();
    chats.onSelect = (id) => this.looked(id);
    document.addEventListener("visibilitychange", () => this.looked(chats.selectedId));
    // Open alerts are the supervisor's alert list: counted whenever it changes.
    new MutationObserver(() => this.draw()).observe($("alerts-list"), { childList: true });
    // Browsers start sound only after the person has used the page: after a reload, the
    // first click or key press gets it ready, so the next news can be heard.
    for (const kind of ["pointerdown", "keydown"]) {
      document.addEventListener(kind, () => this.audioReady(), { capture: true });
    }
  }

  audioReady() {
    if (!this.choices.sound) return;
    try {
      this.audio ??= new AudioContext();
      if (this.audio.state === "suspended") this.audio.resume();
    } catch {
      // No audio here.
    }
  }

  // Logged out: nothing counted is left in the title.
  reset() {
    this.unread.clear();
    this.lastSeq.clear();
    this.waiting = null;
    document.title = t("staff.title");
  }

  wireSettings() {
    const sound = $("notify-sound");
    const desktop = $("notify-desktop");
    $("notify-open").addEventListener("click", (event) => {
      this.opener = event.currentTarget;
      sound.checked = this.choices.sound;
      desktop.checked = this.choices.desktop && this.permission() === "granted";
      $("notify-status").textContent = "";
      this.dialog.showModal();
      sound.focus();
    });
    $("notify-close").addEventListener("click", () => this.dialog.close());
    this.dialog.addEventListener("close", () => this.opener?.focus());
    sound.addEventListener("change", () => {
      this.choose({ sound: sound.checked });
      if (sound.checked) this.beep(); // so she hears what it sounds like (and the page may play it)
    });
    desktop.addEventListener("change", async () => {
      if (!desktop.checked) return this.choose({ desktop: false });
      // Asked only now, when she turns it on.
      const answer = typeof Notification === "undefined" ? "unsupported" : await Notification.requestPermission();
      const on = answer === "granted";
      desktop.checked = on;
      this.choose({ desktop: on });
      $("notify-status").textContent = on
        ? t("staff.notify.desktop_on")
        : t(answer === "unsupported" ? "staff.notify.unsupported" : "staff.notify.blocked");
    });
  }

  permission() {
    return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
  }

  choose(change) {
    Object.assign(this.choices, change);
    try {
      localStorage.setItem(STORE, JSON.stringify(this.choices));
    } catch {
      // Storage refused (a locked-down browser): the choice lasts for this page.
    }
  }

  // Listens beside the console's own handlers (main.js registers first, so the queue and
  // the chats are up to date when these run).
  attach(socket) {
    socket.on("welcome", () => this.draw());
    socket.on("status", () => this.draw());
    socket.on("queue_snapshot", (snapshot) => this.queueNews((snapshot.waiting ?? []).map((e) => e.conversation_id)));
    socket.on("queue_changes", (changes) => this.queueNews((changes.added ?? []).map((e) => e.conversation_id)));
    socket.on("message", (event) => this.message(event));
    socket.on("ended", () => this.draw());
    socket.on("alert", () => this.tell("alert"));
    socket.on("room_alert", (event) => {
      if (event.room && event.alert_id) this.tell("alert");
    });
  }

  queueNews(ids) {
    const first = this.waiting === null;
    this.waiting ??= new Set();
    const fresh = ids.filter((id) => !this.waiting.has(id));
    for (const id of fresh) this.waiting.add(id);
    if (!first && fresh.length && this.available()) this.tell("new_chat");
    else this.draw();
  }

  message(event) {
    const id = event.conversation_id;
    if (event.sender !== "visitor" || typeof event.seq !== "number") return;
    if (event.seq <= (this.lastSeq.get(id) ?? 0)) return;
    this.lastSeq.set(id, event.seq);
    const at = Date.parse(event.at ?? "");
    if (Number.isFinite(at) && Date.now() - at > HISTORY_MS) return;
    if (this.chats.selectedId === id && document.visibilityState === "visible") return;
    this.unread.set(id, (this.unread.get(id) ?? 0) + 1);
    this.tell("new_message", { id });
  }

  // The adviser is looking at this chat now: its messages are read.
  looked(id) {
    if (id != null && document.visibilityState === "visible") this.unread.delete(id);
    for (const known of [...this.unread.keys()]) if (!this.chats.get(known)) this.unread.delete(known);
    this.draw();
  }

  count() {
    const waiting = this.available() ? this.queue.length : 0;
    let messages = 0;
    for (const [id, n] of this.unread) if (this.chats.get(id)) messages += n;
    const alerts = $("alerts-panel").hidden ? 0 : $("alerts-list").children.length;
    return waiting + messages + alerts;
  }

  draw() {
    const count = this.count();
    const title = t("staff.title");
    document.title = count > 0 ? t("staff.notify.title_count", { count, title }) : title;
  }

  // Something new: the count, and the sound and desktop notification if she chose them.
  tell(kind, params = {}) {
    this.draw();
    if (this.choices.sound) this.beep();
    if (this.choices.desktop && this.permission() === "granted") {
      try {
        new Notification(t("staff.title"), {
          body: t(NEWS[kind], params),
          tag: `willow-${kind}`,
          silent: true,
        });
      } catch {
        // Some browsers only notify from a service worker: the title still counts.
      }
    }
  }

  // Two short soft tones, made here: no sound file, nothing fetched.
  beep() {
    try {
      this.audio ??= new AudioContext();
      const now = this.audio.currentTime;
      for (const [offset, pitch] of [[0, 660], [0.18, 880]]) {
        const tone = this.audio.createOscillator();
        const gain = this.audio.createGain();
        tone.frequency.value = pitch;
        gain.gain.setValueAtTime(0.0001, now + offset);
        gain.gain.exponentialRampToValueAtTime(0.15, now + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.16);
        tone.connect(gain).connect(this.audio.destination);
        tone.start(now + offset);
        tone.stop(now + offset + 0.17);
      }
    } catch {
      // No audio here: the title and notifications still work.
    }
  }
}
