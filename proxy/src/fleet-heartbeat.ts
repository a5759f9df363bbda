import type { FleetRegistry, ProxyHeartbeat } from "@rsd/shared";

/**
 * Tells the fleet registry that this proxy lives, with its terminals and processing time, so the
 * ingress can report capacity (GET /api/fleet) to load testers.
 */
export class FleetHeartbeat {
  constructor(
    private readonly options: {
      registry: FleetRegistry;
      pod: string;
      describe: () => Omit<ProxyHeartbeat, "pod" | "seenAt">;
    },
  ) {}

  async beat(): Promise<void> {
    const { registry, pod, describe } = this.options;
    await registry.beat({ pod, ...describe(), seenAt: Date.now() });
  }

  async leave(): Promise<void> {
    await this.options.registry.leave(this.options.pod);
  }
}
