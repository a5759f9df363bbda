import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadIngressConfig, loadProxyConfig } from "@rsd/shared";
import { parse } from "yaml";

const repo = join(import.meta.dir, "../..");
const read = (file: string) => parse(readFileSync(join(repo, file), "utf8"), { merge: true });

test("compose.tracing.yaml: a local Jaeger on 127.0.0.1, both services export to it with valid OTEL_* settings", () => {
  const base = read("compose.yaml");
  const tracing = read("compose.tracing.yaml");
  expect(Object.keys(tracing.services).sort()).toEqual(["ingress", "jaeger", "proxy"]);
  // It only adds to services compose.yaml defines; compose.yaml itself sets no OTEL_* (off by default).
  for (const service of ["ingress", "proxy"]) {
    expect(base.services[service]).toBeDefined();
    expect(Object.keys(base.services[service].environment).filter((key) => key.startsWith("OTEL_"))).toEqual(
      [],
    );
  }
  expect(tracing.services.jaeger.ports).toEqual(["127.0.0.1:16686:16686"]);
  const ingress = loadIngressConfig(tracing.services.ingress.environment).tracing;
  const proxy = loadProxyConfig(tracing.services.proxy.environment).tracing;
  expect(ingress).toMatchObject({ endpoint: "http://jaeger:4318", serviceName: "rsd-ingress" });
  expect(proxy).toMatchObject({ endpoint: "http://jaeger:4318", serviceName: "rsd-proxy" });
});
