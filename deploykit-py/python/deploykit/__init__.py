"""deploykit: Login.gov's release process as a library.

Every operation exists twice: ``name(...)`` blocks (the GIL released, Ctrl-C honoured) and
``name_async(...)`` returns an awaitable. Errors derive from :class:`DeployKitError`.
"""

from deploykit._deploykit import *  # noqa: F403
from deploykit._deploykit import __all__ as __all__, __version__ as __version__

# Not in __all__ (a star import must not hide the builtin of the same name), still here.
from deploykit._deploykit import InterruptedError as InterruptedError  # noqa: A004
