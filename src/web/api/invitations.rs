//! Where a questionnaire stands: scheduled, sent, answered, expired or cancelled.

use crate::store::InvitationId;
use actix_web::{HttpResponse, get, web};

use super::{ApiCaller, audit_read};
use crate::context::Context;
use crate::json::{InvitationView, Problem};
use crate::store::api_keys::Scope;
use crate::store::audit::AuditAction;
use crate::store::{invitations, responses};
use crate::web::error::ApiError;

/// Read an invitation
///
/// The questionnaire sent after an attended appointment: when it is (or was) sent, reminded, answered or
/// closed, and the response once answered.
#[utoipa::path(
    get,
    path = "/api/v1/invitations/{id}",
    operation_id = "getInvitation",
    tag = "appointments",
    params(("id" = i64, Path, description = "Rapport's invitation id")),
    responses(
        (status = 200, description = "The invitation", body = InvitationView),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the read scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invitation", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["read"]))
)]
#[get("/invitations/{id}")]
async fn read(
    state: web::Data<Context>,
    caller: ApiCaller,
    id: web::Path<InvitationId>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let (id, now, key_id) = (id.into_inner(), state.now(), caller.key.id);
    let view = state
        .db(move |conn| {
            let invitation = invitations::find(conn, id)?;
            audit_read(
                conn,
                key_id,
                AuditAction::ApiInvitationRead,
                [invitation.client_id],
                None,
                now,
            )?;
            let response_id = responses::for_invitation(conn, invitation.id)?.map(|r| r.id);
            Ok(InvitationView::new(&invitation, response_id))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(read);
}
