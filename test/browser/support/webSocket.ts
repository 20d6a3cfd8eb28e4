import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The little of RFC 6455 a DevTools connection needs, over `node:http`'s upgrade: Node 20 has
 * `WebSocket` only behind `--experimental-websocket`, and the test workers run without it. Text
 * messages (fragmented or not) in and out, ping answered, close either way. Not a general client:
 * no binary messages, no extensions, ws:// only.
 */
export interface TextWebSocket {
  send(text: string): void;
  close(): void;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OPCODE = { continuation: 0x0, text: 0x1, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** A client frame: masked, as the RFC requires of clients. */
export function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const { length } = payload;
  const header = Buffer.alloc(length < 126 ? 2 : length < 65_536 ? 4 : 10);
  header[0] = 0x80 | opcode;
  if (length < 126) {
    header[1] = 0x80 | length;
  } else if (length < 65_536) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] = masked[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

export interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** Takes the whole frames off the front of `buffer`; returns them and what is left over. */
export function decodeFrames(buffer: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let rest = buffer;
  for (;;) {
    if (rest.length < 2) break;
    const fin = (rest[0]! & 0x80) !== 0;
    const opcode = rest[0]! & 0x0f;
    const masked = (rest[1]! & 0x80) !== 0;
    let length = rest[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (rest.length < 4) break;
      length = rest.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (rest.length < 10) break;
      length = Number(rest.readBigUInt64BE(2));
      offset = 10;
    }
    const mask = masked ? rest.subarray(offset, offset + 4) : undefined;
    if (masked) offset += 4;
    if (rest.length < offset + length) break;
    const payload = Buffer.from(rest.subarray(offset, offset + length));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ mask[i % 4]!;
    frames.push({ fin, opcode, payload });
    rest = rest.subarray(offset + length);
  }
  return { frames, rest };
}

/** Opens a WebSocket to `url`, calling `onText` with each whole text message. */
export function openWebSocket(url: string, onText: (text: string) => void, onClose: (reason: string) => void): Promise<TextWebSocket> {
  const key = randomBytes(16).toString('base64');
  const accept = createHash('sha1').update(`${key}${GUID}`).digest('base64');
  return new Promise((resolve, reject) => {
    const req = request(url.replace(/^ws:/, 'http:'), {
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key },
    });
    req.once('error', reject);
    req.once('response', (response) => reject(new Error(`${url} answered HTTP ${response.statusCode} instead of upgrading to a WebSocket.`)));
    req.once('upgrade', (response, socket: Socket, head: Buffer) => {
      if (response.headers['sec-websocket-accept'] !== accept) {
        socket.destroy();
        return reject(new Error(`${url} answered a wrong Sec-WebSocket-Accept.`));
      }
      socket.setNoDelay(true);
      let buffered = head;
      let fragments: Buffer[] = [];
      let closed = false;
      const finish = (reason: string) => {
        if (closed) return;
        closed = true;
        onClose(reason);
      };
      socket.on('data', (chunk: Buffer) => {
        const { frames, rest } = decodeFrames(Buffer.concat([buffered, chunk]));
        buffered = rest;
        for (const { fin, opcode, payload } of frames) {
          if (opcode === OPCODE.ping) {
            socket.write(encodeFrame(OPCODE.pong, payload));
          } else if (opcode === OPCODE.close) {
            socket.end(encodeFrame(OPCODE.close, Buffer.alloc(0)));
            finish('the other end closed the WebSocket');
          } else if (opcode === OPCODE.text || opcode === OPCODE.continuation) {
            fragments.push(payload);
            if (!fin) continue;
            const text = Buffer.concat(fragments).toString('utf8');
            fragments = [];
            onText(text);
          }
        }
      });
      socket.on('close', () => finish('the WebSocket connection closed'));
      socket.on('error', (error) => finish(error.message));
      resolve({
        send: (text) => void socket.write(encodeFrame(OPCODE.text, Buffer.from(text, 'utf8'))),
        close() {
          if (!closed) socket.end(encodeFrame(OPCODE.close, Buffer.alloc(0)));
          finish('closed by this side');
        },
      });
    });
    req.end();
  });
}
