// Getting an agent's attention: a short WebAudio beep (no audio file to ship or fetch) and a
// desktop notification. Permission is asked only from a click, never on load.

import { signal } from "@preact/signals";

type Permission = NotificationPermission | "unsupported";
export const permission = signal<Permission>("Notification" in window ? Notification.permission : "unsupported");

let audio: AudioContext | null = null;
let lastBeep = 0;

/** Browsers only let audio start after a user gesture; the first click or key unlocks it. */
function unlock() {
  try {
    const Ctx = window.AudioContext || (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
    if (!audio && Ctx) audio = new Ctx();
    if (audio && audio.state === "suspended") void audio.resume();
  } catch (_) {
    audio = null;
  }
}
addEventListener("pointerdown", unlock, { capture: true });
addEventListener("keydown", unlock, { capture: true });

export function beep() {
  const now = Date.now();
  if (!audio || audio.state !== "running" || now - lastBeep < 1500) return;
  lastBeep = now;
  const t = audio.currentTime;
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.type = "sine";
  osc.frequency.setValueAtTime(880, t);
  osc.frequency.setValueAtTime(660, t + 0.12);
  gain.gain.setValueAtTime(0.0001, t);
  gain.gain.exponentialRampToValueAtTime(0.18, t + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.28);
  osc.connect(gain).connect(audio.destination);
  osc.start(t);
  osc.stop(t + 0.3);
}

export async function askPermission() {
  if (!("Notification" in window)) return;
  unlock();
  try {
    permission.value = await Notification.requestPermission();
  } catch (_) {
    permission.value = Notification.permission;
  }
}

export function notify(title: string, body: string, tag: string, onClick: () => void) {
  if (permission.value !== "granted") return;
  try {
    const n = new Notification(title, { body: body.slice(0, 200), tag });
    n.onclick = () => {
      window.focus();
      onClick();
      n.close();
    };
  } catch (_) {
    // Some platforms only allow notifications from a service worker; the beep still plays.
  }
}
