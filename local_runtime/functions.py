"""Loads each function's real handler in-process, once, and invokes it one event at a time, as Lambda does."""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from local_runtime.events import LambdaContext
from local_runtime.template import FunctionDef, Template

Handler = Callable[[dict[str, Any], Any], Any]


class FunctionTimeout(Exception):
    """The handler ran past its timeout (it keeps running in its thread; Python cannot stop it)."""


def add_layers_to_path(template: Template) -> None:
    """Put each layer where Lambda would (/opt/python), so `import clara` works in every function."""
    for layer in template.layer_dirs:
        for folder in (layer / "python", layer):
            if folder.is_dir() and str(folder) not in sys.path:
                sys.path.insert(0, str(folder))


def load_module(function: FunctionDef) -> ModuleType:
    """The function's handler module, imported as Lambda would (its code folder first on the path)."""
    module_name = function.handler.rsplit(".", 1)[0]
    file = function.code_uri / (module_name.replace(".", "/") + ".py")
    spec = importlib.util.spec_from_file_location(f"clara_local_{function.logical_id}_{module_name}", file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {file}")
    module = importlib.util.module_from_spec(spec)
    # Sibling modules of the handler are importable while it loads, then forgotten, so two functions may each
    # have, say, their own `service.py` without one shadowing the other.
    code_dir = str(function.code_uri)
    before = set(sys.modules)
    sys.path.insert(0, code_dir)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(code_dir)
        for name in set(sys.modules) - before:
            module_file = getattr(sys.modules[name], "__file__", None) or ""
            if Path(module_file).resolve().is_relative_to(function.code_uri.resolve()):
                del sys.modules[name]
    return module


def _load_handler(function: FunctionDef) -> Handler:
    handler: Handler = getattr(load_module(function), function.handler.rsplit(".", 1)[1])
    return handler


class FunctionRegistry:
    """Handlers by logical id. A Powertools resolver keeps the current event on itself, so each function serves
    one event at a time under its own lock (Lambda gives every concurrent event its own instance instead)."""

    def __init__(self, template: Template):
        self.template = template
        self._handlers: dict[str, Handler] = {}
        self._locks = {function_id: threading.Lock() for function_id in template.functions}
        self._loading = threading.Lock()

    def handler(self, function_id: str) -> Handler:
        with self._loading:
            if function_id not in self._handlers:
                self._handlers[function_id] = _load_handler(self.template.functions[function_id])
            return self._handlers[function_id]

    def invoke(self, function_id: str, event: dict[str, Any], timeout: float | None = None) -> Any:
        """Run the handler with a fresh context; raise FunctionTimeout past `timeout` (default: the function's)."""
        function = self.template.functions[function_id]
        handler = self.handler(function_id)
        limit = float(timeout if timeout is not None else function.timeout)
        outcome: dict[str, Any] = {}

        lock = self._locks[function_id]

        def run() -> None:
            context = LambdaContext(function_id, limit, memory_limit_in_mb=function.memory_size)
            try:
                outcome["result"] = handler(event, context)
            except BaseException as error:  # re-raised in the caller's thread
                outcome["error"] = error
            finally:
                lock.release()  # only when the handler is really done, even after a timeout

        # Waiting for the instance does not count towards the timeout; the handler's own run does.
        lock.acquire()
        worker = threading.Thread(target=run, name=f"invoke-{function_id}", daemon=True)
        worker.start()
        worker.join(limit)
        if worker.is_alive():
            raise FunctionTimeout(f"{function_id} timed out after {limit:g} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("result")
