"""Fixtures for the coding-agent host tests: a project set up by `spinegate init`, its store, its service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hosts_support import init_project, stop_helper
from spinegate.helper.index import IndexedStore, open_indexed
from spinegate.helper.layout import ProjectLayout
from spinegate.hosts.service import HookService


@pytest.fixture()
def project(tmp_path: Path) -> Iterator[Path]:
    root = init_project(tmp_path / "proj")
    yield root
    stop_helper(root)


@pytest.fixture()
def store(project: Path) -> Iterator[IndexedStore]:
    layout = ProjectLayout.of(project)
    opened = open_indexed(layout.receipts, layout.index_dir)
    yield opened
    opened.close_log()


@pytest.fixture()
def service(project: Path, store: IndexedStore) -> Iterator[HookService]:
    made = HookService(ProjectLayout.of(project).manifest, store, project=str(project))
    yield made
    made.close()
