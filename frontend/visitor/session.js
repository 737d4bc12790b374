// What the visitor page remembers: only in this tab's memory and sessionStorage, never in a
// cookie, localStorage or the address. Quick exit and closing the tab wipe it.

const KEY = "willow.visitor";

const memory = { token: null, conversationId: null, lastSeq: 0, language: null };

export function session() {
  return memory;
}

// Read what a reload left behind, if anything.
export function restoreSession() {
  let stored = null;
  try {
    stored = JSON.parse(sessionStorage.getItem(KEY) ?? "null");
  } catch {
    stored = null;
  }
  if (stored && typeof stored.token === "string") {
    Object.assign(memory, {
      token: stored.token,
      conversationId: Number.isInteger(stored.conversationId) ? stored.conversationId : null,
      lastSeq: Number.isInteger(stored.lastSeq) ? stored.lastSeq : 0,
      language: typeof stored.language === "string" ? stored.language : null,
    });
  }
  return memory;
}

export function updateSession(changes) {
  Object.assign(memory, changes);
  if (!memory.token) return;
  try {
    sessionStorage.setItem(KEY, JSON.stringify(memory));
  } catch {
    // Storage can be full or blocked; the chat still works for as long as the page is open.
  }
}

export function forgetSession() {
  Object.assign(memory, { token: null, conversationId: null, lastSeq: 0 });
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // Nothing to remove.
  }
}
