// A client of the served model's protocol (docs/exec.md), for the serve tests: `ask` sends one
// frame and waits for its one reply.

import { connect, type Socket } from 'node:net';
import { OP } from '../../src/machine/serve-protocol.js';

export interface Answer {
  errno: number;
  ret: bigint;
  payload: Buffer;
}

/** A client speaking the protocol: `ask` sends one frame and waits for one reply. */
export class Client {
  private readonly s: Socket;
  private buf = Buffer.alloc(0);
  private waiting?: (a: Answer) => void;
  readonly closed: Promise<void>;

  constructor(path: string) {
    this.s = connect(path);
    this.closed = new Promise((r) => this.s.on('close', () => r()));
    this.s.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      if (this.buf.length < 4 || this.buf.length < this.buf.readUInt32LE(0)) return;
      const len = this.buf.readUInt32LE(0);
      const nsig = this.buf.readUInt32LE(16);
      const a = { errno: this.buf.readInt32LE(4), ret: this.buf.readBigInt64LE(8), payload: this.buf.subarray(24 + nsig * 16, len) };
      this.buf = this.buf.subarray(len);
      this.waiting?.(a);
    });
  }

  raw(bytes: Buffer): void {
    this.s.write(bytes);
  }

  ask(op: number, body: Buffer = Buffer.alloc(0)): Promise<Answer> {
    const h = Buffer.alloc(8);
    h.writeUInt32LE(8 + body.length, 0);
    h.writeUInt32LE(op, 4);
    return new Promise((r) => {
      this.waiting = r;
      this.s.write(Buffer.concat([h, body]));
    });
  }

  open(path: string): Promise<Answer> {
    return this.ask(OP.OPEN, Buffer.concat([u32(2), Buffer.from(path)]));
  }

  end(): void {
    this.s.destroy();
  }
}

export const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};

