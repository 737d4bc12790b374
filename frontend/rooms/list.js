// The list of rooms: what is open now, how busy, and when the others open (in her own
// time zone and language). It never shows who is in a room.

import { language, parseTime } from "../shared/i18n.js";
import { w } from "./words.js";

const DAY_MS = 24 * 60 * 60 * 1000;

// Her own way of writing times: "19:00" in Britain, "7:00 PM" in America, in her language.
export function locale() {
  const lang = language();
  const tags = navigator.languages ?? [navigator.language];
  return tags.find((tag) => String(tag).toLowerCase().split("-")[0] === lang) ?? lang;
}

function localDay(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

// "today at 19:00", "tomorrow at 19:00" or "on Thursday 27 November at 19:00".
export function whenText(iso, now = new Date()) {
  const date = parseTime(iso);
  if (!date) return null;
  const time = new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit" }).format(date);
  const days = Math.round((localDay(date) - localDay(now)) / DAY_MS);
  if (days === 0) return w("rooms.when.today", { time });
  if (days === 1) return w("rooms.when.tomorrow", { time });
  const day = new Intl.DateTimeFormat(locale(), { weekday: "long", day: "numeric", month: "long" }).format(date);
  return w("rooms.when.day", { day, time });
}

export function statusText(room) {
  if (room.open) {
    const busy = w(`rooms.busy.${room.busy ?? "quiet"}`);
    return room.locked ? w("rooms.status.locked") : w("rooms.status.open", { busy });
  }
  if (room.scheduled_until) return w("rooms.status.starting");
  const when = whenText(room.opens_at);
  return when ? w("rooms.status.opens", { when }) : w("rooms.status.no_sessions");
}

function field(className, text, room) {
  const element = document.createElement("p");
  element.className = className;
  element.textContent = text;
  if (room) {
    element.lang = room.languages[0];
    element.dir = "auto";
  }
  return element;
}

// Open rooms first, then those about to start, then by when they open next.
export function byOpening(rooms) {
  const rank = (room) => (room.open ? 0 : room.scheduled_until ? 1 : room.opens_at ? 2 : 3);
  const time = (room) => (room.opens_at ? Date.parse(room.opens_at) : Infinity);
  return [...rooms].sort((a, b) => rank(a) - rank(b) || time(a) - time(b));
}

// One card per room; `choose(room)` is called when she picks an open room.
export function drawList(list, rooms, choose) {
  list.replaceChildren(
    ...byOpening(rooms).map((room) => {
      const item = document.createElement("li");
      item.className = `room-card${room.open ? " is-open" : ""}`;
      const title = document.createElement("h3");
      title.textContent = room.name;
      title.lang = room.languages[0];
      title.dir = "auto";
      const status = field("room-status", statusText(room));
      status.setAttribute("role", "status");
      item.append(title, status, field("room-description", room.description, room));
      item.append(field("room-audience hint", w("rooms.list.for", { audience: room.audience })));
      if (room.focus !== "general") item.append(field("room-focus hint", w(`rooms.focus.${room.focus}`)));
      if (room.open && !room.locked && room.busy !== "full") {
        const join = document.createElement("button");
        join.type = "button";
        join.textContent = w("rooms.list.join");
        join.setAttribute("aria-label", w("rooms.list.join_named", { name: room.name }));
        join.addEventListener("click", () => choose(room));
        item.append(join);
      }
      return item;
    }),
  );
}
