#!/usr/bin/env python3
"""Stand-in receivers for Slack, Microsoft Teams and PagerDuty that check each request against the
service's documented payload shape, independently of akua-driftd's code:

  /slack      Slack incoming webhook (api.slack.com/messaging/webhooks, Block Kit reference): JSON with a
              non-empty `text` (<= 40000 chars: chat.postMessage truncates beyond); `blocks` <= 50;
              section text <= 3000 chars, <= 10 fields of <= 2000; header plain_text <= 150; context
              1..10 elements; block_id <= 255. Answers 200 "ok", or 400 "invalid_blocks"/"no_text" like Slack.
  /teams      Teams Workflows webhook (learn.microsoft.com, "Create incoming webhooks with Workflows"):
              {"type": "message", "attachments": [{"contentType":
              "application/vnd.microsoft.card.adaptive", "content": AdaptiveCard}]}, <= 28 KB; card
              version 1.0..1.5 (Teams' Adaptive Card support); TextBlock needs `text` (weight
              Default|Lighter|Bolder, size Default|Small|Medium|Large|ExtraLarge), FactSet needs `facts`
              of {title, value}. Answers 202.
  /template   any JSON object (a `format = "template"` receiver; the test checks the fields).
  /pagerduty  PagerDuty Events API v2 (developer.pagerduty.com, "Send an Alert Event"): routing_key of 32
              characters, event_action trigger|acknowledge|resolve, dedup_key <= 255 (required unless
              trigger), trigger needs payload.summary (<= 1024), payload.source, payload.severity in
              critical|error|warning|info; timestamp ISO 8601; component/group/class strings;
              custom_details an object; only the documented top-level fields (routing_key, event_action,
              dedup_key, payload, images, links, client, client_url); <= 512 KB. Answers 202 / 400.

Usage: receiver-shapes.py LOGFILE. Prints "listening PORT", then appends one JSON line per request
({path, content_type, accepted, errors, body}) to LOGFILE.
   or: receiver-shapes.py --check: reads lines {"path", "content_type", "body": base64} on stdin and answers
       each with one line {"errors": [...]} (the same checks, without HTTP; used by the rendering tests).
"""
import base64
import datetime
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LOG = sys.argv[1] if len(sys.argv) > 1 else None
LOCK = threading.Lock()


def text_object(obj, limit, where, errors):
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        errors.append(f"{where}: not a text object")
        return
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        errors.append(f"{where}.text: missing or empty")
    elif len(text) > limit:
        errors.append(f"{where}.text: {len(text)} > {limit} characters")


def check_slack(body, errors):
    if not isinstance(body.get("text"), str) or not body["text"].strip():
        errors.append("no_text")
    elif len(body["text"]) > 40000:
        errors.append(f"text: {len(body['text'])} > 40000 characters (Slack truncates)")
    blocks = body.get("blocks", [])
    if not isinstance(blocks, list) or len(blocks) > 50:
        errors.append("invalid_blocks: blocks must be an array of at most 50")
        return
    for i, block in enumerate(blocks):
        kind = block.get("type")
        if "block_id" in block and (not isinstance(block["block_id"], str) or len(block["block_id"]) > 255):
            errors.append(f"blocks[{i}].block_id: not a string of at most 255 characters")
        if kind == "header":
            text = block.get("text")
            if not isinstance(text, dict) or text.get("type") != "plain_text":
                errors.append(f"blocks[{i}].text: a header needs a plain_text object")
            else:
                text_object(text, 150, f"blocks[{i}].text", errors)
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                errors.append(f"blocks[{i}]: section needs text or fields")
            if "text" in block:
                text_object(block["text"], 3000, f"blocks[{i}].text", errors)
            fields = block.get("fields", [])
            if len(fields) > 10:
                errors.append(f"blocks[{i}].fields: more than 10")
            for j, field in enumerate(fields):
                text_object(field, 2000, f"blocks[{i}].fields[{j}]", errors)
        elif kind == "context":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= 10:
                errors.append(f"blocks[{i}].elements: 1 to 10 required")
            for j, element in enumerate(elements):
                text_object(element, 3000, f"blocks[{i}].elements[{j}]", errors)
        elif kind not in ("divider", "header"):
            errors.append(f"blocks[{i}]: unexpected block type {kind!r}")


def check_teams(body, raw, errors):
    if len(raw) > 28 * 1024:
        errors.append(f"message is {len(raw)} bytes, more than 28 KB")
    if body.get("type") != "message":
        errors.append("type must be \"message\"")
    attachments = body.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        errors.append("attachments: missing or empty")
        return
    for i, attachment in enumerate(attachments):
        if attachment.get("contentType") != "application/vnd.microsoft.card.adaptive":
            errors.append(f"attachments[{i}].contentType is not an Adaptive Card")
        card = attachment.get("content") or {}
        if card.get("type") != "AdaptiveCard" or not isinstance(card.get("version"), str):
            errors.append(f"attachments[{i}].content: not an AdaptiveCard with a version")
        elif card["version"] not in ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5"):
            errors.append(f"attachments[{i}].content.version {card['version']!r}: Teams renders 1.0 to 1.5")
        for j, element in enumerate(card.get("body", [])):
            if element.get("type") == "TextBlock":
                if not isinstance(element.get("text"), str) or not element["text"]:
                    errors.append(f"body[{j}]: TextBlock without text")
                if element.get("weight", "Default") not in ("Default", "Lighter", "Bolder"):
                    errors.append(f"body[{j}]: TextBlock weight {element.get('weight')!r}")
                if element.get("size", "Default") not in ("Default", "Small", "Medium", "Large", "ExtraLarge"):
                    errors.append(f"body[{j}]: TextBlock size {element.get('size')!r}")
            elif element.get("type") == "FactSet":
                facts = element.get("facts")
                if not isinstance(facts, list) or not facts:
                    errors.append(f"body[{j}]: FactSet without facts")
                for fact in facts or []:
                    if not isinstance(fact.get("title"), str) or not isinstance(fact.get("value"), str):
                        errors.append(f"body[{j}]: fact without string title and value")
            else:
                errors.append(f"body[{j}]: unexpected element {element.get('type')!r}")


def check_pagerduty(body, raw, errors):
    if len(raw) > 512 * 1024:
        errors.append("payload larger than 512 KB")
    unknown = set(body) - {"routing_key", "event_action", "dedup_key", "payload", "images", "links", "client", "client_url"}
    if unknown:
        errors.append(f"undocumented top-level fields {sorted(unknown)}")
    key = body.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        errors.append("routing_key must be the 32-character integration key")
    action = body.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        errors.append(f"event_action {action!r} is not trigger, acknowledge or resolve")
    dedup = body.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or not dedup or len(dedup) > 255):
        errors.append("dedup_key must be a string of 1 to 255 characters")
    if action in ("acknowledge", "resolve") and dedup is None:
        errors.append("dedup_key is required to acknowledge or resolve")
    if action == "trigger":
        payload = body.get("payload")
        if not isinstance(payload, dict):
            errors.append("payload is required to trigger")
            return
        summary = payload.get("summary")
        if not isinstance(summary, str) or not summary or len(summary) > 1024:
            errors.append("payload.summary must be 1 to 1024 characters")
        if not isinstance(payload.get("source"), str) or not payload["source"]:
            errors.append("payload.source is required")
        if payload.get("severity") not in ("critical", "error", "warning", "info"):
            errors.append("payload.severity must be critical, error, warning or info")
        if "timestamp" in payload:
            try:
                datetime.datetime.fromisoformat(payload["timestamp"].replace("Z", "+00:00"))
            except (ValueError, AttributeError):
                errors.append("payload.timestamp is not ISO 8601")
        if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
            errors.append("payload.custom_details must be an object")
        for key in ("component", "group", "class"):
            if key in payload and not isinstance(payload[key], str):
                errors.append(f"payload.{key} must be a string")


def check_request(path, content_type, raw):
    """The body (or None) and why a request is not what the service at `path` accepts."""
    errors = []
    if content_type.split(";")[0].strip().lower() != "application/json":
        errors.append(f"content type {content_type!r} is not application/json")
    body = None
    try:
        body = json.loads(raw)
        if not isinstance(body, dict):
            errors.append("body is not a JSON object")
    except ValueError as error:
        errors.append(f"body is not JSON: {error}")
    if isinstance(body, dict):
        if path == "/slack":
            check_slack(body, errors)
        elif path == "/teams":
            check_teams(body, raw, errors)
        elif path == "/pagerduty":
            check_pagerduty(body, raw, errors)
        elif path == "/template":
            pass  # any JSON object: the test compares it with the state file
        else:
            errors.append(f"unknown path {path}")
    return body, errors


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        self.path = urlsplit(self.path).path  # Teams Workflows URLs carry a query
        raw = self.rfile.read(int(self.headers.get("content-length", "0")))
        content_type = self.headers.get("content-type", "")
        body, errors = check_request(self.path, content_type, raw)
        with LOCK, open(LOG, "a") as log:
            log.write(json.dumps({"path": self.path, "content_type": content_type, "accepted": not errors,
                                  "errors": errors, "body": body,
                                  "signed": "webhook-signature" in self.headers}) + "\n")
        if self.path == "/slack":
            status, answer = (200, b"ok") if not errors else (400, b"invalid_blocks")
        elif self.path == "/pagerduty":
            status = 202 if not errors else 400
            answer = json.dumps({"status": "success", "message": "Event processed",
                                 "dedup_key": (body or {}).get("dedup_key")} if not errors else
                                {"status": "invalid event", "message": "Event object is invalid", "errors": errors}).encode()
        else:
            status, answer = (202, b"") if not errors else (400, json.dumps(errors).encode())
        self.send_response(status)
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def check_stdin():
    for line in sys.stdin:
        if line.strip():
            request = json.loads(line)
            _, errors = check_request(request["path"], request["content_type"], base64.b64decode(request["body"]))
            print(json.dumps({"errors": errors}), flush=True)


if __name__ == "__main__":
    if LOG == "--check":
        check_stdin()
    else:
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        print(f"listening {server.server_address[1]}", flush=True)
        server.serve_forever()
