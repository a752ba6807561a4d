//! Command-line subcommands that are not the server itself.
