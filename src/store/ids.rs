//! Row ids with their meaning in the type: a client's id cannot be passed
//! where a member of staff's is wanted. Each is the row's `BigInt` key,
//! stored and read as that number, written as that number in URLs and
//! JSON.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::BigInt;

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            PartialOrd,
            Ord,
            Hash,
            Default,
            serde::Serialize,
            serde::Deserialize,
            diesel::AsExpression,
            diesel::FromSqlRow,
            utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = BigInt)]
        pub struct $name(pub i64);

        impl $name {
            /// The number the database gave the row.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(text: &str) -> Result<$name, Self::Err> {
                text.parse().map($name)
            }
        }

        impl<DB: Backend> ToSql<BigInt, DB> for $name
        where
            i64: ToSql<BigInt, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.0.to_sql(out)
            }
        }

        impl<DB: Backend> FromSql<BigInt, DB> for $name
        where
            i64: FromSql<BigInt, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<$name> {
                i64::from_sql(bytes).map($name)
            }
        }
    };
}

row_id!(
    /// Rapport's number for a client (`clients.id`), not the practice
    /// system's.
    ClientId
);
row_id!(
    /// A member of staff (`staff.id`): a clinician, manager or admin.
    StaffId
);
row_id!(
    /// An alert (`alerts.id`).
    AlertId
);
row_id!(
    /// An appointment (`appointments.id`).
    AppointmentId
);
row_id!(
    /// The questionnaire sent after an appointment (`invitations.id`).
    InvitationId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_reads_writes_and_prints_as_its_number() {
        let id: ClientId = "42".parse().unwrap();
        assert_eq!(id, ClientId(42));
        assert_eq!(id.to_string(), "42");
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(serde_json::from_str::<StaffId>("7").unwrap(), StaffId(7));
        assert!("x".parse::<AlertId>().is_err());
    }
}
