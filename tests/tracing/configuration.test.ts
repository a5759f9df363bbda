import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { ConfigError, loadIngressConfig, loadProxyConfig } from "@rsd/shared";

const root = resolve(import.meta.dir, "../..");
const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" };

function refused(env: Record<string, string>): ConfigError {
  try {
    loadProxyConfig({ ...endpoint, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe("tracing configuration (OTEL_*)", () => {
  test("off unless OTEL_EXPORTER_OTLP_ENDPOINT is set, whatever else is", () => {
    expect(loadIngressConfig({}).tracing).toBeUndefined();
    // Without an endpoint the other variables are not even read: a bad one cannot stop a pod.
    expect(
      loadProxyConfig({ OTEL_TRACES_SAMPLER: "nonsense", OTEL_SERVICE_NAME: "x" }).tracing,
    ).toBeUndefined();
  });

  test("defaults: http/protobuf, parentbased_always_on, a service name per service", () => {
    expect(loadIngressConfig(endpoint).tracing).toEqual({
      endpoint: "http://collector:4318",
      protocol: "http/protobuf",
      serviceName: "rsd-ingress",
      sampler: "parentbased_always_on",
      samplerRatio: 1,
      resourceAttributes: {},
      instanceId: expect.any(String),
      scheduleDelayMs: 5000,
    });
    expect(loadProxyConfig(endpoint).tracing?.serviceName).toBe("rsd-proxy");
  });

  test("every standard variable is taken", () => {
    const tracing = loadProxyConfig({
      ...endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "gateway-proxy",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.01",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=prod, team=a%2Cb",
      OTEL_BSP_SCHEDULE_DELAY: "250",
    }).tracing;
    expect(tracing).toMatchObject({
      protocol: "http/json",
      serviceName: "gateway-proxy",
      sampler: "parentbased_traceidratio",
      samplerRatio: 0.01,
      resourceAttributes: { "deployment.environment.name": "prod", team: "a,b" },
      scheduleDelayMs: 250,
    });
  });

  test.each([
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"],
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "grpc://collector:4317"],
    ["OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"],
    ["OTEL_SERVICE_NAME", "has spaces"],
    ["OTEL_SERVICE_NAME", "x".repeat(129)],
    ["OTEL_TRACES_SAMPLER", "jaeger_remote"],
    ["OTEL_TRACES_SAMPLER_ARG", "1.5"],
    ["OTEL_TRACES_SAMPLER_ARG", "-0.1"],
    ["OTEL_TRACES_SAMPLER_ARG", "NaN"],
    ["OTEL_TRACES_SAMPLER_ARG", "1e-2"],
    ["OTEL_RESOURCE_ATTRIBUTES", "novalue"],
    ["OTEL_RESOURCE_ATTRIBUTES", "=value"],
    ["OTEL_RESOURCE_ATTRIBUTES", "key=%E0%A4%A"],
    ["OTEL_BSP_SCHEDULE_DELAY", "0"],
    ["OTEL_BSP_SCHEDULE_DELAY", "5s"],
  ])("%s=%p is a startup error naming the variable", (variable, value) => {
    const error = refused({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
  });

  test("resource attributes and an endpoint's password are never echoed", () => {
    expect(refused({ OTEL_RESOURCE_ATTRIBUTES: "token=s3cr3t,broken" }).message).not.toContain("s3cr3t");
    const error = (() => {
      try {
        loadIngressConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://user:s3cr3t@[bad" });
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error?.message).toContain("OTEL_EXPORTER_OTLP_ENDPOINT");
    expect(error?.message).not.toContain("s3cr3t");
  });

  test("a service with a bad OTEL_* value exits at start with one line naming it", () => {
    for (const service of ["ingress", "proxy"]) {
      const result = Bun.spawnSync(["bun", `${service}/src/main.ts`], {
        cwd: root,
        env: { PATH: process.env.PATH ?? "", ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" },
        timeout: 20_000,
      });
      expect(result.exitCode).toBe(2);
      expect(result.stderr.toString()).toContain('invalid OTEL_EXPORTER_OTLP_PROTOCOL="grpc"');
    }
  });
});
