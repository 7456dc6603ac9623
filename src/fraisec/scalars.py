"""``from fraisec.scalars import ID, Email, DateTime`` (same names as ``fraiseql.scalars``)."""

from fraisec.authoring.scalars import *  # noqa: F403
from fraisec.authoring.scalars import __all__  # noqa: F401
