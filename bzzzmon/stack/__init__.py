"""Run the generated monitoring for real on loopback: simulator, exporter, Prometheus,
Alertmanager and a webhook sink that records every notification (``bzzzmon demo``, e2e tests)."""

from bzzzmon.stack.configs import Timing
from bzzzmon.stack.processes import INSTALL_COMMAND, StackError
from bzzzmon.stack.runner import Stack, StackOptions, StackTimeout
from bzzzmon.stack.sink import Notification, WebhookSink
from bzzzmon.stack.timescale import TimeScale

__all__ = [
    "INSTALL_COMMAND",
    "Notification",
    "Stack",
    "StackError",
    "StackOptions",
    "StackTimeout",
    "TimeScale",
    "Timing",
    "WebhookSink",
]
