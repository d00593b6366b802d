// Shared by both windows (loaded before app.js and home.js): element lookup, the translation
// files (i18n/{kk,ru,en}.json) and elements made from text. Whatever a page or a certificate
// sent goes in through text() or t()'s variables as text (textContent), never as HTML.
"use strict";

let strings = {};
let locale = null;

const $ = (id) => document.getElementById(id);

// The string for `key` in the current language, with every {name} in it replaced by
// vars[name] (each as often as it appears; a name without a value stays as it is). The
// replacement is taken literally: "$&" in a value is not a pattern.
const t = (key, vars) =>
  (strings[key] ?? key).replace(/\{([a-z_]+)\}/g, (whole, name) =>
    vars && Object.hasOwn(vars, name) ? String(vars[name]) : whole);

// The words for a failed command ({code, message} from the shell): the translated code, then
// the detail. Anything else (a script error) as it is.
function errorText(err) {
  if (err && typeof err.code === "string") {
    const words = t(`command.${err.code}`);
    return err.message ? `${words}: ${err.message}` : words;
  }
  return err && err.message ? err.message : String(err);
}

function text(tag, content, cls) {
  const el = document.createElement(tag);
  el.textContent = content;
  if (cls) el.className = cls;
  return el;
}

// Loads the language's strings (kk when it is not one of ours) and translates the page's
// data-t elements. A later switch (the person chose again) wins over a slower earlier fetch;
// the same language again loads nothing (set `locale = null` to force it).
async function loadStrings(lang) {
  if (lang === locale) return;
  const want = ["kk", "ru", "en"].includes(lang) ? lang : "kk";
  locale = want;
  document.documentElement.lang = want;
  const loaded = await (await fetch(`i18n/${want}.json`)).json();
  if (locale !== want) return;
  strings = loaded;
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
}
