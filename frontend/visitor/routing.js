// While she waits: an honest wait (a range, or "no one can answer right now"), the question
// "would any adviser do?" when no adviser for her language or topic has come free, and, when
// advisers are not answering (closed hours, a surge), when they next are with other help
// open now, instead of a queue nobody will serve. Words come from the catalogue.

import { getJson } from "../shared/http.js";
import { formatNumber, formatTime, parseTime, t } from "../shared/i18n.js";
import { addExtension } from "./extensions.js";

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
  if (!box || box.dataset.closed) return;
  const line = $("wait-estimate");
  // No one can answer her now: the heading says so (chat.js), not a second line.
  line.textContent = event.estimate === null ? "" : estimateText(event.estimate);
  box.hidden = false;
}

function clear() {
  const box = $("wait-news");
  if (!box) return;
  box.hidden = true;
  delete box.dataset.closed;
  $("wait-estimate").textContent = "";
  $("wait-offer").hidden = true;
  $("wait-closed").hidden = true;
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

async function showClosed(event) {
  const box = $("wait-news");
  box.dataset.closed = "1";
  box.hidden = false;
  $("wait-offer").hidden = true;
  $("wait-estimate").textContent = "";
  $("chat-status").textContent = t(event.code === "helpline_full" ? "closed.full_title" : "closed.title");
  $("chat-hint").textContent = "";
  // She is in no queue, so there is nothing to stop waiting for.
  $("end-area").hidden = true;
  const when = parseTime(event.opens_at);
  $("wait-opens").textContent = when
    ? t("closed.opens", {
        day: new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" }).format(when),
        time: formatTime(event.opens_at),
      })
    : t(event.code === "helpline_full" ? "closed.try_later" : "closed.opens_unknown");
  $("wait-closed").hidden = false;
  const list = $("wait-rooms");
  list.replaceChildren();
  try {
    const { rooms } = await getJson("/api/rooms");
    for (const room of rooms.filter((r) => r.open && !r.locked)) {
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = "/rooms/";
      link.textContent = room.name;
      li.append(link);
      list.append(li);
    }
  } catch {
    // Rooms may not be offered here; the helplines below still are.
  }
  $("wait-rooms-none").hidden = list.children.length > 0;
}

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
  socket.on("error", (event) => {
    if (event.code === "helpline_closed" || event.code === "helpline_full") showClosed(event);
  });
});
