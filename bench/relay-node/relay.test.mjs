// The relay, started as bench/peers.sh starts it: a room's frames reach its other sockets
// unchanged, never the sender and never another room; a frame over 4 KiB closes with 1009.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const WAIT = 10_000;
const QUIET = 300; // ms a socket must stay silent to show a frame was not delivered to it
let relay;
let addr;

before(async () => {
  relay = spawn(process.execPath, ['relay.mjs', '--listen', '127.0.0.1:0'], {
    cwd: new URL('.', import.meta.url),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = await once(createInterface({ input: relay.stdout }), 'line');
  addr = line.replace('listening on ', '');
});

after(() => relay.kill());

/** A socket in `room` whose text frames queue up for `heard`. */
async function join(room) {
  const ws = new WebSocket(`ws://${addr}/relay?room=${room}`);
  ws.inbox = [];
  ws.waiting = null;
  ws.on('message', (data, isBinary) => {
    assert.equal(isBinary, false);
    ws.inbox.push(data.toString());
    ws.waiting?.();
  });
  await once(ws, 'open');
  return ws;
}

async function heard(ws) {
  const deadline = Date.now() + WAIT;
  while (ws.inbox.length === 0) {
    assert.ok(Date.now() < deadline, 'a frame in time');
    await new Promise((r) => {
      ws.waiting = r;
      setTimeout(r, 100);
    });
  }
  return ws.inbox.shift();
}

async function quiet(ws) {
  await new Promise((r) => setTimeout(r, QUIET));
  assert.deepEqual(ws.inbox, [], 'nothing heard');
}

test("a room's frames reach its other sockets only", async () => {
  const a1 = await join('room-a');
  const a2 = await join('room-a');
  const b1 = await join('room_b');
  a1.send('{"n":1,"t":5}');
  assert.equal(await heard(a2), '{"n":1,"t":5}');
  a2.send('back');
  assert.equal(await heard(a1), 'back'); // not its own frame: no echo
  for (let n = 2; n <= 50; n++) a1.send(`m${n}`);
  for (let n = 2; n <= 50; n++) assert.equal(await heard(a2), `m${n}`);
  await quiet(b1);
  b1.send('other room');
  await quiet(a1);
  await quiet(a2);
  for (const ws of [a1, a2, b1]) ws.close();
});

test('a frame over 4 KiB closes the socket with 1009', async () => {
  const a1 = await join('big');
  const a2 = await join('big');
  a1.on('error', () => {});
  a1.send('x'.repeat(4096));
  assert.equal(await heard(a2), 'x'.repeat(4096));
  const closed = once(a1, 'close');
  a1.send('x'.repeat(4097));
  const [code] = await closed;
  assert.equal(code, 1009);
  await quiet(a2);
  a2.close();
});

test('bad rooms are refused and /healthz answers', async () => {
  for (const bad of ['/relay', '/relay?room=', '/relay?room=a%20b', `/relay?room=${'x'.repeat(65)}`]) {
    const ws = new WebSocket(`ws://${addr}${bad}`);
    const [err] = await once(ws, 'error');
    assert.match(err.message, /400/, bad);
  }
  const res = await fetch(`http://${addr}/healthz`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'ok');
});
