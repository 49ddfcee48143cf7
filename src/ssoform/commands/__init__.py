"""The CLI's subcommands, one module each; each is a thin call into the library."""
