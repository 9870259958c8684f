// emoji.js: emoji pickers (the composer's, reactions): a small built-in grid, used by mouse, touch or keyboard.
import { show } from './ui.js';

// Names for screen readers, which do not all speak every emoji.
const EMOJI = [
  ['🙂', 'smiling face'], ['😊', 'happy face'], ['😂', 'laughing'], ['😍', 'heart eyes'], ['🤔', 'thinking'], ['😮', 'surprised'],
  ['😢', 'sad'], ['🙏', 'thank you'], ['👍', 'thumbs up'], ['👋', 'waving hand'], ['👏', 'applause'], ['💪', 'strong'],
  ['❤️', 'red heart'], ['✨', 'sparkles'], ['⭐', 'star'], ['🌙', 'moon'], ['☀️', 'sun'], ['🔮', 'crystal ball'],
  ['🌸', 'flower'], ['🍀', 'four-leaf clover'], ['🎉', 'celebration'], ['✅', 'check mark'], ['❓', 'question mark'], ['⏳', 'hourglass'],
];
const COLS = 6;

// Reactions, on a chat message or floating in a call: the relay takes these and no others (db/chat.c, db_reactions).
export const REACTIONS = ['👍', '❤️', '😂', '😮', '🙏', '👏'];

// The name a screen reader says for one of the built-in emoji.
export const emojiName = (e) => (EMOJI.find(([x]) => x === e) || [e, e])[1];

// A grid of emoji in panel, opened by btn; pick(emoji) is called with the one chosen, after the grid closes.
// only: the emoji to offer (all the built-in ones when absent). Returns what a click on btn does, to open it from code.
export function emojiPicker(btn, panel, pick, only) {
  const keys = (only || EMOJI.map(([e]) => e)).map((e) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'emoji';
    b.textContent = e;
    b.setAttribute('aria-label', emojiName(e));
    b.tabIndex = -1;
    return b;
  });
  panel.replaceChildren(...keys);
  keys[0].tabIndex = 0;

  const open = (on) => {
    show(panel, on);
    btn.setAttribute('aria-expanded', String(on));
  };
  // One key in the grid takes Tab; the arrows move between them, so the grid is a single stop.
  const focusKey = (i) => {
    const k = keys[(i + keys.length) % keys.length];
    for (const o of keys) o.tabIndex = o === k ? 0 : -1;
    k.focus();
  };

  const toggle = () => {
    const on = panel.hidden;
    open(on);
    if (on) focusKey(Math.max(0, keys.findIndex((k) => k.tabIndex === 0)));
  };
  btn.addEventListener('click', toggle);
  panel.addEventListener('click', (e) => {
    const k = e.target.closest('button.emoji');
    if (!k) return;
    open(false);
    pick(k.textContent);
  });
  panel.addEventListener('keydown', (e) => {
    const i = keys.indexOf(document.activeElement);
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLS, ArrowUp: -COLS }[e.key];
    if (step && i >= 0) { e.preventDefault(); focusKey(i + step); }
    else if (e.key === 'Home') { e.preventDefault(); focusKey(0); }
    else if (e.key === 'End') { e.preventDefault(); focusKey(keys.length - 1); }
    else if (e.key === 'Escape') { e.preventDefault(); open(false); btn.focus(); }
  });
  // A tap or click anywhere else closes it, as a menu would.
  document.addEventListener('pointerdown', (e) => {
    if (!panel.hidden && !panel.contains(e.target) && !btn.contains(e.target)) open(false);
  });
  return toggle;
}
