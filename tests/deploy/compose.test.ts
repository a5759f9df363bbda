import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import { contractVars, requiredVars, SERVICE_PORT, type Service } from "./contract.ts";
import { KUSTOMIZE, REPO } from "./kustomize.ts";

// biome-ignore lint/suspicious/noExplicitAny: the file is validated against the compose-spec schema below.
type Compose = any;

const text = readFileSync(join(REPO, "compose.yaml"), "utf8");
/** As Compose reads it: YAML merge keys (`<<: *anchor`) resolved. */
const compose: Compose = parse(text, { merge: true });

/** `${NAME:-default}` as Compose interpolates it when NAME is unset. */
const interpolate = (value: string) =>
  String(value).replace(/\$\{([A-Z_]+)(?::?-([^}]*))?\}/g, (_, _name, fallback = "") => fallback);

/** The compose-spec JSON schema that dclint ships (it follows the upstream compose-spec). */
function composeSchema(): object {
  const packageJson = Bun.resolveSync("dclint/package.json", import.meta.dir);
  const schema = JSON.parse(readFileSync(join(dirname(packageJson), "schemas/compose.schema.json"), "utf8"));
  // It names draft-07 by an https URL Ajv does not know; Ajv's default dialect is draft-07 anyway.
  expect(schema.$schema).toMatch(/draft-07/);
  delete schema.$schema;
  return schema;
}

function validator() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(composeSchema());
}

describe("compose.yaml", () => {
  test("validates against the compose-spec JSON schema", () => {
    const validate = validator();
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  test("the schema check catches a misspelt service key", () => {
    const validate = validator();
    const broken = structuredClone(compose);
    broken.services.proxy.healtcheck = broken.services.proxy.healthcheck;
    expect(validate(broken)).toBe(false);
    expect(JSON.stringify(validate.errors)).toContain("healtcheck");
  });

  test("runs redis, redis_exporter, ingress, 3 proxies, prometheus and grafana", () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ["grafana", "ingress", "prometheus", "proxy", "redis", "redis-exporter"].sort(),
    );
    expect(compose.services.proxy.deploy.replicas).toBe(3);
    expect(compose.services["redis-exporter"].image).toStartWith("oliver006/redis_exporter:");
  });

  for (const service of ["ingress", "proxy"] as const) {
    test(`${service}: environment is the configuration contract`, () => {
      const env: Record<string, string> = compose.services[service].environment;
      expect(Object.keys(env).filter((k) => !contractVars(service).has(k))).toEqual([]);
      expect(requiredVars(service, "compose").filter((k) => !(k in env))).toEqual([]);
      expect(interpolate(env.PORT!)).toBe(String(SERVICE_PORT[service as Service].port));
      // Each service logs in as its own Redis ACL user.
      expect(interpolate(env.REDIS_URL!)).toMatch(new RegExp(`^redis://${service}:[^@]+@redis:6379$`));
    });

    test(`${service}: settings equal the Kubernetes base ConfigMaps`, () => {
      const env: Record<string, string> = compose.services[service].environment;
      const files = ["common.env", `${service}.env`].map((f) =>
        readFileSync(join(KUSTOMIZE, "base/app-config", f), "utf8"),
      );
      for (const line of files.join("\n").split("\n")) {
        const match = /^([A-Z_]+)=(.*)$/.exec(line);
        if (!match) continue;
        const [, key = "", value = ""] = match;
        expect({ key, value: interpolate(env[key] ?? "<missing>") }).toEqual({ key, value });
      }
    });

    test(`${service}: built from its Dockerfile, health-checked on /readyz at its port, waits for healthy Redis`, () => {
      const s = compose.services[service];
      expect(s.build).toEqual({ context: ".", dockerfile: `${service}/Dockerfile` });
      expect(s.healthcheck.test.join(" ")).toContain(`http://127.0.0.1:${SERVICE_PORT[service].port}/readyz`);
      expect(s.depends_on.redis.condition).toBe("service_healthy");
    });
  }

  test("each service's user and password are the ones the rendered ACL file holds", () => {
    const redis = compose.services.redis;
    // The entrypoint renders the shared template into the file `command` hands to --aclfile.
    const template = redis.volumes.find((v: string) => v.includes("users.acl.template")).split(":");
    expect(redis.entrypoint.join(" ")).toContain(`render-acl.sh ${template[1]} /tmp/users.acl`);
    expect(redis.command[redis.command.indexOf("--aclfile") + 1]).toBe("/tmp/users.acl");
    expect(redis.command).not.toContain("--requirepass");
    const dir = mkdtempSync(join(tmpdir(), "rsd-compose-acl-"));
    try {
      const env = Object.fromEntries(
        Object.entries(redis.environment as Record<string, string>).map(([k, v]) => [k, interpolate(v)]),
      );
      const rendered = Bun.spawnSync(
        [
          "sh",
          join(REPO, "kustomize/base/redis/render-acl.sh"),
          join(REPO, template[0]),
          join(dir, "users.acl"),
        ],
        { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stderr: "pipe" },
      );
      expect(rendered.stderr.toString()).toBe("");
      const acl = readFileSync(join(dir, "users.acl"), "utf8");
      const holds = (user: string, password: string) =>
        acl.includes(`user ${user} on #${new Bun.CryptoHasher("sha256").update(password).digest("hex")} `);
      for (const service of ["ingress", "proxy"]) {
        const url = new URL(interpolate(compose.services[service].environment.REDIS_URL));
        expect({ service, holds: holds(url.username, decodeURIComponent(url.password)) }).toEqual({
          service,
          holds: true,
        });
      }
      const exporter = compose.services["redis-exporter"].environment;
      expect(exporter.REDIS_USER).toBe("exporter");
      expect(holds("exporter", interpolate(exporter.REDIS_PASSWORD))).toBe(true);
      // The health check's redis-cli logs in as admin with REDISCLI_AUTH.
      expect(redis.healthcheck.test.join(" ")).toContain("redis-cli --user admin ping");
      expect(holds("admin", env.REDISCLI_AUTH!)).toBe(true);
      expect(acl).toMatch(/^user default off /m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("Redis runs the Kubernetes redis.conf (AOF, noeviction) on a named volume", () => {
    const redis = compose.services.redis;
    const [source, target] = redis.volumes[0].split(":");
    expect(redis.command).toContain(target);
    expect(readFileSync(join(REPO, source), "utf8")).toMatch(/^appendonly yes$/m);
    expect(redis.volumes).toContain("redis-data:/data");
  });

  test("health checks everywhere they can run, and start order waits for health", () => {
    for (const name of ["redis", "ingress", "proxy", "prometheus", "grafana"]) {
      expect({ name, test: compose.services[name].healthcheck?.test?.length > 0 }).toEqual({
        name,
        test: true,
      });
    }
    expect(compose.services.prometheus.depends_on.ingress.condition).toBe("service_healthy");
    expect(compose.services.grafana.depends_on.prometheus.condition).toBe("service_healthy");
  });

  test("published ports are the ingress, Prometheus and Grafana, on localhost only", () => {
    const published = Object.entries(compose.services).flatMap(([name, s]) =>
      ((s as Compose).ports ?? []).map((p: string) => `${name} ${p}`),
    );
    expect(published.sort()).toEqual(
      ["ingress 127.0.0.1:3000:3000", "prometheus 127.0.0.1:9090:9090", "grafana 127.0.0.1:3030:3000"].sort(),
    );
  });

  test("every mounted file exists, and monitoring uses the shared observability files", () => {
    const binds = Object.values(compose.services).flatMap((s) =>
      ((s as Compose).volumes ?? []).filter((v: string) => v.startsWith("./")),
    );
    for (const bind of binds) {
      const source = bind.split(":")[0];
      expect({ source, exists: existsSync(join(REPO, source)) }).toEqual({ source, exists: true });
    }
    const prometheus: string[] = compose.services.prometheus.volumes;
    expect(prometheus).toContain(
      "./kustomize/base/monitoring/config/prometheus.compose.yml:/etc/prometheus/prometheus.yml:ro",
    );
    // The rule file goes where prometheus.compose.yml looks for it.
    const config = parse(
      readFileSync(join(KUSTOMIZE, "base/monitoring/config/prometheus.compose.yml"), "utf8"),
    );
    for (const rules of config.rule_files ?? []) {
      expect(prometheus).toContain(`./kustomize/base/monitoring/config/alerts.yml:${rules}:ro`);
    }
    // Grafana's dashboard folder is where the provider reads.
    const provider = parse(
      readFileSync(join(KUSTOMIZE, "base/monitoring/config/grafana/dashboards.yaml"), "utf8"),
    );
    for (const { options } of provider.providers) {
      expect(compose.services.grafana.volumes).toContain(
        `./kustomize/base/monitoring/config/grafana/dashboards:${String(options.path).replace(/\/$/, "")}:ro`,
      );
    }
  });

  test("Prometheus scrapes the Compose service names and ports", () => {
    const config = parse(
      readFileSync(join(KUSTOMIZE, "base/monitoring/config/prometheus.compose.yml"), "utf8"),
    );
    const targets: string[] = config.scrape_configs.flatMap(
      (job: {
        static_configs?: { targets: string[] }[];
        dns_sd_configs?: { names: string[]; port: number }[];
      }) => [
        ...(job.static_configs ?? []).flatMap((s) => s.targets),
        ...(job.dns_sd_configs ?? []).flatMap((d) => d.names.map((n) => `${n}:${d.port}`)),
      ],
    );
    for (const target of targets) {
      const host = target.split(":")[0] ?? "";
      if (host === "localhost") continue;
      expect(Object.keys(compose.services)).toContain(host);
    }
    expect(targets).toEqual(expect.arrayContaining(["ingress:3000", "proxy:3001", "redis-exporter:9121"]));
  });
});
