"""ssoform.drivers."""
