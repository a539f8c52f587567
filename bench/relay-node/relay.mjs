// relay-node: a WebSocket broadcast relay written the plain way most teams would write it with
// `ws`, as a peer in bench/peers.sh. It speaks the load generator's minimal relay mode:
// ws://HOST:PORT/relay?room=ROOM, every text frame goes unchanged to the room's other sockets,
// frames over 4 KiB close the socket with 1009 (ws's maxPayload), GET /healthz answers "ok".
//
// node relay.mjs [--listen HOST:PORT]   (default 127.0.0.1:9100; prints "listening on ADDR")
import http from 'node:http';
import { WebSocketServer } from 'ws';

const ROOM = /^[A-Za-z0-9_-]{1,64}$/;

export function startRelay(host = '127.0.0.1', port = 9100) {
  const rooms = new Map(); // room name -> Set of sockets

  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    } else {
      res.writeHead(404);
      res.end();
    }
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url, 'http://relay');
    const room = url.searchParams.get('room');
    if (url.pathname !== '/relay' || !room || !ROOM.test(room)) {
      socket.end(url.pathname === '/relay' ? 'HTTP/1.1 400 Bad Request\r\n\r\n' : 'HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      let peers = rooms.get(room);
      if (!peers) {
        peers = new Set();
        rooms.set(room, peers);
      }
      peers.add(ws);
      ws.on('message', (data, isBinary) => {
        if (isBinary) {
          ws.close(1003, 'text frames only');
          return;
        }
        for (const peer of peers) {
          if (peer !== ws && peer.readyState === peer.OPEN) peer.send(data, { binary: false });
        }
      });
      ws.on('error', () => {}); // an oversize frame: ws closes with 1009 itself
      ws.on('close', () => {
        peers.delete(ws);
        if (peers.size === 0) rooms.delete(room);
      });
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--listen');
  const listen = i > 0 ? process.argv[i + 1] : '127.0.0.1:9100';
  const at = listen.lastIndexOf(':');
  const server = await startRelay(listen.slice(0, at), Number(listen.slice(at + 1)));
  const { address, port } = server.address();
  console.log(`listening on ${address}:${port}`);
}
