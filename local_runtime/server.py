"""Starts the whole local stack: AWS emulation, resources, the functions' environment, pollers and the HTTP server."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, make_server

from local_runtime.environment import function_environment
from local_runtime.events import REGION
from local_runtime.faults import install_faults
from local_runtime.functions import FunctionRegistry, add_layers_to_path
from local_runtime.gateway import FUNCTION_URL_PREFIX, Gateway
from local_runtime.mailbox import Mailbox
from local_runtime.resources import QUEUE, create_resources, queue_arn, store_secret_values
from local_runtime.scheduler import ScheduleRunner, start_schedules
from local_runtime.stripe_standin import (
    DEVELOPMENT_WEBHOOK_SECRET,
    STANDIN_PREFIX,
    StripeStandIn,
    webhook_function_id,
)
from local_runtime.template import Template
from local_runtime.worker import QueuePoller, start_pollers

log = logging.getLogger("local_runtime")

DEFAULT_PUBLIC_API_KEY = "clara-dev-public-key"
DEFAULT_PRIVATE_API_KEY = "clara-dev-private-key"


@dataclass
class Settings:
    host: str
    port: int
    public_api_key: str
    private_api_key: str
    mailbox_dir: Path
    aws_endpoint_url: str | None  # an external emulator; None starts moto in-process
    moto_port: int  # 0: any free port
    moto_host: str = "127.0.0.1"  # 0.0.0.0 lets Docker containers (sam local invoke on Linux) reach it

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            host=environ.get("HOST", "127.0.0.1"),
            port=int(environ.get("PORT", "3000")),
            public_api_key=environ.get("PUBLIC_API_KEY", DEFAULT_PUBLIC_API_KEY),
            private_api_key=environ.get("PRIVATE_API_KEY", DEFAULT_PRIVATE_API_KEY),
            mailbox_dir=Path(environ.get("MAILBOX_DIR", ".local/mailbox")).resolve(),
            aws_endpoint_url=environ.get("AWS_ENDPOINT_URL") or None,
            moto_port=int(environ.get("MOTO_PORT", "0")),
            moto_host=environ.get("MOTO_HOST", "127.0.0.1"),
        )


def _process_environment(template: Template, physical_ids: dict[str, str], overrides: dict[str, str]) -> dict[str, str]:
    """All functions share this process, so its environment is the union of theirs; conflicts are reported."""
    union: dict[str, str] = {}
    for function_id in template.functions:
        for name, value in function_environment(template, function_id, physical_ids, overrides).items():
            if name in union and union[name] != value:
                log.warning("%s=%r of %s conflicts with %r; keeping the first", name, value, function_id, union[name])
                continue
            union[name] = value
    return union


@dataclass
class LocalRuntime:
    template: Template
    settings: Settings
    stop_event: threading.Event = field(default_factory=threading.Event)
    moto: Any = None
    endpoint_url: str = ""
    http: BaseWSGIServer | None = None
    threads: list[threading.Thread] = field(default_factory=list)
    stripe_standin: StripeStandIn | None = None

    def start(self) -> None:
        self._start_aws()
        session = boto3.session.Session(region_name=REGION)
        physical_ids = create_resources(self.template, session, self.endpoint_url)
        os.environ.update(self._environment(physical_ids))
        add_layers_to_path(self.template)
        install_faults(os.environ)  # on the layer's AWS session, before the functions make their clients
        functions = FunctionRegistry(self.template)
        for function_id in self.template.functions:  # import errors show at start, not on the first request
            try:
                functions.handler(function_id)
            except Exception:
                log.exception("cannot load %s; its requests will answer 502", function_id)

        queue_arns = {
            logical_id: queue_arn(session, self.endpoint_url, physical_ids[logical_id])
            for logical_id in self.template.resources_of_type(QUEUE)
        }
        sqs = session.client("sqs", endpoint_url=self.endpoint_url)
        pollers: list[QueuePoller] = start_pollers(sqs, functions, physical_ids, queue_arns, self.stop_event)
        self.threads += pollers
        schedules = start_schedules(functions, self.stop_event)
        self.threads += schedules
        if self.moto is not None:
            mailbox = Mailbox(self.settings.mailbox_dir, self.stop_event)
            mailbox.start()
            self.threads.append(mailbox)

        app: Any = Gateway(self.template, functions)
        webhook_id = webhook_function_id(self.template)
        if webhook_id and not os.environ.get("STRIPE_SECRET_KEY"):
            app = self._mount_stripe_standin(app, webhook_id)
        # The emulation's secrets hold the keys the functions get here, for `sam local invoke` (events/env.json).
        store_secret_values(self.template, session, self.endpoint_url, physical_ids, os.environ)
        self.http = make_server(self.settings.host, self.settings.port, app, threaded=True)
        if self.stripe_standin is not None:  # the functions' stripe library calls the stand-in on this port
            os.environ["STRIPE_API_BASE"] = f"http://{self._local_host()}:{self.http.server_port}{STANDIN_PREFIX}"
        serving = threading.Thread(target=self.http.serve_forever, name="http", daemon=True)
        serving.start()
        self._announce(pollers, schedules)

    # ----------------------------------------------------------------------- the Stripe stand-in

    def _mount_stripe_standin(self, gateway: Any, webhook_id: str) -> Any:
        """Without STRIPE_SECRET_KEY, /_stripe/ serves a stand-in for Stripe, which signs the webhooks it delivers
        to the webhook function with STRIPE_WEBHOOK_SECRET (a fixed development value unless set)."""
        os.environ.setdefault("STRIPE_WEBHOOK_SECRET", DEVELOPMENT_WEBHOOK_SECRET)
        webhook_path = f"{FUNCTION_URL_PREFIX}{webhook_id}/"
        self.stripe_standin = StripeStandIn(os.environ["STRIPE_WEBHOOK_SECRET"], webhook_path)
        return DispatcherMiddleware(gateway, {STANDIN_PREFIX: self.stripe_standin})

    def _local_host(self) -> str:
        return "127.0.0.1" if self.settings.host in ("0.0.0.0", "") else self.settings.host

    def _start_aws(self) -> None:
        # Functions and the runtime's own clients need credentials and a region even against an emulator.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = REGION
        if self.settings.aws_endpoint_url:
            log.warning("AWS_ENDPOINT_URL=%s: using it instead of moto; no mailbox", self.settings.aws_endpoint_url)
            self.endpoint_url = self.settings.aws_endpoint_url
            return
        from local_runtime.emulator import EmulatorServer  # moto is slow to import: only when it is used

        self.moto = EmulatorServer(self.settings.moto_host, self.settings.moto_port)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        if host in ("0.0.0.0", ""):  # listening on every address: this process reaches it on the loopback
            host = "127.0.0.1"
        self.endpoint_url = f"http://{host}:{port}"

    def _environment(self, physical_ids: dict[str, str]) -> dict[str, str]:
        overrides = {
            "ENVIRONMENT": "development",
            "PUBLIC_API_KEY": self.settings.public_api_key,
            "PRIVATE_API_KEY": self.settings.private_api_key,
            "MAILBOX_DIR": str(self.settings.mailbox_dir),
            # No model locally: the local analyzer does real work offline (ANALYZER=bedrock to try Bedrock).
            "ANALYZER": os.environ.get("ANALYZER", "local"),
        }
        return {
            **_process_environment(self.template, physical_ids, overrides),
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_DEV": "false",
        }

    def _announce(self, pollers: list[QueuePoller], schedules: list[ScheduleRunner]) -> None:
        base = f"http://{self.settings.host}:{self.http.server_port if self.http else self.settings.port}"
        for function_id, function in self.template.functions.items():
            if function.has_function_url:
                log.info("Function URL of %s: %s%s%s/", function_id, base, FUNCTION_URL_PREFIX, function_id)
        for poller in pollers:
            log.info("SQS %s -> %s", poller.source.queue_id, poller.function_id)
        for runner in schedules:
            log.info(
                "Schedule %s (%s) -> %s every %g s",
                runner.source.name,
                runner.source.expression,
                runner.function_id,
                runner.period,
            )
        log.info("API keys: public %s, private %s", self.settings.public_api_key, self.settings.private_api_key)
        if self.stripe_standin is not None:
            log.info("Stripe: local stand-in at %s%s/ (STRIPE_SECRET_KEY is not set)", base, STANDIN_PREFIX)
        if self.moto is not None:
            log.info("Mailbox: %s", self.settings.mailbox_dir)
        log.info("Clara local runtime ready: %s/api/v1 (AWS emulation at %s)", base, self.endpoint_url)

    def wait(self) -> None:
        self.stop_event.wait()

    def stop(self) -> None:
        self.stop_event.set()
        if self.http is not None:
            self.http.shutdown()
            self.http.server_close()
        for thread in self.threads:
            thread.join(timeout=5)
        if self.moto is not None:
            self.moto.stop()
