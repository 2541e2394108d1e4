"""`LOG_FORMAT=json`: one JSON object per line for log shippers (Loki, Elasticsearch, CloudWatch).

Records may carry `platform`, `kind` and `latency` (as `extra=`); they become fields of their own.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

FIELDS = ("platform", "kind", "latency")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({f: getattr(record, f) for f in FIELDS if hasattr(record, f)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:  # already formatted (and redacted) by the redacting filter
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)
