import type { PlanDoc, PlanDocInput } from "../contract/plan-doc.ts";
import { GimoError, notFound } from "../core/errors.ts";
import type { Principal } from "../core/roles.ts";
import { toPlanDoc } from "../store/rows.ts";
import type { AppContext } from "./context.ts";
import type { ProjectService } from "./projects.ts";

/**
 * The per-project plan document. Writes are optimistic: the caller sends the `version` it read
 * (`If-Match`), and a write against an older version is `stale_version` (409).
 */
export class PlanDocService {
  readonly #ctx: AppContext;
  readonly #projects: ProjectService;

  constructor(ctx: AppContext, projects: ProjectService) {
    this.#ctx = ctx;
    this.#projects = projects;
  }

  async get(projectId: string | undefined): Promise<PlanDoc> {
    const id = await this.#projects.resolveId(this.#ctx.store.db, projectId);
    const row = await this.#ctx.store.db
      .selectFrom("plans")
      .selectAll()
      .where("project_id", "=", id)
      .executeTakeFirst();
    if (!row) throw notFound("plan of project", id);
    return toPlanDoc(row);
  }

  async put(
    principal: Principal,
    projectId: string | undefined,
    ifMatch: number | undefined,
    input: PlanDocInput,
  ): Promise<PlanDoc> {
    return this.#ctx.store.write(principal, async (w) => {
      const id = await this.#projects.resolveId(w.tx, projectId);
      // Lock the row so a write without If-Match is last-writer-wins, never a spurious 409
      // against a concurrent one.
      const read = w.tx.selectFrom("plans").selectAll().where("project_id", "=", id);
      const current = await this.#ctx.store.forUpdate(read).executeTakeFirstOrThrow();
      const expected = ifMatch ?? current.version;
      const doc = JSON.stringify(input);
      // Any other version is stale already (and may not even fit the column): no write to try.
      const updated =
        expected === current.version
          ? await w.tx
              .updateTable("plans")
              .set({ doc, version: expected + 1, updated_at: w.now, updated_by: principal.actor })
              .where("project_id", "=", id)
              .where("version", "=", expected)
              .executeTakeFirst()
          : undefined;
      if (Number(updated?.numUpdatedRows ?? 0) !== 1) {
        throw new GimoError(
          "stale_version",
          `the plan is at version ${current.version}, not ${expected}; reload it and retry`,
          {
            current_version: current.version,
          },
        );
      }
      w.emit("plan.updated", id, { version: expected + 1 });
      return toPlanDoc({
        project_id: id,
        doc,
        version: expected + 1,
        updated_at: w.now,
        updated_by: principal.actor,
      });
    });
  }
}
