/** A clock that moves only when the test says so (epoch ms, starting at a round, realistic time). */
export class FakeClock {
  constructor(private time = 1_800_000_000_000) {}

  readonly now = (): number => this.time;

  advance(ms: number): number {
    this.time += ms;
    return this.time;
  }
}
