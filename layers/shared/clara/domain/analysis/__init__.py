"""Analysis, at least once: a request becomes a paid PENDING task (submission), the worker runs it (worker), a task
that fails for good is refunded once (settlement), a user may cancel it while PENDING (cancel), the backstops end
every charged task whatever crashes (backstops); its view (tasks), its files (attachments), its result (results)
and what it needs from outside (ports).

Nothing is imported here, so a module that needs one part does not load the others.
"""
