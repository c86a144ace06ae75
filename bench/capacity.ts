/**
 * `npm run bench:capacity`: the capacity estimate against real vLLM start-up logs that the tests do not
 * read (bench/capacity/cases.json, each case with its source and the quoted log lines). Prints predicted
 * against logged per case and the summary: dense cases within ±15% and their median error, and the share
 * of MoE, MLA, sliding-window and hybrid cases within ±15%. Asserts nothing; docs/capacity.md records
 * what it printed.
 */
import { join } from "node:path";
import { evaluate, loadCases, report } from "./capacity/evaluate";

const file = process.argv[2] ?? join(__dirname, "capacity", "cases.json");
const results = loadCases(file).map(({ c, model }) => evaluate(c, model));
console.log(report(results));
