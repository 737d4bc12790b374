// Quick exit: one press and the page is gone, the server session ends and nothing stays
// behind in this tab. Triggers: the fixed button, the skip link keyboard users reach first,
// Escape once, or Shift three times in a row within a second (as on GOV.UK).
//
// The page never adds history entries, and `location.replace` swaps this page's entry for
// the neutral site, so Back cannot return here.

export const DEFAULT_EXIT_URL = "https://www.bbc.co.uk/weather";
const SHIFT_WINDOW_MS = 1000;
const SHIFT_PRESSES = 3;

let exitUrl = DEFAULT_EXIT_URL;
let leaving = false;
const hooks = {
  token: () => null,
  closeSocket: () => {},
  clearScreen: () => {},
};

export function setExitUrl(url) {
  if (typeof url === "string" && /^https?:\/\//.test(url)) exitUrl = url;
  for (const link of document.querySelectorAll("[data-quick-exit][href]")) link.href = exitUrl;
}

// Leave now. Safe to call more than once; every step runs even if an earlier one fails.
export function quickExit() {
  if (leaving) return;
  leaving = true;
  const steps = [
    () => {
      const token = hooks.token();
      if (token) {
        const body = new Blob([JSON.stringify({ token })], { type: "text/plain" });
        navigator.sendBeacon("/api/visitor/exit", body);
      }
    },
    () => hooks.closeSocket(),
    () => hooks.clearScreen(),
    () => sessionStorage.clear(),
  ];
  for (const step of steps) {
    try {
      step();
    } catch (error) {
      console.error("quick exit step failed", error);
    }
  }
  location.replace(exitUrl);
}

function watchKeys() {
  let shiftCount = 0;
  let shiftTimer = 0;
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.isComposing) {
      event.preventDefault();
      quickExit();
      return;
    }
    // Only bare Shift presses count: typing capitals (Shift + letter) must never trigger it.
    if (event.key !== "Shift") {
      shiftCount = 0;
      return;
    }
    if (event.repeat) return;
    shiftCount += 1;
    if (shiftCount === 1) {
      clearTimeout(shiftTimer);
      shiftTimer = setTimeout(() => (shiftCount = 0), SHIFT_WINDOW_MS);
    }
    if (shiftCount >= SHIFT_PRESSES) {
      shiftCount = 0;
      quickExit();
    }
  });
}

// Wire every element marked `data-quick-exit` and the keys. `token`, `closeSocket` and
// `clearScreen` are the page's own parts of leaving.
export function installQuickExit({ token, closeSocket, clearScreen } = {}) {
  if (token) hooks.token = token;
  if (closeSocket) hooks.closeSocket = closeSocket;
  if (clearScreen) hooks.clearScreen = clearScreen;
  for (const element of document.querySelectorAll("[data-quick-exit]")) {
    element.addEventListener("click", (event) => {
      event.preventDefault();
      quickExit();
    });
  }
  watchKeys();
}
