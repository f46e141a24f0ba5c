import type { Services } from "../../app/services.ts";
import type { Principal } from "../../core/roles.ts";
import type { Logger } from "../../log.ts";

/** What every HTTP handler can read from the context. */
export interface HttpEnv {
  Variables: {
    principal: Principal;
    correlationId: string;
  };
}

export interface HttpDeps {
  services: Services;
  logger: Logger;
}
