"""``jitgrad.scipy.misc``: where older autograd code imports ``logsumexp`` from."""
from .special import logsumexp  # noqa: F401
