// A deployment's look, from /api/config: colours and the tab's icon. Its name, tab title and
// confidentiality text arrive as catalogue words, so they follow the page language.

const COLOUR = /^#[0-9a-fA-F]{6}$/;
const PROPERTIES = { accent: "--accent", exit: "--leave", page: "--page", text: "--text" };

export function applyBrand(brand) {
  if (!brand || typeof brand !== "object") return;
  for (const [name, property] of Object.entries(PROPERTIES)) {
    const value = brand.colours?.[name];
    if (typeof value === "string" && COLOUR.test(value)) {
      document.documentElement.style.setProperty(property, value);
    }
  }
  if (typeof brand.favicon === "string" && brand.favicon.startsWith("data:image/")) {
    const icon = document.querySelector("link[rel=icon]");
    if (icon) icon.href = brand.favicon;
  }
}
