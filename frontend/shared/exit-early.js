// Quick exit from the first moment. A small classic script, listed before the page's modules,
// so Escape, Shift three times and the Leave link are handled as soon as it runs, however
// slowly the rest arrives. Before it runs, "Leave this page" is still a plain link to the
// neutral site. The modules add their own parts of leaving (closing the socket) through
// `window.willowQuickExit.addHooks`, and a chat started before they arrived is still ended:
// the token is read from this tab's storage.
//
// Every link on a Willow page replaces the current history entry, so Back after a quick exit
// never lands on a Willow page. A link to another site (a helpline's website) first does the
// whole quick exit, then opens that site in this same tab.
(function () {
  "use strict";

  var SESSION_KEY = "willow.visitor";
  var SHIFT_WINDOW_MS = 1000;
  var SHIFT_PRESSES = 3;
  var firstLink = document.querySelector("a[data-quick-exit][href]");
  var exitUrl = firstLink ? firstLink.href : "https://www.bbc.co.uk/weather";
  var leaving = false;
  var hooks = [];

  function storedSession() {
    try {
      return JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    } catch (error) {
      return null;
    }
  }

  function storedToken() {
    var stored = storedSession();
    return stored && typeof stored.token === "string" ? stored.token : null;
  }

  function endSession() {
    var token = null;
    for (var i = 0; i < hooks.length; i += 1) token = token || (hooks[i].token && hooks[i].token());
    token = token || storedToken();
    if (token) {
      var body = new Blob([JSON.stringify({ token: token })], { type: "text/plain" });
      navigator.sendBeacon("/api/visitor/exit", body);
    }
  }

  function closeSockets() {
    for (var i = 0; i < hooks.length; i += 1) if (hooks[i].closeSocket) hooks[i].closeSocket();
  }

  function clearScreen() {
    document.title = "";
    if (document.body) document.body.replaceChildren();
  }

  // Leave now, to the neutral site or to `to`. Every step runs even if an earlier one fails.
  function leave(to) {
    if (leaving) return;
    leaving = true;
    var steps = [endSession, closeSockets, clearScreen, function () { sessionStorage.clear(); }];
    for (var i = 0; i < steps.length; i += 1) {
      try {
        steps[i]();
      } catch (error) {
        console.error("quick exit step failed", error);
      }
    }
    location.replace(typeof to === "string" ? to : exitUrl);
  }

  function setUrl(url) {
    if (typeof url !== "string" || !/^https?:\/\//.test(url)) return;
    exitUrl = url;
    var links = document.querySelectorAll("a[data-quick-exit]");
    for (var i = 0; i < links.length; i += 1) links[i].href = url;
  }

  function onClick(event) {
    if (event.button !== 0 || event.defaultPrevented) return;
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link) return;
    if (link.hasAttribute("data-quick-exit")) {
      event.preventDefault();
      leave();
      return;
    }
    // A new tab or window (Ctrl, Cmd, Shift) leaves this tab's history alone.
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    var url = new URL(link.href, location.href);
    if (url.protocol !== "http:" && url.protocol !== "https:") return; // tel:, sms:
    event.preventDefault();
    if (url.origin === location.origin) location.replace(url.href);
    else leave(url.href);
  }

  var shiftCount = 0;
  var shiftTimer = 0;
  function onKey(event) {
    if (event.key === "Escape" && !event.isComposing) {
      event.preventDefault();
      leave();
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
      shiftTimer = setTimeout(function () { shiftCount = 0; }, SHIFT_WINDOW_MS);
    }
    if (shiftCount >= SHIFT_PRESSES) {
      shiftCount = 0;
      leave();
    }
  }

  // A tap on Start before the page's modules have arrived is kept, not lost: the form says
  // it is waiting, and the page starts the chat the moment it can.
  function onSubmit(event) {
    var form = event.target;
    if (!form || form.id !== "start-form" || form.hasAttribute("data-ready")) return;
    event.preventDefault();
    form.setAttribute("data-pending", "start");
    var start = document.getElementById("start");
    if (start) start.setAttribute("aria-busy", "true");
  }

  document.addEventListener("click", onClick, true);
  document.addEventListener("keydown", onKey, true);
  document.addEventListener("submit", onSubmit, true);

  // The page's config and words are asked for now, alongside the modules rather than after
  // them: on a slow line that is a whole round trip sooner. i18n.js's loadPage takes this
  // answer when it asked for the same thing.
  function askForWords() {
    var offered = [];
    var options = document.querySelectorAll("#language option");
    for (var i = 0; i < options.length; i += 1) offered.push(options[i].value);
    // Her stored choice counts only on a reload: after Back or in a reopened tab she starts
    // afresh (visitor/session.js), in her browser's language.
    var navigation = performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    var stored = navigation && navigation.type === "reload" ? storedSession() : null;
    var lang = stored && typeof stored.language === "string" ? stored.language : null;
    var wanted = navigator.languages || [navigator.language];
    for (var j = 0; !lang && j < wanted.length; j += 1) {
      var base = String(wanted[j]).toLowerCase().split("-")[0];
      if (offered.indexOf(base) >= 0) lang = base;
    }
    var query = new URLSearchParams({ lang: offered.indexOf(lang) >= 0 ? lang : "en" });
    var bundles = (document.documentElement.getAttribute("data-bundles") || "").split(" ");
    for (var k = 0; k < bundles.length; k += 1) if (bundles[k]) query.append("bundle", bundles[k]);
    var url = "/api/config?" + query;
    window.willowEarlyConfig = {
      url: url,
      answer: fetch(url, { cache: "no-store" }).then(function (response) {
        return response.ok ? response.json() : null;
      }),
    };
  }

  try {
    askForWords();
  } catch (error) {
    console.error("early config request failed", error);
  }

  window.willowQuickExit = {
    leave: leave,
    setUrl: setUrl,
    isLeaving: function () {
      return leaving;
    },
    addHooks: function (more) {
      hooks.push(more || {});
    },
  };
})();
