import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { createDemoRepo, type DemoRepo } from "../src/demo/fixture.ts";
import { DEMO_PLAN, demoModel } from "../src/demo/model-script.ts";
import type { ScriptedReply } from "../src/llm/scripted-replies.ts";
import { type ScriptedModel, startScriptedModel } from "../src/llm/scripted-server.ts";
import { audit, launchBrowser, newSession, PHONE, SCREENSHOTS, shoot, signIn } from "./support/browser.ts";
import { createTestDatabase, type TestDatabase } from "./support/databases.ts";
import { processTokens, type ServerProcess, startServerProcess } from "./support/processes.ts";
import { eventually } from "./support/runs.ts";

/**
 * The web UI end to end, in Debian's Chromium, by clicks only, against a real `gimo serve` process
 * (its embedded runner, the real executor in the sandbox) with the scripted model and a real
 * repository whose remote is a bare repository:
 *
 *   sign in → setup wizard (providers, credential request, provider test, project) → new task →
 *   the plan appears → edit a step → revise with feedback → the revision diff shows the change →
 *   approve with auto-run (the hash shown) → the live log streams → the run succeeds → the diff of
 *   the pushed commit shows the fix → the branch link is there.
 *
 * Also: an `actions` session sees no approve, edit or cancel control and its hand-made approve is
 * refused; panic mode shows its banner everywhere and approval is refused with its reason;
 * cancelling a running run; a minted token shown once. Every page passes axe-core (no serious or
 * critical violation) and is photographed at desktop and phone width into docs/screenshots/.
 */
const FEEDBACK = "Also cover negative numbers";
const REVISED_ACCEPTANCE = "add() is right for negative numbers";
const LINK = "https://git.example.test/demo/tree/{branch}";

/** What the chat's planner (a request offering `propose_plan`) says next; the test pushes it. */
const chatReplies: ScriptedReply[] = [];

function model(request: Parameters<typeof demoModel>[0]) {
  const tools = (request.body.tools ?? []) as { function?: { name?: string } }[];
  if (tools.some((t) => t.function?.name === "propose_plan"))
    return chatReplies.shift() ?? { text: "(the test scripted no reply)" };
  const planner = !request.body.tools || request.body.tools.length === 0;
  if (planner && JSON.stringify(request.body.messages ?? []).includes(FEEDBACK)) {
    return { json: { ...DEMO_PLAN, acceptance: [...DEMO_PLAN.acceptance, REVISED_ACCEPTANCE] } };
  }
  return demoModel(request);
}

/** A link of the main navigation. */
const nav = (page: Page, name: string) =>
  page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true });

const hasChromium = existsSync(process.env.GIMO_CHROMIUM ?? "/usr/bin/chromium");
if (!hasChromium && process.env.CI !== "true")
  console.warn(
    "\n!! test/web-ui.test.ts is SKIPPED: no Chromium (apt-get install chromium, or set GIMO_CHROMIUM)\n",
  );

describe.skipIf(!hasChromium && process.env.CI !== "true")("the web UI in a browser", () => {
  let db: TestDatabase;
  let root: string;
  let repo: DemoRepo;
  let scripted: ScriptedModel;
  let server: ServerProcess;
  let browser: Browser;
  const tokens = processTokens();
  const violations: Record<string, unknown[]> = {};

  /** axe on the page as it is now, kept per page name; the last test asserts none. */
  async function check(page: Page, name: string) {
    const found = await audit(page);
    if (found.length) violations[name] = found;
  }

  const api = async (method: string, path: string, body?: unknown, token = tokens.admin) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
    return { status: res.status, body: (await res.json()) as any };
  };

  /** The project the wizard registered (or, when that test failed early, one registered here). */
  async function projectId(): Promise<string> {
    const found = (await api("GET", "/ops/projects")).body.items[0];
    if (found) return found.id;
    const made = await api("POST", "/ops/projects", {
      name: "calc",
      repo_path: repo.path,
      test_command: "node calc.test.js",
    });
    return made.body.id;
  }

  beforeAll(async () => {
    if (!existsSync(resolve(import.meta.dirname, "../web/dist/index.html")))
      throw new Error("web/dist is not built: run npm run build:web (npm ci does it)");
    db = await createTestDatabase("sqlite");
    root = mkdtempSync(join(tmpdir(), "gimo-web-"));
    repo = await createDemoRepo(root);
    scripted = await startScriptedModel({ respond: model });
    const sandbox = existsSync("/usr/bin/bwrap") || existsSync("/bin/bwrap") ? "on" : "off";
    server = await startServerProcess(db, tokens, {
      env: { GIMO_EMBEDDED_RUNNERS: "1", GIMO_SANDBOX: sandbox, GIMO_LEASE_S: "6", GIMO_E2E_KEY: "" },
    });
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    server?.child.kill("SIGTERM");
    await scripted?.close();
    await db?.drop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("takes a task from the setup wizard to a pushed, reviewed change, by clicks only", async () => {
    const { page, problems } = await newSession(browser, server.url);
    onTestFailed(
      async () =>
        void (await page
          .screenshot({ path: join(tmpdir(), "gimo-web-ui-failure.png"), fullPage: true })
          .catch(() => {})),
    );
    await page.goto("/");
    await page.getByRole("heading", { name: /Sign in to GIMO/ }).waitFor();
    await check(page, "sign-in");
    await shoot(page, "sign-in");
    await signIn(page, tokens.admin);

    // The wizard: providers (a ${VAR} key opens a credential request), the credential, the test, a project.
    await page.getByRole("heading", { name: "Set up GIMO" }).waitFor();
    for (const role of ["planner", "executor"]) {
      const form = page.getByRole("form", { name: `${role} provider` });
      await form.getByLabel("Base URL").fill(scripted.url);
      await form.getByLabel("Model").fill("scripted-model");
      await form.getByLabel("API key").fill("${GIMO_E2E_KEY}");
      await form.getByRole("button", { name: `Save ${role}` }).click();
      await form.getByRole("button", { name: "Saved ✓" }).waitFor();
    }
    await check(page, "setup");
    await shoot(page, "setup");
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByText("GIMO_E2E_KEY", { exact: true }).waitFor();
    await page.getByLabel("Value of GIMO_E2E_KEY").fill("e2e-secret-value");
    await page.getByRole("button", { name: "Save GIMO_E2E_KEY" }).click();
    await page.getByText("PROVIDED").waitFor();
    await page.getByRole("button", { name: "Back" }).click();
    await page.getByRole("button", { name: "Test providers" }).click();
    const health = page.getByRole("list", { name: "Provider health" });
    await expect
      .poll(async () => (await health.textContent()) ?? "", { timeout: 20_000 })
      .toMatch(/planner: healthy · scripted-model · \d+ ms/);
    expect(await health.textContent()).toMatch(/executor: healthy/);
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("Name").fill("calc");
    await page.getByLabel(/Repository/).fill(repo.path);
    await page.getByLabel("Test command").fill("node calc.test.js");
    await page.getByLabel(/Branch link template/).fill(LINK);
    await page.getByRole("button", { name: "Add project" }).click();
    await page.getByLabel("Describe a first task").waitFor();

    // A new task: the planner's draft appears.
    await nav(page, "New task").click();
    await check(page, "new-task");
    await shoot(page, "new-task");
    await page.getByLabel("What should be done?").fill("The tests say add() is broken. Fix it.");
    await page.getByRole("button", { name: "Plan it" }).click();
    await page.getByRole("heading", { name: "Fix add() so it adds" }).first().waitFor({ timeout: 30_000 });
    await page.getByText("Plan · revision 1").waitFor();

    // Edit a step in the structured editor.
    await page.getByRole("button", { name: "Edit plan" }).click();
    await page.getByLabel("Step 1 title").fill("Fix add() for real");
    await page.getByRole("button", { name: "Save plan" }).click();
    await page.getByText("Fix add() for real").waitFor();

    // Revise with feedback: revision 2, and the diff between the revisions shows both changes.
    await page.getByLabel("Revise with feedback").fill(FEEDBACK);
    await page.getByRole("button", { name: "Revise" }).click();
    await page.getByText("Plan · revision 2").waitFor({ timeout: 30_000 });
    const revDiff = page.getByRole("region", { name: "Plan changes from revision 1 to 2" });
    await revDiff.waitFor();
    await expect
      .poll(() => revDiff.locator(".diff-code-insert").allTextContents())
      .toContainEqual(expect.stringContaining(REVISED_ACCEPTANCE));
    expect(await revDiff.locator(".diff-code-delete").allTextContents()).toContainEqual(
      expect.stringContaining("Fix add() for real"),
    );
    await check(page, "task");
    await shoot(page, "task");

    // Approve with auto-run: the dialog shows the content hash being approved.
    await page.getByRole("button", { name: "Approve…" }).click();
    const dialog = page.getByRole("dialog");
    const hash = (await dialog.getByTestId("approve-hash").textContent()) ?? "";
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    await check(page, "approve-dialog");
    await expect.poll(() => dialog.getByRole("switch").getAttribute("aria-checked")).toBe("true");
    await dialog.getByRole("button", { name: "Approve and run" }).click();
    await dialog.waitFor({ state: "detached" });
    await page.getByText(hash).waitFor();
    await page.locator("ul.runs a").first().click();

    // The run page: the log streams in, the run succeeds, the diff shows the fix, the branch link.
    await page.getByRole("heading", { name: "Steps" }).waitFor();
    await expect
      .poll(
        async () => Number(((await page.getByTestId("log-count").textContent()) ?? "0").replace(/\D/g, "")),
        {
          timeout: 60_000,
        },
      )
      .toBeGreaterThan(0);
    await page.locator(".meta-row .badge-succeeded").waitFor({ timeout: 90_000 });
    const diff = page.getByRole("region", { name: "Diff of the run's commit" });
    await diff.waitFor({ timeout: 20_000 });
    await expect
      .poll(() => diff.locator(".diff-code-insert").allTextContents())
      .toContainEqual(expect.stringContaining("return a + b;"));
    expect(await diff.locator(".diff-code-delete").allTextContents()).toContainEqual(
      expect.stringContaining("return a - b;"),
    );
    const branch = page.getByRole("link", { name: /^task\/t_/ });
    expect(await branch.getAttribute("href")).toMatch(/^https:\/\/git\.example\.test\/demo\/tree\/task\/t_/);
    await page.getByRole("heading", { name: "Tests" }).waitFor();
    // Verified: the tests passed and the model judged each acceptance criterion met.
    await page.locator(".meta-row .badge-verified").waitFor();
    const verification = page.getByRole("region", { name: /Verification/ });
    await verification.getByText("node calc.test.js passes").waitFor();
    // The revised plan: the demo's two criteria and the one its revision added.
    expect(await verification.getByRole("img", { name: "met", exact: true }).count()).toBe(3);
    await check(page, "run");
    await shoot(page, "run");

    // The board shows it completed, live.
    await nav(page, "Board").click();
    await page.getByRole("region", { name: /Completed \(1\)/ }).waitFor({ timeout: 20_000 });
    await check(page, "board");
    await shoot(page, "board");

    await nav(page, "Runners").click();
    await page.getByRole("heading", { name: "Runners and metrics" }).waitFor();
    await page.getByText(/embedded@/).waitFor();
    await check(page, "runners");
    await shoot(page, "runners");

    await nav(page, "Audit").click();
    await page.getByRole("button", { name: "Verify the chain" }).click();
    await page.getByText(/The chain is intact: \d+ events checked/).waitFor();
    await check(page, "audit");
    await shoot(page, "audit");

    // No secret the wizard was given is ever shown back.
    expect(await page.content()).not.toContain("e2e-secret-value");
    expect(problems).toEqual([]);
    await page.context().close();
  }, 300_000);

  it("chats with the planner: a proposed plan is confirmed and run, its result comes back, by clicks only", async () => {
    await projectId();
    chatReplies.push(
      { toolCalls: [{ name: "propose_plan", args: { prompt: "Fix add() in calc.js", plan: DEMO_PLAN } }] },
      { text: "I proposed a plan: **confirm** to run it, or cancel." },
    );
    const { page, problems } = await newSession(browser, server.url);
    onTestFailed(
      async () =>
        void (await page
          .screenshot({ path: join(tmpdir(), "gimo-web-ui-failure.png"), fullPage: true })
          .catch(() => {})),
    );
    await signIn(page, tokens.operator);
    await nav(page, "Chat").click();
    await page.getByRole("heading", { name: "Chat", exact: true }).waitFor();
    await page.getByText("No chat open").waitFor();
    await page.getByRole("button", { name: "New chat" }).click();
    await page.getByText("No messages yet").waitFor();
    const chatUrl = page.url();
    expect(chatUrl).toMatch(/\/chats\/c_/);

    // Rename it, by clicks.
    await page.getByRole("button", { name: "Rename" }).click();
    await page.getByLabel("Chat title").fill("Fix the adder");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("heading", { name: "Fix the adder" }).waitFor();
    await page.getByRole("link", { name: /Fix the adder/ }).waitFor();

    // Send a message: the planner proposes a plan by tool call, shown with its steps and buttons.
    await page.getByRole("textbox", { name: "Message", exact: true }).fill("add() is broken, please fix it");
    await page.getByRole("button", { name: "Send" }).click();
    const messages = page.getByRole("region", { name: "Messages" });
    await messages.getByRole("heading", { name: "Fix add() so it adds" }).waitFor({ timeout: 30_000 });
    await messages.getByText("add() is broken, please fix it").waitFor();
    await messages.getByText("Run the tests").first().waitFor();
    await messages.getByText(/I proposed a plan/).waitFor();
    await expect
      .poll(() => page.getByRole("textbox", { name: "Message", exact: true }).inputValue())
      .toBe("");

    // Confirm & run: approved, a run is queued, its progress and its result come back into the chat.
    await page.getByRole("button", { name: "Confirm & run" }).click();
    await messages.getByText("Approved.").first().waitFor({ timeout: 20_000 });
    await messages
      .getByText(/Run r_\S+ started/)
      .first()
      .waitFor({ timeout: 60_000 });
    await messages
      .getByText(/Run r_\S+ succeeded\./)
      .first()
      .waitFor({ timeout: 120_000 });
    const branch = messages.getByRole("link", { name: /^task\/t_/ });
    await branch.waitFor();
    expect(await branch.getAttribute("href")).toMatch(/^https:\/\/git\.example\.test\/demo\/tree\/task\/t_/);
    expect(await page.getByRole("button", { name: "Confirm & run" }).count()).toBe(0);
    const runs = (await api("GET", "/ops/runs")).body.items;
    expect(runs.some((r: { status: string }) => r.status === "succeeded")).toBe(true);
    await check(page, "chat");
    await shoot(page, "chat");
    expect(problems).toEqual([]);
    await page.context().close();

    // An actions session reads the chat but sees no Confirm, Cancel or composer.
    chatReplies.push(
      { toolCalls: [{ name: "propose_plan", args: { prompt: "Again", plan: DEMO_PLAN } }] },
      { text: "Another plan to confirm." },
    );
    const chatId = chatUrl.split("/chats/")[1] ?? "";
    const again = await api("POST", `/ops/chats/${chatId}/messages`, { text: "once more" }, tokens.operator);
    expect(again.status).toBe(201);
    const viewer = await newSession(browser, server.url);
    await signIn(viewer.page, tokens.actions);
    await nav(viewer.page, "Chat").click();
    await viewer.page.getByRole("link", { name: /Fix the adder/ }).click();
    await viewer.page.getByText("Another plan to confirm.").waitFor();
    for (const name of ["Confirm & run", "Confirm", "Cancel", "Send", "New chat", "Rename"]) {
      expect(await viewer.page.getByRole("button", { name, exact: true }).count(), name).toBe(0);
    }
    await viewer.page.getByText("Your role can read this chat but not write in it.").waitFor();
    await viewer.page.context().close();
  }, 240_000);

  it("hides approve, edit and cancel from an actions session, and the server refuses its hand-made approve", async () => {
    const project = await projectId();
    const draft = await api("POST", "/ops/drafts", { prompt: "read-only check", project, plan: DEMO_PLAN });
    expect(draft.status).toBe(201);
    const { page, problems } = await newSession(browser, server.url);
    onTestFailed(
      async () =>
        void (await page
          .screenshot({ path: join(tmpdir(), "gimo-web-ui-failure.png"), fullPage: true })
          .catch(() => {})),
    );
    await signIn(page, tokens.actions);
    await page
      .getByRole("link", { name: "New task" })
      .waitFor({ state: "detached" })
      .catch(() => {});
    expect(await page.getByRole("link", { name: "New task" }).count()).toBe(0);
    expect(await page.getByRole("link", { name: "Settings" }).count()).toBe(0);
    await page.getByRole("link", { name: "read-only check" }).click();
    await page.getByText("Plan · revision 1").waitFor();
    for (const name of ["Edit plan", "Approve…", "Reject…", "Revise"]) {
      expect(await page.getByRole("button", { name }).count(), name).toBe(0);
    }
    const status = await page.evaluate(async (id) => {
      const { token } = JSON.parse(sessionStorage.getItem("gimo.session") ?? "{}");
      const res = await fetch(`/ops/drafts/${id}/approve`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ auto_run: true }),
      });
      return { status: res.status, body: (await res.json()) as { error: { code: string } } };
    }, draft.body.id as string);
    expect(status.status).toBe(403);
    expect(status.body.error.code).toBe("forbidden");
    expect((await api("GET", `/ops/drafts/${draft.body.id}`)).body.status).toBe("draft");
    const runs = (await api("GET", "/ops/runs")).body.items;
    await page.goto(`/runs/${runs[0].id}`);
    await page.getByRole("heading", { name: "Steps" }).waitFor();
    expect(await page.getByRole("button", { name: /Cancel run|Requeue/ }).count()).toBe(0);
    expect(problems).toEqual([]);
    await page.context().close();
  }, 120_000);

  it("turns panic mode on: a banner on every page, and approval refused with the reason", async () => {
    const project = await projectId();
    const draft = await api("POST", "/ops/drafts", { prompt: "panic check", project, plan: DEMO_PLAN });
    const { page } = await newSession(browser, server.url);
    onTestFailed(
      async () =>
        void (await page
          .screenshot({ path: join(tmpdir(), "gimo-web-ui-failure.png"), fullPage: true })
          .catch(() => {})),
    );
    await signIn(page, tokens.admin);
    await nav(page, "Settings").click();
    await page.getByLabel("Reason").fill("credentials leaked in CI");
    await page.getByRole("button", { name: "Turn panic mode on" }).click();
    onTestFailed(async () => void (await api("POST", "/ops/panic", { on: false })));
    const banner = page.getByRole("alert").filter({ hasText: "Panic mode is on" });
    await banner.waitFor();
    expect(await banner.textContent()).toContain("credentials leaked in CI");
    await nav(page, "Board").click();
    await banner.waitFor();
    await page.getByRole("link", { name: "panic check" }).click();
    await page.getByRole("button", { name: "Approve…" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Approve and run" }).click();
    const refusal = page.getByRole("dialog").getByRole("alert");
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/panic_mode: .*credentials leaked in CI/);
    await page.keyboard.press("Escape");
    expect((await api("GET", `/ops/drafts/${draft.body.id}`)).body.status).toBe("draft");
    await nav(page, "Settings").click();
    await page.getByRole("button", { name: "Turn panic mode off" }).click();
    await banner.waitFor({ state: "detached" });
    await page.context().close();
  }, 120_000);

  it("cancels a running run from its page", async () => {
    const project = await projectId();
    const plan = {
      title: "Wait a while",
      steps: [{ id: "s1", kind: "command", title: "Sleep", command: "sleep 120" }],
    };
    const draft = await api("POST", "/ops/drafts", { prompt: "long run", project, plan });
    const approved = await api("POST", `/ops/drafts/${draft.body.id}/approve`, { auto_run: true });
    const runId = approved.body.run.id;
    await eventually(
      async () => (await api("GET", `/ops/runs/${runId}`)).body.status === "running",
      60_000,
      200,
    );
    const { page } = await newSession(browser, server.url);
    onTestFailed(
      async () =>
        void (await page
          .screenshot({ path: join(tmpdir(), "gimo-web-ui-failure.png"), fullPage: true })
          .catch(() => {})),
    );
    await signIn(page, tokens.operator);
    await page.goto(`/runs/${runId}`);
    await page.locator(".meta-row .badge-running").waitFor();
    await page.getByRole("button", { name: "Cancel run" }).click();
    await page.locator(".meta-row .badge-cancelled").waitFor({ timeout: 60_000 });
    expect((await api("GET", `/ops/runs/${runId}`)).body.status).toBe("cancelled");
    await page.getByRole("button", { name: "Requeue" }).waitFor();
    await page.context().close();
  }, 120_000);

  it("shows a minted token once, with a copy button, and never again", async () => {
    const { page } = await newSession(browser, server.url);
    onTestFailed(
      async () =>
        void (await page
          .screenshot({ path: join(tmpdir(), "gimo-web-ui-failure.png"), fullPage: true })
          .catch(() => {})),
    );
    await signIn(page, tokens.admin);
    await nav(page, "Settings").click();
    await page.getByLabel("Name", { exact: true }).last().fill("ci-bot");
    await page.getByLabel("Role").selectOption("actions");
    await page.getByRole("button", { name: "Mint token" }).click();
    const box = page.getByTestId("minted-token");
    await box.waitFor();
    const value = (await box.locator("code").textContent()) ?? "";
    expect(value.length).toBeGreaterThan(20);
    await box.getByRole("button", { name: "Copy the new token" }).waitFor();
    expect((await api("GET", "/ops/whoami", undefined, value)).body).toMatchObject({
      actor: "ci-bot",
      role: "actions",
    });
    await check(page, "settings");
    await shoot(page, "settings");
    await page.reload();
    await page.getByRole("cell", { name: "ci-bot", exact: true }).waitFor();
    expect(await page.content()).not.toContain(value);
    await page.context().close();
  }, 120_000);

  it("lists the integrations with their allow-listed operations on the settings page", async () => {
    // GIMO's own OpenAPI document is a real service to register (on loopback: allow_private).
    const created = await api("POST", "/ops/integrations", {
      name: "gimo-self",
      kind: "openapi",
      base_url: server.url,
      allow_private: true,
      headers: { authorization: `Bearer ${tokens.actions}` },
    });
    expect(created.status).toBe(201);
    const allowed = await api("PUT", `/ops/integrations/${created.body.id}/allowlist`, {
      operations: [{ operation: "getStatus" }, { operation: "listRuns" }],
    });
    expect(allowed.status).toBe(200);
    const { page } = await newSession(browser, server.url);
    onTestFailed(
      async () =>
        void (await page
          .screenshot({ path: join(tmpdir(), "gimo-web-ui-failure.png"), fullPage: true })
          .catch(() => {})),
    );
    await signIn(page, tokens.admin);
    await nav(page, "Settings").click();
    const section = page.locator("section", { has: page.getByRole("heading", { name: "Integrations" }) });
    const row = section.getByRole("row", { name: /gimo-self/ });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/openapi.*online.*getStatus\s*everywhere.*listRuns\s*everywhere/);
    await check(page, "settings (integrations)");
    await section.scrollIntoViewIfNeeded();
    await section.screenshot({ path: join(SCREENSHOTS, "integrations-desktop.png") });
    await page.context().close();
  }, 60_000);

  it("has no serious or critical accessibility violation on any page, at desktop and phone width", async () => {
    const { page } = await newSession(browser, server.url, PHONE);
    onTestFailed(
      async () =>
        void (await page
          .screenshot({ path: join(tmpdir(), "gimo-web-ui-failure.png"), fullPage: true })
          .catch(() => {})),
    );
    await signIn(page, tokens.admin);
    await page.goto("/");
    await page.getByRole("heading", { name: "Board" }).waitFor();
    await page.getByRole("button", { name: "Menu" }).click();
    await nav(page, "Runners").click();
    await page.getByRole("heading", { name: "Runners and metrics" }).waitFor();
    await check(page, "runners (phone)");
    await page.goto("/");
    await page.getByRole("heading", { name: "Board" }).waitFor();
    await check(page, "board (phone)");
    await page.context().close();
    expect(violations).toEqual({});
  }, 60_000);
});
