/**
 * `npm run bench:capacity`: the capacity estimate against real vLLM start-up logs that the tests do not
 * read (bench/capacity/cases.json, each case with its source and the quoted log lines). Prints predicted
 * against logged per case and the summary: dense cases within ±15% and their median error, and the share
 * of MoE, MLA, sliding-window and hybrid cases within ±15%. A second pass takes each card's memory from
 * the GPU catalog by the name the log gives (nvidia-smi's where it shows it), as a stack file with only
 * `gpu.gpuName` would. Asserts nothing; docs/capacity.md records what it printed.
 */
import { join } from "node:path";
import { lookupGpu } from "../src/capacity";
import { evaluate, loadCases, report, type LogCase } from "./capacity/evaluate";

const file = process.argv[2] ?? join(__dirname, "capacity", "cases.json");
const cases = loadCases(file);
console.log(report(cases.map(({ c, model }) => evaluate(c, model))));

const byName = cases.flatMap(({ c, model }) => {
  // `stated` may carry a note in parentheses about where the name came from; the name is before it.
  const name = c.gpu.nvidiaSmiName ?? c.gpu.stated.replace(/\s*\(.*\)$/, "");
  try {
    const gpu: LogCase["gpu"] = { ...c.gpu, memoryMiB: lookupGpu(name).memoryMiB };
    return [{ c: { ...c, gpu }, model }];
  } catch (err) {
    console.log(`not by name: ${c.id}: ${(err as Error).message.split(";")[0]}`);
    return [];
  }
});
console.log(`\nwith each card's memory from the catalog, by name: ${byName.length} of ${cases.length} names resolve`);
console.log(report(byName.map(({ c, model }) => evaluate(c, model))));
