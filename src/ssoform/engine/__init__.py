"""ssoform.engine."""
