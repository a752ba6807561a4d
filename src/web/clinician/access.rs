//! Access to one client's data, the only way clinician pages load it: the
//! extractor checks the client is the viewer's (404 otherwise, so nobody
//! learns that another clinician's client exists) and writes every view —
//! and every refused attempt — to the audit log.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, web};

use crate::context::Context;
use crate::store::alerts::{self, Alert};
use crate::store::audit::AuditAction;
use crate::store::audit::{self, AuditEntry};
use crate::store::clients::{self, Client};
use crate::store::{AlertId, ClientId, DbConnection, StoreError};
use crate::web::auth::{ClinicianRole, Staff};
use crate::web::error::AppError;

/// A client page: the client, opened by a clinician allowed to see them.
pub struct ClientAccess {
    pub staff: Staff<ClinicianRole>,
    pub client: Client,
}

/// An alert page: the alert and its client, likewise checked and audited.
pub struct AlertAccess {
    pub staff: Staff<ClinicianRole>,
    pub alert: Alert,
    pub client: Client,
}

fn path_id<I: std::str::FromStr>(req: &HttpRequest, name: &str) -> Result<I, AppError> {
    req.match_info()
        .get(name)
        .and_then(|v| v.parse().ok())
        .ok_or(AppError::NotFound)
}

/// How a successful access is audited; a refused one always is, here, as
/// `access.denied` naming the attempt.
#[derive(Clone, Copy)]
enum Access {
    /// Recorded here as this action.
    Recorded(AuditAction),
    /// Recorded by the action that follows (a repair step on an alert).
    ByTheStep,
}

impl Access {
    /// The attempt, as a refused one's audit detail names it.
    fn attempt(self) -> &'static str {
        match self {
            Access::Recorded(action) => action.as_str(),
            Access::ByTheStep => "alert.change",
        }
    }
}

/// Loads through `load`, auditing the view or the refused attempt.
async fn checked<I: Copy + std::fmt::Display + Send + 'static, T: Send + 'static>(
    req: &HttpRequest,
    access: Access,
    id: I,
    load: fn(&mut DbConnection, &clients::Viewer, I) -> Result<T, StoreError>,
    ids: fn(&T) -> (ClientId, Option<AlertId>),
) -> Result<(Staff<ClinicianRole>, T), AppError> {
    let staff = Staff::<ClinicianRole>::extract(req).await?;
    let state = req
        .app_data::<web::Data<Context>>()
        .ok_or_else(|| AppError::Internal("no app state".into()))?;
    let viewer = staff.viewer();
    let now = state.now();
    let found = state
        .db(move |conn| {
            let found = load(conn, &viewer, id);
            let (action, client_id, alert_id, detail) = match (&found, access) {
                (Ok(_), Access::ByTheStep) => return Ok(found),
                (Ok(value), Access::Recorded(action)) => {
                    let (client_id, alert_id) = ids(value);
                    (action, Some(client_id), alert_id, None)
                }
                (Err(StoreError::NotFound), _) => (
                    AuditAction::AccessDenied,
                    None,
                    None,
                    Some(format!("{} #{id}", access.attempt())),
                ),
                (Err(_), _) => return Ok(found),
            };
            audit::record(
                conn,
                &AuditEntry {
                    staff_id: Some(viewer.staff_id),
                    client_id,
                    alert_id,
                    detail: detail.as_deref(),
                    ..AuditEntry::new(action)
                },
                now,
            )?;
            Ok(found)
        })
        .await?;
    Ok((staff, found?))
}

impl FromRequest for ClientAccess {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let id = path_id(&req, "client_id")?;
            let access = Access::Recorded(if req.method() == actix_web::http::Method::GET {
                AuditAction::ClientView
            } else {
                AuditAction::ClientChange
            });
            let (staff, client) = checked(&req, access, id, clients::find_visible, |c: &Client| (c.id, None)).await?;
            Ok(ClientAccess { staff, client })
        })
    }
}

impl FromRequest for AlertAccess {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let id = path_id(&req, "alert_id")?;
            // A step on the alert is audited by the action that records it.
            let access = if req.method() == actix_web::http::Method::GET {
                Access::Recorded(AuditAction::AlertView)
            } else {
                Access::ByTheStep
            };
            let (staff, (alert, client)) =
                checked(&req, access, id, alerts::find_visible, |(a, c): &(Alert, Client)| {
                    (c.id, Some(a.id))
                })
                .await?;
            Ok(AlertAccess { staff, alert, client })
        })
    }
}
