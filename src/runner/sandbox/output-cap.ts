import { StringDecoder } from "node:string_decoder";

/**
 * A command's combined output, bounded while it streams: the first half of the cap is kept as the
 * head, the most recent half as the tail, and everything between is counted and dropped. Memory
 * never exceeds the cap however much a command prints (`yes` included). The text keeps the head
 * and the tail around a `…[n bytes cut]…` marker, so both the start of a failure and its final
 * summary survive.
 *
 * Chunks are appended as they arrive from stdout and stderr alike, so the two streams interleave in
 * arrival order.
 */
export class OutputCap {
  readonly #headCap: number;
  readonly #tailCap: number;
  readonly #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  #total = 0;

  constructor(capBytes: number) {
    const cap = Math.max(2, Math.floor(capBytes));
    this.#headCap = Math.floor(cap / 2);
    this.#tailCap = cap - this.#headCap;
  }

  /** Bytes seen in all. */
  get total(): number {
    return this.#total;
  }

  get truncated(): boolean {
    return this.#total > this.#headBytes + this.#tailBytes;
  }

  push(chunk: Buffer): void {
    this.#total += chunk.length;
    let rest = chunk;
    if (this.#headBytes < this.#headCap) {
      const take = Math.min(this.#headCap - this.#headBytes, rest.length);
      this.#head.push(rest.subarray(0, take));
      this.#headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    if (rest.length >= this.#tailCap) {
      this.#tail = [Buffer.from(rest.subarray(rest.length - this.#tailCap))];
      this.#tailBytes = this.#tailCap;
      return;
    }
    this.#tail.push(Buffer.from(rest));
    this.#tailBytes += rest.length;
    while (this.#tailBytes > this.#tailCap) {
      const first = this.#tail[0] as Buffer;
      const excess = this.#tailBytes - this.#tailCap;
      if (first.length <= excess) {
        this.#tail.shift();
        this.#tailBytes -= first.length;
      } else {
        this.#tail[0] = first.subarray(excess);
        this.#tailBytes -= excess;
      }
    }
  }

  text(): string {
    const head = Buffer.concat(this.#head);
    const tail = Buffer.concat(this.#tail);
    if (!this.truncated) return Buffer.concat([head, tail]).toString("utf8");
    const cut = this.#total - head.length - tail.length;
    // Never show half a UTF-8 character on either side of the cut.
    const headText = new StringDecoder("utf8").write(head);
    let start = 0;
    while (start < tail.length && start < 4 && ((tail[start] as number) & 0xc0) === 0x80) start++;
    return `${headText}\n…[${cut} bytes cut]…\n${tail.subarray(start).toString("utf8")}`;
  }
}
