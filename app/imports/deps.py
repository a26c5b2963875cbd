from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.imports.service import Importer
from app.storage import Storage


def get_importer(request: Request) -> Importer:
    importer: Importer = request.app.state.importer
    return importer


def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


ImporterDep = Annotated[Importer, Depends(get_importer)]
StorageDep = Annotated[Storage, Depends(get_storage)]
