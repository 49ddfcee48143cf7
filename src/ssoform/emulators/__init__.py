"""ssoform.emulators."""
