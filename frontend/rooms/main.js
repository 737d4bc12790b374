// The room page: choose a room, accept its rules, talk under a fresh name, leave at any time.
// No account, no cookies, nothing in localStorage; the visitor token lives in this tab only
// (the same session the 1:1 chat uses, so a move to an adviser needs no new one).

import { getJson, postJson } from "../shared/http.js";
import { applyBrand } from "../shared/brand.js";
import { formatNumber, language, loadPage, preferredLanguage, setLanguage, t } from "../shared/i18n.js";
import { installQuickExit, setExitUrl } from "../shared/quick-exit.js";
import { StreamSocket } from "../shared/socket.js";
import { newClientId } from "../shared/transcript.js";
import { forgetSession, handOffSession, restoreSession, session, updateSession } from "../visitor/session.js";
import { hideHelplines, showHelplines } from "./helplines.js";
import { drawList, whenText } from "./list.js";
import { RoomLog } from "./log.js";
import { isolate, translateWords, w } from "./words.js";

const $ = (id) => document.getElementById(id);
// Where this tab remembers which room it is in, so a reload goes back to it.
const ROOM_KEY = "willow.room";
const SCREENS = ["list", "rules", "room", "after"];
const ERROR_WORDS = {
  room_locked: "rooms.error.room_locked",
  room_full: "rooms.error.room_full",
  banned: "rooms.error.banned",
  removed: "rooms.error.removed",
  rules_not_accepted: "rooms.rules.must_accept",
  not_found: "rooms.error.not_found",
};
const EXIT_WORDS = {
  left: "rooms.exit.left",
  removed: "rooms.exit.removed",
  banned: "rooms.exit.banned",
  closed: "rooms.exit.closed",
  replaced: "rooms.exit.replaced",
  moved: "rooms.exit.moved",
};

let socket = null;
const state = {
  rooms: [],
  chosen: null, // the room she is joining or in (from the list)
  seat: null, // room_welcome
  present: 0,
  settings: { locked: false, slow_mode_seconds: 0 },
  held: null, // {clientId, body} waiting for "send without details"
  joining: false,
};

const log = new RoomLog($("log"), {
  isOwn: (event) => event.participant != null && event.participant === state.seat?.participant,
  words: (key, params) => (key.startsWith("rooms.") ? w(key, params) : t(key, params)),
  decorate: addReport,
});

// --- screens -------------------------------------------------------------------------------

function show(name) {
  for (const screen of SCREENS) $(screen).hidden = screen !== name;
}

function current() {
  return SCREENS.find((screen) => !$(screen).hidden) ?? "list";
}

// --- the list --------------------------------------------------------------------------------

async function loadList(notice) {
  show("list");
  $("list-notice").hidden = !notice;
  $("list-notice").textContent = notice ?? "";
  $("list-error").hidden = true;
  try {
    const data = await getJson("/api/rooms");
    state.rooms = data.rooms;
    drawList($("room-list"), state.rooms, chooseRoom);
  } catch {
    $("list-error").hidden = false;
    $("list-error").textContent = w("rooms.list.failed");
  }
}

function chooseRoom(room) {
  state.chosen = room;
  $("rules-title").textContent = room.name;
  $("rules-title").lang = room.languages[0];
  $("rules-title").dir = "auto";
  const list = $("rules-list");
  list.lang = room.languages[0];
  list.dir = room.direction;
  list.replaceChildren(
    ...room.rules.map((rule) => {
      const item = document.createElement("li");
      item.textContent = rule;
      item.dir = "auto";
      return item;
    }),
  );
  $("accept").checked = false;
  $("rules-error").hidden = true;
  show("rules");
  $("rules-title").setAttribute("tabindex", "-1");
  $("rules-title").focus();
}

// --- joining ---------------------------------------------------------------------------------

async function join(event) {
  event.preventDefault();
  if (!$("accept").checked) {
    rulesError(w("rooms.rules.must_accept"));
    return;
  }
  $("join").disabled = true;
  try {
    if (!session().token) {
      const { token } = await postJson("/api/visitor/session", { language: session().language });
      updateSession({ token, conversationId: null, lastSeq: 0 });
    }
  } catch {
    rulesError(w("rooms.list.failed"));
    $("join").disabled = false;
    return;
  }
  state.joining = true;
  remember({ room: state.chosen.id, streamId: null });
  if (socket?.state === "open") sendJoin();
  else connect();
}

function sendJoin() {
  const room = state.chosen?.id ?? remembered()?.room;
  if (!room) return;
  const streamId = state.seat?.stream_id ?? remembered()?.streamId;
  const lastSeq = streamId ? socket.lastSeq(streamId) : 0;
  socket.send({ type: "room_join", room, accept_rules: true, last_seq: lastSeq });
}

function rulesError(text) {
  $("rules-error").hidden = false;
  $("rules-error").textContent = text;
}

function connect() {
  socket = new StreamSocket({
    hello: () => ({ type: "hello", v: 1, token: session().token, resume: [] }),
  });
  socket.on("state", showConnection);
  socket.on("welcome", () => {
    if (state.joining || state.seat) sendJoin();
  });
  const handlers = {
    room_welcome: onWelcome,
    room_joined: onJoined,
    room_left: onLeft,
    room_renamed: onRenamed,
    room_message: (event) => log.message(event),
    ack: (event) => log.confirm(event.client_id, event.seq),
    room_hidden: (event) => log.hide(event.message_seq),
    room_pinned: onPinned,
    room_unpinned: (event) => drawPins(state.seat.pins.filter((p) => p.message_seq !== event.message_seq)),
    room_settings: onSettings,
    room_closed: () => log.notice(w("rooms.exit.closed")),
    room_exit: onExit,
    held: onHeld,
    room_released: (event) => log.confirm(event.client_id, event.message_seq),
    room_discarded: (event) => log.state(event.client_id, w("rooms.held.discarded"), true),
    room_muted: (event) => note(w("rooms.muted", { time: whenTime(event.until) })),
    room_unmuted: () => note(w("rooms.unmuted")),
    room_know_someone_ok: () => {
      $("know").hidden = false;
      $("know-adviser").focus();
    },
    room_reported: onReported,
    helplines: (event) => showHelplines(event, log),
    error: onError,
  };
  for (const [type, handler] of Object.entries(handlers)) socket.on(type, handler);
  socket.connect();
}

function showConnection(value) {
  const key = { connecting: "connection.connecting", reconnecting: "connection.lost" }[value];
  $("connection").textContent = key ? t(key) : "";
}

function onWelcome(event) {
  const returning = state.seat?.stream_id === event.stream_id;
  state.joining = false;
  state.seat = event;
  state.present = event.present;
  state.settings = { locked: event.locked, slow_mode_seconds: event.slow_mode_seconds };
  remember({ room: event.room, streamId: event.stream_id });
  if (!returning) {
    log.clear();
    socket.follow(event.stream_id, 0);
    log.notice(w("rooms.notice.welcome", { name: isolate(event.pseudonym) }));
  }
  const section = $("room");
  section.lang = event.languages[0];
  section.dir = event.direction;
  $("room-title").textContent = event.room_name;
  $("room-title").dir = "auto";
  drawMe();
  drawPins(event.pins);
  if (event.muted_until) note(w("rooms.muted", { time: whenTime(event.muted_until) }));
  if (current() !== "room") {
    show("room");
    $("message").focus();
  }
}

function drawMe() {
  const me = $("me");
  me.replaceChildren();
  const name = document.createElement("bdi");
  name.textContent = state.seat.pseudonym;
  const [before, after] = w("rooms.room.you_are", { name: "\u0000" }).split("\u0000");
  me.append(before ?? "", name, after ?? "");
  $("present").textContent = w("rooms.room.present", { count: formatNumber(Math.max(state.present, 1)) });
}

function onJoined(event) {
  if (event.participant === state.seat?.participant) return;
  state.present += 1;
  drawMe();
  log.notice(w("rooms.notice.joined", { name: isolate(event.name) }), event.seq);
}

function onLeft(event) {
  state.present = Math.max(1, state.present - 1);
  drawMe();
  log.notice(w("rooms.notice.left", { name: isolate(event.name) }), event.seq);
}

function onRenamed(event) {
  if (event.participant === state.seat?.participant) {
    state.seat.pseudonym = event.name;
    drawMe();
    $("rename-form").hidden = true;
    $("rename").hidden = false;
  }
  log.notice(w("rooms.notice.renamed", { old: isolate(event.old), name: isolate(event.name) }), event.seq);
}

function drawPins(pins) {
  state.seat.pins = pins;
  $("pins").hidden = pins.length === 0;
  $("pin-list").replaceChildren(
    ...pins.map((pin) => {
      const item = document.createElement("li");
      const who = document.createElement("bdi");
      who.className = "msg-who";
      who.textContent = pin.name ?? "";
      const body = document.createElement("p");
      body.dir = "auto";
      body.textContent = pin.body;
      item.append(who, body);
      return item;
    }),
  );
}

function onPinned(event) {
  const pins = state.seat.pins.filter((p) => p.message_seq !== event.message_seq);
  drawPins([...pins, { message_seq: event.message_seq, name: event.name, body: event.body }]);
}

function onSettings(event) {
  const before = state.settings;
  state.settings = { locked: event.locked, slow_mode_seconds: event.slow_mode_seconds };
  if (before.slow_mode_seconds !== event.slow_mode_seconds) {
    log.notice(
      event.slow_mode_seconds
        ? w("rooms.notice.slow_on", { seconds: formatNumber(event.slow_mode_seconds) })
        : w("rooms.notice.slow_off"),
      event.seq,
    );
  }
  if (before.locked !== event.locked) {
    log.notice(w(event.locked ? "rooms.notice.locked" : "rooms.notice.unlocked"), event.seq);
  }
}

// --- talking -------------------------------------------------------------------------------

function sendMessage(event) {
  event.preventDefault();
  const body = $("message").value.trim();
  if (!body || !state.seat) return;
  const clientId = newClientId();
  log.pending(clientId, body);
  if (!socket?.send({ type: "room_message", client_id: clientId, body })) {
    log.state(clientId, t("chat.failed"), true);
    return;
  }
  $("message").value = "";
  note("");
  $("message").focus();
}

function onHeld(event) {
  if (event.reason === "personal_details") {
    state.held = { clientId: event.client_id, body: log.bodyOf(event.client_id) };
    const kinds = event.kinds.map((kind) => w(`rooms.kind.${kind}`)).join(", ");
    $("held-text").textContent = w("rooms.held.personal", { kinds });
    $("held").hidden = false;
    log.state(event.client_id, w("rooms.held.waiting"));
    $("send-without").focus();
    return;
  }
  log.state(event.client_id, w("rooms.held.mentor"));
}

function sendWithout() {
  const held = state.held;
  if (!held?.body) return;
  socket?.send({ type: "room_message", client_id: held.clientId, body: held.body, without_details: true });
  state.held = null;
  $("held").hidden = true;
  $("message").focus();
}

function editHeld() {
  const held = state.held;
  if (!held) return;
  log.drop(held.clientId);
  $("message").value = held.body ?? "";
  state.held = null;
  $("held").hidden = true;
  $("message").focus();
}

function note(text) {
  $("composer-note").textContent = text;
}

function whenTime(iso) {
  return whenText(iso) ?? "";
}

// --- reporting -----------------------------------------------------------------------------

function addReport(item, event) {
  if (event.sender !== "participant" || log.isOwn(event)) return;
  const controls = document.createElement("div");
  controls.className = "msg-controls";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link-button";
  button.textContent = w("rooms.report.button");
  button.setAttribute("aria-label", w("rooms.report.button_named", { name: isolate(event.name) }));
  const form = document.createElement("form");
  form.className = "report-form";
  form.method = "post";
  form.hidden = true;
  const id = `report-${event.seq}`;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = w("rooms.report.reason");
  const reason = document.createElement("textarea");
  reason.id = id;
  reason.rows = 2;
  reason.maxLength = 300;
  reason.dir = "auto";
  const send = document.createElement("button");
  send.type = "submit";
  send.textContent = w("rooms.report.send");
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "secondary";
  cancel.textContent = w("rooms.report.cancel");
  const row = document.createElement("div");
  row.className = "row";
  row.append(send, cancel);
  form.append(label, reason, row);
  controls.append(button, form);
  item.append(controls);
  button.addEventListener("click", () => {
    button.hidden = true;
    form.hidden = false;
    reason.focus();
  });
  cancel.addEventListener("click", () => {
    form.hidden = true;
    button.hidden = false;
    button.focus();
  });
  form.addEventListener("submit", (submitted) => {
    submitted.preventDefault();
    if (socket?.send({ type: "room_report", seq: event.seq, reason: reason.value.trim() })) {
      form.hidden = true;
    }
  });
}

function onReported(event) {
  const item = log.at(event.message_seq);
  const controls = item?.querySelector(".msg-controls");
  if (!controls) return;
  const done = document.createElement("p");
  done.className = "hint";
  done.setAttribute("role", "status");
  done.textContent = w("rooms.report.done");
  controls.replaceChildren(done);
}

// --- names ------------------------------------------------------------------------------------

function openRename() {
  $("rename-form").hidden = false;
  $("rename").hidden = true;
  $("rename-error").hidden = true;
  $("new-name").value = state.seat?.pseudonym ?? "";
  $("new-name").focus();
  $("new-name").select();
}

function closeRename() {
  $("rename-form").hidden = true;
  $("rename").hidden = false;
  $("rename").focus();
}

function rename(event) {
  event.preventDefault();
  const pseudonym = $("new-name").value;
  if (pseudonym.trim() === state.seat?.pseudonym) {
    closeRename();
    return;
  }
  socket?.send({ type: "room_rename", pseudonym });
}

// --- leaving ---------------------------------------------------------------------------------

function onExit(event) {
  if (event.reason === "moved" && event.conversation_id) {
    goToAdviser(event.conversation_id);
    return;
  }
  forgetRoom();
  $("after-text").textContent = w(EXIT_WORDS[event.reason] ?? "rooms.exit.left");
  show("after");
  $("after-back").focus();
}

// Her chat with an adviser continues on the visitor page, with the same session.
function goToAdviser(conversationId) {
  forgetRoom();
  updateSession({ conversationId, lastSeq: 0 });
  handOffSession();
  socket?.close();
  location.replace("/");
}

function forgetRoom() {
  state.seat = null;
  state.joining = false;
  state.held = null;
  $("held").hidden = true;
  $("know").hidden = true;
  note("");
  hideHelplines();
  try {
    sessionStorage.removeItem(ROOM_KEY);
  } catch {
    // Nothing to remove.
  }
}

function remember(room) {
  try {
    sessionStorage.setItem(ROOM_KEY, JSON.stringify(room));
  } catch {
    // The room still works for as long as the page is open.
  }
}

function remembered() {
  try {
    const value = JSON.parse(sessionStorage.getItem(ROOM_KEY) ?? "null");
    return value && typeof value.room === "string" ? value : null;
  } catch {
    return null;
  }
}

// --- errors ----------------------------------------------------------------------------------

function onError(event) {
  if (event.ref === "hello" && event.code === "unauthorized") {
    socket.close();
    socket = null;
    forgetSession();
    forgetRoom();
    loadList(w("rooms.list.session_closed"));
    return;
  }
  if (event.ref === "room_join") {
    state.joining = false;
    forgetRoom();
    $("join").disabled = false;
    const text =
      event.code === "room_closed"
        ? closedText(event.opens_at)
        : w(ERROR_WORDS[event.code] ?? "rooms.error.general");
    if (current() === "rules") rulesError(text);
    else loadList(text);
    return;
  }
  if (event.code === "name_refused") {
    $("rename-error").hidden = false;
    $("rename-error").textContent = w(`rooms.name.${event.reason}`);
    return;
  }
  if (event.ref === "room_message" && event.client_id) {
    log.state(event.client_id, messageError(event), true);
    return;
  }
  if (event.code === "not_in_room") return;
  note(w("rooms.error.general"));
}

function closedText(opensAt) {
  const when = whenText(opensAt);
  return when ? w("rooms.error.room_closed", { when }) : w("rooms.error.room_closed_unknown");
}

function messageError(event) {
  if (event.code === "muted") return w("rooms.muted", { time: whenTime(event.until) });
  if (event.code === "slow_mode") {
    return w("rooms.error.slow_mode", { seconds: formatNumber(event.retry_after) });
  }
  if (event.code === "refused") return w(`rooms.refused.${event.reason}`);
  return w("rooms.error.general");
}

// --- wiring ----------------------------------------------------------------------------------

function wire() {
  $("rules-form").addEventListener("submit", join);
  $("rules-back").addEventListener("click", () => loadList());
  $("composer").addEventListener("submit", sendMessage);
  $("message").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) sendMessage(event);
  });
  $("send-without").addEventListener("click", sendWithout);
  $("held-edit").addEventListener("click", editHeld);
  $("rename").addEventListener("click", openRename);
  $("rename-cancel").addEventListener("click", closeRename);
  $("rename-form").addEventListener("submit", rename);
  $("know-someone").addEventListener("click", () => socket?.send({ type: "room_know_someone" }));
  $("know-stay").addEventListener("click", () => {
    $("know").hidden = true;
    $("message").focus();
  });
  $("know-leave").addEventListener("click", () => socket?.send({ type: "room_leave" }));
  $("know-adviser").addEventListener("click", () => socket?.send({ type: "room_to_adviser" }));
  $("to-adviser").addEventListener("click", () => socket?.send({ type: "room_to_adviser" }));
  $("leave").addEventListener("click", () => socket?.send({ type: "room_leave" }));
  $("after-back").addEventListener("click", () => loadList());
  $("language").addEventListener("change", changeLanguage);
}

async function changeLanguage() {
  await loadPage($("language").value).catch(() => null);
  updateSession({ language: language() });
  translateWords();
  if (current() === "list") drawList($("room-list"), state.rooms, chooseRoom);
}

async function boot() {
  // Leaving must work from the very first moment, before anything else has loaded.
  installQuickExit({ token: () => session().token, closeSocket: () => socket?.close() });
  wire();
  const stored = restoreSession();
  const wanted = stored.language ?? preferredLanguage();
  const config = await loadPage(wanted).catch(() => null);
  if (!config) await setLanguage(wanted).catch(() => "en");
  setExitUrl(config?.exit_url);
  applyBrand(config?.brand);
  const chosen = language();
  if (!session().language) session().language = chosen;
  $("language").value = chosen;
  translateWords();
  // She may have joined a room while the page was still loading: that has its socket.
  if (socket) return;
  const room = remembered();
  if (stored.token && room) {
    // A reload: back into the same room under the same name, the room's talk replayed.
    state.joining = true;
    state.chosen = { id: room.room };
    show("room");
    connect();
    return;
  }
  await loadList();
}

boot();
