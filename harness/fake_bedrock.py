"""A stand-in for Bedrock Runtime's Converse endpoint on loopback, for tests that run the Bedrock analyzer end to
end (boto3 reaches it through AWS_ENDPOINT_URL_BEDROCK_RUNTIME). It answers in the shapes of botocore's service
model, by what the request asks for:

* the forced `record_claims` tool: one claim per sentence of the content, each with its sentence as its span;
* the `nova_grounding` system tool: a grounded answer whose `citationsContent` cites two pages per claim (on this
  server: `/cited/<n>/1`, a page, and `/cited/<n>/2`, a 404), and whose text also mentions a URL nobody read
  (FABRICATED[0]);
* the forced `record_fact_check` tool: a verdict per claim citing the ids its research cited and the first
  linked page (L1), with
  model-written URLs in its summary, its explanations, an invented `sources` field and an evidence id that is
  a URL (FABRICATED); a judgement per id: the web pages refute a claim with "500" in it and support the others,
  the first web page's passage is one the page does not hold (INVENTED_QUOTE), the linked page's is on it.

It also serves `/article`, a small HTML page, so a link in the content can be read by the safe fetcher, and the
cited pages: CITED_PAGE, or the page `cited_page` makes for the claim searched (`make eval --stand-in`).
"""

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FABRICATED = [
    "https://fabricated.example/made-up-study",
    "https://invented-source.example/report",
    "https://not-read.example/evidence",
]
ARTICLE = b"""<html><head><title>Tower facts</title></head><body><nav>Menu</nav><article><h1>Tower facts</h1>
<p>The Eiffel Tower is 330 metres tall and was completed in 1889 for the World's Fair in Paris.</p>
<p>It was the tallest man-made structure in the world until 1930, when the Chrysler Building passed it.</p>
</article></body></html>"""
CITED_PAGE = b"""<html><head><title>Height records</title></head><body><article>
<p>Measurements of the Eiffel Tower have been published since it opened to the public in the spring of 1889.</p>
<p>The Eiffel Tower is 330 metres tall today, including the antennas at its top.</p>
<p>Completed in 1889 in Paris, it was built for the Exposition Universelle and drew millions of visitors.</p>
</article></body></html>"""
INVENTED_QUOTE = "Every expert agrees that the tower is exactly 500 metres tall."
LINKED_PASSAGE = "It was the tallest man-made structure in the world until 1930"


@dataclass
class FakeBedrock:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    searches: int = 0
    searched: list[str] = field(default_factory=list)  # the claim of each grounded call, in order

    @property
    def article_url(self) -> str:
        return f"{self.url}/article"

    def cited_urls(self, claim_number: int) -> list[tuple[str, str]]:
        """The (url, domain) pairs the grounded answer for the n-th searched claim cites: a page, then a 404."""
        return [(f"{self.url}/cited/{claim_number}/{page}", "127.0.0.1") for page in (1, 2)]


def _claims(request: dict[str, Any]) -> list[str]:
    texts = " ".join(block.get("text", "") for block in request["messages"][0]["content"])
    content = re.search(r"<content>\n(.*?)\n</content>", texts, re.S)
    sentences = re.split(r"(?<=[.!?])\s+", content.group(1) if content else "")
    return [sentence for sentence in sentences if len(sentence.split()) >= 4 and "http" not in sentence][:5]


def _claims_and_their_evidence(instruction: str) -> list[tuple[str, list[str]]]:
    """The numbered claims of the verdict prompt, each with the ids its web research cited."""
    found: list[tuple[str, list[str]]] = []
    for line in instruction.splitlines():
        claim = re.match(r"^\d+\. (.+)$", line)
        if claim:
            found.append((claim.group(1), []))
        cited = re.search(r"\(cited: ([^)]*)\)$", line)
        if cited and found:
            found[-1][1].extend(part.strip() for part in cited.group(1).split(","))
    return found


def _tool_use(name: str, tool_input: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"toolUse": {"toolUseId": f"tooluse_{name}", "name": name, "input": tool_input}}]


def _answer(fake: FakeBedrock, request: dict[str, Any]) -> dict[str, Any]:
    tools = request.get("toolConfig", {}).get("tools", [])
    forced = request.get("toolConfig", {}).get("toolChoice", {}).get("tool", {}).get("name")
    if forced == "record_claims":
        claims = [{"text": claim, "span": claim} for claim in _claims(request)]
        content = _tool_use("record_claims", {"claims": claims})
        stop = "tool_use"
    elif any(tool.get("systemTool", {}).get("name") == "nova_grounding" for tool in tools):
        fake.searches += 1
        claim = re.search(r"<claim>\n(.*?)\n</claim>", request["messages"][0]["content"][0]["text"], re.S)
        fake.searched.append(claim.group(1) if claim else "")
        citations = [
            {
                "title": f"Source {n} on claim {fake.searches}",
                "sourceContent": [{"text": "The record shows the tower is 330 metres tall."}],
                "location": {"web": {"url": url, "domain": domain}},
            }
            for n, (url, domain) in enumerate(fake.cited_urls(fake.searches), start=1)
        ]
        content = [
            {"text": f"Several sources were found (see also {FABRICATED[0]}). "},
            {"citationsContent": {"content": [{"text": "The tower is 330 metres tall."}], "citations": citations}},
        ]
        stop = "end_turn"
    else:
        instruction = request["messages"][0]["content"][-1]["text"]
        drafted = [
            {
                "text": claim,
                "verdict": "FALSE" if "500" in claim else "TRUE",
                "confidence": 0.9,
                "explanation": f"The cited record settles it; compare {FABRICATED[2]}.",
                "evidence_ids": [*cited, "L1", FABRICATED[1]],
                "sources": [{"title": "Invented", "url": FABRICATED[1]}],
                "judgements": [
                    *(
                        {
                            "id": evidence_id,
                            "stance": "refutes" if "500" in claim else "supports",
                            "passage": INVENTED_QUOTE if number == 0 else None,
                        }
                        for number, evidence_id in enumerate(cited)
                    ),
                    {"id": "L1", "stance": "supports", "passage": LINKED_PASSAGE},
                ],
            }
            for claim, cited in _claims_and_their_evidence(instruction)
        ]
        verdict = {
            "verdict": "MIXED" if len(drafted) > 1 else (drafted[0]["verdict"] if drafted else "UNVERIFIABLE"),
            "confidence": 0.8,
            "summary": f"Checked against the web; more at {FABRICATED[0]}.",
            "claims": drafted,
            "sources": [{"title": "Invented", "url": FABRICATED[1]}],
        }
        content, stop = _tool_use("record_fact_check", verdict), "tool_use"
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {"inputTokens": 900, "outputTokens": 150, "totalTokens": 1050},
        "metrics": {"latencyMs": 5},
    }


@contextmanager
def fake_bedrock(cited_page: Callable[[str], bytes] | None = None) -> Iterator[FakeBedrock]:
    fake: FakeBedrock | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            assert fake is not None
            cited = re.fullmatch(r"/cited/(\d+)/1", self.path)
            page = ARTICLE if self.path == "/article" else None
            if cited:
                searched = fake.searched[int(cited.group(1)) - 1]
                page = cited_page(searched) if cited_page else CITED_PAGE
            if page is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def do_POST(self) -> None:
            assert fake is not None
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            fake.requests.append(request)
            if not self.path.endswith("/converse"):
                self.send_error(404)
                return
            body = json.dumps(_answer(fake, request)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake = FakeBedrock(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
