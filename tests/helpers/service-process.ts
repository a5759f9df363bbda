import {
  ServiceProcess as ScaffoldServiceProcess,
  type ServiceKind,
} from "../../tools/scaffold/service-process.ts";

export type { LogLine, ServiceKind } from "../../tools/scaffold/service-process.ts";

/**
 * A service started as a real child process (`bun <service>/src/main.ts`, tools/scaffold) with its
 * own environment. Its stdout and stderr are captured line by line for assertions; with
 * RSD_TEST_ECHO set they are echoed too.
 */
export class ServiceProcess extends ScaffoldServiceProcess {
  /** Starts the service and waits until `/readyz` answers 200 (unless `waitReady` is false). */
  static async start(
    kind: ServiceKind,
    env: Record<string, string>,
    {
      waitReady = true,
      timeoutMs = 15_000,
      readyUrl,
    }: { waitReady?: boolean; timeoutMs?: number; readyUrl?: string } = {},
  ): Promise<ServiceProcess> {
    return await ServiceProcess.launch({
      kind,
      env,
      waitReady,
      readyTimeoutMs: timeoutMs,
      ...(readyUrl ? { readyUrl } : {}),
      onLine: process.env.RSD_TEST_ECHO
        ? (line, service) => console.error(`[${service.kind}:${service.port}] ${line}`)
        : undefined,
    });
  }
}
