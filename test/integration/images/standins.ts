/**
 * How each stand-in image is made from this machine's files (Debian 12 packages: redis-server, gosu,
 * postgresql-15, python3, python3-yaml, busybox-static, and the Node that runs the tests), reproducing
 * the image records of src/facts (see ./facts.ts). The programs the fakes run (fakes/*.ts, compiled here with
 * TypeScript's transpiler; fakes/*.py) live in the image beside them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { ROOT } from "../../helpers/root";
import type { ResolvedStandin } from "./facts";
import type { RootfsSpec } from "./rootfs";

const FAKES = join(__dirname, "fakes");
const fake = (name: string): string => readFileSync(join(FAKES, name), "utf8");
const PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** A Node module compiled for the stand-in's Node (CommonJS, Node built-ins only). */
function compiled(name: string): string {
  return ts.transpileModule(fake(`${name}.ts`), {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
    },
    fileName: `${name}.ts`,
  }).outputText;
}

/** A launcher at `path` that runs a compiled module with the Node kept off the PATH. */
function nodeProgram(
  path: string,
  modules: readonly string[],
  main: string,
): Pick<RootfsSpec, "placed" | "files"> {
  return {
    placed: { "/opt/standin/node": process.execPath },
    files: [
      ...modules.map((m) => ({ path: `/opt/standin/${m}.js`, content: compiled(m), mode: 0o644 })),
      { path, content: `#!/opt/standin/node\nrequire("/opt/standin/${main}.js");\n`, mode: 0o755 },
    ],
  };
}

/** Debian's sh (dash), bash and the usual coreutils, grep and find of a Debian base image. */
const DEBIAN_USERLAND = [
  "/bin/sh",
  "/usr/bin/bash",
  ...[
    "cat",
    "chmod",
    "chown",
    "cp",
    "env",
    "id",
    "ls",
    "mkdir",
    "mv",
    "rm",
    "sleep",
    "timeout",
    "true",
    "false",
  ].map((p) => `/usr/bin/${p}`),
  ...[
    "echo",
    "printf",
    "test",
    "head",
    "tail",
    "tr",
    "dirname",
    "basename",
    "mktemp",
    "readlink",
    "ln",
    "touch",
  ].map((p) => `/usr/bin/${p}`),
  "/usr/bin/grep",
  "/usr/bin/find",
  "/usr/bin/xargs",
];

/** Debian's python3 with its standard library, minus what no stand-in runs. */
const PYTHON: Pick<RootfsSpec, "hostFiles" | "trees" | "links"> = {
  hostFiles: ["/usr/bin/python3.11"],
  trees: [
    {
      dir: "/usr/lib/python3.11",
      exclude:
        /^(test|idlelib|tkinter|turtledemo|ensurepip|lib2to3|pydoc_data|distutils|__pycache__|config-3\.11-.*|sitecustomize\.py)$/,
    },
  ],
  links: { "/usr/bin/python3": "python3.11" },
};

/** Where the Python stand-ins find their shared module (on Debian python3's sys.path). */
const JSONHTTP = "/usr/local/lib/python3.11/dist-packages/jsonhttp.py";

const POSTGRES_SAMPLE = "/usr/share/postgresql/15/postgresql.conf.sample";

function listenEverywhere(sample: string): string {
  const out = sample.replace(/^#?(listen_addresses)\s*=\s*\S+.*$/m, "$1 = '*'");
  if (!out.includes("listen_addresses = '*'"))
    throw new Error(`${POSTGRES_SAMPLE} has no listen_addresses line to set`);
  return out;
}

function merge(...parts: Partial<RootfsSpec>[]): RootfsSpec {
  return {
    hostFiles: parts.flatMap((p) => p.hostFiles ?? []),
    placed: Object.assign({}, ...parts.map((p) => p.placed ?? {})),
    trees: parts.flatMap((p) => p.trees ?? []),
    files: parts.flatMap((p) => p.files ?? []),
    dirs: parts.flatMap((p) => p.dirs ?? []),
    links: Object.assign({}, ...parts.map((p) => p.links ?? {})),
    users: parts.flatMap((p) => p.users ?? []),
    changes: parts.flatMap((p) => p.changes ?? []),
  };
}

/** ENTRYPOINT, CMD and WORKDIR lines from the facts, so the image says what the facts say. */
function configOf(f: ResolvedStandin): string[] {
  const { entrypoint, cmd } = f.record;
  return [
    ...(entrypoint.length > 0 ? [`ENTRYPOINT ${JSON.stringify(entrypoint)}`] : []),
    ...(cmd.length > 0 ? [`CMD ${JSON.stringify(cmd)}`] : []),
    `WORKDIR ${f.workingDir}`,
  ];
}

const SPECS: Record<string, (f: ResolvedStandin) => RootfsSpec> = {
  redis: (f) =>
    merge({
      hostFiles: [
        ...DEBIAN_USERLAND,
        "/usr/bin/redis-check-rdb",
        "/usr/bin/redis-cli",
        "/usr/sbin/gosu",
      ],
      links: { "/usr/bin/redis-server": "redis-check-rdb" },
      users: [
        { name: "redis", uid: 999, gid: 999, home: "/home/redis", shell: "/usr/sbin/nologin" },
      ],
      dirs: [{ path: "/data", mode: 0o755, uid: 999, gid: 999 }],
      files: [
        {
          path: "/usr/local/bin/docker-entrypoint.sh",
          content: fake("redis-entrypoint.sh"),
          mode: 0o755,
        },
      ],
      changes: [...configOf(f), `ENV ${PATH}`, "VOLUME /data"],
    }),
  postgres: (f) =>
    merge({
      hostFiles: [
        ...DEBIAN_USERLAND,
        "/usr/sbin/gosu",
        // initdb lists the system's locales with `locale -a` for pg_collation.
        "/usr/bin/locale",
        ...["postgres", "initdb", "pg_ctl", "pg_dump", "pg_isready", "pg_restore", "psql"].map(
          (p) => `/usr/lib/postgresql/15/bin/${p}`,
        ),
      ],
      trees: [
        { dir: "/usr/lib/postgresql/15/lib", exclude: /^(bitcode|pgxs|llvmjit.*)$/ },
        { dir: "/usr/share/postgresql/15", exclude: /^(man|contrib)$/ },
        { dir: "/usr/share/zoneinfo/Etc" },
        // LANG=C.UTF-8 needs glibc's C.utf8 locale files (libc-bin).
        { dir: "/usr/lib/locale/C.utf8" },
      ],
      links: {
        "/etc/localtime": "/usr/share/zoneinfo/Etc/UTC",
        "/usr/share/zoneinfo/UTC": "Etc/UTC",
      },
      users: [
        { name: "postgres", uid: 999, gid: 999, home: "/var/lib/postgresql", shell: "/bin/bash" },
      ],
      dirs: [
        { path: "/var/lib/postgresql", mode: 0o755, uid: 999, gid: 999 },
        { path: "/var/lib/postgresql/data", mode: 0o1777, uid: 999, gid: 999 },
        { path: "/var/run/postgresql", mode: 0o3777, uid: 999, gid: 999 },
        { path: "/docker-entrypoint-initdb.d", mode: 0o755 },
      ],
      files: [
        {
          path: "/usr/local/bin/docker-entrypoint.sh",
          content: fake("postgres-entrypoint.sh"),
          mode: 0o755,
        },
        // As the image's Dockerfile does: initdb's sample config listens on every address.
        {
          path: POSTGRES_SAMPLE,
          content: listenEverywhere(readFileSync(POSTGRES_SAMPLE, "utf8")),
          mode: 0o644,
        },
      ],
      changes: [
        ...configOf(f),
        `ENV ${PATH}:/usr/lib/postgresql/15/bin`,
        "ENV PGDATA=/var/lib/postgresql/data",
        "ENV LANG=C.UTF-8",
        "VOLUME /var/lib/postgresql/data",
      ],
    }),
  qdrant: (f) =>
    merge(nodeProgram("/qdrant/qdrant", ["body", "qdrant"], "qdrant"), {
      hostFiles: DEBIAN_USERLAND,
      dirs: [{ path: "/qdrant/storage", mode: 0o755 }],
      files: [
        { path: "/qdrant/entrypoint.sh", content: fake("qdrant-entrypoint.sh"), mode: 0o755 },
      ],
      changes: [
        ...configOf(f),
        `ENV ${PATH}`,
        "ENV TZ=Etc/UTC",
        "ENV RUN_MODE=production",
        "USER 0:0",
      ],
    }),
  objectStore: (f) =>
    merge(nodeProgram("/usr/bin/weed", ["body", "sigv4", "seaweedfs"], "seaweedfs"), {
      placed: { "/bin/busybox": "/bin/busybox" },
      // Alpine's BusyBox applets that a health check or the entrypoint may call.
      links: Object.fromEntries(
        ["sh", "ash", "wget", "cat", "ls", "mkdir", "rm", "echo", "sleep", "id", "grep"].map(
          (a) => [`/bin/${a}`, "busybox"],
        ),
      ),
      dirs: [
        { path: "/etc/seaweedfs", mode: 0o755 },
        { path: "/data/filerldb2", mode: 0o755 },
      ],
      files: [{ path: "/entrypoint.sh", content: fake("seaweedfs-entrypoint.sh"), mode: 0o755 }],
      changes: [...configOf(f), `ENV ${PATH}`, "VOLUME /data"],
    }),
  litellm: (f) =>
    merge(PYTHON, {
      hostFiles: DEBIAN_USERLAND,
      trees: [{ dir: "/usr/lib/python3/dist-packages/yaml", exclude: /^__pycache__$/ }],
      files: [
        {
          path: "/app/docker/prod_entrypoint.sh",
          content: fake("litellm-prod-entrypoint.sh"),
          mode: 0o755,
        },
        { path: "/usr/local/bin/litellm", content: fake("litellm.py"), mode: 0o755 },
        { path: JSONHTTP, content: fake("jsonhttp.py"), mode: 0o644 },
      ],
      changes: [...configOf(f), `ENV ${PATH}`],
    }),
  vllmCpu: (f) => vllmStandin(f),
  // The CUDA image for the GPU hosts of a stack with hosts: the same `vllm serve` stand-in (it runs no
  // model on either), tagged with the CUDA image's reference.
  vllm: (f) => vllmStandin(f),
};

function vllmStandin(f: ResolvedStandin): RootfsSpec {
  return merge(PYTHON, {
    hostFiles: DEBIAN_USERLAND,
    files: [
      { path: "/usr/local/bin/vllm", content: fake("vllm.py"), mode: 0o755 },
      { path: JSONHTTP, content: fake("jsonhttp.py"), mode: 0o644 },
      {
        path: "/usr/local/lib/python3.11/dist-packages/huggingface_hub/__init__.py",
        content: fake("huggingface_hub/__init__.py"),
        mode: 0o644,
      },
      {
        path: "/usr/local/share/vllm-standin/vllm-flags.txt",
        content: readFileSync(join(ROOT, "test/fixtures/vllm/vllm-flags.txt")),
        mode: 0o644,
      },
    ],
    dirs: [{ path: "/vllm-workspace", mode: 0o755 }],
    changes: [...configOf(f), `ENV ${PATH}`],
  });
}

export function standinSpec(facts: ResolvedStandin): RootfsSpec {
  const make = SPECS[facts.imageKey];
  if (!make) throw new Error(`no stand-in is written for the image key ${facts.imageKey}`);
  return make(facts);
}
