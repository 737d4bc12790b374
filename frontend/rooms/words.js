// The rooms' words live in their own catalogues (frontend/i18n/rooms.<lang>.json), loaded on
// top of the main one. In HTML, `data-words="key"` sets an element's text and
// `data-words-<attribute>="key"` sets that attribute; in code, `w(key, {name})`.

import { t, useBundle } from "../shared/i18n.js";

useBundle("rooms");

export function w(key, params = {}) {
  return t(key, params);
}

// Someone's room name inside a sentence: isolated, so a name in another script or with
// numbers never reorders the words around it.
export function isolate(name) {
  return `\u2068${name ?? ""}\u2069`;
}

export function translateWords(root = document) {
  for (const element of root.querySelectorAll("[data-words]")) {
    element.textContent = w(element.dataset.words);
  }
  for (const element of root.querySelectorAll("*")) {
    for (const name of element.getAttributeNames()) {
      if (name.startsWith("data-words-")) {
        element.setAttribute(name.slice("data-words-".length), w(element.getAttribute(name)));
      }
    }
  }
}
