import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkedAddresses, guardedFetch } from "./net.ts";

/** The guarded fetch against a real loopback server; the resolver seam plays DNS answers. */
describe("guardedFetch", () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => res.end(`hello from ${req.headers.host}`));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("connects to exactly the addresses it checked (no second lookup)", async () => {
    // "rebind.invalid" resolves nowhere but through the resolver: reaching the server proves the
    // connection used the checked address rather than looking the name up again.
    const fetch = guardedFetch({
      allowPrivate: true,
      maxBytes: 1_000,
      resolver: async () => [{ address: "127.0.0.1", family: 4 }],
    });
    const res = await fetch(`http://rebind.invalid:${port}/`);
    expect(await res.text()).toBe(`hello from rebind.invalid:${port}`);
  });

  it("refuses a name when any one of its addresses is refused", async () => {
    const resolver = async () => [
      { address: "93.184.215.14", family: 4 },
      { address: "169.254.169.254", family: 4 },
    ];
    await expect(checkedAddresses(new URL("http://mixed.invalid/"), true, resolver)).rejects.toThrow(
      /mixed.invalid resolves to 169.254.169.254, a cloud metadata address/,
    );
    await expect(
      checkedAddresses(new URL("http://private.invalid/"), false, async () => [
        { address: "10.0.0.8", family: 4 },
      ]),
    ).rejects.toThrow(/allow_private/);
    await expect(checkedAddresses(new URL("ftp://example.com/"), true)).rejects.toThrow(
      /only http and https/,
    );
    await expect(checkedAddresses(new URL("http://[::ffff:169.254.169.254]/"), true)).rejects.toThrow(
      /metadata/,
    );
    await expect(checkedAddresses(new URL("http://0x7f.1/"), false)).rejects.toThrow(
      /127.0.0.1 is a private/,
    );
  });

  it("errors a body past the cap", async () => {
    const fetch = guardedFetch({ allowPrivate: true, maxBytes: 5 });
    const res = await fetch(`http://127.0.0.1:${port}/`);
    await expect(res.text()).rejects.toThrow(/larger than the integration's cap of 5 bytes/);
  });
});
