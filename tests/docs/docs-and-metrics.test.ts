import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Stack } from "../helpers/stack.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

describe("documentation and metrics endpoints", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 1, processingMs: 5 });
    await stack.request({ payload: 1 });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  for (const path of ["/swagger", "/swagger/"]) {
    test(`${path} serves Swagger UI that references no external host`, async () => {
      const response = await fetch(`${stack.ingress.url}${path}`);
      expect(response.status).toBe(200);
      const html = await response.text();
      expect(html).toContain("swagger-ui");
      const urls = [...html.matchAll(/(?:src|href)\s*=\s*["']([^"']+)["']/g)].map(
        (match) => match[1] as string,
      );
      expect(urls.length).toBeGreaterThan(0);
      for (const url of urls) expect(url.startsWith("/")).toBe(true);
      expect(html).not.toMatch(/https?:\/\/(?!localhost)/);
      for (const asset of urls) {
        const assetResponse = await fetch(`${stack.ingress.url}${asset}`);
        expect(assetResponse.status).toBe(200);
      }
    });
  }

  test("/swagger/json documents POST /api/requests with its schema", async () => {
    const document = (await (await fetch(`${stack.ingress.url}/swagger/json`)).json()) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>
      >;
    };
    expect(document.openapi).toMatch(/^3\./);
    const post = document.paths["/api/requests"]?.post;
    expect(post).toBeDefined();
    const schema = JSON.stringify(post?.requestBody?.content["application/json"]?.schema);
    expect(schema).toContain("payload");
    expect(schema).toContain("timeoutMs");
    expect(document.paths["/api/requests/{id}"]?.get).toBeDefined();
  });

  test("/metrics of both services expose the contract's names", async () => {
    const ingress = await (await fetch(`${stack.ingress.url}/metrics`)).text();
    for (const name of [
      "rsd_ingress_requests_total",
      "rsd_ingress_request_duration_seconds_bucket",
      "rsd_ingress_inflight_requests",
      "rsd_ingress_shed_total",
      "process_cpu_seconds_total",
    ]) {
      expect(ingress).toContain(`\n${name}`);
    }
    const proxy = await (await fetch(`${stack.proxies[0]!.url}/metrics`)).text();
    for (const name of [
      "rsd_proxy_terminals",
      "rsd_proxy_terminals_busy",
      "rsd_proxy_processed_total",
      "rsd_proxy_processing_duration_seconds_bucket",
      "rsd_proxy_queue_wait_seconds_bucket",
      "rsd_proxy_reclaimed_total",
      "rsd_stream_length",
      "rsd_stream_lag",
      "rsd_stream_pending",
      "process_cpu_seconds_total",
    ]) {
      expect(proxy).toContain(`\n${name}`);
    }
  });
});
