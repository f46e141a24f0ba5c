import type { Migration } from "kysely";
import * as core from "./0001_core.ts";
import * as queue from "./0002_queue.ts";
import * as planning from "./0003_planning.ts";
import * as providerAdmission from "./0004_provider_admission.ts";
import * as fastQueue from "./0005_fast_queue.ts";
import * as claimWalk from "./0006_claim_walk.ts";
import * as completeMany from "./0007_complete_many.ts";
import * as chainedApproval from "./0008_chained_approval.ts";
import * as queueFunctions from "./0009_queue_functions.ts";
import * as chat from "./0010_chat.ts";
import * as operations from "./0011_operations.ts";
import * as vault from "./0012_vault.ts";
import * as modelFreeClaims from "./0013_model_free_claims.ts";
import * as integrations from "./0014_integrations.ts";
import * as traceContext from "./0015_trace_context.ts";
import * as cachedPlans from "./0016_cached_plans.ts";
import * as partialRunIndexes from "./0017_partial_run_indexes.ts";
import * as oneEndRead from "./0018_one_end_read.ts";
import * as sqliteLeaseIndex from "./0019_sqlite_lease_index.ts";

/** Numbered migrations, applied in order at start. Append; never edit a released one. */
export const migrations: Record<string, Migration> = {
  "0001_core": core,
  "0002_queue": queue,
  "0003_planning": planning,
  "0004_provider_admission": providerAdmission,
  "0005_fast_queue": fastQueue,
  "0006_claim_walk": claimWalk,
  "0007_complete_many": completeMany,
  "0008_chained_approval": chainedApproval,
  "0009_queue_functions": queueFunctions,
  "0010_chat": chat,
  "0011_operations": operations,
  "0012_vault": vault,
  "0013_model_free_claims": modelFreeClaims,
  "0014_integrations": integrations,
  "0015_trace_context": traceContext,
  "0016_cached_plans": cachedPlans,
  "0017_partial_run_indexes": partialRunIndexes,
  "0018_one_end_read": oneEndRead,
  "0019_sqlite_lease_index": sqliteLeaseIndex,
};
