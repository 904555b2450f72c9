#!/usr/bin/python3
"""webhook-check.py: independent checks of webhook deliveries for the Swift test suites.

An oracle that shares no code with akua-driftd: Python's hmac/hashlib verify the Standard Webhooks
signature, and python3-jsonschema validates the body against deploy/webhook-payload.schema.json.

Usage: WEBHOOK_CHECK_SECRET=whsec_... webhook-check.py SCHEMA.json
Prints `ready` once the schema is loaded, then answers each stdin line
  {"id": "...", "timestamp": "...", "signature": "...", "body": "<base64>"}
with one line {"signature_ok": true|false, "errors": ["...", ...]} (errors: why the body is not valid).
`--self-test` checks the Standard Webhooks specification's published example and exits.
"""
import base64
import hashlib
import hmac
import json
import os
import sys


def key_of(secret):
    text = secret.strip()
    if text.startswith("whsec_"):
        text = text[len("whsec_"):]
    return base64.b64decode(text, validate=True)


def signature_ok(key, msg_id, timestamp, body, header):
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()
    for candidate in header.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


def self_test():
    # https://github.com/standard-webhooks/standard-webhooks (libraries/python/tests/test_webhooks.py, test_sign_function)
    key = key_of("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    body = b'{"test": 2432232314}'
    assert signature_ok(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body, good)
    assert not signature_ok(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265331", body, good)
    print("self-test ok")


def main():
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return
    import jsonschema  # Debian: python3-jsonschema

    with open(sys.argv[1], encoding="utf-8") as handle:
        schema = json.load(handle)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    key = key_of(os.environ["WEBHOOK_CHECK_SECRET"])
    print("ready", flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        body = base64.b64decode(request["body"])
        errors = []
        try:
            instance = json.loads(body)
        except ValueError as error:
            errors.append(f"not JSON: {error}")
        else:
            for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
                path = "/".join(str(part) for part in error.absolute_path) or "(body)"
                errors.append(f"{path}: {error.message}"[:400])
        ok = signature_ok(key, request["id"], request["timestamp"], body, request["signature"])
        print(json.dumps({"signature_ok": ok, "errors": errors}), flush=True)


if __name__ == "__main__":
    main()
