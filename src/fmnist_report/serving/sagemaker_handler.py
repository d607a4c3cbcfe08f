"""Pre- and post-processing for the SageMaker TensorFlow Serving container.

`export` ships this file in model.tar.gz as ``code/inference.py``, with ``codec.py`` and
``imaging.py`` beside it in ``code/``. The container loads it by path as the module
``inference`` and runs its Python service with ``code/`` on ``sys.path``; fmnist_report is
not installed there.

Requests and responses are those of ``fmnist-report serve``, because both go through `codec`:
application/json (a list of images, ``{"instances": ...}`` or ``{"inputs": ...}``),
application/x-npy, image/png, image/jpeg or text/csv in; application/json or text/csv out,
chosen by the Accept header, with the same warnings for blank or tiny images (in the JSON
answer, and logged). A request the server would refuse raises `codec.CodecError` (a
ValueError) with the server's one-line message; the container answers it with status 500
and ``{"error": message}``, since a handler cannot choose its status.

How codec is imported: the same file is ``fmnist_report.serving.codec`` in the package and
the top-level module ``codec`` in ``code/``. A relative import cannot serve both, as the
container loads this file outside any package, so the package import is tried first and the
top-level one is the fallback. In that order, wherever fmnist_report is installed a stray
``codec`` module elsewhere on ``sys.path`` can never stand in for the package's own.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING, Any

try:
    from fmnist_report.serving import codec
except ImportError:  # in the container: codec.py sits beside this file in code/
    if not TYPE_CHECKING:  # (a type checker reads the package's module, the one it can find)
        import codec

log = logging.getLogger(__name__)
#: The warnings of the request this thread is answering: the container calls `input_handler`
#: and then `output_handler` for one request in one thread, with nothing else between.
_pending = threading.local()


def input_handler(data: Any, context: Any) -> str:
    """The request body as a TF Serving REST request of float32 (n, 28, 28, 1) instances."""
    _pending.warnings = ()
    # The server's order of refusals: Content-Type, then Accept, before the body is read.
    codec.decoder(context.request_content_type)
    codec.negotiate(context.accept_header)
    batch, warnings = codec.decode(data.read(), context.request_content_type)
    for warning in warnings:
        log.warning("request answered with a warning: %s", warning)
    _pending.warnings = warnings
    return json.dumps({"signature_name": codec.SIGNATURE, "instances": batch.tolist()})


def output_handler(response: Any, context: Any) -> tuple[str, str]:
    """TF Serving's ``{"predictions": [[10 floats], ...]}`` as labelled predictions.

    Returns:
        The response body and its content type, as the container expects.
    """
    if response.status_code != 200:
        detail = response.content.decode("utf-8", "replace")
        raise ValueError(f"TensorFlow Serving answered {response.status_code}: {detail}")
    rows = json.loads(response.content.decode("utf-8"))["predictions"]
    probs = [row[codec.OUTPUT_NAME] if isinstance(row, dict) else row for row in rows]
    warnings, _pending.warnings = getattr(_pending, "warnings", ()), ()
    return codec.encode(probs, codec.negotiate(context.accept_header), warnings=warnings)
