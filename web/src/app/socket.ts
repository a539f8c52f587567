// The dashboard's WebSocket (/ws/agent): connect, hello, heartbeat, reconnect with backoff.
// What the frames mean is store.ts's business.

import { signal } from "@preact/signals";
import type { ClientFrame } from "../generated/ClientFrame";
import type { ServerFrame } from "../generated/ServerFrame";
import { backoff, wsUrl } from "../shared/backoff";

export type SocketState = "connecting" | "live" | "down";

export class AgentSocket {
  readonly state = signal<SocketState>("connecting");
  private ws: WebSocket | null = null;
  private attempt = 0;
  private heartbeatMs = 25_000;
  private lastFrameAt = 0;
  private lastPingAt = 0;
  private timer = 0;
  private reconnectTimer = 0;
  private stopped = false;
  private readonly onFrame: (f: ServerFrame) => void;
  /** Called when a connection drops; `welcomed` is false when it never got to `welcome`. */
  private readonly onDown: (welcomed: boolean) => void;

  constructor(onFrame: (f: ServerFrame) => void, onDown: (welcomed: boolean) => void) {
    this.onFrame = onFrame;
    this.onDown = onDown;
    addEventListener("online", () => {
      if (!this.ws && !this.stopped) {
        this.attempt = 0;
        this.connect();
      }
    });
  }

  start() {
    this.stopped = false;
    if (!this.ws) this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.ws?.close();
  }

  get live() {
    return this.state.value === "live";
  }

  send(f: ClientFrame): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || (f.type !== "hello" && !this.live)) return false;
    ws.send(JSON.stringify(f));
    return true;
  }

  private connect() {
    clearTimeout(this.reconnectTimer);
    this.state.value = this.attempt === 0 ? "connecting" : "down";
    const ws = new WebSocket(wsUrl("/ws/agent"));
    this.ws = ws;
    let welcomed = false;
    ws.onopen = () => {
      this.lastFrameAt = Date.now();
      ws.send(JSON.stringify({ type: "hello", v: 1, token: null } satisfies ClientFrame));
      clearInterval(this.timer);
      this.timer = window.setInterval(() => this.heartbeat(), 5000);
    };
    ws.onmessage = (e: MessageEvent) => {
      if (ws !== this.ws) return;
      this.lastFrameAt = Date.now();
      let f: ServerFrame;
      try {
        f = JSON.parse(String(e.data)) as ServerFrame;
      } catch (_) {
        return;
      }
      if (f.type === "welcome") {
        welcomed = true;
        this.attempt = 0;
        this.heartbeatMs = f.heartbeat_ms > 0 ? f.heartbeat_ms : 25_000;
        this.lastPingAt = Date.now();
        this.state.value = "live";
      }
      this.onFrame(f);
    };
    ws.onclose = () => {
      if (ws !== this.ws) return;
      this.ws = null;
      clearInterval(this.timer);
      this.state.value = "down";
      if (this.stopped) return;
      this.onDown(welcomed);
      this.reconnectTimer = window.setTimeout(() => this.connect(), backoff(this.attempt++));
    };
  }

  private heartbeat() {
    const now = Date.now();
    if (now - this.lastFrameAt > 2 * this.heartbeatMs) {
      this.ws?.close();
      return;
    }
    if (this.live && now - this.lastPingAt >= this.heartbeatMs) {
      this.lastPingAt = now;
      this.send({ type: "ping" });
    }
  }
}
