import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, progressLine } from '../../src/progress.js';

function stream(isTTY: boolean) {
  const s = new PassThrough() as PassThrough & {
    isTTY: boolean;
    columns: number;
    cursorTo(): boolean;
    clearLine(): boolean;
    moveCursor(): boolean;
  };
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString()));
  Object.assign(s, { isTTY, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  return { s: s as unknown as NodeJS.WriteStream, text: () => text };
}

describe('rewrap progress', () => {
  it('plain lines off a terminal: done of total, rate and ETA', () => {
    let t = 0;
    const out = stream(false);
    const p = createProgress({ what: 're-wrapped data keys', total: 2000, stream: out.s, now: () => t });
    t = 1000;
    p.advance(500);
    t = 2000;
    p.advance(500);
    p.stop();
    expect(out.text()).toBe('re-wrapped data keys: 500/2000 (25%), 500/s, ETA 3s\nre-wrapped data keys: 1000/2000 (50%), 500/s, ETA 2s\n');
  });

  it('a bar with total, rate and ETA on a terminal', () => {
    let t = 0;
    const out = stream(true);
    const p = createProgress({ what: 're-wrapped data keys', total: 1000, stream: out.s, now: () => t });
    t = 2000;
    p.advance(1000);
    p.stop();
    expect(out.text()).toMatch(/re-wrapped data keys \S+ 100% \| 1000\/1000 \| 500\/s \| ETA 0s/);
  });

  it('nothing to do reads as done', () => {
    expect(progressLine('x', 0, 0, 0)).toBe('x: 0/0 (100%), 0/s, ETA unknown');
  });
});
