#!/usr/bin/python3
"""Stand-in for vLLM's `vllm serve` (OpenAI-compatible server), for the integration test.

What it keeps of the real server: it refuses a flag that `vllm serve` does not have (the flag list of
test/fixtures/vllm/vllm-flags.txt, copied into the image) the way argparse does; with HF_HUB_OFFLINE=1 it
loads the model only from the Hugging Face cache under HF_HOME and exits when the model is not there;
VLLM_API_KEY (or --api-key) guards /v1 while /health and /metrics stay open; it answers /health, /metrics,
/v1/models, /v1/chat/completions and /v1/completions for --served-model-name only. It does not run a model:
every completion is "OK".

So a test can tell replicas apart, each answer's `id` carries the container's hostname
(`chatcmpl-<hostname>-<n>`, `cmpl-<hostname>-<n>`), and /metrics counts the requests it finished under
vLLM's own counter name, vllm:request_success_total (vllm/v1/metrics/loggers.py), labelled as vLLM labels it
(model_name, engine, finished_reason).
"""
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonhttp

FLAGS_FILE = "/usr/local/share/vllm-standin/vllm-flags.txt"


def fail(message, code=2):
    print("usage: vllm serve [model_tag] [options]\nvllm serve: error: " + message, file=sys.stderr)
    sys.exit(code)


def parse(argv):
    if not argv or argv[0] != "serve":
        fail("the stand-in only implements `vllm serve`")
    with open(FLAGS_FILE) as f:
        known = {line.strip() for line in f if line.startswith("--")}
    opts, positional, unknown = {}, [], []
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("--"):
            name, eq, value = a.partition("=")
            if name not in known:
                unknown.append(a)
            elif not eq:
                if i + 1 < len(args) and not args[i + 1].startswith("--"):
                    value = args[i + 1]
                    i += 1
                else:
                    value = True
            opts[name] = value
        else:
            positional.append(a)
        i += 1
    if unknown:
        fail("unrecognized arguments: " + " ".join(unknown))
    model = opts.get("--model") or (positional[0] if positional else None)
    if not model:
        fail("a model is required (positional model_tag or --model)")
    return model, opts


def cached(model):
    home = os.environ.get("HF_HOME", os.path.expanduser("~/.cache/huggingface"))
    snapshots = os.path.join(home, "hub", "models--" + model.replace("/", "--"), "snapshots")
    return os.path.isdir(snapshots) and any(os.scandir(snapshots))


def main():
    model, opts = parse(sys.argv[1:])
    served = opts.get("--served-model-name") or model
    api_key = opts.get("--api-key") or os.environ.get("VLLM_API_KEY")
    if os.environ.get("HF_HUB_OFFLINE") == "1" and not cached(model):
        print(
            "OSError: We couldn't connect to 'https://huggingface.co' to load the files, and couldn't find "
            "them in the cached files (HF_HUB_OFFLINE=1): %s is not in %s" % (model, os.environ.get("HF_HOME")),
            file=sys.stderr,
        )
        sys.exit(1)
    max_len = int(opts.get("--max-model-len") or 32768)
    replica = socket.gethostname()
    finished = {"count": 0}
    lock = threading.Lock()

    def finish():
        with lock:
            finished["count"] += 1
            return finished["count"]

    class Handler(BaseHTTPRequestHandler):
        def reply(self, status, body):
            jsonhttp.reply(self, status, body)

        def authorized(self):
            if not api_key or self.headers.get("Authorization") == "Bearer " + api_key:
                return True
            self.reply(401, {"error": "Unauthorized"})
            return False

        def do_GET(self):
            if self.path == "/health":
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/metrics":
                data = (
                    "# HELP vllm:request_success_total Count of successfully processed requests.\n"
                    "# TYPE vllm:request_success_total counter\n"
                    'vllm:request_success_total{engine="0",finished_reason="stop",model_name="%s"} %d.0\n'
                    % (served, finished["count"])
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            elif self.path == "/v1/models":
                if self.authorized():
                    card = {"id": served, "object": "model", "owned_by": "vllm", "root": model, "max_model_len": max_len}
                    self.reply(200, {"object": "list", "data": [card]})
            else:
                self.reply(404, {"detail": "Not Found"})

        def do_POST(self):
            if self.path not in ("/v1/chat/completions", "/v1/completions"):
                return self.reply(404, {"detail": "Not Found"})
            if not self.authorized():
                return None
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if body.get("model") != served:
                message = "The model `%s` does not exist." % body.get("model")
                return self.reply(404, {"error": {"message": message, "type": "NotFoundError", "code": 404}})
            if self.path == "/v1/completions":
                prompt = len(str(body.get("prompt", ""))) // 4 + 1
                n = finish()
                return self.reply(200, {
                    "id": "cmpl-%s-%d" % (replica, n),
                    "object": "text_completion",
                    "created": int(time.time()),
                    "model": served,
                    "choices": [{"index": 0, "text": "OK", "logprobs": None, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": prompt, "completion_tokens": 1, "total_tokens": prompt + 1},
                })
            prompt = sum(len(str(m.get("content", ""))) // 4 + 1 for m in body.get("messages", []))
            n = finish()
            return self.reply(200, {
                "id": "chatcmpl-%s-%d" % (replica, n),
                "object": "chat.completion",
                "created": int(time.time()),
                "model": served,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "OK"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": 1, "total_tokens": prompt + 1},
            })

        def log_message(self, fmt, *args):
            sys.stderr.write("vllm stand-in: " + (fmt % args) + "\n")

    host = opts.get("--host") or "0.0.0.0"
    port = int(opts.get("--port") or 8000)
    print("vllm stand-in: serving %s as %s on %s:%d" % (model, served, host, port), flush=True)
    ThreadingHTTPServer((host, port), Handler).serve_forever()


if __name__ == "__main__":
    main()
