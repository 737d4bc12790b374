// "You said, we did": what people asked of the service and what it changed, as its admins
// wrote it. Shown on the first screen only when there are entries, in her language when
// there are some in it, else in English. Nothing about her is sent to fetch it.

const box = document.getElementById("you-said");
let entries = [];

function render() {
  const lang = document.documentElement.lang || "en";
  const mine = entries.filter((entry) => entry.language === lang);
  const shown = mine.length ? mine : entries.filter((entry) => entry.language === "en");
  const list = box.querySelector("ul");
  list.replaceChildren(
    ...shown.map((entry) => {
      const item = document.createElement("li");
      item.lang = entry.language;
      const said = document.createElement("p");
      said.textContent = entry.you_said;
      const did = document.createElement("p");
      did.textContent = entry.we_did;
      item.append(said, did);
      return item;
    }),
  );
  box.hidden = shown.length === 0;
}

async function start() {
  if (!box) return;
  try {
    const response = await fetch("/api/you-said-we-did", { credentials: "omit", cache: "no-store" });
    if (!response.ok) return;
    entries = await response.json();
  } catch {
    return; // The list is a nicety; the page works without it.
  }
  render();
  new MutationObserver(render).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
}

start();
