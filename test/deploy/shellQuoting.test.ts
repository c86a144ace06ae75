/**
 * Every value that reaches a shell is one quoted word: the smoke test's log-tail line, the preflight
 * probe's docker and ssh words, the remote nvidia-smi line. A reader of POSIX quoting (single quotes
 * and backslash, nothing else) reads back exactly the values, and nothing is left outside quotes that
 * the shell would expand. test/integration/shellQuoting.test.ts runs the same lines through a real sh.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { shellQuote, shellWords } from "../../src/config/shell";
import { logTailCommand } from "../../src/deploy/smokeTest";
import { WAIT_FOR_VLLM } from "../../src/plan/apps";
import { probeCommandLine, probeScript, transportFor } from "../../src/preflight/probe";
import { planFromValues, rawValues, STACKS, withAppImages } from "../helpers/stacks";

/**
 * Splits a shell line into commands (at unquoted ";") and words, the way sh does for the only quoting our
 * lines use: single-quoted runs and backslash-escaped characters; an unquoted `2>&1` is a redirection and
 * left out. Anything else the shell treats specially (`$`, backquote, double quote, `|`, `&`, `<`, `>`,
 * parentheses, a newline, globs) outside quotes is an error.
 */
function commands(line: string): string[][] {
  const out: string[][] = [[]];
  let cur: string | null = null;
  const end = (): void => {
    if (cur !== null) out[out.length - 1]!.push(cur);
    cur = null;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === " ") end();
    else if (c === ";") {
      end();
      out.push([]);
    } else if (cur === null && line.startsWith("2>&1", i)) i += 3;
    else if (c === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) throw new Error(`unterminated quote at ${i}`);
      cur = (cur ?? "") + line.slice(i + 1, close);
      i = close;
    } else if (c === "\\") cur = (cur ?? "") + line[++i]!;
    else if (/[$`"|&<>()\n*?[\]~#{}]/.test(c)) throw new Error(`unquoted ${JSON.stringify(c)} at ${i} in ${line}`);
    else cur = (cur ?? "") + c;
  }
  end();
  return out.filter((cmd) => cmd.length > 0);
}

const words = (line: string): string[] => {
  const cmds = commands(line);
  if (cmds.length !== 1) throw new Error(`${cmds.length} commands in ${line}`);
  return cmds[0]!;
};

const HOSTILE = [
  "unix:///run/docker.sock'$(touch /tmp/pwned)'",
  "unix:///x'; touch /tmp/pwned; echo '",
  "a`id`b",
  'say "$HOME" \\ and \\\'',
  "new\nline; rm -rf ~",
];

describe("shellQuote", () => {
  it("quotes any text as one word that reads back exactly (1000 generated strings)", () => {
    let tried = 0;
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (s) => {
        tried++;
        const back = words(shellQuote(s));
        return back.length === 1 && back[0] === s;
      }),
      { seed: 4242, numRuns: 1000 },
    );
    expect(tried).toBe(1000);
  });

  it.each(HOSTILE)("keeps %j one word", (s) => {
    expect(words(shellWords(["docker", "-H", s, "logs"]))).toEqual(["docker", "-H", s, "logs"]);
  });
});

describe("the smoke test's log-tail line", () => {
  it("quotes the Docker host and the container names", () => {
    const host = "unix:///run/docker.sock'$(touch /tmp/pwned)'";
    expect(logTailCommand(host, ["stack-litellm"])).toBe(
      "echo '--- docker logs --tail 30 stack-litellm'; " +
        "'docker' '-H' 'unix:///run/docker.sock'\\''$(touch /tmp/pwned)'\\''' 'logs' '--tail' '30' 'stack-litellm' 2>&1",
    );
  });

  it.each(HOSTILE)("reads back the words for host %j", (host) => {
    expect(commands(logTailCommand(host, ["a$(id)", "b"]))).toEqual([
      ["echo", "--- docker logs --tail 30 a$(id)"],
      ["docker", "-H", host, "logs", "--tail", "30", "a$(id)"],
      ["echo", "--- docker logs --tail 30 b"],
      ["docker", "-H", host, "logs", "--tail", "30", "b"],
    ]);
  });
});

describe("the preflight probe", () => {
  it("ends ssh's options before the destination", () => {
    expect(transportFor("ssh://deploy@gpu-box:2222").sshArgs).toEqual([
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=10",
      "-p",
      "2222",
      "--",
      "deploy@gpu-box",
    ]);
    expect(probeCommandLine("true\n", transportFor("ssh://deploy@gpu-box"))).toContain(
      "| ssh '-o' 'BatchMode=yes' '-o' 'ConnectTimeout=10' '--' 'deploy@gpu-box' sh -s",
    );
  });

  it.each(HOSTILE)("quotes the docker host and container names %j in the script", (value) => {
    const script = probeScript({ sections: ["stackpids"], dockerArgs: ["--host", value], containerNames: [value] });
    const loop = /for c in (.*); do\n {2}(.*) top "\$c"/s.exec(script)!;
    expect(words(loop[1]!)).toEqual([value]);
    expect(words(loop[2]!)).toEqual(["docker", "--host", value]);
  });
});

describe("shell scripts inside the containers", () => {
  /**
   * Every script a container's shell runs: CMD-SHELL health checks and `sh -c` / `bash -c` words. The
   * stack runs your own worker and retrieval proxy, so their scripts are among them.
   */
  function scripts(stack: (typeof STACKS)[number]): string[] {
    return planFromValues(withAppImages(rawValues(stack)), stack).containers.flatMap((c) => {
      const words = [c.healthcheck?.tests ?? [], c.entrypoints ?? [], c.command];
      return words.flatMap((w) => {
        if (w[0] === "CMD-SHELL") return [`${c.service}: ${w[1]}`];
        const i = w.findIndex((x, j) => x === "-c" && /(^|\/)(ba)?sh$/.test(w[j - 1] ?? ""));
        return i < 0 ? [] : [`${c.service}: ${w[i + 1]}`];
      });
    });
  }

  it("are fixed text: no stack value is written into one (values reach them as arguments or environment)", () => {
    const production = scripts("production");
    expect(production).toEqual([
      "redis: redis-cli ping | grep -q PONG",
      "qdrant: exec 3<>/dev/tcp/127.0.0.1/6333 && printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ' 200 ' <&3",
      "multimodal-worker: " + WAIT_FOR_VLLM,
      "dcgm-exporter: exec 3<>/dev/tcp/127.0.0.1/9400",
    ]);
    for (const stack of STACKS) expect(scripts(stack).every((s) => production.includes(s)), stack).toBe(true);
  });
});
