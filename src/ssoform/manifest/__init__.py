"""ssoform.manifest."""
