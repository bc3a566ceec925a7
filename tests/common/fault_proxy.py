"""Faults and latency for the tests: a mitmproxy addon, loaded by `mitmdump` in reverse-proxy
mode in front of a real registry (tests/common/proxy.rs starts it).

Every request is delayed by `fault_latency_ms`; then, drawn with a generator seeded by
`fault_seed`, a share of the requests fails:

- `fault_503`: answered "503 Service Unavailable" by the proxy, never forwarded;
- `fault_reset`: the connection is closed as soon as the request's head has arrived, so
  that an upload is cut in the middle of its body;
- `fault_cut`: the answer is cut in the middle of its body (its Content-Length promises
  more) and the connection closed;
- `fault_lost`: forwarded and carried out by the registry, but the answer is lost (the
  connection is closed instead);
- `fault_stall`: every request is held forever (a registry that accepts and never answers);
- `refuse` (aimed only, see below): answered 401 as Harbor answers an account that may not
  make the request, e.g. the catalog (`GET /v2/_catalog`) for most accounts: the
  distribution registry lets every account it knows list its catalog, so this is how a test
  meets Harbor's refusal.

`fault_where` (a regular expression on "METHOD PATH") limits the drawn faults to the
requests it matches, e.g. those of the pack repositories.

Faults can also be aimed: `fault_match` (a regular expression on "METHOD PATH") gives the
fault `fault_match_kind` to the first `fault_match_count` requests it matches, and no
drawn fault to any of them.

Each fault drawn is written to the log as `fault N KIND METHOD PATH`, so that a test can
count them.
"""

import asyncio
import random
import re

from mitmproxy import ctx, http


# Harbor's answer to a catalog request from an account that may not list it.
REFUSAL = (
    b'{"errors":[{"code":"UNAUTHORIZED",'
    b'"message":"unauthorized to list catalog: unauthorized to list catalog"}]}'
)


class Faults:
    def __init__(self):
        self.random = None
        self.count = 0
        self.matched = 0

    def load(self, loader):
        loader.add_option("fault_seed", int, 1, "seed of the faults drawn")
        loader.add_option("fault_latency_ms", int, 0, "delay of every request")
        for name, help in [
            ("fault_503", "share of requests answered 503"),
            ("fault_reset", "share of connections closed after the request's head"),
            ("fault_cut", "share of answers cut in the middle of their body"),
            ("fault_lost", "share of answers lost after the registry carried them out"),
        ]:
            # mitmproxy options have no float type: a share is given as text ("0.04").
            loader.add_option(name, str, "0", help)
        loader.add_option("fault_stall", bool, False, "hold every request forever")
        loader.add_option("fault_where", str, "", "draw faults only for requests matching this")
        loader.add_option("fault_match", str, "", "aim a fault at requests matching this")
        loader.add_option("fault_match_kind", str, "lost", "the fault aimed")
        loader.add_option("fault_match_count", int, 0, "how many matching requests get it")

    def configure(self, updated):
        if "fault_seed" in updated:
            self.random = random.Random(ctx.options.fault_seed)

    def draw(self, flow):
        """The fault of this request, drawn once, or None."""
        if "fault" in flow.metadata:
            return flow.metadata["fault"]
        fault = self.aimed(flow) if ctx.options.fault_match else None
        if fault is not None:
            return self.noted(flow, fault or None)
        where = ctx.options.fault_where
        if where and not re.search(where, f"{flow.request.method} {flow.request.path}"):
            return self.noted(flow, None)
        shares = [
            ("503", float(ctx.options.fault_503)),
            ("reset", float(ctx.options.fault_reset)),
            ("cut", float(ctx.options.fault_cut)),
            ("lost", float(ctx.options.fault_lost)),
        ]
        roll = self.random.random()
        fault = None
        for name, share in shares:
            if roll < share:
                fault = name
                break
            roll -= share
        return self.noted(flow, fault)

    def aimed(self, flow):
        """The aimed fault ("" once spent) for a matching request, None for the others."""
        line = f"{flow.request.method} {flow.request.path}"
        if not re.search(ctx.options.fault_match, line):
            return None
        self.matched += 1
        if self.matched <= ctx.options.fault_match_count:
            return ctx.options.fault_match_kind
        return ""

    def noted(self, flow, fault):
        flow.metadata["fault"] = fault
        if fault:
            self.count += 1
            ctx.log.warn(f"fault {self.count} {fault} {flow.request.method} {flow.request.path}")
        return fault

    def requestheaders(self, flow):
        if self.draw(flow) == "reset":
            flow.kill()

    async def request(self, flow):
        if ctx.options.fault_stall:
            await asyncio.sleep(24 * 3600)
        if ctx.options.fault_latency_ms:
            await asyncio.sleep(ctx.options.fault_latency_ms / 1000)
        if self.draw(flow) == "refuse":
            flow.response = http.Response.make(401, REFUSAL, {
                "Content-Type": "application/json; charset=utf-8",
                "Www-Authenticate": 'Basic realm="basic-realm"',
            })
        elif self.draw(flow) == "503":
            body = b"" if flow.request.method == "HEAD" else b"Service Unavailable\n"
            flow.response = http.Response.make(503, body, {"Content-Type": "text/plain"})

    def response(self, flow):
        fault = self.draw(flow)
        if fault == "lost":
            flow.kill()
        elif fault == "cut" and len(flow.response.raw_content or b"") > 1:
            whole = len(flow.response.raw_content)
            flow.response.raw_content = flow.response.raw_content[: whole // 2]
            flow.response.headers["content-length"] = str(whole)
            flow.response.headers["connection"] = "close"


addons = [Faults()]
