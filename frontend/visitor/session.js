// What the visitor page remembers: only in this tab's memory and sessionStorage, never in a
// cookie, localStorage or the address. Quick exit and closing the tab wipe it.
//
// sessionStorage outlives more than a reload: it comes back with Back after she went to
// another site, with a tab she reopens, and with a browser that restores its tabs. The page
// promises that nothing is kept once she leaves, so her chat is shown again only after a
// reload of this same tab (or when a room hands her to an adviser); in every other case the
// stored session is dropped and she starts afresh. Her conversation stays on the server for
// the adviser either way.

const KEY = "willow.visitor";
// A reload comes straight after the page was hidden; a tab reopened later does not.
const RESUME_WINDOW_MS = 15_000;

const memory = { token: null, conversationId: null, lastSeq: 0, language: null };
let handoffAt = 0; // set when this page hands her session to the next page in this tab

export function session() {
  return memory;
}

function navigationType() {
  return performance.getEntriesByType?.("navigation")[0]?.type ?? "navigate";
}

function recent(stamp) {
  const age = Date.now() - stamp;
  return Number.isFinite(age) && age >= 0 && age < RESUME_WINDOW_MS;
}

// A reload of this tab just now, or a hand-over from the rooms page just now.
function mayResume(stored) {
  if (navigationType() === "reload" && recent(stored.hiddenAt)) return true;
  return navigationType() === "navigate" && recent(stored.handoffAt);
}

function read() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? "null");
  } catch {
    return null;
  }
}

function write(extra = {}) {
  if (!memory.token) return;
  try {
    const stamps = handoffAt ? { handoffAt } : {};
    sessionStorage.setItem(KEY, JSON.stringify({ ...memory, ...stamps, ...extra }));
  } catch {
    // Storage can be full or blocked; the chat still works for as long as the page is open.
  }
}

// Read what a reload left behind, if anything; anything else left behind is dropped.
export function restoreSession() {
  const stored = read();
  if (stored && typeof stored.token === "string" && mayResume(stored)) {
    Object.assign(memory, {
      token: stored.token,
      conversationId: Number.isInteger(stored.conversationId) ? stored.conversationId : null,
      lastSeq: Number.isInteger(stored.lastSeq) ? stored.lastSeq : 0,
      language: typeof stored.language === "string" ? stored.language : null,
    });
    write();
  } else if (stored) {
    forgetSession();
  }
  return memory;
}

export function updateSession(changes) {
  Object.assign(memory, changes);
  write();
}

// The next page in this tab (the visitor page, from a room) takes over her session.
export function handOffSession() {
  handoffAt = Date.now();
  write();
}

export function forgetSession() {
  Object.assign(memory, { token: null, conversationId: null, lastSeq: 0 });
  try {
    sessionStorage.clear();
  } catch {
    // Nothing to remove.
  }
}

// When the page goes away, note when: only a reload straight after may show the chat again.
// After a quick exit nothing is written again.
addEventListener("pagehide", () => {
  if (!window.willowQuickExit?.isLeaving()) write({ hiddenAt: Date.now() });
});
// A page brought back whole from the back-forward cache would show the chat as it was.
addEventListener("pageshow", (event) => {
  if (!event.persisted || !memory.token) return;
  forgetSession();
  document.body.replaceChildren();
  location.replace(location.href);
});
