"""Clara on the web, under one policy: the links it reads come from users, so every request is treated as hostile
(server-side request forgery):

* http and https only, no user:password@ in the link (addresses);
* the host is resolved once per connection and every address it resolves to must be public (no loopback, private,
  link-local, carrier-grade NAT, multicast, reserved or IPv6 forms wrapping such an IPv4 address); the checked
  address itself is then dialled, so a DNS answer that changes between the check and the connection (rebinding)
  cannot reach an internal host. TLS still verifies the certificate against the host *name* (addresses, client);
* redirects are followed by hand, each new link checked again from the start, at most `max_redirects` of them
  (client);
* at most `max_bytes` per link and `timeout_seconds` per link in total (every hop, the headers and the body), so a
  slow or endless server cannot hold a worker (client);
* only HTML, plain text and PDF are read; the result is the readable text, cut to MAX_TEXT_CHARACTERS (text).

links finds the links in a text; clara.integrations.fetcher reads them. The webhook functions use the client alone
(clara.integrations.web.receivers), without the text extraction and its pypdf.

Standard library only (plus pypdf for PDFs, imported when a PDF arrives), so the layer stays small.
"""
