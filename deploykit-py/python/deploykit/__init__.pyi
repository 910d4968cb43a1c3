"""deploykit: Login.gov's release process as a library."""

from deploykit._deploykit import *  # noqa: F403
from deploykit._deploykit import InterruptedError as InterruptedError
from deploykit._deploykit import __all__ as __all__
from deploykit._deploykit import __version__ as __version__
