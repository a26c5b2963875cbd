from tests.imports.conftest import app_with, client_with

__all__ = ["app_with", "client_with"]
