// reactions.js: a call's quick reactions: picked from a few, sent through the relay, floating for a moment on both sides.
import { $, announce } from './ui.js';
import { emojiPicker, emojiName, REACTIONS } from './emoji.js';

// How long a reaction floats; it is not stored, so this is all of its life.
const FLOAT_MS = 3000;

export class Reactions {
  // send(frame): to the relay; otherName: who the other side's reactions come from.
  constructor(send, otherName) {
    this.send = send;
    this.otherName = otherName;
    const btn = $('ct-react');
    btn.hidden = false;
    emojiPicker(btn, $('react-panel'), (e) => {
      this.send({ type: 'reaction', emoji: e });
      this.float(e, 'mine');
      btn.focus();
    }, REACTIONS);
  }

  // From the other side: it floats here too, and a screen reader hears who sent what.
  receive(f) {
    if (!REACTIONS.includes(f.emoji)) return;
    this.float(f.emoji, 'theirs');
    announce(`${this.otherName} reacted: ${emojiName(f.emoji)}`);
  }

  float(emoji, side) {
    const el = document.createElement('span');
    el.className = `reaction ${side}`;
    el.textContent = emoji;
    $('reactions').append(el);
    setTimeout(() => el.remove(), FLOAT_MS);
  }
}
