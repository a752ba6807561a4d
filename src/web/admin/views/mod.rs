//! What admins see, from what their handlers read: maud view functions
//! over plain view structs, no database access (the layer rules test keeps
//! it out).

pub mod account;
pub mod audit;
pub mod email;
pub mod import;
pub mod integrations;
pub mod privacy;
pub mod safety;
pub mod staff;
