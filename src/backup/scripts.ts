/**
 * The programs backup and restore steps run inside their one-shot containers (./steps.ts).
 */

/**
 * A Python 3 script (standard library only) that runs in the LiteLLM image: `<store>-<action> DIR`.
 *
 * Qdrant, per collection, with its snapshot API (https://api.qdrant.tech/api-reference/snapshots):
 * GET /collections lists them; POST /collections/{name}/snapshots?wait=true creates a snapshot and
 * answers its name; GET /collections/{name}/snapshots/{snapshot} downloads it; DELETE removes it from
 * the server's disk again. Restore uploads each file to POST /collections/{name}/snapshots/upload?
 * wait=true&priority=snapshot (multipart field "snapshot"), which creates the collection when it does not
 * exist and otherwise replaces its data with the snapshot's ("Recover from an uploaded snapshot").
 * The key goes in the `api-key` header.
 *
 * The object store, with the S3 API signed by AWS Signature Version 4 (https://docs.aws.amazon.com/
 * AmazonS3/latest/API/sig-v4-header-based-auth.html): ListBuckets (GET /), ListObjectsV2 (GET
 * /{bucket}?list-type=2, following NextContinuationToken), GetObject; restore does CreateBucket (PUT
 * /{bucket}; an existing bucket of its own is kept) and PutObject. The artefact is one tar file: data/<n>
 * members and an index.json naming each one's bucket and key (keys need not be valid paths).
 */
export const BACKUP_CLIENT = String.raw`
import datetime, hashlib, hmac, io, json, os, shutil, sys, tarfile, urllib.error, urllib.parse, urllib.request
import xml.etree.ElementTree as ET

def fail(msg):
    sys.stderr.write("llmstack backup client: " + msg + "\n")
    sys.exit(1)

def call(method, url, headers, body=None, to=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=3600) as r:
            if to is not None:
                shutil.copyfileobj(r, to, 1 << 20)
                return r.status, b""
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        fail(method + " " + url + ": " + str(getattr(e, "reason", e)))

def q(text):
    return urllib.parse.quote(text, safe="")

def qdrant(method, path, body=None, ctype=None, to=None, length=None):
    headers = {}
    if os.environ.get("QDRANT_API_KEY"):
        headers["api-key"] = os.environ["QDRANT_API_KEY"]
    if ctype:
        headers["content-type"] = ctype
    if length is not None:
        headers["content-length"] = str(length)
    status, data = call(method, os.environ["QDRANT_URL"] + path, headers, body, to)
    if status // 100 != 2:
        fail("Qdrant answered " + str(status) + " to " + method + " " + path + ": " + data[:300].decode("utf-8", "replace"))
    return data

def qdrant_backup(out):
    names = sorted(c["name"] for c in json.loads(qdrant("GET", "/collections"))["result"]["collections"])
    for name in names:
        snap = json.loads(qdrant("POST", "/collections/" + q(name) + "/snapshots?wait=true"))["result"]["name"]
        with open(os.path.join(out, q(name) + ".snapshot"), "wb") as f:
            qdrant("GET", "/collections/" + q(name) + "/snapshots/" + q(snap), to=f)
        qdrant("DELETE", "/collections/" + q(name) + "/snapshots/" + q(snap) + "?wait=true")
        print("qdrant: collection " + name)
    print("qdrant: " + str(len(names)) + " collections")

def qdrant_restore(src):
    files = sorted(f for f in os.listdir(src) if f.endswith(".snapshot"))
    for f in files:
        name = urllib.parse.unquote(f[: -len(".snapshot")])
        path = os.path.join(src, f)
        boundary = "llmstack" + hashlib.sha256(f.encode()).hexdigest()[:24]
        head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"snapshot\"; filename=\"" + q(f)
                + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
        tail = ("\r\n--" + boundary + "--\r\n").encode()
        def body():
            yield head
            with open(path, "rb") as fh:
                while True:
                    chunk = fh.read(1 << 20)
                    if not chunk:
                        break
                    yield chunk
            yield tail
        qdrant("POST", "/collections/" + q(name) + "/snapshots/upload?wait=true&priority=snapshot", body(),
               "multipart/form-data; boundary=" + boundary, length=len(head) + os.path.getsize(path) + len(tail))
        print("qdrant: collection " + name + " recovered")
    print("qdrant: " + str(len(files)) + " collections")

def s3(method, bucket="", key="", query=None, body=b"", to=None):
    ep = urllib.parse.urlsplit(os.environ["S3_ENDPOINT"])
    path = "/" + (urllib.parse.quote(bucket, safe="") if bucket else "")
    if key:
        path += "/" + urllib.parse.quote(key, safe="/")
    qs = "&".join(sorted(q(k) + "=" + q(v) for k, v in (query or {}).items()))
    now = datetime.datetime.now(datetime.timezone.utc)
    amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    region = os.environ.get("S3_REGION", "us-east-1")
    digest = hashlib.sha256(body).hexdigest()
    headers = {"host": ep.netloc, "x-amz-content-sha256": digest, "x-amz-date": amz}
    signed = ";".join(sorted(headers))
    canonical = "\n".join([method, path, qs, "".join(h + ":" + headers[h] + "\n" for h in sorted(headers)), signed, digest])
    scope = day + "/" + region + "/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + os.environ["S3_SECRET_KEY"]).encode()
    for part in (day, region, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = ("AWS4-HMAC-SHA256 Credential=" + os.environ["S3_ACCESS_KEY"] + "/" + scope
                                + ", SignedHeaders=" + signed + ", Signature=" + sig)
    url = ep.scheme + "://" + ep.netloc + path + ("?" + qs if qs else "")
    status, data = call(method, url, headers, body if method == "PUT" else None, to)
    if status // 100 != 2:
        fail("the object store answered " + str(status) + " to " + method + " " + path + ": " + data[:300].decode("utf-8", "replace"))
    return data

def tag(el):
    return el.tag.rsplit("}", 1)[-1]

def texts(xml, name):
    return [el.text or "" for el in ET.fromstring(xml).iter() if tag(el) == name]

def objects_backup(out):
    index = []
    with tarfile.open(os.path.join(out, "objects.tar"), "w") as tar:
        for bucket in sorted(texts(s3("GET"), "Name")):
            index.append({"bucket": bucket})
            token = None
            while True:
                query = {"list-type": "2"}
                if token:
                    query["continuation-token"] = token
                page = s3("GET", bucket, query=query)
                for key in texts(page, "Key"):
                    member = "data/" + str(len(index))
                    tmp = os.path.join(out, "object.part")
                    with open(tmp, "wb") as f:
                        s3("GET", bucket, key, to=f)
                    tar.add(tmp, arcname=member, recursive=False)
                    os.remove(tmp)
                    index.append({"bucket": bucket, "key": key, "member": member})
                more = texts(page, "IsTruncated")
                token = (texts(page, "NextContinuationToken") or [None])[0]
                if not more or more[0] != "true" or not token:
                    break
        data = json.dumps(index).encode()
        info = tarfile.TarInfo("index.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    buckets = sum(1 for e in index if "key" not in e)
    print("object-store: " + str(buckets) + " buckets, " + str(len(index) - buckets) + " objects")

def objects_restore(src):
    existing = set(texts(s3("GET"), "Name"))
    with tarfile.open(os.path.join(src, "objects.tar"), "r") as tar:
        index = json.loads(tar.extractfile("index.json").read())
        for e in index:
            if "key" not in e:
                if e["bucket"] not in existing:
                    s3("PUT", e["bucket"])
                continue
            s3("PUT", e["bucket"], e["key"], body=tar.extractfile(e["member"]).read())
    buckets = sum(1 for e in index if "key" not in e)
    print("object-store: " + str(buckets) + " buckets, " + str(len(index) - buckets) + " objects restored")

ACTIONS = {"qdrant-backup": qdrant_backup, "qdrant-restore": qdrant_restore,
           "object-store-backup": objects_backup, "object-store-restore": objects_restore}
if len(sys.argv) != 3 or sys.argv[1] not in ACTIONS:
    fail("usage: <" + "|".join(sorted(ACTIONS)) + "> DIR")
os.makedirs(sys.argv[2], exist_ok=True)
ACTIONS[sys.argv[1]](sys.argv[2])
`;

/**
 * Loads an RDB into Redis's volume so that Redis really serves it, in the Redis image with the stack's
 * Redis stopped: `sh -c SCRIPT redis-restore FILE`. The stack runs with `appendonly yes`, and at start Redis
 * loads the AOF and ignores dump.rdb whenever AOF is on (https://redis.io/docs/latest/operate/oss_and_stack/
 * management/persistence/, "How I can switch to AOF, if I'm currently using dump.rdb snapshots?"), so an
 * RDB dropped beside the old (or a new, empty) appendonlydir comes back empty. The documented way: start
 * with AOF off so the RDB is loaded, `CONFIG SET appendonly yes`, wait until the AOF rewrite has finished
 * (INFO persistence: aof_rewrite_in_progress:0, aof_rewrite_scheduled:0, aof_last_bgrewrite_status:ok),
 * then stop. The server listens on 127.0.0.1 only, in a container with no network. The files it replaces
 * are moved aside first and put back when any step fails, so a failed restore leaves Redis's data as it was.
 */
export const REDIS_RESTORE_SCRIPT = String.raw`set -eu
rdb="$1"
cd /data
old=/data/.llmstack-before-restore
rm -rf "$old"
mkdir "$old"
if [ -e appendonlydir ]; then mv appendonlydir "$old/"; fi
if [ -e appendonly.aof ]; then mv appendonly.aof "$old/"; fi
if [ -e dump.rdb ]; then mv dump.rdb "$old/"; fi
pid=""
trap 'status=$?; if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; if [ "$status" -ne 0 ]; then rm -rf appendonlydir appendonly.aof dump.rdb; mv "$old"/* . 2>/dev/null || true; echo "the Redis data files were put back as they were" >&2; fi; rm -rf "$old"' EXIT
cp "$rdb" dump.rdb
chown -R redis:redis /data
redis-server --port 6379 --bind 127.0.0.1 --dir /data --dbfilename dump.rdb --appendonly no --save '' &
pid=$!
n=""
until redis-cli -p 6379 ping 2>/dev/null | grep -q PONG; do
  n="$n."; [ "${"${#n}"}" -lt 600 ] || { echo "redis did not load the RDB in 300 s" >&2; exit 1; }
  kill -0 "$pid" 2>/dev/null || { echo "redis-server stopped while loading the RDB" >&2; exit 1; }
  sleep 0.5
done
keys=$(redis-cli -p 6379 dbsize)
redis-cli -p 6379 config set appendonly yes | grep -q OK
n=""
while :; do
  info=$(redis-cli -p 6379 info persistence)
  if echo "$info" | grep -q '^aof_rewrite_in_progress:0' && echo "$info" | grep -q '^aof_rewrite_scheduled:0' &&
    echo "$info" | grep -q '^aof_enabled:1'; then break; fi
  n="$n."; [ "${"${#n}"}" -lt 1200 ] || { echo "the AOF rewrite did not finish in 600 s" >&2; exit 1; }
  sleep 0.5
done
echo "$info" | grep -q '^aof_last_bgrewrite_status:ok' || { echo "the AOF rewrite failed: $info" >&2; exit 1; }
redis-cli -p 6379 shutdown >/dev/null 2>&1 || true
wait "$pid" || true
pid=""
[ -d appendonlydir ] || { echo "no appendonlydir after the AOF rewrite" >&2; exit 1; }
chown -R redis:redis /data
echo "redis: $keys keys loaded, append-only file rewritten"
`;
