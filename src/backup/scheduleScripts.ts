/**
 * The programs of the scheduled backup (src/plan/backupSchedule.ts). Every backup lies in the bind-mounted
 * backup directory (BACKUP_ROOT) as `<stamp>.partial/` while it is written and is renamed to `<stamp>/`
 * (UTC, YYYYMMDDTHHMMSSZ, so names sort by time) once every store's artefacts and the manifest are in
 * it: the same layout and manifest.json that `llmstack restore --from DIR` reads (./manifest.ts).
 *
 * The scheduler (LiteLLM's image, python3) opens `<stamp>.partial/` with a `request` file at the scheduled
 * time; a runner in the Postgres and in the Redis image (which alone have pg_dump and redis-cli) sees the
 * request, runs its store's backup step (./steps.ts) and writes `<store>.done` or `<store>.failed`. The
 * scheduler runs the Qdrant and object store steps itself, waits for the runners, writes the manifest,
 * renames the directory and serves the outcome as Prometheus metrics; the Postgres runner applies retention.
 */

/** Where the backup directory is mounted in every backup container. */
export const BACKUP_ROOT = "/backups";

/** Seconds a runner waits between two looks for a new request. */
export const RUNNER_POLL_SECONDS = 10;

/**
 * A runner: `sh -c RUNNER runner COMMAND...`, with LLMSTACK_STORE, LLMSTACK_ARTEFACTS (the directory the
 * step writes into), LLMSTACK_ROOT, and LLMSTACK_KEEP and LLMSTACK_RETENTION (RETENTION_SCRIPT) where it
 * applies retention. For each `<stamp>.partial/` with a request and no outcome of the store yet, it runs
 * COMMAND (the store's backup step), copies the artefacts into `<stamp>.partial/<store>/` and writes the
 * outcome file; the step's output goes to `<stamp>.partial/<store>.log`. With LLMSTACK_KEEP set, each pass
 * then applies retention: one runner does, in the Postgres image, since LiteLLM's image is not recorded to
 * have rm. LLMSTACK_ONCE=1 makes one pass (for a test); otherwise it looks again every RUNNER_POLL_SECONDS.
 * Programs: sh, mkdir, cp, rm, sleep (the Debian base of the Postgres and Redis images).
 */
export const RUNNER_SCRIPT = String.raw`set -u
store="$LLMSTACK_STORE"
art="$LLMSTACK_ARTEFACTS"
root="$LLMSTACK_ROOT"
while :; do
  for d in "$root"/*.partial; do
    [ -f "$d/request" ] || continue
    if [ -e "$d/$store.done" ] || [ -e "$d/$store.failed" ]; then continue; fi
    rm -rf "$art" "$d/$store"
    mkdir -p "$art" "$d/$store"
    if "$@" >"$d/$store.log" 2>&1 && cp -R "$art/." "$d/$store/"; then
      : >"$d/$store.done"
    else
      : >"$d/$store.failed"
    fi
    rm -rf "$art"
  done
  if [ -n "${"${LLMSTACK_KEEP:-}"}" ]; then sh -c "$LLMSTACK_RETENTION" retention "$root" "$LLMSTACK_KEEP" || true; fi
  if [ "${"${LLMSTACK_ONCE:-}"}" = 1 ]; then exit 0; fi
  sleep ${RUNNER_POLL_SECONDS}
done
`;

/**
 * Retention: `sh -c RETENTION retention ROOT KEEP`. Deletes complete backups (a `<stamp>/` directory
 * with manifest.json) beyond the newest KEEP, and failed ones (`<stamp>.failed/`) older than the oldest
 * complete backup kept. A `<stamp>.partial/` directory (a backup being written) is never touched, nor
 * anything else whose name has a dot. The shell sorts a glob's names, and the stamps sort by time.
 * Programs: sh, rm.
 */
export const RETENTION_SCRIPT = String.raw`set -eu
root="$1"
keep="$2"
set --
for m in "$root"/*/manifest.json; do
  d="${"${m%/manifest.json}"}"
  b="${"${d##*/}"}"
  if [ -f "$m" ] && [ "${"${b%%.*}"}" = "$b" ]; then set -- "$@" "$d"; fi
done
while [ "$#" -gt "$keep" ]; do
  rm -rf "$1"
  echo "deleted $1"
  shift
done
oldest=""
if [ "$#" -gt 0 ]; then oldest="${"${1##*/}"}"; fi
for d in "$root"/*.failed; do
  b="${"${d##*/}"}"
  if [ -d "$d" ] && [ -n "$oldest" ] && [ "${"${b%.failed}"}" \< "$oldest" ]; then
    rm -rf "$d"
    echo "deleted $d"
  fi
done
`;

/**
 * The scheduler, a Python 3 script (standard library only) in LiteLLM's image: `python3 -c SCHEDULER`, with
 * its settings as JSON in LLMSTACK_BACKUP: root, hour, minute, stack, timeout (seconds a backup may take),
 * port, images (store → {image, version}, for the manifest), artefacts (store → what it is), steps (store →
 * {argv, dir}: the steps it runs itself; the runners run the others). Metrics (text format 0.0.4,
 * https://prometheus.io/docs/instrumenting/exposition_formats/): llmstack_backup_last_success_timestamp_seconds,
 * llmstack_backup_last_failure_timestamp_seconds, llmstack_backup_last_run_success (1 or 0),
 * llmstack_backup_last_duration_seconds, llmstack_backup_complete (complete backups kept).
 */
export const SCHEDULER_SCRIPT = String.raw`
import datetime, hashlib, http.server, json, os, shutil, subprocess, sys, threading, time

cfg = json.loads(os.environ["LLMSTACK_BACKUP"])
root = cfg["root"]
state = {"success": 0.0, "failure": 0.0, "ok": 1, "duration": 0.0}
stores = ["postgres", "redis", "qdrant", "object-store"]

def log(msg):
    sys.stdout.write(datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") + " " + msg + "\n")
    sys.stdout.flush()

def complete():
    return sorted(d for d in os.listdir(root) if "." not in d and os.path.isfile(os.path.join(root, d, "manifest.json")))

def metrics():
    lines = []
    for name, kind, value, text in [
        ("llmstack_backup_last_success_timestamp_seconds", "gauge", state["success"], "When the last scheduled backup completed (0: none yet)."),
        ("llmstack_backup_last_failure_timestamp_seconds", "gauge", state["failure"], "When the last scheduled backup failed (0: none)."),
        ("llmstack_backup_last_run_success", "gauge", state["ok"], "1 when the last scheduled backup completed, 0 when it failed."),
        ("llmstack_backup_last_duration_seconds", "gauge", state["duration"], "How long the last scheduled backup took."),
        ("llmstack_backup_complete", "gauge", len(complete()), "Complete backups in the backup directory."),
    ]:
        lines += ["# HELP " + name + " " + text, "# TYPE " + name + " " + kind, name + " " + repr(float(value))]
    return ("\n".join(lines) + "\n").encode()

class Metrics(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = metrics() if self.path == "/metrics" else b"not found\n"
        self.send_response(200 if self.path == "/metrics" else 404)
        self.send_header("content-type", "text/plain; version=0.0.4")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

def run_local(part, store):
    step = cfg["steps"][store]
    shutil.rmtree(step["dir"], ignore_errors=True)
    os.makedirs(step["dir"])
    with open(os.path.join(part, store + ".log"), "wb") as out:
        code = subprocess.call(step["argv"], stdout=out, stderr=subprocess.STDOUT)
    if code == 0:
        shutil.copytree(step["dir"], os.path.join(part, store), dirs_exist_ok=True)
    shutil.rmtree(step["dir"], ignore_errors=True)
    open(os.path.join(part, store + (".done" if code == 0 else ".failed")), "w").close()

def backup(now):
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    part = os.path.join(root, stamp + ".partial")
    os.makedirs(part)
    with open(os.path.join(part, "request"), "w") as f:
        f.write(stamp + "\n")
    for store in sorted(cfg["steps"]):
        run_local(part, store)
    deadline = time.monotonic() + cfg["timeout"]
    while not all(os.path.exists(os.path.join(part, s + ".done")) or os.path.exists(os.path.join(part, s + ".failed")) for s in stores):
        if time.monotonic() > deadline:
            break
        time.sleep(5)
    failed = [s for s in stores if not os.path.exists(os.path.join(part, s + ".done"))]
    if failed:
        os.rename(part, os.path.join(root, stamp + ".failed"))
        raise RuntimeError("no backup of " + ", ".join(failed) + " (see " + stamp + ".failed/<store>.log)")
    entries = {}
    for s in stores:
        files = []
        for dirpath, _, names in sorted(os.walk(os.path.join(part, s))):
            for n in sorted(names):
                p = os.path.join(dirpath, n)
                files.append({"file": os.path.relpath(p, part).replace(os.sep, "/"), "size": os.path.getsize(p), "sha256": sha256(p)})
        entries[s] = {"image": cfg["images"][s]["image"], "version": cfg["images"][s]["version"], "artefact": cfg["artefacts"][s], "files": files}
    manifest = {"format": 1, "stack": cfg["stack"], "time": now.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "stores": entries}
    for s in stores:
        for suffix in (".done", ".log"):
            os.remove(os.path.join(part, s + suffix))
    os.remove(os.path.join(part, "request"))
    with open(os.path.join(part, "manifest.json"), "w") as f:
        f.write(json.dumps(manifest, indent=2) + "\n")
    os.rename(part, os.path.join(root, stamp))
    return stamp

def next_time(now):
    t = now.replace(hour=cfg["hour"], minute=cfg["minute"], second=0, microsecond=0)
    return t if t > now else t + datetime.timedelta(days=1)

def main():
    os.makedirs(root, exist_ok=True)
    done = complete()
    if done:
        state["success"] = datetime.datetime.strptime(done[-1], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
    else:
        # No backup yet: the schedule starts now, so BackupMissing waits its interval before it fires.
        state["success"] = time.time()
    server = http.server.ThreadingHTTPServer(("0.0.0.0", cfg["port"]), Metrics)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while True:
        at = next_time(datetime.datetime.now(datetime.timezone.utc))
        log("next backup at " + at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        while datetime.datetime.now(datetime.timezone.utc) < at:
            time.sleep(min(60, max(1, (at - datetime.datetime.now(datetime.timezone.utc)).total_seconds())))
        start = time.time()
        try:
            stamp = backup(datetime.datetime.now(datetime.timezone.utc))
            state["success"], state["ok"] = time.time(), 1
            log("backup " + stamp + " complete")
        except Exception as e:
            state["failure"], state["ok"] = time.time(), 0
            log("backup failed: " + str(e))
        state["duration"] = time.time() - start

main()
`;
