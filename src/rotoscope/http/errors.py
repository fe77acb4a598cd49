"""Errors in the web UI API's shape: ``{error, detail, body, errors}`` with the HTTP status."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import RotoscopeError


class ApiError(Exception):
    """A refusal with the status and ``detail`` the web UI answers with (e.g. 404 "Sampler not found")."""

    def __init__(self, status: int, detail: str, error: str = "HTTPException") -> None:
        super().__init__(detail)
        self.status, self.detail, self.error = status, detail, error


def error_body(status: int, error: str, detail: Any, errors: str = "") -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error, "detail": detail, "body": "", "errors": errors})


def install(app) -> None:
    """Every error leaves as the web UI's JSON; a RotoscopeError (a user's mistake) is a 422 with its message."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return error_body(exc.status, exc.error, exc.detail, exc.detail)

    @app.exception_handler(RotoscopeError)
    async def _rotoscope(request: Request, exc: RotoscopeError) -> JSONResponse:
        return error_body(422, type(exc).__name__, str(exc), str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_body(exc.status_code, "HTTPException", exc.detail, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_body(422, "RequestValidationError", "request is not valid JSON of the expected shape",
                          str(exc.errors()))
