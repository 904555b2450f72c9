#!/usr/bin/env python3
"""Webhook receiver for the system test: verifies Standard Webhooks signatures.

Listens on 127.0.0.1 (port 0 = any free port) and prints exactly one line,
`webhook-receiver listening on http://127.0.0.1:PORT/`, once it accepts requests.
Every POST whose `webhook-signature` verifies against the secret (HMAC-SHA256 of
"{webhook-id}.{webhook-timestamp}.{body}", key = base64 part of `whsec_...`) and
whose timestamp is within 5 minutes is answered 204 and appended to EVENTS as one
JSON line {"webhook_id", "timestamp", "path", "payload"}. Anything else is answered
401 or 400 and appended to EVENTS.rejected with the reason.

usage: webhook_receiver.py --secret-file FILE --events FILE [--port N]
"""
import argparse
import base64
import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Lock

TOLERANCE_SECONDS = 300


def load_key(path):
    with open(path, encoding="ascii") as f:
        secret = f.read().strip()
    if not secret.startswith("whsec_"):
        sys.exit(f"webhook-receiver: {path}: secret does not start with whsec_")
    return base64.b64decode(secret[len("whsec_"):])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--secret-file", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    key = load_key(args.secret_file)
    lock = Lock()

    def record(path, entry):
        with lock, open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def reject(self, status, reason, extra=None):
            entry = {"reason": reason, "path": self.path, "status": status}
            entry.update(extra or {})
            record(args.events + ".rejected", entry)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            msg_id = self.headers.get("webhook-id")
            stamp = self.headers.get("webhook-timestamp")
            signatures = self.headers.get("webhook-signature")
            if not (msg_id and stamp and signatures):
                return self.reject(400, "missing webhook-id, webhook-timestamp or webhook-signature")
            try:
                stamp_value = int(stamp)
            except ValueError:
                return self.reject(400, f"bad webhook-timestamp {stamp!r}")
            if abs(time.time() - stamp_value) > TOLERANCE_SECONDS:
                return self.reject(401, f"timestamp {stamp} outside tolerance")
            signed = msg_id.encode() + b"." + stamp.encode() + b"." + body
            expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
            valid = False
            for candidate in signatures.split(" "):
                version, _, value = candidate.partition(",")
                if version == "v1" and hmac.compare_digest(value, expected):
                    valid = True
            if not valid:
                return self.reject(401, "no valid v1 signature", {"webhook_id": msg_id})
            try:
                payload = json.loads(body)
            except ValueError:
                return self.reject(400, "body is not JSON", {"webhook_id": msg_id})
            record(args.events, {
                "webhook_id": msg_id, "timestamp": stamp_value, "path": self.path, "payload": payload,
            })
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, fmt, *fargs):
            sys.stderr.write("webhook-receiver: " + (fmt % fargs) + "\n")

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"webhook-receiver listening on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
