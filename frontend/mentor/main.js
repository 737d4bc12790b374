// The mentor console: open a room, talk with it, and look after the people in it (mute,
// remove, ban, move to an adviser), its messages (hold, hide, pin) and what needs her
// (risk alerts, held messages, reports, "I think I know someone here").
// The staff cookie is HttpOnly; the CSRF token is kept only in this page's memory.

import { HttpError, getJson, postJson } from "../shared/http.js";
import { setLanguage, t } from "../shared/i18n.js";
import { StreamSocket } from "../shared/socket.js";
import { newClientId } from "../shared/transcript.js";
import { statusText } from "../rooms/list.js";
import { RoomLog } from "../rooms/log.js";
import { isolate, translateWords, w } from "../rooms/words.js";
import { closeAction, openAction } from "./actions.js";
import { People } from "./people.js";
import { Queue, MENTION_STANCES } from "./queue.js";

const $ = (id) => document.getElementById(id);
const MENTOR_ROLES = ["mentor", "supervisor"];
const LEAVE_REASONS = ["moved", "removed", "banned"];

const state = { csrf: null, staff: null, room: null, session: null, pins: [], settings: {} };
let socket = null;

const log = new RoomLog($("log"), {
  isOwn: (event) => event.sender === "mentor" && event.name === state.staff?.display_name,
  words: (key, params) => w(key, params),
  decorate: messageActions,
});
const people = new People($("people"), $("people-empty"), { act: personAction });
const queue = new Queue({ alerts: $("alerts"), held: $("held"), reports: $("reports") }, $("queue-empty"), {
  send: (event) => socket?.send(event),
  textOf: (seq) => log.at(seq)?.querySelector(".msg-body")?.textContent ?? "",
  move: (participant) => personAction("move", people.get(participant)),
});

// --- logging in -----------------------------------------------------------------------------

function showOnly(...ids) {
  for (const id of ["login", "choose", "console"]) $(id).hidden = !ids.includes(id);
}

function showLogin(message) {
  showOnly("login");
  $("me").hidden = true;
  $("notice").hidden = true;
  $("login-error").hidden = !message;
  $("login-error").textContent = message ?? "";
  $("username").focus();
}

async function logIn(event) {
  event.preventDefault();
  $("login-submit").disabled = true;
  try {
    const me = await postJson("/api/staff/login", {
      username: $("username").value.trim(),
      password: $("password").value,
    });
    $("password").value = "";
    start(me);
  } catch (error) {
    const wrong = error instanceof HttpError && (error.status === 401 || error.status === 422);
    showLogin(w(wrong ? "mentor.login.failed" : "mentor.login.error"));
  } finally {
    $("login-submit").disabled = false;
  }
}

async function logOut() {
  try {
    await postJson("/api/staff/logout", {}, { "X-CSRF-Token": state.csrf ?? "" });
  } catch {
    // Already gone; the console closes either way.
  }
  socket?.close();
  socket = null;
  showLogin();
}

function start(me) {
  state.csrf = me.csrf_token;
  state.staff = me.staff;
  $("me").hidden = false;
  $("me-name").textContent = w("mentor.signed_in_as", { name: me.staff.display_name });
  if (!MENTOR_ROLES.includes(me.staff.role)) {
    showOnly();
    notice(w("mentor.not_mentor"));
    return;
  }
  if (!me.staff.trained) notice(w("mentor.untrained"));
  connect();
  chooseRoom();
}

function notice(text) {
  $("notice").hidden = !text;
  $("notice").textContent = text ?? "";
}

// --- choosing a room --------------------------------------------------------------------------

async function chooseRoom() {
  showOnly("choose");
  const { rooms } = await getJson("/api/rooms");
  $("choose-list").replaceChildren(
    ...rooms.map((room) => {
      const item = document.createElement("li");
      item.className = `room-card${room.open ? " is-open" : ""}`;
      const title = document.createElement("h3");
      title.textContent = room.name;
      title.dir = "auto";
      const status = document.createElement("p");
      status.className = "room-status";
      status.textContent = statusText(room);
      const open = document.createElement("button");
      open.type = "button";
      open.textContent = w(room.open ? "mentor.choose.join" : "mentor.choose.open");
      open.setAttribute("aria-label", `${open.textContent}: ${room.name}`);
      open.disabled = !state.staff.trained;
      open.addEventListener("click", () => openRoom(room.id));
      item.append(title, status, open);
      return item;
    }),
  );
}

function openRoom(roomId) {
  state.room = roomId;
  socket?.send({ type: "room_open", room: roomId, last_seq: 0 });
}

// --- the socket ---------------------------------------------------------------------------------

function connect() {
  socket = new StreamSocket({ hello: (resume) => ({ type: "hello", v: 1, resume }) });
  socket.on("state", (value) => {
    const key = { connecting: "connection.connecting", reconnecting: "connection.lost" }[value];
    $("connection").textContent = key ? t(key) : "";
  });
  socket.on("welcome", () => {
    // After a drop, take the room up again from the last event seen.
    if (state.room && state.session) {
      socket.send({ type: "room_open", room: state.room, last_seq: socket.lastSeq(state.session) });
    }
  });
  const handlers = {
    room_state: onState,
    room_joined: (event) => {
      people.join(event);
      log.notice(w("rooms.notice.joined", { name: isolate(event.name) }), event.seq);
    },
    room_left: (event) => {
      people.leave(event.participant);
      log.notice(w("rooms.notice.left", { name: isolate(event.name) }), event.seq);
    },
    room_renamed: (event) => {
      people.rename(event.participant, event.name);
      log.notice(w("rooms.notice.renamed", { old: isolate(event.old), name: isolate(event.name) }), event.seq);
    },
    room_message: (event) => log.message(event),
    ack: (event) => log.confirm(event.client_id, event.seq),
    room_hidden: (event) => log.hide(event.message_seq),
    room_pinned: (event) => drawPins([...state.pins, event]),
    room_unpinned: (event) => drawPins(state.pins.filter((p) => p.message_seq !== event.message_seq)),
    room_settings: drawSettings,
    room_closed: onClosed,
    room_participant: (event) => {
      people.update(event);
      // Only mentors see why someone left; the room saw "left".
      if (LEAVE_REASONS.includes(event.status)) {
        log.notice(w(`mentor.status.${event.status}`, { name: isolate(event.name) }), event.seq);
      }
    },
    room_known: (event) => {
      people.update({ participant: event.participant, knows_someone: true });
      queue.known(event);
    },
    room_alert: (event) => {
      // A mention (negated, asked about, past, fiction, a joke) is a note: her level stays.
      if (!MENTION_STANCES.includes(event.risk.stance)) {
        people.update({ participant: event.participant, risk_level: event.risk.level });
      }
      queue.alert(event);
    },
    room_held: (event) => queue.held(event),
    room_held_decided: (event) => queue.decided(event.held_id),
    room_report_filed: (event) => queue.report(event),
    room_report_closed: (event) => queue.reportClosed(event.report_id),
    error: onError,
  };
  for (const [type, handler] of Object.entries(handlers)) socket.on(type, handler);
  socket.connect();
}

function onState(event) {
  const fresh = state.session !== event.stream_id;
  state.session = event.stream_id;
  state.room = event.room;
  notice("");
  if (fresh) {
    log.clear();
    socket.follow(event.stream_id, 0);
  }
  $("room-name").textContent = event.name;
  $("room-name").dir = "auto";
  $("log").dir = event.direction;
  $("room-meta").textContent = w("mentor.room.meta", { capacity: event.capacity });
  people.reset(event.participants);
  queue.reset(event);
  drawPins(event.pins);
  drawSettings(event);
  showOnly("console");
}

function drawSettings(event) {
  state.settings = { locked: event.locked, slow_mode_seconds: event.slow_mode_seconds };
  $("slow-mode").value = String(event.slow_mode_seconds);
  if ($("slow-mode").value !== String(event.slow_mode_seconds)) {
    const option = document.createElement("option");
    option.value = String(event.slow_mode_seconds);
    option.textContent = w("mentor.slow.seconds", { seconds: event.slow_mode_seconds });
    $("slow-mode").append(option);
    $("slow-mode").value = option.value;
  }
  $("lock").setAttribute("aria-pressed", String(event.locked));
  $("lock").textContent = w(event.locked ? "mentor.unlock" : "mentor.lock");
}

function drawPins(pins) {
  state.pins = pins;
  $("pins").hidden = pins.length === 0;
  $("pin-list").replaceChildren(
    ...pins.map((pin) => {
      const item = document.createElement("li");
      const body = document.createElement("p");
      body.dir = "auto";
      body.textContent = pin.body;
      const unpin = document.createElement("button");
      unpin.type = "button";
      unpin.className = "link-button";
      unpin.textContent = w("mentor.message.unpin");
      unpin.addEventListener("click", () => socket?.send({ type: "room_unpin", seq: pin.message_seq }));
      item.append(body, unpin);
      return item;
    }),
  );
}

function onClosed() {
  closeAction();
  state.session = null;
  state.room = null;
  notice(w("mentor.closed"));
  chooseRoom();
}

function onError(event) {
  if (event.ref === "hello" && event.code === "unauthorized") {
    socket.close();
    socket = null;
    showLogin(w("mentor.login.expired"));
    return;
  }
  const text = event.message ? `${w("mentor.error")} ${event.message}` : w("mentor.error");
  if (event.ref === "room_open") notice(text);
  else $("composer-note").textContent = text;
}

// --- messages ------------------------------------------------------------------------------------

function send(event) {
  event.preventDefault();
  const body = $("message").value.trim();
  if (!body) return;
  const clientId = newClientId();
  log.pending(clientId, body);
  if (socket?.send({ type: "room_message", client_id: clientId, body })) {
    $("message").value = "";
    $("composer-note").textContent = "";
  } else {
    log.state(clientId, w("mentor.error"), true);
  }
}

function messageActions(item, event) {
  const controls = document.createElement("div");
  controls.className = "msg-controls row";
  const hide = document.createElement("button");
  hide.type = "button";
  hide.className = "link-button";
  hide.textContent = w("mentor.message.hide");
  hide.addEventListener("click", () =>
    openAction(
      controls,
      { title: w("mentor.message.hide_title"), textKey: "mentor.action.reason", required: true, confirmKey: "mentor.message.hide" },
      ({ text }) => socket?.send({ type: "room_hide", seq: event.seq, reason: text }),
    ),
  );
  const pin = document.createElement("button");
  pin.type = "button";
  pin.className = "link-button";
  pin.textContent = w("mentor.message.pin");
  pin.addEventListener("click", () => socket?.send({ type: "room_pin", seq: event.seq }));
  controls.append(hide, pin);
  item.append(controls);
}

// --- people ---------------------------------------------------------------------------------------

const DURATIONS = {
  mute: [[5, "mentor.minutes.5"], [15, "mentor.minutes.15"], [30, "mentor.minutes.30"], [60, "mentor.minutes.60"]],
  ban: [[60, "mentor.minutes.60"], [240, "mentor.minutes.240"], [1440, "mentor.minutes.1440"]],
};

function personAction(kind, person) {
  if (!person) return;
  const container = people.slot(person.participant);
  const id = person.participant;
  const name = person.name;
  if (kind === "unmute") {
    socket?.send({ type: "room_unmute", participant: id });
    return;
  }
  const specs = {
    mute: {
      title: w("mentor.person.mute_title", { name }),
      minutes: DURATIONS.mute,
      textKey: "mentor.action.reason",
      required: true,
      confirmKey: "mentor.person.mute",
      send: ({ minutes, text }) => ({ type: "room_mute", participant: id, minutes, reason: text }),
    },
    remove: {
      title: w("mentor.person.remove_title", { name }),
      textKey: "mentor.action.reason",
      required: true,
      confirmKey: "mentor.person.remove",
      send: ({ text }) => ({ type: "room_remove", participant: id, reason: text }),
    },
    ban: {
      title: w("mentor.person.ban_title", { name }),
      minutes: DURATIONS.ban,
      textKey: "mentor.action.reason",
      required: true,
      confirmKey: "mentor.person.ban",
      send: ({ minutes, text }) => ({ type: "room_ban", participant: id, minutes, reason: text }),
    },
    move: {
      title: w("mentor.person.move_title", { name }),
      textKey: "mentor.action.note",
      required: true,
      urgent: true,
      confirmKey: "mentor.person.move",
      send: ({ text, urgent }) => ({ type: "room_invite_adviser", participant: id, note: text, urgent }),
    },
  };
  const spec = specs[kind];
  openAction(container, spec, (values) => socket?.send(spec.send(values)));
}

// --- wiring ----------------------------------------------------------------------------------------

function wire() {
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  $("composer").addEventListener("submit", send);
  $("message").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) send(event);
  });
  $("slow-mode").addEventListener("change", () =>
    socket?.send({ type: "room_slow_mode", seconds: Number($("slow-mode").value) }),
  );
  $("lock").addEventListener("click", () => socket?.send({ type: "room_lock", locked: !state.settings.locked }));
  $("close-room").addEventListener("click", () => {
    $("close-form").hidden = false;
    $("close-reason").focus();
  });
  $("close-cancel").addEventListener("click", () => {
    $("close-form").hidden = true;
  });
  $("close-form").addEventListener("submit", (event) => {
    event.preventDefault();
    socket?.send({ type: "room_close", reason: $("close-reason").value.trim() });
    $("close-form").hidden = true;
  });
}

async function boot() {
  await setLanguage("en");
  translateWords();
  wire();
  try {
    start(await getJson("/api/staff/me"));
  } catch {
    showLogin();
  }
}

boot();
