// "Report this message": a small button on a message from the other person, which opens a
// short inline form (an optional reason) and sends a `report`. Used by the visitor page and
// the staff console; each passes its own words, so the module holds no text of its own.
//
// words: {button, question, reason, send, cancel, sending, done, failed} — already translated.
// With `words.menu`, "Report" sits behind a small "⋯" menu on the message (the visitor page),
// so a row of "Report" links does not stand out on her screen.

let counter = 0;

// Add the control to one message item; `send(reason)` returns false if it could not be sent.
export function addReportControl(item, words, send) {
  if (item.querySelector(".msg-report")) return;
  counter += 1;
  const id = `report-${counter}`;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "msg-report link-button";
  button.textContent = words.button;
  const form = document.createElement("form");
  form.className = "report-form";
  form.method = "post";
  form.hidden = true;
  form.setAttribute("aria-label", words.question);
  const label = document.createElement("label");
  label.htmlFor = `${id}-reason`;
  label.textContent = words.reason;
  const reason = document.createElement("textarea");
  reason.id = `${id}-reason`;
  reason.rows = 2;
  reason.maxLength = 500;
  reason.dir = "auto";
  const question = document.createElement("p");
  question.className = "report-question";
  question.textContent = words.question;
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.textContent = words.send;
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "secondary";
  cancel.textContent = words.cancel;
  const row = document.createElement("div");
  row.className = "row";
  row.append(submit, cancel);
  const status = document.createElement("p");
  status.className = "report-status";
  status.setAttribute("role", "status");
  form.append(question, label, reason, row);
  item.append(words.menu ? inMenu(button, words.menu) : button, form, status);

  button.addEventListener("click", () => {
    button.hidden = true;
    const menu = button.closest(".msg-menu");
    if (menu) menu.open = false;
    form.hidden = false;
    reason.focus();
  });
  cancel.addEventListener("click", () => {
    form.hidden = true;
    button.hidden = false;
    button.focus();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const sent = send(reason.value.trim());
    status.textContent = sent === false ? words.failed : words.sending;
    if (sent !== false) {
      form.hidden = true;
      item.classList.add("is-reporting");
    }
  });
}

// A disclosure (works with the keyboard and without script) holding the message's actions.
function inMenu(button, name) {
  const menu = document.createElement("details");
  menu.className = "msg-menu";
  const summary = document.createElement("summary");
  summary.className = "msg-menu-button";
  summary.setAttribute("aria-label", name);
  summary.textContent = "⋯";
  menu.append(summary, button);
  return menu;
}

// The server confirmed the report (`reported`): a quiet thank-you in place of the form.
export function markReported(item, text) {
  if (!item) return;
  item.classList.remove("is-reporting");
  item.classList.add("is-reported");
  const button = item.querySelector(".msg-report");
  if (button) button.hidden = true;
  const menu = item.querySelector(".msg-menu");
  if (menu) menu.hidden = true;
  const form = item.querySelector(".report-form");
  if (form) form.hidden = true;
  const status = item.querySelector(".report-status");
  if (status) status.textContent = text;
}

// The report could not be made: the form comes back with a short explanation.
export function reportFailed(item, text) {
  if (!item) return;
  item.classList.remove("is-reporting");
  const form = item.querySelector(".report-form");
  if (form) form.hidden = false;
  const status = item.querySelector(".report-status");
  if (status) status.textContent = text;
}
