import { describe, expect, it } from "vitest";
import { Batcher, GroupCommit, type GroupUnit } from "./batcher.ts";

/** A fake transaction: the list of units run inside it. */
type Tx = string[];

function harness(opts: { failGroups?: boolean; maxGroup?: number; gatherTurn?: boolean } = {}) {
  const groups: Tx[] = [];
  const alone: string[] = [];
  const commit = new GroupCommit<Tx>(
    async (work) => {
      const tx: Tx = [];
      const out = await work(tx);
      if (opts.failGroups) throw new Error("the group failed");
      groups.push(tx);
      return out.map((o) => `${o} (grouped)`);
    },
    { maxBatch: opts.maxGroup, gatherTurn: opts.gatherTurn },
  );
  const unit = (name: string, gate?: Promise<void>, fails = false): GroupUnit<Tx, string> => ({
    inGroup: async (tx) => {
      tx.push(name);
      if (fails) throw new Error(`${name} failed`);
      return name;
    },
    alone: async () => {
      await gate;
      alone.push(name);
      if (fails) throw new Error(`${name} failed`);
      return `${name} (alone)`;
    },
  });
  return { commit, unit, groups, alone };
}

function gate() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe("group commit", () => {
  it("runs a unit alone, at once, when nothing else is running", async () => {
    const h = harness();
    expect(await h.commit.submit(h.unit("a"))).toBe("a (alone)");
    expect(h.groups).toEqual([]);
  });

  it("groups the units that arrive while one is committing into the next transaction", async () => {
    const h = harness();
    const g = gate();
    const first = h.commit.submit(h.unit("a", g.opened));
    const rest = ["b", "c", "d"].map((n) => h.commit.submit(h.unit(n)));
    g.open();
    expect(await first).toBe("a (alone)");
    expect(await Promise.all(rest)).toEqual(["b (grouped)", "c (grouped)", "d (grouped)"]);
    expect(h.groups).toEqual([["b", "c", "d"]]);
  });

  it("puts at most maxGroup units in one transaction", async () => {
    const h = harness({ maxGroup: 2 });
    const g = gate();
    const all = [h.commit.submit(h.unit("a", g.opened))];
    for (const n of ["b", "c", "d", "e", "f"]) all.push(h.commit.submit(h.unit(n)));
    g.open();
    await Promise.all(all);
    expect(h.groups).toEqual([
      ["b", "c"],
      ["d", "e"],
    ]);
    expect(h.alone).toEqual(["a", "f"]);
  });

  it("when a group fails, runs each of its units alone: one unit's error is its own", async () => {
    const h = harness();
    const g = gate();
    const first = h.commit.submit(h.unit("a", g.opened));
    const ok = h.commit.submit(h.unit("b"));
    const bad = h.commit.submit(h.unit("c", undefined, true));
    g.open();
    await first;
    expect(await ok).toBe("b (alone)");
    await expect(bad).rejects.toThrow("c failed");
    expect(h.groups).toEqual([]);
    expect(h.alone.sort()).toEqual(["a", "b", "c"]);
  });

  it("with gatherTurn, groups the units submitted in one turn of the event loop, the first too", async () => {
    const h = harness({ gatherTurn: true });
    const all = ["a", "b", "c"].map((n) => h.commit.submit(h.unit(n)));
    expect(await Promise.all(all)).toEqual(["a (grouped)", "b (grouped)", "c (grouped)"]);
    expect(h.groups).toEqual([["a", "b", "c"]]);
    // Alone in its turn, a unit still runs alone.
    expect(await h.commit.submit(h.unit("d"))).toBe("d (alone)");
  });

  it("a failed commit of the group re-runs every unit alone", async () => {
    const h = harness({ failGroups: true });
    const g = gate();
    const all = [h.commit.submit(h.unit("a", g.opened)), h.commit.submit(h.unit("b"))];
    all.push(h.commit.submit(h.unit("c")));
    g.open();
    expect(await Promise.all(all)).toEqual(["a (alone)", "b (alone)", "c (alone)"]);
  });
});

describe("batcher", () => {
  it("settles each unit of a batch with its own result or its own error, without re-running any", async () => {
    const batches: number[][] = [];
    const alone: number[] = [];
    const g = gate();
    const batcher = new Batcher<number, string>(
      async (units) => {
        batches.push(units);
        return units.map((n) =>
          n % 2 ? { ok: true, value: `${n} ok` } : { ok: false, error: new Error(`${n} odd one out`) },
        );
      },
      async (n) => {
        await g.opened;
        alone.push(n);
        return `${n} alone`;
      },
    );
    const first = batcher.submit(0);
    const rest = [1, 2, 3].map((n) => batcher.submit(n));
    g.open();
    expect(await first).toBe("0 alone");
    const settled = await Promise.allSettled(rest);
    expect(settled.map((s) => (s.status === "fulfilled" ? s.value : (s.reason as Error).message))).toEqual([
      "1 ok",
      "2 odd one out",
      "3 ok",
    ]);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(alone).toEqual([0]);
  });
});
