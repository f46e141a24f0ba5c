import { lazy, Suspense } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router";
import { useSession } from "./api/session.tsx";
import { Board } from "./pages/board.tsx";
import { AfterSignIn, SignIn } from "./pages/sign-in.tsx";
import { Layout } from "./ui/layout.tsx";
import { Empty, Loading } from "./ui/states.tsx";

/**
 * Routes. The board and sign-in are in the first bundle; every other page is its own chunk, loaded
 * when first visited (the diff viewer, the plan validator, the log virtualiser and the charts stay
 * out of the board's initial JavaScript).
 */
const NewTask = lazy(() => import("./pages/new-task.tsx"));
const TaskPage = lazy(() => import("./pages/task.tsx"));
const RunPage = lazy(() => import("./pages/run.tsx"));
const Runners = lazy(() => import("./pages/runners.tsx"));
const Audit = lazy(() => import("./pages/audit.tsx"));
const Settings = lazy(() => import("./pages/settings.tsx"));
const Chat = lazy(() => import("./pages/chat.tsx"));
const Setup = lazy(() => import("./pages/setup.tsx"));

export function App() {
  const { session } = useSession();
  const location = useLocation();
  if (!session && location.pathname !== "/sign-in") {
    const next = location.pathname + location.search;
    return <Navigate to={`/sign-in${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`} replace />;
  }
  if (!session) return <SignIn />;
  return (
    <Layout>
      <Suspense fallback={<Loading />}>
        <Routes>
          <Route path="/" element={<Board />} />
          <Route path="/sign-in" element={<AfterSignIn />} />
          <Route path="/tasks/new" element={<NewTask />} />
          <Route path="/tasks/:id" element={<TaskPage />} />
          <Route path="/runs/:id" element={<RunPage />} />
          <Route path="/chats" element={<Chat />} />
          <Route path="/chats/:id" element={<Chat />} />
          <Route path="/runners" element={<Runners />} />
          <Route path="/audit" element={<Audit />} />
          <Route path="/settings" element={<Settings />} />
          <Route path="/setup" element={<Setup />} />
          <Route
            path="*"
            element={
              <Empty title="Nothing here">
                <p>This address is not a page of GIMO.</p>
              </Empty>
            }
          />
        </Routes>
      </Suspense>
    </Layout>
  );
}
