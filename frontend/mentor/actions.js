// A small inline form for one mentor action (mute, remove, ban, move, hide, close a report):
// how long, why, and a confirm button. Only one is open at a time.

import { w } from "../rooms/words.js";

let open = null;

export function closeAction() {
  open?.remove();
  open = null;
}

// spec: {title, minutes: [[value, key], ...] | null, textKey, required, urgent, confirmKey}
// submit({minutes, text, urgent}) is called when she confirms.
export function openAction(container, spec, submit) {
  closeAction();
  const template = document.getElementById("action-template");
  const form = template.content.firstElementChild.cloneNode(true);
  const id = `action-${Date.now()}`;
  form.querySelector(".action-title").textContent = spec.title;
  const minutes = form.querySelector(".minutes");
  if (spec.minutes) {
    minutes.id = `${id}-minutes`;
    form.querySelector(".minutes-label").htmlFor = minutes.id;
    form.querySelector(".minutes-label").textContent = w("mentor.action.for_how_long");
    for (const [value, key] of spec.minutes) {
      const option = document.createElement("option");
      option.value = String(value);
      option.textContent = w(key);
      minutes.append(option);
    }
  } else {
    form.querySelector(".minutes-field").remove();
  }
  const text = form.querySelector(".text");
  text.id = `${id}-text`;
  text.required = Boolean(spec.required);
  text.minLength = spec.required ? 3 : 0;
  form.querySelector(".text-label").htmlFor = text.id;
  form.querySelector(".text-label").textContent = w(spec.textKey);
  if (spec.urgent) {
    form.querySelector(".urgent-label").textContent = w("mentor.action.urgent");
  } else {
    form.querySelector(".urgent-field").remove();
  }
  form.querySelector(".confirm").textContent = w(spec.confirmKey);
  form.querySelector(".cancel").textContent = w("mentor.cancel");
  form.querySelector(".cancel").addEventListener("click", closeAction);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    submit({
      minutes: spec.minutes ? Number(minutes.value) : undefined,
      text: text.value.trim(),
      urgent: Boolean(form.querySelector(".urgent")?.checked),
    });
    closeAction();
  });
  container.append(form);
  open = form;
  (spec.minutes ? minutes : text).focus();
  return form;
}
