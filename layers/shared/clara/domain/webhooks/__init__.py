"""Signed completion webhooks (docs/webhooks.md): a user's endpoints (endpoints), the events a task's end records in
its own unit of work and hands to the delivery queue (events), and their delivery with retries (delivery).

Nothing is imported here, so a function that only records events does not load the endpoints' or the delivery's
modules.
"""
