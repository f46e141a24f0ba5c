/**
 * The event streams a server holds open, so that shutdown can end them first.
 *
 * A stream's pump reads the database for as long as its client stays. If the database closed under
 * it, its next read would fail (`driver has already been destroyed`) and print a raw stack. So
 * shutdown goes: `endAll` aborts every open stream and waits until each pump has returned and
 * its answer ended cleanly (the client sees the end of the stream and reconnects elsewhere with
 * Last-Event-ID), then the server stops listening, then the store closes. A stream opened after
 * `endAll` began ends at once.
 *
 *   open ──track──▶ pumping ──client left / token revoked / run ended──▶ done
 *                      └──endAll (shutdown)──▶ aborted ──pump returns──▶ done
 */
export class OpenStreams {
  readonly #open = new Map<AbortController, Promise<void>>();
  #ending = false;

  /** Whether shutdown has begun: a caller may treat a failure after it as expected. */
  get ending(): boolean {
    return this.#ending;
  }

  /** Runs `pump` until it returns or `endAll` aborts its signal; resolves when it is done. */
  async track(pump: (signal: AbortSignal) => Promise<void>, signal: AbortSignal): Promise<void> {
    const controller = new AbortController();
    if (this.#ending) controller.abort("the server is stopping");
    const combined = AbortSignal.any([controller.signal, signal]);
    const done = pump(combined);
    this.#open.set(
      controller,
      done.then(
        () => {},
        () => {},
      ),
    );
    try {
      await done;
    } finally {
      this.#open.delete(controller);
    }
  }

  /** How many streams are open. */
  get size(): number {
    return this.#open.size;
  }

  /** Ends every open stream and waits (at most `timeoutMs`) until their pumps have returned. */
  async endAll(timeoutMs = 5_000): Promise<void> {
    this.#ending = true;
    const pending = [...this.#open];
    for (const [controller] of pending) controller.abort("the server is stopping");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(pending.map(([, done]) => done)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }
}
