import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { ApiError } from "./api/client.ts";
import { SessionProvider } from "./api/session.tsx";
import { App } from "./app.tsx";
import "./styles.css";

/**
 * The web UI's entry: server state through TanStack Query (cached, refetched when the event
 * stream says it changed), routes through react-router, the session around both.
 */
const client = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      retry: (count, error) =>
        !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});

const theme = localStorage.getItem("gimo.theme");
if (theme === "light" || theme === "dark") document.documentElement.setAttribute("data-theme", theme);

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={client}>
        <SessionProvider>
          <BrowserRouter>
            <App />
          </BrowserRouter>
        </SessionProvider>
      </QueryClientProvider>
    </StrictMode>,
  );
}
