import { describe, expect, test } from "bun:test";
import { get, render, VARIANTS } from "./kustomize.ts";
import { validateObject } from "./schema.ts";

describe("every rendered object validates against the Kubernetes API models", () => {
  for (const variant of VARIANTS) {
    test(`overlays/${variant}: types, required fields, no unknown fields`, () => {
      const problems = render(variant).flatMap(validateObject);
      expect(problems).toEqual([]);
    });
  }
});

// The checks above are only worth something if they fail on the mistakes they are meant to catch.
describe("the validation catches mistakes", () => {
  const proxy = () => structuredClone(get(render("prod"), "Deployment", "proxy"));
  const scaledObject = () => structuredClone(get(render("prod-keda"), "ScaledObject", "proxy"));

  test("a misspelt field deep in a pod template", () => {
    const deployment = proxy();
    const container = deployment.spec.template.spec.containers[0];
    container.readinesProbe = container.readinessProbe;
    delete container.readinessProbe;
    expect(validateObject(deployment)).toEqual([
      "apps/v1/Deployment proxy: /spec/template/spec/containers/0/readinesProbe: unknown field (not in V1Container)",
    ]);
  });

  test("a misspelt field in a list item and one at the top of the spec", () => {
    const deployment = proxy();
    deployment.spec.template.spec.containers[0].ports[0].containerport = 3001;
    deployment.spec.replica = 2;
    const problems = validateObject(deployment).join("\n");
    expect(problems).toContain("/spec/template/spec/containers/0/ports/0/containerport: unknown field");
    expect(problems).toContain("/spec/replica: unknown field");
  });

  test("a wrong type (an unquoted annotation) and a missing required field", () => {
    const deployment = proxy();
    deployment.spec.template.metadata.annotations["prometheus.io/scrape"] = true;
    delete deployment.spec.template.spec.containers[0].name;
    const problems = validateObject(deployment).join("\n");
    expect(problems).toContain("prometheus.io/scrape: expected a string");
    expect(problems).toMatch(/containers\/0 must have required property name/);
  });

  test("a misspelt field in the KEDA ScaledObject", () => {
    const object = scaledObject();
    object.spec.maxReplicas = object.spec.maxReplicaCount;
    delete object.spec.maxReplicaCount;
    object.spec.advanced.horizontalPodAutoscalerConfig.behaviour = {};
    expect(validateObject(object).sort()).toEqual([
      "keda.sh/v1alpha1/ScaledObject proxy: /spec/advanced/horizontalPodAutoscalerConfig/behaviour: unknown field",
      "keda.sh/v1alpha1/ScaledObject proxy: /spec/maxReplicas: unknown field",
    ]);
  });

  test("a ScaledObject trigger without its required type", () => {
    const object = scaledObject();
    delete object.spec.triggers[0].type;
    expect(validateObject(object).join("\n")).toMatch(/triggers\/0 must have required property type/);
  });

  test("an unknown kind", () => {
    expect(validateObject({ apiVersion: "v1", kind: "Pood", metadata: { name: "x" } })).toEqual([
      "v1/Pood: no model known for this kind",
    ]);
  });
});
