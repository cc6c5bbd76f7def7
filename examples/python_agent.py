"""A Python agent asking Countersign for approval before it acts.

    pip install bullmq
    COUNTERSIGN_URL=http://127.0.0.1:3000 COUNTERSIGN_API_TOKEN=... python3 examples/python_agent.py

It enqueues the escalation with Python's `bullmq` package (queue `escalations`,
prefix `countersign`, jobId = the escalation's id), then polls
GET /api/escalations/{id} with a bearer token from API_TOKENS. Only the
standard library is used besides bullmq.

`verify_callback` and `serve_callbacks` show the other return path: the
signed POST that Countersign sends to `callback.url`
(`python3 examples/python_agent.py serve` with CALLBACK_SIGNING_SECRET set).
"""

import asyncio
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from bullmq import Queue

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
COUNTERSIGN_URL = os.environ.get("COUNTERSIGN_URL", "http://127.0.0.1:3000")
API_TOKEN = os.environ.get("COUNTERSIGN_API_TOKEN", "")
WAIT_MINUTES = 15


def build_escalation() -> dict:
    """The example escalation with a fresh id and a deadline WAIT_MINUTES away."""
    data = json.loads((Path(__file__).parent / "escalation.json").read_text())
    # The agent chooses the id. Keep it with the pending action: enqueueing the
    # same id again (after a crash, say) is a no-op, not a second request.
    data["id"] = str(uuid.uuid4())
    data["executionId"] = f"exec-{int(time.time())}"
    deadline = datetime.now(timezone.utc) + timedelta(minutes=WAIT_MINUTES)
    data["deadline"] = deadline.isoformat(timespec="seconds")  # e.g. 2030-01-01T00:00:00+00:00
    # This example polls the HTTP API; see serve_callbacks() for the callback.
    data.pop("callback", None)
    return data


async def submit(data: dict) -> None:
    queue = Queue("escalations", {"connection": REDIS_URL, "prefix": "countersign"})
    try:
        await queue.add("escalation", data, {"jobId": data["id"]})
    finally:
        await queue.close()


def get_decision(escalation_id: str) -> dict | None:
    """The DecisionMessage, or None while Countersign has not recorded the escalation yet."""
    req = urllib.request.Request(
        f"{COUNTERSIGN_URL}/api/escalations/{escalation_id}",
        headers={"Authorization": f"Bearer {API_TOKEN}", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return json.load(res)
    except urllib.error.HTTPError as err:
        if err.code == 404:  # not taken off the queue yet
            return None
        raise


def wait_for_decision(escalation_id: str, timeout_s: float, every_s: float = 2.0) -> dict | None:
    """Polls until the status is final (approved, denied, expired, rejected) or the time is up."""
    give_up = time.monotonic() + timeout_s
    while time.monotonic() < give_up:
        try:
            message = get_decision(escalation_id)
        except (urllib.error.URLError, TimeoutError) as err:  # Countersign restarting: keep asking
            print(f"poll failed: {err}", file=sys.stderr)
            message = None
        if message is not None and message["status"] != "pending":
            return message
        time.sleep(every_s)
    return None


def refund(params: dict) -> None:
    print("refunding", params)


def main() -> int:
    data = build_escalation()
    asyncio.run(submit(data))
    print(f"submitted {data['id']}; waiting up to {WAIT_MINUTES} minutes for a human")
    # A little longer than the deadline, so the expiry (a deny) normally arrives first.
    decision = wait_for_decision(data["id"], timeout_s=(WAIT_MINUTES + 1) * 60)

    # Act only on an explicit approval. Every other outcome (denied, expired,
    # rejected, no answer) means: do not perform the action.
    if decision is not None and decision["proceed"] is True:
        print(f"approved by {decision['decision']['by']} at {decision['decision']['at']}")
        refund(data["action"]["params"])
        return 0
    if decision is None:
        print("no decision in time: not acting")
    else:
        reason = (decision.get("decision") or {}).get("reason")
        print(f"not approved: {decision['status']}" + (f" ({reason})" if reason else ""))
        for e in decision.get("errors", []):
            print(f"  {e['path']}: {e['message']}")
    return 1


# --- The callback path -------------------------------------------------------


def verify_callback(secret: str, timestamp: str | None, signature: str | None, body: bytes,
                    tolerance_s: int = 300) -> bool:
    """X-Countersign-Signature: v1=<hex HMAC-SHA256(secret, "v1:{timestamp}:{body}")>.

    `body` is the raw request body, before any JSON parsing. Timestamps more
    than `tolerance_s` seconds from now are refused (replays).
    """
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs(time.time() - int(timestamp)) > tolerance_s:
        return False
    mac = hmac.new(secret.encode(), b"v1:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return hmac.compare_digest(f"v1={mac.hexdigest()}", signature)


def serve_callbacks(port: int) -> None:
    secret = os.environ["CALLBACK_SIGNING_SECRET"]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            ok = verify_callback(
                secret,
                self.headers.get("X-Countersign-Timestamp"),
                self.headers.get("X-Countersign-Signature"),
                body,
            )
            if not ok:
                self.send_response(401)
                self.end_headers()
                return
            decision = json.loads(body)
            # Countersign retries until it gets a 2xx, so this may run twice
            # for one escalation: make acting on it idempotent.
            if decision["proceed"] is True:
                print(f"{decision['escalationId']}: approved by {decision['decision']['by']}")
            else:
                print(f"{decision['escalationId']}: {decision['status']}; not acting")
            self.send_response(204)
            self.end_headers()

    HTTPServer(("0.0.0.0", port), Handler).serve_forever()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve_callbacks(int(os.environ.get("PORT", "8080")))
    else:
        sys.exit(main())
