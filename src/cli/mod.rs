//! Command-line subcommands that are not the server itself.

pub mod analyse;
pub mod evaluate;
