"""ssoform.report."""
