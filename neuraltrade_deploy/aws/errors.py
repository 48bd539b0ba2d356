"""AWS failures turned into the project's errors, and the one "worth retrying?" predicate.

Every adapter raises `translate(err, action=...) from err`, so the rest of the code only
ever sees NtDeployError subclasses with a message naming the call that failed.
`is_transient` (which also looks through a translated error to the botocore exception it
came from) is what the engine's transient-error budget counts (shell/engine.py,
TRANSIENT_TICKS), after botocore's own retries: the only retry layers there are.
"""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
)

from neuraltrade_deploy.core.errors import AccessDenied, AwsError, NtDeployError, ResourceNotFound

# Everything an adapter call can raise on purpose; `except AWS_FAILURES` in the adapters
# that must turn failures into data (alarm readings, validation reports).
AWS_FAILURES: tuple[type[Exception], ...] = (ClientError, BotoCoreError, NtDeployError)

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "SlowDown",
        "EC2ThrottledException",
        "BandwidthLimitExceeded",
    }
)
SERVER_ERROR_CODES = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServiceException",  # Application Auto Scaling's
        "ServiceUnavailable",
    }
)
# "The resource is busy, ask again": Application Auto Scaling answers
# ConcurrentUpdateException while an update of the same scalable target is still pending
# (its own scaling activity, Terraform, a second job). botocore's standard retries do not
# know it (it is not modelled retryable), so it counts as transient here, not as an abort.
BUSY_CODES = frozenset({"ConcurrentUpdateException"})
TRANSIENT_CODES = THROTTLING_CODES | SERVER_ERROR_CODES | BUSY_CODES
# ECS answers these for things that are simply not there (any more).
NOT_FOUND_CODES = frozenset({"ServiceNotActiveException", "NoSuchEntity"})
CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "RequestExpired",
        "InvalidAccessKeyId",
    }
)
_TRANSIENT_EXCEPTIONS = (
    EndpointConnectionError,
    ConnectionClosedError,
    ReadTimeoutError,
    ConnectTimeoutError,
)
_CREDENTIAL_EXCEPTIONS = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    SSOError,
    TokenRetrievalError,
)
CREDENTIALS_HINT = (
    "check the AWS credentials: AWS_PROFILE / --profile, `aws sso login`, "
    "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the CI job"
)


def error_code(err: BaseException) -> str | None:
    """The AWS error code of a ClientError (None for anything else)."""
    if isinstance(err, ClientError):
        code = err.response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


def is_not_found(code: str | None) -> bool:
    if not code:
        return False
    return code in NOT_FOUND_CODES or code.endswith(("NotFound", "NotFoundException"))


def translate(err: Exception, *, action: str) -> NtDeployError:
    """Maps a botocore failure to the project's error, naming `action` ("ModifyRule on arn:...").

    The original exception is kept as `__cause__` even when the caller forgets `from err`,
    so `is_transient` can still see what really happened.
    """
    if isinstance(err, NtDeployError):
        return err
    result = _translate(err, action)
    result.__cause__ = err
    return result


def _translate(err: Exception, action: str) -> NtDeployError:
    if isinstance(err, ClientError):
        code = error_code(err) or "Unknown"
        message = f"{action}: {code}: {err.response.get('Error', {}).get('Message', '')}".rstrip()
        if is_not_found(code):
            return ResourceNotFound(message, code=code)
        if code.startswith("AccessDenied") or code == "UnauthorizedOperation":
            return AccessDenied(
                message,
                code=code,
                hint="the AWS identity in use lacks this permission (examples/terraform/iam.tf)",
            )
        if code in CREDENTIAL_CODES:
            return AwsError(message, code=code, hint=CREDENTIALS_HINT)
        return AwsError(message, code=code)
    if isinstance(err, _CREDENTIAL_EXCEPTIONS):
        return AwsError(f"{action}: no usable AWS credentials: {err}", hint=CREDENTIALS_HINT)
    return AwsError(f"{action}: {err}", code=type(err).__name__)


def is_transient(exc: BaseException) -> bool:
    """True for failures that a later attempt may not meet: throttling, 5xx, dropped
    connections, a resource busy with another update.

    Accepts botocore exceptions and translated NtDeployErrors (it follows `__cause__`).
    """
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:
        if _is_transient_here(current):
            return True
        current = current.__cause__
        seen += 1
    return False


def _is_transient_here(exc: BaseException) -> bool:
    if isinstance(exc, _TRANSIENT_EXCEPTIONS):
        return True
    if isinstance(exc, ClientError):
        code = error_code(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in TRANSIENT_CODES or int(status) >= 500
    if isinstance(exc, AwsError):
        return exc.code in TRANSIENT_CODES
    return False
