"""Errors with an HTTP meaning, raised by domain rules and handlers alike.

The REST layer renders them as `{"detail": ..., "errors": {...}}` with their status; the WebSocket
layer as an `error` (or `code_invalid`) message.
"""


class AppError(Exception):
    status = 400

    def __init__(self, detail, *, errors=None, body=None, headers=None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors        # {field: [messages]} for validation errors
        self.body = body or {}      # extra keys for the JSON body
        self.headers = headers or {}

    def to_json(self):
        data = dict(self.body)
        data['detail'] = self.detail
        if self.errors:
            data['errors'] = self.errors
        return data


class Invalid(AppError):
    status = 400

    def __init__(self, errors, detail='Données invalides.'):
        super().__init__(detail, errors=errors)


class Unauthorized(AppError):
    status = 401


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    status = 409


class TooLarge(AppError):
    status = 413


class UnsupportedMediaType(AppError):
    status = 415


class RateLimited(AppError):
    status = 429

    def __init__(self, retry_after, detail='Trop de tentatives. Réessayez plus tard.', body=None):
        super().__init__(detail, body=body, headers={'Retry-After': str(retry_after)})
        self.retry_after = retry_after
