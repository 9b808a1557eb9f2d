"""The proxy writing to the PostgreSQL ledger a fleet shares (`--receipts postgresql://...`)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from mcp_support import text_of
from spinegate.cli import main as spinegate_cli

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_receipts_in_the_ledger(setup: Any, h: SimpleNamespace, ledger: str) -> None:
    setup.log = ledger  # the URL is passed on as it is, not read as a file path
    async with setup.client() as session:
        ran = await session.call_tool("echo", {"text": "to the ledger"})
        refused = await session.call_tool("delete_all", {})
    assert text_of(ran) == "echo: to the ledger"
    assert refused.isError and "DESTRUCTIVE_OPERATION_BLOCKED" in text_of(refused)
    verified = CliRunner().invoke(spinegate_cli, ["verify", ledger])
    assert verified.exit_code == 0, verified.output
    assert "3 receipts" in verified.output and "1 outcomes" in verified.output, verified.output
    assert [s["tool"] for s in h.seen(setup.seen)] == ["echo"]
