import { describe, expect, test } from "bun:test";
import { TerminalPool } from "../../proxy/src/terminal-pool.ts";
import { waitFor } from "../helpers/wait.ts";

/** Tracks whether a promise has settled, so a test can say "not yet" without sleeping. */
function track<T>(promise: Promise<T>) {
  const state = { settled: false, value: undefined as T | undefined };
  void promise.then((value) => {
    state.settled = true;
    state.value = value;
  });
  return state;
}

/** Lets every already-queued callback run (promise reactions included), then returns. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("TerminalPool: reserving, starting and giving back terminals", () => {
  test("a pod of five terminals hands out terminal 0 first, then the next lowest", () => {
    const pool = new TerminalPool(5);
    expect(pool.freeCount).toBe(5);
    expect(pool.reserve(1)).toEqual([0]);
    expect(pool.reserve(2)).toEqual([1, 2]);
  });

  test("a reservation never takes more terminals than are free", () => {
    const pool = new TerminalPool(3);
    expect(pool.reserve(10)).toEqual([0, 1, 2]);
    expect(pool.reserve(1)).toEqual([]);
    expect(pool.freeCount).toBe(0);
  });

  test("reserved terminals are not busy; a started one is, until it is released", () => {
    const pool = new TerminalPool(3);
    const [first, second] = pool.reserve(2) as [number, number];
    expect(pool.busyCount).toBe(0);
    pool.start(first);
    expect(pool.busyCount).toBe(1);
    pool.unreserve(second);
    expect(pool.busyCount).toBe(1);
    expect(pool.freeCount).toBe(2);
    pool.release(first);
    expect(pool.busyCount).toBe(0);
    expect(pool.freeCount).toBe(3);
  });

  test("a read that got fewer entries than it reserved gives the rest back, to be reserved again", () => {
    const pool = new TerminalPool(5);
    const slots = pool.reserve(5);
    pool.start(slots[0] as number);
    for (const slot of slots.slice(1)) pool.unreserve(slot);
    expect(pool.freeCount).toBe(4);
    expect(pool.busyCount).toBe(1);
    expect(pool.reserve(4).sort()).toEqual([1, 2, 3, 4]);
  });

  test("a lightly loaded pod keeps reporting the same terminal: the one given back last is reserved first", () => {
    const pool = new TerminalPool(5);
    for (let request = 0; request < 3; request++) {
      const [slot] = pool.reserve(1) as [number];
      expect(slot).toBe(0);
      pool.start(slot);
      pool.release(slot);
    }
  });

  test("a released terminal is free at once for the next reservation", () => {
    const pool = new TerminalPool(1);
    const [only] = pool.reserve(1) as [number];
    pool.start(only);
    expect(pool.reserve(1)).toEqual([]);
    pool.release(only);
    expect(pool.reserve(1)).toEqual([only]);
  });

  test("a terminal given back twice is held once: the pool never hands out more than its size", () => {
    const pool = new TerminalPool(2);
    const [first] = pool.reserve(1) as [number];
    pool.start(first);
    pool.release(first);
    pool.release(first);
    expect(pool.freeCount).toBe(2);
    expect(pool.reserve(5)).toHaveLength(2);
    expect(pool.reserve(5)).toEqual([]);
  });
});

describe("TerminalPool: waiting for a free terminal", () => {
  test("whenFree resolves at once while a terminal is free", async () => {
    const pool = new TerminalPool(2);
    pool.reserve(1);
    await pool.whenFree(new AbortController().signal);
    expect(pool.freeCount).toBe(1);
  });

  test("whenFree waits while every terminal is taken and resolves when one is given back", async () => {
    const pool = new TerminalPool(2);
    const [first, second] = pool.reserve(2) as [number, number];
    pool.start(first);
    const free = track(pool.whenFree(new AbortController().signal));
    await turn();
    expect(free.settled).toBe(false);
    pool.unreserve(second);
    await waitFor("whenFree to resolve after a terminal came back", () => free.settled);
    expect(pool.freeCount).toBe(1);
  });

  test("every reader waiting for a terminal is woken when one comes back", async () => {
    const pool = new TerminalPool(1);
    pool.start(pool.reserve(1)[0] as number);
    const waiters = [1, 2, 3].map(() => track(pool.whenFree(new AbortController().signal)));
    pool.release(0);
    await waitFor("all waiters to wake", () => waiters.every((waiter) => waiter.settled));
  });

  test("an abort ends the wait for a free terminal (shutdown), with every terminal still taken", async () => {
    const pool = new TerminalPool(1);
    pool.reserve(1);
    const shutdown = new AbortController();
    const free = track(pool.whenFree(shutdown.signal));
    await turn();
    expect(free.settled).toBe(false);
    shutdown.abort();
    await waitFor("whenFree to resolve on abort", () => free.settled);
    expect(pool.freeCount).toBe(0);
  });

  test("an already aborted signal does not wait at all", async () => {
    const pool = new TerminalPool(1);
    pool.reserve(1);
    const shutdown = new AbortController();
    shutdown.abort();
    await pool.whenFree(shutdown.signal);
  });
});

describe("TerminalPool: waiting until idle (graceful shutdown)", () => {
  test("a pool with nothing running or reserved is idle at once", async () => {
    const pool = new TerminalPool(3);
    expect(await pool.whenIdle(0)).toBe(true);
  });

  test("whenIdle answers true once the last running terminal is released", async () => {
    const pool = new TerminalPool(2);
    const [first, second] = pool.reserve(2) as [number, number];
    pool.start(first);
    pool.start(second);
    const idle = track(pool.whenIdle(30_000));
    pool.release(first);
    await turn();
    expect(idle.settled).toBe(false);
    pool.release(second);
    await waitFor("whenIdle to answer", () => idle.settled);
    expect(idle.value).toBe(true);
  });

  test("a reserved terminal also keeps the pool from being idle", async () => {
    const pool = new TerminalPool(1);
    const [only] = pool.reserve(1) as [number];
    const idle = track(pool.whenIdle(30_000));
    await turn();
    expect(idle.settled).toBe(false);
    pool.unreserve(only);
    await waitFor("whenIdle to answer", () => idle.settled);
    expect(idle.value).toBe(true);
  });

  test("whenIdle answers false when its time runs out with a terminal still running", async () => {
    const pool = new TerminalPool(1);
    pool.start(pool.reserve(1)[0] as number);
    expect(await pool.whenIdle(0)).toBe(false);
    expect(await pool.whenIdle(20)).toBe(false);
    expect(pool.busyCount).toBe(1);
  });
});
