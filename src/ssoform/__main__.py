"""`python -m ssoform`."""

from ssoform.cli import entrypoint

entrypoint()
