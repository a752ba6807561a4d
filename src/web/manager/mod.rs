//! What managers see: the service as a whole, never individual clients —
//! trends with their definitions (CLINICAL.md §4), the teams at a glance,
//! and exports of the figures and of pseudonymised answers for research.

mod charts;
mod exports;
mod figures;
mod page;
mod team_access;
mod views;

use actix_web::web;

use super::auth::RoleGuard;
use crate::store::staff::Role;

/// The trends page is for managers; admins may read it too (and set
/// whether figures per clinician are allowed). Exports are for managers only.
pub struct InsightsRole;

impl RoleGuard for InsightsRole {
    const ROLES: &'static [Role] = &[Role::Manager, Role::Admin];
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(page::overview)
        .service(page::clinician_figures)
        .service(exports::exports_page)
        .service(exports::trends_csv)
        .service(exports::responses_csv)
        .service(team_access::team_access)
        .service(team_access::set_team_access);
}
