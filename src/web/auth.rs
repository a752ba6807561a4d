//! Staff sign-in: argon2 passwords, an encrypted session cookie, CSRF
//! tokens, and the role guards every staff route goes through.

use crate::store::StaffId;
use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, CookieJar, Key, SameSite, time::Duration as CookieDuration};
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::error::AppError;
use crate::context::Context;
use crate::store::clients::Viewer;
use crate::store::staff::{Role, StaffMember};

pub const SESSION_COOKIE: &str = "rapport_session";
/// A session lasts a working day; after that, sign in again.
const SESSION_HOURS: i64 = 12;

/// What the session cookie holds (encrypted and authenticated).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub staff_id: StaffId,
    pub csrf: String,
    /// Unix seconds.
    pub issued_at: i64,
    /// The account's session generation when issued: signing out, a new
    /// password or deactivation moves the account on, and this cookie (and
    /// every copy of it) stops working.
    #[serde(default)]
    pub generation: i64,
}

pub fn new_csrf_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// A new session for a member of staff, as a cookie: a fresh CSRF token,
/// issued now, under the account's current session generation.
pub fn new_session_cookie(state: &Context, member: &StaffMember, now: chrono::NaiveDateTime) -> Cookie<'static> {
    let session = Session {
        staff_id: member.id,
        csrf: new_csrf_token(),
        issued_at: now.and_utc().timestamp(),
        generation: member.session_generation,
    };
    session_cookie(&session, &state.cookie_key, state.settings.secure_cookies())
}

fn session_cookie(session: &Session, key: &Key, secure: bool) -> Cookie<'static> {
    let mut jar = CookieJar::new();
    let value = serde_json::to_string(session).unwrap_or_default();
    jar.private_mut(key).add(Cookie::new(SESSION_COOKIE, value));
    let mut cookie = jar
        .get(SESSION_COOKIE)
        .cloned()
        .unwrap_or_else(|| Cookie::new(SESSION_COOKIE, ""));
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_secure(secure);
    cookie.set_path("/");
    cookie.set_max_age(CookieDuration::hours(SESSION_HOURS));
    cookie
}

pub fn removal_cookie(secure: bool) -> Cookie<'static> {
    let mut cookie = Cookie::new(SESSION_COOKIE, "");
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_secure(secure);
    cookie.set_path("/");
    cookie.make_removal();
    cookie
}

pub fn read_session(req: &HttpRequest, key: &Key, now_unix: i64) -> Option<Session> {
    let cookie = req.cookie(SESSION_COOKIE)?;
    let mut jar = CookieJar::new();
    jar.add_original(cookie);
    let plain = jar.private(key).get(SESSION_COOKIE)?;
    let session: Session = serde_json::from_str(plain.value()).ok()?;
    let age = now_unix - session.issued_at;
    (0..SESSION_HOURS * 3600).contains(&age).then_some(session)
}

/// The signed-in member of staff. Extracting it loads the account, so a
/// deactivated account loses access at once.
#[derive(Debug, Clone)]
pub struct CurrentStaff {
    pub member: StaffMember,
    pub csrf: String,
}

impl CurrentStaff {
    pub fn id(&self) -> StaffId {
        self.member.id
    }

    pub fn role(&self) -> Role {
        self.member.role()
    }

    pub fn viewer(&self) -> Viewer {
        Viewer {
            staff_id: self.member.id,
            role: self.role(),
            team_id: self.member.team_id,
            sees_team: self.member.sees_team,
        }
    }

    /// The page a role lands on after signing in.
    pub fn home(&self) -> &'static str {
        home_for(self.role())
    }
}

pub fn home_for(role: Role) -> &'static str {
    match role {
        Role::Clinician => "/clinician",
        Role::Manager => "/manager",
        Role::Admin => "/admin",
    }
}

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl FromRequest for CurrentStaff {
    type Error = AppError;
    type Future = LocalBoxFuture<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { current_staff(&req).await })
    }
}

async fn current_staff(req: &HttpRequest) -> Result<CurrentStaff, AppError> {
    let state = req
        .app_data::<web::Data<Context>>()
        .ok_or_else(|| AppError::Internal("no app state".into()))?;
    let now = state.clock.now().and_utc().timestamp();
    let session = read_session(req, &state.cookie_key, now).ok_or(AppError::Unauthenticated)?;
    let id = session.staff_id;
    let member = state
        .db(move |conn| crate::store::staff::find(conn, id))
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => AppError::Unauthenticated,
            other => other.into(),
        })?;
    if !member.active || member.session_generation != session.generation {
        return Err(AppError::Unauthenticated);
    }
    Ok(CurrentStaff {
        member,
        csrf: session.csrf,
    })
}

/// Role guards: a handler that takes `Staff<ClinicianRole>` can only run
/// for a signed-in clinician. Other roles get 403; nobody signed in goes to
/// the sign-in page.
pub trait RoleGuard {
    const ROLES: &'static [Role];
}

pub struct ClinicianRole;
pub struct ManagerRole;
pub struct AdminRole;

impl RoleGuard for ClinicianRole {
    const ROLES: &'static [Role] = &[Role::Clinician];
}
impl RoleGuard for ManagerRole {
    const ROLES: &'static [Role] = &[Role::Manager];
}
impl RoleGuard for AdminRole {
    const ROLES: &'static [Role] = &[Role::Admin];
}

/// A client's clinician or an admin (a client's contact details).
pub struct ClinicianOrAdmin;
impl RoleGuard for ClinicianOrAdmin {
    const ROLES: &'static [Role] = &[Role::Clinician, Role::Admin];
}

/// Any member of staff (their own account page).
pub struct AnyRole;
impl RoleGuard for AnyRole {
    const ROLES: &'static [Role] = &Role::ALL;
}

pub struct Staff<R: RoleGuard> {
    pub current: CurrentStaff,
    _role: std::marker::PhantomData<R>,
}

impl<R: RoleGuard> std::ops::Deref for Staff<R> {
    type Target = CurrentStaff;
    fn deref(&self) -> &CurrentStaff {
        &self.current
    }
}

impl<R: RoleGuard + 'static> FromRequest for Staff<R> {
    type Error = AppError;
    type Future = LocalBoxFuture<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let current = current_staff(&req).await?;
            if !R::ROLES.contains(&current.role()) {
                return Err(AppError::Forbidden(format!(
                    "This part of Rapport is for {}. You are signed in as {}.",
                    R::ROLES
                        .iter()
                        .map(|r| r.label().to_lowercase() + "s")
                        .collect::<Vec<_>>()
                        .join(" and "),
                    current.role().label().to_lowercase()
                )));
            }
            Ok(Staff {
                current,
                _role: std::marker::PhantomData,
            })
        })
    }
}

/// A state-changing form from a signed-in member of staff: the body is
/// parsed into `T`, and its `csrf` field must match the session's token.
/// Every staff POST handler takes its form through this, so none can
/// forget the check.
pub struct StaffForm<R: RoleGuard, T> {
    pub staff: Staff<R>,
    pub form: T,
}

#[derive(Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

/// Upper limit for a staff form body.
const FORM_LIMIT: usize = 256 * 1024;

impl<R: RoleGuard + 'static, T: DeserializeOwned + 'static> FromRequest for StaffForm<R, T> {
    type Error = AppError;
    type Future = LocalBoxFuture<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let staff = Staff::<R>::from_request(&req, &mut actix_web::dev::Payload::None).await?;
            let body = body
                .await
                .map_err(|e| AppError::BadRequest(format!("the form could not be read ({e})")))?;
            if body.len() > FORM_LIMIT {
                return Err(AppError::BadRequest("the form is too large".into()));
            }
            let token: CsrfField = serde_urlencoded::from_bytes(&body).unwrap_or(CsrfField { csrf: None });
            if !token
                .csrf
                .as_deref()
                .is_some_and(|t| constant_time_eq(t.as_bytes(), staff.csrf.as_bytes()))
            {
                return Err(AppError::Forbidden(
                    "This form has expired or did not come from Rapport. Go back, reload the page and try again."
                        .into(),
                ));
            }
            let form = serde_urlencoded::from_bytes(&body)
                .map_err(|e| AppError::BadRequest(format!("the form is not complete or has a wrong value: {e}")))?;
            Ok(StaffForm { staff, form })
        })
    }
}

pub use crate::security::constant_time_eq;
