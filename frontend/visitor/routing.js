// While she waits: an honest wait (a range, or "no one can answer right now"), the question
// "would any adviser do?" when no adviser for her language or topic has come free, and, when
// advisers are not answering (closed hours, a surge), the closed screen instead of a queue
// nobody will serve: when they are back, other help open now and the emergency routes, and a
// Start button once they answer again. Words come from the catalogue.

import { getJson } from "../shared/http.js";
import { formatDay, formatNumber, formatTime, language, parseTime, t } from "../shared/i18n.js";
import { addExtension } from "./extensions.js";
import * as view from "./view.js";
import { firstRequest, helplineItem } from "./waiting.js";

const $ = (id) => document.getElementById(id);

function estimateText(estimate) {
  if (estimate === null) return t("wait.no_one_now");
  if (!estimate || estimate.high_minutes <= 0) return t("wait.soon");
  const low = Math.max(1, estimate.low_minutes);
  const high = Math.max(low, estimate.high_minutes);
  return low === high
    ? t("wait.about", { minutes: formatNumber(high) })
    : t("wait.range", { low: formatNumber(low), high: formatNumber(high) });
}

function showEstimate(event) {
  const box = $("wait-news");
  if (!box || view.currentScreen() === "closed") return;
  const line = $("wait-estimate");
  // No one can answer her now: the heading says so (chat.js), not a second line.
  line.textContent = event.estimate === null ? "" : estimateText(event.estimate);
  box.hidden = false;
}

function clear() {
  const box = $("wait-news");
  if (!box) return;
  box.hidden = true;
  $("wait-estimate").textContent = "";
  $("wait-offer").hidden = true;
}

function showOffer(socket, session, event) {
  if (event.conversation_id !== session().conversationId) return;
  const offer = $("wait-offer");
  offer.hidden = false;
  // The question says it all: no adviser for her is free, and any adviser may be.
  $("wait-estimate").textContent = "";
  $("wait-box-note").textContent = "";
  const answer = (accept) => {
    socket.send({ type: "any_adviser", conversation_id: event.conversation_id, accept });
    offer.hidden = true;
    $("wait-box-note").textContent = t(accept ? "wait.any_chosen" : "wait.keep_chosen");
  };
  $("wait-any").onclick = () => answer(true);
  $("wait-keep").onclick = () => answer(false);
  $("wait-any").focus();
}

// --- closed or full: she is in no queue ---------------------------------------------------------

const closed = { code: null, opensAt: null, open: false, socket: null };

// Her chat was refused (closed hours, a surge): the closed screen, with when advisers are back
// and other help; the server watches her socket and says when they answer again.
function turnedAway(event) {
  Object.assign(closed, { code: event.code, opensAt: event.opens_at ?? null, open: false });
  clear();
  view.show("closed", { code: closed.code, open: false });
  loadClosedHelp();
}

// `helpline_status`: advisers answer again (she may start; nothing starts by itself), or, after
// a reconnect, still closed or full.
function onStatus(event) {
  if (view.currentScreen() !== "closed") return;
  if (event.open) closed.open = true;
  else Object.assign(closed, { code: event.code, opensAt: event.opens_at ?? null, open: false });
  view.show("closed", { code: closed.code, open: closed.open });
}

function startAgain() {
  if (!closed.socket?.send(firstRequest())) return;
  closed.open = false;
  view.show("waiting");
  // The button she pressed is gone: her place is the message box (she may write while waiting).
  $("message").focus();
}

// Calendar days from today to `date`, in her own time zone.
function daysFromToday(date) {
  const midnight = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  return Math.round((midnight(date) - midnight(new Date())) / 86_400_000);
}

function opensText(iso) {
  const when = parseTime(iso);
  if (!when) return t("closed.opens_unknown");
  const time = formatTime(iso);
  const days = daysFromToday(when);
  if (days <= 0) return t("closed.opens_today", { time });
  if (days === 1) return t("closed.opens_tomorrow", { time });
  return t("closed.opens", { day: formatDay(iso), time });
}

// Drawn after view.js's heading, again on a language change.
function drawClosed(screen) {
  if (screen.name !== "closed") return;
  const full = closed.code === "helpline_full";
  $("closed-opens").textContent = closed.open ? "" : full ? t("closed.full_text") : opensText(closed.opensAt);
  $("closed-watch").textContent = closed.open ? "" : t("closed.will_tell");
  $("closed-open").hidden = !closed.open;
}

async function loadClosedHelp() {
  const params = new URLSearchParams({ language: language(), emergency: "true" });
  const topic = $("topic")?.value;
  const nation = $("nation")?.value;
  if (topic) params.set("topic", topic);
  if (nation) params.set("nation", nation);
  const [rooms, helplines] = await Promise.all([
    getJson("/api/rooms").catch(() => null),
    getJson(`/api/visitor/helplines?${params}`).catch(() => null),
  ]);
  const open = rooms?.rooms?.filter((room) => room.open && !room.locked && room.busy !== "full") ?? [];
  $("closed-rooms").replaceChildren(
    ...open.map((room) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `/rooms#${encodeURIComponent(room.id)}`;
      link.textContent = room.name;
      item.append(link);
      return item;
    }),
  );
  $("closed-rooms-none").hidden = open.length > 0;
  const all = helplines?.helplines ?? [];
  // The emergency routes (999 and 112, the silent 999-then-55), from the helplines directory.
  $("closed-urgent").replaceChildren(...all.filter((h) => h.emergency).map((h) => helplineItem(h, true)));
  $("closed-helplines").replaceChildren(...all.filter((h) => !h.emergency).map((h) => helplineItem(h)));
}

view.onRedraw(drawClosed);
$("closed-start").addEventListener("click", startAgain);

addExtension(({ socket, session }) => {
  socket.on("queue", (event) => {
    if (event.conversation_id === session().conversationId || !session().conversationId) showEstimate(event);
  });
  socket.on("routing_offer", (event) => showOffer(socket, session, event));
  socket.on("routing_choice", (event) => {
    if (event.conversation_id === session().conversationId) $("wait-offer").hidden = true;
  });
  socket.on("assigned", clear);
  socket.on("ended", clear);
  closed.socket = socket;
  socket.on("error", (event) => {
    if (event.code === "helpline_closed" || event.code === "helpline_full") turnedAway(event);
  });
  socket.on("helpline_status", onStatus);
});
