"""Why a link was not read: refused by the policy, or failed at the site."""


class FetchError(Exception):
    """A link that was not read; str(error) is a short note in plain English that can be shown to the user."""


class FetchRefused(FetchError):
    """The policy said no: scheme, address, type, size or redirects."""


class FetchFailed(FetchError):
    """The site could not be read: a network error, a timeout, an HTTP error status, a damaged file."""
