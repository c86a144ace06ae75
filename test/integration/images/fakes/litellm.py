#!/usr/bin/python3
"""Stand-in for the LiteLLM proxy CLI (`litellm --config ...`), for the integration test.

What it keeps of the real proxy: it reads the --config file (YAML) as the proxy does, resolving
`os.environ/NAME` values; it will not serve until the database in general_settings.database_url accepts
connections (the proxy migrates its schema there at start); every /v1 route needs the master key as a
Bearer token; a chat completion for a model_list entry with a `hosted_vllm/<name>` model is sent to that
entry's api_base + /chat/completions as <name> with its api_key, and the upstream answer is returned.
/health/liveliness answers without a key. It keeps no spend logs and does no routing beyond that.
"""
import argparse
import json
import os
import socket
import sys
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
    models = {}
    for entry in config.get("model_list") or []:
        params = {k: resolve(v) for k, v in entry["litellm_params"].items()}
        provider, _, upstream = params["model"].partition("/")
        if provider != "hosted_vllm":
            sys.exit("litellm stand-in: only hosted_vllm models are implemented, not %s" % params["model"])
        models[entry["model_name"]] = dict(params, upstream=upstream)
    database_url = resolve(settings.get("database_url")) or os.environ.get("DATABASE_URL")
    if database_url:
        wait_for_database(database_url)

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
            if self.path in ("/v1/models", "/models"):
                if self.authorized():
                    data = [{"id": name, "object": "model", "owned_by": "openai"} for name in models]
                    self.reply(200, {"object": "list", "data": data})
                return None
            return self.reply(404, {"detail": "Not Found"})

        def do_POST(self):
            if self.path not in ("/v1/chat/completions", "/chat/completions"):
                return self.reply(404, {"detail": "Not Found"})
            if not self.authorized():
                return None
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            entry = models.get(body.get("model"))
            if entry is None:
                message = "Invalid model name passed in model=%s" % body.get("model")
                return self.reply(400, {"error": {"message": message, "type": "invalid_request_error", "code": "400"}})
            upstream = dict(body, model=entry["upstream"])
            request = urllib.request.Request(
                entry["api_base"].rstrip("/") + "/chat/completions",
                data=json.dumps(upstream).encode(),
                headers={"Content-Type": "application/json", "Authorization": "Bearer " + entry["api_key"]},
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as r:
                    answer = json.load(r)
            except urllib.error.HTTPError as e:
                detail = e.read().decode(errors="replace")
                return self.reply(e.code, {"error": {"message": "hosted_vllm: " + detail, "code": str(e.code)}})
            except OSError as e:
                return self.reply(500, {"error": {"message": "hosted_vllm: %r" % e, "code": "500"}})
            answer["model"] = body.get("model")
            return self.reply(200, answer)

        def log_message(self, fmt, *a):
            sys.stderr.write("litellm stand-in: " + (fmt % a) + "\n")

    print("litellm stand-in: %d model(s) from %s on %s:%d" % (len(models), args.config, args.host, args.port), flush=True)
    ThreadingHTTPServer((args.host, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
