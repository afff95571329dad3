"""Production's log format: one JSON object per line (local runs and tests write text)."""

from __future__ import annotations

import datetime
import json
import logging


class JsonFormatter(logging.Formatter):
    """One JSON object per record, for log shippers and `jq` (README "Logs").

    `request_id` and `ticket_id` come from `vipsupport.logs.ContextFilter` on the same handler;
    both are strings ("" when none) so a query compares like with like.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
            "ticket_id": getattr(record, "ticket_id", ""),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        # ASCII with escapes: one line whatever the message holds, on any stderr encoding.
        return json.dumps(entry, default=str)
