// Her feedback after a chat with an adviser: three optional questions, a few taps, in her
// language. Sent on the chat's socket and stored with only the day and her page's language,
// so it cannot be linked back to her or to the chat. Nothing is kept in the browser.

import { t } from "../shared/i18n.js";

const form = document.getElementById("feedback");
const status = document.getElementById("feedback-status");
let send = () => false;
let given = false;

export function offerFeedback(sendEvent) {
  if (!form || given) return;
  send = sendEvent;
  form.hidden = false;
  status.hidden = true;
}

export function hideFeedback() {
  if (form) form.hidden = true;
}

function answer(name) {
  return form.querySelector(`input[name=${name}]:checked`)?.value;
}

form?.addEventListener("submit", (event) => {
  event.preventDefault();
  const answers = { helped: answer("helped"), listened: answer("listened"), again: answer("again") };
  const chosen = Object.fromEntries(Object.entries(answers).filter(([, value]) => value));
  if (!Object.keys(chosen).length) {
    form.querySelector("input")?.focus();
    return;
  }
  if (send({ type: "feedback", ...chosen })) document.getElementById("feedback-send").disabled = true;
});

export function feedbackThanks() {
  given = true;
  form.hidden = true;
  status.textContent = t("feedback.thanks");
  status.hidden = false;
  status.focus?.();
}

export function feedbackFailed() {
  form.hidden = true;
  status.textContent = t("feedback.failed");
  status.hidden = false;
}
