import type { OpenAPIHono } from "@hono/zod-openapi";
import type { EventFeed } from "../../app/event-feed.ts";
import type { Services } from "../../app/services.ts";
import type { Principal } from "../../core/roles.ts";
import type { Logger } from "../../log.ts";
import type { OpenStreams } from "./open-streams.ts";

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
  /** The event streams open now: shutdown ends them before the store closes. */
  streams: OpenStreams;
  /** The event log's tail, read once for every open stream of this process. */
  feed: EventFeed;
}

/** The application every route registers on. */
export type HttpApp = OpenAPIHono<HttpEnv>;
