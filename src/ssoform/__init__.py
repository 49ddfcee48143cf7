"""ssoform: declarative SSO-as-code reconciler."""

from ssoform.errors import SsoformError

__all__ = ["SsoformError", "__version__"]

__version__ = "0.1.0"
