"""deploykit: Login.gov's release process as a library."""

from deploykit._deploykit import *  # noqa: F403
from deploykit._deploykit import __version__ as __version__

__all__ = [
    "__version__",
    "DeployKitError",
    "NotFoundError",
    "ConflictError",
    "UnsafeError",
    "PolicyRefusedError",
    "UnauthenticatedError",
    "RateLimitedError",
    "DeployTimeoutError",
    "InvalidInputError",
    "BackendError",
    "UnsupportedError",
    "InterruptedError",
    "Sha",
    "ReleaseNumber",
    "RcBranch",
    "DeployStatus",
    "announce",
    "announce_async",
    "ShaMetrics",
    "MonitorSample",
    "sample",
    "sample_async",
    "wait",
    "wait_async",
]
