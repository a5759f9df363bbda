import { parse } from "yaml";
import { paths } from "./paths.ts";

export type Json = Record<string, unknown>;

export interface DashboardTarget {
  panel: string;
  refId: string;
  expr: string;
  datasource: unknown;
}

export interface DashboardPanel extends Json {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: (Json & { refId: string; expr: string; datasource?: unknown })[];
  panels?: DashboardPanel[];
}

export interface DashboardJson extends Json {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: { list: Json[] };
}

export async function loadDashboard(path = paths.dashboard): Promise<DashboardJson> {
  return (await Bun.file(path).json()) as DashboardJson;
}

/** Every panel, including those nested in collapsed rows. */
export function allPanels(dashboard: DashboardJson): DashboardPanel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

export function allTargets(dashboard: DashboardJson): DashboardTarget[] {
  return allPanels(dashboard).flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      panel: panel.title,
      refId: target.refId,
      expr: target.expr,
      datasource: target.datasource,
    })),
  );
}

/** The expression of one panel's query, by panel title and refId. */
export function panelExpr(dashboard: DashboardJson, title: string, refId = "A"): string {
  const target = allTargets(dashboard).find((t) => t.panel === title && t.refId === refId);
  if (!target) throw new Error(`dashboard has no panel "${title}" with query ${refId}`);
  return target.expr;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export async function loadAlertRules(path = paths.alerts): Promise<AlertRule[]> {
  const doc = parse(await Bun.file(path).text()) as { groups: { rules: AlertRule[] }[] };
  return doc.groups.flatMap((group) => group.rules);
}
