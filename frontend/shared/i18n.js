// Language catalogues: every word the pages show comes from frontend/i18n/<lang>.json.
//
// In HTML, a `data-i18n` attribute names the key of an element's text and `data-i18n-<attribute>` sets
// that attribute (e.g. data-i18n-aria-label). In code, `t(key, {name})` returns the text.
// A key missing from a catalogue falls back to English, so a new string never shows blank.

export const LANGUAGES = ["en", "pl", "ar", "ur", "bn", "pa", "so"];
const RIGHT_TO_LEFT = new Set(["ar", "ur"]);
const FALLBACK = "en";
const CATALOGUE_PATH = "/static/i18n/";

let current = FALLBACK;
let messages = {};
let fallback = {};
let fallbackBundles = "";
// Extra catalogues a page asks for with `useBundle(name)`: frontend/i18n/<name>.<lang>.json,
// merged over the main catalogue (the rooms keep their words in their own files).
const bundles = [];

async function fetchCatalogue(lang) {
  const response = await fetch(`${CATALOGUE_PATH}${lang}.json`);
  if (!response.ok) throw new Error(`catalogue ${lang}: HTTP ${response.status}`);
  return response.json();
}

// Call before `setLanguage`. Pages that never call it behave exactly as before.
export function useBundle(name) {
  if (/^[a-z]+$/.test(name) && !bundles.includes(name)) bundles.push(name);
}

async function fetchWithBundles(lang) {
  const extra = bundles.map((name) =>
    fetchCatalogue(`${name}.${lang}`).catch((error) => {
      // A bundle not yet translated into this language falls back to English, key by key.
      console.warn(error.message);
      return {};
    }),
  );
  const [main, ...more] = await Promise.all([fetchCatalogue(lang), ...extra]);
  return Object.assign({}, main, ...more);
}

export function isRightToLeft(lang) {
  return RIGHT_TO_LEFT.has(lang);
}

// The first of the browser's preferred languages that Willow has, else English.
export function preferredLanguage(available = LANGUAGES) {
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (available.includes(base)) return base;
  }
  return FALLBACK;
}

export async function setLanguage(lang) {
  const chosen = LANGUAGES.includes(lang) ? lang : FALLBACK;
  if (!Object.keys(fallback).length || fallbackBundles !== bundles.join()) {
    fallback = await fetchWithBundles(FALLBACK);
    fallbackBundles = bundles.join();
  }
  messages = chosen === FALLBACK ? fallback : await fetchWithBundles(chosen);
  current = chosen;
  document.documentElement.lang = chosen;
  document.documentElement.dir = isRightToLeft(chosen) ? "rtl" : "ltr";
  translatePage();
  return chosen;
}

async function fetchConfig(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`config: HTTP ${response.status}`);
  return response.json();
}

// The visitor pages: one request brings the page's config and its words in `lang` (English
// under any missing key, the page's bundles merged in), so nothing waits on a second trip.
export async function loadPage(lang) {
  const query = new URLSearchParams({ lang: LANGUAGES.includes(lang) ? lang : FALLBACK });
  for (const name of bundles) query.append("bundle", name);
  const url = `/api/config?${query}`;
  const early = window.willowEarlyConfig;
  window.willowEarlyConfig = null;
  const config = (early?.url === url && (await early.answer.catch(() => null))) || (await fetchConfig(url));
  messages = config.messages ?? {};
  // The server merged English in already; a later `setLanguage` fetches its own fallback.
  fallback = {};
  current = config.language ?? FALLBACK;
  document.documentElement.lang = current;
  document.documentElement.dir = isRightToLeft(current) ? "rtl" : "ltr";
  translatePage();
  return config;
}

export function language() {
  return current;
}

// Whether the catalogue (or English under it) has `key`: for words a page may or may not have.
export function hasKey(key) {
  return key in messages || key in fallback;
}

export function t(key, params = {}) {
  const text = messages[key] ?? fallback[key];
  if (text === undefined) {
    console.warn("missing catalogue key", key);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export function translatePage(root = document) {
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll("*")) {
    for (const name of element.getAttributeNames()) {
      if (name.startsWith("data-i18n-")) {
        element.setAttribute(name.slice("data-i18n-".length), t(element.getAttribute(name)));
      }
    }
  }
}

// Numbers in the reader's own digits where her language has them (e.g. Bengali).
export function formatNumber(value) {
  return new Intl.NumberFormat(locales()).format(value);
}

// The reader's own regional habits (24-hour clock or not) when they match the page language.
function locales() {
  const own = navigator.language ?? "";
  return own.toLowerCase().split("-")[0] === current ? [own, current] : [current];
}

// Where a language's default time still reads half in English ("11:07 PM" in Urdu), the
// page uses that language's own digits and a 24-hour clock instead.
const OWN_TIME = {
  ur: { locale: "ur-u-nu-arabext", hourCycle: "h23" },
  bn: { locale: "bn", hourCycle: "h23" },
  pa: { locale: "pa", hourCycle: "h23" },
};

export function formatTime(iso) {
  const date = parseTime(iso);
  if (!date) return "";
  const own = OWN_TIME[current];
  const options = { hour: "2-digit", minute: "2-digit" };
  if (own) return new Intl.DateTimeFormat(own.locale, { ...options, hourCycle: own.hourCycle }).format(date);
  return new Intl.DateTimeFormat(locales(), options).format(date);
}

// A day in words ("Monday 7 December"), in the page's language and its own digits.
export function formatDay(iso) {
  const date = parseTime(iso);
  if (!date) return "";
  const own = OWN_TIME[current];
  const options = { weekday: "long", day: "numeric", month: "long" };
  return new Intl.DateTimeFormat(own ? own.locale : locales(), options).format(date);
}

// The server's times are ISO 8601; one without a zone is UTC (SQLite drops the offset).
export function parseTime(iso) {
  if (typeof iso !== "string" || !iso) return null;
  const zoned = /(Z|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`;
  const date = new Date(zoned);
  return Number.isNaN(date.getTime()) ? null : date;
}
