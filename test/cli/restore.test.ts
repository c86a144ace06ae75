/**
 * `llmstack restore` asks before it replaces anything: the question names the backup and what is replaced,
 * and any answer but yes changes nothing (no docker call at all).
 */
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import { fakeIo } from "../helpers/fakeIo";
import { ROOT } from "../helpers/root";
import { backupOf } from "./backupErrorCases";

describe("llmstack restore asks first", () => {
  it.each(["n", "", "no thanks"])("answer %j: exits 1 and changes nothing", async (answer) => {
    const dir = backupOf("development");
    const questions: string[] = [];
    const base = fakeIo(ROOT);
    const io = { ...base, ask: async (q: string) => (questions.push(q), answer) };
    expect(await main(["restore", "--stack", "development", "--from", dir], io)).toBe(1);
    expect(questions).toEqual([
      "Restore the backup of development taken 2026-01-31T02:00:00.000Z into the stack development? It replaces the " +
        "Postgres database, the Redis data (Redis is stopped meanwhile), every Qdrant collection in the backup and " +
        "every object in the backup's buckets. [y/N] ",
    ]);
    expect(base.out()).toBe(
      `${dir}: the backup of development taken 2026-01-31T02:00:00.000Z fits the stack; every file matches its checksum\nNothing was changed.\n`,
    );
    expect(base.calls).toEqual([]);
  });
});
