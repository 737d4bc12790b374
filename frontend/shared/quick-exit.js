// Quick exit: one press and the page is gone, the server session ends and nothing stays
// behind in this tab. The work is done by shared/exit-early.js, a classic script every page
// loads first so that leaving works before the modules arrive; this module lets a page add
// its own parts (closing its socket) and change where the exit goes.
//
// Triggers: the Leave link, the skip link keyboard users reach first, Escape once, or Shift
// three times in a row within a second. `location.replace` swaps this page's history entry
// for the neutral site, so Back cannot return here.

const early = () => window.willowQuickExit;

export function setExitUrl(url) {
  early()?.setUrl(url);
}

// Leave now (to the neutral site, or to `to`, another site she chose).
export function quickExit(to) {
  const api = early();
  if (api) api.leave(to);
  else location.replace(typeof to === "string" ? to : document.querySelector("a[data-quick-exit]").href);
}

// `token` and `closeSocket` are the page's own parts of leaving.
export function installQuickExit({ token, closeSocket } = {}) {
  early()?.addHooks({ token, closeSocket });
}
