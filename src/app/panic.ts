import type { Panic } from "../contract/system.ts";
import { GimoError } from "../core/errors.ts";
import type { Principal } from "../core/roles.ts";
import { PANIC_OFF, readPanic, writeSetting } from "../store/settings.ts";
import type { AppContext } from "./context.ts";

/**
 * Panic mode: a big red switch. While on, the store refuses every write (423) except turning it
 * off, and runners claim nothing. Turning it on while on is refused like any write (423).
 */
export class PanicService {
  readonly #ctx: AppContext;

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
  }

  get(): Promise<Panic> {
    return readPanic(this.#ctx.store.db);
  }

  async set(principal: Principal, on: boolean, reason: string | undefined): Promise<Panic> {
    return this.#ctx.store.write(
      principal,
      async (w) => {
        const current = await readPanic(w.tx);
        if (!on && !current.on) throw new GimoError("illegal_transition", "panic mode is already off");
        const next: Panic = on
          ? { on: true, reason: reason ?? null, since: w.now, by: principal.actor }
          : PANIC_OFF;
        await writeSetting(w.tx, "panic", next, w.now);
        w.emit(on ? "panic.on" : "panic.off", "panic", { reason: reason ?? null });
        return next;
      },
      { allowInPanic: !on },
    );
  }
}
