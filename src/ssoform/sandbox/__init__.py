"""ssoform's embedded default: provider emulators in-process, persisted between invocations."""
