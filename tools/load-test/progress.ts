import { Presets, SingleBar } from "cli-progress";
import type { Recorder } from "./stats.ts";

export interface ProgressPlan {
  count: number | undefined;
  durationS: number | undefined;
  warmupS: number;
}

/**
 * A live bar on stderr (cli-progress) with the current rate, errors and requests in flight.
 * It measures progress in requests when the count ends the run, otherwise in time. Returns a
 * stop function; does nothing when stderr is not a terminal, so CI logs and pipes stay clean.
 */
export function startProgress(recorder: Recorder, plan: ProgressPlan, enabled: boolean): () => void {
  if (!enabled || !process.stderr.isTTY) return () => {};
  const byCount = plan.count !== undefined && plan.durationS === undefined;
  const total = byCount ? plan.count! : Math.round((plan.warmupS + plan.durationS!) * 10);
  const bar = new SingleBar(
    {
      format:
        " {bar} {percentage}% | {done} done | {rate} req/s | {errors} errors | {inflight} in flight | {elapsed}s",
      hideCursor: true,
      stream: process.stderr,
      etaBuffer: 20,
    },
    Presets.shades_classic,
  );
  // Rate over the last second of samples: the current pace, steadier than one tick, unlike the run's average.
  const samples: { at: number; done: number }[] = [{ at: performance.now(), done: 0 }];
  let rate = 0;
  const values = () => ({
    done: recorder.completed,
    rate: rate.toFixed(0),
    errors: recorder.failed,
    inflight: recorder.inFlight,
    elapsed: ((performance.now() - recorder.startedAt) / 1000).toFixed(1),
  });
  bar.start(total, 0, values());
  const timer = setInterval(() => {
    const now = performance.now();
    const done = recorder.completed;
    samples.push({ at: now, done });
    while (samples.length > 2 && now - samples[1]!.at >= 1000) samples.shift();
    const oldest = samples[0]!;
    rate = ((done - oldest.done) * 1000) / Math.max(1, now - oldest.at);
    const value = byCount ? done : Math.min(total, Math.round((now - recorder.startedAt) / 100));
    bar.update(value, values());
  }, 250);
  return () => {
    clearInterval(timer);
    bar.update(byCount ? recorder.completed : total, values());
    bar.stop();
  };
}
