// "Typing…" both ways: tell the other side once when typing starts and once when it stops
// (after a quiet moment or on send), and fade their indicator if the "stopped" never comes.

const QUIET_MS = 3000;
const SHOW_AT_MOST_MS = 8000;

export class TypingNotifier {
  // `send(active)` tells the server; it returns false when it could not be sent.
  constructor(send) {
    this.send = send;
    this.active = false;
    this.timer = 0;
  }

  input() {
    if (!this.active) this.active = this.send(true) !== false;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.stop(), QUIET_MS);
  }

  stop(tell = true) {
    clearTimeout(this.timer);
    if (this.active && tell) this.send(false);
    this.active = false;
  }
}

export class TypingIndicator {
  // `show(active)` draws or clears the indicator.
  constructor(show) {
    this.show = show;
    this.timer = 0;
  }

  update(active) {
    clearTimeout(this.timer);
    this.show(active);
    if (active) this.timer = setTimeout(() => this.show(false), SHOW_AT_MOST_MS);
  }

  clear() {
    this.update(false);
  }
}
