"""The in-process and local-runtime drivers shared by the tests and the benchmark (`bench/`).

Nothing here is a test: these are the pieces a test or a measurement is built from. Nothing outside `tests/`
imports from `tests/` (issue 14, rule 5; tests/unit/test_layout.py holds it), so what both need lives here.

In process (the real lambda_handler of each function, AWS emulated by moto):
  inprocess.py     template.yaml's functions and routes, the tests' environment, the emulated stack's pieces and
                   `call`, which sends a request the way API Gateway would (the `call_api` fixture is built on it)
  accounts.py      credentials, the contract's messages, users made through the API, codes read from SES, and
                   the stored items read straight from the emulated table
  stripe_events.py the webhook's signing secret and the Checkout Session events it is sent

Against the local runtime (`python -m local_runtime` in a subprocess, over HTTP):
  runtime.py       starts the runtime on free ports and waits until it serves; stops it and checks its exit
  client.py        an HTTP client that checks the envelope of every response, the runtime's mailbox, and the
                   account and analysis steps every end-to-end test repeats

Either way:
  media.py         small but real sample files, and a multipart/form-data body builder
  fake_bedrock.py  a stand-in for Bedrock Runtime's Converse endpoint on loopback
  mcp.py           the MCP tools every layer of tests expects
"""
