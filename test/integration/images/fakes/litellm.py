#!/usr/bin/python3
"""Stand-in for the LiteLLM proxy CLI (`litellm --config ...`), for the integration test.

What it keeps of the real proxy: it reads the --config file (YAML) as the proxy does, resolving
`os.environ/NAME` values; it will not serve until the database in general_settings.database_url accepts
connections (the proxy migrates its schema there at start); every /v1 route and /health need the master key as
a Bearer token; /health/liveliness answers without a key. A chat completion for a model_name is sent to one of
that name's deployments (model_list entries with a `hosted_vllm/<name>` model) at its api_base +
/chat/completions as <name> with its api_key, and the upstream answer is returned (its `id` included).

Routing over several deployments of one model_name, as LiteLLM documents and implements it (the sections each
key is read from are src/facts/litellmRouter.ts's; a router key in router_settings wins over litellm_settings):
- routing_strategy: only "simple-shuffle" (the default) is implemented, any other refuses to start: a deployment
  picked at random among the healthy ones, equal weights (litellm/router_strategy/simple_shuffle.py:
  "Returns a random deployment from the list of healthy deployments");
- num_retries (default 3): a failed call (no connection, or a status LiteLLM retries: 408, 409, 429, >= 500) is
  tried again on the model_name, picking again among the healthy deployments;
- cooldowns (litellm/router_utils/cooldown_handlers.py, read at BerriAI/litellm
  1fa201c73311632f2204e3056a9b8702b07548fe): a failed call whose error is a connection error (LiteLLM's
  APIConnectionError: nothing answered) or a 4xx other than 401, 404, 408 and 429 never cools a deployment down.
  Otherwise, with allowed_fails unset or at LiteLLM's default 3 (litellm.allowed_fails) and no
  allowed_fails_policy, a deployment of a model_name with several deployments rests for cooldown_time seconds
  (default 5) after a 429, or when its failures are more than half of its calls in the current minute; any
  deployment rests after a status LiteLLM does not retry (401, 404). allowed_fails set to another value
  replaces that with "more than allowed_fails failures before the rest". When every deployment rests, the
  request fails with 429 "No deployments available";
- background_health_checks with health_check_interval (default 300 s) and enable_health_check_routing
  (docs/my-website/docs/proxy/health_check_routing.md): every interval each deployment gets a one-message chat
  completion ("test from litellm"); one that fails is left out of routing until a later check passes, unless
  every deployment failed (then all are tried); GET /health returns the last results (healthy_endpoints,
  unhealthy_endpoints and their counts) instead of calling the models.
It keeps no spend logs and shares no state (no Redis).
"""
import argparse
import json
import os
import random
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonhttp

import yaml


def resolve(value):
    if isinstance(value, str) and value.startswith("os.environ/"):
        name = value[len("os.environ/"):]
        if name not in os.environ:
            sys.exit("litellm stand-in: %s names the environment variable %s, which is not set" % (value, name))
        return os.environ[name]
    return value


def wait_for_database(url, seconds=60):
    parsed = urllib.parse.urlparse(url)
    host, port = parsed.hostname, parsed.port or 5432
    deadline = time.time() + seconds
    while True:
        try:
            socket.create_connection((host, port), timeout=3).close()
            print("litellm stand-in: database %s:%d accepts connections" % (host, port), flush=True)
            return
        except OSError as e:
            if time.time() > deadline:
                sys.exit("litellm stand-in: database %s:%d unreachable: %s" % (host, port, e))
            time.sleep(1)


RETRIED_STATUS = (408, 409, 429)


def setting(config, key, default, sections):
    """A setting from the first of `sections` that has it."""
    for section in sections:
        values = config.get(section) or {}
        if key in values:
            return values[key]
    return default


class Deployment:
    def __init__(self, index, entry):
        params = {k: resolve(v) for k, v in entry["litellm_params"].items()}
        provider, _, upstream = params["model"].partition("/")
        if provider != "hosted_vllm":
            sys.exit("litellm stand-in: only hosted_vllm models are implemented, not %s" % params["model"])
        self.model_name = entry["model_name"]
        self.id = str((entry.get("model_info") or {}).get("id") or "deployment-%d" % index)
        self.api_base = params["api_base"]
        self.api_key = params.get("api_key") or ""
        self.upstream = upstream
        self.minute = None
        self.successes = 0
        self.failures = 0
        self.cool_until = 0.0
        self.counted = 0
        self.counted_until = 0.0
        self.unhealthy = False

    def public(self):
        return {"model": "hosted_vllm/" + self.upstream, "api_base": self.api_base, "model_id": self.id}

    def call(self, body, timeout=60):
        request = urllib.request.Request(
            self.api_base.rstrip("/") + "/chat/completions",
            data=json.dumps(dict(body, model=self.upstream)).encode(),
            headers={"Content-Type": "application/json", "Authorization": "Bearer " + self.api_key},
        )
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return json.load(r)


class Router:
    def __init__(self, config):
        router = ("router_settings", "litellm_settings")
        general = ("general_settings",)
        self.strategy = setting(config, "routing_strategy", "simple-shuffle", router)
        if self.strategy != "simple-shuffle":
            sys.exit("litellm stand-in: routing_strategy %s is not implemented (only simple-shuffle)" % self.strategy)
        self.num_retries = int(setting(config, "num_retries", 3, router))
        self.cooldown_time = float(setting(config, "cooldown_time", 5, router))
        self.allowed_fails = setting(config, "allowed_fails", None, router)
        self.background = bool(setting(config, "background_health_checks", False, general))
        self.interval = float(setting(config, "health_check_interval", 300, general))
        self.health_routing = bool(setting(config, "enable_health_check_routing", False, general))
        self.deployments = [Deployment(i, e) for i, e in enumerate(config.get("model_list") or [])]
        self.lock = threading.Lock()
        self.results = None

    def names(self):
        return list(dict.fromkeys(d.model_name for d in self.deployments))

    def pick(self, model_name):
        with self.lock:
            group = [d for d in self.deployments if d.model_name == model_name]
            if self.health_routing:
                healthy = [d for d in group if not d.unhealthy]
                group = healthy or group
            now = time.time()
            group = [d for d in group if d.cool_until <= now]
            return random.choice(group) if group else None

    def record(self, d, ok, status=None, connection=False):
        """Counts a call of d; after a failure, cools d down as LiteLLM's rule says (see the module's text)."""
        with self.lock:
            minute = int(time.time() // 60)
            if d.minute != minute:
                d.minute, d.successes, d.failures = minute, 0, 0
            if ok:
                d.successes += 1
                return
            d.failures += 1
            if connection or (400 <= status < 500 and status not in (401, 404, 408, 429)):
                return
            alone = sum(1 for x in self.deployments if x.model_name == d.model_name) == 1
            if self.allowed_fails is not None and int(self.allowed_fails) != 3:
                # LiteLLM's failed_calls counter: it lapses cooldown_time seconds after the last failure it kept.
                now = time.time()
                counted = d.counted if d.counted_until > now else 0
                cool = counted + 1 > int(self.allowed_fails)
                if not cool:
                    d.counted, d.counted_until = counted + 1, now + self.cooldown_time
            else:
                cool = (
                    (status == 429 and not alone)
                    or (not alone and d.failures / (d.successes + d.failures) > 0.5)
                    or status in (401, 404)
                )
            if cool:
                d.cool_until = time.time() + self.cooldown_time
                print("litellm stand-in: %s cools down for %gs" % (d.id, self.cooldown_time), flush=True)

    def complete(self, model_name, body):
        """Returns (status, answer)."""
        last = (500, {"error": {"message": "no call was made", "code": "500"}})
        for _ in range(self.num_retries + 1):
            d = self.pick(model_name)
            if d is None:
                message = "No deployments available for selected model, Try again in %g seconds" % self.cooldown_time
                return 429, {"error": {"message": message, "type": "None", "code": "429"}}
            try:
                answer = d.call(body)
            except urllib.error.HTTPError as e:
                detail = e.read().decode(errors="replace")
                last = (e.code, {"error": {"message": "hosted_vllm: " + detail, "code": str(e.code)}})
                retried = e.code in RETRIED_STATUS or e.code >= 500
                self.record(d, False, status=e.code)
                if not retried:
                    return last
                continue
            except OSError as e:
                last = (500, {"error": {"message": "hosted_vllm: %r (%s)" % (e, d.id), "code": "500"}})
                self.record(d, False, connection=True)
                continue
            self.record(d, True)
            answer["model"] = model_name
            return 200, answer
        return last

    def check(self):
        healthy, unhealthy = [], []
        for d in self.deployments:
            try:
                d.call({"messages": [{"role": "user", "content": "test from litellm"}], "max_tokens": 1}, timeout=10)
                ok = True
            except (OSError, ValueError):
                ok = False
            with self.lock:
                d.unhealthy = not ok
            (healthy if ok else unhealthy).append(d.public())
        self.results = {
            "healthy_endpoints": healthy,
            "unhealthy_endpoints": unhealthy,
            "healthy_count": len(healthy),
            "unhealthy_count": len(unhealthy),
        }
        return self.results

    def start_background(self):
        def loop():
            while True:
                self.check()
                time.sleep(self.interval)

        threading.Thread(target=loop, daemon=True).start()


def main():
    p = argparse.ArgumentParser(prog="litellm")
    p.add_argument("--config", required=True)
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=4000)
    p.add_argument("--num_workers", type=int, default=1)
    p.add_argument("--detailed_debug", action="store_true")
    args = p.parse_args()
    with open(args.config) as f:
        config = yaml.safe_load(f)
    settings = config.get("general_settings") or {}
    master_key = resolve(settings.get("master_key"))
    if not master_key or not master_key.startswith("sk-"):
        sys.exit("litellm stand-in: the master key must start with sk-")
    router = Router(config)
    database_url = resolve(settings.get("database_url")) or os.environ.get("DATABASE_URL")
    if database_url:
        wait_for_database(database_url)
    if router.background:
        router.start_background()

    class Handler(BaseHTTPRequestHandler):
        def reply(self, status, body):
            jsonhttp.reply(self, status, body)

        def authorized(self):
            if self.headers.get("Authorization") == "Bearer " + master_key:
                return True
            message = "Authentication Error, Invalid proxy server token passed."
            self.reply(401, {"error": {"message": message, "type": "auth_error", "param": "None", "code": "401"}})
            return False

        def do_GET(self):
            if self.path == "/health/liveliness":
                return self.reply(200, "I'm alive!")
            if self.path == "/health":
                if self.authorized():
                    self.reply(200, router.results if router.background and router.results else router.check())
                return None
            if self.path in ("/v1/models", "/models"):
                if self.authorized():
                    data = [{"id": name, "object": "model", "owned_by": "openai"} for name in router.names()]
                    self.reply(200, {"object": "list", "data": data})
                return None
            return self.reply(404, {"detail": "Not Found"})

        def do_POST(self):
            if self.path not in ("/v1/chat/completions", "/chat/completions"):
                return self.reply(404, {"detail": "Not Found"})
            if not self.authorized():
                return None
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if body.get("model") not in router.names():
                message = "Invalid model name passed in model=%s" % body.get("model")
                return self.reply(400, {"error": {"message": message, "type": "invalid_request_error", "code": "400"}})
            status, answer = router.complete(body.get("model"), body)
            return self.reply(status, answer)

        def log_message(self, fmt, *a):
            sys.stderr.write("litellm stand-in: " + (fmt % a) + "\n")

    print(
        "litellm stand-in: %d deployment(s) of %d model(s) from %s on %s:%d"
        % (len(router.deployments), len(router.names()), args.config, args.host, args.port),
        flush=True,
    )
    ThreadingHTTPServer((args.host, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
