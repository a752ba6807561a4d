//! The clinician's workspace: the alerts inbox, each alert with its reasons
//! and repair log, the clients list and client pages, appointments entered
//! by hand, and how they hear about alerts.

mod access;
mod alert;
mod appointments;
mod clients;
mod inbox;
mod settings;
mod views;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(inbox::routes)
        .configure(alert::routes)
        .configure(clients::routes)
        .configure(appointments::routes)
        .configure(settings::routes);
}
