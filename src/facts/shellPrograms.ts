/**
 * Which programs an argv or a `sh -c` script calls, so a planned command or health check can be held
 * against the programs its image has. A small reading of POSIX shell, enough for the scripts the plan
 * writes: pipelines, `&&`/`||`/`;` lists, `until`/`while`/`for ... do ... done` loops, redirections, assignments,
 * builtins and `exec "$@"` (which runs the positional arguments). Anything it cannot read is reported
 * as a program (and so fails the check) rather than passed over.
 */

/** Shell words that are not programs, and after which a command follows (`until cmd`, `! cmd`). */
const KEYWORDS = new Set(["!", "{", "}", "if", "then", "else", "elif", "fi", "while", "until", "do", "done", "case", "esac", "for", "in"]);
/** Builtins of dash, BusyBox ash and bash that the plan's scripts use or may use. */
const BUILTINS = new Set([":", ".", "[", "break", "cd", "continue", "echo", "eval", "exit", "export", "false", "kill", "printf", "read", "return", "set", "shift", "test", "trap", "true", "umask", "unset", "wait"]);
/** Builtins that run the word after them as a command. */
const RUNS_NEXT = new Set(["exec", "command"]);

/** The token that stands for the positional parameters (`"$@"`) in what `programsInScript` returns. */
export const POSITIONAL = "$@";

interface Token {
  readonly word?: string;
  readonly op?: string;
}

/** Splits a script into words (quotes removed) and control operators. */
export function shellTokens(script: string): Token[] {
  const out: Token[] = [];
  let word = "";
  let inWord = false;
  const flush = (): void => {
    if (inWord) out.push({ word });
    word = "";
    inWord = false;
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (c === "'") {
      const end = script.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${script}`);
      word += script.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      while (j < script.length && script[j] !== '"') {
        if (script[j] === "\\" && j + 1 < script.length) j++;
        word += script[j];
        j++;
      }
      if (j >= script.length) throw new Error(`unterminated " in: ${script}`);
      inWord = true;
      i = j;
    } else if (c === "\\" && i + 1 < script.length) {
      word += script[++i];
      inWord = true;
    } else if (c === " " || c === "\t") {
      flush();
    } else if (c === "\n" || c === ";" || c === "(" || c === ")") {
      flush();
      out.push({ op: c });
    } else if (c === "|" || c === "&") {
      // `>&3`, `<&3` and `2>&1` are redirections inside a word, not operators.
      const prev = word[word.length - 1];
      if (c === "&" && inWord && (prev === ">" || prev === "<")) {
        word += c;
        continue;
      }
      flush();
      const double = script[i + 1] === c;
      out.push({ op: double ? c + c : c });
      if (double) i++;
    } else {
      word += c;
      inWord = true;
    }
  }
  flush();
  return out;
}

const isRedirection = (w: string): boolean => /^\d*(<>|>>|<&|>&|<|>)/.test(w);
const isBareRedirection = (w: string): boolean => /^\d*(<>|>>|<&|>&|<|>)$/.test(w);
const isAssignment = (w: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*=/.test(w);

/**
 * The programs a script runs, in order, each once; `POSITIONAL` where it runs its positional arguments.
 * Arguments of a program are not read (`python3 -c "..."` is python3 only).
 */
export function programsInScript(script: string): string[] {
  const found: string[] = [];
  let atCommand = true;
  let skipNext = false;
  for (const t of shellTokens(script)) {
    if (t.op !== undefined) {
      atCommand = true;
      continue;
    }
    const w = t.word!;
    if (skipNext) {
      skipNext = false;
      continue;
    }
    if (!atCommand) continue;
    if (w === "for") {
      // `for NAME in WORDS;`: no word up to the list's end is a command.
      atCommand = false;
      continue;
    }
    if (isBareRedirection(w)) {
      skipNext = true;
      continue;
    }
    if (isRedirection(w) || isAssignment(w) || KEYWORDS.has(w) || RUNS_NEXT.has(w)) continue;
    atCommand = false;
    if (BUILTINS.has(w)) continue;
    found.push(w === "$@" ? POSITIONAL : w);
  }
  return [...new Set(found)];
}

const basename = (p: string): string => p.slice(p.lastIndexOf("/") + 1);

/**
 * The programs an argv runs, as the image must have them by name: its first word, what a `sh -c` or
 * `bash -c` script runs (with `exec "$@"` resolved to the arguments after `$0`), and what `timeout`
 * runs.
 */
export function programsInArgv(argv: readonly string[]): string[] {
  if (argv.length === 0) return [];
  const program = basename(argv[0]!);
  if ((program === "sh" || program === "bash") && argv[1] === "-c") {
    const positional = argv.slice(4);
    const inner = programsInScript(argv[2] ?? "").flatMap((p) => (p === POSITIONAL ? programsInArgv(positional) : [p]));
    return [...new Set([program, ...inner])];
  }
  if (program === "timeout") {
    let i = 1;
    while (i < argv.length && argv[i]!.startsWith("-")) i += argv[i] === "-s" || argv[i] === "-k" ? 2 : 1;
    // argv[i] is the duration; the rest is the command it runs.
    return [...new Set([program, ...programsInArgv(argv.slice(i + 1))])];
  }
  return [program];
}
