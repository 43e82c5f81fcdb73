import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Writable } from "node:stream";

import { OutputError, writeOutput } from "./output.ts";

/** A stream with a small buffer whose reader takes its time: one chunk per turn of the loop. */
function slowStream(highWaterMark: number): { stream: Writable; received: string[] } {
  const received: string[] = [];
  const stream = new Writable({
    highWaterMark,
    decodeStrings: false,
    write(chunk: string, _encoding, done) {
      setImmediate(() => {
        received.push(chunk);
        done();
      });
    },
  });
  return { stream, received };
}

function failingStream(code: string, afterChunks: number): Writable {
  let chunks = 0;
  return new Writable({
    write(_chunk, _encoding, done) {
      if (++chunks > afterChunks) {
        const error: NodeJS.ErrnoException = new Error(`${code}: the write failed`);
        error.code = code;
        setImmediate(() => {
          done(error);
        });
      } else
        setImmediate(() => {
          done();
        });
    },
  });
}

describe("writeOutput", () => {
  it("pulls the next part only when the stream has room, and writes every part in order", async () => {
    const { stream, received } = slowStream(1024);
    let pulled = 0;
    let mostBuffered = 0;
    function* parts(): Generator<string> {
      for (let i = 0; i < 200; i++) {
        mostBuffered = Math.max(mostBuffered, stream.writableLength);
        pulled++;
        yield `${String(i).padStart(3, "0")}:${"x".repeat(500)}\n`;
      }
    }
    assert.equal(await writeOutput(stream, parts()), "written");
    assert.equal(pulled, 200);
    assert.equal(received.length, 200);
    assert.deepEqual(
      received.map((chunk) => chunk.slice(0, 3)),
      Array.from({ length: 200 }, (_, i) => String(i).padStart(3, "0")),
    );
    // Writing without waiting for 'drain' queues the whole output (100 KB here) in the stream.
    assert.ok(mostBuffered < 1024 + 600, `${String(mostBuffered)} characters buffered`);
  });

  it("fails with one line naming the error when a write fails (disk full), and stops pulling", async () => {
    let pulled = 0;
    function* parts(): Generator<string> {
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield "x".repeat(100_000);
      }
    }
    await assert.rejects(writeOutput(failingStream("ENOSPC", 2), parts()), (error: unknown) => {
      assert.ok(error instanceof OutputError);
      assert.equal(error.message, "cannot write the output: ENOSPC: the write failed");
      return true;
    });
    assert.ok(pulled < 1000, `${String(pulled)} parts pulled`);
  });

  it("ends quietly when the reader has gone away (EPIPE)", async () => {
    assert.equal(await writeOutput(failingStream("EPIPE", 1), ["a".repeat(100_000), "b", "c"]), "closed");
  });
});
