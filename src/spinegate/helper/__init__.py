"""The resident helper: a project's gates kept open behind a Unix socket (`spinegate serve`).

`layout` names a project's files and the writer lock; `index` keeps a
session index beside the JSONL log; `server` is the helper itself. The
thin client the hooks run is `spinegate.hook_client` (a standalone file).
"""

from __future__ import annotations

from .layout import LockBusy, ProjectLayout, WriterLock

__all__ = ["LockBusy", "ProjectLayout", "WriterLock"]
